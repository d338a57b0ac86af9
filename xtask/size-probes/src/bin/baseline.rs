//! Baseline: the runtime and nothing else.
#![no_std]
#![no_main]

use size_probes as _;

#[cortex_m_rt::entry]
fn main() -> ! {
    loop {
        core::hint::black_box(0u32);
    }
}
