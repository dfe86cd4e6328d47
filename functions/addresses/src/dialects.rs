//! Moltin v1 `customers/{token}/addresses...`: the address book of the
//! customer the token stands for, in the seed's envelope. The addresses are
//! the address book's own (`me/addresses` fields); `fields` tells a
//! storefront which they are, as Moltin's did.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value};
use shared::domain::AddressId;
use shared::http::{FormOrJson, InMoltin, Moltin, MoltinCaller, MoltinError, TenantPath};
use shared::services::addresses::{self, UpdateKind};
use shared::services::dialects::moltin;
use shared::{ApiError, AppState};

fn address_id(raw: &str) -> Result<AddressId, MoltinError> {
    AddressId::parse(raw).map_err(|_| MoltinError(ApiError::NotFound))
}

pub async fn list(
    State(state): State<AppState>,
    MoltinCaller(caller): MoltinCaller,
) -> Result<impl IntoResponse, MoltinError> {
    Ok(Moltin(addresses::list_stored(&state, &caller.tenant, &caller.customer).await?))
}

/// Form fields arrive as strings: `isDefault=true` and `tags=BILLING,SHIPPING` are read as JSON would send them.
pub async fn create(
    State(state): State<AppState>,
    MoltinCaller(caller): MoltinCaller,
    InMoltin(FormOrJson(body)): InMoltin<FormOrJson<Map<String, Value>>>,
) -> Result<impl IntoResponse, MoltinError> {
    let body = moltin::address_body(body);
    let id = addresses::create(&state, &caller.tenant, &caller.customer, &body).await?;
    let created = addresses::get_stored(&state, &caller.tenant, &caller.customer, &id).await?;
    Ok((StatusCode::CREATED, Moltin(created)))
}

pub async fn get_one(
    State(state): State<AppState>,
    MoltinCaller(caller): MoltinCaller,
    Path((_tenant, _token, id)): Path<(String, String, String)>,
) -> Result<impl IntoResponse, MoltinError> {
    let id = address_id(&id)?;
    Ok(Moltin(addresses::get_stored(&state, &caller.tenant, &caller.customer, &id).await?))
}

/// PUT replaces the address whole, as in the address book.
pub async fn replace(
    State(state): State<AppState>,
    MoltinCaller(caller): MoltinCaller,
    Path((_tenant, _token, id)): Path<(String, String, String)>,
    InMoltin(FormOrJson(body)): InMoltin<FormOrJson<Map<String, Value>>>,
) -> Result<impl IntoResponse, MoltinError> {
    let id = address_id(&id)?;
    let body = moltin::address_body(body);
    let view =
        addresses::update_stored(&state, &caller.tenant, &caller.customer, &id, UpdateKind::Replace, &body).await?;
    Ok(Moltin(view))
}

/// The address form: no customer needed (a storefront renders it before sign-in).
pub async fn form_fields(InMoltin(_): InMoltin<TenantPath>) -> impl IntoResponse {
    Moltin(moltin::address_fields(None))
}

/// The address form with this address's values filled in.
pub async fn address_fields(
    State(state): State<AppState>,
    MoltinCaller(caller): MoltinCaller,
    Path((_tenant, _token, id)): Path<(String, String, String)>,
) -> Result<impl IntoResponse, MoltinError> {
    let id = address_id(&id)?;
    let address = addresses::get_stored(&state, &caller.tenant, &caller.customer, &id).await?;
    Ok(Moltin(moltin::address_fields(Some(&address))))
}
