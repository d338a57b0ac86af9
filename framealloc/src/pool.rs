//! The pool tier (size classes) and the heap tier (the global allocator) underneath it.
//!
//! # Design
//! Nine size classes of power-of-two blocks: 16, 32, …, 4096 bytes. A request of `size` bytes at
//! `align` goes to the smallest class with `block >= max(size, align, 16)`; anything larger (size
//! or alignment above 4096) goes to the heap tier, or fails if the configuration asks for a hard
//! limit. A class owns:
//!
//! * an intrusive LIFO free list: a free block stores the pointer to the next free block in its
//!   first word (blocks are at least 16 bytes and 16-aligned, so the word always fits);
//! * the slab it is carving: a pointer and the number of blocks not yet handed out. Slabs are
//!   reserved from the global allocator with the class's block size as alignment, and blocks sit
//!   at multiples of the block size, so **every block is aligned to its own size**, which is how
//!   alignments up to 4096 are served;
//! * the list of its slabs, given back to the system when the allocator is dropped (blocks are
//!   reused, never returned one by one);
//! * its counters.
//!
//! Everything of a class sits behind one [`Mutex`] (sync-core's lock: an OS mutex, so a thread
//! of higher priority waits for a preempted holder instead of spinning on it): allocation is
//! "lock, pop (or carve), count, unlock", a free is "lock, push, count, unlock". Any thread may free a block that another
//! thread allocated: the block simply goes back on its class's shared list (unlike upstream
//! framealloc, whose thread-local lists moved it to the freeing thread).
//!
//! The slab layout of every class is computed once, with checked arithmetic, when the pool is
//! built ([`slab_layouts`]); a `pool_slab_bytes` whose slabs could not exist is rejected there
//! (as [`ConfigError::PoolSlabTooLarge`](crate::ConfigError::PoolSlabTooLarge)), so carving never
//! does arithmetic on a configured size.
//!
//! Invariants (per class, under its lock): every block is in exactly one of {free list,
//! not-yet-carved part of the current slab, handed out}; `allocations - frees` is the number
//! handed out; the current slab has room for `left` more blocks from `cur`.
//!
//! # Testing
//!
//! The loom models in `framealloc/tests/loom_pool.rs` run two or three threads allocating and
//! freeing in one size class with two blocks per slab, so slabs are also reserved concurrently:
//! no block is handed to two owners (also when two threads pop one free list at once), every
//! value stays intact, a block freed on one thread is reused on another, and the counters
//! balance. miri runs framealloc's tests (`cargo xtask
//! miri`, host only; the tokio and real-time priority tests are skipped there, they make
//! syscalls), among them the pool tier's behaviour tests (`tests/pool.rs`) and the pool
//! operations of the property test `tests/model.rs`.

use core::alloc::Layout;
use core::ptr::{self, NonNull};
use std::alloc;
use std::vec::Vec;

use sync_core::lock::Mutex;

use crate::config::Overflow;
use crate::stats::{AtomicTier, TierStats};

/// Smallest block size (and the alignment of every block).
pub(crate) const MIN_BLOCK: usize = 16;
/// Largest block size: requests above it go to the heap tier.
pub(crate) const MAX_BLOCK: usize = 4096;
const CLASSES: usize = 9; // 16 << 0 ..= 16 << 8

/// The size class (index) serving `layout`, or `None` for the heap tier.
#[inline]
fn class_of(layout: Layout) -> Option<usize> {
    let need = layout.size().max(layout.align()).max(MIN_BLOCK);
    if need > MAX_BLOCK {
        return None;
    }
    let block = need.next_power_of_two();
    Some((block.trailing_zeros() - MIN_BLOCK.trailing_zeros()) as usize)
}

#[inline]
fn block_size(class: usize) -> usize {
    MIN_BLOCK << class
}

/// The slab layout of every class for a configured `slab_bytes`: rounded up to whole blocks (at
/// least one), aligned to the block size. `None` when a slab of some class could not exist
/// (its size overflows or exceeds `isize::MAX`).
pub(crate) fn slab_layouts(slab_bytes: usize) -> Option<[Layout; CLASSES]> {
    let mut out = [Layout::new::<()>(); CLASSES];
    for (class, slot) in out.iter_mut().enumerate() {
        let block = block_size(class);
        let blocks = slab_bytes.div_ceil(block).max(1);
        let size = blocks.checked_mul(block)?;
        *slot = Layout::from_size_align(size, block).ok()?;
    }
    Some(out)
}

/// The bytes the tier that serves `layout` counts for it (block size or requested size).
pub(crate) fn charged_bytes(layout: Layout) -> usize {
    class_of(layout).map_or(layout.size(), block_size)
}

struct Class {
    /// Head of the free list (null: empty).
    free: *mut u8,
    /// Next block to carve from the current slab (meaningless when `left == 0`).
    cur: *mut u8,
    /// Blocks left to carve from the current slab.
    left: usize,
    /// Every slab of the class, with its layout.
    slabs: Vec<(NonNull<u8>, Layout)>,
    allocations: usize,
    frees: usize,
    reserved: usize,
}

// SAFETY: the raw pointers point into slabs the class owns; moving the class between threads
// moves that ownership, nothing refers to thread-local state.
unsafe impl Send for Class {}

impl Class {
    const fn new() -> Self {
        Self {
            free: ptr::null_mut(),
            cur: ptr::null_mut(),
            left: 0,
            slabs: Vec::new(),
            allocations: 0,
            frees: 0,
            reserved: 0,
        }
    }

    /// Hands out a block of `block` bytes; `slab` is the class's slab layout (from
    /// [`slab_layouts`]: a non-zero multiple of `block`, aligned to it).
    fn pop(&mut self, block: usize, slab: Layout) -> NonNull<u8> {
        let p = if let Some(head) = NonNull::new(self.free) {
            // SAFETY: a free block's first word holds the next pointer (written by `push`), the
            // block is 16-aligned and at least 16 bytes, and nobody else can see it while the
            // class lock is held.
            self.free = unsafe { head.cast::<*mut u8>().read() };
            head
        } else {
            if self.left == 0 {
                self.grow(block, slab);
            }
            let p = self.cur;
            self.left -= 1;
            if self.left > 0 {
                // SAFETY: the slab has room for `left` more blocks of `block` bytes after `p`
                // (`grow` set `left` to `slab.size() / block`, every carve moves `cur` one
                // block on and `left` one down), so `p + block` is inside it.
                self.cur = unsafe { p.add(block) };
            }
            // SAFETY: `cur` points into a live slab (`left` was non-zero), so it is not null.
            unsafe { NonNull::new_unchecked(p) }
        };
        self.allocations = self.allocations.wrapping_add(1);
        p
    }

    fn push(&mut self, p: NonNull<u8>) {
        // SAFETY: the block is ours again (the caller gives it back), at least 16 bytes and
        // 16-aligned, so its first word can hold the link.
        unsafe { p.cast::<*mut u8>().write(self.free) };
        self.free = p.as_ptr();
        self.frees = self.frees.wrapping_add(1);
    }

    /// Reserves a new slab. Changes nothing before the slab is had, so a panic in here (an
    /// allocation failure under `-Zoom=panic`) leaves the class as it was.
    #[cold]
    fn grow(&mut self, block: usize, layout: Layout) {
        debug_assert!(layout.size() >= block && layout.size().is_multiple_of(block));
        // Room for the slab's entry first: once the slab exists, nothing may fail.
        self.slabs.reserve(1);
        // SAFETY: `layout` comes from `slab_layouts`, which makes every slab at least one
        // block (16 bytes or more), so its size is not zero.
        let raw = unsafe { alloc::alloc(layout) };
        let Some(slab) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        self.slabs.push((slab, layout));
        self.cur = slab.as_ptr();
        self.left = layout.size() / block;
        // The sum of the sizes of live allocations cannot overflow; saturate all the same.
        self.reserved = self.reserved.saturating_add(layout.size());
    }
}

/// The pool tier plus the heap tier's counters.
pub(crate) struct Pool {
    classes: [Mutex<Class>; CLASSES],
    /// The slab layout of each class (from [`slab_layouts`]).
    slabs: [Layout; CLASSES],
    overflow: Overflow,
    /// Counters of the heap tier (shared with the frame tier's overflow).
    pub(crate) heap: AtomicTier,
}

impl Pool {
    /// A pool whose classes reserve `slab_bytes` at a time; `None` when such slabs cannot
    /// exist (see [`slab_layouts`]).
    pub(crate) fn new(slab_bytes: usize, overflow: Overflow) -> Option<Self> {
        Some(Self {
            classes: core::array::from_fn(|_| Mutex::new(Class::new())),
            slabs: slab_layouts(slab_bytes)?,
            overflow,
            heap: AtomicTier::default(),
        })
    }

    /// Allocates `layout` (non-zero size) from its class, or from the heap tier; `None` only
    /// when the layout is above the largest class and the configuration forbids the heap.
    #[inline]
    pub(crate) fn alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        debug_assert!(layout.size() != 0);
        match class_of(layout) {
            Some(c) => {
                let (block, slab) = (block_size(c), self.slabs[c]);
                Some(self.classes[c].with(|class| class.pop(block, slab)))
            }
            None if self.overflow == Overflow::Error => None,
            None => Some(heap_alloc(layout, &self.heap)),
        }
    }

    /// Gives back a block from [`Pool::alloc`].
    ///
    /// # Safety
    /// `p` came from `self.alloc(layout)` with this very `layout` and is not used afterwards.
    #[inline]
    pub(crate) unsafe fn dealloc(&self, p: NonNull<u8>, layout: Layout) {
        match class_of(layout) {
            Some(c) => self.classes[c].with(|class| class.push(p)),
            // SAFETY: the caller promises `p` came from `alloc(layout)`, which took it from the
            // heap tier for this layout.
            None => unsafe { heap_free(p, layout, &self.heap) },
        }
    }

    /// The pool tier's counters, summed over the classes.
    pub(crate) fn stats(&self) -> TierStats {
        let mut s = TierStats::default();
        for (c, lock) in self.classes.iter().enumerate() {
            let block = block_size(c);
            lock.with(|class| {
                s.allocations = s.allocations.wrapping_add(class.allocations);
                s.frees = s.frees.wrapping_add(class.frees);
                s.bytes_allocated = s
                    .bytes_allocated
                    .wrapping_add(class.allocations.wrapping_mul(block));
                s.bytes_freed = s.bytes_freed.wrapping_add(class.frees.wrapping_mul(block));
                s.reserved_bytes = s.reserved_bytes.saturating_add(class.reserved);
            });
        }
        s
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        for lock in &self.classes {
            lock.with(|class| {
                for &(slab, layout) in &class.slabs {
                    // SAFETY: every slab was allocated by `Class::grow` with this layout, and
                    // no block can be in use: blocks borrow the allocator, which is being dropped.
                    unsafe { alloc::dealloc(slab.as_ptr(), layout) };
                }
                class.slabs.clear();
            });
        }
    }
}

/// Allocates from the global allocator, counting it in `tier`. Never null: an out-of-memory
/// calls [`std::alloc::handle_alloc_error`].
///
/// # Panics
/// On a zero-sized layout (every caller serves zero-sized values without memory).
pub(crate) fn heap_alloc(layout: Layout, tier: &AtomicTier) -> NonNull<u8> {
    assert!(layout.size() != 0, "framealloc: zero-sized heap allocation");
    // SAFETY: the layout has a non-zero size (asserted above).
    let raw = unsafe { alloc::alloc(layout) };
    let Some(p) = NonNull::new(raw) else {
        alloc::handle_alloc_error(layout)
    };
    tier.alloc(1, layout.size());
    p
}

/// Frees a block from [`heap_alloc`].
///
/// # Safety
/// `p` came from `heap_alloc(layout, _)` with this `layout` and is not used afterwards.
pub(crate) unsafe fn heap_free(p: NonNull<u8>, layout: Layout, tier: &AtomicTier) {
    // SAFETY: guaranteed by the caller.
    unsafe { alloc::dealloc(p.as_ptr(), layout) };
    tier.free(1, layout.size());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let l = |s, a| Layout::from_size_align(s, a).unwrap();
        assert_eq!(class_of(l(1, 1)), Some(0));
        assert_eq!(class_of(l(16, 8)), Some(0));
        assert_eq!(class_of(l(17, 1)), Some(1));
        assert_eq!(class_of(l(1, 4096)), Some(8));
        assert_eq!(class_of(l(4096, 1)), Some(8));
        assert_eq!(class_of(l(4097, 1)), None);
        assert_eq!(class_of(l(1, 8192)), None);
        assert_eq!(charged_bytes(l(24, 8)), 32);
        assert_eq!(charged_bytes(l(5000, 8)), 5000);
    }

    #[test]
    fn slab_layouts_are_whole_blocks_or_none() {
        for bytes in [0, 1, 15, 16, 17, 4095, 4096, 16 * 1024, 100_000] {
            let layouts = slab_layouts(bytes).expect("small sizes are fine");
            for (c, l) in layouts.iter().enumerate() {
                let block = block_size(c);
                assert_eq!(l.align(), block);
                assert!(l.size().is_multiple_of(block));
                assert!(l.size() >= bytes.max(block));
                assert!(l.size() < bytes.max(block) + block);
            }
        }
        let largest = isize::MAX as usize & !(MAX_BLOCK - 1);
        assert!(slab_layouts(largest).is_some());
        assert!(slab_layouts(largest + 1).is_none());
        assert!(slab_layouts(usize::MAX).is_none());
        assert!(slab_layouts(usize::MAX - 15).is_none());
    }
}
