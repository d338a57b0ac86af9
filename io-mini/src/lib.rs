//! Async I/O on a static, heap-free reactor: a drop-in for [async-io]'s [`Async<T>`] aimed at
//! memory-constrained `std` targets (ESP-IDF) that also runs on Linux.
//!
//! Replace `async_io` by `io_mini` (or rename the dependency:
//! `async-io = { package = "io-mini", ... }`) and code that uses `Async` compiles unchanged,
//! with the exceptions listed below.
//!
//! ```
//! use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
//! use io_mini::Async;
//! use std::net::{TcpListener, TcpStream};
//!
//! future::block_on(async {
//!     let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
//!     let addr = listener.get_ref().local_addr()?;
//!     let server = async {
//!         let (mut stream, _) = listener.accept().await?;
//!         let mut buf = [0; 5];
//!         stream.read_exact(&mut buf).await?;
//!         stream.write_all(&buf).await?; // echo
//!         std::io::Result::Ok(())
//!     };
//!     let client = async {
//!         let mut stream = Async::<TcpStream>::connect(addr).await?;
//!         stream.write_all(b"hello").await?;
//!         let mut buf = [0; 5];
//!         stream.read_exact(&mut buf).await?;
//!         assert_eq!(&buf, b"hello");
//!         Ok(())
//!     };
//!     future::try_zip(server, client).await?;
//!     std::io::Result::Ok(())
//! })?;
//! # std::io::Result::Ok(())
//! ```
//!
//! # Design
//!
//! * **Static reactor.** The reactor is a `static` built by a `const fn`: a fixed-capacity
//!   registry of sources and one shared pool of waiter places behind a mutex (see
//!   [`MAX_SOURCES`], [`MAX_WAITERS`] and how to change them). No heap allocation at start or
//!   while polling; an `Async<T>` is the handle plus 8 bytes.
//! * **One thread** named `io-mini`, spawned on first use with a [`REACTOR_STACK_SIZE`] stack,
//!   waits in epoll on Linux and Android, and in `poll(2)` everywhere else (ESP-IDF); neither
//!   has an `FD_SETSIZE` ceiling. The backend is chosen at build time; on Linux,
//!   `RUSTFLAGS="--cfg io_mini_poll"` forces `poll(2)` (it exists to test that backend there).
//! * **No round trip on the fast path.** Every operation tries its system call first; a read of
//!   data that is already queued costs no context switch and no lock. Only on `WouldBlock` does
//!   the task add a waiter. With epoll it then arms the fd's direction with one `epoll_ctl`
//!   (one-shot and level-triggered, so readiness that came first is reported) unless it is
//!   armed already; the reactor's loop is `epoll_wait` and a dispatch of what it reported, with
//!   no list of fds to rebuild or scan. With `poll(2)` the task writes the eventfd only when the
//!   reactor's current `poll` set lacks that fd and direction and nobody has written since (at
//!   most one write per change of interest). It never waits for the reactor to confirm. `AsyncRead`/`AsyncWrite` keep
//!   their waiter place between calls and re-arm it in place, so a request/response exchange
//!   costs one failing system call per wait.
//! * **Cost follows use, not capacity.** The reactor's scans stop at high-water marks of the
//!   sources and waiter places in use, so a build with room for 256 sockets that serves one
//!   pays for one per loop.
//! * **Many waiters per direction**, none evicting another; a readiness event wakes all the
//!   waiters of the direction. When the waiter pool is exhausted the future that cannot get a
//!   place fails with `ErrorKind::OutOfMemory`.
//! * **Robust.** `EINTR` is retried; wakers are woken outside the lock, each inside
//!   `catch_unwind`, so a panicking waker (or a panic payload that panics when dropped, or a
//!   logger that panics reporting it) leaves the reactor running; a waker whose `clone` or
//!   `drop` panics loses no waiter place and no wake-up of the reactor. A failed start of the
//!   reactor (no file descriptor left for its eventfd, no memory for its thread) is retried by
//!   the next operation, and if the reactor thread ends, the pending operations fail with an
//!   `io::Error` instead of hanging and the next operation starts a new thread. In the child
//!   of a `fork`, which has no reactor thread, every operation fails. A full registry or a
//!   socket registered twice fails at [`Async::new`]; an `Async` that was leaked
//!   (`mem::forget`) with its fd closed since never blocks the fd number or a registry slot
//!   (see [`Async::new`]). The sockets io-mini creates are close-on-exec; dropping an `Async`
//!   unregisters it without waking anybody.
//!
//! # Memory
//!
//! | | 32-bit (ESP-IDF defaults: 20 sources, 20 waiters) | x86_64, 20 / 20 | x86_64, 64 / 64 | x86_64, host default 256 / 256 |
//! | --- | --- | --- | --- | --- |
//! | static reactor | 424 B | 760 B² | 2 344 B² | 9 256 B² |
//! | per `Async<T>` | handle + 8 B | handle + 8 B | handle + 8 B | handle + 8 B |
//! | heap | none¹ | none | none | none |
//!
//! ¹ io-mini allocates nothing; on ESP-IDF, std's `Mutex` (pthread-based there, futex-based
//! on Linux) allocates its pthread mutex once, on first lock.
//! ² With epoll (Linux): the epoll fd is kept next to the eventfd; 8 bytes less with `poll(2)`.
//! The kernel's epoll set takes kernel memory per registered fd (not counted here).
//!
//! x86_64 figures are `size_of` measurements (`tests/footprint.rs`, [`reactor_size`]): 12 bytes
//! per source, of which 4 identify the file behind the fd (to recognise a leaked
//! registration, see [`Async::new`]); ESP-IDF, where lwIP reports no file identity, stores
//! none and takes 8. The ESP-IDF figures (424 B for the whole static reactor at 20 / 20, and an
//! `Async<T>` at its handle plus 8 B) are asserted at compile time when the crate is built for
//! ESP-IDF, which `cargo xtask cross` does for `riscv32imc-esp-espidf`. The reactor thread's stack is described
//! at [`REACTOR_STACK_SIZE`] (measured: 16 KiB suffice on Linux unless a waker panics; the
//! host default reserves 64 KiB for that case). Change the capacities with the
//! `IO_MINI_MAX_SOURCES`, `IO_MINI_MAX_WAITERS` and `IO_MINI_REACTOR_STACK` environment
//! variables at build time, e.g. in `.cargo/config.toml`:
//!
//! ```toml
//! [env]
//! IO_MINI_MAX_SOURCES = "32"
//! IO_MINI_MAX_WAITERS = "48"
//! ```
//!
//! The state machine that tasks and the reactor thread share lives in `registry.rs` and
//! `reactor.rs` (module docs there), free of system calls so that loom checks the hand-off
//! (`tests/loom_handoff.rs` with `poll(2)`, `tests/loom_epoll.rs` with epoll).
//!
//! # Differences from async-io v2
//!
//! * No `Timer` and no `block_on`: use `embassy-time`'s `Timer` (or any executor's timer) and
//!   `futures_lite::future::block_on` (or the platform's, e.g. `esp_idf_svc::hal::task::block_on`).
//!   No `os::unix::reactor_fd`, no kqueue/Windows extras. Unix only.
//! * Capacity limits: [`MAX_SOURCES`] registered handles and [`MAX_WAITERS`] concurrent waits;
//!   past them, `Async::new` or the wait fails with `OutOfMemory`.
//! * `Async<UnixStream>::connect` fails with `WouldBlock` when the listener's backlog is full
//!   (async-io returns a socket that is not connected; see [Unix sockets](crate#unix-sockets)).
//! * With epoll (Linux, Android) `Async::new` refuses regular files (`EPERM`), as async-io
//!   does; `poll(2)` (ESP-IDF) reports them as always ready.
//! * A second `Async` on one fd fails with `AlreadyExists` only for a socket on Linux and
//!   Android; on other fds (pipes, files, devices) and on ESP-IDF, where io-mini cannot tell a
//!   second registration of the same file from a new file on the number of a leaked one, both
//!   registrations are accepted and both work (async-io refuses them all).
//! * Additions: `Async<UdpSocket>::connect` (async-io users call `get_ref().connect`, which also
//!   works), and `incoming()` streams are also `Unpin`.
//!
//! # Unix sockets
//!
//! `Async<UnixListener>`, `Async<UnixStream>` and `Async<UnixDatagram>` have async-io's helpers;
//! `"\0name"` paths are abstract sockets on Linux. `connect` never blocks the thread: it
//! creates a non-blocking, close-on-exec socket and connects it; a full listener backlog is a
//! `WouldBlock` error. Unix sockets are not available on ESP-IDF.
//!
//! [async-io]: https://docs.rs/async-io
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(loom))]
mod driver;
#[cfg(not(loom))]
mod io;
#[cfg(not(loom))]
mod io_safe;
#[cfg(not(loom))]
mod net;
#[cfg(not(loom))]
mod stream;
#[cfg(not(loom))]
mod sys;
// lwIP on ESP-IDF has no Unix-domain sockets.
#[cfg(all(not(loom), not(target_os = "espidf")))]
mod unix;

// The registry and the reactor core are public (hidden) under loom only, for the loom models.
#[cfg(loom)]
#[doc(hidden)]
pub mod reactor;
#[cfg(not(loom))]
#[allow(unreachable_pub, dead_code)]
mod reactor;
#[cfg(loom)]
#[doc(hidden)]
pub mod registry;
#[cfg(not(loom))]
#[allow(unreachable_pub, dead_code)]
mod registry;

#[cfg(not(loom))]
pub use driver::{MAX_SOURCES, MAX_WAITERS, REACTOR_STACK_SIZE};
#[cfg(not(loom))]
pub use io::{Async, Readable, ReadableOwned, Writable, WritableOwned};
#[cfg(not(loom))]
pub use io_safe::IoSafe;

/// `(registered sources, waiter places in use)` of the static reactor, for tests and
/// diagnostics (0s before the reactor starts, and in a forked child, where the registry's lock
/// may be held forever by a thread that was not copied).
#[cfg(not(loom))]
#[doc(hidden)]
pub fn reactor_usage() -> (usize, usize) {
    driver::live().map_or((0, 0), driver::Reactor::usage)
}

/// Which backend the reactor waits in: `"epoll"` (Linux, Android) or `"poll"` (ESP-IDF, other
/// targets, and Linux built with `--cfg io_mini_poll`), for tests and diagnostics.
#[cfg(not(loom))]
#[doc(hidden)]
pub const BACKEND: &str = sys::backend::NAME;

/// Ends the reactor thread as a failure of its wait would: pending operations fail with an
/// `io::Error`, and the next operation starts a new thread. For tests of that path.
#[cfg(not(loom))]
#[doc(hidden)]
pub fn stop_reactor_thread() {
    driver::stop();
}

/// The size in bytes of the static reactor (registry, lock and wake-up fd cell).
#[cfg(not(loom))]
#[must_use]
pub const fn reactor_size() -> usize {
    size_of::<driver::Reactor>()
}

/// The size the static reactor would have with `sources` and `waiters` places, for footprint
/// tables (the registry of a custom capacity, plus the lock and the wake-up fd cell).
#[cfg(not(loom))]
#[doc(hidden)]
#[must_use]
pub const fn reactor_size_for<const SOURCES: usize, const WAITERS: usize>() -> usize {
    size_of::<reactor::Core<SOURCES, WAITERS, sys::backend::Hook>>()
}

/// The ESP-IDF figures of the memory table (crate docs), checked at compile time whenever the
/// crate is built for ESP-IDF (`cargo xtask cross` type-checks it for `riscv32imc-esp-espidf`).
#[cfg(all(target_os = "espidf", not(loom)))]
const _: () = {
    assert!(
        reactor_size_for::<20, 20>() == 424,
        "the ESP-IDF reactor at 20 sources / 20 waiters is 424 bytes (crate docs, # Memory)"
    );
    assert!(
        size_of::<Async<std::net::TcpStream>>() == size_of::<std::net::TcpStream>() + 8,
        "an Async<T> is its handle plus 8 bytes (crate docs, # Memory)"
    );
};
