//! The tenant's password policy: length in code points (as typed, no
//! trimming or normalisation) and a strength estimate (zxcvbn) that knows
//! the customer's own e-mail and names, so "anna1990" fails for Anna.

use crate::customer::CustomerDetails;
use crate::domain::{Email, Password};
use crate::error::{ApiError, FieldError};
use crate::tenant::TenantSettings;

/// Words a customer's password must not lean on: the e-mail and the names.
pub fn personal_words<'a>(email: &'a Email, details: &'a CustomerDetails) -> Vec<&'a str> {
    let names = [&details.first_name, &details.middle_name, &details.last_name, &details.company];
    std::iter::once(email.as_str()).chain(names.into_iter().filter_map(|n| n.as_deref())).collect()
}

/// Checks `password` (reported as `field`) against the tenant's policy;
/// `user_inputs` are words the password must not lean on (e-mail, names).
pub fn check(
    settings: &TenantSettings,
    field: &str,
    password: &Password,
    user_inputs: &[&str],
) -> Result<(), ApiError> {
    let text = password.expose();
    let length = text.chars().count();
    let mut errors = Vec::new();
    if length < settings.password_min_length {
        errors.push(FieldError::new(field, format!("must be at least {} characters", settings.password_min_length)));
    }
    if length > settings.password_max_length {
        errors.push(FieldError::new(field, format!("must be at most {} characters", settings.password_max_length)));
    }
    if errors.is_empty() {
        // zxcvbn matches user inputs as lowercase dictionary words: give it the
        // e-mail's local part and domain words, and each name, separately.
        let mut inputs: Vec<String> = Vec::new();
        for input in user_inputs {
            let lower = input.to_lowercase();
            inputs.extend(lower.split(['@', '.', '_', '-', '+', ' ']).filter(|w| w.len() > 2).map(str::to_owned));
            inputs.push(lower);
        }
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        let estimate = zxcvbn::zxcvbn(text, &inputs);
        if u8::from(estimate.score()) < settings.password_min_score {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .unwrap_or_else(|| "add more words or characters".into());
            errors.push(FieldError::new(field, format!("is too easy to guess: {hint}")));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Unprocessable { code: "weak_password", errors }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse(s.into()).unwrap()
    }

    #[test]
    fn length_is_counted_in_code_points_as_typed() {
        let s = TenantSettings { password_min_score: 0, ..Default::default() };
        assert!(check(&s, "password", &pw("ääääääää"), &[]).is_ok(), "8 code points, 16 bytes");
        assert!(check(&s, "password", &pw("äääääää"), &[]).is_err());
        assert!(check(&s, "password", &pw(&"x".repeat(129)), &[]).is_err());
        assert!(check(&s, "password", &pw("  abcdef"), &[]).is_ok(), "spaces count, nothing is trimmed");
    }

    #[test]
    fn common_and_personal_passwords_are_refused() {
        let s = TenantSettings::default();
        for weak in ["password1", "qwertyuiop", "12345678", "iloveyou"] {
            let err = check(&s, "password", &pw(weak), &[]).unwrap_err();
            assert_eq!(err.code(), "weak_password", "{weak}");
        }
        assert!(
            check(&s, "password", &pw("annasmith1990"), &["anna.smith1990@shop.example", "Anna", "Smith"]).is_err()
        );
        assert!(check(&s, "newPassword", &pw("correct horse battery staple"), &["ann@example.com"]).is_ok());
    }
}
