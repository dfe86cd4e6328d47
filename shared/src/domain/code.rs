use super::ParseError;

/// A six-digit code as typed (e-mail sign-in codes, authenticator codes):
/// exactly six ASCII digits, leading zeros kept. Not `Debug`-printable as
/// its value: it is a secret until spent.
#[derive(Clone, PartialEq, Eq)]
pub struct SixDigitCode(String);

impl SixDigitCode {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        // Authenticator apps show "123 456"; people paste it that way.
        let compact: String = raw.chars().filter(|c| *c != ' ').collect();
        if compact.len() == 6 && compact.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(compact))
        } else {
            Err(ParseError("must be the 6-digit code"))
        }
    }

    /// A uniformly random code from the OS CSPRNG.
    pub fn generate() -> Self {
        // Rejection sampling: 4_294_000_000 is the largest multiple of 10^6
        // below 2^32, so every code is equally likely.
        loop {
            let value = u32::from_be_bytes(crate::secrets::random_bytes::<4>());
            if value < 4_294_000_000 {
                return Self(format!("{:06}", value % 1_000_000));
            }
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SixDigitCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SixDigitCode(******)")
    }
}

/// A recovery code as typed: ten characters of an alphabet without
/// look-alikes, shown as `xxxxx-xxxxx`; case, dashes and spaces are forgiven.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

impl RecoveryCode {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let compact: String = raw.chars().filter(|c| *c != '-' && *c != ' ').map(|c| c.to_ascii_lowercase()).collect();
        if compact.len() == 10 && compact.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
            Ok(Self(compact))
        } else {
            Err(ParseError("must be one of the recovery codes"))
        }
    }

    /// About 50 random bits from the OS CSPRNG (31 symbols, ten of them).
    pub fn generate() -> Self {
        let bytes = crate::secrets::random_bytes::<10>();
        // 256 is not a multiple of 31: the first symbols are a little likelier; 49.5 bits stay.
        Self(bytes.iter().map(|b| RECOVERY_ALPHABET[*b as usize % RECOVERY_ALPHABET.len()] as char).collect())
    }

    /// As shown to the customer: `xxxxx-xxxxx`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..5], &self.0[5..])
    }

    /// The stored form: a hash of the normalised code.
    pub fn hash(&self) -> String {
        crate::secrets::hash_secret(&self.0)
    }
}

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(******)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_only_and_spaces_are_forgiven() {
        assert_eq!(SixDigitCode::parse("012345").unwrap().expose(), "012345");
        assert_eq!(SixDigitCode::parse(" 012 345 ").unwrap().expose(), "012345");
        for bad in ["", "12345", "1234567", "12a456", "１２３４５６", "\t123456"] {
            assert!(SixDigitCode::parse(bad).is_err(), "{bad}");
        }
        let generated = SixDigitCode::generate();
        assert_eq!(SixDigitCode::parse(generated.expose()).unwrap(), generated);
        assert!(!format!("{generated:?}").contains(generated.expose()));
    }

    #[test]
    fn recovery_codes_read_back_as_shown() {
        let code = RecoveryCode::generate();
        let shown = code.display();
        assert_eq!(RecoveryCode::parse(&shown.to_uppercase()).unwrap().hash(), code.hash());
        assert!(RecoveryCode::parse("abcde-fghi1").is_err(), "1 is not in the alphabet");
        assert!(RecoveryCode::parse("abcde").is_err());
    }
}
