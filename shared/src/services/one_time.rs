//! Redeeming a mailed or handed-out one-time secret (activation secret,
//! e-mail change key, reset token, social-link consent): one lookup rule and
//! one answer for every way it can be wrong.

use crate::customer::CustomerRecord;
use crate::domain::{CustomerId, TenantId};
use crate::error::ApiError;
use crate::secrets::hash_secret;
use crate::state::AppState;
use crate::store::{OneTimeTokenRecord, TokenPurpose};

/// One answer for a used, expired, retired, unknown or mismatched secret or
/// key: nothing tells which.
pub fn invalid_token() -> ApiError {
    ApiError::BadRequest {
        code: "invalid_token",
        detail: "The link or token is invalid, has been used already or has expired.".into(),
    }
}

/// A live token and the account it belongs to, still in the credential
/// epoch the token was issued under.
pub struct Redeemable {
    /// The secret's hash: what redeeming it (a conditional delete) names.
    pub hash: String,
    pub token: OneTimeTokenRecord,
    pub customer: CustomerId,
    pub profile: CustomerRecord,
}

/// The token behind `secret` when it is live, of `purpose`, issued for
/// `identifier` (when the link names one), and its account is still at the
/// token's epoch; `invalid_token` otherwise. The caller still redeems it in
/// the transaction that acts on it.
pub async fn redeemable(
    state: &AppState,
    tenant: &TenantId,
    secret: &str,
    purpose: TokenPurpose,
    identifier: Option<&CustomerId>,
) -> Result<Redeemable, ApiError> {
    let hash = hash_secret(secret);
    let token = state.store.get_one_time_token(tenant, &hash).await?;
    let token = token
        .filter(|t| t.purpose == purpose && identifier.is_none_or(|id| *id == t.customer_id))
        .ok_or_else(invalid_token)?;
    let customer = token.customer_id.clone();
    let profile = state.store.get_customer(tenant, &customer).await?;
    let profile = profile.filter(|p| token.holds_for(p)).ok_or_else(invalid_token)?;
    Ok(Redeemable { hash, token, customer, profile })
}
