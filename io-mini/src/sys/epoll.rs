//! The epoll backend (Linux and Android): the arming protocol of `registry/armed.rs`.
//!
//! Each registered fd is added to one epoll set (`epoll_create1(EPOLL_CLOEXEC)`) when it is
//! registered, tagged with its registration key and fd, and taken out when its last
//! registration is dropped. A direction is armed with `EPOLLONESHOT` (level-triggered: the
//! kernel checks readiness when it is armed, so readiness that came first is still reported)
//! by the task that starts waiting for it, under the registry's lock; the kernel disarms the fd
//! when it reports it, and the reactor re-arms what is still waited for. So the reactor thread
//! never rebuilds or scans an fd list: one loop is `epoll_wait`, then one dispatch of the
//! reported fds. A direction nobody waits for is never armed, so readiness nobody asked for
//! (a writable socket) never wakes the reactor.
//!
//! `epoll_ctl` is thread-safe and the kernel drops an fd from the set when its file is closed
//! for the last time; a file still open elsewhere (a `dup`) keeps its entry, whose reports name
//! a registration that no longer exists and are ignored (the key's generation). A regular file
//! cannot be added (`EPERM`): `Async::new` fails for it, as in async-io.
//!
//! The eventfd is in the set too (level-triggered); it is only written to stop the thread.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

use crate::driver::{Reactor, stop_requested};
use crate::reactor::Wakeup;
use crate::registry::{Key, READ, WRITE};
use crate::sys;

/// The backend's name, for diagnostics and tests.
pub(crate) const NAME: &str = "epoll";

/// Events taken per `epoll_wait` (more wait for the next call).
const EVENTS: usize = 32;

/// What the loop keeps on the reactor thread's stack: the kernel's events and what they report.
pub(crate) const LOOP_STACK: usize =
    EVENTS * (size_of::<libc::epoll_event>() + size_of::<(Key, i32, u8)>());

/// The tag of the eventfd's events (a source's tag has a 32-bit fd in its low half, never -1).
const WAKE: u64 = u64::MAX;

/// The reactor's fds: its epoll set and its eventfd.
#[derive(Debug)]
struct Fds {
    epoll: OwnedFd,
    wake: OwnedFd,
}

/// The system side of the static reactor: the epoll set, once created.
#[derive(Debug)]
pub(crate) struct Hook(OnceLock<Fds>);

impl Hook {
    /// No fds yet ([`prepare`] creates them).
    pub(crate) const fn new() -> Self {
        Self(OnceLock::new())
    }

    #[inline]
    fn epoll(&self) -> io::Result<RawFd> {
        self.0
            .get()
            .map(|fds| fds.epoll.as_raw_fd())
            .ok_or_else(|| io::Error::other("io-mini: the reactor has no epoll set"))
    }
}

/// `epoll_ctl(op)` of `fd` with `dirs` armed for one report, tagged with `key` and `fd`.
fn ctl(epoll: RawFd, op: libc::c_int, fd: RawFd, key: Key, dirs: u8) -> io::Result<()> {
    let mut events = libc::EPOLLONESHOT as u32;
    if dirs & READ != 0 {
        events |= libc::EPOLLIN as u32;
    }
    if dirs & WRITE != 0 {
        events |= libc::EPOLLOUT as u32;
    }
    #[allow(clippy::cast_sign_loss)] // the fd's bits, read back as `i32`
    let tag = u64::from(key.to_bits()) << 32 | u64::from(fd as u32);
    let mut event = libc::epoll_event { events, u64: tag };
    // SAFETY: `event` is a valid epoll_event that lives for the call; the kernel only reads it.
    // A closed or foreign fd is an error, not undefined behaviour.
    let ret = unsafe { libc::epoll_ctl(epoll, op, fd, &raw mut event) };
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Wakeup for Hook {
    const ARMS: bool = true;

    fn wakeup(&self) {
        if let Some(fds) = self.0.get() {
            sys::signal(fds.wake.as_raw_fd());
        }
    }

    fn watch(&self, fd: i32, key: Key, dirs: u8) -> io::Result<()> {
        let epoll = self.epoll()?;
        match ctl(epoll, libc::EPOLL_CTL_ADD, fd, key, dirs) {
            // The fd is registered twice (the registry is shared): one kernel entry for both.
            Err(err) if err.raw_os_error() == Some(libc::EEXIST) => {
                ctl(epoll, libc::EPOLL_CTL_MOD, fd, key, dirs)
            }
            other => other,
        }
    }

    fn arm(&self, fd: i32, key: Key, dirs: u8) -> io::Result<()> {
        ctl(self.epoll()?, libc::EPOLL_CTL_MOD, fd, key, dirs)
    }

    fn unwatch(&self, fd: i32) {
        if let Ok(epoll) = self.epoll() {
            // Nothing to do about a failure: a closed fd has left the set already.
            let _ = ctl(epoll, libc::EPOLL_CTL_DEL, fd, Key::EMPTY, 0);
        }
    }
}

/// Creates the epoll set and the eventfd unless an earlier start did (they outlive a failed
/// start and an ended thread, and the set keeps its registrations). Called under the start
/// lock. `Err` says what failed.
pub(crate) fn prepare(hook: &Hook) -> Result<(), (&'static str, io::Error)> {
    if hook.0.get().is_some() {
        return Ok(());
    }
    let wake = sys::wakeup_fd().map_err(|err| ("create the reactor's eventfd", err))?;
    // SAFETY: epoll_create1 takes no pointers; the result is checked.
    let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if raw == -1 {
        return Err(("create the reactor's epoll set", io::Error::last_os_error()));
    }
    // SAFETY: `raw` was just returned by epoll_create1, is open and owned by nobody else.
    let epoll = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: WAKE,
    };
    // SAFETY: `event` is a valid epoll_event that lives for the call; both fds are open.
    let ret = unsafe {
        libc::epoll_ctl(
            epoll.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            wake.as_raw_fd(),
            &raw mut event,
        )
    };
    if ret == -1 {
        return Err(("watch the reactor's eventfd", io::Error::last_os_error()));
    }
    let _ = hook.0.set(Fds { epoll, wake });
    Ok(())
}

/// Which directions an epoll report makes ready: errors and hang-ups wake both, so the task's
/// next system call reports them.
fn ready_dirs(events: u32) -> u8 {
    let failed = events & (libc::EPOLLERR | libc::EPOLLHUP) as u32 != 0;
    let mut dirs = 0;
    if failed || events & (libc::EPOLLIN | libc::EPOLLPRI | libc::EPOLLRDHUP) as u32 != 0 {
        dirs |= READ;
    }
    if failed || events & libc::EPOLLOUT as u32 != 0 {
        dirs |= WRITE;
    }
    dirs
}

/// The reactor loop; returns only if `epoll_wait` fails with something other than `EINTR`
/// (a bug), or when asked to stop.
pub(crate) fn run_loop(reactor: &Reactor) -> io::Result<()> {
    let fds = reactor
        .hook()
        .0
        .get()
        .ok_or_else(|| io::Error::other("no epoll set"))?;
    let (epoll, wake) = (fds.epoll.as_raw_fd(), fds.wake.as_raw_fd());
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; EVENTS];
    let mut reported = [(Key::EMPTY, -1, 0); EVENTS];
    loop {
        // SAFETY: `events` is a valid, exclusively borrowed array of `EVENTS` epoll_events.
        let n = unsafe { libc::epoll_wait(epoll, events.as_mut_ptr(), EVENTS as libc::c_int, -1) };
        let Ok(n) = usize::try_from(n) else {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        };
        let mut woken = false;
        let mut len = 0;
        for event in &events[..n] {
            // Copies out of the (packed on x86_64) struct: no reference to its fields.
            let (tag, bits) = (event.u64, event.events);
            if tag == WAKE {
                woken = true;
                continue;
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
            let (key, fd) = (Key::from_bits((tag >> 32) as u32), tag as u32 as i32);
            reported[len] = (key, fd, ready_dirs(bits));
            len += 1;
        }
        if len > 0 {
            reactor.dispatch_events(&reported[..len]);
        }
        if woken {
            sys::drain(wake);
            if stop_requested() {
                return Err(io::Error::other("stopped on request"));
            }
        }
    }
}
