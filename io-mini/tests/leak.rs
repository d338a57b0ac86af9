//! A leaked `Async` (own test binary: it relies on the kernel handing out the lowest free fd
//! number, so no other test may open fds meanwhile; the tests take turns through `SERIAL`).
//!
//! An `Async<&T>` or `Async<BorrowedFd>` that is leaked (`mem::forget`, an `Rc` cycle) never
//! deregisters. Once its fd is closed, the number is free for the next socket: that socket must
//! register and work, and the leaked registration's waiters are failed and woken, not left
//! behind. Two live registrations of one socket are still refused; other fds (pipes) may be
//! registered twice, and both registrations work.
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::io::{self, Read, Write};
use std::mem;
use std::net::UdpSocket;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::pin::pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures_lite::future::block_on;
use io_mini::Async;
use sync_core::testing::WakeCounter;

use common::wait_until;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn bind() -> io::Result<UdpSocket> {
    UdpSocket::bind(("127.0.0.1", 0))
}

/// Binds sockets until one gets fd number `fd` (the lowest free one, normally the first);
/// the others are kept open until the call returns, so the kernel moves on.
fn bind_on(fd: RawFd) -> io::Result<UdpSocket> {
    let mut others = Vec::new();
    for _ in 0..64 {
        let socket = bind()?;
        if socket.as_raw_fd() == fd {
            return Ok(socket);
        }
        others.push(socket);
    }
    panic!("fd {fd} was not handed out again");
}

/// Sends a datagram to `socket` from a fresh socket and receives it through the reactor
/// (the receive waits first, so the reactor must wake it).
fn round_trip(socket: &Async<UdpSocket>) -> io::Result<()> {
    let sender = bind()?;
    let addr = socket.get_ref().local_addr()?;
    let mut buf = [0; 8];
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let n = {
        let mut recv = pin!(socket.recv_from(&mut buf));
        assert!(
            recv.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        sender.send_to(b"ping", addr)?;
        wait_until("the receiver is woken", || counter.wakes() > 0);
        block_on(recv)?.0
    };
    assert_eq!(&buf[..n], b"ping");
    Ok(())
}

#[test]
fn a_leaked_async_does_not_block_its_fd_number() -> io::Result<()> {
    let _serial = serial();
    let first = bind()?;
    let fd = first.as_raw_fd();
    let leaked = Async::new(&first)?;
    // The leaked registration has a waiter parked in it (`poll_readable`).
    let counter = WakeCounter::new();
    let waker = counter.waker();
    assert!(
        leaked
            .poll_readable(&mut Context::from_waker(&waker))
            .is_pending()
    );
    mem::forget(leaked);
    drop(first);

    // An unrelated socket gets the same fd number: it registers and works.
    let second = Async::new(bind_on(fd)?)?;
    assert_eq!(second.as_raw_fd(), fd);
    // The leaked waiter was failed and woken, not left waiting on someone else's socket.
    wait_until("the leaked waiter is woken", || counter.wakes() == 1);
    round_trip(&second)?;
    drop(second);

    // And again, through `BorrowedFd`.
    let third = bind_on(fd)?;
    mem::forget(Async::new(third.as_fd())?);
    drop(third);
    let fourth = Async::new(bind_on(fd)?)?;
    round_trip(&fourth)?;
    Ok(())
}

#[test]
fn a_live_socket_registered_twice_is_refused_and_keeps_working() -> io::Result<()> {
    let _serial = serial();
    let socket = Async::new(bind()?)?;
    let err = Async::new(socket.get_ref()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    // Leaked and still open: still the same socket, still refused (as async-io's epoll does).
    let borrowed = bind()?;
    mem::forget(Async::new(&borrowed)?);
    let err = Async::new(&borrowed).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    round_trip(&socket)?;
    Ok(())
}

#[test]
fn a_pipe_registered_twice_works_through_both() -> io::Result<()> {
    let _serial = serial();
    let (reader, mut writer) = io::pipe()?;
    let first = Async::new(&reader)?;
    let second = Async::new(&reader)?;
    let (c1, c2) = (WakeCounter::new(), WakeCounter::new());
    {
        let mut r1 = pin!(first.readable());
        let mut r2 = pin!(second.readable());
        assert!(
            r1.as_mut()
                .poll(&mut Context::from_waker(&c1.waker()))
                .is_pending()
        );
        assert!(
            r2.as_mut()
                .poll(&mut Context::from_waker(&c2.waker()))
                .is_pending()
        );
        writer.write_all(b"x")?;
        wait_until("both registrations are woken", || {
            c1.wakes() == 1 && c2.wakes() == 1
        });
        assert!(matches!(
            r1.as_mut().poll(&mut Context::from_waker(&c1.waker())),
            Poll::Ready(Ok(()))
        ));
        assert!(matches!(
            r2.as_mut().poll(&mut Context::from_waker(&c2.waker())),
            Poll::Ready(Ok(()))
        ));
    }
    // Dropping one registration leaves the other working.
    drop(first);
    let mut buf = [0; 1];
    (&reader).read_exact(&mut buf)?;
    let c3 = WakeCounter::new();
    let mut r3 = pin!(second.readable());
    assert!(
        r3.as_mut()
            .poll(&mut Context::from_waker(&c3.waker()))
            .is_pending()
    );
    writer.write_all(b"y")?;
    wait_until("the remaining registration is woken", || c3.wakes() == 1);
    Ok(())
}
