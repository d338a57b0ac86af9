//! The harness of the QEMU test firmwares (`xtask/firmware`, `xtask/firmware-static`): each test
//! is a plain `fn()`; [`run`] prints `test <name> ... ok` for each and a closing
//! `N passed, N failed` line, then exits QEMU through semihosting with the matching status. A
//! failing assertion panics, and the panic handler here prints it and exits with a failure
//! status. Interrupt-driven tests use SysTick ([`isr`]); thread-mode waiting uses [`exec`].
#![no_std]

pub mod exec;
pub mod isr;

use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_semihosting::{debug, hprint, hprintln};

/// Tests passed so far (read by the panic handler for the summary line).
static PASSED: AtomicUsize = AtomicUsize::new(0);

/// A named test.
pub type Test = (&'static str, fn());

/// Starts SysTick, runs every test of `suites` in order (clearing the SysTick hook after each),
/// prints the summary and exits QEMU.
pub fn run(suites: &[&[Test]]) -> ! {
    isr::init();
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
