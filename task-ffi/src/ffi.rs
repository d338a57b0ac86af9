//! Type-erased `extern "C"` entry points for executors written in C (or any language with a C
//! ABI).
//!
//! A Rust spawner turns the [`Runnable`] into a pointer with [`Runnable::into_raw`] and hands it
//! to the foreign executor together with these functions; the executor queues the pointer, reads
//! its data at [`TaskHead::DATA_OFFSET`](crate::TaskHead::DATA_OFFSET), and later calls
//! [`task_ffi_run`] (or [`task_ffi_drop`] to cancel). None of them needs to know the future,
//! output, schedule, metadata or data types: they go through the task's vtable.
//!
//! A panic of the future (without `propagate_panic`) or of the schedule function cannot unwind
//! through an `extern "C"` function: the process aborts.

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

/// Polls the task once (see [`Runnable::run`]); returns whether it was woken while running.
///
/// # Safety
///
/// `ptr` comes from [`Runnable::into_raw`] and is not used again (the runnable is consumed).
pub unsafe extern "C" fn task_ffi_run(ptr: *mut c_void) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe { erased(ptr) }.run()
}

/// Passes the runnable to its schedule function (see [`Runnable::schedule`]).
///
/// # Safety
///
/// As for [`task_ffi_run`].
pub unsafe extern "C" fn task_ffi_schedule(ptr: *mut c_void) {
    // SAFETY: forwarded from the caller.
    unsafe { erased(ptr) }.schedule();
}

/// Drops the runnable, which cancels the task and drops its future now.
///
/// # Safety
///
/// As for [`task_ffi_run`].
pub unsafe extern "C" fn task_ffi_drop(ptr: *mut c_void) {
    // SAFETY: forwarded from the caller.
    drop(unsafe { erased(ptr) });
}
