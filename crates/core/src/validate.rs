//! Field-level validation errors, gathered so a client sees every problem at once.
use crate::text::TextKind;
use serde::{Deserialize, Serialize};

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `price.min` or `keywords[2]`.
    pub field: String,
    /// Stable machine code, e.g. `required`, `too_long`, `invalid_region`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }
    /// The same error reported under another field name (e.g. a nested path).
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

/// An accumulator of field errors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    pub fn add(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, code, message));
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Keeps the value of a result, recording its error under `field`.
    pub fn take<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        code: &str,
        r: Result<T, E>,
    ) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, code, e.to_string());
                None
            }
        }
    }
    /// A cleaned string ([`crate::text::clean`]: NFC, trimmed, no control characters, no bidi
    /// overrides in one-line text) whose length in characters is within bounds. Fields allowed
    /// more than [`TextKind::LONG_ABOVE`] characters are long text (newlines and tabs kept).
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let v = match self.clean(field, value, max) {
            Some(v) => v,
            None => return String::new(),
        };
        let n = v.chars().count();
        if n < min {
            if n == 0 {
                self.add(field, "required", "must not be empty");
            } else {
                self.add(
                    field,
                    "too_short",
                    format!("must be at least {min} characters"),
                );
            }
        } else if n > max {
            self.add(
                field,
                "too_long",
                format!("must be at most {max} characters"),
            );
        }
        v
    }
    /// An optional cleaned string (see [`FieldErrors::text`]); empty becomes `None`.
    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        let v = self.clean(field, value?, max)?;
        if v.is_empty() {
            return None;
        }
        if v.chars().count() > max {
            self.add(
                field,
                "too_long",
                format!("must be at most {max} characters"),
            );
        }
        Some(v)
    }
    /// Runs the shared text check, recording its error under `field`.
    fn clean(&mut self, field: &str, value: &str, max: usize) -> Option<String> {
        match crate::text::clean(value, TextKind::for_max(max)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.code, e.message);
                None
            }
        }
    }
    /// Finishes validation: `Ok(value)` when no error was recorded.
    pub fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
    pub fn into_result(self) -> Result<(), FieldErrors> {
        self.finish(())
    }
}

impl From<FieldError> for FieldErrors {
    fn from(e: FieldError) -> Self {
        FieldErrors(vec![e])
    }
}

/// A plausible e-mail address (one `@`, a dot in the domain, no spaces, at most 254 chars).
pub fn is_email(s: &str) -> bool {
    let s = s.trim();
    if s.len() > 254 || s.contains(char::is_whitespace) {
        return false;
    }
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// A mainland mobile (1[3-9]xxxxxxxxx) or a landline with area code (0xx-xxxxxxx).
pub fn is_phone(s: &str) -> bool {
    let digits: String = s
        .trim()
        .trim_start_matches("+86")
        .chars()
        .filter(|c| *c != '-' && *c != ' ')
        .collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let mobile = digits.len() == 11 && digits.starts_with('1') && digits.as_bytes()[1] >= b'3';
    let landline = digits.starts_with('0') && (10..=12).contains(&digits.len());
    mobile || landline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathers_errors() {
        let mut e = FieldErrors::new();
        let t = e.text("title", "  ab ", 3, 10);
        assert_eq!(t, "ab");
        e.text("name", "", 1, 10);
        e.text("summary", &"字".repeat(11), 1, 10);
        let errs = e.finish(()).unwrap_err();
        let codes: Vec<_> = errs
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("title", "too_short"),
                ("name", "required"),
                ("summary", "too_long")
            ]
        );
    }

    #[test]
    fn contacts() {
        assert!(is_email("li.wei@tsinghua.edu.cn"));
        assert!(!is_email("li wei@x.cn"));
        assert!(!is_email("nobody"));
        assert!(!is_email("a@b"));
        assert!(is_phone("13812345678"));
        assert!(is_phone("+86 138-1234-5678"));
        assert!(is_phone("010-62781234"));
        assert!(!is_phone("12345"));
        assert!(!is_phone("1281234567x"));
    }
}
