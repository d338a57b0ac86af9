//! Waiting for a slot, polled by hand with counting wakers: one wake per freed slot, FIFO order,
//! hand-off ahead of later allocations, full waiter queues, cancellation at every stage, and
//! construct-after-acquire.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

use pool::{Box, Pool, pool};
use sync_core::testing::WakeCounter;

/// A value that counts its drops in a per-test counter.
#[derive(Debug)]
struct Counted {
    value: usize,
    drops: &'static AtomicUsize,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// Polls `fut` once with a waker of `counter`.
fn poll_with<F: Future + Unpin>(fut: &mut F, counter: &WakeCounter) -> Poll<F::Output> {
    let waker = counter.waker();
    Pin::new(fut).poll(&mut Context::from_waker(&waker))
}

#[test]
fn a_free_slot_is_taken_at_the_first_poll_without_touching_the_waker() {
    pool!(P: [u32; 1], 2);
    let counter = WakeCounter::new();
    let mut fut = Box::<P>::new_async(5);
    let Poll::Ready(Some(b)) = poll_with(&mut fut, &counter) else {
        panic!("a free slot must be taken at once");
    };
    assert_eq!(*b, 5);
    assert_eq!((counter.clones(), counter.wakes()), (0, 0));
    drop(fut);
    assert_eq!(P::free_slots(), 0);
}

/// A hand-off to one waiter, counted: on a host two critical sections (the waiter queues; the
/// freeing drop hands it the slot and wakes it once), and the waiter collects the slot
/// lock-free; on bare metal (`--cfg sync_core_locked_only` here) the collect is a third. For
/// comparison, async-pool 1.3 enters one per waker registration and one per waker slot on
/// every free (it wakes them all), so at least two for one waiter and more with more slots.
#[test]
fn a_hand_off_costs_two_critical_sections() {
    pool!(P: [u32; 1], 2);
    let counter = WakeCounter::new();
    let held = Box::<P>::new(1).unwrap();
    let before = sync_core::testing::critical_sections();
    let mut fut = Box::<P>::new_async(2);
    assert!(poll_with(&mut fut, &counter).is_pending());
    let queued = sync_core::testing::critical_sections() - before;
    drop(held);
    assert_eq!(counter.wakes(), 1);
    let Poll::Ready(Some(b)) = poll_with(&mut fut, &counter) else {
        panic!("the freed slot was handed to the waiter");
    };
    assert_eq!(*b, 2);
    let sections = sync_core::testing::critical_sections() - before;
    assert_eq!(queued, 1, "queueing is one critical section");
    let expected = if cfg!(sync_core_locked_only) { 3 } else { 2 };
    assert_eq!(sections, expected, "critical sections per hand-off");
}

#[test]
fn without_waiter_places_a_full_pool_gives_none_at_once() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    pool!(P: [Counted; 1]);
    let counter = WakeCounter::new();
    let held = Box::<P>::new(Counted {
        value: 1,
        drops: &DROPS,
    })
    .unwrap();
    let mut fut = Box::<P>::new_async(Counted {
        value: 2,
        drops: &DROPS,
    });
    assert!(matches!(poll_with(&mut fut, &counter), Poll::Ready(None)));
    assert_eq!(DROPS.load(SeqCst), 1, "the value is dropped once, at once");
    drop(fut);
    assert_eq!(DROPS.load(SeqCst), 1);
    assert_eq!((counter.clones(), counter.live()), (0, 0));
    drop(held);
    assert_eq!(P::free_slots(), 1);
}

#[test]
fn a_full_waiter_queue_gives_none_at_once() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    pool!(P: [Counted; 1], 2);
    let counter = WakeCounter::new();
    let new = |value| {
        Box::<P>::new_async(Counted {
            value,
            drops: &DROPS,
        })
    };
    let held = Box::<P>::new(Counted {
        value: 0,
        drops: &DROPS,
    })
    .unwrap();
    let (mut a, mut b, mut c) = (new(1), new(2), new(3));
    assert!(poll_with(&mut a, &counter).is_pending());
    assert!(poll_with(&mut b, &counter).is_pending());
    assert_eq!(P::waiting(), 2);
    assert!(matches!(poll_with(&mut c, &counter), Poll::Ready(None)));
    assert_eq!(DROPS.load(SeqCst), 1, "c's value dropped at once");
    drop((a, b, c));
    assert_eq!(
        DROPS.load(SeqCst),
        3,
        "a's and b's values dropped with their futures"
    );
    assert_eq!((P::waiting(), counter.wakes(), counter.live()), (0, 0, 0));
    drop(held);
    assert_eq!((P::free_slots(), DROPS.load(SeqCst)), (1, 4));
}

#[test]
fn one_wake_per_freed_slot_in_fifo_order() {
    pool!(P: [usize; 2], 3);
    let held = [Box::<P>::new(100).unwrap(), Box::<P>::new(101).unwrap()];
    let counters = [WakeCounter::new(), WakeCounter::new(), WakeCounter::new()];
    let mut futs = [
        Box::<P>::new_async(0),
        Box::<P>::new_async(1),
        Box::<P>::new_async(2),
    ];
    for (fut, counter) in futs.iter_mut().zip(&counters) {
        assert!(poll_with(fut, counter).is_pending());
    }
    assert_eq!(P::waiting(), 3);
    let wakes = || counters.iter().map(WakeCounter::wakes).collect::<Vec<_>>();
    let [h0, h1] = held;

    drop(h1);
    assert_eq!(wakes(), [1, 0, 0], "only the oldest waiter is woken, once");
    assert_eq!((P::waiting(), P::free_slots()), (2, 0));
    // The others are still pending (and not woken by being polled).
    assert!(poll_with(&mut futs[1], &counters[1]).is_pending());
    assert!(poll_with(&mut futs[2], &counters[2]).is_pending());
    let Poll::Ready(Some(a)) = poll_with(&mut futs[0], &counters[0]) else {
        panic!("the oldest waiter got the slot");
    };
    assert_eq!(*a, 0);

    drop(h0);
    assert_eq!(wakes(), [1, 1, 0]);
    let Poll::Ready(Some(b)) = poll_with(&mut futs[1], &counters[1]) else {
        panic!("the second waiter got the next slot");
    };
    drop(a);
    assert_eq!(wakes(), [1, 1, 1]);
    let Poll::Ready(Some(c)) = poll_with(&mut futs[2], &counters[2]) else {
        panic!("the third waiter got the next slot");
    };
    assert_eq!((*b, *c), (1, 2));
    drop((b, c, futs));
    assert_eq!(wakes(), [1, 1, 1], "no wake once nobody waits");
    assert_eq!(P::free_slots(), 2);
    for counter in &counters {
        assert_eq!(counter.live(), 0, "no waker leaked");
    }
}

#[test]
fn a_slot_freed_while_someone_waits_is_not_taken_by_new() {
    pool!(P: [u8; 1], 2);
    let counter = WakeCounter::new();
    let held = Box::<P>::new(1).unwrap();
    let mut waiter = Box::<P>::new_async(2);
    assert!(poll_with(&mut waiter, &counter).is_pending());
    drop(held);
    assert!(
        Box::<P>::new(3).is_none(),
        "the slot is on its way to the waiter"
    );
    let mut later = Box::<P>::new_async(4);
    assert!(
        poll_with(&mut later, &counter).is_pending(),
        "a later waiter queues"
    );
    let Poll::Ready(Some(b)) = poll_with(&mut waiter, &counter) else {
        panic!("the first waiter got the slot");
    };
    assert_eq!(*b, 2);
    drop(later);
    drop(b);
    assert_eq!(P::free_slots(), 1);
}

#[test]
fn cancelling_a_pending_waiter_frees_its_place_and_value() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    pool!(P: [Counted; 1], 1);
    let counter = WakeCounter::new();
    let held = Box::<P>::new(Counted {
        value: 0,
        drops: &DROPS,
    })
    .unwrap();
    let mut fut = Box::<P>::new_async(Counted {
        value: 1,
        drops: &DROPS,
    });
    assert!(poll_with(&mut fut, &counter).is_pending());
    assert_eq!(P::waiting(), 1);
    drop(fut);
    assert_eq!((P::waiting(), DROPS.load(SeqCst)), (0, 1));
    assert_eq!((counter.wakes(), counter.live()), (0, 0));
    // The place is free again: another waiter can queue and is served.
    let mut again = Box::<P>::new_async(Counted {
        value: 2,
        drops: &DROPS,
    });
    assert!(poll_with(&mut again, &counter).is_pending());
    drop(held);
    assert_eq!(counter.wakes(), 1);
    let Poll::Ready(Some(b)) = poll_with(&mut again, &counter) else {
        panic!("the new waiter got the slot");
    };
    assert_eq!((b.value, DROPS.load(SeqCst)), (2, 2));
}

#[test]
fn cancel_after_hand_off_passes_the_slot_to_the_next_waiter() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    pool!(P: [Counted; 1], 2);
    let (ca, cb) = (WakeCounter::new(), WakeCounter::new());
    let held = Box::<P>::new(Counted {
        value: 0,
        drops: &DROPS,
    })
    .unwrap();
    let mut a = Box::<P>::new_async(Counted {
        value: 1,
        drops: &DROPS,
    });
    let mut b = Box::<P>::new_async(Counted {
        value: 2,
        drops: &DROPS,
    });
    assert!(poll_with(&mut a, &ca).is_pending());
    assert!(poll_with(&mut b, &cb).is_pending());
    drop(held);
    assert_eq!((ca.wakes(), cb.wakes()), (1, 0), "a was handed the slot");
    drop(a); // ... but gives up before looking
    assert_eq!(
        DROPS.load(SeqCst),
        2,
        "held's value and a's value, once each"
    );
    assert_eq!((ca.wakes(), cb.wakes()), (1, 1), "the slot went on to b");
    assert!(
        Box::<P>::new(Counted {
            value: 9,
            drops: &DROPS
        })
        .is_none()
    );
    let Poll::Ready(Some(got)) = poll_with(&mut b, &cb) else {
        panic!("b got the slot a gave up");
    };
    assert_eq!(got.value, 2);
    drop((got, b));
    assert_eq!(
        (P::free_slots(), P::waiting(), DROPS.load(SeqCst)),
        (1, 0, 4)
    );
}

#[test]
fn cancel_after_hand_off_with_nobody_else_returns_the_slot() {
    pool!(P: [u8; 1], 2);
    let counter = WakeCounter::new();
    let held = Box::<P>::new(0).unwrap();
    let mut a = Box::<P>::new_async(1);
    assert!(poll_with(&mut a, &counter).is_pending());
    drop(held);
    assert_eq!((counter.wakes(), P::free_slots()), (1, 0));
    drop(a);
    assert_eq!(
        (P::free_slots(), P::waiting()),
        (1, 0),
        "the slot is back in the pool"
    );
    assert_eq!(counter.live(), 0);
}

#[test]
fn new_async_with_builds_the_value_only_once_a_slot_is_secured() {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    pool!(P: [[u8; 1024]; 1], 1);
    let counter = WakeCounter::new();
    let make = || {
        CALLS.fetch_add(1, SeqCst);
        [7; 1024]
    };
    let held = Box::<P>::new([0; 1024]).unwrap();
    let mut fut = Box::<P>::new_async_with(make);
    assert!(
        size_of_val(&fut) < 64,
        "the future does not carry the 1 KiB value"
    );
    assert!(size_of_val(&Box::<P>::new_async([0; 1024])) > 1024);
    assert!(poll_with(&mut fut, &counter).is_pending());
    assert_eq!(CALLS.load(SeqCst), 0);
    drop(held);
    assert_eq!(CALLS.load(SeqCst), 0, "not built by the releaser");
    let Poll::Ready(Some(b)) = poll_with(&mut fut, &counter) else {
        panic!("slot handed over");
    };
    assert_eq!((CALLS.load(SeqCst), b[1023]), (1, 7));
    drop(b);
    // Cancelled before a slot: the constructor is never called.
    let held = Box::<P>::new([0; 1024]).unwrap();
    let mut fut = Box::<P>::new_async_with(make);
    assert!(poll_with(&mut fut, &counter).is_pending());
    drop(fut);
    drop(held);
    assert_eq!(CALLS.load(SeqCst), 1);
}

#[test]
fn a_panicking_constructor_releases_the_slot() {
    pool!(P: [u8; 1], 1);
    let counter = WakeCounter::new();
    let mut fut = Box::<P>::new_async_with(|| panic!("constructor fails"));
    let result = catch_unwind(AssertUnwindSafe(|| poll_with(&mut fut, &counter)));
    assert!(result.is_err());
    drop(fut);
    assert_eq!(P::free_slots(), 1);
}

#[test]
fn the_latest_waker_is_the_one_woken() {
    pool!(P: [u8; 1], 1);
    let (first, second) = (WakeCounter::new(), WakeCounter::new());
    let held = Box::<P>::new(0).unwrap();
    let mut fut = Box::<P>::new_async(1);
    assert!(poll_with(&mut fut, &first).is_pending());
    assert!(poll_with(&mut fut, &second).is_pending());
    assert_eq!(first.live(), 0, "the replaced waker was dropped");
    drop(held);
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
    assert!(matches!(poll_with(&mut fut, &second), Poll::Ready(Some(_))));
    assert_eq!(second.live(), 0);
}

#[test]
fn a_waker_whose_clone_panics_leaves_nothing_behind() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    pool!(P: [Counted; 1], 1);
    let counter = WakeCounter::new();
    let held = Box::<P>::new(Counted {
        value: 0,
        drops: &DROPS,
    })
    .unwrap();
    let mut fut = Box::<P>::new_async(Counted {
        value: 1,
        drops: &DROPS,
    });
    let bad = counter.panicking_clone();
    let result = catch_unwind(AssertUnwindSafe(|| {
        Pin::new(&mut fut).poll(&mut Context::from_waker(&bad))
    }));
    assert!(result.is_err());
    assert_eq!(P::waiting(), 0, "nothing queued");
    drop(fut);
    assert_eq!(DROPS.load(SeqCst), 1);
    drop(bad);
    drop(held);
    assert_eq!((P::free_slots(), counter.live()), (1, 0));
}

#[test]
#[should_panic(expected = "polled after completion")]
fn polling_after_completion_panics() {
    pool!(P: [u8; 1], 1);
    let counter = WakeCounter::new();
    let mut fut = Box::<P>::new_async(1);
    let first = poll_with(&mut fut, &counter);
    assert!(matches!(first, Poll::Ready(Some(_))));
    let _ = poll_with(&mut fut, &counter);
}

#[test]
fn works_with_an_executor_and_threads() {
    use futures_lite::future::block_on;
    pool!(P: [usize; 1], 4);
    let held = Box::<P>::new(0).unwrap();
    let waiters: Vec<_> = (1..=4)
        .map(|i| std::thread::spawn(move || block_on(Box::<P>::new_async(i)).map(|b| *b)))
        .collect();
    while P::waiting() + P::free_slots() < 4 && waiters.iter().any(|w| !w.is_finished()) {
        std::thread::yield_now();
    }
    drop(held);
    let mut got: Vec<usize> = waiters
        .into_iter()
        .map(|w| w.join().unwrap().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, [1, 2, 3, 4]);
    assert_eq!(P::free_slots(), 1);
}

/// The lost-wake-up window of async-pool, made deterministic: the slot is freed *while the waiter
/// registers* (inside the clone of its waker, after the failed first attempt and before it is
/// queued). The re-check after registering must find it, so the very first poll completes.
#[test]
fn a_slot_freed_during_registration_is_not_missed() {
    use std::sync::Mutex;
    use std::task::{RawWaker, RawWakerVTable, Waker};

    pool!(P: [u32; 1], 1);
    static HELD: Mutex<Option<Box<P>>> = Mutex::new(None);
    static CLONES: AtomicUsize = AtomicUsize::new(0);

    fn clone(data: *const ()) -> RawWaker {
        CLONES.fetch_add(1, SeqCst);
        // Free the slot now: the queue is still empty, so the bit is simply cleared.
        drop(HELD.lock().unwrap().take());
        RawWaker::new(data, &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);

    *HELD.lock().unwrap() = Some(Box::<P>::new(1).unwrap());
    // SAFETY: the vtable's functions ignore the data pointer and never touch freed memory.
    let waker = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    let mut fut = Box::<P>::new_async(2);
    let poll = Pin::new(&mut fut).poll(&mut Context::from_waker(&waker));
    assert_eq!(
        CLONES.load(SeqCst),
        1,
        "the free happened during registration"
    );
    let Poll::Ready(Some(b)) = poll else {
        panic!("the slot freed during registration was missed");
    };
    assert_eq!((*b, P::waiting()), (2, 0));
}
