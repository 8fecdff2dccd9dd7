//! Documents of a contract (the signed contract, its annexes, amendment agreements): which
//! uploads a contract takes. The bytes are stored by `ttx-documents`; here is the rule.
use super::{audit, lock};
use crate::access;
use crate::domain::{AmendmentChanges, AmendmentStatus, ContractStatus, Document};
use crate::entity::{amendment, contract};
use crate::error::ContractError;
use crate::store;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde_json::json;
use ttx_accounts::Actor;
use ttx_web::ServiceError;

/// Where an accepted upload is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// In the contract's list (already, or added now to an editable contract).
    Contract,
    /// In a pending amendment's documents (the reviewer reads it before deciding).
    Amendment(i64),
}

/// The rule (pure): a file whose SHA-256 the contract lists (or a pending amendment lists) is
/// taken in any state, so the recorded hash is matched by the bytes; a new file only while the
/// seller may edit the contract (draft, returned), which adds it to the list. `None`: refused.
pub fn placement(
    status: ContractStatus,
    listed: &[Document],
    pending: &[(i64, Vec<Document>)],
    sha: &str,
) -> Option<(Listed, bool)> {
    if listed.iter().any(|d| d.sha256 == sha) {
        return Some((Listed::Contract, false));
    }
    if let Some((aid, _)) = pending
        .iter()
        .find(|(_, docs)| docs.iter().any(|d| d.sha256 == sha))
    {
        return Some((Listed::Amendment(*aid), false));
    }
    matches!(status, ContractStatus::Draft | ContractStatus::Returned)
        .then_some((Listed::Contract, true))
}

/// Checks, within the caller's transaction, that the seller side may upload `doc` to contract
/// `id`; lists it on an editable contract. Others who may read the contract get 403, anyone
/// else 404.
pub async fn accept_upload(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: i64,
    doc: Document,
) -> Result<Listed, ServiceError> {
    let m = lock(txn, id).await?;
    access::require_view(actor, &m)?;
    access::require_seller(actor, &m)?;
    let mut content = store::content_of(&m)?;
    let pending: Vec<(i64, Vec<Document>)> = amendment::Entity::find()
        .filter(amendment::Column::ContractId.eq(m.id))
        .filter(amendment::Column::Status.eq(AmendmentStatus::Pending.as_str()))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|a| {
            let ch: AmendmentChanges = serde_json::from_str(a.changes.as_deref()?).ok()?;
            Some((a.id, ch.documents?))
        })
        .collect();
    let status = store::status_of(&m)?;
    let Some((listed, add)) = placement(status, &content.documents, &pending, &doc.sha256) else {
        return Err(
            ServiceError::new(ContractError::DocumentNotListed).detail(format!(
                "contract {} is {}: list the document in an amendment first",
                m.id,
                status.as_str()
            )),
        );
    };
    if add {
        content.documents.push(doc.clone());
        let mut am: contract::ActiveModel = m.clone().into();
        store::set_content(&mut am, &content);
        am.version = Set(m.version + 1);
        am.updated_at = Set(chrono::Utc::now());
        let updated = am.update(txn).await?;
        audit(
            txn,
            actor,
            "contract.document.add",
            &updated,
            json!({"name": doc.name, "sha256": doc.sha256}),
        )
        .await?;
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(h: char) -> Document {
        Document {
            name: "x.pdf".into(),
            sha256: h.to_string().repeat(64),
            size_bytes: None,
        }
    }

    #[test]
    fn where_an_upload_goes() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let c = "c".repeat(64);
        let listed = vec![doc('a')];
        let pending = vec![(5, vec![doc('b')])];
        use ContractStatus::*;
        assert_eq!(
            placement(Registered, &listed, &pending, &a),
            Some((Listed::Contract, false))
        );
        assert_eq!(
            placement(Registered, &listed, &pending, &b),
            Some((Listed::Amendment(5), false))
        );
        assert_eq!(placement(Registered, &listed, &pending, &c), None);
        assert_eq!(placement(Submitted, &listed, &[], &c), None);
        assert_eq!(
            placement(Draft, &listed, &[], &c),
            Some((Listed::Contract, true))
        );
        assert_eq!(
            placement(Returned, &listed, &[], &c),
            Some((Listed::Contract, true))
        );
    }
}
