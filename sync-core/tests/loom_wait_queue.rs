//! loom models of `WaitQueue`: FIFO, cancellation pass-on, notify racing a waiter, `wake_all`
//! racing a cancellation, a lock-free token take racing an enqueue.
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

/// `wake_all` races a cancellation (of a) and a newcomer (c, on a third thread). The waiter that
/// stays (b) is always woken; every notification `wake_all` made is accounted for exactly once:
/// taken by b or c, or handed back by `cancel` when it found nobody to pass it to. (That
/// `wake_all` stops after the waiters of its start is checked by a host test: here c may come
/// first.)
#[test]
fn wake_all_vs_cancel_and_newcomer() {
    model(|| {
        let queue = Arc::new(WaitQueue::<3>::new());
        let waker = futures_noop_waker();
        let a = queue.enqueue(&waker).unwrap();
        let mut b = Some(queue.enqueue(&waker).unwrap());
        let waker_all = {
            let queue = queue.clone();
            thread::spawn(move || queue.wake_all())
        };
        let newcomer = {
            let queue = queue.clone();
            thread::spawn(move || queue.enqueue(&futures_noop_waker()).unwrap())
        };
        let returned = queue.cancel(a);
        let mut c = Some(newcomer.join().unwrap());
        let woken = waker_all.join().unwrap();
        // c may queue before `wake_all` starts, so up to three.
        assert!((1..=3).contains(&woken), "woke {woken}");
        assert_eq!(queue.poll_ticket(&mut b, &waker), Poll::Ready(0));
        let c_ready = match queue.poll_ticket(&mut c, &waker) {
            Poll::Ready(token) => {
                assert_eq!(token, 0);
                true
            }
            Poll::Pending => {
                assert_eq!(queue.cancel(c.take().unwrap()), None);
                false
            }
        };
        assert!(matches!(returned, None | Some(0)));
        assert_eq!(
            woken,
            1 + usize::from(c_ready) + usize::from(returned.is_some()),
            "each wake-up delivered once"
        );
        assert!(queue.is_empty());
    });
}

/// A notified waiter takes its token and frees its place without the critical section, while
/// another thread takes a place off the free list inside it: the token arrives, and afterwards
/// exactly the places not held are free (the push and the pop did not lose each other).
#[test]
fn lock_free_take_vs_enqueue() {
    model(|| {
        let queue = Arc::new(WaitQueue::<2>::new());
        let waker = futures_noop_waker();
        let mut first = Some(queue.enqueue(&waker).unwrap());
        queue.notify_one(5).unwrap();
        let other = {
            let queue = queue.clone();
            thread::spawn(move || queue.enqueue(&futures_noop_waker()).unwrap())
        };
        assert_eq!(queue.poll_ticket(&mut first, &waker), Poll::Ready(5));
        let held = other.join().unwrap();
        let again = queue.enqueue(&waker).expect("the freed place is free");
        assert_ne!(again.index(), held.index());
        assert!(queue.enqueue(&waker).is_err(), "two places, both held");
        assert_eq!(queue.cancel(held), None);
        assert_eq!(queue.cancel(again), None);
        assert!(queue.is_empty());
    });
}

fn futures_noop_waker() -> std::task::Waker {
    std::task::Waker::noop().clone()
}
