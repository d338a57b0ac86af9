//! Real-thread races (no forced order, so every run samples other interleavings): wake storms
//! against a running executor, and cancel/detach racing a run. Every outcome is checked with
//! exact counts; loom covers the interleavings exhaustively in `loom_task.rs`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Poll;

use common::{Counts, Mode, Queue, drain};
use futures_lite::future::block_on;

const ROUNDS: usize = if cfg!(miri) { 3 } else { 200 };
const WAKERS: usize = 2;
const WAKES: usize = if cfg!(miri) { 5 } else { 200 };

/// Threads wake a task many times while the executor runs it; the future completes once it has
/// seen every wake's effect, so a lost wake-up leaves it unfinished.
fn wake_storm<K: Mode>() {
    for _ in 0..ROUNDS.min(20) {
        let c = Counts::new();
        let q = Queue::new();
        let seen = Arc::new(AtomicUsize::new(0));
        let s2 = seen.clone();
        let fut = common::Fut::new(&c, move |_| {
            if s2.load(SeqCst) == WAKERS * WAKES {
                Poll::Ready(1)
            } else {
                Poll::Pending
            }
        });
        let (runnable, task) = K::spawn(&c, fut, &q);
        let waker = runnable.waker();
        runnable.run();
        std::thread::scope(|s| {
            for _ in 0..WAKERS {
                let waker = waker.clone();
                let seen = &seen;
                s.spawn(move || {
                    for _ in 0..WAKES {
                        seen.fetch_add(1, SeqCst);
                        waker.wake_by_ref();
                    }
                });
            }
            s.spawn(|| {
                while !task.is_finished() {
                    if drain(&q) == 0 {
                        std::thread::yield_now();
                    }
                }
            });
        });
        drain(&q);
        assert!(task.is_finished());
        drop(waker);
        assert_eq!(block_on(task).1, 1);
        let [poll, sched, f, t, s, d] = c.get();
        assert_eq!(poll, sched + 1);
        assert_eq!([f, t, s, d], [1, 1, 1, 1]);
    }
}

/// The task is dropped (cancelled) on one thread while another runs it.
fn cancel_races_run<K: Mode>() {
    for i in 0..ROUNDS {
        let c = Counts::new();
        let q = Queue::new();
        let (runnable, task) = K::spawn(
            &c,
            common::Fut::new(&c, |cx| {
                cx.waker().wake_by_ref();
                Poll::Pending
            }),
            &q,
        );
        std::thread::scope(|s| {
            s.spawn(move || {
                if i % 2 == 0 {
                    drop(task);
                } else {
                    task.detach();
                }
            });
            s.spawn(|| {
                runnable.run();
            });
        });
        // A detached task keeps waking itself; a cancelled one winds down.
        if i % 2 == 0 {
            drain(&q);
            let [poll, sched, f, t, s, d] = c.get();
            assert!(poll <= 1 && sched <= 1, "{:?}", c.get());
            assert_eq!([f, t, s, d], [1, 0, 1, 1]);
        } else {
            let r = q.pop().expect("self-waking task rescheduled");
            drop(r);
            assert_eq!(c.get()[2..], [1, 0, 1, 1]);
        }
    }
}

/// The output is taken exactly once whether the join, the detach or the run gets there first.
fn join_races_run<K: Mode>() {
    for i in 0..ROUNDS {
        let c = Counts::new();
        let (runnable, task) = K::spawn(&c, common::ready(&c), &Queue::new());
        std::thread::scope(|s| {
            s.spawn(move || {
                if i % 2 == 0 {
                    assert_eq!(block_on(task).1, 7);
                } else {
                    task.detach();
                }
            });
            s.spawn(|| runnable.run());
        });
        check!(c, 1, 0, 1, 1, 1);
    }
}

both_modes!(wake_storm, cancel_races_run, join_races_run);
