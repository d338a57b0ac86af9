//! frugal's SharedHatch (static, sent through `&self` as an interrupt handler would), nothing
//! awaited: replace the value, then take it with `now()`.
#![no_std]
#![no_main]

use core::hint::black_box;
use hatch::SharedHatch;
use size_probes as _;

static HATCH: SharedHatch<u32> = SharedHatch::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    let Ok(mut r) = HATCH.receiver() else { loop {} };
    loop {
        black_box(HATCH.replace(black_box(42)).is_ok());
        black_box(r.receive().now().is_ok());
    }
}
