//! The task header, the `#[repr(C)]` view of the start of a task, and the awaiter handshake.
//!
//! # Layout
//!
//! Every task is one allocation, a `#[repr(C)]` struct (`RawTask` in `raw.rs`):
//!
//! ```text
//! offset 0                      Header   { state: usize, awaiter: Option<Waker>, vtable: &VTable }
//! TaskHead::<M, D>::METADATA_OFFSET  M   (the Builder's metadata; `()` takes no room)
//! TaskHead::<M, D>::DATA_OFFSET      D   (the `_with` user data; `()` takes no room)
//! ...                            S        (the schedule function)
//! ...                            union { F (the future), Result<T, Panic> (the output) }
//! ```
//!
//! The first three parts form [`TaskHead<M, D>`], whose layout follows the C rules, so the
//! offsets of `M` and `D` depend only on the header, `M` and `D`, never on the future. With
//! `M = ()` (no metadata, the usual case for FFI executors) the data sits at
//! `round_up(size_of::<Header>(), align_of::<D>())`: byte 32 on 64-bit targets and 16 on 32-bit
//! targets for any `D` with an alignment of at most 8. A C executor that receives the raw
//! pointer of a [`Runnable`](crate::Runnable) (from [`Runnable::into_raw`](crate::Runnable::into_raw))
//! reaches its data with `(struct my_data *)((char *)ptr + DATA_OFFSET)`, without a call.
//!
//! The header is 4 machine words (32 bytes on 64-bit, 16 on 32-bit): async-task keeps the
//! `propagate_panic` flag in its header (40 bytes with `std`); here the flag picks one of two
//! `'static` vtables of the task type (their `run` differs), so it takes no room and no test.
//!
//! # The awaiter slot
//!
//! The waker of whoever awaits the [`Task`](crate::Task) is written only by the `Task` (through
//! `&mut`, so by one thread at a time) under the `REGISTERING` bit and taken by notifiers (the
//! executor finishing or closing the task, a canceller) under the `NOTIFYING` bit. A notifier
//! that sees `REGISTERING` leaves the waker in place and keeps `NOTIFYING` set; the registrar
//! sees `NOTIFYING` when it finishes, takes its own waker back out and wakes it itself, so no
//! notification is lost. A registrar that starts while `NOTIFYING` is set wakes its waker at
//! once instead of storing it (the caller re-checks the state after registering).

use core::fmt;
use core::mem::offset_of;
use core::task::Waker;

use sync_core::sync::UnsafeCell;
use sync_core::sync::atomic::{AtomicUsize, Ordering};

use crate::ScheduleInfo;
use crate::state::{AWAITER, INITIAL, NOTIFYING, REGISTERING};

/// The functions of one task type (`F`, `T`, `S`, `M`, `D`), reached from the header.
pub(crate) struct TaskVTable {
    /// Schedules the task, consuming one reference (becomes the `Runnable`).
    pub(crate) schedule: unsafe fn(*const (), ScheduleInfo),
    /// Drops the future in place.
    pub(crate) drop_future: unsafe fn(*const ()),
    /// The offset in bytes of the output (`Result<T, Panic>`) from the start of the task: a
    /// number rather than a function, so taking the output costs no call.
    pub(crate) output_offset: usize,
    /// Drops `S`, `D` and `M` and frees the allocation.
    pub(crate) destroy: unsafe fn(*const ()),
    /// Polls the future once (the body of `Runnable::run`). A task whose future's panics are
    /// caught and resumed in the awaiter (`propagate_panic`) has a vtable of its own with the
    /// catching `run`, so the choice costs no test at run time.
    pub(crate) run: unsafe fn(*const ()) -> bool,
}

/// The header at offset 0 of every task allocation (4 machine words).
///
/// Its fields are private: C code never touches them, it only skips over them (see
/// [`TaskHead`]). The state word is described in the crate docs.
#[repr(C)]
pub struct Header {
    /// Flags and the reference count (see `state.rs`).
    pub(crate) state: AtomicUsize,
    /// The waker of whoever awaits the `Task`.
    awaiter: UnsafeCell<Option<Waker>>,
    /// The functions of this task type.
    pub(crate) vtable: &'static TaskVTable,
}

// The header is 4 words on every target (checked at compile time, loom's cells excepted).
#[cfg(not(loom))]
const _: () = assert!(core::mem::size_of::<Header>() == 4 * core::mem::size_of::<usize>());

/// The `#[repr(C)]` start of every task allocation: the [`Header`], the metadata `M`, then the
/// user data `D`.
///
/// The raw pointer of a [`Runnable`](crate::Runnable) or a [`Task`](crate::Task) points at a
/// `TaskHead<M, D>`. The struct is never built by value; it documents the layout and gives the
/// offsets as constants, so foreign code can reach the data of a task from its raw pointer.
///
/// # Examples
///
/// ```
/// use task_ffi::{TaskHead, spawn_with};
///
/// #[repr(C)]
/// struct Data {
///     priority: u32,
/// }
///
/// let (runnable, task) = spawn_with(async { 7 }, |_| {}, Data { priority: 3 });
/// let ptr = runnable.into_raw();
/// // What a C executor does: skip the header.
/// // SAFETY: the pointer came from `into_raw` of a task whose data is a `Data` and whose
/// // metadata is `()`, and nobody else touches the data while we hold the runnable.
/// let priority = unsafe {
///     ptr.cast::<u8>().add(TaskHead::<(), Data>::DATA_OFFSET).cast::<Data>().as_ref().priority
/// };
/// assert_eq!(priority, 3);
/// if cfg!(target_pointer_width = "64") {
///     assert_eq!(TaskHead::<(), Data>::DATA_OFFSET, 32);
/// }
/// // SAFETY: `ptr` came from `Runnable::into_raw` of this very task type.
/// let runnable = unsafe { task_ffi::Runnable::<(), Data>::from_raw(ptr) };
/// runnable.run();
/// assert_eq!(futures_lite::future::block_on(task), 7);
/// ```
#[repr(C)]
pub struct TaskHead<M = (), D = ()> {
    /// The header (opaque).
    pub header: Header,
    /// The metadata given to [`Builder::metadata`](crate::Builder::metadata).
    pub metadata: M,
    /// The user data given to a `_with` spawn function.
    pub data: D,
}

impl<M, D> TaskHead<M, D> {
    /// The offset in bytes of the metadata from the start of the task.
    pub const METADATA_OFFSET: usize = offset_of!(Self, metadata);
    /// The offset in bytes of the user data from the start of the task.
    pub const DATA_OFFSET: usize = offset_of!(Self, data);
}

impl<M: fmt::Debug, D: fmt::Debug> fmt::Debug for TaskHead<M, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHead")
            .field("header", &self.header)
            .field("metadata", &self.metadata)
            .field("data", &self.data)
            .finish()
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ORDERING: for `Debug` only: nothing is read through it.
        let state = self.state.load(Ordering::Acquire);
        crate::state::debug_state(f, "Header", state)
    }
}

impl Header {
    /// Writes a header in the initial state for a task with the given vtable at `ptr`; the
    /// state word too if `write_state` (memory whose claim already stored it, a
    /// [`TaskSlot`](crate::TaskSlot)'s, leaves it alone: a spawn into the slot may be reading it).
    ///
    /// # Safety
    ///
    /// `ptr` is valid for writes and aligned for a `Header`, and its bytes are the caller's
    /// alone, the state word excepted unless `write_state`; without `write_state` the state word
    /// already holds an `AtomicUsize` in the initial state.
    #[inline(always)]
    pub(crate) unsafe fn write(ptr: *mut Self, vtable: &'static TaskVTable, write_state: bool) {
        if write_state {
            let state = ptr
                .wrapping_byte_add(offset_of!(Self, state))
                .cast::<AtomicUsize>();
            // SAFETY: in bounds and ours (the caller's promise).
            unsafe { state.write(AtomicUsize::new(INITIAL)) };
        }
        // SAFETY: as above; the awaiter does not overlap the state word.
        unsafe { Self::awaiter_ptr(ptr).write(UnsafeCell::new(None)) };
        let vtable_ptr = ptr
            .wrapping_byte_add(offset_of!(Self, vtable))
            .cast::<&'static TaskVTable>();
        // SAFETY: as above.
        unsafe { vtable_ptr.write(vtable) };
    }

    /// Points at the awaiter slot, the only part of a header that needs a drop (no
    /// dereference: safe).
    #[inline(always)]
    pub(crate) fn awaiter_ptr(ptr: *mut Self) -> *mut UnsafeCell<Option<Waker>> {
        ptr.wrapping_byte_add(offset_of!(Self, awaiter)).cast()
    }

    /// Whether the awaiter slot is empty, read by the owner of a task being destroyed.
    ///
    /// # Safety
    ///
    /// Nobody else can reach the task (no reference and no handle are left).
    #[inline]
    pub(crate) unsafe fn awaiter_is_empty(&self) -> bool {
        // SAFETY: nobody else can reach the slot (the caller's promise).
        self.awaiter.with(|slot| unsafe { (*slot).is_none() })
    }

    /// Takes the awaiter and wakes it, unless it is `current` (the caller is the awaiter).
    ///
    /// The wake runs after the slot is released, with the state word consistent: a panicking
    /// waker unwinds out of the caller, which calls this as its last step.
    #[inline]
    pub(crate) fn notify(&self, current: Option<&Waker>) {
        if let Some(waker) = self.take(current) {
            waker.wake();
        }
    }

    /// Takes the awaiter out of its slot, unless a registration is in progress (the registrar
    /// then wakes it) or another notifier is at work. Returns `None` for `current`'s own waker.
    pub(crate) fn take(&self, current: Option<&Waker>) -> Option<Waker> {
        // ORDERING: `Acquire` pairs with the registrar's `Release` compare-and-swap that cleared
        // REGISTERING: the waker it stored is visible before we take it. `Release`: a registrar
        // that sees our NOTIFYING (and so wakes its waker in our place) also sees what we did
        // before notifying.
        let state = self.state.fetch_or(NOTIFYING, Ordering::AcqRel);
        if state & (NOTIFYING | REGISTERING) != 0 {
            return None;
        }
        // SAFETY: we set NOTIFYING while neither bit was set: the registrar, if any, has
        // finished writing and will not write again until we clear NOTIFYING, and no other
        // notifier can get here, so we have exclusive access to the slot.
        let waker = self.awaiter.with_mut(|slot| unsafe { (*slot).take() });
        // ORDERING: `Release` publishes our take of the slot: the next registrar's `Acquire`
        // compare-and-swap that sets REGISTERING sees the slot empty before writing it.
        self.state
            .fetch_and(!NOTIFYING & !AWAITER, Ordering::Release);
        // NOTIFYING is clear again: a panicking destructor below leaves the state consistent.
        match (waker, current) {
            (Some(w), Some(c)) if w.will_wake(c) => {
                drop(w);
                None
            }
            (waker, _) => waker,
        }
    }

    /// Stores `waker` as the awaiter (only called by the `Task`, through `&mut`).
    ///
    /// The clone of `waker` happens before the state is touched, so a panicking clone leaves the
    /// task as it was and simply unwinds out of the `Task`'s poll.
    #[inline(never)]
    pub(crate) fn register(&self, waker: &Waker) {
        // ORDERING: a first guess; on NOTIFYING we only wake our own waker, reading nothing.
        let mut state = self.state.load(Ordering::Acquire);
        if state & NOTIFYING != 0 {
            waker.wake_by_ref();
            return;
        }
        let new_waker = waker.clone();
        loop {
            debug_assert!(state & REGISTERING == 0, "two registrations at once");
            if state & NOTIFYING != 0 {
                drop(new_waker);
                waker.wake_by_ref();
                return;
            }
            // ORDERING: success `Acquire` pairs with the last notifier's `Release` clear of
            // NOTIFYING, so its take of the slot happens-before our write. Failure `Acquire`:
            // the retry decides on it (only to wake our own waker).
            match self.state.compare_exchange_weak(
                state,
                state | REGISTERING,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    state |= REGISTERING;
                    break;
                }
                Err(s) => state = s,
            }
        }
        // SAFETY: REGISTERING is set, so notifiers leave the slot alone, and only the `Task`
        // (which we are, through `&mut`) registers.
        let old = self
            .awaiter
            .with_mut(|slot| unsafe { (*slot).replace(new_waker) });
        // A notification that arrived while we were registering: we must deliver it ourselves.
        let mut notified = None;
        loop {
            if state & NOTIFYING != 0 && notified.is_none() {
                // SAFETY: REGISTERING is still set, so we still own the slot.
                notified = self.awaiter.with_mut(|slot| unsafe { (*slot).take() });
            }
            let new = if notified.is_none() {
                (state & !NOTIFYING & !REGISTERING) | AWAITER
            } else {
                state & !NOTIFYING & !REGISTERING & !AWAITER
            };
            // ORDERING: `Release` publishes the waker we stored: the next notifier's `Acquire`
            // `fetch_or` sees it. The `Acquire` half is not needed (the slot is ours until this
            // succeeds).
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        // The state is consistent again: user code may run (and unwind) now.
        drop(old);
        if let Some(w) = notified {
            w.wake();
        }
    }
}
