//! Money in integer fen (分). Parsing of 元 and 万元 input is exact: no floating point anywhere.
use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in fen (1 元 = 100 fen). Signed, because ledger deltas can be negative.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = i64, example = 1250000)]
pub struct Fen(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is empty")]
    Empty,
    #[error("amount must be a plain decimal number such as 12.50")]
    Syntax,
    #[error("amount has more decimal places than a fen allows")]
    TooPrecise,
    #[error("amount is too large")]
    Overflow,
    #[error("amount must not be negative")]
    Negative,
}

/// Largest amount accepted from input: 10^15 fen (10 万亿元), far above any real contract.
pub const MAX_INPUT_FEN: i64 = 1_000_000_000_000_000;

impl Fen {
    pub const ZERO: Fen = Fen(0);

    pub fn new(fen: i64) -> Self {
        Fen(fen)
    }
    pub fn fen(&self) -> i64 {
        self.0
    }

    /// A non-negative input amount in fen, bounded by [`MAX_INPUT_FEN`].
    pub fn from_input_fen(fen: i64) -> Result<Self, MoneyError> {
        if fen < 0 {
            Err(MoneyError::Negative)
        } else if fen > MAX_INPUT_FEN {
            Err(MoneyError::Overflow)
        } else {
            Ok(Fen(fen))
        }
    }

    /// Parses 元 such as `"12"`, `"12.5"`, `"1,234.56"` exactly (at most 2 decimals).
    pub fn parse_yuan(s: &str) -> Result<Self, MoneyError> {
        parse_scaled(s, 2)
    }

    /// Parses 万元 such as `"1.5"` (= 15,000 元) exactly (at most 6 decimals).
    pub fn parse_wan_yuan(s: &str) -> Result<Self, MoneyError> {
        parse_scaled(s, 6)
    }

    pub fn checked_add(self, o: Fen) -> Option<Fen> {
        self.0.checked_add(o.0).map(Fen)
    }
    pub fn checked_sub(self, o: Fen) -> Option<Fen> {
        self.0.checked_sub(o.0).map(Fen)
    }

    /// 元 with two decimals, e.g. `"12345.60"`.
    pub fn to_yuan_string(&self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }

    /// 万元 with six decimals, e.g. `"1.234560"`.
    pub fn to_wan_yuan_string(&self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:06}", a / 1_000_000, a % 1_000_000)
    }
}

/// Parses a non-negative decimal with at most `decimals` fraction digits and scales it so the
/// result is in fen: 元 has 2 decimals of fen, 万元 has 6.
fn parse_scaled(input: &str, decimals: u32) -> Result<Fen, MoneyError> {
    let s: String = input
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    if s.is_empty() {
        return Err(MoneyError::Empty);
    }
    if s.starts_with('-') {
        return Err(MoneyError::Negative);
    }
    let s = s.strip_prefix('+').unwrap_or(&s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return Err(MoneyError::Syntax);
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(MoneyError::Syntax);
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() as u32 > decimals {
        return Err(MoneyError::TooPrecise);
    }
    let scale = 10i64.pow(decimals);
    let int_v: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| MoneyError::Overflow)?
    };
    let mut frac_v: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| MoneyError::Syntax)?
    };
    frac_v *= 10i64.pow(decimals - frac.len() as u32);
    let total = int_v
        .checked_mul(scale)
        .and_then(|v| v.checked_add(frac_v))
        .ok_or(MoneyError::Overflow)?;
    Fen::from_input_fen(total)
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} 元", self.to_yuan_string())
    }
}

impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, o: Fen) -> Fen {
        Fen(self.0 + o.0)
    }
}

impl std::ops::Sub for Fen {
    type Output = Fen;
    fn sub(self, o: Fen) -> Fen {
        Fen(self.0 - o.0)
    }
}

impl std::ops::Neg for Fen {
    type Output = Fen;
    fn neg(self) -> Fen {
        Fen(-self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_is_exact() {
        assert_eq!(Fen::parse_yuan("12").unwrap(), Fen(1200));
        assert_eq!(Fen::parse_yuan("12.5").unwrap(), Fen(1250));
        assert_eq!(Fen::parse_yuan("0.01").unwrap(), Fen(1));
        assert_eq!(Fen::parse_yuan("1,234,567.89").unwrap(), Fen(123_456_789));
        assert_eq!(Fen::parse_yuan(".5").unwrap(), Fen(50));
        assert_eq!(Fen::parse_yuan("3.10").unwrap(), Fen(310));
        // 0.1 + 0.2 style float traps are impossible
        assert_eq!(Fen::parse_yuan("0.29").unwrap(), Fen(29));
        assert_eq!(Fen::parse_yuan("12.345"), Err(MoneyError::TooPrecise));
        assert_eq!(Fen::parse_yuan("-1"), Err(MoneyError::Negative));
        assert_eq!(Fen::parse_yuan("1e5"), Err(MoneyError::Syntax));
        assert_eq!(Fen::parse_yuan(""), Err(MoneyError::Empty));
        assert_eq!(Fen::parse_yuan("."), Err(MoneyError::Syntax));
        assert_eq!(
            Fen::parse_yuan("99999999999999999999"),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn wan_yuan_is_exact() {
        assert_eq!(Fen::parse_wan_yuan("1").unwrap(), Fen(1_000_000));
        assert_eq!(Fen::parse_wan_yuan("1.5").unwrap(), Fen(1_500_000));
        assert_eq!(Fen::parse_wan_yuan("0.000001").unwrap(), Fen(1));
        // the national 2023 total from the yearbook: 614,756,578 万元
        assert_eq!(
            Fen::parse_wan_yuan("614756578").unwrap(),
            Fen(614_756_578_000_000)
        );
        assert_eq!(
            Fen::parse_wan_yuan("0.0000001"),
            Err(MoneyError::TooPrecise)
        );
    }

    #[test]
    fn formats() {
        assert_eq!(Fen(123456).to_yuan_string(), "1234.56");
        assert_eq!(Fen(-5).to_yuan_string(), "-0.05");
        assert_eq!(Fen(1_234_560).to_wan_yuan_string(), "1.234560");
        assert_eq!(serde_json::to_string(&Fen(42)).unwrap(), "42");
    }
}
