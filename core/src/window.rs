//! Sliding windows made of rotating sub-windows.
//!
//! A window of `span` is cut into `k` sub-windows of `span / k`. Time is
//! counted in sub-window *epochs* (`now / sub`); the slot for epoch `e` is
//! `e % k`. Recording goes to the current epoch's slot. When a recorder sees
//! a new epoch it takes a lock (rarely: once per sub-window), clears the slots
//! of the epochs that have expired, tags them with their new epochs, and only
//! then publishes the new epoch, so no recorder of the new epoch can write into
//! a slot before it has been cleared. Readers combine the slots tagged with
//! the last `k` epochs: at a rotation only the oldest sub-window leaves, so a
//! windowed quantile never drops to zero just because a boundary passed.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::{self, Clock, TimeSource};
use crate::error::{Error, ErrorKind, Result};
use crate::fork;

/// Something that can be cleared for reuse as a sub-window.
pub(crate) trait Slot: Send + Sync {
    fn clear(&self);
}

impl Slot for AtomicU64 {
    fn clear(&self) {
        // Relaxed: publication of the cleared slot happens through the epoch's Release store.
        self.store(0, Ordering::Relaxed);
    }
}

/// The shape of a sliding window, and the clock it reads (the coarse system clock unless
/// [`WindowOpts::with_clock`] gives another).
#[derive(Debug, Clone)]
pub struct WindowOpts {
    span: Duration,
    sub_windows: u32,
    clock: TimeSource,
}

/// Equal shapes on the same clock (the system clock, or the same clock object).
impl PartialEq for WindowOpts {
    fn eq(&self, other: &Self) -> bool {
        self.span == other.span
            && self.sub_windows == other.sub_windows
            && self.clock.same_as(&other.clock)
    }
}

impl Eq for WindowOpts {}

impl WindowOpts {
    /// The default: the last 60 seconds in 6 sub-windows of 10 seconds.
    pub const DEFAULT: Self = Self {
        span: Duration::from_secs(60),
        sub_windows: 6,
        clock: TimeSource::Coarse,
    };

    /// A window of `span` cut into `sub_windows` rotating parts.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] naming `metric` unless `1 <= sub_windows <= 1000`, the span is at
    /// least 100 ms per sub-window, and the span is at most a day.
    pub fn new(metric: &str, span: Duration, sub_windows: u32) -> Result<Self> {
        let bad = |rule: String| Err(Error::for_metric(ErrorKind::InvalidConfig, metric, rule));
        if !(1..=1000).contains(&sub_windows) {
            return bad(format!(
                "a window needs 1 to 1000 sub-windows, not {sub_windows}"
            ));
        }
        if span > Duration::from_secs(86_400) {
            return bad(format!("a window may span at most a day, not {span:?}"));
        }
        if span.as_millis() < 100 * u128::from(sub_windows) {
            return bad(format!(
                "a window of {span:?} cannot be cut into {sub_windows} sub-windows of at least 100 ms"
            ));
        }
        Ok(Self {
            span,
            sub_windows,
            clock: TimeSource::Coarse,
        })
    }

    /// [`WindowOpts::new`] with the span given in seconds (the bindings' unit), converted by
    /// [`clock::duration_from_secs`].
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] naming `metric`, for a span that is not a number of seconds
    /// (NaN, infinite, negative, beyond a `Duration`) or breaks [`WindowOpts::new`]'s rules.
    pub fn from_secs(metric: &str, span_secs: f64, sub_windows: u32) -> Result<Self> {
        let span = clock::duration_from_secs(metric, "a window's span", span_secs)?;
        Self::new(metric, span, sub_windows)
    }

    /// The same window reading `clock` instead of the coarse system clock (a
    /// [`ManualClock`](crate::clock::ManualClock) in tests). Windows and meters made from
    /// these options read only this clock.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = TimeSource::Custom(std::sync::Arc::new(clock));
        self
    }

    /// The whole span.
    pub fn span(&self) -> Duration {
        self.span
    }
    /// How many rotating parts.
    pub fn sub_windows(&self) -> u32 {
        self.sub_windows
    }
    /// Milliseconds now on the window's clock.
    #[inline]
    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
    fn sub_ms(&self) -> u64 {
        // At most a day, so the millis fit; at least 100 ms per sub-window (checked in `new`).
        self.span.as_millis() as u64 / u64::from(self.sub_windows)
    }
}

impl Default for WindowOpts {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// `k` slots of `T` rotating with time.
pub(crate) struct Rotating<T> {
    slots: Box<[T]>,
    /// The epoch each slot currently holds.
    epochs: Box<[AtomicU64]>,
    /// The newest epoch whose slot is ready for recording.
    current: AtomicU64,
    sub_ms: u64,
    opts: WindowOpts,
    rotation: Mutex<()>,
}

impl<T: Slot> Rotating<T> {
    pub(crate) fn new(opts: WindowOpts, make: impl Fn() -> T) -> Self {
        // The rotation lock is taken only inside fork sections.
        fork::install();
        let k = opts.sub_windows as usize;
        let sub_ms = opts.sub_ms();
        let now = opts.now_ms() / sub_ms;
        Self {
            slots: (0..k).map(|_| make()).collect(),
            // Slot `s` starts as epoch `now - ((now - s) mod k)`: the latest epoch <= now that maps to it,
            // all empty, so the window is valid (and empty) from the start.
            epochs: (0..k as u64)
                .map(|s| AtomicU64::new(now.saturating_sub((now + k as u64 - s) % k as u64)))
                .collect(),
            current: AtomicU64::new(now),
            sub_ms,
            opts,
            rotation: Mutex::new(()),
        }
    }

    pub(crate) fn opts(&self) -> &WindowOpts {
        &self.opts
    }

    /// Milliseconds now on the window's clock.
    #[inline]
    pub(crate) fn now_ms(&self) -> u64 {
        self.opts.now_ms()
    }

    /// The slot to record into now.
    #[inline]
    pub(crate) fn current(&self) -> &T {
        self.current_at(self.now_ms())
    }

    #[inline]
    pub(crate) fn current_at(&self, now_ms: u64) -> &T {
        let epoch = now_ms / self.sub_ms;
        // Acquire: pairs with the Release in `rotate`, so the slot's clearing is visible before we write.
        let current = self.current.load(Ordering::Acquire);
        let epoch = if epoch > current {
            self.rotate(epoch)
        } else {
            current
        };
        &self.slots[(epoch % self.slots.len() as u64) as usize]
    }

    /// Brings the window up to `epoch`; returns the epoch now current.
    #[cold]
    fn rotate(&self, epoch: u64) -> u64 {
        // A fork copies the rotation lock unlocked and the slots whole (see `crate::fork`).
        let _fork = fork::section();
        let _guard = self
            .rotation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Relaxed: the lock orders us after any earlier rotation.
        let current = self.current.load(Ordering::Relaxed);
        if epoch <= current {
            return current;
        }
        let k = self.slots.len() as u64;
        for e in (current + 1).max(epoch.saturating_sub(k - 1))..=epoch {
            let s = (e % k) as usize;
            self.slots[s].clear();
            // Relaxed: readers synchronise through `current` (Acquire) before trusting tags.
            self.epochs[s].store(e, Ordering::Relaxed);
        }
        // Release: the cleared slots are visible to whoever sees the new epoch.
        self.current.store(epoch, Ordering::Release);
        epoch
    }

    /// Clears every sub-window (a reset of the metric that owns the window).
    pub(crate) fn clear_all(&self) {
        let _fork = fork::section();
        let _guard = self
            .rotation
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for slot in &self.slots {
            slot.clear();
        }
    }

    /// The slots that lie within the window ending now.
    pub(crate) fn live(&self) -> impl Iterator<Item = &T> {
        self.live_at(self.now_ms())
    }

    pub(crate) fn live_at(&self, now_ms: u64) -> impl Iterator<Item = &T> {
        let epoch = now_ms / self.sub_ms;
        // Rotating here too means an idle window reads as empty rather than stale.
        // Acquire: as in `current_at`.
        let current = self.current.load(Ordering::Acquire);
        let epoch = if epoch > current {
            self.rotate(epoch)
        } else {
            current
        };
        let k = self.slots.len() as u64;
        let oldest = epoch.saturating_sub(k - 1);
        self.slots
            .iter()
            .zip(&*self.epochs)
            .filter_map(move |(slot, e)| {
                // Relaxed: ordered by the Acquire load of `current` above.
                let e = e.load(Ordering::Relaxed);
                (e >= oldest && e <= epoch).then_some(slot)
            })
    }

    /// Seconds of data the window holds now: the full sub-windows plus the elapsed part of the
    /// current one (not counting time before `start_ms`).
    pub(crate) fn covered_secs_at(&self, now_ms: u64, start_ms: u64) -> f64 {
        let k = self.slots.len() as u64;
        let into_current = now_ms % self.sub_ms;
        let window_start = (now_ms - into_current).saturating_sub((k - 1) * self.sub_ms);
        let from = window_start.max(start_ms);
        (now_ms.saturating_sub(from)).max(1) as f64 / 1000.0
    }
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "covered seconds are whole milliseconds divided by 1000, computed exactly"
)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    fn sum(w: &Rotating<AtomicU64>) -> u64 {
        w.live().map(|s| s.load(Ordering::Relaxed)).sum()
    }

    #[test]
    fn rotation_keeps_the_last_k_sub_windows() {
        let clock = ManualClock::starting_at_ms(1_000_000);
        let opts = WindowOpts::new("w", Duration::from_secs(60), 6)
            .unwrap()
            .with_clock(clock.clone());
        let w = Rotating::new(opts, || AtomicU64::new(0));
        let step = |ms| clock.advance(Duration::from_millis(ms));
        for i in 0..6u64 {
            w.current().fetch_add(i + 1, Ordering::Relaxed);
            step(10_000);
        }
        // 1_060_000: the first sub-window (1) has just left; never zero at a rotation.
        assert_eq!(sum(&w), 20);
        w.current().fetch_add(100, Ordering::Relaxed);
        step(9_999);
        assert_eq!(sum(&w), 120, "still inside the same sub-window");
        step(1);
        assert_eq!(sum(&w), 118, "the second sub-window (2) left at 1_070_000");
        // Long idle: everything expires.
        step(1_000_000);
        assert_eq!(sum(&w), 0);
        w.current().fetch_add(1, Ordering::Relaxed);
        step(1);
        assert_eq!(sum(&w), 1);
    }

    #[test]
    fn a_window_created_mid_sub_window_holds_from_its_creation() {
        let clock = ManualClock::starting_at_ms(1_005_000);
        let opts = WindowOpts::new("w", Duration::from_secs(60), 6)
            .unwrap()
            .with_clock(clock.clone());
        let w = Rotating::new(opts, || AtomicU64::new(0));
        let start = clock.now_ms();
        assert_eq!(w.covered_secs_at(clock.now_ms(), start), 0.001);
        clock.advance(Duration::from_secs(30));
        assert_eq!(w.covered_secs_at(clock.now_ms(), start), 30.0);
        clock.advance(Duration::from_secs(600));
        // The full window: 5 whole sub-windows plus the 5 s elapsed in the current one.
        assert_eq!(w.covered_secs_at(clock.now_ms(), start), 55.0);
    }

    #[test]
    fn window_opts_are_checked() {
        assert!(WindowOpts::new("w", Duration::from_millis(50), 1).is_err());
        assert!(WindowOpts::new("w", Duration::from_secs(10), 0).is_err());
        assert!(WindowOpts::new("w", Duration::from_secs(100_000), 10).is_err());
        let e = WindowOpts::new("latency", Duration::from_secs(1), 20).unwrap_err();
        assert!(e.to_string().starts_with("metric 'latency'"), "{e}");
    }

    #[test]
    fn window_seconds_are_checked_without_panicking() {
        assert_eq!(
            WindowOpts::from_secs("w", 30.0, 3).unwrap().span(),
            Duration::from_secs(30)
        );
        for secs in [f64::NAN, -1.0, 0.0, f64::INFINITY, 1e20, 1e300, 86_400.5] {
            let e = WindowOpts::from_secs("latency", secs, 6).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{secs}");
            assert_eq!(e.metric(), Some("latency"), "{secs}");
        }
    }

    #[test]
    fn opts_are_equal_on_the_same_clock_only() {
        let a = WindowOpts::DEFAULT;
        assert_eq!(a, WindowOpts::new("x", Duration::from_secs(60), 6).unwrap());
        let clock = ManualClock::new();
        let on_manual = a.clone().with_clock(clock);
        assert_ne!(a, on_manual);
        assert_eq!(on_manual, on_manual.clone());
    }
}
