//! The generation protocol of the embedded engine: a second engine on the same directory
//! (standing in for the `ttx reindex` process) rebuilds and flips the pointer while the
//! first (the server) keeps serving and writing.

use std::path::Path;
use std::time::Duration;

use ttx_search::{
    region_prefixes, EmbeddedEngine, EmbeddedOptions, SearchDoc, SearchEngine, SearchError,
    SearchQuery,
};

const IDX: &str = "listings";

fn doc(id: i64, title: &str) -> SearchDoc {
    SearchDoc {
        id,
        title: title.into(),
        summary: String::new(),
        body: String::new(),
        keywords: vec![],
        org_name: None,
        org_id: None,
        field: "new_energy".into(),
        modes: vec![],
        ip_kinds: vec![],
        status: "published".into(),
        region_code: "440305".into(),
        region_prefixes: region_prefixes("440305"),
        dual_use: false,
        trl: None,
        amount_min: None,
        amount_max: None,
        negotiable: true,
        published_at: id,
        deadline: None,
        tags: vec![],
    }
}

async fn hits(e: &EmbeddedEngine, text: &str) -> u64 {
    e.search(IDX, &SearchQuery::text(text)).await.unwrap().total
}

fn gens(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(IDX))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_engine_rebuilds_and_the_server_follows() {
    let dir = tempfile::tempdir().unwrap();
    let server_opts = EmbeddedOptions {
        pointer_check_interval: Duration::ZERO,
        retired_grace: Duration::ZERO,
        ..Default::default()
    };
    let server = EmbeddedEngine::open_with(dir.path(), server_opts).unwrap();
    server
        .upsert(IDX, (1..=3).map(|i| doc(i, "锂离子电池")).collect())
        .await
        .unwrap();
    assert_eq!(server.live_generation(IDX).await.unwrap(), "g000001");

    let cli = EmbeddedEngine::open(dir.path()).unwrap();
    let mut rb = cli.rebuild(IDX).await.unwrap();
    rb.add((1..=5).map(|i| doc(i, "钙钛矿")).collect())
        .await
        .unwrap();
    // The server keeps serving and writing the live generation meanwhile.
    assert_eq!(hits(&server, "钙钛矿").await, 0);
    server.upsert(IDX, vec![doc(10, "氮化镓")]).await.unwrap();
    assert_eq!(hits(&server, "氮化镓").await, 1);

    rb.swap().await.unwrap();
    assert_eq!(cli.live_generation(IDX).await.unwrap(), "g000002");
    assert!(dir
        .path()
        .join(IDX)
        .join("g000001")
        .join("RETIRED")
        .exists());
    // Catch-up by the reindex process writes to the new generation.
    cli.upsert(IDX, vec![doc(10, "氮化镓")]).await.unwrap();

    // The server notices the flipped pointer on its next search.
    assert_eq!(hits(&server, "钙钛矿").await, 5);
    assert_eq!(hits(&server, "氮化镓").await, 1);
    assert_eq!(server.live_generation(IDX).await.unwrap(), "g000002");
    // The retired generation is gone (grace 0 for the server).
    assert_eq!(gens(dir.path()), vec!["g000002"]);

    // While the reindex process still holds the new generation's writer, server writes
    // fail with Locked (the outbox retries them) ...
    match server.upsert(IDX, vec![doc(11, "碳化硅")]).await {
        Err(SearchError::Locked(_)) => {}
        other => panic!("expected Locked, got {other:?}"),
    }
    // ... and succeed once it has released it (as `reindex` does) or exited.
    cli.release(IDX).await.unwrap();
    server.upsert(IDX, vec![doc(11, "碳化硅")]).await.unwrap();
    assert_eq!(server.count(IDX).await.unwrap(), 7);
    assert_eq!(hits(&server, "碳化硅").await, 1);
}

#[tokio::test]
async fn an_abandoned_rebuild_leaves_no_directory() {
    let dir = tempfile::tempdir().unwrap();
    let e = EmbeddedEngine::open(dir.path()).unwrap();
    e.upsert(IDX, vec![doc(1, "石墨烯")]).await.unwrap();
    let mut rb = e.rebuild(IDX).await.unwrap();
    rb.add(vec![doc(2, "碳纤维")]).await.unwrap();
    assert_eq!(gens(dir.path()).len(), 2);
    drop(rb);
    assert_eq!(gens(dir.path()), vec!["g000001"]);
    assert_eq!(e.count(IDX).await.unwrap(), 1);
}

#[tokio::test]
async fn reopening_keeps_the_live_generation() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = EmbeddedEngine::open(dir.path()).unwrap();
        e.upsert(IDX, vec![doc(1, "石墨烯")]).await.unwrap();
        let mut rb = e.rebuild(IDX).await.unwrap();
        rb.add(vec![doc(1, "石墨烯"), doc(2, "碳纤维")])
            .await
            .unwrap();
        rb.swap().await.unwrap();
    }
    let e = EmbeddedEngine::open(dir.path()).unwrap();
    assert_eq!(e.live_generation(IDX).await.unwrap(), "g000002");
    assert_eq!(e.count(IDX).await.unwrap(), 2);
    let stats = e.stats().await.unwrap();
    assert_eq!(stats.indexes[IDX].docs, 2);
    assert!(stats.indexes[IDX].bytes_on_disk.unwrap() > 0);
    // Bad index names are refused, not turned into paths.
    assert!(matches!(
        e.count("../etc").await,
        Err(SearchError::InvalidIndex(_))
    ));
}
