//! [`SmartAlloc`]: the shared handle that ties the three tiers together.
//!
//! A `SmartAlloc` is one `Arc` (one pointer): cloning it is a reference-count increment and every
//! clone sees the same tiers. Two allocators made with two `SmartAlloc::new` calls share nothing
//! (no thread-local or global state): ending a frame of one never touches the other.

use core::alloc::Layout;
use core::fmt;
use core::mem::MaybeUninit;
use std::sync::{Arc, Mutex, PoisonError};

use sync_core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

#[cfg(doc)]
use crate::config::Overflow;
use crate::config::{AllocConfig, AllocError, ConfigError};
use crate::frame::{Frame, FrameArena};
use crate::pool::Pool;
use crate::pool_box::{Home, PoolBox, PoolVec};
use crate::stats::{AtomicTier, Stats};

/// What every clone of a [`SmartAlloc`] shares.
pub(crate) struct Inner {
    pub(crate) config: AllocConfig,
    pub(crate) pool: Pool,
    /// The frame arena while no frame is open; `None` while a [`Frame`] holds it.
    frame_slot: Mutex<Option<FrameArena>>,
    pub(crate) frame_stats: AtomicTier,
    frames: AtomicUsize,
}

impl Inner {
    /// Takes the arena back from a frame that ended.
    pub(crate) fn close_frame(&self, arena: FrameArena, count: usize, bytes: usize) {
        self.frame_stats.alloc(count, bytes);
        self.frame_stats.free(count, bytes);
        self.frame_stats.set_reserved(arena.capacity());
        self.frames.fetch_add(1, Relaxed);
        *self
            .frame_slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(arena);
    }

    pub(crate) fn home(&self) -> Home<'_> {
        Home::pool(&self.pool)
    }
}

/// A frame / pool / heap allocator. `Clone` is a cheap shared handle; `Send + Sync`.
///
/// * **Frame tier** — [`begin_frame`](Self::begin_frame) returns a [`Frame`] token; allocate with
///   [`Frame::frame_alloc`], [`Frame::frame_box`], [`Frame::frame_vec`], [`Frame::frame_slice`];
///   [`end_frame`](Self::end_frame) resets the arena. One thread, one open frame at a time.
/// * **Pool tier** — [`pool_alloc`](Self::pool_alloc), [`pool_box`](Self::pool_box),
///   [`pool_vec`](Self::pool_vec): size classes from 16 to 4096 bytes, any thread.
/// * **Heap tier** — what the other two cannot serve (see [`Overflow`]).
///
/// ```
/// use framealloc::SmartAlloc;
///
/// let alloc = SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// let scratch = frame.frame_slice(&[1u8, 2, 3]);
/// scratch[0] = 9;
/// let kept = alloc.pool_box(scratch.iter().map(|&b| u32::from(b)).sum::<u32>());
/// alloc.end_frame(frame);
/// assert_eq!(*kept, 14); // pool data outlives the frame
/// ```
#[derive(Clone)]
pub struct SmartAlloc {
    inner: Arc<Inner>,
}

impl Default for SmartAlloc {
    fn default() -> Self {
        Self::new(AllocConfig::default())
    }
}

impl SmartAlloc {
    /// A new allocator. Nothing is reserved until the first allocation of each tier.
    ///
    /// # Panics
    /// Here, when the allocator is built, if the configuration asks for a size no allocation
    /// can have (see [`AllocConfig::validate`]); [`try_new`](Self::try_new) returns the error
    /// instead. A built allocator never fails later because of its configuration.
    ///
    /// ```should_panic
    /// use framealloc::{AllocConfig, SmartAlloc};
    ///
    /// // panics: "framealloc: invalid AllocConfig: frame_capacity = 18446744073709551615 bytes …"
    /// let alloc = SmartAlloc::new(AllocConfig { frame_capacity: usize::MAX, ..Default::default() });
    /// ```
    #[track_caller]
    pub fn new(config: AllocConfig) -> Self {
        match Self::try_new(config) {
            Ok(alloc) => alloc,
            Err(e) => panic!("framealloc: invalid AllocConfig: {e}"),
        }
    }

    /// A new allocator, or the reason its configuration cannot be honoured.
    ///
    /// # Errors
    /// [`ConfigError`] when a size of `config` cannot be allocated (see
    /// [`AllocConfig::validate`]).
    ///
    /// ```
    /// use framealloc::{AllocConfig, ConfigError, SmartAlloc};
    ///
    /// let err = SmartAlloc::try_new(AllocConfig {
    ///     frame_capacity: usize::MAX,
    ///     ..Default::default()
    /// })
    /// .unwrap_err();
    /// assert_eq!(err, ConfigError::FrameCapacityTooLarge(usize::MAX));
    /// assert!(err.to_string().contains("frame_capacity"));
    /// assert!(SmartAlloc::try_new(AllocConfig::default()).is_ok());
    /// ```
    pub fn try_new(config: AllocConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let pool = Pool::new(config.pool_slab_bytes, config.pool_overflow)
            .ok_or(ConfigError::PoolSlabTooLarge(config.pool_slab_bytes))?;
        Ok(Self::with_pool(config, pool))
    }

    /// Builds the allocator; `config.frame_capacity` should have been checked.
    fn with_pool(config: AllocConfig, pool: Pool) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                pool,
                frame_slot: Mutex::new(Some(FrameArena::new())),
                frame_stats: AtomicTier::default(),
                frames: AtomicUsize::new(0),
            }),
        }
    }

    /// The configuration this allocator was made with.
    pub fn config(&self) -> &AllocConfig {
        &self.inner.config
    }

    /// `true` if both handles refer to the same allocator.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    // --- frame tier -------------------------------------------------------------------------

    /// Opens a frame: the returned token is what frame allocations borrow.
    ///
    /// # Panics
    /// If a frame of this allocator is already open (use [`try_begin_frame`](Self::try_begin_frame)).
    pub fn begin_frame(&self) -> Frame<'_> {
        self.try_begin_frame()
            .expect("framealloc: begin_frame while a frame of this allocator is open")
    }

    /// Opens a frame, or `None` if one is already open.
    ///
    /// The first frame reserves the arena ([`AllocConfig::frame_capacity`] bytes); if the
    /// system has no memory for it, this ends in [`std::alloc::handle_alloc_error`], as for any
    /// collection.
    pub fn try_begin_frame(&self) -> Option<Frame<'_>> {
        let mut slot = self
            .inner
            .frame_slot
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Reserve while the arena is still in its slot: if that panics, the arena stays there
        // for the next call (the lock's poisoning is ignored everywhere).
        slot.as_mut()?
            .ensure_reserved(self.inner.config.frame_capacity);
        let arena = slot.take()?;
        drop(slot);
        Some(Frame::open(
            &self.inner,
            arena,
            self.inner.frames.load(Relaxed),
        ))
    }

    /// Ends a frame: every frame allocation is released at once and the arena is ready for the
    /// next frame. Frame data borrows `frame`, so it must be gone before this call compiles.
    ///
    /// # Panics
    /// If `frame` belongs to another allocator.
    pub fn end_frame(&self, frame: Frame<'_>) {
        assert!(
            core::ptr::eq(frame.inner(), Arc::as_ptr(&self.inner)),
            "framealloc: end_frame with a frame of another allocator"
        );
        drop(frame);
    }

    // --- pool tier --------------------------------------------------------------------------

    /// An uninitialised pool block for one `T`; [`PoolBox::write`] fills it.
    ///
    /// ```
    /// let alloc = framealloc::SmartAlloc::new(Default::default());
    /// let b = alloc.pool_alloc::<u64>().write(5);
    /// assert_eq!(*b, 5);
    /// ```
    pub fn pool_alloc<T>(&self) -> PoolBox<'_, MaybeUninit<T>> {
        self.pool_box(MaybeUninit::uninit())
    }

    /// Moves `value` into the pool tier (the heap tier above 4096 bytes).
    ///
    /// # Panics
    /// When `T` is above the largest class and `pool_overflow` is [`Overflow::Error`].
    pub fn pool_box<T>(&self, value: T) -> PoolBox<'_, T> {
        match self.try_pool_box(value) {
            Ok(b) => b,
            Err(_) => too_large(Layout::new::<T>()),
        }
    }

    /// Like [`pool_box`](Self::pool_box), but gives the value back instead of panicking.
    pub fn try_pool_box<T>(&self, value: T) -> Result<PoolBox<'_, T>, AllocError<T>> {
        PoolBox::try_new_in(self.inner.home(), value).map_err(AllocError)
    }

    /// An empty vector in the pool tier (no block until the first push).
    pub fn pool_vec<T>(&self) -> PoolVec<'_, T> {
        PoolVec::in_pool(self.inner.home())
    }

    /// A pool vector with room for `capacity` elements.
    pub fn pool_vec_with_capacity<T>(&self, capacity: usize) -> PoolVec<'_, T> {
        let mut v = self.pool_vec();
        v.reserve(capacity);
        v
    }

    /// Counters of every tier.
    pub fn stats(&self) -> Stats {
        let heap = {
            let mut h = self.inner.pool.heap.snapshot();
            h.reserved_bytes = h.live_bytes();
            h
        };
        Stats {
            frame: self.inner.frame_stats.snapshot(),
            pool: self.inner.pool.stats(),
            heap,
            frames: self.inner.frames.load(Relaxed),
        }
    }

    #[cfg(feature = "task")]
    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

impl fmt::Debug for SmartAlloc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmartAlloc")
            .field("config", &self.inner.config)
            .field("frames", &self.inner.frames.load(Relaxed))
            .finish_non_exhaustive()
    }
}

#[cold]
#[track_caller]
pub(crate) fn too_large(layout: Layout) -> ! {
    panic!(
        "framealloc: {} bytes at alignment {} exceed the pool tier and pool_overflow is Error",
        layout.size(),
        layout.align()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    /// An allocator whose configuration skipped the checks of `SmartAlloc::new`, so that
    /// reserving the arena panics inside `begin_frame` (as an allocation failure does when the
    /// program is built with `-Zoom=panic`).
    fn unchecked(config: AllocConfig) -> SmartAlloc {
        let pool = Pool::new(config.pool_slab_bytes, config.pool_overflow).unwrap();
        SmartAlloc::with_pool(config, pool)
    }

    #[test]
    fn a_panic_while_opening_a_frame_leaves_the_arena_in_place() {
        let alloc = unchecked(AllocConfig {
            frame_capacity: usize::MAX,
            ..AllocConfig::default()
        });
        for _ in 0..2 {
            let opened = catch_unwind(AssertUnwindSafe(|| drop(alloc.begin_frame())));
            assert!(opened.is_err(), "reserving usize::MAX bytes cannot succeed");
            assert!(
                alloc
                    .inner
                    .frame_slot
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_some(),
                "the arena went missing: no frame can ever open again"
            );
        }
        assert_eq!(alloc.stats().frames, 0);
    }
}
