//! Time sources, and the one checked conversion from seconds to a [`Duration`].
//!
//! Windows, their rotation and meters read time through a [`Clock`]: milliseconds on a
//! monotonic clock with an arbitrary origin. The default, [`CoarseClock`], reads the
//! operating system's *coarse* monotonic clock: on Linux `CLOCK_MONOTONIC_COARSE` costs a
//! few nanoseconds (no hardware counter read) at millisecond-ish resolution, which is all a
//! window measured in seconds needs. A [`ManualClock`] only moves when told to, so a test
//! (or a binding's fake timers) can step a window through its rotations exactly instead of
//! sleeping:
//!
//! ```
//! use std::time::Duration;
//! use metricore::clock::ManualClock;
//! use metricore::{Meter, WindowOpts};
//!
//! let clock = ManualClock::new();
//! let window = WindowOpts::new("jobs", Duration::from_secs(60), 6)?.with_clock(clock.clone());
//! let jobs = Meter::with_window(window);
//! jobs.mark_n(120);
//! clock.advance(Duration::from_secs(10));
//! assert_eq!(jobs.rate_per_second(), 12.0); // 120 events over the 10 s the meter has lived
//! clock.advance(Duration::from_secs(70));
//! assert_eq!(jobs.count_in_window(), 0); // the events have left the 60 s window
//! # Ok::<(), metricore::Error>(())
//! ```
//!
//! A window given no clock uses [`CoarseClock`] without any indirection: the record path
//! tests one discriminant and calls the coarse clock directly.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind, Result};

/// A monotonic time source in milliseconds. Implementations must never go backwards;
/// the origin is arbitrary (only differences are used).
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since an arbitrary, fixed origin.
    fn now_ms(&self) -> u64;
}

/// The operating system's coarse monotonic clock (the default for every window and meter).
#[derive(Debug, Clone, Copy, Default)]
pub struct CoarseClock;

impl Clock for CoarseClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        coarse_monotonic_ms()
    }
}

/// A clock that moves only when told to: for tests and for fake timers.
///
/// Clones share the same time, so a test keeps one clone and hands another to the window.
/// It starts at one day (not 0), so that windows created on it have whole sub-windows of
/// history behind them, as on a machine that has been up for a while.
#[derive(Debug, Clone)]
pub struct ManualClock {
    ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading one day (86 400 000 ms).
    pub fn new() -> Self {
        Self::starting_at_ms(86_400_000)
    }

    /// A clock reading `ms`.
    pub fn starting_at_ms(ms: u64) -> Self {
        Self {
            ms: Arc::new(AtomicU64::new(ms)),
        }
    }

    /// Moves the clock forward by `by` (whole milliseconds; saturating at `u64::MAX` ms).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        // Relaxed: the time is the only thing published; readers need no other memory.
        let _ = self
            .ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_add(by))
            });
    }

    /// Sets the clock to `ms`, which must not be earlier than the time it reads now.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] if `ms` is earlier than now: a monotonic clock cannot go back.
    pub fn set_ms(&self, ms: u64) -> Result<()> {
        // Relaxed: as in `advance`.
        self.ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                (ms >= t).then_some(ms)
            })
            .map(drop)
            .map_err(|now| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    None,
                    format!("a monotonic clock cannot go back from {now} ms to {ms} ms"),
                )
            })
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        // Relaxed: as in `advance`.
        self.ms.load(Ordering::Relaxed)
    }
}

/// The clock a window reads: the coarse system clock unless one was given.
#[derive(Clone, Default)]
pub(crate) enum TimeSource {
    #[default]
    Coarse,
    Custom(Arc<dyn Clock>),
}

impl TimeSource {
    #[inline]
    pub(crate) fn now_ms(&self) -> u64 {
        match self {
            Self::Coarse => coarse_monotonic_ms(),
            Self::Custom(clock) => clock.now_ms(),
        }
    }

    /// The same source: both the system clock, or the same clock object.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Coarse, Self::Coarse) => true,
            (Self::Custom(a), Self::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl fmt::Debug for TimeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Coarse => f.write_str("CoarseClock"),
            Self::Custom(clock) => clock.fmt(f),
        }
    }
}

/// Converts a duration option given in seconds (the bindings' unit) to a [`Duration`],
/// the one place every binding does so.
///
/// `what` names the option (`"idle_ttl"`, `"window_seconds"`, ...) for the message; the
/// caller applies its own range (a window's at most a day, a sampler's 100 ms to a day).
///
/// # Errors
/// [`ErrorKind::InvalidConfig`] naming `metric` and `what` for NaN, an infinity, a negative
/// number, or more seconds than a [`Duration`] holds (about 1.8e19).
pub fn duration_from_secs(metric: &str, what: &str, secs: f64) -> Result<Duration> {
    let bad = |rule: String| Error::for_metric(ErrorKind::InvalidConfig, metric, rule);
    if secs.is_nan() {
        return Err(bad(format!("{what} must be a number of seconds, not NaN")));
    }
    if secs < 0.0 {
        return Err(bad(format!(
            "{what} must be a non-negative number of seconds, not {secs:?}"
        )));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| {
        bad(format!(
            "{what} must be at most {} seconds, not {secs:?}",
            u64::MAX
        ))
    })
}

/// Milliseconds on the coarse monotonic clock, with an arbitrary origin.
#[inline]
pub(crate) fn coarse_monotonic_ms() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &raw mut ts) };
        if rc == 0 {
            return ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000;
        }
    }
    fallback_monotonic_ms()
}

fn fallback_monotonic_ms() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Seconds since the Unix epoch, as Prometheus timestamps and `_created` are.
pub(crate) fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_clock_is_monotonic_and_moves() {
        let a = super::coarse_monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let b = super::coarse_monotonic_ms();
        assert!(b >= a + 20, "{a} -> {b}");
    }

    #[test]
    fn manual_clock_moves_only_when_told_and_never_back() {
        let c = ManualClock::starting_at_ms(1_000);
        let shared = c.clone();
        assert_eq!(c.now_ms(), 1_000);
        shared.advance(Duration::from_millis(1_500));
        assert_eq!(c.now_ms(), 2_500);
        c.set_ms(4_000).unwrap();
        assert_eq!(shared.now_ms(), 4_000);
        let e = c.set_ms(3_999).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        assert_eq!(c.now_ms(), 4_000);
        c.advance(Duration::MAX);
        assert_eq!(c.now_ms(), u64::MAX);
    }

    #[test]
    fn seconds_convert_or_fail_naming_the_metric_and_the_option() {
        assert_eq!(
            duration_from_secs("m", "ttl", 1.5).unwrap(),
            Duration::from_millis(1_500)
        );
        assert_eq!(duration_from_secs("m", "ttl", 0.0).unwrap(), Duration::ZERO);
        assert_eq!(
            duration_from_secs("m", "ttl", 1.8e19).unwrap(),
            Duration::from_secs(18_000_000_000_000_000_000)
        );
        for bad in [
            f64::NAN,
            -1.0,
            -0.0001,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e20,
            1e300,
            f64::MAX,
        ] {
            let e = duration_from_secs("queue_depth", "idle_ttl", bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{bad}");
            assert_eq!(e.metric(), Some("queue_depth"), "{bad}");
            assert!(e.rule().starts_with("idle_ttl must be"), "{bad}: {e}");
        }
    }
}
