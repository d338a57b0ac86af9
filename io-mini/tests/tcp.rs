//! TCP over loopback: echo of 1 MiB, connect/accept addresses and refusal, peek, hang-ups,
//! shutdown, duplicate registration, a full-duplex stream shared by two threads, 100 concurrent
//! connections, and an fd above select's FD_SETSIZE.
#![cfg(not(loom))]

mod common;

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use futures_lite::future::{self, block_on};
use futures_lite::{AsyncReadExt, AsyncWriteExt, StreamExt};
use io_mini::Async;

use common::{join_all, nofile_limit, payload};

const LOREM: &[u8] = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit.";

fn pair() -> io::Result<(Async<TcpStream>, Async<TcpStream>)> {
    block_on(async {
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
        let addr = listener.get_ref().local_addr()?;
        let ((server, _), client) =
            future::try_zip(listener.accept(), Async::<TcpStream>::connect(addr)).await?;
        Ok((server, client))
    })
}

#[test]
fn echo_one_mebibyte() -> io::Result<()> {
    let data = payload(1, 1 << 20);
    let (server, client) = pair()?;
    block_on(async {
        let echo = async {
            let copied = futures_lite::io::copy(&server, &mut &server).await?;
            server.get_ref().shutdown(Shutdown::Write)?;
            io::Result::Ok(copied)
        };
        let send = async {
            (&client).write_all(&data).await?;
            client.get_ref().shutdown(Shutdown::Write)?;
            io::Result::Ok(())
        };
        let receive = async {
            let mut back = Vec::new();
            (&client).read_to_end(&mut back).await?;
            io::Result::Ok(back)
        };
        let (copied, ((), back)) = future::try_zip(echo, future::try_zip(send, receive)).await?;
        assert_eq!(copied, 1 << 20);
        assert!(back == data, "echoed bytes differ");
        Ok(())
    })
}

#[test]
fn connect_addresses_and_refusal() -> io::Result<()> {
    block_on(async {
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
        let addr = listener.get_ref().local_addr()?;
        let ((server, peer), client) =
            future::try_zip(listener.accept(), Async::<TcpStream>::connect(addr)).await?;
        assert_eq!(peer, client.get_ref().local_addr()?);
        assert_eq!(
            server.get_ref().peer_addr()?,
            client.get_ref().local_addr()?
        );
        assert_eq!(
            client.get_ref().peer_addr()?,
            server.get_ref().local_addr()?
        );
        drop(listener);
        let err = Async::<TcpStream>::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        Ok(())
    })
}

#[test]
fn peek_then_read() -> io::Result<()> {
    block_on(async {
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
        let addr = listener.get_ref().local_addr()?;
        let mut client = Async::<TcpStream>::connect(addr).await?;
        client.write_all(LOREM).await?;
        let mut incoming = listener.incoming();
        let mut server = incoming.next().await.unwrap()?;
        let mut buf = [0; 1024];
        let mut n = 0;
        while n < LOREM.len() {
            n = server.peek(&mut buf).await?;
        }
        assert_eq!(&buf[..n], LOREM);
        let mut read = vec![0; LOREM.len()];
        server.read_exact(&mut read).await?;
        assert_eq!(read, LOREM);
        Ok(())
    })
}

#[test]
fn reader_hangup_ends_writes() -> io::Result<()> {
    let (server, mut client) = pair()?;
    drop(server);
    block_on(async {
        let mut writes = 0;
        while client.write_all(LOREM).await.is_ok() {
            writes += 1;
            assert!(writes < 1_000_000, "writes to a closed peer never failed");
        }
    });
    Ok(())
}

#[test]
fn writer_hangup_gives_eof() -> io::Result<()> {
    let (server, mut client) = pair()?;
    let closer = std::thread::spawn(move || drop(server));
    let mut got = Vec::new();
    block_on(client.read_to_end(&mut got))?;
    closer.join().unwrap();
    assert!(got.is_empty());
    Ok(())
}

#[test]
fn shutdown_ends_read_to_end() -> io::Result<()> {
    let (mut server, mut client) = pair()?;
    block_on(async {
        client.write_all(LOREM).await?;
        client.get_ref().shutdown(Shutdown::Write)?;
        let mut got = Vec::new();
        server.read_to_end(&mut got).await?;
        assert_eq!(got, LOREM);
        Ok(())
    })
}

#[test]
fn duplicate_registration_fails_and_original_works() -> io::Result<()> {
    block_on(async {
        let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
        let err = Async::new(listener.get_ref()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        let addr = listener.get_ref().local_addr()?;
        let mut client = Async::<TcpStream>::connect(addr).await?;
        client.write_all(LOREM).await?;
        let (mut server, _) = listener.accept().await?;
        let mut buf = vec![0; LOREM.len()];
        server.read_exact(&mut buf).await?;
        assert_eq!(buf, LOREM);
        Ok(())
    })
}

#[test]
fn duplex_on_shared_streams() -> io::Result<()> {
    const CHUNKS: usize = 256;
    let (a, b) = pair()?;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let writer = |s: Arc<Async<TcpStream>>, seed: u32| {
        std::thread::spawn(move || {
            block_on(async {
                for i in 0..CHUNKS {
                    (&*s).write_all(&payload(seed + i as u32, 4096)).await?;
                }
                s.get_ref().shutdown(Shutdown::Write)
            })
        })
    };
    let reader = |s: Arc<Async<TcpStream>>, seed: u32| {
        std::thread::spawn(move || {
            block_on(async {
                let mut got = Vec::new();
                (&*s).read_to_end(&mut got).await?;
                let want: Vec<u8> = (0..CHUNKS)
                    .flat_map(|i| payload(seed + i as u32, 4096))
                    .collect();
                assert!(got == want, "duplex bytes differ");
                io::Result::Ok(())
            })
        })
    };
    let threads = [
        writer(a.clone(), 10_000),
        writer(b.clone(), 20_000),
        reader(b, 10_000),
        reader(a, 20_000),
    ];
    for t in threads {
        t.join().unwrap()?;
    }
    Ok(())
}

#[test]
fn hundred_concurrent_connections() -> io::Result<()> {
    const PAIRS: usize = 100;
    const LEN: usize = 8 * 1024;
    let pairs: Vec<_> = (0..PAIRS).map(|_| pair()).collect::<io::Result<_>>()?;
    block_on(async {
        let mut tasks: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = io::Result<()>>>>> =
            Vec::new();
        // Readers first, in reverse order, so every read starts out pending.
        for (i, (server, _)) in pairs.iter().enumerate().rev() {
            tasks.push(Box::pin(async move {
                let mut got = vec![0; LEN];
                (&*server).read_exact(&mut got).await?;
                assert!(got == payload(i as u32, LEN), "pair {i} got foreign bytes");
                Ok(())
            }));
        }
        for (i, (_, client)) in pairs.iter().enumerate() {
            tasks.push(Box::pin(async move {
                (&*client).write_all(&payload(i as u32, LEN)).await
            }));
        }
        for result in join_all(tasks).await {
            result?;
        }
        io::Result::Ok(())
    })
}

#[test]
fn fd_above_fd_setsize_works() -> io::Result<()> {
    const HIGH: libc::c_int = 1500;
    if nofile_limit() <= HIGH as u64 {
        eprintln!("skipped: RLIMIT_NOFILE is too low");
        return Ok(());
    }
    let (server, client) = pair()?;
    let server = server.into_inner()?;
    // SAFETY: F_DUPFD_CLOEXEC takes an int argument and returns a new fd (checked below).
    let high = unsafe { libc::fcntl(server.as_raw_fd(), libc::F_DUPFD_CLOEXEC, HIGH) };
    assert!(high >= HIGH, "dup failed");
    drop(server);
    // SAFETY: `high` is a fresh fd owned by nobody else.
    let server = Async::new(TcpStream::from(unsafe { OwnedFd::from_raw_fd(high) }))?;
    block_on(async {
        let read = async {
            let mut buf = vec![0; LOREM.len()];
            (&server).read_exact(&mut buf).await?;
            io::Result::Ok(buf)
        };
        let write = async {
            future::yield_now().await;
            (&client).write_all(LOREM).await
        };
        let (buf, ()) = future::try_zip(read, write).await?;
        assert_eq!(buf, LOREM);
        Ok(())
    })
}

fn is_cloexec(fd: libc::c_int) -> bool {
    // SAFETY: F_GETFD takes no argument and only reads the fd's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    assert!(flags >= 0, "F_GETFD failed");
    flags & libc::FD_CLOEXEC != 0
}

#[test]
fn sockets_and_eventfd_are_cloexec() -> io::Result<()> {
    let (server, client) = pair()?;
    assert!(is_cloexec(client.as_raw_fd()), "connect's own socket");
    assert!(is_cloexec(server.as_raw_fd()), "accepted socket");
    // The reactor's eventfd: the only eventfd of this process.
    let mut eventfds = 0;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let entry = entry?;
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        if target.to_string_lossy().contains("eventfd") {
            let fd: libc::c_int = entry.file_name().to_str().unwrap().parse().unwrap();
            assert!(is_cloexec(fd), "the reactor's eventfd");
            eventfds += 1;
        }
    }
    assert_eq!(eventfds, 1);
    Ok(())
}

#[test]
fn ipv6_connect_keeps_the_address() -> io::Result<()> {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        eprintln!("skipped: no IPv6 loopback");
        return Ok(());
    };
    let listener = Async::new(listener)?;
    let addr = listener.get_ref().local_addr()?;
    block_on(async {
        let ((server, peer), client) =
            future::try_zip(listener.accept(), Async::<TcpStream>::connect(addr)).await?;
        assert_eq!(client.get_ref().peer_addr()?, addr);
        assert_eq!(server.get_ref().peer_addr()?, peer);
        Ok(())
    })
}
