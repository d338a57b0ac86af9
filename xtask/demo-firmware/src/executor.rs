//! A static executor on task-ffi: a run queue of `Runnable`s in a critical-section mutex, run
//! in thread mode, sleeping with `wfi` while the queue is empty.
//!
//! The schedule function may be called from thread mode (a task waking another) or from an
//! interrupt handler (a waker fired there), so the queue is only touched inside critical
//! sections. Task memory comes from the global allocator (embedded-alloc, see `main.rs`).

use core::cell::RefCell;
use core::future::Future;
use core::sync::atomic::{AtomicUsize, Ordering};

use critical_section::Mutex;
use heapless::Deque;
use task_ffi::{Runnable, Task};

/// Room for every task of the demo to be scheduled at once (each task is queued at most once).
const QUEUE: usize = 8;

static RUN_QUEUE: Mutex<RefCell<Deque<Runnable, QUEUE>>> = Mutex::new(RefCell::new(Deque::new()));
/// Polls run so far.
pub static POLLS: AtomicUsize = AtomicUsize::new(0);

fn schedule(runnable: Runnable) {
    critical_section::with(|cs| {
        RUN_QUEUE
            .borrow_ref_mut(cs)
            .push_back(runnable)
            .expect("the run queue holds every task");
    });
}

/// Spawns `future` and queues its first poll.
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (runnable, task) = task_ffi::spawn(future, schedule);
    runnable.schedule();
    task
}

/// Runs queued tasks until `done()`; sleeps (`wfi`) while nothing is queued. An interrupt that
/// wakes a task wakes the core, and the loop finds the task queued.
pub fn run_until(done: impl Fn() -> bool) {
    while !done() {
        // Pop and check for emptiness in one critical section; sleep outside it. A wake-up that
        // lands between the two is not lost: `wfi` returns at once for a pending interrupt, and
        // the next SysTick (1 ms) wakes the core in any case.
        match critical_section::with(|cs| RUN_QUEUE.borrow_ref_mut(cs).pop_front()) {
            Some(runnable) => {
                runnable.run();
                POLLS.fetch_add(1, Ordering::Relaxed);
            }
            None => cortex_m::asm::wfi(),
        }
    }
}
