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

mod exec;
mod isr;
mod tests_c_executor;
mod tests_static;

use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprint, hprintln};

/// Tests passed so far (read by the panic handler for the summary line).
static PASSED: AtomicUsize = AtomicUsize::new(0);

/// A named test.
pub type Test = (&'static str, fn());

#[entry]
fn main() -> ! {
    isr::init();
    let suites: &[&[Test]] = &[tests_static::TESTS, tests_c_executor::TESTS];
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
