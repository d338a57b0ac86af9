//! One test per known bug class of single-message channels (named in the crate docs).

mod common;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use common::{Drops, poll_once};
use hatch::{Closed, SendError};
use sync_core::testing::WakeCounter;

/// Iterations of the thread races (few under miri, which is slow but explores schedules).
const RACES: usize = if cfg!(miri) { 50 } else { 2000 };

/// oneshot RUSTSEC-2026-0005: a receive future is parked, then it and the receiver are dropped
/// while a send runs on another thread. No use-after-free, and the value is dropped exactly once
/// (received, or dropped with the hatch).
#[test]
fn rustsec_2026_0005_receiver_polled_then_dropped_during_send() {
    for _ in 0..RACES {
        let drops = Drops::new();
        let counter = WakeCounter::new();
        let (mut s, mut r) = hatch::hatch();
        let value = drops.track(1);
        let sender = thread::spawn(move || {
            let _ = s.send(value).now();
        });
        let waker = counter.waker();
        let mut receiving = r.receive();
        let got = poll_once(&mut receiving, &waker);
        drop(receiving);
        drop(r);
        sender.join().unwrap();
        drop((got, waker));
        assert_eq!(drops.count(), 1);
        assert_eq!(counter.live(), 0);
    }
}

/// tokio RUSTSEC-2021-0124: the receiver closes while a send and a receive are in flight. The
/// value is either received or handed back, never both, never neither, never torn.
#[test]
fn rustsec_2021_0124_close_races_send_and_receive() {
    for _ in 0..RACES {
        let drops = Drops::new();
        let (mut s, mut r) = hatch::hatch();
        let value = drops.track(1);
        let sender = thread::spawn(move || match s.send(value).now() {
            Ok(()) => true,
            Err(SendError::Closed(v)) => {
                assert_eq!(v.id, 1);
                false
            }
            Err(SendError::Full(_)) => unreachable!("the slot was empty"),
        });
        r.close();
        let got = r.receive().now();
        let sent = sender.join().unwrap();
        match got {
            Ok(Some(v)) => {
                assert!(sent);
                assert_eq!(v.id, 1);
            }
            Ok(None) => unreachable!("closed receivers never see an open empty hatch"),
            Err(Closed) => {
                // Sent after our receive looked, or refused: a sent value stays in the slot.
                if sent {
                    assert!(r.has_value());
                }
            }
        }
        drop(r);
        assert_eq!(drops.count(), 1);
    }
}

/// futures #620: close racing send loses the value. Here the value is received, returned in
/// `SendError::Closed`, or dropped with the hatch — exactly once.
#[test]
fn close_racing_send_never_loses_the_value() {
    for _ in 0..RACES {
        let drops = Drops::new();
        let (mut s, r) = hatch::hatch();
        let value = drops.track(1);
        let receiver = thread::spawn(move || drop(r));
        let returned = match s.send(value).now() {
            Ok(()) => None,
            Err(SendError::Closed(v)) => Some(v),
            Err(SendError::Full(_)) => unreachable!(),
        };
        receiver.join().unwrap();
        if returned.is_none() {
            // The receiver is gone but the value waits for a recycled receiver.
            let mut r = s.recycle().unwrap();
            assert_eq!(r.receive().now().unwrap().map(|v| v.id), Some(1));
        }
        drop((returned, s));
        assert_eq!(drops.count(), 1);
    }
}

/// futures #1490: a finished sender must not be woken when the receiver drops later.
#[test]
fn no_spurious_wake_after_sender_finished() {
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (mut s, mut r) = hatch::hatch::<u8>();
    s.send(1).now().unwrap();
    let mut sending = s.send(2);
    assert!(poll_once(&mut sending, &waker).is_pending());
    assert_eq!(r.receive().now(), Ok(Some(1)));
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_once(&mut sending, &waker), Poll::Ready(Ok(())));
    drop(sending);
    #[cfg(feature = "async")]
    {
        // A lazy wait that finished leaves nothing behind either.
        assert_eq!(r.receive().now(), Ok(Some(2)));
        let mut wait = s.wait();
        assert!(poll_once(&mut wait, &waker).is_pending());
        let mut receiving = r.receive();
        assert!(poll_once(&mut receiving, &WakeCounter::new().waker()).is_pending());
        assert_eq!(counter.wakes(), 2);
        assert_eq!(poll_once(&mut wait, &waker), Poll::Ready(Ok(())));
        drop(wait);
        drop(receiving);
    }
    drop(r);
    let wakes = counter.wakes();
    drop(s);
    assert_eq!(counter.wakes(), wakes, "no wake after the sender finished");
    drop(waker);
    assert_eq!(counter.live(), 0);
}

/// async-oneshot #20: re-registering a different waker replaces the old one under the lock; the
/// old one is dropped, never woken, and only the latest is woken.
#[test]
fn waker_updates_are_synchronised() {
    let (first, second) = (WakeCounter::new(), WakeCounter::new());
    let (w1, w2) = (first.waker(), second.waker());
    let (mut s, mut r) = hatch::hatch::<u8>();
    let mut receiving = r.receive();
    assert!(poll_once(&mut receiving, &w1).is_pending());
    assert!(poll_once(&mut receiving, &w2).is_pending());
    assert_eq!(first.live(), 1, "the replaced clone is dropped");
    let sender = thread::spawn(move || s.send(1).now().unwrap());
    sender.join().unwrap();
    assert_eq!(first.wakes(), 0);
    assert_eq!(second.wakes(), 1);
    assert_eq!(poll_once(&mut receiving, &w2), Poll::Ready(Ok(1)));
    drop(receiving);
    drop((w1, w2));
    assert_eq!((first.live(), second.live()), (0, 0));
}

/// A task whose last waker reference owns a future: dropping that waker drops the future and
/// whatever handles it holds — from inside a hatch operation.
struct Task {
    future: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
}

impl Wake for Task {
    fn wake(self: Arc<Self>) {}
}

impl Task {
    /// Polls the future once with a waker that owns a reference to the task, then drops our own
    /// reference: the hatch's parked waker is the last one.
    fn park(future: impl Future<Output = ()> + Send + 'static) {
        let task = Arc::new(Self {
            future: Mutex::new(Some(Box::pin(future))),
        });
        let waker = Waker::from(task.clone());
        let mut slot = task.future.lock().unwrap();
        let poll = slot
            .as_mut()
            .unwrap()
            .as_mut()
            .poll(&mut Context::from_waker(&waker));
        assert!(poll.is_pending());
        drop(slot);
    }
}

/// folo #473: a waker whose drop re-enters the hatch (drops the other handle, freeing the
/// hatch) while the operation that dropped it is still running. miri checks for use-after-free.
#[test]
fn waker_drop_that_reenters_the_hatch() {
    // The sender's parked waker owns the sender; the receiver's drop wakes and drops that
    // waker, which drops the sender, which frees the hatch.
    #[cfg(feature = "async")]
    {
        let (mut s, r) = hatch::hatch::<u8>();
        Task::park(async move {
            let _ = s.wait().await;
        });
        drop(r);
    }
    // The receiver's parked waker owns the receiver; the send wakes and drops it, which drops
    // the receive future and the receiver. The value is dropped with the hatch, once.
    let drops = Drops::new();
    let (mut s, mut r) = hatch::hatch();
    Task::park(async move {
        let _ = r.receive().await;
    });
    s.send(drops.track(1)).now().unwrap();
    assert_eq!(drops.count(), 0);
    drop(s);
    assert_eq!(drops.count(), 1);
}

/// async-hatch cloned wakers under its spin lock: a panicking clone left it locked forever. Here
/// the clone runs outside the lock; the hatch stays usable.
#[test]
fn panicking_waker_clone_does_not_poison() {
    let counter = WakeCounter::new();
    let bad = counter.panicking_clone();
    let (mut s, mut r) = hatch::hatch::<u8>();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut receiving = r.receive();
        let _ = poll_once(&mut receiving, &bad);
    }));
    assert!(result.is_err());
    s.send(1).now().unwrap();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut sending = s.send(2);
        let _ = poll_once(&mut sending, &bad);
    }));
    assert!(result.is_err());
    assert_eq!(r.receive().now(), Ok(Some(1)));
    s.send(3).now().unwrap();
    assert_eq!(futures_lite::future::block_on(r.receive()), Ok(3));
    drop(bad);
    assert_eq!(counter.live(), 0);
}

/// async-hatch's setters XORed: `set_x(false)` never cleared and `set_x(true)` twice cleared.
#[test]
fn setters_set_not_toggle() {
    let (mut s, mut r) = hatch::hatch::<u8>();
    s.set_overwrites(true).set_overwrites(true);
    assert!(s.overwrites());
    s.set_overwrites(false).set_overwrites(false);
    assert!(!s.overwrites());
    s.set_closes(true).set_closes(true);
    assert!(s.closes());
    s.set_closes(false);
    assert!(!s.closes());
    s.set_reclaims(true)
        .set_reclaims(true)
        .set_recycles(true)
        .set_recycles(true);
    assert!(s.reclaims() && s.recycles());
    s.set_reclaims(false).set_recycles(false);
    assert!(!s.reclaims() && !s.recycles());
    r.set_closes(true)
        .set_closes(true)
        .set_reclaims(true)
        .set_recycles(true);
    assert!(r.closes() && r.reclaims() && r.recycles());
    r.set_closes(false).set_reclaims(false).set_recycles(false);
    assert!(!r.closes() && !r.reclaims() && !r.recycles());
    // Behaviour follows the flag, not the number of calls.
    s.send(1).now().unwrap();
    assert_eq!(s.send(2).now(), Err(SendError::Full(2)));
}

/// async-hatch's `recover` dropped a value the peer sent before closing. Here it is delivered.
#[test]
fn recycle_keeps_pending_value() {
    let drops = Drops::new();
    let (mut s, r) = hatch::hatch();
    s.send(drops.track(1)).now().unwrap();
    drop(r);
    let mut r = s.recycle().unwrap();
    assert_eq!(r.receive().now().unwrap().map(|v| v.id), Some(1));

    let (mut s, mut r) = hatch::hatch();
    s.send(drops.track(2)).now().unwrap();
    drop(s);
    let _s = r.recycle().unwrap();
    assert_eq!(r.receive().now().unwrap().map(|v| v.id), Some(2));
    assert_eq!(drops.count(), 2);
}

/// A waker whose `wake` panics: the panic reaches the sender, but only after the lock was
/// released and the value published, so the value is delivered and the hatch stays usable.
#[test]
fn panicking_wake_after_unlock_keeps_the_value() {
    struct PanicWake;
    impl Wake for PanicWake {
        fn wake(self: Arc<Self>) {
            panic!("this waker panics on wake");
        }
    }
    let waker = Waker::from(Arc::new(PanicWake));
    let (mut s, mut r) = hatch::hatch::<u8>();
    let mut receiving = r.receive();
    assert!(poll_once(&mut receiving, &waker).is_pending());
    drop(receiving);
    let mut receiving = r.receive();
    assert!(poll_once(&mut receiving, &waker).is_pending());
    let result = catch_unwind(AssertUnwindSafe(|| s.send(1).now()));
    assert!(result.is_err());
    assert_eq!(poll_once(&mut receiving, &waker), Poll::Ready(Ok(1)));
    drop(receiving);
    s.send(2).now().unwrap();
    assert_eq!(r.receive().now(), Ok(Some(2)));
}

/// A value whose destructor panics when it is overwritten: the new value is in place, the
/// receiver was woken first, and the hatch is not left locked.
#[test]
fn panicking_drop_of_overwritten_value() {
    struct Bomb(bool);
    impl Drop for Bomb {
        fn drop(&mut self) {
            if self.0 {
                panic!("this value panics on drop");
            }
        }
    }
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let (mut s, mut r) = hatch::hatch::<Bomb>();
    s.set_overwrites(true);
    s.send(Bomb(true)).now().unwrap();
    let result = catch_unwind(AssertUnwindSafe(|| s.send(Bomb(false)).now()));
    assert!(result.is_err());
    let mut receiving = r.receive();
    match poll_once(&mut receiving, &waker) {
        Poll::Ready(Ok(b)) => assert!(!b.0),
        _ => panic!("the new value is there"),
    }
    drop(receiving);
    s.send(Bomb(false)).now().unwrap();
    assert!(r.receive().now().unwrap().is_some());
}
