//! HTTP DTOs of accounts, and their parsing into domain values.
use crate::entity::{api_token, audit_log, organization, user};
use crate::service::{check_password, NewOrg, NewUser};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ttx_core::validate::{is_email, is_phone};
use ttx_core::{CreditCode, FieldErrors, Labelled, OrgKind, RegionCode, Role};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgInput {
    /// university | research_institute | enterprise | agency | station | bureau
    pub kind: String,
    pub name: String,
    /// 统一社会信用代码, 18 characters with a valid check character.
    #[schema(min_length = 18, max_length = 18)]
    pub credit_code: String,
    /// 6-digit GB/T 2260 region code.
    #[schema(min_length = 6, max_length = 6)]
    pub region_code: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminInput {
    pub email: String,
    pub display_name: String,
    /// 10 to 128 characters.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub org: OrgInput,
    pub admin: AdminInput,
}

pub(crate) fn parse_contact(
    errs: &mut FieldErrors,
    prefix: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> (Option<String>, Option<String>) {
    let email = errs.opt_text(&format!("{prefix}contact_email"), email, 254);
    if let Some(e) = &email {
        if !is_email(e) {
            errs.add(
                &format!("{prefix}contact_email"),
                "invalid_email",
                "not a valid e-mail address",
            );
        }
    }
    let phone = errs.opt_text(&format!("{prefix}contact_phone"), phone, 32);
    if let Some(p) = &phone {
        if !is_phone(p) {
            errs.add(
                &format!("{prefix}contact_phone"),
                "invalid_phone",
                "not a valid phone number",
            );
        }
    }
    (email, phone)
}

pub(crate) fn parse_region(errs: &mut FieldErrors, field: &str, s: &str) -> Option<RegionCode> {
    match RegionCode::parse(s) {
        Ok(r) => Some(r),
        Err(e) => {
            errs.add(field, "invalid_region", e.to_string());
            None
        }
    }
}

impl SignupRequest {
    pub fn parse(self) -> Result<(NewOrg, NewUser), FieldErrors> {
        let mut errs = FieldErrors::new();
        let o = self.org;
        let kind = match o.kind.parse::<OrgKind>() {
            Ok(k) if k.can_sign_up() => Some(k),
            Ok(_) => {
                errs.add(
                    "org.kind",
                    "not_allowed",
                    "operator organisations are created by the admin CLI",
                );
                None
            }
            Err(e) => {
                errs.add("org.kind", "invalid_choice", e.to_string());
                None
            }
        };
        let name = errs.text("org.name", &o.name, 2, 200);
        let credit = match CreditCode::parse(&o.credit_code) {
            Ok(c) => Some(c),
            Err(e) => {
                errs.add("org.credit_code", "invalid_credit_code", e.to_string());
                None
            }
        };
        let region = parse_region(&mut errs, "org.region_code", &o.region_code);
        let description = errs.opt_text("org.description", o.description.as_deref(), 5000);
        let website = errs.opt_text("org.website", o.website.as_deref(), 300);
        let contact_name = errs.opt_text("org.contact_name", o.contact_name.as_deref(), 100);
        let (contact_email, contact_phone) = parse_contact(
            &mut errs,
            "org.",
            o.contact_email.as_deref(),
            o.contact_phone.as_deref(),
        );
        let a = self.admin;
        let email = errs.text("admin.email", &a.email, 3, 254);
        if !email.is_empty() && !is_email(&email) {
            errs.add("admin.email", "invalid_email", "not a valid e-mail address");
        }
        let display_name = errs.text("admin.display_name", &a.display_name, 1, 100);
        check_password("admin.password", &a.password, &mut errs);
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok((
            NewOrg {
                kind: kind.expect("checked"),
                name,
                credit_code: credit,
                region: region.expect("checked"),
                description,
                website,
                contact_name,
                contact_email,
                contact_phone,
            },
            NewUser {
                email,
                display_name,
                password: a.password,
                role: Role::OrgAdmin,
            },
        ))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// A name to recognise the token by (e.g. "laptop").
    pub token_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    /// First characters of the token, to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

impl From<api_token::Model> for TokenView {
    fn from(t: api_token::Model) -> Self {
        TokenView {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked: t.revoked_at.is_some(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NewTokenResponse {
    /// The bearer token. Shown once; only its hash is stored.
    pub token: String,
    pub token_info: TokenView,
    pub user: UserView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub org_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl From<user::Model> for UserView {
    fn from(u: user::Model) -> Self {
        UserView {
            id: u.id,
            org_id: u.org_id,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            active: u.active,
            version: u.version,
            created_at: u.created_at,
        }
    }
}

/// Contact details: only for the organisation's members and operators.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ContactView {
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgView {
    pub id: i64,
    pub kind: String,
    pub kind_zh: String,
    pub name: String,
    pub credit_code: Option<String>,
    pub region_code: String,
    pub region_name: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub verified: bool,
    /// Region codes a station registers contracts for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jurisdiction: Vec<String>,
    /// Present only for the organisation's members and operators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactView>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

impl OrgView {
    pub fn build(o: organization::Model, jurisdiction: Vec<String>, show_contact: bool) -> Self {
        let kind_zh = o
            .kind
            .parse::<OrgKind>()
            .map(|k| k.zh().to_string())
            .unwrap_or_default();
        let region_name = RegionCode::parse(&o.region_code)
            .map(|r| r.full_name())
            .unwrap_or_default();
        OrgView {
            id: o.id,
            kind: o.kind,
            kind_zh,
            name: o.name,
            credit_code: o.credit_code,
            region_code: o.region_code,
            region_name,
            description: o.description,
            website: o.website,
            verified: o.verified,
            jurisdiction,
            contact: show_contact.then_some(ContactView {
                contact_name: o.contact_name,
                contact_email: o.contact_email,
                contact_phone: o.contact_phone,
            }),
            version: o.version,
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SignupResponse {
    /// The admin's bearer token. Shown once.
    pub token: String,
    pub org: OrgView,
    pub user: UserView,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub user: UserView,
    pub org: OrgView,
    pub role_zh: String,
}

/// Profile changes; absent fields stay, `null` clears an optional field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgUpdate {
    pub name: Option<String>,
    pub region_code: Option<String>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<String>)]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<String>)]
    pub contact_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<String>)]
    pub contact_email: Option<Option<String>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<String>)]
    pub contact_phone: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemberRequest {
    pub email: String,
    pub display_name: String,
    pub password: String,
    /// org_admin | member | broker (agencies) | station_reviewer (stations) | bureau_analyst (bureaus)
    pub role: String,
}

impl NewMemberRequest {
    pub fn parse(self) -> Result<NewUser, FieldErrors> {
        let mut errs = FieldErrors::new();
        let email = errs.text("email", &self.email, 3, 254);
        if !email.is_empty() && !is_email(&email) {
            errs.add("email", "invalid_email", "not a valid e-mail address");
        }
        let display_name = errs.text("display_name", &self.display_name, 1, 100);
        check_password("password", &self.password, &mut errs);
        let role = errs.take("role", "invalid_choice", self.role.parse::<Role>());
        if role == Some(Role::Operator) {
            errs.add(
                "role",
                "not_allowed",
                "operators are created by the admin CLI",
            );
        }
        errs.finish(())?;
        Ok(NewUser {
            email,
            display_name,
            password: self.password,
            role: role.expect("checked"),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberUpdate {
    pub role: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// For stations: the region codes whose contracts it registers.
    pub jurisdiction: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<i64>,
    pub actor_org_id: Option<i64>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub target_org_id: Option<i64>,
    pub request_id: String,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

impl From<audit_log::Model> for AuditView {
    fn from(a: audit_log::Model) -> Self {
        AuditView {
            id: a.id,
            at: a.at,
            actor_user_id: a.actor_user_id,
            actor_org_id: a.actor_org_id,
            action: a.action,
            target_type: a.target_type,
            target_id: a.target_id,
            target_org_id: a.target_org_id,
            request_id: a.request_id,
            detail: a.detail.and_then(|d| serde_json::from_str(&d).ok()),
        }
    }
}
