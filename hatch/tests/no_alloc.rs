//! "No allocation per message": once a hatch exists and the threads and wakers are warmed up,
//! passing values through it — `now()` round trips, awaited round trips whose receive parks, and
//! (feature `std`) blocking round trips with another thread — allocates nothing, on either thread.
//! Counted with a global allocator; this file is its own test binary with a single test, so
//! nothing else allocates while it counts.
#![cfg(all(feature = "alloc", not(loom)))]

use std::alloc::System;

use sync_core::testing::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc<System> = CountingAlloc::new(System);

/// Round trips per kind (fewer under miri, which is slow; the property is the same).
const ROUNDS: u64 = if cfg!(miri) { 50 } else { 1000 };

/// Allocations made while `f` runs (on any thread).
fn allocations(f: impl FnOnce()) -> usize {
    let before = GLOBAL.allocations();
    f();
    GLOBAL.allocations() - before
}

/// `rounds` send + receive pairs through `now()`.
fn now_rounds(s: &mut hatch::Sender<'_, u64>, r: &mut hatch::Receiver<'_, u64>, rounds: u64) {
    for i in 0..rounds {
        s.send(i).now().unwrap();
        assert_eq!(r.receive().now(), Ok(Some(i)));
    }
}

/// `rounds` awaited round trips in which the receive parks first (its waker is stored in the
/// hatch) and the send, after a yield, wakes it; returns how often the receive was pending.
#[cfg(feature = "async")]
fn awaited_rounds(
    s: &mut hatch::Sender<'_, u64>,
    r: &mut hatch::Receiver<'_, u64>,
    rounds: u64,
) -> u64 {
    use core::future::Future;
    use core::pin::pin;
    use futures_lite::future::{block_on, poll_fn, yield_now, zip};

    let mut parked = 0;
    for i in 0..rounds {
        let mut receiving = pin!(r.receive());
        let receive = poll_fn(|cx| {
            let poll = receiving.as_mut().poll(cx);
            parked += u64::from(poll.is_pending());
            poll
        });
        let send = async {
            yield_now().await;
            s.send(i).await
        };
        let (received, sent) = block_on(zip(receive, send));
        assert_eq!((received, sent), (Ok(i), Ok(())));
    }
    parked
}

#[test]
fn a_reused_hatch_allocates_nothing_per_message() {
    let (mut s, mut r) = hatch::hatch::<u64>();
    now_rounds(&mut s, &mut r, 10);
    assert_eq!(
        allocations(|| now_rounds(&mut s, &mut r, ROUNDS)),
        0,
        "allocations in now() round trips"
    );

    #[cfg(feature = "async")]
    {
        // Warm-up: block_on's parker and waker are made once per thread.
        awaited_rounds(&mut s, &mut r, 10);
        let mut parked = 0;
        let allocs = allocations(|| parked = awaited_rounds(&mut s, &mut r, ROUNDS));
        // Each receive is polled before its send: it parks, and zip's re-poll after the yield
        // finds the same waker.
        assert!(
            parked >= ROUNDS,
            "every awaited receive parked ({parked} pending polls)"
        );
        assert_eq!(allocs, 0, "allocations in awaited round trips");
    }

    #[cfg(feature = "std")]
    {
        // An echo thread on a second hatch pair; spawning it and each thread's first blocking
        // receive (its thread waker) allocate, so they happen before the count.
        let (mut ping_s, mut ping_r) = hatch::hatch::<u64>();
        let echo = std::thread::spawn(move || {
            while let Ok(v) = ping_r.receive_blocking() {
                s.send(v + 1).now().unwrap();
            }
        });
        let mut round_trips = |rounds: u64| {
            for i in 0..rounds {
                ping_s.send(i).now().unwrap();
                assert_eq!(r.receive_blocking(), Ok(i + 1));
            }
        };
        round_trips(10);
        assert_eq!(
            allocations(|| round_trips(ROUNDS)),
            0,
            "allocations in blocking round trips"
        );
        drop(ping_s);
        echo.join().unwrap();
    }
}
