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
    /// Monotonic now, read from a clock that may be off by up to [`Clock::coarse_resolution`]:
    /// the cache-hit check reads it on every call, and a coarse clock costs a fraction of a
    /// precise one. The check moves its deadlines earlier by the resolution, so it never
    /// serves a token later than the precise clocks would.
    fn coarse_now(&self) -> Instant {
        self.now()
    }
    /// Wall-clock now, allowed to lag by up to [`Clock::coarse_resolution`] (see
    /// [`Clock::coarse_now`]).
    fn coarse_system_time(&self) -> SystemTime {
        self.system_time()
    }
    /// How far [`Clock::coarse_now`] and [`Clock::coarse_system_time`] may be from the precise
    /// clocks (zero when they are the precise clocks).
    fn coarse_resolution(&self) -> Duration {
        Duration::ZERO
    }
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

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn coarse_now(&self) -> Instant {
        coarse::now()
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn coarse_system_time(&self) -> SystemTime {
        coarse::system_time()
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn coarse_resolution(&self) -> Duration {
        coarse::resolution()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The kernel's coarse clocks (`CLOCK_MONOTONIC_COARSE`, `CLOCK_REALTIME_COARSE`): the time of
/// the last tick, read from the vDSO without touching the clock source.
#[cfg(any(target_os = "linux", target_os = "android"))]
mod coarse {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant, SystemTime};

    use rustix::time::{ClockId, Timespec, clock_getres, clock_gettime};

    fn duration(t: Timespec) -> Option<Duration> {
        Some(Duration::new(
            u64::try_from(t.tv_sec).ok()?,
            u32::try_from(t.tv_nsec).ok()?,
        ))
    }

    /// An `Instant` and the coarse monotonic reading taken with it: std cannot make an
    /// `Instant` from a reading, so coarse readings are placed relative to this pair. The
    /// coarse clock lags the precise one by at most a tick, so a placed reading is within a
    /// tick of the precise `Instant::now()`.
    fn anchor() -> Option<(Instant, Duration)> {
        static ANCHOR: OnceLock<Option<(Instant, Duration)>> = OnceLock::new();
        *ANCHOR.get_or_init(|| {
            let at = Instant::now();
            Some((at, duration(clock_gettime(ClockId::MonotonicCoarse))?))
        })
    }

    pub(super) fn now() -> Instant {
        let Some((at, reading)) = anchor() else {
            return Instant::now();
        };
        duration(clock_gettime(ClockId::MonotonicCoarse))
            .and_then(|r| r.checked_sub(reading))
            .and_then(|d| at.checked_add(d))
            .unwrap_or_else(Instant::now)
    }

    pub(super) fn system_time() -> SystemTime {
        duration(clock_gettime(ClockId::RealtimeCoarse))
            .and_then(|d| SystemTime::UNIX_EPOCH.checked_add(d))
            // A clock before 1970: ask the precise one.
            .unwrap_or_else(SystemTime::now)
    }

    pub(super) fn resolution() -> Duration {
        static RESOLUTION: OnceLock<Duration> = OnceLock::new();
        *RESOLUTION.get_or_init(|| {
            duration(clock_getres(ClockId::MonotonicCoarse))
                // Unknown: assume the slowest tick (HZ=100), doubled for the anchor's reading.
                .map_or(Duration::from_millis(20), |tick| tick * 2)
        })
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

    #[test]
    fn the_coarse_clocks_are_the_precise_ones_within_their_resolution() {
        let clock = SystemClock;
        let res = clock.coarse_resolution();
        assert!(res <= Duration::from_millis(20), "{res:?}");
        for _ in 0..1000 {
            let (before, wall_before) = (clock.now(), clock.system_time());
            let (coarse, coarse_wall) = (clock.coarse_now(), clock.coarse_system_time());
            let (after, wall_after) = (clock.now(), clock.system_time());
            // Never later than the precise clock by more than the resolution…
            assert!(
                coarse <= after + res,
                "{coarse:?} leads {after:?} by more than {res:?}"
            );
            assert!(coarse_wall <= wall_after + res);
            // …and behind it by at most a resolution (plus time descheduled, hence the slack).
            let slack = res + Duration::from_millis(200);
            assert!(coarse + slack >= before, "{coarse:?} lags {before:?}");
            assert!(coarse_wall + slack >= wall_before);
        }
    }
}
