//! embassy-sync's Channel of capacity 1, nothing awaited: `try_send`, then `try_receive`.
#![no_std]
#![no_main]

use core::hint::black_box;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use size_probes as _;

static CHANNEL: Channel<CriticalSectionRawMutex, u32, 1> = Channel::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        black_box(CHANNEL.try_send(black_box(42)).is_ok());
        black_box(CHANNEL.try_receive().is_ok());
    }
}
