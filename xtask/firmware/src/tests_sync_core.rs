//! sync-core on the Cortex-M4: the waker slot and the wait queue, woken from SysTick.

use core::future::poll_fn;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Poll;

use sync_core::{AtomicWaker, WaitQueue};

use crate::{Test, exec, isr};

pub const TESTS: &[Test] = &[
    ("sync_core::wait_queue_fifo_tokens", wait_queue_fifo_tokens),
    (
        "sync_core::wait_queue_notified_from_systick",
        wait_queue_notified_from_systick,
    ),
    (
        "sync_core::atomic_waker_woken_from_systick",
        atomic_waker_woken_from_systick,
    ),
];

fn wait_queue_fifo_tokens() {
    let queue = WaitQueue::<3>::new();
    let waker = exec::waker();
    let mut a = Some(queue.enqueue(&waker).unwrap());
    let b = queue.enqueue(&waker).unwrap();
    let mut c = Some(queue.enqueue(&waker).unwrap());
    assert!(queue.enqueue(&waker).is_err(), "full queue is an error");
    queue.notify_one(1).unwrap();
    queue.notify_one(2).unwrap();
    assert_eq!(queue.cancel(b), None, "b's token passes on to c");
    assert_eq!(queue.poll_ticket(&mut a, &waker), Poll::Ready(1));
    assert_eq!(queue.poll_ticket(&mut c, &waker), Poll::Ready(2));
    assert!(queue.is_empty());
}

static QUEUE: WaitQueue<2> = WaitQueue::new();

fn wait_queue_notified_from_systick() {
    isr::set_hook(|| {
        // In the handler: hand token 42 to the waiting task once it is queued.
        let _ = QUEUE.notify_one(42);
    });
    let start = isr::ticks();
    let (token, polls) = exec::block_on(QUEUE.wait());
    assert_eq!(token, Ok(42));
    assert!(
        isr::LAST_VECTOR.load(Ordering::Relaxed) == 15,
        "notified from an exception handler"
    );
    assert!(
        polls <= 3,
        "woken by the interrupt, not busy-polled ({polls} polls)"
    );
    assert!(isr::ticks() > start);
}

static SLOT: AtomicWaker = AtomicWaker::new();
static READY: AtomicBool = AtomicBool::new(false);

fn atomic_waker_woken_from_systick() {
    READY.store(false, Ordering::Relaxed);
    isr::set_hook(|| {
        READY.store(true, Ordering::Release);
        SLOT.wake();
    });
    let ((), polls) = exec::block_on(poll_fn(|cx| {
        SLOT.register(cx.waker());
        if READY.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }));
    assert!(polls <= 2, "one wake from the handler ({polls} polls)");
}
