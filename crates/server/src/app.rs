//! Assembly of the application: state, routes, middleware, background tasks.
use crate::config::Config;
use crate::{db, ops, telemetry};
use anyhow::Context;
use axum::body::Body;
use axum::extract::{FromRef, MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use metrics::SharedString;
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use ttx_accounts::AccountsState;
use ttx_web::error::{problem_response, PROBLEM_JSON};
use ttx_web::{ApiError, ErrorCode};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Everything a handler can reach; domain crates take their sub-state with `FromRef`.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub accounts: AccountsState,
    pub metrics: PrometheusHandle,
    /// The search engine and the outbox worker's wake-up.
    pub search: crate::search_ops::SearchState,
    /// The clock every request and background job reads (`ttx_core::clock::now`): the system
    /// clock, or a movable one in tests.
    pub clock: ttx_core::Clock,
    /// Where uploaded documents are stored.
    pub documents: ttx_documents::Storage,
    /// The per-address limit of public registration checks.
    pub registration_checks: Arc<ttx_contracts::CheckLimiter>,
    /// The per-token and per-address rate limits of every request.
    pub rate_limits: Arc<ttx_web::ratelimit::RateLimits>,
    /// Caches of public views by id (`read_cache`), and what the read paths share.
    pub reads: PublicReads,
    /// What every matching request shares (its settings and the cache of feedback texts'
    /// words among them), built once.
    pub matching: ttx_matching::MatchingState,
}

/// The caches of public views by id, one per resource, and the demands settings (shared, not
/// copied for each request).
#[derive(Clone)]
pub struct PublicReads {
    pub listings: Arc<ttx_web::read_cache::ReadCache>,
    /// Cards of listings shown by public searches (`read_cache.search_cards`).
    pub listing_cards: Arc<ttx_web::read_cache::ReadCache<ttx_listings::dto::ListingCard>>,
    pub demands: Arc<ttx_web::read_cache::ReadCache>,
    pub demands_cfg: Arc<ttx_demands::DemandsConfig>,
}

impl PublicReads {
    pub fn new(config: &Config) -> PublicReads {
        use ttx_web::read_cache::ReadCache;
        PublicReads {
            listings: Arc::new(ReadCache::new("listings", &config.read_cache)),
            listing_cards: Arc::new(ReadCache::sized(
                "listing_cards",
                &config.read_cache,
                config.read_cache.search_cards,
            )),
            demands: Arc::new(ReadCache::new("demands", &config.read_cache)),
            demands_cfg: Arc::new(config.demands.clone()),
        }
    }

    /// Document `doc` of search index `index` changed: its cached view (and card) go.
    pub fn changed(&self, index: &str, doc: i64) -> bool {
        match index {
            ttx_search::LISTINGS => {
                self.listings.invalidate(doc);
                self.listing_cards.invalidate(doc);
            }
            ttx_search::DEMANDS => self.demands.invalidate(doc),
            _ => return false,
        }
        true
    }

    /// Every view names its owner organisation: a change to any organisation drops them all.
    pub fn organisations_changed(&self) {
        self.listings.clear();
        self.listing_cards.clear();
        self.demands.clear();
    }
}

impl FromRef<AppState> for ttx_documents::DocumentsState {
    fn from_ref(s: &AppState) -> Self {
        ttx_documents::DocumentsState {
            db: s.db.clone(),
            storage: s.documents.clone(),
            max_bytes: s.config.documents.max_bytes,
        }
    }
}

impl FromRef<AppState> for DatabaseConnection {
    fn from_ref(s: &AppState) -> Self {
        s.db.clone()
    }
}

impl FromRef<AppState> for AccountsState {
    fn from_ref(s: &AppState) -> Self {
        s.accounts.clone()
    }
}

impl FromRef<AppState> for ttx_listings::ListingsState {
    fn from_ref(s: &AppState) -> Self {
        ttx_listings::ListingsState::new(
            s.db.clone(),
            s.search.engine.clone(),
            s.search.outbox.clone(),
        )
        .with_reads(s.reads.listings.clone())
        .with_cards(s.reads.listing_cards.clone())
    }
}

/// The document source of every searchable index, by index name. The outbox worker and
/// `ttx reindex` load documents through these; a domain crate with an index adds its
/// source here.
pub fn doc_sources(
    db: &DatabaseConnection,
) -> std::collections::HashMap<&'static str, Arc<dyn ttx_search::DocSource>> {
    let sources: Vec<Arc<dyn ttx_search::DocSource>> = vec![
        Arc::new(ttx_listings::ListingSource::new(db.clone())),
        Arc::new(ttx_demands::DemandSource::new(db.clone())),
    ];
    sources.into_iter().map(|s| (s.index(), s)).collect()
}

impl FromRef<AppState> for ttx_demands::DemandsState {
    fn from_ref(s: &AppState) -> Self {
        ttx_demands::DemandsState::shared(
            s.db.clone(),
            s.search.engine.clone(),
            s.search.outbox.clone(),
            s.reads.demands_cfg.clone(),
            s.reads.demands.clone(),
        )
    }
}

impl FromRef<AppState> for ttx_notify::NotifyState {
    fn from_ref(s: &AppState) -> Self {
        ttx_notify::NotifyState::new(s.db.clone(), s.config.notify.clone())
    }
}

impl FromRef<AppState> for ttx_contracts::ContractsState {
    fn from_ref(s: &AppState) -> Self {
        ttx_contracts::ContractsState::new(
            s.db.clone(),
            ttx_contracts::Settings {
                review_deadline_days: s.config.contracts.review_deadline_days,
                public_url: s.config.contracts.public_url.clone(),
                checks_per_minute: s.config.contracts.checks_per_minute,
                trust_forwarded_for: s.config.trust_forwarded_for(),
            },
        )
        .with_checks(s.registration_checks.clone())
    }
}

impl FromRef<AppState> for ttx_matching::MatchingState {
    fn from_ref(s: &AppState) -> Self {
        s.matching.clone()
    }
}

impl FromRef<AppState> for ttx_enquiries::EnquiriesState {
    fn from_ref(s: &AppState) -> Self {
        ttx_enquiries::EnquiriesState::new(s.db.clone(), s.config.enquiries.clone())
    }
}

impl FromRef<AppState> for ttx_stats::StatsState {
    fn from_ref(s: &AppState) -> Self {
        ttx_stats::StatsState { db: s.db.clone() }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "TTX — technology-transfer exchange API",
        description = "Technology listings, enterprise needs, matching and technology contract registration. Errors are application/problem+json with a stable `code`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecurityAddon),
    tags(
        (name = "accounts", description = "Organisations, users, roles, tokens, audit"),
        (name = "listings", description = "Technology listings (科技成果): posting, lifecycle, search"),
        (name = "demands", description = "Technical needs (技术需求), challenges (揭榜挂帅) and proposals"),
        (name = "notifications", description = "In-app inbox and signed webhooks per organisation"),
        (name = "contracts", description = "Technology contract recognition and registration, amendments, the turnover ledger"),
        (name = "matching", description = "Match suggestions both ways, the broker pipeline, subscriptions and matchmaking events"),
        (name = "enquiries", description = "Enquiries between parties (意向/咨询), contact reveal, confidential listing details under NDA, access logs"),
        (name = "stats", description = "Technology contract turnover (技术合同成交额): reports, series, flows, top parties, exports"),
        (name = "ops", description = "Health, readiness, metadata"),
    )
)]
struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("opaque")
                    .build(),
            ),
        );
    }
}

/// The routes under `/v1`, with their OpenAPI description.
pub fn v1_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(ttx_accounts::router())
        .merge(ttx_listings::router())
        .merge(ttx_demands::router())
        .merge(ttx_notify::router())
        .merge(ttx_contracts::router())
        .merge(ttx_matching::router())
        .merge(ttx_enquiries::router())
        .merge(ttx_stats::router())
        .merge(ops::meta_router())
}

/// The OpenAPI document (no state needed).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/v1", v1_routes().merge(ttx_documents::router()))
        .merge(ops::ops_router())
        .split_for_parts();
    let mut doc = serde_json::to_value(&api).expect("the OpenAPI document serializes");
    crate::openapi_conform::conform(&mut doc);
    serde_json::from_value(doc).expect("the conformed document is still OpenAPI")
}

/// A built application: its state, router and background tasks.
pub struct App {
    pub state: AppState,
    pub router: Router,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl App {
    /// Connects to the database, migrates (if configured), assembles routes and starts
    /// background work.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        Self::build_with_clock(config, ttx_core::Clock::system()).await
    }

    /// [`App::build`] with a chosen clock (tests pass `Clock::manual()` and move it).
    pub async fn build_with_clock(config: Config, clock: ttx_core::Clock) -> anyhow::Result<App> {
        let url = config.database_url();
        let db = db::connect(&url, config.database.max_connections)
            .await
            .with_context(|| format!("connecting to the database ({})", redact(&url)))?;
        if config.database.migrate_on_start {
            db::migrate(&db).await.context("running migrations")?;
        }
        Self::with_db(config, db, clock).await
    }

    /// Assembles the application on a connected database; its background jobs (spawned with
    /// `ttx_core::clock::spawn`) and its requests read time from `clock`.
    pub async fn with_db(
        config: Config,
        db: DatabaseConnection,
        clock: ttx_core::Clock,
    ) -> anyhow::Result<App> {
        clock.clone().scope(Self::assemble(config, db, clock)).await
    }

    async fn assemble(
        config: Config,
        db: DatabaseConnection,
        clock: ttx_core::Clock,
    ) -> anyhow::Result<App> {
        let config = Arc::new(config);
        // A database from before the statistics roll-up existed gets it built once.
        ttx_contracts::rollup::ensure(&db)
            .await
            .context("building the statistics roll-up")?;
        let accounts = AccountsState::new(db.clone(), config.accounts.clone());
        let engine = crate::search_ops::engine_from_config(&config)?;
        let reads = PublicReads::new(&config);
        // What this process indexes leaves its caches before the index shows it: a search
        // never pairs the new version's hit with the old version's card.
        let dropped = reads.clone();
        let outbox_worker = Arc::new(
            ttx_search::OutboxWorker::new(
                db.clone(),
                engine.clone(),
                doc_sources(&db).into_values(),
            )
            .with_batch_size(config.search.outbox_batch_size)
            .with_poll_interval(Duration::from_millis(config.search.outbox_poll_ms.max(10)))
            .with_before_apply(Arc::new(move |index, ids| {
                for &id in ids {
                    dropped.changed(index, id);
                }
            })),
        );
        let search = crate::search_ops::SearchState {
            engine,
            outbox: outbox_worker.notifier(),
        };
        let state = AppState {
            db: db.clone(),
            config: config.clone(),
            accounts,
            metrics: telemetry::metrics_handle(),
            search: search.clone(),
            clock: clock.clone(),
            documents: ttx_documents::Storage::from_config(&config.documents, &config.data_dir)
                .context("opening the document storage")?,
            registration_checks: Arc::new(ttx_contracts::CheckLimiter::new(
                config.contracts.checks_per_minute,
            )),
            rate_limits: Arc::new(ttx_web::ratelimit::RateLimits::new(
                config.server.rate_limit.per_token_per_minute,
                config.server.rate_limit.per_address_per_minute,
                config.trust_forwarded_for(),
            )),
            reads,
            matching: ttx_matching::MatchingState {
                db: db.clone(),
                engine: search.engine.clone(),
                outbox: search.outbox.clone(),
                cfg: Arc::new(config.matching.clone()),
                terms: Arc::new(ttx_matching::TermsCache::new(
                    config.matching.terms_cache_mib.saturating_mul(1 << 20),
                )),
            },
        };
        let (shutdown, rx) = watch::channel(false);
        #[allow(unused_mut)]
        let mut tasks = vec![ttx_core::clock::spawn(prune_idempotency_keys(
            db.clone(),
            rx.clone(),
        ))];
        tasks.push(outbox_worker.spawn(rx.clone()));
        tasks.push(ttx_core::clock::spawn(
            ttx_demands::service::expiry::expiry_loop(
                db.clone(),
                search.outbox.clone(),
                Duration::from_secs(config.demands.expiry_interval_secs.max(1)),
                rx.clone(),
            ),
        ));
        if config.notify.worker_enabled {
            tasks.push(
                ttx_notify::DeliveryWorker::new(db.clone(), config.notify.clone())
                    .spawn(rx.clone()),
            );
        }
        tasks.push(ttx_core::clock::spawn(ttx_listings::jobs::expiry_loop(
            db.clone(),
            search.outbox.clone(),
            Duration::from_secs(60),
            rx.clone(),
        )));
        if config.contracts.reminder_interval_secs > 0 {
            tasks.push(ttx_core::clock::spawn(
                ttx_contracts::service::remind::reminder_loop(
                    db.clone(),
                    config.contracts.review_reminder_days,
                    Duration::from_secs(config.contracts.reminder_interval_secs),
                    rx.clone(),
                ),
            ));
        }
        if config.matching.push_interval_secs > 0 {
            tasks.push(ttx_core::clock::spawn(
                ttx_matching::subscriptions::job::job_loop(
                    ttx_matching::MatchingState::from_ref(&state),
                    Duration::from_secs(config.matching.push_interval_secs),
                    rx.clone(),
                ),
            ));
        }
        if (state.reads.listings.enabled() || state.reads.listing_cards.enabled())
            && config.read_cache.follow_ms > 0
        {
            tasks.push(ttx_core::clock::spawn(crate::read_follow::follow_loop(
                db.clone(),
                state.reads.clone(),
                Duration::from_millis(config.read_cache.follow_ms),
                rx.clone(),
            )));
        }
        let router = build_router(state.clone());
        Ok(App {
            state,
            router,
            shutdown,
            tasks,
        })
    }

    /// Rebuilds the HTTP stack with `extra` routes merged in (tests).
    pub fn with_routes(mut self, extra: Router<AppState>) -> App {
        self.router = build_router_with(self.state.clone(), extra);
        self
    }

    /// Serves until Ctrl-C / SIGTERM, then drains in-flight requests and stops background work.
    pub async fn serve(self, listener: TcpListener) -> anyhow::Result<()> {
        let App {
            router,
            shutdown,
            tasks,
            ..
        } = self;
        let res = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        let _ = shutdown.send(true);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
        res.context("serving HTTP")
    }

    /// Serves until `stop` resolves (tests).
    pub async fn serve_until(
        self,
        listener: TcpListener,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let App {
            router,
            shutdown,
            tasks,
            ..
        } = self;
        let res = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(stop)
        .await;
        let _ = shutdown.send(true);
        for t in tasks {
            t.abort();
        }
        res.context("serving HTTP")
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn prune_idempotency_keys(db: DatabaseConnection, mut stop: watch::Receiver<bool>) {
    loop {
        match ttx_web::idempotency::prune(&db, 24).await {
            Ok(n) if n > 0 => tracing::info!(pruned = n, "pruned idempotency keys"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "pruning idempotency keys failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The full HTTP stack.
pub fn build_router(state: AppState) -> Router {
    build_router_with(state, Router::new())
}

/// The full HTTP stack with `extra` routes merged in (tests add routes that panic, stall or count
/// their calls, to exercise the middleware).
pub fn build_router_with(state: AppState, extra: Router<AppState>) -> Router {
    let cfg = state.config.clone();
    let clock = state.clock.clone();
    let rate_limits = state.rate_limits.clone();
    let reads = state.reads.clone();
    let idempotency = ttx_web::idempotency::Settings {
        db: state.db.clone(),
        lease: ttx_web::idempotency::Settings::lease_for(Duration::from_secs(
            cfg.server.request_timeout_secs,
        )),
        // Large enough for a document upload retried with its key.
        body_limit: cfg.server.body_limit_bytes.max(cfg.documents.max_bytes),
        path_prefix: "/v1/",
    };
    let (v1, _) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/v1", v1_routes())
        .split_for_parts();
    let (ops_routes, _) = ops::ops_router().split_for_parts();
    // Document uploads have their own (larger) body limit; everything else the server's.
    let (documents, _) = OpenApiRouter::new()
        .nest("/v1", ttx_documents::router())
        .split_for_parts();
    let documents = documents.layer(RequestBodyLimitLayer::new(
        cfg.documents.max_bytes.saturating_add(64 * 1024),
    ));

    let cors = if cfg.server.cors_origins.is_empty() {
        CorsLayer::new()
    } else {
        let origins: Vec<HeaderValue> = cfg
            .server
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                REQUEST_ID,
                header::RETRY_AFTER,
                HeaderName::from_static("ratelimit-limit"),
                HeaderName::from_static("ratelimit-remaining"),
                HeaderName::from_static("ratelimit-reset"),
            ])
    };

    Router::new()
        .merge(
            Router::new()
                .merge(v1)
                .merge(ops_routes)
                .merge(ops::docs_router())
                .merge(ttx_stats::dashboard::router())
                .merge(extra)
                .layer(RequestBodyLimitLayer::new(cfg.server.body_limit_bytes)),
        )
        .merge(documents)
        .fallback(ttx_web::error::route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        // Innermost first: each `layer` call wraps everything above it.
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(cfg.server.request_timeout_secs)))
        .layer(middleware::from_fn(record_metrics))
        .layer(middleware::from_fn_with_state(reads, drop_public_reads_on_org_write))
        .layer(middleware::from_fn(html_security_headers))
        .layer(middleware::from_fn(problemify))
        .layer(middleware::from_fn(uri_limit))
        .layer(CatchPanicLayer::custom(|_err: Box<dyn std::any::Any + Send>| {
            problem_response(&ApiError::new(ErrorCode::Internal).detail("an unexpected error occurred; it has been logged"))
        }))
        // Outside the timeout and panic layers, so it sees their answers and releases the key;
        // inside CORS, so replays get the CORS headers.
        .layer(middleware::from_fn_with_state(idempotency, ttx_web::idempotency::layer))
        // Before any work (idempotency keys included); inside CORS, so a 429 gets its headers.
        .layer(middleware::from_fn_with_state(rate_limits, ttx_web::ratelimit::layer))
        .layer(cors)
        .layer(
            ServiceBuilder::new()
                .layer(middleware::from_fn(drop_bad_request_id))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                    let rid = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %rid)
                })),
        )
        // Outermost: everything a request runs (idempotency records included) reads this clock.
        .layer(middleware::from_fn_with_state(clock, with_clock))
}

/// A write under `/v1/orgs/` (a name, kind or region changed, an organisation verified) drops
/// the cached public views, which name their owner, once it has run and before its response
/// goes (whatever its status: organisation writes are rare, a needless drop is harmless).
async fn drop_public_reads_on_org_write(
    axum::extract::State(reads): axum::extract::State<PublicReads>,
    req: Request,
    next: Next,
) -> Response {
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && req.uri().path().starts_with("/v1/orgs/");
    let resp = next.run(req).await;
    if write {
        reads.organisations_changed();
    }
    resp
}

/// Runs the request with the application's clock in effect (`ttx_core::clock::now`).
async fn with_clock(
    axum::extract::State(clock): axum::extract::State<ttx_core::Clock>,
    req: Request,
    next: Next,
) -> Response {
    clock.scope(next.run(req)).await
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed)
}

/// Longest request target (path and query) served; longer is a 414 problem.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// A request target longer than [`MAX_URI_BYTES`] is a 414 problem+json (hyper's own 414, for
/// targets beyond 64 KiB, has no body).
async fn uri_limit(req: Request, next: Next) -> Response {
    let len = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().len())
        .unwrap_or(0);
    if len > MAX_URI_BYTES {
        return problem_response(&ApiError::new(ErrorCode::UriTooLong).detail(format!(
            "the request target has {len} bytes; at most {MAX_URI_BYTES} are served"
        )));
    }
    next.run(req).await
}

/// A client's `X-Request-Id` is kept only when it is 1 to 64 characters of `[A-Za-z0-9._-]`;
/// otherwise it is dropped and a fresh id generated.
async fn drop_bad_request_id(mut req: Request, next: Next) -> Response {
    let ok = |v: &HeaderValue| {
        let b = v.as_bytes();
        (1..=64).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
    };
    let bad = {
        let values: Vec<_> = req.headers().get_all(&REQUEST_ID).iter().collect();
        values.len() > 1 || values.first().is_some_and(|v| !ok(v))
    };
    if bad {
        req.headers_mut().remove(&REQUEST_ID);
    }
    next.run(req).await
}

/// HTML pages (the docs, the contract certificate, the dashboard) get a content security policy,
/// `nosniff` and a referrer policy, unless the page set its own.
async fn html_security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if is_html {
        let h = resp.headers_mut();
        for (name, value) in [
            (
                header::CONTENT_SECURITY_POLICY,
                ttx_stats::dashboard::CONTENT_SECURITY_POLICY,
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ] {
            if !h.contains_key(&name) {
                h.insert(name, HeaderValue::from_static(value));
            }
        }
    }
    resp
}

/// Turns bare error responses from middleware (timeouts, body limits) into problem+json; after a
/// 413 the connection is closed (the rest of the body is not read).
async fn problemify(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let status = resp.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.starts_with(PROBLEM_JSON))
        .unwrap_or(false);
    if is_problem {
        return resp;
    }
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::REQUEST_TIMEOUT => ErrorCode::Timeout,
        s if s.is_server_error() => ErrorCode::Internal,
        _ => ErrorCode::InvalidHeader,
    };
    let mut out = problem_response(&ApiError::new(code));
    if let Some(rid) = resp.headers().get(REQUEST_ID) {
        out.headers_mut().insert(REQUEST_ID, rid.clone());
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        out.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    out.into_response()
}

/// A label value without an allocation for the usual methods and statuses.
fn static_or_owned(known: Option<&'static str>, other: impl FnOnce() -> String) -> SharedString {
    match known {
        Some(s) => SharedString::from(s),
        None => SharedString::from(other()),
    }
}

fn method_label(m: &Method) -> SharedString {
    let known = match *m {
        Method::GET => Some("GET"),
        Method::POST => Some("POST"),
        Method::PATCH => Some("PATCH"),
        Method::PUT => Some("PUT"),
        Method::DELETE => Some("DELETE"),
        Method::HEAD => Some("HEAD"),
        Method::OPTIONS => Some("OPTIONS"),
        _ => None,
    };
    static_or_owned(known, || m.to_string())
}

fn status_label(s: StatusCode) -> SharedString {
    let known = match s.as_u16() {
        200 => Some("200"),
        201 => Some("201"),
        204 => Some("204"),
        304 => Some("304"),
        400 => Some("400"),
        401 => Some("401"),
        403 => Some("403"),
        404 => Some("404"),
        409 => Some("409"),
        412 => Some("412"),
        422 => Some("422"),
        429 => Some("429"),
        500 => Some("500"),
        _ => None,
    };
    static_or_owned(known, || s.as_u16().to_string())
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| SharedString::from(p.as_str().to_string()))
        .unwrap_or_else(|| SharedString::from("unmatched"));
    let resp = next.run(req).await;
    let status = status_label(resp.status());
    let elapsed = start.elapsed().as_secs_f64();
    metrics::counter!("ttx_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("ttx_http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed);
    resp
}
