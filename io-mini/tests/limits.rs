//! Capacity limits (own test binary: it fills the static reactor): a full registry and an
//! exhausted waiter pool are reported as `OutOfMemory` errors, and capacity comes back when
//! handles and futures are dropped.
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::io;
use std::net::UdpSocket;
use std::pin::pin;
use std::task::{Context, Poll};

use io_mini::{Async, MAX_SOURCES, MAX_WAITERS};

use common::nofile_limit;
use sync_core::testing::WakeCounter;

fn bind() -> io::Result<Async<UdpSocket>> {
    Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))
}

#[test]
fn full_registry_and_waiter_pool() -> io::Result<()> {
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
