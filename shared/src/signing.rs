//! The RS256 signing key set. Several keys, each with a status: `next`
//! (published in the JWKS, not yet signing), `active` (signs; exactly one) and
//! `retiring` (published so tokens it signed still verify). Loaded once per
//! container.

use std::collections::HashMap;
use std::path::Path;

use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use aws_lc_rs::{hkdf, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, RSAKeyParameters, RSAKeyType,
};
use jsonwebtoken::{DecodingKey, Header};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Next,
    Active,
    Retiring,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    pub status: KeyStatus,
    /// PKCS#8 PEM of an RSA private key.
    pub private_key_pem: String,
    /// When the key was staged (epoch seconds): it may sign only once every
    /// verifier had time to learn it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged_at: Option<i64>,
}

#[derive(Clone, Default, Serialize, Deserialize)]
pub struct KeySetFile {
    pub keys: Vec<StoredKey>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading the key set: {0}")]
    Io(#[from] std::io::Error),
    #[error("parsing the key set: {0}")]
    Json(#[from] serde_json::Error),
    #[error("key {kid}: {message}")]
    BadKey { kid: String, message: String },
    #[error("the key set needs exactly one active key, found {0}")]
    ActiveCount(usize),
    #[error("generating a key failed")]
    Generate,
    #[error("signing failed")]
    Sign,
    #[error("reading the key set's secret: {0}")]
    Source(String),
    #[error("the staged key {kid} may be promoted in {wait_secs} s (at least {gap_secs} s after staging)")]
    TooSoon { kid: String, wait_secs: i64, gap_secs: i64 },
}

pub struct SigningKeys {
    active_kid: String,
    /// Parsed (and checked) once per container: parsing an RSA key costs
    /// about as much as signing with it, so it must not happen per token.
    active: RsaKeyPair,
    verifying: HashMap<String, DecodingKey>,
    /// Per key, an HMAC key derived from it: what device tokens prove
    /// themselves with (`crate::device_tokens`), so they rotate with it.
    macs: HashMap<String, hmac::Key>,
    jwks: JwkSet,
}

impl SigningKeys {
    pub fn from_file_set(set: &KeySetFile) -> Result<Self, KeyError> {
        let actives: Vec<_> = set.keys.iter().filter(|k| k.status == KeyStatus::Active).collect();
        if actives.len() != 1 {
            return Err(KeyError::ActiveCount(actives.len()));
        }
        let mut verifying = HashMap::new();
        let mut macs = HashMap::new();
        let mut jwks = JwkSet { keys: Vec::new() };
        let mut active = None;
        for stored in &set.keys {
            let bad = |message: String| KeyError::BadKey { kid: stored.kid.clone(), message };
            let pem = pem::parse(&stored.private_key_pem).map_err(|e| bad(e.to_string()))?;
            let pair = RsaKeyPair::from_pkcs8(pem.contents()).map_err(|e| bad(e.to_string()))?;
            let public = pair.public_key();
            let (n, e) = (public.modulus(), public.exponent());
            let (n, e) = (n.big_endian_without_leading_zero(), e.big_endian_without_leading_zero());
            verifying.insert(stored.kid.clone(), DecodingKey::from_rsa_raw_components(n, e));
            macs.insert(stored.kid.clone(), derive_mac_key(pem.contents()));
            jwks.keys.push(Jwk {
                common: CommonParameters {
                    public_key_use: Some(PublicKeyUse::Signature),
                    key_algorithm: Some(KeyAlgorithm::RS256),
                    key_id: Some(stored.kid.clone()),
                    ..Default::default()
                },
                algorithm: AlgorithmParameters::RSA(RSAKeyParameters {
                    key_type: RSAKeyType::RSA,
                    n: URL_SAFE_NO_PAD.encode(n),
                    e: URL_SAFE_NO_PAD.encode(e),
                }),
            });
            if stored.status == KeyStatus::Active {
                active = Some((stored.kid.clone(), pair));
            }
        }
        let (active_kid, active) = active.ok_or(KeyError::ActiveCount(0))?;
        Ok(Self { active_kid, active, verifying, macs, jwks })
    }

    pub fn from_json(json: &str) -> Result<Self, KeyError> {
        Self::from_file_set(&serde_json::from_str(json)?)
    }

    /// Loads the key file, creating it with one fresh active key when missing
    /// (development convenience; production passes the set inline).
    pub fn load_or_create_file(path: &Path) -> Result<Self, KeyError> {
        if !path.exists() {
            let set = KeySetFile { keys: vec![generate_key(KeyStatus::Active)?] };
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            write_private_file(path, &serde_json::to_vec_pretty(&set)?)?;
            tracing::info!(path = %path.display(), "generated a local signing key set");
        }
        Self::from_json(&std::fs::read_to_string(path)?)
    }

    pub fn active_kid(&self) -> &str {
        &self.active_kid
    }

    /// A compact JWS of `claims`, RS256 with the active key and its `kid`.
    /// (jsonwebtoken's `encode` would parse the private key again for every token.)
    pub fn sign_jwt<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.active_kid.clone());
        let mut message = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?);
        message.push('.');
        message.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?));
        let mut signature = vec![0; self.active.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.active.sign(&RSA_PKCS1_SHA256, &rng, message.as_bytes(), &mut signature).map_err(|_| KeyError::Sign)?;
        message.push('.');
        message.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(message)
    }

    pub fn verifying_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The MAC key derived from key `kid`, while the set holds that key.
    pub fn mac_key(&self, kid: &str) -> Option<&hmac::Key> {
        self.macs.get(kid)
    }

    /// The MAC key derived from the active key, and that key's id.
    pub fn active_mac_key(&self) -> (&str, &hmac::Key) {
        // Every key of the set got its MAC key where the set was parsed.
        (&self.active_kid, &self.macs[&self.active_kid])
    }
}

/// An HMAC-SHA256 key derived from a private key's PKCS#8 bytes with HKDF:
/// as secret as the key, independent of it, and gone when the key is
/// removed from the set. One secret to keep and rotate, not two.
fn derive_mac_key(pkcs8: &[u8]) -> hmac::Key {
    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"customer-accounts signing key set");
    let prk = salt.extract(pkcs8);
    let okm = prk.expand(&[b"device token mac v1"], hmac::HMAC_SHA256);
    okm.expect("32 bytes are within HKDF-SHA256's output length").into()
}

/// A fresh 2048-bit RSA key (aws-lc-rs, already in the tree through the SDK).
pub fn generate_key(status: KeyStatus) -> Result<StoredKey, KeyError> {
    use aws_lc_rs::encoding::AsDer;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(|_| KeyError::Generate)?;
    let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref()));
    let kid = format!(
        "{}-{}",
        crate::clock::now_rfc3339().get(..10).unwrap_or("key"),
        &crate::secrets::hash_secret(&pem)[..8]
    );
    Ok(StoredKey { kid, status, private_key_pem: pem, staged_at: None })
}

/// What one `rotate` step did.
#[derive(Debug, PartialEq, Eq)]
pub enum RotationStep {
    /// A new key was added as `next`: published in the JWKS, not signing yet.
    Staged { kid: String },
    /// The staged key now signs; the old active key is `retiring` (still
    /// verifies); keys that were already retiring were removed.
    Promoted { active: String, retiring: String, removed: Vec<String> },
}

impl KeySetFile {
    /// One step of a rotation with no downtime. The first stages a new key
    /// (published, not signing); the second, no sooner than `min_gap_secs`
    /// after the first, makes it sign and the old key retiring. The gap must
    /// cover how long verifiers cache the JWKS (5 min) and the containers'
    /// key refresh (5 min), and, since the next promotion removes the retiring
    /// key, the longest access-token lifetime.
    pub fn rotate(&mut self, now: i64, min_gap_secs: i64) -> Result<RotationStep, KeyError> {
        let Some(staged) = self.keys.iter().find(|k| k.status == KeyStatus::Next) else {
            let key = StoredKey { staged_at: Some(now), ..generate_key(KeyStatus::Next)? };
            let kid = key.kid.clone();
            self.keys.push(key);
            return Ok(RotationStep::Staged { kid });
        };
        // A key staged before staging was timed (no `staged_at`) may go at once.
        if let Some(wait_secs) = staged.staged_at.map(|at| at + min_gap_secs - now).filter(|wait| *wait > 0) {
            return Err(KeyError::TooSoon { kid: staged.kid.clone(), wait_secs, gap_secs: min_gap_secs });
        }
        let removed = self.kids(KeyStatus::Retiring);
        self.keys.retain(|k| k.status != KeyStatus::Retiring);
        let retiring = self.kids(KeyStatus::Active).join(",");
        let active = self.kids(KeyStatus::Next).join(",");
        for key in &mut self.keys {
            key.status = match key.status {
                KeyStatus::Active => KeyStatus::Retiring,
                KeyStatus::Next => KeyStatus::Active,
                KeyStatus::Retiring => KeyStatus::Retiring,
            };
        }
        Ok(RotationStep::Promoted { active, retiring, removed })
    }

    fn kids(&self, status: KeyStatus) -> Vec<String> {
        self.keys.iter().filter(|k| k.status == status).map(|k| k.kid.clone()).collect()
    }
}

fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    private_file_options().create_new(true).open(path)?.write_all(bytes)
}

/// Options that create a file readable by its owner only, from its first
/// byte: the mode is given to `open(2)`, not set after the write.
fn private_file_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Replaces the key file at `path` with `bytes`: written to a fresh private
/// file beside it, synced, then renamed over it, so the file is never
/// readable by others and never half-written.
pub fn replace_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    // A temporary file left by an interrupted run may have any mode: start afresh.
    match std::fs::remove_file(&tmp) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    let mut file = private_file_options().create_new(true).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn key_files_are_private_from_their_first_byte() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let dir = std::env::temp_dir().join(format!("keys-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("signing-keys.json");
        // A world-readable leftover of an interrupted run is not reused.
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, "stale").unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        replace_private_file(&path, b"{\"keys\":[]}").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"keys\":[]}");
        assert!(!tmp.exists());
        // When the rename cannot happen (the target is a directory), the
        // written file is left behind: it was private while being written.
        let blocked = dir.join("blocked.json");
        std::fs::create_dir_all(blocked.join("inside")).unwrap();
        assert!(replace_private_file(&blocked, b"secret").is_err());
        assert_eq!(mode(&blocked.with_extension("json.tmp")), 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rotation_publishes_before_signing_and_keeps_the_old_key_verifying() {
        let first = generate_key(KeyStatus::Active).unwrap();
        let mut set = KeySetFile { keys: vec![first.clone()] };
        let RotationStep::Staged { kid: staged } = set.rotate(1_000, 3600).unwrap() else { panic!("stages first") };
        assert!(
            matches!(set.rotate(1_000 + 3599, 3600), Err(KeyError::TooSoon { wait_secs: 1, .. })),
            "not before the gap"
        );
        let keys = SigningKeys::from_file_set(&set).unwrap();
        assert_eq!(keys.active_kid(), first.kid, "the staged key does not sign yet");
        assert!(keys.jwks().find(&staged).is_some(), "but it is published");
        let step = set.rotate(1_000 + 3600, 3600).unwrap();
        assert_eq!(
            step,
            RotationStep::Promoted { active: staged.clone(), retiring: first.kid.clone(), removed: vec![] }
        );
        let keys = SigningKeys::from_file_set(&set).unwrap();
        assert_eq!(keys.active_kid(), staged);
        assert!(keys.verifying_key(&first.kid).is_some(), "tokens of the old key still verify");
        set.rotate(10_000, 3600).unwrap();
        let RotationStep::Promoted { removed, .. } = set.rotate(20_000, 3600).unwrap() else { panic!("promotes") };
        assert_eq!(removed, vec![first.kid], "the retired key leaves on the next promotion");
    }
}
