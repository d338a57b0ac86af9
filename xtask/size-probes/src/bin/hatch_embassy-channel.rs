//! embassy-sync's Channel of capacity 1: send a value, then receive it.
#![no_std]
#![no_main]

use core::hint::black_box;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use size_probes::poll_once;

static CHANNEL: Channel<CriticalSectionRawMutex, u32, 1> = Channel::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        black_box(poll_once(CHANNEL.send(black_box(42))).is_ready());
        black_box(poll_once(CHANNEL.receive()).is_ready());
    }
}
