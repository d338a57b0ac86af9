//! An echo server and its clients on `futures-lite`: the server thread accepts connections from
//! `incoming()` and echoes each one until the client shuts its write half; the clients check
//! that every byte comes back.
use std::net::{Shutdown, TcpListener, TcpStream};

use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt, future, io};
use io_mini::Async;

const CLIENTS: usize = 3;

fn main() -> std::io::Result<()> {
    let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
    let addr = listener.get_ref().local_addr()?;

    let server = std::thread::spawn(move || {
        future::block_on(async {
            let mut incoming = listener.incoming().take(CLIENTS);
            let mut echoed = 0;
            while let Some(stream) = incoming.next().await {
                let stream = stream?;
                // `&Async<TcpStream>` is both AsyncRead and AsyncWrite.
                echoed += io::copy(&stream, &mut &stream).await?;
                stream.get_ref().shutdown(Shutdown::Write)?;
            }
            std::io::Result::Ok(echoed)
        })
    });

    let mut sent = 0;
    for i in 0..CLIENTS {
        let message = format!("message number {i} ").repeat(1000);
        let back = future::block_on(async {
            let mut stream = Async::<TcpStream>::connect(addr).await?;
            stream.write_all(message.as_bytes()).await?;
            stream.get_ref().shutdown(Shutdown::Write)?;
            let mut back = String::new();
            stream.read_to_string(&mut back).await?;
            std::io::Result::Ok(back)
        })?;
        assert_eq!(back, message);
        sent += message.len() as u64;
        println!("client {i}: {} bytes echoed", back.len());
    }
    let echoed = server.join().expect("server thread")?;
    assert_eq!(echoed, sent);
    Ok(())
}
