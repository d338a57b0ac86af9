//! A minimal `block_on` for thread mode: poll, then sleep (`wfi`) until a waker fires.
//!
//! The waker sets a flag; interrupts (SysTick) wake the core from `wfi`, so a task woken from an
//! interrupt handler is polled again right after the handler returns. The number of polls is
//! returned so tests can assert that waiting did not busy-poll.

use core::future::{Future, poll_fn};
use core::pin::pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

static WOKEN: AtomicBool = AtomicBool::new(false);

static VTABLE: RawWakerVTable = RawWakerVTable::new(
    |_| RawWaker::new(core::ptr::null(), &VTABLE),
    |_| WOKEN.store(true, Ordering::Release),
    |_| WOKEN.store(true, Ordering::Release),
    |_| {},
);

/// The flag waker.
pub fn waker() -> Waker {
    // SAFETY: the vtable ignores the data pointer and only touches a static flag.
    unsafe { Waker::from_raw(RawWaker::new(core::ptr::null(), &VTABLE)) }
}

/// Runs `future` to completion; returns its output and how many times it was polled.
pub fn block_on<F: Future>(future: F) -> (F::Output, usize) {
    let mut future = pin!(future);
    let waker = waker();
    let mut cx = Context::from_waker(&waker);
    let mut polls = 0;
    loop {
        WOKEN.store(false, Ordering::Release);
        polls += 1;
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return (out, polls);
        }
        while !WOKEN.load(Ordering::Acquire) {
            cortex_m::asm::wfi();
        }
    }
}

/// Pending once (waking itself), then ready: lets the executor run other tasks.
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(move |cx: &mut Context<'_>| {
        if core::mem::replace(&mut yielded, true) {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
}
