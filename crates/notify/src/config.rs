//! Settings of notifications (`[notify]` in `ttx.toml`, `TTX_NOTIFY__*` in the environment).
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NotifyConfig {
    /// Run the webhook delivery worker in this process. Turn it off to let another instance
    /// deliver (events are still recorded and delivered later).
    pub worker_enabled: bool,
    /// How often the worker looks for due deliveries when not woken up.
    pub poll_interval_ms: u64,
    /// Delay before the first retry; doubled for each further attempt.
    pub retry_base_ms: u64,
    /// Longest delay between two attempts.
    pub retry_max_ms: u64,
    /// After this many attempts a delivery is given up (`failed`).
    pub max_attempts: i32,
    /// Timeout of one HTTP attempt.
    pub timeout_ms: u64,
    /// How long a claimed delivery belongs to the worker that claimed it. A worker killed
    /// mid-attempt leaves the delivery to others once the lease ran out.
    pub lease_secs: u64,
    /// Deliveries attempted at once.
    pub concurrency: usize,
    /// Allow webhook URLs on loopback / private / link-local addresses (tests, on-premises
    /// receivers). Off by default, so webhooks cannot be pointed at internal services.
    pub allow_private_urls: bool,
    /// Webhooks an organisation may register.
    pub max_webhooks_per_org: u64,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            worker_enabled: true,
            poll_interval_ms: 1000,
            retry_base_ms: 2000,
            retry_max_ms: 3_600_000,
            max_attempts: 12,
            timeout_ms: 10_000,
            lease_secs: 60,
            concurrency: 4,
            allow_private_urls: false,
            max_webhooks_per_org: 10,
        }
    }
}

impl NotifyConfig {
    /// Delay before attempt number `attempts + 1`, after `attempts` failed ones (≥ 1):
    /// base · 2^(attempts-1), capped at `retry_max_ms`.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exp = attempts.clamp(1, 30) as u32 - 1;
        let ms = self
            .retry_base_ms
            .max(1)
            .saturating_mul(1u64 << exp)
            .min(self.retry_max_ms.max(1));
        Duration::from_millis(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let c = NotifyConfig {
            retry_base_ms: 1000,
            retry_max_ms: 10_000,
            ..Default::default()
        };
        assert_eq!(c.backoff(1), Duration::from_secs(1));
        assert_eq!(c.backoff(2), Duration::from_secs(2));
        assert_eq!(c.backoff(3), Duration::from_secs(4));
        assert_eq!(c.backoff(5), Duration::from_secs(10));
        assert_eq!(c.backoff(100), Duration::from_secs(10));
        assert_eq!(c.backoff(0), Duration::from_secs(1));
    }
}
