//! frugal's hatch (static, no alloc), nothing awaited: send a value, then take it with `now()`.
#![no_std]
#![no_main]

use core::hint::black_box;
use hatch::Hatch;
use size_probes as _;

static HATCH: Hatch<u32> = Hatch::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    let Some((mut s, mut r)) = HATCH.try_split() else {
        loop {}
    };
    loop {
        black_box(s.send(black_box(42)).now().is_ok());
        black_box(r.receive().now().is_ok());
    }
}
