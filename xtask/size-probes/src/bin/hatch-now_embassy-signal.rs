//! embassy-sync's Signal, nothing awaited: signal a value, then `try_take` it.
#![no_std]
#![no_main]

use core::hint::black_box;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use size_probes as _;

static SIGNAL: Signal<CriticalSectionRawMutex, u32> = Signal::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        SIGNAL.signal(black_box(42));
        black_box(SIGNAL.try_take().is_some());
    }
}
