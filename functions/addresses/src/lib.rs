//! Function `addresses`: the customer's address book (`me/addresses`) and
//! the address form schema.

mod handlers;

use axum::Router;
use axum::routing::get;
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customer/{tenant}/me/addresses", get(handlers::list).post(handlers::create))
        // A static segment wins over `{address_id}`, so no address id is "fields".
        .route("/customer/{tenant}/me/addresses/fields", get(handlers::form_fields))
        .route(
            "/customer/{tenant}/me/addresses/{address_id}",
            get(handlers::get_one).patch(handlers::patch).put(handlers::replace).delete(handlers::delete),
        )
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
