//! Function `addresses`: the customer's address book (`me/addresses`) and
//! the address form schema.

mod dialects;
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
        // Moltin v1 (seed 000).
        .route("/{tenant}/v1/customers/{token}/addresses", get(dialects::list).post(dialects::create))
        .route("/{tenant}/v1/customers/{token}/addresses/fields", get(dialects::form_fields))
        .route("/{tenant}/v1/customers/{token}/addresses/{address_id}", get(dialects::get_one).put(dialects::replace))
        .route("/{tenant}/v1/customers/{token}/addresses/{address_id}/fields", get(dialects::address_fields))
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
