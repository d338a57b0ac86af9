//! The fast path (own test binary, so no other test wakes the reactor meanwhile): reading data
//! that is already queued makes the reactor thread do nothing — no eventfd write, no wake-up,
//! no context switch of the `io-mini` thread — and writes into a socket with buffer room too.
#![cfg(not(loom))]

mod common;

use std::io;
use std::os::unix::net::UnixDatagram;

use futures_lite::future::block_on;
use io_mini::Async;

use common::{context_switches, reactor_tid, wait_until};

#[test]
fn ready_data_costs_the_reactor_nothing() -> io::Result<()> {
    // A Unix datagram pair: `send` queues the datagram on the peer synchronously (loopback
    // UDP may defer delivery to a softirq thread, which would make this test flaky).
    let (a, b) = Async::<UnixDatagram>::pair()?;
    // One pending receive so the reactor has certainly started and gone back to sleep.
    let mut buf = [0; 8];
    std::thread::scope(|s| {
        s.spawn(|| {
            wait_until("the receiver waits", || io_mini::reactor_usage().1 == 1);
            a.get_ref().send(b"warm").unwrap();
        });
        block_on(b.recv(&mut buf))
    })?;
    let tid = reactor_tid().expect("the io-mini thread runs");
    wait_until("the reactor is idle", || {
        std::fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
            .is_ok_and(|stat| stat.split_whitespace().nth(2) == Some("S"))
    });
    let before = context_switches(tid);
    for i in 0..1000u32 {
        block_on(a.send(&i.to_le_bytes()))?;
        let n = block_on(b.recv(&mut buf))?;
        assert_eq!(&buf[..n], &i.to_le_bytes());
    }
    assert_eq!(
        context_switches(tid),
        before,
        "the reactor thread ran during 1000 ready sends and receives"
    );
    assert_eq!(io_mini::reactor_usage().1, 0, "no waiter place was taken");
    Ok(())
}
