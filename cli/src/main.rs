//! `accounts`: the local server and the operator commands.

mod admin;
mod keys;
mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "accounts", about = "customer-accounts: local server and operator commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve all five functions on one port (development).
    Serve(serve::ServeArgs),
    /// The DynamoDB table.
    Table {
        #[command(subcommand)]
        command: admin::TableCommand,
    },
    /// Tenants and their settings.
    Tenant {
        #[command(subcommand)]
        command: admin::TenantCommand,
    },
    /// Storefront clients of a tenant.
    Client {
        #[command(subcommand)]
        command: admin::ClientCommand,
    },
    /// Customers created by an operator.
    Customer {
        #[command(subcommand)]
        command: admin::CustomerCommand,
    },
    /// The RS256 signing key set: generate, rotate, list.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    shared::telemetry::init_stderr("accounts");
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Table { command } => admin::table(command).await,
        Command::Tenant { command } => admin::tenant(command).await,
        Command::Client { command } => admin::client(command).await,
        Command::Customer { command } => admin::customer(command).await,
        Command::Keys { command } => keys::run(command).await,
    }
}
