//! Futures that panic: the task is closed, the future dropped once, the awaiter sees a panic;
//! with `propagate_panic` the payload is resumed where the task is awaited.

mod common;

use std::task::Poll;

use common::{Counts, Mode, Queue, WakerSlot, expect_panic, gate, gated, poll_once};
use futures_lite::future::block_on;

fn panicking(
    c: &Counts,
) -> common::Fut<impl FnMut(&mut std::task::Context<'_>) -> Poll<u32> + Unpin + Send + use<>> {
    common::Fut::new(c, |_| panic!("future panicked"))
}

fn run_and_join<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, panicking(&c), &Queue::new());
    expect_panic(|| runnable.run());
    check!(c, 1, 0, 1, 0, 0);
    assert!(task.is_finished());
    expect_panic(|| block_on(task));
    check!(c, 1, 0, 1, 0, 1);
}

fn try_join_and_run_and_join<K: Mode>() {
    let c = Counts::new();
    let (runnable, mut task) = K::spawn(&c, panicking(&c), &Queue::new());
    assert!(poll_once(&mut task).is_pending());
    expect_panic(|| runnable.run());
    expect_panic(|| block_on(task));
    check!(c, 1, 0, 1, 0, 1);
}

fn cancel_during_run<K: Mode>() {
    let c = Counts::new();
    let (g, gin) = gate();
    let (runnable, task) = K::spawn(&c, gated(&c, gin, |_| panic!("boom")), &Queue::new());
    std::thread::scope(|s| {
        s.spawn(|| expect_panic(|| runnable.run()));
        g.wait_entered();
        let mut cancel = Box::pin(task.cancel());
        assert!(poll_once(&mut cancel).is_pending());
        g.open();
        assert!(block_on(cancel).is_none());
    });
    check!(c, 1, 0, 1, 0, 1);
}

fn join_during_run<K: Mode>() {
    let c = Counts::new();
    let (g, gin) = gate();
    let (runnable, task) = K::spawn(&c, gated(&c, gin, |_| panic!("boom")), &Queue::new());
    std::thread::scope(|s| {
        s.spawn(|| expect_panic(|| runnable.run()));
        g.wait_entered();
        g.open();
        expect_panic(|| block_on(task));
    });
    check!(c, 1, 0, 1, 0, 1);
}

fn detach_during_run<K: Mode>() {
    let c = Counts::new();
    let (g, gin) = gate();
    let (runnable, task) = K::spawn(&c, gated(&c, gin, |_| panic!("boom")), &Queue::new());
    std::thread::scope(|s| {
        let runner = s.spawn(|| expect_panic(|| runnable.run()));
        g.wait_entered();
        task.detach();
        g.open();
        runner.join().unwrap();
    });
    check!(c, 1, 0, 1, 0, 1);
}

/// Pending first (waker stored), then panics.
fn wake_then_panic<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let slot = WakerSlot::new();
    let s2 = slot.clone();
    let mut first = true;
    let fut = common::Fut::new(&c, move |cx| {
        if std::mem::take(&mut first) {
            s2.set(cx.waker());
            Poll::Pending
        } else {
            panic!("second poll panics")
        }
    });
    let (runnable, task) = K::spawn(&c, fut, &q);
    runnable.run();
    let waker = slot.take();
    waker.wake_by_ref();
    check!(c, 1, 1, 0, 0, 0);
    expect_panic(|| q.pop().unwrap().run());
    check!(c, 2, 1, 1, 0, 0);
    // Closed: wakes do nothing now.
    waker.wake_by_ref();
    check!(c, 2, 1, 1, 0, 0);
    expect_panic(|| block_on(task));
    check!(c, 2, 1, 1, 0, 0);
    drop(waker);
    check!(c, 2, 1, 1, 0, 1);
}

/// Wakes itself, then panics in the same poll: no reschedule.
fn wake_during_run_then_panic<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let fut = common::Fut::new(&c, |cx| {
        cx.waker().wake_by_ref();
        panic!("after the wake")
    });
    let (runnable, task) = K::spawn(&c, fut, &q);
    expect_panic(|| runnable.run());
    assert_eq!(q.len(), 0);
    check!(c, 1, 0, 1, 0, 0);
    drop(task);
    check!(c, 1, 0, 1, 0, 1);
}

/// Cancels itself (drops its own task), then panics.
fn cancel_during_run_then_panic<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let tasks = common::TaskSlot::new();
    let t2 = tasks.clone();
    let fut = common::Fut::new(&c, move |cx| {
        drop(t2.take());
        cx.waker().wake_by_ref();
        panic!("after the cancel")
    });
    let (runnable, task) = K::spawn(&c, fut, &q);
    tasks.put(task);
    expect_panic(|| runnable.run());
    assert_eq!(q.len(), 0);
    check!(c, 1, 0, 1, 0, 1);
}

both_modes!(
    run_and_join,
    try_join_and_run_and_join,
    cancel_during_run,
    join_during_run,
    detach_during_run,
    wake_then_panic,
    wake_during_run_then_panic,
    cancel_during_run_then_panic,
);

#[test]
fn propagate_panic() {
    let (runnable, task) = task_ffi::Builder::new()
        .propagate_panic(true)
        .spawn(|()| async { panic!("payload") }, |_| {});
    assert!(!runnable.run()); // caught
    assert!(task.is_finished());
    let err =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| block_on(task))).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"payload"));
}

#[test]
fn propagate_panic_detached_and_fallible() {
    // Detached: the payload is dropped with the task.
    let (runnable, task) = task_ffi::Builder::new()
        .propagate_panic(true)
        .spawn(|()| async { panic!("dropped") }, |_| {});
    task.detach();
    runnable.run();
    // Fallible: still resumes the panic (the task did complete, with a panic).
    let (runnable, task) = task_ffi::Builder::new()
        .propagate_panic(true)
        .spawn(|()| async { panic!("fallible") }, |_| {});
    runnable.run();
    expect_panic(|| block_on(task.fallible()));
    // Not panicking: the output goes through untouched.
    let (runnable, task) = task_ffi::Builder::new()
        .propagate_panic(true)
        .spawn(|()| async { 9 }, |_| {});
    runnable.run();
    assert_eq!(block_on(task), 9);
}

#[test]
fn local_task_checked_on_other_thread() {
    let (runnable, task) = task_ffi::spawn_local(async { 1 }, |_| {});
    let runnable = std::sync::Mutex::new(Some(runnable));
    std::thread::scope(|s| {
        s.spawn(|| {
            let r = runnable.lock().unwrap().take().unwrap();
            // Running on a foreign thread panics in the check, before polling.
            expect_panic(move || {
                let r = r;
                let ptr = r.into_raw();
                // SAFETY: from `into_raw` of the same types, used once.
                unsafe { task_ffi::Runnable::<()>::from_raw(ptr) }.run();
            });
        });
    });
    // The check closed the task; the future was dropped by the panic guard... on the foreign
    // thread, which the drop check reports too: the task is closed either way.
    assert!(task.is_finished());
}
