//! The waiter queue of a pool: [`sync_core::WaitQueue<W>`] for pools with waiter places, or the
//! zero-sized [`NoWaiters`] for pools without, so that `pool!(P: [T; N])` costs no more than the
//! bitmap and the slots.
//!
//! The queue is a private field of the pool's storage: only the pool's own code reaches it, so
//! the slot indices passed through it as tokens always stand for slots the pool handed out. A new
//! queue is all zeros, like the bitmap, so the storage `static` that [`pool!`](crate::pool)
//! declares stays in `.bss` and costs no flash.
//!
//! [`Waiters`] is sealed: only these types implement it.

use core::task::{Poll, Waker};

use sync_core::{QueueFull, Ticket, WaitQueue};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::NoWaiters {}
    impl<const W: usize> Sealed for sync_core::WaitQueue<W> {}
}

/// A waiter queue usable by a [`PoolStorage`](crate::PoolStorage) (sealed; see the module docs).
///
/// The methods mirror [`WaitQueue`]'s.
pub trait Waiters: sealed::Sealed + Sync {
    /// Whether waiting is possible at all (`false` for [`NoWaiters`]); a constant, so pools without
    /// waiters compile their release path down to one bit clear.
    const ENABLED: bool;

    /// An empty queue.
    #[cfg(not(loom))]
    const EMPTY: Self;

    /// An empty queue.
    #[cfg(loom)]
    fn empty() -> Self;

    /// The number of waiter places.
    fn capacity(&self) -> usize;
    /// The number of waiting waiters (lock-free read).
    fn len(&self) -> usize;
    /// Whether nobody waits (lock-free read).
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// See [`WaitQueue::enqueue`].
    ///
    /// # Errors
    ///
    /// [`QueueFull`] when every place is taken.
    fn enqueue(&self, waker: &Waker) -> Result<Ticket, QueueFull>;
    /// See [`WaitQueue::poll_ticket`].
    fn poll_ticket(&self, ticket: &mut Option<Ticket>, waker: &Waker) -> Poll<usize>;
    /// See [`WaitQueue::cancel`].
    fn cancel(&self, ticket: Ticket) -> Option<usize>;
    /// See [`WaitQueue::notify_one`].
    ///
    /// # Errors
    ///
    /// Gives the token back when nobody waits.
    fn notify_one(&self, token: usize) -> Result<(), usize>;
}

/// The waiter queue of a pool that cannot be waited on (`pool!(P: [T; N])`): zero-sized; an
/// asynchronous allocation on a full pool returns `None` at once.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoWaiters;

impl Waiters for NoWaiters {
    const ENABLED: bool = false;

    #[cfg(not(loom))]
    const EMPTY: Self = Self;

    #[cfg(loom)]
    fn empty() -> Self {
        Self
    }

    fn capacity(&self) -> usize {
        0
    }

    fn len(&self) -> usize {
        0
    }

    fn enqueue(&self, _waker: &Waker) -> Result<Ticket, QueueFull> {
        Err(QueueFull)
    }

    fn poll_ticket(&self, _ticket: &mut Option<Ticket>, _waker: &Waker) -> Poll<usize> {
        unreachable!("NoWaiters never hands out tickets")
    }

    fn cancel(&self, _ticket: Ticket) -> Option<usize> {
        unreachable!("NoWaiters never hands out tickets")
    }

    fn notify_one(&self, token: usize) -> Result<(), usize> {
        Err(token)
    }
}

impl<const W: usize> Waiters for WaitQueue<W> {
    const ENABLED: bool = W > 0;

    #[cfg(not(loom))]
    const EMPTY: Self = Self::new();

    #[cfg(loom)]
    fn empty() -> Self {
        Self::new()
    }

    #[inline]
    fn capacity(&self) -> usize {
        W
    }

    #[inline]
    fn len(&self) -> usize {
        Self::len(self)
    }

    #[inline]
    fn enqueue(&self, waker: &Waker) -> Result<Ticket, QueueFull> {
        Self::enqueue(self, waker)
    }

    #[inline]
    fn poll_ticket(&self, ticket: &mut Option<Ticket>, waker: &Waker) -> Poll<usize> {
        Self::poll_ticket(self, ticket, waker)
    }

    #[inline]
    fn cancel(&self, ticket: Ticket) -> Option<usize> {
        Self::cancel(self, ticket)
    }

    #[inline]
    fn notify_one(&self, token: usize) -> Result<(), usize> {
        Self::notify_one(self, token)
    }
}
