//! `Sender::send_last` (the one-shot send that uses the sender up) and the lock-free receive
//! that follows it: every ending of the send, each value dropped exactly once, the hatch freed
//! or given back, and a parked receive woken.

mod common;

use std::task::Poll;

use common::{Drops, poll_once};
use hatch::{Closed, Hatch, SendError};
use sync_core::testing::WakeCounter;

#[test]
fn the_receiver_gets_the_value_then_closed() {
    let (s, mut r) = hatch::hatch::<u32>();
    assert_eq!(s.send_last(7), Ok(()));
    assert!(r.is_closed(), "the sender is gone");
    assert!(r.has_value());
    assert_eq!(r.receive().now(), Ok(Some(7)));
    assert!(!r.has_value());
    assert_eq!(r.receive().now(), Err(Closed));
}

#[test]
fn every_value_is_dropped_once() {
    let drops = Drops::new();
    // Received: dropped by the receiver's user.
    let (s, mut r) = hatch::hatch();
    s.send_last(drops.track(1)).unwrap();
    drop(r.receive().now().unwrap().expect("the value"));
    assert_eq!(drops.count(), 1);
    drop(r);
    assert_eq!(drops.count(), 1, "a received value is not dropped again");
    // Never received: dropped with the hatch when the receiver goes.
    let (s, r) = hatch::hatch();
    s.send_last(drops.track(2)).unwrap();
    assert_eq!(drops.count(), 1);
    drop(r);
    assert_eq!(drops.count(), 2);
}

#[test]
fn a_closed_receiver_gives_the_value_back() {
    let drops = Drops::new();
    let (s, r) = hatch::hatch();
    drop(r);
    let Err(SendError::Closed(value)) = s.send_last(drops.track(1)) else {
        panic!("the receiver is gone");
    };
    assert_eq!(drops.count(), 0, "handed back, not dropped");
    drop(value);
    assert_eq!(drops.count(), 1);

    let (s, mut r) = hatch::hatch::<u8>();
    r.close();
    assert_eq!(s.send_last(3), Err(SendError::Closed(3)));
    assert_eq!(r.receive().now(), Err(Closed));
}

#[test]
fn a_full_slot_gives_the_value_back_and_keeps_the_first() {
    let (mut s, mut r) = hatch::hatch::<u8>();
    s.send(1).now().unwrap();
    assert_eq!(s.send_last(2), Err(SendError::Full(2)));
    assert_eq!(r.receive().now(), Ok(Some(1)));
    assert_eq!(
        r.receive().now(),
        Err(Closed),
        "the sender was dropped all the same"
    );
}

#[test]
fn an_overwriting_sender_replaces_the_value_once() {
    let drops = Drops::new();
    let (mut s, mut r) = hatch::hatch();
    s.set_overwrites(true);
    s.send(drops.track(1)).now().unwrap();
    s.send_last(drops.track(2)).unwrap();
    assert_eq!(drops.count(), 1, "the overwritten value is dropped");
    let value = r.receive().now().unwrap().expect("the new value");
    assert_eq!(value.id, 2);
    drop(value);
    assert_eq!(r.receive().now().map(|v| v.is_some()), Err(Closed));
    drop(r);
    assert_eq!(drops.count(), 2);
}

#[test]
fn a_parked_receive_is_woken_and_gets_the_value() {
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (s, mut r) = hatch::hatch::<u32>();
    let mut receiving = r.receive();
    assert_eq!(poll_once(&mut receiving, &waker), Poll::Pending);
    s.send_last(5).unwrap();
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_once(&mut receiving, &waker), Poll::Ready(Ok(5)));
    drop(receiving);
    assert_eq!(r.receive().now(), Err(Closed));
    drop((r, waker));
    assert_eq!(counter.live(), 0, "no waker clone is leaked");
}

#[test]
fn a_forgotten_receive_future_still_gets_the_value() {
    // A forgotten parked future leaves its waker in the slot: the receive after `send_last`
    // then takes the locked way, and the waker is dropped with the hatch.
    let counter = WakeCounter::new();
    let (s, mut r) = hatch::hatch::<u32>();
    let mut receiving = r.receive();
    assert_eq!(poll_once(&mut receiving, &counter.waker()), Poll::Pending);
    std::mem::forget(receiving);
    s.send_last(6).unwrap();
    assert_eq!(r.receive().now(), Ok(Some(6)));
    drop(r);
    assert_eq!(counter.live(), 0);
}

#[test]
fn a_closing_receiver_can_recycle_after_the_lone_receive() {
    let (s, mut r) = hatch::hatch::<u32>();
    r.set_closes(true);
    s.send_last(8).unwrap();
    assert_eq!(r.receive().now(), Ok(Some(8)));
    let mut s = r.recycle().expect("the sender is gone");
    // `recycle` reopens both sides.
    s.send(9).now().unwrap();
    assert_eq!(r.receive().now(), Ok(Some(9)));
}

#[test]
fn a_hatch_you_manage_is_given_back() {
    let drops = Drops::new();
    let hatch = Hatch::new();
    // Reclaimed: the unreceived value is dropped and the hatch is free again.
    let (mut s, r) = hatch.try_split().expect("a new hatch is free");
    s.set_reclaims(true);
    s.send_last(drops.track(1)).unwrap();
    assert!(!hatch.is_free(), "the receiver is alive");
    drop(r);
    assert!(hatch.is_free());
    assert_eq!(drops.count(), 1);
    // Recycled: the value stays for the next pair.
    let (mut s, r) = hatch.try_split().expect("reclaimed");
    s.set_recycles(true);
    s.send_last(drops.track(2)).unwrap();
    drop(r);
    assert!(hatch.is_free());
    assert_eq!(drops.count(), 1, "kept for the next pair");
    let (_s, mut r) = hatch.try_split().expect("recycled");
    assert_eq!(r.receive().now().unwrap().map(|v| v.id), Some(2));
    assert_eq!(drops.count(), 2);
    // Neither: spent after the receiver goes.
    drop(r);
}

#[test]
fn a_spent_hatch_stays_spent() {
    let hatch = Hatch::new();
    let (s, mut r) = hatch.try_split().unwrap();
    s.send_last(1u8).unwrap();
    assert_eq!(r.receive().now(), Ok(Some(1)));
    drop(r);
    assert!(!hatch.is_free(), "neither side asked for the hatch back");
    assert!(hatch.try_split().is_none());
}
