//! embassy-executor: the two tasks of `static-task_frugal.rs` in its static task pools, run by
//! its thread-mode executor.
#![no_std]
#![no_main]

use core::future::poll_fn;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use core::task::Poll;

use embassy_executor::{Executor, Spawner};
use size_probes as _;
use sync_core::AtomicWaker;

static SIGNAL: AtomicWaker = AtomicWaker::new();
static SIGNALLED: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU32 = AtomicU32::new(0);

/// Waits for the other task's signal, forever.
#[embassy_executor::task]
async fn waiter() {
    loop {
        poll_fn(|cx| {
            SIGNAL.register(cx.waker());
            if SIGNALLED.swap(false, Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        COUNT.fetch_add(1, Ordering::Relaxed);
    }
}

/// Signals the waiter, then yields, forever.
#[embassy_executor::task]
async fn signaller() {
    loop {
        SIGNALLED.store(true, Ordering::Release);
        SIGNAL.wake();
        let mut yielded = false;
        poll_fn(|cx| {
            if core::mem::replace(&mut yielded, true) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
    }
}

#[cortex_m_rt::entry]
fn main() -> ! {
    // cortex-m-rt's `entry` turns this into a `&'static mut`, handed out once.
    static mut EXECUTOR: Option<Executor> = None;
    let executor = EXECUTOR.insert(Executor::new());
    executor.run(|spawner: Spawner| {
        spawner.spawn(waiter().unwrap());
        spawner.spawn(signaller().unwrap());
    })
}
