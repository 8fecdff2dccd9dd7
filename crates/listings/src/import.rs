//! Bulk import of listings from CSV or JSON Lines (`ttx import listings FILE --org ID`).
//!
//! Every row goes through the same validation as `POST /v1/listings`; a bad row is reported
//! with its line, field and reason and skipped, good rows are kept. Rows are written in
//! batches, one transaction each, with their audit entries and outbox rows; a row whose
//! `external_id` the organisation already used updates that listing instead of adding one.
//!
//! JSON Lines: one `POST /v1/listings` body per line. CSV: one column per field —
//! `title, summary, description, keywords, field, trl, transfer_modes, price, price_kind,
//! price_amount, price_min, price_max, ip_items, region_code, registration_no, dual_use,
//! expires_on, contact_name, contact_phone, contact_email, status, publish, external_id` —
//! with lists separated by `;` (keywords also by `、`, `，`, `|`), `price` either `面议` /
//! `negotiable`, an amount, or `min-max` (fen), and `ip_items` as `kind:number:status[:title]`
//! items separated by `;` (or a JSON array).
use crate::domain::{ListingStatus, NewListing};
use crate::dto::ListingInput;
use crate::entity::listing::{ActiveModel, Column, Entity};
use crate::store::{self, OrgInfo};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use ttx_accounts::entity::audit_log;
use ttx_core::{FieldErrors, Labelled, RegionCode};
use ttx_search::{outbox, LISTINGS};

/// Input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// Guesses the format from the file name (`.csv`, `.jsonl`, `.ndjson`, `.json`).
    pub fn from_path(p: &Path) -> Option<Format> {
        let ext = p.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The owning organisation.
    pub org_id: i64,
    /// Rows per transaction.
    pub batch_size: usize,
    /// Publish rows that do not say (`status` / `publish`); otherwise they are drafts.
    pub publish_by_default: bool,
}

impl ImportOptions {
    pub fn new(org_id: i64) -> Self {
        ImportOptions {
            org_id,
            batch_size: 1_000,
            publish_by_default: true,
        }
    }
}

/// One problem with one row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line in the file (CSV: where the record starts).
    pub line: u64,
    /// JSON path of the field (`price.min`, `ip_items[0].number`), empty for the whole row.
    pub field: String,
    pub code: String,
    pub message: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    /// Data rows read.
    pub rows: u64,
    pub created: u64,
    /// Rows that updated a listing by its `external_id`.
    pub updated: u64,
    /// Rows left out because of errors.
    pub failed: u64,
    /// Listings published (and queued for indexing) by this import.
    pub published: u64,
    pub errors: Vec<RowError>,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl ImportReport {
    pub fn rate(&self) -> f64 {
        (self.created + self.updated) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why an import could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    #[error("reading the CSV header: {0}")]
    Csv(#[from] csv::Error),
    #[error("unknown CSV column(s): {0} (known: {1})")]
    UnknownColumns(String, String),
    #[error("organisation {0}: {1}")]
    Org(i64, String),
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

const CSV_COLUMNS: &[&str] = &[
    "title",
    "summary",
    "description",
    "keywords",
    "field",
    "trl",
    "transfer_modes",
    "modes",
    "price",
    "price_kind",
    "price_amount",
    "price_min",
    "price_max",
    "ip_items",
    "region_code",
    "registration_no",
    "dual_use",
    "expires_on",
    "contact_name",
    "contact_phone",
    "contact_email",
    "status",
    "publish",
    "external_id",
];

fn split_list(s: &str, seps: &[char]) -> Vec<Value> {
    s.split(|c| seps.contains(&c))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| Value::String(t.to_string()))
        .collect()
}

fn number_or_text(s: &str) -> Value {
    s.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::String(s.to_string()))
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" => Some(true),
        "false" | "0" | "no" | "n" | "否" => Some(false),
        _ => None,
    }
}

/// The shorthand `price` column: `面议` / `negotiable`, `12345`, or `1000-2000` (fen).
fn price_shorthand(s: &str) -> Value {
    let t = s.trim();
    if t == "面议" || t.eq_ignore_ascii_case("negotiable") {
        return json!({"kind": "negotiable"});
    }
    if let Some((a, b)) = t.split_once(['-', '~', '～']) {
        return json!({"kind": "range", "min": number_or_text(a.trim()), "max": number_or_text(b.trim())});
    }
    json!({"kind": "fixed", "amount": number_or_text(t)})
}

fn ip_items_cell(s: &str) -> Result<Value, String> {
    let t = s.trim();
    if t.starts_with('[') {
        return serde_json::from_str(t).map_err(|e| format!("not a JSON array: {e}"));
    }
    let mut items = vec![];
    for item in t
        .split([';', '；'])
        .map(str::trim)
        .filter(|i| !i.is_empty())
    {
        let parts: Vec<&str> = item.splitn(4, [':', '：']).map(str::trim).collect();
        if parts.len() < 3 {
            return Err(format!(
                "{item:?} is not kind:number:status (use kind::status when there is no number)"
            ));
        }
        let mut o = Map::new();
        o.insert("kind".into(), Value::String(parts[0].into()));
        if !parts[1].is_empty() {
            o.insert("number".into(), Value::String(parts[1].into()));
        }
        o.insert("status".into(), Value::String(parts[2].into()));
        if let Some(t) = parts.get(3).filter(|t| !t.is_empty()) {
            o.insert("title".into(), Value::String((*t).into()));
        }
        items.push(Value::Object(o));
    }
    Ok(Value::Array(items))
}

/// Turns a CSV record into the JSON body of a create request.
fn csv_to_json(headers: &[String], rec: &csv::StringRecord) -> Result<Value, (String, String)> {
    let mut o = Map::new();
    let mut price = Map::new();
    let mut contact = Map::new();
    for (h, cell) in headers.iter().zip(rec.iter()) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let v = match h.as_str() {
            "keywords" => Value::Array(split_list(cell, &[';', '；', '、', '，', '|'])),
            "transfer_modes" | "modes" => Value::Array(split_list(cell, &[';', '；', ',', '|'])),
            "trl" => number_or_text(cell),
            "dual_use" => match parse_bool(cell) {
                Some(b) => Value::Bool(b),
                None => return Err((h.clone(), format!("{cell:?} is not true/false"))),
            },
            "ip_items" => ip_items_cell(cell).map_err(|e| (h.clone(), e))?,
            "price" => price_shorthand(cell),
            "price_kind" => {
                price.insert("kind".into(), Value::String(cell.into()));
                continue;
            }
            "price_amount" | "price_min" | "price_max" => {
                let k = h.trim_start_matches("price_").to_string();
                price.insert(k, number_or_text(cell));
                continue;
            }
            "contact_name" | "contact_phone" | "contact_email" => {
                contact.insert(
                    h.trim_start_matches("contact_").to_string(),
                    Value::String(cell.into()),
                );
                continue;
            }
            "status" => match cell.to_lowercase().as_str() {
                "published" => {
                    o.insert("publish".into(), Value::Bool(true));
                    continue;
                }
                "draft" => {
                    o.insert("publish".into(), Value::Bool(false));
                    continue;
                }
                _ => {
                    return Err((
                        "status".into(),
                        format!("{cell:?} is not draft or published"),
                    ))
                }
            },
            "publish" => match parse_bool(cell) {
                Some(b) => Value::Bool(b),
                None => return Err((h.clone(), format!("{cell:?} is not true/false"))),
            },
            _ => Value::String(cell.into()),
        };
        let key = if h == "modes" {
            "transfer_modes"
        } else {
            h.as_str()
        };
        o.insert(key.to_string(), v);
    }
    if !price.is_empty() {
        o.insert("price".into(), Value::Object(price));
    }
    if !contact.is_empty() {
        o.insert("contact".into(), Value::Object(contact));
    }
    Ok(Value::Object(o))
}

fn row_errors(line: u64, errs: FieldErrors) -> Vec<RowError> {
    errs.0
        .into_iter()
        .map(|e| RowError {
            line,
            field: e.field,
            code: e.code,
            message: e.message,
        })
        .collect()
}

/// Validates one row's JSON exactly as the API would.
fn validate(
    line: u64,
    bytes: &[u8],
    today: chrono::NaiveDate,
) -> Result<NewListing, Vec<RowError>> {
    let input: ListingInput = ttx_web::extract::parse_json(bytes).map_err(|e| {
        if e.errors.is_empty() {
            vec![RowError {
                line,
                field: String::new(),
                code: e.code.to_string(),
                message: e.detail.unwrap_or_else(|| e.title.to_string()),
            }]
        } else {
            row_errors(line, FieldErrors(e.errors))
        }
    })?;
    input.parse(today).map_err(|e| row_errors(line, e))
}

/// Reads rows as `(line, Result<json bytes, errors>)`.
enum Rows {
    Csv {
        headers: Vec<String>,
        records: csv::StringRecordsIntoIter<std::fs::File>,
    },
    Jsonl {
        lines: std::io::Lines<BufReader<std::fs::File>>,
        line: u64,
    },
}

type Row = (u64, Result<Vec<u8>, Vec<RowError>>);

impl Rows {
    fn open(path: &Path, format: Format) -> Result<Rows, ImportError> {
        match format {
            Format::Csv => {
                let mut r = csv::ReaderBuilder::new().flexible(false).from_path(path)?;
                let headers: Vec<String> = r
                    .headers()?
                    .iter()
                    .map(|h| h.trim().trim_start_matches('\u{feff}').to_lowercase())
                    .collect();
                let unknown: Vec<&str> = headers
                    .iter()
                    .map(String::as_str)
                    .filter(|h| !CSV_COLUMNS.contains(h))
                    .collect();
                if !unknown.is_empty() {
                    return Err(ImportError::UnknownColumns(
                        unknown.join(", "),
                        CSV_COLUMNS.join(", "),
                    ));
                }
                Ok(Rows::Csv {
                    headers,
                    records: r.into_records(),
                })
            }
            Format::Jsonl => Ok(Rows::Jsonl {
                lines: BufReader::new(std::fs::File::open(path)?).lines(),
                line: 0,
            }),
        }
    }

    fn next_row(&mut self) -> Option<Result<Row, ImportError>> {
        match self {
            Rows::Csv { headers, records } => {
                let rec = records.next()?;
                Some(Ok(match rec {
                    Ok(rec) => {
                        let line = rec.position().map_or(0, |p| p.line());
                        let body = csv_to_json(headers, &rec)
                            .map(|v| serde_json::to_vec(&v).expect("json"))
                            .map_err(|(field, message)| {
                                vec![RowError {
                                    line,
                                    field,
                                    code: "invalid".into(),
                                    message,
                                }]
                            });
                        (line, body)
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        (
                            line,
                            Err(vec![RowError {
                                line,
                                field: String::new(),
                                code: "invalid_csv".into(),
                                message: e.to_string(),
                            }]),
                        )
                    }
                }))
            }
            Rows::Jsonl { lines, line } => loop {
                let l = match lines.next()? {
                    Ok(l) => l,
                    Err(e) => return Some(Err(e.into())),
                };
                *line += 1;
                let t = l.trim().trim_start_matches('\u{feff}');
                if t.is_empty() {
                    continue;
                }
                return Some(Ok((*line, Ok(t.as_bytes().to_vec()))));
            },
        }
    }
}

/// Number of data rows in a file (for progress).
pub fn count_rows(path: &Path, format: Format) -> Result<u64, ImportError> {
    match format {
        Format::Csv => {
            let mut r = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
            let mut rec = csv::ByteRecord::new();
            let mut n = 0;
            while r.read_byte_record(&mut rec)? {
                n += 1;
            }
            Ok(n)
        }
        Format::Jsonl => {
            let mut n = 0;
            for l in BufReader::new(std::fs::File::open(path)?).lines() {
                if !l?.trim().is_empty() {
                    n += 1;
                }
            }
            Ok(n)
        }
    }
}

struct Prepared {
    line: u64,
    n: NewListing,
}

/// Imports a file for `opts.org_id`. `wake` is notified after each committed batch (the
/// outbox worker); `progress(rows read, rows failed)` is called after each batch.
pub async fn import_file(
    db: &DatabaseConnection,
    wake: Option<&Notify>,
    path: &Path,
    format: Format,
    opts: &ImportOptions,
    progress: impl FnMut(u64, u64),
) -> Result<ImportReport, ImportError> {
    let mut rows = Rows::open(path, format)?;
    let today = ttx_core::clock::today();
    let next = move || {
        rows.next_row()
            .map(|r| r.map(|(line, body)| (line, body.and_then(|b| validate(line, &b, today)))))
    };
    run(db, wake, opts, next, progress).await
}

/// Imports already-parsed inputs (demo data, tests); their position is the "line".
pub async fn import_inputs(
    db: &DatabaseConnection,
    wake: Option<&Notify>,
    opts: &ImportOptions,
    inputs: Vec<ListingInput>,
) -> Result<ImportReport, ImportError> {
    let today = ttx_core::clock::today();
    let mut it = inputs.into_iter().enumerate();
    let next = move || {
        it.next().map(|(i, input)| {
            let line = i as u64 + 1;
            Ok((line, input.parse(today).map_err(|e| row_errors(line, e))))
        })
    };
    run(db, wake, opts, next, |_, _| {}).await
}

type Validated = (u64, Result<NewListing, Vec<RowError>>);

async fn run(
    db: &DatabaseConnection,
    wake: Option<&Notify>,
    opts: &ImportOptions,
    mut next: impl FnMut() -> Option<Result<Validated, ImportError>>,
    mut progress: impl FnMut(u64, u64),
) -> Result<ImportReport, ImportError> {
    let t0 = Instant::now();
    let org = crate::service::import_owner(db, opts.org_id)
        .await
        .map_err(|e| ImportError::Org(opts.org_id, e.to_string()))?;
    let org_region = RegionCode::parse(&org.region).ok();
    let mut report = ImportReport::default();
    let batch_size = opts.batch_size.max(1);
    let mut done = false;
    while !done {
        let mut batch = Vec::with_capacity(batch_size);
        while batch.len() < batch_size {
            let Some(row) = next() else {
                done = true;
                break;
            };
            let (line, validated) = row?;
            report.rows += 1;
            match validated {
                Ok(mut n) => {
                    if n.data.region.is_none() && org_region.is_none() {
                        report.failed += 1;
                        report.errors.push(RowError {
                            line,
                            field: "region_code".into(),
                            code: "required".into(),
                            message: "the organisation has no valid region; give region_code"
                                .into(),
                        });
                        continue;
                    }
                    n.publish = Some(n.publish.unwrap_or(opts.publish_by_default));
                    batch.push(Prepared { line, n });
                }
                Err(errs) => {
                    report.failed += 1;
                    report.errors.extend(errs);
                }
            }
        }
        if !batch.is_empty() {
            write_batch(db, &org, org_region, batch, &mut report).await?;
            if let Some(w) = wake {
                w.notify_one();
            }
        }
        progress(report.rows, report.failed);
    }
    report.elapsed = t0.elapsed();
    metrics::counter!("ttx_listings_imported_total").increment(report.created + report.updated);
    Ok(report)
}

fn audit_row(
    org_id: i64,
    id: i64,
    action: &str,
    detail: Value,
    now: chrono::DateTime<Utc>,
) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        at: Set(now),
        actor_user_id: Set(None),
        actor_org_id: Set(None),
        action: Set(action.to_string()),
        target_type: Set("listing".into()),
        target_id: Set(id.to_string()),
        target_org_id: Set(Some(org_id)),
        request_id: Set("cli:import listings".into()),
        detail: Set(Some(detail.to_string())),
        ..Default::default()
    }
}

async fn write_batch(
    db: &DatabaseConnection,
    org: &OrgInfo,
    org_region: Option<RegionCode>,
    batch: Vec<Prepared>,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let now = ttx_core::clock::now();
    let txn = store::write_txn(db).await?;
    let ext_ids: Vec<String> = batch
        .iter()
        .filter_map(|p| p.n.external_id.clone())
        .collect();
    // external id → (listing id, status), including rows written earlier in this batch.
    let mut existing: HashMap<String, (i64, ListingStatus)> = HashMap::new();
    for chunk in ext_ids.chunks(500) {
        for m in Entity::find()
            .filter(Column::OwnerOrgId.eq(org.id))
            .filter(Column::ExternalId.is_in(chunk.iter().cloned()))
            .all(&txn)
            .await?
        {
            if let Some(e) = m.external_id.clone() {
                let st = ListingStatus::from_code(&m.status).unwrap_or(ListingStatus::Draft);
                existing.insert(e, (m.id, st));
            }
        }
    }
    let mut audits = Vec::with_capacity(batch.len());
    let mut to_index = Vec::with_capacity(batch.len());
    let (mut created, mut updated, mut published) = (0u64, 0u64, 0u64);
    let mut errors = Vec::new();
    for Prepared { line, n } in batch {
        let region = n
            .data
            .region
            .or(org_region)
            .expect("checked before the batch");
        let publish = n.publish.unwrap_or(true);
        match n
            .external_id
            .as_ref()
            .and_then(|e| existing.get(e))
            .copied()
        {
            Some((cur_id, cur_status)) => {
                if cur_status == ListingStatus::Transacted {
                    errors.push(RowError {
                        line,
                        field: "external_id".into(),
                        code: crate::error::ListingError::InvalidTransition.code().into(),
                        message: format!(
                            "listing {} with this external_id is transacted and cannot change",
                            cur_id
                        ),
                    });
                    continue;
                }
                let status = if publish {
                    ListingStatus::Published
                } else {
                    cur_status
                };
                let mut am = ActiveModel {
                    status: Set(status.as_str().to_string()),
                    updated_at: Set(now),
                    ..Default::default()
                };
                if status == ListingStatus::Published && cur_status != ListingStatus::Published {
                    am.published_at = Set(Some(now));
                    am.closed_at = Set(None);
                    published += 1;
                }
                store::set_data(&mut am, &n.data, region);
                Entity::update_many()
                    .set(am)
                    .col_expr(Column::Version, Expr::col(Column::Version).add(1))
                    .filter(Column::Id.eq(cur_id))
                    .exec(&txn)
                    .await?;
                audits.push(audit_row(
                    org.id,
                    cur_id,
                    "listing.update",
                    json!({"source": "import", "line": line, "status": status.as_str()}),
                    now,
                ));
                if status == ListingStatus::Published || cur_status == ListingStatus::Published {
                    to_index.push(cur_id);
                }
                if let Some(e) = &n.external_id {
                    existing.insert(e.clone(), (cur_id, status));
                }
                updated += 1;
            }
            None => {
                let status = if publish {
                    ListingStatus::Published
                } else {
                    ListingStatus::Draft
                };
                let row = store::new_row(
                    org.id,
                    None,
                    &n.data,
                    region,
                    status,
                    n.external_id.clone(),
                    now,
                );
                let id = Entity::insert(row).exec(&txn).await?.last_insert_id;
                audits.push(audit_row(
                    org.id,
                    id,
                    "listing.create",
                    json!({"source": "import", "line": line, "status": status.as_str()}),
                    now,
                ));
                if status == ListingStatus::Published {
                    to_index.push(id);
                    published += 1;
                }
                if let Some(e) = &n.external_id {
                    // A later row of this batch with the same id updates this one.
                    existing.insert(e.clone(), (id, status));
                }
                created += 1;
            }
        }
    }
    for chunk in audits.chunks(200) {
        audit_log::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await?;
    }
    for chunk in to_index.chunks(500) {
        outbox::enqueue_many(&txn, LISTINGS, chunk).await?;
    }
    txn.commit().await?;
    report.created += created;
    report.updated += updated;
    report.published += published;
    report.failed += errors.len() as u64;
    report.errors.extend(errors);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(headers: &[&str], cells: &[&str]) -> Value {
        let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        csv_to_json(&h, &csv::StringRecord::from(cells.to_vec())).unwrap()
    }

    #[test]
    fn csv_cells_become_the_api_body() {
        let v = rec(
            &[
                "title",
                "keywords",
                "trl",
                "modes",
                "price",
                "ip_items",
                "dual_use",
                "contact_phone",
                "status",
            ],
            &[
                "固态电池",
                "电池；电解质、储能",
                "5",
                "transfer;license",
                "1000-2000",
                "invention_patent:202310123456.6:granted",
                "是",
                "13800138000",
                "published",
            ],
        );
        assert_eq!(v["keywords"], json!(["电池", "电解质", "储能"]));
        assert_eq!(v["trl"], json!(5));
        assert_eq!(v["transfer_modes"], json!(["transfer", "license"]));
        assert_eq!(
            v["price"],
            json!({"kind": "range", "min": 1000, "max": 2000})
        );
        assert_eq!(v["ip_items"][0]["number"], json!("202310123456.6"));
        assert_eq!(v["dual_use"], json!(true));
        assert_eq!(v["contact"], json!({"phone": "13800138000"}));
        assert_eq!(v["publish"], json!(true));
        assert_eq!(
            rec(&["price"], &["面议"])["price"],
            json!({"kind": "negotiable"})
        );
        assert_eq!(
            rec(&["price_kind", "price_amount"], &["fixed", "500"])["price"],
            json!({"kind": "fixed", "amount": 500})
        );
        assert!(rec(&["title"], &[""]).get("title").is_none());
    }

    #[test]
    fn bad_cells_name_their_column() {
        let h = vec!["dual_use".to_string()];
        let e = csv_to_json(&h, &csv::StringRecord::from(vec!["maybe"])).unwrap_err();
        assert_eq!(e.0, "dual_use");
        let h = vec!["ip_items".to_string()];
        assert!(csv_to_json(&h, &csv::StringRecord::from(vec!["patent"])).is_err());
    }

    #[test]
    fn validation_reports_fields_per_line() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let errs = validate(7, br#"{"title": "x"}"#, today).unwrap_err();
        assert!(errs.iter().all(|e| e.line == 7));
        assert!(!errs[0].field.is_empty());
        let errs = validate(8, b"{not json", today).unwrap_err();
        assert_eq!(errs[0].code, "malformed_json");
    }
}

/// Property tests of CSV import rows: any record is a row error at worst, never a panic; a
/// valid record written any accepted way becomes the listing it describes.
#[cfg(test)]
mod proptests {
    use super::*;
    use crate::domain::Price;
    use proptest::prelude::*;
    use ttx_core::{TechField, TransferMode};

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn record(cells: &[String]) -> csv::StringRecord {
        csv::StringRecord::from(cells.to_vec())
    }

    /// A valid 12-digit invention patent application number (type digit 1 or 8), written with
    /// or without `CN` and the dot.
    fn patent() -> impl Strategy<Value = (String, String)> {
        (
            2003u32..=2026,
            prop::sample::select(vec!['1', '8']),
            0u32..10_000_000,
            any::<bool>(),
        )
            .prop_map(|(y, t, n, cn)| {
                let digits = format!("{y}{t}{n:07}");
                let canonical = crate::patent::PatentNumber::complete(&digits).unwrap();
                let written = if cn {
                    format!("CN{}", canonical.replace('.', ""))
                } else {
                    canonical.clone()
                };
                (written, canonical)
            })
    }

    #[derive(Debug, Clone)]
    struct ValidRow {
        cells: Vec<(&'static str, String)>,
        title: String,
        keywords: Vec<String>,
        field: TechField,
        trl: u8,
        price_kind: &'static str,
        patent: String,
    }

    fn valid_row() -> impl Strategy<Value = ValidRow> {
        (
            "[\u{4e00}-\u{9fa5}]{4,40}",
            prop::collection::btree_set("[\u{4e00}-\u{9fa5}]{2,8}", 1..6),
            prop::sample::select(vec![";", "；", "、", "，", "|"]),
            prop::sample::select(TechField::ALL.to_vec()),
            1u8..=9,
            prop::sample::subsequence(vec![TransferMode::Transfer, TransferMode::License], 1..=2),
            prop_oneof![
                Just(("negotiable", "面议".to_string())),
                Just(("negotiable", "Negotiable".to_string())),
                (1i64..1_000_000).prop_map(|n| ("fixed", n.to_string())),
                (1i64..1_000_000, 0i64..1_000_000)
                    .prop_map(|(a, d)| ("range", format!("{a} - {}", a + d))),
            ],
            patent(),
            any::<bool>(),
        )
            .prop_map(
                |(
                    title,
                    keywords,
                    sep,
                    field,
                    trl,
                    modes,
                    (price_kind, price),
                    (written, canonical),
                    published,
                )| {
                    let keywords: Vec<String> = keywords.into_iter().collect();
                    let cells = vec![
                        ("title", format!(" {title} ")),
                        ("summary", format!("{title}：成果简介")),
                        ("description", format!("{title}的技术说明，已完成中试。")),
                        ("keywords", keywords.join(sep)),
                        ("field", field.code().to_string()),
                        ("trl", trl.to_string()),
                        (
                            "transfer_modes",
                            modes.iter().map(|m| m.code()).collect::<Vec<_>>().join(";"),
                        ),
                        ("price", price),
                        ("ip_items", format!("invention_patent:{written}:granted")),
                        (
                            "status",
                            if published { "published" } else { "draft" }.to_string(),
                        ),
                    ];
                    ValidRow {
                        cells,
                        title,
                        keywords,
                        field,
                        trl,
                        price_kind,
                        patent: canonical,
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// A valid record becomes the listing it describes.
        #[test]
        fn valid_records_are_accepted(r in valid_row()) {
            let headers: Vec<String> = r.cells.iter().map(|(h, _)| h.to_string()).collect();
            let cells: Vec<String> = r.cells.iter().map(|(_, c)| c.clone()).collect();
            let body = csv_to_json(&headers, &record(&cells)).unwrap();
            let bytes = serde_json::to_vec(&body).unwrap();
            let parsed = validate(2, &bytes, today());
            prop_assert!(parsed.is_ok(), "{} refused: {:?}", body, parsed.err());
            let l = parsed.unwrap();
            prop_assert_eq!(&l.data.title, &r.title);
            prop_assert_eq!(&l.data.keywords, &r.keywords);
            prop_assert_eq!(l.data.field, r.field);
            prop_assert_eq!(l.data.trl.level(), r.trl);
            let kind = match l.data.price {
                Price::Negotiable => "negotiable",
                Price::Fixed { .. } => "fixed",
                Price::Range { min, max } => {
                    prop_assert!(min <= max);
                    "range"
                }
            };
            prop_assert_eq!(kind, r.price_kind);
            prop_assert_eq!(l.data.ip_items[0].number.as_deref(), Some(r.patent.as_str()));
        }

        /// Any cells under any columns: a JSON body or a column error, then the API's
        /// validation; never a panic.
        #[test]
        fn any_record_is_an_error_at_worst(
            cells in prop::collection::vec(
                (prop::sample::select(CSV_COLUMNS.to_vec()), "\\PC{0,16}|[0-9:;\\-~，、a-z_\\[\\]{}\"]{0,16}"),
                0..10,
            )
        ) {
            let headers: Vec<String> = cells.iter().map(|(h, _)| h.to_string()).collect();
            let values: Vec<String> = cells.iter().map(|(_, c)| c.clone()).collect();
            match csv_to_json(&headers, &record(&values)) {
                Ok(body) => {
                    let bytes = serde_json::to_vec(&body).unwrap();
                    if let Err(errs) = validate(5, &bytes, today()) {
                        prop_assert!(!errs.is_empty());
                        prop_assert!(errs.iter().all(|e| e.line == 5));
                    }
                }
                Err((column, _)) => prop_assert!(CSV_COLUMNS.contains(&column.as_str())),
            }
        }

        /// `kind:number:status[:title]` items read back as written.
        #[test]
        fn ip_item_cells_round_trip(
            items in prop::collection::vec(
                ("[a-z_]{1,12}", "[A-Z0-9.]{0,14}", "[a-z_]{1,10}", "[\u{4e00}-\u{9fa5}]{0,6}"),
                1..4,
            ),
            sep in prop::sample::select(vec![";", "；", " ; "]),
        ) {
            let cell = items
                .iter()
                .map(|(k, n, s, t)| if t.is_empty() { format!("{k}:{n}:{s}") } else { format!("{k}:{n}:{s}:{t}") })
                .collect::<Vec<_>>()
                .join(sep);
            let v = ip_items_cell(&cell).unwrap();
            let arr = v.as_array().unwrap();
            prop_assert_eq!(arr.len(), items.len());
            for (o, (k, n, s, t)) in arr.iter().zip(&items) {
                prop_assert_eq!(&o["kind"], &json!(k));
                prop_assert_eq!(&o["status"], &json!(s));
                if n.is_empty() {
                    prop_assert!(o.get("number").is_none());
                } else {
                    prop_assert_eq!(&o["number"], &json!(n));
                }
                if t.is_empty() {
                    prop_assert!(o.get("title").is_none());
                } else {
                    prop_assert_eq!(&o["title"], &json!(t));
                }
            }
        }
    }
}
