//! [`Box<P>`]: an owning pointer to a value in a slot of pool `P`, and [`NewAsync`], the future
//! that waits for a slot.
//!
//! A `Box` is one `NonNull<T>`: the pool is known from the type `P`, and the slot index from the
//! address (for zero-sized `T` the address encodes the index, see
//! [`PoolStorage`](crate::PoolStorage)). Dropping a `Box` drops the value and then releases the
//! slot, through a guard so that a panicking `Drop` of `T` still releases it.
//!
//! [`NewAsync`] holds either the value ([`Box::new_async`]) or a constructor
//! ([`Box::new_async_with`]) and an [`AcquireState`]: not started → queued (holding a ticket) →
//! done. Dropping it while queued cancels the ticket; a slot that was handed to it meanwhile is
//! released again (to the next waiter, or back to the pool). The value or constructor is dropped
//! exactly once: with the future, or consumed when the `Box` is built.

use core::cmp::Ordering;
use core::fmt;
use core::future::Future;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;
use core::ptr::NonNull;
use core::task::{Context, Poll};

use crate::storage::AcquireState;
use crate::{Pool, Storage};

/// A value in a slot of pool `P`, with the API of `std`'s `Box` (see the [crate docs](crate)).
///
/// One pointer wide, and `Option<Box<P>>` too. `Send` and `Sync` exactly when `P::Item` is.
///
/// # Examples
///
/// ```
/// use pool::{Box, Pool, pool};
///
/// pool!(Numbers: [u32; 2]);
///
/// let a = Box::<Numbers>::new(1).unwrap();
/// let mut b = Box::<Numbers>::new(2).unwrap();
/// assert!(Box::<Numbers>::new(3).is_none(), "two slots only");
/// *b += 40;
/// assert_eq!(*a + *b, 43);
/// drop(a);
/// assert_eq!(Numbers::free_slots(), 1);
/// assert_eq!(Box::<Numbers>::try_new(4).map(|b| *b), Ok(4));
/// ```
///
/// A `Box` of a `!Send` item is not `Send`:
///
/// ```compile_fail
/// use pool::{Box, pool};
/// pool!(Rcs: [std::rc::Rc<u8>; 1]);
/// fn send<T: Send>(_: T) {}
/// send(Box::<Rcs>::new(std::rc::Rc::new(1)));
/// ```
///
/// nor `Sync` for a `!Sync` item:
///
/// ```compile_fail
/// use pool::{Box, pool};
/// pool!(Cells: [std::cell::Cell<u8>; 1]);
/// fn sync<T: Sync>(_: &T) {}
/// sync(&Box::<Cells>::new(std::cell::Cell::new(1)));
/// ```
pub struct Box<P: Pool> {
    ptr: NonNull<P::Item>,
    _owns: PhantomData<P::Item>,
}

// SAFETY: a Box owns its value exclusively (like std's Box), so sending it sends the value; the
// slot bookkeeping is thread-safe (PoolStorage is Sync).
unsafe impl<P: Pool> Send for Box<P> where P::Item: Send {}

// SAFETY: `&Box` only gives `&T`.
unsafe impl<P: Pool> Sync for Box<P> where P::Item: Sync {}

/// Releases a slot when dropped: keeps a slot from leaking when a constructor or `Drop` panics.
struct ReleaseGuard<P: Pool> {
    index: usize,
    _pool: PhantomData<P>,
}

impl<P: Pool> Drop for ReleaseGuard<P> {
    fn drop(&mut self) {
        // SAFETY: the guard is made only for a slot its creator owns and that holds no value (the
        // value was never written, or has been dropped in place, or is being dropped and its
        // `Drop` panicked, after which the value counts as dropped).
        unsafe { P::get().release(self.index) };
    }
}

impl<P: Pool> Box<P> {
    /// Puts `value` in a free slot; `None` (dropping `value`) when every slot is taken.
    ///
    /// Lock-free: one load and one `fetch_or` when a slot is free in the first bitmap word.
    #[inline]
    #[must_use]
    pub fn new(value: P::Item) -> Option<Self> {
        Self::try_new(value).ok()
    }

    /// Puts `value` in a free slot, or gives it back when every slot is taken.
    ///
    /// # Errors
    ///
    /// `Err(value)` when the pool is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool::{Box, pool};
    ///
    /// pool!(One: [String; 1]);
    ///
    /// let first = Box::<One>::try_new("first".to_string()).unwrap();
    /// let back = Box::<One>::try_new("second".to_string()).unwrap_err();
    /// assert_eq!((first.as_str(), back.as_str()), ("first", "second"));
    /// ```
    #[inline]
    pub fn try_new(value: P::Item) -> Result<Self, P::Item> {
        match P::get().try_acquire() {
            // SAFETY: `try_acquire` gave us this slot and it holds no value.
            Some(index) => Ok(unsafe { Self::fill(index, || value) }),
            None => Err(value),
        }
    }

    /// Waits for a free slot and puts `value` in it.
    ///
    /// Resolves to `None` **at once** (without waiting) when no slot is free and all `W` waiter
    /// places are taken (`W = 0` for `pool!(P: [T; N])`). Waiters are served first come, first
    /// served (see the crate docs for the exact guarantee). The future carries `value` until it
    /// completes; [`new_async_with`](Self::new_async_with) avoids that. Dropping the future drops
    /// `value` and gives up its place in the queue without losing a slot.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::block_on;
    /// use pool::{Box, pool};
    ///
    /// pool!(Buffers: [[u8; 64]; 1], 2);
    ///
    /// let held = Box::<Buffers>::new([1; 64]).unwrap();
    /// let waiter = std::thread::spawn(|| block_on(Box::<Buffers>::new_async([2; 64])));
    /// while Buffers::waiting() == 0 {
    ///     std::thread::yield_now();
    /// }
    /// drop(held); // the slot goes straight to the waiter
    /// assert_eq!(waiter.join().unwrap().unwrap()[0], 2);
    /// # use pool::Pool;
    /// ```
    pub fn new_async(value: P::Item) -> NewAsync<P, impl FnOnce() -> P::Item> {
        Self::new_async_with(move || value)
    }

    /// Waits for a free slot, then calls `init` and puts its result in the slot.
    ///
    /// Like [`new_async`](Self::new_async), but the future carries only `init`, not a `T`, and the
    /// value is built in the slot's owner after the slot is secured. If `init` panics, the slot is
    /// released.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::block_on;
    /// use pool::{Box, pool};
    ///
    /// pool!(Pages: [[u8; 4096]; 1], 1);
    ///
    /// let fut = Box::<Pages>::new_async_with(|| [0xAA; 4096]);
    /// assert!(size_of_val(&fut) < 64, "the page is not carried by the future");
    /// let page = block_on(fut).unwrap();
    /// assert_eq!(page[4095], 0xAA);
    /// ```
    pub fn new_async_with<F: FnOnce() -> P::Item>(init: F) -> NewAsync<P, F> {
        NewAsync {
            init: Some(init),
            state: AcquireState::default(),
            _pool: PhantomData,
        }
    }

    /// Builds the value with `init` and writes it into slot `index`.
    ///
    /// # Safety
    ///
    /// The caller owns slot `index` of `P` (handed out by its storage, so below `N`), which holds
    /// no value; ownership passes to the returned `Box`.
    unsafe fn fill(index: usize, init: impl FnOnce() -> P::Item) -> Self {
        let guard = ReleaseGuard::<P> {
            index,
            _pool: PhantomData,
        };
        let value = init();
        let storage = P::get();
        // SAFETY: slot indices handed out by the storage are below N.
        let ptr = unsafe { storage.slot(index) };
        storage.track_access(index);
        // SAFETY: we own the slot (caller's contract), so nothing else reads or writes it; `ptr`
        // is valid and aligned for a `T`.
        unsafe { ptr.write(value) };
        core::mem::forget(guard);
        Self {
            ptr,
            _owns: PhantomData,
        }
    }

    /// Consumes the `Box` and returns the pointer to its value, keeping the slot taken.
    ///
    /// Turn it back into a `Box` with [`from_raw`](Self::from_raw), or the slot stays taken for
    /// good.
    #[must_use = "the slot stays taken until the pointer is passed to `Box::from_raw`"]
    pub fn into_raw(b: Self) -> NonNull<P::Item> {
        ManuallyDrop::new(b).ptr
    }

    /// Rebuilds a `Box` from a pointer returned by [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    ///
    /// `ptr` must come from `Box::<P>::into_raw` of **the same pool `P`**, and must not have been
    /// passed to `from_raw` since. Debug builds check that `ptr` lies on a slot of `P` and panic
    /// with a descriptive message otherwise; release builds do not check.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool::{Box, pool};
    ///
    /// pool!(P: [u8; 1]);
    /// let raw = Box::into_raw(Box::<P>::new(7).unwrap());
    /// // SAFETY: `raw` came from `into_raw` of the same pool, once.
    /// let b = unsafe { Box::<P>::from_raw(raw) };
    /// assert_eq!(*b, 7);
    /// ```
    #[must_use]
    pub unsafe fn from_raw(ptr: NonNull<P::Item>) -> Self {
        let _ = P::get().index_of(ptr);
        Self {
            ptr,
            _owns: PhantomData,
        }
    }

    /// Moves the value out and frees the slot.
    ///
    /// # Examples
    ///
    /// ```
    /// use pool::{Box, Pool, pool};
    ///
    /// pool!(P: [String; 1]);
    /// let s = Box::into_inner(Box::<P>::new("x".into()).unwrap());
    /// assert_eq!((s.as_str(), P::free_slots()), ("x", 1));
    /// ```
    pub fn into_inner(b: Self) -> P::Item {
        let storage = P::get();
        let ptr = Self::into_raw(b);
        let index = storage.index_of(ptr);
        // SAFETY: a Box points into a slot of its pool (type invariant; `from_raw`'s contract).
        unsafe { core::hint::assert_unchecked(index < storage.capacity()) };
        storage.track_access(index);
        // SAFETY: the Box owned an initialised value in this slot; reading it moves it out, and
        // the slot is released right after without dropping it again.
        let value = unsafe { ptr.read() };
        // SAFETY: we owned the slot (through the Box) and it no longer holds a value.
        unsafe { storage.release(index) };
        value
    }

    /// A raw pointer to the value, without consuming the `Box`.
    #[must_use]
    pub fn as_ptr(b: &Self) -> NonNull<P::Item> {
        b.ptr
    }

    /// Pins the value in its slot: it will not move until it is dropped there, so a `!Unpin`
    /// value (a future that borrows from itself, an intrusive list node) can live in a pool.
    ///
    /// Like `std`'s `Box::into_pin`; `Pin::from(b)` does the same.
    ///
    /// ```
    /// use core::pin::Pin;
    /// use futures_lite::future::block_on;
    /// use pool::{Box, pool};
    ///
    /// pool!(Futures: [core::future::Ready<u32>; 2]);
    ///
    /// let mut pinned: Pin<Box<Futures>> = Box::into_pin(Box::new(core::future::ready(7)).unwrap());
    /// assert_eq!(block_on(pinned.as_mut()), 7);
    /// ```
    #[must_use]
    pub fn into_pin(b: Self) -> Pin<Self> {
        // SAFETY: the value stays at its slot's address until the `Box` drops it in place: a
        // `Box` never moves its value, and moving it out (`into_inner`) needs the `Box` by value,
        // which a `Pin<Box>` does not give. The slot is released (and may be reused) only after
        // the value's `Drop` ran, so the pinning guarantee holds up to the drop.
        unsafe { Pin::new_unchecked(b) }
    }

    /// Takes a free slot for `value` and pins it there; `None` (dropping `value`) when no slot is
    /// free. [`new_async`](Self::new_async) + [`into_pin`](Self::into_pin) wait for a slot.
    #[must_use]
    pub fn pin(value: P::Item) -> Option<Pin<Self>> {
        Self::new(value).map(Self::into_pin)
    }
}

impl<P: Pool> From<Box<P>> for Pin<Box<P>> {
    /// See [`Box::into_pin`].
    fn from(b: Box<P>) -> Self {
        Box::into_pin(b)
    }
}

// SAFETY: the value lives in a slot of a `static` pool and never moves while the `Box` exists:
// moving the `Box` moves only the pointer, so the address `Deref` returns is stable (what
// `StableDeref` requires, for DMA buffers and self-referencing wrappers).
#[cfg(feature = "stable_deref_trait")]
unsafe impl<P: Pool> stable_deref_trait::StableDeref for Box<P> {}

#[cfg(feature = "defmt")]
impl<P: Pool> defmt::Format for Box<P>
where
    P::Item: defmt::Format,
{
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::Format::format(&**self, f);
    }
}

impl<P: Pool> Drop for Box<P> {
    fn drop(&mut self) {
        let storage = P::get();
        let index = storage.index_of(self.ptr);
        // SAFETY: a Box points into a slot of its pool (type invariant; `from_raw`'s contract).
        // Telling the compiler lets it drop the bounds check of the bitmap word.
        unsafe { core::hint::assert_unchecked(index < storage.capacity()) };
        // Releases the slot even if `T::drop` panics.
        let _guard = ReleaseGuard::<P> {
            index,
            _pool: PhantomData,
        };
        storage.track_access(index);
        // SAFETY: the Box owns an initialised value at `ptr`, dropped exactly once here.
        unsafe { self.ptr.drop_in_place() };
    }
}

impl<P: Pool> Deref for Box<P> {
    type Target = P::Item;

    #[inline]
    fn deref(&self) -> &P::Item {
        // SAFETY: the Box owns an initialised value at `ptr`; `&self` keeps it borrowed.
        unsafe { self.ptr.as_ref() }
    }
}

impl<P: Pool> DerefMut for Box<P> {
    #[inline]
    fn deref_mut(&mut self) -> &mut P::Item {
        // SAFETY: the Box owns the value exclusively; `&mut self` keeps it uniquely borrowed.
        unsafe { self.ptr.as_mut() }
    }
}

impl<P: Pool> AsRef<P::Item> for Box<P> {
    fn as_ref(&self) -> &P::Item {
        self
    }
}

impl<P: Pool> AsMut<P::Item> for Box<P> {
    fn as_mut(&mut self) -> &mut P::Item {
        self
    }
}

impl<P: Pool> fmt::Debug for Box<P>
where
    P::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        P::Item::fmt(self, f)
    }
}

impl<P: Pool> fmt::Display for Box<P>
where
    P::Item: fmt::Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        P::Item::fmt(self, f)
    }
}

impl<P: Pool> fmt::Pointer for Box<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr, f)
    }
}

impl<P: Pool> PartialEq for Box<P>
where
    P::Item: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        P::Item::eq(self, other)
    }
}

impl<P: Pool> Eq for Box<P> where P::Item: Eq {}

impl<P: Pool> PartialOrd for Box<P>
where
    P::Item: PartialOrd,
{
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        P::Item::partial_cmp(self, other)
    }
}

impl<P: Pool> Ord for Box<P>
where
    P::Item: Ord,
{
    fn cmp(&self, other: &Self) -> Ordering {
        P::Item::cmp(self, other)
    }
}

impl<P: Pool> Hash for Box<P>
where
    P::Item: Hash,
{
    fn hash<H: Hasher>(&self, state: &mut H) {
        P::Item::hash(self, state);
    }
}

impl<P: Pool> Unpin for Box<P> {}

/// The future of [`Box::new_async`] and [`Box::new_async_with`]: resolves to a `Box` once a slot
/// is free, or to `None` at once if it cannot queue.
///
/// It holds the value (or its constructor `F`) and its place in the waiter queue; dropping it
/// before it completes cancels both (see the crate docs, "Guarantees").
#[must_use = "futures do nothing unless polled"]
pub struct NewAsync<P: Pool, F: FnOnce() -> P::Item> {
    init: Option<F>,
    state: AcquireState,
    _pool: PhantomData<P>,
}

// Never pinned structurally: `init` is moved out by value and nothing points into the future.
impl<P: Pool, F: FnOnce() -> P::Item> Unpin for NewAsync<P, F> {}

impl<P: Pool, F: FnOnce() -> P::Item> Future for NewAsync<P, F> {
    type Output = Option<Box<P>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        // SAFETY: `this.state` is this future's own, used with `P`'s storage only.
        let acquired = match unsafe { P::get().poll_acquire(&mut this.state, cx.waker()) } {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(acquired) => acquired,
        };
        let init = this.init.take();
        let Some(index) = acquired else {
            // No slot and no waiter place: the value is dropped now, once.
            drop(init);
            return Poll::Ready(None);
        };
        let Some(init) = init else {
            unreachable!("poll_acquire completes once")
        };
        // SAFETY: `poll_acquire` gave us slot `index`; it holds no value.
        Poll::Ready(Some(unsafe { Box::fill(index, init) }))
    }
}

impl<P: Pool, F: FnOnce() -> P::Item> Drop for NewAsync<P, F> {
    #[inline]
    fn drop(&mut self) {
        // Only a future still queued has anything to give up; the others drop for free.
        if self.state.is_queued() {
            // SAFETY: `self.state` is this future's own, used with `P`'s storage only.
            unsafe { P::get().abandon(&mut self.state) };
        }
    }
}

impl<P: Pool, F: FnOnce() -> P::Item> fmt::Debug for NewAsync<P, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAsync")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}
