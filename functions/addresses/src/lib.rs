//! Function `addresses`: the customer's address book.

use axum::Router;
use shared::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}

pub fn router(state: AppState) -> Router {
    shared::http::service(routes(), state)
}
