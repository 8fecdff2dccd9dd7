//! Issuing registration numbers: gapless per station and year.
//!
//! One row per (station, year) in `registration_counters` holds the last sequence issued. The
//! registering transaction increments it with an atomic `UPDATE … RETURNING`, which on PostgreSQL
//! locks the row until that transaction ends: concurrent registrations at one station queue
//! there, and a registration that rolls back gives its number back. On SQLite the whole write
//! transaction is serialised. The unique index on `contracts.registration_number` is the
//! backstop.
use crate::domain::{RegistrationNumber, StationCode};
use crate::entity::{registration_counter as rc, station_code as sc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use ttx_accounts::entity::organization;
use ttx_core::RegionCode;
use ttx_web::ServiceError;

/// The station's code in numbers, allocated on first use: its region code and the first free
/// ordinal among stations of that region.
pub async fn station_code<C: ConnectionTrait>(
    conn: &C,
    station_id: i64,
) -> Result<StationCode, ServiceError> {
    if let Some(c) = find_code(conn, station_id).await? {
        return Ok(c);
    }
    let org = organization::Entity::find_by_id(station_id)
        .one(conn)
        .await?
        .ok_or_else(|| ServiceError::not_found("station"))?;
    let region = RegionCode::parse(&org.region_code).map_err(ServiceError::internal)?;
    for ordinal in 1..=99u8 {
        let code = StationCode::new(region, ordinal).expect("ordinal in range");
        let insert = Query::insert()
            .into_table(sc::Entity)
            .columns([sc::Column::StationId, sc::Column::Code])
            .values_panic([station_id.into(), code.as_str().into()])
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .to_owned();
        let res = conn.execute(&insert).await?;
        if res.rows_affected() == 1 {
            return Ok(code);
        }
        // Either this ordinal is taken by another station, or this station got a code
        // concurrently.
        if let Some(c) = find_code(conn, station_id).await? {
            return Ok(c);
        }
    }
    Err(ServiceError::internal(format!(
        "no free station code in region {region}"
    )))
}

async fn find_code<C: ConnectionTrait>(
    conn: &C,
    station_id: i64,
) -> Result<Option<StationCode>, DbErr> {
    Ok(sc::Entity::find()
        .filter(sc::Column::StationId.eq(station_id))
        .one(conn)
        .await?
        .and_then(|r| StationCode::parse(&r.code)))
}

async fn ensure_counter<C: ConnectionTrait>(
    conn: &C,
    station_id: i64,
    year: i32,
) -> Result<(), ServiceError> {
    let code = station_code(conn, station_id).await?;
    let insert = Query::insert()
        .into_table(rc::Entity)
        .columns([
            rc::Column::StationId,
            rc::Column::Year,
            rc::Column::StationCode,
            rc::Column::LastSeq,
        ])
        .values_panic([
            station_id.into(),
            year.into(),
            code.as_str().into(),
            0i64.into(),
        ])
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .to_owned();
    conn.execute(&insert).await?;
    Ok(())
}

async fn increment<C: ConnectionTrait>(
    conn: &C,
    station_id: i64,
    year: i32,
) -> Result<Option<(i64, String)>, DbErr> {
    let update = Query::update()
        .table(rc::Entity)
        .value(rc::Column::LastSeq, Expr::col(rc::Column::LastSeq).add(1))
        .and_where(rc::Column::StationId.eq(station_id))
        .and_where(rc::Column::Year.eq(year))
        .returning(Query::returning().columns([rc::Column::LastSeq, rc::Column::StationCode]))
        .to_owned();
    match conn.query_one(&update).await? {
        Some(row) => Ok(Some((
            row.try_get::<i64>("", "last_seq")?,
            row.try_get::<String>("", "station_code")?,
        ))),
        None => Ok(None),
    }
}

/// The next number of `station_id` in `year`, inside the caller's transaction.
pub async fn next<C: ConnectionTrait>(
    conn: &C,
    station_id: i64,
    year: i32,
) -> Result<RegistrationNumber, ServiceError> {
    let (seq, code) = match increment(conn, station_id, year).await? {
        Some(r) => r,
        None => {
            ensure_counter(conn, station_id, year).await?;
            increment(conn, station_id, year)
                .await?
                .ok_or_else(|| ServiceError::internal("registration counter row missing"))?
        }
    };
    let code =
        StationCode::parse(&code).ok_or_else(|| ServiceError::internal("bad station code"))?;
    RegistrationNumber::new(year, code, seq as u64)
        .ok_or_else(|| ServiceError::internal("registration number out of range"))
}

/// Makes sure the counter of `station_id` in `year` is at least `seq` (after importing
/// numbers issued elsewhere in this station's format).
pub async fn raise_to<C: ConnectionTrait>(
    conn: &C,
    station_id: i64,
    year: i32,
    seq: i64,
) -> Result<(), ServiceError> {
    ensure_counter(conn, station_id, year).await?;
    let update = Query::update()
        .table(rc::Entity)
        .value(rc::Column::LastSeq, seq)
        .and_where(rc::Column::StationId.eq(station_id))
        .and_where(rc::Column::Year.eq(year))
        .and_where(rc::Column::LastSeq.lt(seq))
        .to_owned();
    conn.execute(&update).await?;
    Ok(())
}
