//! Awaiting a `Task`: joins before, after and concurrently with a run; joins after a cancel
//! panic; output values round-trip and are dropped exactly once.

mod common;

use std::task::Poll;

use common::{Counts, Mode, Queue, expect_panic, poll_once, ready};
use futures_lite::future::block_on;

fn drop_and_join<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    drop(runnable);
    check!(c, 0, 0, 1, 0, 0);
    expect_panic(|| block_on(task));
    check!(c, 0, 0, 1, 0, 1);
}

fn run_and_join<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    runnable.run();
    let out = block_on(task);
    assert_eq!(out.1, 7);
    check!(c, 1, 0, 1, 0, 1);
    drop(out);
    check!(c, 1, 0, 1, 1, 1);
}

fn join_twice<K: Mode>() {
    let c = Counts::new();
    let (runnable, mut task) = K::spawn(&c, ready(&c), &Queue::new());
    runnable.run();
    drop(block_on(&mut task));
    check!(c, 1, 0, 1, 1, 0);
    expect_panic(|| block_on(&mut task));
    check!(c, 1, 0, 1, 1, 0);
    task.detach();
    check!(c, 1, 0, 1, 1, 1);
}

fn join_and_cancel<K: Mode>() {
    let c = Counts::new();
    let (runnable, mut task) = K::spawn(&c, ready(&c), &Queue::new());
    assert!(poll_once(&mut task).is_pending());
    std::thread::scope(|s| {
        let joiner = s.spawn(move || {
            expect_panic(move || block_on(task));
        });
        drop(runnable);
        joiner.join().unwrap();
    });
    check!(c, 0, 0, 1, 0, 1);
}

fn join_and_run<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    std::thread::scope(|s| {
        let joiner = s.spawn(move || block_on(task).1);
        runnable.run();
        assert_eq!(joiner.join().unwrap(), 7);
    });
    check!(c, 1, 0, 1, 1, 1);
}

fn try_join_and_run_and_join<K: Mode>() {
    let c = Counts::new();
    let (runnable, mut task) = K::spawn(&c, ready(&c), &Queue::new());
    assert!(poll_once(&mut task).is_pending());
    runnable.run();
    assert_eq!(block_on(task).1, 7);
    check!(c, 1, 0, 1, 1, 1);
}

fn try_join_and_cancel_and_run<K: Mode>() {
    let c = Counts::new();
    let (runnable, mut task) = K::spawn(&c, ready(&c), &Queue::new());
    assert!(poll_once(&mut task).is_pending());
    drop(task);
    runnable.run();
    check!(c, 0, 0, 1, 0, 1);
}

fn try_join_and_run_and_cancel<K: Mode>() {
    let c = Counts::new();
    let (runnable, mut task) = K::spawn(&c, ready(&c), &Queue::new());
    assert!(poll_once(&mut task).is_pending());
    runnable.run();
    check!(c, 1, 0, 1, 0, 0);
    drop(task);
    check!(c, 1, 0, 1, 1, 1);
}

fn fallible_after_cancel<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    let mut task = task.fallible();
    drop(runnable);
    assert!(task.is_finished());
    assert!(matches!(poll_once(&mut task), Poll::Ready(None)));
    drop(task);
    check!(c, 0, 0, 1, 0, 1);
}

both_modes!(
    drop_and_join,
    run_and_join,
    join_twice,
    join_and_cancel,
    join_and_run,
    try_join_and_run_and_join,
    try_join_and_cancel_and_run,
    try_join_and_run_and_cancel,
    fallible_after_cancel,
);

#[test]
fn await_output() {
    fn round_trip<T: Clone + PartialEq + std::fmt::Debug + Send + 'static>(v: T) {
        let v2 = v.clone();
        let (runnable, task) = task_ffi::spawn(async move { v2 }, |_| {});
        runnable.run();
        assert_eq!(block_on(task), v);
    }
    round_trip(());
    round_trip(0u8);
    round_trip(usize::MAX);
    round_trip(vec![1u64, 2, 3]);
    round_trip(String::from("output"));
    round_trip([7u128; 9]);
}
