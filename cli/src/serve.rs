//! `accounts serve`: the five routers on one port, so local behaviour is the
//! Lambda behaviour. Creates what a fresh machine lacks: the table, the demo
//! tenant and client, the signing key file (and a demo customer). The
//! account pages are served under `/account/`, and the demo tenant's links point there.

use shared::customer::CustomerDetails;
use shared::domain::{ClientId, Email, Password, TenantId};
use shared::services::provisioning::{self, CreateCustomerError};
use shared::{AppState, http};

use cli::{all_routes, demo_settings_at};

const OLD_DEMO_ACTIVATION_URI: &str = "http://localhost:8080/activate";

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
    /// Tenant provisioned at start when missing.
    #[arg(long, default_value = cli::DEMO_TENANT)]
    tenant: String,
    /// Storefront client provisioned at start when missing.
    #[arg(long, default_value = cli::DEMO_CLIENT)]
    client: String,
    /// Demo customer created at start when missing (e-mail:password); "" for none.
    #[arg(long, default_value = "demo@example.com:demo-password-2026")]
    demo_customer: String,
}

pub async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let state = AppState::from_env().await?;
    let tenant = TenantId::parse(&args.tenant)?;
    let client = ClientId::parse(&args.client)?;
    // The tenant's mailed links open this server's account pages.
    let pages = format!(
        "{}/account",
        state.config.issuer_base.as_deref().unwrap_or(&format!("http://127.0.0.1:{}", args.port))
    );
    provisioning::ensure_tenant(&state.store, &tenant, &demo_settings_at(&tenant, &pages), &client).await?;
    // A tenant made by an earlier version points at a storefront on localhost:8080 that nothing
    // serves: its links (and its theme, when it has none) move to the pages.
    if let Some(mut settings) = state.store.get_tenant(&tenant).await?
        && settings.activation_uri.as_deref() == Some(OLD_DEMO_ACTIVATION_URI)
    {
        cli::point_links_at(&mut settings, &pages);
        let theme = demo_settings_at(&tenant, &pages);
        settings.logo_url = settings.logo_url.or(theme.logo_url);
        settings.accent_color = settings.accent_color.or(theme.accent_color);
        state.store.put_tenant(&tenant, &settings).await?;
    }
    if let Some((email, password)) = args.demo_customer.split_once(':') {
        let created = provisioning::create_active_customer(
            &state.store,
            &tenant,
            &Email::parse(email)?,
            &Password::parse(password.to_owned())?,
            false,
            CustomerDetails {
                first_name: Some("Demo".into()),
                last_name: Some("Customer".into()),
                ..Default::default()
            },
        )
        .await;
        match created {
            Ok(_) | Err(CreateCustomerError::EmailTaken) => {}
            Err(err) => return Err(err.into()),
        }
    }
    let app = http::service(all_routes().merge(cli::docs::routes()).merge(cli::pages::routes()), state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    tracing::info!(address = %listener.local_addr()?, tenant = %tenant, client = %client, "serving the customer-accounts API");
    // The peer address feeds the per-address limits (loopback is exempt unless RATE_LIMIT_LOOPBACK=limit).
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
