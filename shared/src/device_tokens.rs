//! Device tokens (OWASP "device cookies"): handed to a client after a
//! successful password login and sent back with its later logins, so that the
//! device keeps a login budget of its own (docs/security.md R5).
//!
//! A token proves itself, so nothing is stored for it and a login recognises
//! it without a read: `{customerId}.{deviceId}.{issuedAt}.{kid}.{mac}`, where
//! the MAC is an HMAC-SHA256 over the tenant and the other four parts, under
//! the key derived from signing key `kid` (`SigningKeys::mac_key`). It holds
//! for 180 days from `issuedAt`, and while its key is in the set.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{CustomerId, TenantId};
use crate::secrets::random_bytes;
use crate::signing::SigningKeys;

/// How long a device token holds after the login that issued it.
pub const DEVICE_TOKEN_TTL_SECS: i64 = 180 * 86_400;

/// The longest device token a login accepts (ours are well under it).
pub const MAX_DEVICE_TOKEN_CHARS: usize = 256;

/// How far ahead of this clock another region's clock may have issued a token.
const CLOCK_SKEW_SECS: i64 = 300;

/// A device token that verified: whose account, and which device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceToken {
    pub customer: CustomerId,
    /// 128 random bits (base64url): names the device's own login budget.
    pub device: String,
    issued_at: i64,
    kid: String,
}

impl DeviceToken {
    /// A token for a device new to `customer`'s account: the value to hand out, and its parsed form.
    pub fn issue(keys: &SigningKeys, tenant: &TenantId, customer: &CustomerId, now: i64) -> (String, Self) {
        let device = URL_SAFE_NO_PAD.encode(random_bytes::<16>());
        let token = Self { customer: customer.clone(), device, issued_at: now, kid: keys.active_kid().to_owned() };
        (token.signed(keys, tenant), token)
    }

    /// The token `raw` stands for, if this key set signed it for `tenant`
    /// and it has not expired; `None` for anything else, forged or malformed.
    pub fn verify(keys: &SigningKeys, tenant: &TenantId, raw: &str, now: i64) -> Option<Self> {
        if raw.len() > MAX_DEVICE_TOKEN_CHARS {
            return None;
        }
        let mut parts = raw.split('.');
        let (customer, device, issued_at, kid, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let message = message(tenant, customer, device, issued_at, kid);
        hmac::verify(keys.mac_key(kid)?, message.as_bytes(), &mac).ok()?;
        let issued_at: i64 = issued_at.parse().ok()?;
        if issued_at > now + CLOCK_SKEW_SECS || now >= issued_at + DEVICE_TOKEN_TTL_SECS {
            return None;
        }
        let customer = CustomerId::parse(customer).ok()?;
        Some(Self { customer, device: device.to_owned(), issued_at, kid: kid.to_owned() })
    }

    /// What a login from this device hands back: `raw` itself while its key
    /// signs, else the same device and expiry under the active key, so a
    /// device that logs in now and then outlives key rotations.
    pub fn renewed(self, keys: &SigningKeys, tenant: &TenantId, raw: String) -> String {
        if self.kid == keys.active_kid() { raw } else { self.signed(keys, tenant) }
    }

    /// The token's value, signed with the active key.
    fn signed(&self, keys: &SigningKeys, tenant: &TenantId) -> String {
        let (kid, key) = keys.active_mac_key();
        let Self { customer, device, issued_at, .. } = self;
        let issued_at = issued_at.to_string();
        let mac = hmac::sign(key, message(tenant, customer.as_str(), device, &issued_at, kid).as_bytes());
        format!("{customer}.{device}.{issued_at}.{kid}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()))
    }
}

/// What the MAC covers: the tenant (a token of one tenant is nothing in
/// another) and every part of the token but the MAC.
fn message(tenant: &TenantId, customer: &str, device: &str, issued_at: &str, kid: &str) -> String {
    format!("customer-accounts device token v1\n{tenant}\n{customer}\n{device}\n{issued_at}\n{kid}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{KeySetFile, KeyStatus, generate_key};

    fn keys(set: &KeySetFile) -> SigningKeys {
        SigningKeys::from_file_set(set).unwrap()
    }

    fn tenant(name: &str) -> TenantId {
        TenantId::parse(name).unwrap()
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_token_verifies_for_its_tenant_and_account_only_until_it_expires() {
        let set = KeySetFile { keys: vec![generate_key(KeyStatus::Active).unwrap()] };
        let keys = keys(&set);
        let customer = CustomerId::parse("c-1").unwrap();
        let (raw, token) = DeviceToken::issue(&keys, &tenant("shop"), &customer, NOW);
        assert!(raw.len() <= MAX_DEVICE_TOKEN_CHARS);
        assert!(raw.starts_with("c-1."), "the token names its account: {raw}");
        assert_eq!(DeviceToken::verify(&keys, &tenant("shop"), &raw, NOW + 10), Some(token.clone()));
        assert_eq!(token.device.len(), 22, "128 bits in base64url");
        assert_eq!(DeviceToken::verify(&keys, &tenant("other"), &raw, NOW), None, "another tenant");
        let last = NOW + DEVICE_TOKEN_TTL_SECS - 1;
        assert!(DeviceToken::verify(&keys, &tenant("shop"), &raw, last).is_some());
        assert_eq!(DeviceToken::verify(&keys, &tenant("shop"), &raw, last + 1), None, "expired");
        assert_eq!(
            DeviceToken::verify(&keys, &tenant("shop"), &raw, NOW - CLOCK_SKEW_SECS - 1),
            None,
            "from the future"
        );
        let (other, _) = DeviceToken::issue(&keys, &tenant("shop"), &customer, NOW);
        assert_ne!(other, raw, "each device is new");
    }

    #[test]
    fn no_part_of_a_token_can_be_changed() {
        let set = KeySetFile { keys: vec![generate_key(KeyStatus::Active).unwrap()] };
        let keys = keys(&set);
        let (raw, _) = DeviceToken::issue(&keys, &tenant("shop"), &CustomerId::parse("c-1").unwrap(), NOW);
        let parts: Vec<&str> = raw.split('.').collect();
        assert_eq!(parts.len(), 5);
        let swaps =
            [(0, "c-2"), (1, "AAAAAAAAAAAAAAAAAAAAAA"), (2, "1800000001"), (3, "2026-01-01-00000000"), (4, "AAAA")];
        for (index, value) in swaps {
            let mut forged = parts.clone();
            forged[index] = value;
            assert_eq!(
                DeviceToken::verify(&keys, &tenant("shop"), &forged.join("."), NOW),
                None,
                "part {index} changed"
            );
        }
        for malformed in ["", "c-1", "c-1.secret", &format!("{raw}.x"), &format!("{raw}{}", "A".repeat(300))] {
            assert_eq!(DeviceToken::verify(&keys, &tenant("shop"), malformed, NOW), None, "{malformed}");
        }
        // Another key set (another deployment) signed it: nothing.
        let other = self::keys(&KeySetFile { keys: vec![generate_key(KeyStatus::Active).unwrap()] });
        let (foreign, _) = DeviceToken::issue(&other, &tenant("shop"), &CustomerId::parse("c-1").unwrap(), NOW);
        let mut renamed: Vec<&str> = foreign.split('.').collect();
        renamed[3] = parts[3];
        assert_eq!(DeviceToken::verify(&keys, &tenant("shop"), &renamed.join("."), NOW), None);
    }

    #[test]
    fn a_token_outlives_a_key_rotation_when_its_device_logs_in() {
        let mut set = KeySetFile { keys: vec![generate_key(KeyStatus::Active).unwrap()] };
        let customer = CustomerId::parse("c-1").unwrap();
        let (raw, _) = DeviceToken::issue(&keys(&set), &tenant("shop"), &customer, NOW);
        set.rotate(NOW, 0).unwrap();
        set.rotate(NOW, 0).unwrap();
        // The old key is retiring: its tokens still verify, and a login re-signs them.
        let rotated = keys(&set);
        let token = DeviceToken::verify(&rotated, &tenant("shop"), &raw, NOW + 60).expect("a retiring key verifies");
        let renewed = token.clone().renewed(&rotated, &tenant("shop"), raw.clone());
        assert_ne!(renewed, raw);
        let again = DeviceToken::verify(&rotated, &tenant("shop"), &renewed, NOW + 60).unwrap();
        assert_eq!((again.device.as_str(), again.issued_at), (token.device.as_str(), NOW), "same device, same expiry");
        assert_eq!(
            again.clone().renewed(&rotated, &tenant("shop"), renewed.clone()),
            renewed,
            "kept while its key signs"
        );
        // The next rotation removes the old key: what it signed is unknown.
        set.rotate(NOW, 0).unwrap();
        set.rotate(NOW, 0).unwrap();
        assert_eq!(DeviceToken::verify(&keys(&set), &tenant("shop"), &raw, NOW + 60), None);
        assert!(DeviceToken::verify(&keys(&set), &tenant("shop"), &renewed, NOW + 60).is_some());
    }
}
