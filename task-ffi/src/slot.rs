//! Tasks without a heap: [`TaskSlot`], a `static` that holds one task at a time, and
//! [`InPool`], tasks in the slots of a `pool` pool with an async wait for a free slot.
//!
//! A task in a slot is the same task as one on the heap: the same [`Runnable`] and [`Task`]
//! types, the same state machine, vtable and `extern "C"` entry points ([`ffi`](crate::ffi)),
//! and the user data at the same [`TaskHead::DATA_OFFSET`](crate::TaskHead::DATA_OFFSET). Only
//! two steps differ: the spawn function claims the slot instead of calling the allocator, and
//! the last handle to let go gives the slot back instead of freeing (the task type carries its
//! kind of memory, so this costs no header room and no branch).
//!
//! ```
//! use task_ffi::{Runnable, TaskSlot};
//!
//! static SLOT: TaskSlot<128> = TaskSlot::new();
//!
//! let (runnable, task) = SLOT.spawn(async { 1 + 2 }, |_: Runnable| {}).unwrap();
//! // One task at a time: the slot is taken until every handle of this task is gone.
//! assert!(SLOT.spawn(async { 4 }, |_: Runnable| {}).is_err());
//! runnable.run();
//! assert_eq!(futures_lite::future::block_on(task), 3);
//! // Completed, output taken, no handle left: the slot can be spawned into again.
//! let (runnable, task) = SLOT.spawn(async { 5 }, |_: Runnable| {}).unwrap();
//! runnable.run();
//! assert_eq!(futures_lite::future::block_on(task), 5);
//! ```
//!
//! # Why slots sized in bytes
//!
//! A slot could be sized for one future type (`TaskSlot<F>`), but on stable Rust the type of an
//! `async` block or `async fn` cannot be named in a `static`. A slot of `SIZE` bytes with an
//! alignment `A` ([`Align8`] by default) takes any future, and the spawn functions check at
//! compile time that the whole task (header, metadata, data, schedule function, and the larger
//! of the future and the output) fits: a task too large or too aligned for its slot is a
//! compile error, not a run-time failure. The price is at most the unused bytes of the slot;
//! the compile error says when it is too small, and
//! [`TaskSlot::task_size`] tells the exact size of a task during development.
//!
//! One slot is the unit, like one task storage of embassy-executor: a `static` per task that
//! exists at most once at a time, spawned again once it finished ([`TaskSlot::spawn_detached`]
//! spawns it without a `Task` handle, as embassy-executor does). Where any of several tasks may
//! need a slot, [`InPool`] puts tasks in the slots of a `pool` pool (declared with `pool!` over
//! [`TaskBlock`]), which adds what a single slot cannot have: an async wait for a free slot, FIFO
//! among waiters, with one wake per freed slot (the pool's own wait queue).
//!
//! # Reuse
//!
//! A slot is *taken* from a successful spawn until the task is destroyed: the task completed or
//! was cancelled, its output (if any) was taken or dropped, and its `Task`, every `Runnable` and
//! every `Waker` are gone. A slot has no flag of its own: the state word of its task's header,
//! at offset 0 of the slot, is zero while the slot is free and never zero while a task lives
//! there (a flag of the word stays set from the spawn until the memory is given back). The last
//! handle to go drops the schedule function, the awaiter, the metadata and the data, then stores
//! zero with `Release`; a spawn claims the slot with one `Acquire` compare-and-swap from zero to
//! the state of a new task, so everything the old task did happens before the new task is
//! written, and a spawn into a taken slot changes nothing: it returns [`Occupied`] with the
//! arguments, without touching the live task. A waker kept after its task completed keeps the slot taken (as it keeps a heap
//! task allocated); a task that is never dropped keeps it for good.
//!
//! # Threads
//!
//! A slot is `Sync`: a `static` is reachable from every thread (and interrupt handler), so the
//! safe spawns require what [`spawn_with`](crate::spawn_with) requires (a `Send` future and
//! output, `Send + Sync` schedule function and metadata, `Send` data):
//!
//! ```compile_fail
//! // The future is not `Send` (error E0277; nightly reports it without the code).
//! use task_ffi::{Runnable, TaskSlot};
//! static SLOT: TaskSlot<128> = TaskSlot::new();
//! let value = std::rc::Rc::new(1);
//! let _ = SLOT.spawn(async move { *value }, |_: Runnable| {});
//! ```
//!
//! [`TaskSlot::spawn_unchecked_with`] lifts the bounds (and the `'static`) under the contract of
//! [`Builder::spawn_unchecked`](crate::Builder::spawn_unchecked).
//!
//! # Compile-time checks
//!
//! A task larger than its slot:
//!
//! ```compile_fail,E0080
//! use task_ffi::{Runnable, TaskSlot};
//! static SLOT: TaskSlot<64> = TaskSlot::new();
//! let big = [0u8; 256];
//! let _ = SLOT.spawn(async move { big.len() }, |_: Runnable| {});
//! ```
//!
//! A task more aligned than its slot:
//!
//! ```compile_fail,E0080
//! use task_ffi::{Runnable, TaskSlot};
//! #[repr(align(64))]
//! struct Aligned(u8);
//! static SLOT: TaskSlot<1024> = TaskSlot::new(); // aligned to 8
//! let value = Aligned(1);
//! let _ = SLOT.spawn(async move { let v = value; v.0 }, |_: Runnable| {});
//! ```
//!
//! The same task in a slot that is large and aligned enough compiles:
//!
//! ```
//! use task_ffi::{Align64, Runnable, TaskSlot};
//! #[repr(align(64))]
//! struct Aligned(u8);
//! static SLOT: TaskSlot<1024, Align64> = TaskSlot::new();
//! let value = Aligned(1);
//! let (runnable, task) = SLOT.spawn(async move { let v = value; v.0 }, |_: Runnable| {}).unwrap();
//! runnable.run();
//! assert_eq!(futures_lite::future::block_on(task), 1);
//! ```

use core::cell::UnsafeCell;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, MaybeUninit, align_of, size_of};

use sync_core::sync::atomic::{AtomicUsize, Ordering};

use crate::raw::{Memory, RawTask};
use crate::state::INITIAL;
use crate::{Builder, Runnable, Schedule, Task};

mod sealed {
    /// Seals [`Alignment`](super::Alignment).
    pub trait Sealed {}
}

/// The alignment of a [`TaskSlot`] or [`TaskBlock`]: [`Align4`], [`Align8`], [`Align16`],
/// [`Align32`] or [`Align64`]. Sealed.
pub trait Alignment: sealed::Sealed + Copy + Send + Sync + 'static {}

macro_rules! alignments {
    ($($(#[$doc:meta])* $name:ident = $n:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        #[repr(align($n))]
        pub struct $name;
        impl sealed::Sealed for $name {}
        impl Alignment for $name {}
    )*};
}

alignments! {
    /// Slots aligned to 4 bytes: on 32-bit targets, a task whose parts need at most 4 (no
    /// `u64`, `f64`), in exactly its size. The header is word-aligned, so on 64-bit targets
    /// a task never fits (a compile error).
    Align4 = 4;
    /// Slots aligned to 8 bytes (the default): every task whose parts need at most 8.
    Align8 = 8;
    /// Slots aligned to 16 bytes (`u128` on x86-64, SIMD values).
    Align16 = 16;
    /// Slots aligned to 32 bytes.
    Align32 = 32;
    /// Slots aligned to 64 bytes (cache-line aligned parts).
    Align64 = 64;
}

/// `SIZE` bytes of uninitialised memory aligned to `A`: the memory of one task.
///
/// [`TaskSlot`] holds one; a `pool` pool of them (`pool!(Tasks: [TaskBlock<256>; 4], 2)`) holds
/// the tasks spawned through [`InPool`].
#[repr(C)]
pub struct TaskBlock<const SIZE: usize, A: Alignment = Align8> {
    _align: [A; 0],
    bytes: MaybeUninit<[u8; SIZE]>,
}

impl<const SIZE: usize, A: Alignment> TaskBlock<SIZE, A> {
    /// An empty block (uninitialised memory: nothing to write, nothing to drop).
    pub const fn new() -> Self {
        Self {
            _align: [],
            bytes: MaybeUninit::uninit(),
        }
    }
}

impl<const SIZE: usize, A: Alignment> fmt::Debug for TaskBlock<SIZE, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskBlock")
            .field("size", &SIZE)
            .field("align", &align_of::<A>())
            .finish()
    }
}

/// Asserts at compile time that a task `X` fits in a block `B`.
struct Fits<X, B>(PhantomData<(X, B)>);

impl<X, B> Fits<X, B> {
    const CHECK: () = {
        assert!(
            size_of::<X>() <= size_of::<B>(),
            "task-ffi: the task is larger than its slot (make the slot's SIZE larger)"
        );
        assert!(
            align_of::<X>() <= align_of::<B>(),
            "task-ffi: the task is more aligned than its slot (give the slot a larger Alignment)"
        );
    };
}

/// The error of a spawn into a slot that is taken (or a pool whose slots and waiter places are
/// all taken): the spawn's arguments, untouched.
pub struct Occupied<F, S, D = (), M = ()> {
    /// The future (for a [`Builder`] spawn: the closure that makes it).
    pub future: F,
    /// The schedule function.
    pub schedule: S,
    /// The user data.
    pub data: D,
    /// The builder (its metadata and settings).
    pub builder: Builder<M>,
}

impl<F, S, D, M> fmt::Debug for Occupied<F, S, D, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Occupied(..)")
    }
}

impl<F, S, D, M> fmt::Display for Occupied<F, S, D, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task slot is taken")
    }
}

impl<F, S, D, M> core::error::Error for Occupied<F, S, D, M> {}

/// The handles of a spawned task.
type Spawned<T, M, D> = (Runnable<M, D>, Task<T, M>);

/// What a static spawn returns: the handles, or the arguments back.
type SpawnResult<T, F, S, D, M = ()> = Result<Spawned<T, M, D>, Occupied<F, S, D, M>>;

/// Static memory for one task at a time: `SIZE` bytes aligned to `A` (at least one word).
///
/// See the [module docs](crate::TaskSlot#) above for the design; in short: declare it as a
/// `static`, spawn into it with [`spawn`](Self::spawn) or [`spawn_with`](Self::spawn_with) (or
/// [`Builder::spawn_with_in`]); it is free again once the task is destroyed.
///
/// # Examples
///
/// Spawning into a taken slot gives the future back:
///
/// ```
/// use task_ffi::{Runnable, TaskSlot};
///
/// static SLOT: TaskSlot<96> = TaskSlot::new();
///
/// let (_runnable, _task) = SLOT.spawn(async { 1 }, |_: Runnable| {}).unwrap();
/// let busy = SLOT.spawn(async { 2 }, |_: Runnable| {}).unwrap_err();
/// assert_eq!(futures_lite::future::block_on(busy.future), 2);
/// ```
#[repr(C)]
pub struct TaskSlot<const SIZE: usize, A: Alignment = Align8> {
    memory: UnsafeCell<SlotMemory<SIZE, A>>,
}

/// The memory of a slot: the block a task is written in, whose first word is the state word of
/// the task's header ([`Header`](crate::Header) is `repr(C)` with the word first), or zero
/// while the slot is free.
#[repr(C)]
union SlotMemory<const SIZE: usize, A: Alignment> {
    state: ManuallyDrop<AtomicUsize>,
    block: ManuallyDrop<TaskBlock<SIZE, A>>,
}

// SAFETY: the state word is only reached atomically; the rest of the block is reached only by
// the task that owns the slot (claimed through the state word, exclusively), and that task
// follows the thread rules of its spawn function: the safe ones require parts that may be used
// and dropped on any thread.
unsafe impl<const SIZE: usize, A: Alignment> Sync for TaskSlot<SIZE, A> {}

impl<const SIZE: usize, A: Alignment> fmt::Debug for TaskSlot<SIZE, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskSlot")
            .field("size", &SIZE)
            .field("align", &align_of::<A>())
            .field("free", &self.is_free())
            .finish()
    }
}

impl<const SIZE: usize, A: Alignment> Memory for TaskSlot<SIZE, A> {
    // The claim stores the initial state (`claim`).
    const STATE_WRITTEN: bool = true;

    unsafe fn release(ptr: *mut u8, _: core::alloc::Layout) {
        // SAFETY: a task of kind `TaskSlot` starts at offset 0 of its slot, whose first word is
        // its state word, an `AtomicUsize` that was never dropped or overwritten (the header's
        // other parts are dropped one by one); the pointer was made from a pointer to the whole
        // slot (`claim`) and the slot outlives its task (the spawn functions' contracts).
        let state = unsafe { &*ptr.cast_const().cast::<AtomicUsize>() };
        // ORDERING: `Release`: every access of the old task (its parts' drops included, ordered
        // before us by the last reference's `Acquire` decrement) happens-before the next claim,
        // whose `Acquire` compare-and-swap reads this store.
        state.store(FREE, Ordering::Release);
    }
}

// The slot's state word is the header's: the header starts the task, its state word first.
const _: () = assert!(core::mem::offset_of!(crate::Header, state) == 0);

/// The state word of a free slot. A live task's is never zero (its `TAKEN` flag stays set).
const FREE: usize = 0;

impl<const SIZE: usize, A: Alignment> TaskSlot<SIZE, A> {
    sync_core::const_fn! {
        /// An empty slot, for a `static`.
        pub const fn new() -> Self {
            Self {
                memory: UnsafeCell::new(SlotMemory {
                    state: ManuallyDrop::new(AtomicUsize::new(FREE)),
                }),
            }
        }
    }

    /// Whether the slot is free (a spawn into it would succeed now).
    pub fn is_free(&self) -> bool {
        // ORDERING: `Acquire` pairs with the `Release` store that freed the slot (`release`):
        // once free, the old task's drops are visible to the caller.
        self.state().load(Ordering::Acquire) == FREE
    }

    /// The state word: the slot's while it is free, its task's while taken.
    fn state(&self) -> &AtomicUsize {
        // SAFETY: the first word of the memory (the `repr(C)` union's `state` field, at offset 0)
        // always holds an `AtomicUsize` (written by `new`, then only reached atomically: a
        // task's header is written and dropped around it), and it is only ever shared.
        unsafe { &*self.memory.get().cast::<AtomicUsize>() }
    }

    /// The number of bytes the task of `future` with `schedule` and `data` takes: a slot of
    /// `SIZE` at least this large (and aligned enough) holds it.
    ///
    /// ```
    /// use task_ffi::{Runnable, TaskSlot};
    /// let future = async { 1u32 };
    /// let schedule = |_: Runnable<(), u32>| {};
    /// let size = TaskSlot::<0>::task_size(&future, &schedule, &7u32);
    /// assert!(size <= 64, "{size}");
    /// ```
    pub fn task_size<Fut: Future, S, D>(_future: &Fut, _schedule: &S, _data: &D) -> usize {
        size_of::<RawTask<Fut, Fut::Output, S, (), D, Self>>()
    }

    /// Claims the slot: stores the state of a new task in its state word, the task's first
    /// transition; `Some` with a pointer to the whole slot memory.
    ///
    /// A live task's word is never zero, so the compare-and-swap fails on a taken slot without
    /// changing anything, whatever the task is doing.
    fn claim(&self) -> Option<*mut u8> {
        // ORDERING: success `Acquire` pairs with `release`'s `Release` store, so the old task
        // happens-before the new one is written. `Relaxed` on failure: nothing is read then.
        self.state()
            .compare_exchange(FREE, INITIAL, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        Some(self.memory.get().cast())
    }

    /// Spawns `future` into the slot; see [`spawn`](crate::spawn).
    ///
    /// # Errors
    ///
    /// [`Occupied`], with `future` and `schedule`, if the slot is taken.
    pub fn spawn<F, S>(&'static self, future: F, schedule: S) -> SpawnResult<F::Output, F, S, ()>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Schedule + Send + Sync + 'static,
    {
        self.spawn_with(future, schedule, ())
    }

    /// Spawns `future` with user data `D` into the slot; see [`spawn_with`](crate::spawn_with).
    ///
    /// # Errors
    ///
    /// [`Occupied`], with `future`, `schedule` and `data`, if the slot is taken.
    pub fn spawn_with<F, S, D>(
        &'static self,
        future: F,
        schedule: S,
        data: D,
    ) -> SpawnResult<F::Output, F, S, D>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Schedule<(), D> + Send + Sync + 'static,
        D: Send + 'static,
    {
        // SAFETY: every part is `Send` (and `Sync` where shared) and `'static`, and so is the
        // slot.
        unsafe { self.spawn_unchecked_with(future, schedule, data) }
    }

    /// Spawns `future` into the slot and detaches it at once: the task runs to completion on
    /// its own and gives the slot back when it is done, as a task of embassy-executor does.
    /// Only the runnable comes back. The same as [`spawn`](Self::spawn) then
    /// [`Task::detach`], in one store instead of `detach`'s compare-and-swap loop, and a
    /// firmware that only spawns this way carries none of the code that lets go of a `Task`.
    ///
    /// ```
    /// use task_ffi::{Runnable, TaskSlot};
    ///
    /// static SLOT: TaskSlot<128> = TaskSlot::new();
    ///
    /// let runnable = SLOT.spawn_detached(async { 1 + 2 }, |_: Runnable| {}).unwrap();
    /// assert!(!SLOT.is_free());
    /// runnable.run(); // completes; the output is dropped and the slot given back
    /// assert!(SLOT.is_free());
    /// ```
    ///
    /// # Errors
    ///
    /// [`Occupied`], with `future` and `schedule`, if the slot is taken.
    pub fn spawn_detached<F, S>(
        &'static self,
        future: F,
        schedule: S,
    ) -> Result<Runnable, Occupied<F, S>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Schedule + Send + Sync + 'static,
    {
        self.spawn_detached_with(future, schedule, ())
    }

    /// [`spawn_detached`](Self::spawn_detached) with user data `D`; see
    /// [`spawn_with`](Self::spawn_with).
    ///
    /// # Errors
    ///
    /// [`Occupied`], with `future`, `schedule` and `data`, if the slot is taken.
    pub fn spawn_detached_with<F, S, D>(
        &'static self,
        future: F,
        schedule: S,
        data: D,
    ) -> Result<Runnable<(), D>, Occupied<F, S, D>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
        S: Schedule<(), D> + Send + Sync + 'static,
        D: Send + 'static,
    {
        let (runnable, task) = self.spawn_with(future, schedule, data)?;
        // SAFETY: spawned just now; the runnable is still ours, neither run nor scheduled.
        unsafe { task.detach_new() };
        Ok(runnable)
    }

    /// [`spawn_with`](Self::spawn_with) without `Send`, `Sync` or `'static` bounds.
    ///
    /// # Errors
    ///
    /// [`Occupied`], with the arguments, if the slot is taken.
    ///
    /// # Safety
    ///
    /// The contract of [`Builder::spawn_unchecked_with`], and the slot must outlive every
    /// handle of the task (every `Runnable`, the `Task`, every `Waker`): it is not freed or
    /// moved while any of them exists.
    pub unsafe fn spawn_unchecked_with<F, S, D>(
        &self,
        future: F,
        schedule: S,
        data: D,
    ) -> SpawnResult<F::Output, F, S, D>
    where
        F: Future,
        S: Schedule<(), D>,
    {
        let () = Fits::<RawTask<F, F::Output, S, (), D, Self>, TaskBlock<SIZE, A>>::CHECK;
        let Some(memory) = self.claim() else {
            return Err(Occupied {
                future,
                schedule,
                data,
                builder: Builder::new(),
            });
        };
        // SAFETY: the claimed block is ours, large and aligned enough (checked above), and
        // `TaskSlot::release` gives it back; the caller upholds the rest.
        Ok(unsafe {
            Builder::new().place::<_, F, S, D, Self>(memory, move |()| future, schedule, data)
        })
    }
}

impl<M> Builder<M> {
    /// Like [`spawn_with`](Self::spawn_with), into a static [`TaskSlot`] instead of the heap.
    ///
    /// # Errors
    ///
    /// [`Occupied`], with the arguments and the builder, if the slot is taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use task_ffi::{Builder, Runnable, TaskSlot};
    ///
    /// static SLOT: TaskSlot<128> = TaskSlot::new();
    ///
    /// let (runnable, task) = Builder::new()
    ///     .metadata(3u8)
    ///     .spawn_with_in(&SLOT, |m: &u8| { let m = *m; async move { m * 2 } }, |_| {}, 'x')
    ///     .unwrap();
    /// assert_eq!((*runnable.metadata(), *runnable.data()), (3, 'x'));
    /// runnable.run();
    /// assert_eq!(futures_lite::future::block_on(task), 6);
    /// ```
    pub fn spawn_with_in<const SIZE: usize, A, F, Fut, S, D>(
        self,
        slot: &'static TaskSlot<SIZE, A>,
        future: F,
        schedule: S,
        data: D,
    ) -> SpawnResult<Fut::Output, F, S, D, M>
    where
        A: Alignment,
        F: FnOnce(&M) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
        S: Schedule<M, D> + Send + Sync + 'static,
        M: Send + Sync + 'static,
        D: Send + 'static,
    {
        // SAFETY: every part is `Send` (and `Sync` where shared) and `'static`, and so is the
        // slot.
        unsafe { self.spawn_unchecked_with_in(slot, future, schedule, data) }
    }

    /// [`spawn_with_in`](Self::spawn_with_in) without `Send`, `Sync` or `'static` bounds.
    ///
    /// # Errors
    ///
    /// [`Occupied`], with the arguments and the builder, if the slot is taken.
    ///
    /// # Safety
    ///
    /// As for [`TaskSlot::spawn_unchecked_with`].
    pub unsafe fn spawn_unchecked_with_in<'a, const SIZE: usize, A, F, Fut, S, D>(
        self,
        slot: &TaskSlot<SIZE, A>,
        future: F,
        schedule: S,
        data: D,
    ) -> SpawnResult<Fut::Output, F, S, D, M>
    where
        A: Alignment,
        F: FnOnce(&'a M) -> Fut,
        Fut: Future + 'a,
        S: Schedule<M, D>,
        M: 'a,
    {
        let () = Fits::<
            RawTask<Fut, Fut::Output, S, M, D, TaskSlot<SIZE, A>>,
            TaskBlock<SIZE, A>,
        >::CHECK;
        let Some(memory) = slot.claim() else {
            return Err(Occupied {
                future,
                schedule,
                data,
                builder: self,
            });
        };
        // SAFETY: the claimed block is ours, large and aligned enough (checked above), and
        // `TaskSlot::release` gives it back; the caller upholds the rest.
        Ok(
            unsafe {
                self.place::<F, Fut, S, D, TaskSlot<SIZE, A>>(memory, future, schedule, data)
            },
        )
    }
}

#[cfg(feature = "pool")]
pub use self::in_pool::InPool;

#[cfg(feature = "pool")]
mod in_pool {
    use super::{Alignment, Fits, Occupied, SpawnResult, Spawned, TaskBlock};
    use crate::raw::{Memory, RawTask};
    use crate::{Builder, Schedule};
    use core::future::Future;
    use core::marker::PhantomData;
    use core::ptr::NonNull;
    use pool::{Box, Pool};

    /// Tasks in the slots of a `pool` pool `P` of [`TaskBlock`]s: spawn without waiting
    /// ([`try_spawn`](Self::try_spawn)) or wait for a free slot ([`spawn`](Self::spawn)).
    ///
    /// The pool is declared with `pool!`; with waiter places, a spawn that finds every slot
    /// taken waits (FIFO, one wake per freed slot) until a task of the pool is destroyed.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::future::block_on;
    /// use task_ffi::{InPool, Runnable, TaskBlock};
    ///
    /// // Two tasks of at most 128 bytes at a time; one spawn may wait for a slot.
    /// pool::pool!(Tasks: [TaskBlock<128>; 2], 1);
    ///
    /// let (r1, t1) = InPool::<Tasks>::try_spawn(async { 1 }, |_: Runnable| {}).unwrap();
    /// let (r2, t2) = InPool::<Tasks>::try_spawn(async { 2 }, |_: Runnable| {}).unwrap();
    /// assert!(InPool::<Tasks>::try_spawn(async { 3 }, |_: Runnable| {}).is_err());
    /// r1.run();
    /// assert_eq!(block_on(t1), 1); // the first slot is free again
    /// let (r3, t3) = block_on(InPool::<Tasks>::spawn(async { 3 }, |_: Runnable| {})).unwrap();
    /// r2.run();
    /// r3.run();
    /// assert_eq!((block_on(t2), block_on(t3)), (2, 3));
    /// ```
    #[derive(Debug)]
    pub struct InPool<P>(PhantomData<P>, core::convert::Infallible);

    impl<P: Pool> Memory for InPool<P> {
        unsafe fn release(ptr: *mut u8, _: core::alloc::Layout) {
            // SAFETY: task pointers are never null.
            let ptr = unsafe { NonNull::new_unchecked(ptr) };
            // SAFETY: a task of kind `InPool<P>` lives in a slot of `P` whose `Box` was turned
            // into this pointer by `place` (`Box::into_raw`), once; its item is a `TaskBlock`,
            // which needs no drop.
            drop(unsafe { Box::<P>::from_raw(ptr.cast()) });
        }
    }

    impl<P, const SIZE: usize, A> InPool<P>
    where
        P: Pool<Item = TaskBlock<SIZE, A>>,
        A: Alignment,
    {
        /// Spawns `future` (user data `data`) into the block `b`.
        fn place<F, S, D>(b: Box<P>, future: F, schedule: S, data: D) -> Spawned<F::Output, (), D>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
            S: Schedule<(), D> + Send + Sync + 'static,
            D: Send + 'static,
        {
            let () = Fits::<RawTask<F, F::Output, S, (), D, Self>, TaskBlock<SIZE, A>>::CHECK;
            let memory = Box::into_raw(b).as_ptr().cast::<u8>();
            // SAFETY: the block is ours (its `Box` was turned into the pointer), large and
            // aligned enough (checked above), and `InPool::release` rebuilds the `Box` to give
            // it back; every part is `Send` (and `Sync` where shared) and `'static`.
            unsafe {
                Builder::new().place::<_, F, S, D, Self>(memory, move |()| future, schedule, data)
            }
        }

        /// Spawns `future` into a free slot of `P`, without waiting.
        ///
        /// # Errors
        ///
        /// [`Occupied`], with the arguments, when every slot is taken.
        pub fn try_spawn<F, S>(future: F, schedule: S) -> SpawnResult<F::Output, F, S, ()>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
            S: Schedule + Send + Sync + 'static,
        {
            Self::try_spawn_with(future, schedule, ())
        }

        /// [`try_spawn`](Self::try_spawn) with user data `D`.
        ///
        /// # Errors
        ///
        /// [`Occupied`], with the arguments, when every slot is taken.
        pub fn try_spawn_with<F, S, D>(
            future: F,
            schedule: S,
            data: D,
        ) -> SpawnResult<F::Output, F, S, D>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
            S: Schedule<(), D> + Send + Sync + 'static,
            D: Send + 'static,
        {
            match Box::<P>::try_new(TaskBlock::new()) {
                Ok(b) => Ok(Self::place(b, future, schedule, data)),
                Err(_) => Err(Occupied {
                    future,
                    schedule,
                    data,
                    builder: Builder::new(),
                }),
            }
        }

        /// Waits for a free slot of `P` (FIFO among waiters), then spawns `future` into it.
        ///
        /// # Errors
        ///
        /// [`Occupied`], with the arguments, when every slot and every waiter place of the
        /// pool is taken (a pool without waiter places never waits).
        pub async fn spawn<F, S>(future: F, schedule: S) -> SpawnResult<F::Output, F, S, ()>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
            S: Schedule + Send + Sync + 'static,
        {
            Self::spawn_with(future, schedule, ()).await
        }

        /// [`spawn`](Self::spawn) with user data `D`.
        ///
        /// # Errors
        ///
        /// As for [`spawn`](Self::spawn).
        pub async fn spawn_with<F, S, D>(
            future: F,
            schedule: S,
            data: D,
        ) -> SpawnResult<F::Output, F, S, D>
        where
            F: Future + Send + 'static,
            F::Output: Send + 'static,
            S: Schedule<(), D> + Send + Sync + 'static,
            D: Send + 'static,
        {
            match Box::<P>::new_async_with(TaskBlock::new).await {
                Some(b) => Ok(Self::place(b, future, schedule, data)),
                None => Err(Occupied {
                    future,
                    schedule,
                    data,
                    builder: Builder::new(),
                }),
            }
        }
    }
}
