//! Locks: the one place where frugal picks how a thread waits for another.
//!
//! A lock holder can be preempted. On bare metal the preempting code is an interrupt handler; on
//! an RTOS or an OS with real-time threads (ESP-IDF's FreeRTOS, Linux `SCHED_FIFO`) it is a
//! task or thread of higher priority. Either way a waiter that spins on the lock word never lets
//! the holder finish: on one core it spins forever. So no lock here spins; each backend lets the
//! holder run:
//!
//! | build | backend | a waiter… |
//! | --- | --- | --- |
//! | `cfg(loom)` | `loom::sync::Mutex` | is scheduled by loom |
//! | feature `std`, not bare metal | a lock word of sync-core's own; a waiter sleeps in the futex system call on Linux and Android, in [`parking_lot_core`]'s `park` elsewhere | sleeps in the OS until the holder unlocks |
//! | otherwise (bare metal, or a host without `std`) | a [`critical-section`] critical section | cannot exist on one core: the critical section masks interrupts (on a host, critical-section's `std` implementation is an OS mutex) |
//!
//! Two forms:
//!
//! * [`Mutex<T>`] owns its data, like `std::sync::Mutex`, with a closure API ([`Mutex::with`])
//!   on every backend and a guard ([`Mutex::lock`]) where the backend is an OS lock (feature
//!   `std`).
//! * [`Section`] is a lock without data, picked by an address: the holder of the section for an
//!   address excludes every other holder for the same address. It is for a structure that keeps
//!   its own lock bit in a state word (hatch): taking the section before the bit and leaving it
//!   after the bit is released means nobody ever spins on the bit. With the OS backend it is one
//!   of 64 striped lock words (each on a cache line of its own, 4 KiB in all), so unrelated
//!   structures rarely share one; with a critical section it is the one global critical
//!   section.
//!
//! Neither form runs user code while it holds the lock: [`Mutex::with`]'s closure is the caller's
//! own, and a re-entry into the same mutex from it is a bug that is never undefined behaviour:
//! it panics on the critical-section backend (where it would otherwise hand out a second
//! `&mut T`) and deadlocks on the OS backend (as `std::sync::Mutex` may).
//!
//! # Panics and poisoning
//!
//! There is no poisoning. A guard unlocks when it is dropped, also while a panic unwinds, and
//! the next locker gets the data as the panicking code left it. frugal's structures never
//! panic half-way through an update under a lock (a critical section only moves values and
//! compares), so a poison flag would only cost every lock and unlock a check.
//!
//! # The OS backend
//!
//! The lock is one 32-bit word: 0 unlocked, 1 locked, 2 locked with a waiter that may sleep.
//! Uncontended, locking is one compare-and-swap (0 → 1, `Acquire`) and unlocking one swap to 0
//! (`Release`), as cheap as a spin lock. A locker that finds the word locked does not spin: it
//! swaps in 2 and sleeps until the word is no longer 2; an unlocker that swapped out a 2 wakes
//! one sleeper, which swaps in 2 again (it cannot know whether others sleep) and so takes the
//! lock or sleeps again. The sleeping and waking is the OS's:
//!
//! * on Linux and Android, the futex system call (`FUTEX_WAIT` / `FUTEX_WAKE`, process-private)
//!   through `libc`, a dependency sync-core already has there. It never allocates, keeps no
//!   state besides the lock word, and Miri models it, so the Miri runs execute the same code as
//!   production. The kernel wakes the sleeper of highest priority first.
//! * on the other hosted targets (macOS, Windows, the BSDs, ESP-IDF…),
//!   [`parking_lot_core`]'s `park` / `unpark_one`, keyed by the word's address: the
//!   well-kept core of `parking_lot`, with an OS parker for each of them. Its first wait on a
//!   thread may allocate (its hash table and the thread's entry), so a lock of this module
//!   must not be used inside a global allocator there.
//!
//! Why this shape. `std::sync::Mutex` made every uncontended lock and unlock pay for its
//! poisoning and made [`Section`] a guard of a mutex; the word above is all the uncontended path
//! touches. On Linux and Android the futex is two system-call wrappers over `libc`: no new
//! crate, no allocation on contention (so hatch's and io-mini's "no allocation per message"
//! hold even when a lock is contended), no global table. `parking_lot_core` is used only where
//! there is no futex: it is larger (a global hash table of queues, per-thread data, `smallvec`)
//! and allocates on a thread's first wait, but it covers every hosted target with one
//! well-kept API (version 0.10, whose park and unpark pass Miri with strict provenance; this
//! module's unit tests run that path on every host, Miri included). `parking_lot`'s own `RawMutex` (through
//! `lock_api`) was not used because it spins a while before it parks. Loom does not see this
//! backend (under `cfg(loom)` the locks are loom's mutex); the lock word's protocol is the
//! classic futex mutex, and the tests of this crate and of its users exercise it under
//! contention, under Miri and with real-time priorities.
//!
//! [`critical-section`]: https://docs.rs/critical-section
//! [`parking_lot_core`]: https://docs.rs/parking_lot_core

use core::fmt;

/// Whether the OS backend is in use (feature `std` on a hosted target, not loom).
macro_rules! os_backend {
    ($($item:item)*) => {$(
        #[cfg(all(feature = "std", not(target_os = "none"), not(loom)))]
        $item
    )*};
}

/// Whether the critical-section backend is in use.
macro_rules! cs_backend {
    ($($item:item)*) => {$(
        #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
        $item
    )*};
}

/// Which backend this build uses, in words (for diagnostics and tests).
pub const BACKEND: &str = if cfg!(loom) {
    "loom"
} else if cfg!(all(feature = "std", not(target_os = "none"))) {
    "os"
} else {
    "critical-section"
};

/// A mutual-exclusion lock that owns its data; see the [module docs](self) for its backends.
///
/// ```
/// use sync_core::lock::Mutex;
///
/// static COUNT: Mutex<u32> = Mutex::new(0);
/// COUNT.with(|n| *n += 1);
/// assert_eq!(COUNT.with(|n| *n), 1);
/// ```
pub struct Mutex<T> {
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
    #[cfg(all(feature = "std", not(target_os = "none"), not(loom)))]
    inner: os::Inner<T>,
    #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
    inner: cs::Inner<T>,
}

impl<T> Mutex<T> {
    crate::const_fn! {
        /// A new, unlocked mutex holding `value`.
        #[must_use]
        pub const fn new(value: T) -> Self {
            Self {
                #[cfg(loom)]
                inner: loom::sync::Mutex::new(value),
                #[cfg(all(feature = "std", not(target_os = "none"), not(loom)))]
                inner: os::Inner::new(value),
                #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
                inner: cs::Inner::new(value),
            }
        }
    }

    /// Locks, calls `f` with the data, unlocks (also when `f` panics: there is no poisoning, the
    /// next locker sees the data as `f` left it).
    ///
    /// Calling `with` (or [`lock`](Self::lock)) on the same mutex from inside `f` is a bug that
    /// is reported: a panic on the critical-section backend, a deadlock on the OS backend.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(any(loom, all(feature = "std", not(target_os = "none"))))]
        {
            f(&mut self.lock())
        }
        #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
        {
            self.inner.with(f)
        }
    }
}

#[cfg(any(loom, all(feature = "std", not(target_os = "none"))))]
impl<T> Mutex<T> {
    /// Locks and returns a guard that unlocks when dropped, also while a panic unwinds (OS and
    /// loom backends only: a critical section cannot be held by a guard that may be dropped out
    /// of order).
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(loom)]
        {
            MutexGuard(
                self.inner
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            )
        }
        #[cfg(not(loom))]
        {
            MutexGuard(os::Guard::lock(&self.inner))
        }
    }
}

/// The guard of [`Mutex::lock`]: derefs to the data and unlocks when dropped. Like
/// `std::sync::MutexGuard`, it is not `Send` (it is dropped on the thread that locked).
#[cfg(any(loom, all(feature = "std", not(target_os = "none"))))]
#[must_use = "the mutex unlocks when the guard is dropped"]
pub struct MutexGuard<'a, T>(
    #[cfg(loom)] loom::sync::MutexGuard<'a, T>,
    #[cfg(not(loom))] os::Guard<'a, T>,
);

#[cfg(any(loom, all(feature = "std", not(target_os = "none"))))]
impl<T> core::ops::Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

#[cfg(any(loom, all(feature = "std", not(target_os = "none"))))]
impl<T> core::ops::DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

#[cfg(any(loom, all(feature = "std", not(target_os = "none"))))]
impl<T> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexGuard").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("backend", &BACKEND)
            .finish_non_exhaustive()
    }
}

os_backend! {
    mod os {
        use core::cell::UnsafeCell;
        use core::marker::PhantomData;
        use core::sync::atomic::{AtomicU32, Ordering};

        /// The lock word's states (module docs, "The OS backend").
        const UNLOCKED: u32 = 0;
        const LOCKED: u32 = 1;
        const CONTENDED: u32 = 2;

        /// A lock word: one compare-and-swap to lock and one swap to unlock when uncontended; a
        /// waiter sleeps in the OS ([`wait`]) instead of spinning.
        pub(super) struct RawLock {
            word: AtomicU32,
        }

        impl RawLock {
            pub(super) const fn new() -> Self {
                Self { word: AtomicU32::new(UNLOCKED) }
            }

            /// Locks, sleeping while another thread holds the lock.
            #[inline]
            pub(super) fn lock(&self) {
                // `Acquire`: everything the previous holder did before its `Release` unlock
                // happens-before what we do under the lock.
                if self
                    .word
                    .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
                {
                    lock_contended(&self.word);
                }
            }

            /// Locks if the lock is free; `false` without waiting otherwise.
            #[inline]
            pub(super) fn try_lock(&self) -> bool {
                // `Acquire` as in `lock`. Only `UNLOCKED` is unlocked, so a failure means a
                // holder exists: no spurious failure.
                self.word
                    .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            }

            /// Unlocks, waking one sleeper if there may be one.
            ///
            /// # Safety
            ///
            /// The caller holds the lock (its `lock` or successful `try_lock` has not been
            /// matched by an `unlock` yet) and gives it up here.
            #[inline]
            pub(super) unsafe fn unlock(&self) {
                // `Release`: everything done under the lock happens-before the next holder's
                // `Acquire`. A 2 means somebody may sleep: wake one (it re-marks the word 2, so
                // if more sleep, its own unlock wakes the next).
                if self.word.swap(UNLOCKED, Ordering::Release) == CONTENDED {
                    wake_one(&self.word);
                }
            }
        }

        /// The slow half of [`RawLock::lock`]: mark the word contended and sleep until it is
        /// not. Never waits on a word that is not 2, so never spins on a held lock: each turn
        /// of the loop either takes the lock, or sleeps, or reacts to a change that another
        /// thread made.
        #[cold]
        #[inline(never)]
        fn lock_contended(word: &AtomicU32) {
            let mut state = word.load(Ordering::Relaxed);
            loop {
                // Swapping in 2 (not 1) takes the lock when it is free without forgetting that
                // others may sleep. `Acquire` as in `lock`.
                if state != CONTENDED && word.swap(CONTENDED, Ordering::Acquire) == UNLOCKED {
                    return;
                }
                // Sleeps unless the word changed from 2 meanwhile (checked atomically with going
                // to sleep by the OS, so an unlock in between is not missed).
                wait(word, CONTENDED);
                state = word.load(Ordering::Relaxed);
            }
        }

        /// The out-of-line half of [`RawLock::unlock`].
        #[cold]
        #[inline(never)]
        fn wake_one(word: &AtomicU32) {
            super::wake::wake_one(word);
        }

        /// Sleeps while `*word == expected`; may return spuriously.
        #[inline]
        fn wait(word: &AtomicU32, expected: u32) {
            super::wake::wait(word, expected);
        }

        /// The data and the lock of [`Mutex`](super::Mutex).
        pub(super) struct Inner<T> {
            raw: RawLock,
            value: UnsafeCell<T>,
        }

        // SAFETY: the value is reached only through a `Guard`, which exists only while its
        // thread holds `raw` (`Guard::lock` locks before it makes one, its drop unlocks), so at
        // most one thread reaches it at a time, and the value may move between threads with
        // the lock: `T: Send`.
        unsafe impl<T: Send> Sync for Inner<T> {}

        impl<T> Inner<T> {
            pub(super) const fn new(value: T) -> Self {
                Self { raw: RawLock::new(), value: UnsafeCell::new(value) }
            }
        }

        /// Holds the lock of an [`Inner`]; unlocks it when dropped.
        pub(super) struct Guard<'a, T> {
            inner: &'a Inner<T>,
            /// Not `Send`, as `std::sync::MutexGuard`.
            _not_send: PhantomData<*const ()>,
        }

        // SAFETY: a shared guard only hands out `&T`, so sharing it between threads is sharing
        // `&T`: needs `T: Sync`, as for `std::sync::MutexGuard`.
        unsafe impl<T: Sync> Sync for Guard<'_, T> {}

        impl<'a, T> Guard<'a, T> {
            /// Locks `inner` and returns the guard that unlocks it.
            #[inline]
            pub(super) fn lock(inner: &'a Inner<T>) -> Self {
                inner.raw.lock();
                Self { inner, _not_send: PhantomData }
            }
        }

        impl<T> core::ops::Deref for Guard<'_, T> {
            type Target = T;
            #[inline]
            fn deref(&self) -> &T {
                // SAFETY: this guard holds the lock (`Guard::lock` took it), so no `&mut T`
                // exists elsewhere; the borrow is tied to `&self`, so it ends before the
                // unlock in `drop`.
                unsafe { &*self.inner.value.get() }
            }
        }

        impl<T> core::ops::DerefMut for Guard<'_, T> {
            #[inline]
            fn deref_mut(&mut self) -> &mut T {
                // SAFETY: as in `deref`, and `&mut self` makes this borrow the only one.
                unsafe { &mut *self.inner.value.get() }
            }
        }

        impl<T> Drop for Guard<'_, T> {
            #[inline]
            fn drop(&mut self) {
                // SAFETY: the guard holds the lock and is dropped once.
                unsafe { self.inner.raw.unlock() };
            }
        }

        /// One stripe of [`Section`](super::Section): a lock word on a cache line of its own.
        #[repr(align(64))]
        struct Stripe(RawLock);

        /// Number of stripes (a power of two).
        const STRIPES: usize = 64;

        static TABLE: [Stripe; STRIPES] = [const { Stripe(RawLock::new()) }; STRIPES];

        /// The stripe of `key`: the address bits above a cache line, folded.
        #[inline(always)]
        pub(super) fn stripe(key: *const ()) -> &'static RawLock {
            let a = key.addr() >> 6;
            &TABLE[(a ^ (a >> 6)) & (STRIPES - 1)].0
        }
    }
}

/// Wait and wake on a lock word: the futex system call.
#[cfg(all(
    feature = "std",
    any(target_os = "linux", target_os = "android"),
    not(loom)
))]
mod wake {
    use core::sync::atomic::AtomicU32;

    /// Sleeps while `*word == expected` (the kernel compares and sleeps atomically with respect
    /// to `wake_one`); returns on a wake, a signal, or at once if the word differs.
    #[inline]
    pub(super) fn wait(word: &AtomicU32, expected: u32) {
        // SAFETY: `FUTEX_WAIT` reads the aligned 32-bit word behind a live reference and sleeps;
        // the null timeout means none. Its errors (`EAGAIN`: the word changed, `EINTR`) are
        // spurious returns, which the caller handles by looking at the word again.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                core::ptr::from_ref(word),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected,
                core::ptr::null::<libc::timespec>(),
            );
        }
    }

    /// Wakes one thread sleeping in [`wait`] on `word`, if any.
    #[inline]
    pub(super) fn wake_one(word: &AtomicU32) {
        // SAFETY: `FUTEX_WAKE` only uses the word's address as a key (it does not access the
        // memory); waking one thread has no other effect.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                core::ptr::from_ref(word),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                1_i32,
            );
        }
    }
}

/// Wait and wake on a lock word: `parking_lot_core`'s park and unpark, keyed by the word's
/// address (hosted targets without a futex; compiled for the unit tests everywhere).
#[cfg(any(
    all(
        feature = "std",
        not(any(target_os = "none", target_os = "linux", target_os = "android")),
        not(loom)
    ),
    all(test, not(loom))
))]
#[cfg_attr(
    all(test, any(target_os = "linux", target_os = "android")),
    allow(dead_code)
)]
mod parked {
    use core::sync::atomic::{AtomicU32, Ordering};

    /// Sleeps while `*word == expected`; may return spuriously.
    #[inline]
    pub(super) fn wait(word: &AtomicU32, expected: u32) {
        // SAFETY: the key is the address of a lock word of this module, so nothing else parks
        // on it; `validate` only loads the word (it cannot panic or call into the parking lot),
        // and the other callbacks do nothing. `validate` runs under the parking lot's queue
        // lock, which `unpark_one` takes after the unlocker changed the word: either we see the
        // change and do not sleep, or we are queued before the unpark and it wakes us.
        unsafe {
            parking_lot_core::park(
                word.as_ptr().addr(),
                || word.load(Ordering::Relaxed) == expected,
                || {},
                |_, _| {},
                parking_lot_core::DEFAULT_PARK_TOKEN,
                None,
            );
        }
    }

    /// Wakes one thread parked in [`wait`] on `word`, if any.
    #[inline]
    pub(super) fn wake_one(word: &AtomicU32) {
        // SAFETY: the key is the address of a lock word of this module (only compared, never
        // dereferenced by the parking lot); the callback does nothing, so it cannot panic.
        unsafe {
            parking_lot_core::unpark_one(word.as_ptr().addr(), |_| {
                parking_lot_core::DEFAULT_UNPARK_TOKEN
            });
        }
    }

    #[cfg(test)]
    mod tests {
        use core::sync::atomic::{AtomicU32, Ordering};
        use std::sync::Arc;
        use std::time::Duration;

        #[test]
        fn wait_returns_at_once_when_the_word_differs() {
            let word = AtomicU32::new(1);
            super::wait(&word, 2);
        }

        #[test]
        fn wake_one_ends_a_wait() {
            let word = Arc::new(AtomicU32::new(2));
            let sleeper = {
                let word = word.clone();
                std::thread::spawn(move || {
                    while word.load(Ordering::Acquire) == 2 {
                        super::wait(&word, 2);
                    }
                })
            };
            std::thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
            word.store(0, Ordering::Release);
            super::wake_one(&word);
            sleeper.join().unwrap();
        }
    }
}

#[cfg(all(
    feature = "std",
    not(any(target_os = "none", target_os = "linux", target_os = "android")),
    not(loom)
))]
use parked as wake;

cs_backend! {
    mod cs {
        use crate::sync::UnsafeCell;

        /// The critical-section backend of [`Mutex`](super::Mutex): the data and a "borrowed"
        /// flag, both only touched inside a critical section.
        pub(super) struct Inner<T> {
            busy: UnsafeCell<bool>,
            value: UnsafeCell<T>,
        }

        // SAFETY: the value is reached only inside a critical section, which excludes every other
        // thread and interrupt handler, and the `busy` flag (checked in the same critical section)
        // refuses a re-entry from the same context; so at most one `&mut T` exists at a time, and
        // the value may move between threads with it: `T: Send`.
        unsafe impl<T: Send> Sync for Inner<T> {}

        impl<T> Inner<T> {
            pub(super) const fn new(value: T) -> Self {
                Self { busy: UnsafeCell::new(false), value: UnsafeCell::new(value) }
            }

            #[inline]
            pub(super) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
                critical_section::with(|_| {
                    // SAFETY: inside the critical section nothing else runs; `busy` is only
                    // accessed here and in `Reset::drop`, both in the critical section.
                    let was_busy = self.busy.with_mut(|p| unsafe { core::mem::replace(&mut *p, true) });
                    assert!(!was_busy, "sync_core::lock::Mutex re-entered from inside `with`");
                    let _reset = Reset(&self.busy);
                    // SAFETY: we are inside the critical section and `busy` was clear, so no other
                    // `&mut T` to the value exists; `busy` stays set until `f` returns or unwinds,
                    // so a nested `with` panics above instead of aliasing.
                    self.value.with_mut(|p| f(unsafe { &mut *p }))
                })
            }
        }

        /// Clears the `busy` flag when `f` returns or unwinds.
        struct Reset<'a>(&'a UnsafeCell<bool>);

        impl Drop for Reset<'_> {
            fn drop(&mut self) {
                // SAFETY: still inside the critical section of `with` (this guard is dropped
                // before it ends).
                self.0.with_mut(|p| unsafe { *p = false });
            }
        }
    }
}

/// A held [`Section`] lock for one address; the section is left when it is dropped.
///
/// A structure that keeps its own lock bit takes the section for its address *before* it sets
/// the bit and leaves it *after* it clears the bit: then a second holder of the bit cannot
/// exist, and a waiter sleeps (OS backend) or cannot run at all (critical section) instead of
/// spinning on the bit.
///
/// ```
/// use sync_core::lock::Section;
///
/// let word = 0_u32;
/// // SAFETY: no other section is entered while this one is held.
/// let section = unsafe { Section::enter(core::ptr::from_ref(&word).cast()) };
/// drop(section);
/// ```
#[must_use = "the section is left when this is dropped"]
pub struct Section {
    #[cfg(loom)]
    _guard: loom::sync::MutexGuard<'static, ()>,
    #[cfg(all(feature = "std", not(target_os = "none"), not(loom)))]
    stripe: &'static os::RawLock,
    /// Not `Send` on any backend (it is left in the context that entered it).
    #[cfg(not(loom))]
    _not_send: core::marker::PhantomData<*const ()>,
    #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
    restore: critical_section::RestoreState,
}

// SAFETY: a `&Section` gives access to nothing (only `Debug`, which prints the backend name), so
// sharing one between threads cannot race; it stays not `Send`.
#[cfg(not(loom))]
unsafe impl Sync for Section {}

#[cfg(loom)]
loom::lazy_static! {
    static ref LOOM_SECTION: loom::sync::Mutex<()> = loom::sync::Mutex::new(());
}

impl Section {
    /// Enters the section for `key` (an address; only compared, never dereferenced), waiting
    /// without spinning while another holder has it.
    ///
    /// # Safety
    ///
    /// No other `Section` may be entered by this thread or interrupt context until this one is
    /// dropped; the `Section` is dropped in the context that entered it (it is not `Send`); and
    /// it is dropped before any critical section or lock that was already held when it was
    /// entered is left (sections nest strictly inside what surrounds them). On the
    /// critical-section backend a section *is* a critical section, and critical sections must be
    /// left in the reverse order of entering; on the OS backend a nested entry for the same stripe
    /// would deadlock.
    #[inline]
    pub unsafe fn enter(key: *const ()) -> Self {
        let _ = key;
        #[cfg(loom)]
        {
            Self {
                _guard: LOOM_SECTION
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            }
        }
        #[cfg(all(feature = "std", not(target_os = "none"), not(loom)))]
        {
            let stripe = os::stripe(key);
            stripe.lock();
            Self {
                stripe,
                _not_send: core::marker::PhantomData,
            }
        }
        #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
        {
            Self {
                _not_send: core::marker::PhantomData,
                // SAFETY: released exactly once, by `Drop`; by the caller's contract no other
                // section is entered meanwhile and every critical section that surrounds this one
                // is left after it, so the releases happen in reverse order of the acquires.
                restore: unsafe { critical_section::acquire() },
            }
        }
    }

    /// Enters the section for `key` if nobody holds it; `None` (without waiting) otherwise. With
    /// a critical section it always succeeds.
    ///
    /// # Safety
    ///
    /// As for [`enter`](Self::enter).
    #[inline]
    pub unsafe fn try_enter(key: *const ()) -> Option<Self> {
        let _ = key;
        #[cfg(loom)]
        {
            match LOOM_SECTION.try_lock() {
                Ok(guard) => Some(Self { _guard: guard }),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(Self {
                    _guard: p.into_inner(),
                }),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
        #[cfg(all(feature = "std", not(target_os = "none"), not(loom)))]
        {
            let stripe = os::stripe(key);
            if stripe.try_lock() {
                Some(Self {
                    stripe,
                    _not_send: core::marker::PhantomData,
                })
            } else {
                None
            }
        }
        #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
        {
            // SAFETY: forwarded contract.
            Some(unsafe { Self::enter(key) })
        }
    }
}

os_backend! {
    impl Drop for Section {
        #[inline]
        fn drop(&mut self) {
            // SAFETY: `enter` or a successful `try_enter` locked this stripe for this section,
            // and this drop, which runs once, is its only unlock.
            unsafe { self.stripe.unlock() };
        }
    }
}

cs_backend! {
    impl Drop for Section {
        #[inline]
        fn drop(&mut self) {
            // SAFETY: the restore state of the matching `acquire` in `enter`, released once (this
            // runs once) and, by `enter`'s contract, after every section entered after it.
            unsafe { critical_section::release(self.restore) };
        }
    }
}

impl fmt::Debug for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Section")
            .field("backend", &BACKEND)
            .finish_non_exhaustive()
    }
}
