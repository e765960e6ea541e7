//! Count storage: pages of 32-bit atomic counters allocated on first use,
//! each with a lazily allocated page of high words for counts past 2^32.
//!
//! A latency histogram that only ever sees two decades of values touches a
//! few dozen of its ~100 pages; 32-bit low words halve what those pages cost.
//! A count that carries past 2^32 adds the carry to the high word, so counts
//! are exact to 2^64; a reader racing with that (rare) carry can see the low
//! word wrapped before the high word moved.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::lazy::LazyBox;

pub(crate) const PAGE_SHIFT: usize = 8;
pub(crate) const PAGE_LEN: usize = 1 << PAGE_SHIFT;

type Words = [AtomicU32; PAGE_LEN];

fn zeroed_words() -> Box<Words> {
    Box::new([const { AtomicU32::new(0) }; PAGE_LEN])
}

struct Page {
    low: Words,
    high: LazyBox<Words>,
}

pub(crate) struct Counts {
    pages: Box<[LazyBox<Page>]>,
}

impl Counts {
    pub(crate) fn new(len: usize) -> Self {
        Self {
            pages: (0..len.div_ceil(PAGE_LEN))
                .map(|_| LazyBox::new())
                .collect(),
        }
    }

    #[inline]
    pub(crate) fn add(&self, index: usize, n: u64) {
        let page = self.pages[index >> PAGE_SHIFT].get_or_init(|| {
            Box::new(Page {
                low: [const { AtomicU32::new(0) }; PAGE_LEN],
                high: LazyBox::new(),
            })
        });
        let slot = index & (PAGE_LEN - 1);
        let low = n as u32;
        // Relaxed: counts publish no other memory; snapshots take what they find.
        let prev = page.low[slot].fetch_add(low, Ordering::Relaxed);
        let high = (n >> 32) + u64::from(prev.checked_add(low).is_none());
        if high != 0 {
            page.high.get_or_init(zeroed_words)[slot].fetch_add(high as u32, Ordering::Relaxed);
        }
    }

    /// Calls `f(index, count)` for every non-zero count, in index order.
    pub(crate) fn for_each_nonzero(&self, mut f: impl FnMut(usize, u64)) {
        for (p, page) in self.pages.iter().enumerate() {
            let Some(page) = page.get() else { continue };
            let high = page.high.get();
            for (slot, low) in page.low.iter().enumerate() {
                // Relaxed: see `add`.
                let mut c = u64::from(low.load(Ordering::Relaxed));
                if let Some(high) = high {
                    c |= u64::from(high[slot].load(Ordering::Relaxed)) << 32;
                }
                if c != 0 {
                    f((p << PAGE_SHIFT) | slot, c);
                }
            }
        }
    }

    /// Zeroes every count; pages stay allocated for reuse.
    pub(crate) fn clear(&self) {
        for page in self.pages.iter().filter_map(LazyBox::get) {
            for w in &page.low {
                w.store(0, Ordering::Relaxed);
            }
            if let Some(high) = page.high.get() {
                for w in high {
                    w.store(0, Ordering::Relaxed);
                }
            }
        }
    }

    /// Heap bytes held: the page table plus allocated pages.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_past_32_bits() {
        let c = Counts::new(1000);
        c.add(5, u64::from(u32::MAX));
        c.add(5, 2);
        c.add(700, 1 << 40);
        let mut seen = vec![];
        c.for_each_nonzero(|i, n| seen.push((i, n)));
        assert_eq!(seen, vec![(5, u64::from(u32::MAX) + 2), (700, 1 << 40)]);
        c.clear();
        let mut any = false;
        c.for_each_nonzero(|_, _| any = true);
        assert!(!any);
    }

    #[test]
    fn pages_are_lazy() {
        let c = Counts::new(27 * 1024);
        let empty = c.heap_bytes();
        c.add(3000, 1);
        assert!(c.heap_bytes() - empty <= 1100, "{}", c.heap_bytes() - empty);
    }
}
