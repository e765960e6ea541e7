//! Idle eviction: a family with an idle TTL drops the series that were neither looked up nor
//! changed for that long, checked when the registry is gathered.
//!
//! A series with a live handle is never evicted, however long it stays idle: the caller may
//! update it at any time, and an evicted series' updates would reach no scrape. Eviction
//! checks, under the shard's write lock (so no lookup hands out a new handle meanwhile), that
//! the shard holds the only reference. Handles kept for good (in a cache, say) therefore keep
//! their series exposed for good; drop them to let the TTL apply.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use super::Registry;
use super::family::{Family, Metric, each_family};
use crate::fork;

impl<M: Metric> Family<M> {
    /// Evicts series idle for longer than the family's TTL as of `now_ms`; returns how many.
    pub(super) fn evict_idle_at(&self, now_ms: u64) -> usize {
        let Some(ttl) = self.inner.desc.idle_ttl else {
            return 0;
        };
        // A TTL past u64::MAX ms (half a billion years) never expires.
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let fork = fork::section();
        let mut idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut stale = Vec::new();
        for shard in &*self.inner.shards {
            for s in shard.read().unwrap_or_else(PoisonError::into_inner).iter() {
                let fp = M::fingerprint(&s.metric);
                let entry = idle.entry(Arc::as_ptr(s) as usize).or_insert((fp, now_ms));
                if entry.0 != fp {
                    *entry = (fp, now_ms);
                }
                // Relaxed: an approximate idle clock.
                let last = entry.1.max(s.touched_ms.load(Ordering::Relaxed));
                if now_ms.saturating_sub(last) > ttl_ms {
                    stale.push(s.labels.clone());
                }
            }
        }
        drop(idle);
        drop(fork);
        if stale.is_empty() {
            return 0;
        }
        // The sorted cache holds a reference to every series; dropping it leaves the shard's
        // as the only one of a series without handles. The next collection sorts again.
        self.invalidate_sorted();
        let mut evicted = 0;
        for labels in stale {
            // A handle the caller kept is a reference too: such a series stays, or its later
            // updates would go to a series no scrape sees.
            if self.remove_if(&labels.to_vec(), |s| Arc::strong_count(s) == 1) {
                evicted += 1;
            }
        }
        evicted
    }
}

impl Registry {
    /// Evicts idle series (families with an idle TTL), as of now on the registry's clock;
    /// returns how many were evicted.
    pub fn evict_idle(&self) -> usize {
        self.evict_idle_at(self.clock.now_ms())
    }

    pub(super) fn evict_idle_at(&self, now_ms: u64) -> usize {
        let families = {
            let _fork = fork::section();
            self.state
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .families
                .clone()
        };
        families
            .iter()
            .map(|f| each_family!(f, fam => fam.evict_idle_at(now_ms)))
            .sum()
    }
}
