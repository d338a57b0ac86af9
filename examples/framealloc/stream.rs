//! Stream processing with `AsyncPoolGuard` (upstream framealloc's "Stream Processing"): a server reads a
//! loopback TCP stream in chunks into pool-backed buffers, transforms each chunk and writes it
//! back; the guard frees the buffers when the connection ends.
//!
//! Uses 127.0.0.1 with port 0; the client checks every byte it gets back.
//!
//! Adaptations:
//! * Allocations go through the guard (`guard.pool_vec`), not `alloc.pool_vec` next to it.
//! * `process_stream` returns `io::Result<usize>` (upstream framealloc used `?` in a function returning
//!   `()`); `read_chunk`/`write_chunk` are `read`/`write_all` on the stream, and
//!   `process_chunk` writes into a reused pool vector instead of returning a new `Vec`.

use framealloc::SmartAlloc;
use framealloc::task::AsyncPoolGuard;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CHUNK: usize = 512;

/// Upstream framealloc's `process_chunk`: a simple transformation into a pool vector.
async fn process_chunk(chunk: &[u8], out: &mut framealloc::PoolVec<'_, u8>) {
    out.clear();
    out.extend(chunk.iter().map(|&b| b.wrapping_add(1)));
    tokio::task::yield_now().await;
}

/// Upstream framealloc's `process_stream`; returns the bytes handled.
async fn process_stream(alloc: &SmartAlloc, mut stream: TcpStream) -> std::io::Result<usize> {
    let guard = AsyncPoolGuard::new(alloc);
    let mut buffer = guard.pool_vec::<u8>();
    buffer.extend(std::iter::repeat_n(0, CHUNK));
    let mut processed = guard.pool_vec_with_capacity(CHUNK);
    let mut total = 0;
    loop {
        let n = stream.read(&mut buffer).await?; // `?`: the guard still frees everything
        if n == 0 {
            break;
        }
        process_chunk(&buffer[..n], &mut processed).await;
        stream.write_all(&processed).await?;
        total += n;
    }
    stream.shutdown().await?;
    assert_eq!(guard.live_allocations(), 2);
    Ok(total)
}

fn main() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()?;
    let alloc = SmartAlloc::new(Default::default());
    let sent: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();

    let (handled, received) = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server_alloc = alloc.clone();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await?;
            process_stream(&server_alloc, stream).await
        });

        let client = TcpStream::connect(addr).await?;
        let (mut rd, mut wr) = client.into_split();
        let to_send = sent.clone();
        let writer = tokio::spawn(async move {
            wr.write_all(&to_send).await?;
            wr.shutdown().await
        });
        let mut received = Vec::new();
        rd.read_to_end(&mut received).await?;
        writer.await.expect("writer task")?;
        let handled = server.await.expect("server task")?;
        Ok::<_, std::io::Error>((handled, received))
    })?;

    assert_eq!(handled, sent.len());
    assert_eq!(received.len(), sent.len());
    assert!(
        received
            .iter()
            .zip(&sent)
            .all(|(&r, &s)| r == s.wrapping_add(1))
    );
    let st = alloc.stats();
    assert_eq!(st.pool.live_count(), 0, "the guard freed the buffers");
    assert!(st.pool.allocations >= 2);
    println!(
        "echoed {handled} bytes through pool buffers ({} pool allocations)",
        st.pool.allocations
    );
    Ok(())
}
