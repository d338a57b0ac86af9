//! The static reactor and its thread.
//!
//! # Memory
//!
//! [`REACTOR`] is a `static` built by a `const fn`: nothing is allocated on the heap or moved
//! through a stack when it starts, nor while it runs. Its size is dominated by the registry
//! (see [`crate::registry`]): 12 bytes per source (8 on ESP-IDF) plus one waiter place per
//! waiter (12 bytes on 32-bit targets, 24 bytes on 64-bit ones). The capacities are
//! compile-time constants:
//!
//! | constant | env var at build time | default (ESP-IDF) | default (other targets) |
//! | --- | --- | --- | --- |
//! | [`MAX_SOURCES`] | `IO_MINI_MAX_SOURCES` | 20 | 256 |
//! | [`MAX_WAITERS`] | `IO_MINI_MAX_WAITERS` | 20 | 256 |
//! | [`REACTOR_STACK_SIZE`] | `IO_MINI_REACTOR_STACK` | 4096 | 65536 |
//!
//! Set them for example in `.cargo/config.toml` (`[env] IO_MINI_MAX_SOURCES = "32"`); cargo
//! rebuilds io-mini when they change. At the ESP-IDF defaults the registry takes
//! 20 × 8 + 20 × 12 + 3 flags + 2 high-water marks = 408 bytes on a 32-bit target, and the
//! whole static reactor 420 bytes with the lock and the wake-up fd cell (asserted at compile time
//! for ESP-IDF); on x86_64 the same capacities take 744 bytes, and the host default
//! (256 / 256) 9 240 bytes. The time the reactor spends per loop follows the sources and waiters
//! in use, not these capacities (see the high-water marks in [`crate::registry`]).
//! `N` and `W` are const generics of the internal registry, so the loom models and unit tests
//! use tiny ones; more waiter places than sources is fine (several tasks per socket).
//!
//! # The thread
//!
//! The first `Async::new*` creates the wake-up eventfd and spawns one thread named `io-mini`
//! with a stack of [`REACTOR_STACK_SIZE`] bytes, under a lock, so that callers racing to start
//! it start one. If that fails (no descriptor left for the eventfd, no memory for the thread),
//! the call fails and nothing is remembered: the next call tries again (the eventfd, and the
//! epoll set, once created, are kept). The loop itself is the backend's (`sys/epoll.rs` on
//! Linux and Android, `sys/poll.rs` elsewhere, see there): with `poll(2)` it keeps
//! `MAX_SOURCES + 1` `pollfd`s (8 bytes each) and `MAX_SOURCES` interests (12 bytes each) on
//! that stack, i.e. 20 bytes per source (about 5 KiB at 256, 400 bytes at 20); with epoll a
//! fixed buffer of 32 events and what they report (768 bytes). Plus the `WAKE_CHUNK` (8)
//! wakers it wakes at a time and a few small frames.
//!
//! Measured on x86_64 Linux at the host default of 256 sources: the whole test suite runs with
//! a 16 KiB stack (Linux's `PTHREAD_STACK_MIN`, the smallest it grants) **except** when a waker
//! panics: unwinding plus std's default panic hook then need more than 16 KiB in a release
//! build (32 KiB suffices) and more than 32 KiB in a debug build (64 KiB suffices). The host
//! default is therefore 64 KiB of *reserved* stack; only the touched pages become resident, so
//! in normal operation that is a few KiB of RAM. On ESP-IDF the stack is real RAM: 4 KiB
//! should cover the loop at 20 sources (estimated from the frame sizes, not measured on
//! hardware); builds there usually use `panic = "abort"`, where a panicking waker aborts the
//! program whatever the stack size. Raise `IO_MINI_REACTOR_STACK` if your wakers may panic and
//! you unwind.
//!
//! The thread ends only if its wait fails with something other than `EINTR` (retried at once)
//! or, for `poll(2)`, `ENOMEM` (retried after 1 ms) — with `poll(2)`, `EINVAL` when the
//! process's descriptor limit was lowered below the number of fds watched; otherwise a bug —
//! or if it panics, which it does not do by
//! design (wakers and the logger run inside `catch_unwind`). A guard then shuts the reactor
//! down, so every pending operation fails with an `io::Error` instead of hanging, and marks the
//! thread gone: the next operation (a new `Async`, or a wait on an existing one) revives the
//! registry and starts a new thread, keeping the registrations. The one failure that lasts is
//! a `fork`: its child has no reactor thread and possibly a registry locked by a thread that
//! was not copied, so every operation there fails.

use std::io;

use sync_core::sync::atomic::{
    AtomicBool,
    Ordering::{Acquire, Relaxed, Release},
};

use crate::reactor::{Core, Wakeup, contain};
use crate::registry::{FileId, Key};
use crate::sys;
use crate::sys::backend;
use sync_core::lock::Mutex;

/// Parses a decimal compile-time setting (`Err` says what is wrong with it).
const fn parse_setting(value: &str) -> Result<usize, &'static str> {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        return Err("io-mini: empty IO_MINI_* setting");
    }
    let mut n = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            return Err("io-mini: IO_MINI_* settings must be decimal numbers");
        }
        let Some(shifted) = n.checked_mul(10) else {
            return Err("io-mini: an IO_MINI_* setting is too large");
        };
        let Some(next) = shifted.checked_add((bytes[i] - b'0') as usize) else {
            return Err("io-mini: an IO_MINI_* setting is too large");
        };
        n = next;
        i += 1;
    }
    Ok(n)
}

/// A compile-time setting: `value` if set, else `default`. A bad value stops the build.
const fn setting(value: Option<&str>, default: usize) -> usize {
    let Some(value) = value else {
        return default;
    };
    match parse_setting(value) {
        Ok(n) => n,
        Err(msg) => panic!("{}", msg),
    }
}

const DEFAULT_SOURCES: usize = if cfg!(target_os = "espidf") { 20 } else { 256 };
const DEFAULT_STACK: usize = if cfg!(target_os = "espidf") {
    4096
} else {
    64 * 1024
};

/// How many sources (`Async` values) can be registered at once.
///
/// Set at build time by the `IO_MINI_MAX_SOURCES` environment variable (default 20 on ESP-IDF,
/// 256 elsewhere; at most 65 534). Each costs 12 bytes of static memory (8 on ESP-IDF) and,
/// with `poll(2)`, 20 bytes of the reactor thread's stack; a build whose [`REACTOR_STACK_SIZE`]
/// cannot hold the reactor loop's arrays plus 1 KiB fails to compile.
pub const MAX_SOURCES: usize = setting(option_env!("IO_MINI_MAX_SOURCES"), DEFAULT_SOURCES);

/// How many waiters (pending `readable()`/`writable()` futures, pending `poll_readable` /
/// `poll_writable` calls) can exist at once, over all sources.
///
/// Set at build time by `IO_MINI_MAX_WAITERS` (default: the same as [`MAX_SOURCES`]'s default).
/// Each place costs 12 bytes on 32-bit targets, 24 on 64-bit ones. When all are taken, the
/// wait that cannot get one fails with `ErrorKind::OutOfMemory`; no waiter is ever evicted.
pub const MAX_WAITERS: usize = setting(option_env!("IO_MINI_MAX_WAITERS"), DEFAULT_SOURCES);

/// The stack size requested for the `io-mini` thread (`IO_MINI_REACTOR_STACK` at build time;
/// default 4 KiB on ESP-IDF, 64 KiB elsewhere).
///
/// With `poll(2)` the reactor loop keeps `MAX_SOURCES + 1` `pollfd`s and `MAX_SOURCES`
/// interests on its stack (20 bytes per source: 400 B at 20 sources, about 5 KiB at 256); with
/// epoll, 768 bytes of events whatever the sources. Plus the 8 wakers it wakes at a time and a
/// few small frames. Measured on x86_64 Linux at 256 sources: everything runs in a
/// 16 KiB stack (Linux's minimum) **except a panicking waker**: unwinding plus std's default
/// panic hook need more than 16 KiB in a release build (32 KiB suffice) and more than 32 KiB in
/// a debug build (64 KiB suffice). Hence the 64 KiB host default; it is reserved address space,
/// and only the pages actually touched (a few KiB) become resident. On ESP-IDF the stack is
/// real RAM; 4 KiB should cover the loop at 20 sources (derived from the frame sizes, not
/// measured on hardware), and builds there usually use
/// `panic = "abort"`, where a panicking waker aborts whatever the stack size. Raise it if your
/// wakers may panic and you unwind.
pub const REACTOR_STACK_SIZE: usize = setting(option_env!("IO_MINI_REACTOR_STACK"), DEFAULT_STACK);

// A stack too small for the loop's arrays (`IO_MINI_MAX_SOURCES` raised without
// `IO_MINI_REACTOR_STACK`, with `poll(2)`) stops the build instead of overflowing the thread's
// stack at run time. 1 KiB for the rest is a floor, not an estimate (see `REACTOR_STACK_SIZE`).
const _: () = assert!(
    backend::LOOP_STACK.saturating_add(1024) <= REACTOR_STACK_SIZE,
    "io-mini: IO_MINI_REACTOR_STACK is too small for IO_MINI_MAX_SOURCES: the reactor loop \
     keeps 20 bytes per source on its stack, plus at least 1 KiB for the rest"
);

/// The reactor type with the crate's capacities.
pub(crate) type Reactor = Core<MAX_SOURCES, MAX_WAITERS, backend::Hook>;

/// The one reactor.
pub(crate) static REACTOR: Reactor = Core::new(backend::Hook::new());

/// Set by [`stop`]: the reactor thread ends at its next wake-up.
static STOP: AtomicBool = AtomicBool::new(false);

/// Whether [`stop`] asked the thread to end (cleared by the question).
pub(crate) fn stop_requested() -> bool {
    STOP.swap(false, Relaxed)
}

/// Ends the reactor thread as a failure would (pending operations fail; the next one starts a
/// new thread), for tests of that path.
pub(crate) fn stop() {
    STOP.store(true, Relaxed);
    REACTOR.hook().wakeup();
}

/// Whether a reactor thread runs (or is being started). Set under [`START`] before the thread
/// is spawned; cleared by the thread's [`ShutdownGuard`] after it has shut the registry down,
/// so whoever sees it cleared may start a new thread.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// Serialises starting the thread, so that callers racing to start it start one; holds what a
/// failed start leaves for the next attempt (see [`start`]).
static START: Mutex<Started> = Mutex::new(Started {
    fork_handler: false,
});

/// What earlier start attempts did that must not be done twice.
struct Started {
    /// `pthread_atfork` registered [`after_fork_in_child`] (a registration cannot be undone).
    fork_handler: bool,
}

/// Set in the child of a `fork`: the reactor thread does not exist there (only the forking
/// thread is copied), and the registry lock may have been held by it. From then on every
/// operation fails, and drops leave the registry alone, instead of hanging. This one failure is
/// for good: the child's registry cannot be trusted again.
static FORKED: AtomicBool = AtomicBool::new(false);

extern "C" fn after_fork_in_child() {
    FORKED.store(true, Relaxed);
}

fn forked() -> io::Error {
    io::Error::other("io-mini: the reactor thread does not exist in a forked child process")
}

/// The static reactor if this process has one (`Err` in a forked child), without starting it.
#[inline]
pub(crate) fn live() -> io::Result<&'static Reactor> {
    if FORKED.load(Relaxed) {
        Err(forked())
    } else {
        Ok(&REACTOR)
    }
}

/// The reactor, its thread started on first use, and started again if it has ended.
///
/// A failed start is not remembered: the next call tries again (running out of file
/// descriptors for the eventfd, or of memory for the thread, is usually transient).
#[inline]
pub(crate) fn reactor() -> io::Result<&'static Reactor> {
    live()?;
    // Acquire/Release on `RUNNING` order it after what `start` and the guard did before their
    // stores; the registry and the eventfd have their own lock and `OnceLock` besides, so the
    // flag is only a hint: a stale `false` costs a trip through `START`'s lock, a stale `true`
    // (the thread is ending) an operation that fails with the reactor's error, never a hang.
    if !RUNNING.load(Acquire) {
        start()?;
    }
    Ok(&REACTOR)
}

/// Registers `fd` (naming `file`); when the registry is full, first frees the registrations
/// whose fd has been closed or names another file since (leaked `Async`s, see
/// [`crate::registry`]).
pub(crate) fn register(reactor: &Reactor, fd: i32, file: FileId) -> io::Result<Key> {
    match reactor.register(fd, file) {
        Err(err)
            if err.kind() == io::ErrorKind::OutOfMemory && reactor.sweep(sys::is_stale) > 0 =>
        {
            reactor.register(fd, file)
        }
        other => other,
    }
}

/// Starts the reactor thread unless another caller has done so meanwhile.
fn start() -> io::Result<()> {
    let mut started = START.lock();
    if RUNNING.load(Acquire) {
        return Ok(());
    }
    let failed = |what: &str, err: io::Error| {
        io::Error::new(err.kind(), format!("io-mini: cannot {what}: {err}"))
    };
    if !started.fork_handler {
        sys::on_fork_in_child(after_fork_in_child)
            .map_err(|err| failed("register a fork handler", err))?;
        started.fork_handler = true;
    }
    // The backend's fds outlive a failed start (and an ended thread): they are created once.
    backend::prepare(REACTOR.hook()).map_err(|(what, err)| failed(what, err))?;
    // After a thread that ended, the registry refuses everything until revived. Revive it and
    // mark the thread running before spawning it: the thread's guard clears the mark when it
    // ends, which must come after this store.
    REACTOR.revive();
    RUNNING.store(true, Release);
    let spawned = std::thread::Builder::new()
        .name("io-mini".into())
        .stack_size(REACTOR_STACK_SIZE)
        .spawn(run);
    match spawned {
        Ok(_) => Ok(()),
        Err(err) => {
            // Waits added since the revive would wait for a thread that does not exist.
            REACTOR.shutdown();
            RUNNING.store(false, Release);
            Err(failed("spawn the io-mini thread", err))
        }
    }
}

/// Shuts the reactor down when the thread ends, whether by error or by panic, then lets the
/// next operation start a new thread.
struct ShutdownGuard;

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        REACTOR.shutdown();
        RUNNING.store(false, Release);
    }
}

fn run() {
    let _guard = ShutdownGuard;
    if let Err(err) = backend::run_loop(&REACTOR) {
        // The logger is user code: it may panic.
        contain(|| log::error!("io-mini: the reactor stops: {err}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_decimal_numbers() {
        assert_eq!(setting(None, 7), 7);
        assert_eq!(setting(Some("0"), 7), 0);
        assert_eq!(setting(Some("65534"), 7), 65_534);
        assert_eq!(parse_setting(""), Err("io-mini: empty IO_MINI_* setting"));
        assert_eq!(
            parse_setting("12k"),
            Err("io-mini: IO_MINI_* settings must be decimal numbers")
        );
    }

    #[test]
    #[should_panic(expected = "io-mini: an IO_MINI_* setting is too large")]
    fn a_setting_too_large_for_usize_is_a_clear_error() {
        let _ = setting(Some("99999999999999999999999"), 0);
    }
}
