//! The token set answered by every route that signs someone in.

use serde::Serialize;

use crate::domain::{ClientId, CustomerId, SessionId, TenantId};
use crate::error::ApiError;
use crate::signing::SigningKeys;
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

/// What a token set is issued for. Owned, so that it can be signed on the
/// blocking pool while the session write is in flight (`sign_beside`).
pub struct Grant {
    pub tenant: TenantId,
    pub client: ClientId,
    pub session: SessionId,
    /// The session's family (a fresh one per login), carried in the access token.
    pub family: String,
    pub customer: Option<(CustomerId, bool)>,
    pub access_ttl: i64,
    pub refresh_token: String,
    pub session_expires_at: i64,
}

pub async fn build(state: &AppState, grant: Grant, now: i64) -> Result<TokenSet, ApiError> {
    let keys = state.keys.current().await;
    sign(&state.config, &keys, grant, now)
}

/// A customer sign-in's token set and its `saas_token`.
pub struct SignedIn {
    pub tokens: TokenSet,
    pub saas_token: String,
}

/// Signs on the blocking pool and hands back the handle: each RS256
/// signature is about a millisecond of CPU, which thus runs while the
/// caller's DynamoDB write is in flight instead of after it. The caller
/// answers with the tokens only once its write succeeded; otherwise they
/// are dropped unseen. `customer_number`: also sign the `saas_token`.
pub async fn sign_beside(
    state: &AppState,
    grant: Grant,
    customer_number: Option<String>,
    now: i64,
) -> tokio::task::JoinHandle<Result<SignedIn, ApiError>> {
    let keys = state.keys.current().await;
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let customer = grant.customer.as_ref().map(|(id, _)| id.clone());
        let tenant = grant.tenant.clone();
        let tokens = sign(&state.config, &keys, grant, now)?;
        let saas_token = match (customer, customer_number) {
            (Some(customer), Some(number)) => {
                tokens::issue_saas(&state.config, &keys, &tenant, &customer, &number, tokens.expires_in, now)
                    .map_err(ApiError::internal)?
            }
            _ => String::new(),
        };
        Ok(SignedIn { tokens, saas_token })
    })
}

/// Waits for `sign_beside`'s signatures.
pub async fn signed(handle: tokio::task::JoinHandle<Result<SignedIn, ApiError>>) -> Result<SignedIn, ApiError> {
    handle.await.map_err(ApiError::internal)?
}

fn sign(config: &crate::config::Config, keys: &SigningKeys, grant: Grant, now: i64) -> Result<TokenSet, ApiError> {
    let subject = match &grant.customer {
        Some((id, _)) => Subject::Customer(id.clone()),
        None => Subject::Anonymous,
    };
    // An access token never outlives its session.
    let access_ttl = grant.access_ttl.min(grant.session_expires_at - now).max(1);
    let access_token = tokens::issue(
        config,
        keys,
        NewAccessToken {
            tenant: &grant.tenant,
            client: &grant.client,
            subject: &subject,
            session: &grant.session,
            family: &grant.family,
            lifetime_secs: access_ttl,
        },
        now,
    )
    .map_err(ApiError::internal)?;
    let scope = match grant.customer {
        Some(_) => tokens::customer_scope(&grant.tenant),
        None => tokens::anonymous_scope(&grant.tenant),
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
