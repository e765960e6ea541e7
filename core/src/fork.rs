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
//! forks in progress. Entering and leaving a section is one atomic add each.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

/// One fork in progress, in the high half of [`STATE`].
const FORKING: u64 = 1 << 32;
/// Threads inside a section (low half) and forks in progress (high half).
static STATE: AtomicU64 = AtomicU64::new(0);

/// Proof that this thread is inside a section; leaving drops it.
///
/// Sections never nest and never call user code: a thread inside one that waited for a fork
/// (by entering another, or by forking from a callback) would wait for itself.
#[must_use = "a section ends when this is dropped"]
pub(crate) struct Section(());

/// Enters a section, waiting while a fork is in progress. [`install`] must have run (every
/// type whose locks sections guard calls it when made).
pub(crate) fn section() -> Section {
    loop {
        // Acquire: the locks taken in this section come after any fork that was waited for;
        // pairs with the Release in `parent`.
        if STATE.fetch_add(1, Ordering::Acquire) < FORKING {
            return Section(());
        }
        // A fork is in progress: step back out so that it can go on, and wait for its end.
        // Relaxed: nothing was done inside.
        STATE.fetch_sub(1, Ordering::Relaxed);
        // Relaxed: only a hint of when to try again.
        while STATE.load(Ordering::Relaxed) >= FORKING {
            std::thread::yield_now();
        }
    }
}

impl Drop for Section {
    fn drop(&mut self) {
        // Release: the locks of this section were released before; pairs with the Acquire in
        // `prepare`, so the fork copies them unlocked.
        STATE.fetch_sub(1, Ordering::Release);
    }
}

/// Registers the fork handlers, once per process.
pub(crate) fn install() {
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
    let mut state = STATE.fetch_add(FORKING, Ordering::Acquire);
    while state & (FORKING - 1) != 0 {
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

/// After `fork()`, in the child: only the forking thread exists, outside any section, and no
/// fork is in progress.
extern "C" fn child() {
    // Relaxed: the child has a single thread.
    STATE.store(0, Ordering::Relaxed);
}
