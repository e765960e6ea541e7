//! Fork safety: no lock of a registry, a family or a sampler is ever held while the process
//! forks, so a child never waits for a lock that a thread of its parent took.
//!
//! `fork()` copies only the calling thread; a lock that another thread held at that moment
//! stays held in the child forever, and the child's first render (or lookup, or
//! registration) would block on it. Resetting such locks in the child is not enough either:
//! the data they guard may be half-changed. So every section of code that takes one of these
//! locks runs inside a [`section`], and a `pthread_atfork` handler makes `fork()` wait, before
//! it copies the process, until no thread is inside a section (and lets no thread enter one
//! until the fork is done). Sections are short: a lookup, a registration, copying a family's
//! series at render, a sampler's read of `/proc`. They never call user code: collectors run
//! outside them, so a collector may fork, block or take its time without holding up a fork.
//!
//! The counter and gauge hot paths take no lock and enter no section. Samplers follow their
//! own rule, written in [`crate::sampler`]: a child sees its parent's sampler as stopped.
//!
//! The state is one 64-bit word: the low half counts threads inside a section, the high half
//! forks in progress.

use std::cell::Cell;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

/// One fork in progress, in the high half of [`STATE`].
const FORKING: u64 = 1 << 32;
/// Threads inside a section (low half) and forks in progress (high half).
static STATE: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// How deep this thread is in nested sections; only the outermost one counts in `STATE`,
    /// so that a nested section never waits for a fork that waits for its outer section.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Proof that this thread is inside a section; leaving drops it.
#[must_use = "a section ends when this is dropped"]
pub(crate) struct Section {
    outermost: bool,
}

/// Enters a section, waiting while a fork is in progress.
pub(crate) fn section() -> Section {
    install();
    // A thread being torn down has no TLS left: it counts as outermost.
    let depth = DEPTH.try_with(|d| d.replace(d.get() + 1)).unwrap_or(0);
    if depth > 0 {
        return Section { outermost: false };
    }
    // Relaxed: the value is only a guess for the CAS below, which orders.
    let mut state = STATE.load(Ordering::Relaxed);
    loop {
        if state >= FORKING {
            std::thread::yield_now();
            // Relaxed: as above.
            state = STATE.load(Ordering::Relaxed);
            continue;
        }
        // Acquire: the locks taken in this section come after the fork that was waited for;
        // pairs with the Release of `parent` below.
        match STATE.compare_exchange_weak(state, state + 1, Ordering::Acquire, Ordering::Relaxed) {
            Ok(_) => return Section { outermost: true },
            Err(now) => state = now,
        }
    }
}

impl Drop for Section {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
        if self.outermost {
            // Release: the locks of this section were released before; pairs with the Acquire
            // in `prepare`, so the fork copies them unlocked.
            STATE.fetch_sub(1, Ordering::Release);
        }
    }
}

/// Registers the fork handlers, once per process.
fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        #[cfg(unix)]
        // SAFETY: the three handlers are `extern "C"` functions that never unwind; registering
        // them has no other precondition.
        unsafe {
            libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
        }
    });
}

/// Before `fork()`: bars new sections and waits until none is open.
extern "C" fn prepare() {
    // Acquire: see `Section::drop`.
    let mut state = STATE.fetch_add(FORKING, Ordering::Acquire) + FORKING;
    // The forking thread's own open section, if it forks from inside one (it cannot leave it
    // until fork returns).
    let own = u64::from(DEPTH.try_with(Cell::get).unwrap_or(0) > 0);
    while state & (FORKING - 1) > own {
        std::thread::yield_now();
        // Acquire: as above.
        state = STATE.load(Ordering::Acquire);
    }
}

/// After `fork()`, in the parent: lets sections open again.
extern "C" fn parent() {
    // Release: pairs with the Acquire in `section`.
    STATE.fetch_sub(FORKING, Ordering::Release);
}

/// After `fork()`, in the child: only the forking thread exists, so only its own open
/// section (if any) counts, and no fork is in progress.
extern "C" fn child() {
    let own = u64::from(DEPTH.try_with(Cell::get).unwrap_or(0) > 0);
    // Relaxed: the child has a single thread.
    STATE.store(own, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sections_count_once() {
        let outer = section();
        let inner = section();
        assert!(outer.outermost && !inner.outermost);
        drop(inner);
        drop(outer);
        assert_eq!(DEPTH.with(Cell::get), 0);
    }
}
