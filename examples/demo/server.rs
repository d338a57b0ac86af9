//! The echo/telemetry server: an io-mini listener whose connections each hold a request buffer
//! from a small `pool!`, build replies in task-scoped pool memory (framealloc's `TaskAlloc`)
//! and report every request to the main thread's telemetry channel.
//!
//! # Protocol
//!
//! A request is a frame `[len][payload; len]` with `1 <= len <= MAX_PAYLOAD`; the reply is the
//! same frame. A connection ends cleanly when the peer closes between frames. Any other input
//! ends the connection, never the server:
//!
//! * a length byte of 0 or above `MAX_PAYLOAD` is **rejected** (the connection is closed);
//! * end of stream inside a frame is a **cut-off** request (counted, nothing echoed).
//!
//! # Backpressure
//!
//! Each connection task first takes a [`RequestBuf`] from [`BufPool`] (`BUFFERS` slots). When
//! none is free it counts a wait and parks in `Box::new_async` — a waiter place in the pool's
//! FIFO queue, no polling — until a finishing connection drops its buffer, which hands the
//! slot straight to the oldest waiter. Whatever way a connection ends (clean, rejected, cut
//! off, I/O error), its buffer is a local that drops with the task, so the pool is back to full
//! once every connection task has finished.
//!
//! # Shutdown
//!
//! The accept loop races `accept()` against the shutdown hatch; once the main thread sends on
//! it, the server stops accepting, awaits every connection task and returns a [`ServerReport`].

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use framealloc::SmartAlloc;
use framealloc::task::TaskAlloc;
use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use io_mini::Async;
use pool::{Box, pool};

use crate::executor::Spawner;

/// Largest payload of one request (the size of a [`RequestBuf`]).
pub(crate) const MAX_PAYLOAD: usize = 64;
/// Request buffers in the pool: fewer than connections, so some connections must wait.
pub(crate) const BUFFERS: usize = 4;
/// Connections that may wait for a buffer at once (waiter places of the pool).
pub(crate) const WAITER_PLACES: usize = 8;

/// One request's payload.
#[derive(Debug)]
pub(crate) struct RequestBuf([u8; MAX_PAYLOAD]);

pool!(
    /// The request buffers: `BUFFERS` slots in a `static`, `WAITER_PLACES` waiter places.
    pub(crate) BufPool: [RequestBuf; BUFFERS], WAITER_PLACES
);

/// Counters shared with the progress view (relaxed: they are only displayed and summed).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Requests echoed.
    pub(crate) served: AtomicUsize,
    /// Connections accepted.
    pub(crate) accepted: AtomicUsize,
    /// Connections that found no free buffer and waited in `Box::new_async`.
    pub(crate) waited: AtomicUsize,
}

/// The live counters.
pub(crate) static COUNTERS: Counters = Counters {
    served: AtomicUsize::new(0),
    accepted: AtomicUsize::new(0),
    waited: AtomicUsize::new(0),
};

/// One served request, sent to the main thread's tick loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sample {
    /// Accept order of the connection.
    pub(crate) conn: usize,
    /// Payload length.
    pub(crate) len: u8,
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The peer closed between frames.
    Clean,
    /// An invalid length byte.
    Rejected(u8),
    /// End of stream inside a frame.
    CutOff,
    /// Another I/O error (for example a reset).
    Failed(io::ErrorKind),
}

/// What one connection did.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnReport {
    /// Requests echoed on this connection.
    pub(crate) served: usize,
    /// Whether it had to wait for a buffer.
    pub(crate) waited: bool,
    /// How it ended.
    pub(crate) ending: Ending,
    /// Pool blocks its `TaskAlloc` allocated (all given back when the task ended).
    pub(crate) task_allocations: usize,
}

/// What the server did, returned after shutdown.
#[derive(Debug, Default)]
pub(crate) struct ServerReport {
    /// One report per accepted connection, in accept order.
    pub(crate) connections: Vec<ConnReport>,
    /// Failed `accept` calls.
    pub(crate) accept_errors: usize,
}

/// Everything a connection task needs besides its stream.
#[derive(Clone)]
pub(crate) struct Shared {
    /// Where connection tasks are spawned.
    pub(crate) spawner: Spawner,
    /// The allocator whose pool tier the tasks use (its frame tier belongs to the main thread).
    pub(crate) alloc: SmartAlloc,
    /// Per-request samples for the main thread.
    pub(crate) telemetry: flume::Sender<Sample>,
}

/// The accept loop: serves connections until `shutdown` fires, then waits for them all.
pub(crate) async fn run(
    listener: Async<TcpListener>,
    shared: Shared,
    mut shutdown: hatch::Receiver<'static, ()>,
) -> ServerReport {
    let mut report = ServerReport::default();
    let mut tasks = Vec::new();
    loop {
        let accept = async { Some(listener.accept().await) };
        // `Err(Closed)` (the main thread gone) also stops the server.
        let stop = async {
            let _ = shutdown.receive().await;
            None
        };
        match future::or(accept, stop).await {
            Some(Ok((stream, _peer))) => {
                let conn = COUNTERS.accepted.fetch_add(1, Relaxed);
                tasks.push(shared.spawner.spawn(serve(conn, stream, shared.clone())));
            }
            Some(Err(_)) => report.accept_errors += 1,
            None => break,
        }
    }
    drop(listener);
    for task in tasks {
        report.connections.push(task.await);
    }
    report
}

/// Serves one connection: takes a buffer (waiting if need be), then echoes frames.
async fn serve(conn: usize, stream: Async<TcpStream>, shared: Shared) -> ConnReport {
    // Backpressure: try without waiting first, only to count the connections that had to wait.
    let (mut buf, waited) = match Box::<BufPool>::try_new(RequestBuf([0; MAX_PAYLOAD])) {
        Ok(buf) => (buf, false),
        Err(value) => {
            COUNTERS.waited.fetch_add(1, Relaxed);
            let buf = Box::<BufPool>::new_async(value)
                .await
                .expect("fewer connections than waiter places");
            (buf, true)
        }
    };
    // The reply frame is assembled in task-scoped pool memory, reused for every request.
    let task = TaskAlloc::new(&shared.alloc);
    let mut reply = task.alloc_vec_with_capacity::<u8>(1 + MAX_PAYLOAD);
    let mut served = 0;
    let ending = loop {
        match echo_one(&stream, &mut buf.0, &mut reply).await {
            Ok(Some(len)) => {
                served += 1;
                COUNTERS.served.fetch_add(1, Relaxed);
                // The main thread may already be gone at the very end; samples are best-effort.
                let _ = shared.telemetry.send(Sample { conn, len });
            }
            Ok(None) => break Ending::Clean,
            Err(Bad::Length(len)) => break Ending::Rejected(len),
            Err(Bad::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break Ending::CutOff,
            Err(Bad::Io(e)) => break Ending::Failed(e.kind()),
        }
    };
    drop(reply);
    ConnReport {
        served,
        waited,
        ending,
        task_allocations: task.total_allocations(),
    }
    // `stream`, then `buf`, drop here: the peer sees the close, the slot goes to the next waiter.
}

/// Why a request was not echoed.
enum Bad {
    /// Invalid length byte.
    Length(u8),
    /// Read or write failed (`UnexpectedEof`: the stream ended inside a frame).
    Io(io::Error),
}

impl From<io::Error> for Bad {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Reads one frame into `buf` and echoes it; `Ok(None)` at a clean end of stream.
async fn echo_one(
    mut stream: &Async<TcpStream>,
    buf: &mut [u8; MAX_PAYLOAD],
    reply: &mut framealloc::PoolVec<'_, u8>,
) -> Result<Option<u8>, Bad> {
    let mut len = [0u8; 1];
    if stream.read(&mut len).await? == 0 {
        return Ok(None);
    }
    let n = usize::from(len[0]);
    if n == 0 || n > MAX_PAYLOAD {
        return Err(Bad::Length(len[0]));
    }
    stream.read_exact(&mut buf[..n]).await?;
    reply.clear();
    reply.push(len[0]);
    reply.extend_from_slice(&buf[..n]);
    stream.write_all(reply).await?;
    Ok(Some(len[0]))
}
