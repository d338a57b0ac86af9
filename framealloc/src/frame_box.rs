//! Handles to frame memory: [`FrameBox`] (one value) and [`FrameVec`] (a growable vector).
//!
//! Both borrow the [`Frame`] token they were allocated from, so they cannot outlive the frame,
//! and both are `!Send`/`!Sync` (the frame belongs to one thread). They run the destructor of
//! what they hold when they drop; the memory itself is reclaimed all at once when the frame ends.
//!
//! `FrameVec` grows in place while its buffer is the last allocation of the arena (the common
//! "build a list, then use it" pattern costs no copy); otherwise it moves to a new buffer twice as
//! large and the old one stays unused until the frame ends, as in any bump allocator.

use core::alloc::Layout;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

use crate::frame::{Frame, exhausted};

/// A value in the frame arena, dropped when the box drops. See [`Frame::frame_box`].
///
/// ```
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// let mut b = frame.frame_box([0u64; 4]);
/// b[1] = 7;
/// assert_eq!(b.iter().sum::<u64>(), 7);
/// ```
pub struct FrameBox<'f, T> {
    ptr: NonNull<T>,
    _marker: PhantomData<(&'f mut T, *const ())>,
}

impl<'f, T> FrameBox<'f, T> {
    pub(crate) fn new(value: &'f mut T) -> Self {
        Self {
            ptr: NonNull::from(value),
            _marker: PhantomData,
        }
    }

    /// Moves the value out (the memory is reclaimed when the frame ends).
    pub fn into_inner(self) -> T {
        let this = ManuallyDrop::new(self);
        // SAFETY: the value is initialised and, since `this` is never dropped, read only once.
        unsafe { this.ptr.read() }
    }

    /// Gives up the box and returns a reference for the rest of the frame; the value's
    /// destructor will not run.
    pub fn leak(self) -> &'f mut T {
        let this = ManuallyDrop::new(self);
        // SAFETY: the value is initialised, lives until the frame ends (`'f`), and the box that
        // owned it is gone, so this is the only reference.
        unsafe { &mut *this.ptr.as_ptr() }
    }
}

impl<T> Drop for FrameBox<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the value is initialised and dropped only here.
        unsafe { ptr::drop_in_place(self.ptr.as_ptr()) };
    }
}

impl<T> Deref for FrameBox<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the box owns an initialised value that lives until the frame ends.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> DerefMut for FrameBox<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as `deref`, borrowed mutably through the box.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T: fmt::Debug> fmt::Debug for FrameBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A growable vector in the frame arena. See [`Frame::frame_vec`].
///
/// ```
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// let mut v = frame.frame_vec();
/// for i in 0..100u32 {
///     v.push(i);
/// }
/// assert_eq!(v.len(), 100);
/// assert_eq!(v[99], 99);
/// ```
pub struct FrameVec<'f, T> {
    ptr: NonNull<T>,
    len: usize,
    cap: usize,
    frame: &'f Frame<'f>,
    _owns: PhantomData<T>,
}

impl<'f, T> FrameVec<'f, T> {
    pub(crate) fn new_in(frame: &'f Frame<'_>) -> Self {
        Self {
            ptr: NonNull::dangling(),
            len: 0,
            cap: if mem::size_of::<T>() == 0 {
                usize::MAX
            } else {
                0
            },
            frame,
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

    /// Appends an element.
    ///
    /// # Panics
    /// When the arena is full and the frame tier has a hard limit
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
        // SAFETY: the `len` first elements were initialised; `len` is already 0, so a panicking
        // destructor leaks the rest instead of dropping them twice.
        unsafe { ptr::drop_in_place(elems) };
    }

    /// Makes room for at least `additional` more elements.
    pub fn reserve(&mut self, additional: usize) {
        let need = self.len.checked_add(additional).expect("capacity overflow");
        if need <= self.cap {
            return;
        }
        let new_cap = need.max(self.cap.saturating_mul(2)).max(4);
        let new_layout = Layout::array::<T>(new_cap).expect("capacity overflow");
        let old_bytes = self.cap * mem::size_of::<T>();
        if self.cap != 0
            && self
                .frame
                .arena()
                .try_extend(self.ptr.cast(), old_bytes, new_layout.size())
        {
            self.cap = new_cap;
            return;
        }
        let new = self
            .frame
            .alloc_layout(new_layout)
            .unwrap_or_else(|| exhausted())
            .cast::<T>();
        // SAFETY: both buffers are live and distinct; the `len` elements move to the new one
        // (the old buffer is abandoned until the frame ends).
        unsafe { ptr::copy_nonoverlapping(self.ptr.as_ptr(), new.as_ptr(), self.len) };
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

    /// Gives up the vector and returns its elements for the rest of the frame; their
    /// destructors will not run.
    pub fn leak(self) -> &'f mut [T] {
        let this = ManuallyDrop::new(self);
        // SAFETY: `len` initialised elements that live until the frame ends (`'f`); the vector
        // that owned them is gone, so this is the only reference.
        unsafe { core::slice::from_raw_parts_mut(this.ptr.as_ptr(), this.len) }
    }
}

impl<T: Clone> FrameVec<'_, T> {
    /// Appends clones of every element of `other`.
    pub fn extend_from_slice(&mut self, other: &[T]) {
        self.reserve(other.len());
        for v in other {
            self.push(v.clone());
        }
    }
}

impl<T> Extend<T> for FrameVec<'_, T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.reserve(iter.size_hint().0);
        for v in iter {
            self.push(v);
        }
    }
}

impl<T> Drop for FrameVec<'_, T> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<T> Deref for FrameVec<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T> DerefMut for FrameVec<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: fmt::Debug> fmt::Debug for FrameVec<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
