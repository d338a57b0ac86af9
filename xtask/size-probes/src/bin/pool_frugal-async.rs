//! frugal's pool with 2 waiter places: allocate with `new_async` (waiting support linked in).
#![no_std]
#![no_main]

use core::hint::black_box;
use pool::{Box, pool};
use size_probes::poll_once;

pool!(Buffers: [[u8; 64]; 4], 2);

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        let b = poll_once(Box::<Buffers>::new_async(black_box([1u8; 64])));
        black_box(b.is_ready());
        drop(b);
    }
}
