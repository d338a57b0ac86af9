//! The few system calls io-mini makes itself, each wrapped once with its error handling.
//!
//! Everything else goes through `std` (which creates its sockets with `SOCK_CLOEXEC` and accepts
//! with `accept4(SOCK_CLOEXEC)` on Linux). The sockets and fds created here are CLOEXEC too:
//! the wake-up eventfd (`EFD_CLOEXEC`) and the TCP socket of [`tcp_connect`]
//! (`SOCK_CLOEXEC | SOCK_NONBLOCK`). `EINTR` is retried everywhere.

use std::io;
use std::net::{SocketAddr, TcpStream};
#[cfg(not(any(target_os = "linux", target_os = "android")))]
use std::os::fd::AsFd;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::registry::{FileId, FileRelation};

// The reactor's backend, chosen at build time; both modules have the same items (`Hook`,
// `prepare`, `run_loop`, `NAME`, `LOOP_STACK`), and nothing else in the crate knows which one
// it uses. epoll on Linux and Android unless `--cfg io_mini_poll` forces `poll(2)` (to test it
// there); `poll(2)` everywhere else (ESP-IDF).
#[cfg(all(any(target_os = "linux", target_os = "android"), not(io_mini_poll)))]
#[path = "sys/epoll.rs"]
pub(crate) mod backend;
#[cfg(not(all(any(target_os = "linux", target_os = "android"), not(io_mini_poll))))]
#[path = "sys/poll.rs"]
pub(crate) mod backend;

/// Returns the last OS error if `ret == -1`.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Puts `fd` in non-blocking mode.
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: F_GETFL on a borrowed (so open) fd reads its flags; no memory is passed.
    let flags = check(unsafe { libc::fcntl(raw, libc::F_GETFL) })?;
    if flags & libc::O_NONBLOCK == 0 {
        // SAFETY: F_SETFL with an int argument on an open fd; no memory is passed.
        check(unsafe { libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    }
    Ok(())
}

/// `fstat(2)` of `fd`, which the caller may not own (it only reads the metadata).
fn fstat(fd: RawFd) -> io::Result<libc::stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes one `stat` into `st`, which lives for the call; it takes no other
    // memory, and a closed or foreign fd is reported as an error, not undefined behaviour.
    check(unsafe { libc::fstat(fd, st.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded, so it has written the whole struct.
    Ok(unsafe { st.assume_init() })
}

/// What a `stat` says about the file's identity (see [`FileId`]).
#[cfg(not(target_os = "espidf"))]
fn file_id_of(st: &libc::stat) -> FileId {
    let socket = st.st_mode & libc::S_IFMT == libc::S_IFSOCK;
    #[allow(clippy::useless_conversion)] // `dev_t`/`ino_t` are 32 bits on some targets
    FileId::new(u64::from(st.st_dev), u64::from(st.st_ino), socket)
}

/// ESP-IDF's VFS reports no identity (lwIP sockets all have inode 0).
#[cfg(target_os = "espidf")]
fn file_id_of(_st: &libc::stat) -> FileId {
    FileId::UNKNOWN
}

/// The identity of the file `fd` names, for the registry (see [`FileId`]); unknown if `fstat`
/// fails. On ESP-IDF, where it would be unknown anyway, no system call is made.
pub(crate) fn file_id(fd: BorrowedFd<'_>) -> FileId {
    if cfg!(target_os = "espidf") {
        return FileId::UNKNOWN;
    }
    fstat(fd.as_raw_fd()).map_or(FileId::UNKNOWN, |st| file_id_of(&st))
}

/// Whether a registration of `fd`, which named `registered` then, is stale: the fd is closed
/// now, or names a different file. See [`crate::registry`].
pub(crate) fn is_stale(fd: RawFd, registered: FileId) -> bool {
    match fstat(fd) {
        Ok(st) => registered.relation(file_id_of(&st)) == FileRelation::Different,
        Err(err) => err.raw_os_error() == Some(libc::EBADF),
    }
}

/// Creates the reactor's wake-up fd: a non-blocking, close-on-exec eventfd on Linux.
///
/// On ESP-IDF (no exec, no `EFD_*` flags) it is a plain eventfd: the application must have
/// called `esp_vfs_eventfd_register` first, and the reactor only reads it after `poll(2)` has
/// reported it readable, so blocking mode is harmless there.
pub(crate) fn wakeup_fd() -> io::Result<OwnedFd> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let flags = libc::EFD_CLOEXEC | libc::EFD_NONBLOCK;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let flags = 0;
    // SAFETY: eventfd takes no pointers; the result is checked below.
    let fd = check(unsafe { libc::eventfd(0, flags) })?;
    // SAFETY: `fd` was just returned by eventfd, is open and owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds 1 to the eventfd counter (wakes a `poll(2)` on it).
pub(crate) fn signal(fd: RawFd) {
    let one: u64 = 1;
    loop {
        // SAFETY: writes the 8 bytes of `one`, which lives for the call.
        let ret = unsafe { libc::write(fd, (&raw const one).cast(), 8) };
        if ret >= 0 {
            return;
        }
        match io::Error::last_os_error().kind() {
            io::ErrorKind::Interrupted => {}
            // EAGAIN: the counter is saturated, the reactor is signalled anyway.
            _ => return,
        }
    }
}

/// Resets the eventfd counter.
pub(crate) fn drain(fd: RawFd) {
    let mut buf: u64 = 0;
    loop {
        // SAFETY: reads at most 8 bytes into `buf`, which lives for the call.
        let ret = unsafe { libc::read(fd, (&raw mut buf).cast(), 8) };
        if ret >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// Creates a non-blocking, close-on-exec TCP socket and starts connecting it to `addr`.
///
/// Unlike async-io-mini, IPv6 keeps the address's `flowinfo` and `scope_id`.
pub(crate) fn tcp_connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // Linux creates the socket close-on-exec and non-blocking atomically; ESP-IDF has no exec
    // and no SOCK_NONBLOCK, so the mode is set right after creation.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let ty = libc::SOCK_STREAM;
    // SAFETY: socket takes no pointers; the result is checked below.
    let fd = check(unsafe { libc::socket(domain, ty, libc::IPPROTO_TCP) })?;
    // SAFETY: `fd` was just returned by socket, is open and owned by nobody else; from here the
    // OwnedFd closes it on every path.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    set_nonblocking(socket.as_fd())?;
    let ret = match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: `sockaddr_in` is plain integers, for which all-zero bytes are valid; the
            // fields are then set one by one (portable to layouts with `sin_len`, as lwIP's).
            let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_port = v4.port().to_be();
            sa.sin_addr.s_addr = u32::from_ne_bytes(v4.ip().octets());
            let len = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            // SAFETY: `sa` is a valid sockaddr_in of `len` bytes that lives for the call.
            unsafe { libc::connect(fd, (&raw const sa).cast(), len) }
        }
        SocketAddr::V6(v6) => {
            // SAFETY: as for `sockaddr_in`: plain integers, all-zero is valid.
            let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_port = v6.port().to_be();
            sa.sin6_flowinfo = v6.flowinfo();
            sa.sin6_addr.s6_addr = v6.ip().octets();
            sa.sin6_scope_id = v6.scope_id();
            let len = size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            // SAFETY: `sa` is a valid sockaddr_in6 of `len` bytes that lives for the call.
            unsafe { libc::connect(fd, (&raw const sa).cast(), len) }
        }
    };
    if let Err(err) = check(ret)
        && err.raw_os_error() != Some(libc::EINPROGRESS)
        && err.kind() != io::ErrorKind::WouldBlock
        && err.kind() != io::ErrorKind::Interrupted
    {
        return Err(err);
    }
    Ok(TcpStream::from(socket))
}

/// Registers `handler` to run in the child after `fork` (`pthread_atfork`; ESP-IDF cannot fork).
#[cfg(target_os = "espidf")]
pub(crate) fn on_fork_in_child(_handler: extern "C" fn()) -> io::Result<()> {
    Ok(())
}

/// Registers `handler` to run in the child after `fork` (`pthread_atfork`).
#[cfg(not(target_os = "espidf"))]
pub(crate) fn on_fork_in_child(handler: extern "C" fn()) -> io::Result<()> {
    // SAFETY: registers a plain function pointer; the handler only stores to an atomic, which
    // is async-signal-safe as fork's child handlers must be.
    let ret = unsafe { libc::pthread_atfork(None, None, Some(handler)) };
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(ret))
    }
}

/// Creates a non-blocking, close-on-exec Unix stream socket and connects it to `path` (a
/// leading NUL byte names an abstract socket) without blocking.
///
/// Returns `Ok((stream, in_progress))`. Linux completes a Unix connect at once or, when the
/// listener's backlog is full, fails with `EAGAIN` without a pending connection: that is
/// reported as a `WouldBlock` error rather than waited for (no readiness event would come).
#[cfg(not(target_os = "espidf"))]
pub(crate) fn unix_connect(
    path: &std::path::Path,
) -> io::Result<(std::os::unix::net::UnixStream, bool)> {
    use std::os::unix::ffi::OsStrExt;

    let bytes = path.as_os_str().as_bytes();
    // SAFETY: `sockaddr_un` is plain integers and bytes, for which all-zero is valid.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    // A pathname needs its terminating NUL inside `sun_path`; an abstract name does not.
    let is_abstract = bytes.first() == Some(&0);
    if bytes.is_empty() || bytes.len() + usize::from(!is_abstract) > sa.sun_path.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "io-mini: empty or too long Unix socket path",
        ));
    }
    for (dst, &src) in sa.sun_path.iter_mut().zip(bytes) {
        *dst = src as libc::c_char;
    }
    let len =
        std::mem::offset_of!(libc::sockaddr_un, sun_path) + bytes.len() + usize::from(!is_abstract);
    let len = libc::socklen_t::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
    let ty = libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK;
    // SAFETY: socket takes no pointers; the result is checked below.
    let fd = check(unsafe { libc::socket(libc::AF_UNIX, ty, 0) })?;
    // SAFETY: `fd` was just returned by socket and is owned by nobody else.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `sa` is a valid sockaddr_un whose first `len` bytes are meaningful; it lives for
    // the call.
    let ret = unsafe { libc::connect(fd, (&raw const sa).cast(), len) };
    let in_progress = match check(ret) {
        Ok(_) => false,
        Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => true,
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "io-mini: the Unix listener's backlog is full",
            ));
        }
        Err(err) => return Err(err),
    };
    Ok((std::os::unix::net::UnixStream::from(socket), in_progress))
}
