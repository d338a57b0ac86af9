//! Signals delivered to the reactor thread (own test binary: it installs a signal handler)
//! interrupt its `poll(2)` with `EINTR`; the reactor retries and keeps dispatching.
#![cfg(not(loom))]

mod common;

use std::io;
use std::net::UdpSocket;

use futures_lite::future::{self, block_on};
use io_mini::Async;

use common::reactor_tid;

extern "C" fn on_signal(_: libc::c_int) {}

#[test]
fn signals_to_the_reactor_thread_are_survived() -> io::Result<()> {
    // A handler without SA_RESTART, so poll(2) fails with EINTR.
    // SAFETY: an all-zero sigaction is valid (empty mask, no flags).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: installs a handler that does nothing (async-signal-safe); `action` outlives the call.
    let ret = unsafe { libc::sigaction(libc::SIGUSR1, &raw const action, std::ptr::null_mut()) };
    assert_eq!(ret, 0);

    let a = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
    let b = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
    let b_addr = b.get_ref().local_addr()?;
    let tid = reactor_tid().expect("the io-mini thread runs");
    let pid = libc::pid_t::try_from(std::process::id()).unwrap();
    for round in 0..20u8 {
        let mut buf = [0; 4];
        let (n, ()) = block_on(future::zip(b.recv(&mut buf), async {
            // Interrupt the reactor while the receive waits in it, then send.
            for _ in 0..5 {
                // SAFETY: tgkill with our pid, a live tid of ours and a handled signal.
                let ret = unsafe { libc::syscall(libc::SYS_tgkill, pid, tid, libc::SIGUSR1) };
                assert_eq!(ret, 0);
                future::yield_now().await;
            }
            a.get_ref().send_to(&[round], b_addr).unwrap();
        }));
        assert_eq!(&buf[..n?], &[round]);
    }
    assert_eq!(
        reactor_tid(),
        Some(tid),
        "the reactor thread is still the same"
    );
    Ok(())
}
