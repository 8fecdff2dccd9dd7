//! Reproducing a published table: technology market output and absorption by province and
//! year (`../shared/data/techme/tech_market_province_year.csv`, China Statistical Yearbook on
//! Science and Technology via the R package `techme`, MIT; see its README there).
//!
//! For every year of the table the test writes a station register of synthetic contracts whose
//! sums are the table's figures: the contracts whose seller lies in a province add up exactly
//! (to the fen) to its output (技术输出), those whose buyer lies in it to its absorption (技术吸
//! 纳). It imports them with `ttx import contracts` (registered in that year) into one station
//! whose jurisdiction covers every province, then asks `GET /v1/stats/turnover?by=region&
//! level=province` as the operator for every year and side, and compares every province's
//! contract amount with the table exactly, and its year-on-year growth and rank with values
//! computed here from the table alone.
//!
//! What it does not reproduce: the table's contract *counts* (945,946 contracts in 2023, about
//! 7 million over the table's years). The test books a few dozen contracts a year (a transport
//! plan of sellers to buyers, see [`plan`]), so the `count` of a row is not the published count
//! and is not compared; only amounts, growth and rank are.
//!
//! The provinces' output and absorption totals differ every year (absorption is smaller: part
//! of the output went to buyers outside the 31 provinces, or the yearbook's provinces simply do
//! not balance). A contract has one seller and one buyer, so the difference has to be booked to
//! a region outside the 31 provinces: it is booked to buyers in Hong Kong (810000, a region
//! `ttx_core::RegionCode` knows) or, in a year where absorption exceeded output, to sellers
//! there. That balancing row is one more row of the absorption (or output) report; the ranks
//! expected here therefore rank the provinces' table figures together with that balancing
//! amount, which is also computed from the table (the difference of the two totals).
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use ttx_core::{Fen, RegionCode};
use ttx_tests::fixtures::{credit_code, next};
use ttx_tests::TestApp;

const TABLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/techme/tech_market_province_year.csv"
);

/// The region that takes up the difference between the provinces' output and absorption.
const BALANCE: &str = "810000";

/// Largest amount one contract may have (the input bound of `ttx_core::Fen`).
const MAX_CONTRACT: i64 = ttx_core::money::MAX_INPUT_FEN;

/// One year of the table: the provinces' output and absorption (`None`: not published).
#[derive(Debug, Default)]
struct Year {
    output: BTreeMap<String, Option<Fen>>,
    absorption: BTreeMap<String, Option<Fen>>,
}

/// A figure in 万元 as fen. The README promises at most six decimals (whole fen), but eleven
/// output figures of 2018 have seven or eight (e.g. 北京 49578245.5942588): those are rounded
/// half up to the fen here, and it is that rounded figure the report must give exactly.
fn wan(s: &str) -> Option<Fen> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() <= 6 {
        return Some(Fen::parse_wan_yuan(s).expect("an amount in 万元"));
    }
    let fen = Fen::parse_wan_yuan(&format!("{int}.{}", &frac[..6])).expect("an amount in 万元");
    let up = frac.as_bytes()[6] >= b'5';
    Some(Fen(fen.0 + up as i64))
}

fn read_table(path: &Path) -> BTreeMap<i32, Year> {
    let text = std::fs::read_to_string(path).expect("read the table");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (code, year, out, abs) = (
        col("region_code"),
        col("year"),
        col("output_amount_wan_yuan"),
        col("absorption_amount_wan_yuan"),
    );
    let mut years: BTreeMap<i32, Year> = BTreeMap::new();
    for l in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = l.split(',').collect();
        if f[code] == "000000" {
            continue; // the national row: the provinces need not add up to it
        }
        let y = years.entry(f[year].parse().expect("year")).or_default();
        y.output.insert(f[code].to_string(), wan(f[out]));
        y.absorption.insert(f[code].to_string(), wan(f[abs]));
    }
    years
}

/// A contract of the plan: seller region, buyer region, amount.
type Deal = (String, String, Fen);

/// Contracts whose amounts add up to `sellers` by seller region and to `buyers` by buyer
/// region (both lists must have the same sum): the north-west corner rule of the transport
/// problem, so at most `sellers + buyers − 1` pairs, each split at [`MAX_CONTRACT`].
fn plan(sellers: &[(String, Fen)], buyers: &[(String, Fen)]) -> Vec<Deal> {
    let total = |v: &[(String, Fen)]| v.iter().map(|(_, f)| f.0).sum::<i64>();
    assert_eq!(total(sellers), total(buyers), "the plan must balance");
    let mut s: Vec<(String, i64)> = sellers.iter().map(|(r, f)| (r.clone(), f.0)).collect();
    let mut b: Vec<(String, i64)> = buyers.iter().map(|(r, f)| (r.clone(), f.0)).collect();
    let (mut i, mut j) = (0, 0);
    let mut out = vec![];
    while i < s.len() && j < b.len() {
        let a = s[i].1.min(b[j].1);
        let mut left = a;
        while left > 0 {
            let piece = left.min(MAX_CONTRACT);
            out.push((s[i].0.clone(), b[j].0.clone(), Fen(piece)));
            left -= piece;
        }
        s[i].1 -= a;
        b[j].1 -= a;
        if s[i].1 == 0 {
            i += 1;
        }
        if j < b.len() && b[j].1 == 0 {
            j += 1;
        }
    }
    out
}

/// Published figures of a side, as the rows the report should have: provinces with a figure
/// above zero, plus the balancing region when it takes up a difference on this side.
fn expected_rows(
    figures: &BTreeMap<String, Option<Fen>>,
    balance: Option<Fen>,
) -> Vec<(String, Fen)> {
    let mut rows: Vec<(String, Fen)> = figures
        .iter()
        .filter_map(|(k, v)| v.filter(|f| f.0 > 0).map(|f| (k.clone(), f)))
        .collect();
    if let Some(b) = balance.filter(|b| b.0 > 0) {
        rows.push((BALANCE.to_string(), b));
    }
    rows
}

/// Rank by amount, 1 = largest, equal amounts share the smaller rank.
fn ranks(rows: &[(String, Fen)]) -> HashMap<String, u64> {
    rows.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                1 + rows.iter().filter(|(_, o)| o > v).count() as u64,
            )
        })
        .collect()
}

/// A county of `province` (the region of a party), or the province itself when the code
/// table lists none under it.
fn county_in(province: &str) -> String {
    let p = RegionCode::parse(province).expect("a region");
    p.children()
        .first()
        .map(|c| c.children().first().copied().unwrap_or(*c))
        .unwrap_or(p)
        .as_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turnover_reproduces_the_published_province_table() {
    let path = Path::new(TABLE);
    if !path.exists() {
        println!("SKIP: ../shared/data/techme absent");
        return;
    }
    let table = read_table(path);
    assert!(table.len() >= 10, "years in the table: {}", table.len());

    let app = TestApp::spawn().await;
    let op = app.operator().await;
    let station = app.org("station", "110000", false).await;
    let mut jurisdiction: Vec<String> = RegionCode::provinces()
        .iter()
        .map(|p| p.as_string())
        .collect();
    if !jurisdiction.iter().any(|j| j == BALANCE) {
        jurisdiction.push(BALANCE.into());
    }
    app.post(
        &format!("/v1/orgs/{}/verify", station.id),
        Some(&op),
        &json!({"jurisdiction": jurisdiction}),
    )
    .await
    .assert_status(200);

    // The register: every year's plan, registered in that year.
    let n = next();
    let mut csv = String::from(
        "registration_number,registered_on,title,sub_kind,contract_amount,signed_on,\
         seller_name,seller_credit_code,seller_entity_kind,seller_region,\
         buyer_name,buyer_entity_kind,buyer_region,tech_field\n",
    );
    let mut balances: BTreeMap<i32, (Option<Fen>, Option<Fen>)> = BTreeMap::new();
    let mut contracts = 0;
    for (year, y) in &table {
        let present = |m: &BTreeMap<String, Option<Fen>>| -> Vec<(String, Fen)> {
            m.iter()
                .filter_map(|(k, v)| v.filter(|f| f.0 > 0).map(|f| (k.clone(), f)))
                .collect()
        };
        let mut sellers = present(&y.output);
        let mut buyers = present(&y.absorption);
        let sum = |v: &[(String, Fen)]| Fen(v.iter().map(|(_, f)| f.0).sum());
        let (so, sa) = (sum(&sellers), sum(&buyers));
        // (output side balance, absorption side balance)
        let bal = if so > sa {
            buyers.push((BALANCE.into(), Fen(so.0 - sa.0)));
            (None, Some(Fen(so.0 - sa.0)))
        } else if sa > so {
            sellers.push((BALANCE.into(), Fen(sa.0 - so.0)));
            (Some(Fen(sa.0 - so.0)), None)
        } else {
            (None, None)
        };
        balances.insert(*year, bal);
        for (i, (s, b, amount)) in plan(&sellers, &buyers).into_iter().enumerate() {
            let month = i % 12 + 1;
            // one seller firm per province, one private buyer per contract
            let seller_code = credit_code(&s, n);
            csv.push_str(&format!(
                "TM{n}-{year}-{i},{year}-{month:02}-15,技术市场{year}年第{i}号技术开发合同,entrusted_development,{amount},\
                 {year}-{month:02}-01,{s}技术转移有限公司,{seller_code},enterprise,{},\
                 买方{year}{i},individual,{},electronic_information\n",
                county_in(&s),
                county_in(&b),
                amount = amount.to_yuan_string(),
            ));
            contracts += 1;
        }
    }
    let file = app.dir.path().join("techme-register.csv");
    std::fs::write(&file, csv).unwrap();
    let station_id = station.id.to_string();
    let args = [
        "import",
        "contracts",
        file.to_str().unwrap(),
        "--station",
        &station_id,
    ];
    let out = ttx_tests::process::run_cli(crate::TTX_BIN, &app, &args).await;
    assert!(
        out.status.success(),
        "import failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{contracts} contracts over {} years imported", table.len());

    // Every year and side against the table.
    let mut checked = 0;
    for (year, y) in &table {
        let (bal_out, bal_abs) = balances[year];
        for (side, figures, previous, bal) in [
            (
                "output",
                &y.output,
                table.get(&(year - 1)).map(|p| &p.output),
                bal_out,
            ),
            (
                "absorption",
                &y.absorption,
                table.get(&(year - 1)).map(|p| &p.absorption),
                bal_abs,
            ),
        ] {
            let r = app
                .get(
                    &format!(
                        "/v1/stats/turnover?from={year}-01-01&to={year}-12-31&side={side}&by=region&level=province"
                    ),
                    Some(&op),
                )
                .await;
            r.assert_status(200);
            let what = format!("{year} {side}");
            assert_eq!(r.body["detail"], "full", "{what}");
            assert_eq!(r.body["suppressed"], 0, "{what}");
            let rows: HashMap<String, &Value> = r.body["rows"]
                .as_array()
                .unwrap_or_else(|| panic!("{what}: rows in {}", r.text))
                .iter()
                .map(|row| (row["key"].as_str().unwrap().to_string(), row))
                .collect();
            let expected = expected_rows(figures, bal);
            let rank = ranks(&expected);
            let total: i64 = expected.iter().map(|(_, f)| f.0).sum();
            assert_eq!(
                r.body["total"]["contract_amount"].as_i64(),
                Some(total),
                "{what}: total"
            );
            for (code, published) in figures {
                let row = rows.get(code);
                let Some(v) = published.filter(|f| f.0 > 0) else {
                    // not published that year: no turnover booked there
                    assert!(
                        row.is_none_or(|r| r["contract_amount"] == 0),
                        "{what} {code}: {row:?}"
                    );
                    continue;
                };
                let row = row.unwrap_or_else(|| panic!("{what} {code}: no row"));
                assert_eq!(
                    row["contract_amount"].as_i64(),
                    Some(v.0),
                    "{what} {code}: amount (fen)"
                );
                // Growth, from the table alone: null unless last year's figure was published
                // and above zero.
                let want = previous
                    .and_then(|p| p.get(code).copied().flatten())
                    .filter(|p| p.0 > 0)
                    .map(|p| (v.0 - p.0) as f64 / p.0 as f64);
                let got = row["yoy"]["contract_amount"].as_f64();
                match (want, got) {
                    (None, None) => {}
                    (Some(w), Some(g)) => assert!(
                        (g - w).abs() <= 1e-9 * w.abs(),
                        "{what} {code}: yoy {g} against {w}"
                    ),
                    _ => panic!("{what} {code}: yoy {got:?} against {want:?}"),
                }
                assert_eq!(
                    row["rank"].as_u64(),
                    Some(rank[code]),
                    "{what} {code}: rank"
                );
                checked += 1;
            }
            // Nothing but the published provinces and the balancing region.
            for k in rows.keys() {
                assert!(
                    rank.contains_key(k),
                    "{what}: unexpected row {k}: {}",
                    rows[k]
                );
            }
            if let Some(b) = bal {
                assert_eq!(
                    rows[BALANCE]["contract_amount"].as_i64(),
                    Some(b.0),
                    "{what}: balance"
                );
            }
        }
    }
    println!("{checked} province figures reproduced with growth and rank");
}

#[test]
fn the_plan_balances_both_sides_and_splits_at_the_maximum() {
    let s = vec![
        ("110000".to_string(), Fen(5)),
        ("120000".to_string(), Fen(MAX_CONTRACT + 7)),
    ];
    let b = vec![
        ("310000".to_string(), Fen(3)),
        (BALANCE.to_string(), Fen(MAX_CONTRACT + 9)),
    ];
    let p = plan(&s, &b);
    let by = |side: usize, key: &str| -> i64 {
        p.iter()
            .filter(|d| if side == 0 { d.0 == key } else { d.1 == key })
            .map(|d| d.2 .0)
            .sum()
    };
    assert_eq!(by(0, "110000"), 5);
    assert_eq!(by(0, "120000"), MAX_CONTRACT + 7);
    assert_eq!(by(1, "310000"), 3);
    assert_eq!(by(1, BALANCE), MAX_CONTRACT + 9);
    assert!(p.iter().all(|d| d.2 .0 > 0 && d.2 .0 <= MAX_CONTRACT));
    let r = ranks(&[
        ("a".into(), Fen(5)),
        ("b".into(), Fen(9)),
        ("c".into(), Fen(5)),
        ("d".into(), Fen(1)),
    ]);
    assert_eq!((r["b"], r["a"], r["c"], r["d"]), (1, 2, 2, 4));
    assert_eq!(wan("1.5"), Some(Fen(1_500_000)));
    assert_eq!(wan("49578245.5942588"), Some(Fen(49_578_245_594_259)));
    assert_eq!(wan("2759840.06593902"), Some(Fen(2_759_840_065_939)));
    assert_eq!(wan(""), None);
}
