//! Single-threaded behaviour: sends, receives, wakes, flags, drops and memory you manage.

mod common;

use std::task::Poll;

use common::{Drops, poll_once};
use futures_lite::future::block_on;
use hatch::{Closed, Hatch, SendError};
use sync_core::testing::WakeCounter;

#[test]
fn send_now_on_full_slot_fails_then_works_after_receive() {
    let (mut s, mut r) = hatch::hatch::<i32>();
    assert_eq!(s.send(42).now(), Ok(()));
    assert_eq!(s.send(420).now(), Err(SendError::Full(420)));
    assert_eq!(r.receive().now(), Ok(Some(42)));
    assert_eq!(s.send(420).now(), Ok(()));
    assert_eq!(r.receive().now(), Ok(Some(420)));
    assert_eq!(r.receive().now(), Ok(None));
}

#[test]
fn parked_receive_is_woken_once_by_send() {
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (mut s, mut r) = hatch::hatch::<u32>();
    let mut receiving = r.receive();
    assert_eq!(poll_once(&mut receiving, &waker), Poll::Pending);
    assert_eq!(poll_once(&mut receiving, &waker), Poll::Pending);
    assert_eq!(
        counter.clones(),
        1,
        "a re-poll by the same task stores nothing"
    );
    s.send(7).now().unwrap();
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_once(&mut receiving, &waker), Poll::Ready(Ok(7)));
    drop(receiving);
    drop(waker);
    assert_eq!(counter.live(), 0, "no waker clone is leaked");
}

#[test]
fn parked_receive_is_woken_by_sender_drop() {
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (s, mut r) = hatch::hatch::<u32>();
    let mut receiving = r.receive();
    assert_eq!(poll_once(&mut receiving, &waker), Poll::Pending);
    drop(s);
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_once(&mut receiving, &waker), Poll::Ready(Err(Closed)));
    drop(receiving);
    assert_eq!(r.receive().now(), Err(Closed));
    drop(waker);
    assert_eq!(counter.live(), 0);
}

#[test]
fn value_sent_before_sender_drop_is_still_received() {
    let (mut s, mut r) = hatch::hatch::<u32>();
    s.send(1).now().unwrap();
    drop(s);
    assert!(r.is_closed());
    assert!(r.has_value());
    assert_eq!(block_on(r.receive()), Ok(1));
    assert_eq!(block_on(r.receive()), Err(Closed));
}

#[test]
fn async_send_waits_for_room() {
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (mut s, mut r) = hatch::hatch::<u32>();
    s.send(1).now().unwrap();
    let mut sending = s.send(2);
    assert_eq!(poll_once(&mut sending, &waker), Poll::Pending);
    assert_eq!(counter.wakes(), 0);
    assert_eq!(r.receive().now(), Ok(Some(1)));
    assert_eq!(
        counter.wakes(),
        1,
        "taking the value wakes the waiting sender"
    );
    assert_eq!(poll_once(&mut sending, &waker), Poll::Ready(Ok(())));
    drop(sending);
    assert_eq!(r.receive().now(), Ok(Some(2)));
    drop(waker);
    assert_eq!(counter.live(), 0);
}

#[test]
fn async_send_honours_overwrite() {
    let drops = Drops::new();
    let (mut s, mut r) = hatch::hatch();
    s.send(drops.track(1)).now().unwrap();
    s.set_overwrites(true);
    block_on(s.send(drops.track(2))).unwrap();
    assert_eq!(drops.count(), 1, "the overwritten value is dropped once");
    assert_eq!(r.receive().now().unwrap().map(|t| t.id), Some(2));
    assert_eq!(drops.count(), 2);
}

#[test]
fn overwrite_does_not_wake_twice_and_drops_old_value_once() {
    let drops = Drops::new();
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (mut s, mut r) = hatch::hatch();
    s.set_overwrites(true);
    let mut receiving = r.receive();
    assert!(poll_once(&mut receiving, &waker).is_pending());
    s.send(drops.track(1)).now().unwrap();
    s.send(drops.track(2)).now().unwrap();
    assert_eq!(counter.wakes(), 1);
    assert_eq!(drops.count(), 1);
    match poll_once(&mut receiving, &waker) {
        Poll::Ready(Ok(t)) => assert_eq!(t.id, 2),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(drops.count(), 2);
}

#[test]
fn send_after_receiver_drop_returns_the_value() {
    let drops = Drops::new();
    let (mut s, r) = hatch::hatch();
    drop(r);
    assert!(s.is_closed());
    let err = s.send(drops.track(1)).now().unwrap_err();
    assert!(err.is_closed());
    assert_eq!(drops.count(), 0);
    assert_eq!(err.into_inner().id, 1);
    assert_eq!(drops.count(), 1);
    let err = block_on(s.send(drops.track(2))).unwrap_err();
    assert!(matches!(err, SendError::Closed(ref t) if t.id == 2));
    drop(err);
    assert_eq!(drops.count(), 2);
}

#[test]
fn unreceived_value_dropped_once_with_the_hatch_either_order() {
    let drops = Drops::new();
    let (mut s, r) = hatch::hatch();
    s.send(drops.track(1)).now().unwrap();
    drop(s);
    assert_eq!(drops.count(), 0);
    drop(r);
    assert_eq!(drops.count(), 1);

    let (mut s, r) = hatch::hatch();
    s.send(drops.track(2)).now().unwrap();
    drop(r);
    assert_eq!(
        drops.count(),
        1,
        "kept for a recycled receiver while the sender lives"
    );
    drop(s);
    assert_eq!(drops.count(), 2);
}

#[test]
fn received_value_dropped_once() {
    let drops = Drops::new();
    let (mut s, mut r) = hatch::hatch();
    s.send(drops.track(1)).now().unwrap();
    let v = r.receive().now().unwrap().unwrap();
    drop((s, r));
    assert_eq!(drops.count(), 0);
    drop(v);
    assert_eq!(drops.count(), 1);
}

#[test]
fn cancelled_receive_leaves_hatch_usable_and_loses_nothing() {
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (mut s, mut r) = hatch::hatch::<u32>();
    let mut receiving = r.receive();
    assert!(poll_once(&mut receiving, &waker).is_pending());
    drop(receiving);
    assert_eq!(counter.live(), 1, "the cancelled future removed its waker");
    s.send(5).now().unwrap();
    assert_eq!(counter.wakes(), 0);
    // Cancelled after the value arrived: the value stays for the next receive.
    let mut receiving = r.receive();
    assert_eq!(poll_once(&mut receiving, &waker), Poll::Ready(Ok(5)));
    drop(receiving);
    let mut receiving = r.receive();
    assert!(poll_once(&mut receiving, &waker).is_pending());
    s.send(6).now().unwrap();
    drop(receiving);
    assert_eq!(r.receive().now(), Ok(Some(6)));
    drop(waker);
    assert_eq!(counter.live(), 0);
}

#[test]
fn cancelled_send_drops_its_value_once_and_removes_its_waker() {
    let drops = Drops::new();
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (mut s, mut r) = hatch::hatch();
    s.send(drops.track(1)).now().unwrap();
    let mut sending = s.send(drops.track(2));
    assert!(poll_once(&mut sending, &waker).is_pending());
    drop(sending);
    assert_eq!(drops.count(), 1);
    assert_eq!(counter.live(), 1);
    assert_eq!(r.receive().now().unwrap().map(|t| t.id), Some(1));
    assert_eq!(counter.wakes(), 0, "nobody is woken for a cancelled send");
    assert_eq!(drops.count(), 2);
}

#[cfg(feature = "async")]
#[test]
fn lazy_send_waits_until_receiver_listens() {
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (mut s, mut r) = hatch::hatch::<u32>();
    let mut wait = s.wait();
    assert!(poll_once(&mut wait, &waker).is_pending());
    // `now()` does not count as listening.
    assert_eq!(r.receive().now(), Ok(None));
    assert!(poll_once(&mut wait, &waker).is_pending());
    assert_eq!(counter.wakes(), 0);
    let rwaker = WakeCounter::new().waker();
    let mut receiving = r.receive();
    assert!(poll_once(&mut receiving, &rwaker).is_pending());
    assert_eq!(counter.wakes(), 1, "a parked receive wakes the lazy sender");
    assert_eq!(poll_once(&mut wait, &waker), Poll::Ready(Ok(())));
    drop(wait);
    s.send(3).now().unwrap();
    assert_eq!(poll_once(&mut receiving, &rwaker), Poll::Ready(Ok(3)));
    drop(receiving);
    drop(waker);
    assert_eq!(counter.live(), 0);
}

#[cfg(feature = "async")]
#[test]
fn lazy_send_is_woken_by_receiver_drop_or_close() {
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (mut s, r) = hatch::hatch::<u32>();
    let mut wait = s.wait();
    assert!(poll_once(&mut wait, &waker).is_pending());
    drop(r);
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_once(&mut wait, &waker), Poll::Ready(Err(Closed)));
    drop(wait);
    // Already closed: ready at once, no wake.
    assert_eq!(block_on(s.wait()), Err(Closed));
    assert_eq!(counter.wakes(), 1);

    let (mut s, mut r) = hatch::hatch::<u32>();
    let mut wait = s.wait();
    assert!(poll_once(&mut wait, &waker).is_pending());
    r.close();
    assert_eq!(counter.wakes(), 2);
    assert_eq!(poll_once(&mut wait, &waker), Poll::Ready(Err(Closed)));
}

#[cfg(feature = "std")]
#[test]
fn blocking_receive_counts_as_listening() {
    let (mut s, mut r) = hatch::hatch::<u32>();
    let t = std::thread::spawn(move || {
        block_on(s.wait()).unwrap();
        s.send(11).now().unwrap();
        s
    });
    assert_eq!(r.receive_blocking(), Ok(11));
    drop(t.join().unwrap());
    assert_eq!(r.receive_blocking(), Err(Closed));
}

#[test]
fn closes_flag_makes_one_shot_sender_and_receiver() {
    let (mut s, mut r) = hatch::hatch::<u32>();
    s.set_closes(true);
    s.send(1).now().unwrap();
    assert_eq!(s.send(2).now(), Err(SendError::Closed(2)));
    assert_eq!(r.receive().now(), Ok(Some(1)));
    assert_eq!(r.receive().now(), Err(Closed));

    let (mut s, mut r) = hatch::hatch::<u32>();
    r.set_closes(true);
    s.send(1).now().unwrap();
    assert!(!s.is_closed());
    assert_eq!(block_on(r.receive()), Ok(1));
    assert!(s.is_closed());
    assert_eq!(s.send(2).now(), Err(SendError::Closed(2)));
    assert_eq!(r.receive().now(), Err(Closed));
}

#[test]
fn reuse_carries_many_messages_without_reallocating() {
    let (mut s, mut r) = hatch::hatch::<usize>();
    for i in 0..1000 {
        s.send(i).now().unwrap();
        assert_eq!(r.receive().now(), Ok(Some(i)));
    }
}

#[test]
fn static_hatch_try_split_and_reclaim() {
    static HATCH: Hatch<u32> = Hatch::new();
    assert!(HATCH.is_free());
    let (mut s, mut r) = HATCH.try_split().unwrap();
    assert!(!HATCH.is_free());
    assert!(HATCH.try_split().is_none());
    s.send(1).now().unwrap();
    assert_eq!(r.receive().now(), Ok(Some(1)));
    r.set_reclaims(true);
    drop(s);
    assert!(!HATCH.is_free(), "free only when both handles are gone");
    drop(r);
    assert!(HATCH.is_free());
    let (s, r) = HATCH.try_split().unwrap();
    // Neither reclaims nor recycles: the hatch is spent afterwards.
    drop((s, r));
    assert!(!HATCH.is_free());
    assert!(HATCH.try_split().is_none());
}

#[test]
fn reclaim_drops_pending_value_recycle_keeps_it() {
    let drops = Drops::new();
    let hatch = Hatch::new();
    let (mut s, r) = hatch.try_split().unwrap();
    s.send(drops.track(1)).now().unwrap();
    s.set_reclaims(true);
    drop((s, r));
    assert_eq!(drops.count(), 1);
    assert!(hatch.is_free());

    let (mut s, r) = hatch.try_split().unwrap();
    s.send(drops.track(2)).now().unwrap();
    s.set_recycles(true).set_reclaims(true);
    drop((s, r));
    assert_eq!(drops.count(), 1, "recycling keeps the pending value");
    let (_s, mut r) = hatch.try_split().unwrap();
    assert_eq!(r.receive().now().unwrap().map(|t| t.id), Some(2));
    assert_eq!(drops.count(), 2);
}

#[test]
fn spent_hatch_drops_pending_value_once() {
    let drops = Drops::new();
    let hatch = Hatch::new();
    let (mut s, r) = hatch.try_split().unwrap();
    s.send(drops.track(1)).now().unwrap();
    drop((s, r));
    assert_eq!(drops.count(), 1);
    drop(hatch);
    assert_eq!(drops.count(), 1);
}

#[test]
fn hatch_drop_drops_recycled_value() {
    let drops = Drops::new();
    let hatch = Hatch::new();
    let (mut s, r) = hatch.try_split().unwrap();
    s.send(drops.track(1)).now().unwrap();
    s.set_recycles(true);
    drop((s, r));
    assert_eq!(drops.count(), 0);
    drop(hatch);
    assert_eq!(drops.count(), 1);
}

#[test]
fn exclusive_split_resets_and_keeps_value() {
    let drops = Drops::new();
    let mut hatch = Hatch::new();
    {
        let (mut s, r) = hatch.split();
        s.send(drops.track(1)).now().unwrap();
        std::mem::forget(r);
        drop(s);
    }
    assert!(!hatch.is_free());
    let (_s, mut r) = hatch.split();
    assert_eq!(r.receive().now().unwrap().map(|t| t.id), Some(1));
    assert_eq!(drops.count(), 1);
}

#[test]
fn raw_split_from_a_pointer() {
    let mut slot = Box::new(Hatch::<u8>::new());
    let ptr = std::ptr::NonNull::from(&mut *slot);
    // SAFETY: `slot` outlives the pair and is not moved or borrowed until both are dropped.
    let (mut s, mut r) = unsafe { Hatch::split_raw(ptr) }.unwrap();
    s.set_reclaims(true);
    s.send(4).now().unwrap();
    assert_eq!(r.receive().now(), Ok(Some(4)));
    drop((s, r));
    assert!(slot.is_free());
}

#[test]
fn recycle_while_peer_alive_is_an_error() {
    let (mut s, mut r) = hatch::hatch::<u8>();
    assert!(s.recycle().is_err());
    assert!(r.recycle().is_err());
    r.close();
    assert!(s.recycle().is_err(), "closed but alive is not recyclable");
    assert_eq!(
        s.recycle().unwrap_err().to_string(),
        "cannot recycle: the peer is still alive"
    );
}

#[test]
fn recycle_reopens_a_closed_side() {
    let (mut s, r) = hatch::hatch::<u8>();
    s.set_closes(true);
    s.send(1).now().unwrap();
    drop(r);
    let mut r = s.recycle().unwrap();
    assert_eq!(r.receive().now(), Ok(Some(1)), "the pending value survives");
    assert_eq!(r.receive().now(), Ok(None), "both sides are open again");
    s.set_closes(false);
    s.send(2).now().unwrap();
    assert_eq!(r.receive().now(), Ok(Some(2)));
}

#[test]
fn debug_output_names_the_state() {
    let (mut s, r) = hatch::hatch::<u8>();
    s.send(1).now().unwrap();
    s.set_overwrites(true);
    let text = format!("{s:?} {r:?}");
    assert!(text.contains("slot: full"), "{text}");
    assert!(text.contains("sender: open, receiver: open"), "{text}");
    assert!(text.contains("flags: {overwrites, boxed}"), "{text}");
    assert!(text.contains("flags: {boxed}"), "{text}");
    assert_eq!(
        format!("{:?}", s.recycle().unwrap_err()),
        "RecycleError(PeerAlive)"
    );
    drop(r);
    let text = format!("{s:?}");
    assert!(text.contains("receiver: dropped"), "{text}");
}
