//! `/metrics`: every metric has `# HELP` and `# TYPE`; the domain figures (contracts by status,
//! the review queue and its overdue part, the search outbox lag per index, webhook failures)
//! follow the database.
use serde_json::json;
use std::collections::BTreeSet;
use ttx_tests::TestApp;

/// The value of the sample `series` (name with labels, as rendered), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

fn contract(title: &str, buyer_org: i64) -> serde_json::Value {
    json!({
        "title": title,
        "sub_kind": "entrusted_development",
        "buyer": {"org_id": buyer_org},
        "contract_amount": 100_000,
        "non_technical_costs": 0,
        "signed_on": "2026-03-01",
        "term_start": "2026-03-01",
        "term_end": "2027-02-28",
        "tech_field": "new_energy",
        "documents": [{"name": "合同.pdf", "sha256": format!("{:064x}", 7), "size_bytes": 1000}]
    })
}

#[tokio::test]
async fn every_metric_has_help_and_the_domain_figures_follow_the_database() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn_with(|c| {
        c.notify.allow_private_urls = true;
        c.notify.max_attempts = 1;
        c.notify.timeout_ms = 500;
    })
    .await;
    let station = app.org("station", "110000", true).await;
    let reviewer = app.member(&station, "station_reviewer").await;
    let seller = app.org("university", "110108", false).await;
    let buyer = app.org("enterprise", "320505", false).await;

    let m = app.get("/metrics", None).await;
    m.assert_status(200);
    assert_eq!(
        sample(&m.text, "ttx_contracts{status=\"draft\"}"),
        Some(0.0)
    );
    assert_eq!(sample(&m.text, "ttx_review_overdue"), Some(0.0));
    assert_eq!(sample(&m.text, "ttx_webhook_failures"), Some(0.0));

    // Three drafts; two submitted, one of them accepted and then three days late.
    let mut ids = vec![];
    for t in ["指标合同甲", "指标合同乙", "指标合同丙"] {
        let r = app
            .post(
                "/v1/contracts",
                Some(&seller.admin_token),
                &contract(t, buyer.id),
            )
            .await;
        r.assert_status(201);
        ids.push(r.body["id"].as_i64().unwrap());
    }
    for id in &ids[..2] {
        app.post(
            &format!("/v1/contracts/{id}/submit"),
            Some(&seller.admin_token),
            &json!({}),
        )
        .await
        .assert_status(200);
    }
    app.post(
        &format!("/v1/contracts/{}/accept", ids[0]),
        Some(&reviewer),
        &json!({}),
    )
    .await
    .assert_status(200);
    let due = chrono::Utc::now().date_naive() - chrono::Duration::days(3);
    let backend = app.db.get_database_backend();
    app.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => {
                    "UPDATE contracts SET review_due_on = $1 WHERE id = $2"
                }
                _ => "UPDATE contracts SET review_due_on = ? WHERE id = ?",
            },
            [due.into(), ids[0].into()],
        ))
        .await
        .unwrap();

    // A webhook whose receiver is down: its ping fails for good after one attempt.
    let r = app
        .post(
            "/v1/webhooks",
            Some(&buyer.admin_token),
            &json!({"url": "http://127.0.0.1:9/hook", "events": ["proposal.submitted"]}),
        )
        .await;
    r.assert_status(201);
    let hook = r.body["webhook"]["id"].as_i64().unwrap();
    app.post(
        &format!("/v1/webhooks/{hook}/ping"),
        Some(&buyer.admin_token),
        &json!({}),
    )
    .await;

    let m = app
        .wait_until("/metrics", None, "the failed webhook delivery", |r| {
            sample(&r.text, "ttx_webhook_failures") == Some(1.0)
        })
        .await;
    let t = &m.text;
    assert_eq!(sample(t, "ttx_contracts{status=\"draft\"}"), Some(1.0));
    assert_eq!(sample(t, "ttx_contracts{status=\"submitted\"}"), Some(1.0));
    assert_eq!(sample(t, "ttx_contracts{status=\"accepted\"}"), Some(1.0));
    assert_eq!(sample(t, "ttx_contracts{status=\"registered\"}"), Some(0.0));
    assert_eq!(sample(t, "ttx_review_queue{kind=\"contract\"}"), Some(2.0));
    assert_eq!(sample(t, "ttx_review_queue{kind=\"amendment\"}"), Some(0.0));
    assert_eq!(sample(t, "ttx_review_overdue"), Some(1.0));
    assert_eq!(
        sample(t, "ttx_webhook_deliveries{status=\"failed\"}"),
        Some(1.0)
    );
    for index in ["listings", "demands"] {
        assert!(
            sample(t, &format!("ttx_search_outbox_lag{{index=\"{index}\"}}")).is_some(),
            "lag of {index} in\n{t}"
        );
        assert!(sample(
            t,
            &format!("ttx_search_outbox_lag_seconds{{index=\"{index}\"}}")
        )
        .is_some());
    }
    assert!(
        sample(
            t,
            "ttx_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"
        )
        .is_some()
            || t.contains("ttx_http_requests_total{")
    );

    // Every metric has a `# HELP` line and a `# TYPE` line.
    let names = |prefix: &str| -> BTreeSet<String> {
        t.lines()
            .filter_map(|l| l.strip_prefix(prefix))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect()
    };
    let typed = names("# TYPE ");
    let helped = names("# HELP ");
    assert!(typed.contains("ttx_http_requests_total"), "{t}");
    assert!(typed.contains("ttx_contracts"));
    let missing: Vec<_> = typed.difference(&helped).collect();
    assert!(missing.is_empty(), "metrics without # HELP: {missing:?}");
    for l in t
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let name = l.split(['{', ' ']).next().unwrap();
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|b| typed.contains(*b)))
            .unwrap_or(name);
        assert!(typed.contains(base), "sample without # TYPE: {l}");
    }
}
