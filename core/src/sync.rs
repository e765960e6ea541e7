//! Atomics used by the lock-free protocols that loom model-checks, switched to loom's
//! versions under `--cfg loom` so their interleavings can be explored: the striped
//! adder's cell growth (`tests/loom_counter.rs`), and the histogram shards' thread-slot
//! hand-over and reset generations (`tests/loom_histogram.rs`). Everything else in the
//! crate uses `std` atomics directly.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64};
#[cfg(loom)]
pub(crate) use loom::thread_local;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64};
#[cfg(not(loom))]
pub(crate) use std::thread_local;

#[cfg(loom)]
pub(crate) use loom::sync::atomic::fence;
pub(crate) use std::sync::atomic::Ordering;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::fence;
