//! The listings' public face in the search index ([`DocSource`] for [`LISTINGS`]).
//!
//! Only published listings within their expiry date are searchable; everything else loads as
//! `None` and is removed from the index. Contact details never reach a [`SearchDoc`].
use crate::domain::{self, ListingStatus};
use crate::entity::listing::{Column, Entity, Model};
use crate::store::{self, Listing, OrgInfo};
use async_trait::async_trait;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use ttx_search::{DocSource, IndexName, SearchDoc, SearchError, LISTINGS};

/// Builds the index document of a listing from its public fields.
pub fn to_search_doc(l: &Listing, org: Option<&OrgInfo>, status: ListingStatus) -> SearchDoc {
    let d = &l.data;
    let (amount_min, amount_max) = d.price.bounds();
    let mut ip_kinds: Vec<String> = d
        .ip_items
        .iter()
        .map(|i| i.kind.as_str().to_string())
        .collect();
    ip_kinds.sort();
    ip_kinds.dedup();
    let mut body = d.description.clone();
    for t in d.ip_items.iter().filter_map(|i| i.title.as_deref()) {
        body.push('\n');
        body.push_str(t);
    }
    SearchDoc {
        id: l.id,
        title: d.title.clone(),
        summary: d.summary.clone(),
        body,
        keywords: d.keywords.clone(),
        org_name: org.map(|o| o.name.clone()),
        org_id: Some(l.owner_org_id),
        field: d.field.as_str().to_string(),
        modes: d.modes.iter().map(|m| m.as_str().to_string()).collect(),
        ip_kinds,
        status: status.as_str().to_string(),
        region_code: l.region.as_string(),
        region_prefixes: l.region.prefixes(),
        dual_use: d.dual_use,
        trl: Some(i64::from(d.trl.level())),
        amount_min,
        amount_max,
        negotiable: amount_min.is_none() && amount_max.is_none(),
        published_at: l.published_at.unwrap_or(l.created_at).timestamp(),
        deadline: None,
        tags: Vec::new(),
    }
}

/// Loads listings for the outbox worker and reindex.
#[derive(Clone)]
pub struct ListingSource {
    db: DatabaseConnection,
}

impl ListingSource {
    pub fn new(db: DatabaseConnection) -> Self {
        ListingSource { db }
    }
}

/// Published and not past expiry, as of today (Beijing).
fn searchable() -> Condition {
    let today = ttx_core::clock::today();
    Condition::all()
        .add(Column::Status.eq(ListingStatus::Published.as_str()))
        .add(
            Condition::any()
                .add(Column::ExpiresOn.is_null())
                .add(Column::ExpiresOn.gte(today)),
        )
}

async fn docs_of(
    db: &DatabaseConnection,
    rows: Vec<Model>,
) -> Result<Vec<(i64, Option<SearchDoc>)>, SearchError> {
    let orgs: HashMap<i64, OrgInfo> = store::orgs(db, rows.iter().map(|r| r.owner_org_id)).await?;
    let today = ttx_core::clock::today();
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let l = store::decode(&m).map_err(|e| SearchError::Source(e.to_string()))?;
        let status = domain::effective_status(l.status, l.data.expires_on, today);
        let doc = (status == ListingStatus::Published)
            .then(|| to_search_doc(&l, orgs.get(&l.owner_org_id), status));
        out.push((l.id, doc));
    }
    Ok(out)
}

#[async_trait]
impl DocSource for ListingSource {
    fn index(&self) -> IndexName {
        LISTINGS
    }

    async fn load(&self, ids: &[i64]) -> Result<Vec<(i64, Option<SearchDoc>)>, SearchError> {
        let rows = store::by_ids(&self.db, ids).await?;
        docs_of(&self.db, rows).await
    }

    async fn scan(
        &self,
        after_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<SearchDoc>, SearchError> {
        let mut q = Entity::find().filter(searchable());
        if let Some(a) = after_id {
            q = q.filter(Column::Id.gt(a));
        }
        let rows = q
            .order_by_asc(Column::Id)
            .limit(limit as u64)
            .all(&self.db)
            .await?;
        Ok(docs_of(&self.db, rows)
            .await?
            .into_iter()
            .filter_map(|(_, d)| d)
            .collect())
    }

    async fn count(&self) -> Result<u64, SearchError> {
        Ok(Entity::find().filter(searchable()).count(&self.db).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Contact, ListingData, Price};
    use ttx_core::{Fen, OrgKind, RegionCode, TechField, TransferMode, Trl};

    #[test]
    fn index_documents_carry_public_fields_only() {
        let now = ttx_core::clock::now();
        let region = RegionCode::parse("440305").unwrap();
        let l = Listing {
            id: 7,
            owner_org_id: 3,
            created_by: Some(1),
            data: ListingData {
                title: "固态电池".into(),
                summary: "简介".into(),
                description: "描述".into(),
                keywords: vec!["电池".into()],
                field: TechField::NewEnergy,
                trl: Trl::new(5).unwrap(),
                ip_items: vec![],
                modes: vec![TransferMode::License],
                price: Price::Range {
                    min: Fen(10),
                    max: Fen(20),
                },
                region: Some(region),
                registration_no: None,
                dual_use: true,
                expires_on: None,
                contact: Contact {
                    name: Some("秘密联系人".into()),
                    phone: Some("13912345678".into()),
                    email: Some("secret@lab.test".into()),
                },
            },
            region,
            status: ListingStatus::Published,
            external_id: Some("internal-42".into()),
            version: 1,
            created_at: now,
            updated_at: now,
            published_at: Some(now),
            closed_at: None,
            withdrawal_reason: None,
            licences_granted: 0,
            last_transacted_at: None,
        };
        let org = OrgInfo {
            id: 3,
            name: "华南研究院".into(),
            kind: OrgKind::ResearchInstitute,
            region: "440305".into(),
        };
        let doc = to_search_doc(&l, Some(&org), ListingStatus::Published);
        assert_eq!(doc.region_prefixes, vec!["44", "4403", "440305"]);
        assert_eq!(
            (doc.amount_min, doc.amount_max, doc.negotiable),
            (Some(10), Some(20), false)
        );
        assert_eq!(doc.org_name.as_deref(), Some("华南研究院"));
        assert_eq!(doc.modes, vec!["license"]);
        let text = serde_json::to_string(&doc).unwrap();
        for secret in [
            "秘密联系人",
            "13912345678",
            "secret@lab.test",
            "internal-42",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}
