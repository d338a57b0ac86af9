//! A future that becomes ready while the test acts on its handles during the poll (sequenced
//! with a gate inside `poll`): cancel, join, try-join and detach during the run.

mod common;

use std::task::Poll;

use common::{Counts, Mode, Queue, gate, gated, poll_once};
use futures_lite::future::block_on;

fn join_during_run<K: Mode>() {
    let c = Counts::new();
    let (g, gin) = gate();
    let (runnable, task) = K::spawn(&c, gated(&c, gin, |_| Poll::Ready(5)), &Queue::new());
    std::thread::scope(|s| {
        s.spawn(|| runnable.run());
        g.wait_entered();
        g.open();
        // Whether the join registers before or after completion, it gets the output.
        assert_eq!(block_on(task).1, 5);
    });
    check!(c, 1, 0, 1, 1, 1);
}

fn try_join_during_run<K: Mode>() {
    let c = Counts::new();
    let (g, gin) = gate();
    let (runnable, mut task) = K::spawn(&c, gated(&c, gin, |_| Poll::Ready(5)), &Queue::new());
    std::thread::scope(|s| {
        let runner = s.spawn(|| runnable.run());
        g.wait_entered();
        assert!(poll_once(&mut task).is_pending());
        g.open();
        runner.join().unwrap();
    });
    check!(c, 1, 0, 1, 0, 0);
    match poll_once(&mut task) {
        Poll::Ready(out) => assert_eq!(out.1, 5),
        Poll::Pending => panic!("not ready after the run"),
    }
    drop(task);
    check!(c, 1, 0, 1, 1, 1);
}

fn detach_during_run<K: Mode>() {
    let c = Counts::new();
    let (g, gin) = gate();
    let (runnable, task) = K::spawn(&c, gated(&c, gin, |_| Poll::Ready(5)), &Queue::new());
    std::thread::scope(|s| {
        let runner = s.spawn(|| runnable.run());
        g.wait_entered();
        task.detach();
        check!(c, 1, 0, 0, 0, 0);
        g.open();
        runner.join().unwrap();
    });
    // Nobody takes the output: the runner drops it, and the task is freed.
    check!(c, 1, 0, 1, 1, 1);
}

fn join_wakes_awaiter<K: Mode>() {
    let c = Counts::new();
    let wakes = sync_core::testing::WakeCounter::new();
    let (runnable, mut task) = K::spawn(&c, common::ready(&c), &Queue::new());
    let waker = wakes.waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut task).poll(&mut cx).is_pending());
    // Registering the same waker again does not wake it and does not leak a clone.
    assert!(std::pin::Pin::new(&mut task).poll(&mut cx).is_pending());
    assert_eq!(wakes.wakes(), 0);
    runnable.run();
    assert_eq!(wakes.wakes(), 1);
    drop(task);
    drop(waker);
    assert_eq!(wakes.live(), 0);
    check!(c, 1, 0, 1, 1, 1);
}

use std::future::Future;

both_modes!(
    join_during_run,
    try_join_during_run,
    detach_during_run,
    join_wakes_awaiter
);

/// A waker whose `clone` panics while the `Task` registers it: the panic leaves the poll, the
/// task is unchanged, and a later poll with a good waker gets the output.
fn panicking_awaiter_clone<K: Mode>() {
    let c = Counts::new();
    let bad = sync_core::testing::WakeCounter::new();
    let good = sync_core::testing::WakeCounter::new();
    let (runnable, mut task) = K::spawn(&c, common::ready(&c), &Queue::new());
    let waker = bad.panicking_clone();
    common::expect_panic(|| {
        let mut cx = std::task::Context::from_waker(&waker);
        let _ = std::pin::Pin::new(&mut task).poll(&mut cx);
    });
    assert_eq!(bad.clones(), 1);
    let waker = good.waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut task).poll(&mut cx).is_pending());
    runnable.run();
    assert_eq!(good.wakes(), 1);
    assert!(matches!(
        std::pin::Pin::new(&mut task).poll(&mut cx),
        Poll::Ready(_)
    ));
    drop(task);
    check!(c, 1, 0, 1, 1, 1);
}

mod panicking_clone {
    #[test]
    fn plain() {
        super::panicking_awaiter_clone::<super::common::Plain>();
    }

    #[test]
    fn with_data() {
        super::panicking_awaiter_clone::<super::common::With>();
    }
}
