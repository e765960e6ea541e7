//! A pointer-sized, lock-free, allocate-on-first-use box.

use std::ptr;

// loom's pointer under `--cfg loom`, so models see what a publication orders (the
// histogram shards' table is made of these).
use crate::sync::{AtomicPtr, Ordering};

/// Holds nothing until [`LazyBox::get_or_init`] is first called, then a
/// `Box<T>` for the rest of its life. Costs one pointer while empty, which is
/// what lets histograms allocate count pages only for the ranges they see.
pub(crate) struct LazyBox<T> {
    ptr: AtomicPtr<T>,
}

impl<T> LazyBox<T> {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    // loom's atomics cannot be made in a const context.
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The value, if it has been initialised.
    #[inline]
    pub(crate) fn get(&self) -> Option<&T> {
        // Acquire: pairs with the Release in `get_or_init`, so the value is fully visible.
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer came from Box::into_raw and is freed only in `drop`.
        unsafe { p.as_ref() }
    }

    /// The value, initialised by `init` if this is the first use. If two
    /// threads race, one value wins and the other is dropped unused.
    #[inline]
    pub(crate) fn get_or_init(&self, init: impl FnOnce() -> Box<T>) -> &T {
        match self.get() {
            Some(v) => v,
            None => self.init_slow(init),
        }
    }

    #[cold]
    fn init_slow(&self, init: impl FnOnce() -> Box<T>) -> &T {
        let fresh = Box::into_raw(init());
        // AcqRel: publish ours (Release) or see the winner's contents (Acquire).
        let winner = match self.ptr.compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(existing) => {
                // SAFETY: `fresh` came from Box::into_raw above and was never shared.
                drop(unsafe { Box::from_raw(fresh) });
                existing
            }
        };
        // SAFETY: `winner` is non-null, from Box::into_raw, freed only in `drop`.
        unsafe { &*winner }
    }
}

impl<T> Default for LazyBox<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for LazyBox<T> {
    fn drop(&mut self) {
        #[cfg(not(loom))]
        let p = *self.ptr.get_mut();
        #[cfg(loom)]
        let p = self.ptr.with_mut(|p| *p);
        if !p.is_null() {
            // SAFETY: `p` came from Box::into_raw; `&mut self` guarantees no other reference.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

// SAFETY: LazyBox<T> owns a T; sending it sends the T.
unsafe impl<T: Send> Send for LazyBox<T> {}
// SAFETY: `&LazyBox<T>` hands out `&T` and may create a T on any thread, so T must be Send + Sync.
unsafe impl<T: Send + Sync> Sync for LazyBox<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialises_once() {
        let b = LazyBox::<u32>::new();
        assert!(b.get().is_none());
        assert_eq!(*b.get_or_init(|| Box::new(7)), 7);
        assert_eq!(*b.get_or_init(|| Box::new(9)), 7);
        assert_eq!(b.get(), Some(&7));
    }
}
