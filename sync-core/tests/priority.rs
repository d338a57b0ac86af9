//! A high-priority thread never spins forever on a `lock::Mutex` or `lock::Section` held by a
//! low-priority one.
//!
//! Two `SCHED_FIFO` threads on CPU 0 take the same lock without pause (the high one sleeps
//! briefly between rounds, then wakes up at an arbitrary point of the low one's loop, often while
//! it holds the lock). With a spin lock the high thread would spin forever (the low one cannot
//! run on that CPU); with sync-core's lock it sleeps until the holder unlocks. Prints and skips
//! when the process may not use real-time priorities. Linux only; not under miri (syscalls).
#![cfg(all(target_os = "linux", feature = "std", not(miri), not(loom)))]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sync_core::lock::{Mutex, Section};
use sync_core::testing::realtime;

const OPERATIONS: u64 = 100_000;

/// Runs `op` on a low-priority thread until the high-priority one, which runs it in bursts of
/// 8 between short sleeps, has done its share.
fn low_and_high(what: &str, op: impl Fn() + Clone + Send + 'static) {
    let stop = Arc::new(AtomicBool::new(false));
    let low_ops = Arc::new(AtomicU64::new(0));
    let (stop_low, ops_low, op_low) = (stop.clone(), low_ops.clone(), op.clone());
    let ops_seen = low_ops.clone();
    let outcome = realtime::low_and_high(
        what,
        Duration::from_secs(60),
        move || {
            let mut i = 0_u64;
            while !stop_low.load(Ordering::Relaxed) {
                op_low();
                i += 1;
                ops_low.store(i, Ordering::Relaxed);
            }
        },
        move || {
            let mut ops = 0_u64;
            while ops + ops_seen.load(Ordering::Relaxed) < OPERATIONS || ops < 10_000 {
                std::thread::sleep(Duration::from_micros(20));
                for _ in 0..8 {
                    op();
                    ops += 1;
                }
            }
            stop.store(true, Ordering::Relaxed);
        },
    );
    if outcome.is_ok() {
        assert!(
            low_ops.load(Ordering::Relaxed) >= 1_000,
            "the low thread ran"
        );
    }
}

/// One test for both locks: two of these at once would put four real-time threads on CPU 0.
#[test]
fn a_high_priority_thread_is_not_blocked_forever_by_a_preempted_lock_holder() {
    let m = Arc::new(Mutex::new([0_u64; 8]));
    let m2 = m.clone();
    low_and_high(
        "sync-core: Mutex, low and high priority on one CPU",
        move || {
            m2.with(|a| {
                for x in a.iter_mut() {
                    *x = std::hint::black_box(*x + 1);
                }
                assert!(a.iter().all(|&x| x == a[0]), "two holders at once");
            });
        },
    );
    let a = m.with(|a| *a);
    assert!(a.iter().all(|&x| x == a[0]));

    let word = Arc::new(0_u64);
    let key = std::ptr::from_ref(&*word).cast::<()>().addr();
    low_and_high(
        "sync-core: Section, low and high priority on one CPU",
        move || {
            // SAFETY: no other section is entered while this one is held; dropped on this thread.
            let section = unsafe { Section::enter(std::ptr::without_provenance(key)) };
            for _ in 0..16 {
                std::hint::black_box(&section);
            }
            drop(section);
        },
    );
}
