//! [`AtomicWaker`]: a lock-free slot for one waker.
//!
//! # Algorithm
//!
//! One atomic word holds two bits next to the `Option<Waker>` cell:
//!
//! * `REGISTERING` — a `register` call owns the cell and is replacing the waker;
//! * `WAKING` — a `wake`/`take` call owns the cell, or asked the registering call to wake.
//!
//! `0` (`IDLE`) means nobody owns the cell.
//!
//! * **register** CASes `IDLE → REGISTERING` and, on success, stores the new waker (skipping the
//!   clone when the stored one `will_wake` the same task). It then CASes `REGISTERING → IDLE`. If
//!   that CAS fails, a `wake` arrived meanwhile and set `WAKING`; it could not touch the cell, so
//!   `register` takes the waker out itself, resets the word to `IDLE` and wakes it. A `register`
//!   that finds `WAKING` set wakes the new waker at once (the waker it would have replaced is being
//!   woken). A `register` that finds `REGISTERING` set is a concurrent registration on the same slot:
//!   that is a contract violation (one consumer per slot); it stays memory-safe and one of the two
//!   registrations wins.
//! * **take** (`wake` is `take` then `Waker::wake`) does `fetch_or(WAKING)`. Only the caller that saw
//!   `IDLE` owns the cell: it takes the waker and clears `WAKING`. A caller that saw `REGISTERING`
//!   leaves the waking to the registering call; one that saw `WAKING` has a concurrent waker doing
//!   the job.
//!
//! Hence **no lost wake-up**: a consumer registers *before* it re-checks its condition, a producer
//! changes the condition *before* it wakes; whichever interleaving happens, either the producer
//! finds the waker or the consumer sees the new condition (loom models in `tests/loom_waker.rs`).
//!
//! Waker code (`clone`, `wake`, `drop`) never runs while the calling thread owns the cell in a
//! way that another call could wait on, except `clone` during registration; a panicking `clone`
//! releases the cell (a guard resets the word), so the slot stays usable.
//!
//! This is the algorithm of `futures`' and smol's `AtomicWaker`, written over the [`sync`]
//! facade so that loom checks it (the `atomic-waker` crate uses `core` atomics that loom cannot
//! see). It is lock-free and safe to use from interrupt handlers.
//!
//! [`sync`]: crate::sync

use core::fmt;
use core::task::Waker;

use crate::sync::UnsafeCell;
use crate::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Release};

const IDLE: usize = 0;
const REGISTERING: usize = 0b01;
const WAKING: usize = 0b10;

/// A slot for one [`Waker`], registered by a consumer and woken by producers.
///
/// The consumer calls [`register`](Self::register) and then re-checks its condition; producers
/// change the condition and then call [`wake`](Self::wake). Only one task should register on a
/// slot at a time (the last registration wins); any number of producers may wake it.
///
/// # Memory ordering
///
/// Everything a producer wrote before `wake` is visible to the registering task after it is woken,
/// and everything the consumer wrote before `register` is visible to the producer that takes the
/// waker.
///
/// # Examples
///
/// ```
/// use core::future::poll_fn;
/// use core::sync::atomic::{AtomicBool, Ordering};
/// use core::task::Poll;
/// use sync_core::AtomicWaker;
///
/// static WAKER: AtomicWaker = AtomicWaker::new();
/// static READY: AtomicBool = AtomicBool::new(false);
///
/// let consumer = std::thread::spawn(|| {
///     futures_lite::future::block_on(poll_fn(|cx| {
///         WAKER.register(cx.waker()); // register first,
///         if READY.load(Ordering::Acquire) { // then check
///             Poll::Ready(())
///         } else {
///             Poll::Pending
///         }
///     }))
/// });
/// READY.store(true, Ordering::Release); // change the condition first,
/// WAKER.wake(); // then wake
/// consumer.join().unwrap();
/// ```
pub struct AtomicWaker {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the waker cell is only accessed by the call that owns it according to the state word
// (module docs), so concurrent `&AtomicWaker` use never races on it; `Waker` is `Send + Sync`.
unsafe impl Send for AtomicWaker {}
// SAFETY: as above.
unsafe impl Sync for AtomicWaker {}

impl AtomicWaker {
    crate::const_fn! {
        /// Creates an empty slot.
        #[must_use]
        pub const fn new() -> Self {
            Self { state: AtomicUsize::new(IDLE), waker: UnsafeCell::new(None) }
        }
    }

    /// Registers `waker` to be woken by the next [`wake`](Self::wake).
    ///
    /// If a `wake` happens concurrently, `waker` is woken (possibly right away, before this call
    /// returns), so a task that registers and then re-checks its condition never misses a wake.
    pub fn register(&self, waker: &Waker) {
        match self
            .state
            .compare_exchange(IDLE, REGISTERING, Acquire, Acquire)
            .unwrap_or_else(|actual| actual)
        {
            IDLE => self.register_owned(waker),
            WAKING => {
                // A concurrent `take` owns the cell and is waking the previous waker; the new
                // waker must see the change too, so wake it now.
                waker.wake_by_ref();
                crate::sync::hint::spin_loop();
            }
            _ => {
                // REGISTERING (maybe with WAKING): a concurrent register on the same slot. One
                // consumer per slot is the contract; stay memory-safe and let the other win.
            }
        }
    }

    /// The cell is ours (state `REGISTERING`): swap the waker and release it.
    fn register_owned(&self, waker: &Waker) {
        /// Releases the cell if `Waker::clone` panics, so the slot is not stuck in REGISTERING.
        /// The cell still holds the previous waker (the panic came before the swap). If a `take`
        /// set WAKING meanwhile, it left the wake to us: wake that waker rather than lose it.
        struct Unlock<'a>(&'a AtomicWaker);
        impl Drop for Unlock<'_> {
            fn drop(&mut self) {
                let slot = self.0;
                if slot
                    .state
                    .compare_exchange(REGISTERING, IDLE, AcqRel, Acquire)
                    .is_err()
                {
                    let woken = slot.waker.with_mut(|cell| {
                        // SAFETY: the state is REGISTERING | WAKING: we still own the cell.
                        unsafe { (*cell).take() }
                    });
                    slot.state.swap(IDLE, AcqRel);
                    if let Some(waker) = woken {
                        waker.wake();
                    }
                }
            }
        }

        let guard = Unlock(self);
        let old = self.waker.with_mut(|cell| {
            // SAFETY: state REGISTERING gives this call exclusive access to the cell (module docs).
            let cell = unsafe { &mut *cell };
            match cell {
                Some(current) if current.will_wake(waker) => None,
                _ => cell.replace(waker.clone()),
            }
        });
        core::mem::forget(guard);

        match self
            .state
            .compare_exchange(REGISTERING, IDLE, AcqRel, Acquire)
        {
            Ok(_) => drop(old),
            Err(_) => {
                // A `take` set WAKING while we held the cell; it left the wake to us.
                let woken = self.waker.with_mut(|cell| {
                    // SAFETY: the state is REGISTERING | WAKING: we still own the cell.
                    unsafe { (*cell).take() }
                });
                self.state.swap(IDLE, AcqRel);
                // Wake before dropping the replaced waker: a panicking drop must not swallow
                // the wake-up (`old` is still dropped while unwinding if `wake` panics).
                if let Some(waker) = woken {
                    waker.wake();
                }
                drop(old);
            }
        }
    }

    /// Takes the registered waker out of the slot, if there is one and nobody else is using it.
    ///
    /// Returns `None` when the slot is empty, or when a concurrent `register` owns the slot (that
    /// call then wakes its waker itself) or a concurrent `take` got the waker.
    #[must_use]
    pub fn take(&self) -> Option<Waker> {
        match self.state.fetch_or(WAKING, AcqRel) {
            IDLE => {
                let waker = self.waker.with_mut(|cell| {
                    // SAFETY: we moved the state from IDLE to WAKING, so we own the cell.
                    unsafe { (*cell).take() }
                });
                self.state.fetch_and(!WAKING, Release);
                waker
            }
            _ => None,
        }
    }

    /// Wakes the registered waker, if any, and empties the slot.
    pub fn wake(&self) {
        if let Some(waker) = self.take() {
            waker.wake();
        }
    }
}

impl Default for AtomicWaker {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for AtomicWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtomicWaker")
            .field("state", &self.state.load(Acquire))
            .finish_non_exhaustive()
    }
}
