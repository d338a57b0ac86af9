//! User code that panics where io-mini calls it (own test binary: it installs a logger that can
//! panic, and the tests take turns through `SERIAL` because they watch the one reactor thread
//! and its usage counts): a waker whose panic payload panics again when dropped, a logger that
//! panics, a waker whose `drop` or `clone` panics. The reactor thread must survive, and every
//! structure must stay usable: no waiter place lost, no wake-up of the reactor skipped.
#![cfg(not(loom))]

mod common;

use std::future::Future;
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use futures_io::AsyncRead;
use io_mini::Async;
use sync_core::testing::WakeCounter;

use common::{echo, reactor_tid, wait_until};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Panics on every record while `LOGGER_PANICS` is set.
struct PanickingLogger;

static LOGGER_PANICS: AtomicBool = AtomicBool::new(false);

impl log::Log for PanickingLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        if LOGGER_PANICS.load(SeqCst) {
            panic!("this logger panics (on purpose): {}", record.args());
        }
    }

    fn flush(&self) {}
}

fn install_logger() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_logger(&PanickingLogger).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// A panic payload whose `Drop` panics.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("the payload's drop panics (on purpose)");
    }
}

/// `wake` records the call, then panics with a `Bomb`.
#[derive(Default)]
struct BombWaker(AtomicBool);

impl Wake for BombWaker {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
        std::panic::panic_any(Bomb);
    }
}

/// `wake` records the call, then panics with a plain message.
#[derive(Default)]
struct PanicWaker(AtomicBool);

impl Wake for PanicWaker {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
        panic!("this waker panics (on purpose)");
    }
}

/// The last reference's `drop` panics.
struct DropPanics;

impl Wake for DropPanics {
    fn wake(self: Arc<Self>) {}
}

impl Drop for DropPanics {
    fn drop(&mut self) {
        panic!("this waker's drop panics (on purpose)");
    }
}

fn udp() -> io::Result<Async<UdpSocket>> {
    Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))
}

/// Lets the reactor wake `waker` (which sets `woken`) for a readable socket, then checks that
/// the same reactor thread still serves new waits.
fn reactor_survives_waking(waker: &Waker, woken: &AtomicBool) -> io::Result<()> {
    let socket = udp()?;
    echo(&socket)?;
    let tid = reactor_tid();
    {
        let mut readable = pin!(socket.readable());
        assert!(
            readable
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
        socket
            .get_ref()
            .send_to(b"boom", socket.get_ref().local_addr()?)?;
        wait_until("the reactor wakes the waiter", || woken.load(SeqCst));
    }
    echo(&udp()?)?;
    assert_eq!(reactor_tid(), tid, "the same reactor thread serves on");
    Ok(())
}

#[test]
fn a_panic_payload_that_panics_on_drop_does_not_stop_the_reactor() -> io::Result<()> {
    let _serial = serial();
    install_logger();
    let waker = Arc::new(BombWaker::default());
    reactor_survives_waking(&Waker::from(waker.clone()), &waker.0)
}

#[test]
fn a_panicking_logger_does_not_stop_the_reactor() -> io::Result<()> {
    let _serial = serial();
    install_logger();
    LOGGER_PANICS.store(true, SeqCst);
    // The reactor logs the panicking waker; the logger panics in turn.
    let waker = Arc::new(PanicWaker::default());
    let result = reactor_survives_waking(&Waker::from(waker.clone()), &waker.0);
    LOGGER_PANICS.store(false, SeqCst);
    result
}

#[test]
fn a_waker_whose_drop_panics_does_not_keep_a_dropped_socket_open() -> io::Result<()> {
    let _serial = serial();
    install_logger();
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let mut client = TcpStream::connect(listener.local_addr()?)?;
    let server = Async::new(listener.accept()?.0)?;
    {
        let waker = Waker::from(Arc::new(DropPanics));
        assert!(
            server
                .poll_readable(&mut Context::from_waker(&waker))
                .is_pending()
        );
        // The parked place now holds the only reference.
        drop(waker);
    }
    // Let the reactor block in `poll(2)` on the socket.
    std::thread::sleep(Duration::from_millis(50));
    let dropped = catch_unwind(AssertUnwindSafe(|| drop(server)));
    assert!(dropped.is_err(), "the waker's drop panicked through `drop`");
    // The socket is closed; the reactor must have been told to stop watching it, or its
    // sleeping `poll(2)` keeps the connection open and the client never sees the end.
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = [0; 1];
    assert_eq!(client.read(&mut buf)?, 0, "the client sees the close");
    Ok(())
}

#[test]
fn a_waker_whose_clone_panics_does_not_lose_the_parked_place() -> io::Result<()> {
    let _serial = serial();
    install_logger();
    let (mut a, b) = Async::<std::os::unix::net::UnixStream>::pair()?;
    let before = io_mini::reactor_usage().1;
    let counter = WakeCounter::new();
    let mut buf = [0; 4];
    // The first read parks a place; the second one (no data yet: it re-arms the place) panics
    // cloning its waker.
    let waker = counter.waker();
    assert!(
        Pin::new(&mut a)
            .poll_read(&mut Context::from_waker(&waker), &mut buf)
            .is_pending()
    );
    assert_eq!(io_mini::reactor_usage().1, before + 1);
    let bad = counter.panicking_clone();
    let polled = catch_unwind(AssertUnwindSafe(|| {
        Pin::new(&mut a).poll_read(&mut Context::from_waker(&bad), &mut buf)
    }));
    assert!(polled.is_err(), "the clone panicked");
    // The place is still the `Async`'s: dropping it frees the place.
    drop(a);
    drop(b);
    assert_eq!(io_mini::reactor_usage().1, before, "no waiter place lost");
    Ok(())
}
