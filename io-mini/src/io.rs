//! [`Async<T>`]: an I/O handle registered with the static reactor, and its readiness futures.
//!
//! An `Async` is the I/O handle plus a [`Key`] into the reactor's registry and two parked waiter
//! ids for [`Async::poll_readable`]/[`Async::poll_writable`]; it owns no heap memory. The
//! operations follow one rule: **try the system call first**. Only when it returns
//! `WouldBlock` does the task add a waiter (and, if the reactor is not already watching that
//! fd and direction, write its eventfd once). Data that is already there is read with zero
//! context switches and without touching the registry lock.

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use sync_core::sync::atomic::{AtomicU16, Ordering::AcqRel};

use crate::driver::{self, live, reactor};
use crate::registry::{Direction, Key, NIL, WaiterId};
use crate::sys;

/// Async adapter for I/O types: the drop-in for async-io's `Async<T>`.
///
/// The handle is put in non-blocking mode and registered with the `io-mini` reactor thread,
/// which wakes the tasks waiting for it to become readable or writable.
///
/// Only one task should use the `AsyncRead`/`AsyncWrite` impls (or
/// [`poll_readable`](Self::poll_readable)/[`poll_writable`](Self::poll_writable)) per direction
/// at a time: they keep one waker per direction, and a second task replaces the first one's.
/// The first task is then woken (spuriously) so that it can poll again and re-register, as in
/// async-io: sharing a direction this way never hangs a task, but the tasks take turns waking
/// each other until the handle is ready, which costs CPU.
/// **Any number of tasks may call [`readable`](Self::readable), [`writable`](Self::writable),
/// [`read_with`](Self::read_with) or [`write_with`](Self::write_with) concurrently**: each of
/// them takes its own waiter place, nobody evicts anybody, and a readiness event wakes them all.
/// Waiter places come from one pool of [`MAX_WAITERS`](crate::MAX_WAITERS); when it is
/// exhausted, the future that cannot get a place resolves to an `io::Error` of kind
/// `OutOfMemory` (never a silent loss).
///
/// Closing only flushes: use `shutdown` on the inner socket to close a write half.
///
/// # Examples
///
/// ```
/// use io_mini::Async;
/// use std::net::{TcpListener, TcpStream};
///
/// # futures_lite::future::block_on(async {
/// let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
/// let addr = listener.get_ref().local_addr()?;
/// let (accepted, client) =
///     futures_lite::future::try_zip(listener.accept(), Async::<TcpStream>::connect(addr)).await?;
/// assert_eq!(accepted.0.get_ref().peer_addr()?, client.get_ref().local_addr()?);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct Async<T> {
    key: Key,
    /// Waiter places parked by `poll_readable` / `poll_writable` (`NIL` = none). Swapped, never
    /// read-modify-written, so every place has exactly one owner even if two tasks race.
    parked: [AtomicU16; 2],
    io: Option<T>,
}

impl<T> Unpin for Async<T> {}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the reactor (starting the reactor
    /// thread on first use).
    ///
    /// # Errors
    ///
    /// Setting non-blocking mode failed; the socket is already registered by a live `Async`
    /// (`AlreadyExists`; see below); the registry holds [`MAX_SOURCES`](crate::MAX_SOURCES)
    /// sources already (`OutOfMemory`); the reactor thread cannot start (the next call tries
    /// again); with epoll (Linux, Android), the kernel refuses the fd (`EPERM` for a regular
    /// file, as in async-io).
    ///
    /// # Registering one fd twice
    ///
    /// A second `Async` on a socket that a live (or leaked, with the socket still open)
    /// `Async` has registered fails with `AlreadyExists`, as in async-io. An `Async` that was
    /// leaked (`mem::forget`) with its fd closed since never blocks that fd number: the next
    /// registration of the number replaces its registration. io-mini tells the two apart by
    /// the file behind the number (`fstat`'s device and inode), which identifies a socket; for
    /// other fds (pipes, files, devices) and on ESP-IDF (where lwIP reports no identity) it
    /// cannot tell, and accepts the second registration: both work (with epoll one kernel entry
    /// serves both, with `poll(2)` the fd is watched once for each).
    ///
    /// # Examples
    ///
    /// ```
    /// use io_mini::Async;
    /// use std::net::{SocketAddr, TcpListener};
    ///
    /// let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    /// let listener = Async::new(listener)?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new(io: T) -> io::Result<Self> {
        sys::set_nonblocking(io.as_fd())?;
        Self::new_nonblocking(io)
    }

    /// Registers `io`, which the caller has already put in non-blocking mode.
    ///
    /// # Errors
    ///
    /// As [`Async::new`], except for setting the mode.
    pub fn new_nonblocking(io: T) -> io::Result<Self> {
        let fd = io.as_fd();
        let key = driver::register(reactor()?, fd.as_raw_fd(), sys::file_id(fd))?;
        Ok(Self {
            key,
            parked: [AtomicU16::new(NIL), AtomicU16::new(NIL)],
            io: Some(io),
        })
    }
}

impl<T> Async<T> {
    /// A reference to the inner I/O handle.
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("io-mini: the handle was taken")
    }

    /// A mutable reference to the inner I/O handle.
    ///
    /// # Safety
    ///
    /// The handle must not be dropped or replaced (for example with `mem::swap`) through the
    /// reference: the reactor keeps watching the registered fd.
    pub unsafe fn get_mut(&mut self) -> &mut T {
        self.io_mut()
    }

    pub(crate) fn io_mut(&mut self) -> &mut T {
        self.io.as_mut().expect("io-mini: the handle was taken")
    }

    /// Unregisters the handle and gives it back (in non-blocking mode).
    ///
    /// # Errors
    ///
    /// Never fails in io-mini; the `Result` keeps async-io's signature.
    pub fn into_inner(mut self) -> io::Result<T> {
        self.deregister();
        Ok(self.io.take().expect("io-mini: the handle was taken"))
    }

    fn deregister(&self) {
        let own = self.parked.each_ref().map(|parked| {
            let raw = parked.swap(NIL, AcqRel);
            (raw != NIL).then(|| WaiterId::from_raw(raw))
        });
        // In a forked child there is no reactor to leave (and its lock may be stuck).
        if let Ok(reactor) = live() {
            reactor.deregister(self.key, own);
        }
    }

    /// Waits until the handle is readable (completes once the reactor sees it readable after
    /// the call: it may be spurious, so the read that follows can still say `WouldBlock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use io_mini::Async;
    /// use std::net::UdpSocket;
    ///
    /// # futures_lite::future::block_on(async {
    /// let socket = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0))?;
    /// socket.send_to(b"ping", socket.get_ref().local_addr()?).await?;
    /// socket.readable().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn readable(&self) -> Readable<'_, T> {
        Readable(Wait::new(self, Direction::Read))
    }

    /// [`Async::readable`] for an `Arc<Async<T>>`, without a borrow.
    pub fn readable_owned(self: Arc<Self>) -> ReadableOwned<T> {
        ReadableOwned(Wait::new(self, Direction::Read))
    }

    /// Waits until the handle is writable.
    pub fn writable(&self) -> Writable<'_, T> {
        Writable(Wait::new(self, Direction::Write))
    }

    /// [`Async::writable`] for an `Arc<Async<T>>`, without a borrow.
    pub fn writable_owned(self: Arc<Self>) -> WritableOwned<T> {
        WritableOwned(Wait::new(self, Direction::Write))
    }

    /// Polls for readability: `Ready` once the reactor has seen the handle readable since the
    /// call that returned `Pending` (one waker per direction, see the type docs).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_parked(Direction::Read, cx)
    }

    /// Polls for writability (see [`Async::poll_readable`]).
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_parked(Direction::Write, cx)
    }

    /// [`Async::poll_readable`] / [`Async::poll_writable`] for the `AsyncRead`/`AsyncWrite`
    /// impls, which call it right after their system call said `WouldBlock`: a parked place
    /// that was already woken is re-armed rather than reported ready (see `Registry::rearm`),
    /// which saves a second failing system call and a new waiter place per wait.
    pub(crate) fn poll_after_would_block(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_parked_with(dir, cx, true)
    }

    fn poll_parked(&self, dir: Direction, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_parked_with(dir, cx, false)
    }

    fn poll_parked_with(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        rearm: bool,
    ) -> Poll<io::Result<()>> {
        let reactor = match reactor() {
            Ok(reactor) => reactor,
            Err(err) => return Poll::Ready(Err(err)),
        };
        let parked = &self.parked[dir as usize];
        reactor.poll_parked(parked, self.key, dir, cx.waker(), rearm)
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for readability in between.
    ///
    /// `op` is tried first, so a read of data that is already there never waits.
    ///
    /// # Errors
    ///
    /// `op`'s error, or the reactor's (waiter pool exhausted, reactor gone).
    ///
    /// # Examples
    ///
    /// ```
    /// use io_mini::Async;
    /// use std::net::TcpListener;
    ///
    /// # futures_lite::future::block_on(async {
    /// let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
    /// let addr = listener.get_ref().local_addr()?;
    /// let client = std::net::TcpStream::connect(addr)?;
    /// // Accept without blocking the thread: `accept` returns `WouldBlock` until a peer knocks.
    /// let (stream, peer) = listener.read_with(|l| l.accept()).await?;
    /// assert_eq!(peer, client.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn read_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let mut op = op;
        loop {
            match op(self.get_ref()) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                res => return res,
            }
            self.readable().await?;
        }
    }

    /// [`Async::read_with`] with mutable access.
    ///
    /// # Safety
    ///
    /// `op` must not drop or replace the handle (see [`Async::get_mut`]).
    ///
    /// # Errors
    ///
    /// As [`Async::read_with`].
    pub async unsafe fn read_with_mut<R>(
        &mut self,
        op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut op = op;
        loop {
            match op(self.io_mut()) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                res => return res,
            }
            self.readable().await?;
        }
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for writability in between.
    ///
    /// # Errors
    ///
    /// As [`Async::read_with`].
    pub async fn write_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        let mut op = op;
        loop {
            match op(self.get_ref()) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                res => return res,
            }
            self.writable().await?;
        }
    }

    /// [`Async::write_with`] with mutable access.
    ///
    /// # Safety
    ///
    /// `op` must not drop or replace the handle (see [`Async::get_mut`]).
    ///
    /// # Errors
    ///
    /// As [`Async::read_with`].
    pub async unsafe fn write_with_mut<R>(
        &mut self,
        op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut op = op;
        loop {
            match op(self.io_mut()) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                res => return res,
            }
            self.writable().await?;
        }
    }
}

impl<T> Drop for Async<T> {
    fn drop(&mut self) {
        if self.io.is_some() {
            // Unregister first, then close the fd (dropping `io` after this body).
            self.deregister();
        }
    }
}

impl<T> AsRef<T> for Async<T> {
    fn as_ref(&self) -> &T {
        self.get_ref()
    }
}

impl<T: AsRawFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd + From<OwnedFd>> TryFrom<OwnedFd> for Async<T> {
    type Error = io::Error;

    fn try_from(fd: OwnedFd) -> io::Result<Self> {
        Self::new(fd.into())
    }
}

impl<T: Into<Self>> TryFrom<Async<T>> for OwnedFd {
    type Error = io::Error;

    fn try_from(io: Async<T>) -> io::Result<Self> {
        io.into_inner().map(Into::into)
    }
}

impl<T: fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Async")
            .field("io", &self.io)
            .finish_non_exhaustive()
    }
}

/// The common state of the four readiness futures: the handle and the waiter place, if any.
struct Wait<H> {
    handle: H,
    dir: Direction,
    id: Option<WaiterId>,
}

impl<H> Wait<H> {
    fn new(handle: H, dir: Direction) -> Self {
        Self {
            handle,
            dir,
            id: None,
        }
    }

    fn poll<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>
    where
        H: Handle<T>,
    {
        let key = self.handle.source().key;
        match reactor() {
            Ok(reactor) => reactor.poll_wait(key, self.dir, &mut self.id, cx.waker()),
            Err(err) => Poll::Ready(Err(err)),
        }
    }
}

impl<H> Drop for Wait<H> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take()
            && let Ok(reactor) = live()
        {
            reactor.cancel(id);
        }
    }
}

/// What the readiness futures hold: a borrowed or shared `Async`.
trait Handle<T> {
    fn source(&self) -> &Async<T>;
}

impl<T> Handle<T> for &Async<T> {
    fn source(&self) -> &Async<T> {
        self
    }
}

impl<T> Handle<T> for Arc<Async<T>> {
    fn source(&self) -> &Async<T> {
        self
    }
}

macro_rules! readiness_future {
    ($(#[$doc:meta])* $name:ident<$($lt:lifetime,)? T>, $handle:ty) => {
        $(#[$doc])*
        #[must_use = "futures do nothing unless polled"]
        pub struct $name<$($lt,)? T>(Wait<$handle>);

        impl<$($lt,)? T> Future for $name<$($lt,)? T> {
            type Output = io::Result<()>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                self.get_mut().0.poll::<T>(cx)
            }
        }

        impl<$($lt,)? T> fmt::Debug for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("waiting", &self.0.id.is_some())
                    .finish_non_exhaustive()
            }
        }
    };
}

readiness_future!(
    /// Future of [`Async::readable`]; dropping it frees its waiter place.
    ///
    /// It borrows the `Async`, so the handle cannot be dropped (and its registration removed)
    /// while a wait on it is alive:
    ///
    /// ```compile_fail,E0505
    /// use io_mini::Async;
    /// use std::net::UdpSocket;
    ///
    /// let socket = Async::<UdpSocket>::bind(([127, 0, 0, 1], 0)).unwrap();
    /// let readable = socket.readable();
    /// drop(socket); // error[E0505]: cannot move out of `socket` because it is borrowed
    /// drop(readable);
    /// ```
    Readable<'a, T>, &'a Async<T>
);
readiness_future!(
    /// Future of [`Async::readable_owned`]; dropping it frees its waiter place.
    ReadableOwned<T>, Arc<Async<T>>
);
readiness_future!(
    /// Future of [`Async::writable`]; dropping it frees its waiter place.
    Writable<'a, T>, &'a Async<T>
);
readiness_future!(
    /// Future of [`Async::writable_owned`]; dropping it frees its waiter place.
    WritableOwned<T>, Arc<Async<T>>
);
