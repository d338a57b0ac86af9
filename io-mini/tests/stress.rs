//! Stress (own test binary, it checks the global usage counts): threads create sockets, wait,
//! complete or cancel waits at random points and drop everything; afterwards the reactor holds
//! no source and no waiter place, and every datagram reached its reader.
#![cfg(not(loom))]

use std::future::Future;
use std::io;
use std::net::UdpSocket;
use std::pin::pin;
use std::task::Context;

use futures_lite::future::block_on;
use io_mini::Async;
use sync_core::testing::WakeCounter;

const THREADS: u32 = 4;
const ROUNDS: u32 = 200;

fn round(seed: u32) -> io::Result<()> {
    let a = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
    let b = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
    a.get_ref().connect(b.get_ref().local_addr()?)?;
    b.get_ref().connect(a.get_ref().local_addr()?)?;
    let counter = WakeCounter::new();
    let waker = counter.waker();
    let mut cx = Context::from_waker(&waker);
    // A wait that is abandoned after one poll.
    {
        let mut abandoned = pin!(b.readable());
        let _ = abandoned.as_mut().poll(&mut cx);
    }
    // A parked poll_readable left behind when the socket is dropped, on odd seeds.
    if seed % 2 == 1 {
        let _ = b.poll_readable(&mut cx);
    }
    let message = seed.to_le_bytes();
    let sender = std::thread::spawn({
        let a = a.get_ref().try_clone()?;
        move || a.send(&message)
    });
    let mut buf = [0; 4];
    let n = block_on(b.recv(&mut buf))?;
    assert_eq!(&buf[..n], &message);
    sender.join().unwrap()?;
    Ok(())
}

#[test]
fn random_waits_and_cancellations_leave_nothing_behind() -> io::Result<()> {
    let threads: Vec<_> = (0..THREADS)
        .map(|t| std::thread::spawn(move || (0..ROUNDS).try_for_each(|r| round(t * ROUNDS + r))))
        .collect();
    for thread in threads {
        thread.join().unwrap()?;
    }
    assert_eq!(io_mini::reactor_usage(), (0, 0));
    Ok(())
}
