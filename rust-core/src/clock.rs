//! Time behind a small trait, so cache and polling logic can be tested in milliseconds.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures::future::BoxFuture;
use parking_lot::Mutex;

/// A source of monotonic time, wall-clock time and sleeps.
///
/// Freshness needs both: the monotonic deadline ([`Clock::now`]) so a wall clock turned back
/// cannot make an old token look fresh, and the wall-clock expiry ([`Clock::system_time`])
/// because the monotonic clock stops while a laptop or phone is suspended: after two hours
/// asleep a one-hour token must not look fresh.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// Monotonic now.
    fn now(&self) -> Instant;
    /// Wall-clock now.
    fn system_time(&self) -> SystemTime;
    /// Sleeps for `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// The real clock: `Instant::now`, `SystemTime::now` and `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn system_time(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that only moves when told to, or when something sleeps on it.
///
/// `sleep` advances the clock by the requested duration at once and records it, so a device poll
/// that waits 5 s, then 10 s, runs instantly and the test can assert the exact waits.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    base: Instant,
    system_base: SystemTime,
    offset: Duration,
    /// Extra wall-clock time (a suspend, a clock jump), which the monotonic clock did not see.
    wall_offset: Duration,
    sleeps: Vec<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock starting at the real current time.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new(ManualState {
                base: Instant::now(),
                system_base: SystemTime::now(),
                offset: Duration::ZERO,
                wall_offset: Duration::ZERO,
                sleeps: Vec::new(),
            })),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.inner.lock().offset += by;
    }

    /// A suspend (laptop lid closed, phone asleep): the wall clock moves forward by `by` while
    /// the monotonic clock, like `CLOCK_MONOTONIC` during suspend, does not.
    pub fn suspend(&self, by: Duration) {
        self.inner.lock().wall_offset += by;
    }

    /// Every duration slept on this clock, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.inner.lock().sleeps.clone()
    }

    /// How far the clock has moved since it was created.
    pub fn elapsed(&self) -> Duration {
        self.inner.lock().offset
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let s = self.inner.lock();
        s.base + s.offset
    }

    fn system_time(&self) -> SystemTime {
        let s = self.inner.lock();
        s.system_base + s.offset + s.wall_offset
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        {
            let mut s = self.inner.lock();
            s.offset += duration;
            s.sleeps.push(duration);
        }
        // Yield once so a sleeping loop still lets other tasks (and cancellation) run.
        Box::pin(tokio::task::yield_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_advances_when_slept_on() {
        let clock = ManualClock::new();
        let t0 = clock.now();
        clock.sleep(Duration::from_secs(5)).await;
        assert_eq!(clock.now() - t0, Duration::from_secs(5));
        assert_eq!(clock.sleeps(), vec![Duration::from_secs(5)]);
    }
}
