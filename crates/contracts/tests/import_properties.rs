//! Property tests of the historical contract import (`ttx import contracts`): the CSV reader gives
//! back what was written, a valid row is always accepted with its amounts and dates exact, any
//! row or file is an error at worst (never a panic), and an accepted row's text is clean.
use chrono::NaiveDate;
use proptest::prelude::*;
use std::collections::HashMap;
use ttx_contracts::import::{parse_row, read_rows};
use ttx_core::text::{clean, TextKind};
use ttx_core::{ContractSubKind, CreditCode, EntityKind, Fen, Labelled, RegionCode, TechField};

type Fields = HashMap<String, String>;

/// The business date the rows are checked against.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
}

const COLUMNS: &[&str] = &[
    "registration_number",
    "registered_on",
    "title",
    "sub_kind",
    "recognised_sub_kind",
    "contract_amount",
    "non_technical_costs",
    "signed_on",
    "term_start",
    "term_end",
    "seller_name",
    "seller_credit_code",
    "seller_entity_kind",
    "seller_region",
    "buyer_name",
    "buyer_credit_code",
    "buyer_entity_kind",
    "buyer_region",
    "tech_field",
    "ip_kind",
    "programme_source",
];

fn region() -> impl Strategy<Value = RegionCode> {
    proptest::sample::select(RegionCode::all().collect::<Vec<_>>())
}

fn credit_code() -> impl Strategy<Value = CreditCode> {
    "[0-9A-HJ-NP-RTUW-Y]{17}".prop_map(|p| CreditCode::complete(&p).unwrap())
}

/// A label written as its code or its Chinese label.
fn label<T: Labelled + std::fmt::Debug>() -> impl Strategy<Value = (T, String)> {
    (proptest::sample::select(T::ALL.to_vec()), any::<bool>())
        .prop_map(|(v, zh)| (v, if zh { v.zh() } else { v.code() }.to_string()))
}

/// 元 with two decimals written with or without thousands separators.
fn yuan_text(fen: i64, separators: bool) -> String {
    if separators {
        ttx_core::capitals::yuan_with_separators(Fen(fen))
    } else {
        Fen(fen).to_yuan_string()
    }
}

/// A valid row and what it must parse to: (fields, amount, costs, signed_on, registered_on).
#[derive(Debug, Clone)]
struct ValidRow {
    fields: Fields,
    amount: i64,
    costs: i64,
    signed_on: NaiveDate,
    registered_on: NaiveDate,
    title: String,
}

fn valid_row() -> impl Strategy<Value = ValidRow> {
    (
        (
            "[A-Z0-9][A-Z0-9/-]{0,31}",
            0i64..9000,
            0i64..365,
            "[\u{4e00}-\u{9fa5}]{2,60}",
            label::<ContractSubKind>(),
            1i64..1_000_000_000_000,
            0u32..=100,
            any::<bool>(),
        ),
        (
            "[\u{4e00}-\u{9fa5}]{2,30}",
            credit_code(),
            proptest::sample::select(vec![
                EntityKind::Enterprise,
                EntityKind::University,
                EntityKind::ResearchInstitute,
                EntityKind::Hospital,
                EntityKind::Other,
            ]),
            region(),
            "[\u{4e00}-\u{9fa5}]{2,30}",
            region(),
            label::<TechField>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (number, signed_days, reg_after, title, (_, sub_kind), amount, costs_pct, seps),
                (
                    seller,
                    seller_code,
                    seller_kind,
                    seller_region,
                    buyer,
                    buyer_region,
                    (_, tech),
                    zh,
                ),
            )| {
                let signed_on = NaiveDate::from_ymd_opt(2001, 1, 1).unwrap()
                    + chrono::Days::new(signed_days as u64);
                let registered_on = (signed_on + chrono::Days::new(reg_after as u64)).min(today());
                let costs = amount / 100 * i64::from(costs_pct);
                let kind = if zh {
                    seller_kind.zh()
                } else {
                    seller_kind.code()
                };
                let fields: Fields = [
                    ("registration_number", number),
                    ("registered_on", registered_on.to_string()),
                    ("title", title.clone()),
                    ("sub_kind", sub_kind),
                    ("contract_amount", yuan_text(amount, seps)),
                    ("non_technical_costs", yuan_text(costs, !seps)),
                    ("signed_on", signed_on.to_string()),
                    ("seller_name", seller),
                    ("seller_credit_code", seller_code.to_string()),
                    ("seller_entity_kind", kind.to_string()),
                    ("seller_region", seller_region.as_string()),
                    ("buyer_name", buyer),
                    ("buyer_entity_kind", "individual".to_string()),
                    ("buyer_region", buyer_region.as_string()),
                    ("tech_field", tech),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
                ValidRow {
                    fields,
                    amount,
                    costs,
                    signed_on,
                    registered_on,
                    title,
                }
            },
        )
}

/// Cell text with the characters CSV must quote, plus CJK and surrounding space.
fn cell() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            3 => "[a-zA-Z0-9 ]{0,5}",
            2 => "[\u{4e00}-\u{4fff}]{0,3}",
            1 => proptest::sample::select(vec![",", "\"", "\n", "\r\n", ";", "'", "\"\"", "，"])
                .prop_map(str::to_string),
        ],
        0..6,
    )
    .prop_map(|v| v.concat())
}

fn write_csv(dir: &std::path::Path, header: &[&str], rows: &[Vec<String>]) -> std::path::PathBuf {
    let path = dir.join("rows.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    path
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A valid row is accepted, with the amounts exact to the fen and the dates as written.
    #[test]
    fn valid_rows_are_accepted(r in valid_row()) {
        let parsed = parse_row(2, &r.fields, today());
        prop_assert!(parsed.is_ok(), "{:?} refused: {:?}", r.fields, parsed.err());
        let reg = parsed.unwrap().registered;
        prop_assert_eq!(reg.content.contract_amount, Fen(r.amount));
        prop_assert_eq!(reg.content.non_technical_costs, Fen(r.costs));
        prop_assert_eq!(reg.content.signed_on, r.signed_on);
        prop_assert_eq!(reg.registered_on, r.registered_on);
        prop_assert_eq!(&reg.content.title, &r.title);
        prop_assert!(reg.imported);
    }

    /// A valid row written to a CSV file and read back is accepted the same way.
    #[test]
    fn valid_rows_survive_a_csv_file(rows in proptest::collection::vec(valid_row(), 1..5)) {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Vec<String>> = rows
            .iter()
            .map(|r| COLUMNS.iter().map(|c| r.fields.get(*c).cloned().unwrap_or_default()).collect())
            .collect();
        let path = write_csv(dir.path(), COLUMNS, &records);
        let read = read_rows(&path).unwrap();
        prop_assert_eq!(read.len(), rows.len());
        for ((line, fields), r) in read.iter().zip(&rows) {
            prop_assert_eq!(fields, &r.fields);
            prop_assert!(parse_row(*line, fields, today()).is_ok());
        }
    }

    /// Any cells, quoted as CSV needs, read back as written (trimmed; empty cells left out).
    #[test]
    fn csv_cells_round_trip(rows in proptest::collection::vec(proptest::collection::vec(cell(), 3), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let header = ["title", "seller_name", "programme_source"];
        let path = write_csv(dir.path(), &header, &rows);
        let read = read_rows(&path).unwrap();
        prop_assert_eq!(read.len(), rows.len());
        for ((_, fields), row) in read.iter().zip(&rows) {
            let expected: Fields = header
                .iter()
                .zip(row)
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(h, v)| (h.to_string(), v.trim().to_string()))
                .collect();
            prop_assert_eq!(fields, &expected);
        }
    }

    /// Any fields at all: a list of row errors at worst, never a panic; an accepted row's text
    /// is clean (no control characters, no bidi overrides, NFC).
    #[test]
    fn any_row_is_an_error_at_worst(
        base in valid_row(),
        changes in proptest::collection::vec((proptest::sample::select(COLUMNS.to_vec()), "\\PC{0,12}|[\u{0}-\u{1f}\u{202e}a-z]{0,4}"), 0..4)
    ) {
        let mut f = base.fields.clone();
        for (k, v) in changes {
            f.insert(k.to_string(), v);
        }
        match parse_row(7, &f, today()) {
            Ok(p) => {
                let c = &p.registered.content;
                let mut texts = vec![&c.title, &c.seller.name, &c.buyer.name];
                texts.extend(c.programme_source.as_ref());
                for t in texts {
                    let cleaned = clean(t, TextKind::Line);
                    prop_assert_eq!(cleaned.as_ref(), Ok(t), "unclean text accepted: {:?}", t);
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                prop_assert!(errors.iter().all(|e| e.line == 7));
            }
        }
    }

    /// Text columns carrying a control character (a NUL, which PostgreSQL cannot store) or a
    /// bidi override are refused with a row error naming the column, like the API does.
    #[test]
    fn unclean_text_is_refused(
        base in valid_row(),
        column in proptest::sample::select(vec!["title", "seller_name", "buyer_name", "programme_source"]),
        before in "[\u{4e00}-\u{9fa5}]{1,5}",
        bad in proptest::sample::select(vec!['\u{0}', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\n', '\u{202e}', '\u{2066}']),
        after in "[\u{4e00}-\u{9fa5}]{1,5}",
    ) {
        let mut f = base.fields.clone();
        f.insert(column.to_string(), format!("{before}{bad}{after}"));
        let r = parse_row(3, &f, today());
        prop_assert!(r.is_err(), "{:?} accepted in {}", bad, column);
        let errors = r.unwrap_err();
        prop_assert!(errors.iter().any(|e| e.field == column), "{:?}", errors);
    }

    /// Dates are `YYYY-MM-DD`: an impossible or differently written date is a row error naming
    /// its column, never a panic or a guess.
    #[test]
    fn bad_dates_are_row_errors(
        base in valid_row(),
        column in proptest::sample::select(vec!["registered_on", "signed_on", "term_start", "term_end"]),
        bad in proptest::sample::select(vec![
            "2023-02-29", "2024-02-30", "2021-04-31", "2021-13-01", "2021-00-10", "2021-01-00",
            "20210110", "2021/01/10", "10.01.2021", "2021-01-10T00:00:00", "yesterday", "二〇二一年一月十日",
        ]),
    ) {
        let mut f = base.fields.clone();
        f.insert(column.to_string(), bad.to_string());
        let errors = parse_row(3, &f, today()).unwrap_err();
        prop_assert!(errors.iter().any(|e| e.field == column), "{:?}", errors);
    }

    /// Any file content, as CSV or JSON Lines: rows or an error, never a panic.
    #[test]
    fn any_file_is_read_or_refused(text in "\\PC{0,200}|[,\"\n a-z{}:0-9]{0,80}") {
        let dir = tempfile::tempdir().unwrap();
        for name in ["rows.csv", "rows.jsonl"] {
            let path = dir.path().join(name);
            std::fs::write(&path, &text).unwrap();
            if let Ok(rows) = read_rows(&path) {
                for (line, f) in rows {
                    let _ = parse_row(line, &f, today());
                }
            }
        }
    }
}
