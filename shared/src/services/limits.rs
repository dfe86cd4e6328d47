//! Per-source and per-tenant limits on what costs us or others something:
//! failed logins, sign-ups, and requests that mail an address the request
//! names. Counted per client address (the shopper's, see `client_ip`) and
//! per tenant, in fixed windows (tenant settings `limits`); answered with 429
//! and `Retry-After`.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::clock;
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::http::ClientAddress;
use crate::state::AppState;
use crate::store::{Allowance, Taken};
use crate::tenant::TenantSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    FailedLogin,
    Signup,
    MailRequest,
}

impl Limited {
    fn name(self) -> &'static str {
        match self {
            Self::FailedLogin => "failed_login",
            Self::Signup => "signup",
            Self::MailRequest => "mail_request",
        }
    }

    fn limits(self, settings: &TenantSettings) -> (u32, u32) {
        let l = &settings.limits;
        match self {
            Self::FailedLogin => (l.per_ip_failed_logins, l.per_tenant_failed_logins),
            Self::Signup => (l.per_ip_signups, l.per_tenant_signups),
            Self::MailRequest => (l.per_ip_mail_requests, l.per_tenant_mail_requests),
        }
    }
}

/// The shopper's address: the connecting peer, unless that is one of the
/// tenant's trusted proxies; then the nearest address in `X-Forwarded-For`
/// that is not. `None` when there is none, or it is loopback and the
/// process exempts loopback.
pub fn client_ip(address: &ClientAddress, settings: &TenantSettings, exempt_loopback: bool) -> Option<IpAddr> {
    let trusted: Vec<IpNet> = settings.trusted_proxies.iter().filter_map(|entry| parse_net(entry)).collect();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut ip = address.peer?;
    if is_trusted(&ip) {
        for hop in address.forwarded_for.iter().rev() {
            ip = *hop;
            if !is_trusted(hop) {
                break;
            }
        }
    }
    (!(exempt_loopback && ip.is_loopback())).then_some(ip)
}

/// `203.0.113.7` or `203.0.113.0/24` (or the IPv6 forms).
pub fn parse_net(entry: &str) -> Option<IpNet> {
    let entry = entry.trim();
    entry.parse::<IpNet>().ok().or_else(|| entry.parse::<IpAddr>().ok().map(IpNet::from))
}

/// One counter per IPv4 address and per IPv6 /64 (one household or host).
fn bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => IpNet::new(IpAddr::V6(v6), 64).map(|n| n.trunc().to_string()).unwrap_or_default(),
    }
}

fn counters(what: Limited, source: Option<IpAddr>, settings: &TenantSettings) -> Vec<(String, Allowance)> {
    let (per_ip, per_tenant) = what.limits(settings);
    let window_secs = settings.limits.window_secs;
    let mut counters = Vec::with_capacity(2);
    if let Some(ip) = source {
        counters.push((format!("ip:{}:{}", what.name(), bucket(ip)), Allowance { limit: per_ip, window_secs }));
    }
    counters.push((format!("tenant:{}", what.name()), Allowance { limit: per_tenant, window_secs }));
    counters
}

fn too_many(retry_after_secs: u64) -> ApiError {
    ApiError::TooManyRequests { retry_after_secs }
}

/// Counts one request of `what`, or refuses it with 429 once the source's
/// or the tenant's limit is reached.
pub async fn take(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    source: Option<IpAddr>,
    what: Limited,
) -> Result<(), ApiError> {
    match take_each(state, tenant, settings, source, what).await? {
        Some(retry_after_secs) => Err(too_many(retry_after_secs)),
        None => Ok(()),
    }
}

/// Takes from the source's counter, then the tenant's; stops at the first
/// that is used up and answers its wait.
async fn take_each(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    source: Option<IpAddr>,
    what: Limited,
) -> Result<Option<u64>, ApiError> {
    let now = clock::now_epoch();
    for (name, allowance) in counters(what, source, settings) {
        if let Taken::Exhausted { retry_after_secs } = state.store.take(tenant, &name, allowance, now).await? {
            let scope = if name.starts_with("ip:") { "client_address" } else { "tenant" };
            tracing::info!(event = "rate_limited", tenant = %tenant, limit = what.name(), scope, "request refused by a limit");
            return Ok(Some(retry_after_secs));
        }
    }
    Ok(None)
}

/// 429 if the failures of `what` already reached a limit (nothing is counted).
pub async fn check(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    source: Option<IpAddr>,
    what: Limited,
) -> Result<(), ApiError> {
    match state.store.exhausted(tenant, &counters(what, source, settings), clock::now_epoch()).await? {
        Some(retry_after_secs) => Err(too_many(retry_after_secs)),
        None => Ok(()),
    }
}

/// The counters `check` reads for `what`, to read them beside other items.
pub fn failure_counters(what: Limited, source: Option<IpAddr>, settings: &TenantSettings) -> Vec<(String, Allowance)> {
    counters(what, source, settings)
}

/// `check`'s answer from counters read elsewhere (`wait`: the longest hold).
pub fn refuse_if_exhausted(wait: Option<u64>) -> Result<(), ApiError> {
    wait.map_or(Ok(()), |retry_after_secs| Err(too_many(retry_after_secs)))
}

/// Counts one failure of `what` (best effort: the answer is decided already).
pub async fn count_failure(
    state: &AppState,
    tenant: &TenantId,
    settings: &TenantSettings,
    source: Option<IpAddr>,
    what: Limited,
) {
    if let Err(err) = take_each(state, tenant, settings, source, what).await {
        tracing::warn!(tenant = %tenant, error = %err, "failure not counted");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(peer: &str, forwarded: &[&str]) -> ClientAddress {
        ClientAddress {
            peer: Some(peer.parse().unwrap()),
            forwarded_for: forwarded.iter().map(|ip| ip.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn the_shopper_is_read_from_forwarded_for_only_behind_a_trusted_proxy() {
        let open = TenantSettings::default();
        let shop = TenantSettings { trusted_proxies: vec!["10.0.0.0/8".into(), "198.51.100.7".into()], ..open.clone() };
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // A client may say anything in X-Forwarded-For: unless it is a trusted proxy, the peer counts.
        assert_eq!(client_ip(&address("203.0.113.9", &["192.0.2.1"]), &shop, true), ip("203.0.113.9"));
        assert_eq!(client_ip(&address("198.51.100.7", &["192.0.2.1"]), &open, true), ip("198.51.100.7"));
        // Behind the shop's servers, the nearest untrusted hop is the shopper; hops left of it are the shopper's word.
        assert_eq!(client_ip(&address("198.51.100.7", &["192.0.2.1"]), &shop, true), ip("192.0.2.1"));
        assert_eq!(
            client_ip(&address("10.1.2.3", &["6.6.6.6", "192.0.2.1", "198.51.100.7"]), &shop, true),
            ip("192.0.2.1")
        );
        // Loopback is exempt unless told otherwise; no peer at all is unlimited per address.
        assert_eq!(client_ip(&address("127.0.0.1", &[]), &open, true), None);
        assert_eq!(client_ip(&address("::1", &[]), &open, false), ip("::1"));
        assert_eq!(client_ip(&ClientAddress::default(), &open, false), None);
    }

    #[test]
    fn ipv6_counts_per_64_block() {
        assert_eq!(bucket("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::/64");
        assert_eq!(bucket("192.0.2.1".parse().unwrap()), "192.0.2.1");
        assert!(parse_net("not an address").is_none());
    }
}
