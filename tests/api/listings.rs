//! Listings: validation, lifecycle, permissions, concurrency control, idempotency, search
//! (Chinese, English, mixed; filters, facets, paging), the index following the database, bulk
//! import, and a crash of the real binary in the middle of concurrent writes.
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};
use ttx_tests::fixtures::{merged, query_escape as q};
use ttx_tests::process::ChildServer;
use ttx_tests::{Org, Resp, TestApp};

/// A valid invention-patent application number with its check character.
fn patent(digits12: &str) -> String {
    ttx_listings::patent::PatentNumber::complete(digits12).expect("12 digits")
}

/// A valid listing body; adjust with `patch`.
fn listing(title: &str, patch: Value) -> Value {
    let v = json!({
        "title": title,
        "summary": format!("{title}的成果简介"),
        "description": format!("本成果“{title}”已完成中试验证，可面向企业转化。"),
        "keywords": ["成果转化"],
        "field": "new_energy",
        "trl": 5,
        "ip_items": [{"kind": "invention_patent", "number": format!("CN{}", patent("202310123456")), "status": "granted"}],
        "transfer_modes": ["transfer"],
        "price": {"kind": "negotiable"},
        "contact": {"name": "秘密联系人甲", "phone": "13912345678", "email": "secret-contact@lab.test"}
    });
    merged(v, patch)
}

async fn create(app: &TestApp, token: &str, body: &Value) -> Resp {
    app.post("/v1/listings", Some(token), body).await
}

/// Creates and publishes; returns the id.
async fn published(app: &TestApp, token: &str, title: &str, patch: Value) -> i64 {
    let mut body = listing(title, patch);
    body["publish"] = json!(true);
    let r = create(app, token, &body).await;
    r.assert_status(201);
    assert_eq!(r.body["status"], "published");
    r.body["id"].as_i64().unwrap()
}

fn hit_ids(r: &Resp) -> Vec<i64> {
    r.body["hits"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|h| h["listing"]["id"].as_i64().unwrap())
        .collect()
}

/// Waits until the outbox is drained (readiness reports no pending index update).
async fn drained(app: &TestApp) {
    app.wait_until("/readyz", None, "the search outbox to drain", |r| {
        r.body["search"]["outbox_pending"] == json!(0)
    })
    .await;
}

async fn poster(app: &TestApp) -> Org {
    app.org("university", "110108", false).await
}

#[tokio::test]
async fn create_validates_every_field() {
    let app = TestApp::spawn().await;
    let uni = poster(&app).await;

    let mut body = listing(
        "固态电池电解质材料",
        json!({
            "ip_items": [
                {"kind": "invention_patent", "number": "CN202310123456.7", "status": "granted"},
                {"kind": "utility_model", "number": format!("CN{}", patent("202310123456")), "status": "granted"},
                {"kind": "invention_patent", "status": "applied"}
            ],
            "region_code": "999999",
            "price": {"kind": "range", "min": 500000, "max": 100},
            "transfer_modes": [],
            "keywords": (0..11).map(|i| format!("关键词{i}")).collect::<Vec<_>>(),
            "expires_on": "2001-01-01",
            "contact": {"name": "李", "phone": "12345", "email": "nope"}
        }),
    );
    body["title"] = json!("短");
    let r = create(&app, &uni.admin_token, &body).await;
    r.assert_problem(422, "validation_failed");
    let fields = r.error_fields();
    for f in [
        "title",
        "ip_items[0].number",
        "ip_items[1].number",
        "ip_items[2].number",
        "region_code",
        "price.min",
        "transfer_modes",
        "keywords",
        "expires_on",
        "contact.phone",
        "contact.email",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} not in {fields:?}");
    }
    let codes: BTreeMap<String, String> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(codes["ip_items[0].number"], "invalid_patent_number");
    assert_eq!(codes["ip_items[1].number"], "patent_kind_mismatch");
    assert_eq!(codes["price.min"], "min_greater_than_max");
    assert_eq!(codes["region_code"], "invalid_region");

    // Wrong shapes: serde names the field, never a 500.
    let r = create(
        &app,
        &uni.admin_token,
        &listing("固态电池电解质材料", json!({"trl": 12})),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["trl"]);
    let r = create(
        &app,
        &uni.admin_token,
        &listing("固态电池电解质材料", json!({"price": {"kind": "cheap"}})),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["price.kind"]);
    let r = create(
        &app,
        &uni.admin_token,
        &listing("固态电池电解质材料", json!({"field": "alchemy"})),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["field"]);
    app.post_raw(
        "/v1/listings",
        Some(&uni.admin_token),
        Some("application/json"),
        "{\"title\": ",
    )
    .await
    .assert_problem(400, "malformed_json");

    // Who may post.
    app.post(
        "/v1/listings",
        None,
        &listing("固态电池电解质材料", json!({})),
    )
    .await
    .assert_problem(401, "unauthenticated");
    let agency = app.org("agency", "420111", true).await;
    create(
        &app,
        &agency.admin_token,
        &listing("固态电池电解质材料", json!({})),
    )
    .await
    .assert_problem(403, "listing_org_kind");

    // Valid: region defaults to the organisation's, patent numbers are canonical.
    let firm = app.org("enterprise", "440305", false).await;
    let r = create(&app, &firm.admin_token, &listing("固态电池电解质材料", json!({
        "price": {"kind": "range", "min": 100, "max": 500000},
        "ip_items": [{"kind": "invention_patent", "number": format!("ZL {}", patent("202310123456")), "status": "granted"}, {"kind": "invention_patent", "number": "CN115123456B", "status": "granted"}]
    }))).await;
    r.assert_status(201);
    assert_eq!(r.body["region_code"], "440305");
    assert_eq!(r.body["status"], "draft");
    assert_eq!(
        r.body["ip_items"][0]["number"],
        json!(patent("202310123456"))
    );
    assert_eq!(
        r.body["price"],
        json!({"kind": "range", "min": 100, "max": 500000})
    );
    assert_eq!(r.etag(), "\"1\"");
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v1/listings/{}", r.body["id"])
    );
}

#[tokio::test]
async fn lifecycle_visibility_and_permissions() {
    let app = TestApp::spawn().await;
    let uni = poster(&app).await;
    let member = app.member(&uni, "member").await;
    let other = app.org("research_institute", "440305", false).await;

    let r = create(
        &app,
        &member,
        &listing("钠离子电池正极材料", json!({"external_id": "ext-1"})),
    )
    .await;
    r.assert_status(201);
    let id = r.body["id"].as_i64().unwrap();
    let path = format!("/v1/listings/{id}");
    assert_eq!(r.body["contact"]["phone"], "13912345678");
    assert_eq!(r.body["external_id"], "ext-1");

    // A draft is invisible to everybody but the owner organisation.
    app.get(&path, None).await.assert_problem(404, "not_found");
    app.get(&path, Some(&other.admin_token))
        .await
        .assert_problem(404, "not_found");
    app.get(&path, Some(&uni.admin_token))
        .await
        .assert_status(200);
    let etag = app.get(&path, Some(&member)).await.etag();
    app.patch(&path, Some(&other.admin_token), &etag, &json!({"trl": 6}))
        .await
        .assert_problem(404, "not_found");
    app.post(
        &format!("{path}/publish"),
        Some(&other.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(404, "not_found");
    app.delete(&path, Some(&other.admin_token))
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("{path}/withdraw"), Some(&member), &json!({}))
        .await
        .assert_problem(409, "listing_invalid_transition");

    // Published: public, without contact details or external id.
    let r = app
        .post(&format!("{path}/publish"), Some(&member), &json!({}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "published");
    assert_eq!(r.etag(), "\"2\"");
    for token in [None, Some(other.admin_token.as_str())] {
        let r = app.get(&path, token).await;
        r.assert_status(200);
        assert!(r.body.get("contact").is_none(), "{}", r.text);
        assert!(r.body.get("external_id").is_none());
        for secret in ["13912345678", "secret-contact@lab.test", "秘密联系人甲"] {
            assert!(!r.text.contains(secret), "{secret} leaked: {}", r.text);
        }
        assert_eq!(r.body["owner"]["id"], uni.id);
    }
    // Visible but not theirs: 403.
    let etag = app.get(&path, None).await.etag();
    app.patch(&path, Some(&other.admin_token), &etag, &json!({"trl": 6}))
        .await
        .assert_problem(403, "forbidden");
    app.post(
        &format!("{path}/withdraw"),
        Some(&other.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.delete(&path, Some(&uni.admin_token))
        .await
        .assert_problem(409, "listing_not_draft");
    // The org admin edits what a member posted.
    let r = app
        .patch(&path, Some(&uni.admin_token), &etag, &json!({"trl": 7}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["trl"], 7);

    // Withdrawn: gone for the public, back on publish.
    app.post(&format!("{path}/withdraw"), Some(&member), &json!({}))
        .await
        .assert_status(200);
    app.get(&path, None).await.assert_problem(404, "not_found");
    assert_eq!(
        app.get(&path, Some(&member)).await.body["status"],
        "withdrawn"
    );
    app.post(&format!("{path}/publish"), Some(&member), &json!({}))
        .await
        .assert_status(200);
    let r = app
        .post(&format!("{path}/transacted"), Some(&member), &json!({}))
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "transacted");
    let etag = r.etag();
    app.patch(&path, Some(&member), &etag, &json!({"trl": 8}))
        .await
        .assert_problem(409, "listing_invalid_transition");
    app.post(&format!("{path}/publish"), Some(&member), &json!({}))
        .await
        .assert_problem(409, "listing_invalid_transition");

    // Drafts can be deleted.
    let d = create(&app, &member, &listing("待删除的草稿成果", json!({}))).await;
    let dpath = format!("/v1/listings/{}", d.body["id"]);
    app.delete(&dpath, Some(&member)).await.assert_status(204);
    app.get(&dpath, Some(&member))
        .await
        .assert_problem(404, "not_found");

    // Every state change is audited.
    let audit = app.get("/v1/audit?limit=100", Some(&uni.admin_token)).await;
    audit.assert_status(200);
    for action in [
        "listing.create",
        "listing.publish",
        "listing.update",
        "listing.withdraw",
        "listing.transacted",
        "listing.delete",
    ] {
        assert!(
            audit.text.contains(action),
            "{action} not audited: {}",
            audit.text
        );
    }
    app.get("/v1/listings/abc", None)
        .await
        .assert_problem(400, "invalid_path");
    app.get("/v1/listings/999999", None)
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn if_match_is_required_and_checked() {
    let app = TestApp::spawn().await;
    let uni = poster(&app).await;
    let r = create(
        &app,
        &uni.admin_token,
        &listing("高精度光纤陀螺仪", json!({})),
    )
    .await;
    let path = format!("/v1/listings/{}", r.body["id"]);
    app.send(
        reqwest::Method::PATCH,
        &path,
        Some(&uni.admin_token),
        Some(&json!({"trl": 6})),
        &[],
    )
    .await
    .assert_problem(428, "precondition_required");
    app.patch(
        &path,
        Some(&uni.admin_token),
        "not-an-etag",
        &json!({"trl": 6}),
    )
    .await
    .assert_problem(400, "invalid_header");
    let r = app
        .patch(
            &path,
            Some(&uni.admin_token),
            "\"1\"",
            &json!({"trl": 6, "title": "高精度光纤陀螺仪样机"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.etag(), "\"2\"");
    assert_eq!(r.body["title"], "高精度光纤陀螺仪样机");
    // Someone who read version 1 loses, with nothing overwritten.
    app.patch(&path, Some(&uni.admin_token), "\"1\"", &json!({"trl": 3}))
        .await
        .assert_problem(412, "precondition_failed");
    assert_eq!(app.get(&path, Some(&uni.admin_token)).await.body["trl"], 6);
    app.patch(&path, Some(&uni.admin_token), "\"2\"", &json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .patch(
            &path,
            Some(&uni.admin_token),
            "\"2\"",
            &json!({"price": {"kind": "range", "min": 9, "max": 1}}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["price.min"]);
}

#[tokio::test]
async fn idempotency_key_on_create() {
    let app = TestApp::spawn().await;
    let uni = poster(&app).await;
    let body = listing("一种重组蛋白疫苗佐剂", json!({"field": "biomedicine"}));
    let hdr = [("idempotency-key", "listing-create-1")];
    let a = app
        .send(
            reqwest::Method::POST,
            "/v1/listings",
            Some(&uni.admin_token),
            Some(&body),
            &hdr,
        )
        .await;
    a.assert_status(201);
    let b = app
        .send(
            reqwest::Method::POST,
            "/v1/listings",
            Some(&uni.admin_token),
            Some(&body),
            &hdr,
        )
        .await;
    b.assert_status(201);
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(b.header("idempotent-replayed"), Some("true"));
    let mine = app
        .get(
            "/v1/listings?mine=true&status=draft",
            Some(&uni.admin_token),
        )
        .await;
    mine.assert_status(200);
    assert_eq!(mine.body["total"], 1);
    let other = listing("另一种疫苗佐剂", json!({}));
    app.send(
        reqwest::Method::POST,
        "/v1/listings",
        Some(&uni.admin_token),
        Some(&other),
        &hdr,
    )
    .await
    .assert_problem(422, "idempotency_key_reused");
}

#[tokio::test]
async fn search_finds_chinese_english_and_mixed_text() {
    let app = TestApp::spawn().await;
    let uni = poster(&app).await;
    let t = &uni.admin_token;
    let battery = published(
        &app,
        t,
        "高能量密度固态锂电池及其制备方法",
        json!({
            "summary": "硫化物固态电解质与干法电极结合的固态电池，能量密度提高30%",
            "keywords": ["固态电池", "solid-state battery"],
        }),
    )
    .await;
    let sodium = published(
        &app,
        t,
        "低成本钠离子电池正极材料",
        json!({
            "summary": "层状氧化物正极，适用于电网储能",
            "keywords": ["钠电池", "储能"],
        }),
    )
    .await;
    let chip = published(
        &app,
        t,
        "面向5G基站的氮化镓射频芯片",
        json!({
            "field": "electronic_information",
            "summary": "GaN RF chip for 5G base stations with high efficiency",
            "keywords": ["射频芯片", "GaN"],
        }),
    )
    .await;
    let vaccine = published(
        &app,
        t,
        "mRNA疫苗脂质纳米颗粒递送系统",
        json!({
            "field": "biomedicine",
            "summary": "可电离脂质配方提高疫苗递送效率",
            "keywords": ["疫苗", "LNP", "mRNA vaccine"],
        }),
    )
    .await;
    let graphene = published(
        &app,
        t,
        "石墨烯导热膜连续化制备技术",
        json!({
            "field": "new_materials",
            "summary": "Graphene thermal film for smartphone heat dissipation",
            "keywords": ["graphene", "导热膜"],
        }),
    )
    .await;
    drained(&app).await;

    let search = |query: &str| {
        let path = format!("/v1/listings?q={}", q(query));
        let app = &app;
        async move {
            let r = app.get(&path, None).await;
            r.assert_status(200);
            r
        }
    };
    // Two-character Chinese terms.
    let ids = hit_ids(&search("电池").await);
    assert!(ids.contains(&battery) && ids.contains(&sodium), "{ids:?}");
    assert!(!ids.contains(&chip) && !ids.contains(&vaccine));
    let ids = hit_ids(&search("芯片").await);
    assert_eq!(ids, vec![chip]);
    let ids = hit_ids(&search("疫苗").await);
    assert_eq!(ids, vec![vaccine]);
    // Longer terms rank the best match first.
    let ids = hit_ids(&search("固态锂电池制备方法").await);
    assert_eq!(ids.first(), Some(&battery), "{ids:?}");
    let ids = hit_ids(&search("钠离子电池正极").await);
    assert_eq!(ids.first(), Some(&sodium), "{ids:?}");
    // English and mixed.
    let ids = hit_ids(&search("graphene").await);
    assert_eq!(ids, vec![graphene]);
    let ids = hit_ids(&search("Graphene Thermal").await);
    assert_eq!(ids.first(), Some(&graphene));
    let ids = hit_ids(&search("solid-state battery").await);
    assert_eq!(ids.first(), Some(&battery), "{ids:?}");
    let ids = hit_ids(&search("mRNA疫苗").await);
    assert_eq!(ids.first(), Some(&vaccine), "{ids:?}");
    let ids = hit_ids(&search("5G射频芯片").await);
    assert_eq!(ids.first(), Some(&chip), "{ids:?}");
    assert!(hit_ids(&search("量子计算机").await).is_empty());

    // Hits carry the public listing and highlights, never contact details.
    let r = search("芯片").await;
    let hit = &r.body["hits"][0];
    assert!(
        hit["highlights"]["title"]
            .as_str()
            .unwrap()
            .contains("<em>"),
        "{}",
        r.text
    );
    assert!(hit["listing"].get("contact").is_none());
    assert_eq!(hit["listing"]["title"], "面向5G基站的氮化镓射频芯片");
    // A hit is a card: the long description and IP item details are read by id.
    assert!(hit["listing"].get("description").is_none(), "{}", r.text);
    assert!(hit["listing"]["ip_kinds"].is_array(), "{}", r.text);
    let full = app.get(&format!("/v1/listings/{chip}"), None).await;
    full.assert_status(200);
    assert!(full.body["description"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));
    // Contact details are not in the index: searching for them finds nothing.
    for secret in ["13912345678", "secret-contact@lab.test", "秘密联系人甲"] {
        let r = search(secret).await;
        assert!(hit_ids(&r).is_empty(), "{secret} is searchable: {}", r.text);
        assert!(!r.text.contains(secret));
    }
}

#[tokio::test]
async fn search_filters_facets_sort_and_paging() {
    let app = TestApp::spawn().await;
    let uni = poster(&app).await;
    let inst = app.org("research_institute", "440305", false).await;
    // (field, trl, modes, price, region, ip kind, dual use)
    let specs = [
        (
            "new_energy",
            3,
            vec!["transfer"],
            json!({"kind": "fixed", "amount": 1_000_000}),
            "110108",
            "invention_patent",
            false,
        ),
        (
            "new_energy",
            6,
            vec!["license", "transfer"],
            json!({"kind": "range", "min": 2_000_000, "max": 5_000_000}),
            "440305",
            "utility_model",
            false,
        ),
        (
            "new_energy",
            9,
            vec!["equity"],
            json!({"kind": "negotiable"}),
            "440303",
            "invention_patent",
            true,
        ),
        (
            "aerospace",
            7,
            vec!["co_development"],
            json!({"kind": "fixed", "amount": 9_000_000}),
            "310115",
            "software",
            true,
        ),
        (
            "agriculture",
            4,
            vec!["service", "license"],
            json!({"kind": "fixed", "amount": 300_000}),
            "440305",
            "technical_secret",
            false,
        ),
    ];
    let mut ids = vec![];
    for (i, (field, trl, modes, price, region, ip, dual)) in specs.iter().enumerate() {
        let ip_item = match *ip {
            "invention_patent" => {
                json!({"kind": ip, "number": patent(&format!("20221{:07}", 1000 + i)), "status": "granted"})
            }
            "utility_model" => {
                json!({"kind": ip, "number": patent(&format!("20222{:07}", 1000 + i)), "status": "granted"})
            }
            "software" => json!({"kind": ip, "number": "2022SR0123456", "status": "registered"}),
            _ => json!({"kind": ip, "status": "registered"}),
        };
        let token = if i % 2 == 0 {
            &uni.admin_token
        } else {
            &inst.admin_token
        };
        ids.push(
            published(
                &app,
                token,
                &format!("过滤测试成果第{i}号"),
                json!({
                    "field": field, "trl": trl, "transfer_modes": modes, "price": price,
                    "region_code": region, "ip_items": [ip_item], "dual_use": dual,
                    "keywords": ["过滤测试"]
                }),
            )
            .await,
        );
    }
    // A draft never counts.
    create(
        &app,
        &uni.admin_token,
        &listing("过滤测试成果草稿", json!({"keywords": ["过滤测试"]})),
    )
    .await
    .assert_status(201);
    drained(&app).await;

    let get = |query: String| {
        let app = &app;
        async move {
            let r = app.get(&format!("/v1/listings?{query}"), None).await;
            r.assert_status(200);
            r
        }
    };
    let set = |r: &Resp| hit_ids(r).into_iter().collect::<HashSet<i64>>();
    let pick = |is: &[usize]| is.iter().map(|i| ids[*i]).collect::<HashSet<i64>>();

    let r = get("q=过滤测试&facets=field,modes,ip_kinds,province,trl,dual_use,status".into()).await;
    assert_eq!(r.body["total"], 5);
    assert_eq!(set(&r), pick(&[0, 1, 2, 3, 4]));
    let f = &r.body["facets"];
    assert_eq!(
        f["field"],
        json!({"new_energy": 3, "aerospace": 1, "agriculture": 1})
    );
    assert_eq!(
        f["modes"],
        json!({"transfer": 2, "license": 2, "equity": 1, "co_development": 1, "service": 1})
    );
    assert_eq!(
        f["ip_kinds"],
        json!({"invention_patent": 2, "utility_model": 1, "software": 1, "technical_secret": 1})
    );
    assert_eq!(f["province"], json!({"11": 1, "44": 3, "31": 1}));
    assert_eq!(f["dual_use"], json!({"true": 2, "false": 3}));
    assert_eq!(f["status"], json!({"published": 5}));
    assert_eq!(f["trl"], json!({"3": 1, "4": 1, "6": 1, "7": 1, "9": 1}));

    assert_eq!(set(&get("field=new_energy".into()).await), pick(&[0, 1, 2]));
    assert_eq!(
        set(&get("field=new_energy&field=aerospace".into()).await),
        pick(&[0, 1, 2, 3])
    );
    assert_eq!(
        set(&get("trl_min=4&trl_max=7".into()).await),
        pick(&[1, 3, 4])
    );
    assert_eq!(set(&get("mode=license".into()).await), pick(&[1, 4]));
    assert_eq!(
        set(&get("mode=equity&mode=co_development".into()).await),
        pick(&[2, 3])
    );
    assert_eq!(
        set(&get("price_min=1500000&price_max=8000000".into()).await),
        pick(&[1])
    );
    assert_eq!(
        set(&get("price_min=1500000&price_max=8000000&include_negotiable=true".into()).await),
        pick(&[1, 2])
    );
    assert_eq!(set(&get("region=44".into()).await), pick(&[1, 2, 4]));
    assert_eq!(set(&get("region=4403".into()).await), pick(&[1, 2, 4]));
    assert_eq!(set(&get("region=440305".into()).await), pick(&[1, 4]));
    assert_eq!(set(&get("region=440000".into()).await), pick(&[1, 2, 4]));
    assert_eq!(
        set(&get("ip_kind=invention_patent".into()).await),
        pick(&[0, 2])
    );
    assert_eq!(set(&get("dual_use=true".into()).await), pick(&[2, 3]));
    assert_eq!(
        set(&get("field=new_energy&dual_use=false&mode=transfer".into()).await),
        pick(&[0, 1])
    );
    let r = get("field=new_energy&facets=modes".into()).await;
    assert_eq!(
        r.body["facets"]["modes"],
        json!({"transfer": 2, "license": 1, "equity": 1})
    );

    // Sorts.
    let r = get("q=过滤测试&sort=price_asc".into()).await;
    assert_eq!(hit_ids(&r), vec![ids[4], ids[0], ids[1], ids[3], ids[2]]);
    let r = get("q=过滤测试&sort=price_desc".into()).await;
    assert_eq!(hit_ids(&r)[..2], [ids[3], ids[1]]);
    let r = get("sort=newest".into()).await;
    assert_eq!(set(&r), pick(&[0, 1, 2, 3, 4]));
    let times: Vec<String> = r.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["listing"]["published_at"].as_str().unwrap().to_string())
        .collect();
    let secs = |t: &String| chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp();
    assert!(
        times.windows(2).all(|w| secs(&w[0]) >= secs(&w[1])),
        "{times:?}"
    );

    // Paging: every hit once, then no cursor.
    let mut seen = vec![];
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let c = cursor
            .as_deref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let r = get(format!("q=过滤测试&limit=2{c}")).await;
        assert_eq!(r.body["total"], 5);
        seen.extend(hit_ids(&r));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 5);

    // Bad parameters are problems naming the parameter, never 500s.
    let r = app
        .get(
            "/v1/listings?field=alchemy&trl_min=0&region=9&sort=best&facets=colour",
            None,
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let fields = r.error_fields();
    for f in ["field", "trl_min", "region", "sort", "facets"] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    app.get("/v1/listings?trl_min=abc", None)
        .await
        .assert_problem(400, "invalid_query");
    app.get("/v1/listings?cursor=garbage", None)
        .await
        .assert_problem(400, "invalid_cursor");
    app.get("/v1/listings?status=draft", None)
        .await
        .assert_problem(422, "validation_failed");
    app.get("/v1/listings?mine=true", None)
        .await
        .assert_problem(401, "unauthenticated");

    // Own listings in every state, from the database.
    let r = app
        .get(
            "/v1/listings?mine=true&facets=status",
            Some(&uni.admin_token),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["total"], 4);
    assert_eq!(
        r.body["facets"]["status"],
        json!({"published": 3, "draft": 1})
    );
    let r = app
        .get(
            &format!("/v1/listings?mine=true&status=draft&q={}", q("草稿")),
            Some(&uni.admin_token),
        )
        .await;
    assert_eq!(r.body["total"], 1);
    assert!(r.body["hits"][0]["listing"].get("contact").is_none());
}

#[tokio::test]
async fn withdrawn_and_expired_leave_the_index() {
    let app = TestApp::spawn().await;
    let uni = poster(&app).await;
    let id = published(
        &app,
        &uni.admin_token,
        "海上风电叶片防冰涂层",
        json!({"keywords": ["风电"]}),
    )
    .await;
    let expires_on = app.clock.today() + chrono::Days::new(10);
    let keep = published(
        &app,
        &uni.admin_token,
        "风电齿轮箱健康监测系统",
        json!({"keywords": ["风电"], "expires_on": expires_on.to_string()}),
    )
    .await;
    let path = format!("/v1/listings?q={}", q("风电"));
    app.wait_until(&path, None, "both listings to be indexed", |r| {
        hit_ids(r).len() == 2
    })
    .await;
    app.post(
        &format!("/v1/listings/{id}/withdraw"),
        Some(&uni.admin_token),
        &json!({}),
    )
    .await
    .assert_status(200);
    let r = app
        .wait_until(
            &path,
            None,
            "the withdrawn listing to leave the index",
            |r| r.body["total"] == json!(1),
        )
        .await;
    assert_eq!(hit_ids(&r), vec![keep]);

    // Past its expiry date a listing reads as expired at once, and the expiry job records it.
    app.clock.advance(chrono::Duration::days(13));
    app.get(&format!("/v1/listings/{keep}"), None)
        .await
        .assert_problem(404, "not_found");
    let own = app
        .get(&format!("/v1/listings/{keep}"), Some(&uni.admin_token))
        .await;
    assert_eq!(own.body["status"], "expired");
    let r = app.get(&path, None).await;
    assert!(hit_ids(&r).is_empty(), "expired listing served: {}", r.text);
    let n = ttx_listings::service::expire_due(&app.db, app.clock.now())
        .await
        .unwrap();
    assert_eq!(n, 1);
    app.wait_until(&path, None, "the expired listing to leave the index", |r| {
        r.body["total"] == json!(0)
    })
    .await;
    // Moving the date and publishing again brings it back.
    let etag = app
        .get(&format!("/v1/listings/{keep}"), Some(&uni.admin_token))
        .await
        .etag();
    let later = (app.clock.today() + chrono::Days::new(30)).to_string();
    app.post(
        &format!("/v1/listings/{keep}/publish"),
        Some(&uni.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(409, "listing_expired");
    app.patch(
        &format!("/v1/listings/{keep}"),
        Some(&uni.admin_token),
        &etag,
        &json!({"expires_on": later}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("/v1/listings/{keep}/publish"),
        Some(&uni.admin_token),
        &json!({}),
    )
    .await
    .assert_status(200);
    app.wait_until(&path, None, "the re-published listing", |r| {
        hit_ids(r) == vec![keep]
    })
    .await;
}

#[tokio::test]
async fn import_cli_validates_rows_and_updates_by_external_id() {
    let app = TestApp::spawn().await;
    let uni = poster(&app).await;
    let good_patent = patent("202110654321");
    let csv = format!(
        "title,summary,description,keywords,field,trl,transfer_modes,price,ip_items,region_code,contact_phone,external_id\n\
         导入测试钙钛矿电池,钙钛矿叠层电池,效率超过30%的叠层电池,钙钛矿;叠层,new_energy,6,transfer;license,1000000-2000000,invention_patent:{good_patent}:granted,,13800138000,x-1\n\
         导入测试坏专利,摘要,描述,,new_energy,5,transfer,面议,invention_patent:CN202110654321.0:granted,,,x-2\n\
         导入测试坏地区,摘要,描述,,new_energy,5,transfer,500,,999999,,x-3\n\
         导入测试水稻品种,耐盐碱水稻,适合盐碱地,水稻,agriculture,8,license,面议,,,,x-4\n"
    );
    let file = app.dir.path().join("listings.csv");
    std::fs::write(&file, csv).unwrap();
    let out = run_cli(
        &app,
        &[
            "import",
            "listings",
            file.to_str().unwrap(),
            "--org",
            &uni.id.to_string(),
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("4 rows: 2 created, 0 updated, 2 failed"),
        "{stdout}"
    );
    assert!(stderr.contains("line 3: ip_items[0].number"), "{stderr}");
    assert!(stderr.contains("line 4: region_code"), "{stderr}");

    let path = format!("/v1/listings?q={}", q("导入测试"));
    app.wait_until(&path, None, "imported listings", |r| {
        r.body["total"] == json!(2)
    })
    .await;

    // Re-import: the same external ids update, nothing is duplicated.
    let jsonl = app.dir.path().join("again.jsonl");
    let line = json!({
        "title": "导入测试钙钛矿电池（第二版）", "summary": "更新后的简介", "description": "更新",
        "field": "new_energy", "trl": 7, "transfer_modes": ["equity"], "price": {"kind": "negotiable"},
        "external_id": "x-1"
    });
    std::fs::write(&jsonl, format!("{line}\n\n{{\"title\": \n")).unwrap();
    let out = run_cli(
        &app,
        &[
            "import",
            "listings",
            jsonl.to_str().unwrap(),
            "--org",
            &uni.id.to_string(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 rows: 0 created, 1 updated, 1 failed"),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = app
        .wait_until(
            &format!("/v1/listings?q={}", q("第二版")),
            None,
            "the updated listing",
            |r| r.body["total"] == json!(1),
        )
        .await;
    assert_eq!(r.body["hits"][0]["listing"]["trl"], 7);
    let all = app
        .get("/v1/listings?mine=true", Some(&uni.admin_token))
        .await;
    assert_eq!(all.body["total"], 2);

    // A wrong organisation is refused as a whole.
    let agency = app.org("agency", "420111", false).await;
    let out = run_cli(
        &app,
        &[
            "import",
            "listings",
            jsonl.to_str().unwrap(),
            "--org",
            &agency.id.to_string(),
        ],
    )
    .await;
    assert!(!out.status.success());
}

/// Runs the real binary to completion without blocking the test's runtime: the app under test
/// runs on that runtime, and a blocked runtime could leave one of its transactions holding the
/// SQLite write lock that the child process waits for.
async fn run_cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    ttx_tests::process::run_cli(crate::TTX_BIN, app, args).await
}

/// The real binary as a child process.
async fn start_server(dir: &std::path::Path, db_url: &str) -> ChildServer {
    ChildServer::start(crate::TTX_BIN, dir, db_url, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_loses_no_acknowledged_listing() {
    let dir = tempfile::tempdir().unwrap();
    let (db_url, pg) = ttx_tests::fresh_database(dir.path()).await;
    let _drop = ttx_testdb::DropDatabase(pg);
    let mut server = start_server(dir.path(), &db_url).await;
    let client = reqwest::Client::new();
    let n = ttx_tests::fixtures::next();
    let signup = client
        .post(format!("{}/v1/signup", server.base))
        .json(&json!({
            "org": {"kind": "university", "name": format!("崩溃测试大学{n}"),
                    "credit_code": ttx_tests::fixtures::credit_code("110108", n), "region_code": "110108"},
            "admin": {"email": format!("crash{n}@org.test"), "display_name": "管理员", "password": "correct-horse-42"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    let token = signup.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();

    // Eight clients create published listings until the server dies under them.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(i64, String)>::new()));
    let mut clients = vec![];
    for c in 0..8 {
        let (client, base, token, acked) = (
            client.clone(),
            server.base.clone(),
            token.clone(),
            acked.clone(),
        );
        clients.push(tokio::spawn(async move {
            for k in 0..10_000 {
                let title = format!("崩溃恢复测试 crashprobe 样品{c}x{k}");
                let mut body = listing(&title, json!({}));
                body["publish"] = json!(true);
                let r = client
                    .post(format!("{base}/v1/listings"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                let Ok(r) = r else { return };
                if r.status() != 201 {
                    return;
                }
                let Ok(v) = r.json::<Value>().await else {
                    return;
                };
                acked
                    .lock()
                    .unwrap()
                    .push((v["id"].as_i64().unwrap(), title));
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 60 {
        assert!(Instant::now() < deadline, "creates too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill(); // SIGKILL, with requests in flight
    for c in clients {
        c.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 60);

    let mut server = start_server(dir.path(), &db_url).await;
    // Every acknowledged listing is in the database...
    for (id, title) in &acked {
        let r = client
            .get(format!("{}/v1/listings/{id}", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "listing {id} lost");
        assert_eq!(r.json::<Value>().await.unwrap()["title"], json!(title));
    }
    // ...and, once the outbox drains, searchable.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r: Value = client
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if r["search"]["outbox_pending"] == json!(0) {
            break;
        }
        assert!(Instant::now() < deadline, "outbox did not drain: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut found = HashSet::new();
    let mut cursor = String::new();
    loop {
        let r: Value = client
            .get(format!(
                "{}/v1/listings?q=crashprobe&limit=100{cursor}",
                server.base
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for h in r["hits"].as_array().unwrap() {
            found.insert(h["listing"]["id"].as_i64().unwrap());
        }
        match r["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let missing: Vec<i64> = acked
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !found.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not searchable after restart: {missing:?}"
    );
    server.kill();
}

/// Audit entries of `action` on listing `id`, as the owner organisation's admin reads them.
async fn audit_details(app: &TestApp, admin: &str, action: &str, id: i64) -> Vec<Value> {
    let r = app.get("/v1/audit?limit=100", Some(admin)).await;
    r.assert_status(200);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action && e["target_id"].as_str() == Some(&*id.to_string()))
        .map(|e| e["detail"].clone())
        .collect()
}

#[tokio::test]
async fn withdrawing_takes_a_reason_the_owner_reads() {
    let app = TestApp::spawn().await;
    let uni = app.org("university", "110108", false).await;
    let other = app.org("enterprise", "310115", false).await;
    let op = app.operator().await;
    let owner = uni.admin_token.as_str();
    let id = published(&app, owner, "可撤回理由的成果", json!({})).await;
    let path = format!("/v1/listings/{id}");

    // Too long, or not text: 422 naming the field; nothing changes.
    let r = app
        .post(
            &format!("{path}/withdraw"),
            Some(owner),
            &json!({"reason": "长".repeat(501)}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["reason"]);
    app.post(
        &format!("{path}/withdraw"),
        Some(owner),
        &json!({"reason": 5}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        &format!("{path}/withdraw"),
        Some(owner),
        &json!({"why": "x"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    assert_eq!(app.get(&path, None).await.body["status"], "published");

    // The owner's reason: in its view and in the audit log, never in public reads.
    let reason = "已与某企业达成独家合作意向，暂停对外推广";
    let r = app
        .post(
            &format!("{path}/withdraw"),
            Some(owner),
            &json!({"reason": format!("  {reason}  ")}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "withdrawn");
    assert_eq!(r.body["withdrawal_reason"], reason);
    assert_eq!(
        app.get(&path, Some(owner)).await.body["withdrawal_reason"],
        reason
    );
    app.get(&path, Some(&other.admin_token))
        .await
        .assert_problem(404, "not_found");
    let details = audit_details(&app, owner, "listing.withdraw", id).await;
    assert_eq!(details.len(), 1, "{details:?}");
    assert_eq!(details[0]["reason"], reason);

    // Published again: the reason is gone; the public never saw it.
    let r = app
        .post(&format!("{path}/publish"), Some(owner), &json!({}))
        .await;
    r.assert_status(200);
    assert!(r.body.get("withdrawal_reason").is_none(), "{}", r.text);
    let public = app.get(&path, None).await;
    assert!(!public.text.contains(reason), "{}", public.text);

    // No body still withdraws (the owner may leave the reason out).
    let r = app
        .post_raw(&format!("{path}/withdraw"), Some(owner), None, "")
        .await;
    r.assert_status(200);
    assert!(r.body.get("withdrawal_reason").is_none(), "{}", r.text);
    app.post(&format!("{path}/publish"), Some(owner), &json!({}))
        .await
        .assert_status(200);

    // An operator taking it down must say why; the owner reads it.
    app.post(&format!("{path}/withdraw"), Some(&op), &json!({}))
        .await
        .assert_problem(422, "validation_failed");
    let why = "标题与内容不符，请修改后重新发布";
    app.post(
        &format!("{path}/withdraw"),
        Some(&op),
        &json!({"reason": why}),
    )
    .await
    .assert_status(200);
    let r = app.get(&path, Some(owner)).await;
    assert_eq!(r.body["status"], "withdrawn");
    assert_eq!(r.body["withdrawal_reason"], why);
    let details = audit_details(&app, owner, "listing.withdraw", id).await;
    assert!(
        details
            .iter()
            .any(|d| d["reason"] == why && d["moderation"] == true),
        "{details:?}"
    );
}

#[tokio::test]
async fn a_non_exclusive_licence_keeps_the_listing_open() {
    let app = TestApp::spawn().await;
    let uni = app.org("university", "110108", false).await;
    let owner = uni.admin_token.as_str();
    let id = published(
        &app,
        owner,
        "可普通许可的成果",
        json!({"transfer_modes": ["license", "transfer"]}),
    )
    .await;
    let path = format!("/v1/listings/{id}");
    let deal = |body: Value| {
        let app = &app;
        let path = path.clone();
        async move {
            app.post(&format!("{path}/transacted"), Some(owner), &body)
                .await
        }
    };

    // Two non-exclusive licensees: recorded, the listing stays published and searchable.
    for n in 1..=2 {
        let r = deal(json!({"mode": "license", "licence_scope": "non_exclusive"})).await;
        r.assert_status(200);
        assert_eq!(r.body["status"], "published", "{}", r.text);
        assert_eq!(r.body["licences_granted"], n);
        assert!(r.body["last_transacted_at"].is_string());
    }
    let public = app.get(&path, None).await;
    public.assert_status(200);
    assert_eq!(public.body["licences_granted"], 2);
    drained(&app).await;
    let r = app.get("/v1/listings", None).await;
    assert!(hit_ids(&r).contains(&id), "{}", r.text);

    // Deals that do not fit: 422 naming the field.
    let r = deal(json!({"mode": "license"})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["licence_scope"]);
    let r = deal(json!({"mode": "equity"})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["mode"]);
    let r = deal(json!({"mode": "transfer", "licence_scope": "sole"})).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["licence_scope"]);
    deal(json!({"mode": "license", "licence_scope": "forever"}))
        .await
        .assert_problem(422, "validation_failed");
    // An exclusive licence would take the licensees' rights away.
    deal(json!({"mode": "license", "licence_scope": "exclusive"}))
        .await
        .assert_problem(409, "listing_licence_conflict");
    assert_eq!(app.get(&path, None).await.body["status"], "published");

    // A transfer is final.
    let r = deal(json!({"mode": "transfer"})).await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "transacted");
    assert_eq!(r.body["licences_granted"], 2);
    deal(json!({"mode": "license", "licence_scope": "non_exclusive"}))
        .await
        .assert_problem(409, "listing_invalid_transition");
    let details = audit_details(&app, owner, "listing.transacted", id).await;
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(details
        .iter()
        .any(|d| d["deal"]["licence_scope"] == "non_exclusive"
            && d["deal"]["stays_open"] == true
            && d["to"] == "published"));

    // An exclusive licence on a fresh listing is final too.
    let other = published(
        &app,
        owner,
        "独占许可的成果",
        json!({"transfer_modes": ["license"]}),
    )
    .await;
    let r = app
        .post(
            &format!("/v1/listings/{other}/transacted"),
            Some(owner),
            &json!({"mode": "license", "licence_scope": "exclusive"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "transacted");
    assert_eq!(r.body["licences_granted"], 0);
}

#[tokio::test]
async fn listing_prices_may_be_given_in_yuan() {
    let app = TestApp::spawn().await;
    let uni = app.org("university", "110108", false).await;
    let t = uni.admin_token.as_str();
    let r = create(
        &app,
        t,
        &listing(
            "以元标价的成果",
            json!({"price": {"kind": "fixed", "amount_yuan": "12.50"}}),
        ),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.body["price"], json!({"kind": "fixed", "amount": 1250}));
    let path = format!("/v1/listings/{}", r.body["id"]);
    // A patch in 元 too; both forms agreeing is fine.
    let r = app
        .patch(
            &path,
            Some(t),
            &r.etag(),
            &json!({"price": {"kind": "range", "min_yuan": "100000", "max": 30_000_000, "max_yuan": "300000.00"}}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        r.body["price"],
        json!({"kind": "range", "min": 10_000_000, "max": 30_000_000})
    );
    // Different amounts, too many decimals, an exponent, nothing: 422 naming each field.
    let r = create(
        &app,
        t,
        &listing(
            "金额有误的成果",
            json!({"price": {"kind": "range", "min": 100, "min_yuan": "2.00", "max_yuan": "1.234"}}),
        ),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["price.min_yuan", "price.max_yuan"]);
    for (price, field) in [
        (
            json!({"kind": "fixed", "amount_yuan": "1e3"}),
            "price.amount_yuan",
        ),
        (
            json!({"kind": "fixed", "amount_yuan": "-3"}),
            "price.amount_yuan",
        ),
        (
            json!({"kind": "fixed", "amount_yuan": "99999999999999999"}),
            "price.amount_yuan",
        ),
        (json!({"kind": "fixed"}), "price.amount"),
    ] {
        let r = create(&app, t, &listing("金额有误的成果", json!({"price": price}))).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), vec![field], "{}", r.text);
    }
    // A number where the 元 string goes is a shape error naming the field.
    let r = create(
        &app,
        t,
        &listing(
            "金额有误的成果",
            json!({"price": {"kind": "fixed", "amount_yuan": 12.5}}),
        ),
    )
    .await;
    r.assert_problem(422, "validation_failed");
    assert!(
        r.error_fields().iter().all(|f| f.starts_with("price")),
        "{}",
        r.text
    );
}
