//! A histogram's cumulative counts as one single-writer shard per recording thread, merged
//! on read.
//!
//! # Recording
//!
//! A thread that records into a histogram finds its shard by its thread slot
//! (`crate::thread_slot`: a small number no other live thread holds) in a two-level table
//! of [`CHUNKS`] lazily allocated chunks of [`CHUNK`] shards. Only that thread writes the
//! shard, so a record is plain loads and stores (an atomic load and an atomic store with
//! `Relaxed` ordering each, which compile to ordinary moves): the count, the sum (an exact
//! integer for integer recordings, a float for float ones) and the extremes. No
//! lock-prefixed instruction is on the path and no cache line is shared with another
//! writer. This is the Node lanes' single-writer rule, applied to every thread.
//!
//! # Reading
//!
//! A reader adds the shared part ([`HdrCore`], below) and every shard of the current
//! generation, page by page, as it adds contended stripes. A shard is read while its
//! owner keeps writing: as with the atomic counts, `count` is the sum of the counts read,
//! and the sum and extremes may include or miss a record that races with the read (the
//! extremes are then widened to the edges of the counted buckets, see `snapshot`). The
//! counts are read with `Relaxed` loads, bucket by bucket, so a read racing with a thread
//! may show one of its records and miss an earlier one in another bucket; what it never
//! does is mix generations (below).
//!
//! Both kinds of histogram record through shards: the any-magnitude kind's index and sum
//! are float arithmetic on top of the same path, and a batch (`record_batch`,
//! `observe_batch`) finds its shard once.
//!
//! # Reset, from any thread
//!
//! A reset must not write into a shard another thread owns: a plain store racing with
//! the owner's load-and-store would lose the owner's count, or resurrect old ones. So a
//! reset only clears the shared part and bumps the histogram's *generation*. Each shard
//! carries the generation its contents belong to; readers skip shards of an older
//! generation (their contents predate the reset), and the owner, at its next record,
//! sees the new generation, clears its own shard and only then publishes the new
//! generation on it (`Release`, paired with the reader's `Acquire`): a reader that counts
//! the shard sees it cleared. A record that loaded the old generation before the reset's
//! bump lands wholly in the old generation, so it is never seen after the reset: every
//! record lands wholly before or wholly after a reset, count, sum and extremes alike.
//!
//! A reader that overlaps a reset could still read a shard as its owner clears it. The
//! read is therefore checked as a sequence lock is: the generation is loaded before
//! (`Acquire`) and after (behind an `Acquire` fence) the read, and the owner clears
//! behind a `Release` fence; if the reader saw any store the owner made after seeing the
//! new generation, the second load sees the new generation too, and the read is taken
//! again. A snapshot is therefore of one generation (unless [`READ_ATTEMPTS`] reads in a
//! row each overlap another reset; the last is then taken as it is).
//!
//! # Thread exit
//!
//! Shards belong to the histogram, not the thread. When a thread ends its slot is handed
//! back, and the next thread to take the slot continues the same shard (the hand-back
//! orders the old owner's writes before the new owner's), so nothing recorded is lost
//! and a histogram never holds more shards than there are slots.
//!
//! # Memory
//!
//! At most `thread_slot::SLOTS` (128) shards per histogram. A shard costs its page table
//! (8 bytes per page of 256 counts the layout spans) and the pages it touched; a
//! histogram recorded by one thread holds one shard and no shared pages. A thread beyond
//! the 128th live one (and every merge, [`super::Histogram::merge_from`]) records into
//! the shared part instead: atomic read-modify-writes, striped under contention, dearer
//! but never lost. Sub-windows of a sliding window stay shared atomics too: a
//! rotation clears a sub-window from whichever thread sees the new epoch first, and giving
//! every sub-window per-thread shards would multiply a window's memory by the threads.
//!
//! # Model checking
//!
//! `tests/loom_histogram.rs` runs the thread slots, generations, fences, shard table and
//! counts on loom's atomics: a reset from a foreign thread between two records of a
//! shard's owner with a reader beside them (no read mixes generations; the end state is
//! exactly what came after the reset), and threads that end and hand their slot over
//! while a reader reads (nothing lost or counted twice). Within its preemption bound the
//! reset model fails if readers stop skipping older generations; it does not reach the
//! interleaving the read's second generation check guards against, for which the fence
//! argument above stands alone.

use super::counts::{self, Stripe};
use super::{CoreRead, HdrCore, Scale, Sum};
use crate::lazy::LazyBox;
use crate::sync::{AtomicU64, Ordering, fence};
use crate::thread_slot;
use crate::window::Slot as _;

/// Shards per chunk of the shard table.
pub(crate) const CHUNK: usize = 16;
/// Chunks in a shard table.
pub(crate) const CHUNKS: usize = thread_slot::SLOTS / CHUNK;

/// How many times a read that overlaps resets is retried before it is taken as it is.
const READ_ATTEMPTS: usize = 4;

/// One thread's part of a histogram: written by its owner only.
pub(crate) struct Shard {
    /// The histogram generation this shard's contents belong to.
    generation: AtomicU64,
    counts: Stripe,
    integer_sum: AtomicU64,
    /// f64 bits.
    float_sum: AtomicU64,
    /// Extreme keys, as in [`HdrCore`].
    min: AtomicU64,
    max: AtomicU64,
}

impl Shard {
    fn new(pages: usize, generation: u64) -> Self {
        Self {
            generation: AtomicU64::new(generation),
            counts: Stripe::new(pages),
            integer_sum: AtomicU64::new(0),
            float_sum: AtomicU64::new(0f64.to_bits()),
            min: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(0),
        }
    }

    /// Counts `n` at `index` (owner only).
    #[allow(
        clippy::inline_always,
        reason = "the record path: measured to stay out of line with #[inline]"
    )]
    #[inline(always)]
    pub(crate) fn count(&self, index: usize, n: u64) {
        self.counts.add_owned(index, n);
    }

    /// Adds to the sum (owner only).
    #[inline]
    pub(crate) fn add_sum(&self, sum: Sum) {
        // Relaxed: single writer (see the module docs); the sums publish nothing else.
        match sum {
            Sum::Integer(s) => {
                let now = self.integer_sum.load(Ordering::Relaxed).wrapping_add(s);
                self.integer_sum.store(now, Ordering::Relaxed);
            }
            Sum::Float(s) => {
                let now =
                    f64::from_bits(self.float_sum.load(Ordering::Relaxed)) + f64::from_bits(s);
                self.float_sum.store(now.to_bits(), Ordering::Relaxed);
            }
        }
    }

    /// Widens the extremes to take in `min..=max` (owner only).
    #[inline]
    pub(crate) fn widen(&self, min: u64, max: u64) {
        // Relaxed: single writer; the extremes publish nothing else.
        if min < self.min.load(Ordering::Relaxed) {
            self.min.store(min, Ordering::Relaxed);
        }
        if max > self.max.load(Ordering::Relaxed) {
            self.max.store(max, Ordering::Relaxed);
        }
    }

    /// Empties the shard for `generation` and then publishes it (owner only).
    #[cold]
    fn renew(&self, generation: u64) {
        // Release fence: a reader that sees any store below, or any this owner makes
        // later, and then fences with Acquire, also sees the generation this owner loaded
        // (see the module docs).
        fence(Ordering::Release);
        self.counts.clear();
        // Relaxed: covered by the fence above and the Release store below.
        self.integer_sum.store(0, Ordering::Relaxed);
        self.float_sum.store(0f64.to_bits(), Ordering::Relaxed);
        self.min.store(u64::MAX, Ordering::Relaxed);
        self.max.store(0, Ordering::Relaxed);
        // Release: a reader that loads this generation (Acquire) sees the shard emptied.
        self.generation.store(generation, Ordering::Release);
    }

    fn heap_bytes(&self) -> usize {
        size_of::<Self>() + self.counts.heap_bytes()
    }
}

type Chunk = [LazyBox<Shard>; CHUNK];

/// Where a recording goes: the thread's own shard, or the shared atomics.
#[derive(Clone, Copy)]
pub(crate) enum Recorder<'a> {
    Owned(&'a Shard),
    Shared(&'a HdrCore),
}

impl Recorder<'_> {
    /// Adds a run's sum; returns the count stripe to pass to [`Self::count`].
    #[inline]
    pub(crate) fn add_sum(self, sum: Sum) -> usize {
        match self {
            Self::Owned(shard) => {
                shard.add_sum(sum);
                0
            }
            Self::Shared(core) => core.add_sum(sum),
        }
    }

    /// Counts `n` at `index` (`stripe` from [`Self::add_sum`]).
    #[inline]
    pub(crate) fn count(self, index: usize, n: u64, stripe: usize) {
        match self {
            Self::Owned(shard) => shard.count(index, n),
            Self::Shared(core) => core.counts.add(index, n, stripe),
        }
    }

    /// Widens the extremes to take in `min..=max`.
    #[inline]
    pub(crate) fn widen(self, min: u64, max: u64) {
        match self {
            Self::Owned(shard) => shard.widen(min, max),
            Self::Shared(core) => core.widen(min, max),
        }
    }
}

/// A histogram's cumulative counts: per-thread shards plus a shared part.
pub(crate) struct ShardedCore {
    /// Threads without a slot, and merges, record here.
    pub(crate) shared: HdrCore,
    chunks: [LazyBox<Chunk>; CHUNKS],
    /// Bumped by every reset.
    generation: AtomicU64,
}

impl ShardedCore {
    pub(crate) fn new(scale: &Scale) -> Self {
        Self {
            shared: HdrCore::new(scale),
            chunks: std::array::from_fn(|_| LazyBox::new()),
            generation: AtomicU64::new(0),
        }
    }

    /// Where this thread records: its own shard, made current, or the shared part.
    #[allow(
        clippy::inline_always,
        reason = "the record path: measured to stay out of line with #[inline]"
    )]
    #[inline(always)]
    pub(crate) fn recorder(&self) -> Recorder<'_> {
        match self.own_shard() {
            Some(shard) => Recorder::Owned(shard),
            None => Recorder::Shared(&self.shared),
        }
    }

    /// Records `n` counts at `index`, their sum and their extreme key, where this thread
    /// records.
    #[allow(
        clippy::inline_always,
        reason = "the record path: measured to stay out of line with #[inline]"
    )]
    #[inline(always)]
    pub(crate) fn record(&self, index: usize, key: u64, n: u64, sum: Sum) {
        match self.own_shard() {
            Some(shard) => {
                shard.count(index, n);
                shard.add_sum(sum);
                shard.widen(key, key);
            }
            None => self.record_shared(index, key, n, sum),
        }
    }

    #[cold]
    #[inline(never)]
    fn record_shared(&self, index: usize, key: u64, n: u64, sum: Sum) {
        self.shared.record(index, key, n, sum);
    }

    /// This thread's shard, emptied if a reset came since its last record; `None` for a
    /// thread without a slot.
    #[allow(
        clippy::inline_always,
        reason = "the record path: measured to stay out of line with #[inline]"
    )]
    #[inline(always)]
    fn own_shard(&self) -> Option<&Shard> {
        let slot = thread_slot::current()?;
        // The masks keep the indexes in bounds without a check (slots are below SLOTS).
        let chunk = match self.chunks[(slot / CHUNK) % CHUNKS].get() {
            Some(chunk) => chunk,
            None => self.new_chunk(slot),
        };
        // Acquire: pairs with the bump in `reset`, so a recorder of the new generation
        // records after the shared part was cleared.
        let generation = self.generation.load(Ordering::Acquire);
        let shard = match chunk[slot % CHUNK].get() {
            Some(shard) => shard,
            None => self.new_shard(chunk, slot, generation),
        };
        // Relaxed: only this thread stores a shard's generation.
        if shard.generation.load(Ordering::Relaxed) != generation {
            shard.renew(generation);
        }
        Some(shard)
    }

    #[cold]
    #[inline(never)]
    fn new_chunk(&self, slot: usize) -> &Chunk {
        self.chunks[slot / CHUNK].get_or_init(|| Box::new(std::array::from_fn(|_| LazyBox::new())))
    }

    #[cold]
    #[inline(never)]
    fn new_shard<'a>(&self, chunk: &'a Chunk, slot: usize, generation: u64) -> &'a Shard {
        let pages = self.shared.counts.pages();
        chunk[slot % CHUNK].get_or_init(|| Box::new(Shard::new(pages, generation)))
    }

    fn shards(&self) -> impl Iterator<Item = &Shard> {
        self.chunks
            .iter()
            .filter_map(LazyBox::get)
            .flat_map(|chunk| chunk.iter().filter_map(LazyBox::get))
    }

    /// Empties the histogram: the shared part now, each shard when its owner next records
    /// (and for readers at once). See the module docs.
    pub(crate) fn reset(&self) {
        self.shared.clear();
        // Release: a recorder that loads the new generation (Acquire) records after the
        // shared part's clearing. AcqRel: resets are ordered among themselves.
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Reads the shared part and every shard of the current generation.
    pub(crate) fn read(&self) -> CoreRead {
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Acquire: pairs with `reset`'s bump; see the module docs.
            let generation = self.generation.load(Ordering::Acquire);
            let read = self.read_generation(generation);
            // Acquire fence: pairs with a shard owner's Release fence in `renew`.
            fence(Ordering::Acquire);
            // Relaxed: ordered by the fence above.
            if self.generation.load(Ordering::Relaxed) == generation || attempt == READ_ATTEMPTS {
                return read;
            }
        }
    }

    fn read_generation(&self, generation: u64) -> CoreRead {
        let shards: Vec<&Shard> = self
            .shards()
            // Acquire: pairs with `renew`'s Release, so a current shard is seen emptied.
            .filter(|s| s.generation.load(Ordering::Acquire) == generation)
            .collect();
        let mut stripes: Vec<&Stripe> = self.shared.counts.stripes().collect();
        stripes.extend(shards.iter().map(|s| &s.counts));
        let mut read = CoreRead::default();
        counts::for_each_nonzero(&stripes, self.shared.counts.pages(), |i, c| {
            read.push(i, c);
        });
        let mut integer_sum = u128::from(self.shared.integer_sum.sum());
        let mut float_sum = self.shared.float_sum.sum();
        // Relaxed: see `HdrCore::record`.
        read.min = self.shared.min.load(Ordering::Relaxed);
        read.max = self.shared.max.load(Ordering::Relaxed);
        for s in shards {
            // Relaxed: what the owner has stored; see the module docs.
            integer_sum += u128::from(s.integer_sum.load(Ordering::Relaxed));
            float_sum += f64::from_bits(s.float_sum.load(Ordering::Relaxed));
            read.min = read.min.min(s.min.load(Ordering::Relaxed));
            read.max = read.max.max(s.max.load(Ordering::Relaxed));
        }
        read.sum = integer_sum as f64 + float_sum;
        read
    }

    /// How many values have been recorded (current generation).
    pub(crate) fn count(&self) -> u64 {
        self.read().count
    }

    /// Heap bytes: the shared part, the shard table's chunks and the shards.
    pub(crate) fn heap_bytes(&self) -> usize {
        let chunks = self.chunks.iter().filter_map(LazyBox::get).count() * size_of::<Chunk>();
        self.shared.counts.heap_bytes()
            + chunks
            + self.shards().map(Shard::heap_bytes).sum::<usize>()
    }
}
