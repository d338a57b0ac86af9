//! [`Runnable`]: the executor's handle, the right to poll the task once.
//!
//! A `Runnable` exists exactly while the `SCHEDULED` bit is set; it owns one reference. `run`
//! consumes it (the future is polled, then the task waits for a wake, which creates a new
//! `Runnable` and passes it to the schedule function); dropping it cancels the task and drops
//! the future on the spot. Only a `Runnable` reaches the user data `D`, and there is at most one
//! at a time, which is what makes [`Runnable::data_mut`] sound.

use core::fmt;
use core::marker::PhantomData;
use core::mem;
use core::ptr::NonNull;
use core::task::{RawWaker, Waker};

use sync_core::sync::atomic::Ordering;

use crate::ScheduleInfo;
use crate::header::TaskHead;
use crate::raw::{Release, header};
use crate::state::{CLOSED, COMPLETED, REFERENCE, abort};
use crate::waker::WAKER_VTABLE;

/// A handle to a scheduled task: run it, schedule it, or drop it to cancel it.
///
/// `M` is the metadata (see [`Builder::metadata`](crate::Builder::metadata)) and `D` the user
/// data of the `_with` spawn functions; both default to `()`, so code written for async-task's
/// `Runnable<M>` keeps compiling.
///
/// # Examples
///
/// ```
/// let (runnable, task) = task_ffi::spawn(async { 1 + 2 }, |_| {});
/// assert!(!runnable.run()); // polled once, completed, not woken meanwhile
/// assert_eq!(futures_lite::future::block_on(task), 3);
/// ```
pub struct Runnable<M = (), D = ()> {
    ptr: NonNull<()>,
    _marker: PhantomData<(M, D)>,
}

// SAFETY: moving a runnable moves the right to poll (the future's bounds were checked at spawn)
// and the right to `&mut D` (hence `D: Send`); `&M` may be used here while the `Task` uses it
// on another thread (hence `M: Send + Sync`).
unsafe impl<M: Send + Sync, D: Send> Send for Runnable<M, D> {}
// SAFETY: `&Runnable` hands out `&M` and `&D` only, and wakers (which are `Send + Sync`).
unsafe impl<M: Sync, D: Sync> Sync for Runnable<M, D> {}

impl<M, D> core::panic::UnwindSafe for Runnable<M, D> {}
impl<M, D> core::panic::RefUnwindSafe for Runnable<M, D> {}

impl<M, D> Runnable<M, D> {
    /// The metadata of the task.
    ///
    /// # Examples
    ///
    /// ```
    /// let (runnable, _task) = task_ffi::Builder::new().metadata(5).spawn(|_| async {}, |_| {});
    /// assert_eq!(*runnable.metadata(), 5);
    /// ```
    #[inline]
    pub fn metadata(&self) -> &M {
        let ptr = self.ptr.as_ptr().cast::<u8>();
        // SAFETY: our reference keeps the task alive while `self` is borrowed; the metadata is
        // at this fixed offset (`TaskHead` is `repr(C)`) and only ever shared.
        unsafe {
            &*ptr
                .wrapping_add(TaskHead::<M, D>::METADATA_OFFSET)
                .cast::<M>()
        }
    }

    /// The user data of the task (see [`spawn_with`](crate::spawn_with)).
    ///
    /// # Examples
    ///
    /// ```
    /// let (runnable, _task) = task_ffi::spawn_with(async {}, |_| {}, "low priority");
    /// assert_eq!(*runnable.data(), "low priority");
    /// ```
    #[inline]
    pub fn data(&self) -> &D {
        let ptr = self.ptr.as_ptr().cast::<u8>();
        // SAFETY: the data is at this fixed offset; only the single runnable reaches it, and
        // `&self` excludes `data_mut` for the borrow.
        unsafe { &*ptr.wrapping_add(TaskHead::<M, D>::DATA_OFFSET).cast::<D>() }
    }

    /// The user data of the task, mutably. Changes are seen by the next `Runnable` of the task
    /// (after the next wake).
    ///
    /// # Examples
    ///
    /// ```
    /// let (mut runnable, _task) = task_ffi::spawn_with(async {}, |_| {}, 0u32);
    /// *runnable.data_mut() += 1;
    /// assert_eq!(*runnable.data(), 1);
    /// ```
    #[inline]
    pub fn data_mut(&mut self) -> &mut D {
        let ptr = self.ptr.as_ptr().cast::<u8>();
        // SAFETY: there is at most one runnable per task and only runnables reach the data,
        // so `&mut self` gives exclusive access.
        unsafe { &mut *ptr.wrapping_add(TaskHead::<M, D>::DATA_OFFSET).cast::<D>() }
    }

    /// Passes the runnable to the task's schedule function.
    ///
    /// # Examples
    ///
    /// ```
    /// let (sender, receiver) = std::sync::mpsc::channel();
    /// let (runnable, _task) = task_ffi::spawn(async {}, move |r| sender.send(r).unwrap());
    /// runnable.schedule();
    /// assert!(receiver.try_recv().is_ok());
    /// ```
    pub fn schedule(self) {
        let ptr = self.into_raw().as_ptr();
        // SAFETY: the runnable's reference keeps the task alive.
        let schedule = unsafe { header(ptr) }.vtable.schedule;
        // SAFETY: we pass the runnable's reference and SCHEDULED on.
        unsafe { schedule(ptr, ScheduleInfo::new(false)) };
    }

    /// Polls the future once.
    ///
    /// Returns `true` if the task was woken while it ran (it has then been scheduled again).
    /// If the task was cancelled, the future is dropped instead and `false` is returned. A
    /// detached task whose poll returned `Pending` without keeping a waker can never be woken
    /// again: it is closed and scheduled once more, so that the executor drops its future, and
    /// `run` returns `false` (the schedule function has been called all the same). If the
    /// future (its `poll`, or its destructor once it completed) panics, the task is closed and
    /// the panic unwinds out of `run` (or, with
    /// [`propagate_panic`](crate::Builder::propagate_panic), the panic goes to the awaiter);
    /// see the crate docs, "Panics in user code", for the other callbacks.
    pub fn run(self) -> bool {
        let ptr = self.into_raw().as_ptr();
        // SAFETY: the runnable's reference keeps the task alive.
        let run = unsafe { header(ptr) }.vtable.run;
        // SAFETY: we pass the runnable's reference and SCHEDULED on.
        unsafe { run(ptr) }
    }

    /// A waker of the task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// static SCHEDULED: AtomicUsize = AtomicUsize::new(0);
    /// let (runnable, _task) = task_ffi::spawn(std::future::pending::<()>(), |_| {
    ///     SCHEDULED.fetch_add(1, Ordering::SeqCst);
    /// });
    /// let waker = runnable.waker();
    /// runnable.run();
    /// waker.wake();
    /// assert_eq!(SCHEDULED.load(Ordering::SeqCst), 1);
    /// ```
    pub fn waker(&self) -> Waker {
        let ptr = self.ptr.as_ptr().cast_const();
        // SAFETY: our reference keeps the task alive.
        let header = unsafe { header(ptr) };
        // ORDERING: `Relaxed`, as `Arc::clone`: the new reference is made from ours, so the
        // task cannot be freed meanwhile; the overflow check only needs the count.
        let state = header.state.fetch_add(REFERENCE, Ordering::Relaxed);
        if state > isize::MAX as usize {
            abort();
        }
        // SAFETY: we took a reference for the new waker; the vtable is that of every task.
        unsafe { Waker::from_raw(RawWaker::new(ptr, &WAKER_VTABLE)) }
    }

    /// Turns the runnable into a raw pointer to the task (a [`TaskHead<M, D>`]), keeping its
    /// reference. Use [`from_raw`](Self::from_raw) to get it back.
    ///
    /// The data sits at `TaskHead::<M, D>::DATA_OFFSET` bytes from the pointer.
    pub fn into_raw(self) -> NonNull<()> {
        let ptr = self.ptr;
        mem::forget(self);
        ptr
    }

    /// Rebuilds a runnable from [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    ///
    /// `ptr` comes from `Runnable::<M, D>::into_raw` with the same `M` and `D` and is used once.
    /// If `Runnable<M, D>` is not `Send` or the task was spawned with `spawn_unchecked`, the
    /// thread rules that applied to the original runnable apply to the rebuilt one.
    pub unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        Self {
            ptr,
            _marker: PhantomData,
        }
    }
}

impl<M, D> Drop for Runnable<M, D> {
    // Dropping a runnable cancels the task: rare, and with unwinding mostly reached from the
    // cleanup of a schedule function that panics, where inlining it would only cost registers
    // on the normal path of the caller.
    #[cold]
    #[cfg_attr(panic = "unwind", inline(never))]
    fn drop(&mut self) {
        let ptr = self.ptr.as_ptr().cast_const();
        // SAFETY: the runnable's reference keeps the task alive until `drop_ref`.
        let header = unsafe { header(ptr) };
        // Close the task (unless it is already), so no wake schedules it again.
        // ORDERING: setting CLOSED publishes nothing and reads nothing we rely on: SCHEDULED
        // already makes the future ours (this runnable reached us through the schedule
        // function, which synchronises), and the `Release` guard below publishes its drop. So
        // the `Acquire`/`AcqRel` of this loop is more than needed.
        let mut state = header.state.load(Ordering::Acquire);
        while state & (COMPLETED | CLOSED) == 0 {
            match header.state.compare_exchange_weak(
                state,
                state | CLOSED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        // Then (also if the future's destructor panics) give up SCHEDULED and the reference,
        // waking the awaiter.
        // SAFETY: the runnable owns a reference and SCHEDULED, handed to the guard.
        let _release = unsafe { Release::new(ptr) };
        // SAFETY: SCHEDULED makes the future ours, and a scheduled task always has its future.
        unsafe { (header.vtable.drop_future)(ptr) };
    }
}

impl<M, D> Runnable<M, D> {
    /// The task's state word now (for `Debug` and `defmt` output).
    pub(crate) fn state_word(&self) -> usize {
        // ORDERING: `Acquire`, for `Debug` only: nothing is read through it.
        // SAFETY: our reference keeps the task alive.
        unsafe { header(self.ptr.as_ptr()) }
            .state
            .load(Ordering::Acquire)
    }
}

impl<M: fmt::Debug, D> fmt::Debug for Runnable<M, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state_word();
        f.debug_struct("Runnable")
            .field("ptr", &self.ptr)
            .field("metadata", self.metadata())
            .field("completed", &(state & COMPLETED != 0))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}
