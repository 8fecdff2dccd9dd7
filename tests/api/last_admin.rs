//! The last-admin rule under concurrency: two admins demoted or removed at the same moment leave
//! exactly one admin, and neither request fails with a 500 (SQLite's "database is locked").
use serde_json::json;
use ttx_tests::{Resp, TestApp};

async fn second_admin(app: &TestApp, org: &ttx_tests::Org) -> i64 {
    let n = ttx_tests::fixtures::next();
    let r = app
        .post(
            &format!("/v1/orgs/{}/members", org.id),
            Some(&org.admin_token),
            &json!({"email": format!("adm{n}@org.test"), "display_name": "管理员乙", "password": "correct-horse-42", "role": "org_admin"}),
        )
        .await;
    r.assert_status(201);
    r.body["id"].as_i64().unwrap()
}

async fn admins(app: &TestApp, org_id: i64, op: &str) -> usize {
    let r = app
        .get(&format!("/v1/orgs/{org_id}/members?limit=100"), Some(op))
        .await;
    r.assert_status(200);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["role"] == "org_admin" && u["active"] == true)
        .count()
}

fn one_wins(a: &Resp, b: &Resp) {
    let ok = [a, b].iter().filter(|r| r.status.is_success()).count();
    assert_eq!(
        ok, 1,
        "exactly one succeeds: {} {} / {} {}",
        a.status, a.text, b.status, b.text
    );
    for r in [a, b] {
        if !r.status.is_success() {
            r.assert_problem(409, "invalid_state");
        }
    }
}

#[tokio::test]
async fn concurrent_demotions_leave_one_admin() {
    let app = TestApp::spawn().await;
    let op = app.operator().await;
    for _ in 0..6 {
        let org = app.org("agency", "420111", false).await;
        let other = second_admin(&app, &org).await;
        let path_a = format!("/v1/orgs/{}/members/{}", org.id, org.admin_id);
        let path_b = format!("/v1/orgs/{}/members/{other}", org.id);
        let body = json!({"role": "broker"});
        let (a, b) = tokio::join!(
            app.patch(&path_a, Some(&op), "\"1\"", &body),
            app.patch(&path_b, Some(&op), "\"1\"", &body),
        );
        one_wins(&a, &b);
        assert_eq!(admins(&app, org.id, &op).await, 1);
    }
}

#[tokio::test]
async fn concurrent_removals_and_demotions_leave_one_admin() {
    let app = TestApp::spawn().await;
    let op = app.operator().await;
    for _ in 0..6 {
        let org = app.org("agency", "420111", false).await;
        let other = second_admin(&app, &org).await;
        let path_a = format!("/v1/orgs/{}/members/{}", org.id, org.admin_id);
        let path_b = format!("/v1/orgs/{}/members/{other}", org.id);
        let body = json!({"active": false});
        let (a, b) = tokio::join!(
            app.delete(&path_a, Some(&op)),
            app.patch(&path_b, Some(&op), "\"1\"", &body),
        );
        one_wins(&a, &b);
        assert_eq!(admins(&app, org.id, &op).await, 1);
    }
}
