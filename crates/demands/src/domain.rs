//! The rules of technical needs (技术需求), as pure functions and types (no I/O).
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use ttx_core::{Fen, FieldErrors, OrgKind, RegionCode, TechField, TransferMode, Trl};

pub const TITLE_MIN: usize = 4;
pub const TITLE_MAX: usize = 200;
/// 主要问题 / 技术关键 / 预期目标: each up to this many characters.
pub const TEXT_MAX: usize = 10_000;
pub const MAX_KEYWORDS: usize = 5;
pub const KEYWORD_MAX: usize = 30;
/// A deadline may lie at most this many days ahead.
pub const MAX_DEADLINE_DAYS: i64 = 3 * 366;

ttx_core::vocab_enum! {
    /// Lifecycle of a need: draft → open → in negotiation → resolved / closed / expired.
    DemandStatus {
        Draft = ("draft", "草稿", "Draft"),
        Open = ("open", "征集中", "Open"),
        InNegotiation = ("in_negotiation", "洽谈中", "In negotiation"),
        Resolved = ("resolved", "已解决", "Resolved"),
        Closed = ("closed", "已关闭", "Closed"),
        Expired = ("expired", "已过期", "Expired"),
    }
}

ttx_core::vocab_enum! {
    /// Kind of research a need asks for (the R&D statistics' classification).
    ResearchType {
        Basic = ("basic", "基础研究", "Basic research"),
        Applied = ("applied", "应用研究", "Applied research"),
        ExperimentalDevelopment = ("experimental_development", "试验发展", "Experimental development"),
    }
}

/// Something done to a need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Publish,
    /// A partner was found (e.g. a challenge accepted a proposal).
    Negotiate,
    Resolve,
    Close,
    /// The expiry job or a read after the deadline.
    Expire,
    Edit,
}

impl Action {
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Publish => "publish",
            Action::Negotiate => "negotiate",
            Action::Resolve => "resolve",
            Action::Close => "close",
            Action::Expire => "expire",
            Action::Edit => "edit",
        }
    }
}

/// Why an action is not allowed in a state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransitionError {
    pub from: DemandStatus,
    pub action: Action,
}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a need that is {} cannot be {}",
            self.from.as_str(),
            match self.action {
                Action::Publish => "published",
                Action::Negotiate => "moved to negotiation",
                Action::Resolve => "marked resolved",
                Action::Close => "closed",
                Action::Expire => "expired",
                Action::Edit => "edited",
            }
        )
    }
}

/// The state after `action`, or why it is not allowed. Editing keeps the state; an expired
/// need may be edited (to move its deadline) and published again.
pub fn transition(from: DemandStatus, action: Action) -> Result<DemandStatus, TransitionError> {
    use DemandStatus::*;
    let to = match (from, action) {
        (Draft | Expired, Action::Publish) => Open,
        (Open | InNegotiation | Expired, Action::Negotiate) => InNegotiation,
        (Open | InNegotiation, Action::Resolve) => Resolved,
        (Draft | Open | InNegotiation | Expired, Action::Close) => Closed,
        (Open, Action::Expire) => Expired,
        (Draft | Open | Expired, Action::Edit) => from,
        _ => return Err(TransitionError { from, action }),
    };
    Ok(to)
}

/// Deadlines are Beijing dates: `today(now)` is [`ttx_core::clock::beijing_date`] (kept under
/// this name for crates that still call it; new code calls `ttx_core::clock`).
pub use ttx_core::clock::{beijing, beijing_date as today};

/// The start of a Beijing date, as the unix seconds the search index stores for deadlines.
pub fn date_start_unix(d: NaiveDate) -> i64 {
    beijing()
        .from_local_datetime(&d.and_time(NaiveTime::MIN))
        .single()
        .expect("fixed offsets have no gaps")
        .timestamp()
}

/// The last instant of a Beijing date (a need is valid through its deadline date).
pub fn date_end(d: NaiveDate) -> DateTime<Utc> {
    let next = d.succ_opt().unwrap_or(d);
    DateTime::from_timestamp(date_start_unix(next) - 1, 0).unwrap_or_default()
}

/// A need stays open through its deadline date and expires the day after.
pub fn is_past_deadline(deadline: Option<NaiveDate>, today: NaiveDate) -> bool {
    deadline.is_some_and(|d| d < today)
}

/// The status a reader sees: an open need past its deadline is expired, even before the
/// expiry job has recorded it.
pub fn effective_status(
    stored: DemandStatus,
    deadline: Option<NaiveDate>,
    today: NaiveDate,
) -> DemandStatus {
    if stored == DemandStatus::Open && is_past_deadline(deadline, today) {
        DemandStatus::Expired
    } else {
        stored
    }
}

/// Organisations that post needs: enterprises, and research institutes and universities as
/// buyers of technology.
pub fn may_post(kind: OrgKind) -> bool {
    matches!(
        kind,
        OrgKind::Enterprise | OrgKind::ResearchInstitute | OrgKind::University
    )
}

/// Budget of a need, in fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Budget {
    /// A range, `min` ≤ `max` (use `min = max` for a fixed amount).
    Range { min: Fen, max: Fen },
    /// 面议: to be negotiated.
    Negotiable,
}

impl Budget {
    pub fn kind_code(budget: Option<&Budget>) -> &'static str {
        match budget {
            None => "unspecified",
            Some(Budget::Range { .. }) => "range",
            Some(Budget::Negotiable) => "negotiable",
        }
    }

    /// `(min, max)` as stored.
    pub fn bounds(budget: Option<&Budget>) -> (Option<i64>, Option<i64>) {
        match budget {
            Some(Budget::Range { min, max }) => (Some(min.0), Some(max.0)),
            _ => (None, None),
        }
    }

    /// Rebuilds a budget from its stored columns.
    pub fn from_columns(kind: &str, min: Option<i64>, max: Option<i64>) -> Option<Budget> {
        match (kind, min, max) {
            ("range", Some(a), Some(b)) => Some(Budget::Range {
                min: Fen(a),
                max: Fen(b),
            }),
            ("negotiable", _, _) => Some(Budget::Negotiable),
            _ => None,
        }
    }

    /// Checks amounts: non-negative, bounded, `min` ≤ `max`.
    pub fn validate(self, errs: &mut FieldErrors, path: &str) -> Option<Budget> {
        let n = errs.0.len();
        if let Budget::Range { min, max } = self {
            for (f, v) in [("min", min), ("max", max)] {
                if let Err(e) = Fen::from_input_fen(v.0) {
                    errs.add(&format!("{path}.{f}"), "invalid_amount", e.to_string());
                }
            }
            if errs.0.len() == n && min > max {
                errs.add(
                    &format!("{path}.min"),
                    "min_greater_than_max",
                    "the lower end of the budget is above the upper end",
                );
            }
        }
        (errs.0.len() == n).then_some(self)
    }
}

/// How to reach the firm about a need; never public.
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
    /// Checks lengths, the phone number and the e-mail address.
    pub fn validate(self, errs: &mut FieldErrors, path: &str) -> Contact {
        let name = errs.opt_text(&format!("{path}.name"), self.name.as_deref(), 100);
        let phone = errs.opt_text(&format!("{path}.phone"), self.phone.as_deref(), 32);
        let email = errs.opt_text(&format!("{path}.email"), self.email.as_deref(), 254);
        if phone
            .as_deref()
            .is_some_and(|p| !ttx_core::validate::is_phone(p))
        {
            errs.add(
                &format!("{path}.phone"),
                "invalid_phone",
                "not a valid phone number",
            );
        }
        if email
            .as_deref()
            .is_some_and(|e| !ttx_core::validate::is_email(e))
        {
            errs.add(
                &format!("{path}.email"),
                "invalid_email",
                "not a valid e-mail address",
            );
        }
        Contact { name, phone, email }
    }
}

/// What the owner describes of a need. Drafts may leave most of it empty; publishing needs
/// a completeness score (see [`crate::completeness`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemandData {
    pub title: String,
    /// 主要问题: the problem the firm faces.
    pub problem: String,
    /// 技术关键: the technical key points to solve.
    pub key_points: String,
    /// 预期目标: the goals / acceptance indicators.
    pub goals: String,
    pub keywords: Vec<String>,
    pub field: Option<TechField>,
    pub research_type: Option<ResearchType>,
    /// Wanted transfer / cooperation modes.
    pub modes: Vec<TransferMode>,
    /// Wanted maturity.
    pub trl_min: Option<Trl>,
    pub trl_max: Option<Trl>,
    pub budget: Option<Budget>,
    /// 需求时限: the need is valid through this Beijing date.
    pub deadline: Option<NaiveDate>,
    /// Default: the owner organisation's region.
    pub region: Option<RegionCode>,
    /// The firm's name is shown only to verified agencies (and their brokers).
    pub anonymous: bool,
    pub contact: Contact,
}

/// Changes to a need; `None` leaves a field as it is, `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemandPatch {
    pub title: Option<String>,
    pub problem: Option<String>,
    pub key_points: Option<String>,
    pub goals: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub field: Option<Option<TechField>>,
    pub research_type: Option<Option<ResearchType>>,
    pub modes: Option<Vec<TransferMode>>,
    pub trl_min: Option<Option<Trl>>,
    pub trl_max: Option<Option<Trl>>,
    pub budget: Option<Option<Budget>>,
    pub deadline: Option<Option<NaiveDate>>,
    pub region: Option<RegionCode>,
    pub anonymous: Option<bool>,
    pub contact: Option<Contact>,
}

impl DemandPatch {
    /// Applies the patch; returns the names of the fields it set.
    pub fn apply(self, d: &mut DemandData) -> Vec<&'static str> {
        let mut changed = vec![];
        macro_rules! set {
            ($f:ident) => {
                if let Some(v) = self.$f {
                    d.$f = v;
                    changed.push(stringify!($f));
                }
            };
        }
        set!(title);
        set!(problem);
        set!(key_points);
        set!(goals);
        set!(keywords);
        set!(field);
        set!(research_type);
        set!(modes);
        set!(trl_min);
        set!(trl_max);
        set!(budget);
        set!(deadline);
        set!(anonymous);
        set!(contact);
        if let Some(r) = self.region {
            d.region = Some(r);
            changed.push("region");
        }
        changed
    }
}

/// Trims, drops empties and duplicates (case-insensitive), checks count and length.
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
        errs.add(
            path,
            "too_many",
            format!("at most {MAX_KEYWORDS} keywords (关键词最多 {MAX_KEYWORDS} 个)"),
        );
    }
    out
}

/// Modes each once, in the vocabulary's order (none: open to any mode).
pub fn normalize_modes(raw: &[TransferMode]) -> Vec<TransferMode> {
    let mut v = raw.to_vec();
    v.sort();
    v.dedup();
    v
}

/// The wanted TRL range: `min` ≤ `max`.
pub fn validate_trl_range(
    errs: &mut FieldErrors,
    min: Option<Trl>,
    max: Option<Trl>,
) -> (Option<Trl>, Option<Trl>) {
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            errs.add(
                "trl_min",
                "min_greater_than_max",
                "trl_min is above trl_max",
            );
        }
    }
    (min, max)
}

/// A deadline lies today or later, at most three years ahead.
pub fn validate_deadline(
    errs: &mut FieldErrors,
    path: &str,
    date: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let d = date?;
    if d < today {
        errs.add(path, "in_past", "the deadline has passed");
    } else if (d - today).num_days() > MAX_DEADLINE_DAYS {
        errs.add(
            path,
            "too_far",
            "the deadline is more than three years ahead",
        );
    }
    Some(d)
}

/// Who is looking at a need, as far as the rules care.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: Option<i64>,
    pub org_id: Option<i64>,
    pub org_admin: bool,
    pub operator: bool,
    /// A member of a verified technology-transfer agency (brokers included): may see the
    /// names of anonymous firms.
    pub identity_cleared: bool,
}

impl Viewer {
    pub const ANONYMOUS: Viewer = Viewer {
        user_id: None,
        org_id: None,
        org_admin: false,
        operator: false,
        identity_cleared: false,
    };

    pub fn is_owner_org(&self, owner_org_id: i64) -> bool {
        self.org_id == Some(owner_org_id)
    }
}

/// Everyone sees open needs; the owner organisation and operators see all of theirs; an
/// organisation that answered a challenge keeps seeing it after it left the open state.
pub fn can_read(
    status: DemandStatus,
    owner_org_id: i64,
    viewer: &Viewer,
    viewer_has_proposal: bool,
) -> bool {
    status == DemandStatus::Open
        || viewer.operator
        || viewer.is_owner_org(owner_org_id)
        || (viewer_has_proposal && status != DemandStatus::Draft)
}

/// The firm's name and id: public unless the need is anonymous; then only the owner
/// organisation, operators and verified agencies see them.
pub fn shows_identity(anonymous: bool, owner_org_id: i64, viewer: &Viewer) -> bool {
    !anonymous || viewer.operator || viewer.identity_cleared || viewer.is_owner_org(owner_org_id)
}

/// Contact details: the owner organisation and operators only.
pub fn shows_contact(owner_org_id: i64, viewer: &Viewer) -> bool {
    viewer.operator || viewer.is_owner_org(owner_org_id)
}

/// Editing, publishing and closing: the member who created the need, and the admins of its
/// organisation (operators too).
pub fn can_manage(owner_org_id: i64, created_by: i64, viewer: &Viewer) -> bool {
    viewer.operator
        || (viewer.is_owner_org(owner_org_id)
            && (viewer.org_admin || viewer.user_id == Some(created_by)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use DemandStatus::*;

    #[test]
    fn lifecycle() {
        assert_eq!(transition(Draft, Action::Publish), Ok(Open));
        assert_eq!(transition(Expired, Action::Publish), Ok(Open));
        assert!(transition(Open, Action::Publish).is_err());
        assert_eq!(transition(Open, Action::Negotiate), Ok(InNegotiation));
        assert_eq!(
            transition(InNegotiation, Action::Negotiate),
            Ok(InNegotiation)
        );
        assert_eq!(transition(Expired, Action::Negotiate), Ok(InNegotiation));
        assert!(transition(Closed, Action::Negotiate).is_err());
        assert_eq!(transition(InNegotiation, Action::Resolve), Ok(Resolved));
        assert!(transition(Draft, Action::Resolve).is_err());
        assert_eq!(transition(Open, Action::Close), Ok(Closed));
        assert!(transition(Resolved, Action::Close).is_err());
        assert_eq!(transition(Expired, Action::Close), Ok(Closed));
        assert!(transition(Closed, Action::Publish).is_err());
        assert_eq!(transition(Open, Action::Expire), Ok(Expired));
        assert!(transition(InNegotiation, Action::Expire).is_err());
        assert_eq!(transition(Expired, Action::Edit), Ok(Expired));
        assert!(transition(InNegotiation, Action::Edit).is_err());
        let e = transition(Resolved, Action::Edit).unwrap_err();
        assert_eq!(e.to_string(), "a need that is resolved cannot be edited");
    }

    #[test]
    fn deadline_and_effective_status() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
        let jan1 = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert!(!is_past_deadline(Some(d), d));
        assert!(is_past_deadline(Some(d), jan1));
        assert!(!is_past_deadline(None, jan1));
        assert_eq!(effective_status(Open, Some(d), jan1), Expired);
        assert_eq!(effective_status(Open, Some(d), d), Open);
        assert_eq!(
            effective_status(InNegotiation, Some(d), jan1),
            InNegotiation
        );
        // 2026-12-31 00:00 in Beijing is 2026-12-30 16:00 UTC.
        assert_eq!(date_start_unix(d), 1_798_646_400);
        assert_eq!(date_end(d).timestamp(), 1_798_732_799);
        // 16:30 UTC on 2026-12-31 is already 2027-01-01 in Beijing.
        let t = DateTime::parse_from_rfc3339("2026-12-31T16:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(today(t), jan1);
    }

    #[test]
    fn budgets() {
        let mut errs = FieldErrors::new();
        assert!(Budget::Range {
            min: Fen(5),
            max: Fen(1)
        }
        .validate(&mut errs, "budget")
        .is_none());
        assert_eq!(errs.0[0].field, "budget.min");
        let mut errs = FieldErrors::new();
        assert!(Budget::Range {
            min: Fen(-1),
            max: Fen(1)
        }
        .validate(&mut errs, "budget")
        .is_none());
        assert_eq!(errs.0[0].code, "invalid_amount");
        let b = Budget::Range {
            min: Fen(100),
            max: Fen(200),
        };
        assert_eq!(Budget::bounds(Some(&b)), (Some(100), Some(200)));
        assert_eq!(Budget::from_columns("range", Some(100), Some(200)), Some(b));
        assert_eq!(
            Budget::from_columns("negotiable", None, None),
            Some(Budget::Negotiable)
        );
        assert_eq!(Budget::from_columns("unspecified", None, None), None);
        assert_eq!(Budget::kind_code(None), "unspecified");
    }

    #[test]
    fn keywords_at_most_five() {
        let mut errs = FieldErrors::new();
        let k = normalize_keywords(
            &mut errs,
            "keywords",
            &[
                "电池".into(),
                " 电池 ".into(),
                "".into(),
                "BMS".into(),
                "bms".into(),
            ],
        );
        assert_eq!(k, vec!["电池", "BMS"]);
        assert!(errs.is_empty());
        let six: Vec<String> = (0..6).map(|i| format!("k{i}")).collect();
        normalize_keywords(&mut errs, "keywords", &six);
        assert_eq!(errs.0[0].code, "too_many");
    }

    #[test]
    fn visibility() {
        let owner = 10;
        let public = Viewer::ANONYMOUS;
        let member = Viewer {
            user_id: Some(1),
            org_id: Some(owner),
            ..Viewer::ANONYMOUS
        };
        let broker = Viewer {
            user_id: Some(2),
            org_id: Some(20),
            identity_cleared: true,
            ..Viewer::ANONYMOUS
        };
        let other = Viewer {
            user_id: Some(3),
            org_id: Some(30),
            ..Viewer::ANONYMOUS
        };
        assert!(can_read(Open, owner, &public, false));
        assert!(!can_read(Draft, owner, &public, false));
        assert!(can_read(Draft, owner, &member, false));
        assert!(!can_read(Closed, owner, &other, false));
        assert!(can_read(InNegotiation, owner, &other, true));
        assert!(!can_read(Draft, owner, &other, true));

        assert!(!shows_identity(true, owner, &public));
        assert!(!shows_identity(true, owner, &other));
        assert!(shows_identity(true, owner, &broker));
        assert!(shows_identity(true, owner, &member));
        assert!(shows_identity(false, owner, &public));

        assert!(shows_contact(owner, &member));
        assert!(!shows_contact(owner, &broker));

        assert!(can_manage(owner, 1, &member));
        assert!(!can_manage(owner, 99, &member));
        let admin = Viewer {
            org_admin: true,
            ..member
        };
        assert!(can_manage(owner, 99, &admin));
        assert!(!can_manage(owner, 1, &other));
    }

    #[test]
    fn who_posts() {
        assert!(may_post(OrgKind::Enterprise));
        assert!(may_post(OrgKind::University));
        assert!(!may_post(OrgKind::Agency));
        assert!(!may_post(OrgKind::Station));
    }
}
