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
//! Every lock the core holds across a render, a sampler tick or a collector's bookkeeping is
//! taken inside a section: the registry's and its families' locks, the sampler's, and the
//! per-series ones a render reads through (a window's rotation lock, a series' exemplar
//! slots). Sections nest: a render's section covers the window rotations and exemplar reads
//! it does, and those enter again without touching the shared word.
//!
//! The state is one 64-bit word: the low half counts threads inside a section, the high half
//! forks in progress. Entering and leaving an outermost section is one atomic add each; an
//! inner one only counts in a thread-local.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// One fork in progress, in the high half of [`STATE`].
const FORKING: u64 = 1 << 32;
/// Threads inside a section (low half) and forks in progress (high half).
static STATE: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// How deep this thread is in nested sections. No destructor, so it is readable even
    /// while the thread's other thread-locals are being torn down.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Proof that this thread is inside a section; leaving drops it.
///
/// Sections never call user code: a thread inside one that forked from a callback would make
/// `fork()` wait for itself.
#[must_use = "a section ends when this is dropped"]
pub(crate) struct Section(());

/// Enters a section, waiting while a fork is in progress (unless this thread is already
/// inside one, which the fork is then waiting for). [`install`] must have run (every type
/// whose locks sections guard calls it when made).
pub(crate) fn section() -> Section {
    let depth = DEPTH.get();
    DEPTH.set(depth + 1);
    if depth > 0 {
        return Section(());
    }
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
        let depth = DEPTH.get() - 1;
        DEPTH.set(depth);
        if depth > 0 {
            return;
        }
        // Release: the locks of this section were released before; pairs with the Acquire in
        // `prepare`, so the fork copies them unlocked.
        STATE.fetch_sub(1, Ordering::Release);
    }
}

/// Registers the fork handlers, once per process.
///
/// No thread ever waits here (a `Once` would make a thread wait for the one registering, and
/// a child forked meanwhile would wait forever): the first caller registers, the rest go on.
#[inline]
pub(crate) fn install() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    // Relaxed: the flag only elects the one thread that registers; it publishes no memory.
    if INSTALLED.load(Ordering::Relaxed) || INSTALLED.swap(true, Ordering::Relaxed) {
        return;
    }
    #[cfg(unix)]
    // SAFETY: the three handlers are `extern "C"` functions that never unwind; registering
    // them has no other precondition.
    unsafe {
        libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A thread inside a section enters a nested one while a fork waits for it to leave:
    /// the nested entry must not wait for the fork (which waits for this thread).
    #[test]
    fn a_nested_section_does_not_wait_for_a_fork_waiting_for_its_outer_one() {
        install();
        let (entered, outer_open) = mpsc::channel();
        let (done, finished) = mpsc::channel();
        let holder = std::thread::spawn(move || {
            let outer = section();
            entered.send(()).unwrap();
            // Give the fork below time to start waiting for this section.
            std::thread::sleep(Duration::from_millis(100));
            let inner = section();
            drop(inner);
            drop(outer);
            done.send(()).unwrap();
        });
        outer_open.recv().unwrap();
        let forker = std::thread::spawn(|| {
            prepare();
            parent();
        });
        let finished = finished.recv_timeout(Duration::from_secs(10));
        assert!(
            finished.is_ok(),
            "a nested section waited for a fork that waited for it"
        );
        holder.join().unwrap();
        forker.join().unwrap();
    }
}
