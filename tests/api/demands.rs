//! Needs (技术需求), challenges (揭榜挂帅) and proposals: completeness and publishing,
//! lifecycle and permissions, anonymity in reads and in the search index, search filters and
//! facets, proposal visibility and the challenge rules, expiry.
use chrono::Duration as Days;
use serde_json::{json, Value};
use ttx_search::DocSource;
use ttx_tests::fixtures::{day, merged, query_escape as q, WAN};
use ttx_tests::{Org, Resp, TestApp};

/// A complete need (scores 100); adjust with `patch`.
fn need(title: &str, patch: Value) -> Value {
    let v = json!({
        "title": title,
        "problem": format!("{title}：现有产线在高负荷工况下良率波动大、能耗偏高，关键工艺参数依赖老师傅经验，无法稳定复现，已影响对主要客户的交付和质量认证。"),
        "key_points": "工艺参数在线监测与建模；关键部件材料选型与寿命验证；控制策略与现有系统集成。",
        "goals": "良率稳定在98%以上，单位能耗降低15%，完成连续三个月的产线验证并形成作业规范。",
        "keywords": ["工艺优化", "在线监测", "节能"],
        "field": "new_energy",
        "research_type": "applied",
        "modes": ["co_development"],
        "trl_min": 5,
        "trl_max": 7,
        "budget": {"kind": "range", "min": 100 * WAN, "max": 200 * WAN},
        "deadline": day(60),
        "contact": {"name": "需求对接人乙", "phone": "13812345678", "email": "needs-contact@firm.test"}
    });
    merged(v, patch)
}

async fn published(app: &TestApp, token: &str, title: &str, patch: Value) -> i64 {
    let mut body = need(title, patch);
    body["publish"] = json!(true);
    let r = app.post("/v1/demands", Some(token), &body).await;
    r.assert_status(201);
    assert_eq!(r.body["status"], "open", "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

/// The ids in an answer, in order: a search's `hits[].demand`, or a list's `items[]`.
fn ids(r: &Resp) -> Vec<i64> {
    match r.body["hits"].as_array() {
        Some(hits) => hits
            .iter()
            .map(|h| h["demand"]["id"].as_i64().unwrap())
            .collect(),
        None => r.body["items"]
            .as_array()
            .unwrap_or(&vec![])
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect(),
    }
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort_unstable();
    v
}

async fn org_name(app: &TestApp, org: &Org) -> String {
    let r = app.get(&format!("/v1/orgs/{}", org.id), None).await;
    r.body["name"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn completeness_gates_publishing_and_hints_are_bilingual() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;

    // A sparse draft is accepted, with its score and concrete hints.
    let r = app
        .post(
            "/v1/demands",
            Some(&firm.admin_token),
            &json!({"title": "电池管理系统SOC估算", "problem": "低温下估算误差大。", "keywords": ["BMS"]}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["status"], "draft");
    let id = r.body["id"].as_i64().unwrap();
    let c = &r.body["completeness"];
    assert_eq!(c["score"], 5, "{}", r.text);
    let hints = c["hints"].as_array().unwrap();
    let codes: Vec<&str> = hints.iter().map(|h| h["code"].as_str().unwrap()).collect();
    for code in [
        "problem_too_short",
        "key_points_missing",
        "goals_missing",
        "budget_missing",
        "deadline_missing",
        "keywords_few",
        "field_missing",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    for h in hints {
        assert!(!h["zh"].as_str().unwrap().is_empty() && !h["en"].as_str().unwrap().is_empty());
    }
    let etag = r.etag();

    // Publishing it is refused with the hints.
    let p = app
        .post(
            &format!("/v1/demands/{id}/publish"),
            Some(&firm.admin_token),
            &json!({}),
        )
        .await;
    p.assert_problem(422, "incomplete_demand");
    assert_eq!(p.body["context"]["score"], 5);
    assert_eq!(p.body["context"]["min_publish_score"], 60);
    assert!(p.body["context"]["hints"].as_array().unwrap().len() >= 7);

    // So is creating an incomplete need with publish=true; nothing is created.
    app.post(
        "/v1/demands",
        Some(&firm.admin_token),
        &json!({"title": "另一个不完整的需求", "publish": true}),
    )
    .await
    .assert_problem(422, "incomplete_demand");
    let mine = app
        .get("/v1/demands?mine=true", Some(&firm.admin_token))
        .await;
    assert_eq!(mine.body["total"], 1);

    // Completing it (If-Match) raises the score; then it publishes.
    let full = need("电池管理系统SOC估算", json!({}));
    let mut patch = full.clone();
    patch.as_object_mut().unwrap().remove("title");
    let u = app
        .patch(
            &format!("/v1/demands/{id}"),
            Some(&firm.admin_token),
            &etag,
            &patch,
        )
        .await;
    u.assert_status(200);
    assert_eq!(u.body["completeness"]["score"], 100);
    assert_eq!(u.body["completeness"]["hints"], json!([]));
    let p = app
        .post(
            &format!("/v1/demands/{id}/publish"),
            Some(&firm.admin_token),
            &json!({}),
        )
        .await;
    p.assert_status(200);
    assert_eq!(p.body["status"], "open");
    assert_eq!(p.body["status_zh"], "征集中");

    // An open need must stay complete enough.
    let etag = p.etag();
    app.patch(
        &format!("/v1/demands/{id}"),
        Some(&firm.admin_token),
        &etag,
        &json!({"problem": "", "key_points": "", "goals": ""}),
    )
    .await
    .assert_problem(422, "incomplete_demand");
}

#[tokio::test]
async fn min_publish_score_comes_from_config() {
    let app = TestApp::spawn_with(|c| c.demands.min_publish_score = 95).await;
    let firm = app.org("enterprise", "320505", false).await;
    let mut body = need("光伏组件封装胶膜国产化", json!({"deadline": null}));
    body["publish"] = json!(true);
    let r = app
        .post("/v1/demands", Some(&firm.admin_token), &body)
        .await;
    r.assert_problem(422, "incomplete_demand");
    assert_eq!(r.body["context"]["score"], 90);
    assert_eq!(r.body["context"]["hints"][0]["code"], "deadline_missing");
}

#[tokio::test]
async fn validation_permissions_lifecycle_and_concurrency() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;
    let member = app.member(&firm, "member").await;
    let colleague = app.member(&firm, "member").await;
    let other = app.org("enterprise", "440305", false).await;

    // Every problem at once.
    let r = app
        .post(
            "/v1/demands",
            Some(&firm.admin_token),
            &json!({
                "title": "短",
                "keywords": ["一", "二", "三", "四", "五", "六"],
                "trl_min": 8, "trl_max": 3,
                "budget": {"kind": "range", "min": 500, "max": 100},
                "deadline": "2001-01-01",
                "region_code": "999999",
                "contact": {"phone": "12345"}
            }),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "budget.min",
            "contact.phone",
            "deadline",
            "keywords",
            "region_code",
            "title",
            "trl_min"
        ]
    );
    app.post(
        "/v1/demands",
        Some(&firm.admin_token),
        &json!({"title": "字段类型错误", "field": "alchemy"}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post("/v1/demands", None, &need("未登录", json!({})))
        .await
        .assert_problem(401, "unauthenticated");
    let agency = app.org("agency", "420111", true).await;
    app.post(
        "/v1/demands",
        Some(&agency.admin_token),
        &need("技术转移机构不发布需求", json!({})),
    )
    .await
    .assert_problem(403, "demand_org_kind");

    // A member posts a draft: private to the organisation.
    let r = app
        .post(
            "/v1/demands",
            Some(&member),
            &need("高速冲压模具寿命提升", json!({})),
        )
        .await;
    r.assert_status(201);
    let id = r.body["id"].as_i64().unwrap();
    let path = format!("/v1/demands/{id}");
    assert_eq!(r.header("location"), Some(path.as_str()));
    app.get(&path, None).await.assert_problem(404, "not_found");
    app.get(&path, Some(&other.admin_token))
        .await
        .assert_problem(404, "not_found");
    let own = app.get(&path, Some(&colleague)).await;
    own.assert_status(200);
    assert_eq!(own.body["contact"]["email"], "needs-contact@firm.test");

    // The poster and the admins edit; a colleague may read but not change it.
    let etag = own.etag();
    app.patch(
        &path,
        Some(&colleague),
        &etag,
        &json!({"title": "同事的修改"}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.patch(
        &path,
        Some(&other.admin_token),
        &etag,
        &json!({"title": "别人的修改"}),
    )
    .await
    .assert_problem(404, "not_found");
    app.send(
        reqwest::Method::PATCH,
        &path,
        Some(&member),
        Some(&json!({"title": "没有版本号"})),
        &[],
    )
    .await
    .assert_problem(428, "precondition_required");
    let u = app
        .patch(
            &path,
            Some(&member),
            &etag,
            &json!({"title": "高速冲压模具寿命提升（修订）"}),
        )
        .await;
    u.assert_status(200);
    app.patch(
        &path,
        Some(&firm.admin_token),
        &etag,
        &json!({"title": "过期版本的修改"}),
    )
    .await
    .assert_problem(412, "precondition_failed");
    app.post(&format!("{path}/publish"), Some(&colleague), &json!({}))
        .await
        .assert_problem(403, "forbidden");

    // The admin publishes; now everyone reads it, without contact details or hints.
    app.post(
        &format!("{path}/publish"),
        Some(&firm.admin_token),
        &json!({}),
    )
    .await
    .assert_status(200);
    app.post(
        &format!("{path}/publish"),
        Some(&firm.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(409, "demand_invalid_transition");
    let public = app.get(&path, None).await;
    public.assert_status(200);
    assert_eq!(public.body["status"], "open");
    assert!(public.body.get("contact").is_none());
    assert!(public.body.get("completeness").is_none());
    assert!(
        !public.text.contains("needs-contact@firm.test") && !public.text.contains("13812345678")
    );
    assert_eq!(public.body["org"]["id"], firm.id);
    assert_eq!(public.body["region_code"], "320505");

    // Resolved: gone from the public, kept for the owner.
    let c = app
        .post(
            &format!("{path}/close"),
            Some(&member),
            &json!({"outcome": "resolved", "reason": "已与高校签订合作开发合同"}),
        )
        .await;
    c.assert_status(200);
    assert_eq!(c.body["status"], "resolved");
    app.get(&path, Some(&other.admin_token))
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("{path}/close"), Some(&member), &json!({}))
        .await
        .assert_problem(409, "demand_invalid_transition");
    let etag = app.get(&path, Some(&member)).await.etag();
    app.patch(
        &path,
        Some(&member),
        &etag,
        &json!({"title": "已解决后修改"}),
    )
    .await
    .assert_problem(409, "demand_invalid_transition");
    app.get("/v1/demands/abc", None)
        .await
        .assert_problem(400, "invalid_path");
}

#[tokio::test]
async fn anonymous_firm_is_hidden_from_public_reads_and_the_index_but_not_from_brokers() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "440305", false).await;
    let name = org_name(&app, &firm).await;
    let hidden = published(
        &app,
        &firm.admin_token,
        "匿名征集高镍正极材料包覆工艺",
        json!({"anonymous": true}),
    )
    .await;
    let named = published(
        &app,
        &firm.admin_token,
        "公开征集固态电解质界面改性方案",
        json!({}),
    )
    .await;

    let broker_org = app.org("agency", "420111", true).await;
    let broker = app.member(&broker_org, "broker").await;
    let unverified_agency = app.org("agency", "420111", false).await;
    let stranger = app.org("enterprise", "110108", false).await;

    // Direct reads.
    let path = format!("/v1/demands/{hidden}");
    for token in [
        None,
        Some(stranger.admin_token.as_str()),
        Some(unverified_agency.admin_token.as_str()),
    ] {
        let r = app.get(&path, token).await;
        r.assert_status(200);
        assert_eq!(r.body["anonymous"], true);
        assert_eq!(r.body["org"], Value::Null);
        assert!(!r.text.contains(&name), "{}", r.text);
        assert!(!r.text.contains(&format!("\"owner_org_id\":{}", firm.id)));
    }
    let r = app.get(&path, Some(&broker)).await;
    assert_eq!(r.body["org"]["name"], name.as_str());
    assert_eq!(r.body["org"]["id"], firm.id);
    assert!(
        r.body.get("contact").is_none(),
        "brokers do not get contact details"
    );
    let r = app.get(&path, Some(&broker_org.admin_token)).await;
    assert_eq!(r.body["org"]["name"], name.as_str());

    // The search document holds neither the name nor the organisation id.
    let source = ttx_demands::DemandSource::new(app.db.clone());
    let docs = source.load(&[hidden, named]).await.unwrap();
    let doc = |id| {
        docs.iter()
            .find(|(i, _)| *i == id)
            .unwrap()
            .1
            .clone()
            .unwrap()
    };
    let d = doc(hidden);
    assert_eq!(d.org_name, None);
    assert_eq!(d.org_id, None);
    let raw = serde_json::to_string(&d).unwrap();
    assert!(
        !raw.contains(&name)
            && !raw.contains("needs-contact@firm.test")
            && !raw.contains("13812345678")
    );
    assert_eq!(doc(named).org_name.as_deref(), Some(name.as_str()));

    // Public search results: no name; searching for the name finds only the named need.
    let title_q = format!("/v1/demands?q={}", q("高镍正极材料包覆"));
    let r = app
        .wait_until(&title_q, None, "the anonymous need in the index", |r| {
            ids(r).contains(&hidden)
        })
        .await;
    let hit = &r.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["demand"]["id"] == hidden)
        .unwrap()["demand"];
    assert_eq!(hit["org"], Value::Null);
    assert!(!r.text.contains(&name));
    let by_name = format!("/v1/demands?q={}", q(&name));
    let r = app
        .wait_until(&by_name, None, "the named need found by its firm", |r| {
            ids(r).contains(&named)
        })
        .await;
    assert!(
        !ids(&r).contains(&hidden),
        "the index must not know who posted the anonymous need"
    );

    // The engine itself (the one the server is configured with), read beside the server:
    // neither the firm's name nor its id finds
    // the anonymous need.
    use ttx_search::{Filters, SearchQuery, DEMANDS};
    let engine = ttx_server::search_ops::engine_from_config(&app.config).unwrap();
    let hits = |r: ttx_search::SearchResults| r.hits.iter().map(|h| h.id).collect::<Vec<_>>();
    let by_org = SearchQuery {
        filters: Filters {
            org_id: Some(firm.id),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        hits(engine.search(DEMANDS, &by_org).await.unwrap()),
        vec![named]
    );
    let by_name = hits(
        engine
            .search(DEMANDS, &SearchQuery::text(name.clone()))
            .await
            .unwrap(),
    );
    assert!(
        by_name.contains(&named) && !by_name.contains(&hidden),
        "{by_name:?}"
    );
    let by_title = hits(
        engine
            .search(DEMANDS, &SearchQuery::text("高镍正极材料包覆"))
            .await
            .unwrap(),
    );
    assert_eq!(by_title, vec![hidden]);

    // A verified broker's search shows the firm.
    let r = app.get(&title_q, Some(&broker)).await;
    let hit = &r.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["demand"]["id"] == hidden)
        .unwrap()["demand"];
    assert_eq!(hit["org"]["name"], name.as_str());
}

#[tokio::test]
async fn search_filters_facets_sort_and_paging() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;
    let t = &firm.admin_token;
    let a = published(
        &app,
        t,
        "动力电池热管理液冷板设计",
        json!({
            "region_code": "320505", "modes": ["co_development"], "deadline": day(30),
            "budget": {"kind": "range", "min": 100 * WAN, "max": 200 * WAN}
        }),
    )
    .await;
    let b = published(&app, t, "碳纤维复合材料回收工艺", json!({
        "field": "new_materials", "region_code": "440305", "modes": ["license"], "deadline": day(90),
        "budget": {"kind": "negotiable"}
    })).await;
    let c = published(&app, t, "钙钛矿叠层电池基础机理研究", json!({
        "region_code": "440106", "modes": ["license", "service"], "deadline": day(200),
        "research_type": "basic", "budget": {"kind": "range", "min": 500 * WAN, "max": 800 * WAN}
    })).await;
    let mut ch = need(
        "氢燃料电池双极板涂层揭榜",
        json!({"region_code": "110108", "deadline": day(100)}),
    );
    ch.as_object_mut().unwrap().remove("budget");
    ch["publish"] = json!(true);
    let r = app
        .post(
            "/v1/challenges",
            Some(t),
            &json!({"need": ch, "terms": {
                "bounty": 300 * WAN,
                "proposal_deadline": (app.clock.now() + Days::days(50)).to_rfc3339(),
                "criteria": [{"name": "技术先进性", "weight": 70}, {"name": "成本", "weight": 30}]
            }}),
        )
        .await;
    r.assert_status(201);
    let d = r.body["id"].as_i64().unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/challenges/{d}").as_str())
    );
    // A draft is never in the public index.
    let draft = app
        .post(
            "/v1/demands",
            Some(t),
            &need("草稿需求不应被检索", json!({})),
        )
        .await;
    let e = draft.body["id"].as_i64().unwrap();

    let all = app
        .wait_until("/v1/demands", None, "four open needs indexed", |r| {
            r.body["total"] == json!(4)
        })
        .await;
    assert_eq!(sorted(ids(&all)), sorted(vec![a, b, c, d]));

    let check = |path: &'static str, want: Vec<i64>| {
        let app = &app;
        async move {
            let r = app.get(path, None).await;
            r.assert_status(200);
            assert_eq!(sorted(ids(&r)), sorted(want), "{path}: {}", r.text);
            assert_eq!(r.body["total"], json!(ids(&r).len()), "{path}");
        }
    };
    check("/v1/demands?field=new_energy", vec![a, c, d]).await;
    check(
        "/v1/demands?field=new_materials,new_energy",
        vec![a, b, c, d],
    )
    .await;
    check(
        "/v1/demands?field=new_materials&field=new_energy",
        vec![a, b, c, d],
    )
    .await;
    check(
        "/v1/demands?budget_min=150000000&budget_max=300000000",
        vec![a, d],
    )
    .await;
    check(
        "/v1/demands?budget_min=150000000&budget_max=300000000&include_negotiable=true",
        vec![a, b, d],
    )
    .await;
    check("/v1/demands?region=44", vec![b, c]).await;
    check("/v1/demands?region=4403", vec![b]).await;
    check("/v1/demands?region=440000", vec![b, c]).await;
    check("/v1/demands?mode=license", vec![b, c]).await;
    check("/v1/demands?challenge=true", vec![d]).await;
    check("/v1/demands?research_type=basic", vec![c]).await;
    check("/v1/demands?status=open&field=new_materials", vec![b]).await;
    let before = format!("/v1/demands?deadline_before={}", day(95));
    let r = app.get(&before, None).await;
    assert_eq!(sorted(ids(&r)), sorted(vec![a, b]));
    let after = format!("/v1/demands?deadline_after={}", day(95));
    let r = app.get(&after, None).await;
    assert_eq!(sorted(ids(&r)), sorted(vec![c, d]));
    let r = app
        .get(&format!("/v1/demands?q={}", q("热管理")), None)
        .await;
    assert_eq!(ids(&r), vec![a]);

    // Facets count over all matches.
    let r = app
        .get("/v1/demands?facets=field,modes,status,tags&limit=1", None)
        .await;
    r.assert_status(200);
    assert_eq!(r.body["hits"].as_array().unwrap().len(), 1);
    let f = &r.body["facets"];
    assert_eq!(f["field"], json!({"new_energy": 3, "new_materials": 1}));
    assert_eq!(
        f["modes"],
        json!({"co_development": 2, "license": 2, "service": 1})
    );
    assert_eq!(f["status"], json!({"open": 4}));
    assert_eq!(f["tags"]["challenge"], 1);
    assert_eq!(f["tags"]["research_type:basic"], 1);

    // Sorts and paging.
    let r = app.get("/v1/demands?sort=budget_asc", None).await;
    assert_eq!(
        ids(&r),
        vec![a, d, c, b],
        "the bounty counts as a challenge's budget; negotiable last"
    );
    let r = app.get("/v1/demands?sort=deadline", None).await;
    assert_eq!(ids(&r), vec![a, b, d, c]);
    let p1 = app.get("/v1/demands?sort=deadline&limit=3", None).await;
    assert_eq!(ids(&p1), vec![a, b, d]);
    let cursor = p1.body["next_cursor"].as_str().unwrap();
    let p2 = app
        .get(
            &format!("/v1/demands?sort=deadline&limit=3&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(ids(&p2), vec![c]);
    assert_eq!(p2.body["next_cursor"], Value::Null);

    // Bad input is a 4xx naming the parameter.
    app.get("/v1/demands?cursor=garbage", None)
        .await
        .assert_problem(400, "invalid_cursor");
    let r = app
        .get(
            "/v1/demands?status=draft&region=99&sort=cheap&facets=colour&budget_min=-5",
            None,
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec!["budget_min", "facets", "region", "sort", "status"]
    );
    app.get("/v1/demands?deadline_before=tomorrow", None)
        .await
        .assert_problem(400, "invalid_query");

    // mine=true: the organisation's needs in every state, same filters.
    let r = app.get("/v1/demands?mine=true&status=draft", Some(t)).await;
    assert_eq!(ids(&r), vec![e]);
    let r = app
        .get("/v1/demands?mine=true&facets=status", Some(t))
        .await;
    assert_eq!(r.body["facets"]["status"], json!({"draft": 1, "open": 4}));
    app.get("/v1/demands?mine=true", None)
        .await
        .assert_problem(401, "unauthenticated");

    // Closing removes a need from the index.
    app.post(&format!("/v1/demands/{a}/close"), Some(t), &json!({}))
        .await
        .assert_status(200);
    app.wait_until(
        "/v1/demands",
        None,
        "the closed need leaving the index",
        |r| r.body["total"] == json!(3),
    )
    .await;
    let r = app.get("/v1/challenges", None).await;
    assert_eq!(ids(&r), vec![d]);
}

/// A challenge: eligible university in Beijing (11) or Guangdong (44), one winner.
async fn challenge(app: &TestApp, firm: &Org, title: &str, max_winners: u32) -> i64 {
    let mut n = need(title, json!({"deadline": app.day(60)}));
    n["publish"] = json!(true);
    let r = app
        .post(
            "/v1/challenges",
            Some(&firm.admin_token),
            &json!({"need": n, "terms": {
                "bounty": 300 * WAN,
                "proposal_deadline": (app.clock.now() + Days::days(30)).to_rfc3339(),
                "eligible_org_kinds": ["university", "research_institute"],
                "eligible_regions": ["11", "44"],
                "criteria": [{"name": "技术方案", "weight": 60}, {"name": "团队能力", "weight": 40}],
                "max_winners": max_winners
            }}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["challenge"]["accepting_proposals"], true);
    r.body["id"].as_i64().unwrap()
}

fn proposal(price_wan: i64) -> Value {
    json!({
        "approach": "采用仿生流道液冷板与相变材料复合方案，结合电化学-热耦合模型进行预测控制。",
        "team": "教授1名，副教授2名，博士生4名",
        "timeline": "6个月样件，12个月台架验证",
        "price": price_wan * WAN
    })
}

async fn kinds_in_inbox(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.get("/v1/notifications?limit=100", Some(token)).await;
    r.assert_status(200);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn challenge_proposals_visibility_eligibility_and_winners() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;
    let firm_member = app.member(&firm, "member").await;
    let uni = app.org("university", "110108", false).await;
    let inst = app.org("research_institute", "440305", false).await;
    let other_firm = app.org("enterprise", "440305", false).await;
    let shanghai_uni = app.org("university", "310104", false).await;
    let id = challenge(&app, &firm, "动力电池快充热管理揭榜挂帅", 1).await;
    let base = format!("/v1/challenges/{id}/proposals");

    // Validation, eligibility and the challenger itself: distinct stable codes.
    let r = app
        .post(
            &base,
            Some(&uni.admin_token),
            &json!({"approach": "短", "team": "", "timeline": "x", "price": -1}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(
        r.error_fields(),
        vec!["approach", "team", "timeline", "price"]
    );
    app.post(&base, Some(&other_firm.admin_token), &proposal(100))
        .await
        .assert_problem(403, "proposal_not_eligible");
    let r = app
        .post(&base, Some(&shanghai_uni.admin_token), &proposal(100))
        .await;
    r.assert_problem(403, "proposal_not_eligible");
    assert!(r.body["detail"].as_str().unwrap().contains("310104"));
    app.post(&base, Some(&firm.admin_token), &proposal(100))
        .await
        .assert_problem(403, "proposal_own_challenge");
    app.post(&base, None, &proposal(100))
        .await
        .assert_problem(401, "unauthenticated");

    // Two eligible solvers answer; a second answer from the same organisation is refused.
    let r = app
        .post(&base, Some(&uni.admin_token), &proposal(180))
        .await;
    r.assert_status(201);
    let pu = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["status"], "submitted");
    app.post(&base, Some(&uni.admin_token), &proposal(170))
        .await
        .assert_problem(409, "proposal_already_submitted");
    let r = app
        .post(&base, Some(&inst.admin_token), &proposal(195))
        .await;
    r.assert_status(201);
    let pi = r.body["id"].as_i64().unwrap();
    assert!(
        kinds_in_inbox(&app, &firm.admin_token)
            .await
            .iter()
            .filter(|k| *k == "proposal.submitted")
            .count()
            == 2
    );

    // A proposal is visible to its authors and the challenger only.
    let pu_path = format!("/v1/proposals/{pu}");
    app.get(&pu_path, Some(&inst.admin_token))
        .await
        .assert_problem(404, "not_found");
    app.get(&pu_path, Some(&other_firm.admin_token))
        .await
        .assert_problem(404, "not_found");
    app.get(&pu_path, None)
        .await
        .assert_problem(401, "unauthenticated");
    app.get(&pu_path, Some(&uni.admin_token))
        .await
        .assert_status(200);
    app.get(&pu_path, Some(&firm_member))
        .await
        .assert_status(200);
    let list = app.get(&base, Some(&firm.admin_token)).await;
    assert_eq!(sorted(ids(&list)), sorted(vec![pu, pi]));
    let list = app.get(&base, Some(&inst.admin_token)).await;
    assert_eq!(ids(&list), vec![pi]);
    let list = app.get(&base, Some(&other_firm.admin_token)).await;
    assert_eq!(ids(&list), Vec::<i64>::new());

    // Only the challenger's poster and admins decide; solvers cannot.
    app.post(
        &format!("{pu_path}/shortlist"),
        Some(&firm_member),
        &json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(
        &format!("{pu_path}/accept"),
        Some(&uni.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(403, "forbidden");
    app.post(
        &format!("/v1/proposals/{pi}/accept"),
        Some(&uni.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(404, "not_found");

    let r = app
        .post(
            &format!("{pu_path}/shortlist"),
            Some(&firm.admin_token),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "shortlisted");
    app.post(
        &format!("{pu_path}/shortlist"),
        Some(&firm.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(409, "proposal_invalid_transition");

    // Accepting records the contract parties and moves the challenge to negotiation.
    let r = app
        .post(
            &format!("{pu_path}/accept"),
            Some(&firm.admin_token),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "accepted");
    let contract = &r.body["contract"];
    assert_eq!(contract["seller"]["id"], uni.id);
    assert_eq!(contract["buyer"]["id"], firm.id);
    assert_eq!(contract["amount"], 180 * WAN);
    assert_eq!(contract["demand_id"], id);
    assert_eq!(contract["proposal_id"], pu);

    // One winner only: the other proposal left `submitted` for `not_selected` when this one
    // was accepted (its solver is notified); it can no longer be accepted nor declined.
    let r = app
        .post(
            &format!("/v1/proposals/{pi}/accept"),
            Some(&firm.admin_token),
            &json!({}),
        )
        .await;
    r.assert_problem(409, "proposal_invalid_transition");
    assert!(r.text.contains("not_selected"), "{}", r.text);
    app.post(
        &format!("/v1/proposals/{pi}/decline"),
        Some(&firm.admin_token),
        &json!({"reason": "已选定其他方案，感谢参与"}),
    )
    .await
    .assert_problem(409, "proposal_invalid_transition");
    app.post(
        &format!("{pu_path}/decline"),
        Some(&firm.admin_token),
        &json!({"reason": "改变主意"}),
    )
    .await
    .assert_problem(409, "proposal_invalid_transition");

    let ch = app
        .get(&format!("/v1/challenges/{id}"), Some(&firm.admin_token))
        .await;
    assert_eq!(ch.body["status"], "in_negotiation");
    assert_eq!(ch.body["challenge"]["accepted_count"], 1);
    assert_eq!(ch.body["challenge"]["accepting_proposals"], false);
    // The solvers still see the challenge they answered; others no longer do.
    app.get(&format!("/v1/challenges/{id}"), Some(&inst.admin_token))
        .await
        .assert_status(200);
    app.get(
        &format!("/v1/challenges/{id}"),
        Some(&other_firm.admin_token),
    )
    .await
    .assert_problem(404, "not_found");
    // No more proposals once the challenge left the open state (to others it is gone).
    app.post(&base, Some(&inst.admin_token), &proposal(1))
        .await
        .assert_problem(409, "challenge_not_open");
    app.post(&base, Some(&shanghai_uni.admin_token), &proposal(1))
        .await
        .assert_problem(404, "not_found");

    let uni_inbox = kinds_in_inbox(&app, &uni.admin_token).await;
    assert!(
        uni_inbox.contains(&"proposal.shortlisted".to_string())
            && uni_inbox.contains(&"proposal.accepted".to_string())
    );
    assert!(kinds_in_inbox(&app, &inst.admin_token)
        .await
        .contains(&"proposal.not_selected".to_string()));
    // A need that is not a challenge is not one.
    let plain = published(&app, &firm.admin_token, "普通需求不是揭榜挂帅", json!({})).await;
    app.get(&format!("/v1/challenges/{plain}"), None)
        .await
        .assert_problem(404, "not_found");
    app.post(
        &format!("/v1/challenges/{plain}/proposals"),
        Some(&uni.admin_token),
        &proposal(1),
    )
    .await
    .assert_problem(404, "not_found");
}

#[tokio::test]
async fn no_proposal_after_the_deadline_and_several_winners() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;
    let uni = app.org("university", "110108", false).await;
    let inst = app.org("research_institute", "440305", false).await;
    let uni2 = app.org("university", "440106", false).await;
    let id = challenge(&app, &firm, "氢燃料电池双极板涂层揭榜", 2).await;
    let base = format!("/v1/challenges/{id}/proposals");
    let a = app
        .post(&base, Some(&uni.admin_token), &proposal(400))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let b = app
        .post(&base, Some(&inst.admin_token), &proposal(420))
        .await
        .body["id"]
        .as_i64()
        .unwrap();

    // The proposal deadline (30 days ahead) passes; the need (60 days ahead) stays open.
    app.clock.advance(Days::days(31));
    let r = app
        .post(&base, Some(&uni2.admin_token), &proposal(300))
        .await;
    r.assert_problem(409, "proposal_deadline_passed");
    let ch = app.get(&format!("/v1/challenges/{id}"), None).await;
    assert_eq!(ch.body["challenge"]["accepting_proposals"], false);

    // Decisions on the proposals received go on; two winners are allowed.
    for p in [a, b] {
        app.post(
            &format!("/v1/proposals/{p}/accept"),
            Some(&firm.admin_token),
            &json!({}),
        )
        .await
        .assert_status(200);
    }
    let ch = app
        .get(&format!("/v1/challenges/{id}"), Some(&firm.admin_token))
        .await;
    assert_eq!(ch.body["challenge"]["accepted_count"], 2);

    // Closing a challenge declines what is still open, with the reason.
    let c = challenge(&app, &firm, "储能变流器碳化硅模块揭榜", 1).await;
    let p = app
        .post(
            &format!("/v1/challenges/{c}/proposals"),
            Some(&uni.admin_token),
            &proposal(100),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    app.post(
        &format!("/v1/demands/{c}/close"),
        Some(&firm.admin_token),
        &json!({"reason": "项目取消"}),
    )
    .await
    .assert_status(200);
    let r = app
        .get(&format!("/v1/proposals/{p}"), Some(&uni.admin_token))
        .await;
    assert_eq!(r.body["status"], "declined");
    assert_eq!(r.body["decline_reason"], "项目取消");
}

#[tokio::test]
async fn needs_expire_at_their_deadline() {
    let app = TestApp::spawn_with(|c| c.demands.expiry_interval_secs = 1).await;
    let firm = app.org("enterprise", "320505", false).await;
    let id = published(
        &app,
        &firm.admin_token,
        "光伏电站无人机巡检缺陷识别",
        json!({}),
    )
    .await;
    app.wait_until("/v1/demands", None, "the need indexed", |r| {
        ids(r) == vec![id]
    })
    .await;

    // Its deadline (60 days ahead) passes: readers see it expired at once, the job records it.
    app.clock.advance(Days::days(61));
    let r = app
        .get(&format!("/v1/demands/{id}"), Some(&firm.admin_token))
        .await;
    assert_eq!(r.body["status"], "expired");
    app.get(&format!("/v1/demands/{id}"), None)
        .await
        .assert_problem(404, "not_found");
    app.wait_until(
        "/v1/notifications",
        Some(&firm.admin_token),
        "demand.expired",
        |r| {
            r.body["items"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i["kind"] == "demand.expired"))
        },
    )
    .await;
    app.wait_until(
        "/v1/demands",
        None,
        "the expired need leaving the index",
        |r| r.body["total"] == json!(0),
    )
    .await;

    // Publishing again needs a new deadline.
    let path = format!("/v1/demands/{id}");
    app.post(
        &format!("{path}/publish"),
        Some(&firm.admin_token),
        &json!({}),
    )
    .await
    .assert_problem(409, "demand_deadline_passed");
    let etag = app.get(&path, Some(&firm.admin_token)).await.etag();
    app.patch(
        &path,
        Some(&firm.admin_token),
        &etag,
        &json!({"deadline": app.day(30)}),
    )
    .await
    .assert_status(200);
    let r = app
        .post(
            &format!("{path}/publish"),
            Some(&firm.admin_token),
            &json!({}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.body["status"], "open");
}

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

#[tokio::test]
async fn listings_and_needs_search_answer_in_the_same_shape() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;
    let uni = app.org("university", "110108", false).await;
    let need_id = published(&app, &firm.admin_token, "钠离子电池正极材料量产", json!({})).await;
    let listing_id = app
        .create(
            "/v1/listings",
            &uni.admin_token,
            &ttx_tests::fixtures::listing_body(
                "钠离子电池正极材料制备技术",
                "一种钠离子电池层状氧化物正极材料的制备方法，已完成中试。",
                &["钠离子电池", "正极材料"],
                "new_energy",
            ),
        )
        .await;
    let word = q("钠离子电池");
    let needs = app
        .wait_until(
            &format!("/v1/demands?q={word}&facets=field"),
            None,
            "the need in the index",
            |r| ids(r) == vec![need_id],
        )
        .await;
    let listings = app
        .wait_until(
            &format!("/v1/listings?q={word}&facets=field"),
            None,
            "the listing in the index",
            |r| r.body["hits"][0]["listing"]["id"] == listing_id,
        )
        .await;

    // Same top-level keys (the needs search also carries the deprecated `items` for one
    // release), same hit keys with the card under `demand` / `listing`.
    let mut need_keys = keys(&needs.body);
    need_keys.retain(|k| k != "items");
    assert_eq!(need_keys, keys(&listings.body));
    assert_eq!(
        keys(&listings.body),
        vec!["facets", "hits", "next_cursor", "total"]
    );
    let need_hit = &needs.body["hits"][0];
    let listing_hit = &listings.body["hits"][0];
    let rename = |k: Vec<String>, from: &str| -> Vec<String> {
        let mut k: Vec<String> = k
            .into_iter()
            .map(|k| if k == from { "card".into() } else { k })
            .collect();
        k.sort();
        k
    };
    assert_eq!(
        rename(keys(need_hit), "demand"),
        rename(keys(listing_hit), "listing")
    );
    assert_eq!(keys(need_hit), vec!["demand", "highlights", "score"]);
    assert!(need_hit["score"].as_f64().unwrap() > 0.0, "{need_hit}");
    assert!(need_hit["highlights"]["title"]
        .as_str()
        .unwrap()
        .contains("<em>"));
    assert_eq!(needs.body["total"], 1);
    assert_eq!(needs.body["facets"]["field"]["new_energy"], 1);
    assert_eq!(
        listings.body["facets"]["field"],
        needs.body["facets"]["field"]
    );

    // The deprecated `items` still lists the same needs in the old shape.
    let items = needs.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], need_id);
    assert_eq!(items[0]["title"], need_hit["demand"]["title"]);

    // `mine=true` answers the same shape.
    let mine = app
        .get("/v1/demands?mine=true", Some(&firm.admin_token))
        .await;
    mine.assert_status(200);
    assert_eq!(keys(&mine.body), keys(&needs.body));
    assert_eq!(keys(&mine.body["hits"][0]), keys(need_hit));

    // The OpenAPI document marks `items` deprecated.
    let doc = app.get("/openapi.json", None).await;
    doc.assert_status(200);
    let schemas = &doc.body["components"]["schemas"];
    let resp = &schemas["DemandSearchResponse"];
    let items_schema = resp["allOf"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["properties"]["items"].is_object()))
        .map(|s| &s["properties"]["items"])
        .or_else(|| resp["properties"].get("items"))
        .unwrap_or_else(|| panic!("no items in DemandSearchResponse: {resp}"));
    assert_eq!(items_schema["deprecated"], true, "{items_schema}");
}

#[tokio::test]
async fn amounts_may_be_given_in_yuan() {
    let app = TestApp::spawn().await;
    let firm = app.org("enterprise", "320505", false).await;
    let uni = app.org("university", "110108", false).await;
    let t = firm.admin_token.as_str();

    // A budget in 元 (decimal strings, full-width digits read as digits) reads back in fen.
    let r = app
        .post(
            "/v1/demands",
            Some(t),
            &need(
                "以元填写预算的需求二",
                json!({"budget": {"kind": "range", "min_yuan": "1000000", "max_yuan": "２000000.5"}}),
            ),
        )
        .await;
    r.assert_status(201);
    assert_eq!(
        r.body["budget"],
        json!({"kind": "range", "min": 100_000_000, "max": 200_000_050})
    );
    // Both forms with the same amount: fine; different amounts: 422 naming the field.
    let r = app
        .post(
            "/v1/demands",
            Some(t),
            &need(
                "两种写法一致的预算",
                json!({"budget": {"kind": "range", "min": 100_000_000, "min_yuan": "1000000.00", "max": 200_000_000}}),
            ),
        )
        .await;
    r.assert_status(201);
    let r = app
        .post(
            "/v1/demands",
            Some(t),
            &need(
                "两种写法不一致的预算",
                json!({"budget": {"kind": "range", "min": 100_000_000, "min_yuan": "1000000.01", "max_yuan": "1e7"}}),
            ),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(
        r.error_fields(),
        vec!["budget.min_yuan", "budget.max_yuan"],
        "{}",
        r.text
    );
    assert_eq!(r.body["errors"][0]["code"], "amount_mismatch");
    assert_eq!(r.body["errors"][1]["code"], "invalid_amount");
    // Neither form: required.
    let r = app
        .post(
            "/v1/demands",
            Some(t),
            &need(
                "缺少金额的预算",
                json!({"budget": {"kind": "range", "max_yuan": "-5"}}),
            ),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["budget.min", "budget.max_yuan"]);
    // Grouping commas are refused (1,234 reads as 1.234 in some hands).
    let r = app
        .post(
            "/v1/demands",
            Some(t),
            &need(
                "千分位逗号的预算",
                json!({"budget": {"kind": "range", "min_yuan": "1,000,000", "max": 200_000_000}}),
            ),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["budget.min_yuan"]);

    // A proposal's price in 元; one form is required.
    let ch = challenge(&app, &firm, "以元报价的揭榜挂帅", 1).await;
    let base = format!("/v1/challenges/{ch}/proposals");
    let mut body = proposal(0);
    body.as_object_mut().unwrap().remove("price");
    let r = app.post(&base, Some(&uni.admin_token), &body).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["price"]);
    body["price_yuan"] = json!("1800000.00");
    body["price"] = json!(180 * WAN + 1);
    let r = app.post(&base, Some(&uni.admin_token), &body).await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.error_fields(), vec!["price_yuan"]);
    body.as_object_mut().unwrap().remove("price");
    let r = app.post(&base, Some(&uni.admin_token), &body).await;
    r.assert_status(201);
    assert_eq!(r.body["price"], 180 * WAN);

    // A challenge's bounty in 元.
    let mut n = need("以元填写榜单金额的挑战", json!({"deadline": app.day(60)}));
    n["publish"] = json!(true);
    let terms = |bounty: Value| {
        let mut t = json!({
            "proposal_deadline": (app.clock.now() + Days::days(30)).to_rfc3339(),
            "max_winners": 1
        });
        t.as_object_mut()
            .unwrap()
            .extend(bounty.as_object().unwrap().clone());
        t
    };
    let r = app
        .post(
            "/v1/challenges",
            Some(t),
            &json!({"need": n, "terms": terms(json!({"bounty_yuan": "3000000.00"}))}),
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.body["challenge"]["bounty"], 300 * WAN, "{}", r.text);
    for (bounty, field) in [
        (json!({}), "terms.bounty"),
        (json!({"bounty_yuan": "0.5"}), "terms.bounty"),
        (
            json!({"bounty": 100, "bounty_yuan": "2"}),
            "terms.bounty_yuan",
        ),
        (json!({"bounty_yuan": "三百万"}), "terms.bounty_yuan"),
    ] {
        let r = app
            .post(
                "/v1/challenges",
                Some(t),
                &json!({"need": n, "terms": terms(bounty)}),
            )
            .await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.error_fields(), vec![field], "{}", r.text);
    }
}
