//! The token set answered by every route that signs someone in.

use serde::Serialize;

use crate::domain::{ClientId, CustomerId, SessionId, TenantId};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{self, NewAccessToken, Subject};

#[derive(Debug, Serialize)]
pub struct TokenSet {
    pub token_type: &'static str,
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub refresh_token_expires_in: i64,
    #[serde(rename = "sessionId")]
    pub session_id: String,
    pub scope: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerFields>,
}

#[derive(Debug, Serialize)]
pub struct CustomerFields {
    /// The same session id, in the Emporix spelling of customer token sets.
    pub session_id: String,
    #[serde(rename = "customerId")]
    pub customer_id: String,
    #[serde(rename = "initialPassword")]
    pub initial_password: bool,
}

pub struct Grant<'a> {
    pub tenant: &'a TenantId,
    pub client: &'a ClientId,
    pub session: &'a SessionId,
    /// The session's family (a fresh one per login), carried in the access token.
    pub family: &'a str,
    pub customer: Option<(&'a CustomerId, bool)>,
    pub access_ttl: i64,
    pub refresh_token: String,
    pub session_expires_at: i64,
}

pub async fn build(state: &AppState, grant: Grant<'_>, now: i64) -> Result<TokenSet, ApiError> {
    let subject = match grant.customer {
        Some((id, _)) => Subject::Customer(id.clone()),
        None => Subject::Anonymous,
    };
    // An access token never outlives its session.
    let access_ttl = grant.access_ttl.min(grant.session_expires_at - now).max(1);
    let keys = state.keys.current().await;
    let access_token = tokens::issue(
        &state.config,
        &keys,
        NewAccessToken {
            tenant: grant.tenant,
            client: grant.client,
            subject: &subject,
            session: grant.session,
            family: grant.family,
            lifetime_secs: access_ttl,
        },
        now,
    )
    .map_err(ApiError::internal)?;
    let scope = match grant.customer {
        Some(_) => tokens::customer_scope(grant.tenant),
        None => tokens::anonymous_scope(grant.tenant),
    };
    Ok(TokenSet {
        token_type: "Bearer",
        access_token,
        expires_in: access_ttl,
        refresh_token: grant.refresh_token,
        refresh_token_expires_in: (grant.session_expires_at - now).max(0),
        session_id: grant.session.to_string(),
        scope,
        customer: grant.customer.map(|(id, initial_password)| CustomerFields {
            session_id: grant.session.to_string(),
            customer_id: id.to_string(),
            initial_password,
        }),
    })
}

/// The `saas_token` of a customer sign-in (see `tokens::issue_saas`).
pub async fn saas_token(
    state: &AppState,
    tenant: &TenantId,
    customer: &CustomerId,
    customer_number: &str,
    lifetime_secs: i64,
    now: i64,
) -> Result<String, ApiError> {
    let keys = state.keys.current().await;
    tokens::issue_saas(&state.config, &keys, tenant, customer, customer_number, lifetime_secs, now)
        .map_err(ApiError::internal)
}
