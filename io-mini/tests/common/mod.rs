//! Helpers shared by the io-mini integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::io;
use std::net::UdpSocket;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_lite::future::{self, block_on};
use io_mini::Async;

/// Polls every future until all are done (single task); returns their outputs in order.
pub(crate) async fn join_all<T>(futures: Vec<Pin<Box<dyn Future<Output = T> + '_>>>) -> Vec<T> {
    let mut futures: Vec<_> = futures.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx: &mut Context<'_>| {
        let mut pending = false;
        for (slot, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if let Some(fut) = slot {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(outputs.iter_mut().map(|o| o.take().unwrap()).collect())
        }
    })
    .await
}

/// Waits (sleeping) until `cond` holds; panics after 20 s so a lost wake-up fails instead of
/// hanging. This is a liveness bound, not a timing assertion.
pub(crate) fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "gave up waiting for: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A deterministic payload of `len` bytes, different per `seed`.
pub(crate) fn payload(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The tid of the thread named `io-mini` (waiting for it to have named itself).
pub(crate) fn reactor_tid() -> Option<i32> {
    let mut tid = None;
    wait_until("the io-mini thread runs", || {
        tid = find_reactor_tid();
        tid.is_some()
    });
    tid
}

fn find_reactor_tid() -> Option<i32> {
    for entry in std::fs::read_dir("/proc/self/task").ok()? {
        let entry = entry.ok()?;
        let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
        if comm.trim_end() == "io-mini" {
            return entry.file_name().to_str()?.parse().ok();
        }
    }
    None
}

/// Voluntary + involuntary context switches of thread `tid`.
pub(crate) fn context_switches(tid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).unwrap();
    status
        .lines()
        .filter(|l| l.contains("ctxt_switches"))
        .map(|l| l.split_whitespace().last().unwrap().parse::<u64>().unwrap())
        .sum()
}

/// The soft limit on open files.
pub(crate) fn nofile_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into `limit`, which lives for the call.
    let ret = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) };
    assert_eq!(ret, 0);
    limit.rlim_cur
}

/// The number of io-mini reactor threads of this process (their name is `io-mini`).
pub(crate) fn reactor_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim_end() == "io-mini")
        })
        .count()
}

/// Sets this process's `RLIMIT_NOFILE`.
pub(crate) fn set_nofile(limit: libc::rlimit) {
    // SAFETY: reads `limit`, which lives for the call.
    let ret = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit) };
    assert_eq!(ret, 0, "setrlimit: {}", io::Error::last_os_error());
}

/// This process's `RLIMIT_NOFILE`.
pub(crate) fn nofile() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: writes into `limit`, which lives for the call.
    let ret = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) };
    assert_eq!(ret, 0);
    limit
}

/// One datagram received through the reactor: proves that it serves waits.
pub(crate) fn echo(socket: &Async<UdpSocket>) -> io::Result<()> {
    let addr = socket.get_ref().local_addr()?;
    let mut buf = [0; 8];
    let (got, ()) = block_on(future::zip(socket.recv_from(&mut buf), async {
        future::yield_now().await;
        UdpSocket::bind(("127.0.0.1", 0))
            .and_then(|s| s.send_to(b"hi", addr))
            .unwrap();
    }));
    assert_eq!(&buf[..got?.0], b"hi");
    Ok(())
}
