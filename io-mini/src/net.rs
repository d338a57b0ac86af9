//! TCP and UDP helpers on `Async<TcpListener>`, `Async<TcpStream>` and `Async<UdpSocket>`, with
//! async-io's signatures, plus the listener stream returned by `incoming()`.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use crate::{Async, Readable, sys};

impl Async<TcpListener> {
    /// Creates a TCP listener bound to `addr`.
    ///
    /// # Errors
    ///
    /// From `bind` or [`Async::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use io_mini::Async;
    /// use std::net::TcpListener;
    ///
    /// let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
    /// assert_ne!(listener.get_ref().local_addr()?.port(), 0);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn bind<A: Into<SocketAddr>>(addr: A) -> io::Result<Self> {
        Self::new(TcpListener::bind(addr.into())?)
    }

    /// Accepts a new connection (std's `accept`, which is `accept4(SOCK_CLOEXEC)` on Linux).
    ///
    /// # Errors
    ///
    /// From `accept` or [`Async::new`].
    pub async fn accept(&self) -> io::Result<(Async<TcpStream>, SocketAddr)> {
        let (stream, addr) = self.read_with(TcpListener::accept).await?;
        Ok((Async::new(stream)?, addr))
    }

    /// A stream of incoming connections (never ends; errors are items).
    pub fn incoming(&self) -> impl Stream<Item = io::Result<Async<TcpStream>>> + Send + Unpin + '_ {
        Incoming::new(self, |listener: &TcpListener| {
            listener.accept().map(|(stream, _)| stream)
        })
    }
}

impl TryFrom<TcpListener> for Async<TcpListener> {
    type Error = io::Error;

    fn try_from(listener: TcpListener) -> io::Result<Self> {
        Self::new(listener)
    }
}

impl Async<TcpStream> {
    /// Connects to `addr` without blocking: a non-blocking, close-on-exec socket is created,
    /// the connection is started, and the future waits until the socket is writable.
    ///
    /// # Errors
    ///
    /// The connection failed (for example `ConnectionRefused`), or from [`Async::new`].
    pub async fn connect<A: Into<SocketAddr>>(addr: A) -> io::Result<Self> {
        let stream = Self::new_nonblocking(sys::tcp_connect(addr.into())?)?;
        stream.writable().await?;
        match stream.get_ref().take_error()? {
            Some(err) => Err(err),
            None => Ok(stream),
        }
    }

    /// Reads data without removing it from the receive queue.
    ///
    /// # Errors
    ///
    /// From `peek` or the reactor.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(|stream| stream.peek(buf)).await
    }
}

impl TryFrom<TcpStream> for Async<TcpStream> {
    type Error = io::Error;

    fn try_from(stream: TcpStream) -> io::Result<Self> {
        Self::new(stream)
    }
}

impl Async<UdpSocket> {
    /// Creates a UDP socket bound to `addr`.
    ///
    /// # Errors
    ///
    /// From `bind` or [`Async::new`].
    pub fn bind<A: Into<SocketAddr>>(addr: A) -> io::Result<Self> {
        Self::new(UdpSocket::bind(addr.into())?)
    }

    /// Receives a datagram and its sender's address.
    ///
    /// # Errors
    ///
    /// From `recv_from` or the reactor.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.read_with(|socket| socket.recv_from(buf)).await
    }

    /// Receives a datagram without removing it from the queue.
    ///
    /// # Errors
    ///
    /// From `peek_from` or the reactor.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.read_with(|socket| socket.peek_from(buf)).await
    }

    /// Sends a datagram to `addr`.
    ///
    /// # Errors
    ///
    /// From `send_to` or the reactor.
    pub async fn send_to<A: Into<SocketAddr>>(&self, buf: &[u8], addr: A) -> io::Result<usize> {
        let addr = addr.into();
        self.write_with(|socket| socket.send_to(buf, addr)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// From `recv` or the reactor.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(|socket| socket.recv(buf)).await
    }

    /// Receives a datagram from the connected peer without removing it from the queue.
    ///
    /// # Errors
    ///
    /// From `peek` or the reactor.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(|socket| socket.peek(buf)).await
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// From `send` or the reactor.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.write_with(|socket| socket.send(buf)).await
    }

    /// Sets the peer of `send`/`recv` (a non-blocking system call). An io-mini addition: with
    /// async-io, call `get_ref().connect(addr)`, which also works here.
    ///
    /// # Errors
    ///
    /// From `connect`.
    pub fn connect<A: Into<SocketAddr>>(&self, addr: A) -> io::Result<()> {
        self.get_ref().connect(addr.into())
    }
}

impl TryFrom<UdpSocket> for Async<UdpSocket> {
    type Error = io::Error;

    fn try_from(socket: UdpSocket) -> io::Result<Self> {
        Self::new(socket)
    }
}

/// The stream of `incoming()`: accepts with `accept`, waits for readability on `WouldBlock`.
pub(crate) struct Incoming<'a, L, S, F> {
    listener: &'a Async<L>,
    accept: F,
    readable: Option<Readable<'a, L>>,
    _stream: core::marker::PhantomData<fn() -> S>,
}

impl<'a, L, S, F: FnMut(&L) -> io::Result<S>> Incoming<'a, L, S, F> {
    pub(crate) fn new(listener: &'a Async<L>, accept: F) -> Self {
        Self {
            listener,
            accept,
            readable: None,
            _stream: core::marker::PhantomData,
        }
    }
}

impl<L, S, F> Unpin for Incoming<'_, L, S, F> {}

impl<L, S: std::os::fd::AsFd, F: FnMut(&L) -> io::Result<S>> Stream for Incoming<'_, L, S, F> {
    type Item = io::Result<Async<S>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(readable) = &mut this.readable {
                let res = ready!(Pin::new(readable).poll(cx));
                this.readable = None;
                if let Err(err) = res {
                    return Poll::Ready(Some(Err(err)));
                }
            }
            match (this.accept)(this.listener.get_ref()) {
                Ok(stream) => return Poll::Ready(Some(Async::new(stream))),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    this.readable = Some(this.listener.readable());
                }
                Err(err) => return Poll::Ready(Some(Err(err))),
            }
        }
    }
}
