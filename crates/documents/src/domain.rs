//! The rules of uploads, pure: which types are taken, whether the bytes are of the declared
//! type, what a file name may be, and the content address.
use sha2::{Digest, Sha256};

/// What a document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Listing,
    Proposal,
    Contract,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Listing => "listing",
            Owner::Proposal => "proposal",
            Owner::Contract => "contract",
        }
    }
    /// The path segment (`listings`, ...).
    pub fn plural(self) -> &'static str {
        match self {
            Owner::Listing => "listings",
            Owner::Proposal => "proposals",
            Owner::Contract => "contracts",
        }
    }
}

/// The types taken: documents, scans and images, office files, plain text.
pub const ALLOWED_TYPES: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "text/plain",
    "text/csv",
];

/// The media type of a `Content-Type` value, lower-case, without parameters.
pub fn media_type(header: &str) -> String {
    header
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether `media` is taken.
pub fn allowed(media: &str) -> bool {
    ALLOWED_TYPES.contains(&media)
}

/// Whether the bytes look like `media` (magic numbers; text must be UTF-8 without NUL).
pub fn bytes_match(media: &str, b: &[u8]) -> bool {
    match media {
        "application/pdf" => b.starts_with(b"%PDF-"),
        "image/png" => b.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => b.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/webp" => b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP",
        m if m.starts_with("application/vnd.openxmlformats-officedocument.") => {
            b.starts_with(b"PK\x03\x04")
        }
        "text/plain" | "text/csv" => std::str::from_utf8(b).is_ok_and(|s| !s.contains('\0')),
        _ => false,
    }
}

/// Lower-case hex SHA-256 of the bytes.
pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A declared hash: 64 hex digits (any case), returned lower-case.
pub fn parse_sha256(s: &str) -> Option<String> {
    let s = s.trim();
    (s.len() == 64 && s.bytes().all(|c| c.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// A file name: 1 to 200 characters, no path separators or control characters.
pub fn check_name(name: &str) -> Result<String, &'static str> {
    let n = name.trim();
    if n.is_empty() {
        return Err("a file name is required");
    }
    if n.chars().count() > 200 {
        return Err("at most 200 characters");
    }
    if n.chars().any(|c| {
        c.is_control()
            || c == '/'
            || c == '\\'
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }) || n == "."
        || n == ".."
    {
        return Err("no path separators, control or direction characters");
    }
    Ok(n.to_string())
}

/// `Content-Disposition` for a download: an ASCII fallback and the UTF-8 name (RFC 6266).
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(b) {
            encoded.push(*b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_magic_numbers() {
        assert_eq!(media_type("Application/PDF; name=x"), "application/pdf");
        assert!(allowed("application/pdf"));
        assert!(!allowed("application/x-msdownload"));
        assert!(!allowed("text/html"));
        assert!(bytes_match("application/pdf", b"%PDF-1.7\n..."));
        assert!(!bytes_match("application/pdf", b"MZ\x90\x00"));
        assert!(bytes_match("image/png", b"\x89PNG\r\n\x1a\n...."));
        assert!(bytes_match("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(bytes_match("image/webp", b"RIFF\x10\x00\x00\x00WEBPVP8 "));
        assert!(bytes_match(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04...."
        ));
        assert!(bytes_match("text/plain", "技术参数表".as_bytes()));
        assert!(!bytes_match("text/plain", b"\xff\xfe"));
        assert!(!bytes_match("text/plain", b"a\0b"));
    }

    #[test]
    fn hashes_and_names() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(parse_sha256(&"AB".repeat(32)), Some("ab".repeat(32)));
        assert_eq!(parse_sha256("abc"), None);
        assert_eq!(parse_sha256(&"g".repeat(64)), None);
        assert_eq!(check_name(" 合同.pdf ").unwrap(), "合同.pdf");
        assert!(check_name("../etc/passwd").is_err());
        assert!(check_name("").is_err());
        assert!(check_name("a\u{202E}fdp.exe").is_err());
        assert!(check_name(&"长".repeat(201)).is_err());
        assert_eq!(
            content_disposition("合同 v2.pdf"),
            "attachment; filename=\"__ v2.pdf\"; filename*=UTF-8''%E5%90%88%E5%90%8C%20v2.pdf"
        );
    }
}
