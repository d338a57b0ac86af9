//! `Task::cancel`: before, after and during a run (the concurrent case is sequenced with a gate
//! inside `poll`, so the interleaving is forced, not timed).

mod common;

use std::task::Poll;

use common::{Counts, Mode, Queue, WakerSlot, gate, gated, pending, poll_once, ready};
use futures_lite::future::block_on;

fn run_and_cancel<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    runnable.run();
    check!(c, 1, 0, 1, 0, 0);
    let out = block_on(task.cancel());
    assert_eq!(out.as_ref().map(|o| o.1), Some(7));
    check!(c, 1, 0, 1, 0, 1);
    drop(out);
    check!(c, 1, 0, 1, 1, 1);
}

fn cancel_and_run<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    let mut cancel = Box::pin(task.cancel());
    // Scheduled but not run: cancel waits for the runnable to drop the future.
    assert!(poll_once(&mut cancel).is_pending());
    check!(c, 0, 0, 0, 0, 0);
    assert!(!runnable.run());
    check!(c, 0, 0, 1, 0, 0);
    assert!(matches!(poll_once(&mut cancel), Poll::Ready(None)));
    drop(cancel);
    check!(c, 0, 0, 1, 0, 1);
}

fn cancel_idle<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let slot = WakerSlot::new();
    let (runnable, task) = K::spawn(&c, pending(&c, &slot), &q);
    runnable.run();
    let mut cancel = Box::pin(task.cancel());
    // Idle: cancel schedules it once so the executor drops the future.
    assert!(poll_once(&mut cancel).is_pending());
    check!(c, 1, 1, 0, 0, 0);
    common::drain(&q);
    check!(c, 1, 1, 1, 0, 0);
    assert!(matches!(poll_once(&mut cancel), Poll::Ready(None)));
    drop(cancel);
    drop(slot.take());
    check!(c, 1, 1, 1, 0, 1);
}

fn cancel_during_run<K: Mode>() {
    let c = Counts::new();
    let (g, gin) = gate();
    let (runnable, task) = K::spawn(&c, gated(&c, gin, |_| Poll::Ready(3)), &Queue::new());
    std::thread::scope(|s| {
        s.spawn(|| runnable.run());
        g.wait_entered();
        let mut cancel = Box::pin(task.cancel());
        assert!(poll_once(&mut cancel).is_pending());
        g.open();
        // The output produced after the cancel is dropped by the runner; cancel sees None.
        assert!(block_on(cancel).is_none());
    });
    check!(c, 1, 0, 1, 1, 1);
}

fn cancel_during_pending_run<K: Mode>() {
    let c = Counts::new();
    let (g, gin) = gate();
    let (runnable, task) = K::spawn(&c, gated(&c, gin, |_| Poll::Pending), &Queue::new());
    std::thread::scope(|s| {
        s.spawn(|| assert!(!runnable.run()));
        g.wait_entered();
        let mut cancel = Box::pin(task.cancel());
        assert!(poll_once(&mut cancel).is_pending());
        g.open();
        assert!(block_on(cancel).is_none());
    });
    check!(c, 1, 0, 1, 0, 1);
}

both_modes!(
    run_and_cancel,
    cancel_and_run,
    cancel_idle,
    cancel_during_run,
    cancel_during_pending_run,
);
