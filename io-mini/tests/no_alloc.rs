//! "No heap allocation while polling": once the reactor runs, waiting on a socket (finding it not
//! ready, parking a waiter in the reactor, being woken through `poll(2)`) and cancelling a wait
//! allocate nothing, in the task's thread or in the reactor's. Counted with a global allocator;
//! this file is its own test binary with one test, so nothing else allocates meanwhile. Start-up
//! (spawning the reactor thread) does allocate and is left out of the count.
#![cfg(not(loom))]

use std::alloc::System;
use std::future::{Future, poll_fn};
use std::io;
use std::net::{TcpListener, TcpStream};
use std::pin::pin;

use futures_lite::future::{block_on, poll_once, zip};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use io_mini::Async;
use sync_core::testing::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc<System> = CountingAlloc::new(System);

/// `rounds` echo round trips in which the server always reads before the client has written,
/// so every read waits in the reactor; returns how often the server future was polled.
fn echo_rounds(
    client: &mut Async<TcpStream>,
    server: &mut Async<TcpStream>,
    rounds: u32,
) -> io::Result<usize> {
    let mut polls = 0;
    let server_side = async {
        let mut buf = [0; 4];
        for _ in 0..rounds {
            server.read_exact(&mut buf).await?;
            server.write_all(&buf).await?;
        }
        io::Result::Ok(())
    };
    let mut server_side = pin!(server_side);
    let counted = poll_fn(|cx| {
        polls += 1;
        server_side.as_mut().poll(cx)
    });
    let client_side = async {
        let mut buf = [0; 4];
        for i in 0..rounds {
            client.write_all(&i.to_le_bytes()).await?;
            client.read_exact(&mut buf).await?;
            assert_eq!(buf, i.to_le_bytes());
        }
        io::Result::Ok(())
    };
    let (s, c) = block_on(zip(counted, client_side));
    s?;
    c?;
    Ok(polls)
}

#[test]
fn waiting_and_cancelling_allocate_nothing() -> io::Result<()> {
    let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
    let addr = listener.get_ref().local_addr()?;
    let (client, accepted) = block_on(zip(Async::<TcpStream>::connect(addr), listener.accept()));
    let (mut client, (mut server, _)) = (client?, accepted?);
    // Warm-up: the reactor thread is running and block_on's parker exists.
    echo_rounds(&mut client, &mut server, 10)?;

    let before = GLOBAL.allocations();
    let polls = echo_rounds(&mut client, &mut server, 1000)?;
    // A wait that is cancelled: registered in the reactor, then dropped.
    let mut buf = [0; 4];
    assert!(
        block_on(poll_once(server.read(&mut buf))).is_none(),
        "nothing to read yet"
    );
    let allocations = GLOBAL.allocations() - before;

    assert!(
        polls > 1000,
        "the server parked in the reactor on every round ({polls} polls)"
    );
    assert_eq!(allocations, 0, "allocations while waiting on sockets");
    // `poll_read` keeps one place per stream while it lives; dropping the streams gives them
    // back, the cancelled wait's included.
    drop((client, server));
    assert_eq!(
        io_mini::reactor_usage(),
        (1, 0),
        "only the listener is left"
    );
    Ok(())
}
