//! A future that is pending once (keeping its waker) and then ready: every way of waking it,
//! and wakes that arrive after the task was dropped or completed.

mod common;

use common::{Counts, Mode, Queue, WakerSlot, drain, pending_then_ready};
use futures_lite::future::block_on;

fn wake<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let slot = WakerSlot::new();
    let (runnable, task) = K::spawn(&c, pending_then_ready(&c, &slot), &q);
    assert!(!runnable.run());
    check!(c, 1, 0, 0, 0, 0);
    slot.take().wake();
    check!(c, 1, 1, 0, 0, 0);
    drain(&q);
    check!(c, 2, 1, 1, 0, 0);
    assert_eq!(block_on(task).1, 7);
    check!(c, 2, 1, 1, 1, 1);
}

fn wake_by_ref<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let slot = WakerSlot::new();
    let (runnable, task) = K::spawn(&c, pending_then_ready(&c, &slot), &q);
    runnable.run();
    let w = slot.take();
    w.wake_by_ref();
    w.wake_by_ref();
    check!(c, 1, 1, 0, 0, 0);
    drain(&q);
    check!(c, 2, 1, 1, 0, 0);
    drop(task);
    check!(c, 2, 1, 1, 1, 0);
    drop(w);
    check!(c, 2, 1, 1, 1, 1);
}

fn clone<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let slot = WakerSlot::new();
    let (runnable, task) = K::spawn(&c, pending_then_ready(&c, &slot), &q);
    runnable.run();
    let w1 = slot.take();
    let w2 = w1.clone();
    let w3 = w2.clone();
    assert!(w1.will_wake(&w3));
    w1.wake();
    w2.wake();
    check!(c, 1, 1, 0, 0, 0);
    drain(&q);
    w3.wake();
    check!(c, 2, 1, 1, 0, 0);
    drop(task);
    check!(c, 2, 1, 1, 1, 1);
}

fn wake_dropped<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let slot = WakerSlot::new();
    let (runnable, task) = K::spawn(&c, pending_then_ready(&c, &slot), &q);
    runnable.run();
    let w = slot.take();
    drop(task);
    check!(c, 1, 1, 0, 0, 0);
    drain(&q);
    check!(c, 1, 1, 1, 0, 0);
    // Closed: waking schedules nothing; the last waker frees the task.
    w.wake();
    check!(c, 1, 1, 1, 0, 1);
}

fn wake_completed<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let slot = WakerSlot::new();
    let (runnable, task) = K::spawn(&c, pending_then_ready(&c, &slot), &q);
    runnable.run();
    let w = slot.take();
    w.wake_by_ref();
    drain(&q);
    check!(c, 2, 1, 1, 0, 0);
    w.wake_by_ref();
    check!(c, 2, 1, 1, 0, 0);
    assert_eq!(block_on(task).1, 7);
    w.wake();
    check!(c, 2, 1, 1, 1, 1);
}

both_modes!(wake, wake_by_ref, clone, wake_dropped, wake_completed);
