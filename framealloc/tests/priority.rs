//! A high-priority thread never spins forever on a pool-tier lock held by a low-priority one.
//!
//! Two `SCHED_FIFO` threads on CPU 0 allocate and free pool blocks of the same size class
//! without pause (the high one sleeps briefly between rounds, then wakes up at an arbitrary point
//! of the low one's loop, often inside the class's critical section). With a spin lock the high
//! thread would spin forever (`sched_yield` never yields to a lower priority); with sync-core's
//! mutex it sleeps until the holder unlocks. Prints and skips when the process may not use
//! real-time priorities. Linux only; not under miri (syscalls).
#![cfg(all(target_os = "linux", not(miri), not(loom)))]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use framealloc::SmartAlloc;
use sync_core::testing::realtime;

const OPERATIONS: u64 = 100_000;

#[test]
fn a_high_priority_thread_is_not_blocked_forever_by_a_preempted_pool_user() {
    let alloc = Arc::new(SmartAlloc::new(Default::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let low_ops = Arc::new(AtomicU64::new(0));
    let (alloc_low, stop_low, ops_low) = (alloc.clone(), stop.clone(), low_ops.clone());
    let (alloc_high, stop_high, ops_high) = (alloc.clone(), stop.clone(), low_ops.clone());
    let outcome = realtime::low_and_high(
        "framealloc: pool tier, low and high priority on one CPU",
        Duration::from_secs(60),
        move || {
            let mut i = 0_u64;
            while !stop_low.load(Ordering::Relaxed) {
                let b = alloc_low.pool_box([i; 4]);
                assert_eq!(b[3], i, "a block handed to two owners");
                drop(b);
                i += 1;
                ops_low.store(i, Ordering::Relaxed);
            }
        },
        move || {
            let mut ops = 0_u64;
            while ops + ops_high.load(Ordering::Relaxed) < OPERATIONS || ops < 10_000 {
                std::thread::sleep(Duration::from_micros(20));
                for _ in 0..8 {
                    let b = alloc_high.pool_box([u64::MAX - ops; 4]);
                    assert_eq!(b[0], u64::MAX - ops, "a block handed to two owners");
                    ops += 1;
                }
            }
            stop_high.store(true, Ordering::Relaxed);
        },
    );
    if outcome.is_ok() {
        let st = alloc.stats().pool;
        println!(
            "{} pool allocations, {} live",
            st.allocations,
            st.live_count()
        );
        assert_eq!(st.live_count(), 0);
        assert!(
            low_ops.load(Ordering::Relaxed) >= 1_000,
            "the low thread ran"
        );
    }
}
