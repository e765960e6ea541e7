//! Model-checks the counter's contention-adaptive growth with loom.
//!
//! Under `--cfg loom` the striped adder behind [`metricore::Counter`] uses
//! loom's atomics and thread-locals (see `core/src/sync.rs`), so loom explores
//! the interleavings of the threads below, up to a preemption bound: a
//! compare-and-swap on the base that loses, racing installs of the cell table,
//! racing allocations of the same cell slot, a contended cell that makes a
//! thread re-hash to another slot, and reads and resets that run while cells
//! appear. Whatever the interleaving, no increment may be lost or counted twice.
//!
//! Run with:
//!
//! ```text
//! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
//!     cargo test -p metricore --release --test loom_counter
//! ```
//!
//! Under loom the adder's table has two slots, so three incrementing threads
//! must share a cell or move.
#![cfg(loom)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use loom::model::Builder;
use loom::thread;
use metricore::Counter;

/// Runs `f` under a model whose preemption bound is set here rather than taken
/// from `LOOM_MAX_PREEMPTIONS` (which `scripts/test.sh` sets to 3 for models
/// that do not choose), and reports how many executions loom explored.
/// `None` explores every interleaving: the two-thread models finish that way
/// in about a second of a release build.
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

/// Two threads, two increments each. One loses the base CAS and installs the
/// table; from then on both go through cells, racing to allocate them.
#[test]
fn two_threads_grow_cells_and_lose_nothing() {
    model("two_threads", None, || {
        let counter = Counter::new();
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let c = counter.clone();
                thread::spawn(move || {
                    c.inc();
                    c.inc_by(2);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(counter.get(), 6);
    });
}

/// Three incrementing threads (two spawned plus the model's own): installs of
/// the table and of cells race three ways, and with two slots two of them
/// contend on one cell. A read that overlaps them sees whole increments only.
/// Bounded at 5 preemptions (about 100,000 executions, ten seconds): every
/// interleaving would take far longer, and loom finds most bugs within 2 or 3.
#[test]
fn three_threads_race_table_and_cell_installs() {
    model("three_threads", Some(5), || {
        let counter = Counter::new();
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let c = counter.clone();
                thread::spawn(move || c.inc_by(1 << (8 * i)))
            })
            .collect();
        counter.inc_by(1 << 16);
        let mid = counter.get();
        // Each increment sets its own byte, so any subset of them is recognisable.
        assert_ne!(
            mid & (1 << 16),
            0,
            "our own increment is visible to us: {mid:#x}"
        );
        assert_eq!(
            mid & !0x01_01_01,
            0,
            "a read mid-way holds whole increments only: {mid:#x}"
        );
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(counter.get(), 0x01_01_01);
    });
}

/// Two threads with two increments each plus a reader: the second increment
/// of each thread finds the table the other may be installing.
#[test]
fn repeated_increments_with_a_concurrent_reader() {
    model("repeated", None, || {
        let counter = Counter::new();
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let c = counter.clone();
                thread::spawn(move || {
                    c.inc_by(1 << (8 * i));
                    c.inc_by(1 << (8 * i));
                })
            })
            .collect();
        let mid = counter.get();
        assert!(
            mid & 0xFF <= 2 && (mid >> 8) & 0xFF <= 2 && mid >> 16 == 0,
            "whole increments only: {mid:#x}"
        );
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(counter.get(), 0x02_02);
    });
}

/// A reset (`take`) racing increments: each increment lands either before the
/// reset (and is cleared) or after it (and stays), never in both or neither.
#[test]
fn reset_racing_increments_loses_nothing() {
    model("reset", None, || {
        let counter = Counter::new();
        let c = counter.clone();
        let h = thread::spawn(move || c.inc_by(5));
        counter.inc_by(3);
        let before = counter.get();
        counter.reset();
        h.join().unwrap();
        let after = counter.get();
        assert!(
            before == 3 || before == 8,
            "read before the reset: {before}"
        );
        // The 5 survives the reset only if the reset did not see it.
        let allowed: &[u64] = if before == 8 { &[0] } else { &[0, 5] };
        assert!(
            allowed.contains(&after),
            "read {before} before the reset, {after} after it"
        );
    });
}

/// Two threads carry the integer sum past 2^63, where its base is retired and
/// the cells take over, while the model's own thread reads: every read holds
/// whole increments only and nothing wraps or is lost.
#[test]
fn passing_2_63_retires_the_base_and_loses_nothing() {
    model("retire", None, || {
        let start = (1u64 << 63) - 2;
        let counter = Counter::starting_at(start);
        let handles: Vec<_> = [1u64, 4]
            .into_iter()
            .map(|n| {
                let c = counter.clone();
                thread::spawn(move || {
                    c.inc_by(n);
                    c.inc_by(n);
                })
            })
            .collect();
        let mid = counter.get() - start;
        assert!(
            [0, 1, 2, 4, 5, 6, 8, 9, 10].contains(&mid),
            "whole increments only: {mid}"
        );
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(counter.get() - start, 10);
    });
}
