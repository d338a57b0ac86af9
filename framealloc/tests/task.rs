//! `TaskAlloc` and `AsyncPoolGuard`: pool-backed, drop counts, early returns, a multi-threaded
//! runtime with boxes held across `.await`.
#![cfg(all(feature = "task", not(loom)))]

mod common;

use std::future::Future;

use common::{Drops, n};
use framealloc::task::{AsyncPoolGuard, TaskAlloc};
use framealloc::{PoolBox, PoolVec, SmartAlloc};

fn assert_send_sync<T: Send + Sync>() {}
fn require_send<F: Future + Send>(f: F) -> F {
    f
}

#[test]
fn scopes_and_their_handles_are_send_and_sync() {
    assert_send_sync::<SmartAlloc>();
    assert_send_sync::<TaskAlloc>();
    assert_send_sync::<AsyncPoolGuard<'static>>();
    assert_send_sync::<PoolBox<'static, String>>();
    assert_send_sync::<PoolVec<'static, u8>>();
    // The positive twin of the compile_fail doctests: pool data may cross an await.
    let alloc = SmartAlloc::new(Default::default());
    let fut = require_send(async move {
        let task = TaskAlloc::new(&alloc);
        let b = task.alloc_box(1u32);
        std::future::ready(()).await;
        *b
    });
    drop(fut);
}

#[test]
fn task_alloc_uses_the_pool_and_drops_everything_once() {
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    {
        let task = TaskAlloc::new(&alloc);
        let a = task.alloc_box(drops.track(0));
        let mut v = task.alloc_vec();
        for i in 1..=20 {
            v.push(drops.track(i));
        }
        let w = task.alloc_vec_with_capacity::<u64>(3);
        let st = alloc.stats();
        assert_eq!(
            st.pool.live_count(),
            3,
            "box, vector and vector: all in the pool tier"
        );
        assert_eq!(st.heap.allocations, 0);
        assert_eq!(task.live_allocations(), 3);
        assert_eq!(task.live_bytes(), st.pool.live_bytes());
        assert!(
            task.total_allocations() > 3,
            "the growing vector moved between classes"
        );
        assert_eq!(drops.count(), 0);
        drop((a, v, w));
        assert_eq!(drops.count(), 21);
        assert_eq!(task.live_allocations(), 0);
        assert_eq!(task.live_bytes(), 0);
        assert!(task.allocator().ptr_eq(&alloc));
        assert!(format!("{task:?}").contains("live_allocations"));
    }
    assert_eq!(alloc.stats().pool.live_count(), 0);
}

#[test]
fn zero_sized_values_are_safe_in_both_scopes() {
    let alloc = SmartAlloc::new(Default::default());
    let task = TaskAlloc::new(&alloc);
    let guard = AsyncPoolGuard::new(&alloc);
    let a = task.alloc_box(());
    let b = guard.pool_box(());
    let mut v = task.alloc_vec::<()>();
    let mut w = guard.pool_vec::<()>();
    v.extend(std::iter::repeat_n((), 1000));
    w.push(());
    assert_eq!((task.live_allocations(), guard.live_allocations()), (0, 0));
    drop((a, b, v, w));
    assert_eq!(alloc.stats().pool.allocations, 0);
}

/// Upstream framealloc's early-return pattern, synchronously (runs under miri too).
fn process(alloc: &SmartAlloc, drops: &Drops, bail_at: usize) -> Result<usize, usize> {
    let guard = AsyncPoolGuard::new(alloc);
    let mut rows = guard.pool_vec();
    let header = guard.pool_box(drops.track(usize::MAX));
    for i in 0..10 {
        if i == bail_at {
            return Err(guard.live_allocations());
        }
        rows.push(drops.track(i));
    }
    drop(header);
    Ok(rows.len())
}

#[test]
fn guard_frees_on_early_return() {
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    assert_eq!(process(&alloc, &drops, 4), Err(2));
    assert_eq!(drops.count(), 5, "four rows and the header");
    assert_eq!(alloc.stats().pool.live_count(), 0);
    assert_eq!(process(&alloc, &drops, 99), Ok(10));
    assert_eq!(drops.count(), 16);
    assert_eq!(alloc.stats().pool.live_count(), 0);
    let guard = AsyncPoolGuard::new(&alloc);
    let slot = guard.pool_alloc::<u32>().write(3);
    let (x, y) = (guard.alloc_box(4u32), guard.alloc_vec::<u8>());
    assert_eq!(*slot + *x, 7);
    assert_eq!(guard.total_allocations(), 2);
    assert!(guard.allocator().ptr_eq(&alloc));
    assert!(y.is_empty());
}

async fn fetch(i: usize) -> usize {
    tokio::task::yield_now().await;
    i
}

async fn guarded(alloc: &SmartAlloc, drops: &Drops, fail: bool) -> Option<usize> {
    let guard = AsyncPoolGuard::new(alloc);
    let mut buf = guard.pool_vec();
    buf.push(drops.track(fetch(1).await));
    if fail {
        return None;
    }
    buf.push(drops.track(fetch(2).await));
    Some(buf.iter().map(|t| t.id).sum())
}

// Tokio's runtime makes syscalls (threads, parking) that miri does not model well; the same
// behaviour is covered synchronously above.
#[test]
#[cfg_attr(miri, ignore)]
fn guard_early_return_in_async_fn() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    assert_eq!(rt.block_on(guarded(&alloc, &drops, true)), None);
    assert_eq!(drops.count(), 1);
    assert_eq!(rt.block_on(guarded(&alloc, &drops, false)), Some(3));
    assert_eq!(drops.count(), 3);
    // A cancelled future (dropped mid-way) also frees everything.
    let mut fut = Box::pin(guarded(&alloc, &drops, false));
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(
        alloc.stats().pool.live_count(),
        0,
        "nothing allocated before the first await"
    );
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(alloc.stats().pool.live_count(), 1);
    drop(fut);
    assert_eq!(drops.count(), 4);
    assert_eq!(alloc.stats().pool.live_count(), 0);
}

// Multi-threaded runtime: see the note on `guard_early_return_in_async_fn`.
#[test]
#[cfg_attr(miri, ignore)]
fn task_boxes_held_across_yield_on_a_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    let tasks = n(32, 4);
    let sum = rt.block_on(async {
        let mut handles = Vec::new();
        for t in 0..tasks {
            let alloc = alloc.clone();
            let drops = drops.clone();
            handles.push(tokio::spawn(async move {
                let task = TaskAlloc::new(&alloc);
                let held = task.alloc_box(drops.track(t));
                let mut log = task.alloc_vec::<usize>();
                for i in 0..10 {
                    log.push(i);
                    tokio::task::yield_now().await; // may resume on another worker
                }
                assert_eq!(task.live_allocations(), 2);
                held.id + log.iter().sum::<usize>()
            }));
        }
        let mut sum = 0;
        for h in handles {
            sum += h.await.expect("task");
        }
        sum
    });
    assert_eq!(sum, tasks * (tasks - 1) / 2 + tasks * 45);
    assert_eq!(drops.count(), tasks);
    let st = alloc.stats();
    assert_eq!(st.pool.live_count(), 0);
    assert!(st.pool.allocations >= 2 * tasks);
}
