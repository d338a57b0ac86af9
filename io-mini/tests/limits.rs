//! Capacity limits (own test binary: it fills the static reactor; the tests take turns through
//! `SERIAL`): a full registry and an exhausted waiter pool are reported as `OutOfMemory`
//! errors, capacity comes back when handles and futures are dropped, and registrations leaked
//! with their fd closed since do not count against it.
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::io;
use std::mem;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use io_mini::{Async, MAX_SOURCES, MAX_WAITERS};

use common::nofile_limit;
use sync_core::testing::WakeCounter;

fn bind() -> io::Result<Async<UdpSocket>> {
    Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))
}

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn full_registry_and_waiter_pool() -> io::Result<()> {
    let _serial = serial();
    if nofile_limit() < MAX_SOURCES as u64 + 64 {
        eprintln!("skipped: RLIMIT_NOFILE below {}", MAX_SOURCES + 64);
        return Ok(());
    }
    // Fill the registry.
    let mut sockets = Vec::new();
    while sockets.len() < MAX_SOURCES {
        sockets.push(bind()?);
    }
    assert_eq!(io_mini::reactor_usage().0, MAX_SOURCES);
    let err = bind().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::OutOfMemory);
    assert!(err.to_string().contains("IO_MINI_MAX_SOURCES"), "{err}");
    // Dropping one handle makes room.
    sockets.pop();
    sockets.push(bind()?);

    // Fill the waiter pool: MAX_WAITERS readable() futures over the sockets, several per socket.
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let mut cx = Context::from_waker(&waker);
    let mut waits: Vec<_> = (0..MAX_WAITERS)
        .map(|i| Box::pin(sockets[i % 7].readable()))
        .collect();
    for wait in &mut waits {
        assert!(wait.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(io_mini::reactor_usage().1, MAX_WAITERS);
    {
        let mut extra = pin!(sockets[0].readable());
        match extra.as_mut().poll(&mut cx) {
            Poll::Ready(Err(err)) => {
                assert_eq!(err.kind(), io::ErrorKind::OutOfMemory);
                assert!(err.to_string().contains("IO_MINI_MAX_WAITERS"), "{err}");
            }
            other => panic!("expected an OutOfMemory error, got {other:?}"),
        }
    }
    // Nobody was evicted: every waiter is still pending and nobody was woken.
    for wait in &mut waits {
        assert!(wait.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(counter.wakes(), 0);
    // Dropping one future frees one place.
    waits.pop();
    let mut again = pin!(sockets[1].readable());
    assert!(again.as_mut().poll(&mut cx).is_pending());
    drop(waits);
    assert_eq!(io_mini::reactor_usage().1, 1);
    Ok(())
}

#[test]
fn leaked_registrations_of_closed_fds_do_not_fill_the_registry() -> io::Result<()> {
    let _serial = serial();
    if nofile_limit() < MAX_SOURCES as u64 + 64 || MAX_SOURCES < 2 {
        eprintln!("skipped: RLIMIT_NOFILE below {}", MAX_SOURCES + 64);
        return Ok(());
    }
    let mut sockets = Vec::new();
    while sockets.len() < MAX_SOURCES - 2 {
        sockets.push(bind()?);
    }
    // Two registrations leaked, then their sockets closed: the registry is full. One fd number
    // goes to a socket nobody registers, the other stays free for the next `bind`.
    let (a, b) = (
        UdpSocket::bind(("127.0.0.1", 0))?,
        UdpSocket::bind(("127.0.0.1", 0))?,
    );
    let fds = [a.as_raw_fd(), b.as_raw_fd()];
    mem::forget(Async::new(&a)?);
    mem::forget(Async::new(&b)?);
    drop((a, b));
    assert_eq!(io_mini::reactor_usage().0, MAX_SOURCES);
    let unregistered = UdpSocket::bind(("127.0.0.1", 0))?;
    assert!(fds.contains(&unregistered.as_raw_fd()));
    // Both places are usable again: the first `bind` reuses the free number, the second finds
    // the registry full and reclaims the registration whose number names another socket now.
    sockets.push(bind()?);
    sockets.push(bind()?);
    assert_eq!(io_mini::reactor_usage().0, MAX_SOURCES);
    // Live registrations are never reclaimed.
    let err = bind().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::OutOfMemory);
    drop(sockets);
    assert_eq!(io_mini::reactor_usage().0, 0);
    Ok(())
}
