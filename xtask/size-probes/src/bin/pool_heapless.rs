//! heapless's box_pool: a pool of 4 buffers of 64 bytes, allocate and free.
#![no_std]
#![no_main]

use core::hint::black_box;
use heapless::box_pool;
use heapless::pool::boxed::BoxBlock;
use size_probes as _;

box_pool!(Buffers: [u8; 64]);

#[cortex_m_rt::entry]
fn main() -> ! {
    let blocks: &'static mut [BoxBlock<[u8; 64]>; 4] = {
        static mut BLOCKS: [BoxBlock<[u8; 64]>; 4] = [const { BoxBlock::new() }; 4];
        // SAFETY: taken once, here, before anything else runs.
        unsafe { &mut *core::ptr::addr_of_mut!(BLOCKS) }
    };
    for block in blocks {
        Buffers.manage(block);
    }
    loop {
        let b = Buffers.alloc(black_box([1u8; 64]));
        black_box(b.as_ref().map(|b| b[0]).ok());
        drop(b);
    }
}
