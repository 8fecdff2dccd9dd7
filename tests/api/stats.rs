//! Turnover statistics through the API: every figure against one computed independently from
//! the contracts registered, breakdowns that add up, closed periods that stay closed, who sees
//! what, exports and bad input.
use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use ttx_tests::{fixtures, Org, Resp, TestApp};

/// A tiny deterministic generator (the same register on every run and backend).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

/// One registered contract of a generated register.
#[derive(Clone, Debug)]
struct C {
    number: String,
    registered_on: NaiveDate,
    sub_kind: &'static str,
    kind: &'static str,
    field: &'static str,
    ip: Option<&'static str>,
    programme: Option<&'static str>,
    seller_region: &'static str,
    seller_kind: &'static str,
    seller_name: String,
    seller_cc: String,
    buyer_region: &'static str,
    buyer_kind: &'static str,
    buyer_name: String,
    buyer_cc: Option<String>,
    /// Fen.
    amount: i64,
    costs: i64,
}

impl C {
    fn technology(&self) -> i64 {
        self.amount - self.costs
    }
    /// The value of a breakdown (`by`) for this contract on `side`.
    fn key(&self, by: &str, side: &str, station: i64) -> String {
        let region = if side == "output" {
            self.seller_region
        } else {
            self.buyer_region
        };
        match by {
            "province" => format!("{}0000", &region[..2]),
            "city" => format!("{}00", &region[..4]),
            "county" => region.to_string(),
            "kind" => self.kind.into(),
            "sub_kind" => self.sub_kind.into(),
            "field" => self.field.into(),
            "seller_entity_kind" => self.seller_kind.into(),
            "buyer_entity_kind" => self.buyer_kind.into(),
            "ip_kind" => self.ip.unwrap_or("").into(),
            "programme" => self.programme.unwrap_or("").into(),
            "station" => station.to_string(),
            other => panic!("no breakdown {other}"),
        }
    }
}

const SELLER_REGIONS: &[&str] = &[
    "110108", "110105", "320505", "320102", "320583", "440305", "440106", "330106",
];
const BUYER_REGIONS: &[&str] = &[
    "110108", "320505", "320115", "440305", "330106", "510107", "420106",
];
/// (sub kind, kind, ip kind)
const SUB_KINDS: &[(&str, &str, Option<&str>)] = &[
    ("entrusted_development", "development", None),
    (
        "cooperative_development",
        "development",
        Some("invention_patent"),
    ),
    (
        "patent_right_transfer",
        "transfer",
        Some("invention_patent"),
    ),
    ("patent_license", "license", Some("utility_model")),
    ("consulting", "consulting", None),
    ("general_service", "service", Some("software")),
    ("training", "service", None),
];
const FIELDS: &[&str] = &[
    "electronic_information",
    "advanced_manufacturing",
    "new_energy",
    "biomedicine",
    "agriculture",
];
const SELLER_KINDS: &[&str] = &["university", "research_institute", "enterprise"];
const BUYER_KINDS: &[&str] = &["enterprise", "enterprise", "hospital", "individual"];
const PROGRAMMES: &[Option<&str>] = &[None, Some("国家重点研发计划"), Some("省级科技计划")];

fn register(seed: u64, n: usize, from: NaiveDate, days: u64) -> Vec<C> {
    let mut g = Lcg(seed);
    (0..n)
        .map(|i| {
            let registered_on = from + chrono::Days::new(g.next() % days);
            let (sub_kind, kind, ip) = g.pick(SUB_KINDS);
            let seller_region = g.pick(SELLER_REGIONS);
            let buyer_region = g.pick(BUYER_REGIONS);
            let buyer_kind = g.pick(BUYER_KINDS);
            let u = fixtures::next();
            // 1 万元 to about 500 万元, whole fen.
            let amount = 1_000_000 + (g.next() % 500_000_000) as i64;
            let costs = if g.next().is_multiple_of(3) {
                amount / 10
            } else {
                0
            };
            C {
                number: format!("S{seed}-{i:05}"),
                registered_on,
                sub_kind,
                kind,
                field: g.pick(FIELDS),
                ip,
                programme: g.pick(PROGRAMMES),
                seller_region,
                seller_kind: g.pick(SELLER_KINDS),
                seller_name: format!("卖方单位{}", g.next() % 40),
                seller_cc: fixtures::credit_code(seller_region, 500_000 + g.next() % 40),
                buyer_region,
                buyer_kind,
                buyer_name: if buyer_kind == "individual" {
                    format!("自然人{u}")
                } else {
                    format!("买方企业{u}")
                },
                buyer_cc: (buyer_kind != "individual")
                    .then(|| fixtures::credit_code(buyer_region, u)),
                amount,
                costs,
            }
        })
        .collect()
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// Writes the register as a CSV file of `ttx import contracts`.
fn write_csv(path: &std::path::Path, cs: &[C]) {
    let mut f = std::fs::File::create(path).unwrap();
    writeln!(f, "registration_number,registered_on,title,sub_kind,contract_amount,non_technical_costs,signed_on,seller_name,seller_credit_code,seller_entity_kind,seller_region,buyer_name,buyer_credit_code,buyer_entity_kind,buyer_region,tech_field,ip_kind,programme_source").unwrap();
    for c in cs {
        let signed = c.registered_on - chrono::Days::new(10);
        writeln!(
            f,
            "{},{},技术合同{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            c.number,
            c.registered_on,
            c.number,
            c.sub_kind,
            yuan(c.amount),
            yuan(c.costs),
            signed,
            c.seller_name,
            c.seller_cc,
            c.seller_kind,
            c.seller_region,
            c.buyer_name,
            c.buyer_cc.clone().unwrap_or_default(),
            c.buyer_kind,
            c.buyer_region,
            c.field,
            c.ip.unwrap_or(""),
            c.programme.unwrap_or("")
        )
        .unwrap();
    }
}

/// A verified station whose jurisdiction covers `provinces`.
async fn station(app: &TestApp, provinces: &[&str]) -> Org {
    let s = app.org("station", provinces[0], false).await;
    let op = app.operator().await;
    app.post(
        &format!("/v1/orgs/{}/verify", s.id),
        Some(&op),
        &json!({"jurisdiction": provinces}),
    )
    .await
    .assert_status(200);
    s
}

/// Imports `cs` into `station`'s register, as `ttx import contracts` does.
async fn import(app: &TestApp, station: &Org, cs: &[C]) {
    let path = app
        .dir
        .path()
        .join(format!("register-{}.csv", fixtures::next()));
    write_csv(&path, cs);
    let report = ttx_contracts::import::import_file(&app.db, &path, station.id, false, false)
        .await
        .expect("import runs");
    assert!(
        report.errors.is_empty(),
        "{:?}",
        &report.errors[..report.errors.len().min(5)]
    );
    assert_eq!(report.imported, cs.len());
}

type Fig = (i64, i64, i64);

fn add(a: &mut Fig, c: &C) {
    a.0 += 1;
    a.1 += c.amount;
    a.2 += c.technology();
}

/// Expected figures per key of `by` on `side` for contracts registered in `[from, to]`.
fn expected(
    cs: &[C],
    by: &str,
    side: &str,
    from: NaiveDate,
    to: NaiveDate,
    station: i64,
) -> BTreeMap<String, Fig> {
    let mut m = BTreeMap::new();
    for c in cs
        .iter()
        .filter(|c| c.registered_on >= from && c.registered_on <= to)
    {
        add(m.entry(c.key(by, side, station)).or_insert((0, 0, 0)), c);
    }
    m
}

fn fig(v: &Value) -> Fig {
    (
        v["count"].as_i64().unwrap(),
        v["contract_amount"].as_i64().unwrap(),
        v["technology_amount"].as_i64().unwrap(),
    )
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn minus_year(p: (NaiveDate, NaiveDate)) -> (NaiveDate, NaiveDate) {
    let back = |x: NaiveDate| x - chrono::Months::new(12);
    let last_of_month = |x: NaiveDate| (x + chrono::Days::new(1)).day() == 1;
    let to = if last_of_month(p.1) {
        let t = back(p.1);
        (t.with_day(1).unwrap() + chrono::Months::new(1)) - chrono::Days::new(1)
    } else {
        back(p.1)
    };
    (back(p.0), to)
}

async fn report(app: &TestApp, token: Option<&str>, q: &str) -> Resp {
    let r = app.get(&format!("/v1/stats/turnover?{q}"), token).await;
    r.assert_status(200);
    r
}

#[tokio::test]
async fn every_breakdown_matches_the_register_and_adds_up_to_its_total() {
    let app = TestApp::spawn().await;
    let st = station(&app, &["110000", "320000", "440000", "330000"]).await;
    let cs = register(7, 160, d("2024-01-01"), 731);
    import(&app, &st, &cs).await;
    let op = app.operator().await;

    let periods = [
        ("2025-01-01", "2025-12-31"),
        ("2024-01-01", "2024-12-31"),
        ("2025-01-15", "2025-03-10"),
        ("2024-02-01", "2024-02-29"),
        ("2025-06-01", "2025-06-30"),
        ("2024-11-20", "2025-02-05"),
        ("2025-04-03", "2025-04-17"),
    ];
    let breakdowns = [
        ("by=region&level=province", "province"),
        ("by=region&level=city", "city"),
        ("by=region&level=county", "county"),
        ("by=kind", "kind"),
        ("by=sub_kind", "sub_kind"),
        ("by=field", "field"),
        ("by=seller_entity_kind", "seller_entity_kind"),
        ("by=buyer_entity_kind", "buyer_entity_kind"),
        ("by=ip_kind", "ip_kind"),
        ("by=programme", "programme"),
        ("by=station", "station"),
    ];
    for (from, to) in periods {
        let (pf, pt) = minus_year((d(from), d(to)));
        for side in ["output", "absorption"] {
            for (q, by) in breakdowns {
                let r = report(
                    &app,
                    Some(&op),
                    &format!("from={from}&to={to}&side={side}&{q}"),
                )
                .await;
                let b = &r.body;
                assert_eq!(b["detail"], "full");
                assert_eq!(b["previous"]["from"], pf.to_string());
                assert_eq!(b["previous"]["to"], pt.to_string());
                let want = expected(&cs, by, side, d(from), d(to), st.id);
                let want_prev = expected(&cs, by, side, pf, pt, st.id);
                let total = want
                    .values()
                    .fold((0, 0, 0), |a, f| (a.0 + f.0, a.1 + f.1, a.2 + f.2));
                let total_prev = want_prev
                    .values()
                    .fold((0, 0, 0), |a, f| (a.0 + f.0, a.1 + f.1, a.2 + f.2));
                let ctx = format!("{from}..{to} {side} {q}");
                assert_eq!(fig(&b["total"]), total, "total {ctx}");
                assert_eq!(
                    fig(&b["total"]["previous"]),
                    total_prev,
                    "previous total {ctx}"
                );
                let rows = b["rows"].as_array().unwrap();
                let got: BTreeMap<String, Fig> = rows
                    .iter()
                    .map(|r| (r["key"].as_str().unwrap().to_string(), fig(r)))
                    .filter(|(_, f)| *f != (0, 0, 0))
                    .collect();
                assert_eq!(got, want, "rows {ctx}");
                for row in rows {
                    let k = row["key"].as_str().unwrap();
                    let p = want_prev.get(k).copied().unwrap_or((0, 0, 0));
                    assert_eq!(fig(&row["previous"]), p, "previous of {k} {ctx}");
                    let yoy = &row["yoy"]["contract_amount"];
                    if p.1 == 0 {
                        assert!(yoy.is_null(), "{ctx}");
                    } else {
                        let c = fig(row).1;
                        let want = (c - p.1) as f64 / p.1 as f64;
                        assert!(
                            (yoy.as_f64().unwrap() - want).abs() < 1e-12,
                            "yoy {k} {ctx}"
                        );
                    }
                    assert!(!row["label_zh"].as_str().unwrap().is_empty());
                    // rank: 1 + rows with a larger amount
                    let amount = fig(row).1;
                    let larger = rows.iter().filter(|o| fig(o).1 > amount).count() as u64;
                    assert_eq!(row["rank"].as_u64().unwrap(), larger + 1, "rank {ctx}");
                }
                assert_eq!(b["suppressed"], 0);
            }
        }
    }

    // The series: every month of two years, with growth against the same month a year earlier.
    let r = app
        .get(
            "/v1/stats/series?from=2024-01-01&to=2025-12-31&interval=month&side=output",
            Some(&op),
        )
        .await;
    r.assert_status(200);
    let points = r.body["points"].as_array().unwrap();
    assert_eq!(points.len(), 24);
    for p in points {
        let (from, to) = (
            d(p["period"]["from"].as_str().unwrap()),
            d(p["period"]["to"].as_str().unwrap()),
        );
        let want = expected(&cs, "kind", "output", from, to, st.id)
            .values()
            .fold((0, 0, 0), |a, f| (a.0 + f.0, a.1 + f.1, a.2 + f.2));
        assert_eq!(fig(p), want, "{from}");
    }
    // a year's months add up to the year
    let q = app
        .get("/v1/stats/series?from=2025-01-01&to=2025-12-31&interval=quarter&side=absorption&region=32", Some(&op))
        .await;
    let year = report(
        &app,
        Some(&op),
        "from=2025-01-01&to=2025-12-31&side=absorption&region=32",
    )
    .await;
    let quarters = q.body["points"].as_array().unwrap();
    assert_eq!(quarters.len(), 4);
    let sum = quarters.iter().fold((0, 0, 0), |a, p| {
        let f = fig(p);
        (a.0 + f.0, a.1 + f.1, a.2 + f.2)
    });
    assert_eq!(sum, fig(&year.body["total"]));

    // Flows: every cell, adding up to the total.
    let r = app
        .get(
            "/v1/stats/flows?from=2024-01-01&to=2025-12-31&level=province",
            Some(&op),
        )
        .await;
    r.assert_status(200);
    let mut want: BTreeMap<(String, String), Fig> = BTreeMap::new();
    for c in &cs {
        let k = (
            format!("{}0000", &c.seller_region[..2]),
            format!("{}0000", &c.buyer_region[..2]),
        );
        add(want.entry(k).or_insert((0, 0, 0)), c);
    }
    let got: BTreeMap<(String, String), Fig> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                (
                    f["seller"]["key"].as_str().unwrap().to_string(),
                    f["buyer"]["key"].as_str().unwrap().to_string(),
                ),
                fig(f),
            )
        })
        .collect();
    assert_eq!(got, want);
    let amounts: Vec<i64> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| fig(f).1)
        .collect();
    assert!(amounts.windows(2).all(|w| w[0] >= w[1]), "largest first");

    // Top sellers: by credit code, largest first.
    let r = app
        .get(
            "/v1/stats/top?from=2024-01-01&to=2025-12-31&limit=5",
            Some(&op),
        )
        .await;
    r.assert_status(200);
    let mut by_seller: BTreeMap<&str, Fig> = BTreeMap::new();
    for c in &cs {
        add(
            by_seller.entry(c.seller_cc.as_str()).or_insert((0, 0, 0)),
            c,
        );
    }
    let mut best: Vec<i64> = by_seller.values().map(|f| f.1).collect();
    best.sort_unstable_by(|a, b| b.cmp(a));
    let sellers: Vec<i64> = r.body["sellers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| fig(p).1)
        .collect();
    assert_eq!(sellers, best[..5].to_vec());
    assert_eq!(r.body["buyers"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_closed_period_stays_closed_when_a_contract_in_it_changes_later() {
    let app = TestApp::spawn().await;
    let st = station(&app, &["110000", "320000"]).await;
    let reviewer = app.member(&st, "station_reviewer").await;
    // The seller is a TTX organisation: the import links its contracts to it.
    let seller = app.org("university", "110108", false).await;
    let seller_member = app.member(&seller, "member").await;
    let me = app
        .get(&format!("/v1/orgs/{}", seller.id), Some(&seller_member))
        .await;
    let seller_cc = me.body["credit_code"].as_str().unwrap().to_string();
    let mut cs = register(11, 6, d("2024-03-01"), 200);
    for c in &mut cs {
        c.seller_region = "110108";
        c.seller_cc = seller_cc.clone();
        c.seller_name = me.body["name"].as_str().unwrap().to_string();
        c.seller_kind = "university";
    }
    import(&app, &st, &cs).await;
    let op = app.operator().await;
    let q2024 = "from=2024-01-01&to=2024-12-31&by=kind";
    let before = report(&app, Some(&op), q2024).await.body;
    assert_eq!(before["total"]["count"], 6);

    // Today: one contract's amount goes up, another is terminated.
    let list = app
        .get("/v1/contracts?limit=100", Some(&seller_member))
        .await;
    let ids: Vec<i64> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 6);
    let c0 = app
        .get(&format!("/v1/contracts/{}", ids[0]), Some(&seller_member))
        .await;
    let amount0 = c0.body["contract_amount"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/v1/contracts/{}/amendments", ids[0]),
            Some(&seller_member),
            &json!({"reason": "增加研发内容", "contract_amount": amount0 + 1_000_000}),
        )
        .await;
    r.assert_status(201);
    app.post(
        &format!(
            "/v1/contracts/{}/amendments/{}/approve",
            ids[0], r.body["id"]
        ),
        Some(&reviewer),
        &json!({}),
    )
    .await
    .assert_status(200);
    let c1 = app
        .get(&format!("/v1/contracts/{}", ids[1]), Some(&seller_member))
        .await;
    let amount1 = c1.body["contract_amount"].as_i64().unwrap();
    let r = app
        .post(
            &format!("/v1/contracts/{}/terminate", ids[1]),
            Some(&seller_member),
            &json!({"reason": "双方协商一致解除合同"}),
        )
        .await;
    r.assert_status(201);
    app.post(
        &format!(
            "/v1/contracts/{}/amendments/{}/approve",
            ids[1], r.body["id"]
        ),
        Some(&reviewer),
        &json!({}),
    )
    .await
    .assert_status(200);

    // 2024 reads the same, to the fen.
    let after = report(&app, Some(&op), q2024).await.body;
    assert_eq!(after["total"], before["total"]);
    assert_eq!(after["rows"], before["rows"]);
    // The changes show in the period they were booked: this year.
    let ledger = app
        .get(
            &format!("/v1/contracts/{}/ledger", ids[1]),
            Some(&seller_member),
        )
        .await;
    let booked = ledger.body.as_array().unwrap().last().unwrap()["booked_on"]
        .as_str()
        .unwrap()
        .to_string();
    let year = &booked[..4];
    let now = report(
        &app,
        Some(&op),
        &format!("from={year}-01-01&to={year}-12-31"),
    )
    .await
    .body;
    assert_eq!(now["total"]["count"], -1);
    assert_eq!(now["total"]["contract_amount"], 1_000_000 - amount1);
    // The roll-up agrees with the ledger.
    let mismatches = ttx_contracts::rollup::check(&app.db, |_, _| {})
        .await
        .unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");
}

#[tokio::test]
async fn the_public_sees_aggregates_and_bureaus_their_own_region_in_detail() {
    let app = TestApp::spawn().await;
    let st = station(&app, &["110000", "320000"]).await;
    let mut cs = register(3, 10, d("2025-02-01"), 100);
    // Suzhou (3205) 5 contracts, Nanjing (3201) 1, Beijing 4.
    for (i, c) in cs.iter_mut().enumerate() {
        c.seller_region = match i {
            0..=4 => "320505",
            5 => "320102",
            _ => "110108",
        };
        c.seller_cc = fixtures::credit_code(c.seller_region, 900_000 + i as u64);
    }
    import(&app, &st, &cs).await;
    let period = "from=2025-01-01&to=2025-12-31";

    // The public (no token): provinces have 5+1 and 4 contracts: shown.
    let r = report(&app, None, &format!("{period}&by=region&level=province")).await;
    assert_eq!(r.body["detail"], "public");
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["suppressed"], 0);
    // Within Jiangsu: Nanjing's single contract is hidden, and so is Suzhou (else Nanjing would
    // be the total less Suzhou); the total still counts them all.
    let r = report(&app, None, &format!("{period}&region=32&level=city")).await;
    assert_eq!(r.body["total"]["count"], 6);
    assert_eq!(r.body["rows"], json!([]));
    assert_eq!(r.body["suppressed"], 2);
    // Series points of fewer than 3 contracts are hidden too; empty months are shown as such.
    let s = app
        .get(&format!("/v1/stats/series?{period}&region=3201"), None)
        .await;
    s.assert_status(200);
    let points = s.body["points"].as_array().unwrap();
    assert_eq!(points.len(), 12);
    let hidden = points.iter().filter(|p| p["suppressed"] == true).count();
    assert_eq!(hidden, 1);
    assert_eq!(s.body["suppressed"], 1);
    for p in points.iter().filter(|p| p["suppressed"] == false) {
        assert_eq!(
            (p["count"].as_i64(), p["contract_amount"].as_i64()),
            (Some(0), Some(0)),
            "{p}"
        );
    }

    // A Jiangsu bureau's analyst sees Jiangsu in full…
    let bureau = app.org("bureau", "320000", true).await;
    let analyst = app.member(&bureau, "bureau_analyst").await;
    let r = report(
        &app,
        Some(&analyst),
        &format!("{period}&region=32&level=city"),
    )
    .await;
    assert_eq!(r.body["detail"], "full");
    let rows: BTreeMap<String, i64> = r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        BTreeMap::from([("320500".to_string(), 5), ("320100".to_string(), 1)])
    );
    let r = report(
        &app,
        Some(&analyst),
        &format!("{period}&region=320102&level=county"),
    )
    .await;
    assert_eq!(r.body["detail"], "full");
    // …and any other region, or the whole country, only as the public does.
    let r = report(
        &app,
        Some(&analyst),
        &format!("{period}&region=11&level=county"),
    )
    .await;
    assert_eq!(r.body["detail"], "public");
    let r = report(
        &app,
        Some(&analyst),
        &format!("{period}&by=region&level=city"),
    )
    .await;
    assert_eq!(r.body["detail"], "public");
    assert!(r.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["count"].as_i64().unwrap() >= 3));
    // An unverified bureau sees the public view.
    let unverified = app.org("bureau", "320000", false).await;
    let r = report(
        &app,
        Some(&unverified.admin_token),
        &format!("{period}&region=32&level=city"),
    )
    .await;
    assert_eq!(r.body["detail"], "public");
    // A station sees its own registrations in full; another station does not.
    let member = app.member(&st, "station_reviewer").await;
    let r = report(
        &app,
        Some(&member),
        &format!("{period}&station={}&region=32&level=city", st.id),
    )
    .await;
    assert_eq!(r.body["detail"], "full");
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 2);
    let other = app.org("station", "440000", true).await;
    let r = report(
        &app,
        Some(&other.admin_token),
        &format!("{period}&station={}&region=32&level=city", st.id),
    )
    .await;
    assert_eq!(r.body["detail"], "public");
    // Top parties: single-contract parties are not named to the public.
    let t = app.get(&format!("/v1/stats/top?{period}"), None).await;
    t.assert_status(200);
    for p in t.body["sellers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(t.body["buyers"].as_array().unwrap())
    {
        assert!(p["count"].as_i64().unwrap() >= 3, "{p}");
    }
    assert!(t.body["suppressed"].as_u64().unwrap() > 0);
    // Flows: the same rule.
    let f = app
        .get(&format!("/v1/stats/flows?{period}&level=city"), None)
        .await;
    f.assert_status(200);
    assert!(f.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["count"].as_i64().unwrap() >= 3));
    assert_eq!(f.body["total"]["count"], 10);
}

#[tokio::test]
async fn exports_carry_chinese_headers_the_unit_and_the_title() {
    let app = TestApp::spawn().await;
    let st = station(&app, &["320000"]).await;
    let mut cs = register(5, 4, d("2025-03-01"), 30);
    for (i, c) in cs.iter_mut().enumerate() {
        c.seller_region = "320505";
        c.seller_cc = fixtures::credit_code("320505", 800_000 + i as u64);
        c.amount = 123_456_789 + i as i64;
        c.costs = 0;
    }
    import(&app, &st, &cs).await;
    let op = app.operator().await;
    let r = app
        .get(
            "/v1/stats/turnover?from=2025-01-01&to=2025-12-31&region=32&format=csv&unit=wan",
            Some(&op),
        )
        .await;
    r.assert_status(200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(r.header("content-disposition").unwrap().contains(".csv"));
    let lines: Vec<&str> = r.text.lines().collect();
    assert!(
        lines[0].contains("2025年1月1日至2025年12月31日 江苏省 技术合同成交额（技术输出，按地区）"),
        "{}",
        lines[0]
    );
    assert_eq!(lines[1], "单位：项、万元");
    assert!(lines[2].contains("合同成交额（万元）"));
    let total: i64 = cs.iter().map(|c| c.amount).sum();
    assert!(
        lines[3].starts_with(&format!(
            ",合计,4,{}.{:06}",
            total / 1_000_000,
            total % 1_000_000
        )),
        "{}",
        lines[3]
    );
    // The Accept header works too; 亿元 keeps every fen.
    let r = app
        .send(
            reqwest::Method::GET,
            "/v1/stats/series?from=2025-01-01&to=2025-12-31&interval=quarter&region=32&unit=yi",
            Some(&op),
            None,
            &[(
                "accept",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )],
        )
        .await;
    r.assert_status(200);
    assert_eq!(
        r.header("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(r.header("content-disposition").unwrap().contains(".xlsx"));
    let csv = app
        .get("/v1/stats/series?from=2025-01-01&to=2025-12-31&interval=quarter&region=32&unit=yi&format=csv", Some(&op))
        .await;
    assert!(
        csv.text.contains(&format!(
            "{}.{:010}",
            total / 10_000_000_000,
            total % 10_000_000_000
        )),
        "{}",
        csv.text
    );
}

#[tokio::test]
async fn bad_parameters_are_named_never_a_500() {
    let app = TestApp::spawn().await;
    let cases: &[(&str, u16, &str, Option<&str>)] = &[
        (
            "/v1/stats/turnover?from=2025-02-01&to=2025-01-01",
            422,
            "validation_failed",
            Some("to"),
        ),
        (
            "/v1/stats/turnover?from=1800-01-01&to=2025-01-01",
            422,
            "validation_failed",
            Some("from"),
        ),
        (
            "/v1/stats/turnover?region=99",
            422,
            "validation_failed",
            Some("region"),
        ),
        (
            "/v1/stats/turnover?region=abc",
            422,
            "validation_failed",
            Some("region"),
        ),
        (
            "/v1/stats/turnover?by=kind&level=city",
            422,
            "validation_failed",
            Some("level"),
        ),
        (
            "/v1/stats/turnover?region=3205&level=province",
            422,
            "validation_failed",
            Some("level"),
        ),
        (
            "/v1/stats/turnover?station=999999",
            422,
            "validation_failed",
            Some("station"),
        ),
        ("/v1/stats/turnover?by=colour", 400, "invalid_query", None),
        (
            "/v1/stats/turnover?from=2025-13-01",
            400,
            "invalid_query",
            None,
        ),
        ("/v1/stats/turnover?feild=kind", 400, "invalid_query", None),
        ("/v1/stats/turnover?format=pdf", 400, "invalid_query", None),
        ("/v1/stats/series?interval=week", 400, "invalid_query", None),
        (
            "/v1/stats/flows?limit=0",
            422,
            "validation_failed",
            Some("limit"),
        ),
        (
            "/v1/stats/flows?limit=100000",
            422,
            "validation_failed",
            Some("limit"),
        ),
        (
            "/v1/stats/top?limit=101",
            422,
            "validation_failed",
            Some("limit"),
        ),
        ("/v1/stats/top?station=abc", 400, "invalid_query", None),
    ];
    for (path, status, code, field) in cases {
        let r = app.get(path, None).await;
        r.assert_problem(*status, code);
        if let Some(f) = field {
            assert_eq!(r.error_fields(), vec![f.to_string()], "{path}");
        }
    }
    // the unknown parameter is named
    let r = app.get("/v1/stats/turnover?feild=kind", None).await;
    assert!(
        r.body["detail"].as_str().unwrap().contains("feild"),
        "{}",
        r.text
    );
    // An empty ledger answers zeros, not an error.
    let r = app.get("/v1/stats/turnover", None).await;
    r.assert_status(200);
    assert_eq!(r.body["total"]["count"], 0);
    assert!(r.body["total"]["yoy"]["count"].is_null());
}
