//! Serde's error messages said in words a user understands.
//!
//! A request body of the wrong shape fails in serde with messages written for programmers
//! ("invalid type: string \"x\", expected internally tagged enum Price", "unknown variant
//! `fixd`, expected one of `fixed`, `range`"). [`explain`] turns the common ones into a stable
//! field-error code and a plain sentence; the field itself is named by the caller (the JSON path).
//!
//! | serde says | code | message |
//! |---|---|---|
//! | missing field `x` | `required` | is required |
//! | unknown variant `v`, expected one of … | `invalid_choice` | "v" is not one of: a, b, c |
//! | unknown field `f`, expected … | `unknown_field` | "f" is not a field here; expected one of: … |
//! | invalid type: T, expected E | `invalid_type` | must be E, not T |
//! | invalid value: V, expected E | `invalid_value` | V is not allowed: must be E |
//! | invalid length N, expected E | `invalid_length` | has N items: must have E |
//! | a date or time that does not parse | `invalid_date` | is not a valid date (YYYY-MM-DD) |

/// A field error code and message for a serde data error (`msg` without serde_json's
/// " at line … column …" suffix).
pub fn explain(msg: &str) -> (&'static str, String) {
    if let Some(f) = between(msg, "missing field `", "`") {
        return ("required", format!("{f} is required"));
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed = backticked(expected);
        return if allowed.is_empty() {
            (
                "invalid_choice",
                format!("\"{value}\" is not an allowed value"),
            )
        } else {
            (
                "invalid_choice",
                format!("\"{value}\" is not one of: {}", allowed.join(", ")),
            )
        };
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed = backticked(expected);
        return if allowed.is_empty() {
            ("unknown_field", format!("\"{name}\" is not a field here"))
        } else {
            (
                "unknown_field",
                format!(
                    "\"{name}\" is not a field here; expected one of: {}",
                    allowed.join(", ")
                ),
            )
        };
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            "invalid_type",
            format!(
                "must be {}, not {}",
                expected_words(expected),
                got_words(got)
            ),
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            "invalid_value",
            format!(
                "{} is not allowed: must be {}",
                got_words(got),
                expected_words(expected)
            ),
        );
    }
    if let Some(rest) = msg.strip_prefix("invalid length ") {
        let (n, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            "invalid_length",
            format!("has {n} items: must have {}", expected_words(expected)),
        );
    }
    // chrono's parse errors (dates and times given as strings).
    if [
        "input contains invalid characters",
        "premature end of input",
        "trailing input",
        "input is out of range",
        "input is not enough for unique date and time",
        "no possible date and time matching input",
        "impossible",
    ]
    .iter()
    .any(|m| msg.starts_with(m))
    {
        return (
            "invalid_date",
            "is not a valid date or time (a date is YYYY-MM-DD, a time RFC 3339 such as 2026-11-29T08:00:00+08:00)"
                .to_string(),
        );
    }
    ("invalid", msg.to_string())
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = s.strip_prefix(start)?;
    rest.split(end).next()
}

/// The backticked names in "expected one of `a`, `b`" / "expected `a` or `b`".
fn backticked(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

/// What serde got, in words ("string \"abc\"" → the text "abc").
fn got_words(got: &str) -> String {
    let got = got.trim();
    if let Some(s) = got.strip_prefix("string ") {
        return format!("the text {s}");
    }
    for (prefix, what) in [
        ("integer `", "the number "),
        ("floating point `", "the number "),
        ("boolean `", ""),
    ] {
        if let Some(rest) = got.strip_prefix(prefix) {
            return format!("{what}{}", rest.trim_end_matches('`'));
        }
    }
    match got {
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        "null" => "null".into(),
        "unit value" => "null".into(),
        other => other.to_string(),
    }
}

/// What serde expected, in words.
fn expected_words(expected: &str) -> String {
    let e = expected.trim();
    if let Some(name) = e
        .strip_prefix("internally tagged enum ")
        .or_else(|| e.strip_prefix("adjacently tagged enum "))
    {
        return format!("an object with a \"kind\" naming its variant ({name})");
    }
    if let Some(name) = e.strip_prefix("struct ") {
        return format!("an object ({name})");
    }
    if let Some(name) = e.strip_prefix("enum ") {
        return format!("one of the allowed codes ({name})");
    }
    if let Some(name) = e.strip_prefix("tuple struct ") {
        return format!("a value of type {name}");
    }
    match e {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".into(),
        "u8" => "a whole number from 0 to 255".into(),
        "u16" => "a whole number from 0 to 65535".into(),
        "u32" | "u64" | "u128" | "usize" => "a whole number, not negative".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" | "bool" => "true or false".into(),
        "a string" | "string" => "a text string".into(),
        "a sequence" => "a list".into(),
        "a map" => "an object".into(),
        "a character" | "char" => "a single character".into(),
        "" => "something else".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_serde_errors_in_plain_words() {
        assert_eq!(
            explain("missing field `title`"),
            ("required", "title is required".to_string())
        );
        let (code, m) =
            explain("unknown variant `fixd`, expected one of `fixed`, `range`, `negotiable`");
        assert_eq!(code, "invalid_choice");
        assert_eq!(m, "\"fixd\" is not one of: fixed, range, negotiable");
        let (code, m) = explain("unknown variant `x`, expected `a` or `b`");
        assert_eq!(
            (code, m.as_str()),
            ("invalid_choice", "\"x\" is not one of: a, b")
        );
        let (code, m) =
            explain("invalid type: string \"面议\", expected internally tagged enum Price");
        assert_eq!(code, "invalid_type");
        assert_eq!(
            m,
            "must be an object with a \"kind\" naming its variant (Price), not the text \"面议\""
        );
        assert!(!m.contains("internally tagged"));
        let (code, m) = explain("invalid type: string \"7\", expected u8");
        assert_eq!(code, "invalid_type");
        assert_eq!(
            m,
            "must be a whole number from 0 to 255, not the text \"7\""
        );
        let (code, m) = explain("invalid type: integer `3`, expected a string");
        assert_eq!(
            (code, m.as_str()),
            ("invalid_type", "must be a text string, not the number 3")
        );
        let (code, m) = explain("invalid type: map, expected a sequence");
        assert_eq!(
            (code, m.as_str()),
            ("invalid_type", "must be a list, not an object")
        );
        let (code, m) = explain("invalid value: integer `-5`, expected u64");
        assert_eq!(code, "invalid_value");
        assert_eq!(
            m,
            "the number -5 is not allowed: must be a whole number, not negative"
        );
        let (code, m) = explain("unknown field `feild`, expected one of `field`, `title`");
        assert_eq!(code, "unknown_field");
        assert_eq!(
            m,
            "\"feild\" is not a field here; expected one of: field, title"
        );
        let (code, _) = explain("input contains invalid characters");
        assert_eq!(code, "invalid_date");
        assert_eq!(explain("something odd").0, "invalid");
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Price {
        Fixed { amount: i64 },
        Negotiable,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        Transfer,
        License,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        price: Price,
        modes: Vec<Mode>,
    }

    #[test]
    fn request_bodies_name_the_field_in_plain_words() {
        use crate::extract::parse_json;
        let e =
            parse_json::<Body>(br#"{"title":"x","price":"\u9762\u8bae","modes":[]}"#).unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
        let fe = &e.errors[0];
        assert_eq!(fe.field, "price");
        assert_eq!(fe.code, "invalid_type");
        assert!(!fe.message.contains("internally tagged"), "{}", fe.message);
        assert!(fe.message.contains("\"kind\""), "{}", fe.message);

        let e =
            parse_json::<Body>(br#"{"title":"x","price":{"kind":"fixd"},"modes":[]}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "price.kind");
        assert_eq!(e.errors[0].code, "invalid_choice");
        assert!(
            e.errors[0].message.contains("fixed, negotiable"),
            "{}",
            e.errors[0].message
        );

        let e = parse_json::<Body>(
            br#"{"title":"x","price":{"kind":"negotiable"},"modes":["transfer","lease"]}"#,
        )
        .unwrap_err();
        assert_eq!(e.errors[0].field, "modes[1]");
        assert_eq!(e.errors[0].code, "invalid_choice");
        assert_eq!(
            e.errors[0].message,
            "\"lease\" is not one of: transfer, license"
        );

        let e = parse_json::<Body>(br#"{"title":7,"price":{"kind":"negotiable"},"modes":[]}"#)
            .unwrap_err();
        assert_eq!(e.errors[0].field, "title");
        assert_eq!(
            e.errors[0].message,
            "must be a text string, not the number 7"
        );

        let e = parse_json::<Body>(br#"{"price":{"kind":"negotiable"},"modes":[]}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "title");
        assert_eq!(e.errors[0].code, "required");
    }
}
