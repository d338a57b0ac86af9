//! io-mini has no `Timer`: use `embassy-time`'s. A UDP receive with nothing to receive times
//! out; once a datagram is on its way, the same receive under the same timeout succeeds.
use std::net::UdpSocket;

use embassy_time::{Duration, Timer, with_timeout};
use futures_lite::future;
use io_mini::Async;

fn main() -> std::io::Result<()> {
    future::block_on(async {
        let a = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
        let b = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
        let b_addr = b.get_ref().local_addr()?;
        let mut buf = [0; 64];

        // Nobody sends: the receive is cancelled by the timeout (its waiter place is freed).
        let silent = with_timeout(Duration::from_millis(100), b.recv_from(&mut buf)).await;
        assert!(silent.is_err(), "nothing was sent, yet something arrived");
        println!("no datagram within 100 ms: timed out");

        // A sender that waits a little before sending; the receive waits for it.
        let send = async {
            Timer::after(Duration::from_millis(20)).await;
            a.send_to(b"ping", b_addr).await
        };
        let recv = with_timeout(Duration::from_secs(10), b.recv_from(&mut buf));
        let (received, sent) = future::zip(recv, send).await;
        let (n, from) = received.expect("the datagram arrives before the timeout")?;
        sent?;
        assert_eq!(&buf[..n], b"ping");
        assert_eq!(from, a.get_ref().local_addr()?);
        println!(
            "received {:?} from {from}",
            std::str::from_utf8(&buf[..n]).unwrap()
        );
        Ok(())
    })
}
