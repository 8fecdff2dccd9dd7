//! The authorisation matrix: every operation of the server's own OpenAPI document (its route
//! table, read from `/openapi.json`) × every kind of caller → allowed or refused, compared with
//! the table [`EXPECTED`]. An operation without a row fails the test (a new route cannot be
//! forgotten), and so does a row naming an operation that no longer exists.
//!
//! One world: a university (`Uni`, Haidian) owns a published listing (with confidential details
//! and a document), answers the firm's challenge with a proposal and is the seller of a
//! registered contract; an enterprise (`Firm`, Suzhou) owns an open need and the challenge and is
//! the contract's buyer; a verified agency's broker runs a match (the listing × the need), an
//! enquiry about the listing and a matchmaking event; a verified Beijing station (reviewer)
//! registers the contract; a verified Beijing bureau (analyst) reads its region's contracts; a
//! Guangdong station's reviewer and a Guangdong bureau's analyst, who may not; an unrelated
//! enterprise (`Other`) and the platform operator. Each write gets fresh objects of its
//! own (a new listing to withdraw, a new accepted contract to register, ...), so no check depends
//! on another's order.
//!
//! An allowed caller may still be refused on content or state (400, 409, 412, 422, 428): what
//! counts is that it is never 401, 403, 404 or a 5xx. A refused caller gets 401, 403 or 404 and
//! never anything else; anonymous callers of an operation that declares bearer security get 401.
//!
//! `TTX_AUTHZ_DISCOVER=1` prints the observed matrix as table rows (to review, never to paste
//! blindly: a row is a decision about who may do what).
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use ttx_tests::fixtures::{self, need_body, WAN};
use ttx_tests::{Org, Resp, TestApp};

/// The callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum A {
    Anon,
    UniAdmin,
    UniMember,
    FirmAdmin,
    FirmMember,
    OtherAdmin,
    OtherMember,
    AgencyAdmin,
    Broker,
    Reviewer,
    Analyst,
    /// A reviewer of a station whose jurisdiction does not cover the contract (Guangdong).
    FarReviewer,
    /// An analyst of a bureau of another region (Guangdong).
    FarAnalyst,
    /// A broker of an agency an operator has not verified yet.
    UnverifiedBroker,
    Operator,
}
use A::*;

const ACTORS: &[A] = &[
    Anon,
    UniAdmin,
    UniMember,
    FirmAdmin,
    FirmMember,
    OtherAdmin,
    OtherMember,
    AgencyAdmin,
    Broker,
    Reviewer,
    Analyst,
    FarReviewer,
    FarAnalyst,
    UnverifiedBroker,
    Operator,
];

// Groups of callers the table is written with.
/// Everyone, anonymous callers included.
const PUBLIC: &[A] = ACTORS;
/// Every signed-in caller.
#[rustfmt::skip]
const SIGNED_IN: &[A] = &[
    UniAdmin, UniMember, FirmAdmin, FirmMember, OtherAdmin, OtherMember, AgencyAdmin, Broker,
    Reviewer, Analyst, FarReviewer, FarAnalyst, UnverifiedBroker, Operator,
];
/// Nobody but the platform operator.
const OPERATOR: &[A] = &[Operator];
/// The university's users (owner of the listing, the proposal, seller of the contract).
const UNI: &[A] = &[UniAdmin, UniMember];
const UNI_ADMIN: &[A] = &[UniAdmin];
const UNI_OR_OPERATOR: &[A] = &[UniAdmin, UniMember, Operator];
const UNI_ADMIN_OR_OPERATOR: &[A] = &[UniAdmin, Operator];
/// The enterprise's users (owner of the need and the challenge, buyer of the contract).
const FIRM: &[A] = &[FirmAdmin, FirmMember];
const FIRM_OR_OPERATOR: &[A] = &[FirmAdmin, FirmMember, Operator];
/// The agency's users (the broker's organisation).
const AGENCY: &[A] = &[AgencyAdmin, Broker];
/// The registering station's reviewer.
const REVIEWER: &[A] = &[Reviewer];
/// The admins of every organisation (each for its own organisation), and operators.
const ORG_ADMINS: &[A] = &[UniAdmin, FirmAdmin, OtherAdmin, AgencyAdmin, Operator];
/// Who posts listings, needs and challenges: universities and enterprises.
#[rustfmt::skip]
const POSTERS: &[A] = &[UniAdmin, UniMember, FirmAdmin, FirmMember, OtherAdmin, OtherMember];
/// The contract's parties and those who review or read it.
#[rustfmt::skip]
const CONTRACT_READERS: &[A] = &[
    UniAdmin, UniMember, FirmAdmin, FirmMember, Reviewer, Analyst, Operator,
];
/// The two sides of a proposal: the solver (university) and the challenge's organisation.
const PROPOSAL_SIDES: &[A] = &[UniAdmin, UniMember, FirmAdmin, FirmMember];
/// The two sides of an enquiry: the listing's owner and the enquiring agency.
const ENQUIRY_SIDES: &[A] = &[UniAdmin, UniMember, AgencyAdmin, Broker];
/// The parties of a match.
const MATCH_PARTIES: &[A] = &[UniAdmin, UniMember, FirmAdmin, FirmMember];

/// `(method, path template, who is allowed)`; everyone else is refused.
#[rustfmt::skip]
const EXPECTED: &[(&str, &str, &[A])] = &[
    // ops
    ("GET", "/healthz", PUBLIC),
    ("GET", "/readyz", PUBLIC),
    ("GET", "/metrics", PUBLIC),
    ("GET", "/v1/meta/errors", PUBLIC),
    ("GET", "/v1/meta/regions", PUBLIC),
    ("GET", "/v1/meta/vocabularies", PUBLIC),
    // accounts
    ("POST", "/v1/signup", PUBLIC),
    ("POST", "/v1/tokens", PUBLIC),
    ("GET", "/v1/tokens", SIGNED_IN),
    // a user's own tokens; operators revoke any
    ("DELETE", "/v1/tokens/{id}", &[UniMember, Operator]),
    ("GET", "/v1/me", SIGNED_IN),
    // each organisation's admins read its own trail (checked below), operators all of it
    ("GET", "/v1/audit", ORG_ADMINS),
    ("GET", "/v1/orgs", PUBLIC),
    ("GET", "/v1/orgs/{id}", PUBLIC),
    ("PATCH", "/v1/orgs/{id}", UNI_ADMIN_OR_OPERATOR),
    ("POST", "/v1/orgs/{id}/verify", OPERATOR),
    ("GET", "/v1/orgs/{id}/members", UNI_OR_OPERATOR),
    ("POST", "/v1/orgs/{id}/members", UNI_ADMIN_OR_OPERATOR),
    ("PATCH", "/v1/orgs/{id}/members/{user_id}", UNI_ADMIN_OR_OPERATOR),
    ("DELETE", "/v1/orgs/{id}/members/{user_id}", UNI_ADMIN_OR_OPERATOR),
    // the seller's members, operators, and the analysts of its region's bureau
    ("GET", "/v1/orgs/{id}/technology-income", &[UniAdmin, UniMember, Analyst, Operator]),
    // listings
    ("GET", "/v1/listings", PUBLIC),
    ("POST", "/v1/listings", POSTERS),
    ("GET", "/v1/listings/{id}", PUBLIC),
    ("PATCH", "/v1/listings/{id}", UNI),
    ("DELETE", "/v1/listings/{id}", UNI),
    ("POST", "/v1/listings/{id}/publish", UNI),
    // operators take a listing down (with a reason)
    ("POST", "/v1/listings/{id}/withdraw", UNI_OR_OPERATOR),
    ("POST", "/v1/listings/{id}/transacted", UNI),
    // contact details: the owner (others after an accepted enquiry)
    ("GET", "/v1/listings/{id}/contact", UNI),
    ("GET", "/v1/listings/{id}/access-log", UNI),
    ("GET", "/v1/listings/{id}/confidential", UNI),
    ("PUT", "/v1/listings/{id}/confidential", UNI),
    ("GET", "/v1/listings/{id}/nda", PUBLIC),
    ("GET", "/v1/listings/{id}/documents", PUBLIC),
    ("POST", "/v1/listings/{id}/documents", UNI),
    ("GET", "/v1/listings/{id}/documents/{doc_id}", PUBLIC),
    // match suggestions: the owner, brokers, operators
    ("GET", "/v1/listings/{id}/matches", &[UniAdmin, UniMember, Broker, Operator]),
    // needs, challenges, proposals
    ("GET", "/v1/demands", PUBLIC),
    ("POST", "/v1/demands", POSTERS),
    ("GET", "/v1/demands/{id}", PUBLIC),
    // the need's creator, its organisation's admins, operators
    ("PATCH", "/v1/demands/{id}", FIRM_OR_OPERATOR),
    ("POST", "/v1/demands/{id}/publish", FIRM_OR_OPERATOR),
    ("POST", "/v1/demands/{id}/close", FIRM_OR_OPERATOR),
    ("GET", "/v1/demands/{id}/contact", FIRM),
    ("GET", "/v1/demands/{id}/access-log", FIRM),
    ("GET", "/v1/demands/{id}/matches", &[FirmAdmin, FirmMember, Broker, Operator]),
    ("GET", "/v1/challenges", PUBLIC),
    ("POST", "/v1/challenges", POSTERS),
    ("GET", "/v1/challenges/{id}", PUBLIC),
    // a list filtered to what the caller may see (checked below)
    ("GET", "/v1/challenges/{id}/proposals", SIGNED_IN),
    ("POST", "/v1/challenges/{id}/proposals", UNI),
    ("GET", "/v1/proposals", SIGNED_IN),
    ("GET", "/v1/proposals/{id}", PROPOSAL_SIDES),
    // the challenge's decisions are its organisation's admins'
    ("POST", "/v1/proposals/{id}/shortlist", &[FirmAdmin]),
    ("POST", "/v1/proposals/{id}/accept", &[FirmAdmin]),
    ("POST", "/v1/proposals/{id}/decline", &[FirmAdmin]),
    // the solver (the seller) drafts the contract
    ("POST", "/v1/proposals/{id}/contract-draft", UNI),
    ("GET", "/v1/proposals/{id}/documents", PROPOSAL_SIDES),
    ("POST", "/v1/proposals/{id}/documents", UNI),
    ("GET", "/v1/proposals/{id}/documents/{doc_id}", PROPOSAL_SIDES),
    // contracts: the seller side acts, the registering station decides
    ("GET", "/v1/contracts", SIGNED_IN),
    ("POST", "/v1/contracts", &[UniAdmin, UniMember, FirmAdmin, FirmMember, OtherAdmin, OtherMember, AgencyAdmin, Broker]),
    ("GET", "/v1/contracts/{id}", CONTRACT_READERS),
    ("PATCH", "/v1/contracts/{id}", UNI),
    ("POST", "/v1/contracts/{id}/submit", UNI),
    ("POST", "/v1/contracts/{id}/accept", REVIEWER),
    ("POST", "/v1/contracts/{id}/register", REVIEWER),
    ("POST", "/v1/contracts/{id}/return", REVIEWER),
    ("POST", "/v1/contracts/{id}/refuse", REVIEWER),
    ("POST", "/v1/contracts/{id}/terminate", UNI),
    ("GET", "/v1/contracts/{id}/amendments", CONTRACT_READERS),
    ("POST", "/v1/contracts/{id}/amendments", UNI),
    ("POST", "/v1/contracts/{id}/amendments/{aid}/approve", REVIEWER),
    ("POST", "/v1/contracts/{id}/amendments/{aid}/reject", REVIEWER),
    ("GET", "/v1/contracts/{id}/ledger", CONTRACT_READERS),
    ("GET", "/v1/contracts/{id}/certificate", CONTRACT_READERS),
    ("GET", "/v1/contracts/{id}/documents", CONTRACT_READERS),
    ("POST", "/v1/contracts/{id}/documents", UNI),
    ("GET", "/v1/contracts/{id}/documents/{doc_id}", CONTRACT_READERS),
    ("GET", "/v1/registrations/{number}", PUBLIC),
    // enquiries
    ("GET", "/v1/enquiries", SIGNED_IN),
    ("POST", "/v1/enquiries", &[UniAdmin, UniMember, FirmAdmin, FirmMember, OtherAdmin, OtherMember, AgencyAdmin, Broker]),
    ("GET", "/v1/enquiries/{id}", ENQUIRY_SIDES),
    ("GET", "/v1/enquiries/{id}/messages", ENQUIRY_SIDES),
    ("POST", "/v1/enquiries/{id}/messages", ENQUIRY_SIDES),
    ("POST", "/v1/enquiries/{id}/accept", UNI),
    ("POST", "/v1/enquiries/{id}/decline", UNI),
    ("POST", "/v1/enquiries/{id}/grant", UNI),
    ("POST", "/v1/enquiries/{id}/nda", AGENCY),
    ("POST", "/v1/enquiries/{id}/close", ENQUIRY_SIDES),
    // matching: brokers open matches; the broker, its agency and (once introduced) the parties
    // follow them; operators read
    ("GET", "/v1/matches", SIGNED_IN),
    ("POST", "/v1/matches", &[Broker]),
    ("GET", "/v1/matches/{id}", &[UniAdmin, UniMember, FirmAdmin, FirmMember, AgencyAdmin, Broker, Operator]),
    ("POST", "/v1/matches/{id}/introduce", AGENCY),
    ("POST", "/v1/matches/{id}/accept", MATCH_PARTIES),
    ("POST", "/v1/matches/{id}/decline", MATCH_PARTIES),
    ("POST", "/v1/matches/{id}/sign", AGENCY),
    ("POST", "/v1/matches/{id}/close", &[UniAdmin, UniMember, FirmAdmin, FirmMember, AgencyAdmin, Broker]),
    // the two sides of the pair and brokers
    ("POST", "/v1/matches/feedback", &[UniAdmin, UniMember, FirmAdmin, FirmMember, Broker]),
    ("GET", "/v1/matches/feedback/export", OPERATOR),
    // an agency's funnel: its admins, operators
    ("GET", "/v1/matches/funnel", &[AgencyAdmin, Operator]),
    ("GET", "/v1/subscriptions", SIGNED_IN),
    ("POST", "/v1/subscriptions", &[FirmAdmin, FirmMember, OtherAdmin, OtherMember, AgencyAdmin, Broker]),
    ("GET", "/v1/subscriptions/{id}", FIRM),
    ("DELETE", "/v1/subscriptions/{id}", FIRM),
    // events: organised by admins and brokers of verified agencies, admins and analysts of
    // verified bureaus; the details are the organiser's until the event is over
    ("GET", "/v1/events", SIGNED_IN),
    ("POST", "/v1/events", &[AgencyAdmin, Broker, Analyst, FarAnalyst]),
    ("GET", "/v1/events/{id}", AGENCY),
    ("POST", "/v1/events/{id}/entries", AGENCY),
    ("POST", "/v1/events/{id}/schedule", AGENCY),
    ("POST", "/v1/events/{id}/pairings/{pid}/outcome", AGENCY),
    ("GET", "/v1/events/{id}/report", AGENCY),
    // notifications: a user's own inbox; an organisation's admins manage its webhooks
    ("GET", "/v1/notifications", SIGNED_IN),
    ("POST", "/v1/notifications/read-all", SIGNED_IN),
    ("POST", "/v1/notifications/{id}/read", &[UniMember]),
    ("GET", "/v1/webhooks", ORG_ADMINS),
    ("POST", "/v1/webhooks", ORG_ADMINS),
    ("DELETE", "/v1/webhooks/{id}", UNI_ADMIN),
    ("POST", "/v1/webhooks/{id}/ping", UNI_ADMIN),
    ("GET", "/v1/webhooks/{id}/deliveries", UNI_ADMIN),
    // statistics
    ("GET", "/v1/stats/turnover", PUBLIC),
    ("GET", "/v1/stats/series", PUBLIC),
    ("GET", "/v1/stats/flows", PUBLIC),
    ("GET", "/v1/stats/top", PUBLIC),
];

const PASSWORD: &str = "correct-horse-42";

/// A user of an organisation: token, id, e-mail.
struct User {
    token: String,
    id: i64,
    email: String,
}

async fn user(app: &TestApp, org: &Org, role: &str) -> User {
    let email = format!("u{}@authz.test", fixtures::next());
    let r = app
        .post(
            &format!("/v1/orgs/{}/members", org.id),
            Some(&org.admin_token),
            &json!({"email": email, "display_name": "成员", "password": PASSWORD, "role": role}),
        )
        .await;
    r.assert_status(201);
    let id = r.body["id"].as_i64().expect("the member's id");
    let t = app
        .post(
            "/v1/tokens",
            None,
            &json!({"email": email, "password": PASSWORD}),
        )
        .await;
    t.assert_status(201);
    User {
        token: t.body["token"].as_str().unwrap().to_string(),
        id,
        email,
    }
}

struct World {
    uni: Org,
    uni_member: User,
    firm: Org,
    firm_member: String,
    other: Org,
    other_member: String,
    agency: Org,
    broker: String,
    reviewer: String,
    analyst: String,
    far_reviewer: String,
    far_analyst: String,
    unverified_broker: String,
    operator: String,
    listing: i64,
    listing_doc: i64,
    need: i64,
    challenge: i64,
    proposal: i64,
    proposal_doc: i64,
    contract: i64,
    contract_doc: i64,
    amendment: i64,
    registration: String,
    enquiry: i64,
    match_: i64,
    event: i64,
    pairing: i64,
    subscription: i64,
    webhook: i64,
    notification: i64,
}

impl World {
    fn token(&self, a: A) -> Option<&str> {
        Some(match a {
            Anon => return None,
            UniAdmin => &self.uni.admin_token,
            UniMember => &self.uni_member.token,
            FirmAdmin => &self.firm.admin_token,
            FirmMember => &self.firm_member,
            OtherAdmin => &self.other.admin_token,
            OtherMember => &self.other_member,
            AgencyAdmin => &self.agency.admin_token,
            Broker => &self.broker,
            Reviewer => &self.reviewer,
            Analyst => &self.analyst,
            FarReviewer => &self.far_reviewer,
            FarAnalyst => &self.far_analyst,
            UnverifiedBroker => &self.unverified_broker,
            Operator => &self.operator,
        })
    }
}

fn id_of(r: &Resp, what: &str) -> i64 {
    r.body["id"]
        .as_i64()
        .or_else(|| r.body["webhook"]["id"].as_i64())
        .unwrap_or_else(|| panic!("{what}: {} {}", r.status, r.text))
}

async fn created(app: &TestApp, path: &str, token: &str, body: Value, what: &str) -> i64 {
    let r = app.post(path, Some(token), &body).await;
    assert_eq!(r.status.as_u16(), 201, "{what}: {}", r.text);
    id_of(&r, what)
}

fn listing_body() -> Value {
    fixtures::merged(
        fixtures::listing_body(
            &format!("脱硫石膏渣资源化利用制备高强石膏技术{}", fixtures::next()),
            "本成果以电厂脱硫石膏渣为原料，经除杂提纯和转晶工艺制成高强石膏，已完成中试验证。",
            &["脱硫石膏", "资源化利用", "高强石膏"],
            "environment",
        ),
        json!({"contact": {"name": "成果联系人", "phone": "13912345678", "email": "contact@lab.test"}}),
    )
}

async fn fresh_listing(app: &TestApp, w: &World) -> i64 {
    created(
        app,
        "/v1/listings",
        &w.uni_member.token,
        listing_body(),
        "listing",
    )
    .await
}

async fn fresh_need(app: &TestApp, w: &World) -> i64 {
    created(
        app,
        "/v1/demands",
        &w.firm_member,
        need_body(
            &format!("脱硫石膏渣综合利用技术需求{}", fixtures::next()),
            false,
        ),
        "need",
    )
    .await
}

async fn fresh_challenge(app: &TestApp, w: &World) -> i64 {
    let mut need = need_body(&format!("储能电池热管理揭榜{}", fixtures::next()), false);
    need["deadline"] = json!(app.day(60));
    created(
        app,
        "/v1/challenges",
        &w.firm.admin_token,
        json!({"need": need, "terms": {
            "bounty": 300 * WAN,
            "proposal_deadline": (app.clock.now() + chrono::Duration::days(30)).to_rfc3339(),
            "eligible_org_kinds": ["university", "research_institute"],
            "eligible_regions": ["11", "44"],
            "criteria": [{"name": "技术方案", "weight": 60}, {"name": "团队能力", "weight": 40}],
            "max_winners": 1
        }}),
        "challenge",
    )
    .await
}

fn proposal_body() -> Value {
    json!({
        "approach": "采用仿生流道液冷板与相变材料复合方案，结合电化学-热耦合模型进行预测控制。",
        "team": "教授1名，副教授2名，博士生4名",
        "timeline": "6个月样件，12个月台架验证",
        "price": 120 * WAN
    })
}

async fn fresh_proposal(app: &TestApp, w: &World) -> i64 {
    let ch = fresh_challenge(app, w).await;
    created(
        app,
        &format!("/v1/challenges/{ch}/proposals"),
        &w.uni_member.token,
        proposal_body(),
        "proposal",
    )
    .await
}

fn contract_body(buyer_org: i64) -> Value {
    json!({
        "title": format!("脱硫石膏渣制备高强石膏技术开发合同{}", fixtures::next()),
        "sub_kind": "entrusted_development",
        "buyer": {"org_id": buyer_org},
        "contract_amount": 100 * WAN,
        "non_technical_costs": 20 * WAN,
        "signed_on": "2026-03-01",
        "term_start": "2026-03-01",
        "term_end": "2027-02-28",
        "tech_field": "new_energy",
        "researcher_reward_bp": 7000,
        "documents": [{"name": "技术开发合同（签章版）.pdf", "sha256": format!("{:064x}", fixtures::next()), "size_bytes": 120034}]
    })
}

/// How far a fresh contract goes before the request under test.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Stage {
    Draft,
    Submitted,
    Accepted,
    Registered,
}

async fn fresh_contract(app: &TestApp, w: &World, stage: Stage) -> i64 {
    let seller = &w.uni_member.token;
    let cid = created(
        app,
        "/v1/contracts",
        seller,
        contract_body(w.firm.id),
        "contract",
    )
    .await;
    advance(app, w, cid, stage).await;
    cid
}

/// Takes a draft contract to `stage`.
async fn advance(app: &TestApp, w: &World, cid: i64, stage: Stage) {
    let seller = &w.uni_member.token;
    let step = |token: &str, action: &str| {
        let (token, path) = (token.to_string(), format!("/v1/contracts/{cid}/{action}"));
        async move {
            let r = app.post(&path, Some(&token), &json!({})).await;
            assert_eq!(r.status.as_u16(), 200, "{path}: {}", r.text);
        }
    };
    if stage >= Stage::Submitted {
        step(seller, "submit").await;
    }
    if stage >= Stage::Accepted {
        step(&w.reviewer, "accept").await;
    }
    if stage >= Stage::Registered {
        step(&w.reviewer, "register").await;
    }
}

async fn fresh_amendment(app: &TestApp, w: &World, cid: i64) -> i64 {
    created(
        app,
        &format!("/v1/contracts/{cid}/amendments"),
        &w.uni_member.token,
        json!({"reason": "延长合同期限", "term_end": "2027-12-31"}),
        "amendment",
    )
    .await
}

/// An enquiry of the broker about a fresh listing with confidential details under an NDA.
async fn fresh_enquiry(app: &TestApp, w: &World) -> i64 {
    let lid = fresh_listing(app, w).await;
    put_confidential(app, w, lid).await;
    created(
        app,
        "/v1/enquiries",
        &w.broker,
        json!({"listing_id": lid, "purpose": "license", "message": "我方客户希望以普通许可方式实施该技术，请提供报价。"}),
        "enquiry",
    )
    .await
}

/// A match the broker opened on the listing and a fresh need; introduced (the parties see it
/// from then on) unless `introduce` is false.
async fn fresh_match(app: &TestApp, w: &World, introduce: bool) -> i64 {
    let did = fresh_need(app, w).await;
    let id = created(
        app,
        "/v1/matches",
        &w.broker,
        json!({"listing_id": w.listing, "demand_id": did, "note": "双方技术路线吻合"}),
        "match",
    )
    .await;
    if introduce {
        let r = app
            .post(
                &format!("/v1/matches/{id}/introduce"),
                Some(&w.broker),
                &json!({}),
            )
            .await;
        r.assert_status(200);
    }
    id
}

fn event_body() -> Value {
    json!({
        "title": format!("长三角科技成果对接会{}", fixtures::next()),
        "description": "面向长三角的成果转化对接",
        "venue": "苏州国际博览中心",
        "date": fixtures::day(30),
        "start_time": "09:00",
        "slots": 3,
        "tables": 2,
        "slot_minutes": 20
    })
}

async fn fresh_event(app: &TestApp, w: &World) -> i64 {
    created(app, "/v1/events", &w.broker, event_body(), "event").await
}

async fn upload(app: &TestApp, path: &str, token: &str) -> i64 {
    let r = app
        .upload(
            &format!("{path}?name=authz.pdf"),
            Some(token),
            "application/pdf",
            pdf(),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "upload {path}: {}", r.text);
    id_of(&r, "document")
}

fn pdf() -> Vec<u8> {
    format!(
        "%PDF-1.4\n% authz {}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        fixtures::next()
    )
    .into_bytes()
}

async fn world(app: &TestApp) -> World {
    let operator = app.operator().await;
    let uni = app.org("university", "110108", true).await;
    let uni_member = user(app, &uni, "member").await;
    let firm = app.org("enterprise", "320505", true).await;
    let firm_member = app.member(&firm, "member").await;
    let other = app.org("enterprise", "440305", true).await;
    let other_member = app.member(&other, "member").await;
    let agency = app.org("agency", "110108", true).await;
    let broker = app.member(&agency, "broker").await;
    let station = app.org("station", "110000", true).await;
    let reviewer = app.member(&station, "station_reviewer").await;
    let bureau = app.org("bureau", "110000", true).await;
    let analyst = app.member(&bureau, "bureau_analyst").await;
    let far_station = app.org("station", "440000", true).await;
    let far_reviewer = app.member(&far_station, "station_reviewer").await;
    let far_bureau = app.org("bureau", "440000", true).await;
    let far_analyst = app.member(&far_bureau, "bureau_analyst").await;
    let unverified_agency = app.org("agency", "110108", false).await;
    let unverified_broker = app.member(&unverified_agency, "broker").await;
    let mut w = World {
        uni,
        uni_member,
        firm,
        firm_member,
        other,
        other_member,
        agency,
        broker,
        reviewer,
        analyst,
        far_reviewer,
        far_analyst,
        unverified_broker,
        operator,
        listing: 0,
        listing_doc: 0,
        need: 0,
        challenge: 0,
        proposal: 0,
        proposal_doc: 0,
        contract: 0,
        contract_doc: 0,
        amendment: 0,
        registration: String::new(),
        enquiry: 0,
        match_: 0,
        event: 0,
        pairing: 0,
        subscription: 0,
        webhook: 0,
        notification: 0,
    };
    w.listing = fresh_listing(app, &w).await;
    put_confidential(app, &w, w.listing).await;
    w.listing_doc = upload(
        app,
        &format!("/v1/listings/{}/documents", w.listing),
        &w.uni_member.token,
    )
    .await;
    w.need = fresh_need(app, &w).await;
    w.challenge = fresh_challenge(app, &w).await;
    w.proposal = created(
        app,
        &format!("/v1/challenges/{}/proposals", w.challenge),
        &w.uni_member.token,
        proposal_body(),
        "proposal",
    )
    .await;
    w.proposal_doc = upload(
        app,
        &format!("/v1/proposals/{}/documents", w.proposal),
        &w.uni_member.token,
    )
    .await;
    w.contract = fresh_contract(app, &w, Stage::Draft).await;
    w.contract_doc = upload(
        app,
        &format!("/v1/contracts/{}/documents", w.contract),
        &w.uni_member.token,
    )
    .await;
    advance(app, &w, w.contract, Stage::Registered).await;
    w.amendment = fresh_amendment(app, &w, w.contract).await;
    let c = app
        .get(&format!("/v1/contracts/{}", w.contract), Some(&w.reviewer))
        .await;
    w.registration = c.body["registration"]["number"]
        .as_str()
        .unwrap_or_else(|| panic!("registration number in {}", c.text))
        .to_string();
    w.enquiry = created(
        app,
        "/v1/enquiries",
        &w.broker,
        json!({"listing_id": w.listing, "purpose": "license", "message": "我方客户希望以普通许可方式实施该技术，请提供报价。"}),
        "enquiry",
    )
    .await;
    w.match_ = fresh_match(app, &w, true).await;
    w.event = fresh_event(app, &w).await;
    for b in [
        json!({"listing_id": w.listing}),
        json!({"demand_id": w.need}),
    ] {
        created(
            app,
            &format!("/v1/events/{}/entries", w.event),
            &w.broker,
            b,
            "entry",
        )
        .await;
    }
    let s = app
        .send(
            Method::POST,
            &format!("/v1/events/{}/schedule", w.event),
            Some(&w.broker),
            None,
            &[],
        )
        .await;
    s.assert_status(200);
    w.pairing = s.body["pairings"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a pairing: {}", s.text));
    w.subscription = created(
        app,
        "/v1/subscriptions",
        &w.firm.admin_token,
        json!({"query": "脱硫石膏"}),
        "subscription",
    )
    .await;
    w.webhook = created(
        app,
        "/v1/webhooks",
        &w.uni.admin_token,
        json!({"url": "https://hooks.example.com/ttx"}),
        "webhook",
    )
    .await;
    let n = app
        .get("/v1/notifications", Some(&w.uni_member.token))
        .await;
    w.notification = n.body["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a notification for the university: {}", n.text));
    w
}

async fn put_confidential(app: &TestApp, w: &World, listing: i64) {
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/listings/{listing}/confidential"),
            Some(&w.uni_member.token),
            Some(&confidential_body()),
            &[],
        )
        .await;
    assert!(r.status.is_success(), "confidential: {}", r.text);
}

fn confidential_body() -> Value {
    json!({
        "description": "完整工艺：转晶温度135℃，保温4小时。",
        "ip_details": "权利要求1-8覆盖转晶剂组合物。",
        "data_sheet_notes": "中试线连续运行90天数据。",
        "nda_text": "双方对本成果的保密信息负有保密义务，未经许可不得向第三方披露。",
        "auto_grant": false
    })
}

/// A request to send.
struct Req {
    path: String,
    body: Option<Value>,
    upload: bool,
    headers: Vec<(String, String)>,
}

impl Req {
    fn new(path: String) -> Req {
        Req {
            path,
            body: None,
            upload: false,
            headers: vec![],
        }
    }
    fn json(mut self, b: Value) -> Req {
        self.body = Some(b);
        self
    }
}

/// The current ETag of `path` (read by `token`), as `If-Match`.
async fn etag(app: &TestApp, path: &str, token: &str) -> (String, String) {
    let r = app.get(path, Some(token)).await;
    assert!(r.status.is_success(), "GET {path}: {}", r.text);
    ("if-match".to_string(), r.etag())
}

/// The request for `method template` with the world's objects (a write gets fresh ones).
async fn request(app: &TestApp, w: &World, method: &str, template: &str) -> Req {
    let write = method != "GET";
    if !template.starts_with("/v1/") {
        return Req::new(template.to_string());
    }
    let seg: Vec<&str> = template.trim_start_matches("/v1/").split('/').collect();
    let p = |s: String| Req::new(s);
    match (method, seg.as_slice()) {
        // Paths without ids.
        (_, [_])
        | (_, ["meta", _])
        | (_, ["stats", _])
        | (_, ["matches", "funnel"])
        | (_, ["notifications", "read-all"]) => {
            let mut r = p(template.to_string());
            match (method, template) {
                ("GET", "/v1/enquiries") => r.path += "?box=received",
                ("GET", "/v1/matches/funnel") => r.path += &format!("?agency={}", w.agency.id),
                ("POST", "/v1/signup") => {
                    let n = fixtures::next();
                    r = r.json(json!({
                        "org": {"kind": "enterprise", "name": format!("矩阵测试企业{n}"),
                                "credit_code": fixtures::credit_code("320505", n), "region_code": "320505",
                                "contact_email": format!("c{n}@authz.test"), "contact_phone": "13800138000"},
                        "admin": {"email": format!("a{n}@authz.test"), "display_name": "管理员", "password": PASSWORD}
                    }))
                }
                ("POST", "/v1/tokens") => {
                    r = r.json(json!({"email": w.uni_member.email, "password": PASSWORD}))
                }
                ("POST", "/v1/listings") => r = r.json(listing_body()),
                ("POST", "/v1/demands") => {
                    r = r.json(need_body(&format!("矩阵需求{}", fixtures::next()), false))
                }
                ("POST", "/v1/challenges") => {
                    let mut need = need_body(&format!("矩阵揭榜{}", fixtures::next()), false);
                    need["deadline"] = json!(app.day(60));
                    r = r.json(json!({"need": need, "terms": {
                        "bounty": 300 * WAN,
                        "proposal_deadline": (app.clock.now() + chrono::Duration::days(30)).to_rfc3339(),
                        "eligible_org_kinds": ["university"], "eligible_regions": ["11"],
                        "criteria": [{"name": "技术方案", "weight": 100}], "max_winners": 1}}))
                }
                ("POST", "/v1/contracts") => r = r.json(contract_body(w.firm.id)),
                ("POST", "/v1/enquiries") => {
                    let lid = fresh_listing(app, w).await;
                    r = r.json(json!({"listing_id": lid, "purpose": "license", "message": "请提供许可报价。"}))
                }
                ("POST", "/v1/matches") => {
                    let did = fresh_need(app, w).await;
                    r = r.json(json!({"listing_id": w.listing, "demand_id": did}))
                }
                ("POST", "/v1/subscriptions") => r = r.json(json!({"query": "高强石膏"})),
                ("POST", "/v1/events") => r = r.json(event_body()),
                ("POST", "/v1/webhooks") => {
                    r = r.json(json!({"url": "https://hooks.example.com/authz"}))
                }
                ("POST", "/v1/notifications/read-all") => {}
                ("GET", _) => {}
                _ => panic!("no request for {method} {template}"),
            }
            r
        }
        ("POST", ["matches", "feedback"]) => p(template.into())
            .json(json!({"demand_id": w.need, "listing_id": w.listing, "relevant": true})),
        ("GET", ["matches", "feedback", "export"]) => p(template.into()),
        (_, ["tokens", "{id}"]) => {
            let t = app
                .post(
                    "/v1/tokens",
                    None,
                    &json!({"email": w.uni_member.email, "password": PASSWORD, "token_name": "spare"}),
                )
                .await;
            t.assert_status(201);
            p(format!("/v1/tokens/{}", t.body["token_info"]["id"]))
        }
        (_, ["orgs", "{id}", rest @ ..]) => {
            let org = w.uni.id;
            match (method, rest) {
                ("GET", []) => p(format!("/v1/orgs/{org}")),
                ("PATCH", []) => {
                    let path = format!("/v1/orgs/{org}");
                    let mut r =
                        p(path.clone()).json(json!({"website": "https://lab.example.edu.cn"}));
                    r.headers.push(etag(app, &path, &w.uni.admin_token).await);
                    r
                }
                ("POST", ["verify"]) => {
                    let fresh = app.org("agency", "320505", false).await;
                    p(format!("/v1/orgs/{}/verify", fresh.id)).json(json!({}))
                }
                ("GET", ["members"]) => p(format!("/v1/orgs/{org}/members")),
                ("POST", ["members"]) => p(format!("/v1/orgs/{org}/members")).json(json!({
                    "email": format!("n{}@authz.test", fixtures::next()),
                    "display_name": "新成员", "password": PASSWORD, "role": "member"})),
                (_, ["members", "{user_id}"]) => {
                    let u = user(app, &w.uni, "member").await;
                    let mut r = p(format!("/v1/orgs/{org}/members/{}", u.id));
                    if method == "PATCH" {
                        r = r.json(json!({"role": "org_admin"}));
                        r.headers.push(("if-match".into(), "\"1\"".into()));
                    }
                    r
                }
                ("GET", ["technology-income"]) => {
                    p(format!("/v1/orgs/{org}/technology-income?year=2026"))
                }
                _ => panic!("no request for {method} {template}"),
            }
        }
        (_, ["listings", "{id}", rest @ ..]) => {
            let id = if write {
                fresh_listing(app, w).await
            } else {
                w.listing
            };
            let base = format!("/v1/listings/{id}");
            match (method, rest) {
                ("PATCH", []) => {
                    let mut r = p(base.clone())
                        .json(json!({"summary": "更新后的成果简介：脱硫石膏渣制备高强石膏。"}));
                    r.headers.push(etag(app, &base, &w.uni_member.token).await);
                    r
                }
                ("PUT", ["confidential"]) => {
                    p(format!("{base}/confidential")).json(confidential_body())
                }
                ("POST", ["documents"]) => {
                    let mut r = p(format!("{base}/documents?name=authz.pdf"));
                    r.upload = true;
                    r
                }
                ("GET", ["documents", "{doc_id}"]) => {
                    p(format!("{base}/documents/{}", w.listing_doc))
                }
                (_, []) => p(base),
                (_, [tail]) => p(format!("{base}/{tail}")),
                _ => panic!("no request for {method} {template}"),
            }
        }
        (_, ["demands", "{id}", rest @ ..]) => {
            let id = if write {
                fresh_need(app, w).await
            } else {
                w.need
            };
            let base = format!("/v1/demands/{id}");
            match (method, rest) {
                ("PATCH", []) => {
                    let mut r = p(base.clone()).json(json!({"goals": "脱硫石膏渣综合利用率达到95%以上，完成连续六个月的产线验证，产品强度与白度稳定达标。"}));
                    r.headers.push(etag(app, &base, &w.firm_member).await);
                    r
                }
                ("POST", ["close"]) => {
                    p(format!("{base}/close")).json(json!({"reason": "已找到合作方"}))
                }
                (_, []) => p(base),
                (_, [tail]) => p(format!("{base}/{tail}")),
                _ => panic!("no request for {method} {template}"),
            }
        }
        (_, ["challenges", "{id}", rest @ ..]) => {
            let id = if write {
                fresh_challenge(app, w).await
            } else {
                w.challenge
            };
            match rest {
                [] => p(format!("/v1/challenges/{id}")),
                ["proposals"] if write => {
                    p(format!("/v1/challenges/{id}/proposals")).json(proposal_body())
                }
                ["proposals"] => p(format!("/v1/challenges/{id}/proposals")),
                _ => panic!("no request for {method} {template}"),
            }
        }
        (_, ["proposals", "{id}", rest @ ..]) => {
            let id = if write {
                fresh_proposal(app, w).await
            } else {
                w.proposal
            };
            let base = format!("/v1/proposals/{id}");
            match (method, rest) {
                ("POST", ["decline"]) => {
                    p(format!("{base}/decline")).json(json!({"reason": "已选定其他方案，感谢参与"}))
                }
                ("POST", ["contract-draft"]) => {
                    let accept = format!("{base}/accept");
                    let r = app
                        .post(&accept, Some(&w.firm.admin_token), &json!({}))
                        .await;
                    r.assert_status(200);
                    p(format!("{base}/contract-draft")).json(json!({}))
                }
                ("POST", ["documents"]) => {
                    let mut r = p(format!("{base}/documents?name=authz.pdf"));
                    r.upload = true;
                    r
                }
                ("GET", ["documents", "{doc_id}"]) => {
                    p(format!("{base}/documents/{}", w.proposal_doc))
                }
                (_, []) => p(base),
                (_, [tail]) => p(format!("{base}/{tail}")),
                _ => panic!("no request for {method} {template}"),
            }
        }
        (_, ["contracts", "{id}", rest @ ..]) => {
            if !write {
                let base = format!("/v1/contracts/{}", w.contract);
                return match rest {
                    [] => p(base),
                    ["documents", "{doc_id}"] => p(format!("{base}/documents/{}", w.contract_doc)),
                    [tail] => p(format!("{base}/{tail}")),
                    _ => panic!("no request for {method} {template}"),
                };
            }
            let stage = match rest {
                [] | ["submit"] | ["documents"] => Stage::Draft,
                ["accept"] => Stage::Submitted,
                ["register"] | ["refuse"] | ["return"] => Stage::Accepted,
                _ => Stage::Registered,
            };
            let cid = fresh_contract(app, w, stage).await;
            let base = format!("/v1/contracts/{cid}");
            match rest {
                [] => {
                    let mut r = p(base.clone()).json(json!({"programme_source": "省重点研发计划"}));
                    r.headers.push(etag(app, &base, &w.uni_member.token).await);
                    r
                }
                ["documents"] => {
                    let mut r = p(format!("{base}/documents?name=authz.pdf"));
                    r.upload = true;
                    r
                }
                ["refuse"] => {
                    p(format!("{base}/refuse")).json(json!({"ground": "missing_documents"}))
                }
                ["return"] => {
                    p(format!("{base}/return")).json(json!({"reasons": ["非技术性支出清单缺失"]}))
                }
                ["terminate"] => {
                    p(format!("{base}/terminate")).json(json!({"reason": "双方协商一致解除合同"}))
                }
                ["amendments"] => p(format!("{base}/amendments"))
                    .json(json!({"reason": "延长合同期限", "term_end": "2027-12-31"})),
                ["amendments", "{aid}", decision] => {
                    let aid = fresh_amendment(app, w, cid).await;
                    p(format!("{base}/amendments/{aid}/{decision}"))
                        .json(json!({"note": "材料齐全，同意变更"}))
                }
                [tail] => p(format!("{base}/{tail}")).json(json!({})),
                _ => panic!("no request for {method} {template}"),
            }
        }
        ("GET", ["registrations", "{number}"]) => {
            p(format!("/v1/registrations/{}", w.registration))
        }
        (_, ["enquiries", "{id}", rest @ ..]) => {
            let id = if write {
                fresh_enquiry(app, w).await
            } else {
                w.enquiry
            };
            let base = format!("/v1/enquiries/{id}");
            match (method, rest) {
                ("POST", ["messages"]) => {
                    p(format!("{base}/messages")).json(json!({"body": "请介绍客户情况。"}))
                }
                ("POST", ["decline"]) => p(format!("{base}/decline"))
                    .json(json!({"reason": "该成果已独占许可给其他企业。"})),
                ("POST", ["nda"]) => p(format!("{base}/nda")).json(json!({"nda_version": 1})),
                ("POST", ["grant"]) => p(format!("{base}/grant")),
                ("POST", [tail]) => p(format!("{base}/{tail}")).json(json!({})),
                (_, []) => p(base),
                (_, [tail]) => p(format!("{base}/{tail}")),
                _ => panic!("no request for {method} {template}"),
            }
        }
        (_, ["matches", "{id}", rest @ ..]) => {
            let id = if write {
                fresh_match(app, w, rest != ["introduce"]).await
            } else {
                w.match_
            };
            let base = format!("/v1/matches/{id}");
            match rest {
                [] => p(base),
                ["close"] => p(format!("{base}/close")).json(json!({"reason": "no_fit"})),
                ["sign"] => p(format!("{base}/sign")).json(json!({"contract_id": w.contract})),
                [tail] => p(format!("{base}/{tail}")).json(json!({})),
                _ => panic!("no request for {method} {template}"),
            }
        }
        (_, ["subscriptions", "{id}"]) => {
            let id = if write {
                created(
                    app,
                    "/v1/subscriptions",
                    &w.firm.admin_token,
                    json!({"query": "石膏建材"}),
                    "subscription",
                )
                .await
            } else {
                w.subscription
            };
            p(format!("/v1/subscriptions/{id}"))
        }
        (_, ["events", "{id}", rest @ ..]) => match (method, rest) {
            ("POST", ["entries"]) => {
                let ev = fresh_event(app, w).await;
                p(format!("/v1/events/{ev}/entries")).json(json!({"listing_id": w.listing}))
            }
            ("POST", ["schedule"]) => {
                let ev = fresh_event(app, w).await;
                p(format!("/v1/events/{ev}/schedule"))
            }
            ("POST", ["pairings", "{pid}", "outcome"]) => p(format!(
                "/v1/events/{}/pairings/{}/outcome",
                w.event, w.pairing
            ))
            .json(json!({"outcome": "met"})),
            ("GET", []) => p(format!("/v1/events/{}", w.event)),
            ("GET", [tail]) => p(format!("/v1/events/{}/{tail}", w.event)),
            _ => panic!("no request for {method} {template}"),
        },
        ("POST", ["notifications", "{id}", "read"]) => {
            p(format!("/v1/notifications/{}/read", w.notification))
        }
        (_, ["webhooks", "{id}", rest @ ..]) => {
            let id = if write {
                created(
                    app,
                    "/v1/webhooks",
                    &w.uni.admin_token,
                    json!({"url": "https://hooks.example.com/spare"}),
                    "webhook",
                )
                .await
            } else {
                w.webhook
            };
            match rest {
                [] => p(format!("/v1/webhooks/{id}")),
                [tail] => p(format!("/v1/webhooks/{id}/{tail}")),
                _ => panic!("no request for {method} {template}"),
            }
        }
        _ => panic!("no request for {method} {template}: add one to `request`"),
    }
}

async fn send(app: &TestApp, method: &str, req: &Req, token: Option<&str>) -> Resp {
    if req.upload {
        return app.upload(&req.path, token, "application/pdf", pdf()).await;
    }
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.send(
        Method::from_bytes(method.as_bytes()).unwrap(),
        &req.path,
        token,
        req.body.as_ref(),
        &headers,
    )
    .await
}

/// The operations of the OpenAPI document: `(METHOD, path) → declares bearer security`.
fn operations(doc: &Value) -> BTreeMap<(String, String), bool> {
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (m, op) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&m.as_str()) {
                continue;
            }
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            ops.insert((m.to_uppercase(), path.clone()), secured);
        }
    }
    ops
}

#[tokio::test]
async fn every_operation_answers_each_caller_as_the_table_says() {
    let app = TestApp::spawn_with(|c| {
        c.enquiries.daily_limit_per_org = 100_000;
        c.matching.push_interval_secs = 0;
        c.notify.max_webhooks_per_org = 1_000;
    })
    .await;
    let doc = app.get("/openapi.json", None).await;
    doc.assert_status(200);
    let ops = operations(&doc.body);
    assert!(
        ops.len() > 100,
        "the document lists the routes: {}",
        ops.len()
    );

    // The table covers the document exactly.
    let table: BTreeMap<(String, String), &[A]> = EXPECTED
        .iter()
        .map(|(m, p, a)| ((m.to_string(), p.to_string()), *a))
        .collect();
    assert_eq!(table.len(), EXPECTED.len(), "a row is listed twice");
    let missing: Vec<_> = ops.keys().filter(|k| !table.contains_key(*k)).collect();
    let stale: Vec<_> = table.keys().filter(|k| !ops.contains_key(*k)).collect();
    assert!(
        missing.is_empty(),
        "operations without a row in the authorisation table (add one): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows naming operations the server no longer has: {stale:?}"
    );

    let w = world(&app).await;
    let discover = std::env::var("TTX_AUTHZ_DISCOVER").is_ok_and(|v| v == "1");
    let mut failures = vec![];
    for ((method, template), secured) in &ops {
        let allowed: BTreeSet<A> = table[&(method.clone(), template.clone())]
            .iter()
            .copied()
            .collect();
        let mut seen = vec![];
        let mut observed_allowed = vec![];
        // Refused callers first, then the allowed ones: each on a request of its own (a write on
        // fresh objects).
        let order = ACTORS
            .iter()
            .filter(|a| !allowed.contains(a))
            .chain(ACTORS.iter().filter(|a| allowed.contains(a)));
        for &actor in order {
            let req = request(&app, &w, method, template).await;
            let r = send(&app, method, &req, w.token(actor)).await;
            let s = r.status.as_u16();
            seen.push(format!("{actor:?}={s}"));
            let refused = matches!(s, 401 | 403 | 404);
            if !refused && s < 500 {
                observed_allowed.push(actor);
            }
            let ok = if s >= 500 || s == 405 {
                false
            } else if allowed.contains(&actor) {
                !refused
            } else if actor == Anon && *secured {
                s == 401
            } else {
                refused
            };
            if !ok {
                failures.push(format!(
                    "{method} {template} as {actor:?}: {s} (expected {}) {}",
                    if allowed.contains(&actor) {
                        "allowed"
                    } else {
                        "refused"
                    },
                    r.text.chars().take(300).collect::<String>()
                ));
            }
        }
        if discover {
            eprintln!(
                "(\"{method}\", \"{template}\", &{observed_allowed:?}), // {}",
                seen.join(" ")
            );
        }
    }
    failures.extend(lists_hide_what_is_not_theirs(&app, &w).await);
    assert!(
        failures.is_empty(),
        "{} answers differ from the authorisation table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The ids of a list answer (`items`, or the array itself).
fn item_ids(body: &Value) -> Vec<i64> {
    body["items"]
        .as_array()
        .or_else(|| body.as_array())
        .map(|items| items.iter().filter_map(|i| i["id"].as_i64()).collect())
        .unwrap_or_default()
}

/// Lists every signed-in caller may ask for are filtered: the world's private objects appear in
/// nobody else's, and an organisation's audit trail holds only entries about that organisation.
async fn lists_hide_what_is_not_theirs(app: &TestApp, w: &World) -> Vec<String> {
    let parties_and_agency: &[A] = &[
        UniAdmin,
        UniMember,
        FirmAdmin,
        FirmMember,
        AgencyAdmin,
        Broker,
        Operator,
    ];
    let lists: Vec<(String, i64, &[A])> = vec![
        (
            "/v1/contracts?limit=100".into(),
            w.contract,
            CONTRACT_READERS,
        ),
        ("/v1/proposals?limit=100".into(), w.proposal, PROPOSAL_SIDES),
        (
            format!("/v1/challenges/{}/proposals?limit=100", w.challenge),
            w.proposal,
            PROPOSAL_SIDES,
        ),
        (
            "/v1/enquiries?box=received&limit=100".into(),
            w.enquiry,
            ENQUIRY_SIDES,
        ),
        (
            "/v1/enquiries?box=sent&limit=100".into(),
            w.enquiry,
            ENQUIRY_SIDES,
        ),
        ("/v1/matches?limit=100".into(), w.match_, parties_and_agency),
        ("/v1/subscriptions?limit=100".into(), w.subscription, FIRM),
        ("/v1/webhooks".into(), w.webhook, UNI_ADMIN_OR_OPERATOR),
        ("/v1/events?limit=100".into(), w.event, AGENCY),
    ];
    let mut failures = vec![];
    for (path, id, visible) in &lists {
        for &actor in SIGNED_IN.iter().filter(|a| !visible.contains(a)) {
            let r = app.get(path, w.token(actor)).await;
            if r.status.as_u16() != 200 && r.status.as_u16() != 403 {
                failures.push(format!("GET {path} as {actor:?}: {} {}", r.status, r.text));
            } else if item_ids(&r.body).contains(id) {
                failures.push(format!(
                    "GET {path} as {actor:?} lists {id}, which is not theirs"
                ));
            }
        }
    }
    for (actor, org) in [
        (UniAdmin, w.uni.id),
        (FirmAdmin, w.firm.id),
        (OtherAdmin, w.other.id),
        (AgencyAdmin, w.agency.id),
    ] {
        let r = app.get("/v1/audit?limit=100", w.token(actor)).await;
        let items = r.body["items"].as_array().cloned().unwrap_or_default();
        if r.status.as_u16() != 200 || items.is_empty() {
            failures.push(format!(
                "GET /v1/audit as {actor:?}: {} {}",
                r.status, r.text
            ));
        }
        for i in items {
            if i["actor_org_id"] != org && i["target_org_id"] != org {
                failures.push(format!("GET /v1/audit as {actor:?} shows {i}"));
            }
        }
    }
    failures
}

/// An agency acts only once an operator verified it: drafting a contract as its seller too (it
/// was accepted before).
#[tokio::test]
async fn an_unverified_agency_cannot_draft_a_contract() {
    let app = TestApp::spawn().await;
    let buyer = app.org("enterprise", "320505", false).await;
    let agency = app.org("agency", "110108", false).await;
    let broker = app.member(&agency, "broker").await;
    for token in [&agency.admin_token, &broker] {
        app.post("/v1/contracts", Some(token), &contract_body(buyer.id))
            .await
            .assert_problem(403, "org_not_verified");
    }
    let op = app.operator().await;
    app.post(
        &format!("/v1/orgs/{}/verify", agency.id),
        Some(&op),
        &json!({}),
    )
    .await
    .assert_status(200);
    app.create("/v1/contracts", &broker, &contract_body(buyer.id))
        .await;
}
