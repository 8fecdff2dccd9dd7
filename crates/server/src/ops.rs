//! Operations endpoints: liveness, readiness, metrics, OpenAPI, docs, metadata.
use crate::app::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use std::collections::BTreeMap;
use ttx_core::labels::{entries, LabelEntry};
use ttx_core::*;
use ttx_web::error::{platform_codes, ErrorCodeInfo};
use ttx_web::ErrorCode;
use ttx_web::{ApiError, ApiQuery, ApiResult};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn ops_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics_text))
}

pub fn meta_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(error_codes))
        .routes(routes!(vocabularies))
        .routes(routes!(regions))
}

/// `/openapi.json` and the `/docs` page (Swagger UI, assets compiled into the binary).
pub fn docs_router() -> Router<AppState> {
    let ui: Router = utoipa_swagger_ui::SwaggerUi::new("/docs")
        // No validator badge: the page makes no call outside this server.
        .config(utoipa_swagger_ui::Config::from("/openapi.json").validator_url("none"))
        .into();
    Router::new()
        .route("/openapi.json", axum::routing::get(openapi_json))
        .merge(ui.with_state(()))
}

async fn openapi_json() -> Response {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOC.get_or_init(|| {
        crate::app::openapi()
            .to_pretty_json()
            .expect("openapi serializes")
    });
    ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    pub database: &'static str,
    /// Migrations not yet applied.
    pub pending_migrations: Vec<String>,
    pub search: SearchReadiness,
}

/// How far the search index is behind the database.
#[derive(Serialize, ToSchema)]
pub struct SearchReadiness {
    /// `embedded` or `meilisearch`.
    pub engine: &'static str,
    /// `ok`, `lagging` (oldest pending update older than `search.ready_max_lag_secs`) or
    /// `unknown` (the outbox could not be read).
    pub status: &'static str,
    /// Index updates not yet applied.
    pub outbox_pending: Option<u64>,
    /// Age of the oldest pending index update, in seconds.
    pub oldest_pending_age_secs: Option<f64>,
}

/// Readiness: database reachable, migrations current, search index not far behind.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
async fn readyz(State(st): State<AppState>) -> (StatusCode, axum::Json<Readiness>) {
    let db_ok = crate::db::ping(&st.db).await.is_ok();
    let pending = if db_ok {
        crate::db::pending(&st.db)
            .await
            .unwrap_or_else(|_| vec!["unknown".into()])
    } else {
        vec![]
    };
    let lag = if db_ok && pending.is_empty() {
        ttx_search::outbox_lag(&st.db).await.ok()
    } else {
        None
    };
    let lagging = lag.as_ref().is_some_and(|l| {
        l.oldest_pending_age_secs
            .is_some_and(|a| a > st.config.search.ready_max_lag_secs)
    });
    let search = SearchReadiness {
        engine: st.search.engine.kind(),
        status: match (&lag, lagging) {
            (None, _) => "unknown",
            (Some(_), true) => "lagging",
            (Some(_), false) => "ok",
        },
        outbox_pending: lag.as_ref().map(|l| l.pending),
        oldest_pending_age_secs: lag.and_then(|l| l.oldest_pending_age_secs),
    };
    let ready = db_ok && pending.is_empty() && !lagging;
    let body = Readiness {
        search,
        status: if ready { "ready" } else { "not_ready" },
        database: if db_ok { "ok" } else { "unreachable" },
        pending_migrations: pending,
    };
    (
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        axum::Json(body),
    )
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, content_type = "text/plain")))]
async fn metrics_text(State(st): State<AppState>) -> Response {
    // Refreshes the search outbox gauges.
    let _ = ttx_search::outbox_lag(&st.db).await;
    let mut text = st.metrics.render();
    let indexes: Vec<&str> = crate::app::doc_sources(&st.db).into_keys().collect();
    match crate::domain_metrics::render(&st.db, &indexes).await {
        Ok(domain) => text.push_str(&domain),
        Err(e) => tracing::warn!(error = %e, "domain metrics unavailable"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// A crate's `ERROR_CODES`: (code, status, title), generated by `ttx_web::error_codes!`.
pub type ErrorTable = ttx_web::error::ErrorTable;

/// The error-code table of every domain crate, by crate. A crate that answers with its own codes
/// declares them once with `ttx_web::error_codes!` and is listed here: a code defined twice (by
/// two crates, or by a crate and the platform) does not compile, and a test fails when a crate's
/// enum is missing.
pub const DOMAIN_ERROR_TABLES: &[(&str, ErrorTable)] = &[
    ("listings", ttx_listings::ERROR_CODES),
    ("demands", ttx_demands::ERROR_CODES),
    ("notify", ttx_notify::error::ERROR_CODES),
    ("matching", ttx_matching::ERROR_CODES),
    ("contracts", ttx_contracts::ERROR_CODES),
    ("documents", ttx_documents::ERROR_CODES),
    ("enquiries", ttx_enquiries::ERROR_CODES),
];

/// The whole registry: the platform table, then every domain crate's.
pub fn error_registry() -> Vec<(&'static str, ErrorTable)> {
    std::iter::once(("platform", ErrorCode::TABLE))
        .chain(DOMAIN_ERROR_TABLES.iter().copied())
        .collect()
}

const _: () = {
    assert!(
        ttx_web::error::registry_is_unique(DOMAIN_ERROR_TABLES),
        "two domain crates define the same error code"
    );
    let mut i = 0;
    while i < DOMAIN_ERROR_TABLES.len() {
        assert!(
            ttx_web::error::registry_is_unique(&[
                ("platform", ErrorCode::TABLE),
                DOMAIN_ERROR_TABLES[i]
            ]),
            "a domain crate redefines a platform error code"
        );
        i += 1;
    }
};

/// The platform codes, then every domain crate's (each code is defined once).
pub fn all_error_codes() -> Vec<ErrorCodeInfo> {
    let mut codes = platform_codes();
    for (_, table) in DOMAIN_ERROR_TABLES {
        for (code, status, title) in table.iter() {
            codes.push(ErrorCodeInfo {
                code,
                status: *status,
                title,
            });
        }
    }
    codes
}

/// Every error code the API can answer with.
#[utoipa::path(get, path = "/meta/errors", tag = "ops", responses((status = 200, body = Vec<ErrorCodeInfo>)))]
async fn error_codes() -> axum::Json<Vec<ErrorCodeInfo>> {
    axum::Json(all_error_codes())
}

/// A vocabulary given as (code, zh, en) rows, for codes that are not a `vocab_enum!`.
fn table(rows: &'static [(&'static str, &'static str, &'static str)]) -> Vec<LabelEntry> {
    rows.iter()
        .map(|(code, zh, en)| LabelEntry { code, zh, en })
        .collect()
}

/// Enquiry actions (the `actions` an enquiry offers and `POST /v1/enquiries/{id}/{action}`).
const ENQUIRY_ACTIONS: &[(&str, &str, &str)] = &[
    ("message", "留言", "Send a message"),
    ("accept", "接受", "Accept"),
    ("decline", "婉拒", "Decline"),
    ("close", "关闭", "Close"),
    ("accept_nda", "接受保密协议", "Accept the NDA"),
    ("grant", "授予查看权限", "Grant access"),
];
/// `GET /v1/enquiries?box=`.
const ENQUIRY_BOXES: &[(&str, &str, &str)] = &[
    ("received", "收到的咨询", "Received"),
    ("sent", "发出的咨询", "Sent"),
];
/// How a need is closed.
const DEMAND_CLOSE_OUTCOMES: &[(&str, &str, &str)] = &[
    ("resolved", "已解决", "Resolved"),
    ("closed", "已关闭", "Closed"),
];
/// The kind of a price or budget.
const PRICE_KINDS: &[(&str, &str, &str)] = &[
    ("fixed", "定价", "Fixed price"),
    ("range", "价格区间", "Price range"),
    ("negotiable", "面议", "Negotiable"),
];
/// Match subscriptions: what they follow and how they are delivered.
const SUBSCRIPTION_KINDS: &[(&str, &str, &str)] = &[
    ("demand", "需求匹配订阅", "Matches for a need"),
    ("search", "检索订阅", "Saved search"),
];
const SUBSCRIPTION_DELIVERIES: &[(&str, &str, &str)] = &[
    ("immediate", "即时通知", "Immediately"),
    ("daily", "每日汇总", "Daily digest"),
];
/// Outcomes recorded on a match.
const MATCH_OUTCOMES: &[(&str, &str, &str)] = &[
    ("met", "已对接洽谈", "Met"),
    ("intent", "达成合作意向", "Intent to cooperate"),
    ("signed", "已签约", "Signed"),
];
/// Entries of the turnover ledger.
const LEDGER_ENTRY_KINDS: &[(&str, &str, &str)] = &[
    ("registration", "登记", "Registration"),
    ("amendment", "变更", "Amendment"),
    ("termination", "终止", "Termination"),
    ("import", "历史导入", "Imported history"),
];
/// Webhook deliveries.
const DELIVERY_STATUSES: &[(&str, &str, &str)] = &[
    ("pending", "待发送", "Pending"),
    ("delivered", "已送达", "Delivered"),
    ("failed", "发送失败", "Failed"),
    ("cancelled", "已取消", "Cancelled"),
];
/// Statistics: sides, region levels, intervals, units, dimensions, report detail.
const STATS_SIDES: &[(&str, &str, &str)] = &[
    ("output", "技术输出", "Output (by seller region)"),
    ("absorption", "技术吸纳", "Absorption (by buyer region)"),
];
const REGION_LEVELS: &[(&str, &str, &str)] = &[
    ("province", "省级", "Province"),
    ("city", "市级", "City"),
    ("county", "县级", "County"),
];
const STATS_INTERVALS: &[(&str, &str, &str)] = &[
    ("month", "按月", "Monthly"),
    ("quarter", "按季度", "Quarterly"),
    ("year", "按年", "Yearly"),
];
const AMOUNT_UNITS: &[(&str, &str, &str)] = &[
    ("yuan", "元", "Yuan"),
    ("wan", "万元", "10,000 yuan"),
    ("yi", "亿元", "100 million yuan"),
];
const STATS_DIMENSIONS: &[(&str, &str, &str)] = &[
    ("kind", "合同类别", "Contract kind"),
    ("sub_kind", "合同子类", "Contract sub-kind"),
    ("field", "技术领域", "Technology field"),
    ("seller_entity_kind", "卖方主体类型", "Seller entity kind"),
    ("buyer_entity_kind", "买方主体类型", "Buyer entity kind"),
    ("ip_kind", "知识产权类型", "IP kind"),
    ("programme", "计划来源", "Programme"),
    ("region", "地区", "Region"),
    ("station", "登记机构", "Registration station"),
];
const REPORT_DETAILS: &[(&str, &str, &str)] = &[
    ("full", "完整明细", "Full detail"),
    ("public", "公开汇总", "Public aggregates"),
];

/// Every vocabulary the API uses, by name: each code with one Chinese and one English label.
/// A test walks the OpenAPI document and fails when an enum of the API has no vocabulary here.
pub fn all_vocabularies() -> BTreeMap<&'static str, Vec<LabelEntry>> {
    use ttx_contracts::domain::status::{
        AmendmentKind, AmendmentStatus, ContractStatus, RefusalGround,
    };
    use ttx_demands::challenge::ProposalStatus;
    use ttx_demands::domain::{DemandStatus, ResearchType};
    use ttx_enquiries::domain::{Disclosure, EnquiryStatus, Purpose, SubjectType};
    use ttx_listings::domain::{IpStatus, LicenceScope, ListingStatus};
    use ttx_matching::pipeline::domain::{ClosingReason, Response, Stage};
    let macro_regions = [
        MacroRegion::East,
        MacroRegion::Centre,
        MacroRegion::West,
        MacroRegion::Northeast,
    ]
    .iter()
    .map(|m| LabelEntry {
        code: m.as_str(),
        zh: m.zh(),
        en: m.en(),
    })
    .collect();
    BTreeMap::from([
        ("tech_fields", entries::<TechField>()),
        ("trl_stages", trl_stages()),
        ("contract_kinds", entries::<ContractKind>()),
        ("contract_sub_kinds", entries::<ContractSubKind>()),
        ("entity_kinds", entries::<EntityKind>()),
        ("transfer_modes", entries::<TransferMode>()),
        ("ip_kinds", entries::<IpKind>()),
        ("org_kinds", entries::<OrgKind>()),
        ("roles", entries::<Role>()),
        ("macro_regions", macro_regions),
        ("listing_statuses", entries::<ListingStatus>()),
        ("ip_statuses", entries::<IpStatus>()),
        ("licence_scopes", entries::<LicenceScope>()),
        ("price_kinds", table(PRICE_KINDS)),
        ("demand_statuses", entries::<DemandStatus>()),
        ("demand_close_outcomes", table(DEMAND_CLOSE_OUTCOMES)),
        ("research_types", entries::<ResearchType>()),
        ("proposal_statuses", entries::<ProposalStatus>()),
        ("contract_statuses", entries::<ContractStatus>()),
        ("refusal_grounds", entries::<RefusalGround>()),
        ("amendment_kinds", entries::<AmendmentKind>()),
        ("amendment_statuses", entries::<AmendmentStatus>()),
        ("enquiry_statuses", entries::<EnquiryStatus>()),
        ("enquiry_purposes", entries::<Purpose>()),
        ("enquiry_subjects", entries::<SubjectType>()),
        ("enquiry_actions", table(ENQUIRY_ACTIONS)),
        ("enquiry_boxes", table(ENQUIRY_BOXES)),
        ("disclosures", entries::<Disclosure>()),
        ("match_stages", entries::<Stage>()),
        ("match_responses", entries::<Response>()),
        ("match_closing_reasons", entries::<ClosingReason>()),
        ("match_outcomes", table(MATCH_OUTCOMES)),
        ("subscription_kinds", table(SUBSCRIPTION_KINDS)),
        ("subscription_deliveries", table(SUBSCRIPTION_DELIVERIES)),
        ("notification_kinds", table(ttx_notify::events::CATALOGUE)),
        ("delivery_statuses", table(DELIVERY_STATUSES)),
        ("ledger_entry_kinds", table(LEDGER_ENTRY_KINDS)),
        ("stats_sides", table(STATS_SIDES)),
        ("region_levels", table(REGION_LEVELS)),
        ("stats_intervals", table(STATS_INTERVALS)),
        ("amount_units", table(AMOUNT_UNITS)),
        ("stats_dimensions", table(STATS_DIMENSIONS)),
        ("report_details", table(REPORT_DETAILS)),
    ])
}

/// TRL levels 1–9 with their stage (实验室 / 小试 / 中试 / 小批量 / 产业化).
fn trl_stages() -> Vec<LabelEntry> {
    const CODES: [&str; 9] = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];
    CODES
        .iter()
        .zip(1u8..)
        .filter_map(|(code, level)| {
            let t = Trl::new(level).ok()?;
            Some(LabelEntry {
                code,
                zh: t.stage_zh(),
                en: t.stage_en(),
            })
        })
        .collect()
}

/// Codes and zh / en labels of every vocabulary the API uses, by vocabulary name
/// (`tech_fields`, `listing_statuses`, `notification_kinds`, …).
#[utoipa::path(get, path = "/meta/vocabularies", tag = "ops", responses((status = 200, body = BTreeMap<String, Vec<LabelEntry>>)))]
async fn vocabularies() -> axum::Json<BTreeMap<&'static str, Vec<LabelEntry>>> {
    axum::Json(all_vocabularies())
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    /// Parent region code; omitted: the provinces.
    pub parent: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RegionView {
    pub code: String,
    pub name: String,
    pub full_name: String,
    pub level: &'static str,
}

/// Administrative regions (GB/T 2260): the provinces, or the children of `parent`.
#[utoipa::path(get, path = "/meta/regions", tag = "ops", params(RegionQuery),
    responses((status = 200, body = Vec<RegionView>), (status = 422, body = ttx_web::error::Problem)))]
async fn regions(ApiQuery(q): ApiQuery<RegionQuery>) -> ApiResult<axum::Json<Vec<RegionView>>> {
    let list = match q.parent {
        None => RegionCode::provinces(),
        Some(p) => RegionCode::parse(&p)
            .map_err(|e| ApiError::field("parent", "invalid_region", e.to_string()))?
            .children(),
    };
    Ok(axum::Json(
        list.into_iter()
            .map(|r| RegionView {
                code: r.as_string(),
                name: r.name().to_string(),
                full_name: r.full_name(),
                level: r.level().as_str(),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_listed_once_with_their_statuses() {
        let all = all_error_codes();
        let mut seen = std::collections::HashSet::new();
        for c in &all {
            assert!(seen.insert(c.code), "{} listed twice", c.code);
        }
        for (krate, table) in DOMAIN_ERROR_TABLES {
            for (code, status, _) in table.iter() {
                let listed = all.iter().find(|c| c.code == *code);
                let listed = listed.unwrap_or_else(|| panic!("{krate}: {code} missing"));
                assert_eq!(listed.status, *status, "{krate}: {code} has two statuses");
            }
        }
    }

    /// Fails when two crates define the same code, or one crate the same code twice.
    #[test]
    fn no_code_is_defined_twice() {
        assert_eq!(ttx_web::error::duplicate_code(&error_registry()), None);
        // and the check sees a clash when there is one
        let mut clash = error_registry();
        clash.push(("copycat", &[("listing_expired", 409, "Expired again")]));
        assert_eq!(
            ttx_web::error::duplicate_code(&clash),
            Some(("listing_expired", "listings", "copycat"))
        );
    }

    /// Every enum declared with `error_codes!` anywhere under `crates/` (a new crate's too) is
    /// in the registry, so `GET /v1/meta/errors` lists all its codes.
    #[test]
    fn every_declared_code_is_served() {
        let served: std::collections::HashSet<&str> =
            all_error_codes().iter().map(|c| c.code).collect();
        let crates_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        rust_files(&crates_dir, &mut files);
        let mut declared = 0;
        for f in &files {
            let src = std::fs::read_to_string(f).unwrap();
            for codes in declared_codes(&src) {
                for code in codes {
                    declared += 1;
                    assert!(
                        served.contains(code.as_str()),
                        "{code} of {} is not in /v1/meta/errors: list the crate's table in DOMAIN_ERROR_TABLES",
                        f.display()
                    );
                }
            }
        }
        assert!(declared > 40, "the declarations were read ({declared})");
        // the scan itself finds a declaration
        let sample = "ttx_web::error_codes! {\n pub enum X {\n A = (\"x_a\", 409, \"A\"),\n }\n}";
        assert_eq!(declared_codes(sample), vec![vec!["x_a".to_string()]]);
    }

    /// The codes of each `error_codes!` invocation in `src`.
    fn declared_codes(src: &str) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut rest = src;
        while let Some(i) = rest.find("error_codes! {") {
            rest = &rest[i + "error_codes! {".len()..];
            let mut codes = Vec::new();
            for line in rest.lines().skip(1) {
                let l = line.trim();
                if l == "}" {
                    break;
                }
                if let Some((_, r)) = l.split_once("= (\"") {
                    codes.push(r.split('"').next().unwrap().to_string());
                }
            }
            out.push(codes);
        }
        out
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !p.ends_with("target") {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// Every typed code becomes problem+json with its 4xx/5xx status at the edge; nothing looks a
    /// code up by name any more, so an unknown code cannot become a panic or a 500.
    #[test]
    fn every_typed_code_is_a_problem_response() {
        fn check<C: ttx_web::Registered + Into<ttx_web::ApiError>>(all: &[C]) -> usize {
            for c in all {
                let resp = ttx_web::error::problem_response(&(*c).into());
                assert_eq!(resp.status().as_u16(), c.status(), "{}", c.code());
                assert!(resp.status().is_client_error() || resp.status().is_server_error());
                assert_eq!(
                    resp.headers()[axum::http::header::CONTENT_TYPE],
                    ttx_web::error::PROBLEM_JSON
                );
                let via_service: ttx_web::ApiError = ttx_web::ServiceError::new(*c).into();
                assert_eq!(
                    (via_service.code, via_service.status.as_u16()),
                    (c.code(), c.status())
                );
            }
            all.len()
        }
        let n = check(ErrorCode::ALL)
            + check(ttx_listings::error::ListingError::ALL)
            + check(ttx_demands::error::DemandError::ALL)
            + check(ttx_notify::error::NotifyError::ALL)
            + check(ttx_matching::error::MatchingError::ALL)
            + check(ttx_contracts::error::ContractError::ALL)
            + check(ttx_documents::error::DocumentError::ALL)
            + check(ttx_enquiries::error::EnquiryError::ALL);
        assert_eq!(n, all_error_codes().len(), "every table is checked here");
    }

    /// Every code column the database checks (statuses, kinds, roles, stages: the codes the
    /// API reads back out) has its codes in one vocabulary, each with a Chinese label.
    #[test]
    fn every_checked_code_column_has_a_vocabulary() {
        let vocab = all_vocabularies();
        for c in migration::m20261129_000010_checks::CHECKS {
            let covered = vocab.values().any(|entries| {
                c.values.iter().all(|v| {
                    entries
                        .iter()
                        .any(|e| e.code == *v && e.zh.chars().any(|ch| ch > '\u{2e80}'))
                })
            });
            assert!(
                covered,
                "{}.{} ({:?}) has no vocabulary in /v1/meta/vocabularies",
                c.table, c.column, c.values
            );
        }
    }
}
