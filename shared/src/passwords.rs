//! Password hashing: argon2id (m=19456 KiB, t=2, p=1), PHC strings, run off the
//! async executor. Unknown accounts are verified against a dummy hash so that
//! timing does not tell whether an account exists.

use std::sync::{Arc, OnceLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::Password;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

fn argon2() -> Argon2<'static> {
    // Defaults are argon2id v19, m=19456 KiB, t=2, p=1 (OWASP's first choice).
    Argon2::default()
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        argon2()
            .hash_password(b"dummy password for unknown accounts")
            .map(|h| h.to_string())
            .expect("argon2 hashes a constant")
    })
}

pub async fn hash(password: &Password) -> Result<String, HashError> {
    let secret = SecretString::from(password.expose().to_owned());
    tokio::task::spawn_blocking(move || {
        argon2()
            .hash_password(secret.expose_secret().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| HashError::Hash(e.to_string()))
    })
    .await?
}

/// Verifies `password` against `stored` (a PHC string), or against a dummy
/// hash when there is none, so both paths cost one argon2id verify.
pub async fn verify(password: &Password, stored: Option<Arc<str>>) -> Result<bool, HashError> {
    let secret = SecretString::from(password.expose().to_owned());
    tokio::task::spawn_blocking(move || {
        let (phc, real) = match &stored {
            Some(phc) => (phc.as_ref(), true),
            None => (dummy_hash(), false),
        };
        let Ok(parsed) = PasswordHash::new(phc) else {
            // A corrupt stored hash must not open the account; still spend the time.
            let _ = verify_phc(secret.expose_secret(), dummy_hash());
            return Ok(false);
        };
        let ok = argon2().verify_password(secret.expose_secret().as_bytes(), &parsed).is_ok();
        Ok(ok && real)
    })
    .await?
}

fn verify_phc(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).map(|parsed| argon2().verify_password(password.as_bytes(), &parsed).is_ok()).unwrap_or(false)
}

/// Warms the dummy hash (at cold start, off the request path).
pub fn prepare() {
    let _ = dummy_hash();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_pass() {
        let pw = Password::parse("correct horse battery".into()).unwrap();
        let phc = hash(&pw).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&pw, Some(phc.clone().into())).await.unwrap());
        let wrong = Password::parse("wrong".into()).unwrap();
        assert!(!verify(&wrong, Some(phc.into())).await.unwrap());
        let dummy_pw = Password::parse("dummy password for unknown accounts".into()).unwrap();
        assert!(!verify(&dummy_pw, None).await.unwrap());
        assert!(!verify(&pw, Some("not a phc string".into())).await.unwrap());
    }
}
