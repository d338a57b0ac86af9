//! An application that owns its allocator and its tokio runtime: upstream framealloc's "Integration with
//! Tokio → Tokio Runtime Integration" (`AsyncApplication`) and "Tokio Feature" (this package
//! depends on `framealloc` with `features = ["task"]`, see `examples/Cargo.toml`).
//!
//! `run` blocks on `main_loop`, which alternates `process_network` (one spawned task per peer,
//! each with a `TaskAlloc`, talking to an echo server on 127.0.0.1, port 0, whose connections
//! also use a `TaskAlloc`) and `update_database` (an `AsyncPoolGuard` around a batch of rows),
//! then yields. The program checks every echo, the database contents, and that the pool tier
//! has nothing live after the loop and after the runtime (and the echo server it still runs)
//! is dropped.
//!
//! Adaptations:
//! * Upstream framealloc's `main_loop` never ends; here it stops after `ROUNDS` rounds so the program
//!   exits by itself.
//! * Upstream framealloc leaves `process_network` and `update_database` out; here they are a loopback echo
//!   round trip and an insert into an in-memory table.
//! * `AsyncApplication::new` also starts the echo server on the runtime (upstream framealloc's application
//!   had no peer), and the runtime is built with two workers and IO enabled rather than by
//!   `Runtime::new()` (which takes one worker per core).

use std::net::SocketAddr;
use std::sync::Mutex;

use framealloc::SmartAlloc;
use framealloc::task::{AsyncPoolGuard, TaskAlloc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

const ROUNDS: u64 = 20;
const PEERS: u64 = 3;

/// One echo connection: read a whole message into a task-scoped buffer, send it back.
async fn echo(alloc: SmartAlloc, mut stream: TcpStream) -> std::io::Result<()> {
    let task = TaskAlloc::new(&alloc);
    let mut message = task.alloc_vec::<u8>();
    let mut chunk = task.alloc_box([0u8; 64]);
    loop {
        let n = stream.read(&mut chunk[..]).await?;
        if n == 0 {
            break;
        }
        message.extend_from_slice(&chunk[..n]);
    }
    stream.write_all(&message).await?;
    stream.shutdown().await
}

/// A peer's exchange with the echo server, in a spawned task with its own `TaskAlloc`.
async fn exchange(alloc: SmartAlloc, addr: SocketAddr, round: u64, peer: u64) -> u64 {
    let task = TaskAlloc::new(&alloc);
    let mut request = task.alloc_vec::<u8>();
    request.extend_from_slice(format!("round {round} peer {peer}").as_bytes());
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(&request).await.expect("write");
    stream.shutdown().await.expect("shutdown");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.expect("read");
    assert_eq!(&reply[..], &request[..], "echoed");
    assert_eq!(task.live_allocations(), 1);
    round * 10 + peer
}

/// Upstream framealloc's `AsyncApplication`.
struct AsyncApplication {
    alloc: SmartAlloc,
    runtime: Runtime,
    echo_addr: SocketAddr,
    database: Mutex<Vec<u64>>,
}

impl AsyncApplication {
    fn new() -> Self {
        let alloc = SmartAlloc::new(Default::default());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_io()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let echo_addr = listener.local_addr().expect("address");
        let server_alloc = alloc.clone();
        // Runs until the runtime is dropped.
        runtime.spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                tokio::spawn(echo(server_alloc.clone(), stream));
            }
        });
        Self {
            alloc,
            runtime,
            echo_addr,
            database: Mutex::new(Vec::new()),
        }
    }

    fn run(&mut self) {
        self.runtime.block_on(async {
            self.main_loop().await;
        });
    }

    async fn main_loop(&self) {
        for round in 0..ROUNDS {
            // Async operations.
            let events = self.process_network(round).await;
            self.update_database(&events).await;
            // Yield to other tasks.
            tokio::task::yield_now().await;
        }
    }

    /// One task per peer, each with its own `TaskAlloc`.
    async fn process_network(&self, round: u64) -> Vec<u64> {
        let handles: Vec<_> = (0..PEERS)
            .map(|peer| tokio::spawn(exchange(self.alloc.clone(), self.echo_addr, round, peer)))
            .collect();
        let mut events = Vec::new();
        for h in handles {
            events.push(h.await.expect("network task"));
        }
        events
    }

    /// A batch of rows in a guarded pool vector, committed at the end.
    async fn update_database(&self, events: &[u64]) {
        let guard = AsyncPoolGuard::new(&self.alloc);
        let mut rows = guard.pool_vec_with_capacity::<u64>(events.len());
        rows.extend(events.iter().map(|e| e * 2));
        tokio::task::yield_now().await; // "the database round trip"
        self.database
            .lock()
            .expect("database lock")
            .extend_from_slice(&rows);
        assert_eq!(guard.live_allocations(), 1);
    }
}

fn main() {
    let mut app = AsyncApplication::new();
    app.run();

    let database = app.database.lock().expect("database lock").clone();
    let expected: Vec<u64> = (0..ROUNDS)
        .flat_map(|round| (0..PEERS).map(move |peer| (round * 10 + peer) * 2))
        .collect();
    assert_eq!(database, expected);

    // The echo tasks finish after their peers read the reply, so they may still be giving
    // their blocks back: dropping the runtime waits for (or cancels) every task.
    let AsyncApplication { alloc, runtime, .. } = app;
    drop(runtime);
    let st = alloc.stats();
    assert_eq!(st.pool.live_count(), 0, "every task's blocks went back");
    assert!(st.pool.allocations >= (ROUNDS * PEERS * 3) as usize);
    println!(
        "{ROUNDS} rounds x {PEERS} peers echoed, {} rows; pool: {} allocations, all freed",
        database.len(),
        st.pool.allocations
    );
}
