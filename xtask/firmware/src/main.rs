//! frugal's `no_std` crates tested on an emulated Cortex-M4 (QEMU `mps2-an386`).
//!
//! Each test is a plain `fn()`; the harness prints `test <name> ... ok` for each and a closing
//! `N passed, N failed` line, then exits QEMU through semihosting with the matching status. A
//! failing assertion panics, and the panic handler prints it and exits with a failure status.
//! Interrupt-driven tests use SysTick (see [`isr`]): the handler frees, sends or notifies while a
//! task waits in thread mode.
#![no_std]
#![no_main]

mod tests_c_executor;
mod tests_hatch;
mod tests_pool;
mod tests_sync_core;
mod tests_task_ffi;

// The shared harness: what the tests name as `crate::{Test, exec, isr}`.
pub use firmware_harness::{Test, exec, isr};

#[cortex_m_rt::entry]
fn main() -> ! {
    tests_task_ffi::init_heap();
    firmware_harness::run(&[
        tests_sync_core::TESTS,
        tests_pool::TESTS,
        tests_hatch::TESTS,
        tests_task_ffi::TESTS,
        tests_c_executor::TESTS,
    ])
}
