//! frugal's hatch (static, no alloc), nothing awaited: send a value, then take it with `now()`.
//!
//! Price: the run-time claim of one sender and one receiver (`try_split`: nobody else can send or
//! receive), closing either side (a receive of an empty hatch ends once the sender closes; neither
//! embassy-sync peer can close), overwrite, recycling and lazy send, and waker code (clone, wake,
//! drop) never inside the critical section. RAM: the value and a parked waker can be there at once
//! (a send waits on a full slot), where a `Signal` holds one or the other.
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
