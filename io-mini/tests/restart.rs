//! A reactor thread that stopped is started again by the next operation (own test binary: with
//! the `poll(2)` backend it makes the reactor's `poll` fail by lowering the process's
//! descriptor limit below the number of fds it watches, which `poll` refuses with `EINVAL`).
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::io;
use std::net::UdpSocket;
use std::pin::pin;
use std::task::{Context, Poll};

use io_mini::Async;
use sync_core::testing::WakeCounter;

use common::{echo, nofile, reactor_threads, set_nofile, wait_until};

#[test]
fn a_stopped_reactor_is_restarted_by_the_next_operation() -> io::Result<()> {
    let socket = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
    echo(&socket)?;
    let first = common::reactor_tid();

    // With a descriptor limit of 1, the reactor's next `poll(2)` (its eventfd plus this
    // socket) fails with EINVAL and the thread ends: the pending wait fails, it does not hang.
    // With `poll(2)`, a descriptor limit below the number of fds watched makes the wait fail
    // (`EINVAL`), a real failure; `epoll_wait` has no such failure, so the thread is asked to
    // end the same way.
    let limit = nofile();
    if io_mini::BACKEND == "poll" {
        set_nofile(libc::rlimit {
            rlim_cur: 1,
            ..limit
        });
    }
    let counter = WakeCounter::new();
    let waker = counter.waker();
    {
        let mut readable = pin!(socket.readable());
        assert!(
            readable
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        if io_mini::BACKEND == "epoll" {
            io_mini::stop_reactor_thread();
        }
        wait_until("the waiter is failed", || counter.wakes() == 1);
        assert!(matches!(
            readable.as_mut().poll(&mut Context::from_waker(&waker)),
            Poll::Ready(Err(_))
        ));
    }
    set_nofile(limit);

    // The next operation (here already the poll that saw the failure) starts a new reactor
    // thread; existing handles work again, and there is one reactor thread, a new one.
    echo(&socket)?;
    echo(&Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?)?;
    wait_until("the old reactor thread is gone", || reactor_threads() == 1);
    assert_ne!(common::reactor_tid(), first);
    Ok(())
}
