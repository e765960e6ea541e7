//! Small numbers for live threads, so a metric can keep one single-writer shard per thread
//! in a plain array instead of a map.
//!
//! A thread is given the lowest free slot in `0..`[`SLOTS`] the first time it asks
//! ([`current`]) and keeps it until it ends: a thread-local guard's destructor hands the
//! slot back. At most one live thread holds a slot at a time, which is what makes a shard
//! indexed by it single-writer. The hand-back is a `Release` clear of the slot's bit and
//! the next taker's claim an `AcqRel` set of it, so everything the old holder wrote into
//! its shards happens before the new holder's first write: the new holder continues the
//! old one's counts with plain loads and stores, and nothing the old thread recorded is
//! lost when it ends.
//!
//! A thread that finds every slot taken (more than [`SLOTS`] live threads have asked), or
//! that asks while its thread-locals are being torn down, gets `None` and records through
//! the metric's shared atomics instead; it asks again next time, so it picks up a slot
//! that has been freed since. The free map is lock-free, so `fork()` cannot leave it
//! locked; a forked child keeps the slots of the parent's other threads as taken (they
//! never end there), which only lowers the child's count of free slots.

use std::cell::Cell;

use crate::sync::{AtomicU64, Ordering, thread_local};

/// How many threads can hold a slot at once.
pub(crate) const SLOTS: usize = 128;

const WORDS: usize = SLOTS / 64;

/// The slot cell's value while the thread has not asked yet.
const UNASKED: u32 = 0;
/// The slot cell's value when the thread holds no slot (all taken, or tearing down).
const NONE: u32 = u32::MAX;

#[cfg(not(loom))]
static TAKEN: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
// Under loom the map must restart with every explored execution (see the adder's seed).
#[cfg(loom)]
loom::lazy_static! {
    static ref TAKEN: [AtomicU64; WORDS] = [AtomicU64::new(0), AtomicU64::new(0)];
}

#[cfg(not(loom))]
thread_local! {
    /// This thread's slot plus one, [`UNASKED`] or [`NONE`]. No destructor, so it stays
    /// readable while other thread-locals are dropped.
    static SLOT: Cell<u32> = const { Cell::new(UNASKED) };
}
// loom's `thread_local!` does not take a `const { }` initializer.
#[cfg(loom)]
thread_local! {
    static SLOT: Cell<u32> = Cell::new(UNASKED);
}

#[cfg(not(loom))]
thread_local! {
    /// Hands the slot back when the thread ends; its destructor is registered when a slot
    /// is taken.
    static GUARD: Guard = const { Guard(Cell::new(None)) };
}
#[cfg(loom)]
thread_local! {
    static GUARD: Guard = Guard(Cell::new(None));
}

struct Guard(Cell<Option<usize>>);

impl Drop for Guard {
    fn drop(&mut self) {
        // Under loom a modelled thread hands back with `end_thread`, or keeps its slot as
        // a thread that lives on would.
        #[cfg(not(loom))]
        if let Some(slot) = self.0.take() {
            // Thread-locals dropped after this one record through the shared atomics.
            let _ = SLOT.try_with(|s| s.set(NONE));
            hand_back(slot);
        }
    }
}

fn hand_back(slot: usize) {
    // Release: this thread's shard writes happen before the next holder's.
    TAKEN[slot / 64].fetch_and(!(1 << (slot % 64)), Ordering::Release);
}

/// What the guard's destructor does, for loom models: loom runs no atomic operation in a
/// thread-local destructor, so a modelled thread calls this as its last act instead.
#[cfg(loom)]
#[doc(hidden)]
pub fn end_thread() {
    if let Some(slot) = GUARD.with(|g| g.0.take()) {
        SLOT.with(|s| s.set(NONE));
        hand_back(slot);
    }
}

/// This thread's slot, or `None` if it holds none (see the module docs).
#[allow(
    clippy::inline_always,
    reason = "the record path: measured to stay out of line with #[inline]"
)]
#[inline(always)]
pub(crate) fn current() -> Option<usize> {
    // A const thread-local without a destructor is readable at any point of the thread's
    // life, so `with` cannot fail here (loom's thread-locals can, while torn down).
    #[cfg(not(loom))]
    let v = SLOT.with(Cell::get);
    #[cfg(loom)]
    let v = SLOT.try_with(Cell::get).unwrap_or(NONE);
    match v {
        UNASKED => take(),
        NONE => retry(),
        v => Some(v as usize - 1),
    }
}

/// A thread that holds no slot asks again, unless it is tearing down.
#[cold]
fn retry() -> Option<usize> {
    let tearing_down = GUARD.try_with(|_| ()).is_err();
    if tearing_down { None } else { take() }
}

#[cold]
fn take() -> Option<usize> {
    // Register the guard first: a thread that cannot (tearing down) must not take a slot
    // it would never hand back.
    GUARD.try_with(|_| ()).ok()?;
    for (w, word) in TAKEN.iter().enumerate() {
        // Relaxed: a first look; the claim below orders.
        let mut bits = word.load(Ordering::Relaxed);
        while bits != u64::MAX {
            let bit = (!bits).trailing_zeros();
            // AcqRel: Acquire pairs with the previous holder's Release in `Guard::drop`.
            match word.compare_exchange_weak(
                bits,
                bits | 1 << bit,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let slot = w * 64 + bit as usize;
                    GUARD.with(|g| g.0.set(Some(slot)));
                    SLOT.with(|s| s.set(slot as u32 + 1));
                    return Some(slot);
                }
                Err(now) => bits = now,
            }
        }
    }
    let _ = SLOT.try_with(|s| s.set(NONE));
    None
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_thread_keeps_its_slot_and_hands_it_back_when_it_ends() {
        let here = current().expect("a slot is free");
        assert_eq!(current(), Some(here));
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(current).join().expect("ran");
            let b = s.spawn(current).join().expect("ran");
            (a, b)
        });
        // Other tests' threads take slots too, so which slot a thread gets is not fixed;
        // that no two live threads share one is.
        assert_ne!(a.expect("a slot is free"), here);
        assert_ne!(b.expect("a slot is free"), here);
    }
}
