//! Background work of listings: recording expiry.
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Every `every`, marks published listings past their expiry date as expired (which also
/// queues their removal from the index) until `stop` turns true.
pub async fn expiry_loop(
    db: DatabaseConnection,
    wake: Arc<Notify>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match crate::service::expire_due(&db, ttx_core::clock::now()).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(expired = n, "listings expired");
                metrics::counter!("ttx_listings_expired_total").increment(n);
                wake.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "expiring listings failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
    }
}
