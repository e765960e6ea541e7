//! Lanes: the JavaScript fast path.
//!
//! A native call from JavaScript costs tens to hundreds of nanoseconds, while V8 inlines a
//! store into a typed array to a nanosecond or two. So the skin keeps the hot path in
//! JavaScript: each kept series gets a *lane*, a slot in a `Float64Array` page that the JS
//! thread owns, and `inc`/`set`/`observe` write there. A lane set remembers which core
//! handle each slot belongs to, and `flush` moves what the slots hold into those handles
//! and clears them. The skin flushes before every read it serves (render, `get`,
//! snapshots), when a histogram batch fills, and once a second from a timer, so readers in
//! other threads see at most a second's delay.
//!
//! Flushing runs on the JS thread that owns the pages (they are plain JS memory, passed in
//! as arguments), so no write races a flush. When the JS object that owned a lane is
//! garbage-collected, the skin flushes the lane and releases its slot, which drops the
//! core handle and lets a later series reuse the slot: lanes live as long as their series
//! are in use, not as long as the process.

use metricore::{Counter, ErrorKind, Gauge, Histogram};
use napi::Env;
use napi_derive::napi;

use crate::convert::whole;
use crate::errors::{OrThrow, throw};
use crate::metrics::{CounterSeries, GaugeSeries, HistogramSeries};

/// A page of lanes, borrowed from its `Float64Array` for the length of one call. (Spelled
/// as an alias because `#[napi]` reads a literal `&mut` argument as a class reference.)
type Page<'a> = &'a mut [f64];

/// The core handles behind a run of lanes; slot `i` of the lane set is `handles[i]`,
/// `None` once released (and then on the free list for the next bind).
struct Slots<M> {
    handles: Vec<Option<M>>,
    free: Vec<u32>,
}

impl<M: Clone> Slots<M> {
    const fn new() -> Self {
        Self {
            handles: Vec::new(),
            free: Vec::new(),
        }
    }

    fn bind(&mut self, handle: &M) -> u32 {
        if let Some(slot) = self.free.pop() {
            self.handles[slot as usize] = Some(handle.clone());
            return slot;
        }
        self.handles.push(Some(handle.clone()));
        u32::try_from(self.handles.len() - 1).unwrap_or(u32::MAX)
    }

    fn release(&mut self, slot: u32) {
        if let Some(h) = self.handles.get_mut(slot as usize)
            && h.take().is_some()
        {
            self.free.push(slot);
        }
    }

    fn live(&self) -> u32 {
        u32::try_from(self.handles.len() - self.free.len()).unwrap_or(u32::MAX)
    }

    fn get(&self, slot: usize) -> Option<&M> {
        self.handles.get(slot)?.as_ref()
    }

    /// The handles of the page that starts at slot `first`, `len` long (shorter at the end).
    fn page(&self, first: u32, len: usize) -> &[Option<M>] {
        let start = (first as usize).min(self.handles.len());
        let end = start.saturating_add(len).min(self.handles.len());
        &self.handles[start..end]
    }
}

/// The methods every lane set shares: binding a series to a slot, releasing it, counting.
macro_rules! slot_methods {
    ($lanes:ident, $series:ident) => {
        #[napi]
        impl $lanes {
            /// Gives `series` a slot (a released one first) and returns it.
            #[napi(catch_unwind)]
            pub fn bind(&mut self, series: &$series) -> u32 {
                self.slots.bind(&series.handle)
            }

            /// Releases `slot` (its owner was collected and the skin flushed it): the core
            /// handle is dropped and the slot goes to the next bind.
            #[napi(catch_unwind)]
            pub fn release(&mut self, slot: u32) {
                self.slots.release(slot);
            }

            /// Slots bound and not yet released.
            #[napi(getter, catch_unwind)]
            pub fn live(&self) -> u32 {
                self.slots.live()
            }
        }

        impl Default for $lanes {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

/// Counter lanes: a page cell holds the increments (whole numbers, as doubles) made since
/// the last flush.
#[napi]
pub struct CounterLanes {
    slots: Slots<Counter>,
}

#[napi]
impl CounterLanes {
    /// An empty lane set.
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        Self {
            slots: Slots::new(),
        }
    }

    /// Adds the page starting at slot `first` into its counters and zeroes it.
    #[napi(catch_unwind, ts_args_type = "first: number, cells: Float64Array")]
    pub fn flush(&self, first: u32, cells: Page<'_>) {
        let counters = self.slots.page(first, cells.len());
        for (cell, counter) in cells.iter_mut().zip(counters) {
            if *cell != 0.0
                && let Some(counter) = counter
            {
                // The skin only ever adds checked whole numbers; a cell cannot go negative.
                if let Some(n) = whole(*cell) {
                    counter.inc_by(n);
                }
                *cell = 0.0;
            }
        }
    }
}

slot_methods!(CounterLanes, CounterSeries);

/// Gauge lanes: two cells per gauge, a mode (0 nothing pending, 1 set to the value, 2 add
/// the value) and the value. A set followed by adds stays a set of the running value.
#[napi]
pub struct GaugeLanes {
    slots: Slots<Gauge>,
}

/// Gauge cell modes.
const GAUGE_SET: f64 = 1.0;
const GAUGE_ADD: f64 = 2.0;

#[napi]
impl GaugeLanes {
    /// An empty lane set.
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        Self {
            slots: Slots::new(),
        }
    }

    /// Applies the page starting at slot `first` (two cells per slot) and clears it.
    #[napi(catch_unwind, ts_args_type = "first: number, cells: Float64Array")]
    pub fn flush(&self, first: u32, cells: Page<'_>) {
        let gauges = self.slots.page(first, cells.len() / 2);
        for (pair, gauge) in cells.chunks_exact_mut(2).zip(gauges) {
            let Some(gauge) = gauge else { continue };
            if pair[0] == GAUGE_SET {
                gauge.set(pair[1]);
            } else if pair[0] == GAUGE_ADD {
                gauge.add(pair[1]);
            }
            pair[0] = 0.0;
            pair[1] = 0.0;
        }
    }
}

slot_methods!(GaugeLanes, GaugeSeries);

/// What a histogram batch entry asks for (the low two bits of its code).
const OBSERVE: u64 = 0;
const RECORD: u64 = 1;
const RECORD_MS: u64 = 2;

/// One batch shared by every histogram series of a JS thread: pairs of (code, value),
/// where `code = slot * 4 + op` and `op` is observe (base units), record (a whole number
/// in the histogram's resolution) or record in milliseconds. A run of entries with one
/// code (the common case: one hot histogram) goes to the core as one batch, which adds its
/// sum and extremes once.
#[napi]
pub struct HistogramBatch {
    slots: Slots<Histogram>,
    /// Scratch for a run's values, kept between flushes.
    run: Vec<f64>,
    whole_run: Vec<u64>,
}

#[napi]
impl HistogramBatch {
    /// An empty batch.
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        Self {
            slots: Slots::new(),
            run: Vec::new(),
            whole_run: Vec::new(),
        }
    }

    /// Records the first `len` doubles of `entries` (pairs of code and value). The skin
    /// checks each value when it is given, so an error here names a bug, not bad input;
    /// the entries before it are recorded.
    #[napi(catch_unwind)]
    pub fn flush(&mut self, env: Env, entries: &[f64], len: u32) -> napi::Result<()> {
        let mut rest = &entries[..(len as usize).min(entries.len()) & !1];
        while let [code, ..] = *rest {
            let pairs = rest
                .chunks_exact(2)
                .take_while(|pair| pair[0].to_bits() == code.to_bits())
                .count();
            let (run, tail) = rest.split_at(2 * pairs);
            rest = tail;
            self.record_run(env, code, run)?;
        }
        Ok(())
    }
}

impl HistogramBatch {
    /// Records the values of `run` (pairs, all with the code `code`) as the op and series
    /// that `code` names.
    fn record_run(&mut self, env: Env, code: f64, run: &[f64]) -> napi::Result<()> {
        let Some(code) = whole(code) else {
            return Ok(());
        };
        let Some(histogram) = usize::try_from(code / 4)
            .ok()
            .and_then(|slot| self.slots.get(slot))
        else {
            return Ok(());
        };
        let values = run.chunks_exact(2).map(|pair| pair[1]);
        match code % 4 {
            OBSERVE => histogram
                .observe_batch(refill(&mut self.run, values))
                .or_throw(env),
            RECORD_MS => histogram
                .record_ms_batch(refill(&mut self.run, values))
                .or_throw(env),
            RECORD => {
                self.whole_run.clear();
                for v in values {
                    let Some(n) = whole(v) else {
                        histogram.record_batch(&self.whole_run);
                        return Err(throw(
                            env,
                            ErrorKind::InvalidValue,
                            None,
                            &format!("a batched record must be a whole number >= 0, not {v}"),
                        ));
                    };
                    self.whole_run.push(n);
                }
                histogram.record_batch(&self.whole_run);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// `scratch` holding `values` instead of what it held.
fn refill<T>(scratch: &mut Vec<T>, values: impl Iterator<Item = T>) -> &[T] {
    scratch.clear();
    scratch.extend(values);
    scratch
}

slot_methods!(HistogramBatch, HistogramSeries);
