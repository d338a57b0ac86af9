//! task-ffi: spawn a task, run it, poll its handle.
#![no_std]
#![no_main]

extern crate alloc;

use core::hint::black_box;
use size_probes::{heap, poll_once};

#[cortex_m_rt::entry]
fn main() -> ! {
    heap::init();
    loop {
        let x = black_box(41u32);
        // SAFETY: single-threaded firmware; the future and schedule function are 'static.
        let (runnable, task) = unsafe {
            task_ffi::spawn_unchecked(async move { x + 1 }, |r: task_ffi::Runnable| {
                black_box(r);
            })
        };
        runnable.run();
        black_box(poll_once(task).is_ready());
    }
}
