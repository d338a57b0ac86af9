//! The registry's mutex: `std::sync::Mutex` normally, loom's under `cfg(loom)`.
//!
//! A mutex rather than a critical section: the reactor scans the registry (O(sources +
//! waiters)) while holding it, which is fine for a thread-level lock but too long to mask
//! interrupts on an MCU; ESP-IDF's std mutex is a FreeRTOS one. No user code (waker clone, wake,
//! drop) ever runs while it is held, so it is never poisoned by a foreign panic; a poisoned lock
//! (a bug in this crate) is still entered, because the registry is valid between any two of its
//! method calls.

#[cfg(loom)]
use loom::sync::{Mutex as Inner, MutexGuard};
#[cfg(not(loom))]
use std::sync::{Mutex as Inner, MutexGuard};

/// A mutex that ignores poisoning.
#[derive(Debug)]
pub(crate) struct Mutex<T>(Inner<T>);

impl<T> Mutex<T> {
    sync_core::const_fn! {
        /// Wraps `value`.
        pub(crate) const fn new(value: T) -> Self {
            Self(Inner::new(value))
        }
    }

    /// Locks, ignoring poisoning.
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
