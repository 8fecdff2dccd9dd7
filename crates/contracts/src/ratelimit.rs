//! A per-address limit on the public registration check (`GET /v1/registrations/{number}`),
//! which can confirm the figures of a certificate: without a limit, it could be used to guess
//! them. A fixed one-minute window per address, in this process's memory (each process of a
//! scaled-out deployment counts its own requests).
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Beyond this many tracked addresses, expired windows are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
pub struct CheckLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl CheckLimiter {
    /// `per_minute` checks per address and minute (0: no limit).
    pub fn new(per_minute: u32) -> CheckLimiter {
        CheckLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a check from `ip` at `now`: `Err(seconds)` to wait when over the limit.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if w.len() >= SWEEP_AT {
            w.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let e = w.entry(ip).or_insert((now, 0));
        if now.duration_since(e.0) >= WINDOW {
            *e = (now, 0);
        }
        if e.1 >= self.per_minute {
            let left = WINDOW.saturating_sub(now.duration_since(e.0));
            return Err(left.as_secs().max(1) + u64::from(left.subsec_nanos() > 0));
        }
        e.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_per_address() {
        let l = CheckLimiter::new(3);
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.check(a, t0), Ok(()));
        }
        assert_eq!(l.check(a, t0), Err(60));
        assert_eq!(l.check(a, t0 + Duration::from_millis(30_500)), Err(30));
        assert_eq!(l.check(b, t0), Ok(()), "another address has its own window");
        assert_eq!(l.check(a, t0 + WINDOW), Ok(()), "a new window");
        assert_eq!(CheckLimiter::new(0).check(a, t0), Ok(()));
    }
}
