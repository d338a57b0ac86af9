//! The three short patterns of upstream framealloc's "Best Practices → Common Patterns": a guard for
//! cleanup (`with_cleanup`), a spawned task with its own `TaskAlloc` (`spawn_task`), and a
//! guard per stream (`process_stream`, on a loopback TCP connection, port 0).
//!
//! The program checks that each pattern's allocations really came from the pool tier and that
//! all of them are back when the pattern is done, including the values' destructors (counted).
//!
//! Adaptations (upstream framealloc's bodies are comments):
//! * Allocations go *through* the guard (`guard.pool_box`, `guard.pool_vec`): a guard cannot see
//!   `alloc.pool_*` calls made next to it (see "Differences from upstream framealloc" in the crate docs).
//! * `spawn_task` returns the `JoinHandle` so the caller can wait for the task (upstream framealloc dropped
//!   it, leaving the task detached); the task uses `let task`, since `alloc_box` takes `&self`.
//! * `process_stream` returns the bytes it read so the program can check them.

use std::sync::atomic::{AtomicUsize, Ordering};

use framealloc::SmartAlloc;
use framealloc::task::{AsyncPoolGuard, TaskAlloc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Values of `Tracked` dropped so far.
static DROPS: AtomicUsize = AtomicUsize::new(0);

/// A value that counts its drops.
struct Tracked(u64);

impl Drop for Tracked {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pattern 1: task with cleanup.
async fn with_cleanup(alloc: &SmartAlloc) -> u64 {
    let guard = AsyncPoolGuard::new(alloc);
    // All pool allocations auto-cleaned.
    let a = guard.pool_box(Tracked(20));
    let mut list = guard.pool_vec::<Tracked>();
    list.extend((1..=3).map(Tracked));
    tokio::task::yield_now().await;
    assert_eq!(alloc.stats().pool.live_count(), 2, "from the pool tier");
    a.0 + list.iter().map(|t| t.0).sum::<u64>()
}

/// Pattern 2: spawned task.
fn spawn_task(alloc: &SmartAlloc) -> JoinHandle<u64> {
    let alloc_clone = alloc.clone();
    tokio::spawn(async move {
        let task = TaskAlloc::new(&alloc_clone);
        // Task-specific allocations.
        let mut squares = task.alloc_vec::<u64>();
        for i in 0..100 {
            squares.push(i * i);
            if i % 10 == 0 {
                tokio::task::yield_now().await;
            }
        }
        let marker = task.alloc_box(Tracked(7));
        assert_eq!(task.live_allocations(), 2);
        squares.iter().sum::<u64>() + marker.0
    })
}

/// Pattern 3: stream processing.
async fn process_stream(alloc: &SmartAlloc, mut stream: TcpStream) -> std::io::Result<Vec<u8>> {
    let guard = AsyncPoolGuard::new(alloc);
    // Stream-specific allocations.
    let mut chunk = guard.pool_box([0u8; 128]);
    let mut received = guard.pool_vec::<u8>();
    loop {
        let n = stream.read(&mut chunk[..]).await?;
        if n == 0 {
            break;
        }
        received.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(guard.live_allocations(), 2);
    Ok(received.into_vec())
}

fn main() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()?;
    let alloc = SmartAlloc::new(Default::default());

    runtime.block_on(async {
        assert_eq!(with_cleanup(&alloc).await, 26);
        assert_eq!(
            DROPS.load(Ordering::SeqCst),
            4,
            "the box and the 3 elements"
        );
        assert_eq!(alloc.stats().pool.live_count(), 0);
        println!("pattern 1: guard freed 2 blocks, 4 values dropped");

        let sum = spawn_task(&alloc).await.expect("spawned task");
        assert_eq!(sum, (0..100u64).map(|i| i * i).sum::<u64>() + 7);
        assert_eq!(DROPS.load(Ordering::SeqCst), 5);
        assert_eq!(alloc.stats().pool.live_count(), 0);
        println!("pattern 2: spawned task returned {sum}, its blocks are back");

        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let sent: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
        let to_send = sent.clone();
        let client = tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await?;
            stream.write_all(&to_send).await?;
            stream.shutdown().await
        });
        let (stream, _) = listener.accept().await?;
        let received = process_stream(&alloc, stream).await?;
        client.await.expect("client task")?;
        assert_eq!(received, sent);
        println!("pattern 3: read {} bytes through a guard", received.len());
        Ok::<_, std::io::Error>(())
    })?;

    let st = alloc.stats();
    assert_eq!(
        st.pool.live_count(),
        0,
        "every pattern gave its blocks back"
    );
    assert!(st.pool.allocations >= 6);
    println!("pool: {} allocations, all freed", st.pool.allocations);
    Ok(())
}
