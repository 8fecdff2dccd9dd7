//! HTTP routes of turnover statistics (mounted under `/v1`). Reads only; public, with more
//! detail for operators, bureaus (their region) and stations (their registrations).
use crate::domain::{By, Interval, Level, Period, Side, Unit};
use crate::export::{self, Format};
use crate::query::Scope;
use crate::report::{self, detail_for, Flows, Series, Top, TurnoverReport, TurnoverSpec};
use axum::extract::{FromRef, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;
use ttx_accounts::entity::organization;
use ttx_accounts::MaybeActor;
use ttx_core::region::parse_region_prefix;
use ttx_core::{FieldErrors, OrgKind};
use ttx_web::error::Problem;
use ttx_web::{ApiError, ApiQuery, ApiResult};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

/// State the statistics routes need.
#[derive(Clone)]
pub struct StatsState {
    pub db: DatabaseConnection,
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    StatsState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(turnover))
        .routes(routes!(series))
        .routes(routes!(flows))
        .routes(routes!(top))
}

/// Today in Beijing (the ledger's business date).
fn today() -> NaiveDate {
    ttx_core::clock::today()
}

/// `from`/`to` checked; the current year by default.
fn period(
    errs: &mut FieldErrors,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Option<Period> {
    let year = Period::year_of(today());
    let (from, to) = match (from, to) {
        (None, None) => (year.from, year.to),
        (Some(f), None) => (f, Period::year_of(f).to),
        (None, Some(t)) => (Period::year_of(t).from, t),
        (Some(f), Some(t)) => (f, t),
    };
    match Period::new(from, to) {
        Ok(p) => Some(p),
        Err(e) => {
            let field = match e {
                crate::domain::PeriodError::Reversed | crate::domain::PeriodError::TooLong => "to",
                crate::domain::PeriodError::OutOfRange => "from",
            };
            errs.add(field, "invalid_period", e.to_string());
            None
        }
    }
}

fn region(errs: &mut FieldErrors, raw: Option<&str>) -> Option<String> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match parse_region_prefix(raw) {
        Ok(p) => Some(p),
        Err(e) => {
            errs.add("region", "invalid_region", e.to_string());
            None
        }
    }
}

/// 422 unless `station` is a registration station.
async fn check_station(db: &DatabaseConnection, station: Option<i64>) -> ApiResult<()> {
    let Some(id) = station else { return Ok(()) };
    let found = organization::Entity::find()
        .filter(organization::Column::Id.eq(id))
        .filter(organization::Column::Kind.eq(OrgKind::Station.as_str()))
        .one(db)
        .await?;
    if found.is_none() {
        return Err(ApiError::field(
            "station",
            "unknown_station",
            "no registration station has this id",
        ));
    }
    Ok(())
}

fn limit(errs: &mut FieldErrors, v: Option<u64>, default: u64, max: u64) -> usize {
    match v {
        None => default as usize,
        Some(n) if (1..=max).contains(&n) => n as usize,
        Some(_) => {
            errs.add("limit", "out_of_range", format!("must be 1 to {max}"));
            default as usize
        }
    }
}

/// Parameters of `GET /v1/stats/turnover`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TurnoverQuery {
    /// First day (default: 1 January of the current year).
    pub from: Option<NaiveDate>,
    /// Last day, inclusive (default: 31 December of `from`'s year).
    pub to: Option<NaiveDate>,
    /// `output` (by the seller's region, default) or `absorption` (by the buyer's region).
    #[param(inline)]
    pub side: Option<Side>,
    /// A 2-, 4- or 6-digit region prefix (or a full code); none: the whole country.
    pub region: Option<String>,
    /// A registration station's organisation id: its own registrations.
    pub station: Option<i64>,
    /// The breakdown (default `region`).
    #[param(inline)]
    pub by: Option<By>,
    /// With `by=region`: `province`, `city` or `county` (default: one level below `region`).
    #[param(inline)]
    pub level: Option<Level>,
    /// `json` (default), `csv` or `xlsx`; or the `Accept` header.
    #[param(inline)]
    pub format: Option<Format>,
    /// Exports: `yuan`, `wan` (万元, default) or `yi` (亿元).
    #[param(inline)]
    pub unit: Option<Unit>,
}

/// Technology contract turnover (技术合同成交额) of a period and region: total and breakdown,
/// with growth against the same period a year earlier and rank. Public; cells of fewer than 3
/// contracts are left out unless the caller may see the detail (operators; a bureau within its
/// region; a station for its own registrations).
#[utoipa::path(get, path = "/stats/turnover", tag = "stats",
    params(TurnoverQuery),
    responses(
        (status = 200, description = "The report as JSON, or exported as CSV or XLSX (`format`, or `Accept`)", content(
            (TurnoverReport = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn turnover(
    State(st): State<StatsState>,
    MaybeActor(actor): MaybeActor,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TurnoverQuery>,
) -> ApiResult<Response> {
    let mut errs = FieldErrors::new();
    let period = period(&mut errs, q.from, q.to);
    let region = region(&mut errs, q.region.as_deref());
    let by = q.by.unwrap_or(By::Region);
    let level = q.level.unwrap_or(Level::below(region.as_deref()));
    if q.level.is_some() && by != By::Region {
        errs.add("level", "not_applicable", "level goes with by=region");
    }
    if let Some(r) = &region {
        if level.digits() < r.len() {
            errs.add(
                "level",
                "above_region",
                "the level must not be above the region's own level",
            );
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    check_station(&st.db, q.station).await?;
    let spec = TurnoverSpec {
        period: period.expect("checked"),
        side: q.side.unwrap_or(Side::Output),
        region,
        station: q.station,
        by,
        level,
    };
    let detail = detail_for(actor.as_ref(), spec.region.as_deref(), spec.station);
    let r = report::turnover(&st.db, &spec, detail).await?;
    Ok(match Format::negotiate(q.format, &headers) {
        Format::Json => axum::Json(r).into_response(),
        f => export::turnover(&r, f, q.unit.unwrap_or(Unit::Wan))?,
    })
}

/// Parameters of `GET /v1/stats/series`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeriesQuery {
    /// First day (default: 1 January of the current year).
    pub from: Option<NaiveDate>,
    /// Last day, inclusive.
    pub to: Option<NaiveDate>,
    /// `month` (default), `quarter` or `year`.
    #[param(inline)]
    pub interval: Option<Interval>,
    #[param(inline)]
    pub side: Option<Side>,
    /// A 2-, 4- or 6-digit region prefix.
    pub region: Option<String>,
    pub station: Option<i64>,
    #[param(inline)]
    pub format: Option<Format>,
    #[param(inline)]
    pub unit: Option<Unit>,
}

/// Turnover month by month (or by quarter or year), each with growth against the same period a
/// year earlier.
#[utoipa::path(get, path = "/stats/series", tag = "stats",
    params(SeriesQuery),
    responses(
        (status = 200, description = "The report as JSON, or exported as CSV or XLSX (`format`, or `Accept`)", content(
            (Series = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn series(
    State(st): State<StatsState>,
    MaybeActor(actor): MaybeActor,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SeriesQuery>,
) -> ApiResult<Response> {
    let mut errs = FieldErrors::new();
    let period = period(&mut errs, q.from, q.to);
    let region = region(&mut errs, q.region.as_deref());
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    check_station(&st.db, q.station).await?;
    let scope = Scope {
        side: q.side.unwrap_or(Side::Output),
        region,
        station: q.station,
    };
    let detail = detail_for(actor.as_ref(), scope.region.as_deref(), scope.station);
    let s = report::series(
        &st.db,
        period.expect("checked"),
        q.interval.unwrap_or(Interval::Month),
        &scope,
        detail,
    )
    .await?;
    Ok(match Format::negotiate(q.format, &headers) {
        Format::Json => axum::Json(s).into_response(),
        f => export::series(&s, f, q.unit.unwrap_or(Unit::Wan))?,
    })
}

/// Parameters of `GET /v1/stats/flows`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FlowsQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// `province` (default), `city` or `county`.
    #[param(inline)]
    pub level: Option<Level>,
    /// Flows whose seller or buyer lies in this region (a 2-, 4- or 6-digit prefix).
    pub region: Option<String>,
    /// 1 to 1000 (default 200).
    pub limit: Option<u64>,
}

/// Technology flows from sellers' regions to buyers' regions.
#[utoipa::path(get, path = "/stats/flows", tag = "stats",
    params(FlowsQuery),
    responses((status = 200, body = Flows), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn flows(
    State(st): State<StatsState>,
    MaybeActor(actor): MaybeActor,
    ApiQuery(q): ApiQuery<FlowsQuery>,
) -> ApiResult<axum::Json<Flows>> {
    let mut errs = FieldErrors::new();
    let period = period(&mut errs, q.from, q.to);
    let region = region(&mut errs, q.region.as_deref());
    let limit = limit(&mut errs, q.limit, 200, 1000);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    let detail = detail_for(actor.as_ref(), region.as_deref(), None);
    let f = report::flows(
        &st.db,
        period.expect("checked"),
        q.level.unwrap_or(Level::Province),
        region,
        limit,
        detail,
    )
    .await?;
    Ok(axum::Json(f))
}

/// Parameters of `GET /v1/stats/top`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TopQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Sellers within it by the seller's region, buyers by the buyer's.
    pub region: Option<String>,
    pub station: Option<i64>,
    /// 1 to 100 (default 10).
    pub limit: Option<u64>,
}

/// The largest sellers and buyers by contract amount.
#[utoipa::path(get, path = "/stats/top", tag = "stats",
    params(TopQuery),
    responses((status = 200, body = Top), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)))]
async fn top(
    State(st): State<StatsState>,
    MaybeActor(actor): MaybeActor,
    ApiQuery(q): ApiQuery<TopQuery>,
) -> ApiResult<axum::Json<Top>> {
    let mut errs = FieldErrors::new();
    let period = period(&mut errs, q.from, q.to);
    let region = region(&mut errs, q.region.as_deref());
    let limit = limit(&mut errs, q.limit, 10, 100);
    if !errs.is_empty() {
        return Err(ApiError::validation(errs));
    }
    check_station(&st.db, q.station).await?;
    let detail = detail_for(actor.as_ref(), region.as_deref(), q.station);
    let t = report::top(
        &st.db,
        period.expect("checked"),
        region,
        q.station,
        limit,
        detail,
    )
    .await?;
    Ok(axum::Json(t))
}
