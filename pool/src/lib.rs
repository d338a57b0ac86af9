//! A statically allocated object pool with a `std`-like [`Box`], where an allocation can wait
//! asynchronously for a free slot.
//!
//! ```
//! use futures_lite::future::block_on;
//! use pool::{Box, Pool, pool};
//!
//! struct Buffer([u8; 256]);
//!
//! // At most 2 buffers exist at a time; at most 3 futures wait for one at a time.
//! pool!(BufferPool: [Buffer; 2], 3);
//!
//! block_on(async {
//!     // Never waits: `None` when no slot is free.
//!     let a = Box::<BufferPool>::new(Buffer([0; 256])).unwrap();
//!     // Waits while no slot is free; `None` only when the 3 waiter places are all taken.
//!     let b = Box::<BufferPool>::new_async(Buffer([1; 256])).await.unwrap();
//!     assert_eq!(a.0[0] + b.0[0], 1);
//!     assert_eq!(BufferPool::free_slots(), 0);
//! });
//! ```
//!
//! Waiting for memory can deadlock if every holder waits for something the waiter must provide;
//! put a timeout around [`Box::new_async`] (for example `embassy_time::with_timeout`) where that
//! is possible.
//!
//! `no_std`, no allocator. It needs a [`critical-section`] implementation (chosen by the final
//! binary) for pools with waiter places, and on targets without compare-and-swap (thumbv6m,
//! riscv32imc) portable-atomic's backend through `sync-core`'s features.
//!
//! # Design
//!
//! [`pool!`] declares a type implementing [`Pool`]; its storage is one const-initialised `static`
//! (no runtime set-up):
//!
//! * a [`PoolStorage`]: `N` slots of `UnsafeCell<MaybeUninit<T>>`, so a slot has `T`'s size and
//!   alignment (over-aligned `T`, 64 or 4096, keep theirs), and a bitmap of `⌈N/32⌉` `AtomicU32`
//!   words, one bit per slot, set while the slot is taken. Allocation sets the lowest clear bit
//!   with a `fetch_or` (**lock-free**, no ABA). This `static` is all zeros, so it lives in
//!   `.bss` and costs no flash;
//! * for `pool!(P: [T; N], W)`, in the same `static`, a [`sync_core::WaitQueue<W>`]: the bounded
//!   FIFO of waiting futures, one waker per place, also all zeros when new. `pool!(P: [T; N])` has
//!   no queue at all ([`NoWaiters`]). Only the pool's own code reaches its queue, so every token
//!   passed through it is a slot index the pool handed out.
//!
//! A dropped [`Box`] whose pool has waiters does **not** clear its bit: it passes the slot index
//! to the oldest waiter through the queue (`notify_one`), which wakes that one waiter, once. Only
//! when nobody waits does the bit go back to the bitmap. The state machine of a slot, the
//! register-then-re-check protocol that rules out lost wake-ups, and the memory orderings are in
//! the docs of the [`storage`] module.
//!
//! # Guarantees
//!
//! * **No lost wake-up.** A waiter enqueues, then re-checks the bitmap; a releaser clears the bit,
//!   then re-checks the queue, both behind a `SeqCst` fence. Whichever order they run in, the slot
//!   reaches the waiter. Checked by loom (`tests/loom_pool.rs`).
//! * **One wake per freed slot**, for one waiter; empty waiter places are never woken.
//! * **FIFO among waiters.** Every slot that reaches a waiter goes through the queue, which serves
//!   the oldest waiter first; a waiter that finds a free slot in its re-check also hands it to the
//!   oldest waiter rather than keep it.
//! * **Waiters before later allocations.** A `Box` dropped while a waiter is queued (as the drop
//!   observes the queue) never becomes free, so neither [`Box::new`] nor a new [`Box::new_async`]
//!   can take it. The one window: a slot whose drop found the queue empty is free in the bitmap,
//!   and then any allocation may take it, including a synchronous one that races with a waiter
//!   still enqueueing at that moment (the waiter arrived after the drop looked, so it is not
//!   overtaken in the FIFO sense).
//! * **Cancellation.** Dropping a pending [`NewAsync`] drops its value (or constructor) exactly
//!   once and frees its waiter place; a slot already handed to it goes to the next waiter, or back
//!   to the pool if nobody waits.
//! * A `Box` of a **zero-sized type** works (the slot index lives in the pointer's address). A `T`
//!   whose `Drop` panics still returns its slot. [`Box::from_raw`] with a foreign pointer is a
//!   safety precondition, checked by a debug assertion.
//!
//! # Costs
//!
//! | operation | cost |
//! | --- | --- |
//! | [`Box::new`] / [`Box::try_new`] | lock-free: ≥ 1 load + 1 `fetch_or`, O(⌈N/32⌉) loads worst case |
//! | drop, pool without waiters | one `fetch_and` |
//! | drop, waiters possible, none waiting | one `fetch_and`, one fence, two loads |
//! | drop with a waiter | one short critical section + one wake, independent of `W` and `N` |
//! | [`Box::new_async`] on a full pool | one critical section to queue; collecting the slot handed to it takes none (one on bare metal) |
//! | `Box`, `Option<Box>` | one pointer |
//! | static footprint | `N·size_of::<T>()` + 4·⌈N/32⌉ in `.bss`, plus `size_of::<WaitQueue<W>>()` (0 without waiters) |
//!
//! A hand-off to a waiter is thus two critical sections on a host (queue, then the freeing drop)
//! and three on bare metal; `tests/async_wait.rs` counts them
//! (`a_hand_off_costs_two_critical_sections`, also under `--cfg sync_core_locked_only`).
//! async-pool 1.3 enters one per waker registration and, on every free, one per waker slot (it
//! wakes them all), so a hand-off among 8 waiters costs it at least 9.
//!
//! Measured by `cargo xtask size` on `thumbv7em-none-eabihf` (opt-level "z", LTO): a firmware
//! that allocates and drops a `Box` of `[u8; 64]` from a 4-slot pool adds 1048 B of flash and
//! 260 B of RAM to a bare cortex-m-rt program; the same program takes 1052 B on heapless's
//! `box_pool` and 1108 B on atomic-pool 2. A
//! queue of `W` waiter places adds `8 + 12·W` bytes of `.bss` on 32-bit targets (the size table
//! in the README has the current numbers, including a probe that waits asynchronously).
//!
//! [`critical-section`]: https://docs.rs/critical-section
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(test)]
extern crate std;

mod bitmap;
mod boxed;
pub mod storage;
mod waiters;

use core::ptr::NonNull;
use core::task::{Poll, Waker};

pub use boxed::{Box, NewAsync};
pub use storage::PoolStorage;
pub use sync_core::WaitQueue;
pub use waiters::{NoWaiters, Waiters};

#[doc(hidden)]
pub use bitmap::words_for as __words_for;

use storage::AcquireState;

/// A pool type: names the item type and the one [`PoolStorage`] behind it.
///
/// Declare pools with [`pool!`] rather than implementing this by hand.
///
/// # Safety
///
/// [`Pool::get`] must return the same storage on every call, for the whole life of the program
/// (in practice: a reference to one `static`). Boxes find their slots through it, and a pending
/// [`NewAsync`] holds a place in its waiter queue.
pub unsafe trait Pool: 'static {
    /// The type of the values in the pool.
    type Item: 'static;

    /// The storage type (a [`PoolStorage`]).
    #[doc(hidden)]
    type Storage: Storage<Item = Self::Item>;

    /// The pool's storage.
    #[doc(hidden)]
    fn get() -> &'static Self::Storage;

    /// The number of slots (`N`).
    #[must_use]
    fn capacity() -> usize {
        Self::get().capacity()
    }

    /// The number of free slots now (a snapshot).
    #[must_use]
    fn free_slots() -> usize {
        Self::get().free_slots()
    }

    /// The number of futures waiting for a slot now (a snapshot).
    #[must_use]
    fn waiting() -> usize {
        Self::get().waiting()
    }

    /// The maximum number of futures that can wait at once (`W`).
    #[must_use]
    fn waiter_capacity() -> usize {
        Self::get().waiter_capacity()
    }
}

mod sealed {
    pub trait Sealed {}
    impl<T, const N: usize, const K: usize, Q> Sealed for crate::PoolStorage<T, N, K, Q> {}
}

/// The operations [`Box`] needs from a pool's storage; implemented only by [`PoolStorage`].
#[doc(hidden)]
pub trait Storage: sealed::Sealed + Sync + 'static {
    /// The value type.
    type Item;
    /// See [`PoolStorage::capacity`].
    fn capacity(&self) -> usize;
    /// See [`PoolStorage::free_slots`].
    fn free_slots(&self) -> usize;
    /// See [`PoolStorage::waiting`].
    fn waiting(&self) -> usize;
    /// See [`PoolStorage::waiter_capacity`].
    fn waiter_capacity(&self) -> usize;
    /// Takes a free slot without waiting.
    fn try_acquire(&self) -> Option<usize>;
    /// One step of an asynchronous allocation.
    ///
    /// # Safety
    ///
    /// `state` was created by `AcquireState::default()` and has been used with this storage
    /// only: its waiter ticket, if any, belongs to this storage's queue (a foreign ticket could
    /// collect a slot index handed to another waiter).
    unsafe fn poll_acquire(&self, state: &mut AcquireState, waker: &Waker) -> Poll<Option<usize>>;
    /// Gives up an asynchronous allocation.
    ///
    /// # Safety
    ///
    /// As for [`Storage::poll_acquire`].
    unsafe fn abandon(&self, state: &mut AcquireState);
    /// Releases a slot.
    ///
    /// # Safety
    ///
    /// The caller owns slot `index`, which holds no value.
    unsafe fn release(&self, index: usize);
    /// A pointer to slot `index`.
    ///
    /// # Safety
    ///
    /// `index < N`.
    unsafe fn slot(&self, index: usize) -> NonNull<Self::Item>;
    /// The slot index of `ptr` (debug-checked).
    fn index_of(&self, ptr: NonNull<Self::Item>) -> usize;
    /// Records an access to a slot's value for loom.
    fn track_access(&self, index: usize);
}

impl<T: 'static, const N: usize, const K: usize, Q: Waiters + 'static> Storage
    for PoolStorage<T, N, K, Q>
{
    type Item = T;

    #[inline]
    fn capacity(&self) -> usize {
        N
    }

    #[inline]
    fn free_slots(&self) -> usize {
        Self::free_slots(self)
    }

    #[inline]
    fn waiting(&self) -> usize {
        Self::waiting(self)
    }

    #[inline]
    fn waiter_capacity(&self) -> usize {
        Self::waiter_capacity(self)
    }

    #[inline]
    fn try_acquire(&self) -> Option<usize> {
        Self::try_acquire(self)
    }

    #[inline]
    unsafe fn poll_acquire(&self, state: &mut AcquireState, waker: &Waker) -> Poll<Option<usize>> {
        // SAFETY: forwarded contract.
        unsafe { Self::poll_acquire(self, state, waker) }
    }

    #[inline]
    unsafe fn abandon(&self, state: &mut AcquireState) {
        // SAFETY: forwarded contract.
        unsafe { Self::abandon(self, state) };
    }

    #[inline]
    unsafe fn release(&self, index: usize) {
        // SAFETY: forwarded contract.
        unsafe { Self::release(self, index) }
    }

    #[inline]
    unsafe fn slot(&self, index: usize) -> NonNull<T> {
        // SAFETY: forwarded contract.
        unsafe { Self::slot(self, index) }
    }

    #[inline]
    fn index_of(&self, ptr: NonNull<T>) -> usize {
        Self::index_of(self, ptr)
    }

    #[inline]
    fn track_access(&self, index: usize) {
        Self::track_access(self, index);
    }
}

/// Declares a pool type: `pool!(vis Name: [T; N], W)`.
///
/// `N` data slots of `T`, and at most `W` futures waiting for a slot at once;
/// `pool!(vis Name: [T; N])` has no waiter places (`W = 0`, and no queue in memory). `N` and `W`
/// may be constant expressions. The storage is one const-initialised `static` inside `Name`'s
/// trait impl: the slots, the bitmap and the waiter queue, all zeros when new, so in `.bss`.
/// `Name` is an uninhabited type used only as `Box<Name>`'s parameter; attributes (such as docs)
/// before the visibility are applied to it.
///
/// Not available under `cfg(loom)` (loom types cannot be in statics): loom models build a
/// [`PoolStorage`] in the model instead.
///
/// # Examples
///
/// ```
/// use pool::{Box, Pool, pool};
///
/// const PACKETS: usize = 8;
///
/// pool!(
///     /// Packet buffers, with room for two waiting tasks.
///     pub PacketPool: [[u8; 128]; PACKETS * 4], 1 + 1
/// );
///
/// assert_eq!(PacketPool::capacity(), 32);
/// assert_eq!(PacketPool::waiter_capacity(), 2);
/// let packet = Box::<PacketPool>::new([0; 128]).unwrap();
/// assert_eq!(PacketPool::free_slots(), 31);
/// # drop(packet);
/// ```
///
/// # What the macro does not expose
///
/// The pool's storage is reachable through the hidden [`Pool::get`], but nothing reachable from
/// safe code can hand a slot to a second owner: the waiter queue is a private field of the
/// storage, and the storage's allocation steps are `unsafe fn`s.
///
/// ```compile_fail,E0133
/// use core::task::Waker;
/// use pool::{Pool, Storage, pool};
///
/// pool!(P: [u8; 1], 1);
/// let mut state = Default::default();
/// // A state from another pool would collect a slot meant for one of this pool's waiters.
/// let _ = P::get().poll_acquire(&mut state, Waker::noop());
/// ```
///
/// ```compile_fail,E0616
/// use pool::{Box, Pool, pool};
///
/// pool!(P: [u8; 1], 1);
/// let b = Box::<P>::new(7).unwrap();
/// // The queue is private: nobody can pass slot 0 to a new owner while `b` owns it.
/// let _ = P::get().waiters.notify_one(0);
/// ```
///
/// A pool without slots is refused: a task waiting on it would wait forever.
///
/// ```compile_fail,E0080
/// use pool::{Pool, pool};
///
/// pool!(Empty: [u8; 0], 1);
/// let _ = Empty::free_slots();
/// ```
///
/// A zero-sized item type keeps its slot index in the `Box`'s address (`align * (index + 1)`),
/// so `N * align_of::<T>()` must fit in a `usize`, or the pool does not compile. On 64-bit
/// targets this pool is fine; on 32-bit ones it is the compile error.
///
#[cfg_attr(target_pointer_width = "32", doc = "```compile_fail,E0080")]
#[cfg_attr(not(target_pointer_width = "32"), doc = "```")]
/// use pool::{Box, Pool, pool};
///
/// #[repr(align(1048576))]
/// struct Huge;
///
/// pool!(P: [Huge; 4096]);
/// assert_eq!(P::free_slots(), 4096);
/// ```
#[macro_export]
macro_rules! pool {
    ($(#[$attr:meta])* $vis:vis $name:ident: [$ty:ty; $n:expr]) => {
        $crate::pool!(@impl $(#[$attr])* $vis $name, $ty, $n, $crate::NoWaiters);
    };
    ($(#[$attr:meta])* $vis:vis $name:ident: [$ty:ty; $n:expr], $w:expr) => {
        $crate::pool!(@impl $(#[$attr])* $vis $name, $ty, $n, $crate::WaitQueue<{ $w }>);
    };
    (@impl $(#[$attr:meta])* $vis:vis $name:ident, $ty:ty, $n:expr, $queue:ty) => {
        $(#[$attr])*
        #[derive(Debug)]
        $vis enum $name {}

        // SAFETY: `get` always returns the same static.
        unsafe impl $crate::Pool for $name {
            type Item = $ty;
            type Storage =
                $crate::PoolStorage<$ty, { $n }, { $crate::__words_for($n) }, $queue>;

            #[inline(always)]
            fn get() -> &'static Self::Storage {
                static STORAGE: $crate::PoolStorage<
                    $ty,
                    { $n },
                    { $crate::__words_for($n) },
                    $queue,
                > = $crate::PoolStorage::new();
                &STORAGE
            }
        }
    };
}
