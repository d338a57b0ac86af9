//! UDP and Unix-domain sockets over loopback / socket pairs: send/recv/peek byte-exact,
//! Unix stream and datagram pairs, bound and abstract sockets, hang-ups.
#![cfg(not(loom))]

use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
use std::path::PathBuf;

use futures_lite::future::{self, block_on};
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use io_mini::Async;

const LOREM: &[u8] = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.";

/// A fresh socket path in the temp dir, removed first.
fn temp_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("io-mini-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn udp_send_recv() -> io::Result<()> {
    block_on(async {
        let a = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
        let b = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
        let (a_addr, b_addr) = (a.get_ref().local_addr()?, b.get_ref().local_addr()?);
        a.connect(b_addr)?;
        b.get_ref().connect(a_addr)?;
        let mut buf = [0; 1024];
        // Receive first so the datagram arrives while the reader waits in the reactor.
        let (n, sent) = future::zip(b.recv(&mut buf), async {
            future::yield_now().await;
            a.send(LOREM).await
        })
        .await;
        assert_eq!((n?, sent?), (LOREM.len(), LOREM.len()));
        assert_eq!(&buf[..LOREM.len()], LOREM);

        a.send(LOREM).await?;
        let n = b.peek(&mut buf).await?;
        assert_eq!(&buf[..n], LOREM);
        let n = b.recv(&mut buf).await?;
        assert_eq!(&buf[..n], LOREM);

        b.send_to(LOREM, a_addr).await?;
        let (n, from) = a.peek_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (LOREM, b_addr));
        let (n, from) = a.recv_from(&mut buf).await?;
        assert_eq!((&buf[..n], from), (LOREM, b_addr));
        Ok(())
    })
}

#[test]
fn unix_stream_pair_and_hangups() -> io::Result<()> {
    block_on(async {
        let (mut a, mut b) = Async::<UnixStream>::pair()?;
        let ((), got) = future::try_zip(
            async {
                future::yield_now().await;
                a.write_all(LOREM).await
            },
            async {
                let mut got = vec![0; LOREM.len()];
                b.read_exact(&mut got).await?;
                Ok(got)
            },
        )
        .await?;
        assert_eq!(got, LOREM);
        // Writer hang-up: EOF.
        drop(a);
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await?;
        assert!(rest.is_empty());
        // Reader hang-up: writes fail.
        let (c, mut d) = Async::<UnixStream>::pair()?;
        drop(c);
        let mut writes = 0;
        while d.write_all(LOREM).await.is_ok() {
            writes += 1;
            assert!(writes < 1_000_000, "writes to a closed peer never failed");
        }
        Ok(())
    })
}

#[test]
fn unix_listener_connect_and_refusal() -> io::Result<()> {
    let path = temp_path("listener");
    block_on(async {
        let listener = Async::<UnixListener>::bind(&path)?;
        let mut client = Async::<UnixStream>::connect(&path).await?;
        // SAFETY: F_GETFD takes no argument and only reads the fd's flags.
        let flags = unsafe { libc::fcntl(client.as_raw_fd(), libc::F_GETFD) };
        assert!(
            flags >= 0 && flags & libc::FD_CLOEXEC != 0,
            "connect's socket is CLOEXEC"
        );
        client.write_all(LOREM).await?;
        let mut server = listener.incoming().next().await.unwrap()?;
        let mut got = vec![0; LOREM.len()];
        server.read_exact(&mut got).await?;
        assert_eq!(got, LOREM);
        let (_second, _) = future::try_zip(listener.accept(), Async::<UnixStream>::connect(&path))
            .await
            .map(|((s, a), _)| (s, a))?;
        drop(listener);
        // The socket file is left behind with nobody listening: refused.
        let err = Async::<UnixStream>::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        std::fs::remove_file(&path)?;
        let err = Async::<UnixStream>::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let long = "x".repeat(200);
        let err = Async::<UnixStream>::connect(&long).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        Ok(())
    })
}

#[test]
fn unix_abstract_socket() -> io::Result<()> {
    let name = format!("\0io-mini-abstract-{}", std::process::id());
    block_on(async {
        let listener = Async::<UnixListener>::bind(&name)?;
        let (mut client, (mut server, _)) =
            future::try_zip(Async::<UnixStream>::connect(&name), listener.accept()).await?;
        client.write_all(LOREM).await?;
        let mut got = vec![0; LOREM.len()];
        server.read_exact(&mut got).await?;
        server.write_all(&got).await?;
        client.read_exact(&mut got).await?;
        assert_eq!(got, LOREM);
        Ok(())
    })
}

#[test]
fn unix_datagram_pair_and_paths() -> io::Result<()> {
    block_on(async {
        let (a, b) = Async::<UnixDatagram>::pair()?;
        let mut buf = [0; 1024];
        let (n, sent) = future::zip(b.recv(&mut buf), async {
            future::yield_now().await;
            a.send(LOREM).await
        })
        .await;
        assert_eq!((n?, sent?), (LOREM.len(), LOREM.len()));
        assert_eq!(&buf[..LOREM.len()], LOREM);

        let path = temp_path("dgram");
        let bound = Async::<UnixDatagram>::bind(&path)?;
        let unbound = Async::<UnixDatagram>::unbound()?;
        unbound.send_to(LOREM, &path).await?;
        let (n, from) = bound.recv_from(&mut buf).await?;
        assert_eq!(&buf[..n], LOREM);
        assert!(from.is_unnamed());
        std::fs::remove_file(&path)?;
        Ok(())
    })
}

#[test]
fn anonymous_pipe_read_write() -> io::Result<()> {
    let (reader, writer) = std::io::pipe()?;
    let (mut reader, mut writer) = (Async::new(reader)?, Async::new(writer)?);
    block_on(async {
        let ((), got) = future::try_zip(
            async {
                future::yield_now().await;
                writer.write_all(LOREM).await?;
                writer.close().await
            },
            async {
                let mut got = vec![0; LOREM.len()];
                reader.read_exact(&mut got).await?;
                Ok(got)
            },
        )
        .await?;
        assert_eq!(got, LOREM);
        Ok(())
    })
}

/// A regular file: refused by epoll (as in async-io), always ready with `poll(2)`.
#[test]
fn regular_file_follows_the_backend() -> io::Result<()> {
    let file = std::fs::File::open("Cargo.toml")?;
    match io_mini::BACKEND {
        "epoll" => {
            let err = Async::new(file).unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EPERM));
        }
        _ => {
            let file = Async::new(file)?;
            block_on(file.readable())?;
        }
    }
    Ok(())
}
