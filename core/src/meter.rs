//! Meters: turning a stream of events into rates.
//!
//! A counter says *how many* events happened; a meter also says *how fast*
//! they are happening. It gives three kinds of rate, all in **events per
//! second**, because each answers a different question:
//!
//! - **Mean rate** ([`Meter::mean_rate`]): events since the meter was created
//!   divided by its age. Stable, but it forgets nothing: after an hour at 100/s
//!   a stall barely moves it.
//! - **EWMA rates** ([`Meter::one_minute_rate`], [`Meter::five_minute_rate`],
//!   [`Meter::fifteen_minute_rate`]), exactly as Dropwizard Metrics (and the
//!   Unix load average) compute them. Every 5 seconds the meter *ticks*: the
//!   events counted since the last tick, divided by 5 s, give an instant rate,
//!   and each average moves a fraction `alpha = 1 - exp(-5 s / N min)` of the
//!   way towards it (about 8 % for the 1-minute rate). The first tick starts
//!   the average at the instant rate. An event's weight therefore decays
//!   exponentially with time constant N minutes: after one minute of silence
//!   the 1-minute rate has fallen to `1/e` (37 %) of where it was, but it never
//!   quite reaches zero, and it moves in 5-second steps. Use these to smooth
//!   noisy traffic and for alerting on trends.
//! - **Windowed rate** ([`Meter::rate_per_second`]): the exact number of events
//!   in the last N seconds (60 by default) divided by the seconds that window
//!   covers. It answers "requests per second over the last minute" the way a
//!   dashboard means it: a burst counts in full while it is in the window and
//!   not at all once it has left. The window is kept in rotating sub-windows
//!   (see [`WindowOpts`]), so it slides in steps of one sub-window (10 s by
//!   default) and never drops to zero at a rotation. While the meter is younger
//!   than its window, the rate divides by the meter's age instead of the full
//!   span, so a freshly started service does not under-report.
//!
//! Nothing runs in the background. Ticks happen lazily: whenever the meter is
//! marked or read, the caller checks whether 5 seconds have passed since the
//! last tick and, if so, one caller wins a compare-and-swap on the last-tick
//! time and performs every tick that is due. Only the first of those catch-up
//! ticks sees the events counted meanwhile; the others are idle ticks that
//! decay the averages, again as Dropwizard does. Counting is done with
//! contention-adaptive striped adders, so marking from many threads scales.
//!
//! [`Throughput`] applies the windowed rate to three quantities at once:
//! requests, tokens and bytes per second, read together as
//! [`ThroughputStats`]. [`Ewma`] is the plain
//! exponentially weighted moving average of arbitrary samples (the
//! TypeScript-era latency average used `alpha = 0.1`).
//!
//! ```
//! use metricore::Meter;
//!
//! let requests = Meter::new();
//! requests.mark();
//! requests.mark_n(4);
//! assert_eq!(requests.count(), 5);
//! // No 5-second tick has happened yet, so the EWMA rates are still 0.
//! assert_eq!(requests.one_minute_rate(), 0.0);
//! // The windowed rate counts the five events over the (short) time covered so far.
//! assert!(requests.rate_per_second() > 0.0);
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::adder::Adder;
use crate::error::{Error, ErrorKind, Result};
use crate::window::{Rotating, Slot, WindowOpts};

/// Dropwizard's tick interval, in milliseconds of the window's clock.
const TICK_MS: u64 = 5_000;
/// The same interval in seconds: an instant rate is `events / TICK_SECS`.
const TICK_SECS: f64 = 5.0;

/// The bits of an EWMA that has no value yet: a NaN with a payload arithmetic
/// never produces, and never stored otherwise because updates reject NaN.
const UNSET: u64 = 0x7FF8_0000_0000_0BAD;

/// Dropwizard's `alpha` for an average over `minutes`, ticked every 5 seconds.
fn tick_alpha(minutes: f64) -> f64 {
    1.0 - (-TICK_SECS / 60.0 / minutes).exp()
}

/// A lock-free exponentially weighted moving average: f64 bits in one
/// `AtomicU64`, updated by compare-and-swap.
#[derive(Debug)]
struct EwmaCell {
    alpha: f64,
    bits: AtomicU64,
}

impl EwmaCell {
    fn new(alpha: f64, initial: u64) -> Self {
        Self {
            alpha,
            bits: AtomicU64::new(initial),
        }
    }

    /// Moves the average a fraction `alpha` towards `x` (or starts it at `x`),
    /// then applies `idle` further updates towards 0, all in one atomic step.
    fn update_then_decay(&self, x: f64, idle: u64) {
        // `rate += alpha * (0 - rate)` repeated `idle` times is `rate * (1 - alpha)^idle`;
        // the closed form keeps a catch-up after days of idleness O(1).
        let decay = if idle == 0 {
            1.0
        } else {
            (1.0 - self.alpha).powf(idle as f64)
        };
        // Relaxed: the average publishes no other memory; the CAS loop makes the update atomic.
        let _ = self
            .bits
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                let next = if bits == UNSET {
                    x
                } else {
                    let rate = f64::from_bits(bits);
                    rate + self.alpha * (x - rate)
                };
                Some((next * decay).to_bits())
            });
    }

    /// The average, 0 before the first update.
    fn get(&self) -> f64 {
        // Relaxed: as in `update_then_decay`.
        let bits = self.bits.load(Ordering::Relaxed);
        if bits == UNSET {
            0.0
        } else {
            f64::from_bits(bits)
        }
    }

    fn reset(&self, initial: u64) {
        // Relaxed: as in `update_then_decay`.
        self.bits.store(initial, Ordering::Relaxed);
    }
}

/// An exponentially weighted moving average of samples, such as latencies.
///
/// Each [`update`](Self::update) moves the average a fraction `alpha` of the
/// way towards the new sample: `value = value + alpha * (x - value)`, which is
/// `alpha * x + (1 - alpha) * value`. A larger `alpha` follows changes faster;
/// a smaller one smooths more (a sample's weight halves after about
/// `0.69 / alpha` further samples). The TypeScript-era latency average used
/// [`Ewma::LATENCY_ALPHA`] (0.1).
///
/// An average made with [`Ewma::new`] starts at its first sample, so it is not
/// dragged towards 0 at the start; [`Ewma::with_initial`] starts it at a given
/// value instead (0.0 reproduces code that initialised its average to zero).
/// The value lives in one atomic word; updates from any thread are lock-free.
/// Cloning gives another handle to the same average.
///
/// ```
/// use metricore::meter::Ewma;
///
/// let latency_ms = Ewma::new(Ewma::LATENCY_ALPHA)?;
/// latency_ms.update(100.0)?; // the first sample starts the average
/// latency_ms.update(200.0)?;
/// assert!((latency_ms.value() - 110.0).abs() < 1e-9);
/// # Ok::<(), metricore::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "an EWMA does nothing unless you update it"]
pub struct Ewma {
    cell: Arc<EwmaCell>,
    /// What `reset` returns to (`UNSET` or an initial value's bits).
    initial: u64,
}

impl Ewma {
    /// The smoothing factor the TypeScript-era latency average used.
    pub const LATENCY_ALPHA: f64 = 0.1;

    /// An average with smoothing factor `alpha`, starting at its first sample.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] unless `0 < alpha <= 1`.
    pub fn new(alpha: f64) -> Result<Self> {
        Self::build(alpha, UNSET)
    }

    /// An average with smoothing factor `alpha` that starts at `initial`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] unless `0 < alpha <= 1` and `initial` is finite.
    pub fn with_initial(alpha: f64, initial: f64) -> Result<Self> {
        if !initial.is_finite() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                None,
                format!("an EWMA must start at a finite value, not {initial}"),
            ));
        }
        Self::build(alpha, initial.to_bits())
    }

    fn build(alpha: f64, initial: u64) -> Result<Self> {
        // Written so that NaN fails too.
        if !(alpha > 0.0 && alpha <= 1.0) {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                None,
                format!("an EWMA's alpha must be in (0, 1], not {alpha}"),
            ));
        }
        Ok(Self {
            cell: Arc::new(EwmaCell::new(alpha, initial)),
            initial,
        })
    }

    /// Adds a sample.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidValue`] for NaN or infinite samples; the average is unchanged.
    #[inline]
    pub fn update(&self, x: f64) -> Result<()> {
        if !x.is_finite() {
            let what = if x.is_nan() {
                "NaN"
            } else {
                "an infinite value"
            };
            return Err(Error::new(
                ErrorKind::InvalidValue,
                None,
                format!("an EWMA cannot average {what}"),
            ));
        }
        self.cell.update_then_decay(x, 0);
        Ok(())
    }

    /// The current average: 0 before the first sample of an average made with
    /// [`Ewma::new`], the initial value for one made with [`Ewma::with_initial`].
    pub fn value(&self) -> f64 {
        self.cell.get()
    }

    /// The smoothing factor.
    pub fn alpha(&self) -> f64 {
        self.cell.alpha
    }

    /// Forgets every sample, returning to the state the average was created in.
    pub fn reset(&self) {
        self.cell.reset(self.initial);
    }
}

impl std::fmt::Debug for Ewma {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ewma")
            .field("alpha", &self.alpha())
            .field("value", &self.value())
            .finish()
    }
}

/// A sub-window's event count.
struct WindowCount(Adder<u64>);

impl Slot for WindowCount {
    fn clear(&self) {
        self.0.take();
    }
}

struct MeterCore {
    /// Every event ever marked.
    count: Adder<u64>,
    /// Events marked since the last tick; taken (and zeroed) by the tick.
    uncounted: Adder<u64>,
    m1: EwmaCell,
    m5: EwmaCell,
    m15: EwmaCell,
    /// Coarse monotonic ms of the start of the current tick interval.
    last_tick_ms: AtomicU64,
    /// Coarse monotonic ms at creation.
    start_ms: u64,
    window: Rotating<WindowCount>,
}

impl MeterCore {
    fn new(window: WindowOpts, start_ms: u64) -> Self {
        Self {
            count: Adder::new(0),
            uncounted: Adder::new(0),
            m1: EwmaCell::new(tick_alpha(1.0), UNSET),
            m5: EwmaCell::new(tick_alpha(5.0), UNSET),
            m15: EwmaCell::new(tick_alpha(15.0), UNSET),
            last_tick_ms: AtomicU64::new(start_ms),
            start_ms,
            window: Rotating::new(window, || WindowCount(Adder::new(0))),
        }
    }

    /// Performs the ticks due at `now_ms`, if this caller wins the right to.
    #[inline]
    fn tick_if_necessary(&self, now_ms: u64) {
        // Relaxed: `last_tick_ms` only elects the thread that ticks; the tallies and averages it
        // updates are atomics of their own, and no other memory is published through it.
        let old = self.last_tick_ms.load(Ordering::Relaxed);
        // Dropwizard tests `age > interval` on a nanosecond clock; on a millisecond clock `>=`
        // keeps the same schedule (ticks at exact multiples of 5 s after creation).
        let age = now_ms.saturating_sub(old);
        if age >= TICK_MS {
            let ticks = age / TICK_MS;
            // The start of the interval `now_ms` falls in, so ticks stay aligned to creation.
            let interval_start = old + ticks * TICK_MS;
            // Relaxed: as above.
            if self
                .last_tick_ms
                .compare_exchange(old, interval_start, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                self.tick(ticks);
            }
        }
    }

    /// `ticks` ticks: the first sees the events counted since the last tick, the rest are idle.
    #[cold]
    fn tick(&self, ticks: u64) {
        let instant = self.uncounted.take() as f64 / TICK_SECS;
        for ewma in [&self.m1, &self.m5, &self.m15] {
            ewma.update_then_decay(instant, ticks - 1);
        }
    }

    #[inline]
    fn mark_at(&self, n: u64, now_ms: u64) {
        self.tick_if_necessary(now_ms);
        self.count.add(n);
        self.uncounted.add(n);
        self.window.current_at(now_ms).0.add(n);
    }

    fn mean_rate_at(&self, now_ms: u64) -> f64 {
        let count = self.count.sum();
        if count == 0 {
            return 0.0;
        }
        // At least 1 ms: a coarse clock can read the creation time again.
        let elapsed_ms = now_ms.saturating_sub(self.start_ms).max(1);
        count as f64 * 1e3 / elapsed_ms as f64
    }

    fn ewma_at(&self, ewma: &EwmaCell, now_ms: u64) -> f64 {
        self.tick_if_necessary(now_ms);
        ewma.get()
    }

    fn count_in_window_at(&self, now_ms: u64) -> u64 {
        self.window.live_at(now_ms).map(|s| s.0.sum()).sum()
    }

    fn rate_per_second_at(&self, now_ms: u64) -> f64 {
        let events = self.count_in_window_at(now_ms);
        events as f64 / self.window.covered_secs_at(now_ms, self.start_ms)
    }

    fn snapshot_at(&self, now_ms: u64) -> MeterSnapshot {
        self.tick_if_necessary(now_ms);
        MeterSnapshot {
            count: self.count.sum(),
            mean_rate: self.mean_rate_at(now_ms),
            one_minute_rate: self.m1.get(),
            five_minute_rate: self.m5.get(),
            fifteen_minute_rate: self.m15.get(),
            rate_per_second: self.rate_per_second_at(now_ms),
            window_seconds: self.window.opts().span().as_secs_f64(),
        }
    }
}

/// A handle to a meter: a count of events and the rates at which they occur
/// (see the [module documentation](self) for what each rate means).
///
/// All rates are in events per second. Cloning is cheap and every clone
/// marks and reads the same meter, from any thread.
#[derive(Clone)]
#[must_use = "meters do nothing unless you mark them"]
pub struct Meter {
    core: Arc<MeterCore>,
}

impl Meter {
    /// A meter whose windowed rate covers the last 60 seconds ([`WindowOpts::DEFAULT`]).
    pub fn new() -> Self {
        Self::with_window(WindowOpts::DEFAULT)
    }

    /// A meter whose windowed rate ([`Self::rate_per_second`]) covers `window`.
    /// The EWMA rates are unaffected by the window.
    pub fn with_window(window: WindowOpts) -> Self {
        let start_ms = window.now_ms();
        Self::new_at(window, start_ms)
    }

    fn new_at(window: WindowOpts, start_ms: u64) -> Self {
        Self {
            core: Arc::new(MeterCore::new(window, start_ms)),
        }
    }

    /// Records one event.
    #[inline]
    pub fn mark(&self) {
        self.mark_n(1);
    }

    /// Records `n` events.
    #[inline]
    pub fn mark_n(&self, n: u64) {
        self.core.mark_at(n, self.now_ms());
    }

    /// Events marked since creation.
    pub fn count(&self) -> u64 {
        self.core.count.sum()
    }

    /// Events per second since creation: [`Self::count`] over the meter's age.
    pub fn mean_rate(&self) -> f64 {
        self.core.mean_rate_at(self.now_ms())
    }

    /// The 1-minute exponentially weighted rate, per second (0 until the first 5-second tick).
    pub fn one_minute_rate(&self) -> f64 {
        self.core.ewma_at(&self.core.m1, self.now_ms())
    }

    /// The 5-minute exponentially weighted rate, per second (0 until the first 5-second tick).
    pub fn five_minute_rate(&self) -> f64 {
        self.core.ewma_at(&self.core.m5, self.now_ms())
    }

    /// The 15-minute exponentially weighted rate, per second (0 until the first 5-second tick).
    pub fn fifteen_minute_rate(&self) -> f64 {
        self.core.ewma_at(&self.core.m15, self.now_ms())
    }

    /// Events per second over the sliding window: the events in it divided by the seconds it
    /// covers (the meter's age, while that is shorter than the window).
    pub fn rate_per_second(&self) -> f64 {
        self.core.rate_per_second_at(self.now_ms())
    }

    /// [`Self::rate_per_second`] times 60: events per minute over the sliding window.
    pub fn rate_per_minute(&self) -> f64 {
        self.rate_per_second() * 60.0
    }

    /// Events marked within the sliding window.
    pub fn count_in_window(&self) -> u64 {
        self.core.count_in_window_at(self.now_ms())
    }

    /// The sliding window's shape.
    pub fn window(&self) -> WindowOpts {
        self.core.window.opts().clone()
    }

    /// Milliseconds now on the window's clock.
    #[inline]
    fn now_ms(&self) -> u64 {
        self.core.window.now_ms()
    }

    /// Every figure at once, read at one instant (one call for bindings and dashboards).
    pub fn snapshot(&self) -> MeterSnapshot {
        self.core.snapshot_at(self.now_ms())
    }
}

impl Default for Meter {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("count", &self.count())
            .field("window", &self.window())
            .finish_non_exhaustive()
    }
}

/// A [`Meter`]'s figures read at one instant; rates are events per second.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeterSnapshot {
    /// Events since creation.
    pub count: u64,
    /// Events per second since creation.
    pub mean_rate: f64,
    /// 1-minute exponentially weighted rate.
    pub one_minute_rate: f64,
    /// 5-minute exponentially weighted rate.
    pub five_minute_rate: f64,
    /// 15-minute exponentially weighted rate.
    pub fifteen_minute_rate: f64,
    /// Rate over the sliding window.
    pub rate_per_second: f64,
    /// The sliding window's span in seconds.
    pub window_seconds: f64,
}

/// One sub-window's tallies.
struct ThroughputSlot {
    requests: Adder<u64>,
    tokens: Adder<u64>,
    bytes: Adder<u64>,
}

impl Slot for ThroughputSlot {
    fn clear(&self) {
        self.requests.take();
        self.tokens.take();
        self.bytes.take();
    }
}

struct ThroughputCore {
    window: Rotating<ThroughputSlot>,
    start_ms: u64,
}

/// Requests, tokens and bytes per second over a sliding window, as
/// [`Throughput::stats`] reports them.
///
/// Each rate is the total recorded in the window divided by the seconds of
/// data the window actually holds: the full `window_seconds` once the meter is
/// older than the window, less before that, so a service that started ten
/// seconds ago does not report a sixth of its real rate.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ThroughputStats {
    /// Requests per second.
    pub requests_per_second: f64,
    /// Tokens per second.
    pub tokens_per_second: f64,
    /// Bytes per second.
    pub bytes_per_second: f64,
    /// The configured window span in seconds (60 by default); a float because
    /// a window may be shorter than a second.
    pub window_seconds: f64,
}

/// Requests, tokens and bytes per second over a sliding window (the last 60
/// seconds by default): the windowed rate of a [`Meter`], for the three
/// quantities a request-serving service reports together.
///
/// A request is whatever the service counts as one; tokens are any unit of
/// work it wants a rate of (LLM tokens, rows, messages); bytes are payload
/// bytes. Recording adds to striped, contention-adaptive tallies in the
/// current sub-window; [`Throughput::stats`] divides the window's totals by
/// the seconds of data the window holds. Cloning is cheap and every clone
/// records into the same tallies.
///
/// ```
/// use metricore::Throughput;
///
/// let throughput = Throughput::new();
/// throughput.record(1, 250, 4096); // one request that produced 250 tokens and 4 KiB
/// throughput.record_request(512);
/// let stats = throughput.stats();
/// assert_eq!(stats.window_seconds, 60.0);
/// assert!(stats.requests_per_second > 0.0 && stats.tokens_per_second > 0.0);
/// ```
#[derive(Clone)]
#[must_use = "throughput meters do nothing unless you record into them"]
pub struct Throughput {
    core: Arc<ThroughputCore>,
}

impl Throughput {
    /// Rates over the last 60 seconds ([`WindowOpts::DEFAULT`]).
    pub fn new() -> Self {
        Self::with_window(WindowOpts::DEFAULT)
    }

    /// Rates over `window`.
    pub fn with_window(window: WindowOpts) -> Self {
        let start_ms = window.now_ms();
        Self::new_at(window, start_ms)
    }

    fn new_at(window: WindowOpts, start_ms: u64) -> Self {
        let make = || ThroughputSlot {
            requests: Adder::new(0),
            tokens: Adder::new(0),
            bytes: Adder::new(0),
        };
        Self {
            core: Arc::new(ThroughputCore {
                window: Rotating::new(window, make),
                start_ms,
            }),
        }
    }

    /// Records `requests` requests carrying `tokens` tokens and `bytes` bytes in all.
    #[inline]
    pub fn record(&self, requests: u64, tokens: u64, bytes: u64) {
        self.record_at(requests, tokens, bytes, self.now_ms());
    }

    #[inline]
    fn record_at(&self, requests: u64, tokens: u64, bytes: u64, now_ms: u64) {
        let slot = self.core.window.current_at(now_ms);
        for (tally, n) in [
            (&slot.requests, requests),
            (&slot.tokens, tokens),
            (&slot.bytes, bytes),
        ] {
            if n != 0 {
                tally.add(n);
            }
        }
    }

    /// Records one request of `bytes` bytes.
    #[inline]
    pub fn record_request(&self, bytes: u64) {
        self.record(1, 0, bytes);
    }

    /// Records `tokens` tokens, not tied to a new request (e.g. streamed as they are produced).
    #[inline]
    pub fn record_tokens(&self, tokens: u64) {
        self.record(0, tokens, 0);
    }

    /// Records `bytes` bytes, not tied to a new request.
    #[inline]
    pub fn record_bytes(&self, bytes: u64) {
        self.record(0, 0, bytes);
    }

    /// The rates over the window ending now.
    pub fn stats(&self) -> ThroughputStats {
        self.stats_at(self.now_ms())
    }

    fn stats_at(&self, now_ms: u64) -> ThroughputStats {
        let (mut requests, mut tokens, mut bytes) = (0u64, 0u64, 0u64);
        for slot in self.core.window.live_at(now_ms) {
            requests = requests.wrapping_add(slot.requests.sum());
            tokens = tokens.wrapping_add(slot.tokens.sum());
            bytes = bytes.wrapping_add(slot.bytes.sum());
        }
        let secs = self.core.window.covered_secs_at(now_ms, self.core.start_ms);
        ThroughputStats {
            requests_per_second: requests as f64 / secs,
            tokens_per_second: tokens as f64 / secs,
            bytes_per_second: bytes as f64 / secs,
            window_seconds: self.window().span().as_secs_f64(),
        }
    }

    /// The sliding window's shape.
    pub fn window(&self) -> WindowOpts {
        self.core.window.opts().clone()
    }

    /// Milliseconds now on the window's clock.
    #[inline]
    fn now_ms(&self) -> u64 {
        self.core.window.now_ms()
    }
}

impl Default for Throughput {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Throughput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throughput")
            .field("window", &self.window())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(
    clippy::float_cmp,
    reason = "exact comparisons assert values that are computed exactly (60 events / 5 s = 12.0, untouched averages)"
)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A start time on a 60 s boundary after the real clock, so that windows (which read the real
    /// clock once at creation) accept every injected time.
    fn t0() -> u64 {
        (crate::clock::coarse_monotonic_ms() / 60_000 + 2) * 60_000
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
    }

    fn rates(m: &Meter, now: u64) -> [f64; 3] {
        let c = &m.core;
        [
            c.ewma_at(&c.m1, now),
            c.ewma_at(&c.m5, now),
            c.ewma_at(&c.m15, now),
        ]
    }

    #[test]
    fn a_manual_clock_drives_ticks_and_the_window_through_the_public_api() {
        let clock = crate::clock::ManualClock::new();
        let window = WindowOpts::DEFAULT.with_clock(clock.clone());
        let m = Meter::with_window(window.clone());
        let tp = Throughput::with_window(window);
        m.mark_n(60);
        tp.record(60, 600, 6_000);
        clock.advance(Duration::from_millis(4_999));
        assert_eq!(m.one_minute_rate(), 0.0, "no tick before 5 s");
        clock.advance(Duration::from_millis(1));
        assert_eq!(m.one_minute_rate(), 12.0);
        assert_eq!(m.mean_rate(), 12.0);
        assert_eq!(m.rate_per_second(), 12.0);
        assert_eq!(tp.stats().tokens_per_second, 120.0);
        clock.advance(Duration::from_secs(60));
        assert_eq!(m.count_in_window(), 0);
        assert_eq!(tp.stats().requests_per_second, 0.0);
        assert_eq!(m.count(), 60);
    }

    #[test]
    fn alphas_are_dropwizards() {
        // Dropwizard's EWMA: M1_ALPHA = 1 - exp(-5 / 60 / 1), M5 .. / 5, M15 .. / 15.
        assert!(close(tick_alpha(1.0), 0.079_955_585_370_676_71, 1e-12));
        assert!(close(tick_alpha(5.0), 0.016_528_546_178_382_51, 1e-12));
        assert!(close(tick_alpha(15.0), 0.005_540_151_995_103_271, 1e-12));
    }

    #[test]
    fn sixty_events_then_one_tick_is_twelve_per_second() {
        let t0 = t0();
        let m = Meter::new_at(WindowOpts::DEFAULT, t0);
        m.core.mark_at(60, t0 + 1_000);
        assert_eq!(rates(&m, t0 + 4_999), [0.0; 3], "no tick before 5 s");
        // The first tick starts every average at the instant rate, 60 events / 5 s.
        assert_eq!(rates(&m, t0 + 5_000), [12.0; 3]);
        assert_eq!(m.count(), 60);
    }

    #[test]
    fn idle_ticks_decay_by_exp_of_minus_five_seconds_over_the_period() {
        let t0 = t0();
        let m = Meter::new_at(WindowOpts::DEFAULT, t0);
        m.core.mark_at(60, t0);
        for k in 0..=36u32 {
            let [m1, m5, m15] = rates(&m, t0 + 5_000 * (1 + u64::from(k)));
            let k = f64::from(k);
            assert!(
                close(m1, 12.0 * (-5.0 * k / 60.0).exp(), 1e-12),
                "tick {k}: {m1}"
            );
            assert!(
                close(m5, 12.0 * (-5.0 * k / 300.0).exp(), 1e-12),
                "tick {k}: {m5}"
            );
            assert!(
                close(m15, 12.0 * (-5.0 * k / 900.0).exp(), 1e-12),
                "tick {k}: {m15}"
            );
        }
    }

    /// Dropwizard's `EWMATest`: `update(3)` then `tick()` gives 0.6/s; then a minute of idle
    /// ticks at a time. Driven here through a meter marked 3 times before its first tick.
    #[test]
    fn dropwizard_ewma_test_vectors() {
        let cases: [(usize, [f64; 6]); 3] = [
            (
                0,
                [
                    0.6,
                    0.220_727_66,
                    0.081_201_17,
                    0.029_872_24,
                    0.010_989_38,
                    0.004_042_77,
                ],
            ),
            (
                1,
                [
                    0.6,
                    0.491_238_45,
                    0.402_192_03,
                    0.329_286_98,
                    0.269_597_38,
                    0.220_727_66,
                ],
            ),
            (
                2,
                [
                    0.6,
                    0.561_304_19,
                    0.525_103_99,
                    0.491_238_45,
                    0.459_557_00,
                    0.429_918_79,
                ],
            ),
        ];
        let t0 = t0();
        let m = Meter::new_at(WindowOpts::DEFAULT, t0);
        m.core.mark_at(3, t0 + 10);
        for minute in 0..6u64 {
            let now = t0 + 5_000 + minute * 60_000;
            let got = rates(&m, now);
            for (which, expected) in &cases {
                let want = expected[minute as usize];
                assert!(
                    (got[*which] - want).abs() < 5e-9,
                    "rate {which} after {minute} min: {} vs {want}",
                    got[*which]
                );
            }
        }
    }

    #[test]
    fn catch_up_ticks_only_the_first_sees_the_events() {
        let t0 = t0();
        let alpha = tick_alpha(1.0);
        let one_by_one = Meter::new_at(WindowOpts::DEFAULT, t0);
        let at_once = Meter::new_at(WindowOpts::DEFAULT, t0);
        for m in [&one_by_one, &at_once] {
            m.core.mark_at(60, t0 + 1_000);
            assert_eq!(rates(m, t0 + 5_000)[0], 12.0);
            m.core.mark_at(30, t0 + 6_000);
        }
        // Ticks at 10 s (sees the 30 events: 6/s), 15 s and 20 s (idle).
        for now in [t0 + 10_000, t0 + 15_000, t0 + 20_000] {
            rates(&one_by_one, now);
        }
        let after_first = 12.0 + alpha * (6.0 - 12.0);
        let want = after_first * (1.0 - alpha) * (1.0 - alpha);
        let got = rates(&at_once, t0 + 22_000)[0]; // three ticks due at once
        assert!(close(got, want, 1e-12), "{got} vs {want}");
        assert!(close(rates(&one_by_one, t0 + 22_000)[0], want, 1e-12));

        // Ticks stay aligned to creation: the next one is due at 25 s, not 22 s + 5 s.
        at_once.core.mark_at(25, t0 + 23_000);
        assert!(close(rates(&at_once, t0 + 24_999)[0], want, 1e-12));
        let next = rates(&at_once, t0 + 25_000)[0];
        assert!(close(next, want + alpha * (5.0 - want), 1e-12), "{next}");
    }

    #[test]
    fn long_idleness_decays_to_zero_without_looping() {
        let t0 = t0();
        let m = Meter::new_at(WindowOpts::DEFAULT, t0);
        m.core.mark_at(1_000_000, t0);
        assert!(rates(&m, t0 + 5_000)[0] > 0.0);
        let year = 365 * 86_400 * 1_000;
        assert_eq!(rates(&m, t0 + year), [0.0; 3]);
        assert_eq!(m.core.count_in_window_at(t0 + year), 0);
    }

    #[test]
    fn mean_rate_is_count_over_age() {
        let t0 = t0();
        let m = Meter::new_at(WindowOpts::DEFAULT, t0);
        assert_eq!(m.core.mean_rate_at(t0 + 1_000), 0.0);
        m.core.mark_at(100, t0 + 2_000);
        m.core.mark_at(150, t0 + 9_000);
        assert!(close(m.core.mean_rate_at(t0 + 10_000), 25.0, 1e-12));
        assert!(close(m.core.mean_rate_at(t0 + 100_000), 2.5, 1e-12));
    }

    #[test]
    fn windowed_rate_is_exact_for_a_steady_stream() {
        let t0 = t0();
        let m = Meter::new_at(WindowOpts::DEFAULT, t0);
        for s in 0..125u64 {
            m.core.mark_at(10, t0 + s * 1_000);
        }
        // The window now holds sub-windows [70 s, 80 s) .. [120 s, 130 s): 55 s and 550 events.
        let now = t0 + 125_000;
        assert_eq!(m.core.count_in_window_at(now), 550);
        assert!(close(m.core.rate_per_second_at(now), 10.0, 1e-12));
        // EWMA rates converge to the same steady rate, the windowed one is exact already.
        let [m1, ..] = rates(&m, now);
        assert!((m1 - 10.0).abs() < 1.0, "{m1}");
    }

    #[test]
    fn windowed_rate_does_not_under_report_while_young() {
        let t0 = t0();
        let m = Meter::new_at(WindowOpts::DEFAULT, t0 + 3_000);
        for s in 3..8u64 {
            m.core.mark_at(20, t0 + s * 1_000);
        }
        // 100 events in the 5 s since creation: 20/s, not 100 / 60 s.
        assert!(close(m.core.rate_per_second_at(t0 + 8_000), 20.0, 1e-12));
    }

    #[test]
    fn windowed_rate_forgets_a_burst_once_it_leaves_the_window() {
        let t0 = t0();
        let window = WindowOpts::new("burst", Duration::from_secs(10), 10).unwrap();
        let m = Meter::new_at(window.clone(), t0 - 60_000);
        m.core.mark_at(500, t0);
        assert!(close(
            m.core.rate_per_second_at(t0 + 500),
            500.0 / 9.5,
            1e-12
        ));
        assert!(close(
            m.core.rate_per_second_at(t0 + 9_999),
            500.0 / 10.0,
            1e-3
        ));
        assert_eq!(m.core.rate_per_second_at(t0 + 10_000), 0.0);
        assert_eq!(m.count(), 500, "the lifetime count keeps everything");
        assert_eq!(m.window(), window);
    }

    #[test]
    fn snapshot_reads_everything_at_one_instant() {
        let t0 = t0();
        let m = Meter::new_at(WindowOpts::DEFAULT, t0);
        m.core.mark_at(60, t0);
        let s = m.core.snapshot_at(t0 + 5_000);
        assert_eq!(s.count, 60);
        assert!(close(s.mean_rate, 12.0, 1e-12));
        assert_eq!(
            [s.one_minute_rate, s.five_minute_rate, s.fifteen_minute_rate],
            [12.0; 3]
        );
        assert!(close(s.rate_per_second, 12.0, 1e-12));
        assert!(close(s.window_seconds, 60.0, 1e-12));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["one_minute_rate"], 12.0);
    }

    #[test]
    fn real_clock_api_counts_across_threads_and_clones() {
        let m = Meter::default();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..50_000 {
                        m.mark();
                    }
                    m.mark_n(5);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(m.count(), 200_020);
        assert_eq!(m.count_in_window(), 200_020);
        assert!(m.mean_rate() > 0.0 && m.rate_per_second() > 0.0);
        // Read at a few ms apart on a young meter, so only the order of magnitude is comparable.
        assert!(m.rate_per_minute() > m.rate_per_second());
        for r in [
            m.one_minute_rate(),
            m.five_minute_rate(),
            m.fifteen_minute_rate(),
        ] {
            assert!(r >= 0.0);
        }
        assert!(format!("{m:?}").contains("count: 200020"));
    }

    #[test]
    fn handles_are_send_and_sync() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Meter>();
        check::<Throughput>();
        check::<Ewma>();
    }

    #[test]
    fn ewma_with_alpha_point_one_starts_at_the_first_sample() {
        let e = Ewma::new(Ewma::LATENCY_ALPHA).unwrap();
        assert_eq!(e.value(), 0.0);
        e.update(100.0).unwrap();
        assert_eq!(e.value(), 100.0);
        e.update(200.0).unwrap();
        assert!(close(e.value(), 110.0, 1e-12));
        e.update(0.0).unwrap();
        assert!(close(e.value(), 99.0, 1e-12));
        assert!(close(e.alpha(), 0.1, 0.0));
        e.reset();
        assert_eq!(e.value(), 0.0);
        e.update(7.0).unwrap();
        assert_eq!(e.value(), 7.0);
    }

    #[test]
    fn ewma_with_initial_zero_matches_a_zero_seeded_legacy_average() {
        // alpha * x + (1 - alpha) * current, with current = 0 at the start.
        let e = Ewma::with_initial(0.1, 0.0).unwrap();
        let mut legacy = 0.0f64;
        for x in [100.0, 200.0, 50.0, 75.0, 1_000.0] {
            e.update(x).unwrap();
            legacy = 0.1 * x + 0.9 * legacy;
            assert!(close(e.value(), legacy, 1e-12), "{} vs {legacy}", e.value());
        }
        e.reset();
        assert_eq!(e.value(), 0.0);
    }

    #[test]
    fn ewma_rejects_bad_alpha_and_samples_keeping_its_value() {
        for alpha in [0.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            let e = Ewma::new(alpha).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{alpha}");
            assert!(e.to_string().contains("alpha"), "{e}");
        }
        assert!(Ewma::new(1.0).is_ok());
        assert_eq!(
            Ewma::with_initial(0.5, f64::NAN).unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
        let e = Ewma::new(0.5).unwrap();
        e.update(4.0).unwrap();
        for (bad, word) in [
            (f64::NAN, "NaN"),
            (f64::INFINITY, "infinite"),
            (f64::NEG_INFINITY, "infinite"),
        ] {
            let err = e.update(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidValue);
            assert!(err.to_string().contains(word), "{err}");
        }
        assert_eq!(e.value(), 4.0);
    }

    #[test]
    fn ewma_clones_share_one_average_across_threads() {
        let e = Ewma::new(0.25).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let e = e.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        e.update(42.0).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(e.value(), 42.0);
    }

    #[test]
    fn throughput_reports_requests_tokens_and_bytes_per_second() {
        let t0 = t0();
        let tp = Throughput::new_at(WindowOpts::DEFAULT, t0);
        for s in 0..90u64 {
            tp.record_at(2, 300, 4_096, t0 + s * 1_000);
        }
        // At 95 s the window covers [40 s, 95 s), 55 s holding the 50 records made at 40 s .. 89 s.
        let st = tp.stats_at(t0 + 95_000);
        assert!(close(st.requests_per_second, 100.0 / 55.0, 1e-12), "{st:?}");
        assert!(
            close(st.tokens_per_second, 15_000.0 / 55.0, 1e-12),
            "{st:?}"
        );
        assert!(
            close(st.bytes_per_second, 50.0 * 4_096.0 / 55.0, 1e-12),
            "{st:?}"
        );
        assert!(close(st.window_seconds, 60.0, 1e-12));

        let young = Throughput::new_at(WindowOpts::DEFAULT, t0);
        young.record_at(1, 0, 100, t0 + 500);
        young.record_at(0, 50, 0, t0 + 1_000);
        young.record_at(0, 0, 300, t0 + 1_500);
        let st = young.stats_at(t0 + 2_000);
        assert_eq!(
            (
                st.requests_per_second,
                st.tokens_per_second,
                st.bytes_per_second
            ),
            (0.5, 25.0, 200.0)
        );
        assert_eq!(
            young.stats_at(t0 + 3_600_000),
            ThroughputStats {
                window_seconds: 60.0,
                ..ThroughputStats::default()
            }
        );
    }

    #[test]
    fn throughput_convenience_recorders_and_clones() {
        let tp =
            Throughput::with_window(WindowOpts::new("tp", Duration::from_secs(30), 3).unwrap());
        let other = tp.clone();
        tp.record_request(1_000);
        other.record_tokens(40);
        other.record_bytes(24);
        tp.record(3, 0, 0);
        let st = tp.stats();
        assert!(
            st.requests_per_second > 0.0 && st.tokens_per_second > 0.0 && st.bytes_per_second > 0.0
        );
        // The same time base divides all three, so their ratios are exact.
        assert!(
            close(
                st.bytes_per_second / st.requests_per_second,
                1_024.0 / 4.0,
                1e-9
            ),
            "{st:?}"
        );
        assert!(
            close(st.tokens_per_second / st.requests_per_second, 10.0, 1e-9),
            "{st:?}"
        );
        assert!(close(st.window_seconds, 30.0, 1e-12));
        assert!(format!("{:?}", Throughput::default()).starts_with("Throughput"));
    }
}
