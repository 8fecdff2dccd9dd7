//! Exports a bureau can file: CSV and XLSX laid out like the official statistical tables: a
//! title with the period, region and side, the unit, Chinese headers, the total (合计) first,
//! then the rows, and a note on suppressed cells.
use crate::domain::{Period, Unit};
use crate::report::{region_label, Detail, Figures, Series, TurnoverReport};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use ttx_web::ApiError;

/// What a report is answered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

impl Format {
    /// The `format` parameter, else the `Accept` header, else JSON.
    pub fn negotiate(param: Option<Format>, headers: &HeaderMap) -> Format {
        if let Some(f) = param {
            return f;
        }
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if accept.contains("text/csv") {
            Format::Csv
        } else if accept.contains("spreadsheetml") {
            Format::Xlsx
        } else {
            Format::Json
        }
    }
}

/// One cell of a table.
#[derive(Clone, Debug, PartialEq)]
enum Cell {
    Text(String),
    /// Count (项).
    Int(i64),
    /// Fen, shown in the table's unit.
    Money(i64),
    /// A fraction, shown as a percentage.
    Percent(f64),
    Empty,
}

/// A table as the official statistical tables lay it out.
#[derive(Clone, Debug)]
struct Table {
    title: String,
    unit: Unit,
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
    notes: Vec<String>,
    file_stem: String,
}

fn period_zh(p: &Period) -> String {
    format!(
        "{}至{}",
        p.from.format("%Y年%-m月%-d日"),
        p.to.format("%Y年%-m月%-d日")
    )
}

fn place_zh(region: Option<&str>, station: Option<i64>) -> String {
    let mut s = match region {
        None => "全国".to_string(),
        Some(r) => region_label(&format!("{r:0<6}")),
    };
    if let Some(id) = station {
        s.push_str(&format!("（登记机构 {id} 登记）"));
    }
    s
}

fn suppression_note(n: usize, detail: Detail) -> Option<String> {
    (detail == Detail::Public && n > 0).then(|| {
        format!(
            "注：为保护交易信息，合同数少于3项的{n}个单元（及必要的补充单元）未单列，已计入合计。"
        )
    })
}

fn figures_cells(f: Figures) -> Vec<Cell> {
    vec![
        Cell::Int(f.count),
        Cell::Money(f.contract_amount),
        Cell::Money(f.technology_amount),
    ]
}

fn opt_percent(v: Option<f64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Percent)
}

fn turnover_table(r: &TurnoverReport, unit: Unit) -> Table {
    let u = unit.zh();
    let headers = vec![
        "序号".to_string(),
        r.by.zh().to_string(),
        "合同数（项）".into(),
        format!("合同成交额（{u}）"),
        format!("技术交易额（{u}）"),
        "占比（%）".into(),
        "上年同期合同数（项）".into(),
        format!("上年同期合同成交额（{u}）"),
        "合同数同比增长（%）".into(),
        "成交额同比增长（%）".into(),
        "位次".into(),
    ];
    let mut rows = vec![];
    let total = Figures {
        count: r.total.count,
        contract_amount: r.total.contract_amount,
        technology_amount: r.total.technology_amount,
    };
    let mut first = vec![Cell::Empty, Cell::Text("合计".into())];
    first.extend(figures_cells(total));
    first.push(Cell::Percent(if total.contract_amount == 0 {
        0.0
    } else {
        1.0
    }));
    first.push(Cell::Int(r.total.previous.count));
    first.push(Cell::Money(r.total.previous.contract_amount));
    first.push(opt_percent(r.total.yoy.count));
    first.push(opt_percent(r.total.yoy.contract_amount));
    first.push(Cell::Empty);
    rows.push(first);
    for (i, row) in r.rows.iter().enumerate() {
        let mut cells = vec![Cell::Int(i as i64 + 1), Cell::Text(row.label_zh.clone())];
        cells.extend(figures_cells(Figures {
            count: row.count,
            contract_amount: row.contract_amount,
            technology_amount: row.technology_amount,
        }));
        cells.push(opt_percent(row.share));
        match (&row.previous, &row.yoy) {
            (Some(p), Some(y)) => {
                cells.push(Cell::Int(p.count));
                cells.push(Cell::Money(p.contract_amount));
                cells.push(opt_percent(y.count));
                cells.push(opt_percent(y.contract_amount));
            }
            _ => cells.extend([Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty]),
        }
        cells.push(Cell::Int(row.rank as i64));
        rows.push(cells);
    }
    let mut notes = vec![format!(
        "上年同期：{}。数据来源：技术合同登记台账（按登记、变更、终止日期记账）。",
        period_zh(&r.previous)
    )];
    notes.extend(suppression_note(r.suppressed, r.detail));
    Table {
        title: format!(
            "{} {} 技术合同成交额（{}，按{}）",
            period_zh(&r.period),
            place_zh(r.region.as_deref(), r.station),
            r.side.zh(),
            r.by.zh()
        ),
        unit,
        headers,
        rows,
        notes,
        file_stem: format!(
            "turnover_{}_{}_{}",
            r.period.from.format("%Y%m%d"),
            r.period.to.format("%Y%m%d"),
            r.region.as_deref().unwrap_or("000000")
        ),
    }
}

fn series_table(s: &Series, unit: Unit) -> Table {
    let u = unit.zh();
    let headers = vec![
        "期间".to_string(),
        "合同数（项）".into(),
        format!("合同成交额（{u}）"),
        format!("技术交易额（{u}）"),
        "上年同期合同数（项）".into(),
        format!("上年同期合同成交额（{u}）"),
        "成交额同比增长（%）".into(),
    ];
    let rows = s
        .points
        .iter()
        .map(|p| {
            let mut cells = vec![Cell::Text(period_zh(&p.period))];
            match (p.count, p.contract_amount, p.technology_amount) {
                (Some(c), Some(a), Some(t)) => {
                    cells.extend([Cell::Int(c), Cell::Money(a), Cell::Money(t)])
                }
                _ => cells.extend([
                    Cell::Text("—".into()),
                    Cell::Text("—".into()),
                    Cell::Text("—".into()),
                ]),
            }
            match (&p.previous, &p.yoy) {
                (Some(pr), Some(y)) => cells.extend([
                    Cell::Int(pr.count),
                    Cell::Money(pr.contract_amount),
                    opt_percent(y.contract_amount),
                ]),
                _ => cells.extend([Cell::Empty, Cell::Empty, Cell::Empty]),
            }
            cells
        })
        .collect();
    let interval = match s.interval {
        crate::domain::Interval::Month => "月度",
        crate::domain::Interval::Quarter => "季度",
        crate::domain::Interval::Year => "年度",
    };
    Table {
        title: format!(
            "{} {} 技术合同成交额{}序列（{}）",
            period_zh(&s.period),
            place_zh(s.region.as_deref(), s.station),
            interval,
            s.side.zh()
        ),
        unit,
        headers,
        rows,
        notes: suppression_note(s.suppressed, s.detail)
            .into_iter()
            .collect(),
        file_stem: format!(
            "series_{}_{}_{}",
            s.period.from.format("%Y%m%d"),
            s.period.to.format("%Y%m%d"),
            s.region.as_deref().unwrap_or("000000")
        ),
    }
}

/// A turnover report as a file.
pub fn turnover(r: &TurnoverReport, f: Format, unit: Unit) -> Result<Response, ApiError> {
    respond(&turnover_table(r, unit), f)
}

/// A series as a file.
pub fn series(s: &Series, f: Format, unit: Unit) -> Result<Response, ApiError> {
    respond(&series_table(s, unit), f)
}

fn respond(t: &Table, f: Format) -> Result<Response, ApiError> {
    let (bytes, ctype, ext) = match f {
        Format::Csv => (to_csv(t)?, CSV, "csv"),
        Format::Xlsx => (to_xlsx(t)?, XLSX, "xlsx"),
        Format::Json => unreachable!("JSON is answered by the route"),
    };
    let disposition = format!("attachment; filename=\"{}.{ext}\"", t.file_stem);
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

fn percent_text(v: f64) -> String {
    format!("{:.2}", v * 100.0)
}

fn to_csv(t: &Table) -> Result<Vec<u8>, ApiError> {
    // A byte-order mark, so spreadsheet programs read the Chinese text as UTF-8.
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(&mut out);
        let io = |e: csv::Error| ApiError::internal(e);
        w.write_record([t.title.as_str()]).map_err(io)?;
        w.write_record([format!("单位：项、{}", t.unit.zh())])
            .map_err(io)?;
        w.write_record(&t.headers).map_err(io)?;
        for row in &t.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Cell::Text(s) => s.clone(),
                    Cell::Int(n) => n.to_string(),
                    Cell::Money(fen) => t.unit.format(*fen),
                    Cell::Percent(v) => percent_text(*v),
                    Cell::Empty => String::new(),
                })
                .collect();
            w.write_record(&cells).map_err(io)?;
        }
        for n in &t.notes {
            w.write_record([n.as_str()]).map_err(io)?;
        }
        w.flush().map_err(ApiError::internal)?;
    }
    Ok(out)
}

fn to_xlsx(t: &Table) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format as XFormat, FormatAlign, FormatBorder, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| ApiError::internal(e);
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("技术合同成交额").map_err(err)?;
    let cols = t.headers.len() as u16;
    let title = XFormat::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center);
    let head = XFormat::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color("#DDE6F0");
    let cell = XFormat::new().set_border(FormatBorder::Thin);
    let money_fmt = format!("#,##0.{}", "0".repeat(t.unit.scale() as usize));
    let money = XFormat::new()
        .set_border(FormatBorder::Thin)
        .set_num_format(&money_fmt);
    let int = XFormat::new()
        .set_border(FormatBorder::Thin)
        .set_num_format("#,##0");
    let pct = XFormat::new()
        .set_border(FormatBorder::Thin)
        .set_num_format("0.00%");
    ws.merge_range(0, 0, 0, cols.saturating_sub(1), &t.title, &title)
        .map_err(err)?;
    ws.write_string(1, 0, format!("单位：项、{}", t.unit.zh()))
        .map_err(err)?;
    for (c, h) in t.headers.iter().enumerate() {
        ws.write_string_with_format(2, c as u16, h, &head)
            .map_err(err)?;
        ws.set_column_width(c as u16, if c == 1 { 24 } else { 14 })
            .map_err(err)?;
    }
    ws.set_row_height(2, 32).map_err(err)?;
    for (r, row) in t.rows.iter().enumerate() {
        let r = (r + 3) as u32;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Cell::Text(s) => ws.write_string_with_format(r, c, s, &cell),
                Cell::Int(n) => ws.write_number_with_format(r, c, *n as f64, &int),
                Cell::Money(fen) => ws.write_number_with_format(r, c, t.unit.value(*fen), &money),
                Cell::Percent(v) => ws.write_number_with_format(r, c, *v, &pct),
                Cell::Empty => ws.write_blank(r, c, &cell),
            }
            .map_err(err)?;
        }
    }
    for (r, n) in ((t.rows.len() + 3) as u32..).zip(&t.notes) {
        ws.write_string(r, 0, n).map_err(err)?;
    }
    ws.set_freeze_panes(3, 2).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{By, Growth, Side};
    use crate::report::{Row, Total};

    fn report() -> TurnoverReport {
        let d = |s: &str| s.parse().unwrap();
        TurnoverReport {
            period: Period {
                from: d("2025-01-01"),
                to: d("2025-12-31"),
            },
            previous: Period {
                from: d("2024-01-01"),
                to: d("2024-12-31"),
            },
            side: Side::Output,
            by: By::Region,
            level: None,
            region: Some("32".into()),
            station: None,
            detail: Detail::Public,
            total: Total {
                count: 7,
                contract_amount: 123_456_789,
                technology_amount: 100_000_000,
                previous: Figures::default(),
                yoy: Growth::default(),
            },
            rows: vec![Row {
                key: "320500".into(),
                label_zh: "江苏省 苏州市".into(),
                count: 7,
                contract_amount: 123_456_789,
                technology_amount: 100_000_000,
                share: Some(1.0),
                previous: None,
                yoy: None,
                rank: 1,
            }],
            suppressed: 2,
        }
    }

    #[test]
    fn csv_has_title_unit_headers_total_and_note() {
        let t = turnover_table(&report(), Unit::Wan);
        let bytes = to_csv(&t).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with('\u{feff}'));
        assert!(lines[0]
            .contains("2025年1月1日至2025年12月31日 江苏省 技术合同成交额（技术输出，按地区）"));
        assert_eq!(lines[1], "单位：项、万元");
        assert!(lines[2].starts_with("序号,地区,合同数（项）,合同成交额（万元）"));
        assert!(lines[3].starts_with(",合计,7,123.456789,100.000000,100.00"));
        assert!(lines[4].starts_with("1,江苏省 苏州市,7,123.456789"));
        assert!(text.contains("未单列"));
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let t = turnover_table(&report(), Unit::Yi);
        let bytes = to_xlsx(&t).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        assert!(bytes.len() > 1000);
    }

    #[test]
    fn negotiation() {
        let mut h = HeaderMap::new();
        assert_eq!(Format::negotiate(None, &h), Format::Json);
        h.insert(header::ACCEPT, HeaderValue::from_static("text/csv"));
        assert_eq!(Format::negotiate(None, &h), Format::Csv);
        assert_eq!(Format::negotiate(Some(Format::Xlsx), &h), Format::Xlsx);
    }
}
