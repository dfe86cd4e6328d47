//! Text that reaches the table or a mail: no control characters (C0, DEL,
//! C1; NUL, CR and LF included), so nothing can write fake lines into a mail
//! or surprise a reader of the data; NFC-normalised, so one name is stored
//! one way.

use std::borrow::Cow;

use super::ParseError;

pub const CONTROL_CHARACTERS: ParseError = ParseError("must not contain control characters (line breaks, tabs, NUL)");

/// Canonical composition (NFC) of `text`.
pub fn nfc(text: &str) -> String {
    match icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(text) {
        Cow::Borrowed(same) => same.to_owned(),
        Cow::Owned(changed) => changed,
    }
}

/// `text` NFC-normalised, or refused when it holds a control character.
pub fn clean(text: &str) -> Result<String, ParseError> {
    if text.chars().any(char::is_control) {
        return Err(CONTROL_CHARACTERS);
    }
    Ok(nfc(text))
}

/// `text` with control characters dropped (for what we only pass on, such
/// as a User-Agent or a provider's name claims), NFC-normalised.
pub fn scrub(text: &str) -> String {
    nfc(&text.chars().filter(|c| !c.is_control()).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_refused_and_text_is_composed() {
        for bad in ["a\u{0}b", "line\r\nFake: header", "tab\there", "del\u{7f}", "c1\u{85}", "esc\u{1b}[31m"] {
            assert_eq!(clean(bad), Err(CONTROL_CHARACTERS), "{bad:?}");
        }
        assert_eq!(clean("Jo\u{308}rg").unwrap(), "Jörg");
        assert_eq!(clean("Zoë – 東京 🙂").unwrap(), "Zoë – 東京 🙂");
        assert_eq!(scrub("Ann\r\nBcc: x"), "AnnBcc: x");
    }
}
