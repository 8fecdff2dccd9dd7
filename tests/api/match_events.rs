//! Matchmaking events (科技对接活动): who organises, registering published listings and open
//! needs, the proposed schedule (no organisation twice in a slot, no table twice, best pairs
//! first), outcomes with a registered contract, and a report that adds up — its signed amount
//! is the contract's registered amount in the ledger. Visibility: the organiser sees
//! everything, the report is public once the event is over, anyone else gets 404.
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use ttx_tests::fixtures::{self, day, WAN};
use ttx_tests::{Org, TestApp};

async fn listing(app: &TestApp, org: &Org, title: &str, keywords: &[&str], field: &str) -> i64 {
    let text = format!(
        "本成果“{title}”已完成中试验证，关键词：{}。",
        keywords.join("、")
    );
    let body = fixtures::listing_body(title, &text, keywords, field);
    app.create("/v1/listings", &org.admin_token, &body).await
}

async fn need(
    app: &TestApp,
    org: &Org,
    title: &str,
    topic: &str,
    keywords: &[&str],
    field: &str,
) -> i64 {
    let body = json!({
        "title": title,
        "problem": format!("我司在{topic}方面遇到瓶颈：现有工艺成本高、质量不稳定，已影响主要客户交付，急需外部技术支持。"),
        "key_points": format!("{topic}的关键工艺与配方；中试放大；与现有产线集成。"),
        "goals": format!("完成{topic}技术的中试验证，产品满足国家标准，成本降低两成。"),
        "keywords": keywords,
        "field": field,
        "modes": ["license"],
        "trl_min": 5,
        "trl_max": 8,
        "budget": {"kind": "negotiable"},
        "deadline": day(90),
        "contact": {"name": "需求对接人", "phone": "13812345678", "email": "need@firm.test"},
        "publish": true
    });
    let r = app.post("/v1/demands", Some(&org.admin_token), &body).await;
    r.assert_status(201);
    assert_eq!(r.body["status"], "open", "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

fn event_body(title: &str, date: &str) -> Value {
    json!({
        "title": title,
        "description": "面向长三角的成果转化对接",
        "venue": "苏州国际博览中心",
        "date": date,
        "start_time": "09:00",
        "slots": 3,
        "tables": 2,
        "slot_minutes": 20
    })
}

/// A contract drafted by a member of `seller` with `buyer`; returns its id and the member.
async fn draft_contract(app: &TestApp, seller: &Org, buyer: &Org, amount: i64) -> (i64, String) {
    let member = app.member(seller, "member").await;
    let r = app
        .post(
            "/v1/contracts",
            Some(&member),
            &json!({
                "title": "磷石膏制备绿色建材技术许可",
                "sub_kind": "patent_license",
                "buyer": {"org_id": buyer.id},
                "contract_amount": amount,
                "non_technical_costs": amount / 10,
                "signed_on": day(-1),
                "term_start": day(-1),
                "term_end": day(364),
                "tech_field": "environment",
                "ip_kind": "invention_patent",
                "documents": [{"name": "许可合同.pdf", "sha256": format!("{:064x}", 7), "size_bytes": 1000}]
            }),
        )
        .await;
    r.assert_status(201);
    (r.body["id"].as_i64().unwrap(), member)
}

/// A contract between `seller` and `buyer`, registered by the Beijing station; returns its id
/// and the registered contract and technology amounts the ledger holds.
async fn registered_contract(
    app: &TestApp,
    seller: &Org,
    buyer: &Org,
    amount: i64,
) -> (i64, i64, i64) {
    let station = app.org("station", "110000", true).await;
    let reviewer = app.member(&station, "station_reviewer").await;
    let (cid, member) = draft_contract(app, seller, buyer, amount).await;
    for (token, action) in [
        (&member, "submit"),
        (&reviewer, "accept"),
        (&reviewer, "register"),
    ] {
        app.post(
            &format!("/v1/contracts/{cid}/{action}"),
            Some(token),
            &json!({}),
        )
        .await
        .assert_status(200);
    }
    let ledger = app
        .get(&format!("/v1/contracts/{cid}/ledger"), Some(&member))
        .await;
    ledger.assert_status(200);
    let (c, t) = ledger.body.as_array().unwrap().iter().fold((0, 0), |a, e| {
        (
            a.0 + e["contract_amount_delta"].as_i64().unwrap(),
            a.1 + e["technology_amount_delta"].as_i64().unwrap(),
        )
    });
    assert_eq!(c, amount, "the ledger books the registered amount");
    (cid, c, t)
}

fn org_of(side: &Value) -> i64 {
    side["org"]["id"]
        .as_i64()
        .expect("org shown to the organiser")
}

#[tokio::test]
async fn the_schedule_books_no_party_twice_in_a_slot_and_the_report_adds_up() {
    let app = TestApp::spawn_with(|c| c.matching.push_interval_secs = 0).await;
    let agency = app.org("agency", "320505", true).await;
    let broker = app.member(&agency, "broker").await;
    let clerk = app.member(&agency, "member").await;
    let uni1 = app.org("university", "110108", false).await;
    let uni2 = app.org("research_institute", "440305", false).await;
    let firm1 = app.org("enterprise", "320505", false).await;
    let firm2 = app.org("enterprise", "310104", false).await;
    let outsider = app.org("enterprise", "330106", false).await;

    // Who organises.
    let body = event_body("2026长三角科技成果对接会", &day(30));
    app.post("/v1/events", Some(&firm1.admin_token), &body)
        .await
        .assert_problem(403, "forbidden");
    app.post("/v1/events", Some(&clerk), &body)
        .await
        .assert_problem(403, "forbidden");
    let unverified = app.org("agency", "320505", false).await;
    app.post("/v1/events", Some(&unverified.admin_token), &body)
        .await
        .assert_problem(403, "org_not_verified");
    let r = app
        .post(
            "/v1/events",
            Some(&broker),
            &json!({"title": "会", "date": "20261301", "slots": 0, "tables": 2, "slot_minutes": 2}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let r = app
        .post(
            "/v1/events",
            Some(&broker),
            &json!({"title": "会", "venue": "", "slots": 0, "tables": 2, "slot_minutes": 2}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let fields = r.error_fields();
    for f in ["title", "venue", "date", "slots", "slot_minutes"] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    let r = app.post("/v1/events", Some(&broker), &body).await;
    r.assert_status(201);
    let ev = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["over"], false);
    assert_eq!(r.body["organiser"]["id"], agency.id);

    // Listings and needs.
    let l1 = listing(
        &app,
        &uni1,
        "磷石膏制备绿色建材关键技术",
        &["磷石膏", "建材"],
        "environment",
    )
    .await;
    let l2 = listing(
        &app,
        &uni1,
        "高镍三元锂电池正极材料制备",
        &["锂电池", "正极材料"],
        "new_energy",
    )
    .await;
    let l3 = listing(
        &app,
        &uni2,
        "废旧锂电池正极材料回收再生",
        &["锂电池", "回收"],
        "new_energy",
    )
    .await;
    let d1 = need(
        &app,
        &firm1,
        "寻求磷石膏制备建材综合利用技术",
        "磷石膏制备建材",
        &["磷石膏", "建材"],
        "environment",
    )
    .await;
    let d2 = need(
        &app,
        &firm2,
        "寻求锂电池正极材料制备技术",
        "锂电池正极材料",
        &["锂电池", "正极材料"],
        "new_energy",
    )
    .await;
    let d3 = need(
        &app,
        &firm1,
        "寻求废旧锂电池回收技术",
        "废旧锂电池回收",
        &["锂电池", "回收"],
        "new_energy",
    )
    .await;
    let draft = {
        let r = app
            .post(
                "/v1/listings",
                Some(&uni1.admin_token),
                &json!({"title": "未发布的草稿成果", "summary": "草稿", "description": "草稿",
                        "keywords": ["草稿"], "field": "environment", "trl": 3, "ip_items": [],
                        "transfer_modes": ["license"], "price": {"kind": "negotiable"}}),
            )
            .await;
        r.assert_status(201);
        r.body["id"].as_i64().unwrap()
    };

    // Registering: the organiser only, published listings and open needs only, once each.
    let entries = format!("/v1/events/{ev}/entries");
    app.post(
        &entries,
        Some(&outsider.admin_token),
        &json!({"listing_id": l1}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(&entries, Some(&clerk), &json!({"listing_id": l1}))
        .await
        .assert_problem(403, "forbidden");
    let r = app
        .post(&entries, Some(&broker), &json!({"listing_id": draft}))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["listing_id"]);
    app.post(
        &entries,
        Some(&broker),
        &json!({"listing_id": l1, "demand_id": d1}),
    )
    .await
    .assert_problem(422, "validation_failed");
    for b in [
        json!({"listing_id": l1}),
        json!({"listing_id": l2}),
        json!({"listing_id": l3}),
        json!({"demand_id": d1}),
        json!({"demand_id": d2}),
        json!({"demand_id": d3}),
    ] {
        app.post(&entries, Some(&broker), &b)
            .await
            .assert_status(201);
    }
    app.post(&entries, Some(&broker), &json!({"demand_id": d1}))
        .await
        .assert_problem(409, "already_exists");

    // Unpublished details are the organiser's.
    app.get(&format!("/v1/events/{ev}"), Some(&outsider.admin_token))
        .await
        .assert_problem(404, "not_found");
    let r = app.get(&format!("/v1/events/{ev}"), Some(&clerk)).await;
    r.assert_status(200);
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 6);
    app.get(&format!("/v1/events/{ev}/report"), None)
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("/v1/events/{ev}/report"), Some(&uni1.admin_token))
        .await
        .assert_problem(404, "not_found");

    // The schedule.
    let sched = format!("/v1/events/{ev}/schedule");
    app.post(&sched, Some(&outsider.admin_token), &json!({}))
        .await
        .assert_problem(404, "not_found");
    app.post(&sched, Some(&broker), &json!({"min_score": 2}))
        .await
        .assert_problem(422, "validation_failed");
    let r = app
        .send(reqwest::Method::POST, &sched, Some(&broker), None, &[])
        .await;
    r.assert_status(200);
    assert_eq!(
        r.body["candidates"], 9,
        "3 listings × 3 needs, all of other organisations"
    );
    let pairings = r.body["pairings"].as_array().unwrap().clone();
    assert!(!pairings.is_empty());
    assert_eq!(
        pairings.len() as u64 + r.body["left_out"].as_u64().unwrap(),
        9
    );
    let mut seats = HashSet::new();
    let mut in_slot: HashMap<i64, HashSet<i64>> = HashMap::new();
    for p in &pairings {
        let (slot, table) = (p["slot"].as_i64().unwrap(), p["table"].as_i64().unwrap());
        assert!((0..3).contains(&slot) && (0..2).contains(&table), "{p}");
        assert!(
            seats.insert((slot, table)),
            "table {table} twice in slot {slot}"
        );
        let orgs = in_slot.entry(slot).or_default();
        for side in [&p["listing"], &p["demand"]] {
            assert!(
                orgs.insert(org_of(side)),
                "organisation {} twice in slot {slot}: {pairings:?}",
                org_of(side)
            );
        }
        let parts: f64 = p["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["contribution"].as_f64().unwrap())
            .sum();
        assert!((parts - p["score"].as_f64().unwrap()).abs() < 1e-9);
    }
    // The best pair sits first; the slot times follow the settings.
    let best = pairings
        .iter()
        .map(|p| p["score"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(pairings[0]["slot"], 0);
    assert_eq!(pairings[0]["table"], 0);
    assert_eq!(pairings[0]["score"].as_f64().unwrap(), best);
    assert_eq!(pairings[0]["starts_at"], "09:00");
    assert_eq!(pairings[0]["ends_at"], "09:20");
    let find = |l: i64, d: i64| {
        pairings
            .iter()
            .find(|p| p["listing"]["id"] == l && p["demand"]["id"] == d)
            .unwrap_or_else(|| panic!("pairing {l}-{d} in {pairings:?}"))["id"]
            .as_i64()
            .unwrap()
    };
    // The pairs of the same topic are the best and all got a seat.
    let p_signed = find(l1, d1);
    let p_intent = find(l2, d2);
    let p_met = find(l3, d3);
    let r = app.get(&format!("/v1/events/{ev}"), Some(&broker)).await;
    assert_eq!(r.body["pairings"].as_array().unwrap().len(), pairings.len());

    // Outcomes.
    let (cid, amount, tech_amount) = registered_contract(&app, &uni1, &firm1, 300 * WAN).await;
    let outcome = |pid: i64| format!("/v1/events/{ev}/pairings/{pid}/outcome");
    app.post(
        &outcome(p_signed),
        Some(&outsider.admin_token),
        &json!({"outcome": "met"}),
    )
    .await
    .assert_problem(404, "not_found");
    app.post(
        &outcome(p_signed),
        Some(&broker),
        &json!({"outcome": "signed"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        &outcome(p_signed),
        Some(&broker),
        &json!({"outcome": "hugged"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        &outcome(p_met),
        Some(&broker),
        &json!({"outcome": "met", "contract_id": cid}),
    )
    .await
    .assert_problem(422, "validation_failed");
    // A contract of two other organisations does not fit the pairing.
    let (foreign, _) = draft_contract(&app, &uni2, &firm2, 50 * WAN).await;
    let r = app
        .post(
            &outcome(p_signed),
            Some(&broker),
            &json!({"outcome": "signed", "contract_id": foreign}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["contract_id"]);
    assert_eq!(r.body["errors"][0]["code"], "not_a_party");
    let r = app
        .post(
            &outcome(p_signed),
            Some(&broker),
            &json!({"outcome": "signed", "contract_id": cid}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["outcome"], "signed");
    assert_eq!(r.body["contract_id"], cid);
    app.post(
        &outcome(p_intent),
        Some(&broker),
        &json!({"outcome": "intent"}),
    )
    .await
    .assert_status(200);
    app.post(&outcome(p_met), Some(&broker), &json!({"outcome": "met"}))
        .await
        .assert_status(200);

    // Once outcomes are recorded the schedule stays.
    app.post(&sched, Some(&broker), &json!({}))
        .await
        .assert_problem(409, "invalid_state");

    // The report adds up.
    let r = app
        .get(&format!("/v1/events/{ev}/report"), Some(&broker))
        .await;
    r.assert_status(200);
    let b = &r.body;
    assert_eq!(b["listings_registered"], 3);
    assert_eq!(b["needs_registered"], 3);
    assert_eq!(b["organisations"], 4);
    assert_eq!(b["pairings_scheduled"], pairings.len());
    assert_eq!(b["pairings_held"], 3);
    assert_eq!(
        b["pairings_held"].as_u64().unwrap(),
        b["met"].as_u64().unwrap() + b["intents"].as_u64().unwrap() + b["signed"].as_u64().unwrap()
    );
    assert_eq!(
        (b["met"].clone(), b["intents"].clone(), b["signed"].clone()),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(b["projects_presented"], 3);
    assert_eq!(b["signed_contracts"], 1);
    assert_eq!(b["registered_contracts"], 1);
    assert_eq!(b["contract_amount"], amount);
    assert_eq!(b["contract_amount"], 300 * WAN);
    assert_eq!(b["technology_amount"], tech_amount);
    assert_eq!(b["contracts"][0]["contract_id"], cid);
    assert_eq!(b["contracts"][0]["contract_amount"], amount);
    assert_eq!(b["over"], false);

    // An event that is over: its report is public (without the per-contract detail).
    let r = app
        .post(
            "/v1/events",
            Some(&broker),
            &event_body("上月科技成果对接会", &day(-1)),
        )
        .await;
    r.assert_status(201);
    let past = r.body["id"].as_i64().unwrap();
    let r = app.get(&format!("/v1/events/{past}/report"), None).await;
    r.assert_status(200);
    assert_eq!(r.body["over"], true);
    assert_eq!(r.body["pairings_held"], 0);
    assert!(r.body.get("contracts").is_none());
    app.get(&format!("/v1/events/{past}"), Some(&outsider.admin_token))
        .await
        .assert_problem(404, "not_found");
    let r = app.get("/v1/events", Some(&broker)).await;
    let ids: Vec<i64> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![ev, past]);
    let r = app.get("/v1/events", Some(&outsider.admin_token)).await;
    assert_eq!(r.body["items"], json!([]));
}
