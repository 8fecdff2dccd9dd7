//! The certificate and its public check (issue 12): amounts in 元 and in Chinese capitals, a QR
//! code to the public verification, and a check of the printed figures that reveals nothing
//! to whoever lacks them, rate limited per address.
use serde_json::json;
use ttx_tests::TestApp;

/// A registered contract of 1,234,500.50 元 (no non-technical costs); returns (id, number, seller token).
async fn registered(app: &TestApp) -> (i64, String, String) {
    let station = app.org("station", "110000", true).await;
    let reviewer = app.member(&station, "station_reviewer").await;
    let seller = app.org("university", "110108", false).await;
    let s = app.member(&seller, "member").await;
    let buyer = app.org("enterprise", "320505", false).await;
    let r = app
        .post(
            "/v1/contracts",
            Some(&s),
            &json!({
                "title": "固态电池电解质技术开发",
                "sub_kind": "entrusted_development",
                "buyer": {"org_id": buyer.id},
                "contract_amount": 123_450_050,
                "signed_on": "2026-03-01",
                "term_start": "2026-03-01",
                "term_end": "2027-02-28",
                "tech_field": "new_energy",
                "documents": [{"name": "合同.pdf", "sha256": format!("{:064x}", 77)}]
            }),
        )
        .await;
    r.assert_status(201);
    let cid = r.body["id"].as_i64().unwrap();
    for (t, a) in [
        (&s, "submit"),
        (&reviewer, "accept"),
        (&reviewer, "register"),
    ] {
        app.post(&format!("/v1/contracts/{cid}/{a}"), Some(t), &json!({}))
            .await
            .assert_status(200);
    }
    let c = app.get(&format!("/v1/contracts/{cid}"), Some(&s)).await;
    let number = c.body["registration"]["number"]
        .as_str()
        .unwrap()
        .to_string();
    (cid, number, s)
}

#[tokio::test]
async fn the_certificate_shows_capitals_and_a_qr_code_and_the_check_confirms_figures_only() {
    let app = TestApp::spawn_with(|c| {
        c.contracts.public_url = Some("https://ttx.example.cn".into());
        c.contracts.checks_per_minute = 1000;
    })
    .await;
    let (cid, number, s) = registered(&app).await;

    let page = app
        .get(&format!("/v1/contracts/{cid}/certificate"), Some(&s))
        .await;
    page.assert_status(200);
    assert!(page.text.contains("1,234,500.50 元"), "{}", page.text);
    assert!(page.text.contains("壹佰贰拾叁万肆仟伍佰元伍角"));
    assert!(page.text.contains("<svg"), "an inline QR code");
    assert!(page
        .text
        .contains(&format!("https://ttx.example.cn/v1/registrations/{number}")));
    assert!(!page.text.contains("<script"), "nothing loaded or run");

    let check = |q: String| {
        let app = &app;
        let number = number.clone();
        async move {
            app.get(&format!("/v1/registrations/{number}{q}"), None)
                .await
        }
    };
    // Without figures: what anyone may know, no amounts.
    let r = check(String::new()).await;
    r.assert_status(200);
    assert!(r.body.get("technology_amount_matches").is_none());
    assert!(!r.text.contains("123450050") && !r.text.contains("1234500"));
    // The right figure, in fen or as printed in 元.
    for q in [
        "?technology_amount=123450050",
        "?technology_amount_yuan=1,234,500.50",
        "?technology_amount_yuan=1234500.5&contract_amount=123450050",
    ] {
        let r = check(q.to_string()).await;
        r.assert_status(200);
        assert_eq!(r.body["technology_amount_matches"], true, "{q}");
        assert!(!r.text.contains("123450050"), "the figure is never shown");
    }
    let r = check("?technology_amount=123450000&contract_amount=1".into()).await;
    r.assert_status(200);
    assert_eq!(r.body["technology_amount_matches"], false);
    assert_eq!(r.body["contract_amount_matches"], false);
    // Bad input is named.
    let r = check("?technology_amount_yuan=12.345".into()).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["technology_amount_yuan"]);
    let r = check("?technology_amount=1&technology_amount_yuan=2".into()).await;
    assert_eq!(r.error_fields(), vec!["technology_amount"]);
    check("?technology_amount=abc".into())
        .await
        .assert_problem(400, "invalid_query");
    check("?amount=1".into())
        .await
        .assert_problem(400, "invalid_query");
    app.get(
        "/v1/registrations/110000209900000001?technology_amount=1",
        None,
    )
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn the_public_check_is_rate_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.contracts.checks_per_minute = 5).await;
    let (_, number, _) = registered(&app).await;
    for i in 0..5 {
        app.get(
            &format!("/v1/registrations/{number}?technology_amount={i}"),
            None,
        )
        .await
        .assert_status(200);
    }
    let r = app
        .get(
            &format!("/v1/registrations/{number}?technology_amount=123450050"),
            None,
        )
        .await;
    r.assert_problem(429, "too_many_checks");
    let after: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&after), "{after}");
    assert!(r.body.get("technology_amount_matches").is_none());
}
