//! Property tests of Chinese patent numbers: every accepted way of writing a valid number parses
//! to one canonical form, a changed digit or check character is refused, and no input panics.
use proptest::prelude::*;
use ttx_listings::patent::{check_char, PatentError, PatentNumber, PatentType};

const YEAR: u32 = 2026;

/// The digits of a valid application number: 12 (`YYYY T NNNNNNN`, 2003 to [`YEAR`]) or 8
/// (`YY T NNNNN`, 1985 to 2003).
fn digits() -> impl Strategy<Value = String> {
    let types = proptest::sample::select(vec!['1', '2', '3', '8', '9']);
    prop_oneof![
        (2003u32..=YEAR, types.clone(), 0u32..10_000_000)
            .prop_map(|(y, t, n)| format!("{y}{t}{n:07}")),
        (1985u32..=2003, types, 0u32..100_000)
            .prop_map(|(y, t, n)| format!("{:02}{t}{n:05}", y % 100)),
    ]
}

/// One of the accepted ways of writing application number `d.c`: with or without `CN` / `ZL`,
/// with or without the dot, spaces between groups, lower case.
fn written(d: &str, c: char, prefix: usize, dot: bool, spaced: bool, lower: bool) -> String {
    let prefix = ["", "CN", "ZL", "cn ", "ZL "][prefix];
    let body = if spaced && d.len() == 12 {
        format!("{} {} {}", &d[..4], &d[4..8], &d[8..])
    } else {
        d.to_string()
    };
    let s = format!("{prefix}{body}{}{c}", if dot { "." } else { "" });
    if lower {
        s.to_lowercase()
    } else {
        s
    }
}

proptest! {
    /// Every way of writing a valid application number parses to `digits.check`, of the kind
    /// its type digit says.
    #[test]
    fn valid_application_numbers_are_accepted(
        d in digits(), prefix in 0usize..5, dot: bool, spaced: bool, lower: bool
    ) {
        let c = check_char(d.as_bytes()).unwrap();
        let canonical = format!("{d}.{c}");
        prop_assert_eq!(PatentNumber::complete(&d), Some(canonical.clone()));
        let s = written(&d, c, prefix, dot, spaced, lower);
        let p = PatentNumber::parse(&s, YEAR);
        prop_assert!(p.is_ok(), "{} refused: {:?}", s, p);
        let p = p.unwrap();
        prop_assert_eq!(p.as_str(), canonical.as_str());
        prop_assert!(p.is_application());
        let type_digit = d.as_bytes()[if d.len() == 12 { 4 } else { 2 }];
        let kind = match type_digit {
            b'1' | b'8' => PatentType::Invention,
            b'2' | b'9' => PatentType::UtilityModel,
            _ => PatentType::Design,
        };
        prop_assert_eq!(p.kind(), kind);
        // The canonical form parses to itself.
        prop_assert_eq!(PatentNumber::parse(p.as_str(), YEAR), Ok(p.clone()));
    }

    /// Any other check character is refused with the expected one named.
    #[test]
    fn a_wrong_check_character_is_refused(d in digits(), other in proptest::sample::select("0123456789X".chars().collect::<Vec<_>>())) {
        let c = check_char(d.as_bytes()).unwrap();
        prop_assume!(other != c);
        prop_assert_eq!(
            PatentNumber::parse(&format!("{d}.{other}"), YEAR),
            Err(PatentError::CheckDigit { expected: c })
        );
    }

    /// Changing any one digit of a valid number (check character kept) is refused: the weights
    /// are all non-zero modulo 11.
    #[test]
    fn a_changed_digit_is_refused(d in digits(), pos in 0usize..12, by in 1u8..10) {
        let pos = pos % d.len();
        let c = check_char(d.as_bytes()).unwrap();
        let mut b = d.clone().into_bytes();
        b[pos] = b'0' + (b[pos] - b'0' + by) % 10;
        let mutated = String::from_utf8(b).unwrap();
        let s = format!("{mutated}.{c}");
        prop_assert!(PatentNumber::parse(&s, YEAR).is_err(), "{} accepted", s);
    }

    /// Publication numbers: `CN`, 7 to 9 digits and a kind code, any case.
    #[test]
    fn publication_numbers_are_accepted(n in "[0-9]{7,9}", code in proptest::sample::select(vec!['A', 'B', 'C', 'U', 'Y', 'S', 'D']), lower: bool) {
        let s = format!("CN{n}{code}");
        let input = if lower { s.to_lowercase() } else { s.clone() };
        let p = PatentNumber::parse(&input, YEAR).unwrap();
        prop_assert_eq!(p.as_str(), s.as_str());
        prop_assert!(!p.is_application());
    }

    /// No input panics; whatever parses has a canonical form that parses to the same number.
    #[test]
    fn patent_parsing_never_panics(s in "\\PC{0,20}", t in "(CN|ZL|cn)?[0-9X. ]{6,16}[A-Z]?") {
        for input in [&s, &t] {
            if let Ok(p) = PatentNumber::parse(input, YEAR) {
                prop_assert_eq!(PatentNumber::parse(p.as_str(), YEAR), Ok(p.clone()));
            }
            let _ = check_char(input.as_bytes());
            let _ = PatentNumber::complete(input);
        }
    }
}
