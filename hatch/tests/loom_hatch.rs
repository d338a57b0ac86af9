//! loom models of the hatch state machine (2 threads each). A lost wake-up shows up as a
//! deadlock in `block_on`; a data race on the value or waker cells, a double drop or a leak as a
//! loom failure or a wrong drop count.
#![cfg(loom)]

use std::future::Future;
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Context;

use hatch::{Closed, SendError};
use sync_core::sync::loom_only::{block_on, model, thread};
use sync_core::testing::WakeCounter;

/// A value that counts its drops.
struct Tracked(StdArc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A parked receive is woken by the send and gets the value; the async send waits for room.
#[test]
fn send_vs_receive() {
    model(|| {
        let (mut s, mut r) = hatch::hatch::<u32>();
        let sender = thread::spawn(move || {
            block_on(s.send(1)).unwrap();
            block_on(s.send(2)).unwrap();
        });
        assert_eq!(block_on(r.receive()), Ok(1));
        assert_eq!(block_on(r.receive()), Ok(2));
        sender.join().unwrap();
        assert_eq!(block_on(r.receive()), Err(Closed));
    });
}

/// A send racing the receiver's drop: the value is returned or dropped with the hatch, once.
#[test]
fn send_vs_receiver_drop() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (mut s, r) = hatch::hatch();
        let receiver = thread::spawn(move || drop(r));
        let result = s.send(Tracked(drops.clone())).now();
        assert!(!matches!(result, Err(SendError::Full(_))));
        drop(result);
        drop(s);
        receiver.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// A parked receive, then the receive future and the receiver dropped while a send runs
/// (RUSTSEC-2026-0005's shape).
#[test]
fn parked_receiver_dropped_during_send() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let counter = WakeCounter::new();
        let (mut s, mut r) = hatch::hatch();
        let value = Tracked(drops.clone());
        let sender = thread::spawn(move || {
            let _ = s.send(value).now();
        });
        let waker = counter.waker();
        let mut receiving = r.receive();
        let got = std::pin::Pin::new(&mut receiving).poll(&mut Context::from_waker(&waker));
        drop(receiving);
        drop(r);
        sender.join().unwrap();
        drop((got, waker));
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!(counter.live(), 0);
    });
}

/// Overwriting sends racing a receive: the receiver sees the values in order, every value is
/// dropped exactly once.
#[test]
fn overwrite_vs_receive() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (mut s, mut r) = hatch::hatch::<(u32, Tracked)>();
        s.set_overwrites(true);
        let d = drops.clone();
        let sender = thread::spawn(move || {
            s.send((1, Tracked(d.clone()))).now().unwrap();
            block_on(s.send((2, Tracked(d)))).unwrap();
        });
        let first = block_on(r.receive()).unwrap().0;
        sender.join().unwrap();
        // The sender is gone: either the last value waits, or the hatch is closed and empty.
        let rest: Vec<u32> = match r.receive().now() {
            Ok(Some(v)) => vec![v.0],
            Ok(None) => panic!("a dropped sender closes the hatch"),
            Err(Closed) => vec![],
        };
        match first {
            1 => assert_eq!(rest, vec![2]),
            2 => assert!(rest.is_empty()),
            other => panic!("unexpected {other}"),
        }
        drop(r);
        assert_eq!(drops.load(SeqCst), 2);
    });
}

/// Recycling racing the peer's drop: either the peer is still alive (error), or the recycle
/// happens-after the drop and the pending value reaches the new receiver.
#[test]
fn recycle_vs_close() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (mut s, r) = hatch::hatch();
        s.send(Tracked(drops.clone())).now().unwrap();
        let receiver = thread::spawn(move || drop(r));
        let recycled = s.recycle();
        if let Ok(mut r) = recycled {
            assert!(r.receive().now().unwrap().is_some());
            assert_eq!(drops.load(SeqCst), 1);
        }
        receiver.join().unwrap();
        drop(s);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// A lazy sender waiting for the receiver to listen, racing a receiver that parks once and then
/// drops: the wait always finishes (no lost wake-up) and the value is dropped once.
#[test]
fn lazy_send_vs_receiver_drop() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (mut s, mut r) = hatch::hatch();
        let d = drops.clone();
        let sender = thread::spawn(move || {
            if block_on(s.wait()).is_ok() {
                let _ = s.send(Tracked(d)).now();
            } else {
                drop(Tracked(d));
            }
        });
        let counter = WakeCounter::new();
        let waker = counter.waker();
        let mut receiving = r.receive();
        let got = std::pin::Pin::new(&mut receiving).poll(&mut Context::from_waker(&waker));
        drop(receiving);
        drop(r);
        sender.join().unwrap();
        drop(got);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// A lazy sender waits for a receive that parks, then sends: the receive's park takes the
/// sender's waker out of the one waker slot the two share and wakes it, and the send takes the
/// receiver's waker out and wakes it (no lost wake-up on either side).
#[test]
fn lazy_send_vs_receive() {
    model(|| {
        let (mut s, mut r) = hatch::hatch::<u32>();
        let sender = thread::spawn(move || {
            block_on(s.wait()).unwrap();
            s.send(5).now().unwrap();
        });
        assert_eq!(block_on(r.receive()), Ok(5));
        sender.join().unwrap();
    });
}

/// A receive parked while the sender drops: it is woken and sees `Closed`.
#[test]
fn receive_vs_sender_drop() {
    model(|| {
        let (s, mut r) = hatch::hatch::<u32>();
        let sender = thread::spawn(move || drop(s));
        assert_eq!(block_on(r.receive()), Err(Closed));
        sender.join().unwrap();
    });
}

/// The receiver re-polls with a different waker while the send runs: the replaced waker is
/// dropped (never leaked), whichever waker is registered at the send is woken, and the receive
/// completes (async-oneshot #20: unsynchronised waker updates).
#[test]
fn waker_update_vs_send() {
    model(|| {
        let first = WakeCounter::new();
        let (mut s, mut r) = hatch::hatch::<u32>();
        let sender = thread::spawn(move || {
            s.send(1).now().unwrap();
            s
        });
        let waker = first.waker();
        let mut receiving = r.receive();
        let early = std::pin::Pin::new(&mut receiving).poll(&mut Context::from_waker(&waker));
        let got = if early.is_ready() {
            early
        } else {
            // Second task: the block_on waker replaces the first one.
            std::task::Poll::Ready(block_on(&mut receiving))
        };
        assert_eq!(got, std::task::Poll::Ready(Ok(1)));
        drop(receiving);
        let s = sender.join().unwrap();
        drop((s, r, waker));
        assert!(first.wakes() <= 1);
        assert_eq!(first.live(), 0, "no clone of the replaced waker is leaked");
    });
}

/// Three threads: the receiver is dropped on one, the sender recycles a new receiver after it
/// and sends while a third thread receives on the recycled receiver; the value arrives once.
#[test]
fn recycle_then_receive_on_third_thread() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (mut s, r) = hatch::hatch();
        let dropper = thread::spawn(move || drop(r));
        dropper.join().unwrap();
        let mut r = s.recycle().expect("the receiver is gone");
        let receiver = thread::spawn(move || block_on(r.receive()).map(|_t: Tracked| ()));
        s.send(Tracked(drops.clone())).now().unwrap();
        assert_eq!(receiver.join().unwrap(), Ok(()));
        drop(s);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// The lock-free send (`now()` on an empty hatch) racing a receiver that closes and then takes
/// what is there: the value is received or handed back in `Closed`, never both, never lost.
#[test]
fn send_now_vs_receiver_close() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (mut s, mut r) = hatch::hatch();
        let d = drops.clone();
        let sender = thread::spawn(move || match s.send(Tracked(d)).now() {
            Ok(()) => true,
            Err(SendError::Closed(v)) => {
                drop(v);
                false
            }
            Err(SendError::Full(_)) => panic!("the hatch was empty"),
        });
        r.close();
        let got = r.receive().now();
        let sent = sender.join().unwrap();
        let got = match got {
            Ok(Some(v)) => Some(v),
            Ok(None) => panic!("a closed receiver never sees an open, empty hatch"),
            Err(Closed) => None,
        };
        // The value was either refused (and dropped by the sender), or is in the slot or taken.
        let late = if sent && got.is_none() {
            r.receive().now().unwrap()
        } else {
            None
        };
        assert_eq!(sent, got.is_some() || late.is_some());
        drop((got, late, r));
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// The lock-free send and the lock-free receive (`now()` on both sides) on two threads, then
/// both handles dropped on different threads (the last one frees): the value arrives once.
#[test]
fn send_now_vs_receive_now() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (mut s, mut r) = hatch::hatch();
        let d = drops.clone();
        let sender = thread::spawn(move || {
            s.send(Tracked(d)).now().unwrap();
            drop(s);
        });
        let early = r.receive().now().unwrap();
        let got = early.is_some();
        drop(early);
        sender.join().unwrap();
        if !got {
            assert!(
                r.receive().now().unwrap().is_some(),
                "the value waits in the slot"
            );
        }
        assert_eq!(r.receive().now().map(|v| v.is_some()), Err(Closed));
        drop(r);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// The lock-free receive racing two overwriting `now()` sends and the sender's drop: values
/// arrive in order, each dropped exactly once.
#[test]
fn receive_now_vs_overwrite_and_drop() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (mut s, mut r) = hatch::hatch::<(u32, Tracked)>();
        s.set_overwrites(true);
        let d = drops.clone();
        let sender = thread::spawn(move || {
            s.send((1, Tracked(d.clone()))).now().unwrap();
            s.send((2, Tracked(d))).now().unwrap();
        });
        let first = r.receive().now().unwrap().map(|v| v.0);
        sender.join().unwrap();
        let second = r.receive().now().map(|v| v.map(|v| v.0));
        match first {
            None => assert_eq!(second, Ok(Some(2))),
            Some(1) => assert_eq!(second, Ok(Some(2))),
            Some(2) => assert_eq!(second, Err(Closed)),
            Some(other) => panic!("unexpected {other}"),
        }
        drop(r);
        assert_eq!(drops.load(SeqCst), 2);
    });
}

/// Two threads send through one `SharedHatch` (`replace`, `&self`) while the receiver awaits:
/// the first receive is woken (no lost wake-up), and every value is received, handed back by a
/// `replace`, or dropped with the hatch — exactly once.
#[test]
fn shared_replaces_from_two_threads_vs_receive() {
    use sync_core::sync::loom_only::Arc;
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let shared = Arc::new(hatch::SharedHatch::new());
        let mut r = shared.receiver().unwrap();
        let senders: Vec<_> = (0..2)
            .map(|i| {
                let (shared, value) = (shared.clone(), Tracked(drops.clone()));
                thread::spawn(move || {
                    let old = shared.replace(value).map_err(|_| i).expect("receiver open");
                    drop(old);
                })
            })
            .collect();
        let first = block_on(r.receive()).expect("sender side open");
        drop(first);
        for s in senders {
            s.join().unwrap();
        }
        drop(r.receive().now());
        drop(r);
        drop(shared);
        assert_eq!(drops.load(SeqCst), 2);
    });
}

/// A shared send racing the receiver's drop: the value is handed back, or stays in the slot and
/// is dropped with the hatch; once either way. A new receiver can then be taken.
#[test]
fn shared_send_vs_receiver_drop() {
    use sync_core::sync::loom_only::Arc;
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let shared = Arc::new(hatch::SharedHatch::new());
        let r = shared.receiver().unwrap();
        let sender = {
            let (shared, value) = (shared.clone(), Tracked(drops.clone()));
            thread::spawn(move || {
                let result = shared.send(value);
                assert!(!matches!(result, Err(SendError::Full(_))));
                drop(result);
            })
        };
        drop(r);
        sender.join().unwrap();
        let mut again = shared.receiver().expect("the receiver was dropped");
        drop(again.receive().now());
        drop(again);
        drop(shared);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// A shared send racing a parked receive future that is dropped with a counting waker: the
/// waker is woken or dropped, never leaked, and the value stays for the next receive.
#[test]
fn shared_send_vs_parked_receive_drop() {
    use sync_core::sync::loom_only::Arc;
    model(|| {
        let counter = WakeCounter::new();
        let shared = Arc::new(hatch::SharedHatch::new());
        let mut r = shared.receiver().unwrap();
        let sender = {
            let shared = shared.clone();
            thread::spawn(move || shared.send(5_u32).unwrap())
        };
        let waker = counter.waker();
        let mut receiving = r.receive();
        let got = std::pin::Pin::new(&mut receiving).poll(&mut Context::from_waker(&waker));
        drop(receiving);
        sender.join().unwrap();
        let rest = r.receive().now();
        assert_eq!(
            (got.is_ready(), rest),
            if got.is_ready() {
                (true, Ok(None))
            } else {
                (false, Ok(Some(5)))
            }
        );
        drop(waker);
        assert_eq!(counter.live(), 0);
    });
}

/// A split racing the cleanup of the previous pair, which recycles and so keeps its value: the
/// split fails while that pair is alive, or succeeds after the cleanup and receives the kept
/// value (published by the cleanup's `Release` store); the value is dropped exactly once.
#[test]
fn try_split_vs_recycling_cleanup() {
    use sync_core::sync::loom_only::Arc;
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let hatch = Arc::new(hatch::Hatch::new());
        let (mut s, r) = hatch.try_split().expect("a new hatch is free");
        s.set_recycles(true);
        assert!(s.send(Tracked(drops.clone())).now().is_ok());
        let other = {
            let hatch = hatch.clone();
            thread::spawn(move || {
                if let Some((_s, mut r)) = hatch.try_split() {
                    assert!(matches!(r.receive().now(), Ok(Some(_))), "the kept value");
                    true
                } else {
                    false
                }
            })
        };
        drop(s);
        drop(r);
        let split = other.join().unwrap();
        // A split that lost the race leaves the cleanup's state alone: the hatch is free.
        assert!(
            split || hatch.is_free(),
            "a failed split kept the hatch from being freed"
        );
        drop(hatch);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// A `try_split` that fails on a hatch in use, between the drops of its pair: the last handle
/// cleans up without the lock after an `Acquire` look at the first one's `DROPPED` bit, so
/// the first drop's take of its waker must happen-before the cleanup's. A failed split that
/// stored the word again (with bare metal's `Relaxed` unlock) would hide the first drop's
/// `Release` from that look: run with `--cfg hatch_locked_only` too.
#[test]
fn failed_try_split_between_the_drops() {
    use sync_core::sync::loom_only::Arc;
    model(|| {
        let hatch = Arc::new(hatch::Hatch::<u32>::new());
        // SAFETY: the `Arc` keeps the hatch in place until after both handles are dropped (the
        // threads are joined before it goes).
        let pair = unsafe { hatch::Hatch::split_raw(std::ptr::NonNull::from(&*hatch)) };
        let (mut s, r) = pair.expect("a new hatch is free");
        s.send(1).now().unwrap();
        // A send parked on the full slot and forgotten: the sender's drop takes its waker out.
        let counter = WakeCounter::new();
        let waker = counter.waker();
        let mut sending = s.send(2);
        let parked = std::pin::Pin::new(&mut sending).poll(&mut Context::from_waker(&waker));
        assert!(parked.is_pending());
        std::mem::forget(sending);
        let sender = thread::spawn(move || drop(s));
        let splitter = {
            let hatch = hatch.clone();
            thread::spawn(move || assert!(hatch.try_split().is_none(), "the pair is alive"))
        };
        drop(r);
        sender.join().unwrap();
        splitter.join().unwrap();
        drop(waker);
        assert_eq!(counter.live(), 0, "the parked waker was dropped");
        drop(hatch);
    });
}

/// Sends a `Tracked` of `drops` with `send_last` on a new thread, which expects it accepted.
fn send_last_on_a_thread(
    s: hatch::Sender<'static, Tracked>,
    drops: &StdArc<AtomicUsize>,
) -> thread::JoinHandle<()> {
    let d = drops.clone();
    thread::spawn(move || {
        assert!(s.send_last(Tracked(d)).is_ok());
    })
}

/// `send_last` on one thread, the receive (`now()`, then the lone receive once the sender is
/// gone) and the receiver's drop on the other: the value arrives once and is dropped once, and
/// the box is freed by whichever handle is last.
#[test]
fn send_last_vs_receive_now() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (s, mut r) = hatch::hatch();
        let sender = send_last_on_a_thread(s, &drops);
        let early = r.receive().now().unwrap();
        let got = early.is_some();
        drop(early);
        sender.join().unwrap();
        if !got {
            assert!(r.receive().now().unwrap().is_some(), "the value waits");
        }
        assert_eq!(r.receive().now().map(|v| v.is_some()), Err(Closed));
        drop(r);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// `send_last` on a new pair racing a receive that parks (`block_on`): the sender guesses the
/// state of a new pair, and the guess is wrong whenever the receive parked first (its waker
/// bit), so both the guessed and the locked send run here. The receive wakes with the value, the
/// value is dropped once and the box freed.
#[test]
fn send_last_vs_parked_receive() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (s, mut r) = hatch::hatch();
        let sender = send_last_on_a_thread(s, &drops);
        drop(block_on(r.receive()).expect("the value"));
        sender.join().unwrap();
        assert_eq!(r.receive().now().map(|v| v.is_some()), Err(Closed));
        drop(r);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// `send_last` racing the receiver's drop: the value comes back (`Closed`) or is dropped with the
/// hatch by the receiver, exactly once either way.
#[test]
fn send_last_vs_receiver_drop() {
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let (s, r) = hatch::hatch();
        let receiver = thread::spawn(move || drop(r));
        match s.send_last(Tracked(drops.clone())) {
            Ok(()) => {}
            Err(SendError::Closed(value)) => drop(value),
            Err(SendError::Full(_)) => panic!("the slot was empty"),
        }
        receiver.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

/// `send_last` into a hatch you manage, racing the receive and the receiver's reclaiming drop on
/// another thread: the hatch is free afterwards and the value was dropped once.
#[test]
fn send_last_vs_reclaiming_receiver() {
    use sync_core::sync::loom_only::Arc;
    model(|| {
        let drops = StdArc::new(AtomicUsize::new(0));
        let hatch = Arc::new(hatch::Hatch::new());
        // SAFETY: `hatch` outlives both handles: the receiver's thread is joined and the sender
        // used up before it is dropped.
        let pair = unsafe { hatch::Hatch::split_raw(std::ptr::NonNull::from(&*hatch)) };
        let (s, mut r) = pair.expect("a new hatch is free");
        r.set_reclaims(true);
        let receiver = thread::spawn(move || {
            drop(r.receive().now());
            drop(r);
        });
        let _ = s.send_last(Tracked(drops.clone()));
        receiver.join().unwrap();
        assert!(hatch.is_free(), "reclaimed by the last handle");
        drop(hatch);
        assert_eq!(drops.load(SeqCst), 1);
    });
}
