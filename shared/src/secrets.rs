//! Opaque secrets (refresh tokens, activation secrets, reset tokens, e-mail
//! keys): 256 random bits, handed out once, stored only as their SHA-256.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A freshly minted secret and the hash under which it is stored.
pub struct OpaqueSecret {
    pub value: String,
    pub hash: String,
}

impl OpaqueSecret {
    pub fn generate() -> Self {
        let value = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
        let hash = hash_secret(&value);
        Self { value, hash }
    }
}

/// Hex SHA-256: the only form in which a secret reaches the table.
pub fn hash_secret(value: &str) -> String {
    hex(&Sha256::digest(value.as_bytes()))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_unique_and_hashed() {
        let a = OpaqueSecret::generate();
        let b = OpaqueSecret::generate();
        assert_ne!(a.value, b.value);
        assert!(a.value.len() >= 43, "256 bits in base64url");
        assert_eq!(a.hash, hash_secret(&a.value));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.value));
    }
}
