//! task-ffi without a heap on an emulated Cortex-M4 (QEMU `mps2-an386`): tasks in static
//! `TaskSlot`s and in a `pool` pool, run by a small Rust executor and by the C executor of
//! `c-executor`, one of them woken from the SysTick handler, then spawned again into
//! the same memory.
//!
//! There is no `#[global_allocator]` and no crate links `alloc` (task-ffi is built without its
//! `alloc` feature): the image would not link otherwise. The harness prints `test <name> ... ok`
//! for each test and a closing `N passed, N failed` line, then exits QEMU through semihosting
//! with the matching status; a failing assertion panics, and the panic handler prints it and
//! exits with a failure status.
#![no_std]
#![no_main]

mod tests_c_executor;
mod tests_static;

// The shared harness: what the tests name as `crate::{Test, exec, isr}`.
pub use firmware_harness::{Test, exec, isr};

#[cortex_m_rt::entry]
fn main() -> ! {
    firmware_harness::run(&[tests_static::TESTS, tests_c_executor::TESTS])
}
