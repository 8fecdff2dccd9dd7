//! Documents (issue 12): real files for listings, proposals and contracts, uploaded through the
//! API, content-addressed by SHA-256, stored under the data dir, downloaded with the owner's
//! visibility; an amendment adds its documents to the contract's list.
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use ttx_tests::{Org, TestApp};

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {text}\n%%EOF\n").into_bytes()
}

fn listing(title: &str) -> Value {
    json!({
        "title": title,
        "summary": format!("{title}的成果简介"),
        "description": format!("本成果“{title}”已完成中试验证。"),
        "keywords": ["成果转化"],
        "field": "new_energy",
        "trl": 5,
        "ip_items": [],
        "transfer_modes": ["transfer"],
        "price": {"kind": "negotiable"},
        "publish": true
    })
}

fn contract(title: &str, buyer: i64, signed_doc_sha: &str) -> Value {
    json!({
        "title": title,
        "sub_kind": "entrusted_development",
        "buyer": {"org_id": buyer},
        "contract_amount": 10_000_000,
        "signed_on": "2026-03-01",
        "term_start": "2026-03-01",
        "term_end": "2027-02-28",
        "tech_field": "new_energy",
        "documents": [{"name": "技术开发合同（签章版）.pdf", "sha256": signed_doc_sha}]
    })
}

struct World {
    reviewer: String,
    seller: Org,
    seller_member: String,
    buyer: Org,
    buyer_member: String,
    stranger: String,
}

async fn world(app: &TestApp) -> World {
    let station = app.org("station", "110000", true).await;
    let reviewer = app.member(&station, "station_reviewer").await;
    let seller = app.org("university", "110108", true).await;
    let seller_member = app.member(&seller, "member").await;
    let buyer = app.org("enterprise", "320505", true).await;
    let buyer_member = app.member(&buyer, "member").await;
    let other = app.org("university", "310104", true).await;
    let stranger = app.member(&other, "member").await;
    World {
        reviewer,
        seller,
        seller_member,
        buyer,
        buyer_member,
        stranger,
    }
}

#[tokio::test]
async fn documents_are_checked_stored_by_hash_visible_like_their_owner_and_survive_a_restart() {
    let app = TestApp::spawn_with(|c| c.documents.max_bytes = 64 * 1024).await;
    let w = world(&app).await;
    let s = &w.seller_member;

    // A listing's data sheet: the owner uploads; everyone who sees the listing downloads.
    let lid = app
        .post("/v1/listings", Some(s), &listing("钙钛矿叠层电池"))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let sheet = pdf("钙钛矿叠层电池技术参数表");
    let r = app
        .upload(
            &format!("/v1/listings/{lid}/documents?name={}", "参数表.pdf"),
            Some(s),
            "application/pdf",
            sheet.clone(),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["sha256"], sha(&sheet));
    assert_eq!(r.body["size_bytes"], sheet.len());
    let sheet_path = r.body["download_path"].as_str().unwrap().to_string();
    let (st, ct, bytes) = app.download(&sheet_path, None).await;
    assert_eq!((st, ct.as_str()), (200, "application/pdf"));
    assert_eq!(bytes, sheet);
    let l = app
        .get(&format!("/v1/listings/{lid}/documents"), None)
        .await;
    l.assert_status(200);
    assert_eq!(l.body["items"].as_array().unwrap().len(), 1);
    // Others may read but not add (403); the same bytes again are the same document (200).
    app.upload(
        &format!("/v1/listings/{lid}/documents?name=x.pdf"),
        Some(&w.stranger),
        "application/pdf",
        pdf("x"),
    )
    .await
    .assert_problem(403, "forbidden");
    app.upload(
        &format!("/v1/listings/{lid}/documents?name=again.pdf"),
        Some(s),
        "application/pdf",
        sheet.clone(),
    )
    .await
    .assert_status(200);

    // Types and limits.
    app.upload(
        &format!("/v1/listings/{lid}/documents?name=a.exe"),
        Some(s),
        "application/x-msdownload",
        b"MZ\x90\x00".to_vec(),
    )
    .await
    .assert_problem(415, "document_type_not_allowed");
    app.upload(
        &format!("/v1/listings/{lid}/documents?name=fake.pdf"),
        Some(s),
        "application/pdf",
        b"\x89PNG\r\n\x1a\n0000".to_vec(),
    )
    .await
    .assert_problem(422, "content_type_mismatch");
    let mut big = pdf("big");
    big.resize(100 * 1024, b' ');
    let r = app
        .upload(
            &format!("/v1/listings/{lid}/documents?name=big.pdf"),
            Some(s),
            "application/pdf",
            big,
        )
        .await;
    assert_eq!(r.status.as_u16(), 413, "{}", r.text);
    let mut huge = pdf("huge");
    huge.resize(2 * 1024 * 1024, b' ');
    let r = app
        .upload(
            &format!("/v1/listings/{lid}/documents?name=huge.pdf"),
            Some(s),
            "application/pdf",
            huge,
        )
        .await;
    assert_eq!(r.status.as_u16(), 413, "{}", r.text);
    app.upload(
        &format!("/v1/listings/{lid}/documents"),
        Some(s),
        "application/pdf",
        pdf("no name"),
    )
    .await
    .assert_status(400);

    // A contract records the hash of its signed text: the bytes must match it.
    let signed = pdf("技术开发合同 双方签章");
    let cid = app
        .post(
            "/v1/contracts",
            Some(s),
            &contract("钙钛矿电池技术开发", w.buyer.id, &sha(&signed)),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let forged = pdf("技术开发合同 改过的金额");
    let r = app
        .upload(
            &format!(
                "/v1/contracts/{cid}/documents?name=合同.pdf&sha256={}",
                sha(&signed)
            ),
            Some(s),
            "application/pdf",
            forged,
        )
        .await;
    r.assert_problem(422, "hash_mismatch");
    assert_eq!(r.body["context"]["declared"], sha(&signed));
    let r = app
        .upload(
            &format!(
                "/v1/contracts/{cid}/documents?name=合同.pdf&sha256={}",
                sha(&signed)
            ),
            Some(s),
            "application/pdf",
            signed.clone(),
        )
        .await;
    r.assert_status(201);
    let signed_path = r.body["download_path"].as_str().unwrap().to_string();
    // A new annex on a draft joins the contract's list.
    let annex = pdf("附件一 技术指标");
    app.upload(
        &format!("/v1/contracts/{cid}/documents?name=附件一.pdf"),
        Some(s),
        "application/pdf",
        annex.clone(),
    )
    .await
    .assert_status(201);
    let c = app.get(&format!("/v1/contracts/{cid}"), Some(s)).await;
    let listed: Vec<String> = c.body["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["sha256"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, vec![sha(&signed), sha(&annex)]);

    // Downloads: a stranger gets 404, and so does the buyer while the contract is the seller's
    // draft; after submission the buyer and the station read it.
    let (st, _, _) = app.download(&signed_path, Some(&w.stranger)).await;
    assert_eq!(st, 404);
    let (st, _, _) = app.download(&signed_path, Some(&w.buyer_member)).await;
    assert_eq!(st, 404);
    app.get(&format!("/v1/contracts/{cid}/documents"), Some(&w.stranger))
        .await
        .assert_problem(404, "not_found");
    for (who, action) in [
        (s, "submit"),
        (&w.reviewer, "accept"),
        (&w.reviewer, "register"),
    ] {
        app.post(
            &format!("/v1/contracts/{cid}/{action}"),
            Some(who),
            &json!({}),
        )
        .await
        .assert_status(200);
    }
    let (st, _, b) = app.download(&signed_path, Some(&w.reviewer)).await;
    assert_eq!((st, b), (200, signed.clone()));
    let (st, _, b) = app.download(&signed_path, Some(&w.buyer_member)).await;
    assert_eq!((st, b), (200, signed.clone()));
    let (st, _, _) = app.download(&signed_path, Some(&w.stranger)).await;
    assert_eq!(st, 404);

    // Registered: a new file needs an amendment that lists it; approved, it is added.
    let agreement = pdf("补充协议");
    app.upload(
        &format!("/v1/contracts/{cid}/documents?name=补充协议.pdf"),
        Some(s),
        "application/pdf",
        agreement.clone(),
    )
    .await
    .assert_problem(409, "document_not_listed");
    let a = app
        .post(
            &format!("/v1/contracts/{cid}/amendments"),
            Some(s),
            &json!({"reason": "增加二期内容", "contract_amount": 12_000_000,
                    "documents": [{"name": "补充协议.pdf", "sha256": sha(&agreement)}]}),
        )
        .await;
    a.assert_status(201);
    let aid = a.body["id"].as_i64().unwrap();
    let r = app
        .upload(
            &format!(
                "/v1/contracts/{cid}/documents?name=补充协议.pdf&sha256={}",
                sha(&agreement)
            ),
            Some(s),
            "application/pdf",
            agreement.clone(),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["amendment_id"], aid);
    let agreement_path = r.body["download_path"].as_str().unwrap().to_string();
    // The reviewer reads it before deciding.
    let (st, _, _) = app.download(&agreement_path, Some(&w.reviewer)).await;
    assert_eq!(st, 200);
    app.post(
        &format!("/v1/contracts/{cid}/amendments/{aid}/approve"),
        Some(&w.reviewer),
        &json!({}),
    )
    .await
    .assert_status(200);
    let c = app.get(&format!("/v1/contracts/{cid}"), Some(s)).await;
    let listed: Vec<String> = c.body["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["sha256"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        listed,
        vec![sha(&signed), sha(&annex), sha(&agreement)],
        "the amendment added its document to the list"
    );

    // The files survive a restart on the same data directory and database.
    let dir = app.config.data_dir.clone();
    let app = app.restart().await;
    assert_eq!(app.config.data_dir, dir);
    let (st, _, b) = app.download(&signed_path, Some(&w.buyer_member)).await;
    assert_eq!((st, b), (200, signed));
    let (st, _, b) = app.download(&sheet_path, None).await;
    assert_eq!((st, b), (200, sheet));
    let (st, _, b) = app.download(&agreement_path, Some(s)).await;
    assert_eq!((st, b), (200, agreement));
    let _ = &w.seller;
}

#[tokio::test]
async fn proposal_documents_are_for_the_solver_and_the_challenger_only() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", true).await;
    let ft = app.member(&firm, "member").await;
    let uni = app.org("university", "110108", true).await;
    let ut = app.member(&uni, "member").await;
    let other = app.org("university", "310104", true).await;
    let ot = app.member(&other, "member").await;
    let day = |n: i64| {
        (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(n))
            .date_naive()
            .to_string()
    };
    let c = app
        .post(
            "/v1/challenges",
            Some(&ft),
            &json!({"need": {
                "title": "储能变流器碳化硅模块揭榜",
                "problem": "储能变流器碳化硅模块：现有模块在高负荷工况下散热不足、可靠性偏低，关键参数依赖人工经验，无法稳定复现。",
                "key_points": "双面散热封装；烧结银工艺；寿命验证。",
                "goals": "效率不低于98.5%，完成连续三个月的产线验证。",
                "keywords": ["碳化硅", "储能"],
                "field": "new_energy",
                "budget": {"kind": "range", "min": 100_000_000, "max": 200_000_000},
                "deadline": day(60),
                "publish": true
            }, "terms": {
                "bounty": 300_000_000,
                "proposal_deadline": (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339(),
                "max_winners": 1
            }}),
        )
        .await;
    c.assert_status(201);
    let cid = c.body["id"].as_i64().unwrap();
    let p = app
        .post(
            &format!("/v1/challenges/{cid}/proposals"),
            Some(&ut),
            &json!({"approach": "采用双面散热封装与烧结银工艺，降低热阻。", "team": "功率电子课题组", "timeline": "六个月", "price": 80_000_000}),
        )
        .await;
    p.assert_status(201);
    let pid = p.body["id"].as_i64().unwrap();
    let plan = pdf("技术方案");
    let r = app
        .upload(
            &format!("/v1/proposals/{pid}/documents?name=方案.pdf"),
            Some(&ut),
            "application/pdf",
            plan.clone(),
        )
        .await;
    r.assert_status(201);
    let path = r.body["download_path"].as_str().unwrap().to_string();
    let (st, _, b) = app.download(&path, Some(&ft)).await;
    assert_eq!((st, b), (200, plan));
    let (st, _, _) = app.download(&path, Some(&ot)).await;
    assert_eq!(st, 404);
    let (st, _, _) = app.download(&path, None).await;
    assert_eq!(st, 401);
    app.upload(
        &format!("/v1/proposals/{pid}/documents?name=x.pdf"),
        Some(&ft),
        "application/pdf",
        pdf("x"),
    )
    .await
    .assert_problem(403, "forbidden");
}
