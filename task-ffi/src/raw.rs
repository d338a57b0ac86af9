//! The raw task: construction, `run`, `schedule` and `destroy` (the waker is in `waker.rs`).
//!
//! Everything here works on the type-erased pointer `*const ()` to the start of the task's
//! memory (a [`RawTask`]). The methods of `RawTask` are monomorphised per task type and per
//! kind of memory (`Mem`: the heap, a static [`TaskSlot`](crate::TaskSlot), a slot of a `pool`
//! pool); the handles reach them through the [`TaskVTable`] in the header. The steps that do not
//! depend on the type (`start_run`, `end_pending`, `drop_ref`, `finish`) are free functions,
//! one copy for all task types. The kind of memory only decides how
//! the memory is obtained (by the spawn function, before [`RawTask::init`]) and how it is given
//! back ([`Memory::release`], the last step of `destroy`): the state machine is the same code for
//! every kind. The transitions are listed in the crate docs; the comments below say which
//! invariant each step keeps.

#[cfg(feature = "alloc")]
use alloc::alloc::{alloc, dealloc, handle_alloc_error};
use core::alloc::Layout;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop, offset_of};
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::task::{Context, Poll, RawWaker, Waker};

use sync_core::sync::atomic::Ordering;

use crate::header::{Header, TaskHead, TaskVTable};
use crate::state::{AWAITER, CLOSED, COMPLETED, HANDLE, REFERENCE, REFS, RUNNING, SCHEDULED};
use crate::waker::WAKER_VTABLE;
use crate::{Runnable, Schedule, ScheduleInfo};

/// The payload of a caught panic (`std`), or nothing (`no_std`, where panics are not caught).
#[cfg(feature = "std")]
pub(crate) type Panic = alloc::boxed::Box<dyn core::any::Any + Send + 'static>;
/// The payload of a caught panic (`std`), or nothing (`no_std`, where panics are not caught).
#[cfg(not(feature = "std"))]
pub(crate) type Panic = core::convert::Infallible;

/// The future while it runs, the output once it completed (`repr(C)`: both at offset 0).
#[repr(C)]
union Stage<F, T> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<Result<T, Panic>>,
}

/// The whole task (one allocation, or the inside of a static slot).
///
/// `Mem` is the kind of memory it lives in; it takes no room.
#[repr(C)]
pub(crate) struct RawTask<F, T, S, M, D, Mem> {
    head: TaskHead<M, D>,
    schedule: S,
    stage: Stage<F, T>,
    _memory: PhantomData<fn(Mem)>,
}

/// A kind of memory a task lives in: how it is given back once the task is destroyed.
pub(crate) trait Memory {
    /// Whether memory of this kind comes with the task's state word already in the initial
    /// state: a [`TaskSlot`](crate::TaskSlot)'s claim is the task's first transition, and
    /// [`RawTask::init`] must then leave the word alone (a spawn into the slot may be reading
    /// it). Other memory is the spawn's alone, and `init` writes the word.
    const STATE_WRITTEN: bool = false;

    /// Gives back the memory of a task whose parts have all been dropped.
    ///
    /// # Safety
    ///
    /// `ptr` is the start of a task of layout `layout` that was placed in memory of this kind
    /// (by the matching spawn function), nothing in it needs a drop any more, and nobody can
    /// reach it: ownership of the memory passes to this call, once.
    unsafe fn release(ptr: *mut u8, layout: Layout);
}

/// Memory from the global allocator, one allocation per task.
#[cfg(feature = "alloc")]
pub(crate) enum Heap {}

#[cfg(feature = "alloc")]
impl Memory for Heap {
    unsafe fn release(ptr: *mut u8, layout: Layout) {
        // SAFETY: the task was allocated with this layout by `RawTask::allocate` (the caller's
        // promise), and is ours to free.
        unsafe { dealloc(ptr, layout) };
    }
}

/// Returns the header of the task at `ptr`.
///
/// # Safety
///
/// `ptr` points at a live task and the task outlives `'a`.
#[inline(always)]
pub(crate) unsafe fn header<'a>(ptr: *const ()) -> &'a Header {
    // SAFETY: the header is at offset 0 of every task (`TaskHead` is `repr(C)`), and the caller
    // promises the task is alive for `'a`. Only atomics and the awaiter cell are reached
    // through it, both with interior mutability.
    unsafe { &*ptr.cast::<Header>() }
}

/// The task pointer as `NonNull`.
///
/// # Safety
///
/// `ptr` points at a task (task pointers are never null).
#[inline(always)]
unsafe fn non_null(ptr: *const ()) -> NonNull<()> {
    // SAFETY: the caller's promise: a pointer to a task is not null.
    unsafe { NonNull::new_unchecked(ptr.cast_mut()) }
}

/// Drops one reference of a completed or closed task (from [`finish`]) and frees the task if
/// it was the last one and the `Task` is gone. (A reference that may be the last of an
/// unfinished task goes through the waker's drop, which closes the task first.)
///
/// # Safety
///
/// The caller owns one reference to the live task at `ptr`.
#[inline]
pub(crate) unsafe fn drop_ref(ptr: *const ()) {
    // SAFETY: our reference keeps the task alive until the `fetch_sub` below.
    let header = unsafe { header(ptr) };
    let destroy = header.vtable.destroy;
    // ORDERING: as `Arc`'s drop. `Release` publishes every use of the task through this
    // reference to whoever frees it; `Acquire`, when ours was the last reference and the `Task`
    // is gone, makes every other handle's uses (published by their own `Release` decrement or
    // `HANDLE` clear) happen-before `destroy`.
    let new = header.state.fetch_sub(REFERENCE, Ordering::AcqRel) - REFERENCE;
    if new & (REFS | HANDLE) == 0 {
        // SAFETY: no reference and no handle remain, so nobody else can reach the task.
        unsafe { destroy(ptr) };
    }
}

/// Takes the awaiter (if flagged in `state`), drops our reference, then wakes the awaiter
/// (outside any transition: the task may already be freed).
///
/// A panic of the wake leaves this function with the state consistent. If dropping the
/// reference destroys the task and a destructor panics, the awaiter is dropped without a wake:
/// the task is destroyed only once its `Task` is gone, so nobody awaits it.
///
/// # Safety
///
/// The caller owns one reference to the live task.
pub(crate) unsafe fn finish(ptr: *const (), state: usize) {
    // SAFETY: our reference keeps the task alive.
    let header = unsafe { header(ptr) };
    let awaiter = if state & AWAITER != 0 {
        header.take(None)
    } else {
        None
    };
    // SAFETY: we own the reference; the header is not touched after this.
    unsafe { drop_ref(ptr) };
    if let Some(w) = awaiter {
        w.wake();
    }
}

/// Gives up `SCHEDULED` and the reference of a runnable whose future it drops, then wakes the
/// awaiter: when it goes out of scope, so also when the future's destructor panics.
pub(crate) struct Release(*const ());

impl Release {
    /// # Safety
    ///
    /// The caller owns a runnable's reference to the live task at `ptr` and `SCHEDULED`, and
    /// hands both to the guard (it drops the future, then lets the guard go).
    pub(crate) unsafe fn new(ptr: *const ()) -> Self {
        Self(ptr)
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        let ptr = self.0;
        // SAFETY: the guard owns the runnable's reference and SCHEDULED (see `new`), which
        // keep the task alive until `finish`.
        let header = unsafe { header(ptr) };
        // ORDERING: `Release` publishes the drop of the future: a `Task` whose `Acquire` load
        // sees the task closed with neither SCHEDULED nor RUNNING set sees its destructor's
        // effects. The `Acquire` half is not needed (`finish` acquires on its own).
        let state = header.state.fetch_and(!SCHEDULED, Ordering::AcqRel);
        // SAFETY: we give up the runnable's reference (after waking the awaiter).
        unsafe { finish(ptr, state) };
    }
}

/// Drops the value behind the pointer when it goes out of scope (also while unwinding).
struct DropInPlace<X>(*mut X);

impl<X> DropInPlace<X> {
    /// # Safety
    ///
    /// `ptr` points at a live `X` that the caller owns and whose drop it hands to the guard.
    unsafe fn new(ptr: *mut X) -> Self {
        Self(ptr)
    }
}

impl<X> Drop for DropInPlace<X> {
    fn drop(&mut self) {
        // SAFETY: the guard owns the live value (see `new`); it is dropped once, here.
        unsafe { ptr::drop_in_place(self.0) };
    }
}

/// Drops the parts of a task's head that may need a drop (the awaiter, `M`, `D`, in this
/// order, all of them also when one destructor panics) when it goes out of scope. The state
/// word is not touched: a spawn into a slot may be reading it.
struct DropHead<M, D>(*mut TaskHead<M, D>);

impl<M, D> DropHead<M, D> {
    /// # Safety
    ///
    /// `ptr` points at a live head that the caller owns and whose drop it hands to the guard.
    unsafe fn new(ptr: *mut TaskHead<M, D>) -> Self {
        Self(ptr)
    }
}

impl<M, D> Drop for DropHead<M, D> {
    fn drop(&mut self) {
        let (header, metadata, data) = head_parts(self.0);
        // Declared in reverse order of their drops.
        // SAFETY: the guard owns the live head (see `new`): each part is dropped once, here.
        let _data = unsafe { DropInPlace::new(data) };
        // SAFETY: as above.
        let _metadata = unsafe { DropInPlace::new(metadata) };
        // SAFETY: as above.
        let _awaiter = unsafe { DropInPlace::new(Header::awaiter_ptr(header)) };
    }
}

/// Points at the header, the metadata and the data of the head at `head` (no dereference:
/// safe).
#[inline(always)]
fn head_parts<M, D>(head: *mut TaskHead<M, D>) -> (*mut Header, *mut M, *mut D) {
    (
        head.cast(),
        head.wrapping_byte_add(TaskHead::<M, D>::METADATA_OFFSET)
            .cast(),
        head.wrapping_byte_add(TaskHead::<M, D>::DATA_OFFSET).cast(),
    )
}

/// Gives the memory of an `X` back to its kind `Mem` when it goes out of scope (also while
/// unwinding).
struct GiveBack<X, Mem: Memory>(*mut X, PhantomData<fn(Mem)>);

impl<X, Mem: Memory> GiveBack<X, Mem> {
    /// # Safety
    ///
    /// `ptr` is memory of kind `Mem` for an `X` (see [`Memory::release`]) and the caller hands
    /// its ownership to the guard; everything in it that needs a drop is dropped before the
    /// guard goes.
    unsafe fn new(ptr: *mut X) -> Self {
        Self(ptr, PhantomData)
    }
}

impl<X, Mem: Memory> Drop for GiveBack<X, Mem> {
    fn drop(&mut self) {
        // SAFETY: the guard owns the memory, of kind `Mem` and laid out for an `X`, whose
        // contents are dropped (or were never written) by now (see `new`).
        unsafe { Mem::release(self.0.cast(), Layout::new::<X>()) };
    }
}

/// The field pointers and the teardown, which need no trait bounds.
impl<F, T, S, M, D, Mem: Memory> RawTask<F, T, S, M, D, Mem> {
    /// Points at the head (header, metadata, data) of the task at `raw`.
    #[inline(always)]
    fn head_ptr(raw: *mut Self) -> *mut TaskHead<M, D> {
        raw.cast()
    }

    /// Points at the schedule function of the task at `raw` (no dereference: safe).
    #[inline(always)]
    fn schedule_ptr(raw: *mut Self) -> *mut S {
        raw.wrapping_byte_add(offset_of!(Self, schedule)).cast()
    }

    /// Points at the future of the task at `raw` (`Stage` is `repr(C)`, `ManuallyDrop`
    /// transparent).
    #[inline(always)]
    fn future_ptr(raw: *mut Self) -> *mut F {
        raw.wrapping_byte_add(offset_of!(Self, stage)).cast()
    }

    /// Points at the output of the task at `raw`.
    #[inline(always)]
    fn output_ptr(raw: *mut Self) -> *mut Result<T, Panic> {
        raw.wrapping_byte_add(offset_of!(Self, stage)).cast()
    }

    /// The type-erased pointer as `*mut Self`.
    #[inline(always)]
    fn cast(ptr: *const ()) -> *mut Self {
        ptr.cast::<Self>().cast_mut()
    }

    /// Drops `S`, then the head (the awaiter, `M`, `D`), then gives the memory back. A
    /// panicking destructor does not stop the rest: the other parts are still dropped and the
    /// memory is given back while the panic unwinds (a second panic aborts, as always in Rust).
    ///
    /// # Safety
    ///
    /// The caller owns the task's memory at `raw` (of kind `Mem`) with its head and schedule
    /// function written, nobody else can reach it, and the stage holds nothing that still needs
    /// a drop.
    unsafe fn free(raw: *mut Self) {
        // Nothing to drop (the usual case): give the memory back without the guards below,
        // whose unwinding cleanup costs registers. Without unwinding they cost nothing and the
        // test would only add code.
        let nothing_to_drop = cfg!(panic = "unwind")
            && !mem::needs_drop::<S>()
            && !mem::needs_drop::<M>()
            && !mem::needs_drop::<D>()
            && {
                // SAFETY: the head is alive (the caller's promise).
                let header = unsafe { header(raw.cast_const().cast()) };
                // SAFETY: the task is ours alone (the caller's promise).
                unsafe { header.awaiter_is_empty() }
            };
        if nothing_to_drop {
            // SAFETY: the caller hands us the memory, of kind `Mem`; nothing in it needs a drop.
            unsafe { Mem::release(raw.cast(), Layout::new::<Self>()) };
        } else {
            // SAFETY: the caller's promise.
            unsafe { Self::drop_and_free(raw) };
        }
    }

    /// [`Self::free`] when something needs a drop: out of line when panics unwind, so that its
    /// unwinding cleanup costs the fast path nothing.
    ///
    /// # Safety
    ///
    /// As for [`Self::free`].
    #[cfg_attr(panic = "unwind", inline(never))]
    unsafe fn drop_and_free(raw: *mut Self) {
        // Declared in reverse order of their drops.
        // SAFETY: the caller hands us the memory, of kind `Mem`.
        let _memory = unsafe { GiveBack::<Self, Mem>::new(raw) };
        // SAFETY: the head is alive and ours (the caller's promise).
        let _head = unsafe { DropHead::new(Self::head_ptr(raw)) };
        // SAFETY: as is the schedule function.
        let _schedule = unsafe { DropInPlace::new(Self::schedule_ptr(raw)) };
    }
}

impl<F, T, S, M, D, Mem> RawTask<F, T, S, M, D, Mem>
where
    F: Future<Output = T>,
    S: Schedule<M, D>,
    Mem: Memory,
{
    const VTABLE: TaskVTable = TaskVTable {
        schedule: Self::schedule,
        drop_future: Self::drop_future,
        output_offset: offset_of!(Self, stage),
        destroy: Self::destroy,
        run: Self::run::<false>,
    };

    /// The vtable of a task that catches the panics of its future (`run` differs).
    #[cfg(feature = "std")]
    const VTABLE_PROPAGATE: TaskVTable = TaskVTable {
        run: Self::run::<true>,
        ..Self::VTABLE
    };

    /// Allocates a task on the heap; see [`init`](Self::init).
    ///
    /// # Safety
    ///
    /// As for [`init`](Self::init); `Mem` is [`Heap`].
    #[cfg(feature = "alloc")]
    pub(crate) unsafe fn allocate<'a, G>(
        future: G,
        schedule: S,
        metadata: M,
        data: D,
        propagate_panic: bool,
    ) -> NonNull<()>
    where
        G: FnOnce(&'a M) -> F,
        M: 'a,
    {
        let layout = Layout::new::<Self>();
        // SAFETY: the layout is not zero-sized (the header alone is 4 words).
        let raw = unsafe { alloc(layout) }.cast::<Self>();
        if raw.is_null() {
            handle_alloc_error(layout);
        }
        // SAFETY: a fresh allocation of this layout, which `Heap::release` frees; the caller
        // upholds the rest.
        unsafe { Self::init(raw, future, schedule, metadata, data, propagate_panic) }
    }

    /// Builds a task in the memory at `raw`. `future` is called with a reference to the
    /// metadata in its final place (so the future may borrow it); if that call panics, the
    /// parts written so far are dropped and the memory is given back (`Mem::release`).
    ///
    /// # Safety
    ///
    /// `raw` is non-null, valid and aligned for a `Self`, of kind `Mem`, and owned by the caller,
    /// who hands it to the task (it goes back through `Mem::release` once the task is
    /// destroyed). The metadata reference handed to `future` is valid as long as the task; the
    /// caller (a `spawn` function) guarantees that `'a` does not outlive it, and upholds the
    /// thread and lifetime rules of `spawn_unchecked` for `F`, `S`, `M` and `D`.
    pub(crate) unsafe fn init<'a, G>(
        raw: *mut Self,
        future: G,
        schedule: S,
        metadata: M,
        data: D,
        propagate_panic: bool,
    ) -> NonNull<()>
    where
        G: FnOnce(&'a M) -> F,
        M: 'a,
    {
        #[cfg(feature = "std")]
        let vtable: &'static TaskVTable = if propagate_panic {
            &Self::VTABLE_PROPAGATE
        } else {
            &Self::VTABLE
        };
        #[cfg(not(feature = "std"))]
        let vtable: &'static TaskVTable = {
            let _ = propagate_panic;
            &Self::VTABLE
        };

        let head = Self::head_ptr(raw);
        let (header_ptr, metadata_ptr, data_ptr) = head_parts(head);
        // SAFETY: `raw` is valid memory for `Self` (the caller's promise), ours but for the
        // state word of memory whose claim wrote it; the part pointers are in bounds.
        unsafe { Header::write(header_ptr, vtable, !Mem::STATE_WRITTEN) };
        // SAFETY: as above.
        unsafe { metadata_ptr.write(metadata) };
        // SAFETY: as above.
        unsafe { data_ptr.write(data) };
        // SAFETY: as above.
        unsafe { Self::schedule_ptr(raw).write(schedule) };

        // If the future constructor panics, the parts written so far are dropped and the
        // memory given back (the stage was never written); locals drop in reverse order, so
        // the schedule function goes first, then the head, then the memory (as in `free`).
        // SAFETY: the memory is ours until the guards are forgotten below.
        let memory = unsafe { GiveBack::<Self, Mem>::new(raw) };
        // SAFETY: the head was written above and is ours.
        let drop_head = unsafe { DropHead::new(head) };
        // SAFETY: so is the schedule function.
        let drop_schedule = unsafe { DropInPlace::new(Self::schedule_ptr(raw)) };
        // SAFETY: the metadata was written above and lives as long as the task, which the
        // caller guarantees is at least `'a` for whatever the future does with it.
        let metadata: &'a M = unsafe {
            &*raw
                .wrapping_byte_add(TaskHead::<M, D>::METADATA_OFFSET)
                .cast::<M>()
        };
        let future = future(metadata);
        mem::forget((drop_schedule, drop_head, memory));
        // SAFETY: in bounds of the task's memory; the stage now holds the future.
        unsafe { Self::future_ptr(raw).write(future) };
        // SAFETY: `raw` is not null (the caller's promise).
        unsafe { non_null(raw.cast_const().cast()) }
    }

    /// Drops the future in place.
    ///
    /// # Safety
    ///
    /// The caller owns the future (holds `SCHEDULED` or `RUNNING`) and it is still there.
    unsafe fn drop_future(ptr: *const ()) {
        let raw = Self::cast(ptr);
        // SAFETY: the caller owns the live future; nobody else touches the stage meanwhile.
        unsafe { ptr::drop_in_place(Self::future_ptr(raw)) };
    }

    /// Drops `S`, the awaiter, `M` and `D`, then frees the memory (all of it also when one of
    /// the destructors panics; see `free`).
    ///
    /// # Safety
    ///
    /// No reference and no handle remain, and the future was dropped (or became the output,
    /// which was taken).
    unsafe fn destroy(ptr: *const ()) {
        // SAFETY: the last owner frees the task once; the stage holds nothing (the caller's
        // promise), and the head and the schedule function are alive.
        unsafe { Self::free(Self::cast(ptr)) };
    }

    /// Calls the schedule function with a new `Runnable` that takes over one reference.
    ///
    /// # Safety
    ///
    /// The caller owns one reference and has set `SCHEDULED`; both pass to the `Runnable`.
    unsafe fn schedule(ptr: *const (), info: ScheduleInfo) {
        // The schedule function lives in the task: if it drops the `Runnable` (or wakes and
        // the last reference goes), the task must survive until the call returns. A temporary
        // waker reference guards it; dropping the guard may reschedule or destroy the task.
        let _guard = if mem::size_of::<S>() > 0 || mem::needs_drop::<S>() {
            // SAFETY: our reference keeps the task alive while we clone.
            let raw = unsafe { crate::waker::clone_waker(ptr) };
            // SAFETY: `clone_waker` took a reference for this waker.
            Some(unsafe { Waker::from_raw(raw) })
        } else {
            None
        };
        // SAFETY: `ptr` points at the task (the caller owns a reference).
        let ptr_nn = unsafe { non_null(ptr) };
        // SAFETY: the caller hands its reference and the SCHEDULED right to the runnable.
        let runnable = unsafe { Runnable::<M, D>::from_raw(ptr_nn) };
        let raw = Self::cast(ptr);
        // SAFETY: the guard (or the `Runnable`, for a stateless `S`) keeps the task alive during
        // the call; `S` is only ever shared (`&S`), never mutated, until `destroy`.
        let schedule = unsafe { &*Self::schedule_ptr(raw) };
        schedule.schedule(runnable, info);
    }

    /// Polls the future once, catching a panic when the task propagates panics.
    ///
    /// # Safety
    ///
    /// The caller set RUNNING, so it owns the live, pinned future.
    #[inline(always)]
    unsafe fn poll<const PROPAGATE: bool>(
        ptr: *const (),
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, Panic>> {
        let raw = Self::cast(ptr);
        // SAFETY: RUNNING gives us the future; it never moves (it lives in the allocation).
        let future = unsafe { &mut *Self::future_ptr(raw) };
        // SAFETY: the future never moves: it lives in the allocation until dropped in place.
        let future = unsafe { Pin::new_unchecked(future) };
        #[cfg(feature = "std")]
        {
            if PROPAGATE {
                let poll =
                    std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| future.poll(cx)));
                return match poll {
                    Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
                    Ok(Poll::Pending) => Poll::Pending,
                    Err(payload) => Poll::Ready(Err(payload)),
                };
            }
        }
        future.poll(cx).map(Ok)
    }

    /// Drops the future that just returned `out`, while RUNNING still guards it.
    ///
    /// With `propagate_panic`, a panic of the future's destructor is caught like a panic of its
    /// poll: the first panic becomes the output, and the value it replaces is returned as the
    /// second element, for the caller to drop once the state is consistent. Otherwise the panic
    /// unwinds (dropping `out`) and the caller's [`RunGuard`] closes the task.
    ///
    /// # Safety
    ///
    /// The caller set RUNNING, so it owns the live future.
    #[inline(always)]
    unsafe fn drop_completed<const PROPAGATE: bool>(
        ptr: *const (),
        out: Result<T, Panic>,
    ) -> (Result<T, Panic>, Option<Result<T, Panic>>) {
        #[cfg(feature = "std")]
        {
            if PROPAGATE {
                let dropped = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
                    // SAFETY: RUNNING: the future is ours, dropped once, here.
                    unsafe { Self::drop_future(ptr) }
                }));
                return match (dropped, out) {
                    (Ok(()), out) => (out, None),
                    (Err(payload), Ok(value)) => (Err(payload), Some(Ok(value))),
                    (Err(payload), Err(first)) => (Err(first), Some(Err(payload))),
                };
            }
        }
        // SAFETY: RUNNING: the future is ours, dropped once, here.
        unsafe { Self::drop_future(ptr) };
        (out, None)
    }

    /// `Runnable::run`: polls the future once. Returns whether the task was woken while it ran.
    ///
    /// User code runs at four places here: the poll, the future's destructor (completed or
    /// cancelled), the schedule function (woken while running) and the awaiter's wake. The
    /// first two run while SCHEDULED or RUNNING is held, so a guard ([`Release`],
    /// [`RunGuard`]) finishes the transition if they unwind; the last two run after it.
    ///
    /// # Safety
    ///
    /// The caller owns the runnable's reference and `SCHEDULED`.
    unsafe fn run<const PROPAGATE: bool>(ptr: *const ()) -> bool {
        // SAFETY: the caller owns the runnable's reference and SCHEDULED.
        let Some(mut state) = (unsafe { start_run(ptr, Self::drop_future) }) else {
            return false;
        };
        // SAFETY: the runnable's reference keeps the task alive until we give it up.
        let header = unsafe { header(ptr) };
        // The context's waker borrows the runnable's reference: never dropped.
        let waker = ManuallyDrop::new(
            // SAFETY: the vtable implements the RawWaker contract for this task.
            unsafe { Waker::from_raw(RawWaker::new(ptr, &WAKER_VTABLE)) },
        );
        let cx = &mut Context::from_waker(&waker);
        // Until RUNNING is cleared, a panic closes the task (dropping the future if it is
        // still alive).
        let mut guard = RunGuard {
            ptr,
            future_alive: true,
        };
        // SAFETY: we set RUNNING.
        let poll = unsafe { Self::poll::<PROPAGATE>(ptr, cx) };

        match poll {
            Poll::Ready(out) => {
                // Whatever happens in its destructor, the future is gone after this call.
                guard.future_alive = false;
                // SAFETY: RUNNING: the future is ours; the output takes its place.
                let (out, discarded) = unsafe { Self::drop_completed::<PROPAGATE>(ptr, out) };
                let output = Self::cast(ptr);
                // SAFETY: the stage is ours and now empty.
                unsafe { Self::output_ptr(output).write(out) };
                mem::forget(guard);
                loop {
                    // Without a handle nobody will take the output: close and drop it here.
                    let mut new = (state & !RUNNING & !SCHEDULED) | COMPLETED;
                    if state & HANDLE == 0 {
                        new |= CLOSED;
                    }
                    // ORDERING: `Release` publishes the output written above (and the drop of
                    // the future): the `Task`'s `Acquire` that sees COMPLETED reads it. The
                    // `Acquire` half is not needed: without a handle we read back the output
                    // we wrote ourselves, and `finish` acquires on its own.
                    match header.state.compare_exchange_weak(
                        state,
                        new,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => {
                            let output = if state & (HANDLE | CLOSED) != HANDLE {
                                // SAFETY: CLOSED after COMPLETED: the output is ours.
                                Some(unsafe { Self::read_output(ptr) })
                            } else {
                                None
                            };
                            // SAFETY: we own the reference.
                            unsafe { finish(ptr, state) };
                            // User destructors, after the transition.
                            drop(output);
                            drop(discarded);
                            break;
                        }
                        Err(s) => state = s,
                    }
                }
                false
            }
            // SAFETY: we set RUNNING and own the reference; the guard passes on.
            Poll::Pending => unsafe {
                end_pending(guard, state, Self::drop_future, Self::schedule)
            },
        }
    }

    /// Moves the output out of the task.
    ///
    /// # Safety
    ///
    /// The output is there and the caller is the one that set CLOSED on the completed task.
    unsafe fn read_output(ptr: *const ()) -> Result<T, Panic> {
        let raw = Self::cast(ptr);
        // SAFETY: the caller owns the output, which is read exactly once.
        unsafe { ptr::read(Self::output_ptr(raw)) }
    }
}

/// The first step of `run`, the same for every task type: trades SCHEDULED for RUNNING and
/// returns the new state; or, if the task was cancelled, drops its future and gives up
/// SCHEDULED and the runnable's reference, and returns `None`.
///
/// # Safety
///
/// The caller owns the runnable's reference to the live task at `ptr` and `SCHEDULED`;
/// `drop_future` is the task's own (that of its [`TaskVTable`]). Taking it as an argument lets
/// an inlined copy call it directly, while the out-of-line copy is shared by all task types.
#[inline]
unsafe fn start_run(ptr: *const (), drop_future: unsafe fn(*const ())) -> Option<usize> {
    // SAFETY: the runnable's reference keeps the task alive until we give it up.
    let header = unsafe { header(ptr) };
    // ORDERING: a first guess. On the CLOSED exit we drop the future without a
    // compare-and-swap: SCHEDULED already makes it ours (the runnable reached us through the
    // schedule function, which synchronises), and the `Release` guard publishes the drop.
    let mut state = header.state.load(Ordering::Acquire);
    loop {
        if state & CLOSED != 0 {
            // Cancelled: drop the future here, on the executor's thread; then (also if
            // its destructor panics) give up SCHEDULED and the reference.
            // SAFETY: we own the runnable's reference and SCHEDULED.
            let _release = unsafe { Release::new(ptr) };
            // SAFETY: SCHEDULED makes the future ours.
            unsafe { drop_future(ptr) };
            return None;
        }
        // ORDERING: success `Acquire` is what makes a waker's writes visible to this poll
        // when its wake found the task already scheduled and made no runnable: its
        // `Release` compare-and-swap is in the release sequence this one reads. The
        // `Release` half publishes nothing yet. Failure `Acquire`: the retry decides on it.
        match header.state.compare_exchange_weak(
            state,
            (state & !SCHEDULED) | RUNNING,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return Some((state & !SCHEDULED) | RUNNING),
            Err(s) => state = s,
        }
    }
}

/// The end of a poll that returned `Pending`, the same for every task type: clears RUNNING
/// (after dropping the future if the task was cancelled meanwhile), then hands the runnable's
/// reference on: to a new runnable if the task was woken while it ran (returns `true`), else
/// it gives it up.
///
/// # Safety
///
/// The caller set RUNNING (`state` is the state it set, or a later guess), owns the runnable's
/// reference and hands `guard`, for the live future, to this call. `drop_future` and `schedule`
/// are the task's own (those of its [`TaskVTable`]), passed as in [`start_run`].
#[inline]
unsafe fn end_pending(
    mut guard: RunGuard,
    mut state: usize,
    drop_future: unsafe fn(*const ()),
    schedule: unsafe fn(*const (), ScheduleInfo),
) -> bool {
    let ptr = guard.ptr;
    // SAFETY: the runnable's reference keeps the task alive until we give it up.
    let header = unsafe { header(ptr) };
    loop {
        if state & CLOSED != 0 && guard.future_alive {
            // Cancelled while running: drop the future while RUNNING still guards
            // it, so an awaiter that sees the task idle sees it dropped. If the
            // destructor panics, the guard finishes the transition.
            guard.future_alive = false;
            // SAFETY: RUNNING makes the future ours.
            unsafe { drop_future(ptr) };
        }
        let new = if state & CLOSED != 0 {
            state & !RUNNING & !SCHEDULED
        } else {
            state & !RUNNING
        };
        // ORDERING: `Release` publishes this poll's effects on the future (and its
        // drop, if cancelled): to the waker whose `Acquire` compare-and-swap finds the
        // task idle and makes the next runnable, and to a `Task` that sees it idle and
        // closed. When a wake set SCHEDULED during the poll, this read-modify-write
        // continues that wake's release sequence, so the next `run`'s `Acquire` sees the
        // waker's writes. The `Acquire` half is not needed here (`finish`, `drop_waker`
        // and the next `run` acquire on their own).
        match header
            .state
            .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                mem::forget(guard);
                if state & CLOSED != 0 {
                    // SAFETY: we own the reference.
                    unsafe { finish(ptr, state) };
                } else if state & SCHEDULED != 0 {
                    // Woken while running: our reference becomes the new runnable.
                    // SAFETY: SCHEDULED stayed set and we own the reference.
                    unsafe { schedule(ptr, ScheduleInfo::new(true)) };
                    return true;
                } else {
                    // As a waker's drop: if ours is the last reference and no `Task` is left,
                    // nobody can wake the task again, so it is closed and scheduled once more,
                    // and the executor drops the future (its memory is pinned: it is never
                    // given back with the future undropped).
                    // SAFETY: we own the reference.
                    unsafe { crate::waker::drop_waker(ptr) };
                }
                return false;
            }
            Err(s) => state = s,
        }
    }
}

/// Closes the task if user code panics while `run` holds RUNNING: the poll (when panics are
/// not propagated) or the future's destructor.
///
/// It drops the future if it is still alive (a second panic there aborts the process, as
/// always while unwinding), clears RUNNING and SCHEDULED (a wake during the poll made no
/// runnable: the runner's reference stands for it), sets CLOSED, and gives up the runnable's
/// reference, waking the awaiter. The `Task` then resolves as cancelled, and the allocation is
/// freed by whoever lets go last.
struct RunGuard {
    ptr: *const (),
    future_alive: bool,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        let ptr = self.ptr;
        // SAFETY: the runnable's reference keeps the task alive until `finish`.
        let header = unsafe { header(ptr) };
        if self.future_alive {
            // Drop the future first, while RUNNING still guards it.
            // SAFETY: RUNNING is still set: the future is ours.
            unsafe { (header.vtable.drop_future)(ptr) };
        }
        // ORDERING: the load is a first guess. The compare-and-swap's `Release` publishes the
        // drop of the future to a `Task` that sees the task closed and idle (as in the `Release` guard);
        // its `Acquire` half is not needed (`finish` acquires on its own).
        let mut state = header.state.load(Ordering::Acquire);
        loop {
            match header.state.compare_exchange_weak(
                state,
                (state & !RUNNING & !SCHEDULED) | CLOSED,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(s) => state = s,
            }
        }
        // SAFETY: we own the runnable's reference.
        unsafe { finish(ptr, state) };
    }
}
