//! loom models of `WaitQueue`: FIFO, cancellation pass-on, notify racing a waiter.
#![cfg(loom)]

use std::future::poll_fn;
use std::task::Poll;

use sync_core::WaitQueue;
use sync_core::sync::loom_only::{Arc, block_on, model, thread};

/// A waiter waits while a notifier keeps offering one token until someone takes it.
#[test]
fn notify_vs_wait() {
    model(|| {
        let queue = Arc::new(WaitQueue::<1>::new());
        let notifier = {
            let queue = queue.clone();
            thread::spawn(move || {
                while queue.notify_one(9).is_err() {
                    thread::yield_now();
                }
            })
        };
        assert_eq!(block_on(queue.wait()), Ok(9));
        notifier.join().unwrap();
    });
}

/// Waiter A is notified (or not) and then cancels; the token must still reach waiter B.
#[test]
fn wake_then_cancel_passes_the_wake_on() {
    model(|| {
        let queue = Arc::new(WaitQueue::<2>::new());
        let a = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut ticket = None;
                block_on(poll_fn(|cx| {
                    ticket = Some(queue.enqueue(cx.waker()).unwrap());
                    Poll::Ready(())
                }));
                // Give up without looking: a token received meanwhile must not be lost.
                if let Some(token) = queue.cancel(ticket.take().unwrap()) {
                    while queue.notify_one(token).is_err() {
                        thread::yield_now();
                    }
                }
            })
        };
        let b = {
            let queue = queue.clone();
            thread::spawn(move || block_on(queue.wait()))
        };
        while queue.notify_one(1).is_err() {
            thread::yield_now();
        }
        a.join().unwrap();
        assert_eq!(b.join().unwrap(), Ok(1), "the one token reached B");
    });
}

/// Three waiters queued in order; two notifications race a cancellation of the middle one. The
/// first always gets token 1 and the last always gets token 2 (directly or passed on).
#[test]
fn fifo_with_three_waiters() {
    model(|| {
        let queue = Arc::new(WaitQueue::<3>::new());
        let waker = futures_noop_waker();
        let mut a = Some(queue.enqueue(&waker).unwrap());
        let b = queue.enqueue(&waker).unwrap();
        let mut c = Some(queue.enqueue(&waker).unwrap());
        let notifier = {
            let queue = queue.clone();
            thread::spawn(move || {
                queue.notify_one(1).unwrap();
                while queue.notify_one(2).is_err() {
                    thread::yield_now();
                }
            })
        };
        assert_eq!(queue.cancel(b), None, "a token of b's is passed on to c");
        notifier.join().unwrap();
        assert_eq!(queue.poll_ticket(&mut a, &waker), Poll::Ready(1));
        assert_eq!(queue.poll_ticket(&mut c, &waker), Poll::Ready(2));
        assert!(queue.is_empty());
    });
}

fn futures_noop_waker() -> std::task::Waker {
    std::task::Waker::noop().clone()
}
