//! frugal's `no_std` crates tested on an emulated Cortex-M4 (QEMU `mps2-an386`).
//!
//! Each test is a plain `fn()`; the harness prints `test <name> ... ok` for each and a closing
//! `N passed, N failed` line, then exits QEMU through semihosting with the matching status. A
//! failing assertion panics, and the panic handler prints it and exits with a failure status.
//! Interrupt-driven tests use SysTick (see [`isr`]): the handler frees, sends or notifies while a
//! task waits in thread mode.
#![no_std]
#![no_main]

mod exec;
mod isr;
mod tests_c_executor;
mod tests_hatch;
mod tests_pool;
mod tests_sync_core;
mod tests_task_ffi;

use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprint, hprintln};

/// Tests passed so far (read by the panic handler for the summary line).
static PASSED: AtomicUsize = AtomicUsize::new(0);

/// A named test.
pub type Test = (&'static str, fn());

#[entry]
fn main() -> ! {
    tests_task_ffi::init_heap();
    isr::init();
    let suites: &[&[Test]] = &[
        tests_sync_core::TESTS,
        tests_pool::TESTS,
        tests_hatch::TESTS,
        tests_task_ffi::TESTS,
        tests_c_executor::TESTS,
    ];
    for suite in suites {
        for (name, test) in *suite {
            hprint!("test {} ... ", name);
            test();
            isr::clear_hook();
            hprintln!("ok");
            PASSED.fetch_add(1, Ordering::Relaxed);
        }
    }
    hprintln!("{} passed, 0 failed", PASSED.load(Ordering::Relaxed));
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    hprintln!("FAILED: {}", info);
    hprintln!("{} passed, 1 failed", PASSED.load(Ordering::Relaxed));
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}
