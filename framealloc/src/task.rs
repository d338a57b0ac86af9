//! Task-scoped pool allocation for async code: [`TaskAlloc`] and [`AsyncPoolGuard`].
//!
//! Upstream framealloc's rule stands: **frame allocation stays on the thread that runs the frame loop;
//! async tasks use the pool tier**. Both helpers are thin scopes over the pool tier of a
//! [`SmartAlloc`]: everything they hand out is a [`PoolBox`] or [`PoolVec`] that *borrows the
//! scope*, so the compiler guarantees that nothing allocated through a scope is still alive when
//! the scope drops — every value has been dropped and every block given back to the pool by then,
//! on early returns, `?`, panics and cancelled futures alike. Each scope counts what is live
//! through it ([`TaskAlloc::live_allocations`], [`TaskAlloc::live_bytes`]).
//!
//! ```compile_fail,E0505
//! let alloc = framealloc::SmartAlloc::new(Default::default());
//! let task = framealloc::task::TaskAlloc::new(&alloc);
//! let b = task.alloc_box(1u32);
//! drop(task); // error[E0505]: cannot move out of `task` because it is borrowed
//! assert_eq!(*b, 1);
//! ```
//!
//! ```compile_fail,E0597
//! let alloc = framealloc::SmartAlloc::new(Default::default());
//! let escaped;
//! {
//!     let guard = framealloc::task::AsyncPoolGuard::new(&alloc);
//!     escaped = guard.pool_vec::<u8>(); // error[E0597]: `guard` does not live long enough
//! }
//! drop(escaped);
//! ```
//!
//! Both types are `Send + Sync`, and so are their boxes when `T` is: a task may hold them across
//! `.await` points and still be spawned on a multi-threaded runtime. They depend on no runtime:
//! the `task` feature pulls in no dependency (`tokio`, upstream framealloc's name, is an alias).

use core::fmt;
use core::mem::MaybeUninit;

use crate::config::AllocError;
use crate::pool_box::{PoolBox, PoolVec, Scope};
use crate::smart::SmartAlloc;

/// A task's own allocation scope: an owned handle to the allocator (so it can move into
/// `tokio::spawn`) plus counters of what the task has live.
///
/// ```
/// use framealloc::SmartAlloc;
/// use framealloc::task::TaskAlloc;
///
/// let alloc = SmartAlloc::new(Default::default());
/// let task = TaskAlloc::new(&alloc);
/// let mut buf = task.alloc_vec::<u8>();
/// buf.extend_from_slice(b"hello");
/// let n = task.alloc_box(buf.len());
/// assert_eq!(task.live_allocations(), 2);
/// assert_eq!(alloc.stats().pool.live_count(), 2); // really the pool tier
/// drop((buf, n));
/// assert_eq!(task.live_allocations(), 0);
/// ```
pub struct TaskAlloc {
    alloc: SmartAlloc,
    scope: Scope,
}

impl TaskAlloc {
    /// A scope over `alloc`'s pool tier (clones the handle).
    pub fn new(alloc: &SmartAlloc) -> Self {
        let alloc = alloc.clone();
        // The pool sits in the allocator's `Arc`, which `alloc` keeps alive as long as `self`.
        let scope = Scope::new(&alloc.inner().pool);
        Self { alloc, scope }
    }

    /// Moves `value` into the pool tier for the life of this scope at most.
    ///
    /// # Panics
    /// As [`SmartAlloc::pool_box`].
    pub fn alloc_box<T>(&self, value: T) -> PoolBox<'_, T> {
        self.scope.pool_box(value)
    }

    /// Like [`alloc_box`](Self::alloc_box), but gives the value back under a hard limit.
    pub fn try_alloc_box<T>(&self, value: T) -> Result<PoolBox<'_, T>, AllocError<T>> {
        self.scope.try_pool_box(value)
    }

    /// An empty pool vector for the life of this scope at most.
    pub fn alloc_vec<T>(&self) -> PoolVec<'_, T> {
        self.scope.pool_vec(0)
    }

    /// A pool vector with room for `capacity` elements.
    pub fn alloc_vec_with_capacity<T>(&self, capacity: usize) -> PoolVec<'_, T> {
        self.scope.pool_vec(capacity)
    }

    /// Pool blocks live through this scope right now (zero-sized values take none).
    pub fn live_allocations(&self) -> usize {
        self.scope.live()
    }

    /// Bytes (block sizes) live through this scope right now.
    pub fn live_bytes(&self) -> usize {
        self.scope.live_bytes()
    }

    /// Blocks allocated through this scope since it was made (including vector growth).
    pub fn total_allocations(&self) -> usize {
        self.scope.total()
    }

    /// The allocator this scope draws from.
    pub fn allocator(&self) -> &SmartAlloc {
        &self.alloc
    }
}

impl fmt::Debug for TaskAlloc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskAlloc")
            .field("live_allocations", &self.live_allocations())
            .field("live_bytes", &self.live_bytes())
            .finish()
    }
}

/// A scope guard over the pool tier: allocate through the guard, and everything is gone when the
/// guard drops (the guard borrows the allocator, so it is as cheap as a few counters).
///
/// ```
/// use framealloc::SmartAlloc;
/// use framealloc::task::AsyncPoolGuard;
///
/// fn work(alloc: &SmartAlloc, bail: bool) -> Option<u32> {
///     let guard = AsyncPoolGuard::new(alloc);
///     let mut rows = guard.pool_vec::<u32>();
///     rows.extend([1, 2, 3]);
///     if bail {
///         return None; // early return: `rows` drops, then the guard
///     }
///     Some(rows.iter().sum())
/// }
///
/// let alloc = SmartAlloc::new(Default::default());
/// assert_eq!(work(&alloc, true), None);
/// assert_eq!(work(&alloc, false), Some(6));
/// assert_eq!(alloc.stats().pool.live_count(), 0);
/// ```
pub struct AsyncPoolGuard<'a> {
    alloc: &'a SmartAlloc,
    scope: Scope,
}

impl<'a> AsyncPoolGuard<'a> {
    /// A guard over `alloc`'s pool tier.
    pub fn new(alloc: &'a SmartAlloc) -> Self {
        Self {
            alloc,
            scope: Scope::new(&alloc.inner().pool),
        }
    }

    /// Moves `value` into the pool tier for the life of the guard at most.
    ///
    /// # Panics
    /// As [`SmartAlloc::pool_box`].
    pub fn pool_box<T>(&self, value: T) -> PoolBox<'_, T> {
        self.scope.pool_box(value)
    }

    /// Like [`pool_box`](Self::pool_box), but gives the value back under a hard limit.
    pub fn try_pool_box<T>(&self, value: T) -> Result<PoolBox<'_, T>, AllocError<T>> {
        self.scope.try_pool_box(value)
    }

    /// An uninitialised pool block for one `T` ([`PoolBox::write`] fills it).
    pub fn pool_alloc<T>(&self) -> PoolBox<'_, MaybeUninit<T>> {
        self.pool_box(MaybeUninit::uninit())
    }

    /// An empty pool vector for the life of the guard at most.
    pub fn pool_vec<T>(&self) -> PoolVec<'_, T> {
        self.scope.pool_vec(0)
    }

    /// A pool vector with room for `capacity` elements.
    pub fn pool_vec_with_capacity<T>(&self, capacity: usize) -> PoolVec<'_, T> {
        self.scope.pool_vec(capacity)
    }

    /// Same as [`pool_box`](Self::pool_box) (upstream framealloc's name).
    pub fn alloc_box<T>(&self, value: T) -> PoolBox<'_, T> {
        self.pool_box(value)
    }

    /// Same as [`pool_vec`](Self::pool_vec) (upstream framealloc's name).
    pub fn alloc_vec<T>(&self) -> PoolVec<'_, T> {
        self.pool_vec()
    }

    /// The allocator this guard draws from.
    pub fn allocator(&self) -> &'a SmartAlloc {
        self.alloc
    }

    /// Pool blocks live through this guard right now.
    pub fn live_allocations(&self) -> usize {
        self.scope.live()
    }

    /// Bytes (block sizes) live through this guard right now.
    pub fn live_bytes(&self) -> usize {
        self.scope.live_bytes()
    }

    /// Blocks allocated through this guard since it was made (including vector growth).
    pub fn total_allocations(&self) -> usize {
        self.scope.total()
    }
}

impl fmt::Debug for AsyncPoolGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncPoolGuard")
            .field("live_allocations", &self.live_allocations())
            .field("live_bytes", &self.live_bytes())
            .finish()
    }
}
