//! Behaviour of `AtomicWaker`: counts of clones, wakes and drops in every path.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;
use std::thread;

use futures_lite::future::{block_on, poll_fn};
use sync_core::AtomicWaker;
use sync_core::testing::WakeCounter;

#[test]
fn wake_without_registration_is_a_noop() {
    let slot = AtomicWaker::new();
    slot.wake();
    assert!(slot.take().is_none());
}

#[test]
fn register_then_wake_wakes_once_and_empties_the_slot() {
    let counter = WakeCounter::new();
    let slot = AtomicWaker::new();
    let waker = counter.waker();
    slot.register(&waker);
    assert_eq!(counter.clones(), 1, "the slot keeps one clone");
    slot.wake();
    assert_eq!(counter.wakes(), 1);
    slot.wake();
    assert_eq!(counter.wakes(), 1, "a second wake finds the slot empty");
    drop(waker);
    assert_eq!(counter.live(), 0, "every waker was dropped");
}

#[test]
fn re_registering_the_same_task_does_not_clone_again() {
    let counter = WakeCounter::new();
    let slot = AtomicWaker::new();
    let waker = counter.waker();
    for _ in 0..5 {
        slot.register(&waker);
    }
    assert_eq!(counter.clones(), 1, "will_wake skips the clone");
    drop(slot);
    drop(waker);
    assert_eq!(counter.live(), 0);
}

#[test]
fn registering_another_task_replaces_and_drops_the_old_waker() {
    let first = WakeCounter::new();
    let second = WakeCounter::new();
    let slot = AtomicWaker::new();
    slot.register(&first.waker());
    slot.register(&second.waker());
    assert_eq!(first.live(), 0, "the replaced waker is dropped");
    slot.wake();
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
}

#[test]
fn take_hands_out_the_waker_without_waking_it() {
    let counter = WakeCounter::new();
    let slot = AtomicWaker::new();
    slot.register(&counter.waker());
    let taken = slot.take().expect("registered");
    assert_eq!(counter.wakes(), 0);
    drop(taken);
    assert_eq!(counter.live(), 0);
}

#[test]
fn a_waker_whose_clone_panics_leaves_the_slot_usable() {
    let bad = WakeCounter::new();
    let good = WakeCounter::new();
    let slot = AtomicWaker::new();
    let panicking = bad.panicking_clone();
    let caught =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| slot.register(&panicking)));
    assert!(caught.is_err(), "the clone panicked through register");
    slot.register(&good.waker());
    slot.wake();
    assert_eq!(good.wakes(), 1, "the slot was released by the panic guard");
}

#[test]
fn dropping_the_slot_drops_the_registered_waker() {
    let counter = WakeCounter::new();
    let slot = AtomicWaker::new();
    slot.register(&counter.waker());
    drop(slot);
    assert_eq!(counter.live(), 0);
}

#[test]
fn no_lost_wakeup_across_threads() {
    let rounds = if cfg!(miri) { 20 } else { 2_000 };
    for _ in 0..rounds {
        let slot = Arc::new(AtomicWaker::new());
        let flag = Arc::new(AtomicBool::new(false));
        let producer = {
            let (slot, flag) = (slot.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, Ordering::Release);
                slot.wake();
            })
        };
        block_on(poll_fn(|cx| {
            slot.register(cx.waker());
            if flag.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        producer.join().unwrap();
    }
}

/// A wake that arrives while `register` is cloning (here: from inside the clone, which then
/// panics) is left to `register`; the panic must not swallow it. The waker registered before is
/// the one still in the slot, so it is the one woken.
#[test]
fn a_wake_during_a_panicking_clone_still_wakes_the_registered_waker() {
    use std::task::{RawWaker, RawWakerVTable, Waker};

    static SLOT: AtomicWaker = AtomicWaker::new();
    fn clone(_: *const ()) -> RawWaker {
        SLOT.wake(); // finds REGISTERING: sets WAKING and leaves the wake to `register`
        panic!("clone fails after a concurrent wake");
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);

    let before = WakeCounter::new();
    SLOT.register(&before.waker());
    // SAFETY: the vtable's functions ignore the data pointer; `clone` never returns.
    let waking = unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) };
    let caught = std::panic::catch_unwind(|| SLOT.register(&waking));
    assert!(caught.is_err(), "the clone panicked through register");
    assert_eq!(
        before.wakes(),
        1,
        "the wake that arrived during the clone was delivered"
    );
    // The slot is usable again.
    let after = WakeCounter::new();
    SLOT.register(&after.waker());
    SLOT.wake();
    assert_eq!(after.wakes(), 1);
}
