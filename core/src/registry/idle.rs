//! Idle eviction: a family with an idle TTL drops the series that were neither looked up nor
//! changed for that long, checked when the registry is gathered.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use super::Registry;
use super::family::{Family, Metric, each_family};
use crate::clock;

impl<M: Metric> Family<M> {
    /// Evicts series idle for longer than the family's TTL as of `now_ms`; returns how many.
    pub(super) fn evict_idle_at(&self, now_ms: u64) -> usize {
        let Some(ttl) = self.inner.desc.idle_ttl else {
            return 0;
        };
        let ttl_ms = ttl.as_millis() as u64;
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
        let mut evicted = 0;
        for labels in stale {
            let values = labels.to_vec();
            if self.remove(&values).unwrap_or(false) {
                evicted += 1;
            }
        }
        evicted
    }
}

impl Registry {
    /// Evicts idle series (families with an idle TTL); returns how many were evicted.
    pub fn evict_idle(&self) -> usize {
        self.evict_idle_at(clock::coarse_monotonic_ms())
    }

    pub(super) fn evict_idle_at(&self, now_ms: u64) -> usize {
        let families = self
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .families
            .clone();
        families
            .iter()
            .map(|f| each_family!(f, fam => fam.evict_idle_at(now_ms)))
            .sum()
    }
}
