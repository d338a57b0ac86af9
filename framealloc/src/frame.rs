//! The frame tier: a bump arena that is reset at every frame boundary.
//!
//! # Design
//! Each [`SmartAlloc`] owns one `FrameArena`: a single block of
//! [`AllocConfig::frame_capacity`](crate::AllocConfig::frame_capacity) bytes, aligned to 4096,
//! reserved at the first frame and reused by every frame after it. [`SmartAlloc::begin_frame`]
//! **moves the arena out** of the allocator into the returned [`Frame`] token; allocation is then
//! a bump of an offset inside the token (no lock, no atomic), and [`SmartAlloc::end_frame`] (or
//! dropping the token) resets the offset and moves the arena back. So:
//!
//! * at most one frame of an allocator is open at a time (a second `begin_frame` panics,
//!   [`SmartAlloc::try_begin_frame`] returns `None`);
//! * the frame belongs to the thread that opened it: `Frame` is neither `Send` nor `Sync`, and
//!   neither are [`FrameBox`] and [`FrameVec`]; the plain references that
//!   [`Frame::frame_alloc`] and [`Frame::frame_slice`] return may be lent to scoped threads
//!   (see [`Frame::frame_slice`]), never past the frame;
//! * everything allocated in a frame borrows the token, and `end_frame` takes the token by
//!   value, so **using frame data after `end_frame` does not compile**:
//!
//! ```compile_fail,E0505
//! let alloc = framealloc::SmartAlloc::new(Default::default());
//! let frame = alloc.begin_frame();
//! let v = frame.frame_box(42u32);
//! alloc.end_frame(frame); // error[E0505]: cannot move out of `frame` because it is borrowed
//! assert_eq!(*v, 42);
//! ```
//!
//! The offset is aligned on the real address (the block is 4096-aligned, so aligning the offset
//! aligns the address), which serves every alignment up to 4096. Every block takes a whole number
//! of 8-byte granules (a `u8` takes 8 bytes, a 12-byte value 16), so the offset is always
//! 8-aligned and the common requests, aligned to 8 or less, need no rounding on the fast path.
//! A request that does not fit, or that asks for more than 4096 alignment, goes to the heap tier
//! for this frame (the frame keeps a list and frees those blocks at its end) — or fails under
//! [`Overflow::Error`]. With [`Overflow::Grow`]
//! the arena is also re-reserved at the frame boundary, big enough for the last frame (never
//! smaller than it was; if the bigger block cannot be had, the arena keeps its size).
//!
//! # Panics and the arena
//! The arena is never lost to a panic: `begin_frame` reserves the block while the arena is still
//! in the allocator (an allocation failure under `-Zoom=panic` leaves it there), and a frame
//! hands the arena back from a drop guard, so it is back even if ending the frame unwinds.
//! [`AllocConfig::frame_capacity`](crate::AllocConfig::frame_capacity) is checked when the
//! allocator is built, so reserving it never meets an impossible size. Only forgetting the
//! token ([`core::mem::forget`]) loses the arena, as forgetting a `MutexGuard` keeps its mutex
//! locked.
//!
//! Invariants: `pos <= cap`; `pos` is a multiple of `GRANULE` (8); the bytes `[0, pos)` of the
//! block belong to values of the open frame; every entry of `overflow` is a live heap block of the
//! open frame.

use core::alloc::Layout;
use core::cell::{Cell, RefCell};
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit};
use core::ptr::NonNull;
use std::alloc;
use std::vec::Vec;

use crate::config::{AllocError, Overflow};
use crate::frame_box::{FrameBox, FrameVec};
use crate::pool::{heap_alloc, heap_free};
use crate::smart::Inner;
#[cfg(doc)]
use crate::smart::SmartAlloc;

/// Alignment of the arena block: every alignment up to this one is served from the arena.
pub(crate) const ARENA_ALIGN: usize = 4096;

/// Granule of the arena: every arena block starts at a multiple of it and takes a whole number of
/// granules, so `pos` stays a multiple of it and requests aligned to it or less need no rounding.
pub(crate) const GRANULE: usize = 8;

/// `size` rounded up to whole granules; `size <= isize::MAX` (a [`Layout`]'s), so no overflow.
#[inline]
const fn granules(size: usize) -> usize {
    (size + (GRANULE - 1)) & !(GRANULE - 1)
}

/// The layout of an arena block of `cap` bytes, or `None` if no allocation can have it.
pub(crate) fn arena_layout(cap: usize) -> Option<Layout> {
    Layout::from_size_align(cap, ARENA_ALIGN).ok()
}

/// The arena of one allocator (see the module docs).
pub(crate) struct FrameArena {
    /// The block (dangling when `cap == 0`).
    base: NonNull<u8>,
    cap: usize,
    pos: Cell<usize>,
    /// Heap blocks served to the open frame.
    overflow: RefCell<Vec<(NonNull<u8>, Layout)>>,
    /// Bytes the open frame wanted beyond the arena (for `Overflow::Grow`).
    overflow_demand: Cell<usize>,
    /// Arena allocations of the open frame (their bytes are `pos`).
    count: Cell<usize>,
}

// SAFETY: the arena owns its block and its overflow blocks; it holds no reference to
// thread-local state, so it may move to another thread while no frame is open (an open frame's
// token, which holds it, is not `Send`).
unsafe impl Send for FrameArena {}

impl FrameArena {
    pub(crate) fn new() -> Self {
        Self {
            base: NonNull::dangling(),
            cap: 0,
            pos: Cell::new(0),
            overflow: RefCell::new(Vec::new()),
            overflow_demand: Cell::new(0),
            count: Cell::new(0),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Reserves the block of a new arena: `capacity` bytes (the checked
    /// [`AllocConfig::frame_capacity`](crate::AllocConfig::frame_capacity)). No frame may be
    /// open. Changes nothing before the block is had, so a panic leaves the arena as it was.
    pub(crate) fn ensure_reserved(&mut self, capacity: usize) {
        if self.cap != 0 || capacity == 0 {
            return;
        }
        let layout = arena_layout(capacity)
            .expect("framealloc: frame_capacity is checked when the allocator is built");
        // SAFETY: `capacity > 0`, so the layout has a non-zero size.
        let raw = unsafe { alloc::alloc(layout) };
        let Some(base) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        self.base = base;
        self.cap = capacity;
    }

    /// Replaces the block by a larger one of `cap` bytes if the system has one (no frame may be
    /// open); keeps the old block otherwise. Growth is an optimisation: it never fails.
    fn try_grow_to(&mut self, cap: usize) {
        if cap <= self.cap {
            return;
        }
        let Some(layout) = arena_layout(cap) else {
            return;
        };
        // SAFETY: `cap > self.cap >= 0`, so the layout has a non-zero size.
        let raw = unsafe { alloc::alloc(layout) };
        let Some(base) = NonNull::new(raw) else {
            return;
        };
        self.release();
        self.base = base;
        self.cap = cap;
    }

    fn release(&mut self) {
        if self.cap != 0 {
            let layout = arena_layout(self.cap).expect("the block was allocated with it");
            // SAFETY: the block was allocated by `reserve` with this layout; no frame is open.
            unsafe { alloc::dealloc(self.base.as_ptr(), layout) };
            self.base = NonNull::dangling();
            self.cap = 0;
        }
    }

    /// Bump-allocates `layout` (non-zero size) in the arena; `None` if it does not fit.
    #[inline]
    fn bump(&self, layout: Layout) -> Option<NonNull<u8>> {
        let align = layout.align();
        if align > ARENA_ALIGN {
            return None;
        }
        let pos = self.pos.get();
        let start = if align <= GRANULE {
            // `pos` is a multiple of `GRANULE`, so it is aligned already.
            pos
        } else {
            // Cannot overflow: `pos <= cap <= isize::MAX` (the arena's layout is valid) and
            // `align - 1 < ARENA_ALIGN`, so the sum stays below `usize::MAX`.
            (pos + (align - 1)) & !(align - 1)
        };
        // The one checked step: `start` may exceed `cap` by less than `align`, and a size may be
        // as large as `isize::MAX` (rounding it up cannot overflow).
        let end = start.checked_add(granules(layout.size()))?;
        if end > self.cap {
            return None;
        }
        self.pos.set(end);
        // At most one count per arena byte (sizes are non-zero), so this cannot overflow.
        self.count.set(self.count.get() + 1);
        // SAFETY: `start < end <= cap`, so the pointer stays inside the block.
        Some(unsafe { self.base.add(start) })
    }

    /// Grows the block at `p` (of `old` bytes) to `new` bytes in place if it is the last one.
    pub(crate) fn try_extend(&self, p: NonNull<u8>, old: usize, new: usize) -> bool {
        let base = self.base.addr().get();
        let addr = p.addr().get();
        if self.cap == 0 || addr < base {
            return false;
        }
        let off = addr - base;
        // Blocks start on a granule and end where the next granule begins, so only the last
        // block of the arena ends at `pos` once rounded up.
        let rounded_end =
            |size: usize| Some(off.checked_add(size)?.checked_add(GRANULE - 1)? & !(GRANULE - 1));
        if rounded_end(old) != Some(self.pos.get()) {
            return false;
        }
        let end = match rounded_end(new) {
            Some(end) if end <= self.cap => end,
            _ => return false,
        };
        self.pos.set(end);
        true
    }

    /// Frees the frame's heap overflow and, under [`Overflow::Grow`], grows the block so that
    /// the frame that is ending would have fitted. `pos` and `count` are left for [`Self::clear`].
    fn finish_frame(&mut self, inner: &Inner) {
        while let Some((p, layout)) = self.overflow.get_mut().pop() {
            // SAFETY: every overflow entry was allocated by `heap_alloc` with its layout and is
            // freed once (popped first); the frame's values are gone (they borrowed the frame
            // token, which is being dropped).
            unsafe { heap_free(p, layout, &inner.pool.heap) };
        }
        let demand = self.overflow_demand.replace(0);
        if demand > 0 && inner.config.frame_overflow == Overflow::Grow {
            // Sizes that cannot be represented keep the old block.
            if let Some(want) = self
                .pos
                .get()
                .checked_add(demand)
                .and_then(usize::checked_next_power_of_two)
            {
                self.try_grow_to(want);
            }
        }
    }

    /// Resets the arena for the next frame; returns (allocations, bytes) of the frame that ended.
    fn clear(&mut self) -> (usize, usize) {
        (self.count.replace(0), self.pos.replace(0))
    }
}

impl Drop for FrameArena {
    fn drop(&mut self) {
        self.release();
    }
}

/// An open frame: the token that frame allocations borrow. Made by
/// [`SmartAlloc::begin_frame`]; ended by [`SmartAlloc::end_frame`], [`Frame::end`] or drop.
///
/// It is `!Send` and `!Sync`: frame allocation is for the thread that opened the frame.
/// Dropping the token (also while unwinding from a panic) ends the frame and gives the arena
/// back. Forgetting it (`mem::forget`) leaks the arena with it, as forgetting a `MutexGuard`
/// keeps its mutex locked: the allocator then has no arena, and `begin_frame` panics
/// (`try_begin_frame` returns `None`) from then on.
///
/// ```
/// use framealloc::SmartAlloc;
///
/// let alloc = SmartAlloc::new(Default::default());
/// for _ in 0..3 {
///     let frame = alloc.begin_frame();
///     let mut v = frame.frame_vec::<u32>();
///     v.extend([1, 2, 3]);
///     let total = frame.frame_box(v.iter().sum::<u32>());
///     assert_eq!(*total, 6);
///     drop((v, total));
///     alloc.end_frame(frame);
/// }
/// assert_eq!(alloc.stats().frames, 3);
/// ```
///
/// The token and the frame's handles cannot leave the thread, e.g. into `std::thread::spawn`
/// or `tokio::spawn`:
///
/// ```compile_fail,E0277
/// fn needs_send<T: Send>(_: T) {}
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// needs_send(frame.frame_box(1u8)); // error[E0277]: cannot be sent between threads safely
/// ```
///
/// ```compile_fail,E0277
/// fn needs_send<T: Send>(_: T) {}
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// needs_send(alloc.begin_frame()); // error[E0277]: `*const ()` cannot be sent between threads
/// ```
///
/// …nor be shared with another thread (`Frame`, `FrameBox` and `FrameVec` are `!Sync`):
///
/// ```compile_fail,E0277
/// fn needs_sync<T: Sync>(_: &T) {}
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// needs_sync(&frame); // error[E0277]: `*const ()` cannot be shared between threads safely
/// ```
///
/// ```compile_fail,E0277
/// fn needs_sync<T: Sync>(_: &T) {}
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// needs_sync(&frame.frame_box(1u8)); // error[E0277]
/// ```
///
/// ```compile_fail,E0277
/// fn needs_sync<T: Sync>(_: &T) {}
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// needs_sync(&frame.frame_vec::<u8>()); // error[E0277]
/// ```
///
/// …and cannot be held across an `.await` in a future that must be `Send` (no error code
/// here: nightly reports "future cannot be sent between threads safely" without one; the same
/// future with pool data instead compiles, see `tests/tokio.rs`):
///
/// ```compile_fail
/// fn spawn_like<F: std::future::Future + Send>(_: F) {}
/// async fn io() {}
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// spawn_like(async move {
///     let frame = alloc.begin_frame();
///     let data = frame.frame_vec::<u8>();
///     io().await; // frame data would cross this await point
///     drop(data);
/// });
/// ```
pub struct Frame<'a> {
    inner: &'a Inner,
    arena: ManuallyDrop<FrameArena>,
    number: usize,
    _not_send: PhantomData<*const ()>,
}

impl<'a> Frame<'a> {
    /// A frame over `arena` (already reserved with
    /// [`FrameArena::ensure_reserved`], so nothing here can fail).
    pub(crate) fn open(inner: &'a Inner, arena: FrameArena, number: usize) -> Self {
        inner.frame_stats.set_reserved(arena.cap);
        Self {
            inner,
            arena: ManuallyDrop::new(arena),
            number,
            _not_send: PhantomData,
        }
    }

    pub(crate) fn inner(&self) -> &'a Inner {
        self.inner
    }

    /// Allocates `layout` (non-zero size): arena first, then the overflow policy.
    #[inline]
    pub(crate) fn alloc_layout(&self, layout: Layout) -> Option<NonNull<u8>> {
        match self.arena.bump(layout) {
            Some(p) => Some(p),
            None => self.alloc_overflow(layout),
        }
    }

    #[cold]
    #[inline(never)]
    fn alloc_overflow(&self, layout: Layout) -> Option<NonNull<u8>> {
        if self.inner.config.frame_overflow == Overflow::Error {
            return None;
        }
        let mut overflow = self.arena.overflow.borrow_mut();
        // Room for the entry first: once the block exists, nothing may fail (it would leak).
        overflow.reserve(1);
        let p = heap_alloc(layout, &self.inner.pool.heap);
        overflow.push((p, layout));
        if layout.align() <= ARENA_ALIGN {
            // What the arena would have needed for it, padding included. Over-aligned requests
            // never fit the arena, so they do not make it grow.
            let need = layout
                .size()
                .saturating_add(layout.align().max(GRANULE) - 1);
            let demand = &self.arena.overflow_demand;
            demand.set(demand.get().saturating_add(need));
        }
        Some(p)
    }

    pub(crate) fn arena(&self) -> &FrameArena {
        &self.arena
    }

    /// Uninitialised room for one `T`, valid until the frame ends (never dropped: it is a
    /// `MaybeUninit`). Upstream framealloc's `frame_alloc::<T>()`, made safe.
    ///
    /// The result is a plain reference: like [`Frame::frame_slice`]'s, it may be lent to a
    /// scoped thread, and cannot outlive the frame.
    ///
    /// # Panics
    /// When the arena is full and the frame tier has a hard limit ([`Overflow::Error`]).
    #[allow(clippy::mut_from_ref)] // each call returns fresh, disjoint memory (a bump allocator)
    pub fn frame_alloc<T>(&self) -> &mut MaybeUninit<T> {
        self.try_frame_alloc().unwrap_or_else(|| exhausted())
    }

    /// Like [`Frame::frame_alloc`], but `None` instead of a panic under a hard limit.
    #[allow(clippy::mut_from_ref)] // each call returns fresh, disjoint memory (a bump allocator)
    pub fn try_frame_alloc<T>(&self) -> Option<&mut MaybeUninit<T>> {
        let layout = Layout::new::<T>();
        let p = if layout.size() == 0 {
            NonNull::dangling()
        } else {
            self.alloc_layout(layout)?.cast::<MaybeUninit<T>>()
        };
        // SAFETY: fresh memory for one `T` (or a dangling aligned pointer for a zero-sized `T`)
        // that nothing else refers to, live until the frame ends, which the borrow of `self`
        // outlives. `MaybeUninit` needs no initialisation.
        Some(unsafe { &mut *p.as_ptr() })
    }

    /// Moves `value` into the frame; the box drops it (at the latest before the frame ends).
    ///
    /// # Panics
    /// When the arena is full and the frame tier has a hard limit ([`Overflow::Error`]).
    pub fn frame_box<T>(&self, value: T) -> FrameBox<'_, T> {
        match self.try_frame_box(value) {
            Ok(b) => b,
            Err(_) => exhausted(),
        }
    }

    /// Like [`Frame::frame_box`], but gives the value back under a hard limit.
    pub fn try_frame_box<T>(&self, value: T) -> Result<FrameBox<'_, T>, AllocError<T>> {
        match self.try_frame_alloc::<T>() {
            Some(slot) => Ok(FrameBox::new(slot.write(value))),
            None => Err(AllocError(value)),
        }
    }

    /// An empty growable vector in the frame (it grows in place while it is the last
    /// allocation).
    pub fn frame_vec<T>(&self) -> FrameVec<'_, T> {
        FrameVec::in_frame(self)
    }

    /// A vector with room for `capacity` elements.
    pub fn frame_vec_with_capacity<T>(&self, capacity: usize) -> FrameVec<'_, T> {
        let mut v = FrameVec::in_frame(self);
        v.reserve(capacity);
        v
    }

    /// Copies `src` into the frame.
    ///
    /// The result is a plain `&mut [T]`: `Send` when `T` is, so a frame's scratch memory can be
    /// split between scoped worker threads, which the borrow checker ends before the frame:
    ///
    /// ```
    /// let alloc = framealloc::SmartAlloc::new(Default::default());
    /// let frame = alloc.begin_frame();
    /// let samples = frame.frame_slice(&[1u32; 1000]);
    /// let (left, right) = samples.split_at_mut(500);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| left.iter_mut().for_each(|x| *x *= 2));
    ///     s.spawn(|| right.iter_mut().for_each(|x| *x *= 3));
    /// });
    /// assert_eq!(samples.iter().sum::<u32>(), 500 * 2 + 500 * 3);
    /// alloc.end_frame(frame);
    /// ```
    ///
    /// It borrows the frame, so it can reach neither a `'static` thread or task…
    ///
    /// ```compile_fail,E0597
    /// let alloc = framealloc::SmartAlloc::new(Default::default());
    /// let frame = alloc.begin_frame();
    /// let samples = frame.frame_slice(&[1u32; 4]);
    /// // error[E0597]: `frame` does not live long enough (the thread needs `'static`)
    /// std::thread::spawn(move || samples[0] = 2).join().unwrap();
    /// ```
    ///
    /// …nor be used after the frame ended:
    ///
    /// ```compile_fail,E0505
    /// let alloc = framealloc::SmartAlloc::new(Default::default());
    /// let frame = alloc.begin_frame();
    /// let samples = frame.frame_slice(&[1u32; 4]);
    /// alloc.end_frame(frame); // error[E0505]: cannot move out of `frame` because it is borrowed
    /// samples[0] = 2;
    /// ```
    ///
    /// # Panics
    /// When the arena is full and the frame tier has a hard limit ([`Overflow::Error`]).
    #[allow(clippy::mut_from_ref)] // each call returns fresh, disjoint memory (a bump allocator)
    pub fn frame_slice<T: Copy>(&self, src: &[T]) -> &mut [T] {
        self.try_frame_slice(src).unwrap_or_else(|| exhausted())
    }

    /// Like [`Frame::frame_slice`], but `None` under a hard limit.
    #[allow(clippy::mut_from_ref)] // each call returns fresh, disjoint memory (a bump allocator)
    pub fn try_frame_slice<T: Copy>(&self, src: &[T]) -> Option<&mut [T]> {
        let layout = Layout::for_value(src);
        let p = if layout.size() == 0 {
            NonNull::<T>::dangling()
        } else {
            self.alloc_layout(layout)?.cast::<T>()
        };
        // SAFETY: `p` has room for `src.len()` values of `T` (or `T`/the slice is zero-sized),
        // is fresh and does not overlap `src`; `T: Copy`, so a bitwise copy is a valid value.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), p.as_ptr(), src.len()) };
        // SAFETY: the `len` values were just initialised; the memory lives until the frame
        // ends, which the borrow of `self` outlives.
        Some(unsafe { core::slice::from_raw_parts_mut(p.as_ptr(), src.len()) })
    }

    /// Bytes of the arena used so far in this frame, including alignment padding and the
    /// rounding of every block up to whole 8-byte granules.
    pub fn used(&self) -> usize {
        self.arena.pos.get()
    }

    /// Allocations made in this frame so far (arena and heap overflow).
    pub fn allocations(&self) -> usize {
        self.arena.count.get() + self.arena.overflow.borrow().len()
    }

    /// Bytes of the arena block.
    pub fn capacity(&self) -> usize {
        self.arena.capacity()
    }

    /// The frame's number: 0 for the first frame of the allocator.
    pub fn number(&self) -> usize {
        self.number
    }

    /// Ends the frame (same as [`SmartAlloc::end_frame`] or dropping the token).
    pub fn end(self) {}
}

impl Drop for Frame<'_> {
    fn drop(&mut self) {
        /// Gives the arena back to the allocator when dropped, so that it is back even if ending
        /// the frame unwinds.
        struct HandBack<'f, 'a>(&'f mut Frame<'a>);
        impl Drop for HandBack<'_, '_> {
            fn drop(&mut self) {
                // SAFETY: the arena is taken exactly once, here, while the frame is being
                // dropped; nothing uses the frame's field afterwards.
                let mut arena = unsafe { ManuallyDrop::take(&mut self.0.arena) };
                let (count, bytes) = arena.clear();
                self.0.inner.close_frame(arena, count, bytes);
            }
        }
        let back = HandBack(self);
        let inner = back.0.inner;
        back.0.arena.finish_frame(inner);
    }
}

impl core::fmt::Debug for Frame<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Frame")
            .field("number", &self.number)
            .field("used", &self.used())
            .field("capacity", &self.capacity())
            .finish()
    }
}

#[cold]
#[track_caller]
pub(crate) fn exhausted() -> ! {
    panic!("framealloc: the frame arena is full and the configuration forbids heap fallback")
}
