//! Shared parts of the size probes: a panic handler that halts, and a way to poll a future once.
//!
//! Every probe is a `#[no_main]` binary in `src/bin/` that uses one primitive the way a firmware
//! would (through statics, results fed to `black_box` so nothing is optimised away). `baseline`
//! uses nothing; `cargo xtask size` reports each probe's flash and RAM minus the baseline's.
#![no_std]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        cortex_m::asm::bkpt();
    }
}

/// Polls `future` once with a no-op waker.
pub fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    let future = pin!(future);
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// A small heap for the probes that need `alloc` (task spawning).
pub mod heap {
    use embedded_alloc::LlffHeap;

    #[global_allocator]
    static HEAP: LlffHeap = LlffHeap::empty();

    /// Gives the allocator 4 KiB of static memory.
    pub fn init() {
        use core::mem::MaybeUninit;
        const SIZE: usize = 4096;
        static mut MEMORY: [MaybeUninit<u8>; SIZE] = [MaybeUninit::uninit(); SIZE];
        // SAFETY: called once at start-up before any allocation; MEMORY is used by nothing else.
        unsafe { HEAP.init(core::ptr::addr_of_mut!(MEMORY) as usize, SIZE) }
    }
}
