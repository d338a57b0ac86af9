//! [`IoSafe`]: the marker for handles whose `Read`/`Write` impls cannot drop or replace the fd,
//! which is what lets [`Async`](crate::Async) give them out mutably in its `AsyncRead` /
//! `AsyncWrite` impls. The same trait and impls as async-io v2.

use std::io::{BufReader, BufWriter, LineWriter, Read, Write};

/// Types whose `Read`/`Write` (and other `&mut self` methods reachable from them) never drop
/// or replace the underlying file descriptor.
///
/// # Safety
///
/// Implementors must guarantee that using the type through `&mut` (as the `AsyncRead` /
/// `AsyncWrite` impls of [`Async`](crate::Async) do) never closes, drops or swaps the fd that
/// was registered with the reactor.
pub unsafe trait IoSafe {}

// SAFETY: a shared reference cannot drop or replace what it points to.
unsafe impl<T: IoSafe + ?Sized> IoSafe for &T {}
// SAFETY: forwards to `T`, which promises not to drop or replace its fd through `&mut`.
unsafe impl<T: IoSafe + ?Sized> IoSafe for &mut T {}
// SAFETY: forwards to `T`; `Box`'s `&mut` methods do not drop the box's contents.
unsafe impl<T: IoSafe + ?Sized> IoSafe for Box<T> {}
// SAFETY: forwards to `T`; `Cow` only clones (never drops) its borrowed value on write.
unsafe impl<T: Clone + IoSafe> IoSafe for std::borrow::Cow<'_, T> {}
// SAFETY: `File`'s methods never close or replace its fd.
unsafe impl IoSafe for std::fs::File {}
// SAFETY: `Stderr`'s methods never close or replace fd 2.
unsafe impl IoSafe for std::io::Stderr {}
// SAFETY: `Stdin`'s methods never close or replace fd 0.
unsafe impl IoSafe for std::io::Stdin {}
// SAFETY: `Stdout`'s methods never close or replace fd 1.
unsafe impl IoSafe for std::io::Stdout {}
// SAFETY: as `Stderr`.
unsafe impl IoSafe for std::io::StderrLock<'_> {}
// SAFETY: as `Stdin`.
unsafe impl IoSafe for std::io::StdinLock<'_> {}
// SAFETY: as `Stdout`.
unsafe impl IoSafe for std::io::StdoutLock<'_> {}
// SAFETY: `TcpStream`'s methods never close or replace its fd (`shutdown` keeps it open).
unsafe impl IoSafe for std::net::TcpStream {}
// SAFETY: `UnixStream`'s methods never close or replace its fd.
#[cfg(not(target_os = "espidf"))]
unsafe impl IoSafe for std::os::unix::net::UnixStream {}
// SAFETY: the child's pipe ends never close or replace their fd through `&mut`.
unsafe impl IoSafe for std::process::ChildStdin {}
// SAFETY: as `ChildStdin`.
unsafe impl IoSafe for std::process::ChildStdout {}
// SAFETY: as `ChildStdin`.
unsafe impl IoSafe for std::process::ChildStderr {}
// SAFETY: anonymous pipe ends never close or replace their fd through `&mut`.
unsafe impl IoSafe for std::io::PipeReader {}
// SAFETY: as `PipeReader`.
unsafe impl IoSafe for std::io::PipeWriter {}
// SAFETY: the buffer wraps `T` and only calls its `Read` methods.
unsafe impl<T: IoSafe + Read> IoSafe for BufReader<T> {}
// SAFETY: the buffer wraps `T` and only calls its `Write` methods.
unsafe impl<T: IoSafe + Write> IoSafe for BufWriter<T> {}
// SAFETY: as `BufWriter`.
unsafe impl<T: IoSafe + Write> IoSafe for LineWriter<T> {}
