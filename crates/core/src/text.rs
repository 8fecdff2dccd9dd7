//! Text input hygiene, in one place: every free-text value of a request passes through [`clean`]
//! (through `FieldErrors::text` / `opt_text` and the keyword lists).
//!
//! - NFC normalisation, then surrounding white space trimmed;
//! - control characters (U+0000–U+001F, U+007F, U+0080–U+009F) refused, except newline and tab in
//!   long text (a CR LF pair becomes a newline there); a NUL is refused everywhere (PostgreSQL
//!   cannot store it);
//! - in single-line text (names, titles, e-mails, short labels): bidirectional embeddings,
//!   overrides and isolates (U+202A–U+202E, U+2066–U+2069) refused, and a value made only of
//!   invisible characters (zero-width spaces, joiners, BOM, …) counts as empty.
use unicode_normalization::UnicodeNormalization;

/// What kind of text a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A name, title or other one-line value.
    Line,
    /// A description or note: newlines and tabs are kept.
    Long,
}

impl TextKind {
    /// Fields allowed more than this many characters are long text.
    pub const LONG_ABOVE: usize = 300;

    /// The kind of a field from its maximum length.
    pub fn for_max(max: usize) -> TextKind {
        if max > Self::LONG_ABOVE {
            TextKind::Long
        } else {
            TextKind::Line
        }
    }
}

/// Why a text value was refused: a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub code: &'static str,
    pub message: String,
}

/// A C0 / DEL / C1 control character.
pub fn is_control(c: char) -> bool {
    matches!(c, '\u{0000}'..='\u{001F}' | '\u{007F}' | '\u{0080}'..='\u{009F}')
}

/// A bidirectional embedding, override or isolate.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A character that shows nothing: white space, zero-width and format characters.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

fn describe(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// Normalises (NFC, trimmed) and checks a value. `Ok("")` means the value is empty or shows
/// nothing; the caller decides whether that is allowed.
pub fn clean(raw: &str, kind: TextKind) -> Result<String, TextError> {
    let mut v: String = raw.nfc().collect();
    if kind == TextKind::Long && v.contains('\r') {
        v = v.replace("\r\n", "\n");
    }
    let v = v.trim();
    for c in v.chars() {
        let allowed = kind == TextKind::Long && (c == '\n' || c == '\t');
        if is_control(c) && !allowed {
            return Err(TextError {
                code: "control_character",
                message: if kind == TextKind::Long {
                    format!(
                        "must not contain control characters other than newline and tab ({})",
                        describe(c)
                    )
                } else {
                    format!("must not contain control characters ({})", describe(c))
                },
            });
        }
        if kind == TextKind::Line && is_bidi_control(c) {
            return Err(TextError {
                code: "bidi_control",
                message: format!(
                    "must not contain bidirectional override or isolate characters ({})",
                    describe(c)
                ),
            });
        }
    }
    if v.chars().all(is_invisible) {
        return Ok(String::new());
    }
    Ok(v.to_string())
}

/// The number of characters of a cleaned value.
pub fn char_len(v: &str) -> usize {
    v.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_and_trim() {
        // e + combining acute → é (one character)
        let v = clean("  Cafe\u{0301} ", TextKind::Line).unwrap();
        assert_eq!(v, "Caf\u{00E9}");
        assert_eq!(char_len(&v), 4);
        assert_eq!(clean("清华大学", TextKind::Line).unwrap(), "清华大学");
    }

    #[test]
    fn controls() {
        for c in [
            '\u{0000}', '\u{0001}', '\u{001F}', '\u{007F}', '\u{0080}', '\u{009F}',
        ] {
            let s = format!("ab{c}cd");
            assert_eq!(
                clean(&s, TextKind::Line).unwrap_err().code,
                "control_character"
            );
            assert_eq!(
                clean(&s, TextKind::Long).unwrap_err().code,
                "control_character"
            );
        }
        assert_eq!(
            clean("a\nb", TextKind::Line).unwrap_err().code,
            "control_character"
        );
        assert_eq!(
            clean("a\tb", TextKind::Line).unwrap_err().code,
            "control_character"
        );
        assert_eq!(clean("a\nb\tc\r\nd", TextKind::Long).unwrap(), "a\nb\tc\nd");
        assert_eq!(
            clean("a\rb", TextKind::Long).unwrap_err().code,
            "control_character"
        );
        // a NUL at the edge is not trimmed away silently
        assert!(clean("\u{0000}", TextKind::Long).is_err());
    }

    #[test]
    fn bidi_in_lines() {
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            let s = format!("evil{c}txt.exe");
            assert_eq!(clean(&s, TextKind::Line).unwrap_err().code, "bidi_control");
            assert!(clean(&s, TextKind::Long).is_ok());
        }
        // marks (LRM / RLM) are not overrides
        assert!(clean("abc\u{200E}", TextKind::Line).is_ok());
    }

    #[test]
    fn invisible_only_is_empty() {
        assert_eq!(clean(&"\u{200B}".repeat(5), TextKind::Line).unwrap(), "");
        assert_eq!(
            clean("\u{FEFF}\u{2060} \u{200D}", TextKind::Long).unwrap(),
            ""
        );
        assert_eq!(clean("a\u{200B}", TextKind::Line).unwrap(), "a\u{200B}");
    }

    #[test]
    fn kind_from_max() {
        assert_eq!(TextKind::for_max(200), TextKind::Line);
        assert_eq!(TextKind::for_max(300), TextKind::Line);
        assert_eq!(TextKind::for_max(2000), TextKind::Long);
    }
}
