//! A contention-adaptive sum, after Java's `LongAdder`.
//!
//! While only one thread at a time updates it, an [`Adder`] is a single
//! 8-byte atomic and an update is one atomic add on it: a `fetch_add` for
//! integers, a compare-and-swap for floats. A `fetch_add` cannot tell whether
//! another thread raced it, so one integer add in 1024 also probes with a
//! compare-and-swap. The first time a compare-and-swap on the base loses to
//! another thread, the adder allocates a table
//! of cell *slots* (one per CPU, rounded up to a power of two) and from then on
//! each thread updates the cache-padded cell its per-thread probe selects.
//! Cells are allocated on demand, the first time a thread lands on an empty
//! slot; a thread whose cell update is contended re-hashes its probe so that
//! contending threads spread out. Reads add the base and every cell.
//!
//! The table never grows or moves once installed, so no memory reclamation
//! scheme is needed: slots and cells live until the adder is dropped.
//!
//! An integer total is never allowed to wrap at 2^64, which a scraper would
//! read as a reset. Each part (the base or a cell) is retired when an add takes
//! it to 2^63 or past: the base by installing the table, after which no add
//! targets it; a cell by putting a fresh one in its slot and moving the old one
//! onto the table's retired list, which reads still add up. A part keeps its
//! value when retired, so nothing is moved between parts and no read can catch
//! a total in transit; the adds that still land on a retired part (threads that
//! loaded it just before) have 2^63 of headroom, as long as each is small: the
//! callers keep integer deltas below [`MAX_INTEGER_DELTA`]. Totals above 2^64
//! are read with [`Adder::sum_wide`].

use crossbeam_utils::CachePadded;
use std::cell::Cell as StdCell;
use std::ptr;

use crate::sync::{AtomicPtr, AtomicU64, Ordering, thread_local};

/// A value that can be summed in 64 atomic bits.
pub(crate) trait Summand: Copy {
    /// Whether the encoding adds as integers, so the base can take a `fetch_add`.
    const INTEGER: bool;
    /// `bits` (an encoded running total) plus `delta`, encoded.
    fn add_to(bits: u64, delta: Self) -> u64;
    /// Decodes a running total.
    fn decode(bits: u64) -> Self;
    /// Adds two decoded totals.
    fn plus(self, other: Self) -> Self;
}

impl Summand for u64 {
    const INTEGER: bool = true;
    #[inline]
    fn add_to(bits: u64, delta: u64) -> u64 {
        // Counters wrap at 2^64 like every Prometheus client; at a billion
        // increments a second that takes 584 years.
        bits.wrapping_add(delta)
    }
    #[inline]
    fn decode(bits: u64) -> u64 {
        bits
    }
    #[inline]
    fn plus(self, other: u64) -> u64 {
        self.wrapping_add(other)
    }
}

impl Summand for f64 {
    const INTEGER: bool = false;
    #[inline]
    fn add_to(bits: u64, delta: f64) -> u64 {
        (f64::from_bits(bits) + delta).to_bits()
    }
    #[inline]
    fn decode(bits: u64) -> f64 {
        f64::from_bits(bits)
    }
    #[inline]
    fn plus(self, other: f64) -> f64 {
        self + other
    }
}

type Cell = CachePadded<AtomicU64>;

/// The bound on deltas an integer adder takes (above every whole number a double holds
/// exactly, so JavaScript's and most of Python's increments stay exact): a part past 2^63
/// then needs 2^9 such adds, each from a thread that loaded it before its retirement and
/// raced to it at that instant, to wrap.
pub(crate) const MAX_INTEGER_DELTA: u64 = 1 << 54;

/// Where an integer part is retired (see the module docs).
const RETIRE_AT: u64 = 1 << 63;

/// The slots; `slots.len()` is a power of two.
struct Table {
    slots: Box<[AtomicPtr<Cell>]>,
    /// Cells taken out of their slot at [`RETIRE_AT`], newest first.
    retired: AtomicPtr<Retired>,
}

/// One retired cell on a table's list.
struct Retired {
    cell: *mut Cell,
    next: *mut Retired,
}

/// A striped, contention-adaptive running sum of `T` (`u64` or `f64`).
pub(crate) struct Adder<T: Summand> {
    /// The uncontended total; also receives updates made before the table exists.
    base: AtomicU64,
    /// Null until the first contended update.
    table: AtomicPtr<Table>,
    _value: std::marker::PhantomData<T>,
}

// SAFETY: all shared state is atomics; the raw pointers are owned by the adder
// and only freed in `drop`, which has exclusive access.
unsafe impl<T: Summand> Send for Adder<T> {}
// SAFETY: as above; every access through `&self` is an atomic operation.
unsafe impl<T: Summand> Sync for Adder<T> {}

#[cfg(not(loom))]
thread_local! {
    /// This thread's probe into cell tables; 0 means "not yet seeded".
    static PROBE: StdCell<u32> = const { StdCell::new(0) };
}
// loom's `thread_local!` does not take a `const { }` initializer.
#[cfg(loom)]
thread_local! {
    static PROBE: StdCell<u32> = StdCell::new(0);
}

/// Seeds differ per thread (a Weyl sequence), so threads start on different slots.
#[cfg(not(loom))]
static PROBE_SEED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
// Under loom the seed must restart with every explored execution: a std static
// keeps counting across executions, so a re-hash lands on another slot from one
// execution to the next and loom's replay of a schedule diverges.
#[cfg(loom)]
loom::lazy_static! {
    static ref PROBE_SEED: loom::sync::atomic::AtomicU32 = loom::sync::atomic::AtomicU32::new(0);
}

/// Whether an integer add that found `prev` in its part should probe the part for
/// contention: one add in 1024, picked by a multiplicative hash of `prev` so that any
/// sequence of deltas samples evenly (a Weyl sequence). Rarer probes are cheaper: the
/// branch they take is mispredicted, right after a locked instruction (one in 64
/// cost 18% over a bare `fetch_add`, one in 1024 about 4%).
#[inline]
fn probe_due(prev: u64) -> bool {
    prev.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54 == 0
}

/// What became of one attempt to add to a part.
enum Outcome {
    /// Added, and no other thread was seen racing.
    Added,
    /// Added, but a probe saw another thread racing on the part.
    AddedContended,
    /// Added, and took the integer part to [`RETIRE_AT`] or past: retire it.
    AddedPastRetirement,
    /// Not added: a compare-and-swap lost to another thread.
    Lost,
}

/// Whether an integer add took a part from below [`RETIRE_AT`] to it or past. Exactly
/// one add per part does, so exactly one thread retires it.
#[inline]
fn reaches_retirement(prev: u64, delta_bits: u64) -> bool {
    prev < RETIRE_AT && prev.wrapping_add(delta_bits) >= RETIRE_AT
}

#[inline]
fn probe() -> u32 {
    PROBE.with(|p| {
        let v = p.get();
        if v != 0 {
            return v;
        }
        // Relaxed: only uniqueness of the returned value matters.
        let seed = PROBE_SEED
            .fetch_add(0x9E37_79B9, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9)
            | 1;
        p.set(seed);
        seed
    })
}

/// Moves this thread to another slot after a contended update (xorshift).
#[inline]
fn rehash(mut p: u32) -> u32 {
    p ^= p << 13;
    p ^= p >> 17;
    p ^= p << 5;
    let p = if p == 0 { 1 } else { p };
    PROBE.with(|c| c.set(p));
    p
}

/// The most cell slots a table has.
const MAX_SLOTS: usize = 64;

pub(crate) fn slot_count() -> usize {
    #[cfg(loom)]
    {
        2
    }
    #[cfg(not(loom))]
    {
        // Racing first calls each work it out and store the same number; nobody waits (a
        // `OnceLock` would make a child forked mid-initialisation wait forever).
        static SLOTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        // Relaxed: the number is the only thing published.
        let slots = SLOTS.load(std::sync::atomic::Ordering::Relaxed);
        if slots != 0 {
            return slots;
        }
        let cpus = std::thread::available_parallelism().map_or(4, std::num::NonZero::get);
        let slots = cpus.next_power_of_two().clamp(2, MAX_SLOTS);
        // Relaxed: as above.
        SLOTS.store(slots, std::sync::atomic::Ordering::Relaxed);
        slots
    }
}

impl<T: Summand> Adder<T> {
    pub(crate) fn new(initial: T) -> Self {
        Self {
            base: AtomicU64::new(T::add_to(0, initial)),
            table: AtomicPtr::new(ptr::null_mut()),
            _value: std::marker::PhantomData,
        }
    }

    /// Adds `delta`. Returns the cell slot the add went to (0 while the adder is
    /// unstriped), so a caller can stripe other per-thread state the same way.
    #[inline]
    pub(crate) fn add(&self, delta: T) -> usize {
        // Acquire: pairs with the Release that publishes a table, so its slots are initialised.
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return match Self::try_add(&self.base, delta) {
                Outcome::Added => 0,
                // A base past retirement stops taking adds once the table exists.
                Outcome::AddedContended | Outcome::AddedPastRetirement => {
                    self.install_table();
                    0
                }
                Outcome::Lost => Self::add_slow(delta, self.install_table()),
            };
        }
        // SAFETY: a non-null table pointer was published by `install_table` and
        // is freed only by `drop`, which cannot run while `&self` is live.
        Self::add_slow(delta, unsafe { &*table })
    }

    /// One attempt to add `delta` to `part`. Integers take a `fetch_add`, which cannot
    /// fail and so cannot tell whether another thread raced it: one add in 1024 then
    /// probes with a compare-and-swap of the value it loads onto itself, which fails
    /// only if another thread wrote in between. Floats (and every add under loom, so
    /// the model explores the races) take a compare-and-swap, whose loss is the signal.
    #[inline]
    fn try_add(part: &AtomicU64, delta: T) -> Outcome {
        let delta_bits = T::add_to(0, delta);
        if T::INTEGER && !cfg!(loom) {
            // Relaxed: the sum publishes no other memory; only atomicity matters.
            let prev = part.fetch_add(delta_bits, Ordering::Relaxed);
            if !probe_due(prev) && !reaches_retirement(prev, delta_bits) {
                return Outcome::Added;
            }
            return Self::after_rare_add(part, prev, delta_bits);
        }
        // Relaxed: as above.
        let cur = part.load(Ordering::Relaxed);
        match part.compare_exchange(
            cur,
            T::add_to(cur, delta),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) if T::INTEGER && reaches_retirement(cur, delta_bits) => {
                Outcome::AddedPastRetirement
            }
            Ok(_) => Outcome::Added,
            Err(_) => Outcome::Lost,
        }
    }

    /// The rest of an integer add that reached retirement or is due a contention probe.
    #[cold]
    fn after_rare_add(part: &AtomicU64, prev: u64, delta_bits: u64) -> Outcome {
        if reaches_retirement(prev, delta_bits) {
            return Outcome::AddedPastRetirement;
        }
        // Relaxed: as in `try_add`.
        let cur = part.load(Ordering::Relaxed);
        match part.compare_exchange(cur, cur, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => Outcome::Added,
            Err(_) => Outcome::AddedContended,
        }
    }

    /// Adds through this thread's cell, creating it on first use and re-hashing on
    /// contention; returns the slot used.
    fn add_slow(delta: T, table: &Table) -> usize {
        let mask = table.slots.len() - 1;
        let mut p = probe();
        loop {
            let slot = p as usize & mask;
            let cell = Self::cell(table, slot);
            match Self::try_add(cell, delta) {
                Outcome::Added => return slot,
                Outcome::AddedContended => {
                    rehash(p);
                    return slot;
                }
                Outcome::AddedPastRetirement => {
                    Self::retire(table, slot, cell);
                    return slot;
                }
                Outcome::Lost => p = rehash(p),
            }
        }
    }

    /// The cell in `slot`, allocated (zero) if this is its first use.
    fn cell(table: &Table, slot: usize) -> &Cell {
        let slot = &table.slots[slot];
        // Acquire: pairs with the Release below, so the cell's initial zero is visible.
        let mut cell = slot.load(Ordering::Acquire);
        if cell.is_null() {
            let fresh = Box::into_raw(Box::new(CachePadded::new(AtomicU64::new(0))));
            // AcqRel: publish our cell (Release) or see the winner's (Acquire).
            cell = match slot.compare_exchange(
                ptr::null_mut(),
                fresh,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => fresh,
                Err(winner) => {
                    // SAFETY: `fresh` came from Box::into_raw above and was never shared.
                    drop(unsafe { Box::from_raw(fresh) });
                    winner
                }
            };
        }
        // SAFETY: a non-null slot holds a cell from Box::into_raw that lives until `drop`.
        unsafe { &*cell }
    }

    /// Replaces `old`, the cell in `slot`, with a fresh one, keeping `old` on the retired
    /// list so reads still count it. Only the one add that took `old` to retirement calls
    /// this, so `old` is still in the slot.
    #[cold]
    fn retire(table: &Table, slot: usize, old: &Cell) {
        let old = ptr::from_ref(old).cast_mut();
        let node = Box::into_raw(Box::new(Retired {
            cell: old,
            next: ptr::null_mut(),
        }));
        // Relaxed: the head is only published by the compare-and-swap below.
        let mut head = table.retired.load(Ordering::Relaxed);
        loop {
            // SAFETY: `node` came from Box::into_raw above and is not yet shared.
            unsafe { (*node).next = head };
            // Release: publishes the node (and what it points to) to `for_each_part`'s Acquire.
            match table
                .retired
                .compare_exchange(head, node, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => head = now,
            }
        }
        let fresh = Box::into_raw(Box::new(CachePadded::new(AtomicU64::new(0))));
        // Release: a read that sees `fresh` in the slot also sees `old` on the retired list
        // (it was pushed before), so `old` is never missed; one that still sees `old` in the
        // slot skips it on the list.
        let replaced = table.slots[slot].swap(fresh, Ordering::Release);
        debug_assert_eq!(replaced, old, "only the retiring add replaces a cell");
    }

    /// Installs the cell table if no other thread has, and returns the one in place.
    #[cold]
    fn install_table(&self) -> &Table {
        let slots = (0..slot_count())
            .map(|_| AtomicPtr::new(ptr::null_mut()))
            .collect();
        let fresh = Box::into_raw(Box::new(Table {
            slots,
            retired: AtomicPtr::new(ptr::null_mut()),
        }));
        // AcqRel: publish our table (Release) or see the winner's (Acquire).
        let table = match self.table.compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(winner) => {
                // SAFETY: `fresh` came from Box::into_raw above and was never shared.
                drop(unsafe { Box::from_raw(fresh) });
                winner
            }
        };
        // SAFETY: the table lives until `drop`, which needs `&mut self`.
        unsafe { &*table }
    }

    /// Visits the base, every allocated cell and every retired cell, each once.
    fn for_each_part(&self, mut f: impl FnMut(&AtomicU64)) {
        f(&self.base);
        // Acquire: as in `add`.
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return;
        }
        // SAFETY: see `add`.
        let table = unsafe { &*table };
        // The cells seen in slots, so a cell retired during this read is not counted twice.
        let mut seen = [ptr::null_mut::<Cell>(); MAX_SLOTS];
        for (slot, seen) in table.slots.iter().zip(&mut seen) {
            // Acquire: as in `cell`, and pairs with `retire`'s Release.
            let cell = slot.load(Ordering::Acquire);
            if !cell.is_null() {
                *seen = cell;
                // SAFETY: see `cell`.
                f(unsafe { &*cell });
            }
        }
        // Acquire: pairs with `retire`'s Release, so a node's fields are visible. Loaded
        // after the slots: a retirement whose fresh cell was seen above is on the list.
        let mut node = table.retired.load(Ordering::Acquire);
        while !node.is_null() {
            // SAFETY: retired nodes come from Box::into_raw and live until `drop`.
            let Retired { cell, next } = unsafe { &*node };
            if !seen.contains(cell) {
                // SAFETY: a retired cell lives until `drop`, like every cell.
                f(unsafe { &**cell });
            }
            node = *next;
        }
    }

    /// The current total. Not a snapshot across cells: updates racing with the
    /// read may or may not be included, but every update that happened-before
    /// the call is.
    pub(crate) fn sum(&self) -> T {
        let mut total = zero::<T>();
        // Relaxed: see `add`; callers that need happens-before use thread joins.
        self.for_each_part(|part| total = total.plus(T::decode(part.load(Ordering::Relaxed))));
        total
    }

    /// Returns the total and zeroes every part. Each part is swapped
    /// atomically, so an update racing with this call is counted either in the
    /// returned total or in the next one, never lost.
    pub(crate) fn take(&self) -> T {
        let mut total = zero::<T>();
        // Relaxed: as in `sum`.
        self.for_each_part(|part| total = total.plus(T::decode(part.swap(0, Ordering::Relaxed))));
        total
    }

    /// Whether the adder has switched to striped cells (for tests and memory reports).
    #[cfg(test)]
    pub(crate) fn is_striped(&self) -> bool {
        !self.table.load(Ordering::Acquire).is_null()
    }
}

impl Adder<u64> {
    /// The current total without wrapping at 2^64 (see the module docs; otherwise as
    /// [`Adder::sum`]).
    pub(crate) fn sum_wide(&self) -> u128 {
        let mut total = 0u128;
        // Relaxed: as in `sum`.
        self.for_each_part(|part| total += u128::from(part.load(Ordering::Relaxed)));
        total
    }

    /// As [`Adder::take`], without wrapping at 2^64.
    pub(crate) fn take_wide(&self) -> u128 {
        let mut total = 0u128;
        // Relaxed: as in `take`.
        self.for_each_part(|part| total += u128::from(part.swap(0, Ordering::Relaxed)));
        total
    }
}

/// The additive identity. Both encodings of zero (0u64, +0.0f64) are the
/// all-zero bit pattern, which is also what a fresh part holds.
#[inline]
fn zero<T: Summand>() -> T {
    T::decode(0)
}

impl<T: Summand> Drop for Adder<T> {
    fn drop(&mut self) {
        // Relaxed is enough: `&mut self` means no other thread can touch the adder.
        let table = self.table.load(Ordering::Relaxed);
        if table.is_null() {
            return;
        }
        // SAFETY: the table came from Box::into_raw in `install_table` and we hold the only access.
        let table = unsafe { Box::from_raw(table) };
        let mut node = table.retired.load(Ordering::Relaxed);
        while !node.is_null() {
            // SAFETY: each node came from Box::into_raw in `retire` and is on the list once;
            // its cell left its slot then, so it is freed here and nowhere else.
            let Retired { cell, next } = *unsafe { Box::from_raw(node) };
            // SAFETY: as above.
            drop(unsafe { Box::from_raw(cell) });
            node = next;
        }
        for slot in &*table.slots {
            let cell = slot.load(Ordering::Relaxed);
            if !cell.is_null() {
                // SAFETY: the cell came from Box::into_raw in `cell` and is freed exactly once here.
                drop(unsafe { Box::from_raw(cell) });
            }
        }
    }
}

impl<T: Summand + std::fmt::Debug> std::fmt::Debug for Adder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Adder").field(&self.sum()).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn uncontended_stays_unstriped() {
        let a = Adder::<u64>::new(0);
        for _ in 0..1000 {
            a.add(3);
        }
        assert_eq!(a.sum(), 3000);
        assert!(!a.is_striped());
    }

    #[test]
    fn contention_on_integer_base_is_detected() {
        if std::thread::available_parallelism().map_or(1, std::num::NonZero::get) < 2 {
            eprintln!("skipped: needs 2 CPUs for two threads to contend");
            return;
        }
        // Two threads hammering one base: a periodic probing compare-and-swap must
        // eventually lose and switch the adder to cells.
        let a = Arc::new(Adder::<u64>::new(0));
        let start = Arc::new(std::sync::Barrier::new(2));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (a, start) = (Arc::clone(&a), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    for _ in 0..50_000_000 {
                        a.add(1);
                        if a.is_striped() {
                            break;
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(
            a.is_striped(),
            "two threads x 5e7 adds never saw contention"
        );
    }

    #[test]
    fn f64_sum_and_take() {
        let a = Adder::<f64>::new(0.0);
        a.add(0.5);
        a.add(1.25);
        assert!((a.sum() - 1.75).abs() < f64::EPSILON);
        assert!((a.take() - 1.75).abs() < f64::EPSILON);
        assert!(a.sum().abs() < f64::EPSILON);
    }

    #[test]
    fn contended_totals_are_exact() {
        let a = Arc::new(Adder::<u64>::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let a = Arc::clone(&a);
                std::thread::spawn(move || {
                    for _ in 0..200_000 {
                        a.add(1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(a.sum(), 800_000);
    }

    #[test]
    fn a_base_reaching_2_63_hands_over_to_cells() {
        let a = Adder::<u64>::new(RETIRE_AT - 1);
        a.add(1);
        assert!(a.is_striped(), "the base retires at 2^63");
        for _ in 0..3 {
            a.add(MAX_INTEGER_DELTA);
        }
        assert_eq!(
            a.sum_wide(),
            u128::from(RETIRE_AT) + 3 * u128::from(MAX_INTEGER_DELTA)
        );
    }

    #[test]
    fn integer_totals_pass_2_64_without_wrapping() {
        let a = Adder::<u64>::new(0);
        let t = a.install_table();
        let quarter = 1u64 << 62;
        // One thread, so one slot: its cell retires at 2^63 and a fresh one takes over.
        for _ in 0..9 {
            Adder::<u64>::add_slow(quarter, t);
        }
        Adder::<u64>::add_slow(7, t);
        let want = 9 * u128::from(quarter) + 7;
        assert!(want > u128::from(u64::MAX));
        assert_eq!(a.sum_wide(), want);
        assert!(
            !t.retired.load(Ordering::Relaxed).is_null(),
            "a cell was retired"
        );
        assert_eq!(a.take_wide(), want);
        assert_eq!(a.sum_wide(), 0);
        a.add(2);
        assert_eq!(a.sum_wide(), 2, "retired cells stay zero after a take");
    }

    #[test]
    fn table_path_is_used_after_install() {
        let a = Adder::<u64>::new(5);
        let t = a.install_table();
        Adder::<u64>::add_slow(7, t);
        a.add(1);
        assert!(a.is_striped());
        assert_eq!(a.sum(), 13);
        assert_eq!(a.take(), 13);
        assert_eq!(a.sum(), 0);
    }
}
