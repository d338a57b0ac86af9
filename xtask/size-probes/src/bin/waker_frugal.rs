//! sync-core's AtomicWaker: register then wake.
#![no_std]
#![no_main]

use core::hint::black_box;
use size_probes as _;

static SLOT: sync_core::AtomicWaker = sync_core::AtomicWaker::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        SLOT.register(black_box(core::task::Waker::noop()));
        black_box(&SLOT).wake();
    }
}
