//! Search wiring of the server: the engine chosen by configuration, and the operator
//! commands around the index — `ttx reindex` and `ttx import listings`.
use crate::Config;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use ttx_listings::import::{self, Format, ImportOptions};
use ttx_search::{EmbeddedEngine, SearchEngine};

/// What the application holds of search: the engine and the outbox worker's wake-up.
#[derive(Clone)]
pub struct SearchState {
    pub engine: Arc<dyn SearchEngine>,
    /// Notified after a commit that queued index updates.
    pub outbox: Arc<tokio::sync::Notify>,
}

/// The engine named by `search.engine`: `embedded` (tantivy in `data_dir/index`) or
/// `meilisearch` (`search.meili_url`, `search.meili_api_key`, `search.meili_index_prefix`).
pub fn engine_from_config(config: &Config) -> anyhow::Result<Arc<dyn SearchEngine>> {
    match config.search.engine.trim() {
        "" | "embedded" => {
            let dir = config.index_dir();
            let e = EmbeddedEngine::open(&dir)
                .with_context(|| format!("opening the search index in {}", dir.display()))?;
            Ok(Arc::new(e))
        }
        "meilisearch" | "meili" => meili_engine(config),
        other => anyhow::bail!("search.engine must be embedded or meilisearch, not {other:?}"),
    }
}

fn meili_engine(config: &Config) -> anyhow::Result<Arc<dyn SearchEngine>> {
    let url = config
        .search
        .meili_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .context("search.engine = meilisearch needs search.meili_url (TTX_SEARCH__MEILI_URL)")?;
    let engine = ttx_search::MeiliEngine::new(
        url,
        config
            .search
            .meili_api_key
            .clone()
            .filter(|k| !k.is_empty()),
        config.search.meili_index_prefix.clone(),
    )
    .with_context(|| format!("configuring Meilisearch at {url}"))?;
    Ok(Arc::new(engine))
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:>10} [{bar:40.cyan/blue}] {pos}/{len} ({per_sec}, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// `ttx reindex [listings|demands|all]`: rebuilds each index beside the live one and swaps
/// it in; a running server keeps serving (and indexing) meanwhile.
pub async fn reindex(config: &Config, db: &DatabaseConnection, which: &str) -> anyhow::Result<()> {
    let engine = engine_from_config(config)?;
    let sources = crate::app::doc_sources(db);
    let mut names: Vec<&'static str> = match which {
        "all" => sources.keys().copied().collect(),
        name => vec![*sources.keys().find(|k| **k == name).with_context(|| {
            format!(
                "no searchable index named {name:?} (registered: {})",
                sources.keys().copied().collect::<Vec<_>>().join(", ")
            )
        })?],
    };
    names.sort_unstable();
    for name in names {
        let source = sources[name].clone();
        let pb = bar(0, name);
        let report = ttx_search::reindex(db, engine.as_ref(), source.as_ref(), |done, total| {
            pb.set_length(total);
            pb.set_position(done);
        })
        .await
        .with_context(|| format!("reindexing {name}"))?;
        pb.finish();
        println!(
            "{name}: {} documents indexed ({} expected), {} changed meanwhile and re-applied, {:.1}s",
            report.indexed,
            report.expected,
            report.caught_up,
            report.elapsed.as_secs_f64()
        );
    }
    Ok(())
}

/// Options of `ttx import listings`.
#[derive(Debug, Clone)]
pub struct ImportArgs {
    pub file: PathBuf,
    pub org: i64,
    pub format: Option<String>,
    /// Import rows that do not say as drafts (default: published).
    pub draft: bool,
    pub batch_size: usize,
    /// Write every row error to this CSV file.
    pub errors_out: Option<PathBuf>,
}

fn format_of(path: &Path, given: Option<&str>) -> anyhow::Result<Format> {
    match given.map(|f| f.trim().to_ascii_lowercase()) {
        Some(f) if f == "csv" => Ok(Format::Csv),
        Some(f) if f == "jsonl" || f == "ndjson" || f == "json" => Ok(Format::Jsonl),
        Some(f) => anyhow::bail!("--format must be csv or jsonl, not {f:?}"),
        None => Format::from_path(path).with_context(|| {
            format!(
                "cannot tell the format of {} from its name; pass --format csv|jsonl",
                path.display()
            )
        }),
    }
}

/// `ttx import listings FILE --org ID`: validates every row, reports errors per line, keeps
/// the good rows; the outbox worker of a running (or the next started) server indexes them.
pub async fn import_listings(db: &DatabaseConnection, args: &ImportArgs) -> anyhow::Result<()> {
    let format = format_of(&args.file, args.format.as_deref())?;
    let total = import::count_rows(&args.file, format)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let pb = bar(total, "import");
    let mut opts = ImportOptions::new(args.org);
    opts.batch_size = args.batch_size.max(1);
    opts.publish_by_default = !args.draft;
    let report = import::import_file(db, None, &args.file, format, &opts, |done, _| {
        pb.set_position(done)
    })
    .await
    .with_context(|| format!("importing {}", args.file.display()))?;
    pb.finish_and_clear();
    const SHOWN: usize = 50;
    for e in report.errors.iter().take(SHOWN) {
        let field = if e.field.is_empty() { "-" } else { &e.field };
        eprintln!("line {}: {field}: {} ({})", e.line, e.message, e.code);
    }
    if report.errors.len() > SHOWN {
        eprintln!("… and {} more errors", report.errors.len() - SHOWN);
    }
    if let Some(out) = &args.errors_out {
        let mut w =
            csv::Writer::from_path(out).with_context(|| format!("writing {}", out.display()))?;
        for e in &report.errors {
            w.serialize(e)?;
        }
        w.flush()?;
        println!("row errors written to {}", out.display());
    }
    let lag = ttx_search::outbox_lag(db).await?;
    println!(
        "{} rows: {} created, {} updated, {} failed; {} published ({:.0} listings/s); \
         {} index updates pending (a running server applies them)",
        report.rows,
        report.created,
        report.updated,
        report.failed,
        report.published,
        report.rate(),
        lag.pending
    );
    if report.failed > 0 && report.created + report.updated == 0 {
        anyhow::bail!("no row could be imported");
    }
    Ok(())
}
