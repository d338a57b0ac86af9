//! [`SharedHatch`]: a hatch whose sending side is shared, so any number of interrupt handlers or
//! threads send through `&SharedHatch` (a `static`) while one [`Receiver`] awaits the values.
//!
//! # Design
//!
//! A [`Sender`] is an owned handle whose sends take `&mut self`; that is what lets its fast path
//! write an empty slot without the lock (invariant 5 in `shared.rs`: while the slot is empty it
//! belongs to the one live sender). A handler that only has `&'static` access cannot hold a
//! `&mut Sender`, and several handlers would be several senders. So the shared side is not a
//! `Sender` at all: a `SharedHatch` *is* the hatch, with the sending side built in and always
//! open, and its `&self` sends ([`send`](SharedHatch::send), [`replace`](SharedHatch::replace))
//! always take the hatch's lock (on bare metal a critical section), so concurrent sends exclude
//! each other and the receiver exactly as the locked paths of a `Sender` do. The receiving side is
//! an ordinary [`Receiver`] borrowed from the `SharedHatch` by
//! [`receiver`](SharedHatch::receiver); it awaits as with any hatch.
//!
//! Because no `Sender` of the inner hatch can exist, a lock-free send can never race a shared one:
//! the type rules that misuse out at compile time. The state machine is the one of `shared.rs`
//! with the sender never dropped: a new `SharedHatch` starts with no receiver (all zeros; sends
//! give their value back as [`SendError::Closed`]); [`receiver`](SharedHatch::receiver)
//! reopens both sides like a recycle (a value left by an earlier receiver stays and is received
//! first) and fails with [`RecycleError`] while a receiver is alive. A receiver's drop closes
//! the receiving side again; nothing is freed, since the memory belongs to the `SharedHatch`, and
//! a value still in the slot is dropped with the `SharedHatch` (never, for a `static`), or
//! received by the next receiver.
//!
//! Nothing waits on the sending side: a send to a full slot fails with [`SendError::Full`]
//! (or [`replace`](SharedHatch::replace) swaps the value), so a handler never waits for the
//! receiver and never panics itself, and no sender waker is ever parked.

use core::fmt;
use core::ptr::NonNull;

use crate::Receiver;
#[cfg(doc)]
use crate::Sender;
use crate::error::{RecycleError, SendError};
use crate::shared::{Hatch, IN_USE, R_CLOSED, R_DROPPED, S_CLOSED, Side, VALUE, WAKERS};

/// The bits that must read `IN_USE` alone for a send to be delivered: a receiver was made
/// (`IN_USE`, set by the first [`SharedHatch::receiver`] and never cleared) and neither side is
/// closed (the receiver's drop closes its side). A new `SharedHatch` is all zeros, so a `static`
/// one lands in `.bss`: no receiver yet reads as closed.
const OPEN: u32 = IN_USE | R_CLOSED | S_CLOSED;

/// Whether `state` has no live receiver: none was made yet, or the last one was dropped.
const fn no_receiver(state: u32) -> bool {
    state & IN_USE == 0 || state & R_DROPPED != 0
}

/// A hatch with a shared sending side: send with `&self` from any number of interrupt handlers
/// or threads, receive with one [`Receiver`].
///
/// ```
/// use hatch::SharedHatch;
///
/// static EVENTS: SharedHatch<u32> = SharedHatch::new();
///
/// # futures_lite::future::block_on(async {
/// let mut rx = EVENTS.receiver().expect("the first receiver");
/// assert!(EVENTS.receiver().is_err(), "one receiver at a time");
/// // In an interrupt handler, with nothing but `&'static`:
/// EVENTS.send(7).unwrap();
/// assert_eq!(EVENTS.send(8), Err(hatch::SendError::Full(8)));
/// assert_eq!(EVENTS.replace(9), Ok(Some(7)), "the unreceived 7 is handed back");
/// // In the task:
/// assert_eq!(rx.receive().await, Ok(9));
/// # });
/// ```
///
/// On bare metal each send is one short critical section (the same as the locked paths of a
/// [`Sender`]), so it is safe in interrupt handlers of any priority, also while thread mode is in
/// the middle of a receive. A send never waits for the receiver and never panics itself (it wakes
/// the receiver's waker, which is foreign code); the value comes back in the error when it cannot
/// be delivered. On a hosted target a send may sleep briefly in the OS while another thread holds
/// the lock (see "Threads and tasks of different priorities" in the crate docs).
///
/// `SharedHatch<T>` is `Sync` (shareable by handlers and threads) only if `T: Send`:
///
/// ```compile_fail,E0277
/// fn assert_sync<X: Sync>(_: &X) {}
/// assert_sync(&hatch::SharedHatch::<std::rc::Rc<u8>>::new());
/// ```
pub struct SharedHatch<T> {
    hatch: Hatch<T>,
}

impl<T> SharedHatch<T> {
    sync_core::const_fn! {
        /// A new shared hatch with an empty slot and no receiver yet (a `const fn`, so it can be
        /// a `static`). Until [`receiver`](Self::receiver) is called, sends fail with
        /// [`SendError::Closed`].
        #[must_use]
        pub const fn new() -> Self {
            Self { hatch: Hatch::new() }
        }
    }

    /// The receiving side: `Ok` if no receiver is alive (the first call, or after the last
    /// receiver was dropped), `Err(RecycleError)` while one is. A value sent before and not yet
    /// received is still in the slot and is received first.
    ///
    /// ```
    /// let shared = hatch::SharedHatch::<u8>::new();
    /// let r = shared.receiver().unwrap();
    /// assert!(shared.receiver().is_err());
    /// shared.send(1).unwrap();
    /// drop(r);
    /// assert!(shared.send(2).unwrap_err().is_closed());
    /// let mut r = shared.receiver().unwrap();
    /// assert_eq!(r.receive().now(), Ok(Some(1)));
    /// ```
    pub fn receiver(&self) -> Result<Receiver<'_, T>, RecycleError> {
        let hatch = &self.hatch;
        let (state, locked) = hatch.lock();
        if !no_receiver(state) {
            hatch.unlock_unchanged(locked, state);
            return Err(RecycleError(()));
        }
        // Both sides open (the sending side never closes); the value and the waker bits stay.
        hatch.unlock(locked, (state & (VALUE | WAKERS)) | IN_USE);
        // SAFETY: no receiver was alive (`IN_USE` clear or `R_DROPPED` set, under the lock), and
        // we marked one alive in the same critical section; the hatch is borrowed for the receiver's
        // lifetime, so it outlives it and does not move.
        Ok(unsafe { Receiver::from_raw(NonNull::from(hatch), 0) })
    }

    /// Sends `value`: `Err(Full(value))` if the slot still holds an unreceived value,
    /// `Err(Closed(value))` if no receiver is alive or it closed. Wakes a receive that waits.
    #[inline]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        let hatch = &self.hatch;
        // Full and open at this look: where the send takes effect, no lock needed.
        // ORDERING: nothing is read or written after the look, so its ordering does not matter.
        if hatch.peek() & (VALUE | OPEN) == VALUE | IN_USE {
            return Err(SendError::Full(value));
        }
        let (state, locked) = hatch.lock();
        if state & OPEN != IN_USE {
            hatch.unlock(locked, state);
            return Err(SendError::Closed(value));
        }
        if state & VALUE != 0 {
            hatch.unlock(locked, state);
            return Err(SendError::Full(value));
        }
        // SAFETY: we hold the lock, the slot is empty; `deliver` publishes `VALUE`.
        unsafe { self.deliver(state, locked, value) };
        Ok(())
    }

    /// Sends `value`, replacing an unreceived one, which is handed back (`Ok(Some(old))`) rather
    /// than dropped, so a handler decides where its destructor runs. `Err(Closed(value))` if no
    /// receiver is alive or it closed; never `Full`.
    #[inline]
    pub fn replace(&self, value: T) -> Result<Option<T>, SendError<T>> {
        let hatch = &self.hatch;
        let (state, locked) = hatch.lock();
        if state & OPEN != IN_USE {
            hatch.unlock(locked, state);
            return Err(SendError::Closed(value));
        }
        let old = if state & VALUE != 0 {
            // SAFETY: we hold the lock and the slot is full; it is refilled below, so the
            // `VALUE` that `deliver` publishes stays true.
            Some(unsafe { hatch.take_value() })
        } else {
            None
        };
        // SAFETY: we hold the lock, the slot is empty now.
        unsafe { self.deliver(state, locked, value) };
        Ok(old)
    }

    /// Whether a receiver is alive and open: sends can be delivered.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.hatch.peek() & OPEN == IN_USE
    }

    /// Whether an unreceived value is in the slot.
    #[must_use]
    pub fn has_value(&self) -> bool {
        self.hatch.peek() & VALUE != 0
    }

    /// The state word (for the crate's tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn state(&self) -> u32 {
        self.hatch.peek()
    }

    /// Moves `value` into the empty slot, publishes `VALUE` with the unlock, then wakes a
    /// parked receive (outside the lock).
    ///
    /// # Safety
    /// `locked` is this hatch's lock, taken with `state`; the slot is empty (the caller took a
    /// value out, or `state` lacks `VALUE`).
    #[inline]
    unsafe fn deliver(&self, state: u32, locked: crate::shared::Locked, value: T) {
        let hatch = &self.hatch;
        // SAFETY: the lock is held and the slot is empty (caller's contract).
        unsafe { hatch.put_value(value) };
        let next = state | VALUE;
        // SAFETY: `locked` is this hatch's lock, and `next` keeps the waker bits of `state`.
        // Nothing parks on the sending side, so the waker slot holds only a receiver's waker,
        // which is taken out and woken.
        unsafe { hatch.unlock_and_wake(locked, Side::Sender, None, next) };
    }
}

impl<T> Default for SharedHatch<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for SharedHatch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.hatch.peek();
        f.debug_struct("SharedHatch")
            .field("full", &(state & VALUE != 0))
            .field(
                "receiver",
                &format_args!(
                    "{}",
                    if no_receiver(state) {
                        "none"
                    } else if state & R_CLOSED != 0 {
                        "closed"
                    } else {
                        "open"
                    }
                ),
            )
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl<T> defmt::Format for SharedHatch<T> {
    fn format(&self, f: defmt::Formatter<'_>) {
        let state = self.hatch.peek();
        let receiver = if no_receiver(state) {
            "none"
        } else if state & R_CLOSED != 0 {
            "closed"
        } else {
            "open"
        };
        defmt::write!(
            f,
            "SharedHatch {{ full: {=bool}, receiver: {=str} }}",
            state & VALUE != 0,
            receiver
        );
    }
}
