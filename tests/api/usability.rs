//! What new users tripped over (issue 12): unknown query parameters, the error table, and smaller
//! fixes to listings and technology income.
use ttx_tests::TestApp;

/// Every GET route that reads a query string refuses a parameter it does not know, naming it.
#[tokio::test]
async fn unknown_query_parameters_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let op = app.operator().await;
    let routes = [
        "/v1/meta/regions",
        "/v1/orgs",
        "/v1/orgs/1/members",
        "/v1/orgs/1/technology-income",
        "/v1/audit",
        "/v1/listings",
        "/v1/listings/1/matches",
        "/v1/demands",
        "/v1/demands/1/matches",
        "/v1/challenges",
        "/v1/challenges/1/proposals",
        "/v1/contracts",
        "/v1/matches",
        "/v1/matches/funnel",
        "/v1/notifications",
        "/v1/webhooks/1/deliveries",
        "/v1/stats/turnover",
        "/v1/stats/series",
        "/v1/stats/flows",
        "/v1/stats/top",
    ];
    for route in routes {
        let path = format!("{route}?feild=1");
        {
            let r = app.get(&path, Some(&op)).await;
            assert_eq!(r.status.as_u16(), 400, "{path}: {}", r.text);
            r.assert_problem(400, "invalid_query");
            let detail = r.body["detail"].as_str().unwrap_or("");
            assert!(
                detail.contains("unknown query parameter `feild`"),
                "{path}: the detail names the parameter: {}",
                r.text
            );
        }
    }
    // Beside known parameters, the unknown one is still named.
    let r = app.get("/v1/listings?q=x&limit=5&feild=1", None).await;
    r.assert_problem(400, "invalid_query");
    assert!(
        r.body["detail"].as_str().unwrap().contains("feild"),
        "{}",
        r.text
    );
    // Known parameters still work.
    app.get("/v1/listings?limit=5", None)
        .await
        .assert_status(200);
    app.get("/v1/meta/regions?parent=110000", None)
        .await
        .assert_status(200);
}

/// `pub const X: &str = "code";` constants of a Rust source file.
fn str_consts(src: &str) -> Vec<String> {
    src.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("pub const ")?;
            let (_, value) = rest.split_once(": &str = \"")?;
            Some(value.split('"').next()?.to_string())
        })
        .collect()
}

/// Rust files under `dir`, recursively.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `/v1/meta/errors` lists each code once: the platform's and every crate's table, and every code
/// constant a crate's error module declares.
#[tokio::test]
async fn the_error_table_lists_every_crate_code_once() {
    let app = TestApp::spawn().await;
    let r = app.get("/v1/meta/errors", None).await;
    r.assert_status(200);
    let listed: Vec<(String, u64)> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap().to_string(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for (code, _) in &listed {
        assert!(seen.insert(code.as_str()), "{code} is listed twice");
    }
    let status_of = |code: &str| listed.iter().find(|(c, _)| c == code).map(|(_, s)| *s);

    // Each crate's table, complete and with its statuses.
    let tables: &[(&str, ttx_server::ops::ErrorTable)] = &[
        ("listings", ttx_listings::ERROR_CODES),
        ("demands", ttx_demands::ERROR_CODES),
        ("notify", ttx_notify::error::ERROR_CODES),
        ("matching", ttx_matching::ERROR_CODES),
        ("contracts", ttx_contracts::ERROR_CODES),
        ("enquiries", ttx_enquiries::ERROR_CODES),
        ("documents", ttx_documents::ERROR_CODES),
    ];
    for (krate, table) in tables {
        assert!(!table.is_empty(), "{krate}");
        for (code, status, _) in table.iter() {
            assert_eq!(
                status_of(code),
                Some(u64::from(*status)),
                "{krate}'s {code} is listed with its status"
            );
        }
    }
    assert_eq!(status_of("review_overdue"), Some(409));
    assert_eq!(status_of("precondition_failed"), Some(412));

    // Every crate that declares an error table is one of those above, and every code constant of
    // its error module is listed; the platform codes too.
    let crates_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut files = Vec::new();
    rust_files(&crates_dir, &mut files);
    let mut declaring = std::collections::BTreeSet::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let krate = f
            .strip_prefix(&crates_dir)
            .unwrap()
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string();
        if src.contains("pub const ERROR_CODES") {
            declaring.insert(krate.clone());
            for code in str_consts(&src) {
                assert!(
                    status_of(&code).is_some(),
                    "{code} of {} is not listed",
                    f.display()
                );
            }
        }
        if krate == "web" && src.contains("error_codes! {") {
            let mut n = 0;
            for l in src.lines() {
                if let Some((_, rest)) = l.split_once(" = (\"") {
                    let code = rest.split('"').next().unwrap();
                    assert!(
                        status_of(code).is_some(),
                        "platform code {code} is not listed"
                    );
                    n += 1;
                }
            }
            assert!(n > 20, "the platform table was read");
        }
    }
    let expected: std::collections::BTreeSet<String> =
        tables.iter().map(|(k, _)| k.to_string()).collect();
    assert_eq!(
        declaring, expected,
        "every crate with an ERROR_CODES table is checked here and served"
    );
}

/// An organisation's yearly technology income is readable by the analysts of the bureau whose
/// region holds it, and by no other bureau.
#[tokio::test]
async fn technology_income_is_readable_by_the_regions_bureau_analyst() {
    let app = TestApp::spawn().await;
    let seller = app.org("university", "110108", false).await;
    let beijing = app.org("bureau", "110000", true).await;
    let analyst = app.member(&beijing, "bureau_analyst").await;
    let shanghai = app.org("bureau", "310000", true).await;
    let other_analyst = app.member(&shanghai, "bureau_analyst").await;
    let stranger = app.org("enterprise", "110108", false).await;
    let path = format!("/v1/orgs/{}/technology-income?year=2026", seller.id);
    let r = app.get(&path, Some(&analyst)).await;
    r.assert_status(200);
    assert_eq!(r.body["org_id"], seller.id);
    assert_eq!(r.body["total"]["contracts"], 0);
    app.get(&path, Some(&other_analyst))
        .await
        .assert_problem(404, "not_found");
    app.get(&path, Some(&stranger.admin_token))
        .await
        .assert_problem(404, "not_found");
    app.get(&path, Some(&seller.admin_token))
        .await
        .assert_status(200);
}

/// `PATCH` of a listing with `"contact": null` clears the contact, as the schema says.
#[tokio::test]
async fn patching_a_listing_contact_to_null_clears_it() {
    let app = TestApp::spawn().await;
    let uni = app.org("university", "110108", true).await;
    let body = serde_json::json!({
        "title": "钙钛矿太阳能电池封装技术",
        "summary": "钙钛矿电池封装的成果简介",
        "description": "本成果已完成中试验证，可面向企业转化。",
        "keywords": ["成果转化"],
        "field": "new_energy",
        "trl": 5,
        "transfer_modes": ["transfer"],
        "price": {"kind": "negotiable"},
        "contact": {"name": "联系人甲", "phone": "13912345678"}
    });
    let r = app
        .post("/v1/listings", Some(&uni.admin_token), &body)
        .await;
    r.assert_status(201);
    let path = format!("/v1/listings/{}", r.body["id"].as_i64().unwrap());
    assert_eq!(r.body["contact"]["phone"], "13912345678");
    let etag = app.get(&path, Some(&uni.admin_token)).await.etag();
    let r = app
        .patch(
            &path,
            Some(&uni.admin_token),
            &etag,
            &serde_json::json!({"contact": null}),
        )
        .await;
    r.assert_status(200);
    assert!(r.body["contact"].is_null(), "{}", r.text);
    let r = app.get(&path, Some(&uni.admin_token)).await;
    assert!(r.body["contact"].is_null(), "{}", r.text);
    // An absent contact leaves it alone; a new one replaces it.
    let r = app
        .patch(
            &path,
            Some(&uni.admin_token),
            &r.etag(),
            &serde_json::json!({"contact": {"email": "new@lab.test"}}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["contact"]["email"], "new@lab.test");
    let r = app
        .patch(
            &path,
            Some(&uni.admin_token),
            &r.etag(),
            &serde_json::json!({"trl": 6}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["contact"]["email"], "new@lab.test");
}
