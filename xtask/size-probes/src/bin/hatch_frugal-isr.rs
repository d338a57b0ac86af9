//! frugal's SharedHatch (static, no alloc): what an interrupt handler does with embassy-sync's
//! Signal — replace the value through `&'static` — then the task receives it.
#![no_std]
#![no_main]

use core::hint::black_box;
use hatch::SharedHatch;
use size_probes::poll_once;

static HATCH: SharedHatch<u32> = SharedHatch::new();

#[cortex_m_rt::entry]
fn main() -> ! {
    let Ok(mut r) = HATCH.receiver() else { loop {} };
    loop {
        black_box(HATCH.replace(black_box(42)).is_ok());
        black_box(poll_once(r.receive()).is_ready());
    }
}
