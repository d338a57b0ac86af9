//! task-ffi: spawn + run + await of a trivial future (on the heap, and into a static slot), and a
//! wake-heavy yield loop, vs async-task.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::harness::{Case, Impl};

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            group: "task-ffi",
            name: "spawn + run + await a trivial future",
            iters: 1_000_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: spawn_run_await_ours,
                },
                Impl {
                    name: "async-task",
                    run: spawn_run_await_peer,
                },
            ],
        },
        Case {
            group: "task-ffi",
            name: "static slot: spawn + run + await a trivial future (no allocation)",
            iters: 1_000_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: spawn_run_await_static,
                },
                Impl {
                    name: "frugal-heap",
                    run: spawn_run_await_ours,
                },
                Impl {
                    name: "async-task",
                    run: spawn_run_await_peer,
                },
            ],
        },
        Case {
            group: "task-ffi",
            name: "yield loop: one wake + schedule + run per iteration",
            iters: 2_000_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: yield_loop_ours,
                },
                Impl {
                    name: "async-task",
                    run: yield_loop_peer,
                },
            ],
        },
    ]
}

fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    pin!(f).poll(&mut Context::from_waker(Waker::noop()))
}

fn spawn_run_await_ours(iters: u64) -> u64 {
    let mut ok = 0;
    for i in 0..iters {
        let x = black_box(i);
        let (runnable, task) = task_ffi::spawn(async move { x + 1 }, |r| drop(black_box(r)));
        runnable.run();
        ok += u64::from(poll_once(task) == Poll::Ready(i + 1));
    }
    ok
}

/// The slot of [`spawn_run_await_static`], spawned into again every iteration.
static SLOT: task_ffi::TaskSlot<64> = task_ffi::TaskSlot::new();

fn spawn_run_await_static(iters: u64) -> u64 {
    let mut ok = 0;
    for i in 0..iters {
        let x = black_box(i);
        let Ok((runnable, task)) = SLOT.spawn(async move { x + 1 }, |r| drop(black_box(r))) else {
            return 0;
        };
        runnable.run();
        ok += u64::from(poll_once(task) == Poll::Ready(i + 1));
    }
    ok
}

fn spawn_run_await_peer(iters: u64) -> u64 {
    let mut ok = 0;
    for i in 0..iters {
        let x = black_box(i);
        let (runnable, task) = async_task::spawn(async move { x + 1 }, |r| drop(black_box(r)));
        runnable.run();
        ok += u64::from(poll_once(task) == Poll::Ready(i + 1));
    }
    ok
}

/// A future that yields `n` times (waking itself each time) and returns `n`.
async fn yields(n: u64) -> u64 {
    let mut left = n;
    poll_fn(|cx| {
        if left == 0 {
            Poll::Ready(())
        } else {
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await;
    n
}

thread_local! {
    static OURS: RefCell<VecDeque<task_ffi::Runnable>> = const { RefCell::new(VecDeque::new()) };
    static PEER: RefCell<VecDeque<async_task::Runnable>> = const { RefCell::new(VecDeque::new()) };
}

fn yield_loop_ours(iters: u64) -> u64 {
    let (runnable, task) = task_ffi::spawn(yields(iters), |r| {
        OURS.with(|q| q.borrow_mut().push_back(r));
    });
    runnable.schedule();
    let mut runs = 0;
    while let Some(r) = OURS.with(|q| q.borrow_mut().pop_front()) {
        r.run();
        runs += 1;
    }
    if poll_once(task) == Poll::Ready(iters) {
        runs - 1
    } else {
        0
    }
}

fn yield_loop_peer(iters: u64) -> u64 {
    let (runnable, task) = async_task::spawn(yields(iters), |r| {
        PEER.with(|q| q.borrow_mut().push_back(r));
    });
    runnable.schedule();
    let mut runs = 0;
    while let Some(r) = PEER.with(|q| q.borrow_mut().pop_front()) {
        r.run();
        runs += 1;
    }
    if poll_once(task) == Poll::Ready(iters) {
        runs - 1
    } else {
        0
    }
}
