//! The `poll(2)` backend (ESP-IDF and every target without epoll; on Linux with
//! `--cfg io_mini_poll`): the snapshot protocol of [`crate::registry`].
//!
//! One loop: build the `pollfd`s from the snapshot, `poll(2)`, drain the eventfd if it fired,
//! narrow each interest to the directions reported ready, and hand them to
//! [`Core::turn`](crate::reactor::Core::turn), which wakes their waiters and returns the next
//! snapshot. The loop keeps `MAX_SOURCES + 1` `pollfd`s (8 bytes each) and `MAX_SOURCES`
//! interests (12 bytes each) on the thread's stack: 20 bytes per source.
//!
//! `poll(2)`, not `select(2)`: `poll` has no `FD_SETSIZE` ceiling (an fd of 1024 and above is
//! fine on Linux, and there is no out-of-bounds `FD_SET` to guard against), its cost is
//! proportional to the fds watched rather than to the highest fd, and ESP-IDF's lwIP VFS
//! implements it on top of `select` anyway.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::OnceLock;

use crate::driver::{MAX_SOURCES, Reactor, stop_requested};
use crate::reactor::{Wakeup, contain};
use crate::registry::{Interest, READ, WRITE};
use crate::sys;

/// The backend's name, for diagnostics and tests.
pub(crate) const NAME: &str = "poll";

/// What the loop keeps on the reactor thread's stack: the `pollfd`s and the interests.
pub(crate) const LOOP_STACK: usize = size_of::<PollFds>() + size_of::<[Interest; MAX_SOURCES]>();

/// The wake-up hook of the static reactor: writes the eventfd once it exists.
#[derive(Debug)]
pub(crate) struct Hook(OnceLock<OwnedFd>);

impl Hook {
    /// No eventfd yet ([`prepare`] creates it).
    pub(crate) const fn new() -> Self {
        Self(OnceLock::new())
    }
}

impl Wakeup for Hook {
    fn wakeup(&self) {
        if let Some(fd) = self.0.get() {
            sys::signal(fd.as_raw_fd());
        }
    }
}

/// Creates the eventfd unless an earlier start did (it outlives a failed start and an ended
/// thread). Called under the start lock. `Err` says what failed.
pub(crate) fn prepare(hook: &Hook) -> Result<(), (&'static str, io::Error)> {
    if hook.0.get().is_none() {
        let fd = sys::wakeup_fd().map_err(|err| ("create the reactor's eventfd", err))?;
        let _ = hook.0.set(fd);
    }
    Ok(())
}

/// `pollfd`s for the wake-up fd followed by one per source, contiguous.
#[repr(C)]
struct PollFds {
    wake: libc::pollfd,
    sources: [libc::pollfd; MAX_SOURCES],
}

const NO_FD: libc::pollfd = libc::pollfd {
    fd: -1,
    events: 0,
    revents: 0,
};

/// The reactor loop; returns only on a `poll(2)` failure other than `EINTR` and `ENOMEM`.
pub(crate) fn run_loop(reactor: &Reactor) -> io::Result<()> {
    let wake_fd = reactor
        .hook()
        .0
        .get()
        .ok_or_else(|| io::Error::other("no eventfd"))?
        .as_raw_fd();
    let mut fds = PollFds {
        wake: libc::pollfd {
            fd: wake_fd,
            events: libc::POLLIN,
            revents: 0,
        },
        sources: [NO_FD; MAX_SOURCES],
    };
    let mut interests = [Interest::EMPTY; MAX_SOURCES];
    let mut n = reactor.snapshot(&mut interests);
    loop {
        for (pollfd, interest) in fds.sources.iter_mut().zip(&interests[..n]) {
            let mut events = 0;
            if interest.dirs & READ != 0 {
                events |= libc::POLLIN;
            }
            if interest.dirs & WRITE != 0 {
                events |= libc::POLLOUT;
            }
            *pollfd = libc::pollfd {
                fd: interest.fd,
                events,
                revents: 0,
            };
        }
        fds.wake.revents = 0;
        match poll(fds.as_mut_slice(n + 1)) {
            Ok(_) => {}
            // Transient shortage of kernel memory: back off briefly and retry, keep serving.
            Err(err) if err.raw_os_error() == Some(libc::ENOMEM) => {
                contain(|| log::warn!("io-mini: poll(2) failed ({err}); retrying"));
                std::thread::sleep(std::time::Duration::from_millis(1));
                continue;
            }
            Err(err) => return Err(err),
        }
        if fds.wake.revents != 0 {
            sys::drain(wake_fd);
            if stop_requested() {
                return Err(io::Error::other("stopped on request"));
            }
        }
        // Narrow each interest to what was reported ready, then hand them to `Core::turn`
        // (dispatch, wake outside the lock, then the next snapshot).
        for (pollfd, interest) in fds.sources[..n].iter().zip(&mut interests[..n]) {
            interest.dirs &= ready_dirs(pollfd.revents);
        }
        n = reactor.turn(&mut interests, n);
    }
}

/// `poll(2)` without timeout. `EINTR` is returned as `Ok(0)` (the caller re-polls).
fn poll(fds: &mut [libc::pollfd]) -> io::Result<usize> {
    let len = libc::nfds_t::try_from(fds.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: `fds` is a valid, exclusively borrowed array of `len` pollfd structs.
    let ret = unsafe { libc::poll(fds.as_mut_ptr(), len, -1) };
    if ret >= 0 {
        return Ok(usize::try_from(ret).unwrap_or(0));
    }
    let err = io::Error::last_os_error();
    if err.kind() == io::ErrorKind::Interrupted {
        Ok(0)
    } else {
        Err(err)
    }
}

/// `POLLNVAL` (an fd that is not open); lwIP's `poll` on ESP-IDF never reports it.
#[cfg(not(target_os = "espidf"))]
const POLLNVAL: libc::c_short = libc::POLLNVAL;
#[cfg(target_os = "espidf")]
const POLLNVAL: libc::c_short = 0;

/// Which directions a `revents` makes ready: errors and hang-ups wake both, so the task's next
/// system call reports them.
fn ready_dirs(revents: libc::c_short) -> u8 {
    let failed = revents & (libc::POLLERR | libc::POLLHUP | POLLNVAL) != 0;
    let mut dirs = 0;
    if failed || revents & (libc::POLLIN | libc::POLLPRI) != 0 {
        dirs |= READ;
    }
    if failed || revents & libc::POLLOUT != 0 {
        dirs |= WRITE;
    }
    dirs
}

impl PollFds {
    /// The first `len` pollfds (the wake-up fd, then `len - 1` sources).
    fn as_mut_slice(&mut self, len: usize) -> &mut [libc::pollfd] {
        assert!(len <= MAX_SOURCES + 1);
        let first = (&raw mut *self).cast::<libc::pollfd>();
        // SAFETY: `PollFds` is `repr(C)` with a `pollfd` followed by an array of `pollfd`, so it
        // is `MAX_SOURCES + 1` contiguous pollfds without padding; the pointer is derived from
        // the whole struct, `len` is within it, and `&mut self` is exclusive for the lifetime.
        unsafe { core::slice::from_raw_parts_mut(first, len) }
    }
}
