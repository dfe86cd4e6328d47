//! The RS256 signing key set. Several keys, each with a status: `next`
//! (published in the JWKS, not yet signing), `active` (signs; exactly one) and
//! `retiring` (published so tokens it signed still verify). Loaded once per
//! container.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
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
}

pub struct SigningKeys {
    active_kid: String,
    active: EncodingKey,
    verifying: HashMap<String, DecodingKey>,
    jwks: JwkSet,
}

impl SigningKeys {
    pub fn from_file_set(set: &KeySetFile) -> Result<Self, KeyError> {
        let actives: Vec<_> = set.keys.iter().filter(|k| k.status == KeyStatus::Active).collect();
        if actives.len() != 1 {
            return Err(KeyError::ActiveCount(actives.len()));
        }
        let mut verifying = HashMap::new();
        let mut jwks = JwkSet { keys: Vec::new() };
        let mut active = None;
        for stored in &set.keys {
            let bad = |message: String| KeyError::BadKey { kid: stored.kid.clone(), message };
            let encoding =
                EncodingKey::from_rsa_pem(stored.private_key_pem.as_bytes()).map_err(|e| bad(e.to_string()))?;
            let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).map_err(|e| bad(e.to_string()))?;
            jwk.common.key_id = Some(stored.kid.clone());
            jwk.common.public_key_use = Some(PublicKeyUse::Signature);
            jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
            let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| bad(e.to_string()))?;
            verifying.insert(stored.kid.clone(), decoding);
            jwks.keys.push(jwk);
            if stored.status == KeyStatus::Active {
                active = Some((stored.kid.clone(), encoding));
            }
        }
        let (active_kid, active) = active.ok_or(KeyError::ActiveCount(0))?;
        Ok(Self { active_kid, active, verifying, jwks })
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

    pub fn active_key(&self) -> &EncodingKey {
        &self.active
    }

    pub fn verifying_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

/// A fresh 2048-bit RSA key (aws-lc-rs, already in the tree through the SDK).
pub fn generate_key(status: KeyStatus) -> Result<StoredKey, KeyError> {
    use aws_lc_rs::encoding::AsDer;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(|_| KeyError::Generate)?;
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    let kid = format!(
        "{}-{}",
        crate::clock::now_rfc3339().get(..10).unwrap_or("key"),
        &crate::secrets::hash_secret(&pem)[..8]
    );
    Ok(StoredKey { kid, status, private_key_pem: pem })
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
    /// One step of a rotation with no downtime. Run it twice, waiting between
    /// the two steps at least as long as verifiers cache the JWKS (5 min) so
    /// every verifier knows the new key before it signs, and retire the old
    /// key for good (next rotation) only after the longest token lifetime.
    pub fn rotate(&mut self) -> Result<RotationStep, KeyError> {
        if !self.keys.iter().any(|k| k.status == KeyStatus::Next) {
            let key = generate_key(KeyStatus::Next)?;
            let kid = key.kid.clone();
            self.keys.push(key);
            return Ok(RotationStep::Staged { kid });
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
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_publishes_before_signing_and_keeps_the_old_key_verifying() {
        let first = generate_key(KeyStatus::Active).unwrap();
        let mut set = KeySetFile { keys: vec![first.clone()] };
        let RotationStep::Staged { kid: staged } = set.rotate().unwrap() else { panic!("stages first") };
        let keys = SigningKeys::from_file_set(&set).unwrap();
        assert_eq!(keys.active_kid(), first.kid, "the staged key does not sign yet");
        assert!(keys.jwks().find(&staged).is_some(), "but it is published");
        let step = set.rotate().unwrap();
        assert_eq!(
            step,
            RotationStep::Promoted { active: staged.clone(), retiring: first.kid.clone(), removed: vec![] }
        );
        let keys = SigningKeys::from_file_set(&set).unwrap();
        assert_eq!(keys.active_kid(), staged);
        assert!(keys.verifying_key(&first.kid).is_some(), "tokens of the old key still verify");
        set.rotate().unwrap();
        let RotationStep::Promoted { removed, .. } = set.rotate().unwrap() else { panic!("promotes") };
        assert_eq!(removed, vec![first.kid], "the retired key leaves on the next promotion");
    }
}
