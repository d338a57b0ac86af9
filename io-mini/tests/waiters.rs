//! Waiters: several tasks waiting on one socket and direction are all woken; a task displaced
//! from an `Async`'s shared place (`poll_readable`, `AsyncRead` on `&Async`) is woken, never
//! left hanging; a cancelled wait frees its place and is never woken; a panicking waker does
//! not stop the reactor; dropping an `Async` with a parked `poll_readable` wakes nobody; the
//! owned futures work on `Arc`s; `AsyncRead` re-arms its place (one failed read per wait).
#![cfg(not(loom))]

mod common;

use std::io::{self, Write};
use std::net::UdpSocket;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};

use futures_lite::future::{self, block_on};
use io_mini::Async;
use sync_core::testing::{WakeCounter, poll_with};

use common::wait_until;

fn udp_pair() -> io::Result<(Async<UdpSocket>, Async<UdpSocket>)> {
    let a = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
    let b = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
    a.get_ref().connect(b.get_ref().local_addr()?)?;
    b.get_ref().connect(a.get_ref().local_addr()?)?;
    Ok((a, b))
}

#[test]
fn two_tasks_waiting_readable_are_both_woken() -> io::Result<()> {
    let (a, b) = udp_pair()?;
    let (c1, c2) = (WakeCounter::new(), WakeCounter::new());
    let (w1, w2) = (c1.waker(), c2.waker());
    let mut r1 = pin!(b.readable());
    let mut r2 = pin!(b.readable());
    assert!(poll_with(&mut r1.as_mut(), &w1).is_pending());
    assert!(poll_with(&mut r2.as_mut(), &w2).is_pending());
    // Re-polling with the same task's waker neither clones nor wakes anything.
    assert!(poll_with(&mut r1.as_mut(), &w1).is_pending());
    a.get_ref().send(b"x")?;
    wait_until("both waiters woken", || c1.wakes() == 1 && c2.wakes() == 1);
    assert!(matches!(
        poll_with(&mut r1.as_mut(), &w1),
        Poll::Ready(Ok(()))
    ));
    assert!(matches!(
        poll_with(&mut r2.as_mut(), &w2),
        Poll::Ready(Ok(()))
    ));
    assert_eq!((c1.wakes(), c2.wakes()), (1, 1));
    drop((w1, w2));
    assert_eq!((c1.live(), c2.live()), (0, 0), "the reactor kept a waker");
    Ok(())
}

#[test]
fn many_tasks_read_with_on_one_socket_each_get_a_datagram() -> io::Result<()> {
    const TASKS: u8 = 8;
    let (a, b) = udp_pair()?;
    let b = Arc::new(b);
    let readers: Vec<_> = (0..TASKS)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || {
                let mut buf = [0; 1];
                block_on(b.read_with(|s| s.recv(&mut buf)))?;
                io::Result::Ok(buf[0])
            })
        })
        .collect();
    for i in 0..TASKS {
        a.get_ref().send(&[i])?;
    }
    let mut got: Vec<u8> = readers
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect::<io::Result<_>>()?;
    got.sort_unstable();
    assert_eq!(got, (0..TASKS).collect::<Vec<_>>());
    Ok(())
}

#[test]
fn cancelled_read_is_never_woken() -> io::Result<()> {
    let (a, b) = udp_pair()?;
    let cancelled = WakeCounter::new();
    {
        let mut buf = [0; 16];
        let mut read = pin!(b.recv(&mut buf));
        assert!(poll_with(&mut read.as_mut(), &cancelled.waker()).is_pending());
        assert_eq!(cancelled.live(), 1, "the reactor holds one clone");
    }
    assert_eq!(cancelled.live(), 0, "cancel dropped the reactor's clone");
    a.get_ref().send(b"late")?;
    // A later wait that goes through the reactor proves the event has been dispatched.
    let mut buf = [0; 16];
    let n = block_on(b.recv(&mut buf))?;
    assert_eq!(&buf[..n], b"late");
    assert_eq!(cancelled.wakes(), 0);
    Ok(())
}

struct PanicWaker;

impl Wake for PanicWaker {
    fn wake(self: Arc<Self>) {
        panic!("this waker panics (on purpose)");
    }
}

#[test]
fn panicking_waker_does_not_stop_the_reactor() -> io::Result<()> {
    let (a, b) = udp_pair()?;
    let bad = Waker::from(Arc::new(PanicWaker));
    let mut readable = pin!(b.readable());
    assert!(poll_with(&mut readable.as_mut(), &bad).is_pending());
    a.get_ref().send(b"boom")?;
    // The reactor must survive the panic and keep serving new waits.
    let (c, d) = udp_pair()?;
    let mut buf = [0; 8];
    let (n, ()) = block_on(future::zip(d.recv(&mut buf), async {
        future::yield_now().await;
        c.get_ref().send(b"alive").unwrap();
    }));
    assert_eq!(&buf[..n?], b"alive");
    wait_until("the panicking waiter marked ready", || {
        poll_with(&mut readable.as_mut(), &bad).is_ready()
    });
    Ok(())
}

#[test]
fn dropping_async_with_parked_poll_wakes_nobody() -> io::Result<()> {
    let (a, b) = udp_pair()?;
    let counter = WakeCounter::new();
    let waker = counter.waker();
    assert!(
        b.poll_readable(&mut Context::from_waker(&waker))
            .is_pending()
    );
    drop(b);
    drop(waker);
    a.get_ref().send(b"x").ok();
    assert_eq!(counter.wakes(), 0);
    assert_eq!(
        counter.live(),
        0,
        "deregistration dropped the parked wakers"
    );
    Ok(())
}

#[test]
fn poll_readable_parks_one_waker_per_direction() -> io::Result<()> {
    let (a, b) = udp_pair()?;
    let (c1, c2) = (WakeCounter::new(), WakeCounter::new());
    let w2 = c2.waker();
    assert!(
        b.poll_readable(&mut Context::from_waker(&c1.waker()))
            .is_pending()
    );
    // A second task replaces the first one's waker, and wakes it (spuriously) so that the
    // first task polls again instead of hanging.
    assert!(b.poll_readable(&mut Context::from_waker(&w2)).is_pending());
    assert_eq!(
        (c1.wakes(), c1.live()),
        (1, 0),
        "displaced: woken, not kept"
    );
    // The same task (a waker that `will_wake` the stored one) polling again displaces nobody.
    assert!(b.poll_readable(&mut Context::from_waker(&w2)).is_pending());
    assert_eq!(c2.wakes(), 0);
    a.get_ref().send(b"x")?;
    wait_until("the parked waker woken", || c2.wakes() == 1);
    assert!(matches!(
        b.poll_readable(&mut Context::from_waker(&w2)),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(c1.wakes(), 1);
    Ok(())
}

#[test]
fn owned_futures_on_arc() -> io::Result<()> {
    let (a, b) = udp_pair()?;
    let b = Arc::new(b);
    block_on(b.clone().writable_owned())?;
    let reader = std::thread::spawn({
        let b = b.clone();
        move || block_on(b.readable_owned())
    });
    // Wait until the reader's waiter is in place is not observable; the level-triggered
    // reactor reports the datagram whether it arrives before or after the registration.
    a.get_ref().send(b"x")?;
    reader.join().unwrap()?;
    let mut buf = [0; 1];
    assert_eq!(b.get_ref().recv(&mut buf)?, 1);
    Ok(())
}

#[test]
fn one_event_wakes_more_waiters_than_a_wake_chunk() -> io::Result<()> {
    const WAITERS: usize = 20; // more than the reactor's chunk of 8 wakers per lock
    let (a, b) = udp_pair()?;
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let mut waits: Vec<_> = (0..WAITERS).map(|_| Box::pin(b.readable())).collect();
    for wait in &mut waits {
        assert!(poll_with(&mut wait.as_mut(), &waker).is_pending());
    }
    a.get_ref().send(b"x")?;
    wait_until("every waiter woken", || counter.wakes() == WAITERS);
    for wait in &mut waits {
        assert!(matches!(
            poll_with(&mut wait.as_mut(), &waker),
            Poll::Ready(Ok(()))
        ));
    }
    assert_eq!(counter.wakes(), WAITERS, "each waiter woken exactly once");
    Ok(())
}

/// A smoke test: sources registered and dropped in an order that *may* leave holes in the
/// registry's used part are all watched. Other tests of this binary share the reactor and may
/// take the slots meanwhile, so the hole reuse is not guaranteed here; the deterministic check
/// of holes and high-water marks is the unit test `registry::tests::scans_cover_only_the_taken_prefix`.
#[test]
fn smoke_sources_registered_after_drops_are_watched() -> io::Result<()> {
    let (a, a_peer) = udp_pair()?;
    let (b, b_peer) = udp_pair()?;
    // Probably holes in the registry: the next sources reuse them, later ones extend the part
    // of the registry the reactor scans.
    drop((b, b_peer));
    let (c, c_peer) = udp_pair()?;
    let (d, d_peer) = udp_pair()?;
    let (e, e_peer) = udp_pair()?;
    let check = |rx: &Async<UdpSocket>, tx: &Async<UdpSocket>| -> io::Result<()> {
        let counter = WakeCounter::new();
        let waker = counter.waker();
        let mut readable = pin!(rx.readable());
        assert!(poll_with(&mut readable.as_mut(), &waker).is_pending());
        tx.get_ref().send(b"x")?;
        wait_until("the waiter is woken", || counter.wakes() == 1);
        assert!(matches!(
            poll_with(&mut readable.as_mut(), &waker),
            Poll::Ready(Ok(()))
        ));
        let mut buf = [0; 4];
        assert_eq!(rx.get_ref().recv(&mut buf)?, 1);
        Ok(())
    };
    for (rx, tx) in [(&e, &e_peer), (&a, &a_peer), (&c, &c_peer), (&d, &d_peer)] {
        check(rx, tx)?;
    }
    // The newest sources go first (shrinking the scanned part); the older ones still work.
    drop((e, e_peer, d, d_peer));
    check(&a, &a_peer)?;
    check(&c_peer, &c)?;
    Ok(())
}

/// A Unix stream that counts the reads that said `WouldBlock`.
struct CountingStream {
    inner: std::os::unix::net::UnixStream,
    would_block: Arc<AtomicUsize>,
}

impl io::Read for CountingStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let res = self.inner.read(buf);
        if matches!(&res, Err(err) if err.kind() == io::ErrorKind::WouldBlock) {
            self.would_block.fetch_add(1, SeqCst);
        }
        res
    }
}

impl AsFd for CountingStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

// SAFETY: `read` only reads from the stream; nothing reachable through `&mut` closes or
// replaces its fd.
unsafe impl io_mini::IoSafe for CountingStream {}

/// `AsyncRead` in request/response rhythm: each read finds the place parked by the previous
/// one already woken (its readiness used up) and re-arms it. Every message is read with
/// exactly one wake-up and **one** failed read each: without the re-arm, the stale place would
/// be reported ready and cost a second `WouldBlock` (and a new place) per message.
#[test]
fn async_read_rearms_a_stale_place_and_gets_every_message() -> io::Result<()> {
    use futures_lite::AsyncReadExt;
    use std::os::unix::net::UnixStream;

    let (a, inner) = UnixStream::pair()?;
    let would_block = Arc::new(AtomicUsize::new(0));
    let mut b = Async::new(CountingStream {
        inner,
        would_block: would_block.clone(),
    })?;
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let mut buf = [0; 8];
    for i in 0..50u64 {
        let mut read = pin!(b.read(&mut buf));
        assert!(poll_with(&mut read.as_mut(), &waker).is_pending());
        assert_eq!(would_block.load(SeqCst), i as usize + 1, "one failed read");
        // A Unix stream with room takes the 8 bytes at once.
        assert_eq!((&a).write(&i.to_le_bytes())?, 8);
        wait_until("the reader is woken", || counter.wakes() == i as usize + 1);
        match poll_with(&mut read.as_mut(), &waker) {
            Poll::Ready(Ok(8)) => {}
            other => panic!("expected 8 bytes, got {other:?}"),
        }
        assert_eq!(buf, i.to_le_bytes());
        assert_eq!(counter.wakes(), i as usize + 1, "one wake-up per message");
        assert_eq!(
            would_block.load(SeqCst),
            i as usize + 1,
            "one failed read per message: the stale place was re-armed, not reported ready"
        );
    }
    drop(b);
    drop(waker);
    assert_eq!(counter.live(), 0, "the reactor kept a waker");
    Ok(())
}

/// Two tasks reading through one `&Async<UnixStream>` share its parked read place: the second
/// one's waker displaces the first one's, which must be woken (not dropped), or the first task
/// would never be polled again. Each task is polled only after its waker was woken, as an
/// executor does; a lost wake-up makes the loop give up at the liveness bound instead of
/// hanging.
#[test]
fn two_tasks_reading_one_shared_async_both_complete() -> io::Result<()> {
    use futures_lite::AsyncReadExt;
    use std::os::unix::net::UnixStream;

    let (a, b) = Async::<UnixStream>::pair()?;
    let (c1, c2) = (WakeCounter::new(), WakeCounter::new());
    let (w1, w2) = (c1.waker(), c2.waker());
    let (mut reader1, mut reader2) = (&b, &b);
    let (mut buf1, mut buf2) = ([0; 4], [0; 4]);
    {
        let mut r1 = pin!(reader1.read(&mut buf1));
        let mut r2 = pin!(reader2.read(&mut buf2));
        assert!(poll_with(&mut r1.as_mut(), &w1).is_pending());
        assert!(poll_with(&mut r2.as_mut(), &w2).is_pending());
        let displaced = c1.wakes();
        a.get_ref().write_all(b"01234567")?;
        let (mut seen1, mut seen2) = (0, 0);
        let (mut n1, mut n2) = (None, None);
        wait_until("both readers complete", || {
            if n1.is_none() && c1.wakes() > seen1 {
                seen1 = c1.wakes();
                if let Poll::Ready(n) = poll_with(&mut r1.as_mut(), &w1) {
                    n1 = Some(n.unwrap());
                }
            }
            if n2.is_none() && c2.wakes() > seen2 {
                seen2 = c2.wakes();
                if let Poll::Ready(n) = poll_with(&mut r2.as_mut(), &w2) {
                    n2 = Some(n.unwrap());
                }
            }
            n1.is_some() && n2.is_some()
        });
        assert_eq!((n1, n2), (Some(4), Some(4)));
        assert_eq!(displaced, 1, "the displaced reader was woken at once");
    }
    let mut got = [buf1, buf2];
    got.sort_unstable();
    assert_eq!(got, [*b"0123", *b"4567"]);
    drop((b, w1, w2));
    assert_eq!((c1.live(), c2.live()), (0, 0), "the reactor kept a waker");
    Ok(())
}

/// As above with real threads (two `block_on` tasks on one `Arc<Async<UnixStream>>`), which
/// may also race two tasks parking a place at the same time. Whether the threads wait at all
/// depends on timing, so this is a stress test; the deterministic check is the test above (and
/// the loom model `two_readers_sharing_a_parked_place_both_complete`). A hang fails at the
/// liveness bound.
#[test]
fn two_threads_reading_one_shared_async_both_complete() -> io::Result<()> {
    use futures_lite::AsyncReadExt;
    use std::os::unix::net::UnixStream;

    let (a, b) = Async::<UnixStream>::pair()?;
    let b = Arc::new(b);
    for round in 0..20u8 {
        let done = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (b, done) = (b.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut buf = [0; 2];
                    let res = block_on((&*b).read_exact(&mut buf));
                    done.fetch_add(1, SeqCst);
                    res.map(|()| buf)
                })
            })
            .collect();
        a.get_ref().write_all(&[round, round, round, round])?;
        wait_until("both readers complete", || done.load(SeqCst) == 2);
        for reader in readers {
            assert_eq!(reader.join().unwrap()?, [round; 2]);
        }
    }
    Ok(())
}
