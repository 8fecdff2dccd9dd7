//! Links are real: a contract's `listing_id`, `demand_id`, `proposal_id` and `match_id` must
//! name things the seller's side may link, else a 422 naming the field. The facts are read
//! from the other domains' tables (read-only, by column name); the rule is [`linkable`].
use crate::domain::Links;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};
use ttx_core::FieldErrors;
use ttx_web::ServiceError;

/// What is known of the linked things (None: no such thing).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LinkFacts {
    /// The listing's owner.
    pub listing_owner: Option<i64>,
    /// The need's owner, whether it is still a draft, and whether the seller proposed to it or
    /// was matched with it.
    pub demand: Option<DemandFacts>,
    /// The proposal's solver, and the owner and id of the challenge it answers.
    pub proposal: Option<ProposalFacts>,
    /// The organisations of a match: listing side, need side, broker agency.
    pub match_orgs: Option<[i64; 3]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandFacts {
    pub owner: i64,
    pub draft: bool,
    pub seller_took_part: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalFacts {
    pub solver: i64,
    pub challenge_id: i64,
    pub challenge_owner: i64,
}

/// The rule (pure): which links the seller may make; adds a field error per bad link.
///
/// - a listing: its own;
/// - a need: its own, or (once published) the buyer's, or one it proposed to or was matched with;
/// - a proposal: one it made, or one answering its own challenge; with a `demand_id` as well,
///   the proposal must answer that need;
/// - a match: one where it is the listing side, the need side or the broker's agency.
pub fn linkable(
    links: &Links,
    seller: i64,
    buyer: Option<i64>,
    f: &LinkFacts,
    e: &mut FieldErrors,
) {
    const MSG: &str = "no such item that your organisation may link to this contract";
    if links.listing_id.is_some() && f.listing_owner != Some(seller) {
        e.add("listing_id", "not_linkable", MSG);
    }
    if links.demand_id.is_some() {
        let ok = f.demand.as_ref().is_some_and(|d| {
            d.owner == seller || (!d.draft && (Some(d.owner) == buyer || d.seller_took_part))
        });
        if !ok {
            e.add("demand_id", "not_linkable", MSG);
        }
    }
    if links.proposal_id.is_some() {
        match &f.proposal {
            Some(p) if p.solver == seller || p.challenge_owner == seller => {
                if links.demand_id.is_some_and(|d| d != p.challenge_id) {
                    e.add(
                        "proposal_id",
                        "link_mismatch",
                        "the proposal does not answer the linked need (demand_id)",
                    );
                }
            }
            _ => e.add("proposal_id", "not_linkable", MSG),
        }
    }
    if links.match_id.is_some() && !f.match_orgs.is_some_and(|m| m.contains(&seller)) {
        e.add("match_id", "not_linkable", MSG);
    }
}

fn t(name: &str) -> Alias {
    Alias::new(name)
}

async fn one<C: ConnectionTrait>(
    conn: &C,
    q: &SelectStatement,
) -> Result<Option<QueryResult>, ServiceError> {
    Ok(conn.query_one(q).await?)
}

fn i(r: &QueryResult, col: &str) -> Result<i64, ServiceError> {
    r.try_get::<i64>("", col).map_err(ServiceError::internal)
}

/// Reads the facts of the links from the database.
pub async fn facts<C: ConnectionTrait>(
    conn: &C,
    links: &Links,
    seller: i64,
) -> Result<LinkFacts, ServiceError> {
    let mut f = LinkFacts::default();
    if let Some(id) = links.listing_id {
        let q = Query::select()
            .column(t("owner_org_id"))
            .from(t("listings"))
            .and_where(Expr::col(t("id")).eq(id))
            .to_owned();
        if let Some(r) = one(conn, &q).await? {
            f.listing_owner = Some(i(&r, "owner_org_id")?);
        }
    }
    if let Some(id) = links.demand_id {
        let q = Query::select()
            .columns([t("owner_org_id"), t("status")])
            .from(t("demands"))
            .and_where(Expr::col(t("id")).eq(id))
            .to_owned();
        if let Some(r) = one(conn, &q).await? {
            let owner = i(&r, "owner_org_id")?;
            let status: String = r.try_get("", "status").map_err(ServiceError::internal)?;
            let proposed = Query::select()
                .column(t("id"))
                .from(t("proposals"))
                .and_where(Expr::col(t("challenge_id")).eq(id))
                .and_where(Expr::col(t("solver_org_id")).eq(seller))
                .limit(1)
                .to_owned();
            let matched = Query::select()
                .column(t("id"))
                .from(t("matches"))
                .and_where(Expr::col(t("demand_id")).eq(id))
                .and_where(
                    Expr::col(t("listing_org_id"))
                        .eq(seller)
                        .or(Expr::col(t("agency_org_id")).eq(seller)),
                )
                .limit(1)
                .to_owned();
            let took_part =
                one(conn, &proposed).await?.is_some() || one(conn, &matched).await?.is_some();
            f.demand = Some(DemandFacts {
                owner,
                draft: status == "draft",
                seller_took_part: took_part,
            });
        }
    }
    if let Some(id) = links.proposal_id {
        let q = Query::select()
            .columns([t("solver_org_id"), t("challenge_id")])
            .from(t("proposals"))
            .and_where(Expr::col(t("id")).eq(id))
            .to_owned();
        if let Some(r) = one(conn, &q).await? {
            let challenge_id = i(&r, "challenge_id")?;
            let q = Query::select()
                .column(t("owner_org_id"))
                .from(t("demands"))
                .and_where(Expr::col(t("id")).eq(challenge_id))
                .to_owned();
            let owner = match one(conn, &q).await? {
                Some(r) => i(&r, "owner_org_id")?,
                None => 0,
            };
            f.proposal = Some(ProposalFacts {
                solver: i(&r, "solver_org_id")?,
                challenge_id,
                challenge_owner: owner,
            });
        }
    }
    if let Some(id) = links.match_id {
        let q = Query::select()
            .columns([t("listing_org_id"), t("demand_org_id"), t("agency_org_id")])
            .from(t("matches"))
            .and_where(Expr::col(t("id")).eq(id))
            .to_owned();
        if let Some(r) = one(conn, &q).await? {
            f.match_orgs = Some([
                i(&r, "listing_org_id")?,
                i(&r, "demand_org_id")?,
                i(&r, "agency_org_id")?,
            ]);
        }
    }
    Ok(f)
}

/// Checks the links of a contract of `seller` (with `buyer`), adding field errors.
pub async fn check<C: ConnectionTrait>(
    conn: &C,
    links: &Links,
    seller: i64,
    buyer: Option<i64>,
    e: &mut FieldErrors,
) -> Result<(), ServiceError> {
    if links == &Links::default() {
        return Ok(());
    }
    let f = facts(conn, links, seller).await?;
    linkable(links, seller, buyer, &f, e);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(links: &Links, f: &LinkFacts) -> Vec<(String, String)> {
        let mut e = FieldErrors::new();
        linkable(links, 1, Some(2), f, &mut e);
        e.0.into_iter().map(|x| (x.field, x.code)).collect()
    }

    #[test]
    fn the_seller_links_only_what_it_took_part_in() {
        let all = Links {
            listing_id: Some(10),
            demand_id: Some(20),
            proposal_id: Some(30),
            match_id: Some(40),
        };
        // Nothing exists: four field errors.
        assert_eq!(fields(&all, &LinkFacts::default()).len(), 4);
        let good = LinkFacts {
            listing_owner: Some(1),
            demand: Some(DemandFacts {
                owner: 2,
                draft: false,
                seller_took_part: false,
            }),
            proposal: Some(ProposalFacts {
                solver: 1,
                challenge_id: 20,
                challenge_owner: 2,
            }),
            match_orgs: Some([1, 2, 3]),
        };
        assert!(fields(&all, &good).is_empty());
        // Someone else's listing, a stranger's need, a proposal for another need.
        let bad = LinkFacts {
            listing_owner: Some(5),
            demand: Some(DemandFacts {
                owner: 6,
                draft: false,
                seller_took_part: false,
            }),
            proposal: Some(ProposalFacts {
                solver: 1,
                challenge_id: 21,
                challenge_owner: 6,
            }),
            match_orgs: Some([5, 6, 7]),
        };
        assert_eq!(
            fields(&all, &bad),
            vec![
                ("listing_id".into(), "not_linkable".into()),
                ("demand_id".into(), "not_linkable".into()),
                ("proposal_id".into(), "link_mismatch".into()),
                ("match_id".into(), "not_linkable".into()),
            ]
        );
        // A stranger's need the seller proposed to is fine; the buyer's draft is not.
        let only_demand = Links {
            demand_id: Some(20),
            ..Default::default()
        };
        let mut f = bad.clone();
        f.demand = Some(DemandFacts {
            owner: 6,
            draft: false,
            seller_took_part: true,
        });
        assert!(fields(&only_demand, &f).is_empty());
        f.demand = Some(DemandFacts {
            owner: 2,
            draft: true,
            seller_took_part: false,
        });
        assert_eq!(fields(&only_demand, &f).len(), 1);
        // No links: nothing to check.
        assert!(fields(&Links::default(), &LinkFacts::default()).is_empty());
    }
}
