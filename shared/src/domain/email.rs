use std::fmt;

use super::ParseError;
use super::text::nfc;

/// An e-mail address: a bare `local@domain`, nothing else. No display name
/// (`Ann <ann@shop.example>`), no comments, no quoted local part, no domain
/// literal (`x@[127.0.0.1]`): whatever the identity is, is the address mail
/// goes to. The local part is NFC-normalised; the domain is mapped by IDNA
/// (UTS #46: fullwidth letters, case) to its ASCII form, so one mailbox has
/// one identity (`normalized`), while look-alikes from other scripts stay
/// distinct.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email {
    /// As typed, trimmed and NFC-normalised: what the customer sees back.
    typed: String,
    /// The identity key and the address mail goes to: lowercase local part,
    /// ASCII (punycode) domain.
    normalized: String,
}

// Stored as typed: `parse` of a typed form gives it back unchanged.
super::string_serde!(Email, |email| email.typed.clone());

const INVALID: ParseError = ParseError("must be a plain e-mail address (name@example.com)");
const MAX_LOCAL_BYTES: usize = 64;
const MAX_BYTES: usize = 254;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let typed = nfc(raw.trim());
        if typed.is_empty() {
            return Err(ParseError("is required"));
        }
        // Exactly one `@`: a quoted local part would be the only place for another.
        let (local, domain) = match typed.split_once('@') {
            Some((local, domain)) if !domain.contains('@') => (local, domain),
            _ => return Err(INVALID),
        };
        if !valid_local(local) || domain.starts_with('[') {
            return Err(INVALID);
        }
        let domain = idna::domain_to_ascii_strict(domain).map_err(|_| INVALID)?;
        if !domain.contains('.') || domain.ends_with('.') {
            return Err(INVALID);
        }
        let normalized = format!("{}@{domain}", local.to_lowercase());
        if normalized.len() > MAX_BYTES || typed.len() > MAX_BYTES * 4 {
            return Err(INVALID);
        }
        Ok(Self { typed, normalized })
    }

    /// As typed (trimmed, NFC): for showing back.
    pub fn as_str(&self) -> &str {
        &self.typed
    }

    /// The identity: unique per tenant, the login name, and the address mail goes to.
    pub fn normalized(&self) -> String {
        self.normalized.clone()
    }
}

/// A dot-atom (RFC 5322) of letters, digits and `!#$%&'*+/=?^_`{|}~-`, or any
/// non-ASCII character that is not a control or a space (RFC 6531).
fn valid_local(local: &str) -> bool {
    let atext = |c: char| {
        c.is_ascii_alphanumeric()
            || "!#$%&'*+/=?^_`{|}~-".contains(c)
            || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
    };
    !local.is_empty()
        && local.len() <= MAX_LOCAL_BYTES
        && local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(atext))
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.typed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, the identity it must have; `None`: refused).
    const CASES: &[(&str, Option<&str>)] = &[
        // Plain addresses, case and surrounding spaces.
        ("ann@shop.example", Some("ann@shop.example")),
        ("  Ann.Lee@Shop.Example ", Some("ann.lee@shop.example")),
        ("o'brien+news@shop.example", Some("o'brien+news@shop.example")),
        // Display names, comments, quoted local parts, domain literals: refused.
        ("Demo <demo@example.com>", None),
        ("victim@example.com <attacker@evil.example>", None),
        ("<demo@example.com>", None),
        ("demo@example.com (Demo)", None),
        ("(comment)demo@example.com", None),
        ("\"demo\"@example.com", None),
        ("\"a@b\"@example.com", None),
        ("x@[127.0.0.1]", None),
        ("x@[IPv6:::1]", None),
        // Malformed.
        ("", None),
        ("ann", None),
        ("ann@", None),
        ("@shop.example", None),
        ("a b@shop.example", None),
        ("ann@@shop.example", None),
        ("ann@localhost", None),
        (".ann@shop.example", None),
        ("ann.@shop.example", None),
        ("an..n@shop.example", None),
        ("ann@shop..example", None),
        ("ann@-shop.example", None),
        ("ann@shop_example.com", None),
        ("ann\u{0}@shop.example", None),
        ("ann\r\n@shop.example", None),
        // IDNA: fullwidth letters and upper case map to the same mailbox...
        ("demo@ｅｘａｍｐｌｅ.com", Some("demo@example.com")),
        ("demo@EXAMPLE.COM", Some("demo@example.com")),
        ("jörg@bücher.example", Some("jörg@xn--bcher-kva.example")),
        // ...and look-alikes from another script are another domain.
        ("demo@ехаmple.com", Some("demo@xn--mple-43d3a6i.com")),
        // NFC: a composed and a decomposed ü are one local part.
        ("jo\u{308}rg@shop.example", Some("jörg@shop.example")),
    ];

    #[test]
    fn accepts_refuses_and_normalises_as_the_table_says() {
        for (input, want) in CASES {
            let got = Email::parse(input).ok().map(|e| e.normalized());
            assert_eq!(got.as_deref(), *want, "{input:?}");
        }
    }

    #[test]
    fn shows_back_what_was_typed() {
        let email = Email::parse("  Ann.Lee@Shop.Example ").unwrap();
        assert_eq!(email.as_str(), "Ann.Lee@Shop.Example");
        assert_eq!(email.normalized(), "ann.lee@shop.example");
    }

    #[test]
    fn look_alikes_stay_distinct() {
        let latin = Email::parse("demo@example.com").unwrap().normalized();
        let cyrillic = Email::parse("demo@ехаmple.com").unwrap().normalized();
        assert_ne!(latin, cyrillic);
    }
}
