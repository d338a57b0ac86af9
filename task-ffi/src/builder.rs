//! [`Builder`] and the `spawn` functions.
//!
//! Every heap spawn function ends in [`Builder::spawn_unchecked_with`], every static one in
//! `Builder::place` (see `slot.rs`); the safe ones add the bounds that make them sound on any
//! thread. The rules, and which handle touches which part of a task,
//! are in the crate docs (section "Threads, handles and parts").

use core::fmt;
use core::future::Future;

use crate::raw::{Memory, RawTask};
use crate::{Runnable, Schedule, Task};

/// Configures a task before spawning it: metadata and panic propagation.
///
/// # Examples
///
/// ```
/// use task_ffi::Builder;
///
/// let (runnable, task) = Builder::new()
///     .metadata("worker-1")
///     .spawn(|name: &&str| { let name = *name; async move { name.len() } }, |_| {});
/// assert_eq!(*runnable.metadata(), "worker-1");
/// runnable.run();
/// assert_eq!(futures_lite::future::block_on(task), 8);
/// ```
pub struct Builder<M> {
    metadata: M,
    #[cfg(feature = "std")]
    propagate_panic: bool,
}

impl Builder<()> {
    /// A builder with no metadata that does not propagate panics.
    pub const fn new() -> Self {
        Self {
            metadata: (),
            #[cfg(feature = "std")]
            propagate_panic: false,
        }
    }
}

impl<M: Default> Default for Builder<M> {
    fn default() -> Self {
        Builder::new().metadata(M::default())
    }
}

impl<M: fmt::Debug> fmt::Debug for Builder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Builder");
        s.field("metadata", &self.metadata);
        #[cfg(feature = "std")]
        s.field("propagate_panic", &self.propagate_panic);
        s.finish()
    }
}

impl<M> Builder<M> {
    /// Attaches metadata, reachable from the [`Runnable`] and the [`Task`] (and, through
    /// [`spawn_unchecked`](Self::spawn_unchecked), borrowable by the future).
    pub fn metadata<X>(self, metadata: X) -> Builder<X> {
        Builder {
            metadata,
            #[cfg(feature = "std")]
            propagate_panic: self.propagate_panic,
        }
    }

    /// If `true`, a panic of the future is caught and resumed where the [`Task`] is awaited;
    /// otherwise the panic leaves [`Runnable::run`] and the task is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (runnable, task) = task_ffi::Builder::new()
    ///     .propagate_panic(true)
    ///     .spawn(|()| async { panic!("boom") }, |_| {});
    /// runnable.run(); // does not panic
    /// let result = std::panic::catch_unwind(|| futures_lite::future::block_on(task));
    /// assert!(result.is_err());
    /// ```
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn propagate_panic(self, propagate_panic: bool) -> Self {
        Self {
            propagate_panic,
            ..self
        }
    }

    fn propagates(&self) -> bool {
        #[cfg(feature = "std")]
        {
            self.propagate_panic
        }
        #[cfg(not(feature = "std"))]
        {
            false
        }
    }

    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Spawns a task; `future` receives the metadata (a `'static` future cannot keep the
    /// borrow: use [`spawn_unchecked`](Self::spawn_unchecked) for that).
    pub fn spawn<F, Fut, S>(self, future: F, schedule: S) -> (Runnable<M>, Task<Fut::Output, M>)
    where
        F: FnOnce(&M) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
        S: Schedule<M> + Send + Sync + 'static,
        M: Send + Sync + 'static,
    {
        self.spawn_with(future, schedule, ())
    }

    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Like [`spawn`](Self::spawn), with user data `D` for the executor.
    pub fn spawn_with<F, Fut, S, D>(
        self,
        future: F,
        schedule: S,
        data: D,
    ) -> (Runnable<M, D>, Task<Fut::Output, M>)
    where
        F: FnOnce(&M) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
        S: Schedule<M, D> + Send + Sync + 'static,
        M: Send + Sync + 'static,
        D: Send + 'static,
    {
        // SAFETY: every part is `Send` (and `Sync` where shared) and `'static`.
        unsafe { self.spawn_unchecked_with(future, schedule, data) }
    }

    /// Spawns a future that is not `Send`. The future is polled and dropped only on the
    /// thread that spawned it: running (or dropping) the [`Runnable`] elsewhere panics, closes
    /// the task (its `Task` resolves as cancelled, or, with
    /// [`propagate_panic`](Self::propagate_panic), resumes that panic) and leaks the future
    /// instead of dropping it on the wrong thread. Waking, scheduling and moving the
    /// `Runnable` work from any thread.
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn spawn_local<F, Fut, S>(
        self,
        future: F,
        schedule: S,
    ) -> (Runnable<M>, Task<Fut::Output, M>)
    where
        F: FnOnce(&M) -> Fut,
        Fut: Future + 'static,
        Fut::Output: 'static,
        S: Schedule<M> + Send + Sync + 'static,
        M: Send + Sync + 'static,
    {
        self.spawn_local_with(future, schedule, ())
    }

    /// Like [`spawn_local`](Self::spawn_local), with user data `D` for the executor.
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn spawn_local_with<F, Fut, S, D>(
        self,
        future: F,
        schedule: S,
        data: D,
    ) -> (Runnable<M, D>, Task<Fut::Output, M>)
    where
        F: FnOnce(&M) -> Fut,
        Fut: Future + 'static,
        Fut::Output: 'static,
        S: Schedule<M, D> + Send + Sync + 'static,
        M: Send + Sync + 'static,
        D: Send + 'static,
    {
        let thread = std::thread::current().id();
        let wrap = move |m: &M| crate::local::Checked::new(thread, future(m));
        // SAFETY: `Checked` panics instead of polling or dropping the future on another thread;
        // everything else is `Send`/`Sync` and `'static` as in `spawn_with`.
        unsafe { self.spawn_unchecked_with(wrap, schedule, data) }
    }

    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Spawns a task without `Send`, `Sync` or `'static` bounds; the future may borrow the
    /// metadata.
    ///
    /// # Safety
    ///
    /// The *spawning thread* is the thread that calls this function. The *handles* of the task
    /// are every [`Runnable`] (including each one a wake hands to `schedule`), the [`Task`] (and
    /// the [`FallibleTask`](crate::FallibleTask) made from it) and every
    /// [`Waker`](core::task::Waker) of the task; the [crate docs](crate#threads-handles-and-parts)
    /// list which handle touches which part.
    ///
    /// Threads:
    ///
    /// - If the future is not `Send`, every `Runnable` must be run and dropped on the spawning
    ///   thread. (A wake on another thread hands the new `Runnable` to `schedule` there, which
    ///   may only send it back.)
    /// - If the output is not `Send`, every `Runnable` must be run, and the `Task` used and
    ///   dropped, on the spawning thread.
    /// - If `schedule` is not `Send + Sync`, or `M` is not `Send + Sync`, every handle — each
    ///   `Runnable`, the `Task`, each `Waker` — must be used and dropped on the spawning thread:
    ///   any of them may call `schedule` or drop `schedule` and `M`.
    ///
    /// Lifetimes:
    ///
    /// - What the future borrows must stay valid until the future is dropped, which a
    ///   `Runnable` does when the future completes or when the task was cancelled (a wake may
    ///   still make a `Runnable` that polls it, until then).
    /// - What the output borrows must stay valid until the output is dropped (by the `Task`, or
    ///   by the `Runnable` that completes the task when the `Task` is gone).
    /// - What `schedule` and `M` borrow must outlive every handle.
    /// - The `&'a M` given to `future` points into the task: nothing made from it may be used
    ///   after the future is dropped. In particular the output must not hold it.
    ///
    /// With every part `Send` (`schedule` and `M` also `Sync`) and `'static`, there is nothing
    /// to uphold: that is [`spawn`](Self::spawn).
    ///
    /// # Examples
    ///
    /// A single-threaded executor whose queue is an `Rc`, running a future that holds an `Rc`:
    ///
    /// ```
    /// use std::{cell::RefCell, collections::VecDeque, rc::Rc};
    ///
    /// let queue: Rc<RefCell<VecDeque<task_ffi::Runnable>>> = Rc::default();
    /// let q = queue.clone();
    /// let value = Rc::new(5);
    /// // SAFETY: every handle of the task stays on this thread; everything is `'static`.
    /// let (runnable, task) = unsafe {
    ///     task_ffi::spawn_unchecked(async move { *value }, move |r| q.borrow_mut().push_back(r))
    /// };
    /// runnable.schedule();
    /// while let Some(runnable) = queue.borrow_mut().pop_front() {
    ///     runnable.run();
    /// }
    /// assert_eq!(futures_lite::future::block_on(task), 5);
    /// ```
    pub unsafe fn spawn_unchecked<'a, F, Fut, S>(
        self,
        future: F,
        schedule: S,
    ) -> (Runnable<M>, Task<Fut::Output, M>)
    where
        F: FnOnce(&'a M) -> Fut,
        Fut: Future + 'a,
        S: Schedule<M>,
        M: 'a,
    {
        // SAFETY: the caller upholds our contract, which is that of `spawn_unchecked_with`.
        unsafe { self.spawn_unchecked_with(future, schedule, ()) }
    }

    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    /// Like [`spawn_unchecked`](Self::spawn_unchecked), with user data `D` for the executor.
    ///
    /// # Safety
    ///
    /// As for [`spawn_unchecked`](Self::spawn_unchecked), with `D` in addition: if `D` is not
    /// `Send`, every handle (each `Runnable`, the `Task`, each `Waker`) must be used and dropped
    /// on the spawning thread, and what `D` borrows must outlive every handle.
    pub unsafe fn spawn_unchecked_with<'a, F, Fut, S, D>(
        self,
        future: F,
        schedule: S,
        data: D,
    ) -> (Runnable<M, D>, Task<Fut::Output, M>)
    where
        F: FnOnce(&'a M) -> Fut,
        Fut: Future + 'a,
        S: Schedule<M, D>,
        M: 'a,
    {
        let propagate = self.propagates();
        // SAFETY: the caller upholds the thread and lifetime rules; the metadata lives in the
        // task, at least as long as the runnable that polls the future.
        let ptr = unsafe {
            RawTask::<Fut, Fut::Output, S, M, D, crate::raw::Heap>::allocate(
                future,
                schedule,
                self.metadata,
                data,
                propagate,
            )
        };
        // SAFETY: a fresh task has one reference and SCHEDULED: the runnable's.
        let runnable = unsafe { Runnable::from_raw(ptr) };
        (runnable, Task::new(ptr))
    }

    /// Builds the task in memory the caller obtained (a static slot, a pool slot): the common
    /// end of every static spawn.
    ///
    /// # Safety
    ///
    /// `memory` is valid and aligned for the task (`RawTask<Fut, Fut::Output, S, M, D, Mem>`),
    /// of kind `Mem` and owned by the caller, who hands it to the task; and the caller upholds
    /// the contract of [`spawn_unchecked_with`](Self::spawn_unchecked_with).
    pub(crate) unsafe fn place<'a, F, Fut, S, D, Mem>(
        self,
        memory: *mut u8,
        future: F,
        schedule: S,
        data: D,
    ) -> (Runnable<M, D>, Task<Fut::Output, M>)
    where
        F: FnOnce(&'a M) -> Fut,
        Fut: Future + 'a,
        S: Schedule<M, D>,
        M: 'a,
        Mem: Memory,
    {
        let propagate = self.propagates();
        // SAFETY: forwarded from the caller.
        let ptr = unsafe {
            RawTask::<Fut, Fut::Output, S, M, D, Mem>::init(
                memory.cast(),
                future,
                schedule,
                self.metadata,
                data,
                propagate,
            )
        };
        // SAFETY: a fresh task has one reference and SCHEDULED: the runnable's.
        let runnable = unsafe { Runnable::from_raw(ptr) };
        (runnable, Task::new(ptr))
    }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// Spawns a task. The [`Runnable`] polls it, the [`Task`] awaits its output.
///
/// # Examples
///
/// ```
/// let (sender, receiver) = std::sync::mpsc::channel();
/// let (runnable, task) = task_ffi::spawn(async { 1 + 2 }, move |r| sender.send(r).unwrap());
/// runnable.schedule();
/// for runnable in receiver.try_iter() {
///     runnable.run();
/// }
/// assert_eq!(futures_lite::future::block_on(task), 3);
/// ```
pub fn spawn<F, S>(future: F, schedule: S) -> (Runnable, Task<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule + Send + Sync + 'static,
{
    Builder::new().spawn(move |()| future, schedule)
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// Spawns a task that carries user data `D` for the executor, reachable through
/// [`Runnable::data`]/[`Runnable::data_mut`] and at a fixed offset from the raw pointer
/// (see [`TaskHead`](crate::TaskHead)). `D` is dropped with the task.
///
/// # Examples
///
/// ```
/// let (mut runnable, task) = task_ffi::spawn_with(async { 5 }, |_| {}, 0usize);
/// *runnable.data_mut() += 1;
/// runnable.run();
/// assert_eq!(futures_lite::future::block_on(task), 5);
/// ```
pub fn spawn_with<F, S, D>(future: F, schedule: S, data: D) -> (Runnable<(), D>, Task<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule<(), D> + Send + Sync + 'static,
    D: Send + 'static,
{
    Builder::new().spawn_with(move |()| future, schedule, data)
}

/// Spawns a future that is not `Send`; see [`Builder::spawn_local`].
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// let value = Rc::new(7);
/// let (runnable, task) = task_ffi::spawn_local(async move { *value }, |_| {});
/// runnable.run();
/// assert_eq!(futures_lite::future::block_on(task), 7);
/// ```
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub fn spawn_local<F, S>(future: F, schedule: S) -> (Runnable, Task<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule + Send + Sync + 'static,
{
    Builder::new().spawn_local(move |()| future, schedule)
}

/// [`spawn_local`] with user data `D`.
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub fn spawn_local_with<F, S, D>(
    future: F,
    schedule: S,
    data: D,
) -> (Runnable<(), D>, Task<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule<(), D> + Send + Sync + 'static,
    D: Send + 'static,
{
    Builder::new().spawn_local_with(move |()| future, schedule, data)
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// Spawns a task without `Send`, `Sync` or `'static` bounds.
///
/// # Safety
///
/// See [`Builder::spawn_unchecked`].
pub unsafe fn spawn_unchecked<F, S>(future: F, schedule: S) -> (Runnable, Task<F::Output>)
where
    F: Future,
    S: Schedule,
{
    // SAFETY: the caller upholds the contract of `Builder::spawn_unchecked`.
    unsafe { Builder::new().spawn_unchecked(move |()| future, schedule) }
}

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
/// [`spawn_unchecked`] with user data `D`.
///
/// # Safety
///
/// See [`Builder::spawn_unchecked_with`].
pub unsafe fn spawn_unchecked_with<F, S, D>(
    future: F,
    schedule: S,
    data: D,
) -> (Runnable<(), D>, Task<F::Output>)
where
    F: Future,
    S: Schedule<(), D>,
{
    // SAFETY: the caller upholds the contract of `Builder::spawn_unchecked_with`.
    unsafe { Builder::new().spawn_unchecked_with(move |()| future, schedule, data) }
}
