//! `GET /customer/{tenant}/branding`: the tenant's name, logo, accent colour
//! and password policy, for the account pages (public, cacheable).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use shared::http::Json;
use shared::services::branding;
use shared::{ApiError, AppState};

pub async fn branding(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = shared::http::tenant_path(&tenant).map_err(|_| ApiError::NotFound)?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=60")], Json(branding::get(&state, &tenant).await?)))
}
