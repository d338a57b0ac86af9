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
//! | feature `std`, not bare metal | `std::sync::Mutex` (futex on Linux, pthread on ESP-IDF, …) | sleeps in the OS until the holder unlocks |
//! | otherwise (bare metal, or a host without `std`) | a [`critical-section`] critical section | cannot exist on one core: the critical section masks interrupts (on a host, critical-section's `std` implementation is an OS mutex) |
//!
//! Two forms:
//!
//! * [`Mutex<T>`] owns its data, like `std::sync::Mutex`, with a closure API ([`Mutex::with`])
//!   on every backend and a guard ([`Mutex::lock`]) where the backend is an OS lock (feature
//!   `std`). A poisoned lock is entered all the same: users keep their data consistent across a
//!   panic.
//! * [`Section`] is a lock without data, picked by an address: the holder of the section for an
//!   address excludes every other holder for the same address. It is for a structure that keeps
//!   its own lock bit in a state word (hatch): taking the section before the bit and leaving it
//!   after the bit is released means nobody ever spins on the bit. With the OS backend it is one
//!   of 64 striped mutexes (cache-line aligned, 4 KiB in all), so unrelated structures rarely
//!   share one; with a critical section it is the one global critical section.
//!
//! Neither form runs user code while it holds the lock: [`Mutex::with`]'s closure is the caller's
//! own, and a re-entry into the same mutex from it is reported (a panic on the critical-section
//! backend, where it would otherwise hand out a second `&mut T`; a deadlock or panic from std,
//! as `std::sync::Mutex` documents) — never undefined behaviour.
//!
//! [`critical-section`]: https://docs.rs/critical-section

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
    inner: std::sync::Mutex<T>,
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
                inner: std::sync::Mutex::new(value),
                #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
                inner: cs::Inner::new(value),
            }
        }
    }

    /// Locks, calls `f` with the data, unlocks (also when `f` panics).
    ///
    /// Calling `with` (or [`lock`](Self::lock)) on the same mutex from inside `f` is a bug that
    /// is reported: a panic on the critical-section backend, a deadlock or panic on std's (as
    /// for `std::sync::Mutex`).
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
    /// Locks and returns a guard that unlocks when dropped (OS and loom backends only: a
    /// critical section cannot be held by a guard that may be dropped out of order).
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        MutexGuard(
            self.inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

/// The guard of [`Mutex::lock`]: derefs to the data and unlocks when dropped.
#[cfg(any(loom, all(feature = "std", not(target_os = "none"))))]
#[must_use = "the mutex unlocks when the guard is dropped"]
pub struct MutexGuard<'a, T>(
    #[cfg(loom)] loom::sync::MutexGuard<'a, T>,
    #[cfg(not(loom))] std::sync::MutexGuard<'a, T>,
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
    _guard: std::sync::MutexGuard<'static, ()>,
    #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
    restore: critical_section::RestoreState,
}

os_backend! {
    /// One stripe: a mutex on a cache line of its own.
    #[repr(align(64))]
    struct Stripe(std::sync::Mutex<()>);

    /// Number of stripes (a power of two).
    const STRIPES: usize = 64;

    #[allow(clippy::declare_interior_mutable_const)]
    const STRIPE: Stripe = Stripe(std::sync::Mutex::new(()));
    static TABLE: [Stripe; STRIPES] = [STRIPE; STRIPES];

    /// The stripe of `key`: the address bits above a cache line, folded.
    #[inline(always)]
    fn stripe(key: *const ()) -> &'static std::sync::Mutex<()> {
        let a = key.addr() >> 6;
        &TABLE[(a ^ (a >> 6)) & (STRIPES - 1)].0
    }
}

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
    /// dropped, and a `Section` is dropped in the context that entered it. (On the
    /// critical-section backend sections must be left in the reverse order of entering, which
    /// this rules out breaking; on the OS backend a nested entry for the same stripe would
    /// deadlock.)
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
            Self {
                _guard: stripe(key)
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            }
        }
        #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
        {
            Self {
                // SAFETY: released exactly once, by `Drop`, and (the caller's contract) no other
                // section is entered meanwhile, so the releases happen in reverse order.
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
            match stripe(key).try_lock() {
                Ok(guard) => Some(Self { _guard: guard }),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(Self {
                    _guard: p.into_inner(),
                }),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        }
        #[cfg(all(not(all(feature = "std", not(target_os = "none"))), not(loom)))]
        {
            // SAFETY: forwarded contract.
            Some(unsafe { Self::enter(key) })
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
