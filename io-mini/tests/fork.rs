//! After `fork`, the child has no reactor thread (own test binary: it forks). Waiting there
//! must fail with an error instead of hanging, and neither dropping handles nor
//! `reactor_usage` may touch the (possibly locked) registry. The child reports through its
//! exit status.
#![cfg(not(loom))]

use std::io;
use std::net::UdpSocket;
use std::pin::pin;
use std::task::{Context, Poll};

use io_mini::Async;
use sync_core::testing::WakeCounter;

/// What the child checks; returns its exit code (0 = as expected).
fn child(socket: Async<UdpSocket>) -> i32 {
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let mut cx = Context::from_waker(&waker);
    let waited = {
        let mut readable = pin!(socket.readable());
        matches!(readable.as_mut().poll(&mut cx), Poll::Ready(Err(_)))
    };
    let parked = matches!(socket.poll_writable(&mut cx), Poll::Ready(Err(_)));
    let created = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0)).is_err();
    // The diagnostics do not lock the (possibly stuck) registry either.
    let usage = io_mini::reactor_usage() == (0, 0);
    drop(socket);
    match (waited, parked, created, usage) {
        (true, true, true, true) => 0,
        (false, _, _, _) => 1,
        (_, false, _, _) => 2,
        (_, _, false, _) => 3,
        (_, _, _, false) => 4,
    }
}

#[test]
fn forked_child_gets_errors_not_hangs() -> io::Result<()> {
    let socket = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
    // SAFETY: the child only polls futures, reads atomics, creates a socket and exits with
    // `_exit` (no destructors of the parent's state, no return into the test harness).
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = child(socket);
        // SAFETY: ends the child at once, as a forked child of a threaded process should.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child; `status` lives for the call.
    let waited = unsafe { libc::waitpid(pid, &raw mut status, 0) };
    assert_eq!(waited, pid);
    assert!(libc::WIFEXITED(status), "the child did not exit normally");
    assert_eq!(libc::WEXITSTATUS(status), 0, "child check failed");
    // The parent's reactor is unaffected.
    let mut buf = [0; 1];
    socket
        .get_ref()
        .send_to(b"x", socket.get_ref().local_addr()?)?;
    futures_lite::future::block_on(socket.recv_from(&mut buf))?;
    Ok(())
}
