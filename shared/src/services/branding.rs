//! What the account pages may show of a tenant before anyone signs in: its
//! name, logo and accent colour, and the password policy the strength meter
//! applies. Nothing else of the settings leaves the service.

use serde::Serialize;

use crate::domain::TenantId;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenant::TenantSettings;

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accent_color: Option<String>,
    pub password_policy: PasswordPolicy,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    /// zxcvbn score (0-4) a new password must reach.
    pub min_score: u8,
}

/// The tenant's branding; an unknown tenant is a 404.
pub async fn get(state: &AppState, tenant: &TenantId) -> Result<Branding, ApiError> {
    let settings = state.tenant_settings(tenant).await?.ok_or(ApiError::NotFound)?;
    Ok(of(&settings))
}

/// Only values a page can use safely leave: a `#rrggbb` colour, and a logo
/// that is an `https://` URL or a path on the pages' origin.
pub fn of(settings: &TenantSettings) -> Branding {
    let accent_color = settings.accent_color.as_ref().filter(|c| is_hex_colour(c)).cloned();
    let logo_url = settings.logo_url.as_ref().filter(|u| is_safe_logo(u)).cloned();
    Branding {
        name: settings.display_name.clone(),
        logo_url,
        accent_color,
        password_policy: PasswordPolicy {
            min_length: settings.password_min_length,
            max_length: settings.password_max_length,
            min_score: settings.password_min_score,
        },
    }
}

fn is_hex_colour(c: &str) -> bool {
    c.len() == 7 && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_safe_logo(u: &str) -> bool {
    let path_ok = |p: &str| p.len() <= 2048 && !p.bytes().any(|b| b.is_ascii_control() || b"\"'<>\\ ".contains(&b));
    match u.strip_prefix("https://") {
        Some(rest) => !rest.is_empty() && path_ok(rest),
        None => u.starts_with('/') && !u.starts_with("//") && path_ok(u),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_colours_and_logos_are_shown() {
        let mut s = TenantSettings {
            display_name: "Shop".into(),
            accent_color: Some("#0a7d5a".into()),
            logo_url: Some("https://cdn.shop.example/logo.svg".into()),
            ..Default::default()
        };
        let b = of(&s);
        assert_eq!(b.accent_color.as_deref(), Some("#0a7d5a"));
        assert_eq!(b.logo_url.as_deref(), Some("https://cdn.shop.example/logo.svg"));
        assert_eq!(b.password_policy, PasswordPolicy { min_length: 8, max_length: 128, min_score: 3 });
        for bad in ["red", "#12345", "#1234567", "#12345g", "#123;}x"] {
            s.accent_color = Some(bad.into());
            assert_eq!(of(&s).accent_color, None, "{bad}");
        }
        for bad in ["http://x.example/l.png", "javascript:alert(1)", "//evil.example/x", "https://", "/a b", "/a\"b"] {
            s.logo_url = Some(bad.into());
            assert_eq!(of(&s).logo_url, None, "{bad}");
        }
        s.logo_url = Some("/account/logo.svg".into());
        assert_eq!(of(&s).logo_url.as_deref(), Some("/account/logo.svg"));
    }
}
