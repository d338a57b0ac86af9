//! The sending side: [`Sender`], its send operation [`Sending`] and the lazy-send wait [`Wait`].
//!
//! A [`Sending::now`] ends in one of three ways, cheapest first (as in "Lock-free paths" in
//! `shared.rs`; on bare metal always the third, which is smaller); a send future always goes
//! the third way, and parks where `now()` says `Full`:
//!
//! * **Empty, open, nothing parked, lock free** (one `Acquire` look at the state): no lock. The
//!   sender writes the slot, which only it touches while `VALUE` is clear, and publishes `VALUE`
//!   with one compare-and-swap from the state it saw. If the state changed meanwhile, it takes
//!   the value back and goes the locked way.
//! * **Full, open, not overwriting**: `Full` after that one look, no lock and no write.
//! * **Otherwise** (closed, a waker to move, overwriting, or the compare-and-swap lost): the lock
//!   once. It checks that both sides are open, checks the slot (full and not overwriting: `Full`,
//!   or park the future), moves the value in (taking out an overwritten one), takes the waker
//!   out of the waker slot and publishes `VALUE` with the unlock. Then, with the lock released, it
//!   wakes the receiver and drops the overwritten value — in that order, so a panicking
//!   destructor cannot swallow the wake-up.
//!
//! Parking (a send future on a full slot, or [`Wait`]) needs a clone of the task's waker, which
//! must not run under the lock: the future unlocks, clones, locks again and re-checks before it
//! stores the clone. A re-poll from the same task (`will_wake`) stores nothing.

use core::fmt;
use core::ptr::NonNull;
#[cfg(feature = "async")]
use core::task::{Context, Poll, Waker};

use crate::Receiver;
#[cfg(feature = "async")]
use crate::error::Closed;
use crate::error::{RecycleError, SendError};
use crate::handle::{F_UNSENT, Handle};
use crate::shared::{
    Hatch, IN_USE, LOCK, Locked, R_CLOSED, S_CLOSED, S_DROPPED, S_WAKER, Side, VALUE, WAKERS,
    transition,
};

/// The sending half of a hatch.
///
/// Sends one value at a time; the hatch can be reused for any number of messages. `'a` is the
/// lifetime of the hatch's memory (`'static` for [`hatch()`](crate::hatch())).
///
/// `Sender<T>` is `Send` and `Sync` only if `T: Send`:
///
/// ```compile_fail,E0277
/// fn assert_send<X: Send>(_: &X) {}
/// let (s, _r) = hatch::hatch::<std::rc::Rc<u8>>();
/// assert_send(&s);
/// ```
///
/// It is invariant in `T`: a sender of `&'static str` cannot become a sender of shorter
/// references (its receiver would get dangling ones).
///
/// ```compile_fail
/// fn shorten<'a>(s: hatch::Sender<'a, &'static str>) -> hatch::Sender<'a, &'a str> {
///     s
/// }
/// ```
pub struct Sender<'a, T> {
    pub(crate) handle: Handle<'a, T>,
}

// SAFETY: a sender moves `T` values into the shared slot, which the receiver may take on another
// thread: `T: Send` is required and sufficient (no `&T` is ever shared).
unsafe impl<T: Send> Send for Sender<'_, T> {}
// SAFETY: every method that touches the hatch takes `&mut self`; `&self` methods only read the
// atomic state.
unsafe impl<T: Send> Sync for Sender<'_, T> {}

impl<'a, T> Sender<'a, T> {
    /// # Safety
    /// `hatch` is valid for `'a`, and no other sender of it is alive.
    pub(crate) const unsafe fn from_raw(hatch: NonNull<Hatch<T>>, flags: u8) -> Self {
        // SAFETY: forwarded contract.
        Self::from_handle(unsafe { Handle::new(hatch, flags) })
    }

    /// The sender that owns `handle`.
    pub(crate) const fn from_handle(handle: Handle<'a, T>) -> Self {
        Self { handle }
    }

    /// Starts sending `value`: finish with [`Sending::now`], or `.await` it to wait for room.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (mut s, mut r) = hatch::hatch::<i32>();
    /// s.send(1).now().unwrap();
    /// assert_eq!(r.receive().await, Ok(1));
    /// s.send(2).await.unwrap();
    /// assert_eq!(r.receive().now(), Ok(Some(2)));
    /// # });
    /// ```
    #[inline]
    pub fn send(&mut self, value: T) -> Sending<'_, 'a, T> {
        // Every send but `send_last` starts here: from now on the slot may hold our value.
        // (Only `send_last` reads the flag, and never on bare metal.)
        if !crate::shared::LOCKED_ONLY {
            self.handle.set(F_UNSENT, false);
        }
        Sending {
            sender: self,
            value: Some(value),
        }
    }

    /// Sends `value` and drops the sender, in one step: the one-shot send, which uses the sender
    /// up as `oneshot`'s `Sender::send` does. The receiver gets the value, then `Err(Closed)`.
    ///
    /// Cheaper than `send(value).now()` followed by a drop: when the hatch is empty and open
    /// with nothing parked, one compare-and-swap publishes the value and the sender's drop
    /// together, and the receiver, then alone, takes the value without the lock. On a pair just
    /// made by [`hatch()`](crate::hatch()) that has not sent yet, that compare-and-swap starts
    /// from the state the pair was made with, without a look first. Otherwise it is exactly that
    /// send and that drop. On `Err` the value comes back and the sender is
    /// dropped all the same.
    ///
    /// ```
    /// let (s, mut r) = hatch::hatch::<u32>();
    /// s.send_last(7).unwrap();
    /// assert_eq!(r.receive().now(), Ok(Some(7)));
    /// assert_eq!(r.receive().now(), Err(hatch::Closed));
    ///
    /// let (s, r) = hatch::hatch::<u32>();
    /// drop(r);
    /// assert_eq!(s.send_last(8), Err(hatch::SendError::Closed(8)));
    /// ```
    pub fn send_last(self, value: T) -> Result<(), SendError<T>> {
        if crate::shared::LOCKED_ONLY {
            return self.send_then_drop(value);
        }
        let hatch = self.handle.hatch();
        // A sender that never wrote the slot of a pair `hatch()` made (`F_UNSENT`) guesses the
        // state instead of looking: the pair as it was made, both sides open, nothing parked.
        // The slot is empty whatever the state is (only this sender fills it), so the write
        // below is safe before the compare-and-swap checks the guess; a wrong guess (the
        // receiver closed, parked or holds the lock) fails it, and the value goes the locked
        // way. This is the one-shot use (make a pair, send once), and it saves the look.
        // ORDERING: otherwise, as in `send_now`: the `Acquire` look orders the receiver's last
        // take before our write of the slot. A sender that never sent has no take to order.
        let seen = if self.handle.get(F_UNSENT) {
            IN_USE
        } else {
            hatch.peek()
        };
        if seen & (LOCK | WAKERS | VALUE | R_CLOSED | S_CLOSED) != 0 {
            return self.send_then_drop(value);
        }
        // SAFETY: as in `send_now`: `VALUE` is clear and we are the live sender, so the slot is
        // ours until we publish `VALUE`.
        unsafe { hatch.put_value(value) };
        // The drop's bits too: `R_CLOSED` is clear, so the receiver is alive and will clean up;
        // there is no waker of ours to move (hints clear, invariant 3).
        let next = seen | VALUE | S_CLOSED | S_DROPPED | self.handle.cleanup_bits();
        // ORDERING: `Release` on success publishes the slot write and everything this sender
        // did, for the receiver that sees `VALUE` or `S_DROPPED` with `Acquire`; after it we
        // never touch the hatch again (invariant 4).
        if transition(hatch.word(), seen, next) {
            core::mem::forget(self);
            return Ok(());
        }
        // The state changed since our look; the slot is still ours (`VALUE` clear).
        // SAFETY: as above; the slot holds the value we just wrote.
        let value = unsafe { hatch.take_value() };
        self.send_then_drop(value)
    }

    /// The rest of [`send_last`](Self::send_last): an ordinary send, then the drop.
    #[inline(never)]
    fn send_then_drop(mut self, value: T) -> Result<(), SendError<T>> {
        self.send_now(value)
    }

    /// Waits until the receiver is listening — a receive future is parked or a blocking receive
    /// waits — and so the slot is empty: the lazy send. `Err(Closed)` if the receiver closes.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (mut s, mut r) = hatch::hatch::<u8>();
    /// let receive = async { r.receive().await };
    /// let send = async {
    ///     s.wait().await.unwrap(); // only compute the value once someone wants it
    ///     s.send(5).now().unwrap();
    /// };
    /// let (got, ()) = futures_lite::future::zip(receive, send).await;
    /// assert_eq!(got, Ok(5));
    /// # });
    /// ```
    #[cfg(feature = "async")]
    pub fn wait(&mut self) -> Wait<'_, 'a, T> {
        Wait { sender: self }
    }

    /// Makes a new receiver after the old one was dropped; a value that was sent and never
    /// received stays in the slot for the new receiver. Both sides start open (the `closes` state
    /// is reset); the local flags of this sender stay.
    ///
    /// `Err(RecycleError)` if the receiver is still alive (even if it closed).
    ///
    /// ```
    /// let (mut s, r) = hatch::hatch::<u8>();
    /// assert!(s.recycle().is_err(), "the receiver is alive");
    /// s.send(3).now().unwrap();
    /// drop(r);
    /// let mut r = s.recycle().unwrap();
    /// assert_eq!(r.receive().now(), Ok(Some(3)));
    /// ```
    pub fn recycle(&mut self) -> Result<Receiver<'a, T>, RecycleError> {
        Ok(Receiver::from_handle(self.handle.recycle(Side::Sender)?))
    }

    /// Closes the sending side: the receiver gets a value already in the slot, then
    /// `Err(Closed)`; later sends fail with [`SendError::Closed`]. A parked receive is woken.
    /// Dropping the sender closes it too; [`recycle`](Receiver::recycle) reopens it.
    ///
    /// ```
    /// let (mut s, mut r) = hatch::hatch::<u8>();
    /// s.send(1).now().unwrap();
    /// s.close();
    /// assert!(s.send(2).now().unwrap_err().is_closed());
    /// assert_eq!(r.receive().now(), Ok(Some(1)));
    /// assert_eq!(r.receive().now(), Err(hatch::Closed));
    /// ```
    pub fn close(&mut self) {
        self.handle.close(Side::Sender);
    }

    /// Whether the receiver has closed (or been dropped): sends will fail.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    crate::handle::flag_accessors! {
        operation: "send";
        set_closes:
        /// Sets whether this side closes after its next successful send (for one-shot use): the
        /// receiver gets that value, then `Err(Closed)`; later sends fail with `Closed`.
        ;

        /// Whether sends replace an unreceived value (default `false`).
        overwrites /
        /// Sets overwrite mode: a send to a full hatch replaces the unreceived value (which is
        /// dropped) instead of failing with [`SendError::Full`] or waiting. Sets, never toggles.
        set_overwrites = F_OVERWRITES;
    }

    /// One attempt to send; parks `cx`'s waker if the slot is full and `cx` is given.
    #[cfg(feature = "async")]
    fn poll_send(
        &mut self,
        value: &mut Option<T>,
        cx: Option<&Context<'_>>,
    ) -> Poll<Result<(), SendError<T>>> {
        // Checked before locking: nothing may panic while the lock is held.
        assert!(value.is_some(), "Sending polled after completion");
        let hatch = self.handle.hatch();
        let mut clone: Option<Waker> = None;
        loop {
            let (state, locked) = hatch.lock();
            if state & (R_CLOSED | S_CLOSED) != 0 {
                // SAFETY: we hold the lock; `state` is the state under it.
                let own = unsafe { hatch.take_waker(Side::Sender, state) };
                hatch.unlock(locked, state);
                drop((own, clone));
                let value = value.take().expect("checked above");
                return Poll::Ready(Err(SendError::Closed(value)));
            }
            let full = state & VALUE != 0;
            if full && !self.overwrites() {
                let Some(cx) = cx else {
                    hatch.unlock(locked, state);
                    let value = value.take().expect("checked above");
                    return Poll::Ready(Err(SendError::Full(value)));
                };
                // SAFETY: we hold the lock; `state` is the state under it.
                if unsafe { hatch.will_wake(Side::Sender, state, cx.waker()) } {
                    hatch.unlock(locked, state);
                    drop(clone);
                    return Poll::Pending;
                }
                match clone.take() {
                    None => {
                        hatch.unlock(locked, state);
                        clone = Some(cx.waker().clone());
                        continue;
                    }
                    Some(waker) => {
                        // Park: our waker goes in (the slot holds no receiver's waker while
                        // full, invariant 1; an old one of ours is dropped after the unlock).
                        // SAFETY: `locked` is this hatch's lock, taken with `state`.
                        unsafe { hatch.unlock_and_wake(locked, Side::Sender, Some(waker), state) };
                        return Poll::Pending;
                    }
                }
            }
            let Some(new) = value.take() else {
                // Unreachable (asserted before locking); release the lock all the same.
                hatch.unlock(locked, state);
                unreachable!("Sending polled after completion");
            };
            let old = self.deliver(state, locked, new);
            drop((clone, old));
            return Poll::Ready(Ok(()));
        }
    }

    /// [`Sending::now`] without the future's machinery. The common case — an empty, open hatch
    /// with no waker parked and the lock free — takes no lock: the value goes into the slot and
    /// one compare-and-swap publishes `VALUE` (see "Lock-free paths" in `shared`). A full, open
    /// hatch fails with `Full` after that look alone. Anything else goes to
    /// [`send_locked`](Self::send_locked), and so does every send on bare metal
    /// (`target_os = "none"`), where code size matters more than the critical section.
    #[inline(always)]
    fn send_now(&mut self, value: T) -> Result<(), SendError<T>> {
        // On bare metal the lock is a short critical section, and one call to the out-of-line
        // locked send is far smaller than this fast path inlined at every send.
        if crate::shared::LOCKED_ONLY {
            return self.send_locked(value);
        }
        let hatch = self.handle.hatch();
        // ORDERING: `peek` is `Acquire`: when it shows `VALUE` clear, it synchronises with the
        // `Release` that cleared it (the receiver's unlock after its take), so the receiver's
        // read of the slot happens-before our write below.
        let seen = hatch.peek();
        if seen & (LOCK | WAKERS | VALUE | R_CLOSED | S_CLOSED) == 0 {
            // SAFETY: `VALUE` is clear and we are the live sender, so the slot is empty and only
            // we may touch it until we set `VALUE` (invariant 5 of `shared`); the `Acquire` load
            // ordered the receiver's last take before this write.
            unsafe { hatch.put_value(value) };
            let closes = if self.closes() { S_CLOSED } else { 0 };
            // ORDERING: `transition` is `Release` on success: the receiver's `Acquire` lock
            // that sees `VALUE` also sees the value we wrote. On failure nothing was published
            // and the slot is still ours.
            if transition(hatch.word(), seen, seen | VALUE | closes) {
                return Ok(());
            }
            // The state changed since our look: `VALUE` is still clear (only we set it), so the
            // slot is still ours; take the value back and go the locked way.
            // SAFETY: as above; the slot holds the value we just wrote.
            let value = unsafe { hatch.take_value() };
            return self.send_locked(value);
        }
        if seen & (VALUE | R_CLOSED | S_CLOSED) == VALUE && !self.overwrites() {
            // ORDERING: nothing is read or written after this look, so its ordering does not
            // matter here.
            // Full at our look (where this send takes effect, even if a receive empties the slot
            // right after): nothing to change, so no lock.
            return Err(SendError::Full(value));
        }
        self.send_locked(value)
    }

    /// The locked send: full, closed, or a waker to move.
    #[inline(never)]
    fn send_locked(&mut self, value: T) -> Result<(), SendError<T>> {
        let hatch = self.handle.hatch();
        let (state, locked) = hatch.lock();
        let error = if state & (R_CLOSED | S_CLOSED) != 0 {
            SendError::Closed(value)
        } else if state & VALUE != 0 && !self.overwrites() {
            SendError::Full(value)
        } else {
            drop(self.deliver(state, locked, value));
            return Ok(());
        };
        // Nothing changes but the waker cells: our own (left by a forgotten future) leaves its
        // slot, and the receiver's, if any (none while the slot is full, invariant 1), is woken,
        // which a closed hatch allows.
        // SAFETY: `locked` is this hatch's lock, taken with `state`.
        unsafe { hatch.unlock_and_wake(locked, Side::Sender, None, state) };
        Err(error)
    }

    /// Completes a send under the lock taken with `state` (the receiver is open; the slot is
    /// empty, or full and we overwrite): moves `new` in, publishes `VALUE` with the unlock, then
    /// wakes the receiver and drops our own stale waker. Returns the overwritten value, for the
    /// caller to drop after that.
    #[inline]
    fn deliver(&self, state: u32, locked: Locked, new: T) -> Option<T> {
        let hatch = self.handle.hatch();
        let old = if state & VALUE != 0 {
            // SAFETY: we hold the lock and the slot is full; it is refilled below, so the
            // `VALUE` we publish stays true.
            Some(unsafe { hatch.take_value() })
        } else {
            None
        };
        // SAFETY: we hold the lock and the slot is empty now.
        unsafe { hatch.put_value(new) };
        let mut next = state | VALUE;
        if self.closes() {
            next |= S_CLOSED;
        }
        // SAFETY: `locked` is this hatch's lock, and `next` keeps the waker hints of the state
        // it returned.
        unsafe { hatch.unlock_and_wake(locked, Side::Sender, None, next) };
        old
    }

    /// Removes a parked waker of a cancelled send or wait future (out of line: the drop of a
    /// completed send is one test).
    #[inline(never)]
    fn unpark(&mut self) {
        let hatch = self.handle.hatch();
        let (state, locked) = hatch.lock();
        // SAFETY: we hold the lock; `state` is the state under it.
        let own = unsafe { hatch.take_waker(Side::Sender, state) };
        hatch.unlock(locked, state & !S_WAKER);
        drop(own);
    }

    /// One check for the lazy send.
    #[cfg(feature = "async")]
    fn poll_wait(&mut self, cx: &Context<'_>) -> Poll<Result<(), Closed>> {
        let hatch = self.handle.hatch();
        let mut clone: Option<Waker> = None;
        loop {
            let (state, locked) = hatch.lock();
            // SAFETY: we hold the lock; `state` is the state under it.
            let listening = unsafe { hatch.has_waker(Side::Receiver, state) };
            if listening || state & (R_CLOSED | S_CLOSED) != 0 {
                // SAFETY: as above.
                let own = unsafe { hatch.take_waker(Side::Sender, state) };
                hatch.unlock(locked, state);
                drop((own, clone));
                return Poll::Ready(if listening { Ok(()) } else { Err(Closed) });
            }
            // SAFETY: we hold the lock; `state` is the state under it.
            if unsafe { hatch.will_wake(Side::Sender, state, cx.waker()) } {
                hatch.unlock(locked, state);
                drop(clone);
                return Poll::Pending;
            }
            match clone.take() {
                None => {
                    hatch.unlock(locked, state);
                    clone = Some(cx.waker().clone());
                }
                Some(waker) => {
                    // Park: the slot holds no receiver's waker (not listening, checked above);
                    // an old one of ours is dropped after the unlock.
                    // SAFETY: `locked` is this hatch's lock, taken with `state`.
                    unsafe { hatch.unlock_and_wake(locked, Side::Sender, Some(waker), state) };
                    return Poll::Pending;
                }
            }
        }
    }
}

impl<T> Drop for Sender<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.handle.release(Side::Sender);
    }
}

impl<T> fmt::Debug for Sender<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.handle.fmt_debug("Sender", f)
    }
}

/// A send in progress (from [`Sender::send`]): finish it with [`now`](Self::now) or `.await` it.
///
/// As a future it completes when the value is in the slot — at once if the slot is empty or the
/// sender [overwrites](Sender::set_overwrites), otherwise when the receiver takes the value that
/// is there. It fails with [`SendError::Closed`] (giving the value back) if the receiver closes.
/// Dropping a pending `Sending` drops its value and leaves the hatch as it was.
#[must_use = "a send does nothing until you call `now()` or await it"]
pub struct Sending<'s, 'a, T> {
    sender: &'s mut Sender<'a, T>,
    value: Option<T>,
}

impl<T> Sending<'_, '_, T> {
    /// Sends now, without waiting: `Err(Full(v))` if the slot is full (and the sender does not
    /// overwrite), `Err(Closed(v))` if the receiver closed.
    ///
    /// ```
    /// use hatch::SendError;
    ///
    /// let (mut s, r) = hatch::hatch::<i32>();
    /// assert_eq!(s.send(1).now(), Ok(()));
    /// assert_eq!(s.send(2).now(), Err(SendError::Full(2)));
    /// assert_eq!(s.set_overwrites(true).send(3).now(), Ok(()));
    /// drop(r);
    /// assert_eq!(s.send(4).now(), Err(SendError::Closed(4)));
    /// ```
    #[inline(always)]
    pub fn now(mut self) -> Result<(), SendError<T>> {
        // Taking the value also tells our `Drop` that there is nothing to unpark.
        let value = self.value.take().expect("Sending polled after completion");
        self.sender.send_now(value)
    }
}

#[cfg(feature = "async")]
impl<T> core::future::Future for Sending<'_, '_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Sending` is `Unpin`: it holds a reference and an `Option<T>` it never pins.
        let this = self.get_mut();
        this.sender.poll_send(&mut this.value, Some(cx))
    }
}

// Nothing in `Sending` is structurally pinned.
impl<T> Unpin for Sending<'_, '_, T> {}

impl<T> Drop for Sending<'_, '_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        // Still holding the value: the send did not complete and may have parked a waker.
        if self.value.is_some() {
            self.sender.unpark();
        }
    }
}

impl<T> Sending<'_, '_, T> {
    /// Whether the value is still held (for `defmt`).
    #[cfg(feature = "defmt")]
    pub(crate) const fn is_pending(&self) -> bool {
        self.value.is_some()
    }
}

impl<T> fmt::Debug for Sending<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sending")
            .field("pending", &self.value.is_some())
            .finish_non_exhaustive()
    }
}

/// The lazy-send wait (from [`Sender::wait`]): resolves `Ok(())` once the receiver is listening,
/// `Err(Closed)` if it closes. Dropping it removes its waker.
#[cfg(feature = "async")]
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'s, 'a, T> {
    sender: &'s mut Sender<'a, T>,
}

#[cfg(feature = "async")]
impl<T> core::future::Future for Wait<'_, '_, T> {
    type Output = Result<(), Closed>;

    fn poll(self: core::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().sender.poll_wait(cx)
    }
}

#[cfg(feature = "async")]
impl<T> Drop for Wait<'_, '_, T> {
    fn drop(&mut self) {
        self.sender.unpark();
    }
}

#[cfg(feature = "async")]
impl<T> fmt::Debug for Wait<'_, '_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}
