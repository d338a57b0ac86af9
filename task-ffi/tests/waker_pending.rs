//! A future that is always pending and keeps its waker: wakes and cancels during the run, and
//! the last waker or the last handle going away.

mod common;

use std::task::Poll;

use common::{Counts, Mode, Queue, TaskSlot, WakerSlot, drain, gate, gated, pending};

fn wake_during_run<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let fut = common::Fut::new(&c, |cx| {
        cx.waker().wake_by_ref();
        Poll::Pending
    });
    let (runnable, task) = K::spawn(&c, fut, &q);
    // Rescheduled exactly once, after the poll.
    assert!(runnable.run());
    check!(c, 1, 1, 0, 0, 0);
    assert!(q.pop().unwrap().run());
    check!(c, 2, 2, 0, 0, 0);
    drop(task);
    check!(c, 2, 2, 0, 0, 0);
    drain(&q);
    check!(c, 2, 2, 1, 0, 1);
}

fn wake_during_run_threaded<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let (g, gin) = gate();
    let slot = WakerSlot::new();
    let s2 = slot.clone();
    let fut = gated(&c, gin, move |cx| {
        s2.set(cx.waker());
        Poll::Pending
    });
    let (runnable, task) = K::spawn(&c, fut, &q);
    let waker = runnable.waker();
    std::thread::scope(|s| {
        let runner = s.spawn(|| runnable.run());
        g.wait_entered();
        waker.wake_by_ref();
        check!(c, 1, 0, 0, 0, 0);
        g.open();
        assert!(runner.join().unwrap());
    });
    check!(c, 1, 1, 0, 0, 0);
    drop(task);
    drop(waker);
    drop(slot.take());
    drop(q.pop().unwrap());
    check!(c, 1, 1, 1, 0, 1);
}

fn cancel_during_run<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let tasks = TaskSlot::new();
    let t2 = tasks.clone();
    let fut = common::Fut::new(&c, move |_| {
        drop(t2.take());
        Poll::Pending
    });
    let (runnable, task) = K::spawn(&c, fut, &q);
    tasks.put(task);
    assert!(!runnable.run());
    check!(c, 1, 0, 1, 0, 1);
}

fn wake_and_cancel_during_run<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let tasks = TaskSlot::new();
    let t2 = tasks.clone();
    let fut = common::Fut::new(&c, move |cx| {
        cx.waker().wake_by_ref();
        drop(t2.take());
        Poll::Pending
    });
    let (runnable, task) = K::spawn(&c, fut, &q);
    tasks.put(task);
    assert!(!runnable.run());
    assert_eq!(q.len(), 0);
    check!(c, 1, 0, 1, 0, 1);
}

fn cancel_and_wake_during_run<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let tasks = TaskSlot::new();
    let t2 = tasks.clone();
    let slot = WakerSlot::new();
    let s2 = slot.clone();
    let fut = common::Fut::new(&c, move |cx| {
        drop(t2.take());
        cx.waker().wake_by_ref();
        s2.set(cx.waker());
        Poll::Pending
    });
    let (runnable, task) = K::spawn(&c, fut, &q);
    tasks.put(task);
    assert!(!runnable.run());
    assert_eq!(q.len(), 0);
    // The future (and the waker slot clone it held) is gone; our stored waker keeps the task.
    check!(c, 1, 0, 1, 0, 0);
    slot.take().wake();
    check!(c, 1, 0, 1, 0, 1);
}

fn drop_last_waker<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let slot = WakerSlot::new();
    let (runnable, task) = K::spawn(&c, pending(&c, &slot), &q);
    task.detach();
    runnable.run();
    check!(c, 1, 0, 0, 0, 0);
    // Nobody can wake it any more: it is scheduled once so the future is dropped.
    drop(slot.take());
    check!(c, 1, 1, 0, 0, 0);
    drain(&q);
    check!(c, 1, 1, 1, 0, 1);
}

fn cancel_last_task<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let (runnable, task) = K::spawn(&c, common::Fut::new(&c, |_| Poll::Pending), &q);
    runnable.run();
    check!(c, 1, 0, 0, 0, 0);
    drop(task);
    check!(c, 1, 1, 0, 0, 0);
    drain(&q);
    check!(c, 1, 1, 1, 0, 1);
}

fn drop_last_task<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let (runnable, task) = K::spawn(&c, common::Fut::new(&c, |_| Poll::Pending), &q);
    runnable.run();
    task.detach();
    check!(c, 1, 1, 0, 0, 0);
    drain(&q);
    check!(c, 1, 1, 1, 0, 1);
}

fn drop_scheduled_runnable_after_cancel<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let (runnable, task) = K::spawn(&c, common::Fut::new(&c, |_| Poll::Pending), &q);
    runnable.run();
    drop(task);
    // The executor shuts down instead of running: dropping the runnable drops the future.
    drop(q.pop().unwrap());
    check!(c, 1, 1, 1, 0, 1);
}

/// Detached before its first poll, which keeps no waker: nothing can wake the task again, so
/// the end of that poll closes it and schedules it once more, and the executor drops the
/// future, once, and frees the task (its memory is pinned: it is not given back with the future
/// undropped).
fn detached_then_pending_without_a_waker<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let (runnable, task) = K::spawn(&c, common::Fut::new(&c, |_| Poll::Pending), &q);
    task.detach();
    assert!(!runnable.run());
    check!(c, 1, 1, 0, 0, 0);
    drain(&q);
    check!(c, 1, 1, 1, 0, 1);
}

both_modes!(
    detached_then_pending_without_a_waker,
    wake_during_run,
    wake_during_run_threaded,
    cancel_during_run,
    wake_and_cancel_during_run,
    cancel_and_wake_during_run,
    drop_last_waker,
    cancel_last_task,
    drop_last_task,
    drop_scheduled_runnable_after_cancel,
);
