//! Atomics used by the striped adder, switched to loom's model-checked
//! versions under `--cfg loom` so the cell-growth protocol can be explored
//! exhaustively (see `tests/loom_counter.rs`). Everything else in the crate
//! uses `std` atomics directly: only the adder's lock-free growth is subtle
//! enough to need a model checker.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU64};
#[cfg(loom)]
pub(crate) use loom::thread_local;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU64};
#[cfg(not(loom))]
pub(crate) use std::thread_local;

pub(crate) use std::sync::atomic::Ordering;
