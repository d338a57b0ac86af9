//! The Rust mirror of `executor.h`: the C structs with `#[repr(C)]` and the C functions.
//! `no_std`, shared through `#[path]` by the host example (`task-ffi-c-executor`) and the
//! Cortex-M4 firmware test (`xtask/firmware`), which link the same `executor.c`.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr;

/// `struct exec_link`: the first field of every task's user data.
#[repr(C)]
pub(crate) struct ExecLink {
    /// Written by the C code while the task is queued: in an `UnsafeCell`, so no Rust reference
    /// to the data ever promises it does not change (same layout as the C field).
    pub(crate) next: UnsafeCell<*mut c_void>,
    /// Higher runs first.
    pub(crate) priority: u32,
    /// Incremented by the C code before each run (an `UnsafeCell` for the same reason).
    pub(crate) runs: UnsafeCell<u32>,
}

impl ExecLink {
    /// A link for a task of `priority` that is not queued and has not run.
    pub(crate) const fn new(priority: u32) -> Self {
        Self {
            next: UnsafeCell::new(ptr::null_mut()),
            priority,
            runs: UnsafeCell::new(0),
        }
    }
}

// SAFETY: `next` is a link of the C queue, only read or written by the executor under its lock
// hooks (or by whoever popped the task, which then owns it); `runs` only while it runs the task.
unsafe impl Send for ExecLink {}

/// `struct exec_config`.
#[derive(Clone, Copy)]
#[repr(C)]
pub(crate) struct ExecConfig {
    /// Bytes from the task pointer to its `ExecLink` (`TaskHead::DATA_OFFSET`).
    pub(crate) data_offset: usize,
    /// `task_ffi::ffi::task_ffi_run`.
    pub(crate) run: unsafe extern "C" fn(*mut c_void) -> bool,
    /// `task_ffi::ffi::task_ffi_drop`.
    pub(crate) drop: unsafe extern "C" fn(*mut c_void),
    /// Enters the queue's critical section (`None` with `unlock` when one context does it all).
    pub(crate) lock: Option<extern "C" fn()>,
    /// Leaves it.
    pub(crate) unlock: Option<extern "C" fn()>,
}

/// `struct exec` (its fields are private to the C code; Rust only provides the storage).
#[repr(C)]
pub(crate) struct Exec {
    config: ExecConfig,
    head: *mut c_void,
    queued: usize,
}

impl Exec {
    /// Storage for an executor; `exec_init` sets it up.
    pub(crate) const fn new(config: ExecConfig) -> Self {
        Self {
            config,
            head: ptr::null_mut(),
            queued: 0,
        }
    }
}

// The static library `frugal_c_executor` built from `executor.c` by the build script.
unsafe extern "C" {
    pub(crate) fn exec_init(exec: *mut Exec, config: *const ExecConfig);
    pub(crate) fn exec_push(exec: *mut Exec, task: *mut c_void);
    pub(crate) fn exec_run_all(exec: *mut Exec) -> usize;
    pub(crate) fn exec_drop_all(exec: *mut Exec) -> usize;
    pub(crate) fn exec_len(exec: *mut Exec) -> usize;
    pub(crate) safe fn exec_size() -> usize;
}
