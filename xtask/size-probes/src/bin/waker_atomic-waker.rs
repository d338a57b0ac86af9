//! the atomic-waker crate: register then wake.
#![no_std]
#![no_main]

use core::hint::black_box;
use size_probes as _;

static SLOT: atomic_waker::AtomicWaker = atomic_waker::AtomicWaker::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        SLOT.register(black_box(core::task::Waker::noop()));
        black_box(&SLOT).wake();
    }
}
