//! [`WaitQueue`]: a bounded FIFO queue of waiting tasks, safe to use from interrupt handlers.
//!
//! # Design
//!
//! The queue has `N` *places*. A waiter takes a free place ([`WaitQueue::enqueue`]), which puts
//! it at the tail of the queue with a clone of its waker, and keeps the returned [`Ticket`].
//! [`WaitQueue::notify_one`] picks the oldest *waiting* place, marks it *notified* with a `usize`
//! token and wakes its waker. The waiter learns of it through [`WaitQueue::poll_ticket`], which
//! returns the token and frees the place. The token lets a producer hand something to exactly one
//! waiter (the `pool` crate passes the index of a freed slot through it); [`WaitQueue::wake_one`]
//! and [`WaitQueue::wake_all`] are plain wake-ups with token `0`.
//!
//! Each place is in one of three states:
//!
//! ```text
//!            enqueue               notify_one / wake_all
//!   Free ─────────────► Waiting ──────────────────────────► Notified(token)
//!    ▲                    │ cancel                             │ poll_ticket → token
//!    └────────────────────┴────────────────────────────────────┘ cancel → token passed on
//! ```
//!
//! Invariants:
//!
//! * waiting places form a doubly linked list in arrival order; free places form a free list, so
//!   `enqueue`, `notify_one` and `cancel` are O(1) whatever `N` is; `wake_all` is O(N);
//! * **FIFO**: `notify_one` always notifies the oldest waiting place;
//! * **no lost wake-up on cancellation**: [`WaitQueue::cancel`] of a notified place passes its token
//!   to the next waiting place (waking it); only when nobody waits does the token come back to the
//!   caller, who must then dispose of what it stands for;
//! * a full queue is reported as [`QueueFull`], never a panic; empty places are never woken.
//!
//! # Locking
//!
//! The places live behind a *critical section* ([`crate::sync::cs`]), not a lock-free structure:
//! FIFO order plus O(1) removal from the middle needs a linked list, which is not lock-free without
//! hazard handling far larger than the few instructions a critical section holds. On a single-core
//! MCU a critical section masks interrupts for those few instructions, which makes every method
//! **safe to call from an interrupt handler** (ISR → task wake-ups are the point). Wakers are never
//! cloned, woken or dropped inside the critical section: that happens after it ends, so a waker
//! that panics or re-enters the queue cannot deadlock or corrupt it.
//!
//! The number of waiting places is mirrored in an atomic so fast paths can test for waiters
//! ([`WaitQueue::len`]) without entering the critical section.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::sync::atomic::{AtomicUsize, Ordering::Acquire, Ordering::Release};
use crate::sync::cs::CsCell;

/// Index meaning "no place".
const NIL: u16 = u16::MAX;

/// The queue has no free place: `N` waiters are already queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueueFull;

impl fmt::Display for QueueFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("wait queue is full")
    }
}

impl core::error::Error for QueueFull {}

/// A place in a [`WaitQueue`], held by one waiter.
///
/// It is neither `Clone` nor `Copy`: exactly one of [`WaitQueue::poll_ticket`] (returning
/// `Ready`) or [`WaitQueue::cancel`] consumes it. A ticket that is dropped without either keeps its
/// place occupied for good, and a token notified to it is lost; the owner of a ticket must cancel
/// it in its `Drop`.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a ticket holds a place in the queue until it is polled to completion or cancelled"]
pub struct Ticket {
    index: u16,
}

impl Ticket {
    /// The index of the place this ticket holds (`0..N`), for diagnostics.
    #[must_use]
    pub fn index(&self) -> usize {
        usize::from(self.index)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Waiting,
    Notified(usize),
}

struct Place {
    state: State,
    /// Next place: towards the tail in the waiting list, or the next free place.
    next: u16,
    /// Previous place in the waiting list (towards the head).
    prev: u16,
    /// The waiter's waker. For a notified place, `Some` means "not woken yet" (`wake_all`).
    waker: Option<Waker>,
}

struct Inner<const N: usize> {
    places: [Place; N],
    /// Oldest waiting place.
    head: u16,
    /// Newest waiting place.
    tail: u16,
    /// First free place.
    free: u16,
}

/// A bounded FIFO queue of up to `N` waiting tasks (see the [module docs](crate::wait_queue) for the design).
///
/// `N` must be at most 65 535. The size of a queue is 12 + 20·N bytes on 32-bit targets (16 + 40·N on
/// 64-bit): per place a waker, a token with its state, and two 16-bit links.
///
/// # Examples
///
/// ```
/// use core::task::Poll;
/// use futures_lite::future::{block_on, poll_fn};
/// use sync_core::WaitQueue;
///
/// static QUEUE: WaitQueue<4> = WaitQueue::new();
///
/// let waiter = std::thread::spawn(|| block_on(QUEUE.wait()));
/// // Keep waking until the waiter has queued and taken the notification.
/// while !waiter.is_finished() {
///     QUEUE.notify_one(7).ok();
///     std::thread::yield_now();
/// }
/// assert_eq!(waiter.join().unwrap(), Ok(7));
/// ```
pub struct WaitQueue<const N: usize> {
    waiting: AtomicUsize,
    inner: CsCell<Inner<N>>,
}

impl<const N: usize> WaitQueue<N> {
    const FITS: () = assert!(N < NIL as usize, "WaitQueue holds at most 65 535 places");

    crate::const_fn! {
        /// Creates an empty queue.
        #[must_use]
        pub const fn new() -> Self {
            let () = Self::FITS;
            let mut places = [const { Place { state: State::Free, next: NIL, prev: NIL, waker: None } }; N];
            let mut i = 0;
            while i + 1 < N {
                // N < u16::MAX (checked above), so the cast is exact.
                #[allow(clippy::cast_possible_truncation)]
                {
                    places[i].next = (i + 1) as u16;
                }
                i += 1;
            }
            let free = if N == 0 { NIL } else { 0 };
            Self {
                waiting: AtomicUsize::new(0),
                inner: CsCell::new(Inner { places, head: NIL, tail: NIL, free }),
            }
        }
    }

    /// The number of places (`N`).
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The number of waiting (queued, not yet notified) waiters, read without locking.
    #[must_use]
    pub fn len(&self) -> usize {
        self.waiting.load(Acquire)
    }

    /// Whether no waiter is waiting, read without locking.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues a waiter at the tail with a clone of `waker`.
    ///
    /// # Errors
    ///
    /// [`QueueFull`] when all `N` places are taken.
    pub fn enqueue(&self, waker: &Waker) -> Result<Ticket, QueueFull> {
        // Clone outside the critical section: waker code never runs inside it.
        let mut waker = Some(waker.clone());
        let result = self.inner.with(|inner| {
            let index = inner.free;
            if index == NIL {
                return Err(());
            }
            let place = &mut inner.places[usize::from(index)];
            inner.free = place.next;
            place.state = State::Waiting;
            place.waker = waker.take();
            inner.push_back(index);
            self.waiting.fetch_add(1, Release);
            Ok(Ticket { index })
        });
        // On a full queue the clone is dropped here, outside the critical section.
        drop(waker);
        result.map_err(|()| QueueFull)
    }

    /// Checks a ticket: `Ready(token)` if it was notified (the place is freed and the ticket
    /// consumed), `Pending` otherwise (the ticket is handed back in `ticket` and `waker` replaces the
    /// stored waker unless it wakes the same task).
    pub fn poll_ticket(&self, ticket: &mut Option<Ticket>, waker: &Waker) -> Poll<usize> {
        let Some(t) = ticket.as_ref() else {
            panic!("WaitQueue::poll_ticket called without a ticket");
        };
        let index = usize::from(t.index);
        // First look: consume a notification, or see whether the stored waker is still right.
        let (outcome, dropped) = self.inner.with(|inner| {
            let place = &mut inner.places[index];
            match place.state {
                State::Notified(token) => {
                    let dropped = place.waker.take();
                    inner.release(t.index);
                    (Some(Poll::Ready(token)), dropped)
                }
                State::Waiting => match &place.waker {
                    Some(current) if current.will_wake(waker) => (Some(Poll::Pending), None),
                    _ => (None, None),
                },
                State::Free => unreachable!("a ticket's place is never free"),
            }
        });
        drop(dropped);
        let poll = match outcome {
            Some(poll) => poll,
            None => {
                // The waker changed: clone outside the critical section, then swap it in.
                let mut new = Some(waker.clone());
                let (poll, old) = self.inner.with(|inner| {
                    let place = &mut inner.places[index];
                    match place.state {
                        State::Notified(token) => {
                            let old = place.waker.take();
                            inner.release(t.index);
                            (Poll::Ready(token), old)
                        }
                        _ => (
                            Poll::Pending,
                            core::mem::replace(&mut place.waker, new.take()),
                        ),
                    }
                });
                drop(old);
                drop(new);
                poll
            }
        };
        if poll.is_ready() {
            *ticket = None;
        }
        poll
    }

    /// Gives up a place.
    ///
    /// If the place had been notified and its token not yet taken by [`poll_ticket`], the token
    /// passes to the oldest waiting waiter (who is woken). Returns the token only when it could not
    /// be passed on because nobody else waits: the caller then owns what the token stands for.
    ///
    /// [`poll_ticket`]: Self::poll_ticket
    pub fn cancel(&self, ticket: Ticket) -> Option<usize> {
        let (notified, waker) = self.inner.with(|inner| {
            let place = &mut inner.places[usize::from(ticket.index)];
            let waker = place.waker.take();
            let notified = match place.state {
                State::Waiting => {
                    inner.unlink(ticket.index);
                    self.waiting.fetch_sub(1, Release);
                    None
                }
                State::Notified(token) => Some(token),
                State::Free => unreachable!("a ticket's place is never free"),
            };
            inner.release(ticket.index);
            (notified, waker)
        });
        drop(waker);
        let token = notified?;
        self.notify_one(token).err()
    }

    /// Notifies the oldest waiting waiter with `token` and wakes it.
    ///
    /// # Errors
    ///
    /// Gives `token` back when nobody is waiting.
    pub fn notify_one(&self, token: usize) -> Result<(), usize> {
        if self.is_empty() {
            return Err(token);
        }
        let waker = self.inner.with(|inner| {
            let index = inner.head;
            if index == NIL {
                return Err(token);
            }
            inner.unlink(index);
            self.waiting.fetch_sub(1, Release);
            let place = &mut inner.places[usize::from(index)];
            place.state = State::Notified(token);
            Ok(place.waker.take())
        })?;
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Wakes the oldest waiting waiter (with token `0`); returns whether there was one.
    pub fn wake_one(&self) -> bool {
        self.notify_one(0).is_ok()
    }

    /// Wakes every waiter that is waiting when the call starts (with token `0`); returns how many.
    ///
    /// The places are marked in one critical section; the wakers are then taken and woken one at
    /// a time outside it, so this is O(N).
    pub fn wake_all(&self) -> usize {
        if self.is_empty() {
            return 0;
        }
        let count = self.inner.with(|inner| {
            let mut count = 0;
            while inner.head != NIL {
                let index = inner.head;
                inner.unlink(index);
                inner.places[usize::from(index)].state = State::Notified(0);
                count += 1;
            }
            self.waiting.fetch_sub(count, Release);
            count
        });
        for index in 0..N {
            // A notified place with its waker still in it has not been woken yet. A place reused
            // by a new waiter meanwhile is `Waiting` and is left alone.
            let waker = self.inner.with(|inner| {
                let place = &mut inner.places[index];
                match place.state {
                    State::Notified(_) => place.waker.take(),
                    _ => None,
                }
            });
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        count
    }

    /// A future that waits in this queue until notified and resolves to the token.
    ///
    /// Dropping the future before it completes cancels its place (a notification it received
    /// passes to the next waiter; if nobody waits, the token is dropped: use the [`Ticket`] API
    /// when a token stands for something that must not be lost).
    pub fn wait(&self) -> Wait<'_, N> {
        Wait {
            queue: self,
            ticket: None,
            done: false,
        }
    }
}

impl<const N: usize> Default for WaitQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for WaitQueue<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitQueue")
            .field("capacity", &N)
            .field("waiting", &self.len())
            .finish_non_exhaustive()
    }
}

impl<const N: usize> Inner<N> {
    /// Links a place at the tail of the waiting list.
    fn push_back(&mut self, index: u16) {
        let tail = self.tail;
        {
            let place = &mut self.places[usize::from(index)];
            place.prev = tail;
            place.next = NIL;
        }
        if tail == NIL {
            self.head = index;
        } else {
            self.places[usize::from(tail)].next = index;
        }
        self.tail = index;
    }

    /// Unlinks a waiting place from the waiting list.
    fn unlink(&mut self, index: u16) {
        let (prev, next) = {
            let place = &self.places[usize::from(index)];
            (place.prev, place.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.places[usize::from(prev)].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.places[usize::from(next)].prev = prev;
        }
    }

    /// Returns an unlinked place to the free list.
    fn release(&mut self, index: u16) {
        let place = &mut self.places[usize::from(index)];
        place.state = State::Free;
        place.prev = NIL;
        place.next = self.free;
        self.free = index;
    }
}

/// Future returned by [`WaitQueue::wait`].
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'q, const N: usize> {
    queue: &'q WaitQueue<N>,
    ticket: Option<Ticket>,
    done: bool,
}

impl<const N: usize> Future for Wait<'_, N> {
    type Output = Result<usize, QueueFull>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "Wait polled after completion");
        if this.ticket.is_none() {
            match this.queue.enqueue(cx.waker()) {
                Ok(ticket) => this.ticket = Some(ticket),
                Err(full) => {
                    this.done = true;
                    return Poll::Ready(Err(full));
                }
            }
            return Poll::Pending;
        }
        let poll = this.queue.poll_ticket(&mut this.ticket, cx.waker());
        if poll.is_ready() {
            this.done = true;
        }
        poll.map(Ok)
    }
}

impl<const N: usize> Drop for Wait<'_, N> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            let _unclaimed = self.queue.cancel(ticket);
        }
    }
}

impl<const N: usize> fmt::Debug for Wait<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("ticket", &self.ticket)
            .finish_non_exhaustive()
    }
}
