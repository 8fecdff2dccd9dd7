//! The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a
//! check character computed modulo 31 over a 31-symbol alphabet (no I, O, Z, S, V).
use serde::{Deserialize, Serialize};
use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a unified social credit code has 18 characters")]
    Length,
    #[error("character {0:?} is not allowed in a unified social credit code")]
    Character(char),
    #[error("the check character does not match")]
    Checksum,
}

/// A validated unified social credit code, upper-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[schema(value_type = String, example = "91350100M000100Y43")]
pub struct CreditCode(String);

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters.
pub fn check_char(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value_of(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize] as char)
}

impl CreditCode {
    pub fn parse(s: &str) -> Result<Self, CreditCodeError> {
        let s = s.trim().to_ascii_uppercase();
        if s.chars().count() != 18 {
            return Err(CreditCodeError::Length);
        }
        let b = s.as_bytes();
        for ch in s.chars() {
            if !ch.is_ascii() || value_of(ch as u8).is_none() {
                return Err(CreditCodeError::Character(ch));
            }
        }
        let expected = check_char(&b[..17]).ok_or(CreditCodeError::Length)?;
        if expected as u8 != b[17] {
            return Err(CreditCodeError::Checksum);
        }
        Ok(CreditCode(s))
    }

    /// Completes 17 characters with their check character (used by the demo seed and tests).
    pub fn complete(first17: &str) -> Result<Self, CreditCodeError> {
        let up = first17.to_ascii_uppercase();
        let c = check_char(up.as_bytes()).ok_or(CreditCodeError::Length)?;
        CreditCode::parse(&format!("{up}{c}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit administrative division code embedded at positions 3 to 8.
    pub fn region_digits(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CreditCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_validate() {
        // Codes as published on business licences (check characters verified by hand).
        for code in ["91350100M000100Y43", "12100000400000624D"] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn rejects_bad_codes() {
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(CreditCodeError::Checksum)
        );
        assert_eq!(CreditCode::parse("123"), Err(CreditCodeError::Length));
        assert_eq!(
            CreditCode::parse("91350100M000100YI3"),
            Err(CreditCodeError::Character('I'))
        );
        assert!(CreditCode::parse("91350100M000100Y4３").is_err());
    }

    #[test]
    fn complete_appends_check() {
        let c = CreditCode::complete("91110108MA0000000").unwrap();
        assert_eq!(c.as_str().len(), 18);
        assert!(CreditCode::parse(c.as_str()).is_ok());
        assert_eq!(c.region_digits(), "110108");
        assert_eq!(
            CreditCode::parse(" 91350100m000100y43 ").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }
}
