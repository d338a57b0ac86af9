//! Allocation statistics per tier.
//!
//! Every tier counts allocations and frees with the bytes each one took, so the numbers balance:
//! `allocations - frees == live_count()` and `bytes_allocated - bytes_freed == live_bytes()`.
//! Bytes are what the tier really takes: the block size for the pool tier (a 24-byte value
//! takes a 32-byte block), the arena bytes a frame used for the frame tier (alignment padding
//! and whole 8-byte granules included, as [`Frame::used`](crate::Frame::used) shows), the requested size for the heap tier.
//! Zero-sized values take no memory and are not counted anywhere.
//!
//! Counters wrap on overflow (after 2^64 allocations on 64-bit targets, 2^32 on 32-bit); the
//! differences stay right because they are computed with wrapping arithmetic.
//!
//! The shared counters are updated with `Relaxed` read-modify-writes: they publish no memory,
//! only numbers, and an atomic RMW never loses an increment whatever its ordering. A snapshot
//! taken while other threads allocate may therefore mix counters from slightly different
//! moments; once those threads are done (joined, or synchronised with otherwise) it is exact.

use sync_core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// The counters of one tier.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TierStats {
    /// Allocations served by this tier since the allocator was created.
    pub allocations: usize,
    /// Allocations given back to this tier.
    pub frees: usize,
    /// Bytes handed out by the allocations counted in `allocations`.
    pub bytes_allocated: usize,
    /// Bytes given back by the frees counted in `frees`.
    pub bytes_freed: usize,
    /// Bytes the tier holds from the system right now (frame arena, pool slabs; for the heap
    /// tier the live bytes).
    pub reserved_bytes: usize,
}

impl TierStats {
    /// Allocations currently live.
    pub fn live_count(&self) -> usize {
        self.allocations.wrapping_sub(self.frees)
    }

    /// Bytes currently live.
    pub fn live_bytes(&self) -> usize {
        self.bytes_allocated.wrapping_sub(self.bytes_freed)
    }
}

/// A snapshot of every tier, from [`SmartAlloc::stats`](crate::SmartAlloc::stats).
///
/// ```
/// use framealloc::SmartAlloc;
///
/// let alloc = SmartAlloc::new(Default::default());
/// let b = alloc.pool_box([0u8; 24]);
/// let s = alloc.stats();
/// assert_eq!(s.pool.live_count(), 1);
/// assert_eq!(s.pool.live_bytes(), 32); // the 32-byte size class
/// drop(b);
/// assert_eq!(alloc.stats().pool.live_count(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Stats {
    /// The frame tier, as of the last frame boundary (a frame's own allocations are published
    /// when it ends; [`Frame::allocations`](crate::Frame::allocations) gives the live view).
    pub frame: TierStats,
    /// The pool tier (size classes).
    pub pool: TierStats,
    /// The heap tier: large values and overflow of the other tiers.
    pub heap: TierStats,
    /// Frames ended so far.
    pub frames: usize,
}

/// Shared, atomically updated counters (heap tier, published frame counters).
#[derive(Debug, Default)]
pub(crate) struct AtomicTier {
    allocations: AtomicUsize,
    frees: AtomicUsize,
    bytes_allocated: AtomicUsize,
    bytes_freed: AtomicUsize,
    reserved: AtomicUsize,
}

impl AtomicTier {
    pub(crate) fn alloc(&self, count: usize, bytes: usize) {
        self.allocations.fetch_add(count, Relaxed);
        self.bytes_allocated.fetch_add(bytes, Relaxed);
    }

    pub(crate) fn free(&self, count: usize, bytes: usize) {
        self.frees.fetch_add(count, Relaxed);
        self.bytes_freed.fetch_add(bytes, Relaxed);
    }

    pub(crate) fn set_reserved(&self, bytes: usize) {
        self.reserved.store(bytes, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> TierStats {
        TierStats {
            allocations: self.allocations.load(Relaxed),
            frees: self.frees.load(Relaxed),
            bytes_allocated: self.bytes_allocated.load(Relaxed),
            bytes_freed: self.bytes_freed.load(Relaxed),
            reserved_bytes: self.reserved.load(Relaxed),
        }
    }
}
