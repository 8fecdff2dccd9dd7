//! A contract's links (`listing_id`, `demand_id`, `proposal_id`, `match_id`) must name items the
//! seller may link, and its dates must be plausible: both are a 422 naming the field. Before
//! the fix, an id that did not exist or belonged to another organisation was stored, and a
//! contract signed on 0001-01-01 with a term to 9999-12-31 was accepted (issue 13).
use serde_json::{json, Value};
use ttx_tests::fixtures::{contract_body, listing_body, merged, need_body};
use ttx_tests::{Resp, TestApp};

struct World {
    seller_member: String,
    buyer_org: i64,
    own_listing: i64,
    others_listing: i64,
    others_draft_need: i64,
}

async fn created(app: &TestApp, path: &str, token: &str, body: &Value) -> i64 {
    let r = app.post(path, Some(token), body).await;
    r.assert_status(201);
    r.body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no id in {}", r.text))
}

async fn world(app: &TestApp) -> World {
    app.org("station", "110000", true).await;
    let seller = app.org("university", "110108", false).await;
    let seller_member = app.member(&seller, "member").await;
    let buyer = app.org("enterprise", "320505", false).await;
    let buyer_member = app.member(&buyer, "member").await;
    let other = app.org("university", "310104", false).await;
    let other_member = app.member(&other, "member").await;
    let listing = |t: &str| {
        listing_body(
            t,
            "一种脱硫石膏渣提纯与高强石膏转晶工艺。",
            &["脱硫石膏"],
            "environment",
        )
    };
    let own_listing = created(app, "/v1/listings", &seller_member, &listing("本校成果")).await;
    let others_listing = created(app, "/v1/listings", &other_member, &listing("他校成果")).await;
    let draft_need = merged(
        need_body("企业未发布的需求", false),
        json!({"publish": false}),
    );
    let others_draft_need = created(app, "/v1/demands", &buyer_member, &draft_need).await;
    World {
        seller_member,
        buyer_org: buyer.id,
        own_listing,
        others_listing,
        others_draft_need,
    }
}

/// The seller drafts the shared contract body with `patch` merged in.
async fn draft(app: &TestApp, w: &World, patch: Value) -> Resp {
    let body = merged(
        contract_body("链接与日期校验合同", w.buyer_org, 30_000_000),
        patch,
    );
    app.post("/v1/contracts", Some(&w.seller_member), &body)
        .await
}

#[tokio::test]
async fn links_to_missing_or_foreign_items_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let cases = [
        (json!({"listing_id": 999_999}), "listing_id"),
        (json!({"listing_id": w.others_listing}), "listing_id"),
        (json!({"demand_id": 999_999}), "demand_id"),
        // The buyer's need, still a draft: the seller cannot have answered it.
        (json!({"demand_id": w.others_draft_need}), "demand_id"),
        (json!({"proposal_id": 999_999}), "proposal_id"),
        (json!({"match_id": 999_999}), "match_id"),
    ];
    for (patch, field) in cases {
        let r = draft(&app, &w, patch.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), vec![field], "{patch}: {}", r.text);
    }
    // Nothing of the refused drafts was stored.
    let r = app.get("/v1/contracts", Some(&w.seller_member)).await;
    r.assert_status(200);
    assert_eq!(
        r.body["items"].as_array().map(Vec::len),
        Some(0),
        "{}",
        r.text
    );
    // The seller's own listing links.
    let r = draft(&app, &w, json!({"listing_id": w.own_listing})).await;
    r.assert_status(201);
    assert_eq!(r.body["links"]["listing_id"], w.own_listing, "{}", r.text);
}

#[tokio::test]
async fn implausible_dates_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let cases = [
        (json!({"signed_on": "0001-01-01"}), "signed_on"),
        (json!({"term_start": "0001-01-01"}), "term_start"),
        (json!({"term_end": "9999-12-31"}), "term_end"),
    ];
    for (patch, field) in cases {
        let r = draft(&app, &w, patch.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert!(
            r.error_fields().iter().any(|f| f == field),
            "{patch}: {}",
            r.text
        );
    }
    // A long but plausible term (ten years) is accepted.
    let r = draft(&app, &w, json!({"term_end": "2036-02-28"})).await;
    r.assert_status(201);
}
