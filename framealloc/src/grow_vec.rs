//! [`GrowVec`]: the growable vector both tiers hand out, generic over where its buffer lives.
//!
//! [`FrameVec`](crate::FrameVec) (`GrowVec<T, FrameStore>`) and [`PoolVec`](crate::PoolVec)
//! (`GrowVec<T, PoolStore>`) share every line of vector logic; a [`VecStore`] says only how a
//! buffer grows and how it is given back:
//!
//! * the frame store first tries to extend the buffer in place (it is often the arena's last
//!   allocation), otherwise bump-allocates a new one and abandons the old one until the frame
//!   ends; giving a buffer back does nothing;
//! * the pool store moves to the next size class (or the heap tier above 4096 bytes) and gives
//!   the old block back at once.
//!
//! # Invariants
//! * `ptr` is dangling-but-aligned while `cap == 0` or `T` is zero-sized (`cap == usize::MAX`);
//!   otherwise it is a live buffer from the store with the layout `Layout::array::<T>(cap)`.
//! * The `len` first elements are initialised; each is dropped exactly once (by `pop`, `clear`,
//!   `Drop`) or moved out (`leak`, `into_vec`). `clear` resets `len` to 0 before the destructors
//!   run: if one of them panics, the slice's drop glue still drops the remaining elements while
//!   unwinding, and since `len` is already 0 nothing is dropped twice. `Drop` gives the buffer
//!   back even then.

use core::alloc::Layout;
use core::fmt;
use core::marker::PhantomData;
use core::mem;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

/// A vector's buffer and its layout, when it has one.
pub(crate) type Buffer = Option<(NonNull<u8>, Layout)>;

/// Where a [`GrowVec`]'s buffer comes from: the frame arena or the pool tier. Sealed; the crate
/// implements it for its two stores.
pub trait VecStore: sealed::Store {}

pub(crate) mod sealed {
    use core::alloc::Layout;
    use core::ptr::NonNull;

    /// The store's operations, private to the crate.
    pub trait Store {
        /// Capacity of the first buffer for elements of `elem_size` (non-zero) bytes.
        fn first_capacity(elem_size: usize) -> usize;

        /// A buffer for `new`: `None` when `old` (the current buffer and its layout) grew in
        /// place, else the new buffer. Panics when the tier is exhausted under a hard limit.
        fn grow(&self, old: Option<(NonNull<u8>, Layout)>, new: Layout) -> Option<NonNull<u8>>;

        /// Gives a buffer back.
        ///
        /// # Safety
        /// `ptr` came from [`Store::grow`] of this store with `layout` and is no longer used.
        unsafe fn release(&self, ptr: NonNull<u8>, layout: Layout);
    }
}

/// A growable vector in a frame arena ([`FrameVec`](crate::FrameVec)) or in the pool tier
/// ([`PoolVec`](crate::PoolVec)).
///
/// ```
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let mut v = alloc.pool_vec::<u8>();
/// v.extend_from_slice(b"abc");
/// v.push(b'd');
/// assert_eq!(v.pop(), Some(b'd'));
/// assert_eq!(&v[..], b"abc");
/// ```
pub struct GrowVec<T, S: VecStore> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
    store: S,
    _owns: PhantomData<T>,
}

// SAFETY: the vector owns its elements like `Vec<T>`; moving it moves the store, which must be
// `Send` itself (the frame store is not: a frame belongs to one thread).
unsafe impl<T: Send, S: VecStore + Send> Send for GrowVec<T, S> {}
// SAFETY: `&GrowVec` only gives `&[T]` and `&S`.
unsafe impl<T: Sync, S: VecStore + Sync> Sync for GrowVec<T, S> {}

impl<T, S: VecStore> GrowVec<T, S> {
    pub(crate) fn new_in(store: S) -> Self {
        Self {
            ptr: NonNull::dangling(),
            len: 0,
            cap: if mem::size_of::<T>() == 0 {
                usize::MAX
            } else {
                0
            },
            store,
            _owns: PhantomData,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` when there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Elements the current buffer holds.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Appends an element, growing the buffer when it is full.
    ///
    /// # Panics
    /// When the tier is exhausted and the configuration forbids the fallback
    /// ([`Overflow::Error`](crate::Overflow::Error)).
    pub fn push(&mut self, value: T) {
        if self.len == self.cap {
            self.reserve(1);
        }
        // SAFETY: `len < cap`: the slot is inside the buffer.
        let slot = unsafe { self.ptr.add(self.len) };
        // SAFETY: the slot is inside the buffer, aligned and uninitialised.
        unsafe { slot.write(value) };
        self.len += 1;
    }

    /// Removes and returns the last element.
    pub fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        // SAFETY: the old `len - 1` is inside the buffer.
        let slot = unsafe { self.ptr.add(self.len) };
        // SAFETY: the element is initialised and now outside `len`: read exactly once.
        Some(unsafe { slot.read() })
    }

    /// Drops every element, keeping the buffer.
    pub fn clear(&mut self) {
        let len = mem::replace(&mut self.len, 0);
        let elems = ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), len);
        // SAFETY: the `len` first elements were initialised and are dropped only here. If a
        // destructor panics, the slice's drop glue still drops the remaining elements; `len` is
        // already 0, so nothing is dropped twice.
        unsafe { ptr::drop_in_place(elems) };
    }

    /// Makes room for at least `additional` more elements.
    ///
    /// # Panics
    /// As [`GrowVec::push`], and when the capacity overflows `usize`.
    pub fn reserve(&mut self, additional: usize) {
        let need = self.len.checked_add(additional).expect("capacity overflow");
        if need <= self.cap {
            return;
        }
        let first = S::first_capacity(mem::size_of::<T>());
        // Double (amortised O(1) pushes) unless the doubled buffer could not exist; then take
        // exactly what is needed, which may still be possible.
        let doubled = need.max(self.cap.saturating_mul(2)).max(first);
        let (new_cap, new_layout) = match Layout::array::<T>(doubled) {
            Ok(layout) => (doubled, layout),
            Err(_) => (need, Layout::array::<T>(need).expect("capacity overflow")),
        };
        let old = self.buffer();
        let Some(new) = self.store.grow(old, new_layout) else {
            self.cap = new_cap;
            return;
        };
        let new = new.cast::<T>();
        if let Some((old_ptr, old_layout)) = old {
            // SAFETY: both buffers are live and distinct; the `len` elements move to the new one.
            unsafe { ptr::copy_nonoverlapping(self.ptr.as_ptr(), new.as_ptr(), self.len) };
            // SAFETY: the old buffer came from `grow` with this layout and is no longer used.
            unsafe { self.store.release(old_ptr, old_layout) };
        }
        self.ptr = new;
        self.cap = new_cap;
    }

    /// The elements.
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `len` initialised elements at an aligned, non-null pointer.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// The elements, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as `as_slice`, borrowed mutably through `self`.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// The buffer and its layout, if one was allocated.
    fn buffer(&self) -> Buffer {
        if mem::size_of::<T>() == 0 || self.cap == 0 {
            return None;
        }
        let layout = Layout::array::<T>(self.cap).expect("layout was valid at allocation");
        Some((self.ptr.cast(), layout))
    }

    /// Takes the vector apart without dropping anything: the caller now owns the `len`
    /// initialised elements at the returned pointer, and the buffer (if any), which it gives
    /// back through the returned store's `release` or keeps until the frame ends.
    pub(crate) fn into_raw_parts(self) -> (NonNull<T>, usize, Buffer, S) {
        let this = mem::ManuallyDrop::new(self);
        let buffer = this.buffer();
        // SAFETY: `this` is never dropped, so the store is read out exactly once.
        let store = unsafe { ptr::read(&raw const this.store) };
        (this.ptr, this.len, buffer, store)
    }
}

impl<T: Clone, S: VecStore> GrowVec<T, S> {
    /// Appends clones of every element of `other`.
    pub fn extend_from_slice(&mut self, other: &[T]) {
        self.reserve(other.len());
        for v in other {
            self.push(v.clone());
        }
    }
}

impl<T, S: VecStore> Extend<T> for GrowVec<T, S> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.reserve(iter.size_hint().0);
        for v in iter {
            self.push(v);
        }
    }
}

impl<T, S: VecStore> Drop for GrowVec<T, S> {
    fn drop(&mut self) {
        struct ReleaseOnExit<'b, T, S: VecStore>(&'b GrowVec<T, S>);
        impl<T, S: VecStore> Drop for ReleaseOnExit<'_, T, S> {
            fn drop(&mut self) {
                if let Some((p, layout)) = self.0.buffer() {
                    // SAFETY: the buffer came from `grow` with this layout; its elements are
                    // gone and the vector is being dropped, so nothing uses it any more.
                    unsafe { self.0.store.release(p, layout) };
                }
            }
        }
        let elems = ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len);
        let _guard = ReleaseOnExit(self);
        // SAFETY: the `len` first elements are initialised and dropped only here; the buffer is
        // given back afterwards by `_guard`, even if a destructor panics.
        unsafe { ptr::drop_in_place(elems) };
    }
}

impl<T, S: VecStore> Deref for GrowVec<T, S> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T, S: VecStore> DerefMut for GrowVec<T, S> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: fmt::Debug, S: VecStore> fmt::Debug for GrowVec<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
