//! Password hashing: argon2id (m=19456 KiB, t=2, p=1), PHC strings, run off the
//! async executor. Unknown accounts are verified against a dummy hash so that
//! timing does not tell whether an account exists. Imported legacy hashes
//! (bcrypt, scrypt, PBKDF2) verify too, and `needs_rehash` tells login to
//! replace them (and argon2 hashes with weaker parameters) by argon2id.

use std::sync::Arc;

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

/// What unknown accounts are verified against: an argon2id hash, with the
/// current parameters, of a random password nobody kept. A constant, so cold
/// start does not spend a full hash (≈ 20 ms) computing one.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$xsphnvp0DmYNsZs0XZqfjQ$s5j/KsIrVDgwn+zzfwf/xNLwYoAhyy8QEVL7gn2AoVs";

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
            None => (DUMMY_HASH, false),
        };
        let ok = match Scheme::of(phc) {
            Some(scheme) => verify_with(scheme, secret.expose_secret(), phc),
            None => {
                // A corrupt stored hash must not open the account; still spend the time.
                let _ = verify_with(Scheme::Argon2, secret.expose_secret(), DUMMY_HASH);
                false
            }
        };
        Ok(ok && real)
    })
    .await?
}

/// The hash schemes a stored password may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Argon2,
    Bcrypt,
    Scrypt,
    Pbkdf2,
}

impl Scheme {
    /// Recognises a stored hash: bcrypt's modular crypt format, or a PHC string.
    pub fn of(stored: &str) -> Option<Self> {
        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| stored.starts_with(p)) {
            return (stored.len() == 60).then_some(Self::Bcrypt);
        }
        let parsed = PasswordHash::new(stored).ok()?;
        match parsed.algorithm.as_str() {
            "argon2id" | "argon2i" | "argon2d" => Some(Self::Argon2),
            "scrypt" => Some(Self::Scrypt),
            "pbkdf2-sha256" | "pbkdf2-sha512" => Some(Self::Pbkdf2),
            _ => None,
        }
    }
}

fn verify_with(scheme: Scheme, password: &str, stored: &str) -> bool {
    if scheme == Scheme::Bcrypt {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let bytes = password.as_bytes();
    // Each verifier takes its parameters (and PBKDF2 its digest) from the hash itself.
    match scheme {
        Scheme::Argon2 => argon2().verify_password(bytes, &parsed).is_ok(),
        Scheme::Scrypt => scrypt::Scrypt::new().verify_password(bytes, &parsed).is_ok(),
        Scheme::Pbkdf2 => pbkdf2::Pbkdf2::SHA256.verify_password(bytes, &parsed).is_ok(),
        Scheme::Bcrypt => false,
    }
}

/// Whether a stored hash should be replaced by a current argon2id hash at the
/// next successful login: any other scheme, or argon2 with other parameters.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return true };
    if parsed.algorithm.as_str() != "argon2id" {
        return true;
    }
    let current = argon2::Params::default();
    let param = |name: &str| parsed.params.get_decimal(name);
    param("m") != Some(current.m_cost()) || param("t") != Some(current.t_cost()) || param("p") != Some(current.p_cost())
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

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        // Same parameters as fresh hashes, or unknown accounts would answer faster.
        assert!(!needs_rehash(DUMMY_HASH));
    }

    #[tokio::test]
    async fn legacy_hashes_verify_and_ask_for_a_rehash() {
        let pw = Password::parse("imported password 1".into()).unwrap();
        let wrong = Password::parse("imported password 2".into()).unwrap();
        let bcrypt = bcrypt::hash(pw.expose(), 4).unwrap();
        // Cheap parameters: the verifiers read them from the hash.
        let scrypt = scrypt::Scrypt::new_with_params(scrypt::Params::new(10, 8, 1).unwrap())
            .hash_password(pw.expose().as_bytes())
            .unwrap()
            .to_string();
        let pbkdf2 = pbkdf2::Pbkdf2::new(pbkdf2::Algorithm::Pbkdf2Sha256, pbkdf2::Params::new(1000).unwrap())
            .hash_password(pw.expose().as_bytes())
            .unwrap()
            .to_string();
        for stored in [bcrypt, scrypt, pbkdf2] {
            assert!(Scheme::of(&stored).is_some(), "{stored}");
            assert!(verify(&pw, Some(stored.clone().into())).await.unwrap(), "{stored}");
            assert!(!verify(&wrong, Some(stored.clone().into())).await.unwrap(), "{stored}");
            assert!(needs_rehash(&stored));
        }
        let current = hash(&pw).await.unwrap();
        assert!(!needs_rehash(&current));
        let weaker = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(pw.expose().as_bytes())
        .unwrap()
        .to_string();
        assert!(verify(&pw, Some(weaker.clone().into())).await.unwrap());
        assert!(needs_rehash(&weaker));
    }
}
