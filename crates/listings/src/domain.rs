//! The rules of technology listings, as pure functions and types (no I/O).
use crate::patent::{PatentNumber, PatentType};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use ttx_core::{Fen, FieldErrors, IpKind, OrgKind, RegionCode, TechField, TransferMode, Trl};

pub const TITLE_MIN: usize = 4;
pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 1_000;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const MAX_KEYWORDS: usize = 10;
pub const KEYWORD_MAX: usize = 50;
pub const MAX_IP_ITEMS: usize = 30;
pub const IP_NUMBER_MAX: usize = 64;
pub const IP_TITLE_MAX: usize = 200;
pub const REGISTRATION_NO_MAX: usize = 64;
pub const EXTERNAL_ID_MAX: usize = 128;
/// A listing may be posted for at most this many days ahead.
pub const MAX_EXPIRY_DAYS: i64 = 5 * 366;

ttx_core::vocab_enum! {
    /// Lifecycle of a listing: draft → published → withdrawn / expired / transacted.
    ListingStatus {
        Draft = ("draft", "草稿", "Draft"),
        Published = ("published", "已发布", "Published"),
        Withdrawn = ("withdrawn", "已撤回", "Withdrawn"),
        Expired = ("expired", "已过期", "Expired"),
        Transacted = ("transacted", "已成交", "Transacted"),
    }
}

ttx_core::vocab_enum! {
    /// Legal status of an intellectual-property item.
    IpStatus {
        Applied = ("applied", "申请中", "Applied for"),
        Granted = ("granted", "已授权", "Granted"),
        Registered = ("registered", "已登记", "Registered"),
        Lapsed = ("lapsed", "已失效", "Lapsed"),
    }
}

/// Something done to a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Publish,
    Withdraw,
    MarkTransacted,
    /// The expiry job or a read after the expiry date.
    Expire,
    Edit,
    Delete,
}

impl Action {
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Withdraw => "withdraw",
            Action::MarkTransacted => "transacted",
            Action::Expire => "expire",
            Action::Edit => "edit",
            Action::Delete => "delete",
        }
    }
}

/// Why an action is not allowed in a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransitionError {
    pub from: ListingStatus,
    pub action: Action,
}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a {} listing cannot be {}",
            self.from.as_str(),
            match self.action {
                Action::Publish => "published",
                Action::Withdraw => "withdrawn",
                Action::MarkTransacted => "marked transacted",
                Action::Expire => "expired",
                Action::Edit => "edited",
                Action::Delete => "deleted (only drafts can be)",
            }
        )
    }
}

/// The state after `action`, or why it is not allowed. Editing keeps the state.
pub fn transition(from: ListingStatus, action: Action) -> Result<ListingStatus, TransitionError> {
    use ListingStatus::*;
    let to = match (from, action) {
        (Draft | Withdrawn | Expired, Action::Publish) => Published,
        (Published, Action::Withdraw) => Withdrawn,
        (Published, Action::MarkTransacted) => Transacted,
        (Published, Action::Expire) => Expired,
        (Draft | Published | Withdrawn | Expired, Action::Edit) => from,
        (Draft, Action::Delete) => Draft,
        _ => return Err(TransitionError { from, action }),
    };
    Ok(to)
}

/// Longest withdrawal reason, in characters.
pub const WITHDRAWAL_REASON_MAX: usize = 500;

/// Checks a withdrawal reason: trimmed, at most [`WITHDRAWAL_REASON_MAX`] characters, no
/// control characters; blank is no reason. An operator taking a listing down (moderation)
/// must say why, since the owner reads it; an owner withdrawing its own listing may leave it
/// out. Errors are reported under `reason`.
pub fn withdrawal_reason(
    errs: &mut FieldErrors,
    reason: Option<&str>,
    moderation: bool,
) -> Option<String> {
    let r = reason.map(str::trim).filter(|r| !r.is_empty());
    match r {
        None if moderation => {
            errs.add(
                "reason",
                "required",
                "an operator withdrawing someone's listing must give the reason the owner will read",
            );
            None
        }
        None => None,
        Some(r) if r.chars().count() > WITHDRAWAL_REASON_MAX => {
            errs.add(
                "reason",
                "too_long",
                format!("at most {WITHDRAWAL_REASON_MAX} characters"),
            );
            None
        }
        Some(r) if r.chars().any(|c| c.is_control() && c != '\n') => {
            errs.add(
                "reason",
                "invalid_text",
                "the reason contains control characters",
            );
            None
        }
        Some(r) => Some(r.to_string()),
    }
}

ttx_core::vocab_enum! {
    /// How widely a technology licence is granted (技术许可的方式).
    LicenceScope {
        Exclusive = ("exclusive", "独占许可", "Exclusive licence"),
        Sole = ("sole", "排他许可", "Sole licence"),
        NonExclusive = ("non_exclusive", "普通许可", "Non-exclusive licence"),
    }
}

/// A deal recorded on a listing (成交): by which transfer mode, and for a licence, its scope.
/// `mode: None` is a deal of unstated kind (the listing closes, as before deals had a kind).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deal {
    pub mode: Option<TransferMode>,
    pub scope: Option<LicenceScope>,
}

/// What recording a deal does to the listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DealOutcome {
    /// The listing is transacted (final): a transfer, an exclusive or sole licence, equity,
    /// or a deal of unstated kind.
    Closes,
    /// A non-exclusive licence (普通许可): recorded, and the listing stays published for
    /// further licensees.
    StaysOpen,
}

/// Why a deal cannot be recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DealRefusal {
    /// The listing's state does not allow a deal (only a published listing takes one).
    State(TransitionError),
    /// The listing does not offer this transfer mode (field `mode`).
    ModeNotOffered(TransferMode),
    /// A licence deal must say its scope (field `licence_scope`).
    ScopeRequired,
    /// A scope was given for a deal that is not a licence (field `licence_scope`).
    ScopeWithoutLicence,
    /// An exclusive or sole licence after non-exclusive licences were granted: those
    /// licensees keep their rights, so the technology can no longer be licensed exclusively.
    ExclusiveAfterNonExclusive { granted: i32 },
}

/// The rule for recording a deal on a listing in `status` offering `modes`, with
/// `licences_granted` non-exclusive licences already recorded. A non-exclusive licence leaves
/// the listing open for further licensees; every other deal closes it for good.
pub fn record_deal(
    status: ListingStatus,
    modes: &[TransferMode],
    licences_granted: i32,
    deal: Deal,
) -> Result<DealOutcome, DealRefusal> {
    let closes_to = transition(status, Action::MarkTransacted).map_err(DealRefusal::State)?;
    debug_assert_eq!(closes_to, ListingStatus::Transacted);
    match (deal.mode, deal.scope) {
        (None, None) => Ok(DealOutcome::Closes),
        (None, Some(_)) | (Some(TransferMode::License), None) => Err(DealRefusal::ScopeRequired),
        (Some(m), _) if !modes.contains(&m) => Err(DealRefusal::ModeNotOffered(m)),
        (Some(TransferMode::License), Some(LicenceScope::NonExclusive)) => {
            Ok(DealOutcome::StaysOpen)
        }
        (Some(TransferMode::License), Some(_)) if licences_granted > 0 => {
            Err(DealRefusal::ExclusiveAfterNonExclusive {
                granted: licences_granted,
            })
        }
        (Some(TransferMode::License), Some(_)) => Ok(DealOutcome::Closes),
        (Some(_), Some(_)) => Err(DealRefusal::ScopeWithoutLicence),
        (Some(_), None) => Ok(DealOutcome::Closes),
    }
}

/// Expiry dates are Beijing dates: `today(now)` is [`ttx_core::clock::beijing_date`] (kept
/// under this name for crates that still call it; new code calls `ttx_core::clock`).
pub use ttx_core::clock::beijing_date as today;

/// A listing stays valid through its expiry date and expires the day after.
pub fn is_past_expiry(expires_on: Option<NaiveDate>, today: NaiveDate) -> bool {
    expires_on.is_some_and(|d| d < today)
}

/// The status a reader sees: a published listing past its expiry date is expired, even
/// before the expiry job has recorded it.
pub fn effective_status(
    stored: ListingStatus,
    expires_on: Option<NaiveDate>,
    today: NaiveDate,
) -> ListingStatus {
    if stored == ListingStatus::Published && is_past_expiry(expires_on, today) {
        ListingStatus::Expired
    } else {
        stored
    }
}

/// Organisations that may post listings: universities, research institutes, enterprises.
pub fn may_post(kind: OrgKind) -> bool {
    matches!(
        kind,
        OrgKind::University | OrgKind::ResearchInstitute | OrgKind::Enterprise
    )
}

/// Asking price, in fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Price {
    /// A fixed price.
    Fixed { amount: Fen },
    /// A price range, `min` ≤ `max`.
    Range { min: Fen, max: Fen },
    /// 面议: to be negotiated.
    Negotiable,
}

impl Price {
    pub fn kind_code(&self) -> &'static str {
        match self {
            Price::Fixed { .. } => "fixed",
            Price::Range { .. } => "range",
            Price::Negotiable => "negotiable",
        }
    }

    /// `(min, max)` as stored.
    pub fn bounds(&self) -> (Option<i64>, Option<i64>) {
        match self {
            Price::Fixed { amount } => (Some(amount.0), Some(amount.0)),
            Price::Range { min, max } => (Some(min.0), Some(max.0)),
            Price::Negotiable => (None, None),
        }
    }

    /// Rebuilds a price from its stored columns; unknown kinds read as negotiable.
    pub fn from_columns(kind: &str, min: Option<i64>, max: Option<i64>) -> Price {
        match (kind, min, max) {
            ("fixed", Some(a), _) | ("fixed", None, Some(a)) => Price::Fixed { amount: Fen(a) },
            ("range", Some(a), Some(b)) => Price::Range {
                min: Fen(a),
                max: Fen(b),
            },
            _ => Price::Negotiable,
        }
    }

    /// Checks amounts: non-negative, bounded, `min` ≤ `max`. Errors are reported under
    /// `{path}.amount`, `{path}.min`, `{path}.max`.
    pub fn validate(self, errs: &mut FieldErrors, path: &str) -> Option<Price> {
        let n = errs.0.len();
        let check = |errs: &mut FieldErrors, f: &str, v: Fen| {
            if let Err(e) = Fen::from_input_fen(v.0) {
                errs.add(&format!("{path}.{f}"), "invalid_amount", e.to_string());
            }
        };
        match self {
            Price::Fixed { amount } => check(errs, "amount", amount),
            Price::Range { min, max } => {
                check(errs, "min", min);
                check(errs, "max", max);
                if errs.0.len() == n && min > max {
                    errs.add(
                        &format!("{path}.min"),
                        "min_greater_than_max",
                        "the lower end of the price range is above the upper end",
                    );
                }
            }
            Price::Negotiable => {}
        }
        (errs.0.len() == n).then_some(self)
    }
}

/// One intellectual-property item of a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IpItem {
    pub kind: IpKind,
    /// Canonical number: `202310123456.7` or `CN115123456B` for patents, as given otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub status: IpStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

fn patent_type(kind: IpKind) -> Option<PatentType> {
    match kind {
        IpKind::InventionPatent => Some(PatentType::Invention),
        IpKind::UtilityModel => Some(PatentType::UtilityModel),
        IpKind::Design => Some(PatentType::Design),
        _ => None,
    }
}

/// Validates one IP item; errors under `{path}.number` / `{path}.title`.
pub fn validate_ip_item(
    errs: &mut FieldErrors,
    path: &str,
    kind: IpKind,
    number: Option<&str>,
    status: IpStatus,
    title: Option<&str>,
    current_year: u32,
) -> Option<IpItem> {
    let n = errs.0.len();
    let number_path = format!("{path}.number");
    let number = errs.opt_text(&number_path, number, IP_NUMBER_MAX);
    let title = errs.opt_text(&format!("{path}.title"), title, IP_TITLE_MAX);
    let number = match (patent_type(kind), number) {
        (Some(_), None) => {
            errs.add(&number_path, "required", "a patent needs its number");
            None
        }
        (Some(want), Some(raw)) => match PatentNumber::parse(&raw, current_year) {
            Ok(p) if p.kind() == want => Some(p.as_str().to_string()),
            Ok(p) => {
                errs.add(
                    &number_path,
                    "patent_kind_mismatch",
                    format!(
                        "{raw} is the number of a {}, not of a {}",
                        p.kind().zh(),
                        want.zh()
                    ),
                );
                None
            }
            Err(e) => {
                errs.add(&number_path, "invalid_patent_number", e.to_string());
                None
            }
        },
        (None, n) => n,
    };
    if kind == IpKind::Software {
        if let Some(num) = &number {
            if !is_software_registration(num) {
                errs.add(
                    &number_path,
                    "invalid_software_registration",
                    "a software copyright registration number looks like 2023SR0123456",
                );
            }
        }
    }
    if matches!(status, IpStatus::Granted) && kind == IpKind::TechnicalSecret {
        errs.add(
            &format!("{path}.status"),
            "invalid_choice",
            "a technical secret is not granted; use registered or omit the item",
        );
    }
    (errs.0.len() == n).then_some(IpItem {
        kind,
        number,
        status,
        title,
    })
}

/// `2023SR0123456`: a year, `SR`, five to eight digits.
pub fn is_software_registration(s: &str) -> bool {
    let s = s.to_ascii_uppercase();
    let b = s.as_bytes();
    b.len() >= 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && &b[4..6] == b"SR"
        && (5..=8).contains(&(b.len() - 6))
        && b[6..].iter().all(u8::is_ascii_digit)
}

/// Trims, drops empties and duplicates (case-insensitive), and checks count and length.
pub fn normalize_keywords(errs: &mut FieldErrors, path: &str, raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, k) in raw.iter().enumerate() {
        let k = match ttx_core::text::clean(k, ttx_core::text::TextKind::Line) {
            Ok(k) => k,
            Err(e) => {
                errs.add(&format!("{path}[{i}]"), e.code, e.message);
                continue;
            }
        };
        let k = k.as_str();
        if k.is_empty() {
            continue;
        }
        if k.chars().count() > KEYWORD_MAX {
            errs.add(
                &format!("{path}[{i}]"),
                "too_long",
                format!("a keyword has at most {KEYWORD_MAX} characters"),
            );
            continue;
        }
        if !out.iter().any(|o| o.to_lowercase() == k.to_lowercase()) {
            out.push(k.to_string());
        }
    }
    if out.len() > MAX_KEYWORDS {
        errs.add(path, "too_many", format!("at most {MAX_KEYWORDS} keywords"));
    }
    out
}

/// Transfer modes: at least one, each once, in the vocabulary's order.
pub fn normalize_modes(
    errs: &mut FieldErrors,
    path: &str,
    raw: &[TransferMode],
) -> Vec<TransferMode> {
    let mut v = raw.to_vec();
    v.sort();
    v.dedup();
    if v.is_empty() {
        errs.add(path, "required", "name at least one transfer mode");
    }
    v
}

/// 成果登记号: letters, digits and `-`, 4 to 64 characters.
pub fn validate_registration_no(
    errs: &mut FieldErrors,
    path: &str,
    raw: Option<&str>,
) -> Option<String> {
    let v = errs.opt_text(path, raw, REGISTRATION_NO_MAX)?;
    if v.chars().count() < 4 || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        errs.add(
            path,
            "invalid_registration_no",
            "a result registration number has 4 to 64 letters, digits or '-'",
        );
    }
    Some(v.to_ascii_uppercase())
}

/// An expiry date must lie after today and at most five years ahead.
pub fn validate_expiry(
    errs: &mut FieldErrors,
    path: &str,
    date: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let d = date?;
    if d < today {
        errs.add(path, "in_past", "the expiry date has passed");
    } else if (d - today).num_days() > MAX_EXPIRY_DAYS {
        errs.add(
            path,
            "too_far",
            "the expiry date is more than five years ahead",
        );
    }
    Some(d)
}

/// How to reach the owner (never public).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Contact {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.phone.is_none() && self.email.is_none()
    }

    /// Checks lengths, phone and e-mail; a contact needs a phone or an e-mail.
    pub fn validate(self, errs: &mut FieldErrors, path: &str) -> Contact {
        let name = errs.opt_text(&format!("{path}.name"), self.name.as_deref(), 100);
        let phone = errs.opt_text(&format!("{path}.phone"), self.phone.as_deref(), 32);
        let email = errs.opt_text(&format!("{path}.email"), self.email.as_deref(), 254);
        if let Some(p) = &phone {
            if !ttx_core::validate::is_phone(p) {
                errs.add(
                    &format!("{path}.phone"),
                    "invalid_phone",
                    "not a valid phone number",
                );
            }
        }
        if let Some(e) = &email {
            if !ttx_core::validate::is_email(e) {
                errs.add(
                    &format!("{path}.email"),
                    "invalid_email",
                    "not a valid e-mail address",
                );
            }
        }
        if phone.is_none() && email.is_none() && name.is_some() {
            errs.add(path, "required", "give a phone number or an e-mail address");
        }
        Contact { name, phone, email }
    }
}

/// A validated listing as its owner describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ListingData {
    pub title: String,
    pub summary: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub field: TechField,
    pub trl: Trl,
    pub ip_items: Vec<IpItem>,
    pub modes: Vec<TransferMode>,
    pub price: Price,
    /// `None`: the owner organisation's region.
    pub region: Option<RegionCode>,
    pub registration_no: Option<String>,
    pub dual_use: bool,
    pub expires_on: Option<NaiveDate>,
    pub contact: Contact,
}

/// A validated new listing.
#[derive(Clone, Debug, PartialEq)]
pub struct NewListing {
    pub data: ListingData,
    /// Publish at once instead of saving a draft; `None`: the caller's default (the API
    /// saves a draft, an import publishes unless told otherwise).
    pub publish: Option<bool>,
    /// The owner's own identifier (imports update by it).
    pub external_id: Option<String>,
}

/// Validated changes; `None` leaves a field unchanged, `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListingPatch {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub field: Option<TechField>,
    pub trl: Option<Trl>,
    pub ip_items: Option<Vec<IpItem>>,
    pub modes: Option<Vec<TransferMode>>,
    pub price: Option<Price>,
    pub region: Option<RegionCode>,
    pub registration_no: Option<Option<String>>,
    pub dual_use: Option<bool>,
    pub expires_on: Option<Option<NaiveDate>>,
    pub contact: Option<Contact>,
}

impl ListingPatch {
    pub fn is_empty(&self) -> bool {
        *self == ListingPatch::default()
    }
}

/// Year used to bound application numbers.
pub fn current_year(today: NaiveDate) -> u32 {
    today.year().max(2003) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use ListingStatus::*;

    #[test]
    fn lifecycle() {
        assert_eq!(transition(Draft, Action::Publish), Ok(Published));
        assert_eq!(transition(Published, Action::Withdraw), Ok(Withdrawn));
        assert_eq!(
            transition(Published, Action::MarkTransacted),
            Ok(Transacted)
        );
        assert_eq!(transition(Published, Action::Expire), Ok(Expired));
        assert_eq!(transition(Withdrawn, Action::Publish), Ok(Published));
        assert_eq!(transition(Expired, Action::Publish), Ok(Published));
        assert_eq!(transition(Draft, Action::Delete), Ok(Draft));
        for (s, a) in [
            (Draft, Action::Withdraw),
            (Draft, Action::MarkTransacted),
            (Withdrawn, Action::MarkTransacted),
            (Transacted, Action::Publish),
            (Transacted, Action::Edit),
            (Published, Action::Delete),
            (Published, Action::Publish),
            (Draft, Action::Expire),
        ] {
            let e = transition(s, a).unwrap_err();
            assert_eq!((e.from, e.action), (s, a));
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn expiry_is_a_beijing_date() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // 2026-03-01 17:00 UTC is already 2026-03-02 in Beijing.
        let now = DateTime::parse_from_rfc3339("2026-03-01T17:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(today(now), d("2026-03-02"));
        let t = d("2026-03-02");
        assert!(!is_past_expiry(Some(t), t));
        assert!(is_past_expiry(Some(d("2026-03-01")), t));
        assert!(!is_past_expiry(None, t));
        assert_eq!(
            effective_status(Published, Some(d("2026-03-01")), t),
            Expired
        );
        assert_eq!(effective_status(Draft, Some(d("2026-03-01")), t), Draft);
        assert_eq!(effective_status(Published, None, t), Published);
    }

    #[test]
    fn prices() {
        let mut e = FieldErrors::new();
        assert!(Price::Range {
            min: Fen(5),
            max: Fen(3)
        }
        .validate(&mut e, "price")
        .is_none());
        assert_eq!(e.0[0].field, "price.min");
        assert_eq!(e.0[0].code, "min_greater_than_max");
        let mut e = FieldErrors::new();
        assert!(Price::Fixed { amount: Fen(-1) }
            .validate(&mut e, "price")
            .is_none());
        assert_eq!(e.0[0].field, "price.amount");
        let mut e = FieldErrors::new();
        let p = Price::Range {
            min: Fen(1),
            max: Fen(1),
        }
        .validate(&mut e, "price")
        .unwrap();
        assert_eq!(p.bounds(), (Some(1), Some(1)));
        assert_eq!(Price::from_columns("range", Some(1), Some(1)), p);
        assert_eq!(
            Price::from_columns("negotiable", None, None),
            Price::Negotiable
        );
        assert_eq!(
            serde_json::to_value(Price::Fixed { amount: Fen(100) }).unwrap(),
            serde_json::json!({"kind": "fixed", "amount": 100})
        );
        let p: Price = serde_json::from_str(r#"{"kind":"negotiable"}"#).unwrap();
        assert_eq!(p, Price::Negotiable);
    }

    #[test]
    fn ip_items() {
        let mut e = FieldErrors::new();
        let num = PatentNumber::complete("202310123456").unwrap();
        let ok = validate_ip_item(
            &mut e,
            "ip_items[0]",
            IpKind::InventionPatent,
            Some(&format!("CN{num}")),
            IpStatus::Granted,
            None,
            2026,
        )
        .unwrap();
        assert_eq!(ok.number.as_deref(), Some(num.as_str()));
        assert!(e.is_empty());
        // A utility-model number filed as an invention patent.
        let um = PatentNumber::complete("202320123456").unwrap();
        assert!(validate_ip_item(
            &mut e,
            "ip_items[1]",
            IpKind::InventionPatent,
            Some(&um),
            IpStatus::Applied,
            None,
            2026
        )
        .is_none());
        assert_eq!(e.0[0].code, "patent_kind_mismatch");
        assert_eq!(e.0[0].field, "ip_items[1].number");
        let mut e = FieldErrors::new();
        assert!(validate_ip_item(
            &mut e,
            "ip",
            IpKind::InventionPatent,
            Some("CN202310123456.0"),
            IpStatus::Applied,
            None,
            2026
        )
        .is_none());
        assert_eq!(e.0[0].code, "invalid_patent_number");
        let mut e = FieldErrors::new();
        assert!(validate_ip_item(
            &mut e,
            "ip",
            IpKind::UtilityModel,
            None,
            IpStatus::Applied,
            None,
            2026
        )
        .is_none());
        assert_eq!(e.0[0].code, "required");
        let mut e = FieldErrors::new();
        assert!(validate_ip_item(
            &mut e,
            "ip",
            IpKind::Software,
            Some("2023SR0123456"),
            IpStatus::Registered,
            None,
            2026
        )
        .is_some());
        assert!(validate_ip_item(
            &mut e,
            "ip",
            IpKind::Software,
            Some("SR12"),
            IpStatus::Registered,
            None,
            2026
        )
        .is_none());
        assert!(validate_ip_item(
            &mut e,
            "ip",
            IpKind::TechnicalSecret,
            None,
            IpStatus::Registered,
            None,
            2026
        )
        .is_some());
    }

    #[test]
    fn keywords_and_modes() {
        let mut e = FieldErrors::new();
        let k = normalize_keywords(
            &mut e,
            "keywords",
            &[
                " 电池 ".into(),
                "".into(),
                "Battery".into(),
                "battery".into(),
            ],
        );
        assert_eq!(k, vec!["电池", "Battery"]);
        assert!(e.is_empty());
        let many: Vec<String> = (0..11).map(|i| format!("k{i}")).collect();
        normalize_keywords(&mut e, "keywords", &many);
        assert_eq!(e.0[0].code, "too_many");
        let mut e = FieldErrors::new();
        assert!(normalize_modes(&mut e, "transfer_modes", &[]).is_empty());
        assert_eq!(e.0[0].field, "transfer_modes");
        let mut e = FieldErrors::new();
        let m = normalize_modes(
            &mut e,
            "m",
            &[
                TransferMode::License,
                TransferMode::Transfer,
                TransferMode::License,
            ],
        );
        assert_eq!(m, vec![TransferMode::Transfer, TransferMode::License]);
    }

    #[test]
    fn contact_and_misc() {
        let mut e = FieldErrors::new();
        let c = Contact {
            name: Some("李老师".into()),
            phone: Some("12".into()),
            email: None,
        }
        .validate(&mut e, "contact");
        assert_eq!(c.name.as_deref(), Some("李老师"));
        assert_eq!(e.0[0].field, "contact.phone");
        let mut e = FieldErrors::new();
        Contact {
            name: Some("李老师".into()),
            ..Default::default()
        }
        .validate(&mut e, "contact");
        assert_eq!(e.0[0].field, "contact");
        let mut e = FieldErrors::new();
        assert_eq!(
            validate_registration_no(&mut e, "r", Some("9112024y0123")).as_deref(),
            Some("9112024Y0123")
        );
        validate_registration_no(&mut e, "r", Some("成果"));
        assert_eq!(e.0.len(), 1);
        assert!(may_post(OrgKind::University) && !may_post(OrgKind::Agency));
        assert!(is_software_registration("2023SR0123456"));
        assert!(!is_software_registration("2023XX0123456"));
    }

    #[test]
    fn a_non_exclusive_licence_leaves_the_listing_open() {
        use TransferMode::*;
        let modes = [Transfer, License];
        let lic = |scope| Deal {
            mode: Some(License),
            scope: Some(scope),
        };
        let open = ListingStatus::Published;
        assert_eq!(
            record_deal(open, &modes, 0, lic(LicenceScope::NonExclusive)),
            Ok(DealOutcome::StaysOpen)
        );
        // again and again: each further licensee is another deal
        assert_eq!(
            record_deal(open, &modes, 3, lic(LicenceScope::NonExclusive)),
            Ok(DealOutcome::StaysOpen)
        );
        // an exclusive or sole licence, a transfer, or a deal of unstated kind is final
        assert_eq!(
            record_deal(open, &modes, 0, lic(LicenceScope::Exclusive)),
            Ok(DealOutcome::Closes)
        );
        assert_eq!(
            record_deal(open, &modes, 0, lic(LicenceScope::Sole)),
            Ok(DealOutcome::Closes)
        );
        let transfer = Deal {
            mode: Some(Transfer),
            scope: None,
        };
        assert_eq!(
            record_deal(open, &modes, 2, transfer),
            Ok(DealOutcome::Closes)
        );
        assert_eq!(
            record_deal(open, &modes, 0, Deal::default()),
            Ok(DealOutcome::Closes)
        );
        // once transacted, nothing more
        assert!(matches!(
            record_deal(
                ListingStatus::Transacted,
                &modes,
                0,
                lic(LicenceScope::NonExclusive)
            ),
            Err(DealRefusal::State(_))
        ));
        assert!(matches!(
            record_deal(
                ListingStatus::Draft,
                &modes,
                0,
                lic(LicenceScope::NonExclusive)
            ),
            Err(DealRefusal::State(_))
        ));
    }

    #[test]
    fn deals_must_fit_the_listing() {
        use TransferMode::*;
        let open = ListingStatus::Published;
        let d = |mode, scope| Deal { mode, scope };
        assert_eq!(
            record_deal(
                open,
                &[Transfer],
                0,
                d(Some(License), Some(LicenceScope::NonExclusive))
            ),
            Err(DealRefusal::ModeNotOffered(License))
        );
        assert_eq!(
            record_deal(open, &[License], 0, d(Some(License), None)),
            Err(DealRefusal::ScopeRequired)
        );
        assert_eq!(
            record_deal(open, &[License], 0, d(None, Some(LicenceScope::Sole))),
            Err(DealRefusal::ScopeRequired)
        );
        assert_eq!(
            record_deal(
                open,
                &[Transfer],
                0,
                d(Some(Transfer), Some(LicenceScope::Sole))
            ),
            Err(DealRefusal::ScopeWithoutLicence)
        );
        assert_eq!(
            record_deal(
                open,
                &[License],
                2,
                d(Some(License), Some(LicenceScope::Exclusive))
            ),
            Err(DealRefusal::ExclusiveAfterNonExclusive { granted: 2 })
        );
    }

    #[test]
    fn withdrawal_reasons() {
        let mut e = FieldErrors::new();
        assert_eq!(
            withdrawal_reason(&mut e, Some("  已与企业签约  "), false).as_deref(),
            Some("已与企业签约")
        );
        assert_eq!(withdrawal_reason(&mut e, Some("   "), false), None);
        assert_eq!(withdrawal_reason(&mut e, None, false), None);
        assert!(e.0.is_empty());
        withdrawal_reason(&mut e, None, true);
        withdrawal_reason(&mut e, Some(&"长".repeat(WITHDRAWAL_REASON_MAX + 1)), false);
        withdrawal_reason(&mut e, Some("a\u{0}b"), false);
        let codes: Vec<(&str, &str)> =
            e.0.iter()
                .map(|f| (f.field.as_str(), f.code.as_str()))
                .collect();
        assert_eq!(
            codes,
            vec![
                ("reason", "required"),
                ("reason", "too_long"),
                ("reason", "invalid_text")
            ]
        );
        let mut e = FieldErrors::new();
        assert!(
            withdrawal_reason(&mut e, Some(&"长".repeat(WITHDRAWAL_REASON_MAX)), true).is_some()
        );
    }
}
