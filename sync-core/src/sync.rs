//! The synchronisation facade: every frugal crate takes its atomics, cells and critical sections
//! from here, never from `core` directly, so that loom sees every synchronisation point.
//!
//! | build | atomics | `UnsafeCell` | critical section |
//! | --- | --- | --- | --- |
//! | `cfg(loom)` | `loom::sync::atomic` | `loom::cell::UnsafeCell` | one global `loom::sync::Mutex` |
//! | target with CAS (`target_has_atomic = "ptr"`) | `core::sync::atomic` | a `core` wrapper with loom's `with`/`with_mut` API | the [`critical-section`] crate |
//! | target without CAS (thumbv6m, riscv32imc) | `portable-atomic` | as above | as above |
//!
//! On targets without CAS the final binary must choose portable-atomic's backend (enable its
//! `critical-section` feature, or `unsafe-assume-single-core` on a single-core chip); libraries
//! never choose it. Every build needs one `critical-section` implementation, also chosen by the
//! final binary (for example `cortex-m`'s `critical-section-single-core` feature, or
//! `critical-section`'s `std` feature on a host).
//!
//! [`critical-section`]: https://docs.rs/critical-section

/// Atomic types and orderings (`core`, `portable-atomic` or loom, see the module docs).
pub mod atomic {
    #[cfg(loom)]
    pub use loom::sync::atomic::{
        AtomicBool, AtomicPtr, AtomicU8, AtomicU16, AtomicU32, AtomicUsize, Ordering, fence,
    };

    #[cfg(all(not(loom), target_has_atomic = "ptr"))]
    pub use core::sync::atomic::{
        AtomicBool, AtomicPtr, AtomicU8, AtomicU16, AtomicU32, AtomicUsize, Ordering, fence,
    };

    #[cfg(all(not(loom), not(target_has_atomic = "ptr")))]
    pub use portable_atomic::{
        AtomicBool, AtomicPtr, AtomicU8, AtomicU16, AtomicU32, AtomicUsize, Ordering, fence,
    };
}

/// Hints for spin loops.
pub mod hint {
    #[cfg(loom)]
    pub use loom::hint::spin_loop;

    #[cfg(not(loom))]
    pub use core::hint::spin_loop;
}

#[cfg(loom)]
pub use loom::cell::UnsafeCell;

#[cfg(not(loom))]
pub use self::cell::UnsafeCell;

/// Items that exist only under loom: its `Arc`, threads, `model` and `block_on`.
///
/// # Both orders
///
/// loom's search remembers only the *last* access to each atomic when it looks for races to
/// reorder. So when the thread that runs first makes a plain load and then blocks (on a `join`,
/// say), and another thread then loads and read-modify-writes the same atomic, the first load is
/// never moved after that read-modify-write: the model explores one order and passes whatever
/// the code does. Two hatch models explored a single interleaving that way and missed a publish
/// before the write it published.
///
/// [`model`] therefore runs every model twice: once as written, where a spawning thread goes on
/// until it blocks, and once where [`thread::spawn`] yields at once, so that each new thread runs
/// first. Every race a model sets up between a spawning thread and the thread it spawns is then
/// started from both ends. Use these, not `loom::model` and `loom::thread::spawn`, in models.
///
/// It does not reach races between two spawned threads, or races that start after a thread
/// first blocks: where such a model must explore an order loom would skip, put an explicit
/// `thread::yield_now()` before the load that must be reordered.
#[cfg(loom)]
pub mod loom_only {
    pub use loom::future::block_on;
    pub use loom::sync::Arc;

    std::thread_local! {
        /// Whether [`thread::spawn`] yields to the new thread (the second run of [`model`]).
        /// loom runs a model's threads on the test's OS thread, so one flag per test thread.
        static SPAWNED_FIRST: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }

    /// Runs `f` under `loom::model` twice: as written, then with every spawned thread started
    /// first (see "Both orders" above).
    pub fn model<F>(f: F)
    where
        F: Fn() + Sync + Send + 'static,
    {
        let f = std::sync::Arc::new(f);
        for first in [false, true] {
            SPAWNED_FIRST.with(|flag| flag.set(first));
            let f = f.clone();
            loom::model(move || f());
        }
        SPAWNED_FIRST.with(|flag| flag.set(false));
    }

    /// loom's threads, with a [`spawn`](thread::spawn) that runs the new thread first in the
    /// second run of [`model`].
    pub mod thread {
        pub use loom::thread::*;

        /// `loom::thread::spawn`, followed by a yield to the new thread in the second run of
        /// [`model`](super::model).
        pub fn spawn<F, T>(f: F) -> JoinHandle<T>
        where
            F: FnOnce() -> T + Send + 'static,
            T: Send + 'static,
        {
            let handle = loom::thread::spawn(f);
            if super::SPAWNED_FIRST.with(core::cell::Cell::get) {
                loom::thread::yield_now();
            }
            handle
        }
    }
}

#[cfg(not(loom))]
mod cell {
    /// `core::cell::UnsafeCell` with loom's closure-based API, so algorithm code is written once.
    ///
    /// Under loom the same name is `loom::cell::UnsafeCell`, which checks every access.
    #[derive(Debug, Default)]
    #[repr(transparent)]
    pub struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        #[inline(always)]
        pub const fn new(value: T) -> Self {
            Self(core::cell::UnsafeCell::new(value))
        }

        /// Unwraps the value.
        #[inline(always)]
        pub fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Calls `f` with a shared raw pointer to the value.
        #[inline(always)]
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a mutable raw pointer to the value.
        #[inline(always)]
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

/// Critical sections: `critical_section::with` normally, a global loom mutex under loom.
///
/// A critical section is the one lock that is safe in interrupt handlers on a single-core MCU
/// (it masks interrupts); on a host, critical-section's `std` implementation is a global mutex.
/// Frugal code keeps critical sections short, never runs user code (wakers, destructors) inside
/// one and never nests them.
pub mod cs {
    use super::UnsafeCell;

    #[cfg(loom)]
    loom::lazy_static! {
        static ref LOCK: loom::sync::Mutex<()> = loom::sync::Mutex::new(());
    }

    /// Runs `f` inside a critical section.
    #[inline]
    pub fn with<R>(f: impl FnOnce() -> R) -> R {
        #[cfg(loom)]
        {
            let _guard = LOCK
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f()
        }
        #[cfg(not(loom))]
        {
            #[cfg(feature = "test-util")]
            crate::testing::count_critical_section();
            critical_section::with(|_| f())
        }
    }

    /// A value that is only accessed inside a critical section.
    ///
    /// [`CsCell::with`] enters the critical section and lends the value mutably for the duration
    /// of the closure. Critical sections nest (critical-section's `std` implementation is
    /// re-entrant, and so is masking interrupts on bare metal), so nothing but the caller can stop
    /// the closure from reaching the same cell again and holding two `&mut T`: that is why `with`
    /// is an `unsafe fn`. Keep the closure to plain data manipulation; run wakers, destructors and
    /// other foreign code after the critical section.
    ///
    /// ```compile_fail,E0133
    /// use sync_core::sync::cs::CsCell;
    ///
    /// let cell = CsCell::new(0_u32);
    /// // Re-entry would alias the `&mut`: `with` must not be callable from safe code.
    /// cell.with(|outer| cell.with(|inner| *outer += *inner));
    /// ```
    pub struct CsCell<T> {
        value: UnsafeCell<T>,
    }

    // SAFETY: the value is only reached inside a critical section, which excludes every other
    // thread and interrupt handler, so `&CsCell<T>` hands out at most one `&mut T` at a time
    // (re-entry from the same context is ruled out by `with`'s contract); the value may move
    // between threads with it, hence `T: Send`.
    unsafe impl<T: Send> Sync for CsCell<T> {}

    impl<T> CsCell<T> {
        crate::const_fn! {
            /// Wraps `value`.
            pub const fn new(value: T) -> Self {
                Self { value: UnsafeCell::new(value) }
            }
        }

        /// Enters a critical section and calls `f` with the value.
        ///
        /// # Safety
        ///
        /// `f` must not call `with` on this cell, directly or through code it calls (a waker, a
        /// destructor, a callback): the nested call would hand out a second `&mut T` to the same
        /// value while the first is live.
        #[inline]
        pub unsafe fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
            with(|| {
                self.value.with_mut(|ptr| {
                    // SAFETY: we are inside a critical section, which no other thread or interrupt
                    // can enter; the caller promises that `f` does not re-enter this cell, so this
                    // is the only live reference.
                    f(unsafe { &mut *ptr })
                })
            })
        }
    }

    impl<T> core::fmt::Debug for CsCell<T> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("CsCell").finish_non_exhaustive()
        }
    }
}
