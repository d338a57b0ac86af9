//! Starting the reactor (own test binary: it exhausts the process's file descriptors before
//! the reactor exists, and counts the reactor threads). A start that fails for want of a
//! descriptor is retried by the next call instead of failing every later call, and threads
//! racing to start it start one reactor.
#![cfg(not(loom))]

mod common;

use std::io;
use std::net::UdpSocket;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Barrier;
use std::time::Duration;

use io_mini::Async;

use common::{echo, nofile, reactor_threads, set_nofile, wait_until};

/// How many threads named `io-mini` this process has.
/// Takes every free descriptor (below a soft limit lowered to 256 to keep this cheap).
fn exhaust_fds(of: &UdpSocket) -> Vec<OwnedFd> {
    let mut fillers = Vec::new();
    loop {
        match of.as_fd().try_clone_to_owned() {
            Ok(fd) => fillers.push(fd),
            Err(err) if err.raw_os_error() == Some(libc::EMFILE) => return fillers,
            Err(err) => panic!("dup failed: {err}"),
        }
    }
}

#[test]
fn a_failed_start_is_retried_and_starts_one_reactor() -> io::Result<()> {
    let socket = UdpSocket::bind(("127.0.0.1", 0))?;
    let limit = nofile();
    set_nofile(libc::rlimit {
        rlim_cur: limit.rlim_cur.min(256),
        ..limit
    });
    let fillers = exhaust_fds(&socket);
    // The reactor cannot create its eventfd: the first registration fails...
    let err = Async::new(&socket).unwrap_err();
    assert!(err.to_string().contains("eventfd"), "{err}");
    drop(fillers);
    set_nofile(limit);
    assert_eq!(reactor_threads(), 0);

    // ...and once descriptors are free again, the next ones start it, exactly once even when
    // several threads race to.
    let sockets: Vec<UdpSocket> = (0..8)
        .map(|_| UdpSocket::bind(("127.0.0.1", 0)))
        .collect::<io::Result<_>>()?;
    let barrier = Barrier::new(sockets.len());
    let registered: Vec<Async<UdpSocket>> = std::thread::scope(|scope| {
        let handles: Vec<_> = sockets
            .into_iter()
            .map(|socket| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    Async::new(socket)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect::<io::Result<_>>()
    })?;
    wait_until("the reactor thread names itself", || reactor_threads() >= 1);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(reactor_threads(), 1, "one reactor thread");
    for socket in &registered {
        echo(socket)?;
    }
    echo(&Async::new(socket)?)
}
