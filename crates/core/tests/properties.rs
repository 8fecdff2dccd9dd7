//! Property tests of the parsers in `ttx-core`: money (元, 万元, capitals, separators), region
//! codes, unified social credit codes, text hygiene, contact checks and business dates. Each property runs 256
//! cases (proptest's default) or fewer.
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use proptest::prelude::*;
use ttx_core::capitals::{capitals, yuan_with_separators};
use ttx_core::credit_code::check_char;
use ttx_core::money::MAX_INPUT_FEN;
use ttx_core::region::parse_region_prefix;
use ttx_core::text::{clean, is_bidi_control, is_control, TextKind};
use ttx_core::validate::{is_email, is_phone};
use ttx_core::{CreditCode, Fen, FieldErrors, MoneyError, RegionCode};
use unicode_normalization::UnicodeNormalization;

/// Reads Chinese capitals back into fen: an independent inverse of [`capitals`] (digits and the
/// units 拾佰仟 inside a group of four; the group words 万, 亿, 万亿, 亿亿; then 整, 角, 分).
fn read_capitals(s: &str) -> Option<i128> {
    let (negative, s) = match s.strip_prefix('负') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let digit = |c: char| "零壹贰叁肆伍陆柒捌玖".chars().position(|d| d == c);
    let (yuan_part, rest) = match s.split_once('元') {
        Some((y, r)) => (y, r),
        None => ("", s),
    };
    let chars: Vec<char> = yuan_part.chars().collect();
    let (mut total, mut group, mut pending) = (0i128, 0i128, None::<i128>);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(d) = digit(c) {
            if pending.is_some() {
                return None; // two digits in a row
            }
            if d != 0 {
                pending = Some(d as i128);
            }
            i += 1;
            continue;
        }
        let small = match c {
            '拾' => Some(10),
            '佰' => Some(100),
            '仟' => Some(1000),
            _ => None,
        };
        if let Some(u) = small {
            group += pending.take()? * u;
            i += 1;
            continue;
        }
        let (exp, len) = match (c, chars.get(i + 1)) {
            ('万', Some('亿')) => (12, 2),
            ('亿', Some('亿')) => (16, 2),
            ('万', _) => (4, 1),
            ('亿', _) => (8, 1),
            _ => return None,
        };
        group += pending.take().unwrap_or(0);
        total += group * 10i128.pow(exp);
        group = 0;
        i += len;
    }
    total += group + pending.unwrap_or(0);
    let mut fen = total * 100;
    let rest: Vec<char> = rest.chars().collect();
    match rest.as_slice() {
        ['整'] => {}
        [j, '角'] => fen += digit(*j)? as i128 * 10,
        [j, '角', f, '分'] => fen += digit(*j)? as i128 * 10 + digit(*f)? as i128,
        ['零', f, '分'] if !yuan_part.is_empty() => fen += digit(*f)? as i128,
        [f, '分'] if yuan_part.is_empty() => fen += digit(*f)? as i128,
        _ => return None,
    }
    Some(if negative { -fen } else { fen })
}

/// Amounts spread over every magnitude, not only large ones.
fn any_fen() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        (0u32..19, any::<u64>()).prop_map(|(digits, n)| {
            let m = 10u64.pow(digits).max(1);
            (n % m) as i64
        }),
        (0u32..19, any::<u64>()).prop_map(|(digits, n)| {
            let m = 10u64.pow(digits).max(1);
            -((n % m) as i64)
        }),
        // Sparse amounts: few non-zero digits, many zeros (the hard case for 零).
        proptest::collection::vec((0u32..19, 1u64..10), 1..4).prop_map(|ds| {
            ds.iter().fold(0i64, |a, (p, d)| {
                a.saturating_add((*d * 10u64.pow(*p)) as i64)
            })
        }),
    ]
}

fn input_fen() -> impl Strategy<Value = i64> {
    prop_oneof![0..=MAX_INPUT_FEN, 0i64..1_000_000, Just(MAX_INPUT_FEN)]
}

/// A 17-character prefix of a credit code over its alphabet.
fn credit_prefix() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(b"0123456789ABCDEFGHJKLMNPQRTUWXY".to_vec()),
        17,
    )
    .prop_map(|v| String::from_utf8(v).unwrap())
}

fn any_region() -> impl Strategy<Value = RegionCode> {
    let all: Vec<RegionCode> = RegionCode::all().collect();
    proptest::sample::select(all)
}

/// Text mixing ordinary characters with the troublesome ones (controls, bidi, zero-width,
/// combining marks, CR LF, surrounding space).
fn messy_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[a-zA-Z0-9 ]{0,6}",
        3 => "[\u{4e00}-\u{4fff}]{0,4}",
        1 => proptest::sample::select(vec![
            "\u{0000}", "\u{0007}", "\u{001F}", "\u{007F}", "\u{0085}", "\n", "\t", "\r\n", "\r",
            "\u{202E}", "\u{2066}", "\u{200B}", "\u{200D}", "\u{FEFF}", "\u{00A0}", "\u{3000}",
            "e\u{0301}", "\u{0301}", "\u{2126}", "\u{FB01}", " ",
        ])
        .prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

proptest! {
    // ---- money ----

    /// Formatting in 元 and reading it back gives the same amount; so do 万元.
    #[test]
    fn yuan_and_wan_yuan_round_trip(f in input_fen()) {
        prop_assert_eq!(Fen::parse_yuan(&Fen(f).to_yuan_string()), Ok(Fen(f)));
        prop_assert_eq!(Fen::parse_wan_yuan(&Fen(f).to_wan_yuan_string()), Ok(Fen(f)));
        prop_assert_eq!(Fen::parse_yuan(&yuan_with_separators(Fen(f))), Ok(Fen(f)));
    }

    /// Integer 元 and decimals written any accepted way (separators, trailing zeros, `+`,
    /// surrounding space) parse to the exact amount.
    #[test]
    fn written_amounts_parse_exactly(yuan in 0i64..10_000_000_000_000, cents in 0i64..100, zeros in 0usize..4, plus: bool) {
        let fen = yuan * 100 + cents;
        let body = format!("{yuan}.{cents:02}{}", "0".repeat(zeros));
        let s = format!("  {}{body} ", if plus { "+" } else { "" });
        prop_assert_eq!(Fen::parse_yuan(&s), Ok(Fen(fen)));
        prop_assert_eq!(Fen::parse_yuan(&format!("{yuan}")), Ok(Fen(yuan * 100)));
    }

    /// More than two decimals of 元 that are not zeros are refused, never rounded.
    #[test]
    fn sub_fen_amounts_are_refused(yuan in 0i64..1_000_000, frac in 1u32..10, extra in 1usize..4) {
        let s = format!("{yuan}.00{}{frac}", "0".repeat(extra - 1));
        prop_assert_eq!(Fen::parse_yuan(&s), Err(MoneyError::TooPrecise));
    }

    /// Above the input bound is refused; negatives are refused.
    #[test]
    fn out_of_range_amounts_are_refused(f in (MAX_INPUT_FEN + 1)..i64::MAX, g in 1i64..i64::MAX) {
        prop_assert_eq!(Fen::parse_yuan(&Fen(f).to_yuan_string()), Err(MoneyError::Overflow));
        prop_assert_eq!(Fen::parse_yuan(&Fen(-g).to_yuan_string()), Err(MoneyError::Negative));
        prop_assert_eq!(Fen::from_input_fen(f), Err(MoneyError::Overflow));
    }

    /// Any string: an error or an amount within the input bounds, never a panic; what parses
    /// formats back to an equivalent string.
    #[test]
    fn money_parsing_never_panics(s in "\\PC{0,24}", t in "[-+0-9.,_ ]{0,24}") {
        for input in [&s, &t] {
            for f in [Fen::parse_yuan(input), Fen::parse_wan_yuan(input)]
                .into_iter()
                .flatten()
            {
                prop_assert!((0..=MAX_INPUT_FEN).contains(&f.0));
            }
            if let Ok(f) = Fen::parse_yuan(input) {
                prop_assert_eq!(Fen::parse_yuan(&f.to_yuan_string()), Ok(f));
            }
        }
    }

    /// Capitals read back to the amount, for every i64.
    #[test]
    fn capitals_read_back(f in any_fen()) {
        let c = capitals(Fen(f));
        prop_assert_eq!(read_capitals(&c), Some(f as i128), "{} -> {}", f, c);
    }

    /// The writing rules: one 零 at a time, none before 元 / a group word / the end, 整 only
    /// for whole amounts, 负 only for negatives.
    #[test]
    fn capitals_follow_the_writing_rules(f in any_fen()) {
        let c = capitals(Fen(f));
        prop_assert!(!c.contains("零零"), "{}", c);
        if f != 0 {
            prop_assert!(!c.contains("零元"), "{}", c);
            prop_assert!(!c.contains("零万") && !c.contains("零亿"), "{}", c);
        }
        prop_assert_eq!(c.ends_with('整'), f % 100 == 0, "{}", c);
        prop_assert_eq!(c.starts_with('负'), f < 0, "{}", c);
        prop_assert!(c.ends_with('整') || c.ends_with('角') || c.ends_with('分'));
    }

    /// Separators every three digits, two decimals.
    #[test]
    fn separators_group_by_three(f in any_fen()) {
        let s = yuan_with_separators(Fen(f));
        let s = s.strip_prefix('-').unwrap_or(&s);
        let (int, dec) = s.split_once('.').unwrap();
        prop_assert_eq!(dec.len(), 2);
        let groups: Vec<&str> = int.split(',').collect();
        prop_assert!(!groups[0].is_empty() && groups[0].len() <= 3);
        prop_assert!(groups[1..].iter().all(|g| g.len() == 3));
    }

    // ---- region codes ----

    /// Every code of the table parses from its 6-digit form (with surrounding space) to itself,
    /// and its prefixes are accepted as search prefixes.
    #[test]
    fn region_codes_round_trip(r in any_region()) {
        prop_assert_eq!(RegionCode::parse(&r.as_string()), Ok(r));
        prop_assert_eq!(RegionCode::parse(&format!(" {} ", r.as_string())), Ok(r));
        prop_assert_eq!(r.as_string().len(), 6);
        let json = serde_json::to_string(&r).unwrap();
        prop_assert_eq!(serde_json::from_str::<RegionCode>(&json).unwrap(), r);
        for p in r.prefixes() {
            prop_assert_eq!(parse_region_prefix(&p), Ok(p.clone()));
            prop_assert!(r.as_string().starts_with(&p));
        }
        prop_assert!(r.is_within(r.province()));
        for a in r.ancestors_and_self() {
            prop_assert!(r.is_within(a));
        }
    }

    /// Any six digits parse exactly when the table has them; anything else never parses and
    /// never panics.
    #[test]
    fn region_parsing_is_total(n in 0u32..1_000_000, s in "\\PC{0,10}") {
        let code = format!("{n:06}");
        let known = RegionCode::all().any(|r| r.code() == n);
        prop_assert_eq!(RegionCode::parse(&code).is_ok(), known);
        if let Ok(r) = RegionCode::parse(&s) {
            prop_assert_eq!(r.as_string(), s.trim());
        }
        let _ = parse_region_prefix(&s);
    }

    // ---- unified social credit codes ----

    /// A completed code parses (also lower case, with surrounding space) and keeps its form.
    #[test]
    fn credit_codes_complete_and_parse(p in credit_prefix()) {
        let c = CreditCode::complete(&p).unwrap();
        prop_assert_eq!(&c.as_str()[..17], p.as_str());
        prop_assert_eq!(CreditCode::parse(c.as_str()), Ok(c.clone()));
        prop_assert_eq!(CreditCode::parse(&format!(" {} ", c.as_str().to_ascii_lowercase())), Ok(c.clone()));
        prop_assert_eq!(check_char(p.as_bytes()), c.as_str().chars().last());
    }

    /// Changing any one character of a valid code to another allowed character is refused.
    #[test]
    fn credit_code_mutations_are_refused(p in credit_prefix(), pos in 0usize..18, by in 1usize..31) {
        let alphabet = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
        let c = CreditCode::complete(&p).unwrap();
        let mut b = c.as_str().as_bytes().to_vec();
        let i = alphabet.iter().position(|x| *x == b[pos]).unwrap();
        b[pos] = alphabet[(i + by) % 31];
        let mutated = String::from_utf8(b).unwrap();
        prop_assert!(CreditCode::parse(&mutated).is_err(), "{} accepted", mutated);
    }

    /// Swapping two different adjacent characters is refused too (the weights differ).
    #[test]
    fn credit_code_transpositions_are_refused(p in credit_prefix(), pos in 0usize..16) {
        let c = CreditCode::complete(&p).unwrap();
        let mut b = c.as_str().as_bytes().to_vec();
        prop_assume!(b[pos] != b[pos + 1]);
        b.swap(pos, pos + 1);
        let mutated = String::from_utf8(b).unwrap();
        prop_assert!(CreditCode::parse(&mutated).is_err(), "{} accepted", mutated);
    }

    /// Arbitrary input never panics; what parses is 18 characters of the alphabet.
    #[test]
    fn credit_code_parsing_never_panics(s in "\\PC{0,24}", t in "[0-9A-Za-z ]{16,20}") {
        for input in [&s, &t] {
            if let Ok(c) = CreditCode::parse(input) {
                prop_assert_eq!(c.as_str().len(), 18);
                prop_assert_eq!(CreditCode::parse(c.as_str()), Ok(c.clone()));
            }
            let _ = CreditCode::complete(input);
        }
    }

    // ---- text ----

    /// Cleaning is idempotent, its result is NFC and trimmed, without control characters (but
    /// newline and tab in long text) and without bidi controls in one-line text; it never panics.
    #[test]
    fn clean_text_is_clean(s in messy_text()) {
        for kind in [TextKind::Line, TextKind::Long] {
            match clean(&s, kind) {
                Ok(v) => {
                    prop_assert_eq!(clean(&v, kind), Ok(v.clone()));
                    prop_assert_eq!(v.nfc().collect::<String>(), v.clone());
                    prop_assert_eq!(v.trim(), v.as_str());
                    prop_assert!(!v.contains('\u{0}'), "NUL kept");
                    for c in v.chars() {
                        let allowed = kind == TextKind::Long && (c == '\n' || c == '\t');
                        prop_assert!(!is_control(c) || allowed, "{:?} kept in {:?}", c, v);
                        prop_assert!(kind == TextKind::Long || !is_bidi_control(c));
                    }
                }
                Err(e) => prop_assert!(
                    ["control_character", "bidi_control"].contains(&e.code),
                    "{:?}", e
                ),
            }
        }
    }

    /// A NUL anywhere is refused for every kind of text, never stored.
    #[test]
    fn nul_is_always_refused(a in "\\PC{0,8}", b in "\\PC{0,8}") {
        let s = format!("{a}\u{0}{b}");
        prop_assert!(clean(&s, TextKind::Line).is_err());
        prop_assert!(clean(&s, TextKind::Long).is_err());
        let mut e = FieldErrors::new();
        e.text("title", &s, 0, 200);
        e.opt_text("description", Some(&s), 5000);
        prop_assert_eq!(e.0.len(), 2);
        prop_assert!(e.0.iter().all(|x| x.code == "control_character"));
    }

    /// Ordinary printable text within the bounds is accepted as it is.
    #[test]
    fn plain_text_is_accepted(s in "[\u{4e00}-\u{9fa5}a-zA-Z0-9（）、，。：-]{4,200}") {
        let mut e = FieldErrors::new();
        let v = e.text("title", &s, 4, 200);
        prop_assert!(e.is_empty(), "{:?}", e);
        prop_assert_eq!(v, s);
    }

    /// The length bounds count characters of the cleaned value.
    #[test]
    fn text_bounds_count_characters(n in 0usize..40, min in 0usize..20, max in 20usize..30) {
        let s = format!("  {}  ", "字".repeat(n));
        let mut e = FieldErrors::new();
        e.text("f", &s, min, max);
        let code = e.0.first().map(|x| x.code.clone());
        let expected = if n < min {
            Some(if n == 0 { "required" } else { "too_short" })
        } else if n > max {
            Some("too_long")
        } else {
            None
        };
        prop_assert_eq!(code.as_deref(), expected);
    }

    // ---- contacts ----

    /// Mainland mobile numbers written in the usual ways are phones; the checks never panic.
    #[test]
    fn phones_and_emails(second in 3u8..=9, rest in "[0-9]{9}", s in "\\PC{0,30}", local in "[a-z0-9._]{1,20}", domain in "[a-z0-9]{1,10}\\.(cn|com|edu\\.cn)") {
        let mobile = format!("1{second}{rest}");
        prop_assert!(is_phone(&mobile));
        let spaced = format!("+86 {}-{}-{}", &mobile[..3], &mobile[3..7], &mobile[7..]);
        prop_assert!(is_phone(&spaced), "{}", spaced);
        let email = format!("{local}@{domain}");
        prop_assert!(is_email(&email), "{}", email);
        let spaced = format!("{local} @{domain}");
        prop_assert!(!is_email(&spaced), "{}", spaced);
        let _ = (is_phone(&s), is_email(&s));
    }

    // ---- dates ----

    /// The business date is the date at UTC+8: it turns at 16:00 UTC, whatever the instant.
    #[test]
    fn the_beijing_date_turns_at_16_utc(secs in -2_000_000_000i64..5_000_000_000) {
        let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
        let d = ttx_core::clock::beijing_date(t);
        prop_assert_eq!(d, (t + Duration::hours(8)).date_naive());
        let expected = if t.hour() >= 16 { t.date_naive().succ_opt().unwrap() } else { t.date_naive() };
        prop_assert_eq!(d, expected);
        // One second before the next Beijing midnight is still the same date.
        let midnight = d.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(8);
        prop_assert_eq!(ttx_core::clock::beijing_date(midnight - Duration::seconds(1)), d);
        prop_assert_eq!(ttx_core::clock::beijing_date(midnight), d.succ_opt().unwrap());
    }

    /// Dates in the API and the imports are `YYYY-MM-DD`: every date reads back from its JSON
    /// form; impossible days are refused; any string is a date or an error, never a panic.
    #[test]
    fn dates_read_back_and_impossible_days_are_refused(days in 0i64..60_000, y in 1985i32..2100, m in 1u32..=12, s in "\\PC{0,12}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}") {
        let d = NaiveDate::from_ymd_opt(1985, 1, 1).unwrap() + Duration::days(days);
        let json = serde_json::to_string(&d).unwrap();
        prop_assert_eq!(json.clone(), format!("\"{}\"", d.format("%Y-%m-%d")));
        prop_assert_eq!(serde_json::from_str::<NaiveDate>(&json).unwrap(), d);
        prop_assert_eq!(NaiveDate::parse_from_str(&d.to_string(), "%Y-%m-%d"), Ok(d));
        // The day after the last of a month does not exist.
        let first_next = if m == 12 { NaiveDate::from_ymd_opt(y + 1, 1, 1) } else { NaiveDate::from_ymd_opt(y, m + 1, 1) }.unwrap();
        let last = first_next.pred_opt().unwrap().day();
        let bad = format!("\"{y:04}-{m:02}-{:02}\"", last + 1);
        prop_assert!(serde_json::from_str::<NaiveDate>(&bad).is_err(), "{} accepted", bad);
        let month13 = format!("\"{y:04}-13-01\"");
        prop_assert!(serde_json::from_str::<NaiveDate>(&month13).is_err(), "{} accepted", month13);
        let _ = serde_json::from_str::<NaiveDate>(&format!("{s:?}"));
        let _ = NaiveDate::parse_from_str(&s, "%Y-%m-%d");
    }
}
