//! Unix-domain socket helpers on `Async<UnixListener>`, `Async<UnixStream>` and
//! `Async<UnixDatagram>`, with async-io's signatures.
//!
//! On Linux and Android a path whose first byte is NUL (`"\0name"`) names an abstract socket, as
//! in async-io. Sockets come from `std`, which creates them close-on-exec.
//!
//! [`Async::<UnixStream>::connect`] connects a non-blocking, close-on-exec socket without ever
//! blocking the thread. Linux completes a Unix connect at once, or refuses it with `EAGAIN`
//! when the listener's backlog is full; io-mini returns that as a `WouldBlock` error (async-io
//! would hand back a socket that is not connected).

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram, UnixListener, UnixStream};
use std::path::Path;

use futures_core::Stream;

use crate::net::Incoming;
use crate::{Async, sys};

/// The abstract name of a `"\0name"` path, if it is one (Linux/Android).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_addr(path: &Path) -> io::Result<Option<SocketAddr>> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;

    match path.as_os_str().as_bytes() {
        [0, name @ ..] => SocketAddr::from_abstract_name(name).map(Some),
        _ => Ok(None),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn abstract_addr(_path: &Path) -> io::Result<Option<SocketAddr>> {
    Ok(None)
}

impl Async<UnixListener> {
    /// Creates a Unix listener bound to `path`.
    ///
    /// # Errors
    ///
    /// From `bind` or [`Async::new`].
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<Self> {
        let path = path.as_ref();
        let listener = match abstract_addr(path)? {
            Some(addr) => UnixListener::bind_addr(&addr)?,
            None => UnixListener::bind(path)?,
        };
        Self::new(listener)
    }

    /// Accepts a new connection.
    ///
    /// # Errors
    ///
    /// From `accept` or [`Async::new`].
    pub async fn accept(&self) -> io::Result<(Async<UnixStream>, SocketAddr)> {
        let (stream, addr) = self.read_with(UnixListener::accept).await?;
        Ok((Async::new(stream)?, addr))
    }

    /// A stream of incoming connections (never ends; errors are items).
    pub fn incoming(
        &self,
    ) -> impl Stream<Item = io::Result<Async<UnixStream>>> + Send + Unpin + '_ {
        Incoming::new(self, |listener: &UnixListener| {
            listener.accept().map(|(stream, _)| stream)
        })
    }
}

impl TryFrom<UnixListener> for Async<UnixListener> {
    type Error = io::Error;

    fn try_from(listener: UnixListener) -> io::Result<Self> {
        Self::new(listener)
    }
}

impl Async<UnixStream> {
    /// Connects to the listener at `path` without blocking (a leading NUL byte names an
    /// abstract socket on Linux).
    ///
    /// # Errors
    ///
    /// From `connect` (`NotFound`, `ConnectionRefused`…), `WouldBlock` when the listener's
    /// backlog is full (see the module docs), or from [`Async::new`].
    pub async fn connect<P: AsRef<Path>>(path: P) -> io::Result<Self> {
        let (stream, in_progress) = sys::unix_connect(path.as_ref())?;
        let stream = Self::new_nonblocking(stream)?;
        if in_progress {
            stream.writable().await?;
            if let Some(err) = stream.get_ref().take_error()? {
                return Err(err);
            }
        }
        Ok(stream)
    }

    /// A pair of connected streams.
    ///
    /// # Errors
    ///
    /// From `pair` or [`Async::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::{AsyncReadExt, AsyncWriteExt};
    /// use io_mini::Async;
    /// use std::os::unix::net::UnixStream;
    ///
    /// # futures_lite::future::block_on(async {
    /// let (mut a, mut b) = Async::<UnixStream>::pair()?;
    /// a.write_all(b"hi").await?;
    /// let mut buf = [0; 2];
    /// b.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"hi");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn pair() -> io::Result<(Self, Self)> {
        let (a, b) = UnixStream::pair()?;
        Ok((Self::new(a)?, Self::new(b)?))
    }
}

impl TryFrom<UnixStream> for Async<UnixStream> {
    type Error = io::Error;

    fn try_from(stream: UnixStream) -> io::Result<Self> {
        Self::new(stream)
    }
}

impl Async<UnixDatagram> {
    /// Creates a datagram socket bound to `path`.
    ///
    /// # Errors
    ///
    /// From `bind` or [`Async::new`].
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<Self> {
        let path = path.as_ref();
        let socket = match abstract_addr(path)? {
            Some(addr) => UnixDatagram::bind_addr(&addr)?,
            None => UnixDatagram::bind(path)?,
        };
        Self::new(socket)
    }

    /// Creates an unbound datagram socket.
    ///
    /// # Errors
    ///
    /// From `unbound` or [`Async::new`].
    pub fn unbound() -> io::Result<Self> {
        Self::new(UnixDatagram::unbound()?)
    }

    /// A pair of connected datagram sockets.
    ///
    /// # Errors
    ///
    /// From `pair` or [`Async::new`].
    pub fn pair() -> io::Result<(Self, Self)> {
        let (a, b) = UnixDatagram::pair()?;
        Ok((Self::new(a)?, Self::new(b)?))
    }

    /// Receives a datagram and its sender's address.
    ///
    /// # Errors
    ///
    /// From `recv_from` or the reactor.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.read_with(|socket| socket.recv_from(buf)).await
    }

    /// Sends a datagram to the socket at `path`.
    ///
    /// # Errors
    ///
    /// From `send_to` or the reactor.
    pub async fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        let path = path.as_ref();
        match abstract_addr(path)? {
            Some(addr) => {
                self.write_with(|socket| socket.send_to_addr(buf, &addr))
                    .await
            }
            None => self.write_with(|socket| socket.send_to(buf, path)).await,
        }
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// From `recv` or the reactor.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(|socket| socket.recv(buf)).await
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// From `send` or the reactor.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.write_with(|socket| socket.send(buf)).await
    }
}

impl TryFrom<UnixDatagram> for Async<UnixDatagram> {
    type Error = io::Error;

    fn try_from(socket: UnixDatagram) -> io::Result<Self> {
        Self::new(socket)
    }
}
