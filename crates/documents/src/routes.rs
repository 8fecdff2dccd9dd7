//! HTTP: upload, list and download the documents of listings, proposals and contracts.
use crate::domain::{self, Owner};
use crate::entity as doc;
use crate::error::DocumentError;
use crate::storage::Storage;
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ttx_accounts::audit::{self, Target};
use ttx_accounts::{Actor, MaybeActor};
use ttx_web::error::Problem;
use ttx_web::{ApiError, ApiPath, ApiQuery, ApiResult, ErrorCode};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// What the document routes need.
#[derive(Clone)]
pub struct DocumentsState {
    pub db: DatabaseConnection,
    pub storage: Storage,
    pub max_bytes: usize,
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    DocumentsState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(upload_listing_document, list_listing_documents))
        .routes(routes!(download_listing_document))
        .routes(routes!(upload_proposal_document, list_proposal_documents))
        .routes(routes!(download_proposal_document))
        .routes(routes!(upload_contract_document, list_contract_documents))
        .routes(routes!(download_contract_document))
}

/// A stored document.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: i64,
    /// `listing`, `proposal` or `contract`.
    pub owner_type: String,
    pub owner_id: i64,
    pub name: String,
    pub content_type: String,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    pub size_bytes: i64,
    /// The pending amendment that lists it (contracts).
    pub amendment_id: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// `GET` this path for the bytes.
    pub download_path: String,
}

impl DocumentView {
    fn of(m: doc::Model) -> DocumentView {
        let plural = match m.owner_type.as_str() {
            "listing" => "listings",
            "proposal" => "proposals",
            _ => "contracts",
        };
        DocumentView {
            download_path: format!("/v1/{plural}/{}/documents/{}", m.owner_id, m.id),
            id: m.id,
            owner_type: m.owner_type,
            owner_id: m.owner_id,
            name: m.name,
            content_type: m.content_type,
            sha256: m.sha256,
            size_bytes: m.size_bytes,
            amendment_id: m.amendment_id,
            created_at: m.created_at,
        }
    }
}

/// The documents of one thing, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    pub items: Vec<DocumentView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file name shown to readers (1–200 characters).
    pub name: String,
    /// The SHA-256 the client expects (lower- or upper-case hex); the bytes must match it.
    /// For a contract, the hash its `documents` list records.
    pub sha256: Option<String>,
}

/// Who may do what with a thing's documents, from its owner domain's rules (404 when the
/// caller may not see it).
async fn visibility(
    db: &DatabaseConnection,
    actor: Option<&Actor>,
    owner: Owner,
    id: i64,
) -> ApiResult<bool> {
    Ok(match owner {
        Owner::Listing => {
            ttx_listings::service::get(db, actor, id)
                .await
                .map_err(ApiError::from)?
                .owner_view
        }
        Owner::Proposal => {
            let actor = actor.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
            let b = ttx_demands::service::proposals::get(db, actor, id).await?;
            b.proposal.solver_org_id == actor.org_id
        }
        Owner::Contract => {
            let actor = actor.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
            let (m, _) = ttx_contracts::service::query::get(db, actor, id).await?;
            m.seller_org_id == Some(actor.org_id)
        }
    })
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(DocumentError::TooLarge).detail(format!("a document is at most {max} bytes"))
}

async fn upload(
    st: &DocumentsState,
    actor: &Actor,
    owner: Owner,
    id: i64,
    headers: &HeaderMap,
    q: UploadQuery,
    body: Body,
) -> ApiResult<Response> {
    // Who: the owner side only (others who may read get 403, anyone else 404). Contracts are
    // checked with their rule inside the transaction below.
    if owner != Owner::Contract && !visibility(&st.db, Some(actor), owner, id).await? {
        return Err(ApiError::forbidden(format!(
            "only the {}'s own organisation adds documents",
            owner.as_str()
        )));
    }
    if owner == Owner::Contract {
        visibility(&st.db, Some(actor), owner, id).await?;
    }
    // What: type, name, declared hash, size.
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(domain::media_type)
        .unwrap_or_default();
    if !domain::allowed(&media) {
        return Err(ApiError::new(DocumentError::TypeNotAllowed)
            .detail(format!(
                "Content-Type {:?} is not taken; send one of: {}",
                media,
                domain::ALLOWED_TYPES.join(", ")
            ))
            .with_context(json!({"allowed": domain::ALLOWED_TYPES})));
    }
    let mut errs = ttx_core::FieldErrors::new();
    let name = match domain::check_name(&q.name) {
        Ok(n) => Some(n),
        Err(msg) => {
            errs.add("name", "invalid", msg);
            None
        }
    };
    let declared = match q.sha256.as_deref() {
        None => None,
        Some(s) => match domain::parse_sha256(s) {
            Some(h) => Some(h),
            None => {
                errs.add("sha256", "invalid", "64 hexadecimal digits");
                None
            }
        },
    };
    errs.into_result()?;
    let name = name.expect("checked");
    let declared_len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|n| n > st.max_bytes as u64) {
        return Err(too_large(st.max_bytes));
    }
    let bytes: Bytes = axum::body::to_bytes(body, st.max_bytes)
        .await
        .map_err(|_| too_large(st.max_bytes))?;
    if bytes.is_empty() {
        return Err(ApiError::new(DocumentError::Empty));
    }
    if !domain::bytes_match(&media, &bytes) {
        return Err(ApiError::new(DocumentError::ContentTypeMismatch)
            .detail(format!("the bytes are not a {media} file")));
    }
    let sha = domain::sha256_hex(&bytes);
    if let Some(d) = declared.filter(|d| *d != sha) {
        return Err(ApiError::new(DocumentError::HashMismatch)
            .detail(format!("the file's SHA-256 is {sha}, not {d}"))
            .with_context(json!({"declared": d, "actual": sha})));
    }
    let size = bytes.len() as i64;

    // The bytes first (content-addressed, idempotent), then the record.
    st.storage.put(&sha, bytes).await.map_err(|e| {
        tracing::error!(error = %e, backend = st.storage.backend, "storing a document failed");
        ApiError::new(DocumentError::StorageUnavailable)
    })?;
    let txn = ttx_contracts::store::write_txn(&st.db).await?;
    let amendment_id = if owner == Owner::Contract {
        let listed = ttx_contracts::service::documents::accept_upload(
            &txn,
            actor,
            id,
            ttx_contracts::domain::Document {
                name: name.clone(),
                sha256: sha.clone(),
                size_bytes: Some(size),
            },
        )
        .await?;
        match listed {
            ttx_contracts::service::documents::Listed::Amendment(a) => Some(a),
            ttx_contracts::service::documents::Listed::Contract => None,
        }
    } else {
        None
    };
    let existing = doc::Entity::find()
        .filter(doc::Column::OwnerType.eq(owner.as_str()))
        .filter(doc::Column::OwnerId.eq(id))
        .filter(doc::Column::Sha256.eq(sha.clone()))
        .one(&txn)
        .await?;
    if let Some(e) = existing {
        txn.rollback().await?;
        return Ok((StatusCode::OK, axum::Json(DocumentView::of(e))).into_response());
    }
    let m = doc::ActiveModel {
        owner_type: Set(owner.as_str().into()),
        owner_id: Set(id),
        org_id: Set(actor.org_id),
        name: Set(name),
        content_type: Set(media),
        sha256: Set(sha),
        size_bytes: Set(size),
        amendment_id: Set(amendment_id),
        uploaded_by: Set(actor.user_id),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &actor.audit(),
        "document.upload",
        Target::new(owner.as_str(), id, Some(actor.org_id)),
        json!({"document_id": m.id, "name": m.name, "sha256": m.sha256, "size_bytes": m.size_bytes}),
    )
    .await?;
    txn.commit().await?;
    let view = DocumentView::of(m);
    let mut r = (StatusCode::CREATED, axum::Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/{}/{id}/documents", owner.plural())) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

async fn list(
    st: &DocumentsState,
    actor: Option<&Actor>,
    owner: Owner,
    id: i64,
) -> ApiResult<axum::Json<DocumentList>> {
    visibility(&st.db, actor, owner, id).await?;
    let items = doc::Entity::find()
        .filter(doc::Column::OwnerType.eq(owner.as_str()))
        .filter(doc::Column::OwnerId.eq(id))
        .order_by_asc(doc::Column::Id)
        .limit(200)
        .all(&st.db)
        .await?
        .into_iter()
        .map(DocumentView::of)
        .collect();
    Ok(axum::Json(DocumentList { items }))
}

async fn download(
    st: &DocumentsState,
    actor: Option<&Actor>,
    owner: Owner,
    id: i64,
    doc_id: i64,
) -> ApiResult<Response> {
    visibility(&st.db, actor, owner, id).await?;
    let m = doc::Entity::find_by_id(doc_id)
        .one(&st.db)
        .await?
        .filter(|d| d.owner_type == owner.as_str() && d.owner_id == id)
        .ok_or_else(|| ApiError::not_found("document"))?;
    let bytes = st
        .storage
        .get(&m.sha256)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading a document failed");
            ApiError::new(DocumentError::StorageUnavailable)
        })?
        .ok_or_else(|| {
            tracing::error!(sha256 = %m.sha256, "a recorded document is missing from the storage");
            ApiError::new(DocumentError::StorageUnavailable)
        })?;
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&m.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&domain::content_disposition(&m.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", m.sha256)) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=0"),
    );
    Ok(r)
}

macro_rules! owner_routes {
    ($owner:expr, $tag:tt, $many:tt, $one:tt, $up:ident, $list:ident, $down:ident, $who:tt) => {
        #[doc = $who]
        #[utoipa::path(post, path = $many, tag = $tag, security(("bearer" = [])),
            params(("id" = i64, Path), UploadQuery),
            request_body(content = Vec<u8>, description = "the file's bytes", content_type = "application/octet-stream"),
            responses((status = 201, body = DocumentView), (status = 200, body = DocumentView, description = "the same file was uploaded before"),
                (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
                (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
        async fn $up(
            State(st): State<DocumentsState>,
            actor: Actor,
            ApiPath(id): ApiPath<i64>,
            ApiQuery(q): ApiQuery<UploadQuery>,
            headers: HeaderMap,
            body: Body,
        ) -> ApiResult<Response> {
            upload(&st, &actor, $owner, id, &headers, q, body).await
        }

        #[doc = "The documents, for whoever may read the thing they belong to."]
        #[utoipa::path(get, path = $many, tag = $tag, security((), ("bearer" = [])),
            params(("id" = i64, Path)),
            responses((status = 200, body = DocumentList), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
        async fn $list(
            State(st): State<DocumentsState>,
            MaybeActor(actor): MaybeActor,
            ApiPath(id): ApiPath<i64>,
        ) -> ApiResult<axum::Json<DocumentList>> {
            list(&st, actor.as_ref(), $owner, id).await
        }

        #[doc = "Download a document (same visibility as the thing it belongs to)."]
        #[utoipa::path(get, path = $one, tag = $tag, security((), ("bearer" = [])),
            params(("id" = i64, Path), ("doc_id" = i64, Path)),
            responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 400, body = Problem),
                (status = 401, body = Problem), (status = 404, body = Problem)))]
        async fn $down(
            State(st): State<DocumentsState>,
            MaybeActor(actor): MaybeActor,
            ApiPath((id, doc_id)): ApiPath<(i64, i64)>,
        ) -> ApiResult<Response> {
            download(&st, actor.as_ref(), $owner, id, doc_id).await
        }
    };
}

owner_routes!(
    Owner::Listing,
    "listings",
    "/listings/{id}/documents",
    "/listings/{id}/documents/{doc_id}",
    upload_listing_document,
    list_listing_documents,
    download_listing_document,
    "Upload a document of a listing (the raw bytes as the body, the type as `Content-Type`): members of the listing's organisation; data sheets, images."
);
owner_routes!(
    Owner::Proposal,
    "demands",
    "/proposals/{id}/documents",
    "/proposals/{id}/documents/{doc_id}",
    upload_proposal_document,
    list_proposal_documents,
    download_proposal_document,
    "Upload a document of a proposal (the raw bytes as the body, the type as `Content-Type`): members of the solver organisation."
);
owner_routes!(
    Owner::Contract,
    "contracts",
    "/contracts/{id}/documents",
    "/contracts/{id}/documents/{doc_id}",
    upload_contract_document,
    list_contract_documents,
    download_contract_document,
    "Upload a document of a contract (the raw bytes as the body, the type as `Content-Type`): members of the seller organisation; a file the contract (or a pending amendment) lists by SHA-256 in any state; a new file while the contract is a draft or returned (it is added to the list)."
);
