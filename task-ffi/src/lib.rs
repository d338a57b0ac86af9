//! The task abstraction for building executors, compatible with async-task 4.7, plus what
//! executors written against raw pointers (C, or any FFI) need.
//!
//! A *task* is a future in one heap allocation (or a static slot, see
//! [below](#without-a-heap)), with a state word, the schedule function and room for the output. [`spawn`] returns two handles:
//!
//! - a [`Runnable`], the right to poll the future once ([`Runnable::run`]); it is handed to the
//!   schedule function each time the task is woken, and the executor queues it;
//! - a [`Task`], a future of the output (or [`detach`](Task::detach) it, or
//!   [`cancel`](Task::cancel) it).
//!
//! ```
//! let (sender, receiver) = std::sync::mpsc::channel();
//! let schedule = move |runnable| sender.send(runnable).unwrap();
//! let (runnable, task) = task_ffi::spawn(async { 1 + 2 }, schedule);
//! runnable.schedule();
//! while let Ok(runnable) = receiver.try_recv() {
//!     runnable.run();
//! }
//! assert_eq!(futures_lite::future::block_on(task), 3);
//! ```
//!
//! Code written for async-task compiles after replacing the crate name: [`spawn`],
//! [`spawn_local`], [`spawn_unchecked`], [`Builder`] (metadata, `propagate_panic`),
//! [`Runnable`], [`Task`], [`FallibleTask`], [`Schedule`], [`ScheduleInfo`], [`WithInfo`].
//!
//! # For FFI executors
//!
//! - [`spawn_with`], [`spawn_local_with`], [`spawn_unchecked_with`] (and the `Builder`
//!   equivalents) attach user data `D` to the task, reached through [`Runnable::data`] and
//!   [`Runnable::data_mut`] (changes persist across schedules) and dropped with the task.
//! - The data sits at a fixed offset from the task pointer, right after the header and the
//!   metadata: [`TaskHead<M, D>`] is the `#[repr(C)]` view and `TaskHead::<M, D>::DATA_OFFSET`
//!   the offset (32 on 64-bit targets for `M = ()`). A C executor reads it without a call.
//! - [`Runnable::into_raw`]/[`from_raw`](Runnable::from_raw) and
//!   [`Task::into_raw`]/[`from_raw`](Task::from_raw) move the handles through foreign code;
//!   [`ffi`] has type-erased `extern "C"` functions to run, schedule and drop a runnable.
//! - Every type in a signature is public (`spawn_local_with` returns a plain `Runnable<(), D>`),
//!   and the safe functions require `D: Send` and `M: Send + Sync`, because the last reference
//!   to a task may be dropped on any thread (see [below](#threads-handles-and-parts)).
//!
//! The bounds are checked at compile time: metadata or data that is not `Send` does not go
//! through the safe functions, and a runnable with such data does not leave its thread.
//!
//! ```compile_fail,E0277
//! use std::rc::Rc;
//! // async-task accepts this (its issue #100): the `Rc` could be dropped by a waker elsewhere.
//! let _ = task_ffi::Builder::new().metadata(Rc::new(1)).spawn(|_| async {}, |_| {});
//! ```
//!
//! ```compile_fail,E0277
//! let _ = task_ffi::spawn_with(async {}, |_| {}, std::rc::Rc::new(1));
//! ```
//!
//! ```compile_fail,E0277
//! fn assert_send<T: Send>(_: T) {}
//! // SAFETY: nothing leaves this thread (and the assertion below does not compile).
//! let (runnable, _task) =
//!     unsafe { task_ffi::spawn_unchecked_with(async {}, |_| {}, std::rc::Rc::new(1)) };
//! assert_send(runnable);
//! ```
//!
//! # Threads, handles and parts
//!
//! A task is reached through three kinds of handles: its [`Runnable`] (at most one at a time;
//! each wake makes a new one and hands it to the schedule function on the waking thread), its
//! [`Task`] (or the [`FallibleTask`] made from it) and any number of
//! [`Waker`](core::task::Waker)s (always `Send + Sync` by type). Each part of the task is used
//! on the thread of the handle that touches it:
//!
//! | part | used by | dropped by |
//! | --- | --- | --- |
//! | future | [`Runnable::run`] (poll) | [`Runnable::run`], dropping a `Runnable` |
//! | output | made by [`Runnable::run`], taken by the `Task` | the `Task` (awaited, cancelled, detached, dropped), or `run` when there is no `Task` |
//! | schedule function `S` | called by [`Waker::wake`](core::task::Waker::wake)/[`wake_by_ref`](core::task::Waker::wake_by_ref), dropping the last `Waker`, [`Runnable::schedule`], [`Runnable::run`] (woken while running), the `Task` (cancelled, detached, dropped) | whichever handle goes last: a `Runnable`, a `Waker` or the `Task` |
//! | metadata `M` | `&M`: [`Runnable::metadata`], [`Task::metadata`], the future (`spawn_unchecked`) | as for `S` |
//! | data `D` | `&D`/`&mut D`: [`Runnable::data`]/[`data_mut`](Runnable::data_mut) (also inside the schedule function) | as for `S` |
//!
//! The spawn functions differ only in the bounds they require: the safe ones require what makes
//! every row sound on any thread:
//!
//! | function | future | output | schedule `S` | metadata `M` | data `D` |
//! | --- | --- | --- | --- | --- | --- |
//! | `spawn`, `spawn_with` | `Send + 'static` | `Send + 'static` | `Send + Sync + 'static` | `Send + Sync + 'static` | `Send + 'static` |
//! | `spawn_local`, `spawn_local_with` (`std`) | `'static`, checked at run time to be polled and dropped only on its thread | `'static`; made only on that thread, and a `Task` of an output that is not `Send` stays there by type | as above | as above | as above |
//! | `spawn_unchecked`, `spawn_unchecked_with` | none (`unsafe`: see [`Builder::spawn_unchecked`] for the rules) | none | none | none | none |
//!
//! `M` must be `Send + Sync`, `S` `Send + Sync` and `D` `Send` even for `spawn_local` because
//! any `Waker`, which may be on any thread, can call `S` (handing it a `Runnable` with `&M` and
//! `&mut D`) and, as the last handle, drop `S`, `M` and `D` there. async-task lets a non-`Send`
//! `M` through its safe `spawn` (its issue #100); this crate does not.
//!
//! The [`ffi`] functions run, schedule and drop a `Runnable`: they follow the
//! `Runnable` rules of the function that spawned the task.
//!
//! # Layout
//!
//! One allocation per task: `Header` (state word, awaiter waker, vtable pointer: 4 words, 32
//! bytes on 64-bit), `M`, `D`, the schedule function `S`, then a union of the future `F` and the
//! output `Result<T, Panic>`. `propagate_panic` picks one of two per-type `'static` vtables
//! instead of taking room in the header. See [`TaskHead`].
//!
//! # State machine
//!
//! The state word holds the flags `SCHEDULED`, `RUNNING`, `COMPLETED`, `CLOSED`, `HANDLE`,
//! `AWAITER`, `REGISTERING`, `NOTIFYING`, `TAKEN` and a count of references (one per `Runnable`
//! and one per `Waker`; the `Task` is the `HANDLE` flag). `TAKEN` is set from the spawn until
//! the memory is given back, so the word of a live task is never zero: a [`TaskSlot`] is free
//! exactly when the word at its start is zero, and needs no flag of its own. Every transition
//! is one compare-and-swap (or `fetch_*`) on that word; whoever makes a transition owns what
//! it hands out:
//!
//! | event | from | to | side effect |
//! | --- | --- | --- | --- |
//! | spawn | — (a slot: zero) | `TAKEN \| SCHEDULED \| HANDLE`, 1 ref | the `Runnable` owns the ref |
//! | wake, idle | not `SCHEDULED`/`RUNNING`/`COMPLETED`/`CLOSED` | `+SCHEDULED` | the waker's ref (`wake`) or a new one (`wake_by_ref`) becomes a `Runnable`, passed to `S` |
//! | wake while running | `RUNNING` | `+SCHEDULED` | none; `run` reschedules after the poll (`woken_while_running`) |
//! | wake otherwise | `SCHEDULED`, `COMPLETED` or `CLOSED` | unchanged | the waker's ref is dropped (`wake`) |
//! | run | `SCHEDULED` | `-SCHEDULED +RUNNING` | poll the future |
//! | run, `CLOSED` | `SCHEDULED \| CLOSED` | `-SCHEDULED` | drop the future, wake the awaiter, drop the ref |
//! | poll `Pending` | `RUNNING` | `-RUNNING` | if `SCHEDULED` was set meanwhile: reschedule with the ref; if `CLOSED` was set: drop the future, wake the awaiter; otherwise drop the ref as a waker's drop does (the last one of a detached task closes it and schedules it once, to drop its future) |
//! | poll `Ready` | `RUNNING` | `-RUNNING -SCHEDULED +COMPLETED` (`+CLOSED` if no `HANDLE`) | store the output (dropped at once without a handle), wake the awaiter |
//! | poll or the completed future's destructor panics | `RUNNING` | `-RUNNING -SCHEDULED +CLOSED` | drop the future (if still alive), wake the awaiter, unwind (with `propagate_panic`: no unwind, the panic is the output, as for `Ready`) |
//! | drop `Runnable` | `SCHEDULED` | `+CLOSED -SCHEDULED` | drop the future, wake the awaiter, drop the ref |
//! | cancel | not `COMPLETED`/`CLOSED` | `+CLOSED` (`+SCHEDULED` +1 ref if idle) | an idle task is scheduled so the executor drops its future on its own thread |
//! | take output | `COMPLETED`, not `CLOSED` | `+CLOSED` | the `Task` moves the output out |
//! | detach | `HANDLE` | `-HANDLE` | a completed output is taken and dropped first; an idle unfinished task with no refs is closed and scheduled once |
//! | drop last waker | 1 ref, no `HANDLE` | 0 refs | an unfinished task is closed and scheduled once (to drop its future); a finished one is destroyed |
//! | destroy | 0 refs, no `HANDLE` | — (a slot: zero) | drop `S`, the awaiter, `M`, `D`; free the memory (a slot: store zero, the last step) |
//!
//! Invariants: a `Runnable` exists exactly while `SCHEDULED` is set, and then the future is
//! alive; the future is touched only by the owner of `SCHEDULED` or `RUNNING`; the output is
//! taken by whoever sets `CLOSED` on a `COMPLETED` task (the `Task`, a detach, or the runner
//! when there is no handle), so each is dropped exactly once; the memory is freed by whoever
//! makes the count zero with `HANDLE` clear. The awaiter slot is written only by the `Task`
//! under `REGISTERING` and emptied by notifiers under `NOTIFYING` (see the header module), so
//! a notification racing with a registration is delivered by the registrar.
//!
//! User code (the future, destructors, the schedule function, the awaiter's waker) never runs
//! while the `REGISTERING` or `NOTIFYING` handshake bits are held. The future's `poll` and
//! destructor run while `SCHEDULED` or `RUNNING` is held, under a guard that finishes the
//! transition if they unwind; everything else runs after its transition.
//!
//! # Panics in user code
//!
//! A panic in user code never leaves a task stuck: its `Task` still resolves, every part is
//! dropped once, and the allocation is freed once.
//!
//! | user code | runs in | if it panics |
//! | --- | --- | --- |
//! | the future's `poll` | [`Runnable::run`] | the future is dropped and the task closed (a [`FallibleTask`] gives `None`, awaiting the `Task` panics), then the panic leaves `run`. With [`propagate_panic`](Builder::propagate_panic) the panic is the output instead: `run` returns, and the `Task` resumes the panic where it is awaited |
//! | the future's destructor, after it returned `Ready` | [`Runnable::run`] | as for `poll`: the output it returned is dropped, the task closed, the panic leaves `run`. With `propagate_panic` the panic becomes the output (the returned value is dropped; the first panic wins if `poll` panicked too) |
//! | the future's destructor, task cancelled | [`Runnable::run`], dropping a [`Runnable`], [`ffi::task_ffi_drop`] | the task finishes closing (the `Task` resolves as cancelled), then the panic leaves that call |
//! | the schedule function | waking, dropping the last [`Waker`](core::task::Waker), [`Runnable::schedule`], [`Runnable::run`] (woken while running, or a detached task left without a waker), cancelling, dropping or detaching the `Task` | the `Runnable` it was given is dropped while unwinding, which cancels the task (unless the function stored it first); the panic leaves that call. A `Task` being dropped still gives up its handle |
//! | the output's destructor | wherever the output is dropped | after the transition; the panic leaves that call |
//! | destructors of `S`, `M`, `D` and of the awaiter's waker | whichever call lets go of the task last | the other parts are still dropped and the memory is freed; then the panic leaves that call |
//! | the awaiter's waker: `clone` | polling the `Task` | before anything changes: the poll panics and the `Task` is unchanged |
//! | the awaiter's waker: `wake`, `drop` | the call that completes or closes the task, polling the `Task` | after the transition; the panic leaves that call |
//! | the closure that makes the future ([`Builder::spawn`] and friends) | the spawn call | `S`, `M` and `D` are dropped, the memory freed, the panic leaves the spawn call |
//!
//! A second panic while one unwinds (a future whose `poll` and destructor both panic, without
//! `propagate_panic`) aborts the process, as everywhere in Rust. A panic cannot unwind out of
//! the `extern "C"` functions in [`ffi`]: the process aborts there. The process also aborts if
//! the reference count would overflow (more than `isize::MAX / 512` wakers, as with `Arc`).
//!
//! # Testing
//!
//! The loom models in `tests/loom_task.rs` race a run against a wake, a cancel, a detach with
//! the last waker, the awaiter's registration, `cancel().await`, two wakes, a cancel and a wake
//! together, a dropped runnable with a wake and an await, and destructors that panic while the
//! handle awaits or is dropped; each model runs with the task on the heap and in a
//! [`TaskSlot`], plus a spawn into a slot racing the drop of the last runnable and of the last
//! waker (whose count reaches zero before it closes the task: the slot stays taken). A detached
//! task's `Pending` poll races the drop of its last waker (`detached_pending_vs_last_waker`), and
//! a task spawned without a `Task` (`TaskSlot::spawn_detached`) races a wake. The models and
//! tests run again with `--cfg task_ffi_small_wake`, the bare-metal wake by value (a wake by
//! reference and a drop). Drop counters are loom
//! atomics, so a double drop or a leak shows up as a wrong count and a lost wake-up as an
//! unfinished task. miri runs every task-ffi test (`cargo xtask miri`, host, strict
//! provenance), including the property test `tests/model.rs` (random operations and panicking
//! callbacks against a reference model) and the raw-pointer executor of `tests/c_abi.rs`.
//!
//! # Without a heap
//!
//! A task can live in static memory instead of a heap allocation: a [`TaskSlot`] (a `static`
//! with a `const` constructor, one task at a time, spawned into again once its task is gone) or
//! a slot of a `pool` pool through [`InPool`] (feature `pool`, with an async wait for a free
//! slot). The tasks are the same: the same [`Runnable`] and [`Task`], state machine, user data
//! offset and [`ffi`] functions; only how the memory is obtained and given back differs. A task
//! too large or too aligned for its slot is a compile error. See [`TaskSlot`] for the design.
//! A task that nobody awaits, as an embassy-executor task, is spawned with
//! [`TaskSlot::spawn_detached`]: no `Task` handle, and none of its code in the firmware.
//!
//! ```
//! use task_ffi::{Runnable, TaskSlot};
//!
//! static SLOT: TaskSlot<128> = TaskSlot::new();
//!
//! let (runnable, task) = SLOT.spawn_with(async { 7 }, |_: Runnable<(), u8>| {}, 1u8).unwrap();
//! runnable.run();
//! assert_eq!(futures_lite::future::block_on(task), 7);
//! assert!(SLOT.is_free());
//! ```
//!
//! # Features
//!
//! - `std` (default, implies `alloc`): [`spawn_local`] and [`spawn_local_with`]
//!   (thread-checked), [`Builder::propagate_panic`].
//! - `alloc` (default, through `std`): the heap spawns ([`spawn`], [`spawn_with`],
//!   [`spawn_unchecked`], [`spawn_unchecked_with`] and their `Builder` forms). Without it the
//!   crate needs no allocator (no `alloc` crate is linked) and tasks live in [`TaskSlot`]s.
//! - `pool`: [`InPool`], tasks in the slots of a `pool` pool.
//! - `defmt`: `defmt::Format` for [`Runnable`], [`Task`] (their state in words) and
//!   [`Occupied`].
//!
//! Without `std` the crate is `no_std` and runs on targets without compare-and-swap through
//! sync-core's portable-atomic fallback.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod builder;
#[cfg(feature = "defmt")]
mod defmt_impls;
pub mod ffi;
mod header;
#[cfg(feature = "std")]
mod local;
mod raw;
mod runnable;
mod schedule;
mod slot;
mod state;
mod task;
mod waker;

pub use builder::Builder;
#[cfg(feature = "alloc")]
pub use builder::{spawn, spawn_unchecked, spawn_unchecked_with, spawn_with};
#[cfg(feature = "std")]
pub use builder::{spawn_local, spawn_local_with};
pub use header::{Header, TaskHead};
pub use runnable::Runnable;
pub use schedule::{Schedule, ScheduleInfo, WithInfo};
#[cfg(feature = "pool")]
pub use slot::InPool;
pub use slot::{
    Align4, Align8, Align16, Align32, Align64, Alignment, Occupied, TaskBlock, TaskSlot,
};
pub use task::{FallibleTask, Task};
