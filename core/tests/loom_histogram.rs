//! Model-checks the histogram shards' hand-overs with loom.
//!
//! Under `--cfg loom` the thread slots (their free map and thread-locals), each shard's
//! generation, the histogram's generation and the fences between them are loom's (see
//! `core/src/sync.rs`), so loom explores every interleaving of them up to a preemption
//! bound: a reset from a foreign thread racing with a shard's owner, a reader racing with
//! both, and a thread's slot (and so its shard) handed to another thread as it ends.
//! The counts themselves are plain std atomics written by one thread: loom does not
//! reorder them, but orders them by the protocol's atomics, which is what is checked.
//!
//! Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p metricore --release --test loom_histogram
//! ```
#![cfg(loom)]

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use loom::sync::atomic::{AtomicBool, Ordering};

use loom::model::Builder;
use loom::thread;
use metricore::{Histogram, HistogramOpts, HistogramSnapshot};

/// Runs `f` under a model with the given preemption bound and reports how many executions
/// loom explored.
fn model(name: &str, max_preemptions: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    // Not a loom atomic: it counts executions from outside the model.
    let executions = Arc::new(AtomicUsize::new(0));
    let mut b = Builder::new();
    b.preemption_bound = max_preemptions;
    let counted = Arc::clone(&executions);
    b.check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        f();
    });
    let explored = executions.load(Ordering::Relaxed);
    eprintln!("{name}: {explored} executions, preemption bound {max_preemptions:?}");
}

/// A thread that runs `f` and then hands its slot back as the thread-local guard would
/// at its exit (loom runs no atomics in thread-local destructors; see
/// `metricore::end_thread`).
fn recording_thread(f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        f();
        metricore::end_thread();
    })
}

/// An integer histogram small enough for a model: one page of counts, every value below
/// 32 in a bucket of its own.
fn flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

fn wait_for(flag: &AtomicBool) {
    // Acquire: pairs with the Release that sets the flag.
    while !flag.load(Ordering::Acquire) {
        thread::yield_now();
    }
}

fn latency() -> Histogram {
    let opts = HistogramOpts::new().range(1, 100).significant_figures(1);
    Histogram::new("loom_latency", &opts).expect("valid options")
}

/// The recorded values.
fn values(s: &HistogramSnapshot) -> Vec<u64> {
    s.recorded_values()
        .flat_map(|(v, n)| std::iter::repeat_n(v, n as usize))
        .collect()
}

/// Checks that `s` holds exactly `expected` (sorted), its sum and extremes included.
#[allow(
    clippy::float_cmp,
    reason = "sums of small whole numbers are exact in f64"
)]
fn holds_exactly(s: &HistogramSnapshot, expected: &[u64]) -> bool {
    values(s) == expected
        && s.sum_native() == expected.iter().sum::<u64>() as f64
        && (expected.is_empty()
            || (s.min(), s.max()) == (expected[0], expected[expected.len() - 1]))
}

/// A reset from another thread while the owner of a shard records across it and a reader
/// reads. A thread that keeps its shard recorded 1 and the writer 10 before the reset;
/// the writer records 20 once it has seen the reset return. Whatever the interleaving,
/// the end state is exactly 20 (nothing from before the reset shows after it, nothing
/// after it is lost, the sum and extremes agree), and no read mixes the two generations:
/// a read holds some of {1, 10} or some of {20}, never both kinds. (Within one generation
/// a read may miss a racing record, even one recorded before another it shows: the
/// counts are read with `Relaxed` loads.)
#[test]
fn reset_from_a_foreign_thread_splits_generations() {
    model("reset", Some(3), || {
        let h = latency();
        // Recorded on a thread of its own that keeps its slot (and shard) as a thread
        // that lives on would, so the writer below records into another shard.
        {
            let h = h.clone();
            thread::spawn(move || h.record(1)).join().expect("ran");
        }
        let (recorded, reset_done) = (flag(), flag());
        let writer = {
            let (h, recorded, reset_done) = (h.clone(), recorded.clone(), reset_done.clone());
            recording_thread(move || {
                h.record(10);
                // Release/Acquire: 10 is recorded before the reset, 20 after it.
                recorded.store(true, Ordering::Release);
                wait_for(&reset_done);
                h.record(20);
            })
        };
        let resetter = {
            let h = h.clone();
            thread::spawn(move || {
                wait_for(&recorded);
                h.reset();
                reset_done.store(true, Ordering::Release);
            })
        };
        let seen = values(&h.snapshot());
        let before = seen.iter().any(|&v| v == 1 || v == 10);
        let after = seen.contains(&20);
        assert!(!(before && after), "a read mixed generations: {seen:?}");
        writer.join().expect("writer ran");
        resetter.join().expect("resetter ran");
        let end = h.snapshot();
        assert!(
            holds_exactly(&end, &[20]),
            "after the reset: {:?}, sum {}",
            values(&end),
            end.sum_native()
        );
    });
}

/// Two threads record and end while a reader reads; a third then records. Whichever
/// takes a slot another gave back continues that shard: nothing is lost and nothing is
/// counted twice.
#[test]
fn ended_threads_hand_their_shards_over_and_lose_nothing() {
    model("thread_exit", Some(3), || {
        let h = latency();
        let spawn = |v: u64| {
            let h = h.clone();
            recording_thread(move || h.record(v))
        };
        let (a, b) = (spawn(5), spawn(7));
        let seen = values(&h.snapshot());
        let possible: [&[u64]; 4] = [&[], &[5], &[7], &[5, 7]];
        assert!(possible.contains(&seen.as_slice()), "a read saw {seen:?}");
        a.join().expect("ran");
        b.join().expect("ran");
        spawn(9).join().expect("ran");
        let end = h.snapshot();
        assert!(
            holds_exactly(&end, &[5, 7, 9]),
            "after the threads ended: {:?}, sum {}",
            values(&end),
            end.sum_native()
        );
    });
}
