//! Operator commands. They talk to the table named by `TABLE_NAME` (and
//! `DYNAMODB_ENDPOINT` locally), like the functions do.

use clap::Subcommand;
use shared::AppState;
use shared::customer::CustomerDetails;
use shared::domain::{ClientId, Email, Password, TenantId};
use shared::services::provisioning;
use shared::tenant::{StorefrontClient, TenantSettings};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

#[derive(Subcommand)]
pub enum TableCommand {
    /// Create the table (keys, on-demand, TTL) if it does not exist.
    Create,
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Create or replace a tenant's settings (JSON, camelCase fields; defaults for the rest).
    Put {
        #[arg(long)]
        tenant: String,
        /// Settings as JSON, e.g. '{"customerAccessTtlSecs":900}'.
        #[arg(long, default_value = "{}")]
        settings: String,
    },
    /// Print a tenant's settings.
    Show {
        #[arg(long)]
        tenant: String,
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

pub async fn table(command: TableCommand) -> Result {
    let state = AppState::from_env().await?;
    match command {
        TableCommand::Create => {
            let created = state.store.create_table_if_missing().await?;
            println!("table {}: {}", state.store.table(), if created { "created" } else { "exists" });
        }
    }
    Ok(())
}

pub async fn tenant(command: TenantCommand) -> Result {
    let state = AppState::from_env().await?;
    match command {
        TenantCommand::Put { tenant, settings } => {
            let tenant = TenantId::parse(&tenant)?;
            let settings: TenantSettings = serde_json::from_str(&settings)?;
            state.store.put_tenant(&tenant, &settings).await?;
            println!("tenant {tenant} saved");
        }
        TenantCommand::Show { tenant } => {
            let tenant = TenantId::parse(&tenant)?;
            let settings = state.store.get_tenant(&tenant).await?.ok_or("no such tenant")?;
            println!("{}", serde_json::to_string_pretty(&settings)?);
        }
    }
    Ok(())
}

pub async fn client(command: ClientCommand) -> Result {
    let state = AppState::from_env().await?;
    match command {
        ClientCommand::Put { tenant, client_id, name, redirect_uris } => {
            let tenant = TenantId::parse(&tenant)?;
            let client = ClientId::parse(&client_id)?;
            state.store.get_tenant(&tenant).await?.ok_or("no such tenant")?;
            let record = StorefrontClient { client_id: client.to_string(), name, redirect_uris };
            state.store.put_client(&tenant, &record).await?;
            println!("client {client} of tenant {tenant} saved");
        }
    }
    Ok(())
}

pub async fn customer(command: CustomerCommand) -> Result {
    let state = AppState::from_env().await?;
    match command {
        CustomerCommand::Create { tenant, email, password, initial, first_name, last_name } => {
            let tenant = TenantId::parse(&tenant)?;
            state.store.get_tenant(&tenant).await?.ok_or("no such tenant")?;
            let details = CustomerDetails { first_name, last_name, ..Default::default() };
            let id = provisioning::create_active_customer(
                &state,
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
            state.store.get_tenant(&tenant).await?.ok_or("no such tenant")?;
            let text = std::fs::read_to_string(&file)?;
            let records = shared::services::import::parse(&text).map_err(|errors| {
                format!("{} has errors; nothing was imported:\n{}", file.display(), errors.join("\n"))
            })?;
            let created = shared::services::import::import(&state, &tenant, &records).await?;
            println!("imported {created} customers into tenant {tenant}");
        }
        CustomerCommand::CheckEmails { tenant } => {
            use provisioning::IdentityFinding;
            let tenant = TenantId::parse(&tenant)?;
            let findings = provisioning::check_identities(&state, &tenant).await?;
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
