//! `ttx import amendments --station ID FILE [--dry-run]`: the amendments and terminations of a
//! station's register, decided before it moved to TTX, booked on the dates they were decided.
//!
//! The file is read like `ttx import contracts` reads its file: CSV with a header row (UTF-8,
//! an optional BOM) or JSON Lines (`.jsonl`/`.ndjson`, one object per line); empty cells and
//! JSON `null` count as absent; vocabularies accept the code or the Chinese label; amounts are
//! 元 with at most two decimals (`1,250,000.50`); dates are `YYYY-MM-DD`. One row is one
//! change:
//!
//! | column | |
//! |---|---|
//! | `registration_number` | required: a contract already on TTX (imported or registered there), registered by this station |
//! | `kind` | required: `amendment` (合同变更) or `termination` (合同终止) |
//! | `decided_on` | required: the date the station approved the change; the ledger books it on this date. Not before the contract's registration date, not before a change already recorded for it on TTX, not after today |
//! | `reason` | optional (at most 2000 characters) |
//! | `contract_amount`, `non_technical_costs` | amendment: the new amounts, 元 |
//! | `buyer_name`, `buyer_credit_code`, `buyer_entity_kind`, `buyer_region` | amendment: the buyer's new particulars (the others stay); a credit code that belongs to a TTX organisation links the buyer to it |
//! | `sub_kind` | amendment: the new declared sub-kind; the recognised sub-kind follows it unless `recognised_sub_kind` is given |
//! | `recognised_sub_kind` | amendment: the sub-kind the station recognises (the ledger books by it) |
//! | `tech_field`, `ip_kind` | amendment: the new technology field, IP kind |
//! | `term_start`, `term_end` | amendment: the new term |
//!
//! An amendment names at least one field that changes; a termination names none. Any other
//! column is an error (a misspelt column would otherwise drop a change silently).
//!
//! The rows of one contract are applied in `decided_on` order (equal dates: file order). An
//! amendment books the difference it makes, a termination reverses what the contract counts
//! for and ends it; no row of that contract may follow its termination. Each change is recorded
//! as an approved amendment or termination request of the contract (`GET
//! /v1/contracts/{id}/amendments`), decided at noon Beijing time on `decided_on`, exactly as the
//! station's approval in TTX records and books it.
//!
//! Every row is validated first, against the file and the database (including every amended
//! state of a contract against the contract rules), and errors are reported by line, field and
//! reason; then nothing is imported. Without errors the whole file is applied in one
//! transaction. Each recorded change carries an import key (a hash of the registration number,
//! kind, date and named changes, kept in the request's decision note), so importing the same
//! file again is refused row by row ("already imported") instead of booking twice.
use super::{read_rows, station_jurisdiction, Fields, RowError, RowParser};
use crate::domain::{fingerprint, AmendmentChanges, AmendmentKind, AmendmentStatus};
use crate::domain::{ContractContent, ContractStatus, Party};
use crate::entity::{amendment, contract};
use crate::service::history::{record_decided, DecidedChange};
use crate::store::{self, write_txn};
use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use ttx_accounts::audit::{self, AuditCtx, Target};
use ttx_accounts::entity::organization;
use ttx_core::text::TextKind;
use ttx_core::{
    ContractSubKind, CreditCode, EntityKind, Fen, IpKind, Labelled, RegionCode, TechField,
};

/// Columns a row may have.
pub const COLUMNS: &[&str] = &[
    "registration_number",
    "kind",
    "decided_on",
    "reason",
    "contract_amount",
    "non_technical_costs",
    "buyer_name",
    "buyer_credit_code",
    "buyer_entity_kind",
    "buyer_region",
    "sub_kind",
    "recognised_sub_kind",
    "tech_field",
    "ip_kind",
    "term_start",
    "term_end",
];

/// What the decision note of an imported change starts with; the import key follows.
const NOTE_PREFIX: &str = "登记簿历史记录导入 (ttx import amendments), import key ";

/// The changes a row names (absent: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Edits {
    pub contract_amount: Option<Fen>,
    pub non_technical_costs: Option<Fen>,
    pub buyer_name: Option<String>,
    pub buyer_credit_code: Option<CreditCode>,
    pub buyer_entity_kind: Option<EntityKind>,
    pub buyer_region: Option<RegionCode>,
    pub sub_kind: Option<ContractSubKind>,
    pub recognised_sub_kind: Option<ContractSubKind>,
    pub tech_field: Option<TechField>,
    pub ip_kind: Option<IpKind>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
}

impl Edits {
    /// The named changes as `(column, normalised value)`, in column order.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![];
        let mut put = |k: &'static str, s: Option<String>| {
            if let Some(s) = s {
                v.push((k, s));
            }
        };
        put(
            "contract_amount",
            self.contract_amount.map(|f| f.0.to_string()),
        );
        put(
            "non_technical_costs",
            self.non_technical_costs.map(|f| f.0.to_string()),
        );
        put("buyer_name", self.buyer_name.clone());
        put(
            "buyer_credit_code",
            self.buyer_credit_code.as_ref().map(|c| c.to_string()),
        );
        put(
            "buyer_entity_kind",
            self.buyer_entity_kind.map(|k| k.code().to_string()),
        );
        put("buyer_region", self.buyer_region.map(|r| r.as_string()));
        put("sub_kind", self.sub_kind.map(|k| k.code().to_string()));
        put(
            "recognised_sub_kind",
            self.recognised_sub_kind.map(|k| k.code().to_string()),
        );
        put("tech_field", self.tech_field.map(|k| k.code().to_string()));
        put("ip_kind", self.ip_kind.map(|k| k.code().to_string()));
        put("term_start", self.term_start.map(|d| d.to_string()));
        put("term_end", self.term_end.map(|d| d.to_string()));
        v
    }

    fn touches_buyer(&self) -> bool {
        self.buyer_name.is_some()
            || self.buyer_credit_code.is_some()
            || self.buyer_entity_kind.is_some()
            || self.buyer_region.is_some()
    }

    /// The buyer after the changes. A new credit code links the buyer to the TTX organisation
    /// that has it (`orgs`: credit code → organisation id), or to none.
    pub fn buyer(&self, current: &Party, orgs: &HashMap<String, i64>) -> Party {
        let mut b = current.clone();
        if let Some(n) = &self.buyer_name {
            b.name = n.clone();
        }
        if let Some(c) = &self.buyer_credit_code {
            b.org_id = orgs.get(c.as_str()).copied();
            b.credit_code = Some(c.clone());
        }
        if let Some(k) = self.buyer_entity_kind {
            b.entity_kind = k;
        }
        if let Some(r) = self.buyer_region {
            b.region = r;
        }
        b
    }

    /// The amendment these edits make to a contract with `current` content recognised as
    /// `recognised`: only the values that differ. A new `sub_kind` moves the recognised
    /// sub-kind with it unless `recognised_sub_kind` is named.
    pub fn changes(
        &self,
        current: &ContractContent,
        recognised: ContractSubKind,
        orgs: &HashMap<String, i64>,
    ) -> AmendmentChanges {
        fn differ<T: PartialEq>(new: Option<T>, old: &T) -> Option<T> {
            new.filter(|n| n != old)
        }
        let buyer = self
            .touches_buyer()
            .then(|| self.buyer(&current.buyer, orgs))
            .filter(|b| *b != current.buyer);
        AmendmentChanges {
            contract_amount: differ(self.contract_amount, &current.contract_amount),
            non_technical_costs: differ(self.non_technical_costs, &current.non_technical_costs),
            buyer,
            sub_kind: differ(self.sub_kind, &current.sub_kind),
            recognised_sub_kind: differ(self.recognised_sub_kind.or(self.sub_kind), &recognised),
            tech_field: differ(self.tech_field, &current.tech_field),
            ip_kind: self.ip_kind.filter(|k| Some(*k) != current.ip_kind),
            term_start: self.term_start.filter(|d| Some(*d) != current.term_start),
            term_end: self.term_end.filter(|d| Some(*d) != current.term_end),
            ..Default::default()
        }
    }
}

/// One row, valid on its own.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    pub line: usize,
    pub registration_number: String,
    pub kind: AmendmentKind,
    pub decided_on: NaiveDate,
    pub reason: Option<String>,
    pub edits: Edits,
    /// Identifies the change: see [`import_key`].
    pub key: String,
}

/// A hash of what a row says (registration number, kind, date and the normalised named
/// changes; not the reason): the same change gets the same key whichever file brings it.
pub fn import_key(number: &str, kind: AmendmentKind, on: NaiveDate, edits: &Edits) -> String {
    let mut h = Sha256::new();
    let mut put = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    put("amendment-import-v1");
    put(number);
    put(kind.code());
    put(&on.to_string());
    for (k, v) in edits.pairs() {
        put(k);
        put(&v);
    }
    hex::encode(&h.finalize()[..16])
}

/// The import key in a decision note written by this import.
fn key_of_note(note: &str) -> Option<&str> {
    note.strip_prefix(NOTE_PREFIX)
}

/// Validates one row on its own (no database).
pub fn parse_row(line: usize, f: &Fields, today: NaiveDate) -> Result<ChangeRow, Vec<RowError>> {
    let mut p = RowParser {
        line,
        f,
        errors: vec![],
    };
    if let Some(e) = f.get("\u{0}json") {
        p.err("line", format!("not a JSON object: {e}"));
        return Err(p.errors);
    }
    let mut unknown: Vec<&String> = f
        .keys()
        .filter(|k| !COLUMNS.contains(&k.as_str()))
        .collect();
    unknown.sort();
    for k in unknown {
        p.err(
            k,
            format!("unknown column; expected: {}", COLUMNS.join(", ")),
        );
    }
    let number = p.req("registration_number");
    let kind: Option<AmendmentKind> = p.vocab("kind", true);
    let decided_on = p.date("decided_on", true);
    if decided_on.is_some_and(|d| d > today) {
        p.err("decided_on", "in the future");
    }
    let reason = match p.opt("reason").map(str::to_string) {
        Some(raw) => p
            .clean("reason", &raw, TextKind::Long)
            .filter(|v| !v.is_empty()),
        None => None,
    };
    if reason.as_ref().is_some_and(|r| r.chars().count() > 2000) {
        p.err("reason", "at most 2000 characters");
    }
    let buyer_name = match p.opt("buyer_name") {
        Some(_) => p.text("buyer_name", 2, 200),
        None => None,
    };
    let buyer_credit_code = match p.opt("buyer_credit_code").map(str::to_string) {
        Some(c) => match CreditCode::parse(&c) {
            Ok(c) => Some(c),
            Err(e) => {
                p.err("buyer_credit_code", format!("{c:?}: {e}"));
                None
            }
        },
        None => None,
    };
    let buyer_region = match p.opt("buyer_region") {
        Some(_) => p.region("buyer_region"),
        None => None,
    };
    let edits = Edits {
        contract_amount: p.yuan("contract_amount", false),
        non_technical_costs: p.yuan("non_technical_costs", false),
        buyer_name,
        buyer_credit_code,
        buyer_entity_kind: p.vocab("buyer_entity_kind", false),
        buyer_region,
        sub_kind: p.vocab("sub_kind", false),
        recognised_sub_kind: p.vocab("recognised_sub_kind", false),
        tech_field: p.vocab("tech_field", false),
        ip_kind: p.vocab("ip_kind", false),
        term_start: p.date("term_start", false),
        term_end: p.date("term_end", false),
    };
    let named: Vec<&str> = COLUMNS[4..]
        .iter()
        .copied()
        .filter(|c| f.contains_key(*c))
        .collect();
    match kind {
        Some(AmendmentKind::Amendment) if named.is_empty() => p.err(
            "kind",
            format!(
                "an amendment names at least one changed field: {}",
                COLUMNS[4..].join(", ")
            ),
        ),
        Some(AmendmentKind::Termination) => {
            for c in named {
                p.err(c, "a termination changes no field; leave it empty");
            }
        }
        _ => {}
    }
    if !p.errors.is_empty() {
        return Err(p.errors);
    }
    let (number, kind, decided_on) = (
        number.expect("checked"),
        kind.expect("checked"),
        decided_on.expect("checked"),
    );
    Ok(ChangeRow {
        line,
        key: import_key(&number, kind, decided_on, &edits),
        registration_number: number,
        kind,
        decided_on,
        reason,
        edits,
    })
}

/// A valid row with its contract.
#[derive(Debug, Clone)]
pub struct Planned {
    pub row: ChangeRow,
    pub contract_id: i64,
}

/// The rows of a file, checked against the database; applied by [`apply`].
#[derive(Debug, Default)]
pub struct Plan {
    /// In booking order: `decided_on`, then file order.
    pub changes: Vec<Planned>,
    pub errors: Vec<RowError>,
    /// Credit code → TTX organisation, for buyers that change.
    pub orgs: HashMap<String, i64>,
}

/// What is on TTX already about one contract.
#[derive(Default)]
struct Recorded {
    pending: bool,
    /// The latest date a change of it was decided on TTX.
    latest: Option<NaiveDate>,
    keys: HashMap<String, i64>,
}

fn fail(errors: &mut Vec<RowError>, line: usize, field: &str, reason: String) {
    errors.push(RowError {
        line,
        field: field.into(),
        reason,
    });
}

/// Validates `rows` for `station_id` against the file and the database.
pub async fn validate(
    db: &DatabaseConnection,
    station_id: i64,
    rows: &[(usize, Fields)],
    today: NaiveDate,
) -> anyhow::Result<Plan> {
    station_jurisdiction(db, station_id).await?;
    let mut plan = Plan::default();
    let mut parsed = vec![];
    let mut keys: HashMap<String, usize> = HashMap::new();
    for (line, f) in rows {
        match parse_row(*line, f, today) {
            Ok(r) => {
                if let Some(first) = keys.get(&r.key) {
                    plan.errors.push(RowError {
                        line: r.line,
                        field: "registration_number".into(),
                        reason: format!("the same change is also on line {first}"),
                    });
                } else {
                    keys.insert(r.key.clone(), r.line);
                    parsed.push(r);
                }
            }
            Err(e) => plan.errors.extend(e),
        }
    }

    // The contracts, what was recorded about them, and the organisations of new buyers.
    let mut numbers: Vec<String> = parsed
        .iter()
        .map(|r| r.registration_number.clone())
        .collect();
    numbers.sort();
    numbers.dedup();
    let mut contracts: HashMap<String, contract::Model> = HashMap::new();
    for chunk in numbers.chunks(500) {
        for m in contract::Entity::find()
            .filter(contract::Column::RegistrationNumber.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            if let Some(n) = m.registration_number.clone() {
                contracts.insert(n, m);
            }
        }
    }
    let ids: Vec<i64> = contracts.values().map(|m| m.id).collect();
    let mut recorded: HashMap<i64, Recorded> = HashMap::new();
    for chunk in ids.chunks(500) {
        for a in amendment::Entity::find()
            .filter(amendment::Column::ContractId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            let r = recorded.entry(a.contract_id).or_default();
            if a.status == AmendmentStatus::Pending.as_str() {
                r.pending = true;
            } else if a.status == AmendmentStatus::Approved.as_str() {
                if let Some(at) = a.decided_at {
                    let d = ttx_core::clock::beijing_date(at);
                    r.latest = r.latest.max(Some(d));
                }
                if let Some(k) = a.decision_note.as_deref().and_then(key_of_note) {
                    r.keys.insert(k.to_string(), a.id);
                }
            }
        }
    }
    let mut codes: Vec<String> = parsed
        .iter()
        .filter_map(|r| r.edits.buyer_credit_code.as_ref().map(|c| c.to_string()))
        .collect();
    codes.sort();
    codes.dedup();
    for chunk in codes.chunks(500) {
        for o in organization::Entity::find()
            .filter(organization::Column::CreditCode.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            if let Some(c) = o.credit_code {
                plan.orgs.insert(c, o.id);
            }
        }
    }

    // Each contract's rows in booking order, replayed on its current state.
    let mut by_contract: BTreeMap<String, Vec<ChangeRow>> = BTreeMap::new();
    for r in parsed {
        by_contract
            .entry(r.registration_number.clone())
            .or_default()
            .push(r);
    }
    let mut states: Vec<(usize, i64, String)> = vec![];
    let none = Recorded::default();
    for (number, mut rows) in by_contract {
        rows.sort_by_key(|r| (r.decided_on, r.line));
        let Some(m) = contracts.get(&number) else {
            for r in &rows {
                fail(
                    &mut plan.errors,
                    r.line,
                    "registration_number",
                    format!("no contract registered under {number} on TTX"),
                );
            }
            continue;
        };
        let status = store::status_of(m).map_err(|e| anyhow::anyhow!("{e}"))?;
        let rec = recorded.get(&m.id).unwrap_or(&none);
        let whole = if m.station_id != Some(station_id) {
            Some(format!("{number} was registered by another station"))
        } else if status == ContractStatus::Terminated {
            Some(format!(
                "{number} is terminated on TTX already{}",
                m.terminated_on
                    .map(|d| format!(" (since {d})"))
                    .unwrap_or_default()
            ))
        } else if status != ContractStatus::Registered {
            Some(format!(
                "{number} is not registered (it is {})",
                status.as_str()
            ))
        } else if rec.pending {
            Some(format!(
                "{number} has a pending amendment or termination request on TTX; decide it first"
            ))
        } else {
            None
        };
        if let Some(reason) = whole {
            for r in &rows {
                fail(
                    &mut plan.errors,
                    r.line,
                    "registration_number",
                    reason.clone(),
                );
            }
            continue;
        }
        let registered_on = m
            .registered_on
            .context("a registered contract has a date")?;
        let latest = rec.latest.unwrap_or(registered_on).max(registered_on);
        let mut content = store::content_of(m).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut recognised = store::booking_of(m)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .dims
            .sub_kind;
        let mut terminated: Option<(usize, NaiveDate)> = None;
        for r in rows {
            let before = plan.errors.len();
            if let Some((tl, td)) = terminated {
                fail(
                    &mut plan.errors,
                    r.line,
                    "decided_on",
                    format!("the termination on line {tl} ({td}) ends the contract; no change may follow it"),
                );
            }
            if r.decided_on < registered_on {
                fail(
                    &mut plan.errors,
                    r.line,
                    "decided_on",
                    format!("before the contract's registration date ({registered_on})"),
                );
            } else if r.decided_on < latest {
                fail(
                    &mut plan.errors,
                    r.line,
                    "decided_on",
                    format!(
                        "before a change of the contract already recorded on TTX ({latest}); changes are booked in date order"
                    ),
                );
            }
            if let Some(id) = rec.keys.get(&r.key) {
                fail(
                    &mut plan.errors,
                    r.line,
                    "registration_number",
                    format!("this change was imported already (request {id} of the contract)"),
                );
            }
            let mut next = None;
            if r.kind == AmendmentKind::Amendment {
                let ch = r.edits.changes(&content, recognised, &plan.orgs);
                if ch.changes_nothing(&content, recognised) {
                    fail(
                        &mut plan.errors,
                        r.line,
                        "kind",
                        "the amendment changes nothing: every field it names has that value already"
                            .into(),
                    );
                } else {
                    let n = ch.apply(&content);
                    if n.buyer.entity_kind != EntityKind::Individual
                        && n.buyer.credit_code.is_none()
                    {
                        fail(
                            &mut plan.errors,
                            r.line,
                            "buyer_credit_code",
                            "required unless the buyer is an individual".into(),
                        );
                    }
                    for e in n.check(r.decided_on).0 {
                        fail(&mut plan.errors, r.line, &e.field, e.message);
                    }
                    next = Some((n, ch.recognised_sub_kind.unwrap_or(recognised)));
                }
            }
            if plan.errors.len() > before {
                continue;
            }
            if let Some((n, rk)) = next {
                states.push((r.line, m.id, fingerprint::fingerprint(&n)));
                content = n;
                recognised = rk;
            } else {
                terminated = Some((r.line, r.decided_on));
            }
            plan.changes.push(Planned {
                row: r,
                contract_id: m.id,
            });
        }
    }

    // An amended contract may not become another registered one.
    let mut seen: HashMap<String, (i64, usize)> = HashMap::new();
    for (line, id, fp) in &states {
        match seen.get(fp) {
            Some((other, first)) if other != id => plan.errors.push(RowError {
                line: *line,
                field: "registration_number".into(),
                reason: format!(
                    "after this amendment the contract would equal the one amended on line {first}"
                ),
            }),
            _ => {
                seen.insert(fp.clone(), (*id, *line));
            }
        }
    }
    let fps: Vec<String> = seen.keys().cloned().collect();
    for chunk in fps.chunks(500) {
        let taken: Vec<(i64, Option<String>, Option<String>)> = contract::Entity::find()
            .select_only()
            .column(contract::Column::Id)
            .column(contract::Column::RegisteredFingerprint)
            .column(contract::Column::RegistrationNumber)
            .filter(contract::Column::RegisteredFingerprint.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        let taken: HashMap<String, (i64, String)> = taken
            .into_iter()
            .filter_map(|(id, fp, n)| Some((fp?, (id, n.unwrap_or_default()))))
            .collect();
        for (line, id, fp) in &states {
            if let Some((_, n)) = taken.get(fp).filter(|(other, _)| other != id) {
                plan.errors.push(RowError {
                    line: *line,
                    field: "registration_number".into(),
                    reason: format!(
                        "after this amendment the contract would equal contract {n}, registered already"
                    ),
                });
            }
        }
    }
    plan.errors.sort_by_key(|e| e.line);
    plan.errors.dedup();
    plan.changes.sort_by_key(|p| (p.row.decided_on, p.row.line));
    Ok(plan)
}

/// What an import of changes did (or, with errors, why it did nothing).
#[derive(Debug, Clone, Default)]
pub struct ChangesReport {
    pub rows: usize,
    pub amendments: usize,
    pub terminations: usize,
    pub errors: Vec<RowError>,
    /// Changes per year they were decided (booked) in.
    pub by_year: BTreeMap<i32, usize>,
}

/// Records and books a valid plan in one transaction.
pub async fn apply(
    db: &DatabaseConnection,
    station_id: i64,
    plan: &Plan,
    file: &str,
    progress: bool,
) -> anyhow::Result<ChangesReport> {
    let bar = if progress {
        let b = indicatif::ProgressBar::new(plan.changes.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} importing [{bar:40}] {pos}/{len} changes ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut report = ChangesReport::default();
    let txn = write_txn(db).await?;
    for p in &plan.changes {
        let r = &p.row;
        let m = contract::Entity::find_by_id(p.contract_id)
            .lock_exclusive()
            .one(&txn)
            .await?
            .with_context(|| format!("line {}: the contract is gone", r.line))?;
        let changes = match r.kind {
            AmendmentKind::Amendment => {
                let content = store::content_of(&m).map_err(|e| anyhow::anyhow!("{e}"))?;
                let recognised = store::booking_of(&m)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .dims
                    .sub_kind;
                report.amendments += 1;
                Some(r.edits.changes(&content, recognised, &plan.orgs))
            }
            AmendmentKind::Termination => {
                report.terminations += 1;
                None
            }
        };
        let change = DecidedChange {
            kind: r.kind,
            changes,
            reason: r.reason.clone().unwrap_or_else(|| {
                match r.kind {
                    AmendmentKind::Amendment => "登记簿历史变更（未注明原因）",
                    AmendmentKind::Termination => "登记簿历史终止（未注明原因）",
                }
                .into()
            }),
            decided_on: r.decided_on,
            effective_on: (r.kind == AmendmentKind::Termination).then_some(r.decided_on),
            note: Some(format!("{NOTE_PREFIX}{}", r.key)),
        };
        record_decided(&txn, &m, &change)
            .await
            .map_err(|e| anyhow::anyhow!("line {}: {e}", r.line))?;
        *report.by_year.entry(r.decided_on.year()).or_default() += 1;
        bar.inc(1);
    }
    audit::record(
        &txn,
        &AuditCtx::system("import amendments"),
        "contract.amendment.import",
        Target::new("organization", station_id, Some(station_id)),
        serde_json::json!({
            "file": file,
            "amendments": report.amendments,
            "terminations": report.terminations,
        }),
    )
    .await?;
    txn.commit().await?;
    bar.finish_and_clear();
    Ok(report)
}

/// Imports a file of changes for `station_id`; with `dry_run` only validates. Nothing is
/// imported when a row has an error.
pub async fn import_file(
    db: &DatabaseConnection,
    path: &Path,
    station_id: i64,
    dry_run: bool,
    progress: bool,
) -> anyhow::Result<ChangesReport> {
    let rows = read_rows(path)?;
    let plan = validate(db, station_id, &rows, crate::service::today()).await?;
    if !plan.errors.is_empty() || dry_run {
        return Ok(ChangesReport {
            rows: rows.len(),
            errors: plan.errors,
            ..Default::default()
        });
    }
    let mut report = apply(db, station_id, &plan, &path.display().to_string(), progress).await?;
    report.rows = rows.len();
    Ok(report)
}

/// Prints a report for the command line; an error when rows were invalid.
pub fn print_report(report: &ChangesReport, dry_run: bool) -> anyhow::Result<()> {
    super::print_outcome(
        &report.errors,
        report.rows,
        &report.by_year,
        dry_run,
        |years| {
            format!(
            "imported {} amendments and {} terminations, booked in the ledger on the dates they \
             were decided ({years})",
            report.amendments, report.terminations
        )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::content::tests::sample;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn today() -> NaiveDate {
        "2026-11-23".parse().unwrap()
    }

    fn amendment() -> Fields {
        fields(&[
            ("registration_number", "2019110108000123"),
            ("kind", "合同变更"),
            ("decided_on", "2020-03-02"),
            ("contract_amount", "1,500,000"),
            ("buyer_region", "440305"),
            ("sub_kind", "consulting"),
        ])
    }

    #[test]
    fn an_amendment_parses_with_labels_and_yuan() {
        let r = parse_row(2, &amendment(), today()).unwrap();
        assert_eq!(r.kind, AmendmentKind::Amendment);
        assert_eq!(r.decided_on, "2020-03-02".parse::<NaiveDate>().unwrap());
        assert_eq!(r.edits.contract_amount, Some(Fen(150_000_000)));
        assert_eq!(r.edits.buyer_region, RegionCode::parse("440305").ok());
        assert_eq!(r.edits.sub_kind, Some(ContractSubKind::Consulting));
        assert_eq!(r.edits.non_technical_costs, None);
        let t = parse_row(
            3,
            &fields(&[
                ("registration_number", "2019110108000123"),
                ("kind", "termination"),
                ("decided_on", "2021-01-05"),
                ("reason", "双方协商解除"),
            ]),
            today(),
        )
        .unwrap();
        assert_eq!(t.kind, AmendmentKind::Termination);
        assert_eq!(t.edits, Edits::default());
        assert_eq!(t.reason.as_deref(), Some("双方协商解除"));
    }

    /// The reason is long text with the API's hygiene: newlines kept, a NUL refused.
    #[test]
    fn the_reason_gets_the_api_hygiene() {
        let row = |reason: &str| {
            fields(&[
                ("registration_number", "2019110108000123"),
                ("kind", "termination"),
                ("decided_on", "2021-01-05"),
                ("reason", reason),
            ])
        };
        let t = parse_row(3, &row(" 双方协商\r\n解除 "), today()).unwrap();
        assert_eq!(t.reason.as_deref(), Some("双方协商\n解除"));
        let errs = parse_row(3, &row("双方\u{0}解除"), today()).unwrap_err();
        assert!(errs.iter().any(|e| e.field == "reason"), "{errs:?}");
    }

    #[test]
    fn row_errors_name_line_field_and_reason() {
        let mut f = amendment();
        f.insert("contract_amount".into(), "12.345".into());
        f.insert("decided_on".into(), "2027-01-01".into());
        f.insert("amount".into(), "5".into());
        f.insert("tech_field".into(), "alchemy".into());
        let errs = parse_row(9, &f, today()).unwrap_err();
        assert!(errs.iter().all(|e| e.line == 9));
        let named: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for want in ["amount", "contract_amount", "decided_on", "tech_field"] {
            assert!(named.contains(&want), "{want} in {named:?}");
        }
        // an amendment must change something, a termination nothing
        let bare = fields_of(&[("kind", "amendment")]);
        let e = parse_row(4, &bare, today()).unwrap_err();
        assert_eq!(e[0].field, "kind");
        let t = fields_of(&[("kind", "termination"), ("contract_amount", "1")]);
        let e = parse_row(5, &t, today()).unwrap_err();
        assert_eq!(
            (e[0].field.as_str(), e[0].line),
            ("contract_amount", 5),
            "{e:?}"
        );
        // the kind and the date are required
        let e = parse_row(6, &fields(&[("registration_number", "X-1")]), today()).unwrap_err();
        let named: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["kind", "decided_on"]);
    }

    fn fields_of(extra: &[(&str, &str)]) -> Fields {
        let mut f = fields(&[
            ("registration_number", "2019110108000123"),
            ("decided_on", "2020-03-02"),
        ]);
        for (k, v) in extra {
            f.insert(k.to_string(), v.to_string());
        }
        f
    }

    #[test]
    fn the_import_key_is_the_change_not_its_spelling() {
        let a = parse_row(2, &amendment(), today()).unwrap();
        // the same change in other words: code instead of label, other spelling of the amount,
        // a reason
        let mut f = amendment();
        f.insert("kind".into(), "amendment".into());
        f.insert("contract_amount".into(), "1500000.00".into());
        f.insert("sub_kind".into(), "技术咨询".into());
        f.insert("reason".into(), "追加".into());
        let b = parse_row(7, &f, today()).unwrap();
        assert_eq!(a.key, b.key);
        // another amount, date or contract is another change
        for (k, v) in [
            ("contract_amount", "1500000.01"),
            ("decided_on", "2020-03-03"),
            ("registration_number", "2019110108000124"),
        ] {
            let mut f = amendment();
            f.insert(k.into(), v.into());
            assert_ne!(parse_row(2, &f, today()).unwrap().key, a.key, "{k}");
        }
        let note = format!("{NOTE_PREFIX}{}", a.key);
        assert_eq!(key_of_note(&note), Some(a.key.as_str()));
        assert_eq!(key_of_note("演示数据"), None);
    }

    #[test]
    fn changes_hold_only_what_differs() {
        let c = sample();
        let r = c.sub_kind;
        let orgs = HashMap::new();
        let e = Edits {
            contract_amount: Some(c.contract_amount),
            tech_field: Some(TechField::Biomedicine),
            ..Default::default()
        };
        let ch = e.changes(&c, r, &orgs);
        assert_eq!(ch.contract_amount, None);
        assert_eq!(ch.tech_field, Some(TechField::Biomedicine));
        // naming only current values changes nothing
        let same = Edits {
            contract_amount: Some(c.contract_amount),
            buyer_region: Some(c.buyer.region),
            ..Default::default()
        };
        assert!(same.changes(&c, r, &orgs).changes_nothing(&c, r));
        // a new sub-kind moves the recognised one with it, unless that is named
        let e = Edits {
            sub_kind: Some(ContractSubKind::Consulting),
            ..Default::default()
        };
        let ch = e.changes(&c, r, &orgs);
        assert_eq!(ch.recognised_sub_kind, Some(ContractSubKind::Consulting));
        let e = Edits {
            sub_kind: Some(ContractSubKind::Consulting),
            recognised_sub_kind: Some(r),
            ..Default::default()
        };
        assert_eq!(e.changes(&c, r, &orgs).recognised_sub_kind, None);
    }

    #[test]
    fn a_new_buyer_keeps_what_is_not_named_and_links_by_credit_code() {
        let c = sample();
        let code = CreditCode::complete("91440300MA5F00001").unwrap();
        let mut orgs = HashMap::new();
        orgs.insert(code.to_string(), 77);
        let e = Edits {
            buyer_region: RegionCode::parse("440305").ok(),
            ..Default::default()
        };
        let b = e.changes(&c, c.sub_kind, &orgs).buyer.unwrap();
        assert_eq!(b.region.as_string(), "440305");
        assert_eq!(
            (b.name.as_str(), b.org_id),
            (c.buyer.name.as_str(), c.buyer.org_id)
        );
        let e = Edits {
            buyer_name: Some("南山智造有限公司".into()),
            buyer_credit_code: Some(code),
            ..Default::default()
        };
        let b = e.changes(&c, c.sub_kind, &orgs).buyer.unwrap();
        assert_eq!(b.org_id, Some(77));
        assert_eq!(b.entity_kind, c.buyer.entity_kind);
    }
}
