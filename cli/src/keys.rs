//! `accounts keys`: the signing key set, in the local key file or in the
//! Secrets Manager secret that production reads.

use std::path::PathBuf;

use clap::Subcommand;
use shared::signing::{KeySetFile, KeyStatus, RotationStep, SigningKeys, generate_key};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Create a key set with one active key (refuses to replace an existing set).
    Generate(KeyTarget),
    /// One rotation step: stage a new key (published, not signing), or promote
    /// the staged key, no sooner than --min-gap-secs after staging.
    Rotate {
        #[command(flatten)]
        target: KeyTarget,
        /// Seconds between staging and promoting: at least the longest
        /// access-token lifetime of any tenant (the promotion after next
        /// removes the retiring key), and never under 600 (JWKS caches and
        /// the functions' key refresh take 5 minutes each).
        #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(i64).range(600..))]
        min_gap_secs: i64,
    },
    /// List the keys with their status.
    List(KeyTarget),
}

#[derive(clap::Args)]
pub struct KeyTarget {
    /// A key file (development); the default when no secret is named.
    #[arg(long, default_value = ".local/signing-keys.json")]
    file: PathBuf,
    /// A Secrets Manager secret (production); wins over --file.
    #[arg(long, env = "SIGNING_KEYS_SECRET_ARN")]
    secret_arn: Option<String>,
}

enum KeyStore {
    File(PathBuf),
    Secret { client: aws_sdk_secretsmanager::Client, arn: String },
}

impl KeyStore {
    async fn open(target: KeyTarget) -> Self {
        match target.secret_arn {
            Some(arn) => {
                let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                Self::Secret { client: aws_sdk_secretsmanager::Client::new(&sdk), arn }
            }
            None => Self::File(target.file),
        }
    }

    /// The stored set, or `None` when there is none yet.
    async fn read(&self) -> Result<Option<KeySetFile>> {
        let json = match self {
            Self::File(path) if !path.exists() => return Ok(None),
            Self::File(path) => std::fs::read_to_string(path)?,
            Self::Secret { client, arn } => match client.get_secret_value().secret_id(arn).send().await {
                Ok(out) => out.secret_string.unwrap_or_default(),
                // A new secret has no value yet.
                Err(err) if err.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => {
                    String::new()
                }
                Err(err) => return Err(aws_sdk_secretsmanager::error::DisplayErrorContext(&err).to_string().into()),
            },
        };
        if json.trim().is_empty() { Ok(None) } else { Ok(Some(serde_json::from_str(&json)?)) }
    }

    async fn write(&self, set: &KeySetFile) -> Result {
        // Refuse to store a set the functions could not load.
        SigningKeys::from_file_set(set)?;
        let json = serde_json::to_string_pretty(set)?;
        match self {
            Self::File(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                shared::signing::replace_private_file(path, json.as_bytes())?;
            }
            Self::Secret { client, arn } => {
                client
                    .put_secret_value()
                    .secret_id(arn)
                    .secret_string(json)
                    .send()
                    .await
                    .map_err(|e| aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string())?;
            }
        }
        Ok(())
    }
}

pub async fn run(command: KeysCommand) -> Result {
    match command {
        KeysCommand::Generate(target) => {
            let store = KeyStore::open(target).await;
            if store.read().await?.is_some() {
                return Err("a key set exists already: use `accounts keys rotate`".into());
            }
            let set = KeySetFile { keys: vec![generate_key(KeyStatus::Active)?] };
            store.write(&set).await?;
            println!("generated key {} (active)", set.keys[0].kid);
        }
        KeysCommand::Rotate { target, min_gap_secs } => {
            let store = KeyStore::open(target).await;
            let mut set = store.read().await?.ok_or("no key set yet: use `accounts keys generate`")?;
            let step = set.rotate(shared::clock::now_epoch(), min_gap_secs)?;
            store.write(&set).await?;
            match step {
                RotationStep::Staged { kid } => println!(
                    "staged key {kid}: published in the JWKS, not signing yet.\n\
                     Running functions read the key set again within 5 minutes; no deploy is needed.\n\
                     Run rotate again in {min_gap_secs} s or later to promote it."
                ),
                RotationStep::Promoted { active, retiring, removed } => println!(
                    "key {active} now signs; {retiring} is retiring (still verifies); removed: {}",
                    if removed.is_empty() { "none".to_owned() } else { removed.join(", ") }
                ),
            }
        }
        KeysCommand::List(target) => {
            let store = KeyStore::open(target).await;
            let set = store.read().await?.ok_or("no key set")?;
            for key in set.keys {
                println!("{}\t{:?}", key.kid, key.status);
            }
        }
    }
    Ok(())
}
