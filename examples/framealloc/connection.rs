//! One `TaskAlloc` per TCP connection: upstream framealloc's "TaskAlloc → Task-Scoped Allocations"
//! (`handle_connection`).
//!
//! A server on 127.0.0.1 (port 0) spawns `handle_connection` for each client, handing it a
//! `TaskAlloc` by value. The connection state is a pool box and the receive buffer a pool vector
//! (`task.alloc_vec`) that is filled, processed and cleared on every turn of the read loop, so
//! its block is reused: the program checks that the number of pool allocations of a connection
//! stays small and fixed however many chunks it reads, that each client gets a running total
//! back for every line it sent, that each connection state is dropped exactly once, and that
//! the pool tier gets every block back.
//!
//! Adaptations:
//! * The protocol is made up: a client sends decimal numbers, one per line, then closes its
//!   write half; the server answers every line with the running total, and the connection is
//!   closed when the client's half is (`receive_data` returns no bytes).
//! * `receive_data` reads into a pool box of the task (upstream framealloc's snippet had no stream), and
//!   `process_buffer` parses bytes as they come, so a line split between two reads is fine and
//!   the buffer can be cleared after each turn as in upstream framealloc.
//! * `handle_connection` returns its line count and total so the program can check them; the
//!   upstream's `buffer` is `let mut buffer` (it is extended and cleared).
//! * Upstream framealloc's commented-out `task.frame_alloc` stays impossible: `TaskAlloc` has no frame
//!   methods, and frame data is `!Send`, so it could not be held in this spawned task.

use std::sync::atomic::{AtomicUsize, Ordering};

use framealloc::task::TaskAlloc;
use framealloc::{PoolVec, SmartAlloc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CLIENTS: u64 = 4;
const LINES: u64 = 2000;
/// Bytes read per turn of the loop.
const CHUNK: usize = 256;

/// Connection states dropped so far.
static STATES_DROPPED: AtomicUsize = AtomicUsize::new(0);

/// Per-connection state, kept in the pool for the life of the connection.
struct ConnectionState {
    closed: bool,
    pending: u64,
    total: u64,
    lines: u64,
}

impl ConnectionState {
    fn new() -> Self {
        Self {
            closed: false,
            pending: 0,
            total: 0,
            lines: 0,
        }
    }

    fn is_closed(&self) -> bool {
        self.closed
    }
}

impl Drop for ConnectionState {
    fn drop(&mut self) {
        STATES_DROPPED.fetch_add(1, Ordering::SeqCst);
    }
}

/// Upstream framealloc's `receive_data`: the next chunk of bytes (empty when the peer closed).
async fn receive_data<'c>(
    stream: &mut TcpStream,
    chunk: &'c mut [u8; CHUNK],
) -> std::io::Result<&'c [u8]> {
    let n = stream.read(chunk).await?;
    Ok(&chunk[..n])
}

/// Upstream framealloc's `process_buffer`: parses the bytes and writes one reply per complete line.
async fn process_buffer(
    state: &mut ConnectionState,
    buffer: &[u8],
    replies: &mut PoolVec<'_, u8>,
    stream: &mut TcpStream,
) -> std::io::Result<()> {
    replies.clear();
    for &b in buffer {
        match b {
            b'0'..=b'9' => state.pending = state.pending * 10 + u64::from(b - b'0'),
            b'\n' => {
                state.total += std::mem::take(&mut state.pending);
                state.lines += 1;
                replies.extend_from_slice(state.total.to_string().as_bytes());
                replies.push(b'\n');
            }
            _ => {}
        }
    }
    stream.write_all(replies).await
}

/// Upstream framealloc's `handle_connection`: every allocation of the connection goes through `task`.
async fn handle_connection(task: TaskAlloc, mut stream: TcpStream) -> std::io::Result<(u64, u64)> {
    // Pool allocation for connection state.
    let mut state = task.alloc_box(ConnectionState::new());
    // Pool for temporary data.
    let mut buffer = task.alloc_vec::<u8>();
    let mut chunk = task.alloc_box([0u8; CHUNK]);
    let mut replies = task.alloc_vec::<u8>();
    let mut turns = 0;
    // Process connection.
    while !state.is_closed() {
        let data = receive_data(&mut stream, &mut chunk).await?;
        if data.is_empty() {
            state.closed = true;
        }
        buffer.extend_from_slice(data);
        process_buffer(&mut state, &buffer, &mut replies, &mut stream).await?;
        buffer.clear(); // keeps the block for the next turn
        turns += 1;
    }
    stream.shutdown().await?;
    // Four handles live; the vectors grew a few times at the start and then reused their blocks.
    assert_eq!(task.live_allocations(), 4);
    assert!(turns > 10, "the connection took many reads ({turns})");
    assert!(
        task.total_allocations() <= 16,
        "{} pool allocations for {turns} reads",
        task.total_allocations()
    );
    Ok((state.lines, state.total))
    // All allocations are freed when the function returns.
}

/// A client: sends `LINES` numbers and checks every running total it gets back.
async fn client(addr: std::net::SocketAddr, id: u64) -> std::io::Result<u64> {
    let stream = TcpStream::connect(addr).await?;
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        let mut out = Vec::new();
        for i in 0..LINES {
            out.extend_from_slice(format!("{}\n", id * 1000 + i).as_bytes());
        }
        wr.write_all(&out).await?;
        wr.shutdown().await
    });
    let mut answers = String::new();
    rd.read_to_string(&mut answers).await?;
    writer.await.expect("writer task")?;
    let mut total = 0;
    let mut count = 0;
    for (i, line) in answers.lines().enumerate() {
        total += id * 1000 + i as u64;
        assert_eq!(line.parse::<u64>().expect("a number"), total);
        count += 1;
    }
    assert_eq!(count, LINES);
    Ok(total)
}

fn main() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()?;
    let alloc = SmartAlloc::new(Default::default());

    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server_alloc = alloc.clone();
        let server = tokio::spawn(async move {
            let mut handlers = Vec::new();
            for _ in 0..CLIENTS {
                let (stream, _) = listener.accept().await?;
                let task = TaskAlloc::new(&server_alloc);
                handlers.push(tokio::spawn(handle_connection(task, stream)));
            }
            let mut results = Vec::new();
            for h in handlers {
                results.push(h.await.expect("connection task")?);
            }
            Ok::<_, std::io::Error>(results)
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| tokio::spawn(client(addr, id)))
            .collect();
        let mut client_totals = Vec::new();
        for c in clients {
            client_totals.push(c.await.expect("client task")?);
        }
        let mut results = server.await.expect("server task")?;
        results.sort_unstable();
        client_totals.sort_unstable();
        assert!(results.iter().all(|&(lines, _)| lines == LINES));
        let server_totals: Vec<u64> = results.iter().map(|&(_, total)| total).collect();
        assert_eq!(server_totals, client_totals);
        println!("{CLIENTS} connections, {LINES} lines each, totals {server_totals:?}");
        Ok::<_, std::io::Error>(())
    })?;

    assert_eq!(STATES_DROPPED.load(Ordering::SeqCst), CLIENTS as usize);
    let st = alloc.stats();
    assert_eq!(
        st.pool.live_count(),
        0,
        "every connection's blocks went back"
    );
    println!(
        "pool: {} allocations for {CLIENTS} connections, all freed",
        st.pool.allocations
    );
    Ok(())
}
