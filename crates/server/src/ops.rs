//! Operations endpoints: liveness, readiness, metrics, OpenAPI, docs, metadata.
use crate::app::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use ttx_core::labels::{entries, LabelEntry};
use ttx_core::*;
use ttx_web::error::{platform_codes, ErrorCodeInfo};
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
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(),
    )
        .into_response()
}

/// A crate's `ERROR_CODES`: (code, status, title).
pub type ErrorTable = &'static [(&'static str, u16, &'static str)];

/// The error-code table of every domain crate, by crate. A crate that answers with its own codes
/// must be listed here (a test checks each crate's table is).
pub const DOMAIN_ERROR_TABLES: &[(&str, ErrorTable)] = &[
    ("listings", ttx_listings::ERROR_CODES),
    ("demands", ttx_demands::ERROR_CODES),
    ("notify", ttx_notify::error::ERROR_CODES),
    ("matching", ttx_matching::ERROR_CODES),
    ("contracts", ttx_contracts::ERROR_CODES),
];

/// The platform codes, then every domain crate's, each code once (a code shared by crates, such as
/// `search_unavailable`, is listed where it first appears).
pub fn all_error_codes() -> Vec<ErrorCodeInfo> {
    let mut codes = platform_codes();
    let mut seen: std::collections::HashSet<&str> = codes.iter().map(|c| c.code).collect();
    for (_, table) in DOMAIN_ERROR_TABLES {
        for (code, status, title) in table.iter() {
    ("documents", ttx_documents::ERROR_CODES),
            if seen.insert(code) {
                codes.push(ErrorCodeInfo {
                    code,
                    status: *status,
                    title,
                });
            }
        }
    }
    codes
}

/// Every error code the API can answer with.
#[utoipa::path(get, path = "/meta/errors", tag = "ops", responses((status = 200, body = Vec<ErrorCodeInfo>)))]
async fn error_codes() -> axum::Json<Vec<ErrorCodeInfo>> {
    axum::Json(all_error_codes())
}

#[derive(Serialize, ToSchema)]
pub struct Vocabularies {
    pub tech_fields: Vec<LabelEntry>,
    pub contract_kinds: Vec<LabelEntry>,
    pub contract_sub_kinds: Vec<LabelEntry>,
    pub entity_kinds: Vec<LabelEntry>,
    pub transfer_modes: Vec<LabelEntry>,
    pub ip_kinds: Vec<LabelEntry>,
    pub org_kinds: Vec<LabelEntry>,
    pub roles: Vec<LabelEntry>,
    pub macro_regions: Vec<LabelEntry>,
}

/// Codes and zh / en labels of every vocabulary.
#[utoipa::path(get, path = "/meta/vocabularies", tag = "ops", responses((status = 200, body = Vocabularies)))]
async fn vocabularies() -> axum::Json<Vocabularies> {
    axum::Json(Vocabularies {
        tech_fields: entries::<TechField>(),
        contract_kinds: entries::<ContractKind>(),
        contract_sub_kinds: entries::<ContractSubKind>(),
        entity_kinds: entries::<EntityKind>(),
        transfer_modes: entries::<TransferMode>(),
        ip_kinds: entries::<IpKind>(),
        org_kinds: entries::<OrgKind>(),
        roles: entries::<Role>(),
        macro_regions: [
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
        .collect(),
    })
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
    fn error_codes_are_listed_once_and_shared_codes_agree() {
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
}
