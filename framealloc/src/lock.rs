//! A small test-and-test-and-set spin lock over the `sync-core` facade (so loom sees it).
//!
//! The pool tier keeps one of these per size class. Critical sections are a handful of
//! instructions (pop or push one free-list entry, update two counters), except when a class
//! reserves a new slab from the global allocator, which happens once per slab. A waiter spins
//! briefly and then yields its time slice to the OS scheduler, so a preempted holder does not
//! make the other threads burn their quantum.
//!
//! Invariant: `locked == true` exactly while one `Guard` exists; the data is touched only
//! through that guard.
//!
//! Orderings: taking the lock is an `Acquire` compare-exchange and releasing it a `Release`
//! store, so everything the previous holder wrote to the data happens-before the next holder's
//! critical section. The failure ordering of the exchange and the spinning loads are `Relaxed`:
//! on those paths no data is read, only the flag, and the successful `Acquire` exchange that
//! ends the wait provides the synchronisation. A panic inside a critical section drops the
//! guard while unwinding, so the lock is released (every caller keeps its data consistent
//! across a panic: it changes nothing before the step that may fail).

use core::marker::PhantomData;
use sync_core::sync::UnsafeCell;
use sync_core::sync::atomic::{AtomicBool, Ordering};

/// A mutual-exclusion lock that spins, then yields.
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `data` to one thread at a time, so sharing the lock
// between threads only moves `T` between them: `T: Send` is enough, as for `std::sync::Mutex`.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: the lock owns its `T`; sending the lock sends the `T`.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            locked: AtomicBool::new(false),
            data: UnsafeCell::new(value),
        }
    }

    /// Runs `f` with exclusive access to the data.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let _guard = self.lock();
        // SAFETY: `_guard` proves that this thread holds the lock until the end of the scope, so
        // no other reference to the data exists while `f` runs.
        self.data.with_mut(|p| f(unsafe { &mut *p }))
    }

    #[inline]
    fn lock(&self) -> Guard<'_, T> {
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
        Guard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    #[cold]
    fn lock_slow(&self) {
        let mut spins = 0u32;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                spins = spins.wrapping_add(1);
                backoff(spins);
            }
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

#[cfg(not(loom))]
fn backoff(spins: u32) {
    if spins < 64 {
        sync_core::sync::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

#[cfg(loom)]
fn backoff(_: u32) {
    // loom's spin_loop yields to the model's scheduler.
    sync_core::sync::hint::spin_loop();
}

struct Guard<'a, T> {
    lock: &'a SpinLock<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}
