//! The turnover dashboard at `/dashboard`: one HTML page, its script and style sheet and the
//! vendored ECharts (`assets/vendor/echarts`, Apache-2.0), all compiled into the binary so the
//! page works with no internet. The page reads `/v1/stats/*` from the same origin.
use axum::extract::Path;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// No inline script (the page's code is in `dashboard.js`); inline style attributes are allowed
/// because ECharts writes them into its tooltips.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

const PAGE: &str = include_str!("../assets/dashboard.html");

/// `(file name, content type, body)` of every asset under `/dashboard/assets/`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/dashboard.js"),
    ),
    (
        "dashboard.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/dashboard.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../assets/favicon.svg"),
    ),
    (
        "echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/vendor/echarts/echarts.min.js"),
    ),
    (
        "echarts-LICENSE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../assets/vendor/echarts/LICENSE"),
    ),
    (
        "echarts-NOTICE.txt",
        "text/plain; charset=utf-8",
        include_bytes!("../assets/vendor/echarts/NOTICE"),
    ),
];

/// `GET /dashboard` and `GET /dashboard/assets/{file}`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/dashboard", get(page))
        .route("/dashboard/assets/{file}", get(asset))
}

async fn page() -> Response {
    respond("text/html; charset=utf-8", "no-cache", PAGE.as_bytes())
}

fn lookup(file: &str) -> Option<(&'static str, &'static [u8])> {
    ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .map(|(_, content_type, body)| (*content_type, *body))
}

async fn asset(Path(file): Path<String>) -> Response {
    match lookup(&file) {
        // The assets are not content-addressed: cached for an hour, then revalidated.
        Some((content_type, body)) => respond(content_type, "public, max-age=3600", body),
        // A bare 404; the server's middleware turns it into a problem+json `route_not_found`.
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn respond(content_type: &'static str, cache: &'static str, body: &'static [u8]) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_carry_the_security_headers() {
        let r = respond("text/html; charset=utf-8", "no-cache", PAGE.as_bytes());
        let h = r.headers();
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(h[header::CACHE_CONTROL], "no-cache");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(
            csp.contains("script-src 'self';"),
            "no inline script: {csp}"
        );
    }

    #[test]
    fn assets_are_found_by_exact_name_only() {
        assert_eq!(
            lookup("dashboard.js").unwrap().0,
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            lookup("dashboard.css").unwrap().0,
            "text/css; charset=utf-8"
        );
        let echarts = lookup("echarts.min.js").unwrap().1;
        assert!(echarts.len() > 500_000, "the whole library is embedded");
        for bad in [
            "",
            "nope.js",
            "../Cargo.toml",
            "vendor/echarts/LICENSE",
            "DASHBOARD.JS",
        ] {
            assert!(lookup(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_page_has_no_inline_script_and_names_every_chart() {
        // Every <script> loads a file (the CSP forbids inline code).
        for tag in PAGE.split("<script").skip(1) {
            let end = tag.find('>').unwrap();
            assert!(
                tag[..end].contains("src=\"/dashboard/assets/"),
                "inline script: {}",
                &tag[..end]
            );
            assert!(tag[end + 1..].starts_with("</script>"));
        }
        // No inline event handler attributes (` onclick=` and the like) either.
        for (i, _) in PAGE.match_indices(" on") {
            let rest = &PAGE[i + 3..];
            let word = rest.len()
                - rest
                    .trim_start_matches(|c: char| c.is_ascii_lowercase())
                    .len();
            assert!(
                !(word > 0 && rest[word..].starts_with('=')),
                "inline handler near {}",
                PAGE[i..].chars().take(24).collect::<String>()
            );
        }
        for chart in ["trend", "kind", "field", "provinces", "flows"] {
            assert!(PAGE.contains(&format!("data-chart=\"{chart}\"")), "{chart}");
        }
        // Every asset the page names is served.
        for part in PAGE.split("/dashboard/assets/").skip(1) {
            let name = &part[..part.find('"').unwrap()];
            assert!(lookup(name).is_some(), "{name}");
        }
    }
}
