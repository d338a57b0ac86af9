//! Handles to frame memory: [`FrameBox`] (one value) and [`FrameVec`] (a growable vector).
//!
//! Both borrow the [`Frame`] token they were allocated from, so they cannot outlive the frame,
//! and both are `!Send`/`!Sync` (the frame belongs to one thread; `compile_fail` examples here
//! and on [`Frame`]). They run the destructor of what they hold when they drop; the memory
//! itself is reclaimed all at once when the frame ends. Their `leak` methods give up the handle
//! for a plain reference, which (like [`Frame::frame_slice`]'s) may be lent to a scoped thread
//! and cannot outlive the frame.
//!
//! `FrameVec` grows in place while its buffer is the last allocation of the arena (the common
//! "build a list, then use it" pattern costs no copy); otherwise it moves to a new buffer twice as
//! large and the old one stays unused until the frame ends, as in any bump allocator.

use core::alloc::Layout;
use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

use crate::frame::{Frame, exhausted};
use crate::grow_vec::{GrowVec, VecStore, sealed};

/// A value in the frame arena, dropped when the box drops. See [`Frame::frame_box`].
///
/// ```
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// let mut b = frame.frame_box([0u64; 4]);
/// b[1] = 7;
/// assert_eq!(b.iter().sum::<u64>(), 7);
/// ```
///
/// It stays on the frame's thread, whatever `T` is:
///
/// ```compile_fail,E0277
/// fn needs_send<T: Send>(_: T) {}
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// needs_send(frame.frame_box(0u64)); // error[E0277]: cannot be sent between threads safely
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
    /// destructor will not run. The reference is a plain `&mut T` (see [`Frame::frame_slice`]
    /// for where it may go).
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

/// The frame arena as the store of a [`FrameVec`]: a buffer grows in place while it is the
/// arena's last allocation, otherwise it moves and the old one stays unused until the frame
/// ends.
#[derive(Clone, Copy, Debug)]
pub struct FrameStore<'f>(&'f Frame<'f>);

impl VecStore for FrameStore<'_> {}

impl sealed::Store for FrameStore<'_> {
    fn first_capacity(_elem_size: usize) -> usize {
        4
    }

    fn grow(&self, old: Option<(NonNull<u8>, Layout)>, new: Layout) -> Option<NonNull<u8>> {
        if let Some((p, layout)) = old
            && self.0.arena().try_extend(p, layout.size(), new.size())
        {
            return None;
        }
        Some(self.0.alloc_layout(new).unwrap_or_else(|| exhausted()))
    }

    unsafe fn release(&self, _ptr: NonNull<u8>, _layout: Layout) {
        // Frame memory is reclaimed all at once when the frame ends.
    }
}

/// A growable vector in the frame arena. See [`Frame::frame_vec`]; the methods are
/// [`GrowVec`]'s.
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
///
/// Like the frame it borrows, it stays on the frame's thread:
///
/// ```compile_fail,E0277
/// fn needs_send<T: Send>(_: T) {}
/// let alloc = framealloc::SmartAlloc::new(Default::default());
/// let frame = alloc.begin_frame();
/// needs_send(frame.frame_vec::<u32>());
/// ```
pub type FrameVec<'f, T> = GrowVec<T, FrameStore<'f>>;

impl<'f, T> GrowVec<T, FrameStore<'f>> {
    pub(crate) fn in_frame(frame: &'f Frame<'_>) -> Self {
        Self::new_in(FrameStore(frame))
    }

    /// Gives up the vector and returns its elements for the rest of the frame; their
    /// destructors will not run. The slice is a plain `&mut [T]` (see [`Frame::frame_slice`]
    /// for where it may go).
    pub fn leak(self) -> &'f mut [T] {
        let (ptr, len, _buffer, _store) = self.into_raw_parts();
        // SAFETY: `len` initialised elements that live until the frame ends (`'f`); the vector
        // that owned them is gone, so this is the only reference.
        unsafe { core::slice::from_raw_parts_mut(ptr.as_ptr(), len) }
    }
}
