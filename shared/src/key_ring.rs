//! The signing key set a process works with, kept current without a deploy:
//! it is read again from its source once it is older than a few minutes, and
//! at once (at most every few seconds) when a token names a key it does not
//! know. So `accounts keys rotate` reaches warm containers by itself: a staged
//! key is published by every container within the refresh interval, and a
//! token signed with a newly promoted key verifies everywhere immediately.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::signing::{KeyError, SigningKeys};

/// Where the key set lives.
pub enum KeySource {
    /// A key-set JSON file (development); created on first use.
    File(PathBuf),
    /// The key set itself, fixed for the life of the process.
    Inline(String),
    /// A Secrets Manager secret (production).
    Secret { client: aws_sdk_secretsmanager::Client, arn: String },
}

impl KeySource {
    async fn load(&self) -> Result<SigningKeys, KeyError> {
        match self {
            Self::Secret { client, arn } => SigningKeys::from_json(&read_secret(client, arn).await?),
            Self::File(_) | Self::Inline(_) => self.read_local().expect("a file or an inline key set"),
        }
    }

    /// A file's or an inline key set, read and checked without waiting on
    /// anything; `None` for a secret.
    fn read_local(&self) -> Option<Result<SigningKeys, KeyError>> {
        match self {
            Self::File(path) => Some(SigningKeys::load_or_create_file(path)),
            Self::Inline(json) => Some(SigningKeys::from_json(json)),
            Self::Secret { .. } => None,
        }
    }
}

/// A key ring as far as it could be loaded without the network.
pub enum LocalLoad {
    Loaded(KeyRing),
    /// A secret: `KeyRing::load` reads it.
    NeedsNetwork(KeySource),
}

/// The string value of a Secrets Manager secret.
pub async fn read_secret(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<String, KeyError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| KeyError::Source(aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string()))?;
    out.secret_string.ok_or_else(|| KeyError::Source("the secret has no string value".into()))
}

/// How often a process reads its key set again when nothing asks for it sooner.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(300);
/// An unknown `kid` reads the key set again at most this often, so forged
/// tokens cannot turn into a flood of reads.
const UNKNOWN_KID_INTERVAL: Duration = Duration::from_secs(5);

pub struct KeyRing {
    source: KeySource,
    refresh_interval: Duration,
    current: RwLock<Arc<SigningKeys>>,
    loaded_at: Mutex<Instant>,
    looked_for_unknown_at: Mutex<Option<Instant>>,
}

impl KeyRing {
    /// Loads the key set once (a process without keys must not start).
    pub async fn load(source: KeySource, refresh_interval: Duration) -> Result<Self, KeyError> {
        let keys = source.load().await?;
        Ok(Self::with(source, keys, refresh_interval))
    }

    /// Loads a file's or an inline key set at once, outside any runtime (a
    /// cold start does it on a thread of its own); a secret is left to `load`.
    pub fn load_local(source: KeySource, refresh_interval: Duration) -> Result<LocalLoad, KeyError> {
        match source.read_local() {
            Some(keys) => Ok(LocalLoad::Loaded(Self::with(source, keys?, refresh_interval))),
            None => Ok(LocalLoad::NeedsNetwork(source)),
        }
    }

    /// A ring over keys loaded already.
    pub fn with(source: KeySource, keys: SigningKeys, refresh_interval: Duration) -> Self {
        Self {
            source,
            refresh_interval,
            current: RwLock::new(Arc::new(keys)),
            loaded_at: Mutex::new(Instant::now()),
            looked_for_unknown_at: Mutex::new(None),
        }
    }

    /// A fixed key set (tests, tools): never read again.
    pub fn fixed(keys: SigningKeys) -> Self {
        Self::with(KeySource::Inline(String::new()), keys, Duration::MAX)
    }

    /// The key set, read again first if it is older than the refresh interval.
    pub async fn current(&self) -> Arc<SigningKeys> {
        let stale = self.loaded_at.lock().map(|at| at.elapsed() >= self.refresh_interval).unwrap_or(false);
        if stale {
            self.reload("refresh interval").await;
        }
        self.snapshot()
    }

    /// The key set as it is, without reading it again.
    pub fn snapshot(&self) -> Arc<SigningKeys> {
        self.current.read().map(|keys| keys.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// A token names `kid`, which this process does not know: a rotation may
    /// have promoted it since the last read. Reads the key set again (at most
    /// every few seconds) and tells whether the key is known now.
    pub async fn look_for(&self, kid: &str) -> bool {
        if self.snapshot().verifying_key(kid).is_some() {
            return true;
        }
        let allowed = match self.looked_for_unknown_at.lock() {
            Ok(mut at) if at.is_none_or(|at| at.elapsed() >= UNKNOWN_KID_INTERVAL) => {
                *at = Some(Instant::now());
                true
            }
            _ => false,
        };
        if allowed {
            self.reload("unknown kid").await;
        }
        self.snapshot().verifying_key(kid).is_some()
    }

    async fn reload(&self, why: &'static str) {
        if matches!(self.source, KeySource::Inline(_)) {
            return;
        }
        if let Ok(mut at) = self.loaded_at.lock() {
            // Whoever comes first reads; the others keep the current set meanwhile.
            *at = Instant::now();
        }
        match self.source.load().await {
            Ok(keys) => {
                let active = keys.active_kid().to_owned();
                if let Ok(mut current) = self.current.write() {
                    *current = Arc::new(keys);
                }
                tracing::info!(event = "signing_keys_loaded", reason = why, active_kid = %active, "signing keys read again");
            }
            // The keys in hand still work: keep them, and say so.
            Err(err) => {
                tracing::error!(event = "signing_keys_unreadable", reason = why, error = %err, "signing keys not read again")
            }
        }
    }
}
