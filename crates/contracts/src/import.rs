//! `ttx import contracts FILE --station ID`: a station moves its historical register to TTX.
//!
//! The file is CSV (with a header row) or JSON Lines (one object per line), with these columns
//! or keys; vocabularies accept the code or the Chinese label, amounts are 元 with at most two
//! decimals, dates `YYYY-MM-DD`:
//!
//! | column | |
//! |---|---|
//! | `registration_number` | kept as it is (letters, digits, `-`, `/`; unique) |
//! | `registered_on` | the original registration date: the ledger books it on this date |
//! | `title`, `sub_kind` | `recognised_sub_kind` optional (default: `sub_kind`) |
//! | `contract_amount`, `non_technical_costs` | 元; costs optional (0) |
//! | `signed_on`, `term_start`, `term_end` | term optional |
//! | `seller_name`, `seller_credit_code`, `seller_entity_kind`, `seller_region` | the seller must lie in the station's jurisdiction |
//! | `buyer_name`, `buyer_credit_code`, `buyer_entity_kind`, `buyer_region` | credit codes optional for individuals |
//! | `tech_field`, `ip_kind`, `programme_source` | `ip_kind`, `programme_source` optional |
//!
//! Every row is validated first; errors are reported by line, field and reason, and then nothing
//! is imported. Parties whose credit code belongs to a TTX organisation are linked to it (so the
//! organisation sees the contract and its technology income). Numbers in TTX's own format for
//! this station move the station's counter past them, so later numbers never collide.
//!
//! Their later amendments and terminations come with `ttx import amendments`: [`amendments`].
pub mod amendments;

use crate::domain::content::{covers, ContractContent, Links, Party};
use crate::domain::number::is_acceptable_foreign_number;
use crate::domain::{fingerprint, RegistrationNumber};
use crate::entity::contract;
use crate::numbering;
use crate::service::history::{insert_registered, Registered};
use crate::store::write_txn;
use anyhow::{bail, Context};
use chrono::NaiveDate;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use ttx_accounts::audit::{self, AuditCtx, Target};
use ttx_accounts::entity::organization;
use ttx_core::text::TextKind;
use ttx_core::{
    ContractSubKind, CreditCode, EntityKind, Fen, IpKind, Labelled, OrgKind, RegionCode, TechField,
};

/// A problem with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.reason)
    }
}

/// What an import did (or, with errors, why it did nothing).
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub rows: usize,
    pub imported: usize,
    pub errors: Vec<RowError>,
    /// Contracts per registration year.
    pub by_year: BTreeMap<i32, usize>,
}

/// One valid row.
#[derive(Debug, Clone)]
pub struct ParsedRow {
    pub line: usize,
    pub registered: Registered,
}

type Fields = HashMap<String, String>;

/// Reads the rows of a CSV or JSON Lines file as `(line, fields)`.
pub fn read_rows(path: &Path) -> anyhow::Result<Vec<(usize, Fields)>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match ext.as_str() {
        "csv" => read_csv(text),
        "jsonl" | "ndjson" => read_jsonl(text),
        _ => bail!("{}: expected a .csv or .jsonl file", path.display()),
    }
}

fn read_csv(text: &str) -> anyhow::Result<Vec<(usize, Fields)>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .context("reading the CSV header")?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut out = vec![];
    for rec in r.records() {
        let rec = rec.context("reading CSV")?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        let fields = headers
            .iter()
            .zip(rec.iter())
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(h, v)| (h.clone(), v.trim().to_string()))
            .collect();
        out.push((line, fields));
    }
    Ok(out)
}

fn read_jsonl(text: &str) -> anyhow::Result<Vec<(usize, Fields)>> {
    let mut out = vec![];
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let line = i + 1;
        let fields = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(l) {
            Ok(obj) => obj
                .into_iter()
                .filter_map(|(k, v)| {
                    let s = match v {
                        serde_json::Value::Null => return None,
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (!s.trim().is_empty()).then(|| (k, s.trim().to_string()))
                })
                .collect(),
            Err(e) => {
                let mut f = Fields::new();
                f.insert("\u{0}json".into(), e.to_string());
                f
            }
        };
        out.push((line, fields));
    }
    Ok(out)
}

struct RowParser<'a> {
    line: usize,
    f: &'a Fields,
    errors: Vec<RowError>,
}

impl RowParser<'_> {
    fn err(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(RowError {
            line: self.line,
            field: field.into(),
            reason: reason.into(),
        });
    }
    fn opt(&self, k: &str) -> Option<&str> {
        self.f.get(k).map(String::as_str)
    }
    fn req(&mut self, k: &str) -> Option<String> {
        let v = self.opt(k).map(str::to_string);
        if v.is_none() {
            self.err(k, "required");
        }
        v
    }
    /// A one-line text value through the same hygiene as the API ([`ttx_core::text::clean`]:
    /// NFC, trimmed, no control characters or bidi overrides), within `min..=max` characters.
    fn text(&mut self, k: &str, min: usize, max: usize) -> Option<String> {
        let raw = self.req(k)?;
        let v = self.clean(k, &raw, TextKind::Line)?;
        let n = v.chars().count();
        if n < min || n > max {
            self.err(k, format!("must be {min} to {max} characters"));
            return None;
        }
        Some(v)
    }
    /// `raw` through [`ttx_core::text::clean`]; its refusal becomes a row error on `k`.
    fn clean(&mut self, k: &str, raw: &str, kind: TextKind) -> Option<String> {
        match ttx_core::text::clean(raw, kind) {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(k, e.message);
                None
            }
        }
    }
    fn date(&mut self, k: &str, required: bool) -> Option<NaiveDate> {
        let v = if required {
            self.req(k)?
        } else {
            self.opt(k)?.to_string()
        };
        match NaiveDate::parse_from_str(&v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.err(k, format!("{v:?} is not a date (YYYY-MM-DD)"));
                None
            }
        }
    }
    fn vocab<T: Labelled>(&mut self, k: &str, required: bool) -> Option<T> {
        let v = if required {
            self.req(k)?
        } else {
            self.opt(k)?.to_string()
        };
        match T::ALL
            .iter()
            .copied()
            .find(|x| x.code() == v || x.zh() == v)
        {
            Some(x) => Some(x),
            None => {
                self.err(
                    k,
                    format!(
                        "{v:?} is not one of: {}",
                        T::ALL
                            .iter()
                            .map(|x| x.code())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
        }
    }
    fn yuan(&mut self, k: &str, required: bool) -> Option<Fen> {
        let v = if required {
            self.req(k)?
        } else {
            self.opt(k)?.to_string()
        };
        match Fen::parse_yuan(&v) {
            Ok(f) => Some(f),
            Err(e) => {
                self.err(k, format!("{v:?}: {e}"));
                None
            }
        }
    }
    fn region(&mut self, k: &str) -> Option<RegionCode> {
        let v = self.req(k)?;
        match RegionCode::parse(&v) {
            Ok(r) => Some(r),
            Err(e) => {
                self.err(k, format!("{v:?}: {e}"));
                None
            }
        }
    }
    fn party(&mut self, p: &str) -> Option<Party> {
        let name = self.text(&format!("{p}_name"), 2, 200);
        let kind: Option<EntityKind> = self.vocab(&format!("{p}_entity_kind"), true);
        let region = self.region(&format!("{p}_region"));
        let code_field = format!("{p}_credit_code");
        let credit_code = match self.opt(&code_field).map(str::to_string) {
            Some(c) => match CreditCode::parse(&c) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.err(&code_field, format!("{c:?}: {e}"));
                    return None;
                }
            },
            None => {
                if kind.is_some_and(|k| k != EntityKind::Individual) {
                    self.err(&code_field, "required unless the party is an individual");
                }
                None
            }
        };
        Some(Party {
            org_id: None,
            name: name?,
            credit_code,
            entity_kind: kind?,
            region: region?,
        })
    }
}

/// Validates one row on its own (no database).
pub fn parse_row(line: usize, f: &Fields, today: NaiveDate) -> Result<ParsedRow, Vec<RowError>> {
    let mut p = RowParser {
        line,
        f,
        errors: vec![],
    };
    if let Some(e) = f.get("\u{0}json") {
        p.err("line", format!("not a JSON object: {e}"));
        return Err(p.errors);
    }
    let number = p.req("registration_number");
    if let Some(n) = &number {
        if !is_acceptable_foreign_number(n) {
            p.err("registration_number", "1 to 32 letters, digits, '-' or '/'");
        }
    }
    let registered_on = p.date("registered_on", true);
    let title = p.text("title", 2, 200);
    let sub_kind: Option<ContractSubKind> = p.vocab("sub_kind", true);
    let recognised: Option<ContractSubKind> = p.vocab("recognised_sub_kind", false);
    let amount = p.yuan("contract_amount", true);
    let costs = p.yuan("non_technical_costs", false).unwrap_or(Fen::ZERO);
    let signed_on = p.date("signed_on", true);
    let term_start = p.date("term_start", false);
    let term_end = p.date("term_end", false);
    let seller = p.party("seller");
    let buyer = p.party("buyer");
    let tech_field: Option<TechField> = p.vocab("tech_field", true);
    let ip_kind: Option<IpKind> = p.vocab("ip_kind", false);
    let programme_source = match p.opt("programme_source").map(str::to_string) {
        Some(raw) => p
            .clean("programme_source", &raw, TextKind::Line)
            .filter(|v| !v.is_empty()),
        None => None,
    };
    if programme_source
        .as_ref()
        .is_some_and(|s| s.chars().count() > 200)
    {
        p.err("programme_source", "at most 200 characters");
    }
    if let (Some(r), Some(s)) = (registered_on, signed_on) {
        if r < s {
            p.err("registered_on", "before the signing date");
        }
    }
    if registered_on.is_some_and(|r| r > today) {
        p.err("registered_on", "in the future");
    }
    if !p.errors.is_empty() {
        return Err(p.errors);
    }
    let content = ContractContent {
        title: title.expect("checked"),
        sub_kind: sub_kind.expect("checked"),
        seller: seller.expect("checked"),
        buyer: buyer.expect("checked"),
        others: vec![],
        contract_amount: amount.expect("checked"),
        non_technical_costs: costs,
        payment_plan: vec![],
        signed_on: signed_on.expect("checked"),
        term_start,
        term_end,
        tech_field: tech_field.expect("checked"),
        ip_kind,
        programme_source,
        researcher_reward_bp: None,
        links: Links::default(),
        documents: vec![],
    };
    for e in content.check(today).0 {
        p.err(&e.field, e.message);
    }
    if !p.errors.is_empty() {
        return Err(p.errors);
    }
    let recognised = recognised.unwrap_or(content.sub_kind);
    Ok(ParsedRow {
        line,
        registered: Registered {
            content,
            recognised,
            registered_on: registered_on.expect("checked"),
            number,
            imported: true,
        },
    })
}

async fn station_jurisdiction(
    db: &DatabaseConnection,
    station_id: i64,
) -> anyhow::Result<(organization::Model, Vec<RegionCode>)> {
    let org = organization::Entity::find_by_id(station_id)
        .one(db)
        .await?
        .with_context(|| format!("organisation {station_id} does not exist"))?;
    if org.kind != OrgKind::Station.as_str() {
        bail!(
            "organisation {station_id} ({}) is not a registration station",
            org.name
        );
    }
    if !org.verified {
        bail!("station {station_id} ({}) is not verified", org.name);
    }
    let j: Vec<RegionCode> = ttx_accounts::service::jurisdiction_of(db, station_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .iter()
        .filter_map(|r| RegionCode::parse(r).ok())
        .collect();
    if j.is_empty() {
        bail!("station {station_id} has no jurisdiction");
    }
    Ok((org, j))
}

/// Validates `rows` for `station_id` against the database too; returns the valid rows and
/// every error.
pub async fn validate(
    db: &DatabaseConnection,
    station_id: i64,
    rows: &[(usize, Fields)],
    today: NaiveDate,
) -> anyhow::Result<(Vec<ParsedRow>, Vec<RowError>)> {
    let (_, jurisdiction) = station_jurisdiction(db, station_id).await?;
    let mut ok = vec![];
    let mut errors = vec![];
    let mut numbers: HashMap<String, usize> = HashMap::new();
    let mut prints: HashMap<String, usize> = HashMap::new();
    for (line, f) in rows {
        match parse_row(*line, f, today) {
            Ok(row) => {
                let mut bad = false;
                let r = &row.registered;
                if !covers(&jurisdiction, r.content.seller.region) {
                    errors.push(RowError {
                        line: *line,
                        field: "seller_region".into(),
                        reason: "outside the station's jurisdiction".into(),
                    });
                    bad = true;
                }
                let n = r.number.clone().unwrap_or_default();
                if let Some(first) = numbers.insert(n.clone(), *line) {
                    errors.push(RowError {
                        line: *line,
                        field: "registration_number".into(),
                        reason: format!("{n} is also on line {first}"),
                    });
                    bad = true;
                }
                let fp = fingerprint::fingerprint(&r.content);
                if let Some(first) = prints.insert(fp, *line) {
                    errors.push(RowError {
                        line: *line,
                        field: "title".into(),
                        reason: format!("the same contract is on line {first}"),
                    });
                    bad = true;
                }
                if !bad {
                    ok.push(row);
                }
            }
            Err(e) => errors.extend(e),
        }
    }
    // Against what is already registered.
    for chunk in ok.chunks(500) {
        let nums: Vec<String> = chunk
            .iter()
            .filter_map(|r| r.registered.number.clone())
            .collect();
        let taken: HashSet<String> = contract::Entity::find()
            .select_only()
            .column(contract::Column::RegistrationNumber)
            .filter(contract::Column::RegistrationNumber.is_in(nums))
            .into_tuple::<Option<String>>()
            .all(db)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let fps: Vec<String> = chunk
            .iter()
            .map(|r| fingerprint::fingerprint(&r.registered.content))
            .collect();
        let registered: HashSet<String> = contract::Entity::find()
            .select_only()
            .column(contract::Column::RegisteredFingerprint)
            .filter(contract::Column::RegisteredFingerprint.is_in(fps))
            .into_tuple::<Option<String>>()
            .all(db)
            .await?
            .into_iter()
            .flatten()
            .collect();
        for r in chunk {
            if let Some(n) = r.registered.number.as_ref().filter(|n| taken.contains(*n)) {
                errors.push(RowError {
                    line: r.line,
                    field: "registration_number".into(),
                    reason: format!("{n} is already registered on TTX"),
                });
            }
            if registered.contains(&fingerprint::fingerprint(&r.registered.content)) {
                errors.push(RowError {
                    line: r.line,
                    field: "title".into(),
                    reason: "the same contract is already registered on TTX".into(),
                });
            }
        }
    }
    errors.sort_by_key(|a| a.line);
    Ok((ok, errors))
}

/// Links parties to TTX organisations by credit code.
async fn link_orgs(db: &DatabaseConnection, rows: &mut [ParsedRow]) -> anyhow::Result<()> {
    let mut codes: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            [&r.registered.content.seller, &r.registered.content.buyer]
                .into_iter()
                .filter_map(|p| p.credit_code.as_ref().map(|c| c.to_string()))
        })
        .collect();
    codes.sort();
    codes.dedup();
    let mut by_code: HashMap<String, i64> = HashMap::new();
    for chunk in codes.chunks(500) {
        for o in organization::Entity::find()
            .filter(organization::Column::CreditCode.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            if let Some(c) = o.credit_code {
                by_code.insert(c, o.id);
            }
        }
    }
    for r in rows {
        for p in [
            &mut r.registered.content.seller,
            &mut r.registered.content.buyer,
        ] {
            p.org_id = p
                .credit_code
                .as_ref()
                .and_then(|c| by_code.get(c.as_str()).copied());
        }
    }
    Ok(())
}

/// Imports a file for `station_id`; with `dry_run` only validates. Nothing is imported when a
/// row has an error.
pub async fn import_file(
    db: &DatabaseConnection,
    path: &Path,
    station_id: i64,
    dry_run: bool,
    progress: bool,
) -> anyhow::Result<ImportReport> {
    let rows = read_rows(path)?;
    let today = crate::service::today();
    let (mut valid, errors) = validate(db, station_id, &rows, today).await?;
    let mut report = ImportReport {
        rows: rows.len(),
        errors,
        ..Default::default()
    };
    if !report.errors.is_empty() || dry_run {
        return Ok(report);
    }
    link_orgs(db, &mut valid).await?;
    valid.sort_by_key(|r| r.registered.registered_on);
    let bar = if progress {
        let b = indicatif::ProgressBar::new(valid.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} importing [{bar:40}] {pos}/{len} contracts ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let code = numbering::station_code(db, station_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut ours: BTreeMap<i32, u64> = BTreeMap::new();
    for chunk in valid.chunks(500) {
        let txn = write_txn(db).await?;
        for r in chunk {
            insert_registered(&txn, station_id, &r.registered)
                .await
                .map_err(|e| anyhow::anyhow!("line {}: {e}", r.line))?;
            *report
                .by_year
                .entry(chrono::Datelike::year(&r.registered.registered_on))
                .or_default() += 1;
            if let Some(n) = r
                .registered
                .number
                .as_deref()
                .and_then(RegistrationNumber::parse)
                .filter(|n| n.station == code)
            {
                let e = ours.entry(n.year).or_default();
                *e = (*e).max(n.seq);
            }
            bar.inc(1);
        }
        txn.commit().await?;
        report.imported += chunk.len();
    }
    for (year, seq) in ours {
        numbering::raise_to(db, station_id, year, seq as i64)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    refresh_statistics(db).await?;
    audit::record(
        db,
        &AuditCtx::system("import contracts"),
        "contract.import",
        Target::new("organization", station_id, Some(station_id)),
        serde_json::json!({"file": path.display().to_string(), "contracts": report.imported}),
    )
    .await?;
    bar.finish_and_clear();
    Ok(report)
}

/// Tidies the tables an import fills on PostgreSQL (`VACUUM (ANALYZE)`; nothing on SQLite,
/// whose planner needs no statistics for these queries). Without the statistics, a database
/// that has just grown from empty keeps planning the validation's lookups and the reports as if
/// the tables were empty (sequential scans) until autovacuum gets to them, which a bulk import
/// outruns and some servers turn off; and every booking rewrites its roll-up cells
/// (`stats_monthly`), leaving dead row versions that reports would otherwise wade through.
pub async fn refresh_statistics(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db.execute_unprepared("VACUUM (ANALYZE) contracts, ledger_entries, stats_monthly")
            .await?;
    }
    Ok(())
}

/// Prints a report for the command line; an error when rows were invalid.
pub fn print_report(report: &ImportReport, dry_run: bool) -> anyhow::Result<()> {
    print_outcome(
        &report.errors,
        report.rows,
        &report.by_year,
        dry_run,
        |years| {
            format!(
                "imported {} contracts, booked in the ledger on their registration dates ({years})",
                report.imported
            )
        },
    )
}

/// What an import of `rows` rows prints (the register's and the amendments'): every row error
/// and a failure when there are any; else that a dry run imported nothing; else `imported`,
/// given the counts per year (`2019: 12, 2020: 40`).
pub(crate) fn print_outcome(
    errors: &[RowError],
    rows: usize,
    by_year: &BTreeMap<i32, usize>,
    dry_run: bool,
    imported: impl FnOnce(String) -> String,
) -> anyhow::Result<()> {
    if !errors.is_empty() {
        for e in errors {
            eprintln!("{e}");
        }
        let lines: HashSet<usize> = errors.iter().map(|e| e.line).collect();
        bail!(
            "{} of {rows} rows have errors ({} problems); nothing was imported",
            lines.len(),
            errors.len()
        );
    }
    if dry_run {
        println!("{rows} rows are valid; nothing imported (--dry-run)");
        return Ok(());
    }
    let years: Vec<String> = by_year.iter().map(|(y, n)| format!("{y}: {n}")).collect();
    println!("{}", imported(years.join(", ")));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn good() -> Fields {
        fields(&[
            ("registration_number", "2019110108000123"),
            ("registered_on", "2019-05-20"),
            ("title", "城市轨道交通信号系统技术服务"),
            ("sub_kind", "技术服务"),
            ("contract_amount", "1,250,000.50"),
            ("non_technical_costs", "250000"),
            ("signed_on", "2019-05-01"),
            ("seller_name", "北辰理工大学"),
            ("seller_credit_code", "12110108MB0000011"),
            ("seller_entity_kind", "university"),
            ("seller_region", "110108"),
            ("buyer_name", "张三"),
            ("buyer_entity_kind", "individual"),
            ("buyer_region", "320505"),
            ("tech_field", "modern_transport"),
        ])
    }

    fn today() -> NaiveDate {
        "2026-11-23".parse().unwrap()
    }

    #[test]
    fn a_good_row_parses_with_labels_and_yuan() {
        let mut f = good();
        // the seller's code above lacks its check character; complete it
        let code = CreditCode::complete("12110108MB0000011")
            .unwrap()
            .to_string();
        f.insert("seller_credit_code".into(), code);
        let r = parse_row(2, &f, today()).unwrap();
        assert_eq!(
            r.registered.content.sub_kind,
            ContractSubKind::GeneralService
        );
        assert_eq!(r.registered.content.contract_amount, Fen(125_000_050));
        assert_eq!(
            r.registered.content.technology_amount(),
            Some(Fen(100_000_050))
        );
        assert_eq!(r.registered.recognised, ContractSubKind::GeneralService);
        assert!(r.registered.imported);
    }

    /// Found by the property tests (`tests/import_properties.rs`): a NUL in a title was accepted
    /// (PostgreSQL cannot store it, so the whole import failed with a database error), as were
    /// other control characters and bidi overrides the API refuses.
    #[test]
    fn text_columns_get_the_api_hygiene() {
        let mut f = good();
        let code = CreditCode::complete("12110108MB0000011")
            .unwrap()
            .to_string();
        f.insert("seller_credit_code".into(), code);
        for (field, value) in [
            ("title", "一\u{0}一"),
            ("seller_name", "北辰\u{202E}大学"),
            ("buyer_name", "张\u{1b}三"),
            ("programme_source", "国家\n计划"),
        ] {
            let mut bad = f.clone();
            bad.insert(field.into(), value.into());
            let errs = parse_row(4, &bad, today()).unwrap_err();
            assert!(errs.iter().any(|e| e.field == field), "{field}: {errs:?}");
        }
        // NFC and trimming as in the API; a value of invisible characters only is empty.
        f.insert("title".into(), " Cafe\u{301} 技术服务 ".into());
        f.insert("programme_source".into(), "\u{200B}".into());
        let r = parse_row(4, &f, today()).unwrap();
        assert_eq!(r.registered.content.title, "Caf\u{e9} 技术服务");
        assert_eq!(r.registered.content.programme_source, None);
        f.insert("title".into(), "\u{200B}\u{200B}\u{200B}".into());
        let errs = parse_row(4, &f, today()).unwrap_err();
        assert!(errs.iter().any(|e| e.field == "title"), "{errs:?}");
    }

    #[test]
    fn errors_name_line_field_and_reason() {
        let mut f = good();
        f.insert("contract_amount".into(), "12.345".into());
        f.insert("sub_kind".into(), "gift".into());
        f.insert("registered_on".into(), "2019-04-01".into());
        f.remove("tech_field");
        let errs = parse_row(7, &f, today()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(errs.iter().all(|e| e.line == 7));
        for want in [
            "seller_credit_code",
            "contract_amount",
            "sub_kind",
            "tech_field",
            "registered_on",
        ] {
            assert!(fields.contains(&want), "{want} in {fields:?}");
        }
        assert!(errs[0].to_string().starts_with("line 7: "));
    }

    #[test]
    fn reads_csv_and_jsonl_with_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let csv_path = dir.path().join("r.csv");
        std::fs::write(
            &csv_path,
            "\u{feff}registration_number,title\nA-1,第一\n\nA-2,\"第二,含逗号\"\n",
        )
        .unwrap();
        let rows = read_rows(&csv_path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[1].1["title"], "第二,含逗号");
        let jl = dir.path().join("r.jsonl");
        std::fs::write(
            &jl,
            "{\"registration_number\": \"A-1\", \"contract_amount\": 1234.5}\n\nnot json\n",
        )
        .unwrap();
        let rows = read_rows(&jl).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].1["contract_amount"], "1234.5");
        assert_eq!(rows[1].0, 3);
        let e = parse_row(rows[1].0, &rows[1].1, today()).unwrap_err();
        assert_eq!(e[0].field, "line");
        assert!(read_rows(&dir.path().join("r.xlsx")).is_err());
    }
}
