//! Metrics read from the database at each scrape (so every process behind a load balancer reports
//! the same figures): contracts by status, the stations' review queue and how much of it is
//! overdue, the search outbox lag per index, webhook deliveries by status. Rendered in the
//! Prometheus text format, with `# HELP` and `# TYPE` lines, after the process's own metrics.
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use std::collections::BTreeMap;
use std::fmt::Write;
use ttx_contracts::domain::{AmendmentStatus, ContractStatus};
use ttx_contracts::entity::{amendment, contract};
use ttx_core::Labelled;

/// Help text of every metric the process records itself (`# HELP` lines need a description).
pub const DESCRIBED: &[(&str, &str)] = &[
    (
        "ttx_http_requests_total",
        "HTTP requests answered, by method, route and status",
    ),
    (
        "ttx_http_request_duration_seconds",
        "Time to answer an HTTP request, by method and route",
    ),
    (
        "ttx_search_outbox_pending",
        "Search index updates not yet applied (all indexes)",
    ),
    (
        "ttx_search_outbox_oldest_seconds",
        "Age of the oldest search index update not yet applied (all indexes)",
    ),
    (
        "ttx_search_outbox_applied_total",
        "Search index updates applied by this process, by index",
    ),
    (
        "ttx_search_outbox_failures_total",
        "Search index updates that failed in this process (retried), by index",
    ),
    (
        "ttx_notify_events_total",
        "Notification events emitted, by kind",
    ),
    (
        "ttx_webhook_attempts_total",
        "Webhook delivery attempts by this process, by result",
    ),
    (
        "ttx_demands_expired_total",
        "Technical needs closed because their deadline passed",
    ),
    (
        "ttx_listings_expired_total",
        "Listings expired because their validity ended",
    ),
    (
        "ttx_listings_search_seconds",
        "Time of a listing search, by whether it is the owner's own search",
    ),
    (
        "ttx_listings_imported_total",
        "Listings created or updated by bulk import",
    ),
];

/// Registers the help texts with the installed recorder (call once it is installed).
pub fn describe() {
    for (name, help) in DESCRIBED {
        let name = *name;
        if name.ends_with("_total") {
            metrics::describe_counter!(name, *help);
        } else if name.ends_with("_seconds") && !name.contains("oldest") {
            metrics::describe_histogram!(name, metrics::Unit::Seconds, *help);
        } else {
            metrics::describe_gauge!(name, *help);
        }
    }
}

struct Out(String);

impl Out {
    fn head(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} gauge");
    }
    fn line(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        if labels.is_empty() {
            let _ = writeln!(self.0, "{name} {value}");
        } else {
            let _ = writeln!(self.0, "{name}{{{}}} {value}", labels.join(","));
        }
    }
}

/// The domain metrics, for the indexes `indexes` (every one is reported, 0 when in step).
pub async fn render(db: &DatabaseConnection, indexes: &[&str]) -> Result<String, DbErr> {
    let mut out = Out(String::new());

    // Contracts by status.
    let rows: Vec<(String, i64)> = contract::Entity::find()
        .select_only()
        .column(contract::Column::Status)
        .column_as(contract::Column::Id.count(), "n")
        .group_by(contract::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_status: BTreeMap<String, i64> = ContractStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    for (s, n) in rows {
        by_status.insert(s, n);
    }
    out.head("ttx_contracts", "Technology contracts by status");
    for (s, n) in &by_status {
        out.line("ttx_contracts", &[("status", s)], *n as f64);
    }

    // The stations' review queue: contracts submitted or accepted, and pending amendment or
    // termination requests; overdue: accepted contracts past their review deadline.
    let in_review = by_status
        .iter()
        .filter(|(s, _)| {
            s.parse::<ContractStatus>()
                .is_ok_and(|s| matches!(s, ContractStatus::Submitted | ContractStatus::Accepted))
        })
        .map(|(_, n)| *n)
        .sum::<i64>();
    let amendments = amendment::Entity::find()
        .filter(amendment::Column::Status.eq(AmendmentStatus::Pending.as_str()))
        .count(db)
        .await?;
    out.head(
        "ttx_review_queue",
        "Work waiting for registration stations, by kind (contract in review, amendment request)",
    );
    out.line(
        "ttx_review_queue",
        &[("kind", "contract")],
        in_review as f64,
    );
    out.line(
        "ttx_review_queue",
        &[("kind", "amendment")],
        amendments as f64,
    );
    let overdue = contract::Entity::find()
        .filter(contract::Column::Status.eq(ContractStatus::Accepted.as_str()))
        .filter(contract::Column::ReviewDueOn.lt(ttx_contracts::service::today()))
        .count(db)
        .await?;
    out.head(
        "ttx_review_overdue",
        "Accepted contracts whose review deadline has passed",
    );
    out.line("ttx_review_overdue", &[], overdue as f64);

    // Search outbox lag per index.
    use ttx_search::outbox::entity as ob;
    let rows: Vec<(String, i64, i64)> = ob::Entity::find()
        .select_only()
        .column(ob::Column::IndexName)
        .column_as(ob::Column::Id.count(), "n")
        .column_as(ob::Column::Id.min(), "oldest")
        .filter(ob::Column::ProcessedAt.is_null())
        .group_by(ob::Column::IndexName)
        .into_tuple()
        .all(db)
        .await?;
    let mut lag: BTreeMap<String, (i64, f64)> =
        indexes.iter().map(|i| (i.to_string(), (0, 0.0))).collect();
    let now = ttx_core::clock::now();
    for (index, n, oldest_id) in rows {
        let age = match ob::Entity::find_by_id(oldest_id).one(db).await? {
            Some(r) => (now - r.created_at).num_milliseconds().max(0) as f64 / 1000.0,
            None => 0.0,
        };
        lag.insert(index, (n, age));
    }
    out.head(
        "ttx_search_outbox_lag",
        "Search index updates not yet applied, by index",
    );
    for (index, (n, _)) in &lag {
        out.line("ttx_search_outbox_lag", &[("index", index)], *n as f64);
    }
    out.head(
        "ttx_search_outbox_lag_seconds",
        "Age of the oldest search index update not yet applied, by index (0 when in step)",
    );
    for (index, (_, age)) in &lag {
        out.line("ttx_search_outbox_lag_seconds", &[("index", index)], *age);
    }

    // Webhook deliveries by status; `failed` ones gave up after their last retry.
    use ttx_notify::entity::delivery;
    let rows: Vec<(String, i64)> = delivery::Entity::find()
        .select_only()
        .column(delivery::Column::Status)
        .column_as(delivery::Column::Id.count(), "n")
        .group_by(delivery::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut deliveries: BTreeMap<String, i64> = ["pending", "delivered", "failed", "cancelled"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    for (s, n) in rows {
        deliveries.insert(s, n);
    }
    out.head(
        "ttx_webhook_deliveries",
        "Webhook deliveries by status (failed: given up after the last retry)",
    );
    for (s, n) in &deliveries {
        out.line("ttx_webhook_deliveries", &[("status", s)], *n as f64);
    }
    out.head(
        "ttx_webhook_failures",
        "Webhook deliveries that failed for good (status failed)",
    );
    out.line(
        "ttx_webhook_failures",
        &[],
        deliveries.get("failed").copied().unwrap_or(0) as f64,
    );
    Ok(out.0)
}
