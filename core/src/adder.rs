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

/// The slots; `slots.len()` is a power of two.
struct Table {
    slots: Box<[AtomicPtr<Cell>]>,
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
    /// Not added: a compare-and-swap lost to another thread.
    Lost,
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

pub(crate) fn slot_count() -> usize {
    #[cfg(loom)]
    {
        2
    }
    #[cfg(not(loom))]
    {
        static SLOTS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        *SLOTS.get_or_init(|| {
            let cpus = std::thread::available_parallelism().map_or(4, std::num::NonZero::get);
            cpus.next_power_of_two().clamp(2, 64)
        })
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
                Outcome::AddedContended => {
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
        if T::INTEGER && !cfg!(loom) {
            // Relaxed: the sum publishes no other memory; only atomicity matters.
            let prev = part.fetch_add(T::add_to(0, delta), Ordering::Relaxed);
            if !probe_due(prev) {
                return Outcome::Added;
            }
            let cur = part.load(Ordering::Relaxed);
            return match part.compare_exchange(cur, cur, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => Outcome::Added,
                Err(_) => Outcome::AddedContended,
            };
        }
        // Relaxed: as above.
        let cur = part.load(Ordering::Relaxed);
        match part.compare_exchange(
            cur,
            T::add_to(cur, delta),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => Outcome::Added,
            Err(_) => Outcome::Lost,
        }
    }

    /// Adds through this thread's cell, creating it on first use and re-hashing on
    /// contention; returns the slot used.
    fn add_slow(delta: T, table: &Table) -> usize {
        let mask = table.slots.len() - 1;
        let mut p = probe();
        loop {
            let slot = p as usize & mask;
            match Self::try_add(Self::cell(table, slot), delta) {
                Outcome::Added => return slot,
                Outcome::AddedContended => {
                    rehash(p);
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

    /// Installs the cell table if no other thread has, and returns the one in place.
    #[cold]
    fn install_table(&self) -> &Table {
        let slots = (0..slot_count())
            .map(|_| AtomicPtr::new(ptr::null_mut()))
            .collect();
        let fresh = Box::into_raw(Box::new(Table { slots }));
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

    /// Visits the base and every allocated cell.
    fn for_each_part(&self, mut f: impl FnMut(&AtomicU64)) {
        f(&self.base);
        // Acquire: as in `add`.
        let table = self.table.load(Ordering::Acquire);
        if table.is_null() {
            return;
        }
        // SAFETY: see `add`.
        let table = unsafe { &*table };
        for slot in &*table.slots {
            // Acquire: as in `cell`.
            let cell = slot.load(Ordering::Acquire);
            if !cell.is_null() {
                // SAFETY: see `cell`.
                f(unsafe { &*cell });
            }
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
