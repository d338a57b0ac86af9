//! embassy-sync's Signal: signal a value, then wait for it.
#![no_std]
#![no_main]

use core::hint::black_box;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::signal::Signal;
use size_probes::poll_once;

static SIGNAL: Signal<CriticalSectionRawMutex, u32> = Signal::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        SIGNAL.signal(black_box(42));
        black_box(poll_once(SIGNAL.wait()).is_ready());
    }
}
