//! Count storage: pages of 32-bit atomic counters allocated on first use,
//! each with a lazily allocated page of high words for counts past 2^32.
//!
//! A latency histogram that only ever sees two decades of values touches a
//! few dozen of its ~100 pages; 32-bit low words halve what those pages cost.
//! A count that carries past 2^32 adds the carry to the high word, so counts
//! are exact to 2^64; a reader racing with that (rare) carry can see the low
//! word wrapped before the high word moved.
//!
//! A histogram's shared counts (those of the threads without a shard of their own,
//! merges and sub-windows) are written by any thread. Threads that record into them at
//! once would fight over the cache lines of the counts they share. They contend on the histogram's sum first,
//! whose [`Adder`](crate::adder) then spreads them over cells; the counts
//! follow them into the stripe of the same number. Stripes other than the
//! first appear only then, and their pages only as they are touched, so an
//! uncontended histogram pays nothing for them. Reads add the stripes.
//!
//! A [`Stripe`] is also what a thread's own shard of a histogram counts in (see
//! `shard`): there one thread writes, with a plain load and store per count
//! ([`Stripe::add_owned`]), and readers add it in beside the others.

// loom's atomics under `--cfg loom`, so the shard models see the counts a reader reads.
use crate::sync::{AtomicU32, AtomicU64, Ordering};

use crate::adder::slot_count;
use crate::lazy::LazyBox;

#[cfg(not(loom))]
pub(crate) const PAGE_SHIFT: usize = 8;
// Smaller pages keep the atomics a loom model creates few.
#[cfg(loom)]
pub(crate) const PAGE_SHIFT: usize = 6;
pub(crate) const PAGE_LEN: usize = 1 << PAGE_SHIFT;

type Words = [AtomicU32; PAGE_LEN];

fn zeroed_words() -> Box<Words> {
    Box::new(std::array::from_fn(|_| AtomicU32::new(0)))
}

struct Page {
    low: Words,
    high: LazyBox<Words>,
    /// One bit per slot, set when the slot is first counted, so readers visit only
    /// slots that may be non-zero (a latency histogram touches a fraction of each page).
    touched: [AtomicU64; PAGE_LEN / 64],
}

impl Page {
    /// Calls `f(slot, count)` for every non-zero count in the page.
    #[inline]
    fn for_each_nonzero(&self, mut f: impl FnMut(usize, u64)) {
        let high = self.high.get();
        for (w, word) in self.touched.iter().enumerate() {
            // Relaxed: see `Counts::add`; a slot counted after this load is left for the
            // next reader, like any count that races with a read.
            let mut bits = word.load(Ordering::Relaxed);
            while bits != 0 {
                let slot = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let mut c = u64::from(self.low[slot].load(Ordering::Relaxed));
                if let Some(high) = high {
                    c |= u64::from(high[slot].load(Ordering::Relaxed)) << 32;
                }
                if c != 0 {
                    f(slot, c);
                }
            }
        }
    }
}

fn new_page() -> Box<Page> {
    Box::new(Page {
        low: std::array::from_fn(|_| AtomicU32::new(0)),
        high: LazyBox::new(),
        touched: std::array::from_fn(|_| AtomicU64::new(0)),
    })
}

impl Page {
    /// Marks `slot` for readers (single writer: see `Stripe::add_owned`).
    #[cold]
    fn mark_owned(&self, slot: usize) {
        let word = &self.touched[slot / 64];
        let bit = 1 << (slot % 64);
        // Relaxed: as in `add_owned`; a mark already set (a count cleared back to 0) stays.
        let marks = word.load(Ordering::Relaxed);
        if marks & bit == 0 {
            word.store(marks | bit, Ordering::Relaxed);
        }
    }

    /// Adds `high` to `slot`'s high word (single writer).
    #[cold]
    fn carry_owned(&self, slot: usize, high: u64) {
        let word = &self.high.get_or_init(zeroed_words)[slot];
        // Relaxed: as in `add_owned`.
        word.store(
            word.load(Ordering::Relaxed).wrapping_add(high as u32),
            Ordering::Relaxed,
        );
    }
}

/// One stripe: the page table, pages allocated on first use.
pub(crate) struct Stripe {
    pages: Box<[LazyBox<Page>]>,
}

impl Stripe {
    pub(crate) fn new(pages: usize) -> Self {
        Self {
            pages: (0..pages).map(|_| LazyBox::new()).collect(),
        }
    }

    /// Adds `n` at `index` with plain loads and stores: only for a stripe that one thread
    /// alone writes (a shard's), while any thread may read it.
    #[allow(
        clippy::inline_always,
        reason = "the record path: measured to stay out of line with #[inline]"
    )]
    #[inline(always)]
    pub(crate) fn add_owned(&self, index: usize, n: u64) {
        let page = match self.pages[index >> PAGE_SHIFT].get() {
            Some(page) => page,
            None => self.new_page(index),
        };
        let slot = index & (PAGE_LEN - 1);
        let low = n as u32;
        // Relaxed: this thread is the only writer, so a load and a store do what a
        // fetch_add would; counts publish no other memory.
        let prev = page.low[slot].load(Ordering::Relaxed);
        let (sum, carry) = prev.overflowing_add(low);
        page.low[slot].store(sum, Ordering::Relaxed);
        if prev == 0 {
            page.mark_owned(slot);
        }
        let high = (n >> 32) + u64::from(carry);
        if high != 0 {
            page.carry_owned(slot, high);
        }
    }

    #[cold]
    #[inline(never)]
    fn new_page(&self, index: usize) -> &Page {
        self.pages[index >> PAGE_SHIFT].get_or_init(new_page)
    }

    /// Zeroes every count; pages stay allocated for reuse. Another thread writing at the
    /// same time may keep a count (see `Counts::clear`).
    pub(crate) fn clear(&self) {
        for page in self.pages.iter().filter_map(LazyBox::get) {
            for w in &page.low {
                // Relaxed: whoever needs the zeroes to be seen orders them (a window's
                // epoch, a shard's generation).
                w.store(0, Ordering::Relaxed);
            }
            if let Some(high) = page.high.get() {
                for w in high {
                    w.store(0, Ordering::Relaxed);
                }
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let table = self.pages.len() * size_of::<LazyBox<Page>>();
        let pages: usize = self
            .pages
            .iter()
            .filter_map(LazyBox::get)
            .map(|p| size_of::<Page>() + p.high.get().map_or(0, |_| size_of::<Words>()))
            .sum();
        table + pages
    }
}

pub(crate) struct Counts {
    pages: usize,
    /// Stripe 0, allocated on the first count.
    first: LazyBox<Stripe>,
    /// Stripes 1.., allocated on the first contended recording.
    others: LazyBox<Box<[LazyBox<Stripe>]>>,
}

impl Counts {
    pub(crate) fn new(len: usize) -> Self {
        Self {
            pages: len.div_ceil(PAGE_LEN),
            first: LazyBox::new(),
            others: LazyBox::new(),
        }
    }

    /// Pages per stripe.
    pub(crate) fn pages(&self) -> usize {
        self.pages
    }

    /// Adds `n` at `index` in stripe `stripe` (any number: it wraps to the stripes there are).
    #[inline]
    pub(crate) fn add(&self, index: usize, n: u64, stripe: usize) {
        let stripe = if stripe == 0 {
            self.first.get_or_init(|| Box::new(Stripe::new(self.pages)))
        } else {
            self.other_stripe(stripe)
        };
        let page = stripe.pages[index >> PAGE_SHIFT].get_or_init(new_page);
        let slot = index & (PAGE_LEN - 1);
        let low = n as u32;
        // Relaxed: counts publish no other memory; snapshots take what they find.
        let prev = page.low[slot].fetch_add(low, Ordering::Relaxed);
        if prev == 0 {
            // First count here (or the low word wrapped to exactly 0, and then the bit
            // is already set): mark the slot for readers.
            page.touched[slot / 64].fetch_or(1 << (slot % 64), Ordering::Relaxed);
        }
        let high = (n >> 32) + u64::from(prev.checked_add(low).is_none());
        if high != 0 {
            page.high.get_or_init(zeroed_words)[slot].fetch_add(high as u32, Ordering::Relaxed);
        }
    }

    fn other_stripe(&self, stripe: usize) -> &Stripe {
        let others = self.others.get_or_init(|| {
            Box::new(
                (1..slot_count())
                    .map(|_| LazyBox::new())
                    .collect::<Box<[_]>>(),
            )
        });
        others[(stripe - 1) % others.len()].get_or_init(|| Box::new(Stripe::new(self.pages)))
    }

    /// The stripes that exist.
    pub(crate) fn stripes(&self) -> impl Iterator<Item = &Stripe> {
        let others = self.others.get().map_or(&[][..], |o| &o[..]);
        self.first
            .get()
            .into_iter()
            .chain(others.iter().filter_map(LazyBox::get))
    }

    /// Calls `f(index, count)` for every non-zero count (summed over stripes), in index order.
    #[cfg(test)]
    pub(crate) fn for_each_nonzero(&self, f: impl FnMut(usize, u64)) {
        let stripes: Vec<&Stripe> = self.stripes().collect();
        for_each_nonzero(&stripes, self.pages, f);
    }

    /// Zeroes every count; pages stay allocated for reuse.
    pub(crate) fn clear(&self) {
        for stripe in self.stripes() {
            stripe.clear();
        }
    }

    /// Heap bytes held: page tables plus allocated pages, over all stripes.
    pub(crate) fn heap_bytes(&self) -> usize {
        let others = self
            .others
            .get()
            .map_or(0, |o| o.len() * size_of::<LazyBox<Stripe>>());
        others + self.stripes().map(Stripe::heap_bytes).sum::<usize>()
    }
}

/// Calls `f(index, count)` for every non-zero count summed over `stripes` (of `pages`
/// pages each), in index order.
pub(crate) fn for_each_nonzero(stripes: &[&Stripe], pages: usize, mut f: impl FnMut(usize, u64)) {
    if let [only] = stripes {
        for (p, page) in only.pages.iter().enumerate() {
            if let Some(page) = page.get() {
                page.for_each_nonzero(|slot, c| f((p << PAGE_SHIFT) | slot, c));
            }
        }
        return;
    }
    let mut page_sum = [0u64; PAGE_LEN];
    for p in 0..pages {
        let mut any = false;
        for page in stripes.iter().filter_map(|s| s.pages[p].get()) {
            if !any {
                page_sum = [0; PAGE_LEN];
                any = true;
            }
            page.for_each_nonzero(|slot, c| page_sum[slot] = page_sum[slot].wrapping_add(c));
        }
        if !any {
            continue;
        }
        for (slot, &c) in page_sum.iter().enumerate() {
            if c != 0 {
                f((p << PAGE_SHIFT) | slot, c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_past_32_bits() {
        let c = Counts::new(1000);
        c.add(5, u64::from(u32::MAX), 0);
        c.add(5, 2, 0);
        c.add(700, 1 << 40, 0);
        let mut seen = vec![];
        c.for_each_nonzero(|i, n| seen.push((i, n)));
        assert_eq!(seen, vec![(5, u64::from(u32::MAX) + 2), (700, 1 << 40)]);
        c.clear();
        let mut any = false;
        c.for_each_nonzero(|_, _| any = true);
        assert!(!any);
    }

    #[test]
    fn stripes_add_up_in_index_order() {
        let c = Counts::new(1000);
        c.add(300, 1, 0);
        c.add(300, 2, 1);
        c.add(10, 4, 7);
        c.add(999, 8, 3);
        let mut seen = vec![];
        c.for_each_nonzero(|i, n| seen.push((i, n)));
        assert_eq!(seen, vec![(10, 4), (300, 3), (999, 8)]);
        c.clear();
        let mut any = false;
        c.for_each_nonzero(|_, _| any = true);
        assert!(!any);
    }

    #[test]
    fn readers_visit_exactly_the_counted_slots() {
        let c = Counts::new(600);
        for i in [0, 63, 64, 255, 256, 511, 599] {
            c.add(i, i as u64 + 1, 0);
        }
        let mut seen = vec![];
        c.for_each_nonzero(|i, n| seen.push((i, n)));
        assert_eq!(
            seen,
            vec![
                (0, 1),
                (63, 64),
                (64, 65),
                (255, 256),
                (256, 257),
                (511, 512),
                (599, 600)
            ]
        );
        // A window rotation zeroes counts but leaves the marks; a recount is found again.
        c.clear();
        c.add(64, 9, 0);
        seen.clear();
        c.for_each_nonzero(|i, n| seen.push((i, n)));
        assert_eq!(seen, vec![(64, 9)]);
    }

    #[test]
    fn pages_are_lazy() {
        let c = Counts::new(27 * 1024);
        assert_eq!(c.heap_bytes(), 0, "nothing before the first count");
        c.add(3000, 1, 0);
        // The page table (108 pages of 8 bytes) and one page of 256 counts.
        let table = 108 * size_of::<LazyBox<Page>>();
        assert!(c.heap_bytes() - table <= 1100, "{}", c.heap_bytes() - table);
    }
}
