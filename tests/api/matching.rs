//! Match suggestions through the API: both directions, explained scores whose contributions add
//! up, who may ask, what is never suggested, anonymous firms, bad filters.
use serde_json::{json, Value};
use ttx_tests::{Resp, TestApp};

fn listing(title: &str, summary: &str, keywords: &[&str], region: &str) -> Value {
    json!({
        "title": title,
        "summary": summary,
        "description": format!("{title}。{summary}"),
        "keywords": keywords,
        "field": "new_materials",
        "trl": 6,
        "transfer_modes": ["license"],
        "price": {"kind": "negotiable"},
        "region_code": region,
        "publish": true,
        "contact": {"name": "秘密联系人", "phone": "13912345678", "email": "secret@lab.test"}
    })
}

fn need(title: &str, problem: &str, publish: bool, anonymous: bool) -> Value {
    json!({
        "title": title,
        "problem": format!("{problem}目前已影响正常生产和环保达标，自行试验多次未果，亟需可落地的技术方案。"),
        "key_points": "原料预处理、配方与发泡工艺参数优化，制品强度与耐水性能的稳定性验证。",
        "goals": "制品抗压强度达到行业标准要求，成本降低两成，三个月内完成中试并形成工艺规范。",
        "keywords": ["石膏", "保温", "砌块"],
        "field": "new_materials",
        "budget": {"kind": "negotiable"},
        "modes": ["license"],
        "deadline": ttx_tests::fixtures::day(60),
        "anonymous": anonymous,
        "publish": publish,
        "contact": {"name": "对接人", "phone": "13812345678", "email": "needs@firm.test"}
    })
}

async fn created(app: &TestApp, token: &str, path: &str, body: &Value) -> i64 {
    let r = app.post(path, Some(token), body).await;
    r.assert_status(201);
    r.body["id"].as_i64().unwrap()
}

async fn drained(app: &TestApp) {
    app.wait_until("/readyz", None, "the search outbox to drain", |r| {
        r.body["search"]["outbox_pending"] == json!(0)
    })
    .await;
}

fn listing_ids(r: &Resp) -> Vec<i64> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.text))
        .iter()
        .map(|i| i["listing"]["id"].as_i64().unwrap())
        .collect()
}

/// Every suggestion: contributions add up to the score, each is value × weight, and the reason
/// names the strongest part.
fn check_explained(items: &[Value]) {
    for it in items {
        let parts = it["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 8);
        let sum: f64 = parts
            .iter()
            .map(|p| p["contribution"].as_f64().unwrap())
            .sum();
        assert!((sum - it["score"].as_f64().unwrap()).abs() < 1e-9, "{it}");
        for p in parts {
            let (v, w, c) = (
                p["value"].as_f64().unwrap(),
                p["weight"].as_f64().unwrap(),
                p["contribution"].as_f64().unwrap(),
            );
            assert!((0.0..=1.0).contains(&v));
            assert!((c - v * w).abs() < 1e-9);
        }
        assert!(!it["reason_zh"].as_str().unwrap().is_empty());
        assert!(!it["reason_en"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_firms_draft_gets_explained_listings_and_a_listing_gets_open_needs() {
    let app = TestApp::spawn().await;
    let uni = app.org("university", "320102", false).await;
    let other_uni = app.org("research_institute", "110108", false).await;
    let firm = app.org("enterprise", "320505", false).await;
    let firm_member = app.member(&firm, "member").await;
    let stranger = app.org("enterprise", "440305", false).await;
    let agency = app.org("agency", "320000", true).await;
    let broker = app.member(&agency, "broker").await;

    let gypsum = created(
        &app,
        &uni.admin_token,
        "/v1/listings",
        &listing(
            "脱硫石膏制备轻质保温砌块技术",
            "以电厂脱硫石膏为原料，免煅烧制备发泡保温砌块，强度高、吸水率低",
            &["脱硫石膏", "保温砌块", "发泡"],
            "320102",
        ),
    )
    .await;
    let gypsum2 = created(
        &app,
        &other_uni.admin_token,
        "/v1/listings",
        &listing(
            "工业副产石膏基自流平砂浆",
            "利用副产石膏制备自流平砂浆，凝结时间可调",
            &["副产石膏", "砂浆"],
            "110108",
        ),
    )
    .await;
    let unrelated = created(
        &app,
        &uni.admin_token,
        "/v1/listings",
        &listing(
            "水稻抗倒伏栽培方法",
            "通过调控氮肥与株型提高水稻抗倒伏能力",
            &["水稻", "栽培"],
            "320102",
        ),
    )
    .await;
    // A draft listing is never suggested; neither is the firm's own.
    let mut draft = listing("石膏保温板材配方（草稿）", "石膏保温", &["石膏"], "320102");
    draft["publish"] = json!(false);
    let draft_id = created(&app, &uni.admin_token, "/v1/listings", &draft).await;
    let own = created(
        &app,
        &firm.admin_token,
        "/v1/listings",
        &listing(
            "企业自有石膏保温砌块工艺",
            "石膏保温砌块",
            &["石膏", "保温"],
            "320505",
        ),
    )
    .await;
    drained(&app).await;

    // The firm's draft need: suggestions before it publishes.
    let nid = created(
        &app,
        &firm_member,
        "/v1/demands",
        &need(
            "电厂副产石膏做保温砌块",
            "电厂每年送来大量脱硫石膏，露天堆放，想直接做发泡保温砌块，但强度低、泡孔不均。",
            false,
            true,
        ),
    )
    .await;
    let r = app
        .get(&format!("/v1/demands/{nid}/matches"), Some(&firm_member))
        .await;
    r.assert_status(200);
    let ids = listing_ids(&r);
    assert_eq!(ids.first(), Some(&gypsum), "{}", r.text);
    assert!(ids.contains(&gypsum2), "{}", r.text);
    assert!(!ids.contains(&draft_id) && !ids.contains(&own));
    let items = r.body["items"].as_array().unwrap().clone();
    check_explained(&items);
    // the best names its text; the same city adds to it (Nanjing seller, Suzhou firm: same province)
    assert!(items[0]["reason_zh"]
        .as_str()
        .unwrap()
        .contains("内容高度相关"));
    let region = items[0]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "region")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert_eq!(region, 0.6);
    // the unrelated listing ranks below both gypsum listings, if at all
    if let Some(p) = ids.iter().position(|i| *i == unrelated) {
        assert!(p > ids.iter().position(|i| *i == gypsum2).unwrap());
    }
    // contact details never appear
    assert!(!r.text.contains("secret@lab.test"));
    // filters: region prefix and limit
    let r = app
        .get(
            &format!("/v1/demands/{nid}/matches?region=11&limit=5"),
            Some(&firm_member),
        )
        .await;
    assert_eq!(listing_ids(&r), vec![gypsum2]);

    // A draft is the firm's alone: a broker and a stranger get 404.
    app.get(&format!("/v1/demands/{nid}/matches"), Some(&broker))
        .await
        .assert_problem(404, "not_found");
    app.get(
        &format!("/v1/demands/{nid}/matches"),
        Some(&stranger.admin_token),
    )
    .await
    .assert_problem(404, "not_found");
    app.get(&format!("/v1/demands/{nid}/matches"), None)
        .await
        .assert_problem(401, "unauthenticated");

    // Once open: brokers of verified agencies may ask; other firms are refused.
    let r = app
        .post(
            &format!("/v1/demands/{nid}/publish"),
            Some(&firm_member),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "open", "{}", r.text);
    {
        drained(&app).await;
        let r = app
            .get(&format!("/v1/demands/{nid}/matches"), Some(&broker))
            .await;
        r.assert_status(200);
        assert_eq!(listing_ids(&r).first(), Some(&gypsum));
        app.get(
            &format!("/v1/demands/{nid}/matches"),
            Some(&stranger.admin_token),
        )
        .await
        .assert_problem(403, "forbidden");

        // The other way: the listing's owner sees the open need, the anonymous firm unnamed.
        let r = app
            .get(
                &format!("/v1/listings/{gypsum}/matches"),
                Some(&uni.admin_token),
            )
            .await;
        r.assert_status(200);
        let items = r.body["items"].as_array().unwrap();
        let first = &items[0];
        assert_eq!(first["demand"]["id"], nid);
        assert!(first["demand"]["org"].is_null(), "{first}");
        assert!(!r.text.contains("needs@firm.test"));
        check_explained(items);
        // a verified broker sees the firm's name
        let r = app
            .get(&format!("/v1/listings/{gypsum}/matches"), Some(&broker))
            .await;
        assert_eq!(r.body["items"][0]["demand"]["org"]["id"], firm.id);
        // the firm itself is never suggested its own need for its own listing
        let r = app
            .get(
                &format!("/v1/listings/{own}/matches"),
                Some(&firm.admin_token),
            )
            .await;
        r.assert_status(200);
        assert!(r.body["items"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn bad_filters_are_field_errors() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;
    let nid = created(
        &app,
        &firm.admin_token,
        "/v1/demands",
        &need("石膏砌块", "石膏堆放问题", false, false),
    )
    .await;
    let t = Some(firm.admin_token.as_str());
    for (q, status, code) in [
        ("field=magic", 422, "validation_failed"),
        ("trl_min=8&trl_max=2", 422, "validation_failed"),
        ("limit=0", 422, "validation_failed"),
        ("limit=101", 422, "validation_failed"),
        ("region=99", 422, "validation_failed"),
        ("price_min=-1", 422, "validation_failed"),
        ("feild=x", 400, "invalid_query"),
        ("limit=abc", 400, "invalid_query"),
    ] {
        app.get(&format!("/v1/demands/{nid}/matches?{q}"), t)
            .await
            .assert_problem(status, code);
    }
    app.get("/v1/demands/999999/matches", t)
        .await
        .assert_problem(404, "not_found");
    app.get("/v1/listings/999999/matches", t)
        .await
        .assert_problem(404, "not_found");
}
