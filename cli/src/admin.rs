//! Operator commands. They talk to the table named by `TABLE_NAME` (and
//! `DYNAMODB_ENDPOINT` locally), like the functions do, and to nothing else:
//! no signing keys are loaded (or created), no mail is sent. Results go to
//! stdout, logs to stderr.

use clap::Subcommand;
use serde_json::Value;
use shared::config::Config;
use shared::customer::CustomerDetails;
use shared::domain::{ClientId, Email, Password, TenantId};
use shared::services::provisioning;
use shared::state::{dynamodb_client, sdk_config};
use shared::store::Store;
use shared::tenant::{StorefrontClient, TenantSettings};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

#[derive(Subcommand)]
pub enum TableCommand {
    /// Create the table (keys, on-demand, TTL) if it does not exist.
    Create,
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create or replace a tenant's settings as a whole (JSON, camelCase
    /// fields; defaults for every field not given). To change some fields of
    /// an existing tenant, use `patch`.
    Put {
        #[arg(long)]
        tenant: String,
        /// Settings as JSON, e.g. '{"customerAccessTtlSecs":900}'.
        #[arg(long, default_value = "{}")]
        settings: String,
    },
    /// Change some settings of an existing tenant: a JSON merge patch (RFC
    /// 7396) over the stored settings; what it does not name stays, `null`
    /// resets a field to its default, lists are replaced whole.
    Patch {
        #[arg(long)]
        tenant: String,
        /// The patch as JSON, e.g. '{"lockoutThreshold":10}'.
        #[arg(long)]
        settings: String,
        /// Print the resulting settings with secrets in clear.
        #[arg(long)]
        show_secrets: bool,
    },
    /// Print a tenant's settings (client secrets redacted).
    Show {
        #[arg(long)]
        tenant: String,
        /// Print secrets (social providers' `clientSecret`) in clear.
        #[arg(long)]
        show_secrets: bool,
    },
}

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Create or replace a storefront client.
    Put {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        client_id: String,
        #[arg(long, default_value = "")]
        name: String,
        /// Allowed redirect URIs (repeatable).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum CustomerCommand {
    /// Create an active customer with a password set by the operator.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long, env = "CUSTOMER_PASSWORD")]
        password: String,
        /// Mark the password as initial: the storefront should ask for a new one.
        #[arg(long)]
        initial: bool,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
    },
    /// Import customers from a JSON Lines file: one object per line with `email`,
    /// `passwordHash` (bcrypt, scrypt, PBKDF2 or argon2), optional `status`
    /// (ACTIVE|PENDING), `id`, `customerNumber` and any customerDetails field.
    /// Checks the whole file first; writes nothing if any line is bad.
    Import {
        #[arg(long)]
        tenant: String,
        file: std::path::PathBuf,
    },
    /// List stored identities (e-mails) that the current rules normalise
    /// differently or refuse (bare local@domain, IDNA domain, NFC local part),
    /// for a migration by hand after an upgrade.
    CheckEmails {
        #[arg(long)]
        tenant: String,
    },
}

/// The table of `TABLE_NAME`, and nothing else of the service.
async fn store() -> Store {
    let config = Config::from_env();
    let sdk = sdk_config(&config).await;
    Store::new(dynamodb_client(&sdk, &config), &config.table_name)
}

pub async fn table(command: TableCommand) -> Result {
    let store = store().await;
    match command {
        TableCommand::Create => {
            let created = store.create_table_if_missing().await?;
            println!("table {}: {}", store.table(), if created { "created" } else { "exists" });
        }
    }
    Ok(())
}

pub async fn tenant(command: TenantCommand) -> Result {
    let store = store().await;
    match command {
        TenantCommand::Put { tenant, settings } => {
            let tenant = TenantId::parse(&tenant)?;
            let settings: TenantSettings = parse_settings(serde_json::from_str(&settings)?)?;
            store.put_tenant(&tenant, &settings).await?;
            println!("tenant {tenant} saved");
        }
        TenantCommand::Patch { tenant, settings, show_secrets } => {
            let tenant = TenantId::parse(&tenant)?;
            let patch: Value = serde_json::from_str(&settings)?;
            let current = store.get_tenant(&tenant).await?.ok_or("no such tenant (create it with `tenant put`)")?;
            let patched = patch_settings(&current, &patch)?;
            store.put_tenant(&tenant, &patched).await?;
            println!("{}", shown(&patched, show_secrets)?);
        }
        TenantCommand::Show { tenant, show_secrets } => {
            let tenant = TenantId::parse(&tenant)?;
            let settings = store.get_tenant(&tenant).await?.ok_or("no such tenant")?;
            println!("{}", shown(&settings, show_secrets)?);
        }
    }
    Ok(())
}

/// Settings from JSON, refusing names it does not know (a typo would
/// otherwise be dropped silently and the default kept).
fn parse_settings(json: Value) -> std::result::Result<TenantSettings, Box<dyn std::error::Error>> {
    let mut unknown = Vec::new();
    let settings: TenantSettings = serde_ignored::deserialize(json, |path| unknown.push(path.to_string()))?;
    if unknown.is_empty() { Ok(settings) } else { Err(format!("unknown settings: {}", unknown.join(", ")).into()) }
}

/// `current` with `patch` laid over it (RFC 7396).
pub fn patch_settings(
    current: &TenantSettings,
    patch: &Value,
) -> std::result::Result<TenantSettings, Box<dyn std::error::Error>> {
    let Value::Object(patch) = patch else { return Err("the patch must be a JSON object".into()) };
    let Value::Object(base) = serde_json::to_value(current)? else { return Err("settings are an object".into()) };
    parse_settings(Value::Object(shared::fields::merge_patch(&base, patch)))
}

/// Settings as printed: secrets redacted unless asked for.
pub fn shown(settings: &TenantSettings, show_secrets: bool) -> serde_json::Result<String> {
    let mut json = serde_json::to_value(settings)?;
    if !show_secrets && let Some(providers) = json.get_mut("socialProviders").and_then(Value::as_array_mut) {
        for provider in providers {
            if let Some(secret) = provider.get_mut("clientSecret").filter(|s| !s.is_null()) {
                *secret = Value::String("[redacted]".into());
            }
        }
    }
    serde_json::to_string_pretty(&json)
}

pub async fn client(command: ClientCommand) -> Result {
    let store = store().await;
    match command {
        ClientCommand::Put { tenant, client_id, name, redirect_uris } => {
            let tenant = TenantId::parse(&tenant)?;
            let client = ClientId::parse(&client_id)?;
            store.get_tenant(&tenant).await?.ok_or("no such tenant")?;
            let record = StorefrontClient { client_id: client.clone(), name, redirect_uris };
            store.put_client(&tenant, &record).await?;
            println!("client {client} of tenant {tenant} saved");
        }
    }
    Ok(())
}

pub async fn customer(command: CustomerCommand) -> Result {
    let store = store().await;
    match command {
        CustomerCommand::Create { tenant, email, password, initial, first_name, last_name } => {
            let tenant = TenantId::parse(&tenant)?;
            store.get_tenant(&tenant).await?.ok_or("no such tenant")?;
            let details = CustomerDetails { first_name, last_name, ..Default::default() };
            let id = provisioning::create_active_customer(
                &store,
                &tenant,
                &Email::parse(&email).map_err(|e| format!("email {e}"))?,
                &Password::parse(password).map_err(|e| format!("password {e}"))?,
                initial,
                details,
            )
            .await?;
            println!("{id}");
        }
        CustomerCommand::Import { tenant, file } => {
            let tenant = TenantId::parse(&tenant)?;
            store.get_tenant(&tenant).await?.ok_or("no such tenant")?;
            let text = std::fs::read_to_string(&file)?;
            let records = shared::services::import::parse(&text).map_err(|errors| {
                format!("{} has errors; nothing was imported:\n{}", file.display(), errors.join("\n"))
            })?;
            let created = shared::services::import::import(&store, &tenant, &records).await?;
            println!("imported {created} customers into tenant {tenant}");
        }
        CustomerCommand::CheckEmails { tenant } => {
            use provisioning::IdentityFinding;
            let tenant = TenantId::parse(&tenant)?;
            let findings = provisioning::check_identities(&store, &tenant).await?;
            for finding in &findings {
                match finding {
                    IdentityFinding::Renormalises { customer_id, stored, now } => {
                        println!("{customer_id}\trenormalises\t{stored}\t{now}")
                    }
                    IdentityFinding::Refused { customer_id, stored } => println!("{customer_id}\trefused\t{stored}"),
                }
            }
            eprintln!("{} identities of tenant {tenant} need attention", findings.len());
        }
    }
    Ok(())
}
