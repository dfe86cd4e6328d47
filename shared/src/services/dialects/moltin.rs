//! Moltin v1 "Customer Tokens" (seed `000_…`): `POST customers/token` logs a
//! customer in on the storefront's session (the same login, lock-out and
//! session as `customer/{tenant}/login`) and answers a 64-character token
//! that is a handle on that customer session; the token in the path of
//! `customers/{token}/...` stands for the customer.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock;
use crate::customer::CustomerRecord;
use crate::domain::{CustomerId, TenantId};
use crate::error::{ApiError, FieldError};
use crate::http::{ClientAddress, CustomerCaller, StorefrontToken};
use crate::secrets::{hash_secret, random_bytes};
use crate::services::login::{self, LoginInput, LoginRequest};
use crate::services::sessions;
use crate::state::AppState;
use crate::store::MoltinTokenRecord;
use crate::tokens::{self, Subject, VerifiedToken};

/// The seed's messages, word for word.
pub const NO_PASSWORD: &str = "No password supplied to authenticate against";
pub const NO_IDENTIFIER: &str = "No customer id or email sent to identify customer";
pub const INCORRECT: &str = "The supplied username/id or password was incorrect";
/// Ours, in the seed's voice.
pub const BAD_TOKEN: &str = "The customer token is invalid or has expired";

const TOKEN_CHARS: usize = 64;
const INVALID_HANDLE: ApiError = ApiError::Unauthorized("invalid_customer_token");

/// Where Moltin's order routes went: a storefront learns it from the answer.
pub const ORDERS_ELSEWHERE: &str = "Orders are not kept by the customer-account service: read a customer's orders \
     from the order service, with the customer's access token.";

/// A Moltin customer token as it appears in a path: exactly 64 ASCII
/// letters or digits (we mint 64 lowercase hex characters, 256 bits).
pub struct MoltinToken(String);

impl MoltinToken {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        if raw.len() == TOKEN_CHARS && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(INVALID_HANDLE)
        }
    }

    fn generate() -> Self {
        Self(random_bytes::<32>().iter().map(|b| format!("{b:02x}")).collect())
    }

    fn hash(&self) -> String {
        hash_secret(&self.0)
    }
}

/// `POST customers/token` as sent (form or JSON). `id` may be a JSON number:
/// Moltin's ids are numbers, and customers imported from Moltin keep them.
#[derive(Debug, Default, Deserialize)]
pub struct TokenBody {
    pub email: Option<String>,
    pub id: Option<Value>,
    pub password: Option<String>,
}

impl TryFrom<TokenBody> for LoginInput {
    type Error = ApiError;

    fn try_from(TokenBody { email, id, password }: TokenBody) -> Result<Self, ApiError> {
        let id = match id {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(id),
            Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
            Some(_) => return Err(ApiError::field("id", "must be a customer id")),
        };
        // Empty form fields (`-d password=`) count as not sent, as Moltin did.
        let nonempty = |v: Option<String>| v.filter(|s| !s.is_empty());
        let request =
            LoginRequest { email: nonempty(email), id: nonempty(id), password: nonempty(password), device_token: None };
        LoginInput::try_from(request)
    }
}

/// The customer as the seed shows it in `result`.
#[derive(Debug, Serialize)]
pub struct MoltinCustomer {
    /// A number when the id is one (customers imported from Moltin), else
    /// the id's string: ids we mint are hex.
    pub id: Value,
    pub email: String,
    /// Customer groups are not kept here: always "".
    pub group: &'static str,
    /// Whether the customer has a password (a social-only one has none).
    pub password: bool,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl MoltinCustomer {
    pub fn of(profile: &CustomerRecord) -> Self {
        Self {
            id: wire_id(&profile.id),
            email: profile.email.to_string(),
            group: "",
            password: profile.password_hash.is_some(),
            first_name: profile.details.first_name.clone().unwrap_or_default(),
            last_name: profile.details.last_name.clone().unwrap_or_default(),
            token: None,
        }
    }
}

fn wire_id(id: &CustomerId) -> Value {
    match id.as_str().parse::<u64>() {
        Ok(n) if !id.as_str().starts_with('0') || id.as_str() == "0" => Value::from(n),
        _ => Value::String(id.to_string()),
    }
}

/// Logs in with `login::login` (lock-out, activation, the session), then
/// issues the handle on the session it started.
pub async fn login(
    state: &AppState,
    caller: &StorefrontToken,
    input: LoginInput,
    user_agent: Option<String>,
    client: &ClientAddress,
) -> Result<MoltinCustomer, ApiError> {
    let tenant = caller.tenant();
    let signed_in = login::login(state, caller, input, user_agent, client).await?;
    // The access token just issued names the session and its family.
    let keys = state.keys.current().await;
    let issued = tokens::verify(&state.config, &keys, &signed_in.tokens.access_token).map_err(ApiError::internal)?;
    let Subject::Customer(customer) = &issued.subject else {
        return Err(ApiError::internal("a customer login issued an anonymous token"));
    };
    let (session, profile) = state.store.session_and_profile(tenant, Some(customer), &issued.session).await?;
    let (Some(session), Some(profile)) = (session, profile) else {
        return Err(ApiError::Unauthorized("session_revoked"));
    };
    let now = clock::now_epoch();
    let expires_at = (now + caller.settings.moltin_token_ttl_secs).min(session.expires_at);
    let token = MoltinToken::generate();
    let record = MoltinTokenRecord {
        customer_id: customer.clone(),
        session_id: issued.session.clone(),
        family: issued.family.clone(),
        client_id: issued.client.clone(),
        expires_at,
        ttl: expires_at,
    };
    state.store.put_moltin_token(tenant, &token.hash(), &record).await?;
    tracing::info!(event = "moltin_token", outcome = "issued", tenant = %tenant, customer_id = %customer, "Moltin customer token issued");
    Ok(MoltinCustomer { token: Some(token.0), ..MoltinCustomer::of(&profile) })
}

/// The customer a path token stands for, checked as a bearer token is: the
/// session must be live (client, family, expiry, credential epoch).
pub async fn resolve(state: &AppState, tenant: &TenantId, raw: &str) -> Result<CustomerCaller, ApiError> {
    let token = MoltinToken::parse(raw)?;
    let now = clock::now_epoch();
    let record = state.store.get_moltin_token(tenant, &token.hash()).await?;
    let record = record.filter(|r| r.expires_at > now).ok_or(INVALID_HANDLE)?;
    let customer = &record.customer_id;
    let (session, profile) = state.store.session_and_profile(tenant, Some(customer), &record.session_id).await?;
    let session = session
        .filter(|s| s.is_live(&record.client_id, &record.family, profile.as_ref(), now))
        .ok_or(INVALID_HANDLE)?;
    let profile = profile.ok_or(INVALID_HANDLE)?;
    let token = VerifiedToken {
        tenant: tenant.clone(),
        client: record.client_id.clone(),
        subject: Subject::Customer(customer.clone()),
        session: record.session_id.clone(),
        family: record.family.clone(),
        scope: tokens::customer_scope(tenant),
        expires_at: record.expires_at,
    };
    Ok(CustomerCaller { tenant: tenant.clone(), customer: customer.clone(), token, session, profile, beside: () })
}

/// `DELETE customers/token/{token}`: the handle goes, and the session it
/// was a handle on ends with it (as a logout does).
pub async fn logout(state: &AppState, tenant: &TenantId, raw: &str) -> Result<(), ApiError> {
    let token = MoltinToken::parse(raw).map_err(|_| ApiError::NotFound)?;
    let record = state.store.delete_moltin_token(tenant, &token.hash()).await?.ok_or(ApiError::NotFound)?;
    sessions::logout(state, tenant, &record.customer_id, &record.session_id, false).await
}

/// The seed's `errors`: its own sentences where the seed has them, the
/// field and message otherwise; every missing field is listed.
pub fn messages(err: &ApiError) -> Vec<String> {
    let field_message = |e: &FieldError| match (e.field.as_str(), e.message.as_str()) {
        ("password", "is required") => NO_PASSWORD.to_owned(),
        ("email", "is required (or id)") => NO_IDENTIFIER.to_owned(),
        (field, message) => format!("{field} {message}"),
    };
    match err {
        ApiError::Validation(errors) => {
            let mut messages: Vec<String> = errors.iter().map(field_message).collect();
            // The seed lists the missing password first.
            messages.sort_by_key(|m| m != NO_PASSWORD);
            messages
        }
        ApiError::Unprocessable { errors, .. } if !errors.is_empty() => errors.iter().map(field_message).collect(),
        ApiError::Unauthorized("invalid_credentials") => vec![INCORRECT.to_owned()],
        ApiError::Unauthorized("invalid_customer_token") => vec![BAD_TOKEN.to_owned()],
        e => vec![e.detail()],
    }
}

/// A form-encoded address as JSON would send it: `isDefault` a boolean,
/// `tags` a list (comma-separated in a form); JSON bodies pass unchanged.
pub fn address_body(mut body: serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
    if let Some(Value::String(flag)) = body.get("isDefault") {
        match flag.as_str() {
            "true" | "1" => body.insert("isDefault".into(), Value::Bool(true)),
            "false" | "0" => body.insert("isDefault".into(), Value::Bool(false)),
            _ => None,
        };
    }
    if let Some(Value::String(tags)) = body.get("tags") {
        let list = tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(Value::from).collect();
        body.insert("tags".into(), Value::Array(list));
    }
    body
}

/// `addresses/fields`: the address form (field, type, required,
/// maxLength); with an address, each field's `value` in it too.
pub fn address_fields(address: Option<&crate::services::addresses::AddressView>) -> Value {
    let schema = serde_json::to_value(crate::services::addresses::form_schema()).unwrap_or_default();
    let values = address.and_then(|a| serde_json::to_value(a).ok()).unwrap_or_default();
    let mut fields = schema["fields"].as_array().cloned().unwrap_or_default();
    if address.is_some() {
        for field in &mut fields {
            let name = field["field"].as_str().unwrap_or_default().to_owned();
            field["value"] = values.get(&name).cloned().unwrap_or(Value::Null);
        }
    }
    serde_json::json!({ "fields": fields })
}
