//! io-mini: loopback TCP echo, 1 and 16 connections, per round trip (64-byte messages), vs
//! async-io. The echo server is the same for both: one plain blocking thread per connection, so
//! the difference is the client side's `Async<TcpStream>` and reactor.

use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

use futures_lite::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Case, Impl};

const MESSAGE: usize = 64;

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            group: "io-mini",
            name: "TCP echo round trip, 1 connection",
            iters: 20_000,
            threads: true,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: |n| echo::<Ours>(n, 1),
                },
                Impl {
                    name: "async-io",
                    run: |n| echo::<Peer>(n, 1),
                },
            ],
        },
        Case {
            group: "io-mini",
            name: "TCP echo round trip, 16 connections",
            iters: 32_000,
            threads: true,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: |n| echo::<Ours>(n, 16),
                },
                Impl {
                    name: "async-io",
                    run: |n| echo::<Peer>(n, 16),
                },
            ],
        },
    ]
}

/// Connects an async stream of one implementation.
trait Client {
    type Stream: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin + 'static;
    fn connect(addr: std::net::SocketAddr) -> Self::Stream;
}

struct Ours;
impl Client for Ours {
    type Stream = io_mini::Async<TcpStream>;
    fn connect(addr: std::net::SocketAddr) -> Self::Stream {
        futures_lite::future::block_on(io_mini::Async::<TcpStream>::connect(addr)).expect("connect")
    }
}

struct Peer;
impl Client for Peer {
    type Stream = async_io::Async<TcpStream>;
    fn connect(addr: std::net::SocketAddr) -> Self::Stream {
        futures_lite::future::block_on(async_io::Async::<TcpStream>::connect(addr))
            .expect("connect")
    }
}

/// `iters` round trips spread over `connections` concurrent connections; returns the number of
/// round trips whose echo matched.
fn echo<C: Client>(iters: u64, connections: usize) -> u64 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    let server = thread::spawn(move || {
        let handlers: Vec<_> = (0..connections)
            .map(|_| {
                let (mut stream, _) = listener.accept().expect("accept");
                thread::spawn(move || {
                    let mut buf = [0u8; MESSAGE];
                    while stream.read_exact(&mut buf).is_ok() {
                        if stream.write_all(&buf).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        for h in handlers {
            h.join().expect("echo thread");
        }
    });
    let per = iters / connections as u64;
    let clients: Vec<Pin<Box<dyn Future<Output = u64>>>> = (0..connections)
        .map(|c| {
            let mut stream = C::connect(addr);
            Box::pin(async move {
                let mut ok = 0;
                let mut out = [0u8; MESSAGE];
                let mut back = [0u8; MESSAGE];
                for i in 0..per {
                    out[..8].copy_from_slice(&i.to_le_bytes());
                    out[8] = c as u8;
                    if stream.write_all(&out).await.is_err()
                        || stream.read_exact(&mut back).await.is_err()
                    {
                        break;
                    }
                    ok += u64::from(back == out);
                }
                ok
            }) as Pin<Box<dyn Future<Output = u64>>>
        })
        .collect();
    let total = futures_lite::future::block_on(JoinAll {
        futures: clients.into_iter().map(Some).collect(),
        sum: 0,
    });
    server.join().expect("server");
    // Iterations that did not divide evenly count as done: they were never attempted.
    total + (iters - per * connections as u64)
}

/// Polls every future until all are done; sums their outputs.
struct JoinAll {
    futures: Vec<Option<Pin<Box<dyn Future<Output = u64>>>>>,
    sum: u64,
}

impl Future for JoinAll {
    type Output = u64;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let this = &mut *self;
        for slot in &mut this.futures {
            if let Some(f) = slot
                && let Poll::Ready(n) = f.as_mut().poll(cx)
            {
                this.sum += n;
                *slot = None;
            }
        }
        if this.futures.iter().all(Option::is_none) {
            Poll::Ready(this.sum)
        } else {
            Poll::Pending
        }
    }
}
