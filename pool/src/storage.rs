//! [`PoolStorage`]: the slots, the allocation bitmap and the waiter queue of one pool.
//!
//! This is where the whole algorithm lives; [`Box`](crate::Box) is a typed handle on top of it.
//! The [`pool!`](crate::pool) macro puts one `PoolStorage`, waiter queue included, in a `static`;
//! loom models build one inside the model instead (the type is not tied to a `static`).
//!
//! # State of a slot
//!
//! ```text
//!      acquire: fetch_or sets the bit               write the value
//!   Free ──────────────────────────────► Reserved ─────────────────► Owned (by one Box)
//!  (bit 0)                               (bit 1)                           │ drop the value
//!     ▲                                    ▲   ▲                           ▼ (guarded)
//!     │ release, nobody waits:             │   │ the waiter's         Reserved
//!     │ clear the bit, fence,              │   │ poll_ticket               │ release,
//!     │ re-check the queue                 │   │ returns the index         │ someone waits:
//!     └────────────────────────────────────┼───┼───────────────────────────┤ notify_one(index)
//!                                          │   └─────── Handed ◄───────────┘
//!                                          │   (bit 1; the index is the token in the
//!                                          │    oldest waiter's queue place)
//!                                          └─ the waiter cancels and nobody else waits:
//!                                             WaitQueue::cancel returns the index to the
//!                                             cancelling future, which releases it
//! ```
//!
//! (A waiter that cancels while others wait passes `Handed` on to the next one inside
//! `WaitQueue::cancel`.)
//!
//! The bit of a slot is set in every state but `Free`, so a slot on its way to a waiter cannot be
//! taken by `Box::new`.
//!
//! # Releasing a slot (`release`)
//!
//! 1. If the queue is non-empty, `notify_one(index)`: the slot goes, still marked taken, to the
//!    oldest waiter, who is woken once. Done.
//! 2. Otherwise (or if the waiter left meanwhile) clear the bit, then `fence(SeqCst)` and look at
//!    the queue again. If a waiter arrived, take a free slot back (any; it may already be gone to a
//!    concurrent allocation, then stop) and go to 1.
//!
//! # Waiting for a slot (`poll_acquire`)
//!
//! 1. Try the bitmap. On failure `enqueue` (with a clone of the waker); a full queue gives `None`
//!    at once.
//! 2. `fence(SeqCst)`, then try the bitmap again. A slot found here is not kept: it is handed with
//!    `notify_one` to the oldest waiter (which may be this one), so waiters are never overtaken.
//!    If none was found, return `Pending` at once: a slot released from now on is notified to
//!    the queue, which wakes the waker stored in step 1.
//! 3. From then on, `poll_ticket` until the queue delivers a slot index. Collecting a delivered
//!    index takes no critical section (one compare-and-swap of the place, one to free it), except
//!    on bare metal, where one short critical section is smaller in flash than the two
//!    compare-and-swap loops.
//!
//! A hand-off thus costs one critical section on the releasing side (`notify_one`) and none on
//! the waiting side (one on bare metal), besides the one that queued the waiter.
//!
//! **No lost wake-up.** The waiter's step 2 and the releaser's step 2 form Dekker's pattern: each
//! writes (enqueue / clear bit), fences with `SeqCst`, then reads the other's location. With both
//! fences, at least one side sees the other: either the waiter's re-check finds the cleared bit, or
//! the releaser's re-check finds the waiter and hands it a slot. A slot handed to a waiter that then
//! cancels passes to the next waiter (`WaitQueue::cancel`) or comes back to the cancelling future,
//! which releases it by the same procedure. loom checks these races (`tests/loom_pool.rs`).
//!
//! **Memory ordering of slot contents.** Bitmap: `Release` clear / `Acquire` `fetch_or`. Queue hand-off:
//! `notify_one` stores the index in the waiter's place with `Release` and `poll_ticket` takes it
//! with an `Acquire` compare-and-swap (or inside the critical section, which orders it too). Either
//! way the previous owner's drop of the value happens-before the next owner's write.

use core::cell::UnsafeCell;
use core::fmt;
use core::mem::MaybeUninit;
use core::num::NonZeroUsize;
use core::ptr::NonNull;
use core::task::{Poll, Waker};

use sync_core::sync::atomic::{Ordering::SeqCst, fence};

use crate::bitmap::{Bitmap, words_for};
use crate::waiters::Waiters;

/// The storage of a pool of `N` slots of `T`: slots, an allocation bitmap of `K = ⌈N/32⌉` words
/// and a waiter queue `Q`: [`NoWaiters`](crate::NoWaiters) or a [`WaitQueue<W>`](sync_core::WaitQueue).
///
/// Normally made by [`pool!`](crate::pool), which computes `K` and puts the storage in a
/// `static`; see the [module docs](self) for the algorithm. Building one directly is useful for
/// loom models and for introspection in tests.
///
/// The size is `N * size_of::<T>()` plus `4 * K` bytes plus the queue, rounded up to the
/// alignment of `T` (the slots keep `T`'s alignment, however large).
///
/// # Examples
///
/// ```
/// use pool::{NoWaiters, PoolStorage};
///
/// static STORAGE: PoolStorage<u64, 40, 2, NoWaiters> = PoolStorage::new();
/// assert_eq!(STORAGE.capacity(), 40);
/// assert_eq!(STORAGE.free_slots(), 40);
/// assert_eq!(STORAGE.waiting(), 0);
/// ```
pub struct PoolStorage<T, const N: usize, const K: usize, Q> {
    bitmap: Bitmap<K>,
    waiters: Q,
    slots: [UnsafeCell<MaybeUninit<T>>; N],
    /// Under loom, one tracked cell per slot: touched wherever a slot's value is written or
    /// dropped, so loom reports a hand-off that does not order the two owners' accesses.
    #[cfg(loom)]
    access: [sync_core::sync::UnsafeCell<()>; N],
}

// SAFETY: the storage itself never gives access to a value: a value is reached only through the
// one `Box` that owns its slot, and `Box` is `Send`/`Sync` exactly when `T` is. A slot changes hands
// only while it holds no value. The bitmap and the queue are synchronised (atomics, critical
// section), so sharing the storage between threads is sound for every `T`.
unsafe impl<T, const N: usize, const K: usize, Q: Sync> Sync for PoolStorage<T, N, K, Q> {}

/// Progress of one asynchronous allocation (held by [`NewAsync`](crate::NewAsync)).
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct AcquireState {
    /// The waiter ticket, while queued.
    ticket: Option<sync_core::Ticket>,
    /// Completed (with or without a slot).
    done: bool,
}

impl AcquireState {
    /// Whether the allocation holds a waiter ticket (it is queued and not complete).
    #[inline]
    pub(crate) fn is_queued(&self) -> bool {
        self.ticket.is_some()
    }
}

impl<T, const N: usize, const K: usize, Q: Waiters> PoolStorage<T, N, K, Q> {
    const CHECK_WORDS: () = assert!(
        K == words_for(N),
        "PoolStorage<T, N, K, _>: K must be ceil(N / 32)"
    );

    /// A pool needs a slot (with none, a waiting allocation could never complete), and slot
    /// indices travel through the waiter queue as tokens, which are at most `usize::MAX / 2`.
    const CHECK_SLOTS: () = assert!(
        N >= 1 && N <= sync_core::WaitQueue::<0>::MAX_TOKEN,
        "PoolStorage<T, N, ..>: N must be at least 1 and at most usize::MAX / 2"
    );

    /// Zero-sized values share no memory, so a `Box` of one carries its slot index in its
    /// address instead: slot `i` is at `align_of::<T>() * (i + 1)`, which must fit in a `usize`.
    /// With a large alignment on a 32-bit target (for example `align(1 << 20)` and `N = 4096`) it
    /// does not, and the pool is rejected at compile time.
    const CHECK_ZST_ADDRESSES: () = assert!(
        size_of::<T>() != 0 || N.checked_mul(align_of::<T>()).is_some(),
        "PoolStorage<T, N, ..>: T is zero-sized and N * align_of::<T>() overflows usize, so the N \
         slots cannot have distinct aligned addresses; use a smaller N or alignment"
    );

    /// Creates an empty pool (every slot free, nobody waiting).
    #[cfg(not(loom))]
    #[must_use]
    pub const fn new() -> Self {
        let () = Self::CHECK_WORDS;
        let () = Self::CHECK_SLOTS;
        let () = Self::CHECK_ZST_ADDRESSES;
        Self {
            bitmap: Bitmap::new(),
            waiters: Q::EMPTY,
            slots: [const { UnsafeCell::new(MaybeUninit::uninit()) }; N],
        }
    }

    /// Creates an empty pool (every slot free, nobody waiting).
    #[cfg(loom)]
    #[must_use]
    pub fn new() -> Self {
        let () = Self::CHECK_WORDS;
        let () = Self::CHECK_SLOTS;
        let () = Self::CHECK_ZST_ADDRESSES;
        Self {
            bitmap: Bitmap::new(),
            waiters: Q::empty(),
            slots: [const { UnsafeCell::new(MaybeUninit::uninit()) }; N],
            access: core::array::from_fn(|_| sync_core::sync::UnsafeCell::new(())),
        }
    }

    /// The number of slots (`N`).
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The number of free slots now (a snapshot; it may change at once).
    ///
    /// Slots on their way from a dropped `Box` to a waiter are not free.
    #[must_use]
    pub fn free_slots(&self) -> usize {
        // Words are read one by one; with racing updates the sum could exceed N for a moment.
        self.bitmap.count_free(N).min(N)
    }

    /// The number of futures waiting for a slot now (a snapshot).
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.waiters.len()
    }

    /// The maximum number of futures that can wait at once (`W`, 0 for [`NoWaiters`](crate::NoWaiters)).
    #[must_use]
    pub fn waiter_capacity(&self) -> usize {
        self.waiters.capacity()
    }

    /// Takes a free slot without waiting (lock-free).
    #[inline]
    pub(crate) fn try_acquire(&self) -> Option<usize> {
        self.bitmap.acquire(N)
    }

    /// One step of an asynchronous allocation (see "Waiting for a slot" in the module docs).
    ///
    /// `Ready(None)` when no slot is free and all waiter places are taken.
    ///
    /// # Safety
    ///
    /// `state` has been used with this storage only (its ticket belongs to this queue).
    pub(crate) unsafe fn poll_acquire(
        &self,
        state: &mut AcquireState,
        waker: &Waker,
    ) -> Poll<Option<usize>> {
        if state.ticket.is_none() {
            assert!(
                !state.done,
                "pool: allocation future polled after completion"
            );
            if let Some(index) = self.bitmap.acquire(N) {
                state.done = true;
                return Poll::Ready(Some(index));
            }
            if !Q::ENABLED {
                state.done = true;
                return Poll::Ready(None);
            }
            let Ok(ticket) = self.waiters.enqueue(waker) else {
                state.done = true;
                return Poll::Ready(None);
            };
            state.ticket = Some(ticket);
            // Registered; now re-check (Dekker with `release`, see the module docs).
            fence(SeqCst);
            let Some(index) = self.bitmap.acquire(N) else {
                // A slot freed from now on reaches the queue, and a notification wakes the
                // waker just stored: nothing to look at before then.
                return Poll::Pending;
            };
            // Not ours to keep: the oldest waiter (perhaps this one) gets it.
            if let Err(index) = self.waiters.notify_one(index) {
                // Nobody waits: this future was notified meanwhile and holds a slot
                // already. Give the extra one back.
                // SAFETY: `acquire` just gave us this slot; it holds no value.
                unsafe { self.release(index) };
            }
        }
        // Queued: `poll_ticket` takes a delivered slot (without a critical section but on bare
        // metal).
        let poll = self.waiters.poll_ticket(&mut state.ticket, waker);
        if poll.is_ready() {
            state.done = true;
        }
        poll.map(Some)
    }

    /// Gives up an asynchronous allocation; a slot handed to it meanwhile is passed on.
    ///
    /// # Safety
    ///
    /// As for [`PoolStorage::poll_acquire`].
    // Out of line keeps the hot paths of a hosted build tight; on bare metal, where flash counts,
    // inlined into the one `Drop` that calls it is smaller.
    #[cfg_attr(not(target_os = "none"), cold, inline(never))]
    pub(crate) unsafe fn abandon(&self, state: &mut AcquireState) {
        state.done = true;
        if let Some(ticket) = state.ticket.take()
            && let Some(index) = self.waiters.cancel(ticket)
        {
            // SAFETY: the queue handed this slot to us and nobody else waits for it; it holds no
            // value (values are written only after a slot is delivered).
            unsafe { self.release(index) };
        }
    }

    /// Releases slot `index`: to the oldest waiter if there is one, else back to the bitmap (see
    /// "Releasing a slot" in the module docs).
    ///
    /// # Safety
    ///
    /// The caller owns slot `index` (its bit is set on the caller's behalf) and the slot holds no
    /// value; the caller does not touch the slot afterwards.
    pub(crate) unsafe fn release(&self, mut index: usize) {
        loop {
            // SAFETY: the caller's slot, or one `acquire` just took: a slot index, below `N`.
            // Telling the compiler spares the bounds check of the bitmap word.
            unsafe { core::hint::assert_unchecked(index < N) };
            // Looks at the queue without the critical section first (`notify_one` is inlined).
            // On failure the token given back is `index`.
            if Q::ENABLED && self.waiters.notify_one(index).is_ok() {
                return;
            }
            self.bitmap.release(index);
            if !Q::ENABLED {
                return;
            }
            // A waiter may have enqueued after our look at the queue and re-checked the bitmap
            // before the clear: look again (Dekker with `poll_acquire`).
            fence(SeqCst);
            if self.waiters.is_empty() {
                return;
            }
            match self.bitmap.acquire(N) {
                Some(again) => index = again,
                // Every slot is taken: each owner will release it and see the waiter.
                None => return,
            }
        }
    }

    /// A pointer to slot `index`, valid for reads and writes of a `T` while the caller owns the
    /// slot.
    ///
    /// # Safety
    ///
    /// `index < N` (every index from the bitmap or the queue is).
    #[inline]
    pub(crate) unsafe fn slot(&self, index: usize) -> NonNull<T> {
        debug_assert!(index < N);
        if size_of::<T>() == 0 {
            // Zero-sized values all share one address, so the index is encoded in the address
            // instead: `align * (index + 1)`, non-null and aligned. It does not overflow:
            // `index + 1 <= N` and `N * align` fits (`CHECK_ZST_ADDRESSES`, evaluated by `new`,
            // the only constructor). Zero-sized accesses through a pointer without provenance
            // are valid.
            let addr =
                NonZeroUsize::new((index + 1) * align_of::<T>()).unwrap_or(NonZeroUsize::MIN);
            NonNull::without_provenance(addr)
        } else {
            // No bounds check on the hot path: `index < N` is the caller's contract. The pointer
            // keeps the whole array's provenance; writing through it is allowed because each slot
            // is an `UnsafeCell`.
            let first = NonNull::from(&self.slots).cast::<T>();
            // SAFETY: `index < N`, so the offset stays inside the array of `N` slots of `T`'s size.
            unsafe { first.add(index) }
        }
    }

    /// The index of the slot `ptr` points to. Debug builds check that `ptr` is a slot of this
    /// pool (in range and on a slot boundary) with a descriptive panic.
    #[inline]
    pub(crate) fn index_of(&self, ptr: NonNull<T>) -> usize {
        let addr = ptr.as_ptr().addr();
        if size_of::<T>() == 0 {
            let align = align_of::<T>();
            debug_assert!(
                addr.is_multiple_of(align) && (1..=N).contains(&(addr / align)),
                "pool::Box::from_raw: {ptr:p} is not a slot of this pool of {N} zero-sized values \
                 (they live at multiples of {align} from {align} to {})",
                N * align,
            );
            (addr / align).wrapping_sub(1)
        } else {
            let size = size_of::<T>();
            let base = self.slots.as_ptr().addr();
            let offset = addr.wrapping_sub(base);
            debug_assert!(
                offset < N * size && offset.is_multiple_of(size),
                "pool::Box::from_raw: {ptr:p} is not a slot of this pool (its {N} slots of \
                 {size} bytes start at {base:#x}); only pointers from Box::into_raw of the same \
                 pool may be passed",
            );
            offset / size
        }
    }

    /// Under loom, records an access to slot `index`'s value (write or drop); a no-op otherwise.
    #[inline(always)]
    pub(crate) fn track_access(&self, index: usize) {
        #[cfg(loom)]
        self.access[index].with_mut(|_| ());
        #[cfg(not(loom))]
        let _ = index;
    }
}

impl<T, const N: usize, const K: usize, Q: Waiters> Default for PoolStorage<T, N, K, Q> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize, const K: usize, Q: Waiters> fmt::Debug for PoolStorage<T, N, K, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolStorage")
            .field("capacity", &N)
            .field("free_slots", &self.free_slots())
            .field("waiting", &self.waiting())
            .field("waiter_capacity", &self.waiter_capacity())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::PoolStorage;
    use crate::NoWaiters;

    /// The largest zero-sized pool of a large alignment that fits a 32-bit address space: slot
    /// `i` lives at `align * (i + 1)`, so the last one is at `4095 << 20`, just below 4 GiB.
    /// Every slot gets a distinct aligned address that maps back to its index. One slot more is a
    /// compile error on 32-bit targets (`CHECK_ZST_ADDRESSES`; the `pool!` docs have the
    /// compile-fail test). CI runs this under 32-bit miri.
    #[test]
    fn zero_sized_slots_of_large_alignment_have_distinct_aligned_addresses() {
        #[repr(align(1048576))]
        struct Huge;
        const N: usize = 4095;
        // A `static`, not a local: a value aligned to 1 MiB would realign the test's stack frame.
        static STORAGE: PoolStorage<Huge, N, { N.div_ceil(32) }, NoWaiters> = PoolStorage::new();
        let storage = &STORAGE;
        for index in [0, 1, N / 2, N - 2, N - 1] {
            // SAFETY: `index < N`.
            let slot = unsafe { storage.slot(index) };
            assert_eq!(slot.as_ptr().addr(), (index + 1) << 20, "slot {index}");
            assert_eq!(storage.index_of(slot), index);
        }
    }
}
