//! [`Task`] and [`FallibleTask`]: the handles that await a task's output.
//!
//! The handle is the `HANDLE` bit of the state word (not a counted reference). It takes the
//! output by setting `CLOSED` on a `COMPLETED` task; cancelling sets `CLOSED` and, if the task
//! is idle, schedules it once more so the executor drops the future on its own thread; detaching
//! clears `HANDLE` (taking and dropping a finished output on the way).

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::task::{Context, Poll};

use sync_core::sync::atomic::Ordering;

use crate::ScheduleInfo;
use crate::header::{Header, TaskHead};
use crate::raw::{Panic, header};
use crate::state::{
    AWAITER, CLOSED, COMPLETED, HANDLE, INITIAL, REFERENCE, REFS, RUNNING, SCHEDULED, TAKEN, abort,
};

/// A spawned task: await it for the output, [`detach`](Self::detach) it, or
/// [`cancel`](Self::cancel) it. Dropping it cancels the task.
///
/// # Examples
///
/// ```
/// let (runnable, task) = task_ffi::spawn(async { "done" }, |_| {});
/// runnable.run();
/// assert!(task.is_finished());
/// assert_eq!(futures_lite::future::block_on(task), "done");
/// ```
#[must_use = "dropping a Task cancels it; use `.detach()` to let it run"]
pub struct Task<T, M = ()> {
    ptr: NonNull<()>,
    _marker: PhantomData<(T, M)>,
}

// SAFETY: the task may hand out `T` here (hence `T: Send`) and share `&M` with the runnable's
// thread (hence `M: Send + Sync`).
unsafe impl<T: Send, M: Send + Sync> Send for Task<T, M> {}
// SAFETY: `&Task` gives out `&M` and the finished flag only.
unsafe impl<T, M: Send + Sync> Sync for Task<T, M> {}

impl<T, M> Unpin for Task<T, M> {}
impl<T, M> core::panic::UnwindSafe for Task<T, M> {}
impl<T, M> core::panic::RefUnwindSafe for Task<T, M> {}

impl<T, M> Task<T, M> {
    pub(crate) fn new(ptr: NonNull<()>) -> Self {
        Self {
            ptr,
            _marker: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle keeps the task alive (HANDLE bit) while `self` is borrowed.
        unsafe { header(self.ptr.as_ptr()) }
    }

    /// Lets the task run to completion without awaiting it; its output is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (runnable, task) = task_ffi::spawn(async { println!("hello") }, |_| {});
    /// task.detach();
    /// runnable.run();
    /// ```
    pub fn detach(self) {
        let mut this = ManuallyDrop::new(self);
        drop(this.set_detached());
    }

    /// Cancels the task and waits until its future is dropped.
    ///
    /// Returns the output if the task completed before it was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::block_on;
    /// let (runnable, task) = task_ffi::spawn(async { 1 }, |_| {});
    /// runnable.run();
    /// assert_eq!(block_on(task.cancel()), Some(1));
    ///
    /// let (runnable, task) = task_ffi::spawn(async { 1 }, |_| {});
    /// drop(runnable); // the future is dropped, never polled
    /// assert_eq!(block_on(task.cancel()), None);
    /// ```
    pub async fn cancel(self) -> Option<T> {
        let mut this = self;
        this.set_canceled();
        this.fallible().await
    }

    /// Turns the task into a [`FallibleTask`], which yields `None` instead of panicking when
    /// the task was cancelled (or its future panicked).
    pub fn fallible(self) -> FallibleTask<T, M> {
        FallibleTask { task: self }
    }

    /// Whether the task completed or was closed: its future will not be polled any more.
    /// Awaiting a closed task still waits until its future is dropped, if a `Runnable` still
    /// holds it (a cancelled task waiting in the executor's queue, or one being run).
    pub fn is_finished(&self) -> bool {
        // ORDERING: `Acquire` pairs with the runner's `Release` that set COMPLETED (or dropped
        // the future of a closed task): once this says finished, what the task did is visible.
        let state = self.header().state.load(Ordering::Acquire);
        state & (CLOSED | COMPLETED) != 0
    }

    /// The metadata of the task.
    pub fn metadata(&self) -> &M {
        let ptr = self.ptr.as_ptr().cast::<u8>();
        // SAFETY: the handle keeps the task alive; the metadata's offset does not depend on the
        // data type (it comes first in `TaskHead`), and it is only ever shared.
        unsafe {
            &*ptr
                .wrapping_add(TaskHead::<M, ()>::METADATA_OFFSET)
                .cast::<M>()
        }
    }

    /// Turns the task into a raw pointer (the same address as its runnable's), keeping the
    /// handle. Use [`from_raw`](Self::from_raw) to get it back.
    pub fn into_raw(self) -> NonNull<()> {
        let ptr = self.ptr;
        mem::forget(self);
        ptr
    }

    /// Rebuilds a task from [`into_raw`](Self::into_raw).
    ///
    /// # Safety
    ///
    /// `ptr` comes from `Task::<T, M>::into_raw` with the same `T` and `M`, and is used once.
    pub unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        Self::new(ptr)
    }

    /// Closes the task; schedules it once more if idle so the executor drops the future.
    fn set_canceled(&mut self) {
        let ptr = self.ptr.as_ptr().cast_const();
        let header = self.header();
        // ORDERING: a first guess; a finished task is left alone, nothing read.
        let mut state = header.state.load(Ordering::Acquire);
        loop {
            if state & (COMPLETED | CLOSED) != 0 {
                return;
            }
            // ORDERING: success `Acquire`, as in a wake: when the task is idle we make the
            // runnable that will drop the future, so the last poll's effects on it (published
            // by `run`'s `Release` exit) must happen-before that drop, through the schedule
            // function. `Release`: setting CLOSED publishes nothing of ours. Failure `Acquire`:
            // the retry decides on it.
            let idle = state & (SCHEDULED | RUNNING) == 0;
            let new = if idle {
                (state | SCHEDULED | CLOSED) + REFERENCE
            } else {
                state | CLOSED
            };
            match header.state.compare_exchange_weak(
                state,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    if idle {
                        if state > isize::MAX as usize {
                            abort();
                        }
                        // SAFETY: we took a reference and set SCHEDULED for the runnable. A
                        // panicking schedule function drops that runnable while unwinding
                        // (which drops the future and wakes the awaiter), and `Drop` gives up
                        // the handle all the same.
                        unsafe { (header.vtable.schedule)(ptr, ScheduleInfo::new(false)) };
                    }
                    if state & AWAITER != 0 {
                        header.notify(None);
                    }
                    return;
                }
                Err(s) => state = s,
            }
        }
    }

    /// Gives up the handle; returns the output if it was there, nobody took it and it needs a
    /// drop.
    // With unwinding, inlined into `Drop` (the common way to let go of a finished task) and
    // `detach`, and the unwinding guard of `Drop` has its own, cold copy. Without, one copy.
    #[cfg_attr(panic = "unwind", inline(always))]
    fn set_detached(&mut self) -> Option<Result<T, Panic>> {
        let ptr = self.ptr.as_ptr().cast_const();
        // SAFETY: the handle keeps the task alive; we own it.
        if unsafe { let_go(ptr) } {
            // An output without drop glue is left where it is: taking it would only cost a
            // call.
            let output = if mem::needs_drop::<Result<T, Panic>>() {
                // SAFETY: the handle still keeps the task alive.
                let header = unsafe { header(ptr) };
                // SAFETY: `let_go` closed the completed task for us: the output is ours.
                Some(unsafe { read_output::<T>(header, ptr) })
            } else {
                None
            };
            // SAFETY: as above; the task is CLOSED now, so this call clears HANDLE.
            let again = unsafe { let_go(ptr) };
            debug_assert!(!again, "the output is taken once");
            output
        } else {
            None
        }
    }

    /// Polls for the output: `Some` once completed, `None` if closed without an output (once
    /// the future has been dropped).
    fn poll_task(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let ptr = self.ptr.as_ptr().cast_const();
        let header = self.header();
        // ORDERING: `Acquire` here and in the loads after `register`: when one shows the task
        // closed with neither SCHEDULED nor RUNNING we return at once, and this pairs with the
        // `Release` that dropped the future (the `Release` guard's `fetch_and`, `run`'s `Pending` exit, the
        // `RunGuard`), so its destructor's effects are visible when `cancel().await` returns.
        // `register` orders the awaiter slot itself (header module).
        let mut state = header.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                // Wait until the future is gone (no runnable, not running).
                if state & (SCHEDULED | RUNNING) != 0 {
                    header.register(cx.waker());
                    state = header.state.load(Ordering::Acquire);
                    if state & (SCHEDULED | RUNNING) != 0 {
                        return Poll::Pending;
                    }
                }
                // Another awaiter (of a previous poll by another task) may wait too.
                header.notify(Some(cx.waker()));
                return Poll::Ready(None);
            }
            if state & COMPLETED == 0 {
                header.register(cx.waker());
                state = header.state.load(Ordering::Acquire);
                if state & CLOSED != 0 {
                    continue;
                }
                if state & COMPLETED == 0 {
                    return Poll::Pending;
                }
            }
            // ORDERING: success `Acquire` pairs with the runner's `Release` that set COMPLETED:
            // the output read below is the one it wrote. `Release`: we publish nothing but the
            // CLOSED bit. Failure `Acquire`: the retry may return on it (see the first load).
            match header.state.compare_exchange(
                state,
                state | CLOSED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: we closed the completed task: the output is ours. Taken before
                    // the wake below, so a panicking waker drops it instead of leaking it.
                    let output = unsafe { read_output::<T>(header, ptr) };
                    if state & AWAITER != 0 {
                        header.notify(Some(cx.waker()));
                    }
                    return Poll::Ready(Some(unwrap_output(output)));
                }
                Err(s) => state = s,
            }
        }
    }
}

/// Gives up the handle of the task at `ptr`, the same for every output type: clears HANDLE,
/// and if no reference is left, destroys the task or (unfinished, so nobody could wake it any
/// more) closes it and schedules it once so that its future is dropped. A completed task whose
/// output is still there is first closed, and `true` returned with HANDLE still set: the
/// caller then owns the output, takes it, and calls again.
///
/// # Safety
///
/// The caller owns the handle of the live task at `ptr`; it is given up when this returns
/// `false`.
#[inline]
unsafe fn let_go(ptr: *const ()) -> bool {
    // SAFETY: the handle keeps the task alive until we clear HANDLE below.
    let header = unsafe { header(ptr) };
    // ORDERING: a first guess for the compare-and-swaps below, which decide.
    let mut state = header.state.load(Ordering::Acquire);
    loop {
        if state & COMPLETED != 0 && state & CLOSED == 0 {
            // Take the output before letting go.
            // ORDERING: success `Acquire` pairs with the runner's `Release` that set
            // COMPLETED: the output we read next is the one it wrote.
            match header.state.compare_exchange_weak(
                state,
                state | CLOSED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                // The caller takes the output, then calls again to clear HANDLE.
                Ok(_) => return true,
                Err(s) => state = s,
            }
            continue;
        }
        // The last handle of an idle, unfinished task with no waker: nobody could ever
        // wake it, so close it and schedule it once so its future is dropped.
        let new = if state & (REFS | CLOSED) == 0 {
            TAKEN | SCHEDULED | CLOSED | REFERENCE
        } else {
            state & !HANDLE
        };
        // ORDERING: as `Arc`'s drop. `Release` publishes our uses of the task to whoever
        // frees it; `Acquire` (success), when no reference is left and we destroy it or
        // schedule it a last time, orders every other handle's uses (and the last poll)
        // before that.
        match header
            .state
            .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                if state & REFS == 0 {
                    if state & CLOSED == 0 {
                        // SAFETY: we own the new reference and SCHEDULED.
                        unsafe { (header.vtable.schedule)(ptr, ScheduleInfo::new(false)) };
                    } else {
                        // SAFETY: no reference and now no handle: the task is ours to free.
                        unsafe { (header.vtable.destroy)(ptr) };
                    }
                }
                return false;
            }
            Err(s) => state = s,
        }
    }
}

/// Moves the output out of the task.
///
/// # Safety
///
/// The caller set CLOSED on the COMPLETED task, so the output is there and is its to take.
unsafe fn read_output<T>(header: &Header, ptr: *const ()) -> Result<T, Panic> {
    // The output is at the offset the task type recorded (`Stage` is `repr(C)`: the output at
    // its start), inside the task's memory, which `ptr` covers.
    let out = ptr.cast::<u8>().wrapping_add(header.vtable.output_offset);
    // SAFETY: the output is a `Result<T, Panic>` there, read exactly once (caller's promise).
    unsafe { ptr::read(out.cast::<Result<T, Panic>>()) }
}

/// Unwraps an output, resuming a propagated panic.
fn unwrap_output<T>(output: Result<T, Panic>) -> T {
    match output {
        Ok(v) => v,
        #[cfg(feature = "std")]
        Err(payload) => std::panic::resume_unwind(payload),
        #[cfg(not(feature = "std"))]
        Err(never) => match never {},
    }
}

impl<T, M> Drop for Task<T, M> {
    fn drop(&mut self) {
        /// Gives up the handle if cancelling unwinds (a panicking schedule function or awaiter
        /// waker): the handle never outlives the `Task`.
        struct Detach<'a, T, M>(&'a mut Task<T, M>);
        impl<T, M> Drop for Detach<'_, T, M> {
            #[cold]
            #[inline(never)]
            fn drop(&mut self) {
                drop(self.0.set_detached());
            }
        }
        let detach = Detach(self);
        detach.0.set_canceled();
        // The normal path detaches inline; the guard is for unwinding only.
        let mut this = ManuallyDrop::new(detach);
        // The output (if the task completed) is dropped after the transition.
        drop(this.0.set_detached());
    }
}

impl<T, M> Future for Task<T, M> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        match self.poll_task(cx) {
            Poll::Ready(Some(t)) => Poll::Ready(t),
            Poll::Ready(None) => panic!("Task polled after completion"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T, M> Task<T, M> {
    /// [`detach`](Self::detach) for a task that nobody else can reach yet: just spawned, its
    /// runnable neither run nor scheduled, no waker made. Its state is still [`INITIAL`], so
    /// detaching is one store of that state without `HANDLE`, the state `detach` would leave,
    /// and none of `detach`'s other cases (a completed task, the last handle) can arise.
    ///
    /// # Safety
    ///
    /// The task was spawned by the caller, which has not run, scheduled or dropped its
    /// runnable, nor handed it to anyone, since.
    pub(crate) unsafe fn detach_new(self) {
        let this = ManuallyDrop::new(self);
        debug_assert_eq!(this.state_word(), INITIAL);
        // ORDERING: `Relaxed`: nobody else reads the word yet; the runnable reaches another
        // thread only through its schedule function, which must synchronise to move it.
        this.header()
            .state
            .store(INITIAL & !HANDLE, Ordering::Relaxed);
    }

    /// The task's state word now (for `Debug` and `defmt` output).
    pub(crate) fn state_word(&self) -> usize {
        // ORDERING: `Acquire`, for `Debug` only: nothing is read through it.
        self.header().state.load(Ordering::Acquire)
    }
}

impl<T, M: fmt::Debug> fmt::Debug for Task<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state_word();
        f.debug_struct("Task")
            .field("ptr", &self.ptr)
            .field("metadata", self.metadata())
            .field("completed", &(state & COMPLETED != 0))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

/// A [`Task`] that yields `None` instead of panicking when it was cancelled or its future
/// panicked. Made by [`Task::fallible`].
///
/// # Examples
///
/// ```
/// use futures_lite::future::block_on;
/// let (runnable, task) = task_ffi::spawn(async { 1 }, |_| {});
/// drop(runnable); // cancels the task
/// assert_eq!(block_on(task.fallible()), None);
/// ```
#[must_use = "dropping a FallibleTask cancels it; use `.detach()` to let it run"]
pub struct FallibleTask<T, M = ()> {
    task: Task<T, M>,
}

impl<T, M> FallibleTask<T, M> {
    /// See [`Task::detach`].
    pub fn detach(self) {
        self.task.detach();
    }

    /// See [`Task::cancel`].
    pub async fn cancel(self) -> Option<T> {
        self.task.cancel().await
    }

    /// See [`Task::is_finished`].
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// See [`Task::metadata`].
    pub fn metadata(&self) -> &M {
        self.task.metadata()
    }
}

impl<T, M> Future for FallibleTask<T, M> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.task.poll_task(cx)
    }
}

impl<T, M: fmt::Debug> fmt::Debug for FallibleTask<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FallibleTask").field(&self.task).finish()
    }
}
