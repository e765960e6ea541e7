//! Lanes: the JavaScript fast path.
//!
//! A native call from JavaScript costs tens to hundreds of nanoseconds, while V8 inlines a
//! store into a typed array to a nanosecond or two. So the skin keeps the hot path in
//! JavaScript: each kept series gets a *lane*, a slot in a page of doubles, and
//! `inc`/`set`/`observe` write there through a `Float64Array`. A lane set remembers which
//! core handle each slot belongs to, and a flush moves what the slots hold into those
//! handles and clears them. The skin flushes before every read it serves (render, `get`,
//! snapshots), when a histogram batch fills, and once a second from a timer, so readers in
//! other threads see at most a second's delay.
//!
//! The pages are native memory: the lane set allocates them and hands the skin a
//! `Float64Array` over each (an external `ArrayBuffer`), so the lane set can flush without
//! any JavaScript running. That is what keeps a worker thread's last writes: whether the
//! worker's loop runs out, it calls `process.exit()`, or another thread terminates it,
//! Node tears its environment down and finalizes every native object of it, and a lane
//! set's `Drop` flushes what its pages hold. A page is freed once both the lane set and the
//! JS array over it are gone.
//!
//! Pages are written by JavaScript and read by flushes on the one thread that owns the
//! environment (a lane set is a JS object, used only from its thread), so no write races a
//! flush. When the JS object that owned a lane is garbage-collected, the skin releases the
//! slot: the lane set flushes it, drops the core handle and gives the slot to a later
//! series, so lanes live as long as their series are in use, not as long as the process.

use std::cell::Cell;
use std::ffi::c_void;
use std::rc::Rc;

use metricore::{Counter, Gauge, Histogram};
use napi::bindgen_prelude::{ToNapiValue, TypeName, ValueType};
use napi::{Env, Status, sys};
use napi_derive::napi;

use crate::convert::whole;
use crate::errors::{core_error, throw};
use crate::metrics::{CounterSeries, GaugeSeries, HistogramSeries};

/// Lanes per counter or gauge page.
const PAGE: usize = 256;
/// Doubles in the histogram batch: pairs of (code, value).
const BATCH_LEN: usize = 2048;

/// The cells of one page. `Cell`, because JavaScript writes them through the pointer the
/// `Float64Array` was made over while the lane set holds a shared reference.
struct Memory {
    cells: Box<[Cell<f64>]>,
}

impl Memory {
    fn new(len: usize) -> Rc<Self> {
        Rc::new(Self {
            cells: (0..len).map(|_| Cell::new(0.0)).collect(),
        })
    }
}

/// A page of lane memory and whether the skin has been given its `Float64Array` (V8
/// allows one `ArrayBuffer` per block of external memory, so it gets one).
struct Page {
    memory: Rc<Memory>,
    viewed: bool,
}

impl Page {
    fn new(len: usize) -> Self {
        Self {
            memory: Memory::new(len),
            viewed: false,
        }
    }

    /// The `Float64Array` over this page, the first time it is asked for.
    fn view(&mut self) -> napi::Result<View> {
        if self.viewed {
            return Err(napi::Error::new(
                Status::GenericFailure,
                "metricore: a lane page's array was already handed out",
            ));
        }
        self.viewed = true;
        Ok(View(Rc::clone(&self.memory)))
    }
}

/// A `Float64Array` on its way to JavaScript over a page's memory, which it keeps alive
/// until V8 collects the array.
pub struct View(Rc<Memory>);

impl TypeName for View {
    fn type_name() -> &'static str {
        "Float64Array"
    }

    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for View {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let len = val.0.cells.len();
        // `Cell<f64>` has the layout of `f64`, and writes through a pointer taken from a
        // shared reference to cells are allowed (they are `UnsafeCell`s).
        let data = val.0.cells.as_ptr().cast_mut().cast::<c_void>();
        let hint = Rc::into_raw(val.0).cast_mut().cast::<c_void>();
        let mut buffer = std::ptr::null_mut();
        // SAFETY: `env` is the live env of the current call. `data` points to `len` doubles
        // that stay allocated while the reference counted by `hint` lives; Node calls
        // `release_view` with `hint` once, on the JS thread, when V8 drops the buffer.
        let status = unsafe {
            sys::napi_create_external_arraybuffer(
                env,
                data,
                len * size_of::<f64>(),
                Some(release_view),
                hint,
                &raw mut buffer,
            )
        };
        if status != sys::Status::napi_ok {
            // SAFETY: Node did not take `hint`: it is still the reference made above.
            drop(unsafe { Rc::from_raw(hint.cast_const().cast::<Memory>()) });
            // A runtime that copies instead (no external buffers) would lose every write.
            return Err(napi::Error::new(
                Status::GenericFailure,
                format!(
                    "metricore needs external ArrayBuffers for its lanes (napi status {status})"
                ),
            ));
        }
        let mut array = std::ptr::null_mut();
        // SAFETY: `buffer` is the ArrayBuffer just made, `len` doubles long.
        let status = unsafe {
            sys::napi_create_typedarray(
                env,
                sys::TypedarrayType::float64_array,
                len,
                buffer,
                0,
                &raw mut array,
            )
        };
        if status != sys::Status::napi_ok {
            return Err(napi::Error::new(
                Status::GenericFailure,
                format!("cannot create a lane page's Float64Array (napi status {status})"),
            ));
        }
        Ok(array)
    }
}

/// Drops the page reference that a lane page's `ArrayBuffer` held.
unsafe extern "C" fn release_view(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the `Rc::into_raw` of `View::to_napi_value`, and Node calls this
    // once for it, on the JS thread that made it (the only thread using that `Rc`).
    drop(unsafe { Rc::from_raw(hint.cast_const().cast::<Memory>()) });
}

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
}

/// What a kind of lane holds and how a flush applies it to its core handle.
trait Lane {
    type Handle: Clone;
    /// Cells per lane.
    const WIDTH: usize;
    /// Applies what `cells` (one lane) hold to `handle` and clears them.
    fn apply(handle: &Self::Handle, cells: &[Cell<f64>]);
}

/// A set of counter or gauge lanes: the slots and their pages, `PAGE` lanes of
/// `L::WIDTH` cells each, then one cell that every write sets to 1, so that a flush skips
/// the pages nobody wrote since the last one.
struct LaneSet<L: Lane> {
    slots: Slots<L::Handle>,
    pages: Vec<Page>,
}

impl<L: Lane> LaneSet<L> {
    const DIRTY_AT: usize = PAGE * L::WIDTH;

    const fn new() -> Self {
        Self {
            slots: Slots::new(),
            pages: Vec::new(),
        }
    }

    fn bind(&mut self, handle: &L::Handle) -> u32 {
        let slot = self.slots.bind(handle);
        while self.pages.len() * PAGE <= slot as usize {
            self.pages.push(Page::new(Self::DIRTY_AT + 1));
        }
        slot
    }

    fn lane(&self, slot: usize) -> Option<&[Cell<f64>]> {
        let first = (slot % PAGE) * L::WIDTH;
        self.pages
            .get(slot / PAGE)?
            .memory
            .cells
            .get(first..first + L::WIDTH)
    }

    fn release(&mut self, slot: u32) {
        if let (Some(handle), Some(lane)) =
            (self.slots.get(slot as usize), self.lane(slot as usize))
        {
            L::apply(handle, lane);
        }
        self.slots.release(slot);
    }

    fn flush_page(&self, page_no: usize) {
        let Some(page) = self.pages.get(page_no) else {
            return;
        };
        let cells = &page.memory.cells;
        if cells[Self::DIRTY_AT].replace(0.0) == 0.0 {
            return;
        }
        let first = page_no * PAGE;
        let handles = self.slots.handles.iter().skip(first).take(PAGE);
        for (lane, handle) in cells[..Self::DIRTY_AT].chunks_exact(L::WIDTH).zip(handles) {
            if let Some(handle) = handle {
                L::apply(handle, lane);
            }
        }
    }

    fn flush(&self) {
        for page_no in 0..self.pages.len() {
            self.flush_page(page_no);
        }
    }
}

impl<L: Lane> Drop for LaneSet<L> {
    /// The environment is going away (a worker thread ending) or the set was collected:
    /// what the pages still hold goes to the core.
    fn drop(&mut self) {
        self.flush();
    }
}

/// The methods every counter and gauge lane set shares.
macro_rules! lane_set_methods {
    ($lanes:ident, $series:ident, $lane:ty) => {
        #[napi]
        impl $lanes {
            /// An empty lane set.
            #[napi(constructor, catch_unwind)]
            pub fn new() -> Self {
                Self {
                    set: LaneSet::new(),
                }
            }

            /// Gives `series` a slot (a released one first) and returns it; the page it is
            /// on is `Math.floor(slot / pageLanes)`.
            #[napi(catch_unwind)]
            pub fn bind(&mut self, series: &$series) -> u32 {
                self.set.bind(&series.handle)
            }

            /// The `Float64Array` over page `pageNo` (once per page, after a bind made it):
            /// `pageLanes` lanes of `width` doubles, then the written-since-flush flag.
            #[napi(catch_unwind, ts_return_type = "Float64Array")]
            pub fn page(&mut self, page_no: u32) -> napi::Result<View> {
                match self.set.pages.get_mut(page_no as usize) {
                    Some(page) => page.view(),
                    None => Err(napi::Error::new(
                        Status::InvalidArg,
                        format!("metricore: no lane page {page_no}"),
                    )),
                }
            }

            /// Flushes `slot`'s lane and releases it (its owner was collected): the core
            /// handle is dropped and the slot goes to the next bind.
            #[napi(catch_unwind)]
            pub fn release(&mut self, slot: u32) {
                self.set.release(slot);
            }

            /// Moves what page `pageNo` holds into its series, if it was written since the
            /// last flush.
            #[napi(catch_unwind)]
            pub fn flush_page(&self, page_no: u32) {
                self.set.flush_page(page_no as usize);
            }

            /// Moves what every written page holds into its series.
            #[napi(catch_unwind)]
            pub fn flush(&self) {
                self.set.flush();
            }

            /// Slots bound and not yet released.
            #[napi(getter, catch_unwind)]
            pub fn live(&self) -> u32 {
                self.set.slots.live()
            }

            /// Lanes per page.
            #[napi(getter, catch_unwind)]
            pub fn page_lanes(&self) -> u32 {
                PAGE as u32
            }

            /// Doubles per lane.
            #[napi(getter, catch_unwind)]
            pub fn width(&self) -> u32 {
                <$lane as Lane>::WIDTH as u32
            }
        }

        impl Default for $lanes {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

/// A counter lane holds the sum of the increments made since the last flush, which the
/// skin keeps at most 2^53, so that a sum of whole increments is exact.
struct CounterLane;

impl Lane for CounterLane {
    type Handle = Counter;
    const WIDTH: usize = 1;

    fn apply(counter: &Counter, cells: &[Cell<f64>]) {
        let pending = cells[0].replace(0.0);
        if pending == 0.0 {
            return;
        }
        match whole(pending) {
            Some(n) => counter.inc_by(n),
            // A sum with a fraction: the core's float part. The skin only ever adds finite
            // values >= 0, which the core accepts.
            None => {
                let _ = counter.add(pending);
            }
        }
    }
}

/// Counter lanes: one double per lane, the increments made since the last flush.
#[napi]
pub struct CounterLanes {
    set: LaneSet<CounterLane>,
}

lane_set_methods!(CounterLanes, CounterSeries, CounterLane);

/// Gauge cell modes: nothing pending, set to the value, add the value. A set followed by
/// adds stays a set of the running value.
const GAUGE_SET: f64 = 1.0;
const GAUGE_ADD: f64 = 2.0;

/// A gauge lane: a mode and a value.
struct GaugeLane;

impl Lane for GaugeLane {
    type Handle = Gauge;
    const WIDTH: usize = 2;

    fn apply(gauge: &Gauge, cells: &[Cell<f64>]) {
        let mode = cells[0].replace(0.0);
        let value = cells[1].replace(0.0);
        if mode == GAUGE_SET {
            gauge.set(value);
        } else if mode == GAUGE_ADD {
            gauge.add(value);
        }
    }
}

/// Gauge lanes: two doubles per lane, a mode (0 nothing pending, 1 set to the value, 2 add
/// the value) and the value.
#[napi]
pub struct GaugeLanes {
    set: LaneSet<GaugeLane>,
}

lane_set_methods!(GaugeLanes, GaugeSeries, GaugeLane);

/// What a histogram batch entry asks for (the low two bits of its code).
const OBSERVE: u64 = 0;
const RECORD: u64 = 1;
const RECORD_MS: u64 = 2;

/// One batch shared by every histogram series of a JS thread: `BATCH_LEN` doubles of
/// (code, value) pairs, where `code = slot * 4 + op` and `op` is observe (base units),
/// record (a whole number in the histogram's resolution) or record in milliseconds; then
/// one cell holding how many doubles are in use. A run of entries with one code (the
/// common case: one hot histogram) goes to the core as one batch, which adds its sum and
/// extremes once.
#[napi]
pub struct HistogramBatch {
    slots: Slots<Histogram>,
    page: Page,
    /// Scratch for a run's values, kept between flushes.
    run: Vec<f64>,
    whole_run: Vec<u64>,
}

/// A batch entry the core refused: a bug in the skin, which checks every value first.
struct Refused {
    error: Option<metricore::Error>,
    value: f64,
}

#[napi]
impl HistogramBatch {
    /// An empty batch.
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Self {
        Self {
            slots: Slots::new(),
            page: Page::new(BATCH_LEN + 1),
            run: Vec::new(),
            whole_run: Vec::new(),
        }
    }

    /// The batch's `Float64Array` (once): the entries, then the count of doubles in use
    /// (so the entries are its length less one).
    #[napi(catch_unwind, ts_return_type = "Float64Array")]
    pub fn entries(&mut self) -> napi::Result<View> {
        self.page.view()
    }

    /// Gives `series` a slot (a released one first) and returns it.
    #[napi(catch_unwind)]
    pub fn bind(&mut self, series: &HistogramSeries) -> u32 {
        self.slots.bind(&series.handle)
    }

    /// Records what the batch holds (releasing a slot whose entries are pending would lose
    /// them) and releases `slot`.
    #[napi(catch_unwind)]
    pub fn release(&mut self, env: Env, slot: u32) -> napi::Result<()> {
        let recorded = self.record_all();
        self.slots.release(slot);
        recorded.map_err(|refused| refusal(env, refused))
    }

    /// Records the entries the batch holds and empties it. The skin checks each value when
    /// it is given, so an error here names a bug, not bad input; the other entries are
    /// recorded.
    #[napi(catch_unwind)]
    pub fn flush(&mut self, env: Env) -> napi::Result<()> {
        self.record_all().map_err(|refused| refusal(env, refused))
    }

    /// Slots bound and not yet released.
    #[napi(getter, catch_unwind)]
    pub fn live(&self) -> u32 {
        self.slots.live()
    }
}

fn refusal(env: Env, refused: Refused) -> napi::Error {
    match refused.error {
        Some(e) => core_error(env, &e),
        None => throw(
            env,
            metricore::ErrorKind::InvalidValue,
            None,
            &format!(
                "a batched record must be a whole number >= 0, not {}",
                refused.value
            ),
        ),
    }
}

impl HistogramBatch {
    /// Records and clears the entries in use; the first refusal, if any, after all of them.
    fn record_all(&mut self) -> Result<(), Refused> {
        let memory = Rc::clone(&self.page.memory);
        let cells = &memory.cells;
        let used = cells[BATCH_LEN].replace(0.0);
        let used = whole(used).map_or(0, |n| (n as usize).min(BATCH_LEN)) & !1;
        let mut outcome = Ok(());
        let mut rest = &cells[..used];
        while let [code, ..] = rest {
            let code = code.get();
            let pairs = rest
                .chunks_exact(2)
                .take_while(|pair| pair[0].get().to_bits() == code.to_bits())
                .count();
            let (run, tail) = rest.split_at(2 * pairs);
            rest = tail;
            let recorded = self.record_run(code, run.chunks_exact(2).map(|pair| pair[1].get()));
            if outcome.is_ok() {
                outcome = recorded;
            }
        }
        outcome
    }

    /// Records `values` as the op and series that `code` names.
    fn record_run(&mut self, code: f64, values: impl Iterator<Item = f64>) -> Result<(), Refused> {
        let Some(code) = whole(code) else {
            return Ok(());
        };
        let Some(histogram) = usize::try_from(code / 4)
            .ok()
            .and_then(|slot| self.slots.get(slot))
        else {
            return Ok(());
        };
        let refused = |error| Refused {
            error: Some(error),
            value: 0.0,
        };
        match code % 4 {
            OBSERVE => histogram
                .observe_batch(refill(&mut self.run, values))
                .map_err(refused),
            RECORD_MS => histogram
                .record_ms_batch(refill(&mut self.run, values))
                .map_err(refused),
            RECORD => {
                self.whole_run.clear();
                let mut outcome = Ok(());
                for v in values {
                    match whole(v) {
                        Some(n) => self.whole_run.push(n),
                        None if outcome.is_ok() => {
                            outcome = Err(Refused {
                                error: None,
                                value: v,
                            });
                        }
                        None => {}
                    }
                }
                histogram.record_batch(&self.whole_run);
                outcome
            }
            _ => Ok(()),
        }
    }
}

impl Drop for HistogramBatch {
    /// As for counter and gauge lanes: what the batch holds goes to the core.
    fn drop(&mut self) {
        // Nothing to report a refusal to; the skin never pushes one.
        let _ = self.record_all();
    }
}

impl Default for HistogramBatch {
    fn default() -> Self {
        Self::new()
    }
}

/// `scratch` holding `values` instead of what it held.
fn refill<T>(scratch: &mut Vec<T>, values: impl Iterator<Item = T>) -> &[T] {
    scratch.clear();
    scratch.extend(values);
    scratch
}
