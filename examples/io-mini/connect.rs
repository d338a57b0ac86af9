//! Async-io-mini's `connect` example, against a local listener (no internet needed): resolve an
//! address with `to_socket_addrs`, connect with `Async::<TcpStream>::connect`, send an HTTP
//! request and read the whole response. A plain std thread plays the web server.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};

use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use io_mini::Async;

const RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello";

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let server = std::thread::spawn(move || -> std::io::Result<Vec<u8>> {
        let (mut stream, _) = listener.accept()?;
        let mut request = Vec::new();
        let mut buf = [0; 256];
        while !request.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut buf)?;
            assert!(n > 0, "client closed before the end of its request");
            request.extend_from_slice(&buf[..n]);
        }
        stream.write_all(RESPONSE)?;
        Ok(request)
    });

    let response = future::block_on(async {
        // As in async-io-mini: `"example.com:80".to_socket_addrs()?.next().unwrap()`.
        let addr = format!("127.0.0.1:{port}")
            .to_socket_addrs()?
            .next()
            .expect("one address");
        let mut stream = Async::<TcpStream>::connect(addr).await?;
        stream
            .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        std::io::Result::Ok(response)
    })?;

    let request = server.join().expect("server thread")?;
    assert!(request.starts_with(b"GET / HTTP/1.0\r\n"));
    assert_eq!(response, RESPONSE);
    println!("{}", String::from_utf8_lossy(&response));
    Ok(())
}
