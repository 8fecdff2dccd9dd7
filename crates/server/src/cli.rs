//! The `ttx` command line: serve, migrate, seed, admin, openapi.
use crate::{admin, db, seed, telemetry, App, Config};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "ttx", version, about = "TTX technology-transfer exchange")]
struct Cli {
    /// Config file (default: ./ttx.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the HTTP server.
    Serve {
        /// Start on a fresh demo database (./ttx-demo, wiped at start) with demo data, and
        /// print a token per role.
        #[arg(long)]
        demo: bool,
        /// Listen address (overrides config).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Load demo data into the configured database.
    Seed {
        #[arg(long)]
        demo: bool,
    },
    /// Operator administration.
    Admin {
        #[command(subcommand)]
        cmd: AdminCmd,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Write a consistent copy of the database to DEST while the server runs (SQLite:
    /// `VACUUM INTO` and an integrity check of the copy; PostgreSQL: `pg_dump --format=custom`).
    Backup {
        /// Destination file (must not exist).
        dest: PathBuf,
    },
    /// Rebuild search indexes from the database beside the live ones, then swap them in
    /// (a running server keeps serving).
    Reindex {
        /// listings, demands or all.
        #[arg(default_value = "all")]
        index: String,
    },
    /// Turnover statistics: check or rebuild the monthly roll-up against the ledger.
    Stats {
        #[command(subcommand)]
        cmd: StatsCmd,
    },
    /// Bulk import.
    Import {
        #[command(subcommand)]
        cmd: ImportCmd,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Import technology listings from CSV or JSON Lines: every row is validated, errors are
    /// reported per line, good rows are kept; rows with a known `external_id` update.
    Listings {
        /// The .csv or .jsonl file.
        file: PathBuf,
        /// Id of the owning organisation (university, research institute or enterprise).
        #[arg(long)]
        org: i64,
        /// csv or jsonl (default: from the file extension).
        #[arg(long)]
        format: Option<String>,
        /// Rows that do not say are imported as drafts (default: published).
        #[arg(long)]
        draft: bool,
        /// Rows per transaction.
        #[arg(long, default_value_t = 1000)]
        batch_size: usize,
        /// Write every row error to this CSV file.
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// Import a station's historical contract register from CSV or JSON Lines: rows are
    /// validated first (errors by line, field and reason; then nothing is imported), each
    /// contract keeps its registration number and is booked on its registration date.
    Contracts {
        /// The .csv or .jsonl file (columns: see `ttx_contracts::import`).
        file: PathBuf,
        /// Id of the (verified) registration station whose register this is.
        #[arg(long)]
        station: i64,
        /// Only validate.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import the amendments and terminations of a station's register, decided before it moved
    /// to TTX, from CSV or JSON Lines: rows are validated first (errors by line, field and
    /// reason; then nothing is imported), each is booked on the date it was decided.
    Amendments {
        /// The .csv or .jsonl file (columns: see `ttx_contracts::import::amendments`).
        file: PathBuf,
        /// Id of the station that registered the contracts.
        #[arg(long)]
        station: i64,
        /// Only validate.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum StatsCmd {
    /// Compare the roll-up with the ledger, month by month; exits non-zero on any difference.
    Check,
    /// Recompute the roll-up from the ledger (one transaction; reports read the old one until
    /// it commits).
    Rebuild,
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Create an operator user and print its token.
    CreateOperator {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Operator")]
        name: String,
        /// Password (default: a random one, printed).
        #[arg(long)]
        password: Option<String>,
    },
    /// Verify an organisation; a station gets its jurisdiction (comma-separated region codes).
    VerifyOrg {
        id: i64,
        #[arg(long, value_delimiter = ',')]
        jurisdiction: Vec<String>,
    },
}

/// Parses the command line and runs the command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref()).context("loading configuration")?;
    telemetry::init_logs(&config.log.format, &config.log.level);
    match cli.cmd {
        Cmd::Serve { demo, bind } => serve_cmd(config, demo, bind).await,
        Cmd::Migrate => migrate_cmd(&config).await,
        Cmd::Seed { demo } => seed_cmd(&config, demo).await,
        Cmd::Admin { cmd } => admin_cmd(&config, cmd).await,
        Cmd::Reindex { index } => {
            let conn = migrated(&config, 4).await?;
            crate::search_ops::reindex(&config, &conn, &index).await
        }
        Cmd::Import { cmd } => import_cmd(&config, cmd).await,
        Cmd::Stats { cmd } => stats_cmd(&migrated(&config, 2).await?, cmd).await,
        Cmd::Backup { dest } => backup_cmd(&config, &dest).await,
        Cmd::Openapi => {
            println!("{}", crate::app::openapi().to_pretty_json()?);
            Ok(())
        }
    }
}

/// A connection (`pool` connections) to the configured database, migrated.
async fn migrated(config: &Config, pool: u32) -> anyhow::Result<sea_orm::DatabaseConnection> {
    let conn = db::connect(&config.database_url(), pool).await?;
    db::migrate(&conn).await?;
    Ok(conn)
}

/// `ttx serve [--demo] [--bind ADDR]`.
async fn serve_cmd(mut config: Config, demo: bool, bind: Option<String>) -> anyhow::Result<()> {
    if let Some(b) = bind {
        config.server.bind = b;
    }
    if demo {
        config.data_dir = PathBuf::from("ttx-demo");
        config.database.url = String::new();
        if config.data_dir.exists() {
            std::fs::remove_dir_all(&config.data_dir).context("wiping ./ttx-demo")?;
        }
    }
    let app = App::build(config.clone()).await?;
    if demo {
        let report = seed::demo(&app.state.db, &config).await?;
        seed::print_logins(&report);
    }
    let listener = tokio::net::TcpListener::bind(&config.server.bind)
        .await
        .with_context(|| format!("binding {}", config.server.bind))?;
    tracing::info!(addr = %listener.local_addr()?, "TTX listening; docs at /docs");
    println!(
        "TTX listening on http://{}  (docs: http://{}/docs)",
        listener.local_addr()?,
        listener.local_addr()?
    );
    app.serve(listener).await
}

/// `ttx migrate`.
async fn migrate_cmd(config: &Config) -> anyhow::Result<()> {
    let conn = db::connect(&config.database_url(), 2).await?;
    let pending = db::pending(&conn).await?;
    for (i, m) in pending.iter().enumerate() {
        println!("[{}/{}] {m}", i + 1, pending.len());
    }
    db::migrate(&conn).await?;
    println!("migrations current ({} applied now)", pending.len());
    Ok(())
}

/// `ttx seed --demo`.
async fn seed_cmd(config: &Config, demo: bool) -> anyhow::Result<()> {
    if !demo {
        anyhow::bail!("only `ttx seed --demo` exists");
    }
    let app = App::build(config.clone()).await?;
    if seed::already_seeded(&app.state.db).await? {
        println!("demo data already present; nothing done");
        return Ok(());
    }
    let report = seed::demo(&app.state.db, config).await?;
    seed::print_logins(&report);
    Ok(())
}

/// `ttx admin create-operator | verify-org`.
async fn admin_cmd(config: &Config, cmd: AdminCmd) -> anyhow::Result<()> {
    let conn = migrated(config, 2).await?;
    match cmd {
        AdminCmd::CreateOperator {
            email,
            name,
            password,
        } => {
            let generated = password.is_none();
            let password = password.unwrap_or_else(admin::random_password);
            let (id, token) =
                admin::create_operator(&conn, &config.accounts, &email, &name, &password).await?;
            println!("operator user {id} created ({email})");
            if generated {
                println!("password: {password}");
            }
            println!("token: {token}");
        }
        AdminCmd::VerifyOrg { id, jurisdiction } => {
            admin::verify_org_cli(&conn, id, &jurisdiction).await?;
            println!("organisation {id} verified");
        }
    }
    Ok(())
}

/// `ttx import listings | contracts | amendments`.
async fn import_cmd(config: &Config, cmd: ImportCmd) -> anyhow::Result<()> {
    let conn = migrated(config, 4).await?;
    match cmd {
        ImportCmd::Listings {
            file,
            org,
            format,
            draft,
            batch_size,
            errors,
        } => {
            let args = crate::search_ops::ImportArgs {
                file,
                org,
                format,
                draft,
                batch_size,
                errors_out: errors,
            };
            crate::search_ops::import_listings(&conn, &args).await
        }
        ImportCmd::Contracts {
            file,
            station,
            dry_run,
        } => {
            let report =
                ttx_contracts::import::import_file(&conn, &file, station, dry_run, true).await?;
            ttx_contracts::import::print_report(&report, dry_run)
        }
        ImportCmd::Amendments {
            file,
            station,
            dry_run,
        } => {
            let report = ttx_contracts::import::amendments::import_file(
                &conn, &file, station, dry_run, true,
            )
            .await?;
            ttx_contracts::import::amendments::print_report(&report, dry_run)
        }
    }
}

async fn stats_cmd(conn: &sea_orm::DatabaseConnection, cmd: StatsCmd) -> anyhow::Result<()> {
    use ttx_contracts::rollup;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} months")
            .expect("valid template"),
    );
    let progress = |done: usize, all: usize| {
        bar.set_length(all as u64);
        bar.set_position(done as u64);
    };
    match cmd {
        StatsCmd::Check => {
            bar.set_message("checking");
            let mismatches = rollup::check(conn, progress).await?;
            bar.finish_and_clear();
            for m in mismatches.iter().take(20) {
                println!(
                    "{} {} {} {} {:?}: roll-up {:?}, ledger {:?}",
                    m.key.month,
                    m.key.side,
                    m.key.dim,
                    m.key.region,
                    m.key.value,
                    m.stored,
                    m.ledger
                );
            }
            if mismatches.is_empty() {
                println!("the roll-up matches the ledger");
                Ok(())
            } else {
                anyhow::bail!("{} roll-up cells differ from the ledger", mismatches.len())
            }
        }
        StatsCmd::Rebuild => {
            bar.set_message("rebuilding");
            let cells = rollup::rebuild(conn, progress).await?;
            bar.finish_and_clear();
            println!("roll-up rebuilt from the ledger: {cells} cells");
            Ok(())
        }
    }
}

/// `ttx backup DEST`.
async fn backup_cmd(config: &Config, dest: &std::path::Path) -> anyhow::Result<()> {
    let url = config.database_url();
    let conn = db::connect(&url, 2).await?;
    let report = crate::backup::backup(&conn, &url, dest).await?;
    println!(
        "backup of the {} database written to {} ({} bytes)",
        report.backend,
        report.dest.display(),
        report.bytes
    );
    Ok(())
}
