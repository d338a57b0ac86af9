//! frugal's hatch (static, no alloc): send a value, then receive it.
#![no_std]
#![no_main]

use core::hint::black_box;
use hatch::Hatch;
use size_probes::poll_once;

static HATCH: Hatch<u32> = Hatch::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    let Some((mut s, mut r)) = HATCH.try_split() else {
        loop {}
    };
    loop {
        black_box(s.send(black_box(42)).now().is_ok());
        black_box(poll_once(r.receive()).is_ready());
    }
}
