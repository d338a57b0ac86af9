//! frugal's pool: a pool of 4 buffers of 64 bytes, allocate and free.
#![no_std]
#![no_main]

use core::hint::black_box;
use pool::{Box, pool};
use size_probes as _;

pool!(Buffers: [[u8; 64]; 4]);

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        let b = Box::<Buffers>::new(black_box([1u8; 64]));
        black_box(b.as_ref().map(|b| b[0]));
        drop(b);
    }
}
