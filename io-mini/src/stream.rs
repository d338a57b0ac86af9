//! futures-io's `AsyncRead`/`AsyncWrite` for `Async<T>` and `&Async<T>`, as in async-io.
//!
//! Each call tries the system call first and only on `WouldBlock` parks a waiter (the place
//! `poll_readable`/`poll_writable` use), then tries again once the reactor has seen readiness.
//! A parked place that the reactor already woke is *re-armed* on `WouldBlock` instead of
//! reported ready: that readiness was used up by the successful calls since (the usual case in
//! request/response traffic), and reporting it would only buy a second failing system call and
//! a fresh place. Real readiness is never re-armed away: the system call is retried before
//! every re-arm, and `poll(2)` is level-triggered.
//! The place is shared by every task using the impl on one `Async`: a second task displaces
//! the first one's waker and wakes it ([`crate::reactor`], "Shared places").
//! `poll_close` only flushes; shut a socket's write half down with its `shutdown` method.
//!
//! The impls for `Async<T>` use `T` through `&mut`, which is what the `IoSafe` bound is for:
//! `T`'s `Read`/`Write` methods promise not to drop or replace the registered fd.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

use crate::registry::Direction;
use crate::{Async, IoSafe};

/// Retries `$op` until it does not return `WouldBlock`, parking on `$poll` in between.
macro_rules! retry {
    ($op:expr, $poll:expr) => {
        loop {
            match $op {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => ready!($poll)?,
                res => return Poll::Ready(res),
            }
        }
    };
}

impl<T: IoSafe + Read> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        retry!(
            this.io_mut().read(buf),
            this.poll_after_would_block(Direction::Read, cx)
        )
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        retry!(
            this.io_mut().read_vectored(bufs),
            this.poll_after_would_block(Direction::Read, cx)
        )
    }
}

impl<T> AsyncRead for &Async<T>
where
    T: IoSafe,
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this: &Async<T> = *self;
        retry!(
            this.get_ref().read(buf),
            this.poll_after_would_block(Direction::Read, cx)
        )
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let this: &Async<T> = *self;
        retry!(
            this.get_ref().read_vectored(bufs),
            this.poll_after_would_block(Direction::Read, cx)
        )
    }
}

impl<T: IoSafe + Write> AsyncWrite for Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        retry!(
            this.io_mut().write(buf),
            this.poll_after_would_block(Direction::Write, cx)
        )
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        retry!(
            this.io_mut().write_vectored(bufs),
            this.poll_after_would_block(Direction::Write, cx)
        )
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        retry!(
            this.io_mut().flush(),
            this.poll_after_would_block(Direction::Write, cx)
        )
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl<T> AsyncWrite for &Async<T>
where
    T: IoSafe,
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this: &Async<T> = *self;
        retry!(
            this.get_ref().write(buf),
            this.poll_after_would_block(Direction::Write, cx)
        )
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this: &Async<T> = *self;
        retry!(
            this.get_ref().write_vectored(bufs),
            this.poll_after_would_block(Direction::Write, cx)
        )
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this: &Async<T> = *self;
        retry!(
            this.get_ref().flush(),
            this.poll_after_would_block(Direction::Write, cx)
        )
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
