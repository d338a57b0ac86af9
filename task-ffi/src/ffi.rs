//! Type-erased `extern "C"` entry points for executors written in C (or any language with a C
//! ABI).
//!
//! A Rust spawner turns the [`Runnable`] into a pointer with [`Runnable::into_raw`] and hands it
//! to the foreign executor together with these functions; the executor queues the pointer, reads
//! its data at [`TaskHead::DATA_OFFSET`](crate::TaskHead::DATA_OFFSET), and later calls
//! [`task_ffi_run`] (or [`task_ffi_drop`] to cancel). None of them needs to know the future,
//! output, schedule, metadata or data types: they go through the task's vtable.
//!
//! A panic cannot unwind through an `extern "C"` function: a panic that would leave
//! [`Runnable::run`] or a `Runnable`'s drop (the future's `poll` without `propagate_panic`, a
//! destructor, the schedule function, the awaiter's waker; see the crate docs, "Panics in user
//! code") aborts the process here. With `propagate_panic`, panics of the future's `poll` and of
//! its destructor when it completes go to the `Task` instead.
//!
//! # Function pointers, not symbols
//!
//! The functions are not exported under unmangled names: C code receives them as function
//! pointers, together with the data offset, in a configuration struct it is given once at
//! init. Their C types are `bool (*)(void *)` for [`task_ffi_run`] (C99 `bool` has the ABI of
//! Rust's `bool`) and `void (*)(void *)` for [`task_ffi_schedule`] and [`task_ffi_drop`]. This is
//! what integrating with a C RTOS wants:
//!
//! - the offset depends on `M` and `D`, so the C side needs a value from Rust at init anyway,
//!   and one init call then carries everything;
//! - the C library references no Rust symbol: it compiles, links and can be unit-tested on its
//!   own (with C stand-ins for run and drop), in any build system;
//! - unmangled symbols are global: two semver-incompatible versions of this crate in one image
//!   would both define `task_ffi_run` and fail to link, whereas function pointers from each
//!   version can even feed two executors side by side;
//! - the Rust side may hand over wrappers (tracing, counting) without touching the C code.
//!
//! `c-executor/c/executor.{h,c}` (the workspace crate `c-executor`) is such an executor, in C99: an intrusive priority
//! queue threaded through the user data, lock hooks for pushes from other threads or
//! interrupts, and the ownership contract (each queued pointer goes to run or drop exactly
//! once). The `task-ffi-c-executor` example runs tasks on it.
//!
//! ```
//! use core::ffi::c_void;
//!
//! /// What a C executor is given at init (compare `struct exec_config`).
//! #[repr(C)]
//! struct Config {
//!     data_offset: usize,
//!     run: unsafe extern "C" fn(*mut c_void) -> bool,
//!     drop: unsafe extern "C" fn(*mut c_void),
//! }
//!
//! let config = Config {
//!     data_offset: task_ffi::TaskHead::<(), u32>::DATA_OFFSET,
//!     run: task_ffi::ffi::task_ffi_run,
//!     drop: task_ffi::ffi::task_ffi_drop,
//! };
//! let (runnable, task) = task_ffi::spawn_with(async { 7 }, |_| {}, 5_u32);
//! // What the C side does with a queued pointer: read the data, then run (or drop) it once.
//! let ptr: *mut c_void = runnable.into_raw().as_ptr().cast();
//! // SAFETY: the data, a `u32`, sits at `data_offset` from the task pointer.
//! let data = unsafe { ptr.cast::<u8>().add(config.data_offset).cast::<u32>().read() };
//! assert_eq!(data, 5);
//! // SAFETY: a runnable pointer, used once.
//! unsafe { (config.run)(ptr) };
//! assert_eq!(futures_lite::future::block_on(task), 7);
//! # let _ = config.drop;
//! ```

use core::ffi::c_void;
use core::ptr::NonNull;

use crate::Runnable;

/// Rebuilds the runnable behind `ptr` as a type-erased `Runnable<(), ()>`, only for operations
/// that never touch the metadata or the data (run, schedule, drop go through the vtable).
///
/// # Safety
///
/// `ptr` is a non-null pointer from `Runnable::into_raw`, used once.
unsafe fn erased(ptr: *mut c_void) -> Runnable {
    let Some(ptr) = NonNull::new(ptr.cast::<()>()) else {
        crate::state::abort();
    };
    // SAFETY: the caller gives us a runnable's pointer; we only run, schedule or drop it, none of
    // which reads `M` or `D` through the erased types.
    unsafe { Runnable::from_raw(ptr) }
}

/// Polls the task once (see [`Runnable::run`]); returns whether it was woken while running (a
/// detached task left without a waker is scheduled once more all the same, to drop its future).
///
/// # Safety
///
/// `ptr` comes from [`Runnable::into_raw`] and is not used again (the runnable is consumed),
/// and this thread may run that runnable: any thread for [`spawn`](crate::spawn) and
/// [`spawn_with`](crate::spawn_with); for `spawn_unchecked` the thread its rules allow (a
/// `spawn_local` task run on another thread panics in its thread check, which aborts here).
pub unsafe extern "C" fn task_ffi_run(ptr: *mut c_void) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { erased(ptr) }.run()
}

/// Passes the runnable to its schedule function (see [`Runnable::schedule`]).
///
/// # Safety
///
/// `ptr` comes from [`Runnable::into_raw`] and is not used again, and this thread may use that
/// runnable (see [`task_ffi_run`]; for `spawn_unchecked` tasks whose schedule function or
/// metadata is not `Send + Sync`, or whose data is not `Send`, only the spawning thread).
pub unsafe extern "C" fn task_ffi_schedule(ptr: *mut c_void) {
    // SAFETY: forwarded from the caller.
    unsafe { erased(ptr) }.schedule();
}

/// Drops the runnable, which cancels the task and drops its future now.
///
/// # Safety
///
/// As for [`task_ffi_run`] (dropping drops the future, like running it).
pub unsafe extern "C" fn task_ffi_drop(ptr: *mut c_void) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { erased(ptr) });
}
