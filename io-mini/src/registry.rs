//! The reactor's bookkeeping: which sources are registered, who waits on them, and what the
//! reactor thread currently knows. Plain data, no system calls and no locking: the caller holds
//! the registry's mutex ([`crate::reactor`]), so the same code runs under loom.
//!
//! # Layout
//!
//! * `entries: [Entry; N]` — one per registered source: its fd, the [`FileId`] of the file
//!   behind it at registration, a generation (so a slot reused by a new source is never
//!   confused with the old one), two *snapshot bits* saying whether the reactor's current
//!   `poll(2)` set includes this source's read / write interest, and two *ready bits* used
//!   while one `poll(2)` result is dispatched. 12 bytes (8 on ESP-IDF, where the file id
//!   takes no space).
//! * `waiters: [Waiter; W]` — one shared pool of waiter places for all sources. A place holds a
//!   waker, the slot of the source and the direction it waits for. 12 bytes on a 32-bit target,
//!   24 bytes on a 64-bit one. Sharing one pool instead of giving each source its own waker slots
//!   is what lets *any number* of tasks wait on the same source and direction without making
//!   every source pay for the worst case; the price is that the pool can run out, which is
//!   reported as an error (see [`AddError::NoPlace`]), never by evicting a waiter.
//! * `entry_end`, `waiter_end: u16` — *high-water marks*: one past the highest taken entry and
//!   waiter place. Every scan (snapshot, dispatch, taking wakers, looking for a free place or a
//!   duplicate fd) stops there, so its cost follows the sources and waiters in use, not the
//!   capacity: with the host default of 256 / 256 and one connection, a full scan would walk
//!   three arrays of 256 entries per reactor loop for one live source. A new source or place takes the lowest free index (holes first), and freeing the
//!   last one shrinks the mark past every free index below it, so the marks stay tight.
//!   4 bytes.
//! * `waiting: usize` — bit `i` set while place `i` is `Waiting`, for the first 64 places (32
//!   on a 32-bit target). A dispatch (either protocol) and the poll(2) snapshot walk these bits
//!   (and scan only the places past them) instead of every taken place ([`WaitingPlaces`]).
//!   8 bytes (4 on a 32-bit target).
//!
//! # A waiter's life
//!
//! ```text
//!            add_waiter            mark_ready + wake_ready (event seen by the reactor)
//!   Free ──────────────► Waiting ─────────────────────────────────► Woken
//!    ▲                     │ ▲ │                                     │ │
//!    │                     │ │ └──────────── shutdown ──────► Failed │ │
//!    │                     │ └──────── rearm (owner saw WouldBlock) ─┘ │
//!    │                     │ cancel                               │    │
//!    └─────────────────────┴──── poll_waiter → Ready / cancel ◄───┴────┘
//! ```
//!
//! `wake_ready` and `shutdown` only change states; the wakers of `Woken`/`Failed` places are
//! handed out afterwards ([`Registry::wake_ready_into`] takes them in the same pass, as far as
//! the caller's buffer goes, [`Registry::take_wakers`] the rest) and woken by the caller *after*
//! unlocking. Only the owner of a place frees it, so a waiter index never changes hands under a
//! live owner. [`Registry::rearm`] is the `AsyncRead`/`AsyncWrite` path: a `Woken` place whose
//! readiness the owner has already used up goes back to `Waiting` in place (see there).
//!
//! # The hand-off with the reactor thread
//!
//! The reactor thread loops: under the lock it takes a [`snapshot`](Registry::snapshot) of every
//! (fd, direction) that has a `Waiting` place and sets `polling`; it unlocks and blocks in
//! `poll(2)` on those fds plus its wake-up fd; it locks again, [`begin_dispatch`]
//! clears `polling`, [`mark_ready`] records every ready (fd, direction) and [`wake_ready`] marks
//! their waiters `Woken` in one pass over the places; it unlocks, wakes them, and locks again
//! for the next snapshot.
//!
//! A source is removed ([`Registry::remove`]) while the reactor may be blocked in `poll(2)` on
//! its fd; if the fd is in the current snapshot, the remover wakes the reactor once, so that the
//! kernel's reference to the file (held by the sleeping `poll`) is dropped promptly and the
//! peer sees the close. A stale event for a removed or reused slot is ignored (generations).
//!
//! A task that adds a waiter must make sure the reactor will look at its (fd, direction):
//!
//! * if the reactor is not `polling` it has not taken its next snapshot yet — nothing to do;
//! * if the current snapshot already has the direction (its snapshot bit is set) the kernel is
//!   already watching it — nothing to do;
//! * if another task already asked for a wake-up since the snapshot (`notified`) — nothing to do;
//! * otherwise the caller must write the wake-up fd once ([`add_waiter`] returns `true`).
//!
//! The same rule applies to a place re-armed by [`Registry::rearm`].
//!
//! `poll(2)` is level-triggered, so readiness that arrived *before* the waiter was added (between
//! the caller's failed `read` and its registration) is still reported: no wake-up is lost.
//!
//! That is the *snapshot protocol*, for `poll(2)`. With epoll the registry follows the *arming
//! protocol* instead (`registry/armed.rs`): the kernel holds every fd, tasks arm directions
//! themselves under the lock, and the reactor never takes a snapshot.
//!
//! # A leaked registration
//!
//! An `Async` deregisters in `Drop`. One that is leaked (`mem::forget`, an `Rc` cycle) never
//! does, and an `Async<&T>` or `Async<BorrowedFd>` can be leaked while its fd is then closed
//! by its real owner, after which the kernel hands the number to the next socket. With epoll
//! (async-io) closing the file removes the registration; here the entry is plain data that
//! nothing removes, so it is recognised as stale instead, by the next registration of the
//! same number or, when the registry is full, by a sweep:
//!
//! * **What proves an entry stale.** While an `Async` can still be used its fd stays open and
//!   names the same file: the handle is borrowed or owned by it, `AsFd` promises the fd lives
//!   as long as the borrow, and `IoSafe`/the `unsafe` `get_mut` forbid replacing it. So if the
//!   number is closed, or names a *different* file than at registration, the owner can never
//!   use its key again, and the entry can go.
//! * **What the registry compares.** Each entry keeps the [`FileId`] of its file. A new
//!   registration of the same fd number ([`Registry::evict_stale`], then
//!   [`Registry::insert`]): a different file → the old entry is freed and the new one takes
//!   a slot; the same *socket* → refused ([`InsertError::Duplicate`], `AlreadyExists`, as
//!   async-io's `epoll_ctl` refuses it), whether the first `Async` is live or leaked with the
//!   socket still open; anything else (the same pipe, file or device, which may have been
//!   opened again on the number; or nothing known, as on ESP-IDF) → both entries are kept:
//!   `poll(2)` watches an fd listed twice once per entry, so both registrations work, and a
//!   stale one costs only its slot.
//! * **A full registry.** Before failing with [`InsertError::Full`], the reactor asks the
//!   system about each entry's fd outside the lock (`fstat`): closed, or a different file →
//!   freed ([`Registry::entry`] and [`Registry::remove`], which ignores a key whose
//!   registration has changed meanwhile).
//! * **No wake-up is lost.** Only an entry whose owner can no longer run is freed, so the only
//!   waiters it can have are leaked ones: they are failed and their wakers woken, as
//!   [`Registry::remove`] does. A live waiter of another registration is never touched: it
//!   names its own slot and generation.
//! * **Misuse.** Closing an fd behind a live `Async`'s back (which takes `unsafe` code) can get
//!   its registration replaced; its key is then stale: removing it changes nothing and a new
//!   wait fails with [`AddError::Stale`]. Never undefined behaviour, never someone else's
//!   registration removed (unless the slot's 16-bit generation wrapped around meanwhile).
//!
//! [`begin_dispatch`]: Registry::begin_dispatch
//! [`mark_ready`]: Registry::mark_ready
//! [`wake_ready`]: Registry::wake_ready
//! [`add_waiter`]: Registry::add_waiter

use core::task::Waker;

/// "No index".
pub const NIL: u16 = u16::MAX;

/// A direction of readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Direction {
    /// The source is readable (or hung up / in error).
    Read = 0,
    /// The source is writable (or hung up / in error).
    Write = 1,
}

impl Direction {
    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Where [`Registry::snapshot`] gathers the wanted directions inside `Entry::snap` (scratch
/// bits, zero outside a snapshot).
const WANT_SHIFT: u8 = 2;

/// Snapshot bit for read interest.
pub const READ: u8 = Direction::Read.bit();
/// Snapshot bit for write interest.
pub const WRITE: u8 = Direction::Write.bit();

/// Names a registered source: its slot and the slot's generation at registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    slot: u16,
    generation: u16,
}

/// A waiter place owned by one future (or by an `Async` for `poll_readable`/`poll_writable`).
///
/// Not `Clone`: it is consumed by [`Registry::poll_waiter`] returning `Ready` or by
/// [`Registry::cancel`].
#[derive(Debug, PartialEq, Eq)]
pub struct WaiterId(u16);

impl WaiterId {
    /// The raw index, to park the id in an atomic.
    pub fn into_raw(self) -> u16 {
        self.0
    }

    /// Rebuilds an id from [`WaiterId::into_raw`]; the caller must be its single owner.
    pub fn from_raw(raw: u16) -> Self {
        Self(raw)
    }
}

/// What io-mini knows about the file an fd named when it was registered: enough to tell, when
/// the fd number comes back, whether it still names that file (see the
/// [module docs](self#a-leaked-registration)).
///
/// On Linux and Android it is a 30-bit digest of the file's `(st_dev, st_ino)` plus whether
/// the file is a socket (a socket's inode belongs to that one socket, so equal ids of sockets
/// mean the same open socket). On ESP-IDF, whose lwIP sockets all report inode 0, nothing is
/// known and the id takes no space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId(FileBits);

#[cfg(not(target_os = "espidf"))]
type FileBits = u32;
#[cfg(target_os = "espidf")]
type FileBits = ();

/// How the files behind two [`FileId`]s relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRelation {
    /// The same socket: a second registration of a live one.
    SameSocket,
    /// Different files: the file registered first has been closed since.
    Different,
    /// Cannot tell (nothing known, or the same non-socket file, which may have been opened
    /// again).
    Unknown,
}

impl FileId {
    /// Nothing known about the file.
    #[cfg(not(target_os = "espidf"))]
    pub const UNKNOWN: Self = Self(0);
    /// Nothing known about the file.
    #[cfg(target_os = "espidf")]
    pub const UNKNOWN: Self = Self(());

    /// The id of a file with device `dev` and inode `ino`; `socket`: it is a socket.
    #[cfg(not(target_os = "espidf"))]
    pub const fn new(dev: u64, ino: u64, socket: bool) -> Self {
        let mixed = ino ^ dev.rotate_left(29);
        // Folding 64 bits into 32 on purpose: equal digests of different files only make
        // io-mini refuse or keep a registration it could have replaced, never the reverse.
        let digest = (mixed ^ (mixed >> 32)) as u32;
        // Bit 1 marks a known id (never 0), bit 0 a socket.
        Self((digest << 2) | 0b10 | if socket { 1 } else { 0 })
    }

    /// How the file of `self` relates to that of `other`.
    #[cfg(not(target_os = "espidf"))]
    pub const fn relation(self, other: Self) -> FileRelation {
        if self.0 == 0 || other.0 == 0 {
            FileRelation::Unknown
        } else if self.0 != other.0 {
            FileRelation::Different
        } else if self.0 & 1 == 1 {
            FileRelation::SameSocket
        } else {
            FileRelation::Unknown
        }
    }

    /// How the file of `self` relates to that of `other`: nothing is known on ESP-IDF.
    #[cfg(target_os = "espidf")]
    pub const fn relation(self, _other: Self) -> FileRelation {
        FileRelation::Unknown
    }
}

/// What freeing a source's entry asks of the caller ([`Registry::remove`],
/// [`Registry::evict_stale`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Freed {
    /// The reactor's current `poll(2)` watches the fd: wake it, so that it lets the file go.
    pub wakeup: bool,
    /// Waiting places of the source that were failed (waits leaked with the source); hand
    /// their wakers out with [`Registry::take_wakers`].
    pub failed: usize,
    /// In the arming protocol, the fd that no registration names any more: take it out of
    /// the kernel's set (only [`Registry::remove`] sets it; never for a stale entry).
    pub unwatch: Option<i32>,
}

impl Freed {
    fn merge(&mut self, other: Self) {
        self.wakeup |= other.wakeup;
        self.failed += other.failed;
        self.unwatch = self.unwatch.or(other.unwatch);
    }
}

/// Why [`Registry::insert`] refused a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertError {
    /// Every slot is taken.
    Full,
    /// The socket is already registered (the same fd, and the same socket behind it).
    Duplicate,
    /// The fd is negative.
    BadFd,
    /// The reactor thread is gone.
    Dead,
}

/// Why [`Registry::add_waiter`] refused a waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddError {
    /// Every waiter place is taken.
    NoPlace,
    /// The reactor thread is gone.
    Dead,
    /// The key's registration is gone: it was replaced as stale (see
    /// [`Registry::evict_stale`]), which happens only when its fd was closed behind the
    /// owner's back.
    Stale,
}

/// What [`Registry::poll_waiter`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum WaiterPoll {
    /// The reactor saw the direction ready; the place is freed.
    Ready,
    /// The reactor thread died; the place is freed.
    Failed,
    /// Still waiting, and the stored waker wakes the same task.
    Pending,
    /// Still waiting, but the stored waker is for another task: call
    /// [`Registry::replace_waker`] with a clone made outside the lock.
    NeedsWaker,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum State {
    Free,
    Waiting,
    Woken,
    Failed,
}

#[derive(Debug)]
struct Entry {
    /// The registered fd, or -1 for a free slot.
    fd: i32,
    /// The file the fd named at registration.
    file: FileId,
    generation: u16,
    /// Directions in the reactor's current `poll(2)` set ([`READ`] | [`WRITE`]); during a
    /// snapshot, the bits above `WANT_SHIFT` collect the directions wanted next.
    snap: u8,
    /// Directions reported ready by the `poll(2)` being dispatched (see [`Registry::mark_ready`]).
    ready: u8,
}

#[derive(Debug)]
struct Waiter {
    waker: Option<Waker>,
    slot: u16,
    state: State,
    dir: Direction,
}

impl Key {
    /// A key that names no registration (slot `NIL`).
    pub const EMPTY: Self = Self {
        slot: NIL,
        generation: 0,
    };
}

/// One (fd, events) pair of a snapshot, with the key the events belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    /// The fd to watch.
    pub fd: i32,
    /// Its registration.
    pub key: Key,
    /// [`READ`] | [`WRITE`].
    pub dirs: u8,
}

impl Interest {
    /// A placeholder for unused array elements.
    pub const EMPTY: Self = Self {
        fd: -1,
        key: Key::EMPTY,
        dirs: 0,
    };
}

/// The registry: `N` sources, `W` waiter places (see the [module docs](self)).
#[derive(Debug)]
pub struct Registry<const N: usize, const W: usize> {
    entries: [Entry; N],
    waiters: [Waiter; W],
    /// The reactor has taken a snapshot and is (about to be) blocked in `poll(2)`.
    polling: bool,
    /// A wake-up was requested since the snapshot.
    notified: bool,
    /// The reactor thread is gone: every request fails.
    dead: bool,
    /// One past the highest taken entry: every entry from here on is free.
    entry_end: u16,
    /// One past the highest taken waiter place: every place from here on is free.
    waiter_end: u16,
    /// [`ARMING`] and [`SHARED`] (see `registry/armed.rs`); 0 for the snapshot protocol.
    mode: u8,
    /// Bit `i` set: waiter place `i` is `Waiting` (for the first [`MASKED`] places; the others
    /// are scanned). Lets the reactor visit only the waiting places of the first ones when it
    /// dispatches an event, instead of every taken place.
    waiting: usize,
}

/// How many waiter places [`Registry`]'s `waiting` mask covers.
const MASKED: usize = usize::BITS as usize;

/// Records in `mask` whether place `index` is `Waiting` (`on`).
#[inline]
fn mark_waiting(mask: &mut usize, index: usize, on: bool) {
    if index < MASKED {
        let bit = 1 << index;
        if on {
            *mask |= bit;
        } else {
            *mask &= !bit;
        }
    }
}

/// Walks the waiting places of a [`Registry`]: those of its `waiting` mask, lowest first, then
/// the places past the mask that are `Waiting`. It holds no borrow, so the walker may change
/// the places it visits.
struct WaitingPlaces {
    mask: usize,
    rest: core::ops::Range<usize>,
}

impl WaitingPlaces {
    /// The next waiting place among `places` (the taken ones); `None` after the last.
    #[inline]
    fn next(&mut self, places: &[Waiter]) -> Option<usize> {
        if self.mask != 0 {
            let index = self.mask.trailing_zeros() as usize;
            self.mask &= self.mask - 1;
            return Some(index);
        }
        self.rest
            .by_ref()
            .find(|&index| places[index].state == State::Waiting)
    }
}

impl<const N: usize, const W: usize> Registry<N, W> {
    const FITS: () = assert!(
        N < NIL as usize && W < NIL as usize,
        "io-mini supports at most 65 534 sources and waiters"
    );

    /// An empty registry.
    pub const fn new() -> Self {
        let () = Self::FITS;
        Self {
            entries: [const {
                Entry {
                    fd: -1,
                    file: FileId::UNKNOWN,
                    generation: 0,
                    snap: 0,
                    ready: 0,
                }
            }; N],
            waiters: [const {
                Waiter {
                    waker: None,
                    slot: NIL,
                    state: State::Free,
                    dir: Direction::Read,
                }
            }; W],
            polling: false,
            notified: false,
            dead: false,
            entry_end: 0,
            waiter_end: 0,
            mode: 0,
            waiting: 0,
        }
    }

    /// The entries that may be taken (the free tail is never scanned).
    fn live_entries(&self) -> &[Entry] {
        &self.entries[..usize::from(self.entry_end)]
    }

    /// The waiter places that may be taken (the free tail is never scanned).
    fn live_waiters(&self) -> &[Waiter] {
        &self.waiters[..usize::from(self.waiter_end)]
    }

    /// Frees the waiter place at `index` and shrinks the scanned prefix past free places.
    /// A walk over the waiting places (see [`WaitingPlaces`]).
    fn waiting_places(&self) -> WaitingPlaces {
        self.check_waiting();
        WaitingPlaces {
            mask: self.waiting,
            rest: MASKED..usize::from(self.waiter_end),
        }
    }

    fn free_place(&mut self, index: usize) -> Option<Waker> {
        let place = &mut self.waiters[index];
        place.state = State::Free;
        place.slot = NIL;
        mark_waiting(&mut self.waiting, index, false);
        let waker = place.waker.take();
        while let Some(last) = usize::from(self.waiter_end).checked_sub(1)
            && self.waiters[last].state == State::Free
        {
            // `last` < `waiter_end` <= W < NIL.
            let end = last as u16;
            self.waiter_end = end;
        }
        waker
    }

    /// Whether the reactor is gone.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Number of registered sources.
    pub fn sources(&self) -> usize {
        self.live_entries().iter().filter(|e| e.fd >= 0).count()
    }

    /// Number of waiter places in use (any state but free).
    pub fn waiters(&self) -> usize {
        self.live_waiters()
            .iter()
            .filter(|w| w.state != State::Free)
            .count()
    }

    /// Registers `fd`, which names `file`. Refuses a second registration of a live socket
    /// ([`FileRelation::SameSocket`]); any other entry with the same fd is kept (call
    /// [`Registry::evict_stale`] first to drop the stale ones).
    ///
    /// # Errors
    ///
    /// See [`InsertError`].
    pub fn insert(&mut self, fd: i32, file: FileId) -> Result<Key, InsertError> {
        if self.dead {
            return Err(InsertError::Dead);
        }
        if fd < 0 {
            return Err(InsertError::BadFd);
        }
        let mut free = None;
        let mut twice = false;
        for (slot, entry) in self.live_entries().iter().enumerate() {
            if entry.fd == fd {
                if entry.file.relation(file) == FileRelation::SameSocket {
                    return Err(InsertError::Duplicate);
                }
                twice = true;
            }
            if entry.fd < 0 && free.is_none() {
                free = Some(slot);
            }
        }
        let end = usize::from(self.entry_end);
        let slot = match free {
            Some(slot) => slot,
            None if end < N => {
                self.entry_end += 1;
                end
            }
            None => return Err(InsertError::Full),
        };
        if twice && self.mode & ARMING != 0 {
            self.mode |= SHARED;
        }
        let entry = &mut self.entries[slot];
        entry.fd = fd;
        entry.file = file;
        entry.generation = entry.generation.wrapping_add(1);
        entry.snap = 0;
        entry.ready = 0;
        // N < NIL (checked at compile time), so the slot fits.
        let slot = slot as u16;
        Ok(Key {
            slot,
            generation: entry.generation,
        })
    }

    /// Frees every entry of `fd` whose file is not `file` ([`FileRelation::Different`]): its
    /// owner closed the fd without deregistering, so it was leaked and can never be used
    /// again (see the [module docs](self#a-leaked-registration)). Its waiting places are
    /// failed, as in [`Registry::remove`].
    pub fn evict_stale(&mut self, fd: i32, file: FileId) -> Freed {
        let mut freed = Freed::default();
        for slot in 0..usize::from(self.entry_end) {
            let entry = &self.entries[slot];
            if entry.fd == fd
                && entry.fd >= 0
                && entry.file.relation(file) == FileRelation::Different
            {
                freed.merge(self.free_entry(slot));
            }
        }
        freed
    }

    /// The registration in `slot`, if the slot is taken: its key, fd and file (for
    /// [`Registry::evict_stale`]'s counterpart when the registry is full, which checks each
    /// fd outside the lock). `None` past the last taken slot too; see [`Registry::slots`].
    pub fn entry(&self, slot: usize) -> Option<(Key, i32, FileId)> {
        let entry = self.live_entries().get(slot)?;
        // N < NIL, so the slot fits.
        let key = Key {
            slot: slot as u16,
            generation: entry.generation,
        };
        (entry.fd >= 0).then_some((key, entry.fd, entry.file))
    }

    /// One past the last slot that may be taken.
    pub fn slots(&self) -> usize {
        usize::from(self.entry_end)
    }

    /// Unregisters a source. Returns whether the reactor must be woken so that it stops
    /// watching the fd (which would keep the kernel's file alive), and how many leaked waiters
    /// were failed (see below). A key whose registration is gone already (replaced by
    /// [`Registry::evict_stale`]) changes nothing.
    ///
    /// Normally no waiter of the source is left (the borrow checker ties every wait to the
    /// `Async`). A waiter leaked with `mem::forget` can be: it is marked `Failed`, so it never
    /// keeps the fd (or a later source in the same slot) in the poll set; its waker is taken by
    /// the next [`Registry::take_wakers`], and its place stays taken, as leaked things do.
    pub fn remove(&mut self, key: Key) -> Freed {
        if !self.is_current(key) {
            return Freed::default();
        }
        let fd = self.entries[usize::from(key.slot)].fd;
        let mut freed = self.free_entry(usize::from(key.slot));
        if self.mode & ARMING != 0
            && (self.mode & SHARED == 0 || !self.live_entries().iter().any(|e| e.fd == fd))
        {
            freed.unwatch = Some(fd);
        }
        freed
    }

    /// Whether `key` names a live registration.
    fn is_current(&self, key: Key) -> bool {
        self.entries
            .get(usize::from(key.slot))
            .is_some_and(|e| e.fd >= 0 && e.generation == key.generation)
    }

    /// Frees the entry in `slot` (taken) and fails its waiting places.
    fn free_entry(&mut self, slot: usize) -> Freed {
        let entry = &mut self.entries[slot];
        let watched = entry.snap != 0;
        entry.fd = -1;
        entry.file = FileId::UNKNOWN;
        entry.snap = 0;
        entry.ready = 0;
        while let Some(last) = usize::from(self.entry_end).checked_sub(1)
            && self.entries[last].fd < 0
        {
            // `last` < `entry_end` <= N < NIL.
            let end = last as u16;
            self.entry_end = end;
        }
        let mut failed = 0;
        let end = usize::from(self.waiter_end);
        for (index, place) in self.waiters[..end].iter_mut().enumerate() {
            if place.state == State::Waiting && usize::from(place.slot) == slot {
                place.state = State::Failed;
                mark_waiting(&mut self.waiting, index, false);
                failed += 1;
            }
        }
        Freed {
            // A kernel set that holds each fd (epoll) keeps no reference that needs a wake-up.
            wakeup: self.mode & ARMING == 0 && self.request_wakeup(!watched),
            failed,
            unwatch: None,
        }
    }

    /// A new reactor thread takes over after the last one ended ([`Registry::shutdown`]):
    /// requests are accepted again. Registrations stay; the places failed by the shutdown
    /// stay failed until their owners see it.
    pub fn revive(&mut self) {
        self.dead = false;
        self.polling = false;
        self.notified = false;
        let end = usize::from(self.entry_end);
        for entry in &mut self.entries[..end] {
            entry.ready = 0;
        }
    }

    /// Sets `notified` and returns `true` if the reactor is blocked in `poll(2)` without the
    /// interest in question (`!known`) and nobody has asked for a wake-up yet.
    fn request_wakeup(&mut self, known: bool) -> bool {
        if self.polling && !known && !self.notified {
            self.notified = true;
            true
        } else {
            false
        }
    }

    /// A place of `slot` waits for `dir` (again): whether the caller must tell the reactor
    /// ([`Registry::request_wakeup`]) or, in the arming protocol, arm the direction in the
    /// kernel (it is recorded as armed here; see `registry/armed.rs`).
    fn interest_added(&mut self, slot: usize, dir: Direction) -> bool {
        let entry = &mut self.entries[slot];
        let known = entry.snap & dir.bit() != 0;
        if self.mode & ARMING != 0 {
            entry.snap |= dir.bit();
            !known
        } else {
            self.request_wakeup(known)
        }
    }

    /// Adds a waiter for `dir` of `key` with `waker`. On success returns its id and whether the
    /// caller must write the reactor's wake-up fd; on failure hands the waker back (to be
    /// dropped outside the lock).
    ///
    /// # Errors
    ///
    /// See [`AddError`].
    #[allow(clippy::type_complexity)]
    pub fn add_waiter(
        &mut self,
        key: Key,
        dir: Direction,
        waker: Waker,
    ) -> Result<(WaiterId, bool), (AddError, Waker)> {
        if self.dead {
            return Err((AddError::Dead, waker));
        }
        if !self.is_current(key) {
            return Err((AddError::Stale, waker));
        }
        let end = usize::from(self.waiter_end);
        let index = match self
            .live_waiters()
            .iter()
            .position(|w| w.state == State::Free)
        {
            Some(index) => index,
            None if end < W => {
                self.waiter_end += 1;
                end
            }
            None => return Err((AddError::NoPlace, waker)),
        };
        let place = &mut self.waiters[index];
        place.waker = Some(waker);
        place.slot = key.slot;
        place.state = State::Waiting;
        place.dir = dir;
        mark_waiting(&mut self.waiting, index, true);
        let notify = self.interest_added(usize::from(key.slot), dir);
        // W < NIL (checked at compile time), so the index fits.
        let id = WaiterId(index as u16);
        Ok((id, notify))
    }

    /// Checks a waiter. On `Ready`/`Failed` the id is consumed (`*id = None`) and the stored waker,
    /// if any, is returned for dropping outside the lock.
    ///
    /// # Panics
    ///
    /// If `id` is `None`.
    pub fn poll_waiter(
        &mut self,
        id: &mut Option<WaiterId>,
        waker: &Waker,
    ) -> (WaiterPoll, Option<Waker>) {
        let index = usize::from(id.as_ref().expect("poll_waiter without an id").0);
        let place = &mut self.waiters[index];
        match place.state {
            State::Waiting => match &place.waker {
                Some(current) if current.will_wake(waker) => (WaiterPoll::Pending, None),
                _ => (WaiterPoll::NeedsWaker, None),
            },
            State::Woken | State::Failed => {
                let poll = if place.state == State::Woken {
                    WaiterPoll::Ready
                } else {
                    WaiterPoll::Failed
                };
                *id = None;
                (poll, self.free_place(index))
            }
            State::Free => unreachable!("a waiter id names a free place"),
        }
    }

    /// Re-arms a waiter whose owner has just seen `WouldBlock` (the `AsyncRead`/`AsyncWrite`
    /// path): a `Woken` place is taken as *stale* — the readiness it records was consumed by
    /// the owner's successful operations since, or the operation that just failed came after
    /// it — so instead of reporting `Ready` (which would cost the owner one more failing system
    /// call and a new place), it goes back to `Waiting` in the same place, with the same
    /// wake-up rule as [`Registry::add_waiter`]. A `Waiting` place stays so; `Failed` behaves as
    /// in [`Registry::poll_waiter`].
    ///
    /// `waker` is a clone of the owner's waker, made before locking so that one lock does: it
    /// is stored unless the place already holds a waker that wakes the same task. Returns the
    /// poll result (never `NeedsWaker`), whether the caller must write the wake-up fd, and the
    /// wakers to dispose of outside the lock (the one replaced, or the unused clone). A place
    /// parked by an `Async` is shared by every task polling that direction, so the replaced
    /// waker can be another task's: the caller wakes it (see [`crate::reactor`]).
    ///
    /// Never loops on a level-triggered event: the owner retries its operation before every
    /// re-arm, so readiness that is real is consumed by that operation, not re-armed.
    ///
    /// # Panics
    ///
    /// If `id` is `None`.
    pub fn rearm(
        &mut self,
        id: &mut Option<WaiterId>,
        waker: Waker,
    ) -> (WaiterPoll, bool, [Option<Waker>; 2]) {
        let index = usize::from(id.as_ref().expect("rearm without an id").0);
        let place = &mut self.waiters[index];
        let notify = match place.state {
            State::Waiting => false,
            State::Woken => {
                place.state = State::Waiting;
                mark_waiting(&mut self.waiting, index, true);
                let (slot, dir) = (usize::from(place.slot), place.dir);
                self.interest_added(slot, dir)
            }
            State::Failed | State::Free => {
                let (poll, old) = self.poll_waiter(id, &waker);
                return (poll, false, [old, Some(waker)]);
            }
        };
        let place = &mut self.waiters[index];
        let spare = match &place.waker {
            Some(current) if current.will_wake(&waker) => Some(waker),
            _ => place.waker.replace(waker),
        };
        (WaiterPoll::Pending, notify, [spare, None])
    }

    /// Replaces a waiting waiter's waker (after [`WaiterPoll::NeedsWaker`]); if the waiter was
    /// woken meanwhile, behaves like [`Registry::poll_waiter`]. Returns the wakers to dispose of
    /// outside the lock: the one stored before (which may be another task's, see
    /// [`Registry::rearm`]) and, if unused, `waker` itself.
    pub fn replace_waker(
        &mut self,
        id: &mut Option<WaiterId>,
        waker: Waker,
    ) -> (WaiterPoll, [Option<Waker>; 2]) {
        let index = usize::from(id.as_ref().expect("replace_waker without an id").0);
        let place = &mut self.waiters[index];
        if place.state == State::Waiting {
            (WaiterPoll::Pending, [place.waker.replace(waker), None])
        } else {
            let (poll, old) = self.poll_waiter(id, &waker);
            (poll, [old, Some(waker)])
        }
    }

    /// Frees a waiter place whatever its state; returns its waker for dropping outside the lock.
    /// Never wakes anybody (a cancelled wait has nothing to pass on: readiness wakes every
    /// waiter of the direction anyway).
    pub fn cancel(&mut self, id: WaiterId) -> Option<Waker> {
        let index = usize::from(id.0);
        debug_assert_ne!(self.waiters[index].state, State::Free, "double cancel");
        self.free_place(index)
    }

    /// Reactor: records what the next `poll(2)` watches and writes it to `out`; returns how
    /// many entries of `out` are used (at most `N`). Sets `polling` and clears `notified`.
    pub fn snapshot(&mut self, out: &mut [Interest]) -> usize {
        let entries = usize::from(self.entry_end);
        // Two passes: the waiting places set the wanted directions in the scratch bits above the
        // snapshot bits, then each entry's wanted bits replace its snapshot bits.
        let mut waiting = self.waiting_places();
        while let Some(index) = waiting.next(&self.waiters) {
            let place = &self.waiters[index];
            self.entries[usize::from(place.slot)].snap |= place.dir.bit() << WANT_SHIFT;
        }
        let mut n = 0;
        for (slot, entry) in self.entries[..entries].iter_mut().enumerate() {
            let want = entry.snap >> WANT_SHIFT;
            entry.snap = 0;
            if want != 0 && entry.fd >= 0 && n < out.len() {
                entry.snap = want;
                // N < NIL, so the slot fits.
                let slot = slot as u16;
                out[n] = Interest {
                    fd: entry.fd,
                    key: Key {
                        slot,
                        generation: entry.generation,
                    },
                    dirs: want,
                };
                n += 1;
            }
        }
        self.polling = true;
        self.notified = false;
        n
    }

    /// Reactor: `poll(2)` returned; until the next snapshot, added interest needs no wake-up.
    pub fn begin_dispatch(&mut self) {
        self.polling = false;
    }

    /// Reactor: `dirs` of `key` were reported ready. A key whose slot has been freed or reused
    /// since the snapshot is ignored. Call [`Registry::wake_ready`] after the last one.
    pub fn mark_ready(&mut self, key: Key, dirs: u8) {
        let entry = &mut self.entries[usize::from(key.slot)];
        if entry.fd >= 0 && entry.generation == key.generation {
            entry.ready |= dirs;
        }
    }

    /// Reactor: marks `Woken` every waiting place whose source and direction were marked ready,
    /// in one pass over the places (O(sources + places) whatever the number of events), and
    /// clears the marks. Returns how many places were woken.
    pub fn wake_ready(&mut self) -> usize {
        self.wake_ready_into(&mut []).0
    }

    /// [`Registry::wake_ready`] that also moves the wakers of the places it wakes into `out`,
    /// as far as it has room (the rest are left for [`Registry::take_wakers`]): one pass instead
    /// of two. Returns `(woken, taken)`.
    pub fn wake_ready_into(&mut self, out: &mut [Option<Waker>]) -> (usize, usize) {
        let entries = usize::from(self.entry_end);
        let (mut woken, mut taken) = (0, 0);
        let mut waiting = self.waiting_places();
        while let Some(index) = waiting.next(&self.waiters) {
            let place = &mut self.waiters[index];
            if self.entries[usize::from(place.slot)].ready & place.dir.bit() != 0 {
                place.state = State::Woken;
                mark_waiting(&mut self.waiting, index, false);
                woken += 1;
                if let Some(slot) = out.get_mut(taken) {
                    *slot = place.waker.take();
                    taken += 1;
                }
            }
        }
        for entry in &mut self.entries[..entries] {
            entry.ready = 0;
        }
        (woken, taken)
    }

    /// [`Registry::mark_ready`] for one key followed by [`Registry::wake_ready`].
    pub fn dispatch(&mut self, key: Key, dirs: u8) -> usize {
        self.mark_ready(key, dirs);
        self.wake_ready()
    }

    /// Moves the wakers of woken or failed places into `out` (up to its length); returns how
    /// many. Call repeatedly until it returns less than `out.len()`.
    pub fn take_wakers(&mut self, out: &mut [Option<Waker>]) -> usize {
        let mut n = 0;
        let end = usize::from(self.waiter_end);
        for place in &mut self.waiters[..end] {
            if n == out.len() {
                break;
            }
            if matches!(place.state, State::Woken | State::Failed)
                && let Some(waker) = place.waker.take()
            {
                out[n] = Some(waker);
                n += 1;
            }
        }
        n
    }

    /// The reactor thread is gone: every waiting place fails, every later request is refused.
    pub fn shutdown(&mut self) {
        self.dead = true;
        self.polling = false;
        let end = usize::from(self.waiter_end);
        for place in &mut self.waiters[..end] {
            if place.state == State::Waiting {
                place.state = State::Failed;
            }
        }
        self.waiting = 0;
    }
}

/// Checks the `waiting` mask against the places' states (debug builds, tests).
impl<const N: usize, const W: usize> Registry<N, W> {
    fn check_waiting(&self) {
        if cfg!(debug_assertions) {
            for (index, place) in self.waiters.iter().enumerate().take(MASKED) {
                debug_assert_eq!(
                    self.waiting & (1 << index) != 0,
                    place.state == State::Waiting,
                    "waiting mask out of date for place {index}"
                );
            }
        }
    }
}

mod armed;
#[cfg(all(test, not(loom)))]
mod tests;

pub use armed::{ARMING, SHARED};
