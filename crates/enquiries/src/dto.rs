//! HTTP request / response types of enquiries and confidential details, and their parsing.
use crate::confidential::{Confidential, ConfidentialSpec};
use crate::domain::{self, Action, Disclosure, EnquiryStatus, Purpose, Side, SubjectType};
use crate::entity::{disclosure, enquiry, message};
use crate::service::{self, Contact, NewEnquiry, Seen};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use ttx_accounts::entity::{organization, user};
use ttx_core::{FieldErrors, Labelled, OrgKind};
use utoipa::ToSchema;

/// A new enquiry: about a listing (`listing_id`) or a need (`demand_id`), one of the two.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnquiryInput {
    pub listing_id: Option<i64>,
    pub demand_id: Option<i64>,
    /// What the enquirer wants: license | transfer | co_development | more_data.
    pub purpose: Purpose,
    /// 1 to 5,000 characters; the first message of the thread.
    pub message: String,
    /// One of the sender's own listings it offers (optional; at most one offer).
    pub offer_listing_id: Option<i64>,
    /// One of the sender's own needs it offers (optional; at most one offer).
    pub offer_demand_id: Option<i64>,
}

fn one_of(
    errs: &mut FieldErrors,
    a: (&str, Option<i64>),
    b: (&str, Option<i64>),
    required: bool,
) -> Option<(SubjectType, i64)> {
    match (a.1, b.1) {
        (Some(_), Some(_)) => {
            errs.add(
                b.0,
                "exclusive",
                format!("give {} or {}, not both", a.0, b.0),
            );
            None
        }
        (Some(id), None) => Some((SubjectType::Listing, id)),
        (None, Some(id)) => Some((SubjectType::Demand, id)),
        (None, None) => {
            if required {
                errs.add(a.0, "required", format!("give {} or {}", a.0, b.0));
            }
            None
        }
    }
}

impl EnquiryInput {
    pub fn parse(self) -> Result<NewEnquiry, FieldErrors> {
        let mut errs = FieldErrors::new();
        let subject = one_of(
            &mut errs,
            ("listing_id", self.listing_id),
            ("demand_id", self.demand_id),
            true,
        );
        let offer = one_of(
            &mut errs,
            ("offer_listing_id", self.offer_listing_id),
            ("offer_demand_id", self.offer_demand_id),
            false,
        );
        let message = errs.text(
            "message",
            &self.message,
            domain::MESSAGE_MIN,
            domain::MESSAGE_MAX,
        );
        if errs.is_empty() {
            Ok(NewEnquiry {
                subject: subject.expect("required above"),
                purpose: self.purpose,
                message,
                offer,
            })
        } else {
            Err(errs)
        }
    }
}

/// A message in an enquiry's thread.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    /// 1 to 5,000 characters.
    pub body: String,
}

impl MessageInput {
    pub fn parse(self) -> Result<String, FieldErrors> {
        let mut errs = FieldErrors::new();
        let b = errs.text("body", &self.body, domain::MESSAGE_MIN, domain::MESSAGE_MAX);
        errs.finish(b)
    }
}

/// Accepting an enquiry.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    /// A message to the enquirer, added to the thread.
    pub message: Option<String>,
    /// Also grant access to the listing's confidential details (the enquirer must have
    /// accepted the current NDA).
    #[serde(default)]
    pub grant_confidential: bool,
}

impl AcceptInput {
    pub fn parse(self) -> Result<(Option<String>, bool), FieldErrors> {
        let mut errs = FieldErrors::new();
        let m = errs.opt_text("message", self.message.as_deref(), domain::MESSAGE_MAX);
        errs.finish((m, self.grant_confidential))
    }
}

/// Declining an enquiry: the reason is required and shown to the enquirer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineInput {
    /// 1 to 1,000 characters.
    pub reason: String,
}

impl DeclineInput {
    pub fn parse(self) -> Result<String, FieldErrors> {
        let mut errs = FieldErrors::new();
        let r = errs.text("reason", &self.reason, 1, domain::REASON_MAX);
        errs.finish(r)
    }
}

/// Closing an enquiry.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// Up to 1,000 characters.
    pub reason: Option<String>,
}

impl CloseInput {
    pub fn parse(self) -> Result<Option<String>, FieldErrors> {
        let mut errs = FieldErrors::new();
        let r = errs.opt_text("reason", self.reason.as_deref(), domain::REASON_MAX);
        errs.finish(r)
    }
}

/// Accepting a listing's NDA: the version read (`GET /v1/listings/{id}/nda`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NdaAcceptInput {
    pub nda_version: i32,
}

impl NdaAcceptInput {
    pub fn parse(self) -> Result<i32, FieldErrors> {
        let mut errs = FieldErrors::new();
        if self.nda_version < 1 {
            errs.add("nda_version", "out_of_range", "NDA versions start at 1");
        }
        errs.finish(self.nda_version)
    }
}

/// A listing's confidential details and the NDA that guards them (replaces what was there).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfidentialInput {
    /// The full description (up to 50,000 characters).
    pub description: Option<String>,
    /// IP details: claims, filing strategy, licences granted (up to 50,000 characters).
    pub ip_details: Option<String>,
    /// Data-sheet notes: test data, process parameters (up to 50,000 characters).
    pub data_sheet_notes: Option<String>,
    /// The NDA an enquirer accepts before reading (1 to 20,000 characters). A changed text is
    /// a new NDA version; enquirers accept versions.
    pub nda_text: String,
    /// Grant access as soon as an enquirer accepts the NDA (default: the owner grants).
    #[serde(default)]
    pub auto_grant: bool,
}

impl ConfidentialInput {
    pub fn parse(self) -> Result<ConfidentialSpec, FieldErrors> {
        let mut errs = FieldErrors::new();
        let max = domain::CONFIDENTIAL_MAX;
        let description = errs.opt_text("description", self.description.as_deref(), max);
        let ip_details = errs.opt_text("ip_details", self.ip_details.as_deref(), max);
        let data_sheet_notes =
            errs.opt_text("data_sheet_notes", self.data_sheet_notes.as_deref(), max);
        let nda_text = errs.text("nda_text", &self.nda_text, 1, domain::NDA_TEXT_MAX);
        if description.is_none() && ip_details.is_none() && data_sheet_notes.is_none() {
            errs.add(
                "description",
                "required",
                "give at least one of description, ip_details, data_sheet_notes",
            );
        }
        errs.finish(ConfidentialSpec {
            description,
            ip_details,
            data_sheet_notes,
            nda_text,
            auto_grant: self.auto_grant,
        })
    }
}

/// A listing or need, as an enquiry names it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubjectRef {
    /// listing | demand
    #[serde(rename = "type")]
    pub kind: SubjectType,
    pub id: i64,
    pub title: String,
}

/// An organisation; `name` is absent for an anonymous firm not yet revealed to the reader.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartyRef {
    pub org_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Contact details of a listing or need (revealed to an accepted enquirer).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ContactView {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<Contact> for ContactView {
    fn from(c: Contact) -> Self {
        ContactView {
            name: c.name,
            phone: c.phone,
            email: c.email,
        }
    }
}

/// The NDA as the enquirer accepted it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NdaAcceptanceView {
    pub nda_version: i32,
    pub accepted_by: Option<i64>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// Access to the listing's confidential details.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessView {
    /// owner | auto
    pub granted_by: String,
    pub granted_by_user: Option<i64>,
    pub granted_at: DateTime<Utc>,
}

/// An enquiry as either side reads it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnquiryView {
    pub id: i64,
    pub subject: SubjectRef,
    /// The organisation owning the listing or need.
    pub owner: PartyRef,
    /// The organisation that sent the enquiry, and its user.
    pub sender: PartyRef,
    pub sender_user_id: i64,
    pub purpose: Purpose,
    pub purpose_zh: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<SubjectRef>,
    pub status: EnquiryStatus,
    pub status_zh: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nda: Option<NdaAcceptanceView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidential_access: Option<AccessView>,
    /// The item's contact details: for the sender of an accepted enquiry, in the single-enquiry
    /// read only (each such read is logged for the owner).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactView>,
    /// The caller's side: sender | owner.
    pub your_side: String,
    /// What the caller may do now.
    pub actions: Vec<Action>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<DateTime<Utc>>,
}

/// Titles and names a set of enquiries refers to.
#[derive(Default)]
pub struct Names {
    orgs: HashMap<i64, (String, OrgKind)>,
    items: HashMap<(SubjectType, i64), service::Item>,
}

impl Names {
    /// Loads what `rows` refer to.
    pub async fn load<C: ConnectionTrait>(
        conn: &C,
        rows: &[enquiry::Model],
    ) -> Result<Names, DbErr> {
        let mut n = Names::default();
        let orgs: BTreeSet<i64> = rows
            .iter()
            .flat_map(|e| [e.owner_org_id, e.sender_org_id])
            .collect();
        for o in organization::Entity::find()
            .filter(organization::Column::Id.is_in(orgs))
            .all(conn)
            .await?
        {
            let kind = o.kind.parse().unwrap_or(OrgKind::Enterprise);
            n.orgs.insert(o.id, (o.name, kind));
        }
        let mut items: BTreeSet<(SubjectType, i64)> = BTreeSet::new();
        for e in rows {
            if let Ok(k) = e.subject_type.parse() {
                items.insert((k, e.subject_id));
            }
            if let (Some(k), Some(id)) = (
                e.offer_type.as_deref().and_then(|k| k.parse().ok()),
                e.offer_id,
            ) {
                items.insert((k, id));
            }
        }
        for (k, id) in items {
            if let Some(it) = service::item(conn, k, id).await? {
                n.items.insert((k, id), it);
            }
        }
        Ok(n)
    }

    fn org(&self, id: i64) -> Option<String> {
        self.orgs.get(&id).map(|(n, _)| n.clone())
    }

    fn subject(&self, kind: SubjectType, id: i64) -> SubjectRef {
        SubjectRef {
            kind,
            id,
            title: self
                .items
                .get(&(kind, id))
                .map(|i| i.title.clone())
                .unwrap_or_default(),
        }
    }
}

impl EnquiryView {
    /// The view of `seen` for its side; `reader_cleared`: the reader may see anonymous firms'
    /// names (a verified agency).
    pub fn build(
        seen: Seen,
        names: &Names,
        contact: Option<Contact>,
        reader_cleared: bool,
    ) -> EnquiryView {
        let actions = service::actions(&seen);
        let e = seen.enquiry;
        let kind: SubjectType = e.subject_type.parse().unwrap_or(SubjectType::Listing);
        let status: EnquiryStatus = e.status.parse().unwrap_or(EnquiryStatus::Closed);
        let purpose: Purpose = e.purpose.parse().unwrap_or(Purpose::MoreData);
        let anonymous = names
            .items
            .get(&(kind, e.subject_id))
            .is_some_and(|i| i.anonymous);
        // An anonymous firm is named to the sender once it accepted the enquiry.
        let owner_named =
            seen.side == Side::Owner || !anonymous || reader_cleared || e.accepted_at.is_some();
        EnquiryView {
            id: e.id,
            subject: names.subject(kind, e.subject_id),
            owner: PartyRef {
                org_id: e.owner_org_id,
                name: if owner_named {
                    names.org(e.owner_org_id)
                } else {
                    None
                },
            },
            sender: PartyRef {
                org_id: e.sender_org_id,
                name: names.org(e.sender_org_id),
            },
            sender_user_id: e.sender_user_id,
            purpose,
            purpose_zh: purpose.zh().to_string(),
            message: e.message,
            offer: match (
                e.offer_type.as_deref().and_then(|k| k.parse().ok()),
                e.offer_id,
            ) {
                (Some(k), Some(id)) => Some(names.subject(k, id)),
                _ => None,
            },
            status,
            status_zh: status.zh().to_string(),
            decline_reason: e.decline_reason,
            close_reason: e.close_reason,
            nda: e.nda_version.map(|v| NdaAcceptanceView {
                nda_version: v,
                accepted_by: e.nda_accepted_by,
                accepted_at: e.nda_accepted_at,
            }),
            confidential_access: e.access_granted_at.map(|at| AccessView {
                granted_by: e.access_grant.clone().unwrap_or_default(),
                granted_by_user: e.access_granted_by,
                granted_at: at,
            }),
            contact: contact.map(Into::into),
            your_side: seen.side.as_str().to_string(),
            actions,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
            answered_at: e.answered_at,
            accepted_at: e.accepted_at,
            decided_at: e.decided_at,
        }
    }
}

/// One message of a thread.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub enquiry_id: i64,
    /// sender | owner
    pub side: String,
    pub author_org_id: i64,
    pub author_user_id: i64,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// Display names of users, by id.
pub async fn user_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, DbErr> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect())
}

impl MessageView {
    pub fn build(m: message::Model, users: &HashMap<i64, String>) -> MessageView {
        MessageView {
            id: m.id,
            enquiry_id: m.enquiry_id,
            side: m.side,
            author_org_id: m.author_org_id,
            author_name: users.get(&m.author_user_id).cloned().unwrap_or_default(),
            author_user_id: m.author_user_id,
            body: m.body,
            created_at: m.created_at,
        }
    }
}

/// A listing's NDA as an enquirer reads it before accepting.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NdaView {
    pub listing_id: i64,
    pub nda_version: i32,
    pub text: String,
    /// Access follows acceptance at once (otherwise the owner grants it).
    pub auto_grant: bool,
    pub published_at: DateTime<Utc>,
}

/// A listing's confidential details (owner organisation and granted enquirers only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConfidentialView {
    pub listing_id: i64,
    pub description: Option<String>,
    pub ip_details: Option<String>,
    pub data_sheet_notes: Option<String>,
    pub nda: NdaView,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<Confidential> for ConfidentialView {
    fn from(c: Confidential) -> Self {
        ConfidentialView {
            listing_id: c.row.listing_id,
            description: c.row.description,
            ip_details: c.row.ip_details,
            data_sheet_notes: c.row.data_sheet_notes,
            nda: NdaView {
                listing_id: c.row.listing_id,
                nda_version: c.nda.nda_version,
                text: c.nda.text,
                auto_grant: c.row.auto_grant,
                published_at: c.nda.created_at,
            },
            version: c.row.version,
            updated_at: c.row.updated_at,
        }
    }
}

/// One entry of an item's access log.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DisclosureView {
    pub id: i64,
    /// contact_revealed | contact_read | access_granted | confidential_read
    pub what: Disclosure,
    pub what_zh: String,
    pub enquiry_id: Option<i64>,
    pub reader: PartyRef,
    /// The user who read (absent for a reveal or a grant).
    pub reader_user_id: Option<i64>,
    pub nda_version: Option<i32>,
    pub at: DateTime<Utc>,
}

/// Organisation names, by id.
pub async fn org_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, DbErr> {
    let ids: BTreeSet<i64> = ids.into_iter().collect();
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

impl DisclosureView {
    pub fn build(d: disclosure::Model, orgs: &HashMap<i64, String>) -> DisclosureView {
        let what: Disclosure = d.what.parse().unwrap_or(Disclosure::ContactRead);
        DisclosureView {
            id: d.id,
            what,
            what_zh: what.zh().to_string(),
            enquiry_id: d.enquiry_id,
            reader: PartyRef {
                org_id: d.reader_org_id,
                name: orgs.get(&d.reader_org_id).cloned(),
            },
            reader_user_id: d.reader_user_id,
            nda_version: d.nda_version,
            at: d.at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn enquiry(v: serde_json::Value) -> Result<NewEnquiry, FieldErrors> {
        serde_json::from_value::<EnquiryInput>(v).unwrap().parse()
    }

    #[test]
    fn an_enquiry_names_one_item_and_a_message() {
        let n =
            enquiry(json!({"listing_id": 3, "purpose": "license", "message": " 你好 "})).unwrap();
        assert_eq!(n.subject, (SubjectType::Listing, 3));
        assert_eq!(n.message, "你好");
        assert_eq!(n.offer, None);
        let e = enquiry(json!({"purpose": "license", "message": ""})).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["listing_id", "message"]);
        let e = enquiry(
            json!({"listing_id": 1, "demand_id": 2, "purpose": "transfer",
            "message": "x", "offer_listing_id": 1, "offer_demand_id": 2}),
        )
        .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["demand_id", "offer_demand_id"]);
        assert!(serde_json::from_value::<EnquiryInput>(
            json!({"listing_id": 1, "purpose": "buy", "message": "x"})
        )
        .is_err());
    }

    #[test]
    fn confidential_needs_a_part_and_an_nda() {
        let c: ConfidentialInput = serde_json::from_value(json!({"nda_text": "保密"})).unwrap();
        assert_eq!(c.parse().unwrap_err().0[0].field, "description");
        let c: ConfidentialInput =
            serde_json::from_value(json!({"ip_details": "权利要求", "nda_text": ""})).unwrap();
        assert_eq!(c.parse().unwrap_err().0[0].field, "nda_text");
        let c: ConfidentialInput =
            serde_json::from_value(json!({"ip_details": "权利要求", "nda_text": "保密协议"}))
                .unwrap();
        assert!(!c.parse().unwrap().auto_grant);
    }
}
