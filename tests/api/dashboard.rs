//! The turnover dashboard (`/dashboard`) in a real headless browser.
//!
//! Seeds registered contracts over two years (this year through the HTTP API: draft, submit,
//! accept, register; last year through `ttx import contracts`, which books a station's
//! historical register on its original dates), then drives Debian's chromium over the DevTools
//! protocol: it loads the page, waits for `document.body.dataset.ready`, checks that every chart
//! drew data and that the console has no errors, and saves a screenshot as `target/dashboard.png`.
//! Without chromium the test prints `SKIP: chromium not installed` and passes (`.ci/run`
//! installs it).
use base64::Engine;
use chrono::{Datelike, Duration, NaiveDate};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;
use ttx_tests::{fixtures, Org, TestApp};

const CHARTS: [&str; 5] = ["trend", "kind", "field", "provinces", "flows"];

/// The chromium binary: `TTX_CHROMIUM`, else the first of the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TTX_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

fn today_beijing() -> NaiveDate {
    ttx_core::clock::today()
}

/// One contract to register through the API.
struct Deal {
    sub_kind: &'static str,
    field: &'static str,
    buyer_region: &'static str,
    amount_fen: i64,
}

/// Registers `deals` through the API: the seller's member drafts and submits, the station's
/// reviewer accepts and registers (booked today).
async fn register_all(app: &TestApp, seller: &Org, station_reviewer: &str, deals: &[Deal]) {
    let member = app.member(seller, "member").await;
    let today = today_beijing();
    for (i, d) in deals.iter().enumerate() {
        let n = fixtures::next();
        let body = json!({
            "title": format!("看板测试技术合同{n}号"),
            "sub_kind": d.sub_kind,
            "buyer": {
                "name": format!("看板测试买方企业{n}"),
                "credit_code": fixtures::credit_code(d.buyer_region, n),
                "entity_kind": "enterprise",
                "region_code": d.buyer_region
            },
            "contract_amount": d.amount_fen,
            "non_technical_costs": d.amount_fen / 10,
            "signed_on": (today - Duration::days(7 + i as i64)).to_string(),
            "term_start": (today - Duration::days(7)).to_string(),
            "term_end": (today + Duration::days(365)).to_string(),
            "tech_field": d.field,
            "ip_kind": d.sub_kind.starts_with("patent").then_some("invention_patent"),
            "documents": [{"name": "合同文本.pdf", "sha256": format!("{n:064x}"), "size_bytes": 1000}]
        });
        let r = app.post("/v1/contracts", Some(&member), &body).await;
        r.assert_status(201);
        let id = r.body["id"].as_i64().expect("contract id");
        for (token, action) in [
            (&member, "submit"),
            (&station_reviewer.to_string(), "accept"),
            (&station_reviewer.to_string(), "register"),
        ] {
            app.post(
                &format!("/v1/contracts/{id}/{action}"),
                Some(token),
                &json!({}),
            )
            .await
            .assert_status(200);
        }
    }
}

/// One row of a station's historical register for `ttx import contracts`.
fn import_row(
    number: &str,
    on: NaiveDate,
    (sub_kind, field): (&str, &str),
    amount_yuan: i64,
    (seller_region, buyer_region): (&str, &str),
) -> Value {
    let (n, m) = (fixtures::next(), fixtures::next());
    json!({
        "registration_number": number,
        "registered_on": on.to_string(),
        "title": format!("看板测试历史合同{n}号"),
        "sub_kind": sub_kind,
        "contract_amount": amount_yuan.to_string(),
        "non_technical_costs": (amount_yuan / 10).to_string(),
        "signed_on": (on - Duration::days(10)).to_string(),
        "seller_name": format!("看板测试卖方单位{n}"),
        "seller_credit_code": fixtures::credit_code(seller_region, n),
        "seller_entity_kind": "research_institute",
        "seller_region": seller_region,
        "buyer_name": format!("看板测试买方企业{m}"),
        "buyer_credit_code": fixtures::credit_code(buyer_region, m),
        "buyer_entity_kind": "enterprise",
        "buyer_region": buyer_region,
        "tech_field": field
    })
}

/// Imports `rows` into `station`'s register with the real binary.
async fn import(app: &TestApp, station: &Org, name: &str, rows: &[Value]) {
    let file = app.dir.path().join(name);
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let station_id = station.id.to_string();
    let args = [
        "import",
        "contracts",
        "--station",
        &station_id,
        file.to_str().unwrap(),
    ];
    let out = ttx_tests::process::run_cli(crate::TTX_BIN, app, &args).await;
    assert!(
        out.status.success(),
        "import {name}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the seeded register holds, as the public view shows it.
struct Seeded {
    contracts: i64,
    provinces: usize,
    fields: usize,
    months: usize,
}

/// Seller → buyer routes of the historical register (each seller lies in a station's
/// jurisdiction: Beijing, Jiangsu, Guangdong, Hubei).
const ROUTES: [(&str, &str); 12] = [
    ("110108", "320505"),
    ("110108", "440305"),
    ("110108", "370202"),
    ("110108", "120116"),
    ("320102", "310115"),
    ("320102", "330106"),
    ("320102", "340104"),
    ("440305", "440106"),
    ("440305", "430104"),
    ("440305", "510107"),
    ("420111", "420106"),
    ("420111", "610113"),
];
const SUB_KINDS: [&str; 7] = [
    "entrusted_development",
    "cooperative_development",
    "patent_right_transfer",
    "patent_license",
    "consulting",
    "general_service",
    "training",
];
const FIELDS: [&str; 8] = [
    "new_energy",
    "electronic_information",
    "advanced_manufacturing",
    "biomedicine",
    "new_materials",
    "environment",
    "agriculture",
    "modern_transport",
];

/// Seeds registered contracts: this month 16 through the API (draft, submit, accept,
/// register) and, for every earlier month since January last year, four from the stations'
/// historical registers by import. Every cell the page shows holds at least three contracts,
/// so the public view hides none of them.
async fn seed(app: &TestApp) -> Seeded {
    let station = |region| async move {
        let s = app.org("station", region, true).await;
        let reviewer = app.member(&s, "station_reviewer").await;
        (s, reviewer)
    };
    let (bj_station, bj_reviewer) = station("110000").await;
    let (js_station, js_reviewer) = station("320000").await;
    let (gd_station, _) = station("440000").await;
    let (hb_station, _) = station("420000").await;
    let bj_uni = app.org("university", "110108", false).await;
    let js_uni = app.org("university", "320102", false).await;

    let deal = |sub_kind, field, buyer_region, wan: i64| Deal {
        sub_kind,
        field,
        buyer_region,
        amount_fen: wan * 1_000_000,
    };
    let mut beijing = vec![];
    for w in [320, 185, 260, 140] {
        beijing.push(deal("entrusted_development", "new_energy", "320505", w));
    }
    for w in [90, 120, 75] {
        beijing.push(deal(
            "general_service",
            "electronic_information",
            "440305",
            w,
        ));
    }
    for w in [40, 55, 35] {
        beijing.push(deal("consulting", "advanced_manufacturing", "330106", w));
    }
    let mut jiangsu = vec![];
    for w in [210, 150, 95] {
        jiangsu.push(deal("patent_right_transfer", "biomedicine", "110105", w));
    }
    for w in [60, 80, 45] {
        jiangsu.push(deal("patent_license", "new_materials", "310115", w));
    }
    register_all(app, &bj_uni, &bj_reviewer, &beijing).await;
    register_all(app, &js_uni, &js_reviewer, &jiangsu).await;

    // The historical registers: four contracts on the 15th of every month before this one,
    // a quarter larger this year than last.
    let today = today_beijing();
    let mut by_station: [Vec<Value>; 4] = Default::default();
    let (mut i, mut months) = (0usize, 0usize);
    let mut month = NaiveDate::from_ymd_opt(today.year() - 1, 1, 15).unwrap();
    while (month.year(), month.month()) < (today.year(), today.month()) {
        for _ in 0..4 {
            let route = ROUTES[i % ROUTES.len()];
            let wan = (40 + 23 * (i % ROUTES.len()) as i64 + 9 * (month.month() % 4) as i64)
                * if month.year() == today.year() {
                    125
                } else {
                    100
                }
                / 100;
            let station = match &route.0[..2] {
                "11" => 0,
                "32" => 1,
                "44" => 2,
                _ => 3,
            };
            by_station[station].push(import_row(
                &format!("DASH-{}-{i}", &route.0[..2]),
                month,
                (SUB_KINDS[i % SUB_KINDS.len()], FIELDS[i % FIELDS.len()]),
                wan * 10_000,
                route,
            ));
            i += 1;
        }
        months += 1;
        month = month + chrono::Months::new(1);
    }
    for (station, (rows, name)) in [&bj_station, &js_station, &gd_station, &hb_station]
        .into_iter()
        .zip(by_station.iter().zip(["bj", "js", "gd", "hb"]))
    {
        import(app, station, &format!("{name}.jsonl"), rows).await;
    }

    let provinces: std::collections::BTreeSet<&str> = ROUTES
        .iter()
        .flat_map(|(s, b)| [&s[..2], &b[..2]])
        .chain(beijing.iter().chain(&jiangsu).map(|d| &d.buyer_region[..2]))
        .collect();
    Seeded {
        contracts: (beijing.len() + jiangsu.len() + i) as i64,
        provinces: provinces.len(),
        fields: FIELDS.len(),
        months: months + 1,
    }
}

/// A minimal DevTools-protocol client over one websocket, attached to one page (flat sessions).
struct Cdp {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
    session: Option<String>,
    /// Every event received so far (console calls, exceptions, log entries, ...).
    events: Vec<Value>,
}

impl Cdp {
    async fn connect(url: &str) -> Cdp {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("connect to DevTools at {url}: {e}"));
        Cdp {
            ws,
            next_id: 0,
            session: None,
            events: vec![],
        }
    }

    /// Sends a command (to the attached page, once attached) and waits for its result,
    /// keeping the events that arrive meanwhile.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::Text(msg.to_string().into()))
            .await
            .unwrap_or_else(|e| panic!("send {method}: {e}"));
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method} within 60 s"));
            let text = match next {
                Some(Ok(Message::Text(t))) => t.to_string(),
                Some(Ok(Message::Close(c))) => panic!("DevTools closed the socket: {c:?}"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("DevTools socket: {e}"),
                None => panic!("DevTools socket ended while waiting for {method}"),
            };
            let v: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
            if v["id"] == json!(id) {
                if let Some(err) = v.get("error") {
                    panic!("{method} failed: {err}");
                }
                return v["result"].clone();
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    /// Evaluates `expr` in the page and returns its value.
    async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!("evaluating {expr}: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Loads `url` and waits until the page says every chart has finished loading.
    async fn load(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let ready = self
                .eval("!!document.body && document.body.dataset.ready === 'true'")
                .await;
            if ready == json!(true) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{url} was not ready within 60 s; events: {:#}",
                json!(self.events)
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Console errors, uncaught exceptions and browser log errors since the last call.
    fn take_errors(&mut self) -> Vec<String> {
        let errors = self
            .events
            .iter()
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.consoleAPICalled"
                        if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(format!("console.{}: {}", p["type"], p["args"]))
                    }
                    "Runtime.exceptionThrown" => Some(format!(
                        "exception: {}",
                        p["exceptionDetails"]["exception"]["description"]
                            .as_str()
                            .unwrap_or(&p["exceptionDetails"]["text"].to_string())
                    )),
                    "Log.entryAdded" if p["entry"]["level"] == "error" => Some(format!(
                        "log ({}): {} {}",
                        p["entry"]["source"],
                        p["entry"]["text"],
                        p["entry"]["url"].as_str().unwrap_or("")
                    )),
                    _ => None,
                }
            })
            .collect();
        self.events.clear();
        errors
    }
}

/// A headless chromium with DevTools on a random port; killed on drop.
struct Browser {
    child: tokio::process::Child,
    ws_url: String,
    log: Arc<Mutex<Vec<String>>>,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn launch(binary: &Path) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = tokio::process::Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--lang=zh-CN",
                "--hide-scrollbars",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(vec![]));
        let found = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                log.lock().unwrap().push(line.clone());
                if let Some(i) = line.find("ws://") {
                    if line.contains("DevTools listening on") {
                        return Some(line[i..].trim().to_string());
                    }
                }
            }
            None
        })
        .await;
        let ws_url = match found {
            Ok(Some(u)) => u,
            _ => panic!(
                "chromium printed no DevTools address; stderr:\n{}",
                log.lock().unwrap().join("\n")
            ),
        };
        // Keep draining stderr so chromium never blocks on a full pipe.
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Browser {
            child,
            ws_url,
            log,
            _profile: profile,
        }
    }

    /// A new page (tab) with the Runtime, Log and Page domains enabled, 1440 px wide.
    async fn page(&self) -> Cdp {
        let mut cdp = Cdp::connect(&self.ws_url).await;
        let target = cdp
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = cdp
            .call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        cdp.session = Some(attached["sessionId"].as_str().unwrap().to_string());
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            cdp.call(domain, json!({})).await;
        }
        cdp.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 1440, "height": 1000, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
        cdp
    }

    async fn close(mut self, cdp: &mut Cdp) {
        cdp.session = None;
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            cdp.ws.send(Message::Text(
                json!({"id": 0, "method": "Browser.close"})
                    .to_string()
                    .into(),
            )),
        )
        .await;
        if tokio::time::timeout(std::time::Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// `[data-chart]` elements as `(name, drawn, points)`.
async fn charts(cdp: &mut Cdp) -> Vec<(String, String, i64)> {
    let v = cdp
        .eval(
            "Array.from(document.querySelectorAll('[data-chart]')).map(e => \
             [e.dataset.chart, e.dataset.drawn || '', Number(e.dataset.points || 0)])",
        )
        .await;
    v.as_array()
        .expect("an array")
        .iter()
        .map(|c| {
            (
                c[0].as_str().unwrap().to_string(),
                c[1].as_str().unwrap().to_string(),
                c[2].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Text of the problems shown in the page.
async fn problems(cdp: &mut Cdp) -> Vec<String> {
    let v = cdp
        .eval("Array.from(document.querySelectorAll('.problem')).map(e => e.innerText)")
        .await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Saves a full-page PNG of the page to `path`.
async fn screenshot(cdp: &mut Cdp, path: &Path) {
    let m = cdp.call("Page.getLayoutMetrics", json!({})).await;
    let size = &m["cssContentSize"];
    let (w, h) = (
        size["width"].as_f64().unwrap_or(1440.0),
        size["height"].as_f64().unwrap_or(1000.0),
    );
    let shot = cdp
        .call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}}),
        )
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("screenshot data"))
        .expect("base64 PNG");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, png).unwrap();
}

#[tokio::test]
async fn dashboard_draws_every_chart_from_seeded_contracts_in_headless_chromium() {
    let app = TestApp::spawn().await;

    // The page and its assets, with their headers, through the whole HTTP stack.
    let page = app.get("/dashboard", None).await;
    page.assert_status(200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    for chart in CHARTS {
        assert!(page.text.contains(&format!("data-chart=\"{chart}\"")));
    }
    let js = app.get("/dashboard/assets/echarts.min.js", None).await;
    js.assert_status(200);
    assert!(js.header("content-type").unwrap().contains("javascript"));
    assert!(js.header("cache-control").is_some());
    app.get("/dashboard/assets/missing.js", None)
        .await
        .assert_problem(404, "route_not_found");

    let Some(binary) = chromium() else {
        println!("SKIP: chromium not installed (the page and asset checks ran; the browser checks did not)");
        return;
    };

    let seeded = seed(&app).await;
    let today = today_beijing();
    let from = NaiveDate::from_ymd_opt(today.year() - 1, 1, 1).unwrap();
    let url = app.url(&format!("/dashboard?from={from}&to={today}"));

    let browser = Browser::launch(&binary).await;
    let mut cdp = browser.page().await;
    cdp.load(&url).await;
    let errors = cdp.take_errors();
    let shown = problems(&mut cdp).await;
    let drawn = charts(&mut cdp).await;
    let kpi = cdp
        .eval("document.getElementById('kpi-count').textContent")
        .await;
    let view = cdp
        .eval("document.getElementById('view-label').textContent")
        .await;
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("target/dashboard.png");
    screenshot(&mut cdp, &out).await;
    println!("screenshot: {}", out.display());

    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert!(shown.is_empty(), "problems shown in the page: {shown:#?}");
    let names: Vec<&str> = drawn.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, CHARTS, "every chart is on the page");
    for (name, is_drawn, points) in &drawn {
        assert_eq!(is_drawn, "true", "chart {name} drew ({drawn:?})");
        assert!(*points > 0, "chart {name} has data points ({drawn:?})");
    }
    // Every province, kind, field and month seeded, the ten largest flows; the headline total
    // counts every contract.
    let points = |n: &str| drawn.iter().find(|c| c.0 == n).unwrap().2;
    assert_eq!(points("provinces"), seeded.provinces as i64, "{drawn:?}");
    assert_eq!(points("kind"), 5, "{drawn:?}");
    assert_eq!(points("field"), seeded.fields as i64, "{drawn:?}");
    assert_eq!(points("trend"), seeded.months as i64, "{drawn:?}");
    assert_eq!(points("flows"), 10, "{drawn:?}");
    assert_eq!(
        kpi,
        json!(seeded.contracts.to_string().as_str()),
        "the headline count"
    );
    assert!(
        view.as_str().unwrap().contains("公开视图"),
        "no token: the public view ({view})"
    );

    // 亿元: the same figures redrawn in the other unit, without new requests.
    let amount_wan = cdp
        .eval("document.getElementById('kpi-amount').textContent")
        .await;
    cdp.eval(
        "(() => { const u = document.getElementById('f-unit'); u.value = 'yi'; \
         u.dispatchEvent(new Event('change')); })()",
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while cdp.eval("document.body.dataset.ready").await != json!("true") {
        assert!(std::time::Instant::now() < deadline, "redrawn in 亿元");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let amount_yi = cdp
        .eval("document.getElementById('kpi-amount').textContent")
        .await;
    let parse = |v: &Value| -> f64 { v.as_str().unwrap().replace(',', "").parse().unwrap() };
    assert!(
        (parse(&amount_wan) / 10_000.0 - parse(&amount_yi)).abs() < 0.01,
        "{amount_wan} 万元 = {amount_yi} 亿元"
    );
    assert_eq!(
        cdp.eval("document.querySelector('.unit-label').textContent")
            .await,
        json!("亿元")
    );
    assert!(charts(&mut cdp).await.iter().all(|c| c.1 == "true"));
    assert!(cdp.take_errors().is_empty());

    // A call that fails shows the problem's title in the page, and no script error.
    let bad = format!("from={today}&to={from}");
    let refused = app.get(&format!("/v1/stats/turnover?{bad}"), None).await;
    assert!(refused.status.is_client_error(), "{}", refused.text);
    let title = refused.body["title"].as_str().expect("a problem title");
    cdp.load(&app.url(&format!("/dashboard?{bad}"))).await;
    let shown = problems(&mut cdp).await;
    assert_eq!(
        shown.iter().filter(|p| p.contains(title)).count(),
        CHARTS.len(),
        "each chart shows the problem {title:?}: {shown:#?}"
    );
    let script_errors: Vec<String> = cdp
        .take_errors()
        .into_iter()
        .filter(|e| !e.starts_with("log (\"network\")"))
        .collect();
    assert!(script_errors.is_empty(), "{script_errors:#?}");

    // An operator's token (kept in sessionStorage) gets the full detail.
    let op = app.operator().await;
    cdp.eval(&format!(
        "sessionStorage.setItem('ttx.dashboard.token', {})",
        json!(op)
    ))
    .await;
    cdp.load(&url).await;
    let view = cdp
        .eval("document.getElementById('view-label').textContent")
        .await;
    assert!(view.as_str().unwrap().contains("完整视图"), "{view}");
    assert!(problems(&mut cdp).await.is_empty());
    assert!(cdp.take_errors().is_empty());

    if std::env::var_os("TTX_DASHBOARD_BROWSER_LOG").is_some() {
        println!("{}", browser.log.lock().unwrap().join("\n"));
    }
    browser.close(&mut cdp).await;
}
