//! Owning handles into the pool tier: [`PoolBox`] (one value) and [`PoolVec`] (a growable
//! vector), plus the [`Scope`] counters that [`TaskAlloc`](crate::task::TaskAlloc) and
//! [`AsyncPoolGuard`](crate::task::AsyncPoolGuard) attach to the handles they hand out.
//!
//! # Invariants
//! * A handle borrows the allocator (`'a`), so the pool outlives it.
//! * `ptr` is either dangling-but-aligned (zero-sized `T`, or a vector with no buffer: nothing
//!   was allocated and nothing is freed) or a live block from `Pool::alloc` for exactly the
//!   layout the handle recomputes on free (`Layout::new::<T>()`, `Layout::array::<T>(cap)`).
//! * The value (or the `len` first elements) is initialised; it is dropped exactly once, by the
//!   handle's `Drop` or moved out by `into_inner` / `into_vec` / `pop`. The block is given back
//!   even when a destructor panics.

use core::alloc::Layout;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop, MaybeUninit};
use core::num::NonZeroUsize;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};
use std::vec::Vec;

use sync_core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::AllocError;
use crate::grow_vec::{GrowVec, VecStore, sealed};
use crate::pool::{Pool, charged_bytes};

/// Per-scope counters of a `TaskAlloc` / `AsyncPoolGuard`: what is live through it right now,
/// and the pool it draws from.
#[cfg_attr(not(feature = "task"), allow(dead_code))]
pub(crate) struct Scope {
    /// The pool: inside the allocator's `Arc`, which the scope's owner keeps alive (a
    /// `TaskAlloc` owns a handle, an `AsyncPoolGuard` borrows one), so it outlives the scope.
    pool: NonNull<Pool>,
    live: AtomicUsize,
    live_bytes: AtomicUsize,
    total: AtomicUsize,
}

// SAFETY: the counters are atomics and `pool` points to a `Pool`, which is `Sync`; the scope
// only ever hands out `&Pool`, so sharing or sending it is as safe as sharing `&Pool`.
unsafe impl Send for Scope {}
// SAFETY: as above.
unsafe impl Sync for Scope {}

#[cfg_attr(not(feature = "task"), allow(dead_code))]
impl Scope {
    /// A scope over `pool`; the caller keeps the pool alive for as long as the scope.
    pub(crate) fn new(pool: &Pool) -> Self {
        Self {
            pool: NonNull::from(pool),
            live: AtomicUsize::new(0),
            live_bytes: AtomicUsize::new(0),
            total: AtomicUsize::new(0),
        }
    }

    // The counters are `Relaxed`: they publish no memory, only numbers (see `stats.rs`).
    fn on_alloc(&self, bytes: usize) {
        self.live.fetch_add(1, Relaxed);
        self.live_bytes.fetch_add(bytes, Relaxed);
        self.total.fetch_add(1, Relaxed);
    }

    fn on_free(&self, bytes: usize) {
        self.live.fetch_sub(1, Relaxed);
        self.live_bytes.fetch_sub(bytes, Relaxed);
    }

    pub(crate) fn live(&self) -> usize {
        self.live.load(Relaxed)
    }

    pub(crate) fn live_bytes(&self) -> usize {
        self.live_bytes.load(Relaxed)
    }

    pub(crate) fn total(&self) -> usize {
        self.total.load(Relaxed)
    }

    /// Moves `value` into the pool tier, charged to this scope.
    ///
    /// # Panics
    /// As [`SmartAlloc::pool_box`](crate::SmartAlloc::pool_box).
    pub(crate) fn pool_box<T>(&self, value: T) -> PoolBox<'_, T> {
        self.try_pool_box(value)
            .unwrap_or_else(|_| crate::smart::too_large(Layout::new::<T>()))
    }

    /// Like [`Scope::pool_box`], but gives the value back under a hard limit.
    pub(crate) fn try_pool_box<T>(&self, value: T) -> Result<PoolBox<'_, T>, AllocError<T>> {
        PoolBox::try_new_in(Home::scoped(self), value).map_err(AllocError)
    }

    /// A pool vector charged to this scope, with room for `capacity` elements.
    pub(crate) fn pool_vec<T>(&self, capacity: usize) -> PoolVec<'_, T> {
        let mut v = PoolVec::in_pool(Home::scoped(self));
        v.reserve(capacity);
        v
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope").field("live", &self.live()).finish()
    }
}

/// Where a handle gives its memory back, in one word: a `&'a Pool` (low bit clear) or a
/// `&'a Scope` (low bit set), whose pool it uses and whose counters it updates. Both types are
/// at least 8-aligned, so the low bit of their address is free.
#[derive(Clone, Copy)]
pub(crate) struct Home<'a> {
    tagged: NonNull<u8>,
    _refs: PhantomData<(&'a Pool, &'a Scope)>,
}

const _: () = assert!(mem::align_of::<Pool>() >= 2 && mem::align_of::<Scope>() >= 2);

impl<'a> Home<'a> {
    pub(crate) fn pool(pool: &'a Pool) -> Self {
        Self {
            tagged: NonNull::from(pool).cast(),
            _refs: PhantomData,
        }
    }

    #[cfg_attr(not(feature = "task"), allow(dead_code))]
    pub(crate) fn scoped(scope: &'a Scope) -> Self {
        Self {
            tagged: NonNull::from(scope).cast::<u8>().map_addr(|a| a | 1),
            _refs: PhantomData,
        }
    }

    #[inline]
    fn resolve(self) -> (&'a Pool, Option<&'a Scope>) {
        if self.tagged.addr().get() & 1 == 0 {
            // SAFETY: an untagged pointer came from `&'a Pool` in `Home::pool`.
            (unsafe { self.tagged.cast::<Pool>().as_ref() }, None)
        } else {
            let untagged = self.tagged.map_addr(|a| {
                // The address was a scope's (non-zero, even) before the tag was set.
                NonZeroUsize::new(a.get() & !1).unwrap_or(a)
            });
            // SAFETY: a tagged pointer came from `&'a Scope` in `Home::scoped`; clearing the
            // tag gives that reference's address back, with its provenance.
            let scope = unsafe { untagged.cast::<Scope>().as_ref() };
            // SAFETY: the scope's pool outlives the scope (`Scope::new`'s contract).
            (unsafe { scope.pool.as_ref() }, Some(scope))
        }
    }

    #[inline]
    fn alloc(self, layout: Layout) -> Option<NonNull<u8>> {
        let (pool, scope) = self.resolve();
        let p = pool.alloc(layout)?;
        if let Some(s) = scope {
            s.on_alloc(charged_bytes(layout));
        }
        Some(p)
    }

    /// # Safety
    /// As [`Pool::dealloc`].
    #[inline]
    unsafe fn dealloc(self, p: NonNull<u8>, layout: Layout) {
        let (pool, scope) = self.resolve();
        // SAFETY: forwarded from the caller.
        unsafe { pool.dealloc(p, layout) };
        if let Some(s) = scope {
            s.on_free(charged_bytes(layout));
        }
    }
}

/// A value in the pool tier (or the heap tier when it is larger than 4096 bytes); dropping the
/// box drops the value and gives its block back, from any thread.
///
/// Made by [`SmartAlloc::pool_box`](crate::SmartAlloc::pool_box),
/// [`TaskAlloc::alloc_box`](crate::task::TaskAlloc::alloc_box) and
/// [`AsyncPoolGuard::alloc_box`](crate::task::AsyncPoolGuard::alloc_box).
///
/// ```
/// use framealloc::SmartAlloc;
///
/// let alloc = SmartAlloc::new(Default::default());
/// let mut b = alloc.pool_box(String::from("hi"));
/// b.push('!');
/// assert_eq!(*b, "hi!");
/// assert_eq!(b.into_inner(), "hi!");
/// assert_eq!(alloc.stats().pool.live_count(), 0);
/// ```
pub struct PoolBox<'a, T> {
    ptr: NonNull<T>,
    home: Home<'a>,
    _owns: PhantomData<T>,
}

// SAFETY: the box owns its `T` like `Box<T>`; the pool and scope it refers to are `Sync`.
unsafe impl<T: Send> Send for PoolBox<'_, T> {}
// SAFETY: `&PoolBox<T>` only gives `&T`.
unsafe impl<T: Sync> Sync for PoolBox<'_, T> {}

impl<'a, T> PoolBox<'a, T> {
    /// Moves `value` into a new block; gives it back if the tier refuses the layout.
    pub(crate) fn try_new_in(home: Home<'a>, value: T) -> Result<Self, T> {
        let layout = Layout::new::<T>();
        let ptr = if layout.size() == 0 {
            NonNull::dangling()
        } else {
            match home.alloc(layout) {
                Some(p) => p.cast::<T>(),
                None => return Err(value),
            }
        };
        // SAFETY: `ptr` is a fresh block for `T` (or dangling and aligned for a zero-sized `T`).
        unsafe { ptr.write(value) };
        Ok(Self {
            ptr,
            home,
            _owns: PhantomData,
        })
    }

    /// Moves the value out and gives the block back.
    pub fn into_inner(self) -> T {
        let this = ManuallyDrop::new(self);
        // SAFETY: the value is initialised; `this` is never dropped, so it is read only once.
        let value = unsafe { this.ptr.read() };
        this.free_block();
        value
    }

    /// The address of the value (stable for the life of the box).
    pub fn as_ptr(this: &Self) -> *const T {
        this.ptr.as_ptr()
    }

    fn free_block(&self) {
        let layout = Layout::new::<T>();
        if layout.size() != 0 {
            // SAFETY: the block came from `home.alloc(layout)` in `try_new_in`, and the box
            // (the only user) is being destroyed.
            unsafe { self.home.dealloc(self.ptr.cast(), layout) };
        }
    }
}

impl<'a, T> PoolBox<'a, MaybeUninit<T>> {
    /// Initialises the block (from [`SmartAlloc::pool_alloc`](crate::SmartAlloc::pool_alloc)).
    pub fn write(self, value: T) -> PoolBox<'a, T> {
        let this = ManuallyDrop::new(self);
        // SAFETY: the block has room for a `T` (same layout as `MaybeUninit<T>`).
        unsafe { this.ptr.cast::<T>().write(value) };
        PoolBox {
            ptr: this.ptr.cast(),
            home: this.home,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for PoolBox<'_, T> {
    fn drop(&mut self) {
        struct FreeOnExit<'b, 'a, T>(&'b PoolBox<'a, T>);
        impl<T> Drop for FreeOnExit<'_, '_, T> {
            fn drop(&mut self) {
                self.0.free_block();
            }
        }
        let guard = FreeOnExit(self);
        // SAFETY: the value is initialised and dropped only here; the block is freed after it
        // by `guard`, even if the destructor panics.
        unsafe { ptr::drop_in_place(guard.0.ptr.as_ptr()) };
    }
}

impl<T> Deref for PoolBox<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the value is initialised and owned by the box.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> DerefMut for PoolBox<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the value is initialised and owned by the box, borrowed mutably through it.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T: fmt::Debug> fmt::Debug for PoolBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The pool tier as the store of a [`PoolVec`]: a growing buffer moves to the next size class
/// (or to the heap tier above 4096 bytes) and gives the old block back at once.
#[derive(Clone, Copy)]
pub struct PoolStore<'a>(Home<'a>);

impl fmt::Debug for PoolStore<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PoolStore")
    }
}

impl VecStore for PoolStore<'_> {}

impl sealed::Store for PoolStore<'_> {
    fn first_capacity(elem_size: usize) -> usize {
        (MIN_BYTES / elem_size).max(1)
    }

    fn grow(&self, _old: Option<(NonNull<u8>, Layout)>, new: Layout) -> Option<NonNull<u8>> {
        let Some(p) = self.0.alloc(new) else {
            panic!(
                "PoolVec: {} bytes exceed the pool tier's hard limit",
                new.size()
            )
        };
        Some(p)
    }

    unsafe fn release(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded from the caller: the block came from `grow`, so from `Home::alloc`.
        unsafe { self.0.dealloc(ptr, layout) };
    }
}

// SAFETY: a `Home` refers to a `Pool` or `Scope`, both `Sync`; the store only calls their
// thread-safe `alloc` / `dealloc`.
unsafe impl Send for PoolStore<'_> {}
// SAFETY: as above.
unsafe impl Sync for PoolStore<'_> {}

/// A growable vector in the pool tier: it moves to the next size class as it grows, and to the
/// heap tier above 4096 bytes. Dropping it drops the elements and gives the block back. The
/// methods are [`GrowVec`]'s.
///
/// ```
/// use framealloc::SmartAlloc;
///
/// let alloc = SmartAlloc::new(Default::default());
/// let mut v = alloc.pool_vec::<u32>();
/// v.extend(0..10);
/// assert_eq!(v.iter().sum::<u32>(), 45);
/// assert_eq!(alloc.stats().pool.live_count(), 1);
/// let std_vec = v.into_vec();
/// assert_eq!(std_vec.len(), 10);
/// assert_eq!(alloc.stats().pool.live_count(), 0);
/// ```
pub type PoolVec<'a, T> = GrowVec<T, PoolStore<'a>>;

impl<'a, T> GrowVec<T, PoolStore<'a>> {
    pub(crate) fn in_pool(home: Home<'a>) -> Self {
        Self::new_in(PoolStore(home))
    }

    /// Moves the elements into a `std` `Vec` (one copy) and gives the block back.
    pub fn into_vec(self) -> Vec<T> {
        let (ptr, len, buffer, store) = self.into_raw_parts();
        let mut out = Vec::with_capacity(len);
        // SAFETY: the `len` elements are initialised and move to `out`, whose capacity is
        // enough; the vector was taken apart without dropping them, so they live on only here.
        unsafe { ptr::copy_nonoverlapping(ptr.as_ptr(), out.as_mut_ptr(), len) };
        // SAFETY: the `len` first slots of `out` were just initialised.
        unsafe { out.set_len(len) };
        if let Some((p, layout)) = buffer {
            // SAFETY: the block came from the store with this layout and its elements moved out.
            unsafe { sealed::Store::release(&store, p, layout) };
        }
        out
    }
}

/// Smallest buffer a growing vector takes (the smallest block).
const MIN_BYTES: usize = crate::pool::MIN_BLOCK;
