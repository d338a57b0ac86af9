//! Baseline for the task probes: the runtime plus the heap allocator and one allocation.
#![no_std]
#![no_main]

extern crate alloc;

use core::hint::black_box;
use size_probes::heap;

#[cortex_m_rt::entry]
fn main() -> ! {
    heap::init();
    loop {
        black_box(alloc::boxed::Box::new(black_box(41u32)));
    }
}
