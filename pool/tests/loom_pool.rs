//! loom models of the pool: a free racing a waiter's registration (with and without a racing
//! synchronous allocation), two waiters served in FIFO order, and cancellation racing a hand-off.
//!
//! loom types cannot live in statics, so each model installs a fresh [`PoolStorage`] (leaked
//! with `std::boxed::Box::leak`) and publishes it through a plain `std` `AtomicPtr` that loom
//! does not see: it is written once by the model's main thread before any loom thread starts and
//! only read afterwards, so it adds no synchronisation loom could miss. Each test uses its own
//! pool type, so tests running in parallel do not share a pointer. The slots' contents are
//! tracked by loom (`track_access`), so a hand-off that does not order the previous owner's drop
//! before the next owner's write is reported as a data race.
#![cfg(loom)]

use pool::{Box, Pool};
use sync_core::sync::atomic::AtomicBool;
use sync_core::sync::atomic::Ordering::{Acquire, Release};
use sync_core::sync::loom_only::{Arc, block_on, model, thread};
use sync_core::testing::{WakeCounter, poll_with};

/// Declares a pool type for loom: `$name: [$ty; $n], $w` with `$n <= 32`.
macro_rules! loom_pool {
    ($name:ident: [$ty:ty; $n:expr], $w:expr) => {
        enum $name {}

        type Storage = pool::PoolStorage<$ty, $n, 1, pool::WaitQueue<$w>>;

        static CURRENT: std::sync::atomic::AtomicPtr<Storage> =
            std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

        impl $name {
            /// Installs a fresh storage for this model execution (before spawning threads).
            fn install() {
                let storage = std::boxed::Box::leak(std::boxed::Box::new(Storage::new()));
                CURRENT.store(storage, std::sync::atomic::Ordering::SeqCst);
            }
        }

        // SAFETY: within one model execution `get` returns the same storage; no Box outlives the
        // execution that made it.
        unsafe impl Pool for $name {
            type Item = $ty;
            type Storage = Storage;

            fn get() -> &'static Storage {
                let ptr = CURRENT.load(std::sync::atomic::Ordering::SeqCst);
                // SAFETY: set by `install` to a leaked storage before any use.
                unsafe { &*ptr }
            }
        }
    };
}

/// A Box is dropped while a waiter registers: the waiter always ends up with the slot (a lost
/// wake-up would leave it blocked, which loom reports as a deadlock).
#[test]
fn free_races_a_waiter() {
    mod m {
        use super::*;
        loom_pool!(P: [usize; 1], 1);

        pub(super) fn run() {
            model(|| {
                P::install();
                let held = Box::<P>::new(1).unwrap();
                let freer = thread::spawn(move || drop(held));
                let got = block_on(Box::<P>::new_async(2)).expect("a waiter place is free");
                assert_eq!(*got, 2);
                freer.join().unwrap();
                drop(got);
                assert_eq!((P::free_slots(), P::waiting()), (1, 0));
            });
        }
    }
    m::run();
}

/// As above, with a third thread trying a synchronous `Box::new` (and dropping what it gets):
/// the waiter still always gets a slot.
#[test]
fn free_races_a_waiter_and_a_sync_new() {
    mod m {
        use super::*;
        loom_pool!(P: [usize; 1], 1);

        pub(super) fn run() {
            model(|| {
                P::install();
                let held = Box::<P>::new(1).unwrap();
                let freer = thread::spawn(move || drop(held));
                let grabber = thread::spawn(|| {
                    if let Some(b) = Box::<P>::new(3) {
                        assert_eq!(*b, 3);
                    }
                });
                let got = block_on(Box::<P>::new_async(2)).expect("a waiter place is free");
                assert_eq!(*got, 2);
                freer.join().unwrap();
                grabber.join().unwrap();
                drop(got);
                assert_eq!((P::free_slots(), P::waiting()), (1, 0));
            });
        }
    }
    m::run();
}

/// Waiters A then B are queued; the slot is freed while both run: A always gets it first, B
/// after A dropped it, and A's writes are visible to B.
#[test]
fn two_waiters_fifo() {
    mod m {
        use super::*;
        loom_pool!(P: [usize; 1], 2);

        pub(super) fn run() {
            model(|| {
                P::install();
                let counter = WakeCounter::new();
                let held = Box::<P>::new(0).unwrap();
                let mut a = Box::<P>::new_async(1);
                let mut b = Box::<P>::new_async(2);
                assert!(poll_with(&mut a, &counter.waker()).is_pending());
                assert!(poll_with(&mut b, &counter.waker()).is_pending());
                let a_done = Arc::new(AtomicBool::new(false));
                let ta = {
                    let a_done = a_done.clone();
                    thread::spawn(move || {
                        let mut got = block_on(a).expect("queued");
                        assert_eq!(*got, 1);
                        *got = 10;
                        a_done.store(true, Release);
                    })
                };
                let tb = {
                    let a_done = a_done.clone();
                    thread::spawn(move || {
                        let got = block_on(b).expect("queued");
                        assert!(a_done.load(Acquire), "B was served before A");
                        assert_eq!(*got, 2);
                    })
                };
                drop(held);
                ta.join().unwrap();
                tb.join().unwrap();
                assert_eq!((P::free_slots(), P::waiting()), (1, 0));
            });
        }
    }
    m::run();
}

/// Waiter A is queued and cancels while the slot is handed to it; waiter B runs concurrently.
/// B always gets the slot, and at the end the slot is free and nobody is queued.
#[test]
fn cancel_races_hand_off() {
    mod m {
        use super::*;
        loom_pool!(P: [usize; 1], 2);

        pub(super) fn run() {
            model(|| {
                P::install();
                let counter = WakeCounter::new();
                let held = Box::<P>::new(0).unwrap();
                let mut a = Box::<P>::new_async(1);
                assert!(poll_with(&mut a, &counter.waker()).is_pending());
                let ta = thread::spawn(move || drop(a));
                let tb = thread::spawn(|| {
                    let got = block_on(Box::<P>::new_async(2)).expect("a place is free");
                    assert_eq!(*got, 2);
                });
                drop(held);
                ta.join().unwrap();
                tb.join().unwrap();
                assert_eq!((P::free_slots(), P::waiting()), (1, 0));
                assert!(counter.wakes() <= 1, "A is woken at most once");
            });
        }
    }
    m::run();
}

/// Two slots freed by two threads while two allocations wait (one of them after freeing): both
/// waiters always get a slot, and both slots are free at the end.
///
/// The largest model: it is capped at 2 preemptions even in extended runs (3 preemptions take
/// many minutes here, while the smaller models above cover the same races at 3), and it runs
/// once, as written, not in both spawn orders like the others (`loom_only::model`): that would
/// double its 20 seconds, and the smaller models above run both orders of the same races.
#[test]
fn two_frees_race_two_waiters() {
    mod m {
        use super::*;
        loom_pool!(P: [usize; 2], 2);

        pub(super) fn run() {
            let mut builder = loom::model::Builder::new();
            builder.preemption_bound = Some(builder.preemption_bound.unwrap_or(2).min(2));
            builder.check(|| {
                P::install();
                let a = Box::<P>::new(1).unwrap();
                let b = Box::<P>::new(2).unwrap();
                let t1 = thread::spawn(move || {
                    drop(a);
                    let got = block_on(Box::<P>::new_async(3)).expect("a place is free");
                    assert_eq!(*got, 3);
                });
                let t2 = thread::spawn(move || drop(b));
                let got = block_on(Box::<P>::new_async(4)).expect("a place is free");
                assert_eq!(*got, 4);
                drop(got);
                t1.join().unwrap();
                t2.join().unwrap();
                assert_eq!((P::free_slots(), P::waiting()), (2, 0));
            });
        }
    }
    m::run();
}
