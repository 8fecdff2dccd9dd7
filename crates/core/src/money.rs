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

/// Parses an amount in 元 as a person types it into a form (`"12.50"`, `"１２.５"`), the one
/// parser of every `*_yuan` request field:
///
/// * plain decimal digits, at most 2 after the point (`"12"`, `"12.5"`, `"0.01"`); surrounding
///   whitespace is ignored;
/// * full-width digits and the full-width point (`"１２．５"`, as a Chinese input method gives
///   them) are read as their ASCII forms;
/// * refused: a sign (`"-1"`, `"+1"`), an exponent (`"1e3"`), grouping commas (`"1,234"`, which
///   some write for 1.234), a bare point (`"12."`, `".5"`), inner spaces, more than 2 decimals,
///   and amounts above [`MAX_INPUT_FEN`].
pub fn parse_yuan_input(input: &str) -> Result<Fen, MoneyError> {
    let s: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '\u{ff10}'..='\u{ff19}' => char::from(b'0' + (c as u32 - 0xff10) as u8),
            '\u{ff0e}' => '.',
            c => c,
        })
        .collect();
    if s.is_empty() {
        return Err(MoneyError::Empty);
    }
    if s.starts_with('-') {
        return Err(MoneyError::Negative);
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(MoneyError::Syntax);
    }
    let frac = frac.unwrap_or("");
    if frac.len() > 2 {
        return Err(MoneyError::TooPrecise);
    }
    let int_v: i64 = int.parse().map_err(|_| MoneyError::Overflow)?;
    let frac_v: i64 = format!("{frac:0<2}")
        .parse()
        .map_err(|_| MoneyError::Syntax)?;
    let total = int_v
        .checked_mul(100)
        .and_then(|v| v.checked_add(frac_v))
        .ok_or(MoneyError::Overflow)?;
    Fen::from_input_fen(total)
}

/// Reads an amount a request may give in fen (`{path}`, an integer) or in 元 (`{path}_yuan`, a
/// decimal string for [`parse_yuan_input`]). Neither: `None` (the caller says whether it was
/// required). Both: they must be the same amount, else a `amount_mismatch` error naming the
/// `_yuan` field. Errors go to `errs` under the field that holds the bad value.
pub fn fen_or_yuan(
    errs: &mut crate::FieldErrors,
    path: &str,
    fen: Option<i64>,
    yuan: Option<&str>,
) -> Option<Fen> {
    let yuan_path = format!("{path}_yuan");
    let from_fen = fen.and_then(|v| match Fen::from_input_fen(v) {
        Ok(f) => Some(f),
        Err(e) => {
            errs.add(path, "invalid_amount", e.to_string());
            None
        }
    });
    let from_yuan = yuan.and_then(|y| match parse_yuan_input(y) {
        Ok(f) => Some(f),
        Err(e) => {
            errs.add(&yuan_path, "invalid_amount", e.to_string());
            None
        }
    });
    match (from_fen, from_yuan) {
        (Some(a), Some(b)) if a != b => {
            errs.add(
                &yuan_path,
                "amount_mismatch",
                format!(
                    "{yuan_path} is {} 元 but {path} is {} fen ({} 元); give one of them",
                    b.to_yuan_string(),
                    a.0,
                    a.to_yuan_string()
                ),
            );
            None
        }
        (a, b) => a.or(b),
    }
}

/// [`fen_or_yuan`] for an amount that must be given: neither form is a `required` error
/// under `path`.
pub fn required_fen_or_yuan(
    errs: &mut crate::FieldErrors,
    path: &str,
    fen: Option<i64>,
    yuan: Option<&str>,
) -> Option<Fen> {
    if fen.is_none() && yuan.is_none() {
        errs.add(
            path,
            "required",
            format!("give the amount in fen ({path}) or in 元 ({path}_yuan)"),
        );
        return None;
    }
    fen_or_yuan(errs, path, fen, yuan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_yuan_is_strict_and_exact() {
        let ok = |s: &str| parse_yuan_input(s).unwrap();
        assert_eq!(ok("12.50"), Fen(1250));
        assert_eq!(ok("12.5"), Fen(1250));
        assert_eq!(ok(" 12 "), Fen(1200));
        assert_eq!(ok("0.01"), Fen(1));
        assert_eq!(ok("0"), Fen(0));
        assert_eq!(ok("007.10"), Fen(710));
        assert_eq!(ok("１２．５"), Fen(1250));
        assert_eq!(ok("10000000000000"), Fen(MAX_INPUT_FEN));
        let err = |s: &str| parse_yuan_input(s).unwrap_err();
        assert_eq!(err(""), MoneyError::Empty);
        assert_eq!(err("  "), MoneyError::Empty);
        assert_eq!(err("-1"), MoneyError::Negative);
        assert_eq!(err("12.345"), MoneyError::TooPrecise);
        assert_eq!(err("10000000000000.01"), MoneyError::Overflow);
        assert_eq!(err("99999999999999999999"), MoneyError::Overflow);
        for bad in [
            "+1",
            "1e3",
            "1E3",
            "1,234",
            "1，234",
            "12.",
            ".5",
            "1 2",
            "12.5元",
            "¥12",
            "0x10",
            "NaN",
            "inf",
            "1.2.3",
            "１２,５",
        ] {
            assert_eq!(err(bad), MoneyError::Syntax, "{bad}");
        }
    }

    #[test]
    fn fen_or_yuan_agree_or_name_the_field() {
        let mut e = crate::FieldErrors::new();
        assert_eq!(
            fen_or_yuan(&mut e, "price", Some(1250), None),
            Some(Fen(1250))
        );
        assert_eq!(
            fen_or_yuan(&mut e, "price", None, Some("12.50")),
            Some(Fen(1250))
        );
        assert_eq!(
            fen_or_yuan(&mut e, "price", Some(1250), Some("12.5")),
            Some(Fen(1250))
        );
        assert_eq!(fen_or_yuan(&mut e, "price", None, None), None);
        assert!(e.is_empty());
        assert_eq!(
            fen_or_yuan(&mut e, "price", Some(1250), Some("12.51")),
            None
        );
        assert_eq!(fen_or_yuan(&mut e, "budget.min", None, Some("1e3")), None);
        assert_eq!(fen_or_yuan(&mut e, "price", Some(-1), None), None);
        assert_eq!(required_fen_or_yuan(&mut e, "bid", None, None), None);
        let got: Vec<(&str, &str)> =
            e.0.iter()
                .map(|f| (f.field.as_str(), f.code.as_str()))
                .collect();
        assert_eq!(
            got,
            vec![
                ("price_yuan", "amount_mismatch"),
                ("budget.min_yuan", "invalid_amount"),
                ("price", "invalid_amount"),
                ("bid", "required"),
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn fen_to_yuan_string_and_back(fen in 0i64..=MAX_INPUT_FEN) {
            let s = Fen(fen).to_yuan_string();
            proptest::prop_assert_eq!(parse_yuan_input(&s), Ok(Fen(fen)));
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = parse_yuan_input(&s);
        }
    }

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
