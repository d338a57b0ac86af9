//! A small run-to-completion executor for task-ffi tasks written in C99 (`c/executor.c`,
//! `c/executor.h`), and its Rust mirror: the C structs with `#[repr(C)]` and the C functions.
//!
//! The build script compiles `executor.c` for the target being built (the host's C compiler, or
//! `arm-none-eabi-gcc` with `-ffreestanding` for bare-metal ARM) as strict C99 with `-Wall -Wextra
//! -pedantic`, warnings as errors, and links it. The host example `task-ffi-c-executor` and the
//! QEMU firmwares (`xtask/firmware`, `xtask/firmware-static`) drive task-ffi tasks with it.
//!
//! The C code reaches a task's user data at `TaskHead::DATA_OFFSET` and runs or drops tasks
//! through task-ffi's `extern "C"` entry points, so it needs no Rust at all.
#![no_std]

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr;

/// `struct exec_link`: the first field of every task's user data.
#[derive(Debug)]
#[repr(C)]
pub struct ExecLink {
    /// Written by the C code while the task is queued: in an `UnsafeCell`, so no Rust reference
    /// to the data ever promises it does not change (same layout as the C field).
    pub next: UnsafeCell<*mut c_void>,
    /// Higher runs first.
    pub priority: u32,
    /// Incremented by the C code before each run (an `UnsafeCell` for the same reason).
    pub runs: UnsafeCell<u32>,
}

impl ExecLink {
    /// A link for a task of `priority` that is not queued and has not run.
    pub const fn new(priority: u32) -> Self {
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
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct ExecConfig {
    /// Bytes from the task pointer to its `ExecLink` (`TaskHead::DATA_OFFSET`).
    pub data_offset: usize,
    /// `task_ffi::ffi::task_ffi_run`.
    pub run: unsafe extern "C" fn(*mut c_void) -> bool,
    /// `task_ffi::ffi::task_ffi_drop`.
    pub drop: unsafe extern "C" fn(*mut c_void),
    /// Enters the queue's critical section (`None` with `unlock` when one context does it all).
    pub lock: Option<extern "C" fn()>,
    /// Leaves it.
    pub unlock: Option<extern "C" fn()>,
}

/// `struct exec` (its fields are private to the C code; Rust only provides the storage).
#[derive(Debug)]
#[repr(C)]
pub struct Exec {
    config: ExecConfig,
    head: *mut c_void,
    queued: usize,
}

impl Exec {
    /// Storage for an executor; `exec_init` sets it up.
    pub const fn new(config: ExecConfig) -> Self {
        Self {
            config,
            head: ptr::null_mut(),
            queued: 0,
        }
    }
}

// The static library `frugal_c_executor` built from `executor.c` by the build script. Each
// function's contract is the comment above its declaration in `c/executor.h`.
unsafe extern "C" {
    /// Sets up `exec` with `config` (copied). `exec` must be valid for writes.
    pub fn exec_init(exec: *mut Exec, config: *const ExecConfig);
    /// Queues `task` (a task pointer whose ownership passes to the executor) by priority.
    pub fn exec_push(exec: *mut Exec, task: *mut c_void);
    /// Runs queued tasks until the queue is empty; returns how many ran.
    pub fn exec_run_all(exec: *mut Exec) -> usize;
    /// Drops every queued task without running it; returns how many.
    pub fn exec_drop_all(exec: *mut Exec) -> usize;
    /// The number of queued tasks.
    pub fn exec_len(exec: *mut Exec) -> usize;
    /// `sizeof(struct exec)`, to check the Rust mirror's layout.
    pub safe fn exec_size() -> usize;
}
