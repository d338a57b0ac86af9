//! A high-priority thread never spins forever on a hatch lock held by a low-priority one.
//!
//! Two `SCHED_FIFO` threads on CPU 0: the low-priority one sends (overwriting: the locked path)
//! without pause; the high-priority one sleeps briefly, wakes up at an arbitrary point of the
//! low one's loop (often inside its critical section) and receives. With a spin lock the high
//! thread would spin forever on the lock held by the low one, which cannot run on the same CPU;
//! with sync-core's section it sleeps until the holder leaves. Prints and skips when the process
//! may not use real-time priorities. Linux only; not under miri (syscalls).
#![cfg(all(target_os = "linux", not(miri), not(loom)))]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use sync_core::testing::realtime;

const OPERATIONS: u64 = 100_000;

#[test]
fn a_high_priority_receiver_is_not_blocked_forever_by_a_preempted_sender() {
    let (mut s, mut r) = hatch::hatch::<u64>();
    s.set_overwrites(true);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let (stop_low, sent_low) = (stop.clone(), sent.clone());
    let (stop_high, sent_high, received_high) = (stop.clone(), sent.clone(), received.clone());
    let outcome = realtime::low_and_high(
        "hatch: send (low priority) vs receive (high priority) on one CPU",
        Duration::from_secs(60),
        move || {
            let mut i = 0_u64;
            while !stop_low.load(Ordering::Relaxed) {
                // The high thread drops the receiver when it is done, maybe before this thread
                // sees `stop`: a `Closed` send then ends the loop too.
                match s.send(i).now() {
                    Ok(()) => {}
                    Err(e) if e.is_closed() => break,
                    Err(_) => panic!("an overwriting send never finds the hatch full"),
                }
                i += 1;
                sent_low.store(i, Ordering::Relaxed);
            }
        },
        move || {
            let mut ops = 0_u64;
            let mut last = None;
            while ops + sent_high.load(Ordering::Relaxed) < OPERATIONS || ops < 10_000 {
                // Let the low-priority thread run, and preempt it somewhere in its loop.
                std::thread::sleep(Duration::from_micros(20));
                for _ in 0..8 {
                    if let Some(v) = r.receive().now().expect("the sender lives") {
                        assert!(last < Some(v), "values arrive in order, each once");
                        last = Some(v);
                        received_high.fetch_add(1, Ordering::Relaxed);
                    }
                    ops += 1;
                }
            }
            stop_high.store(true, Ordering::Relaxed);
        },
    );
    if outcome.is_ok() {
        let (sent, received) = (
            sent.load(Ordering::Relaxed),
            received.load(Ordering::Relaxed),
        );
        println!("{sent} sends, {received} values received");
        assert!(
            sent >= 1_000 && received > 0,
            "both threads ran: {sent} / {received}"
        );
    }
}
