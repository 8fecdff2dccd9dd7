//! Chinese patent numbers (中国专利号), validated without any I/O.
//!
//! Two kinds of numbers identify a Chinese patent:
//!
//! - the **application number** (申请号, also written 专利号 with a `ZL` prefix once granted):
//!   since 1 October 2003 twelve digits `YYYY T NNNNNNN` — year, type, serial — then a dot and
//!   a check character (`202310123456.7`); before that eight digits `YY T NNNNN` and a check
//!   character (`97123456.X`). The check character is the weighted sum of the digits modulo 11
//!   (weights 2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5), `X` standing for 10. The type digit is 1
//!   (invention), 2 (utility model), 3 (design), 8 (PCT invention) or 9 (PCT utility model).
//! - the **publication number** (公开 / 公告号): `CN`, seven to nine digits and a kind code:
//!   `A` / `B` / `C` for inventions (application published / granted / old grant), `U` / `Y`
//!   for utility models, `S` / `D` for designs (`CN115123456B`).
use std::fmt;

const WEIGHTS: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];

/// The kind of patent a number belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatentType {
    Invention,
    UtilityModel,
    Design,
}

impl PatentType {
    pub fn zh(&self) -> &'static str {
        match self {
            PatentType::Invention => "发明专利",
            PatentType::UtilityModel => "实用新型专利",
            PatentType::Design => "外观设计专利",
        }
    }

    fn of_type_digit(d: u8) -> Option<PatentType> {
        match d {
            b'1' | b'8' => Some(PatentType::Invention),
            b'2' | b'9' => Some(PatentType::UtilityModel),
            b'3' => Some(PatentType::Design),
            _ => None,
        }
    }

    fn of_kind_code(c: u8) -> Option<PatentType> {
        match c {
            b'A' | b'B' | b'C' => Some(PatentType::Invention),
            b'U' | b'Y' => Some(PatentType::UtilityModel),
            b'S' | b'D' => Some(PatentType::Design),
            _ => None,
        }
    }
}

/// A valid Chinese patent number in canonical form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatentNumber {
    canonical: String,
    kind: PatentType,
    is_application: bool,
}

/// Why a string is not a valid Chinese patent number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PatentError {
    #[error("not a Chinese patent number: use an application number such as 202310123456.7 (optionally with CN or ZL) or a publication number such as CN115123456B")]
    Format,
    #[error("the check character of the application number is wrong (expected {expected})")]
    CheckDigit { expected: char },
    #[error("the year {0} in the application number is not possible")]
    Year(u32),
    #[error("the type digit {0} in the application number is not 1, 2, 3, 8 or 9")]
    TypeDigit(char),
    #[error("publication kind code {0} is not one of A, B, C, U, Y, S, D")]
    KindCode(char),
}

/// The check character of the digits of an application number (8 or 12 digits).
pub fn check_char(digits: &[u8]) -> Option<char> {
    if !(digits.len() == 8 || digits.len() == 12) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(match sum % 11 {
        10 => 'X',
        r => char::from(b'0' + r as u8),
    })
}

impl PatentNumber {
    /// Parses an application or publication number. Spaces are ignored; letters may be lower
    /// case. `current_year` bounds the year of an application number.
    pub fn parse(input: &str, current_year: u32) -> Result<PatentNumber, PatentError> {
        let s: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase();
        if !s.is_ascii() || s.is_empty() {
            return Err(PatentError::Format);
        }
        // Publication number: CN + digits + kind letter.
        if let Some(rest) = s.strip_prefix("CN") {
            let rb = rest.as_bytes();
            if rb.len() >= 8 && rb[rb.len() - 1].is_ascii_alphabetic() {
                let digits = &rb[..rb.len() - 1];
                let code = rb[rb.len() - 1];
                // `CN` + 8 digits + `X` is an old application number whose check character is
                // X (`CN97123456X`), not a publication number with a kind code X.
                let old_application = digits.len() == 8 && code == b'X';
                if (7..=9).contains(&digits.len())
                    && digits.iter().all(u8::is_ascii_digit)
                    && !old_application
                {
                    let kind = PatentType::of_kind_code(code)
                        .ok_or(PatentError::KindCode(char::from(code)))?;
                    return Ok(PatentNumber {
                        canonical: s.clone(),
                        kind,
                        is_application: false,
                    });
                }
            }
        }
        let body = s
            .strip_prefix("CN")
            .or_else(|| s.strip_prefix("ZL"))
            .unwrap_or(&s);
        let body = body.as_bytes();
        let (digits, check) = match body.iter().position(|c| *c == b'.') {
            Some(dot) if dot + 2 == body.len() => (&body[..dot], body[dot + 1]),
            Some(_) => return Err(PatentError::Format),
            None if body.len() == 9 || body.len() == 13 => {
                (&body[..body.len() - 1], body[body.len() - 1])
            }
            None => return Err(PatentError::Format),
        };
        if !(digits.len() == 8 || digits.len() == 12)
            || !digits.iter().all(u8::is_ascii_digit)
            || !(check.is_ascii_digit() || check == b'X')
        {
            return Err(PatentError::Format);
        }
        let num = |r: std::ops::Range<usize>| -> u32 {
            std::str::from_utf8(&digits[r])
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0)
        };
        let (year, type_digit) = if digits.len() == 12 {
            (num(0..4), digits[4])
        } else {
            let yy = num(0..2);
            (if yy >= 85 { 1900 + yy } else { 2000 + yy }, digits[2])
        };
        // The 12-digit format started in October 2003; the 8-digit one ran 1985-2003.
        let valid_year = if digits.len() == 12 {
            (2003..=current_year).contains(&year)
        } else {
            (1985..=2004).contains(&year)
        };
        if !valid_year {
            return Err(PatentError::Year(year));
        }
        let kind = PatentType::of_type_digit(type_digit)
            .ok_or(PatentError::TypeDigit(char::from(type_digit)))?;
        let expected = check_char(digits).ok_or(PatentError::Format)?;
        if expected as u8 != check {
            return Err(PatentError::CheckDigit { expected });
        }
        Ok(PatentNumber {
            canonical: format!(
                "{}.{}",
                std::str::from_utf8(digits).unwrap_or_default(),
                char::from(check)
            ),
            kind,
            is_application: true,
        })
    }

    /// Canonical form: `202310123456.7` for application numbers, `CN115123456B` for
    /// publication numbers.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The kind of patent the number denotes.
    pub fn kind(&self) -> PatentType {
        self.kind
    }

    pub fn is_application(&self) -> bool {
        self.is_application
    }

    /// Completes 8 or 12 digits with their check character (demo data, tests).
    pub fn complete(digits: &str) -> Option<String> {
        let c = check_char(digits.as_bytes())?;
        Some(format!("{digits}.{c}"))
    }
}

impl fmt::Display for PatentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<PatentNumber, PatentError> {
        PatentNumber::parse(s, 2026)
    }

    #[test]
    fn check_character_follows_the_weights() {
        // 2*2+0*3+2*4+3*5+1*6+0*7+1*8+2*9+3*2+4*3+5*4+6*5 = 127 = 11*11 + 6
        assert_eq!(check_char(b"202310123456"), Some('6'));
        // A sum of 10 modulo 11 is written X.
        let x = (0..1000u32)
            .map(|n| format!("20201{n:07}"))
            .find(|d| check_char(d.as_bytes()) == Some('X'))
            .expect("some serial gives X");
        assert!(parse(&format!("{x}.X")).is_ok());
        assert_eq!(check_char(b"12345"), None);
    }

    /// Found by the property tests (`tests/patent_properties.rs`): an 8-digit application
    /// number whose check character is X, written with `CN` and without the dot, was taken for
    /// a publication number with kind code X and refused.
    #[test]
    fn cn_and_an_old_application_number_ending_in_x() {
        let d = (0..100_000u32)
            .map(|n| format!("971{n:05}"))
            .find(|d| check_char(d.as_bytes()) == Some('X'))
            .expect("some serial gives X");
        let canonical = format!("{d}.X");
        for s in [
            format!("CN{d}X"),
            format!("cn{d}x"),
            format!("CN {d}X"),
            format!("{d}X"),
            format!("CN{d}.X"),
        ] {
            assert_eq!(
                parse(&s).map(|p| p.as_str().to_string()),
                Ok(canonical.clone()),
                "{s}"
            );
        }
        // Publication numbers keep their kind codes, and X is none.
        assert!(parse(&format!("CN{d}B")).is_ok_and(|p| !p.is_application()));
        assert_eq!(parse("CN1234567X"), Err(PatentError::KindCode('X')));
    }

    #[test]
    fn application_numbers() {
        let p = parse("CN202310123456.6").unwrap();
        assert_eq!(p.as_str(), "202310123456.6");
        assert_eq!(p.kind(), PatentType::Invention);
        assert!(p.is_application());
        assert_eq!(parse("202310123456.6").unwrap(), p);
        assert_eq!(parse("ZL 2023 1012 3456.6").unwrap(), p);
        assert_eq!(parse("2023101234566").unwrap(), p);
        assert_eq!(
            parse("CN202310123456.7"),
            Err(PatentError::CheckDigit { expected: '6' })
        );
        let um = PatentNumber::complete("202320123456").unwrap();
        assert_eq!(parse(&um).unwrap().kind(), PatentType::UtilityModel);
        let d = PatentNumber::complete("202130123456").unwrap();
        assert_eq!(parse(&d).unwrap().kind(), PatentType::Design);
        let bad_type = PatentNumber::complete("202350123456").unwrap();
        assert_eq!(parse(&bad_type), Err(PatentError::TypeDigit('5')));
        let future = PatentNumber::complete("203010123456").unwrap();
        assert_eq!(parse(&future), Err(PatentError::Year(2030)));
    }

    #[test]
    fn old_eight_digit_numbers() {
        let old = PatentNumber::complete("97123456").unwrap();
        let p = parse(&format!("CN{old}")).unwrap();
        assert_eq!(p.kind(), PatentType::Invention);
        assert_eq!(p.as_str(), old);
        let bad = format!(
            "{}{}",
            &old[..old.len() - 1],
            if old.ends_with('0') { '1' } else { '0' }
        );
        assert!(matches!(parse(&bad), Err(PatentError::CheckDigit { .. })));
        let not_a_year = PatentNumber::complete("50123456").unwrap();
        assert_eq!(parse(&not_a_year), Err(PatentError::Year(2050)));
    }

    #[test]
    fn publication_numbers() {
        let p = parse("CN115123456B").unwrap();
        assert_eq!(p.kind(), PatentType::Invention);
        assert!(!p.is_application());
        assert_eq!(
            parse("cn 215123456 u").unwrap().kind(),
            PatentType::UtilityModel
        );
        assert_eq!(parse("CN306123456S").unwrap().kind(), PatentType::Design);
        assert_eq!(parse("CN1234567A").unwrap().as_str(), "CN1234567A");
        assert_eq!(parse("CN115123456Q"), Err(PatentError::KindCode('Q')));
    }

    #[test]
    fn garbage() {
        for s in [
            "",
            "abc",
            "US10123456B2",
            "2023101234.6",
            "202310123456.",
            "202310123456.66",
            "CN12B",
            "二〇二三",
        ] {
            assert!(parse(s).is_err(), "{s}");
        }
    }
}
