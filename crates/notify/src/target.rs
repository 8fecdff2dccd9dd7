//! Which URLs a webhook may point at: `http` or `https`, a host, no credentials in the URL,
//! and (unless allowed by configuration) no loopback, private, link-local or unspecified
//! address, so webhooks cannot be used to reach internal services.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const URL_MAX: usize = 2000;

/// Why a URL is refused; `code()` is the field error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must be an absolute http or https URL")]
    Invalid,
    #[error("only http and https URLs are allowed")]
    Scheme,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("must not point at a loopback, private or link-local address")]
    PrivateAddress,
    #[error("must be at most 2000 characters")]
    TooLong,
}

impl UrlError {
    pub fn code(&self) -> &'static str {
        match self {
            UrlError::Invalid => "invalid_url",
            UrlError::Scheme => "unsupported_scheme",
            UrlError::Credentials => "credentials_in_url",
            UrlError::PrivateAddress => "private_address",
            UrlError::TooLong => "too_long",
        }
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.octets()[0] == 0
        // 100.64.0.0/10 carrier-grade NAT
        || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64)
}

fn private_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return private_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
}

/// Whether an address is one webhooks may not reach by default.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}

/// Checks a webhook URL; returns it normalised.
pub fn check_url(raw: &str, allow_private: bool) -> Result<String, UrlError> {
    let raw = raw.trim();
    if raw.chars().count() > URL_MAX {
        return Err(UrlError::TooLong);
    }
    let url = reqwest::Url::parse(raw).map_err(|_| UrlError::Invalid)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    let host = url.host_str().ok_or(UrlError::Invalid)?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let private = match bare.parse::<IpAddr>() {
        Ok(ip) => is_private(ip),
        Err(_) => {
            let d = bare.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost") || d.ends_with(".local")
        }
    };
    if private && !allow_private {
        return Err(UrlError::PrivateAddress);
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_hosts_and_private_addresses() {
        assert_eq!(
            check_url("https://hooks.example.com/ttx", false).unwrap(),
            "https://hooks.example.com/ttx"
        );
        assert!(check_url("http://example.com:8080/x?y=1", false).is_ok());
        assert_eq!(
            check_url("ftp://example.com/", false),
            Err(UrlError::Scheme)
        );
        assert_eq!(
            check_url("file:///etc/passwd", false),
            Err(UrlError::Scheme)
        );
        assert_eq!(
            check_url("javascript:alert(1)", false),
            Err(UrlError::Scheme)
        );
        assert_eq!(check_url("not a url", false), Err(UrlError::Invalid));
        assert_eq!(
            check_url("https://u:p@example.com/", false),
            Err(UrlError::Credentials)
        );
        for private in [
            "http://127.0.0.1:9000/h",
            "http://localhost/h",
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://172.16.5.4/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
        ] {
            assert_eq!(
                check_url(private, false),
                Err(UrlError::PrivateAddress),
                "{private}"
            );
            assert!(check_url(private, true).is_ok(), "{private}");
        }
        let long = format!("https://example.com/{}", "a".repeat(2000));
        assert_eq!(check_url(&long, false), Err(UrlError::TooLong));
    }
}
