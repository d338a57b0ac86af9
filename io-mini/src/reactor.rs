//! The reactor: a [`Registry`] behind a mutex, the waiting protocol tasks use, and the
//! dispatch step of the reactor thread. System calls are left to the caller (the
//! [`Wakeup`] hook and the thread in [`crate::driver`]) so that loom can run this code.
//!
//! # Protocol
//!
//! A task waiting for a direction of a source ([`Core::poll_wait`]):
//!
//! 1. first poll — clone the waker (outside the lock), lock, [`Registry::add_waiter`], unlock;
//!    if the registry says the reactor does not know this interest yet, call
//!    [`Wakeup::wakeup`] once (one eventfd write), then return `Pending`;
//! 2. later polls — lock, [`Registry::poll_waiter`]: `Ready` once the reactor has dispatched the
//!    direction, `Pending` otherwise (the stored waker is replaced, cloned outside the lock, only
//!    when it would not wake the current task);
//! 3. drop before `Ready` — [`Core::cancel`]: the place is freed, nobody is woken.
//!
//! `AsyncRead`/`AsyncWrite` keep their place between calls and use [`Core::poll_rearm`] right
//! after a `WouldBlock`: as step 2, except that a place already woken is re-armed (its
//! readiness was used up by the calls that succeeded since) instead of reported `Ready`, which
//! would only cost another failing system call and a new place ([`Registry::rearm`]).
//!
//! # Shared places: a displaced task is woken
//!
//! The place that `poll_readable`/`poll_writable` and the `AsyncRead`/`AsyncWrite` impls park
//! in an `Async` ([`Core::poll_parked`]) holds one waker per direction, and nothing stops two
//! tasks from using it at once (two readers of one `&Async`). When the second one stores its
//! waker, the first one's is *displaced*: it is handed back by the registry and **woken**
//! (outside the lock, inside `catch_unwind`), never just dropped, so the first task polls
//! again and re-registers instead of hanging. The same holds for a place the registry frees
//! while it still holds another task's waker, and for the place of a racing task that
//! [`Core::poll_parked`] cancels. The price of such sharing is spurious wake-ups: two tasks
//! waiting on one direction take turns displacing each other until readiness comes (async-io
//! behaves the same way). A readiness future ([`Core::poll_wait`]) owns its place, so a waker
//! it replaces is the same future's older one (the future moved) and is dropped.
//!
//! The reactor thread takes a [`Core::snapshot`] once, then loops: `poll(2)`, [`Core::turn`].
//! A turn marks the ready waiters woken under the lock, taking up to [`WAKE_CHUNK`] of their
//! wakers in the same pass, wakes them after unlocking (more than a chunk are taken and woken
//! a chunk per lock), and only then locks again for the next snapshot: a task it woke that
//! waits again at once often registers before that snapshot, and then needs no eventfd write.
//! A turn woken by the eventfd alone takes the snapshot in its only lock.
//! If the reactor thread ends for any reason, [`Core::shutdown`] fails every waiter and every
//! request with an `io::Error` (nothing waits forever on a reactor that is gone) until a new
//! thread starts after [`Core::revive`].
//!
//! # User code
//!
//! Wakers (`clone`, `wake`, `drop`) and the logger are user code, and any of them may panic.
//! None of them runs under the lock, so a panic never leaves the registry half-updated.
//! Every wake runs inside [`contain`], which also survives a panic payload whose `Drop`
//! panics and a logger that panics reporting the panic: the reactor thread never dies of a
//! waker. A panicking `clone` or `drop` on a task's thread unwinds into that task, after the
//! registry is consistent: [`Core::poll_parked`] parks its place again on the way out (a
//! guard), and [`Core::deregister`] wakes the reactor before it drops the wakers it freed.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Poll, Waker};

use sync_core::sync::atomic::{AtomicU16, Ordering::AcqRel};

use crate::registry::{
    AddError, Direction, FileId, Freed, InsertError, Interest, Key, NIL, Registry, WaiterId,
    WaiterPoll,
};
use sync_core::lock::Mutex;

/// How many wakers the reactor takes out of the registry per lock when waking.
pub const WAKE_CHUNK: usize = 8;

/// The reactor's system side: how the reactor thread is told to re-read the registry (an
/// eventfd write for `poll(2)`), or, for a kernel set that holds every fd (epoll), how fds are
/// added, armed and removed. See `registry/armed.rs` for the arming protocol.
pub trait Wakeup {
    /// `true`: the arming protocol (`watch`/`arm`/`unwatch` are called, under the registry's
    /// lock); `false`: the snapshot protocol (only `wakeup` is called).
    const ARMS: bool = false;

    /// Interrupts the reactor's wait.
    fn wakeup(&self);

    /// Adds `fd` (registration `key`) to the kernel set with `dirs` armed; an fd already in it
    /// (registered twice) is re-armed with `dirs` and tagged with `key`.
    ///
    /// # Errors
    ///
    /// The kernel refused the fd; the registration is undone.
    fn watch(&self, fd: i32, key: Key, dirs: u8) -> io::Result<()> {
        let _ = (fd, key, dirs);
        Ok(())
    }

    /// Arms exactly `dirs` of `fd` for one report, tagged with `key`.
    ///
    /// # Errors
    ///
    /// The kernel refused; the waiting places are woken instead.
    fn arm(&self, fd: i32, key: Key, dirs: u8) -> io::Result<()> {
        let _ = (fd, key, dirs);
        Ok(())
    }

    /// Takes `fd` out of the kernel set (its last registration is gone; it is still open).
    fn unwatch(&self, fd: i32) {
        let _ = fd;
    }
}

/// The registry behind its lock plus the wake-up hook.
#[derive(Debug)]
pub struct Core<const N: usize, const W: usize, S> {
    registry: Mutex<Registry<N, W>>,
    wakeup: S,
}

fn insert_error(err: InsertError) -> io::Error {
    match err {
        InsertError::Full => io::Error::new(
            io::ErrorKind::OutOfMemory,
            "io-mini: the reactor registry is full (raise IO_MINI_MAX_SOURCES)",
        ),
        InsertError::Duplicate => io::Error::new(
            io::ErrorKind::AlreadyExists,
            "io-mini: this socket is already registered",
        ),
        InsertError::BadFd => io::Error::new(
            io::ErrorKind::InvalidInput,
            "io-mini: invalid file descriptor",
        ),
        InsertError::Dead => dead(),
    }
}

fn dead() -> io::Error {
    io::Error::other("io-mini: the reactor thread is not running")
}

fn add_error(err: AddError) -> io::Error {
    match err {
        AddError::NoPlace => io::Error::new(
            io::ErrorKind::OutOfMemory,
            "io-mini: every waiter place is taken (raise IO_MINI_MAX_WAITERS)",
        ),
        AddError::Dead => dead(),
        AddError::Stale => io::Error::other(
            "io-mini: this handle's registration was replaced: its fd was closed behind its back",
        ),
    }
}

/// Runs user code (a waker, the logger) and swallows a panic, so that the reactor thread (or
/// the task that called) goes on. Returns whether `f` panicked.
///
/// The panic payload is user data too: its `Drop` can panic again, so it is dropped inside a
/// second `catch_unwind`, and a payload of *that* panic is leaked rather than dropped.
pub(crate) fn contain(f: impl FnOnce()) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => false,
        Err(payload) => {
            if let Err(again) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
                core::mem::forget(again);
            }
            true
        }
    }
}

/// Wakes `waker`; a panic (of the waker, its payload's drop, or the logger reporting it) is
/// swallowed so that the reactor (or the task that displaced the waker) goes on.
fn wake(waker: Waker) {
    if contain(|| waker.wake()) {
        contain(|| log::error!("io-mini: a waker panicked; ignored"));
    }
}

/// Disposes of wakers the registry handed back, after unlocking. In a `shared` place (an
/// `Async`'s parked one), a waker of another task than the polling one (`current`) belongs to
/// a task that has just been displaced: it is woken, so that the task polls again instead of
/// waiting for a wake-up that will never come. Everything else (the caller's unused clone, an
/// older waker of the same task or future) is dropped.
///
/// "Another task" means neither `will_wake` nor the same data pointer. `will_wake` alone can
/// say no for two clones of one waker, when the vtable was duplicated across codegen units
/// (loom's `block_on` does this); waking such a "displaced" waker would make a lone task wake
/// itself on every poll, a busy loop. Two wakers with one data pointer and different vtables
/// that stand for different tasks are not known to exist.
fn release<const K: usize>(mut wakers: [Option<Waker>; K], current: &Waker, shared: bool) {
    // Taken out one by one rather than iterated by value: no iterator state to drop after.
    for slot in &mut wakers {
        if let Some(old) = slot.take()
            && shared
            && !old.will_wake(current)
            && old.data() != current.data()
        {
            wake(old);
        }
    }
    // Every element is `None` now (a panicking `drop` above unwinds past this instead).
    core::mem::forget(wakers);
}

/// A place taken out of an `Async`'s parked cell by [`Core::poll_parked`]; parks it back on
/// drop. If another task parked a place meanwhile, that one is cancelled and its waker woken.
struct Taken<'a, const N: usize, const W: usize, S: Wakeup> {
    core: &'a Core<N, W, S>,
    parked: &'a AtomicU16,
    waker: &'a Waker,
    id: Option<WaiterId>,
}

impl<const N: usize, const W: usize, S: Wakeup> Drop for Taken<'_, N, W, S> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let other = self.parked.swap(id.into_raw(), AcqRel);
            if other != NIL {
                let old = self.core.registry.lock().cancel(WaiterId::from_raw(other));
                release([old], self.waker, true);
            }
        }
    }
}

impl<const N: usize, const W: usize, S: Wakeup> Core<N, W, S> {
    sync_core::const_fn! {
        /// An empty reactor core.
        pub const fn new(wakeup: S) -> Self {
            let registry = if S::ARMS { Registry::arming() } else { Registry::new() };
            Self { registry: Mutex::new(registry), wakeup }
        }
    }

    /// The wake-up hook.
    pub fn hook(&self) -> &S {
        &self.wakeup
    }

    /// Registers `fd`, which names `file`, first freeing the entries of the same fd that are
    /// stale (a different file: see [`Registry::evict_stale`] and the registry's module docs).
    ///
    /// # Errors
    ///
    /// Full registry (`OutOfMemory`), socket already registered (`AlreadyExists`), negative fd
    /// (`InvalidInput`), reactor gone (`Other`).
    pub fn register(&self, fd: i32, file: FileId) -> io::Result<Key> {
        let (inserted, freed) = {
            let mut registry = self.registry.lock();
            let freed = if fd >= 0 {
                registry.evict_stale(fd, file)
            } else {
                Freed::default()
            };
            let mut inserted = registry.insert(fd, file).map_err(insert_error);
            if S::ARMS
                && let Ok(key) = inserted
            {
                let (fd, dirs) = registry.arm_request(key);
                if let Err(err) = self.wakeup.watch(fd, key, dirs) {
                    // Nothing can wait on it yet: the entry goes as if never inserted.
                    registry.remove(key);
                    inserted = Err(err);
                }
            }
            (inserted, freed)
        };
        self.after_free(freed);
        inserted
    }

    /// Frees every registration for which `is_stale(fd, file)` says that its fd is closed or
    /// names another file now (see the registry's module docs), asking outside the lock, one
    /// entry at a time. For a full registry. Returns how many were freed.
    pub fn sweep(&self, mut is_stale: impl FnMut(i32, FileId) -> bool) -> usize {
        let mut swept = 0;
        let mut slot = 0;
        loop {
            let entry = {
                let registry = self.registry.lock();
                if slot >= registry.slots() {
                    return swept;
                }
                registry.entry(slot)
            };
            if let Some((key, fd, file)) = entry
                && is_stale(fd, file)
            {
                let freed = {
                    let mut registry = self.registry.lock();
                    // The entry may have been removed (and its slot reused) meanwhile.
                    let current = registry.entry(slot).is_some_and(|(now, ..)| now == key);
                    // A stale entry's fd is closed or names another file: nothing to unwatch.
                    current.then(|| Freed {
                        unwatch: None,
                        ..registry.remove(key)
                    })
                };
                if let Some(freed) = freed {
                    self.after_free(freed);
                    swept += 1;
                }
            }
            slot += 1;
        }
    }

    /// Wakes the reactor and the failed leaked waiters, as `freed` asks.
    fn after_free(&self, freed: Freed) {
        if freed.wakeup {
            self.wakeup.wakeup();
        }
        if freed.failed > 0 {
            // Waits leaked with their source were failed: hand their wakers back.
            self.wake_marked();
        }
    }

    /// Unregisters a source, freeing the waiter places it owns (`own`: the `poll_readable` /
    /// `poll_writable` places). Wakes nobody.
    ///
    /// The wakers of those places are dropped last, after the reactor has been told to stop
    /// watching the fd: a waker whose `drop` panics cannot keep the file open.
    pub fn deregister(&self, key: Key, own: [Option<WaiterId>; 2]) {
        let mut dropped: [Option<Waker>; 2] = [None, None];
        let freed = {
            let mut registry = self.registry.lock();
            for (slot, id) in dropped.iter_mut().zip(own) {
                if let Some(id) = id {
                    *slot = registry.cancel(id);
                }
            }
            let freed = registry.remove(key);
            if let Some(fd) = freed.unwatch {
                // Under the lock: a new registration of the same fd cannot slip in between.
                self.wakeup.unwatch(fd);
            }
            freed
        };
        self.after_free(freed);
        drop(dropped);
    }

    /// Waits for `dir` of `key` with the waiter place in `id`, owned by the caller alone (see
    /// the module docs).
    pub fn poll_wait(
        &self,
        key: Key,
        dir: Direction,
        id: &mut Option<WaiterId>,
        waker: &Waker,
    ) -> Poll<io::Result<()>> {
        self.poll_place(key, dir, id, waker, false)
    }

    /// The place parked in an `Async` for `dir` (`parked`, [`NIL`] for none), shared by every
    /// task that polls this direction: takes it, waits with it ([`Core::poll_rearm`] if
    /// `rearm`, else as [`Core::poll_wait`]) and parks it again. A waker displaced from the
    /// place is woken (see the module docs).
    ///
    /// `parked` is only swapped, never read-modify-written, so every place has exactly one
    /// owner at a time even when tasks race: the loser of a race finds the winner's place
    /// parked again, keeps its own and cancels the other, waking the waker it held.
    pub fn poll_parked(
        &self,
        parked: &AtomicU16,
        key: Key,
        dir: Direction,
        waker: &Waker,
        rearm: bool,
    ) -> Poll<io::Result<()>> {
        let raw = parked.swap(NIL, AcqRel);
        // Parks the place again when dropped, also when a waker's `clone` or `drop` panics
        // below: the place stays the `Async`'s instead of being lost.
        let mut taken = Taken {
            core: self,
            parked,
            waker,
            id: (raw != NIL).then(|| WaiterId::from_raw(raw)),
        };
        if rearm {
            self.poll_rearm(key, dir, &mut taken.id, waker)
        } else {
            self.poll_place(key, dir, &mut taken.id, waker, true)
        }
    }

    /// [`Core::poll_wait`]; `shared`: the place is an `Async`'s parked one (see
    /// [`release`]).
    fn poll_place(
        &self,
        key: Key,
        dir: Direction,
        id: &mut Option<WaiterId>,
        waker: &Waker,
        shared: bool,
    ) -> Poll<io::Result<()>> {
        if id.is_none() {
            let clone = waker.clone();
            let (added, armed) = {
                let mut registry = self.registry.lock();
                let added = registry.add_waiter(key, dir, clone);
                let armed = match added {
                    Ok((_, true)) if S::ARMS => self.arm_locked(&mut registry, key, dir),
                    _ => true,
                };
                (added, armed)
            };
            return match added {
                Ok((new, notify)) => {
                    *id = Some(new);
                    if notify && !S::ARMS {
                        self.wakeup.wakeup();
                    }
                    if !armed {
                        self.wake_marked();
                    }
                    Poll::Pending
                }
                Err((err, clone)) => {
                    drop(clone);
                    Poll::Ready(Err(add_error(err)))
                }
            };
        }
        let (poll, old) = self.registry.lock().poll_waiter(id, waker);
        release([old], waker, shared);
        self.finish_poll(poll, id, waker, shared)
    }

    /// [`Core::poll_wait`] for a caller that has just seen `WouldBlock` (see
    /// [`Registry::rearm`]): a place already woken is re-armed instead of reported `Ready`.
    /// The place is taken to be shared: a displaced waker is woken (see the module docs).
    pub fn poll_rearm(
        &self,
        key: Key,
        dir: Direction,
        id: &mut Option<WaiterId>,
        waker: &Waker,
    ) -> Poll<io::Result<()>> {
        if id.is_none() {
            return self.poll_place(key, dir, id, waker, true);
        }
        let clone = waker.clone();
        let (poll, notify, spare, armed) = {
            let mut registry = self.registry.lock();
            let (poll, notify, spare) = registry.rearm(id, clone);
            let armed = !(S::ARMS && notify) || self.arm_locked(&mut registry, key, dir);
            (poll, notify, spare, armed)
        };
        if notify && !S::ARMS {
            self.wakeup.wakeup();
        }
        if !armed {
            self.wake_marked();
        }
        release(spare, waker, true);
        self.finish_poll(poll, id, waker, true)
    }

    /// Arming protocol: arms the fd of `key` as the registry now records it, under the lock.
    /// On failure the direction's waiting places are marked woken and `false` is returned: the
    /// caller wakes them after unlocking ([`Core::wake_marked`]).
    fn arm_locked(&self, registry: &mut Registry<N, W>, key: Key, dir: Direction) -> bool {
        let (fd, dirs) = registry.arm_request(key);
        if self.wakeup.arm(fd, key, dirs).is_ok() {
            return true;
        }
        registry.arm_failed(key, dir);
        false
    }

    /// Stores a clone of `waker` if the registry asked for one, and maps the result.
    fn finish_poll(
        &self,
        mut poll: WaiterPoll,
        id: &mut Option<WaiterId>,
        waker: &Waker,
        shared: bool,
    ) -> Poll<io::Result<()>> {
        if poll == WaiterPoll::NeedsWaker {
            let clone = waker.clone();
            let (again, old) = self.registry.lock().replace_waker(id, clone);
            release(old, waker, shared);
            poll = again;
        }
        match poll {
            WaiterPoll::Ready => Poll::Ready(Ok(())),
            WaiterPoll::Failed => Poll::Ready(Err(dead())),
            WaiterPoll::Pending | WaiterPoll::NeedsWaker => Poll::Pending,
        }
    }

    /// Gives up a waiter place (a dropped future). Wakes nobody.
    pub fn cancel(&self, id: WaiterId) {
        let waker = self.registry.lock().cancel(id);
        drop(waker);
    }

    /// Reactor: takes the snapshot of what to watch (see [`Registry::snapshot`]).
    pub fn snapshot(&self, out: &mut [Interest]) -> usize {
        self.registry.lock().snapshot(out)
    }

    /// Reactor: `poll(2)` returned. `ready` lists `(key, ready directions)`; their waiters are
    /// woken (outside the lock). Returns how many waiters were woken.
    pub fn dispatch(&self, ready: impl IntoIterator<Item = (Key, u8)>) -> usize {
        let mut chunk: [Option<Waker>; WAKE_CHUNK] = Default::default();
        let (woken, taken) = {
            let mut registry = self.registry.lock();
            registry.begin_dispatch();
            let mut any = false;
            for (key, dirs) in ready {
                registry.mark_ready(key, dirs);
                any = true;
            }
            if any {
                registry.wake_ready_into(&mut chunk)
            } else {
                (0, 0)
            }
        };
        self.finish_wakes(woken, taken, chunk)
    }

    /// Reactor, arming protocol: the kernel reported `events` (`(key, fd, directions)`, each fd
    /// now disarmed). Their waiters are woken (outside the lock) and the fds that still have
    /// waiters are re-armed (under it). Returns how many waiters were woken.
    pub fn dispatch_events(&self, events: &[(Key, i32, u8)]) -> usize {
        let mut chunk: [Option<Waker>; WAKE_CHUNK] = Default::default();
        let (woken, taken) = {
            let mut registry = self.registry.lock();
            for &(key, fd, dirs) in events {
                registry.mark_event(key, fd, dirs);
            }
            registry.wake_events_into(events, &mut chunk, |fd, key, dirs| {
                self.wakeup.arm(fd, key, dirs).is_ok()
            })
        };
        self.finish_wakes(woken, taken, chunk)
    }

    /// Reactor: one turn of the loop — dispatches the `poll(2)` result, wakes, then takes the
    /// next snapshot.
    ///
    /// On entry `io[..len]` is the last snapshot with each `dirs` narrowed to the directions
    /// reported ready (0: none); their waiters are marked woken and woken after unlocking. On
    /// return `io` holds the next snapshot (as [`Core::snapshot`]), whose length is returned.
    ///
    /// The snapshot is taken *after* waking, in a second lock: a woken task that quickly waits
    /// again (read, `WouldBlock`, wait) often registers before it and then needs no eventfd
    /// write and no extra `poll(2)` round (measured: taking the snapshot in the dispatch lock,
    /// before waking, cost about 60 % more instructions per TCP echo round trip).
    pub fn turn(&self, io: &mut [Interest], len: usize) -> usize {
        if io[..len].iter().all(|i| i.dirs == 0) {
            // Woken by the eventfd (or EINTR) only: nobody to wake, so one lock does.
            return self.snapshot(io);
        }
        self.dispatch(
            io[..len]
                .iter()
                .filter(|i| i.dirs != 0)
                .map(|i| (i.key, i.dirs)),
        );
        self.snapshot(io)
    }

    /// Wakes the `taken` wakers of `chunk`, then, if more than that were `woken`, the rest.
    fn finish_wakes(
        &self,
        woken: usize,
        taken: usize,
        mut chunk: [Option<Waker>; WAKE_CHUNK],
    ) -> usize {
        // The registry fills the chunk from the front: only the first `taken` hold wakers.
        for waker in chunk.iter_mut().take(taken).filter_map(Option::take) {
            wake(waker);
        }
        // Every element is `None` now: skip the drop glue's pass over the array.
        core::mem::forget(chunk);
        if woken > taken {
            taken + self.wake_marked()
        } else {
            taken
        }
    }

    /// Wakes every waiter marked woken or failed, [`WAKE_CHUNK`] at a time, outside the lock.
    fn wake_marked(&self) -> usize {
        let mut total = 0;
        loop {
            let mut chunk: [Option<Waker>; WAKE_CHUNK] = Default::default();
            let n = self.registry.lock().take_wakers(&mut chunk);
            for waker in chunk.iter_mut().filter_map(Option::take) {
                wake(waker);
            }
            total += n;
            if n < WAKE_CHUNK {
                return total;
            }
        }
    }

    /// The reactor thread is gone: fails every waiter (waking it) and every later request,
    /// until [`Core::revive`].
    pub fn shutdown(&self) {
        self.registry.lock().shutdown();
        self.wake_marked();
    }

    /// A new reactor thread is about to start after [`Core::shutdown`]: requests are accepted
    /// again (see [`Registry::revive`]).
    pub fn revive(&self) {
        self.registry.lock().revive();
    }

    /// Whether [`Core::shutdown`] ran.
    pub fn is_dead(&self) -> bool {
        self.registry.lock().is_dead()
    }

    /// `(registered sources, waiter places in use)`, for tests and diagnostics.
    pub fn usage(&self) -> (usize, usize) {
        let registry = self.registry.lock();
        (registry.sources(), registry.waiters())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::registry::{Direction, WaiterId};
    use sync_core::testing::WakeCounter;

    /// Counts wake-up writes instead of writing an eventfd.
    #[derive(Default)]
    struct Count(std::sync::atomic::AtomicUsize);

    impl Wakeup for Count {
        fn wakeup(&self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    impl Count {
        fn get(&self) -> usize {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[test]
    fn reactor_gone_fails_pending_and_new_operations() {
        let core = Core::<2, 2, Count>::new(Count::default());
        let counter = WakeCounter::new();
        let waker = counter.waker();
        let key = core.register(7, FileId::UNKNOWN).unwrap();
        let mut id = None;
        assert!(
            core.poll_wait(key, Direction::Read, &mut id, &waker)
                .is_pending()
        );
        core.shutdown();
        assert_eq!(counter.wakes(), 1, "the pending waiter is woken");
        match core.poll_wait(key, Direction::Read, &mut id, &waker) {
            Poll::Ready(Err(err)) => assert!(err.to_string().contains("not running")),
            other => panic!("expected an error, got {other:?}"),
        }
        assert!(id.is_none());
        assert!(matches!(
            core.poll_wait(key, Direction::Write, &mut None, &waker),
            Poll::Ready(Err(_))
        ));
        assert_eq!(
            core.register(8, FileId::UNKNOWN).unwrap_err().kind(),
            io::ErrorKind::Other
        );
        core.deregister(key, [None, None]);
        drop(waker);
        assert_eq!(counter.live(), 0);
    }

    #[test]
    fn turn_wakes_the_ready_waiters_then_takes_the_next_snapshot() {
        let core = Core::<2, 4, Count>::new(Count::default());
        let counter = WakeCounter::new();
        let waker = counter.waker();
        let (a, b) = (
            core.register(7, FileId::UNKNOWN).unwrap(),
            core.register(8, FileId::UNKNOWN).unwrap(),
        );
        let (mut wa, mut wb) = (None, None);
        for (key, id) in [(a, &mut wa), (b, &mut wb)] {
            assert!(
                core.poll_wait(key, Direction::Read, id, &waker)
                    .is_pending()
            );
        }
        let mut io = [Interest::EMPTY; 2];
        let n = core.snapshot(&mut io);
        assert_eq!(n, 2);
        let watched = io;
        // Woken by the eventfd only: nobody is woken, the snapshot is the same.
        for i in &mut io {
            i.dirs = 0;
        }
        assert_eq!(core.turn(&mut io, n), 2);
        assert_eq!((io, counter.wakes()), (watched, 0));
        // `b` readable: its waiter is woken, `a` stays watched.
        let b_at = usize::from(io[1].fd == 8);
        io[1 - b_at].dirs = 0;
        assert_eq!(core.turn(&mut io, n), 1);
        assert_eq!(counter.wakes(), 1);
        assert_eq!(io[0], watched[1 - b_at]);
        assert!(
            core.poll_wait(b, Direction::Read, &mut wb, &waker)
                .is_ready()
        );
        assert!(
            core.poll_wait(a, Direction::Read, &mut wa, &waker)
                .is_pending()
        );
        core.cancel(wa.take().unwrap());
        core.deregister(a, [None, None]);
        core.deregister(b, [None, None]);
        assert_eq!(core.usage(), (0, 0));
        assert_eq!(
            core.hook().get(),
            1,
            "no write for waiters; one for removing watched sources while polling"
        );
        drop(waker);
        assert_eq!(counter.live(), 0);
    }

    #[test]
    fn turn_wakes_more_waiters_than_a_chunk() {
        let core = Core::<1, 12, Count>::new(Count::default());
        let counter = WakeCounter::new();
        let waker = counter.waker();
        let key = core.register(7, FileId::UNKNOWN).unwrap();
        let mut ids: Vec<Option<WaiterId>> = (0..11).map(|_| None).collect();
        for id in &mut ids {
            assert!(
                core.poll_wait(key, Direction::Write, id, &waker)
                    .is_pending()
            );
        }
        let mut io = [Interest::EMPTY; 1];
        assert_eq!(core.snapshot(&mut io), 1);
        assert_eq!(core.turn(&mut io, 1), 0, "nobody waits any more");
        assert_eq!(counter.wakes(), 11);
        for id in &mut ids {
            assert!(core.poll_wait(key, Direction::Write, id, &waker).is_ready());
        }
        core.deregister(key, [None, None]);
        assert_eq!(core.usage(), (0, 0));
        drop(waker);
        assert_eq!(counter.live(), 0);
    }

    #[test]
    fn one_wakeup_write_per_new_interest() {
        let core = Core::<2, 4, Count>::new(Count::default());
        let counter = WakeCounter::new();
        let waker = counter.waker();
        let key = core.register(7, FileId::UNKNOWN).unwrap();
        let mut out = [Interest::EMPTY; 2];
        assert_eq!(core.snapshot(&mut out), 0);
        // The reactor sleeps without this fd: the first waiter writes once...
        let mut a = None;
        assert!(
            core.poll_wait(key, Direction::Read, &mut a, &waker)
                .is_pending()
        );
        assert_eq!(core.hook().get(), 1);
        // ...a second waiter on another direction before the reactor re-snapshots does not.
        let mut b = None;
        assert!(
            core.poll_wait(key, Direction::Write, &mut b, &waker)
                .is_pending()
        );
        // Re-polling an existing waiter never writes.
        assert!(
            core.poll_wait(key, Direction::Read, &mut a, &waker)
                .is_pending()
        );
        assert_eq!(core.hook().get(), 1);
        assert_eq!(core.dispatch([(key, crate::registry::READ)]), 1);
        assert_eq!(counter.wakes(), 1);
        assert!(
            core.poll_wait(key, Direction::Read, &mut a, &waker)
                .is_ready()
        );
        core.cancel(b.take().unwrap());
        core.deregister(key, [None, None]);
        assert_eq!(core.usage(), (0, 0));
    }

    #[test]
    fn a_waker_displaced_from_a_shared_place_is_woken() {
        let core = Core::<1, 2, Count>::new(Count::default());
        let (c1, c2) = (WakeCounter::new(), WakeCounter::new());
        let (w1, w2) = (c1.waker(), c2.waker());
        let key = core.register(7, FileId::UNKNOWN).unwrap();
        let parked = AtomicU16::new(NIL);
        let poll = |waker: &Waker, rearm: bool| {
            core.poll_parked(&parked, key, Direction::Read, waker, rearm)
        };
        assert!(poll(&w1, false).is_pending());
        // The same task again (a clone): nobody is displaced.
        assert!(poll(&w1.clone(), false).is_pending());
        assert!(poll(&w1, true).is_pending());
        assert_eq!(c1.wakes(), 0);
        // Another task: the first one's waker is handed back and woken, through both paths.
        assert!(poll(&w2, false).is_pending());
        assert_eq!((c1.wakes(), c1.live()), (1, 1), "woken and dropped");
        assert!(poll(&w1, true).is_pending());
        assert_eq!((c2.wakes(), c2.live()), (1, 1));
        // Readiness wakes the task stored last; the other one then consumes it, and nobody
        // is displaced (the reactor already took the waker).
        assert_eq!(core.dispatch([(key, crate::registry::READ)]), 1);
        assert_eq!(c1.wakes(), 2);
        assert!(matches!(poll(&w2, false), Poll::Ready(Ok(()))));
        assert_eq!((c1.wakes(), c2.wakes()), (2, 1));
        assert_eq!(parked.load(sync_core::sync::atomic::Ordering::Acquire), NIL);
        // A readiness future owns its place: a new waker replaces the old one silently.
        let mut id = None;
        assert!(
            core.poll_wait(key, Direction::Read, &mut id, &w1)
                .is_pending()
        );
        assert!(
            core.poll_wait(key, Direction::Read, &mut id, &w2)
                .is_pending()
        );
        assert_eq!((c1.wakes(), c1.live()), (2, 1));
        core.cancel(id.take().unwrap());
        core.deregister(key, [None, None]);
        assert_eq!(core.usage(), (0, 0));
        drop((w1, w2));
        assert_eq!((c1.live(), c2.live()), (0, 0));
    }

    #[test]
    fn register_replaces_a_stale_entry_and_wakes_its_leaked_waiter() {
        let core = Core::<2, 2, Count>::new(Count::default());
        let counter = WakeCounter::new();
        let (old, new) = (FileId::new(1, 10, true), FileId::new(1, 11, true));
        let stale = core.register(7, old).unwrap();
        let mut leaked = None;
        assert!(
            core.poll_wait(stale, Direction::Read, &mut leaked, &counter.waker())
                .is_pending()
        );
        let mut out = [Interest::EMPTY; 2];
        assert_eq!(core.snapshot(&mut out), 1);
        // A live duplicate is refused.
        let err = core.register(7, old).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!((core.hook().get(), counter.wakes()), (0, 0));
        // Another socket on fd 7: the reactor is told to drop the old file, the leaked waiter
        // is woken with a failure, and the new registration works.
        let key = core.register(7, new).unwrap();
        assert_eq!((core.hook().get(), counter.wakes()), (1, 1));
        assert!(matches!(
            core.poll_wait(stale, Direction::Read, &mut leaked, &counter.waker()),
            Poll::Ready(Err(_))
        ));
        let mut id = None;
        let err = core.poll_wait(stale, Direction::Read, &mut id, &counter.waker());
        assert!(matches!(err, Poll::Ready(Err(e)) if e.to_string().contains("replaced")));
        core.deregister(stale, [None, None]);
        assert_eq!(core.usage(), (1, 0), "the stale key removed nothing");
        core.deregister(key, [None, None]);
        assert_eq!(core.usage(), (0, 0));
    }

    #[test]
    fn sweep_frees_only_what_is_stale() {
        let core = Core::<3, 2, Count>::new(Count::default());
        let keys: Vec<_> = (0..3)
            .map(|fd| core.register(fd, FileId::new(1, fd.unsigned_abs().into(), true)))
            .collect::<io::Result<_>>()
            .unwrap();
        assert_eq!(
            core.register(9, FileId::UNKNOWN).unwrap_err().kind(),
            io::ErrorKind::OutOfMemory
        );
        let mut asked = Vec::new();
        let swept = core.sweep(|fd, _| {
            asked.push(fd);
            fd == 1
        });
        assert_eq!((swept, asked), (1, vec![0, 1, 2]));
        assert_eq!(core.usage(), (2, 0));
        assert!(core.register(9, FileId::UNKNOWN).is_ok());
        // An entry removed between the check and the removal is left alone (its slot may have
        // a new owner by then).
        let swept = core.sweep(|fd, _| {
            if fd == 2 {
                core.deregister(keys[2], [None, None]);
                assert!(core.register(5, FileId::UNKNOWN).is_ok());
            }
            fd == 2
        });
        assert_eq!(swept, 0);
        assert_eq!(core.usage(), (3, 0));
    }

    #[test]
    fn a_place_survives_a_waker_whose_clone_panics() {
        let core = Core::<1, 2, Count>::new(Count::default());
        let counter = WakeCounter::new();
        let key = core.register(7, FileId::UNKNOWN).unwrap();
        let parked = AtomicU16::new(NIL);
        let waker = counter.waker();
        assert!(
            core.poll_parked(&parked, key, Direction::Read, &waker, true)
                .is_pending()
        );
        let bad = counter.panicking_clone();
        for rearm in [true, false] {
            let polled = std::panic::catch_unwind(AssertUnwindSafe(|| {
                core.poll_parked(&parked, key, Direction::Read, &bad, rearm)
            }));
            assert!(polled.is_err());
            assert_ne!(
                parked.load(sync_core::sync::atomic::Ordering::Acquire),
                NIL,
                "still parked"
            );
        }
        assert_eq!(core.usage(), (1, 1));
        let raw = parked.swap(NIL, AcqRel);
        core.deregister(key, [Some(WaiterId::from_raw(raw)), None]);
        assert_eq!(core.usage(), (0, 0));
    }

    #[test]
    fn deregister_wakes_the_reactor_before_dropping_wakers() {
        struct DropPanics;
        impl std::task::Wake for DropPanics {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        impl Drop for DropPanics {
            fn drop(&mut self) {
                panic!("this waker's drop panics (on purpose)");
            }
        }
        let core = Core::<1, 1, Count>::new(Count::default());
        let key = core.register(7, FileId::UNKNOWN).unwrap();
        let parked = AtomicU16::new(NIL);
        let waker = Waker::from(std::sync::Arc::new(DropPanics));
        assert!(
            core.poll_parked(&parked, key, Direction::Read, &waker, false)
                .is_pending()
        );
        drop(waker);
        let mut out = [Interest::EMPTY; 1];
        assert_eq!(core.snapshot(&mut out), 1);
        let raw = parked.swap(NIL, AcqRel);
        let deregistered = std::panic::catch_unwind(AssertUnwindSafe(|| {
            core.deregister(key, [Some(WaiterId::from_raw(raw)), None]);
        }));
        assert!(deregistered.is_err(), "the waker's drop panicked");
        assert_eq!(core.hook().get(), 1, "the reactor was told to drop the fd");
        assert_eq!(core.usage(), (0, 0));
    }

    #[test]
    fn contain_swallows_a_payload_whose_drop_panics() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("the payload's drop panics (on purpose)");
            }
        }
        assert!(contain(|| std::panic::panic_any(Bomb)));
        assert!(!contain(|| {}));
    }
}
