//! [`WaitQueue`]: a bounded FIFO queue of waiting tasks, safe to use from interrupt handlers.
//!
//! # Design
//!
//! The queue has `N` *places*. A waiter takes a free place ([`WaitQueue::enqueue`]), which puts
//! it at the tail of the queue with a clone of its waker, and keeps the returned [`Ticket`].
//! [`WaitQueue::notify_one`] picks the oldest *waiting* place, marks it *notified* with a `usize`
//! token and wakes its waker. The waiter learns of it through [`WaitQueue::poll_ticket`], which
//! returns the token and frees the place, without a critical section except on bare metal (see
//! "Locking"). The token lets a producer hand something to exactly one waiter (the `pool` crate passes the index of a freed slot through it); [`WaitQueue::wake_one`]
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
//!   `enqueue`, `notify_one` and `cancel` are O(1) whatever `N` is; `wake_all` is O(waiters);
//! * **FIFO**: `notify_one` always notifies the oldest waiting place;
//! * **no lost wake-up on cancellation**: [`WaitQueue::cancel`] of a notified place passes its token
//!   to the next waiting place (waking it); only when nobody waits does the token come back to the
//!   caller, who must then dispose of what it stands for;
//! * a full queue is reported as [`QueueFull`], never a panic; empty places are never woken.
//!
//! # Layout
//!
//! A place is a waker slot and one machine word, nothing else: 24 bytes on 64-bit targets, 12 on
//! 32-bit ones. There is no state field; the state is read from the two:
//!
//! | state | `waker` | `word` |
//! | --- | --- | --- |
//! | Free | `None` | distance to the next free place, minus one |
//! | Waiting | `Some` | the list links, `prev \| next << 16`, each below `1 << 15` |
//! | Notified | `None` | the token, with the top bit set |
//!
//! This works because a place holds a waker exactly while it waits: `enqueue` stores one,
//! `notify_one` takes it out (and wakes it after the critical section), `cancel` takes it out. A
//! notified place has left the waiting list, so its word no longer carries links and can carry a
//! token of up to `usize::BITS - 1` bits ([`WaitQueue::MAX_TOKEN`]) with the top bit set as the *notified*
//! mark. Neither a free place's word (a 16-bit distance) nor a waiting one's (two links of 15
//! bits, which is why a queue has at most 32 766 places) ever has the top bit, so the word alone
//! tells a notified place from the others: its owner can check it without the critical section,
//! and a [`Ticket`] used with a queue that did not issue it is refused with a panic instead of
//! freeing a place twice, and the lists stay intact. (Links take 32 bits, so the queue needs a
//! pointer width of at least 32 bits.)
//!
//! The header is four 16-bit fields: the number of waiting places, the head and tail of the
//! waiting list and the head of the free list, 8 bytes. A queue is thus 8 + 12·N bytes on 32-bit
//! targets and 8 + 24·N on 64-bit ones.
//!
//! **A new queue is all zeros**, so a `static` queue goes to `.bss` and costs no flash (no
//! initial image to copy into RAM at boot). That is why head and tail are only read while the
//! waiting count is non-zero (a zero head is not "place 0"), why the free list starts at place 0
//! and why a free place stores the distance to the next free place minus one: zero links each
//! place to the one after it, and the last one to `N`, past the end, which ends the list (as does
//! the `0x7fff` that ends the list links).
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
//! A waker is only reached inside the critical section. The words and the header fields are
//! atomics; most are only written inside the critical section, which orders them (`Relaxed` loads
//! and stores, plain moves on every target). Three accesses happen outside it:
//!
//! * fast paths read the number of waiting places ([`WaitQueue::len`], `Acquire`; it is stored
//!   with `Release`), so `notify_one` on an empty queue costs one load (`Relaxed` there: a hint
//!   that the critical section checks again);
//! * the owner of a notified place takes its token in [`WaitQueue::poll_ticket`] with a
//!   compare-and-swap of the place's word (`Acquire`, pairing with the `Release` store of
//!   `notify_one`: what the notifier did before notifying happens-before what the waiter does
//!   with the token), so a hand-off costs the waiter no critical section. Only the owner frees a
//!   notified place; the compare-and-swap keeps a ticket used with the wrong queue from freeing
//!   it twice;
//! * it then pushes the place on the free list with a compare-and-swap of the head (`Release`).
//!   Places are popped only inside the critical section (`Acquire`, also a compare-and-swap, as
//!   pushes may race with it), so a popper cannot see its head popped and pushed back meanwhile:
//!   the list has no ABA problem.
//!
//! On bare metal (`target_os = "none"`) the last two happen inside the critical section instead:
//! there a critical section costs a few instructions (masking interrupts on one core), while each
//! compare-and-swap loop costs flash, and on targets without compare-and-swap would be
//! portable-atomic's, itself a critical section. Every access to the words and to the free list is
//! then inside the critical section, which orders them: plain loads and stores (`Relaxed`) suffice,
//! on one core or several (a multi-core critical-section implementation excludes the other cores
//! too). A hand-off then costs the waiter one critical section.
//!
//! # Testing
//!
//! The loom models in `sync-core/tests/loom_wait_queue.rs` check, over the interleavings of two
//! or three threads (the critical section is loom's mutex there): a notify racing a waiter is
//! never lost; a waiter notified then cancelled passes its token on; with three waiters, two
//! notifications racing a cancellation of the middle one still go in FIFO order; and
//! `wake_all` racing a cancellation and a newcomer accounts for every notification exactly once;
//! a waiter that takes its token lock-free while another thread takes a place leaves the free
//! list intact.
//! miri runs every sync-core test, this module's included (`tests/wait_queue.rs`), with strict
//! provenance on the host and once more on `i686-unknown-linux-gnu`, which exercises the 32-bit
//! layout (links in one 32-bit word, 31-bit tokens) (`cargo xtask miri`). These host runs check
//! the lock-free take. The bare-metal protocol (every access inside the critical section) is
//! checked by the same tests and loom models built with `--cfg sync_core_locked_only`
//! (`cargo xtask test` and `loom` run them so, for sync-core and pool), and runs in the QEMU
//! firmware tests (`cargo xtask qemu`), interrupt handlers included.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::sync::UnsafeCell;
use crate::sync::atomic::{
    AtomicU16, AtomicUsize, Ordering, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};
use crate::sync::cs;

/// Index meaning "no place". Below `1 << 15`, so the word of a waiting place never has its top
/// bit set, not even on 32-bit targets where the two links fill the word.
const NIL: u16 = 0x7fff;

/// The top bit of a notified place's word: set there, and never in a free place's word (a 16-bit
/// distance), so the two states can be told apart. Tokens are the other bits.
const NOTIFIED: usize = 1 << (usize::BITS - 1);

/// Whether the owner of a notified place takes its token without the critical section (see
/// "Locking" in the module docs): everywhere but on bare metal (`target_os = "none"`). There a
/// critical section costs a few instructions, while every compare-and-swap loop costs flash (and
/// on targets without compare-and-swap is itself a critical section), so the token is taken
/// inside the critical section, and the free list and the words are only ever accessed inside
/// it, with plain loads and stores. `--cfg sync_core_locked_only` selects that protocol on any
/// target, so that the host tests and loom models check it (`cargo xtask test` and `loom` do).
const LOCK_FREE_TAKE: bool = !cfg!(any(target_os = "none", sync_core_locked_only));

/// The ordering of the accesses that pair with the lock-free take: `Acquire` / `Release` where
/// the take may happen outside the critical section, `Relaxed` where every such access happens
/// inside it (the critical section orders them).
const TAKE_ACQUIRE: Ordering = if LOCK_FREE_TAKE { Acquire } else { Relaxed };
/// See [`TAKE_ACQUIRE`].
const TAKE_RELEASE: Ordering = if LOCK_FREE_TAKE { Release } else { Relaxed };

const _: () = assert!(
    usize::BITS >= 32,
    "WaitQueue keeps two 16-bit links in one usize"
);

/// The sizes the docs state, on 32- and 64-bit targets alike: a place is a waker (two words) and
/// one word; the header is 8 bytes. (Under loom the atomics are loom's, of another size.)
#[cfg(not(loom))]
const _: () = {
    let word = size_of::<usize>();
    assert!(size_of::<Waker>() == 2 * word);
    assert!(size_of::<Place>() == size_of::<Waker>() + word);
    assert!(size_of::<WaitQueue<0>>() == 8);
    assert!(size_of::<WaitQueue<1>>() == 8 + 3 * word);
    assert!(size_of::<WaitQueue<5>>() == 8 + 5 * 3 * word);
};

/// The queue has no free place: `N` waiters are already queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueueFull;

impl fmt::Display for QueueFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("wait queue is full")
    }
}

impl core::error::Error for QueueFull {}

#[cfg(feature = "defmt")]
impl defmt::Format for QueueFull {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "wait queue is full");
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Ticket {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Ticket {{ place: {=u16} }}", self.index);
    }
}

/// A place in a [`WaitQueue`], held by one waiter.
///
/// It is neither `Clone` nor `Copy`: exactly one of [`WaitQueue::poll_ticket`] (returning
/// `Ready`) or [`WaitQueue::cancel`] consumes it. A ticket that is dropped without either keeps its
/// place occupied for good, and a token notified to it is lost; the owner of a ticket must cancel
/// it in its `Drop`.
///
/// A ticket belongs to the queue that issued it. Given to another queue it cannot harm that
/// queue's structure: a place that is free there, or beyond its size, is refused with a panic
/// before anything changes; a place that is taken there is some other waiter's, whose
/// notification it may then consume, or which `cancel` removes from the queue (its waker dropped,
/// never woken). That is a logic error of the caller that can leave the other waiter hanging,
/// never undefined behaviour.
/// Code whose tokens stand for ownership (the `pool` crate passes slot indices) must therefore
/// keep its queue private, as `pool` does.
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

/// One place (see "Layout" in the module docs).
struct Place {
    /// The waiter's waker: `Some` exactly while the place is waiting. Only touched inside the
    /// critical section.
    waker: UnsafeCell<Option<Waker>>,
    /// Free: the distance to the next free place, minus one. Waiting: `prev | next << 16`.
    /// Notified: the token with the `NOTIFIED` mark. Written inside the critical section, except
    /// by the owner of a notified place, which takes the token and frees the place without it.
    word: AtomicUsize,
}

impl Place {
    /// The word, inside the critical section or by the place's owner.
    fn word(&self) -> usize {
        self.word.load(Relaxed)
    }

    fn set_word(&self, word: usize) {
        self.word.store(word, Relaxed);
    }

    /// The next free place after this one, `index`, which is free.
    ///
    /// The word holds the distance to it minus one, so a word of zero (a new queue) means the
    /// place right after; past the last place is `N`, or `NIL`: both mean "none".
    fn next_free(&self, index: u16) -> u16 {
        // A free place's word is a `u16` distance: the cast is exact.
        index.wrapping_add(1).wrapping_add(self.word() as u16)
    }

    /// Makes `next` the next free place after this one, `index`.
    fn set_next_free(&self, index: u16, next: u16) {
        self.set_word(usize::from(next.wrapping_sub(index).wrapping_sub(1)));
    }

    /// The previous (older) waiting place, of a waiting place.
    fn prev(&self) -> u16 {
        // Bits 0..16 hold `prev`: the cast keeps exactly them.
        self.word() as u16
    }

    /// The next (newer) waiting place, of a waiting place.
    fn next(&self) -> u16 {
        // Bits 16..32 hold `next`: the cast keeps exactly them.
        (self.word() >> 16) as u16
    }

    /// `(prev, next)` of a waiting place, from one load.
    fn links(&self) -> (u16, u16) {
        let word = self.word();
        // Bits 0..16 and 16..32: the casts keep exactly them.
        (word as u16, (word >> 16) as u16)
    }

    fn set_links(&self, prev: u16, next: u16) {
        self.set_word(usize::from(prev) | (usize::from(next) << 16));
    }

    fn set_prev(&self, prev: u16) {
        self.set_links(prev, self.next());
    }

    fn set_next(&self, next: u16) {
        self.set_links(self.prev(), next);
    }
}

/// A bounded FIFO queue of up to `N` waiting tasks (see the [module docs](crate::wait_queue) for the design).
///
/// `N` must be at most 32 766. The size of a queue is 8 + 12·N bytes on 32-bit targets (8 + 24·N on
/// 64-bit): per place a waker and one word, which holds the two 16-bit list links while the place
/// waits and the token once it is notified. A new queue is all zeros, so a `static` one is placed
/// in `.bss` and needs no flash.
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
    /// Number of waiting places: written inside the critical section, read anywhere.
    waiting: AtomicU16,
    /// Oldest waiting place, meaningless while `waiting` is 0. This and the next two: critical
    /// section only.
    head: AtomicU16,
    /// Newest waiting place, meaningless while `waiting` is 0.
    tail: AtomicU16,
    /// First free place; none if `N` or more. Popped inside the critical section only; pushed
    /// inside it or by the owner of a notified place, lock-free (so both use compare-and-swap).
    free: AtomicU16,
    places: [Place; N],
}

// SAFETY: a place's waker is only reached inside the critical section (`lock`, never re-entered),
// which excludes every other thread and interrupt handler; everything else is atomic. Wakers are
// `Send`, so moving them between contexts with the critical section is sound.
unsafe impl<const N: usize> Sync for WaitQueue<N> {}

impl<const N: usize> WaitQueue<N> {
    const FITS: () = assert!(N < NIL as usize, "WaitQueue holds at most 32 766 places");

    /// The largest token [`notify_one`](Self::notify_one) takes, `usize::MAX / 2` (the top bit
    /// marks a notified place).
    pub const MAX_TOKEN: usize = NOTIFIED - 1;

    crate::const_fn! {
        /// Creates an empty queue.
        #[must_use]
        pub const fn new() -> Self {
            let () = Self::FITS;
            // All zeros (see "Layout" in the module docs): every place is free and each one's
            // next free place is the one after it.
            Self {
                waiting: AtomicU16::new(0),
                head: AtomicU16::new(0),
                tail: AtomicU16::new(0),
                free: AtomicU16::new(0),
                #[cfg(not(loom))]
                places: [const {
                    Place {
                        waker: UnsafeCell::new(None),
                        word: AtomicUsize::new(0),
                    }
                }; N],
                #[cfg(loom)]
                places: core::array::from_fn(|_| Place {
                    waker: UnsafeCell::new(None),
                    word: AtomicUsize::new(0),
                }),
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
        usize::from(self.waiting.load(Acquire))
    }

    /// Whether no waiter is waiting, read without locking.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Enters the critical section and lends the queue's state to `f`.
    ///
    /// Every closure passed here only moves plain data (links, tokens, `Option<Waker>` values
    /// taken out or put in) and never calls `lock` again; wakers are cloned before and woken or
    /// dropped after the critical section. So at most one [`Locked`] exists at a time, which is
    /// what makes its access to the wakers sound.
    fn lock<R>(&self, f: impl FnOnce(&mut Locked<'_, N>) -> R) -> R {
        cs::with(|| f(&mut Locked { queue: self }))
    }

    /// Queues a waiter at the tail with a clone of `waker`.
    ///
    /// # Errors
    ///
    /// [`QueueFull`] when all `N` places are taken.
    pub fn enqueue(&self, waker: &Waker) -> Result<Ticket, QueueFull> {
        // Clone outside the critical section: waker code never runs inside it.
        let mut waker = Some(waker.clone());
        let ticket = self.lock(|q| {
            let index = q.pop_free()?;
            // A free place holds no waker (the lists are intact: foreign tickets are refused), so
            // this assignment drops nothing inside the critical section.
            q.with_waker(index, |slot| {
                debug_assert!(slot.is_none());
                // Nothing to drop (see above): `forget` spares the check for one.
                core::mem::forget(core::mem::replace(slot, waker.take()));
            });
            q.push_back(index);
            Some(Ticket { index })
        });
        // On a full queue the clone is dropped here, outside the critical section.
        drop(waker);
        ticket.ok_or(QueueFull)
    }

    /// Checks a ticket: `Ready(token)` if it was notified (the place is freed and the ticket
    /// consumed), `Pending` otherwise (the ticket is handed back in `ticket` and `waker` replaces the
    /// stored waker unless it wakes the same task).
    pub fn poll_ticket(&self, ticket: &mut Option<Ticket>, waker: &Waker) -> Poll<usize> {
        let Some(t) = ticket.as_ref() else {
            panic!("WaitQueue::poll_ticket called without a ticket");
        };
        let index = Self::checked_index(t);
        // A notified place is taken without the critical section (where that is done: on bare
        // metal the first look below takes it).
        if LOCK_FREE_TAKE && let Some(token) = self.try_take_token(index) {
            *ticket = None;
            return Poll::Ready(token);
        }
        // First look: consume a notification, or see whether the stored waker is still right.
        let first = self.lock(|q| {
            if let Some(token) = q.queue.try_take_token(index) {
                return Some(Some(Poll::Ready(token)));
            }
            q.with_waker(index, |slot| match slot {
                None => None,
                Some(current) if current.will_wake(waker) => Some(Some(Poll::Pending)),
                Some(_) => Some(None),
            })
        });
        let poll = match first {
            None => Self::foreign_ticket(),
            Some(Some(poll)) => poll,
            Some(None) => {
                // The waker changed: clone outside the critical section, then swap it in.
                let mut new = Some(waker.clone());
                let swapped = self.lock(|q| {
                    if let Some(token) = q.queue.try_take_token(index) {
                        return Some((Poll::Ready(token), None));
                    }
                    q.with_waker(index, |slot| {
                        slot.is_some()
                            .then(|| (Poll::Pending, core::mem::replace(slot, new.take())))
                    })
                });
                drop(new);
                let Some((poll, old)) = swapped else {
                    Self::foreign_ticket()
                };
                drop(old);
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
        let index = Self::checked_index(&ticket);
        let outcome = self.lock(|q| {
            if let Some(waker) = q.with_waker(index, Option::take) {
                // Still waiting: leave the list.
                q.unlink(index);
                q.queue.push_free(index);
                Some((None, Some(waker)))
            } else {
                q.queue
                    .try_take_token(index)
                    .map(|token| (Some(token), None))
            }
        });
        let Some((notified, waker)) = outcome else {
            Self::foreign_ticket()
        };
        drop(waker);
        let token = notified?;
        self.notify_one(token).err()
    }

    /// Notifies the oldest waiting waiter with `token` and wakes it.
    ///
    /// # Errors
    ///
    /// Gives `token` back when nobody is waiting.
    ///
    /// # Panics
    ///
    /// If `token` is above [`Self::MAX_TOKEN`] (`usize::MAX / 2`; the top bit marks notified places).
    #[inline]
    pub fn notify_one(&self, token: usize) -> Result<(), usize> {
        if token > Self::MAX_TOKEN {
            token_too_large(token);
        }
        // Nobody waits: done without the critical section (inlined, so a caller's own look at
        // the queue and this one are a single load). `Relaxed`: only a hint, which nothing is
        // read after; the critical section looks again.
        if self.waiting.load(Relaxed) == 0 {
            return Err(token);
        }
        self.notify_locked(token)
    }

    /// [`notify_one`](Self::notify_one) once somebody seemed to wait. Out of line where the
    /// inlined look at the queue matters for speed; on bare metal, one function is smaller.
    #[cfg_attr(not(target_os = "none"), inline(never))]
    fn notify_locked(&self, token: usize) -> Result<(), usize> {
        let waker = self.lock(|q| {
            if q.queue.waiting.load(Relaxed) == 0 {
                return Err(token);
            }
            let index = q.pop_front();
            let waker = q.with_waker(index, Option::take);
            // `Release` where the waiter may take the token without the critical section
            // (`try_take_token`): what was done before this notification, and the waker taken
            // out just above, happen-before its `Acquire`.
            q.queue
                .place(index)
                .word
                .store(token | NOTIFIED, TAKE_RELEASE);
            Ok(waker)
        })?;
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// The place of `ticket`, checked to be one of this queue's (a panic otherwise, before any
    /// critical section).
    #[inline]
    fn checked_index(ticket: &Ticket) -> u16 {
        if usize::from(ticket.index) >= N {
            ticket_out_of_range(ticket.index, N);
        }
        ticket.index
    }

    /// Place `index`: a checked ticket's, or a link read from the lists, which only ever hold
    /// places of this queue (links come from checked tickets and the free list, which stops at
    /// `N`). With `N` a power of two the index is masked instead of checked: as sound, and
    /// without a bounds check and its panic path at every link followed.
    #[inline(always)]
    fn place(&self, index: u16) -> &Place {
        let index = usize::from(index);
        debug_assert!(index < N, "WaitQueue: place {index} of {N}");
        &self.places[if N.is_power_of_two() {
            index & (N - 1)
        } else {
            index
        }]
    }

    /// Takes the token of place `index` if it was notified, and frees the place; `None` if it was
    /// not notified (then nothing changed). With [`LOCK_FREE_TAKE`] this may run without the
    /// critical section; without it, only inside it.
    ///
    /// Only the owner of a place frees it, so nothing else writes a notified place's word; the
    /// compare-and-swap of the lock-free take still makes sure that a ticket used with the wrong
    /// queue cannot free a place twice (inside the critical section, the mark is gone once the
    /// place is freed).
    // Inlined on bare metal (here and in `push_free`): without the compare-and-swap it is a few
    // instructions that fold into each caller, smaller in flash than a call.
    #[cfg_attr(target_os = "none", inline(always))]
    fn try_take_token(&self, index: u16) -> Option<usize> {
        let word = &self.place(index).word;
        let current = word.load(TAKE_ACQUIRE);
        if current & NOTIFIED == 0 {
            return None;
        }
        if LOCK_FREE_TAKE {
            // `Acquire` (load and success): pairs with the `Release` store of `notify_one`.
            // Replaced by the free-list link right after; any value without the mark does here.
            word.compare_exchange(current, 0, Acquire, Relaxed).ok()?;
        }
        self.push_free(index);
        Some(current & !NOTIFIED)
    }

    /// Puts place `index` (not waiting, not notified, waker taken out) on the free list. Called
    /// inside the critical section or, with [`LOCK_FREE_TAKE`], by the owner of a notified place
    /// without it: the place is its caller's alone until the compare-and-swap publishes it.
    #[cfg_attr(target_os = "none", inline(always))]
    fn push_free(&self, index: u16) {
        let place = self.place(index);
        let mut head = self.free.load(Relaxed);
        if !LOCK_FREE_TAKE {
            // Inside the critical section, the only place the list is then accessed.
            place.set_next_free(index, head);
            self.free.store(index, Relaxed);
            return;
        }
        loop {
            place.set_next_free(index, head);
            // `Release`: the link above, and the waker taken out of the place before (by
            // `notify_one` or `cancel`), happen-before the `Acquire` of the next `pop_free`.
            match self
                .free
                .compare_exchange_weak(head, index, Release, Relaxed)
            {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }

    /// Refuses a ticket whose place is free in this queue: it was issued by another queue.
    #[cold]
    fn foreign_ticket() -> ! {
        panic!(
            "WaitQueue: a ticket whose place is free in this queue (tickets belong to the queue \
             that issued them)"
        )
    }

    /// Wakes the oldest waiting waiter (with token `0`); returns whether there was one.
    pub fn wake_one(&self) -> bool {
        self.notify_one(0).is_ok()
    }

    /// Wakes the waiters that are waiting when the call starts, oldest first, with token `0`;
    /// returns how many it woke.
    ///
    /// Each waiter is notified in a critical section of its own and woken right after it, so the
    /// critical section never lasts longer than for one waiter and the call is O(waiters). The call
    /// stops after as many waiters as were waiting at its start: a waiter that arrives meanwhile
    /// is woken only in the stead of one that left (cancelled, or was notified by someone else)
    /// before its turn, which is a harmless spurious wake-up; a woken task that queues again
    /// cannot keep the call going.
    pub fn wake_all(&self) -> usize {
        let mut woken = 0;
        for _ in 0..self.len() {
            if !self.wake_one() {
                break;
            }
            woken += 1;
        }
        woken
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

/// The state of a queue inside its critical section (through `queue`).
///
/// Exists only inside [`WaitQueue::lock`], which is never re-entered: so there is one at a time,
/// and its `&mut self` methods are the only access to the wakers.
struct Locked<'q, const N: usize> {
    queue: &'q WaitQueue<N>,
}

impl<const N: usize> Locked<'_, N> {
    /// Lends the waker slot of place `index`.
    fn with_waker<R>(&mut self, index: u16, f: impl FnOnce(&mut Option<Waker>) -> R) -> R {
        self.queue.place(index).waker.with_mut(|slot| {
            // SAFETY: we are inside the critical section, the only place wakers are reached, and
            // `lock` is not re-entered, so this `Locked` (borrowed mutably) is the only access.
            f(unsafe { &mut *slot })
        })
    }

    /// Takes a place off the free list.
    fn pop_free(&mut self) -> Option<u16> {
        // `Acquire`: pairs with the `Release` of `push_free`, which may run outside the critical
        // section. Only the critical section pops, so the head cannot be popped and pushed back
        // between the load and the compare-and-swap (no ABA): a failure is a concurrent push.
        let mut index = self.queue.free.load(TAKE_ACQUIRE);
        loop {
            if usize::from(index) >= N {
                return None;
            }
            let next = self.queue.place(index).next_free(index);
            if !LOCK_FREE_TAKE {
                // Nobody pushes outside the critical section: a store suffices.
                self.queue.free.store(next, Relaxed);
                return Some(index);
            }
            match self
                .queue
                .free
                .compare_exchange_weak(index, next, Acquire, Acquire)
            {
                Ok(_) => return Some(index),
                Err(now) => index = now,
            }
        }
    }

    /// Adds `delta` (±1) to the number of waiting places.
    fn add_waiting(&self, delta: i8) {
        let waiting = self.queue.waiting.load(Relaxed);
        // Only this critical section writes the count, so a load and a store suffice; it stays in
        // `0..N` with `N < u16::MAX`.
        self.queue
            .waiting
            .store(waiting.wrapping_add_signed(i16::from(delta)), Release);
    }

    /// Links a place (off the free list, waker stored) at the tail of the waiting list.
    fn push_back(&mut self, index: u16) {
        let tail = if self.queue.waiting.load(Relaxed) == 0 {
            self.queue.head.store(index, Relaxed);
            NIL
        } else {
            let tail = self.queue.tail.load(Relaxed);
            self.queue.place(tail).set_next(index);
            tail
        };
        self.queue.place(index).set_links(tail, NIL);
        self.queue.tail.store(index, Relaxed);
        self.add_waiting(1);
    }

    /// Unlinks the oldest waiting place (there is one) and returns it: [`Locked::unlink`] of the
    /// head, without the work a head does not need.
    #[inline]
    fn pop_front(&mut self) -> u16 {
        let index = self.queue.head.load(Relaxed);
        let next = self.queue.place(index).next();
        if next != NIL {
            // Not the last one: `next` becomes the head. (When it was the last, the count drops
            // to zero and head and tail are not read until a place is pushed again.)
            self.queue.head.store(next, Relaxed);
            self.queue.place(next).set_prev(NIL);
        }
        self.add_waiting(-1);
        index
    }

    /// Unlinks a waiting place from the waiting list.
    #[inline]
    fn unlink(&mut self, index: u16) {
        let (prev, next) = self.queue.place(index).links();
        if prev == NIL {
            self.queue.head.store(next, Relaxed);
        } else {
            self.queue.place(prev).set_next(next);
        }
        if next == NIL {
            self.queue.tail.store(prev, Relaxed);
        } else {
            self.queue.place(next).set_prev(prev);
        }
        self.add_waiting(-1);
    }
}

/// The panic for a ticket whose place is beyond the queue's `n` places, out of line.
#[cold]
#[inline(never)]
fn ticket_out_of_range(index: u16, n: usize) -> ! {
    panic!(
        "WaitQueue: a ticket for place {index} used with a queue of {n} places (tickets belong to \
         the queue that issued them)"
    )
}

/// The panic of [`WaitQueue::notify_one`] for a token above [`WaitQueue::MAX_TOKEN`], out of line.
#[cold]
#[inline(never)]
#[track_caller]
fn token_too_large(token: usize) -> ! {
    panic!("WaitQueue::notify_one: token {token:#x} is above MAX_TOKEN")
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
