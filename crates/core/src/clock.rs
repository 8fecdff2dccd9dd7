//! The one clock of TTX, and the one "today in Beijing".
//!
//! Code never calls `Utc::now()`: it asks [`now`] (or [`today`] for the business date). What they
//! answer is the [`Clock`] in effect for the running task:
//!
//! - the server keeps its clock in its state and installs it for every request (middleware) and
//!   for every background job ([`Clock::scope`]); in production that is [`Clock::system`];
//! - tests build the application with [`Clock::manual`], a clock that runs with the system clock
//!   but can be moved forward or set ([`Clock::advance`], [`Clock::set`]), so deadlines, expiry
//!   and review clocks are tested by moving time, never by writing timestamps into the database;
//! - outside any scope (command-line tools, unit tests) it is the system clock.
//!
//! Business dates (deadlines, expiry, registration years) are dates in China Standard Time,
//! UTC+8 all year round: [`beijing_date`].
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// China Standard Time: UTC+8, no daylight saving.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The calendar date in Beijing at instant `t`.
pub fn beijing_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&beijing()).date_naive()
}

/// A source of the current time. Cheap to clone; clones share their setting.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: the system clock shifted by this many milliseconds,
    /// movable (a test clock).
    offset_ms: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock (production).
    pub fn system() -> Clock {
        Clock { offset_ms: None }
    }

    /// A movable clock, starting at the system time. It keeps running with the system clock (so
    /// retries, back-off and elapsed times behave as they do in production) and [`advance`] /
    /// [`set`] shift it.
    ///
    /// [`advance`]: Clock::advance
    /// [`set`]: Clock::set
    pub fn manual() -> Clock {
        Clock {
            offset_ms: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    /// Whether this clock can be moved.
    pub fn is_manual(&self) -> bool {
        self.offset_ms.is_some()
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        match &self.offset_ms {
            None => now,
            Some(o) => now + Duration::milliseconds(o.load(Ordering::SeqCst)),
        }
    }

    /// Today's date in Beijing.
    pub fn today(&self) -> NaiveDate {
        beijing_date(self.now())
    }

    /// Moves a manual clock forward by `by` (backward when negative).
    ///
    /// # Panics
    /// On the system clock: moving real time is a programming error.
    pub fn advance(&self, by: Duration) {
        self.offset()
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }

    /// Sets a manual clock so that it reads `at` now (and runs on from there).
    ///
    /// # Panics
    /// On the system clock.
    pub fn set(&self, at: DateTime<Utc>) {
        let o = self.offset();
        o.store((at - Utc::now()).num_milliseconds(), Ordering::SeqCst);
    }

    fn offset(&self) -> &AtomicI64 {
        self.offset_ms
            .as_deref()
            .expect("only a manual clock (Clock::manual) can be moved")
    }

    /// Runs `fut` with this clock in effect: [`now`] and [`today`] inside it (and in everything
    /// it awaits, on the same task) read this clock.
    pub fn scope<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self.clone(), fut)
    }

    /// The clock in effect for the running task (the system clock outside any scope).
    pub fn current() -> Clock {
        CURRENT.try_with(Clock::clone).unwrap_or_default()
    }
}

/// `tokio::spawn` keeping the clock in effect: background tasks started by code that runs on a
/// clock (a request, a job, the application's assembly) read the same clock.
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(Clock::current().scope(fut))
}

tokio::task_local! {
    static CURRENT: Clock;
}

/// The current instant on the clock in effect (see the module documentation).
pub fn now() -> DateTime<Utc> {
    CURRENT.try_with(Clock::now).unwrap_or_else(|_| Utc::now())
}

/// Today's date in Beijing on the clock in effect.
pub fn today() -> NaiveDate {
    beijing_date(now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn beijing_dates_turn_at_16_utc() {
        let before = Utc.with_ymd_and_hms(2026, 3, 1, 15, 59, 59).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 1, 16, 0, 0).unwrap();
        assert_eq!(
            beijing_date(before),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        assert_eq!(
            beijing_date(after),
            NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()
        );
        // New Year's Eve in UTC is already the new year in Beijing.
        let eve = Utc.with_ymd_and_hms(2025, 12, 31, 20, 0, 0).unwrap();
        assert_eq!(
            beijing_date(eve),
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        );
    }

    #[test]
    fn a_manual_clock_moves_and_its_clones_follow() {
        let c = Clock::manual();
        let shared = c.clone();
        let start = c.now();
        c.advance(Duration::days(10));
        let moved = shared.now() - start;
        assert!(moved >= Duration::days(10) && moved < Duration::days(10) + Duration::minutes(1));
        let at = Utc.with_ymd_and_hms(2030, 6, 1, 0, 0, 0).unwrap();
        shared.set(at);
        let d = c.now() - at;
        // Within the clock's resolution (milliseconds) and the time the test takes.
        assert!(d > -Duration::milliseconds(1) && d < Duration::minutes(1));
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2030, 6, 1).unwrap());
    }

    #[test]
    #[should_panic(expected = "manual clock")]
    fn the_system_clock_cannot_be_moved() {
        Clock::system().advance(Duration::days(1));
    }

    #[tokio::test]
    async fn scoped_code_reads_the_scoped_clock() {
        let c = Clock::manual();
        c.advance(Duration::days(400));
        let inside = c.scope(async { now() }).await;
        assert!(inside - Utc::now() > Duration::days(399));
        assert!(
            now() - Utc::now() < Duration::days(1),
            "outside: the system clock"
        );
        let nested = c.scope(async { Clock::current().is_manual() }).await;
        assert!(nested);
    }
}
