//! HTTP request / response types of listings, and their parsing into domain values.
use crate::domain::{
    self, Contact, IpItem, IpStatus, ListingData, ListingPatch, ListingStatus, NewListing, Price,
};
use crate::store::{Listing, OrgInfo};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ttx_core::{FieldErrors, IpKind, Labelled, RegionCode, TechField, TransferMode, Trl};
use utoipa::ToSchema;

/// One intellectual-property item as submitted.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IpItemInput {
    pub kind: IpKind,
    /// Required for patents: application number (`202310123456.7`, optionally with `CN` or
    /// `ZL`, check character verified; or the old 8-digit form) or publication number
    /// (`CN115123456B`). Software copyrights: `2023SR0123456`.
    pub number: Option<String>,
    pub status: IpStatus,
    /// Title of the patent or work.
    pub title: Option<String>,
}

/// How to reach the owner about a listing; shown only to the owner organisation.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl From<ContactInput> for Contact {
    fn from(c: ContactInput) -> Self {
        Contact {
            name: c.name,
            phone: c.phone,
            email: c.email,
        }
    }
}

/// A new listing (科技成果).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingInput {
    /// 4 to 200 characters.
    #[schema(min_length = 4, max_length = 200)]
    pub title: String,
    /// Up to 1,000 characters.
    #[schema(min_length = 1, max_length = 1000)]
    pub summary: String,
    /// Up to 20,000 characters.
    #[schema(min_length = 1, max_length = 20000)]
    pub description: String,
    /// At most 10, each up to 50 characters; duplicates are dropped.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub keywords: Vec<String>,
    pub field: TechField,
    pub trl: Trl,
    #[serde(default)]
    pub ip_items: Vec<IpItemInput>,
    /// At least one.
    pub transfer_modes: Vec<TransferMode>,
    /// `{"kind":"fixed","amount":…}`, `{"kind":"range","min":…,"max":…}` or
    /// `{"kind":"negotiable"}`; amounts in fen, or in 元 as decimal strings
    /// (`amount_yuan`, `min_yuan`, `max_yuan`, e.g. `"12.50"`).
    pub price: PriceInput,
    /// 6-digit region code; default: the owner organisation's region.
    pub region_code: Option<String>,
    /// 科技成果登记号.
    pub registration_no: Option<String>,
    /// 军民融合 (dual-use) technology.
    #[serde(default)]
    pub dual_use: bool,
    /// Last day the listing is valid (Beijing date); the day after, it expires.
    pub expires_on: Option<NaiveDate>,
    pub contact: Option<ContactInput>,
    /// Publish at once (default: save as a draft).
    pub publish: Option<bool>,
    /// The owner's own identifier, unique per organisation (imports update by it).
    pub external_id: Option<String>,
}

fn parse_region(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<RegionCode> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match RegionCode::parse(raw) {
        Ok(r) => Some(r),
        Err(e) => {
            errs.add(field, "invalid_region", e.to_string());
            None
        }
    }
}

fn parse_ip_items(errs: &mut FieldErrors, items: &[IpItemInput], year: u32) -> Vec<IpItem> {
    if items.len() > domain::MAX_IP_ITEMS {
        errs.add(
            "ip_items",
            "too_many",
            format!("at most {} items", domain::MAX_IP_ITEMS),
        );
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| {
            domain::validate_ip_item(
                errs,
                &format!("ip_items[{i}]"),
                it.kind,
                it.number.as_deref(),
                it.status,
                it.title.as_deref(),
                year,
            )
        })
        .collect()
}

fn parse_contact(errs: &mut FieldErrors, c: Option<ContactInput>) -> Contact {
    c.map(|c| Contact::from(c).validate(errs, "contact"))
        .unwrap_or_default()
}

impl ListingInput {
    /// Validates everything, reporting every problem at once.
    pub fn parse(self, today: NaiveDate) -> Result<NewListing, FieldErrors> {
        let mut errs = FieldErrors::new();
        let year = domain::current_year(today);
        let title = errs.text("title", &self.title, domain::TITLE_MIN, domain::TITLE_MAX);
        let summary = errs.text("summary", &self.summary, 1, domain::SUMMARY_MAX);
        let description = errs.text("description", &self.description, 1, domain::DESCRIPTION_MAX);
        let keywords = domain::normalize_keywords(&mut errs, "keywords", &self.keywords);
        let ip_items = parse_ip_items(&mut errs, &self.ip_items, year);
        let modes = domain::normalize_modes(&mut errs, "transfer_modes", &self.transfer_modes);
        let price = self.price.parse(&mut errs, "price");
        let region = parse_region(&mut errs, "region_code", self.region_code.as_deref());
        let registration_no = domain::validate_registration_no(
            &mut errs,
            "registration_no",
            self.registration_no.as_deref(),
        );
        let expires_on = domain::validate_expiry(&mut errs, "expires_on", self.expires_on, today);
        let contact = parse_contact(&mut errs, self.contact);
        let external_id = errs.opt_text(
            "external_id",
            self.external_id.as_deref(),
            domain::EXTERNAL_ID_MAX,
        );
        let data = ListingData {
            title,
            summary,
            description,
            keywords,
            field: self.field,
            trl: self.trl,
            ip_items,
            modes,
            price: price.unwrap_or(Price::Negotiable),
            region,
            registration_no,
            dual_use: self.dual_use,
            expires_on,
            contact,
        };
        errs.finish(NewListing {
            data,
            publish: self.publish,
            external_id,
        })
    }
}

/// Changes to a listing; absent fields stay, `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingPatchInput {
    #[schema(min_length = 4, max_length = 200)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 1000)]
    pub summary: Option<String>,
    #[schema(min_length = 1, max_length = 20000)]
    pub description: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub field: Option<TechField>,
    pub trl: Option<Trl>,
    pub ip_items: Option<Vec<IpItemInput>>,
    pub transfer_modes: Option<Vec<TransferMode>>,
    pub price: Option<PriceInput>,
    pub region_code: Option<String>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<String>)]
    pub registration_no: Option<Option<String>>,
    pub dual_use: Option<bool>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expires_on: Option<Option<NaiveDate>>,
    /// Replaces the whole contact; `null` clears it.
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<ContactInput>)]
    pub contact: Option<Option<ContactInput>>,
}

impl ListingPatchInput {
    pub fn parse(self, today: NaiveDate) -> Result<ListingPatch, FieldErrors> {
        let mut errs = FieldErrors::new();
        let year = domain::current_year(today);
        let p = ListingPatch {
            title: self
                .title
                .map(|t| errs.text("title", &t, domain::TITLE_MIN, domain::TITLE_MAX)),
            summary: self
                .summary
                .map(|t| errs.text("summary", &t, 1, domain::SUMMARY_MAX)),
            description: self
                .description
                .map(|t| errs.text("description", &t, 1, domain::DESCRIPTION_MAX)),
            keywords: self
                .keywords
                .map(|k| domain::normalize_keywords(&mut errs, "keywords", &k)),
            field: self.field,
            trl: self.trl,
            ip_items: self.ip_items.map(|i| parse_ip_items(&mut errs, &i, year)),
            modes: self
                .transfer_modes
                .map(|m| domain::normalize_modes(&mut errs, "transfer_modes", &m)),
            price: self.price.and_then(|p| p.parse(&mut errs, "price")),
            region: match self.region_code {
                Some(r) => {
                    let parsed = parse_region(&mut errs, "region_code", Some(&r));
                    if parsed.is_none() && r.trim().is_empty() {
                        errs.add("region_code", "required", "must not be empty");
                    }
                    parsed
                }
                None => None,
            },
            registration_no: self.registration_no.map(|r| {
                domain::validate_registration_no(&mut errs, "registration_no", r.as_deref())
            }),
            dual_use: self.dual_use,
            expires_on: self
                .expires_on
                .map(|d| domain::validate_expiry(&mut errs, "expires_on", d, today)),
            contact: self.contact.map(|c| match c {
                Some(c) => Contact::from(c).validate(&mut errs, "contact"),
                None => Contact::default(),
            }),
        };
        if errs.is_empty() && p.is_empty() {
            errs.add("body", "empty_patch", "name at least one field to change");
        }
        errs.finish(p)
    }
}

/// The owner organisation, as the public sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrgRef {
    pub id: i64,
    pub name: String,
    /// university | research_institute | enterprise
    pub kind: String,
}

/// An IP item as read.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IpItemView {
    pub kind: IpKind,
    pub kind_zh: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub status: IpStatus,
    pub status_zh: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A price as a request gives it. Each amount in fen (an integer: `amount`, `min`, `max`) or
/// in 元 as a decimal string as a person types it (`amount_yuan`, `min_yuan`, `max_yuan`:
/// `"12.50"`; at most 2 decimals; no sign, exponent or grouping commas; full-width digits are
/// read as digits). One of the two forms is required; both must then be the same amount
/// (else 422 `amount_mismatch` on the `_yuan` field). Reads always answer in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PriceInput {
    /// A fixed price.
    Fixed {
        /// Fen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<i64>,
        /// 元, e.g. `"12.50"`.
        #[schema(example = "12.50")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount_yuan: Option<String>,
    },
    /// A price range, `min` ≤ `max`.
    Range {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        #[schema(example = "100000")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_yuan: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
        #[schema(example = "300000.00")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_yuan: Option<String>,
    },
    /// 面议: to be negotiated.
    Negotiable,
}

impl From<Price> for PriceInput {
    /// The same price with its amounts in fen.
    fn from(p: Price) -> Self {
        match p {
            Price::Fixed { amount } => PriceInput::Fixed {
                amount: Some(amount.0),
                amount_yuan: None,
            },
            Price::Range { min, max } => PriceInput::Range {
                min: Some(min.0),
                min_yuan: None,
                max: Some(max.0),
                max_yuan: None,
            },
            Price::Negotiable => PriceInput::Negotiable,
        }
    }
}

impl PriceInput {
    /// The price, its amounts read from fen or 元 and checked; errors under `{path}.amount`,
    /// `{path}.min_yuan`, ...
    pub fn parse(self, errs: &mut FieldErrors, path: &str) -> Option<Price> {
        use ttx_core::money::required_fen_or_yuan as amount;
        let n = errs.0.len();
        let price = match self {
            PriceInput::Fixed {
                amount: fen,
                amount_yuan,
            } => amount(errs, &format!("{path}.amount"), fen, amount_yuan.as_deref())
                .map(|amount| Price::Fixed { amount }),
            PriceInput::Range {
                min,
                min_yuan,
                max,
                max_yuan,
            } => {
                let min = amount(errs, &format!("{path}.min"), min, min_yuan.as_deref());
                let max = amount(errs, &format!("{path}.max"), max, max_yuan.as_deref());
                min.zip(max).map(|(min, max)| Price::Range { min, max })
            }
            PriceInput::Negotiable => Some(Price::Negotiable),
        };
        if errs.0.len() > n {
            return None;
        }
        price?.validate(errs, path)
    }
}

/// A listing as read. `contact` and `external_id` appear only for the owner organisation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListingView {
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub field: TechField,
    pub field_zh: String,
    pub trl: u8,
    /// 实验室 / 小试 / 中试 / 小批量 / 产业化
    pub trl_stage_zh: String,
    pub ip_items: Vec<IpItemView>,
    pub transfer_modes: Vec<TransferMode>,
    pub price: Price,
    pub owner: OrgRef,
    pub region_code: String,
    pub region_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_no: Option<String>,
    pub dual_use: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
    /// As the reader sees it: a published listing past its expiry date reads `expired`.
    pub status: ListingStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    /// Owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Owner only: why the listing was withdrawn (the owner's words, or the moderating
    /// operator's); absent once it is published again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawal_reason: Option<String>,
    /// Non-exclusive licences (普通许可) recorded so far; a listing that grants them stays
    /// published for further licensees.
    #[serde(default)]
    pub licences_granted: i32,
    /// When the last deal was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transacted_at: Option<DateTime<Utc>>,
}

/// `POST /v1/listings/{id}/withdraw` (the body may be left out).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawInput {
    /// Why (at most 500 characters). Optional for the owner; required when an operator
    /// withdraws someone's listing. Shown to the owner organisation only (in the listing and
    /// the audit log), never in public reads.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// `POST /v1/listings/{id}/transacted` (the body may be left out: a deal of unstated kind,
/// which closes the listing).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealInput {
    /// The transfer mode of the deal; one of the listing's `transfer_modes`.
    pub mode: Option<TransferMode>,
    /// With `mode: license`, required: `non_exclusive` (普通许可) keeps the listing published
    /// for further licensees; `exclusive` and `sole` close it (and are refused once
    /// non-exclusive licences were granted).
    pub licence_scope: Option<crate::domain::LicenceScope>,
}

impl DealInput {
    pub fn into_deal(self) -> crate::domain::Deal {
        crate::domain::Deal {
            mode: self.mode,
            scope: self.licence_scope,
        }
    }
}

impl ListingView {
    /// Builds the view; `owner_view` adds contact details and the external id.
    pub fn build(
        l: Listing,
        org: Option<&OrgInfo>,
        status: ListingStatus,
        owner_view: bool,
    ) -> ListingView {
        let d = l.data;
        ListingView {
            id: l.id,
            title: d.title,
            summary: d.summary,
            description: d.description,
            keywords: d.keywords,
            field: d.field,
            field_zh: d.field.zh().to_string(),
            trl: d.trl.level(),
            trl_stage_zh: d.trl.stage_zh().to_string(),
            ip_items: d
                .ip_items
                .into_iter()
                .map(|i| IpItemView {
                    kind: i.kind,
                    kind_zh: i.kind.zh().to_string(),
                    number: i.number,
                    status: i.status,
                    status_zh: i.status.zh().to_string(),
                    title: i.title,
                })
                .collect(),
            transfer_modes: d.modes,
            price: d.price,
            owner: OrgRef {
                id: l.owner_org_id,
                name: org.map(|o| o.name.clone()).unwrap_or_default(),
                kind: org.map(|o| o.kind.as_str().to_string()).unwrap_or_default(),
            },
            region_code: l.region.as_string(),
            region_name: l.region.full_name(),
            registration_no: d.registration_no,
            dual_use: d.dual_use,
            expires_on: d.expires_on,
            status,
            version: l.version,
            created_at: l.created_at,
            updated_at: l.updated_at,
            published_at: l.published_at,
            contact: (owner_view && !d.contact.is_empty()).then_some(d.contact),
            external_id: if owner_view { l.external_id } else { None },
            withdrawal_reason: if owner_view {
                l.withdrawal_reason
            } else {
                None
            },
            licences_granted: l.licences_granted,
            last_transacted_at: l.last_transacted_at,
        }
    }
}

/// `GET /v1/listings` parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Free text (Chinese, English or mixed).
    pub q: Option<String>,
    /// Technology field(s); repeatable.
    #[serde(default)]
    pub field: Vec<String>,
    pub trl_min: Option<u8>,
    pub trl_max: Option<u8>,
    /// Transfer mode(s), any of; repeatable.
    #[serde(default)]
    pub mode: Vec<String>,
    /// Lowest price wanted, in fen (listings whose price range overlaps match).
    pub price_min: Option<i64>,
    /// Highest price wanted, in fen.
    pub price_max: Option<i64>,
    /// With a price filter, also return negotiable (面议) listings.
    pub include_negotiable: Option<bool>,
    /// Region prefix: 2 (province), 4 (city) or 6 (county) digits.
    pub region: Option<String>,
    /// IP kind(s), any of; repeatable.
    #[serde(default)]
    pub ip_kind: Vec<String>,
    /// Status(es); anything but `published` needs `mine=true`.
    #[serde(default)]
    pub status: Vec<String>,
    /// Only the caller's organisation's listings, in every status.
    pub mine: Option<bool>,
    pub dual_use: Option<bool>,
    /// relevance (default) | newest | price_asc | price_desc
    pub sort: Option<String>,
    /// Comma-separated facets to count: field, modes, ip_kinds, status, province, trl, dual_use.
    pub facets: Option<String>,
    /// 1 to 100 (default 20).
    #[serde(default, deserialize_with = "ttx_web::pagination::page_limit")]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// A listing as a search result shows it: everything a result card needs, without the long
/// description and the IP item details (read them at `GET /v1/listings/{id}`), never contact
/// details.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ListingCard {
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub keywords: Vec<String>,
    pub field: TechField,
    pub field_zh: String,
    pub trl: u8,
    pub trl_stage_zh: String,
    /// Kinds of the listing's IP items (each once).
    pub ip_kinds: Vec<IpKind>,
    pub transfer_modes: Vec<TransferMode>,
    pub price: Price,
    pub owner: OrgRef,
    pub region_code: String,
    pub region_name: String,
    pub dual_use: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<NaiveDate>,
    pub status: ListingStatus,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    /// Owner only (`mine=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

impl ListingCard {
    /// The card of a listing; `owner_view` adds the external id.
    pub fn build(
        l: Listing,
        org: Option<&OrgInfo>,
        status: ListingStatus,
        owner_view: bool,
    ) -> ListingCard {
        let d = l.data;
        let mut ip_kinds: Vec<IpKind> = Vec::with_capacity(d.ip_items.len());
        for i in &d.ip_items {
            if !ip_kinds.contains(&i.kind) {
                ip_kinds.push(i.kind);
            }
        }
        ListingCard {
            id: l.id,
            title: d.title,
            summary: d.summary,
            keywords: d.keywords,
            field: d.field,
            field_zh: d.field.zh().to_string(),
            trl: d.trl.level(),
            trl_stage_zh: d.trl.stage_zh().to_string(),
            ip_kinds,
            transfer_modes: d.modes,
            price: d.price,
            owner: OrgRef {
                id: l.owner_org_id,
                name: org.map(|o| o.name.clone()).unwrap_or_default(),
                kind: org.map(|o| o.kind.as_str().to_string()).unwrap_or_default(),
            },
            region_code: l.region.as_string(),
            region_name: l.region.full_name(),
            dual_use: d.dual_use,
            expires_on: d.expires_on,
            status,
            version: l.version,
            updated_at: l.updated_at,
            published_at: l.published_at,
            external_id: if owner_view { l.external_id } else { None },
        }
    }
}

/// One search hit: the listing's card, never contact details.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    pub listing: ListingCard,
    /// Relevance score (0 without query text).
    pub score: f32,
    /// `title` / `summary` with matches in `<em>…</em>` (HTML-escaped).
    pub highlights: BTreeMap<String, String>,
}

/// Search results: the shape every search answers ([`ttx_web::pagination::SearchPage`]).
pub type SearchResponse = ttx_web::pagination::SearchPage<SearchHit>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn input(v: serde_json::Value) -> ListingInput {
        serde_json::from_value(v).unwrap()
    }

    fn good() -> serde_json::Value {
        json!({
            "title": "高能量密度固态锂电池电解质",
            "summary": "一种硫化物固态电解质及其制备方法",
            "description": "本成果涉及固态电池……",
            "keywords": ["固态电池", "电解质"],
            "field": "new_energy",
            "trl": 5,
            "ip_items": [{"kind": "invention_patent", "number": "CN202310123456.6", "status": "granted"}],
            "transfer_modes": ["transfer", "license"],
            "price": {"kind": "range", "min": 100000000, "max": 300000000},
            "expires_on": "2027-06-30",
            "contact": {"name": "王老师", "phone": "13800138000"}
        })
    }

    #[test]
    fn parses_a_good_listing() {
        let n = input(good()).parse(today()).unwrap();
        assert_eq!(n.data.ip_items[0].number.as_deref(), Some("202310123456.6"));
        assert_eq!(n.data.region, None);
        assert_eq!(n.publish, None);
    }

    #[test]
    fn reports_every_problem() {
        let mut v = good();
        v["title"] = json!("");
        v["ip_items"][0]["number"] = json!("CN202310123456.7");
        v["region_code"] = json!("999999");
        v["price"] = json!({"kind": "range", "min": 5, "max": 1});
        v["transfer_modes"] = json!([]);
        v["expires_on"] = json!("2020-01-01");
        let errs = input(v).parse(today()).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "title",
            "ip_items[0].number",
            "region_code",
            "price.min",
            "transfer_modes",
            "expires_on",
        ] {
            assert!(fields.contains(&f), "{f} missing in {fields:?}");
        }
    }

    #[test]
    fn wrong_shapes_are_serde_errors() {
        let mut v = good();
        v["trl"] = json!(12);
        assert!(serde_json::from_value::<ListingInput>(v).is_err());
        let mut v = good();
        v["price"] = json!({"kind": "cheap"});
        assert!(serde_json::from_value::<ListingInput>(v).is_err());
    }

    #[test]
    fn patches() {
        let p: ListingPatchInput =
            serde_json::from_value(json!({"registration_no": null, "title": "新的标题文字"}))
                .unwrap();
        let p = p.parse(today()).unwrap();
        assert_eq!(p.registration_no, Some(None));
        assert_eq!(p.title.as_deref(), Some("新的标题文字"));
        let empty: ListingPatchInput = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty.parse(today()).unwrap_err().0[0].code, "empty_patch");
    }
}
