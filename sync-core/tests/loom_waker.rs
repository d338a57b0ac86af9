//! loom models of `AtomicWaker`: a lost wake-up shows up as a deadlock in `block_on`.
#![cfg(loom)]

use std::future::poll_fn;
use std::task::Poll;

use sync_core::AtomicWaker;
use sync_core::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use sync_core::sync::loom_only::{Arc, block_on, model, thread};
use sync_core::testing::WakeCounter;

/// Register-then-check against change-then-wake: the consumer always finishes.
#[test]
fn register_vs_wake() {
    model(|| {
        let slot = Arc::new(AtomicWaker::new());
        let done = Arc::new(AtomicUsize::new(0));
        let producer = {
            let (slot, done) = (slot.clone(), done.clone());
            thread::spawn(move || {
                done.store(1, sync_core::sync::atomic::Ordering::Release);
                slot.wake();
            })
        };
        block_on(poll_fn(|cx| {
            slot.register(cx.waker());
            if done.load(Acquire) == 1 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        producer.join().unwrap();
    });
}

/// Two producers wake concurrently while the consumer re-registers between wakes.
#[test]
fn two_wakers_and_reregistration() {
    model(|| {
        let slot = Arc::new(AtomicWaker::new());
        let count = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (0..2)
            .map(|_| {
                let (slot, count) = (slot.clone(), count.clone());
                thread::spawn(move || {
                    count.fetch_add(1, AcqRel);
                    slot.wake();
                })
            })
            .collect();
        block_on(poll_fn(|cx| {
            slot.register(cx.waker());
            if count.load(Acquire) == 2 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        for p in producers {
            p.join().unwrap();
        }
    });
}

/// Counting wakers: no waker is leaked or dropped twice whatever the interleaving. A `register`
/// that meets a `wake` in flight wakes its new waker itself, so the consumer may be woken once per
/// poll, never more.
#[test]
fn wakers_are_neither_leaked_nor_doubled() {
    model(|| {
        let counter = WakeCounter::new();
        let slot = Arc::new(AtomicWaker::new());
        let flag = Arc::new(AtomicUsize::new(0));
        let producer = {
            let (slot, flag) = (slot.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(1, sync_core::sync::atomic::Ordering::Release);
                slot.wake();
            })
        };
        let mut polls = 0;
        block_on(poll_fn(|cx| {
            polls += 1;
            let waker = counter.wrap(cx.waker());
            slot.register(&waker);
            drop(waker);
            if flag.load(Acquire) == 1 {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        producer.join().unwrap();
        assert!(
            counter.wakes() <= polls,
            "woken at most once per registration"
        );
        drop(slot);
        assert_eq!(counter.live(), 0, "every clone was dropped exactly once");
    });
}
