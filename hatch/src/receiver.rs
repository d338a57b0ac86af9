//! The receiving side: [`Receiver`], its receive operation [`Receiving`], and the blocking
//! receive for plain threads (feature `std`).
//!
//! A receive takes the lock once: if the slot is full it moves the value out, takes out the
//! sender's waker (a sender waiting for room) and clears `VALUE` with the unlock, then wakes the
//! sender. If the slot is empty and the sender closed, it is `Err(Closed)`. Otherwise a future
//! parks its waker (cloned outside the lock — before it, when a first look finds the hatch empty
//! and no waker of ours parked — then re-check and store) and, if it is the first to listen,
//! takes out the sender's waker to wake a lazy sender waiting in [`Sender::wait`].
//!
//! The blocking receive polls the same future with a per-thread waker that unparks the thread
//! (made once per thread, so a reused hatch allocates nothing per message).

use core::fmt;
use core::ptr::NonNull;
#[cfg(any(feature = "async", all(feature = "std", not(loom))))]
use core::task::{Context, Poll};

use crate::Sender;
use crate::error::{Closed, RecycleError};
use crate::handle::Handle;
#[cfg(any(feature = "async", all(feature = "std", not(loom))))]
use crate::shared::R_WAKER;
use crate::shared::{Hatch, LOCK, Locked, R_CLOSED, S_CLOSED, S_DROPPED, Side, VALUE, WAKERS};

/// The receiving half of a hatch.
///
/// Receives one value at a time, any number of times. `'a` is the lifetime of the hatch's memory
/// (`'static` for [`hatch()`](crate::hatch())). `Send` and `Sync` only if `T: Send`:
///
/// ```compile_fail,E0277
/// fn assert_send<X: Send>(_: &X) {}
/// let (_s, r) = hatch::hatch::<std::rc::Rc<u8>>();
/// assert_send(&r);
/// ```
pub struct Receiver<'a, T> {
    pub(crate) handle: Handle<'a, T>,
}

// SAFETY: a receiver moves `T` values out of the shared slot that the sender filled on another
// thread: `T: Send` is required and sufficient.
unsafe impl<T: Send> Send for Receiver<'_, T> {}
// SAFETY: every method that touches the hatch takes `&mut self`; `&self` methods only read the
// atomic state.
unsafe impl<T: Send> Sync for Receiver<'_, T> {}

impl<'a, T> Receiver<'a, T> {
    /// # Safety
    /// `hatch` is valid for `'a`, and no other receiver of it is alive.
    pub(crate) const unsafe fn from_raw(hatch: NonNull<Hatch<T>>, flags: u8) -> Self {
        // SAFETY: forwarded contract.
        Self::from_handle(unsafe { Handle::new(hatch, flags) })
    }

    /// The receiver that owns `handle`.
    pub(crate) const fn from_handle(handle: Handle<'a, T>) -> Self {
        Self { handle }
    }

    /// Starts receiving: `.await` it, or take what is there with [`Receiving::now`].
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (mut s, mut r) = hatch::hatch::<i32>();
    /// s.send(42).now().unwrap();
    /// assert_eq!(r.receive().await, Ok(42));
    /// drop(s);
    /// assert_eq!(r.receive().await, Err(hatch::Closed));
    /// # });
    /// ```
    #[inline]
    pub fn receive(&mut self) -> Receiving<'_, 'a, T> {
        Receiving {
            receiver: self,
            parked: false,
        }
    }

    /// Blocks the thread until a value arrives (`Ok`) or the sender closes with the slot empty
    /// (`Err(Closed)`). While it waits the receiver counts as listening for [`Sender::wait`].
    ///
    /// ```
    /// let (mut s, mut r) = hatch::hatch::<u32>();
    /// let t = std::thread::spawn(move || s.send(9).now().unwrap());
    /// assert_eq!(r.receive_blocking(), Ok(9));
    /// t.join().unwrap();
    /// ```
    #[cfg(all(feature = "std", not(loom)))]
    pub fn receive_blocking(&mut self) -> Result<T, Closed> {
        let waker = crate::blocking::thread_waker();
        let cx = Context::from_waker(&waker);
        let mut receiving = self.receive();
        loop {
            if let Poll::Ready(result) = receiving.poll_receive(&cx) {
                return result;
            }
            // A stale unpark token only costs one more poll.
            std::thread::park();
        }
    }

    /// Makes a new sender after the old one was dropped. A value it sent before dropping stays
    /// in the slot and is received first. Both sides start open; this receiver's flags stay.
    ///
    /// `Err(RecycleError)` if the sender is still alive.
    ///
    /// ```
    /// let (s, mut r) = hatch::hatch::<u8>();
    /// assert!(r.recycle().is_err());
    /// drop(s);
    /// let mut s = r.recycle().unwrap();
    /// s.send(1).now().unwrap();
    /// assert_eq!(r.receive().now(), Ok(Some(1)));
    /// ```
    pub fn recycle(&mut self) -> Result<Sender<'a, T>, RecycleError> {
        Ok(Sender::from_handle(self.handle.recycle(Side::Receiver)?))
    }

    /// Closes the receiving side: later sends fail with `Closed` and give their value back; a
    /// value already in the slot can still be received. A parked send or wait is woken.
    ///
    /// ```
    /// let (mut s, mut r) = hatch::hatch::<u8>();
    /// s.send(1).now().unwrap();
    /// r.close();
    /// assert_eq!(s.send(2).now(), Err(hatch::SendError::Closed(2)));
    /// assert_eq!(r.receive().now(), Ok(Some(1)));
    /// assert_eq!(r.receive().now(), Err(hatch::Closed));
    /// ```
    pub fn close(&mut self) {
        self.handle.close(Side::Receiver);
    }

    /// Whether the sender has closed (or been dropped). A value it sent before closing may still
    /// be waiting in the slot.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// Whether a value is waiting in the slot.
    #[must_use]
    pub fn has_value(&self) -> bool {
        self.handle.hatch().peek() & VALUE != 0
    }

    crate::handle::flag_accessors! {
        operation: "receive";

        set_closes:
        /// Sets whether this side closes after its next successful receive (for one-shot
        /// use): later sends fail with `Closed` and give the value back. Sets, never toggles.
        ;
    }
}

impl<T> Receiver<'_, T> {
    /// [`Receiving::now`] without the future's machinery: an `Acquire` load on an empty, open
    /// hatch; on a full one with no waker parked, one compare-and-swap that takes the lock, the
    /// move and the releasing store (or, once the sender is dropped, the move and a plain store:
    /// [`take_alone`](Self::take_alone)); otherwise, and always on bare metal (`target_os =
    /// "none"`), [`receive_locked`](Self::receive_locked).
    #[inline(always)]
    fn receive_now(&mut self) -> Result<Option<T>, Closed> {
        // On bare metal the lock is a short critical section, and one call to the out-of-line
        // locked receive is smaller than this fast path inlined at every receive.
        if crate::shared::LOCKED_ONLY {
            return Self::receive_locked(self.handle.hatch(), self.closes());
        }
        let hatch = self.handle.hatch();
        // ORDERING: on an empty, open hatch we return after this look without touching memory,
        // so `peek`'s `Acquire` is not needed for that answer; on a full one the value is read
        // only after `try_lock`, which acquires by itself, or, when the sender is gone, after
        // this look, whose `Acquire` then synchronises with the sender's final publish.
        let seen = hatch.peek();
        // The ready case is tested first, so a receive that finds a value pays one test (and
        // one more for whether the sender is gone); an empty one pays two.
        // ORDERING: `try_lock` succeeds with an `Acquire` compare-and-swap that reads `VALUE`:
        // it synchronises with the sender's `Release` publish (`transition` or an unlock), so
        // the value in the slot is visible; our unlock below (`Release`) publishes the emptied
        // slot to the sender's next `Acquire` look.
        if seen & (LOCK | WAKERS | VALUE) == VALUE {
            if seen & S_DROPPED != 0 {
                return Ok(Some(self.take_alone(seen)));
            }
            if let Some(locked) = hatch.try_lock(seen) {
                // SAFETY: we hold the lock and `seen` (the state under it) has `VALUE`; it is
                // cleared below.
                let value = unsafe { hatch.take_value() };
                let closes = if self.closes() { R_CLOSED } else { 0 };
                hatch.unlock(locked, (seen & !VALUE) | closes);
                return Ok(Some(value));
            }
        } else if seen & (VALUE | S_CLOSED | R_CLOSED) == 0 {
            return Ok(None);
        }
        Self::receive_locked(hatch, self.closes())
    }

    /// Takes the value from a full hatch whose sender is gone (`seen`, with `S_DROPPED`, no lock
    /// bit and no waker hint), without the lock: the receive that follows
    /// [`Sender::send_last`].
    ///
    /// Nobody else writes the state or the slot any more: the sender handle is dropped (only a
    /// `Sender` sets `S_DROPPED`, so this is no `SharedHatch`), this receiver is borrowed
    /// mutably, and a `try_split` only compare-and-swaps from a free state, which ours is not
    /// (`IN_USE` stays set until this receiver's own cleanup). Never on bare metal, where a
    /// split stores the state inside the lock section and would overwrite a store of ours.
    #[inline(always)]
    fn take_alone(&mut self, seen: u32) -> T {
        let hatch = self.handle.hatch();
        // SAFETY: the slot is full (`VALUE` in `seen`) and only we can reach it (above); the
        // caller's `Acquire` look at `S_DROPPED` synchronises with the sender's final publish,
        // so its write of the slot happens-before this read.
        let value = unsafe { hatch.take_value() };
        let closes = if self.closes() { R_CLOSED } else { 0 };
        // ORDERING: `Relaxed`: until this receiver's own drop, which publishes with `Release`
        // when it marks the hatch free (or frees the box), nobody acts on what we store. A
        // `try_split` or `is_free` reads `IN_USE`, which this store keeps.
        hatch.word().store(
            (seen & !VALUE) | closes,
            sync_core::sync::atomic::Ordering::Relaxed,
        );
        value
    }

    /// The locked part of [`receive_now`](Self::receive_now): closed, or a waker to move, or the
    /// lock was busy.
    ///
    /// It takes the hatch and the `closes` flag rather than the receiver, so that the caller
    /// need not keep its receiver in memory for a call that the fast path usually skips.
    #[inline(never)]
    fn receive_locked(hatch: &Hatch<T>, closes: bool) -> Result<Option<T>, Closed> {
        let (state, locked) = hatch.lock();
        if state & (VALUE | S_CLOSED | R_CLOSED) != 0 {
            return Self::finish(hatch, state, locked, closes).map(Some);
        }
        hatch.unlock(locked, state);
        Ok(None)
    }

    /// Ends a receive under the lock taken with `state`, which has a value or a closed side.
    /// With a value: moves it out, clears `VALUE` (and closes this side if `closes`); without
    /// one the answer is `Closed`. Either way our own waker leaves its slot, and the sender's
    /// (a sender waiting for room) is woken after the unlock.
    #[inline]
    fn finish(hatch: &Hatch<T>, state: u32, locked: Locked, closes: bool) -> Result<T, Closed> {
        let (result, next) = if state & VALUE != 0 {
            // SAFETY: we hold the lock and the slot is full; `VALUE` is cleared below.
            let value = unsafe { hatch.take_value() };
            let closes = if closes { R_CLOSED } else { 0 };
            (Ok(value), (state & !VALUE) | closes)
        } else {
            (Err(Closed), state)
        };
        // SAFETY: `locked` is this hatch's lock, and `next` keeps the waker hints of `state`.
        unsafe { hatch.unlock_and_wake(locked, Side::Receiver, None, next) };
        result
    }
}

impl<T> Drop for Receiver<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.handle.release(Side::Receiver);
    }
}

impl<T> fmt::Debug for Receiver<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt_debug("Receiver", f)
    }
}

/// A receive in progress (from [`Receiver::receive`]): `.await` it, or call [`now`](Self::now).
///
/// While a `Receiving` future is parked the receiver counts as listening (see
/// [`Sender::wait`]). Dropping it removes its waker; a value that arrived meanwhile stays in the
/// slot for the next receive.
#[must_use = "a receive does nothing until you call `now()` or await it"]
pub struct Receiving<'r, 'a, T> {
    receiver: &'r mut Receiver<'a, T>,
    parked: bool,
}

impl<T> Receiving<'_, '_, T> {
    /// Takes the value if there is one: `Ok(Some(v))`, `Ok(None)` if the slot is empty and the
    /// sender open, `Err(Closed)` if it is empty and the sender closed. Never counts as
    /// listening.
    ///
    /// ```
    /// let (mut s, mut r) = hatch::hatch::<i32>();
    /// assert_eq!(r.receive().now(), Ok(None));
    /// s.send(1).now().unwrap();
    /// drop(s);
    /// assert_eq!(r.receive().now(), Ok(Some(1)));
    /// assert_eq!(r.receive().now(), Err(hatch::Closed));
    /// ```
    #[inline(always)]
    pub fn now(self) -> Result<Option<T>, Closed> {
        // Never parked: our `Drop` has nothing to do.
        self.receiver.receive_now()
    }

    /// One attempt to receive; parks `cx`'s waker on an empty, open hatch.
    #[cfg(any(feature = "async", all(feature = "std", not(loom))))]
    fn poll_receive(&mut self, cx: &Context<'_>) -> Poll<Result<T, Closed>> {
        let hatch = self.receiver.handle.hatch();
        let closes = self.receiver.closes();
        // ORDERING: this look only decides whether to clone the waker early; everything is
        // decided again under the lock, which acquires.
        let seen = hatch.peek();
        // Empty, open and no waker of ours in the slot: we are about to park, so clone the waker
        // now, before the lock, and save a second critical section. (If a value arrives
        // meanwhile, the clone is dropped unused.)
        let mut clone = if seen & (VALUE | S_CLOSED | R_CLOSED | R_WAKER) == 0 {
            Some(cx.waker().clone())
        } else {
            None
        };
        loop {
            let (state, locked) = hatch.lock();
            if state & (VALUE | S_CLOSED | R_CLOSED) != 0 {
                self.parked = false;
                let result = Receiver::finish(hatch, state, locked, closes);
                drop(clone);
                return Poll::Ready(result);
            }
            // SAFETY: we hold the lock; `state` is the state under it.
            if unsafe { hatch.will_wake(Side::Receiver, state, cx.waker()) } {
                hatch.unlock(locked, state);
                drop(clone);
                return Poll::Pending;
            }
            let Some(waker) = clone.take() else {
                hatch.unlock(locked, state);
                clone = Some(cx.waker().clone());
                continue;
            };
            // Park: our waker goes in (an old one of ours, another task's, is dropped), and the
            // first time we listen a lazy sender waiting in `Sender::wait` has its waker taken
            // out and woken.
            // SAFETY: `locked` is this hatch's lock, taken with `state`.
            unsafe { hatch.unlock_and_wake(locked, Side::Receiver, Some(waker), state) };
            self.parked = true;
            return Poll::Pending;
        }
    }
}

#[cfg(feature = "async")]
impl<T> core::future::Future for Receiving<'_, '_, T> {
    type Output = Result<T, Closed>;

    fn poll(self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_receive(cx)
    }
}

impl<T> Receiving<'_, '_, T> {
    /// Removes the parked waker of a dropped receive future (out of line: the drop of a
    /// receive that never parked, as after `now()`, is one test).
    #[inline(never)]
    fn unpark(&mut self) {
        let hatch = self.receiver.handle.hatch();
        let (state, locked) = hatch.lock();
        // SAFETY: `locked` is this hatch's lock, taken with `state`. (Usually the slot holds our
        // waker, which is dropped; if a send took it meanwhile and then parked on the full
        // slot, the sender is woken once, and parks again.)
        unsafe { hatch.unlock_and_wake(locked, Side::Receiver, None, state) };
    }
}

impl<T> Drop for Receiving<'_, '_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        if self.parked {
            self.unpark();
        }
    }
}

impl<T> Receiving<'_, '_, T> {
    /// Whether a waker is parked (for `defmt`).
    #[cfg(feature = "defmt")]
    pub(crate) const fn is_parked(&self) -> bool {
        self.parked
    }
}

impl<T> fmt::Debug for Receiving<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiving")
            .field("parked", &self.parked)
            .finish_non_exhaustive()
    }
}
