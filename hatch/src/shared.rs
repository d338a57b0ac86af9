//! [`Hatch<T>`]: the shared state of one sender/receiver pair, and the state machine both handles
//! drive through it.
//!
//! # Layout
//!
//! One value slot (`UnsafeCell<MaybeUninit<T>>`), one waker slot (`UnsafeCell<Option<Waker>>`)
//! and one `AtomicU32` state word. The word holds the lock bit, the "slot is full" bit, the
//! closed/dropped bits of both sides, the idle/cleanup bits of a hatch whose memory you manage,
//! and the two waker bits that say whose waker the waker slot holds. `Hatch<u64>` is 32 bytes
//! on 64-bit targets and 24 on 32-bit ones where `u64` is 8-aligned (thumbv7em, riscv32: 4 + 4
//! padding + 8 + 8), `Hatch<u32>` 24 (16), `Hatch<()>` 24 (12). The 32-bit figures are checked
//! at compile time below, the 64-bit ones in `tests/sizes.rs`.
//!
//! # One waker slot for both sides
//!
//! A side parks only where the other side has nothing to wait for: a receive parks on an empty
//! slot, a send on a full one, and the lazy [`Sender::wait`] only while no receive is parked.
//! And every park takes out whatever waker the slot held and wakes it if it was the peer's (the
//! first park of a receive is what a lazy sender waits for). So one slot serves both sides, as
//! in `oneshot`; the waker bits say whose waker is in it (invariant 3).
//!
//! # The lock
//!
//! Bit [`LOCK`] is the lock (on hosts; on bare metal the section alone, see below), and it is
//! only ever set by a holder of the hatch's lock section
//! (sync-core's `Section` for the hatch's address, see [`Locked`]), so nobody spins on it: a
//! second locker waits in the section. **Every** access to the two cells happens
//! with the lock held, *except* where a side knows it is alone: the cleanup by the last handle to
//! drop, `Drop for Hatch` / [`Hatch::split`] (which hold `&mut`), and the live sender's write
//! to an empty slot before it publishes `VALUE` (invariant 5, "Lock-free paths" below).
//! Taking the lock is an `Acquire` read-modify-write, releasing it is a `Release` store of the
//! new state; so every state change and every cell write of one critical section happens-before
//! the next critical section, whoever runs it. On bare metal the bit is never set: there every
//! write of the word happens inside the section, so the section alone is the lock, and the
//! load and store under it are `Relaxed` (see the end of "Lock-free paths"); only a handle's
//! final publish ([`unlock_final`]) stays `Release`, for the peer that cleans up after it.
//!
//! **No foreign code runs while the lock is held**: waker `clone`, `wake` and `drop`, and `T`'s
//! destructor, all run after the lock is released. Under the lock a critical section only moves
//! wakers and values between the cells and local variables, and compares wakers with
//! [`Waker::will_wake`] (a pointer comparison, no vtable call). So a critical section is a few
//! dozen instructions with no call out and cannot panic. On bare metal the section is a
//! critical section, so an interrupt handler cannot preempt a holder; on a host with `std` it is
//! an OS mutex, so a waiter of higher priority sleeps and lets the holder finish; see the crate
//! docs about interrupt handlers and priorities.
//!
//! # State bits
//!
//! | bit | meaning | set by | cleared by |
//! | --- | --- | --- | --- |
//! | `LOCK` | a critical section runs (never set on bare metal) | lock | unlock |
//! | `VALUE` | the value slot holds a `T` | a send | a receive, the cleanup |
//! | `S_CLOSED` / `R_CLOSED` | that side will not send / receive any more | drop, `closes` | recycle, split |
//! | `S_DROPPED` / `R_DROPPED` | that side's handle is gone (implies closed) | drop | recycle, split |
//! | `IN_USE` | a pair was split from the hatch and has not given it back (clear: free) | split, `hatch()`, a `SharedHatch`'s first receiver | the cleanup of a reclaimed or recycled hatch, `split` |
//! | `RECLAIM` / `RECYCLE` | a dropped handle asked for reclaiming / recycling | drop | split |
//! | `S_WAKER` / `R_WAKER` | the waker slot *may* hold that side's waker | parking | a park or a drop that takes the slot (a take may leave the bit stale) |
//!
//! # Invariants
//!
//! 1. The waker slot holds the receiver's waker only while a receive (future or blocking) is
//!    parked on an **empty**, open hatch: a send takes it out (to wake it), a completed or
//!    dropped receive takes it out. So "the receiver is listening" is exactly "the slot holds
//!    the receiver's waker".
//! 2. It holds the sender's waker only while a send or wait future of the live sender is
//!    parked; completion, cancellation and the sender's drop take it out.
//! 3. `S_WAKER` / `R_WAKER` say whose waker the slot holds: while it is `Some`, exactly the
//!    owner's bit is set (every store of a waker sets the storing side's bit and clears the
//!    other in the same critical section). When both are clear the slot is `None`; a set bit
//!    may be stale (the slot was taken and the bit left). A side takes the slot as its own
//!    only when its own bit is set. So the hot paths skip reading the waker cell when both bits
//!    are clear, and a drop with no waker to move closes its side with one compare-and-swap
//!    instead of lock + unlock.
//! 4. A handle frees or resets the shared memory only when it finds the other side's `DROPPED` bit
//!    under the lock (the `Acquire` of the lock pairs with the peer's last `Release`); after the
//!    final unlock of a non-last handle, that handle never touches the hatch again — wakers are
//!    woken and dropped from locals. This is what rules out the use-after-free of
//!    RUSTSEC-2026-0005 and of a waker whose drop re-enters the hatch.
//! 5. While `VALUE` is clear, the slot belongs to the live sender: nobody else reads or writes
//!    it (a receive, the cleanup and `recycle` need `VALUE` or the sender's `DROPPED` bit), and
//!    only the sender sets `VALUE`. So a sender may write the slot *before* it publishes `VALUE`,
//!    without the lock, and take the value back if the publish fails.
//!
//! # Lock-free paths
//!
//! The uncontended one-shot life of a boxed hatch (create, `send().now()`, `receive().now()`,
//! drop both) takes the lock once, for the receive:
//!
//! * **send** on an empty, open hatch with both waker hints clear and the lock free: the sender
//!   writes the slot (invariant 5; its `Acquire` look ordered the receiver's last take before the
//!   write) and one compare-and-swap from the state it saw to the same plus `VALUE` publishes it
//!   (`Release`). If the state changed meanwhile (a receive parked, the receiver closed, someone
//!   holds the lock) the sender takes its value back and does the locked send.
//! * **receive** of a full hatch with both hints clear: one compare-and-swap from the state seen
//!   takes the lock (no retry loop), the value moves out and the releasing store clears `VALUE`.
//!   It needs the lock because an overwriting send may replace a full slot's value.
//! * **drop** of the first handle with both hints clear and the lock free: one compare-and-swap
//!   sets its `CLOSED` and `DROPPED` bits; the second handle sees the first's `DROPPED` with an
//!   `Acquire` load and frees the box (or resets your memory) without any read-modify-write.
//! * **one-shot send** (`Sender::send_last`) under the same conditions as a send: the sender
//!   writes the slot and one compare-and-swap publishes `VALUE` together with its drop
//!   (`S_CLOSED | S_DROPPED`). A receive that then sees `VALUE | S_DROPPED` with both hints clear
//!   and the lock free is alone with the hatch (no sender, and a split only compare-and-swaps
//!   from a free state): it moves the value out and clears `VALUE` with a plain store, no lock.
//!   So `hatch()`, `send_last`, `receive().now()` and the receiver's drop take one
//!   read-modify-write in all. A sender fresh from `hatch()` that never sent (its `F_UNSENT`
//!   flag, cleared by `send()`) does not even look first: nothing was ever in the slot, so no
//!   take needs ordering before its write, and it compare-and-swaps from the state a new pair
//!   has (`IN_USE`); any other state fails it, and the value goes the locked way.
//!
//! The slow halves (`send_locked`, `receive_locked`, and `release_locked`, `clean_up_managed` in
//! `handle.rs`, which also explains the drop and the cleanup) are out of line, so the fast halves
//! inline into the caller.
//!
//! On bare metal (`target_os = "none"`) there are no lock-free writers: `send().now()`,
//! `receive().now()`, the drop of the first handle and `try_split` take the lock (a critical
//! section of a few instructions there), and flash is what is scarce, so they call the
//! out-of-line locked halves. Then every write of the state word to a hatch that others can
//! reach happens inside the lock section (the last handle's cleanup of a hatch you manage
//! publishes the free state there too, because `try_split` may run on another core), and
//! [`Hatch::lock`] is the section and one load: the lock bit is never set there.
//! Build with `--cfg hatch_locked_only` to get this protocol on any target: `cargo xtask test`
//! and `cargo xtask loom` run hatch's tests and loom models that way too.

use core::fmt;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use core::task::Waker;

use sync_core::lock::Section;
use sync_core::sync::UnsafeCell;
use sync_core::sync::atomic::{AtomicU32, Ordering};

use crate::{Receiver, Sender};

/// The internal lock bit.
pub(crate) const LOCK: u32 = 1;
/// The value slot is full.
pub(crate) const VALUE: u32 = 1 << 1;
/// The sender closed: no more values will come.
pub(crate) const S_CLOSED: u32 = 1 << 2;
/// The receiver closed: sends fail.
pub(crate) const R_CLOSED: u32 = 1 << 3;
/// The sender handle is gone.
pub(crate) const S_DROPPED: u32 = 1 << 4;
/// The receiver handle is gone.
pub(crate) const R_DROPPED: u32 = 1 << 5;
/// A pair uses the hatch, or used it and did not give it back; clear: the hatch (memory you
/// manage) is free and may be split into a new pair. Clear in a new hatch, so that the initial
/// state is all zeros and a `static` hatch lands in `.bss`.
pub(crate) const IN_USE: u32 = 1 << 6;
/// A dropped handle had `reclaims` set.
pub(crate) const RECLAIM: u32 = 1 << 7;
/// A dropped handle had `recycles` set.
pub(crate) const RECYCLE: u32 = 1 << 8;
/// The waker slot may hold the sender's waker (clear: it holds no waker of the sender's).
pub(crate) const S_WAKER: u32 = 1 << 9;
/// The waker slot may hold the receiver's waker (clear: it holds no waker of the receiver's).
pub(crate) const R_WAKER: u32 = 1 << 10;
/// Both waker hints.
pub(crate) const WAKERS: u32 = S_WAKER | R_WAKER;
/// Whether every write of the state word happens inside the lock section (no lock-free
/// writers, see "Lock-free paths"): on bare metal, where that is smaller, and on any target
/// built with `--cfg hatch_locked_only`, so that the host tests and the loom models check the
/// protocol firmware runs (`cargo xtask test` and `loom` do).
pub(crate) const LOCKED_ONLY: bool = cfg!(any(target_os = "none", hatch_locked_only));
/// The state of a hatch whose pair is gone and which was neither reclaimed nor recycled.
pub(crate) const SPENT: u32 = IN_USE | S_CLOSED | R_CLOSED | S_DROPPED | R_DROPPED;

// The 32-bit sizes of the module docs, checked whenever the crate is built for a 32-bit target.
#[cfg(all(target_pointer_width = "32", not(loom)))]
const _: () = {
    use core::mem::{align_of, size_of};
    assert!(size_of::<Hatch<()>>() == 12);
    assert!(size_of::<Hatch<u32>>() == 16);
    // 24 where `u64` is 8-aligned (Arm, RISC-V); 20 where it is 4-aligned (x86).
    assert!(size_of::<Hatch<u64>>() == 16 + align_of::<u64>());
};

/// Which side a handle is; selects its bits. The discriminant is the side's waker bit, so that
/// passing a side to the out-of-line [`Hatch::unlock_and_wake`] passes the bit it tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Side {
    Sender = S_WAKER,
    Receiver = R_WAKER,
}

impl Side {
    /// This side's `CLOSED` and `DROPPED` bits.
    pub(crate) const fn closed_dropped(self) -> (u32, u32) {
        // Shifts of the discriminant (checked below), not a branch on it.
        const _: () = assert!(S_WAKER >> 7 == S_CLOSED && R_WAKER >> 7 == R_CLOSED);
        const _: () = assert!(S_WAKER >> 5 == S_DROPPED && R_WAKER >> 5 == R_DROPPED);
        (self as u32 >> 7, self as u32 >> 5)
    }

    /// This side's waker bit.
    pub(crate) const fn waker_bit(self) -> u32 {
        self as u32
    }

    /// The other side.
    pub(crate) const fn peer(self) -> Self {
        match self {
            Self::Sender => Self::Receiver,
            Self::Receiver => Self::Sender,
        }
    }
}

/// The shared state of a hatch: one value slot, one waker slot and one atomic state word.
///
/// Usually you never see it: [`hatch()`](crate::hatch()) puts it in a `Box`. To manage the
/// memory yourself, place a `Hatch` in a `static`, on the stack or in a pool slot and split it
/// into a pair with [`try_split`](Self::try_split) (shared reference, checked at run time),
/// [`split`](Self::split) (exclusive reference) or the unsafe
/// [`split_raw`](Self::split_raw) (raw pointer). No allocator is needed.
///
/// ```
/// use hatch::Hatch;
///
/// static HATCH: Hatch<u32> = Hatch::new();
///
/// let (mut s, mut r) = HATCH.try_split().expect("a new hatch is free");
/// assert!(HATCH.try_split().is_none(), "one pair at a time");
/// s.send(7).now().unwrap();
/// assert_eq!(r.receive().now(), Ok(Some(7)));
/// // Ask for the hatch back when the pair is gone.
/// s.set_reclaims(true);
/// drop((s, r));
/// assert!(HATCH.is_free());
/// ```
pub struct Hatch<T> {
    state: AtomicU32,
    value: UnsafeCell<MaybeUninit<T>>,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cells are only reached under the lock bit (or with exclusive access, see the
// module docs), so sharing `&Hatch<T>` between threads moves `T` values between them but never
// shares a `&T`: `T: Send` is what is needed. Wakers are `Send + Sync`.
unsafe impl<T: Send> Sync for Hatch<T> {}

// SAFETY: a `Hatch<T>` owns at most one `T` and one waker; moving it moves them.
unsafe impl<T: Send> Send for Hatch<T> {}

impl<T> Hatch<T> {
    sync_core::const_fn! {
        /// A new, free hatch with an empty slot (a `const fn`, so it can be a `static`).
        #[must_use]
        pub const fn new() -> Self {
            Self {
                state: AtomicU32::new(0),
                value: UnsafeCell::new(MaybeUninit::uninit()),
                waker: UnsafeCell::new(None),
            }
        }
    }

    /// A hatch that a pair is already using (for `hatch()`).
    #[cfg(feature = "alloc")]
    pub(crate) fn new_in_use() -> Self {
        let hatch = Self::new();
        // ORDERING: the hatch is not shared yet; the handles that reach it later get there by
        // being moved, and a move to another thread synchronises by itself.
        hatch.state.store(IN_USE, Ordering::Relaxed);
        hatch
    }

    /// Whether the hatch is idle: no pair is using it and [`try_split`](Self::try_split) would
    /// succeed. A new hatch is free; a used one becomes free again when its pair has dropped and
    /// one of the handles had [`reclaims`](Sender::set_reclaims) or
    /// [`recycles`](Sender::set_recycles) set.
    ///
    /// The answer may be stale at once: a `try_split` on another thread or core may claim the
    /// hatch right after (on bare metal also while this runs). Split with `try_split` and act
    /// on its `None`, rather than on this.
    #[must_use]
    pub fn is_free(&self) -> bool {
        // ORDERING: `Acquire` pairs with the `Release` store of the free state by the last handle's
        // cleanup (`clean_up_managed`): once this says free, everything the old pair did to the
        // memory (drops included) happens-before what the caller does with it next.
        self.state.load(Ordering::Acquire) & (IN_USE | LOCK) == 0
    }

    /// Splits a free hatch into a sender and a receiver that borrow it; `None` if a pair is using
    /// it or used it and was neither reclaimed nor recycled (see [`is_free`](Self::is_free)).
    ///
    /// A value kept by a recycling pair is still in the slot and is received by the new pair.
    pub fn try_split(&self) -> Option<(Sender<'_, T>, Receiver<'_, T>)> {
        // SAFETY: `self` is borrowed for the handles' lifetime, so it outlives them and does not
        // move.
        unsafe { Self::split_raw(NonNull::from(self)) }
    }

    /// Splits the hatch into a new pair, whatever its state: the exclusive borrow proves that no
    /// handle of an earlier pair is alive. Wakers left by forgotten handles are dropped; a value
    /// in the slot is kept and received by the new pair.
    ///
    /// ```
    /// let mut hatch = hatch::Hatch::new();
    /// for i in 0..3 {
    ///     let (mut s, mut r) = hatch.split();
    ///     s.send(i).now().unwrap();
    ///     assert_eq!(r.receive().now(), Ok(Some(i)));
    /// }
    /// ```
    pub fn split(&mut self) -> (Sender<'_, T>, Receiver<'_, T>) {
        // ORDERING: `Relaxed` here and in the store below: `&mut self` proves that no other
        // thread can reach the hatch, and the borrow itself orders us after its earlier users.
        let value = self.state.load(Ordering::Relaxed) & VALUE;
        // SAFETY: `&mut self`: nobody else can reach the waker cell.
        let waker = self.waker.with_mut(|p| unsafe { take(p) });
        self.state.store(value, Ordering::Relaxed);
        drop(waker);
        // SAFETY: the exclusive borrow lasts as long as the handles; the hatch is free (just
        // stored, and nobody else can reach it).
        let pair = unsafe { Self::split_raw(NonNull::from(&*self)) };
        pair.expect("an exclusively borrowed hatch is free")
    }

    /// Splits the free hatch at `hatch` into a pair that points to it; `None` if it is not free.
    ///
    /// For memory that cannot be borrowed for the pair's lifetime, such as a pool slot managed by
    /// hand. Set [`reclaims`](Sender::set_reclaims) on a handle and watch
    /// [`is_free`](Self::is_free) to learn when the memory may be reused.
    ///
    /// # Safety
    ///
    /// `hatch` must point to a valid `Hatch<T>` that is neither moved nor freed nor mutably
    /// borrowed until both returned handles (and handles made from them by `recycle`) have been
    /// dropped, and `'a` must not outlive it.
    pub unsafe fn split_raw<'a>(hatch: NonNull<Self>) -> Option<(Sender<'a, T>, Receiver<'a, T>)> {
        // SAFETY: valid for the handles' lifetime (caller's contract).
        let this = unsafe { hatch.as_ref() };
        if !this.claim() {
            return None;
        }
        // SAFETY: we won the transition to `IN_USE`, so this is the only sender; the caller keeps
        // the memory valid for `'a`.
        let sender = unsafe { Sender::from_raw(hatch, 0) };
        // SAFETY: as above, the only receiver.
        let receiver = unsafe { Receiver::from_raw(hatch, 0) };
        Some((sender, receiver))
    }

    /// Marks a free hatch `IN_USE` for a new pair: `true` if we did, `false` if a pair is using
    /// it (or another split won).
    #[inline]
    fn claim(&self) -> bool {
        if LOCKED_ONLY {
            // On bare metal the lock (a critical section) is linked in anyway and smaller than a
            // compare-and-swap loop inlined here.
            // ORDERING: the lock's `Acquire` pairs with the `Release` store of the free state by
            // the old pair's cleanup, as the compare-and-swap below does.
            let (state, locked) = self.lock();
            if state & IN_USE != 0 {
                // In use: leave without a store, so that only the pair's own handles write the
                // word while it lives (see `unlock`).
                self.unlock_unchanged(locked, state);
                return false;
            }
            self.unlock(locked, state | IN_USE);
            return true;
        }
        // ORDERING: `Relaxed`: only the expected value of the compare-and-swap, which decides.
        let state = self.state.load(Ordering::Relaxed);
        if state & IN_USE != 0 {
            return false;
        }
        // A free hatch's state is `0` or `VALUE` (a kept value): the cleanup and `split` leave
        // nothing else, no handle exists to change it, and only a split sets `IN_USE`. So the
        // split only sets `IN_USE` (the new pair starts open, a kept value stays), and if the
        // state is no longer what we saw, another split won: no retry.
        // ORDERING: success `Acquire` pairs with the `Release` store of the free state by the
        // old pair's cleanup, so its accesses to the cells (a kept value, dropped wakers)
        // happen-before the new pair's. No `Release`: nothing of ours is published yet (the new
        // handles publish with their own operations). Failure `Relaxed`: we touch nothing.
        self.state
            .compare_exchange(state, state | IN_USE, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes the lock and returns the state it protects (without the lock bit), with the proof
    /// that [`unlock`](Self::unlock) consumes.
    ///
    /// This first enters the hatch's lock section ([`Locked`]: a critical section on bare metal,
    /// an OS lock on a host with `std`), which [`unlock`](Self::unlock) leaves after the
    /// releasing store. A second locker waits in the section, so nobody ever spins on the lock
    /// bit: not an interrupt handler on the code it preempted, not a high-priority thread on a
    /// low-priority holder.
    ///
    /// Inlined: on bare metal the critical-section entry and the load are about as small as a
    /// call, and the callers then keep the hatch's address in a register (the hatch probes of
    /// `cargo xtask size` are 4–12 B smaller than with an out-of-line lock).
    #[cfg_attr(target_os = "none", inline(always))]
    #[cfg_attr(not(target_os = "none"), inline)]
    pub(crate) fn lock(&self) -> (u32, Locked) {
        let locked = Locked::enter(self.key());
        // On hosts: only a holder of this hatch's section sets the lock bit, and it clears the
        // bit before it leaves the section; we hold the section, so the bit is clear and adding
        // it sets it.
        // One read-modify-write that cannot fail, so no retry loop and no first guess (on x86 a
        // single `lock xadd`). The lock-free paths compare-and-swap from an unlocked state, so
        // they fail (and come here) from now on, and while the lock is held its holder is the
        // only writer and may release it with a plain store.
        // ORDERING: `Acquire` reads the word as the last writer left it: an unlock (`Release`
        // store), a lock-free send's publish or a handle's drop (`Release` compare-and-swap,
        // `transition`). So the previous critical section's cell accesses, and the slot write of
        // a lock-free send, happen-before ours. No `Release`: taking the lock publishes nothing
        // (`unlock` does).
        let state = if LOCKED_ONLY {
            // Without lock-free writers (module docs) the word of a hatch others can reach
            // changes only inside this section (a boxed hatch's cleanup writes nothing; a
            // managed one's takes the lock), and nobody outside the section acts on the cells
            // after a look at the lock bit. So the section alone is the lock: the bit is never
            // set, and taking the lock is one load (no read-modify-write, which is larger, and
            // on targets without atomic read-modify-writes a critical section of its own).
            // ORDERING: `Relaxed`: every earlier write of the word and the cells happened in an
            // earlier holding of this section, and the section orders holdings by itself (a
            // critical section's acquire is at least `Acquire`, its release at least
            // `Release`, on a location all critical sections share; an OS or loom mutex
            // likewise).
            self.state.load(Ordering::Relaxed)
        } else {
            self.state.fetch_add(LOCK, Ordering::Acquire)
        };
        debug_assert_eq!(state & LOCK, 0, "lock bit set outside the section");
        (state, locked)
    }

    /// One attempt to take the lock from the unlocked state `seen`: `None` (and nothing held) if
    /// the state is no longer `seen`. For fast paths that have just looked at the state.
    #[inline(always)]
    pub(crate) fn try_lock(&self, seen: u32) -> Option<Locked> {
        debug_assert_eq!(seen & LOCK, 0);
        let locked = Locked::try_enter(self.key())?;
        // ORDERING: as in `lock`: success `Acquire` pairs with the `Release` of whoever
        // wrote `seen` (for `receive_now`: the sender's publish of `VALUE`, so the value in the
        // slot is visible); failure `Relaxed`, we give up and touch nothing.
        if self
            .state
            .compare_exchange(seen, seen | LOCK, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            Some(locked)
        } else {
            locked.leave();
            None
        }
    }

    /// Publishes `state` (without the lock bit) and releases the lock (and, on bare metal, the
    /// critical section taken by [`lock`](Self::lock)).
    ///
    /// Out of line on bare metal (a call is smaller than the barrier, the store and the
    /// interrupt restore), inlined on hosts.
    #[cfg_attr(target_os = "none", inline(never))]
    #[cfg_attr(not(target_os = "none"), inline)]
    pub(crate) fn unlock(&self, locked: Locked, state: u32) {
        debug_assert_eq!(state & LOCK, 0);
        // ORDERING: `Release` publishes this critical section (its cell accesses and the new
        // state) to the next locker's `Acquire` `fetch_add` and to the `Acquire` looks
        // (`peek`) of the lock-free paths. A plain store, not a read-modify-write, is enough:
        // while the lock bit is set nobody else writes the word (every other write is a
        // compare-and-swap from an unlocked state, see `lock`); on bare metal, where the bit is
        // never set, every write of the word happens inside the section we hold.
        // There (`LOCKED_ONLY`) the store is `Relaxed`, as `lock`'s load is: the next holder of
        // the section is ordered after us by the section itself. The looks outside the section
        // that act on the state are a handle's drop that cleans up after the peer's `DROPPED`
        // bit, and `is_free` before a reuse of the memory. They act on what [`unlock_final`]
        // publishes with `Release`, and nobody else stores over it before they look: while a pair
        // lives only its two handles write the word (a `try_split` or `SharedHatch::receiver`
        // that fails leaves the section with [`unlock_unchanged`](Self::unlock_unchanged)), and
        // a handle that stores after the peer's final publish is the one that looks, ordered
        // after that publish by the section. On Arm that saves the barrier in front of the
        // store.
        let order = if LOCKED_ONLY {
            Ordering::Relaxed
        } else {
            Ordering::Release
        };
        self.state.store(state, order);
        locked.leave();
    }

    /// Releases the lock taken with `state` by a critical section that changed nothing: on bare
    /// metal (`LOCKED_ONLY`) without a store, so that a party other than the pair's two handles
    /// (a failed `try_split`, a refused `SharedHatch::receiver`) never writes the word of a
    /// hatch in use; elsewhere [`unlock`](Self::unlock) with `state` (the lock bit must go).
    #[inline]
    pub(crate) fn unlock_unchanged(&self, locked: Locked, state: u32) {
        if LOCKED_ONLY {
            locked.leave();
        } else {
            self.unlock(locked, state);
        }
    }

    /// The address that picks this hatch's lock section.
    #[inline(always)]
    fn key(&self) -> *const () {
        core::ptr::from_ref(self).cast()
    }

    /// The state word alone, for a handle's final publish ([`unlock_final`], [`transition`], the
    /// cleanup).
    #[inline]
    pub(crate) const fn word(&self) -> &AtomicU32 {
        &self.state
    }

    /// A lock-free look at the state (for `is_closed` style queries).
    #[inline]
    pub(crate) fn peek(&self) -> u32 {
        // ORDERING: `Acquire`, because the lock-free paths act on this look: `send_now` writes
        // the slot after it (the receiver's last take, published by its unlock, must come
        // first), and a handle's drop cleans up alone when it sees the peer's `DROPPED` bit
        // (the peer's final publish, `Release`, must come first). For the queries (`is_closed`,
        // `Debug`) on hosts it makes what the user does next see what the peer did before; on
        // bare metal most states are published `Relaxed` (see `unlock`), and a query is only
        // a look: whatever the user does next with the hatch takes the lock.
        self.state.load(Ordering::Acquire)
    }

    /// Moves the value out of the slot.
    ///
    /// # Safety
    /// The slot is full and the caller may move out of it: the lock is held (or access is
    /// exclusive) and the state has `VALUE`, which the caller clears; or the caller is the live
    /// sender taking back the value it wrote with `VALUE` clear (invariant 5).
    #[inline]
    pub(crate) unsafe fn take_value(&self) -> T {
        // SAFETY: exclusive access to an initialised slot (caller's contract); `MaybeUninit<T>`
        // has the layout of `T`.
        self.value.with(|p| unsafe { p.cast::<T>().read() })
    }

    /// Moves `value` into the slot.
    ///
    /// # Safety
    /// The state lacks `VALUE` (the slot is empty) and the caller may write: it holds the lock,
    /// or it is the live sender (invariant 5). The caller sets `VALUE` or takes the value back.
    #[inline]
    pub(crate) unsafe fn put_value(&self, value: T) {
        // SAFETY: exclusive access to an empty slot (caller's contract); `MaybeUninit<T>` has the
        // layout of `T`.
        self.value
            .with_mut(|p| unsafe { p.cast::<T>().write(value) });
    }

    /// Takes `side`'s waker out of the waker slot: `None` if the slot holds the peer's waker
    /// (which stays) or nothing. The caller may clear `side`'s waker bit.
    ///
    /// # Safety
    /// The lock is held (or access is exclusive), and `state` is the state under it (its waker
    /// bits say whose the slot's waker is, invariant 3).
    #[inline]
    pub(crate) unsafe fn take_waker(&self, side: Side, state: u32) -> Option<Waker> {
        if state & side.waker_bit() == 0 {
            return None;
        }
        // SAFETY: the caller holds the lock (or has exclusive access).
        self.waker.with_mut(|p| unsafe { take(p) })
    }

    /// Takes the waker out of the waker slot, whoever's it is: `(side's, the peer's)`, at most
    /// one of them `Some`. The caller clears [`WAKERS`].
    ///
    /// # Safety
    /// As for [`take_waker`](Self::take_waker).
    #[inline]
    pub(crate) unsafe fn take_wakers(
        &self,
        side: Side,
        state: u32,
    ) -> (Option<Waker>, Option<Waker>) {
        // SAFETY: the caller holds the lock (or has exclusive access).
        let waker = self.waker.with_mut(|p| unsafe { take(p) });
        // A `Some` is the waker of the side whose bit is set, and only that bit is (invariant 3).
        if state & side.waker_bit() != 0 {
            (waker, None)
        } else {
            (None, waker)
        }
    }

    /// Ends a critical section of `side`: puts `own` into the waker slot (`None` empties it),
    /// publishes `next` with the waker bits to match (`side`'s alone if `own` is `Some`, none
    /// otherwise), releases the lock, then wakes the waker the slot held if it was the peer's,
    /// or drops it if it was `side`'s, outside the lock. `next` carries the waker bits of the
    /// state [`lock`](Self::lock) returned, which say whose the old waker is; on hosts, when
    /// `own` is `None` and no bit is set (invariant 3, the common case) the waker cell is not
    /// touched.
    ///
    /// Waking the peer is what a completed transfer, a close and the first park of a receive
    /// (a lazy sender waits for it) need; elsewhere the slot holds no waker of the peer's (a
    /// receive parks only on an empty slot, a send only on a full one, see invariants 1 and 2).
    ///
    /// Out of line on bare metal (every locked path ends in it), inlined on hosts.
    ///
    /// # Safety
    /// `locked` is this hatch's lock, and the waker bits of `next` are those of the state
    /// [`lock`](Self::lock) returned.
    #[cfg_attr(target_os = "none", inline(never))]
    #[cfg_attr(not(target_os = "none"), inline)]
    pub(crate) unsafe fn unlock_and_wake(
        &self,
        locked: Locked,
        side: Side,
        own: Option<Waker>,
        next: u32,
    ) {
        // On bare metal, where this is one out-of-line function, the load and store of an
        // empty cell cost less flash than this test.
        if !LOCKED_ONLY && own.is_none() && next & WAKERS == 0 {
            self.unlock(locked, next);
            return;
        }
        // SAFETY: the caller holds this hatch's lock.
        unsafe { self.unlock_and_wake_slow(locked, side, own, next) };
    }

    /// The waker-moving part of [`unlock_and_wake`](Self::unlock_and_wake): out of line on
    /// hosts, so the hot paths inline only the test; on bare metal, where the whole of
    /// `unlock_and_wake` stays out of line, inlined into it, so that it is one function.
    ///
    /// # Safety
    /// As for [`unlock_and_wake`](Self::unlock_and_wake).
    #[cfg_attr(target_os = "none", inline(always))]
    #[cfg_attr(not(target_os = "none"), inline(never))]
    unsafe fn unlock_and_wake_slow(
        &self,
        locked: Locked,
        side: Side,
        own: Option<Waker>,
        next: u32,
    ) {
        let bit = side.waker_bit();
        let hint = if own.is_some() { bit } else { 0 };
        // SAFETY: the caller holds this hatch's lock.
        let old = self
            .waker
            .with_mut(|p| unsafe { core::mem::replace(&mut *p, own) });
        self.unlock(locked, (next & !WAKERS) | hint);
        if let Some(old) = old {
            // Whose it was: the only bit set while the slot held it (invariant 3).
            if next & bit == 0 {
                old.wake();
            } else {
                drop(old);
            }
        }
    }

    /// Takes the waker out like [`take_wakers`](Self::take_wakers), without touching the cell
    /// if `state` says it is empty (invariant 3); the caller clears [`WAKERS`].
    ///
    /// # Safety
    /// The lock is held, and `state` is what [`lock`](Self::lock) returned.
    #[inline]
    pub(crate) unsafe fn take_wakers_hinted(
        &self,
        side: Side,
        state: u32,
    ) -> (Option<Waker>, Option<Waker>) {
        if state & WAKERS == 0 {
            (None, None)
        } else {
            // SAFETY: forwarded contract.
            unsafe { self.take_wakers(side, state) }
        }
    }

    /// Whether the waker slot holds `side`'s waker.
    ///
    /// # Safety
    /// The lock is held, and `state` is the state under it.
    #[cfg(feature = "async")]
    #[inline]
    pub(crate) unsafe fn has_waker(&self, side: Side, state: u32) -> bool {
        // SAFETY: the lock excludes writers (caller's contract).
        state & side.waker_bit() != 0 && self.waker.with(|p| unsafe { (*p).is_some() })
    }

    /// Whether the waker slot holds a waker of `side`'s that wakes the same task as `waker` (a
    /// pointer comparison; no waker code runs).
    ///
    /// # Safety
    /// The lock is held, and `state` is the state under it.
    #[cfg(any(feature = "async", all(feature = "std", not(loom))))]
    #[inline]
    pub(crate) unsafe fn will_wake(&self, side: Side, state: u32, waker: &Waker) -> bool {
        // SAFETY: the lock excludes writers (caller's contract).
        state & side.waker_bit() != 0
            && self
                .waker
                .with(|p| unsafe { (*p).as_ref() }.is_some_and(|w| w.will_wake(waker)))
    }
}

/// [`Hatch::unlock`] through the state word alone: the final unlock of a handle whose peer lives
/// on, after which the peer may free the hatch at any moment.
///
/// Taking the word rather than `&Hatch` matters: a reference argument stays live (under Stacked
/// Borrows: protected) until the function returns, so the peer freeing the hatch right after our
/// store would pull memory out from under a live `&Hatch`. An `&AtomicU32` is all `UnsafeCell`
/// and may be released like `Arc`'s counter.
#[inline]
pub(crate) fn unlock_final(word: &AtomicU32, locked: Locked, state: u32) {
    debug_assert_eq!(state & LOCK, 0);
    // ORDERING: `Release`, as in `Hatch::unlock`; here it is also what makes the peer's cleanup
    // safe: the peer's `Acquire` (its `peek` in `release`, or its lock) that sees our `DROPPED`
    // bit sees every access we made to the cells before it frees or resets the hatch.
    word.store(state, Ordering::Release);
    locked.leave();
}

/// One compare-and-swap of the state word from `from` (unlocked) to `to` without taking the
/// lock; `false` if the state changed (or is locked) meanwhile. Like [`unlock_final`], it takes
/// only the word, because it may be a handle's final publish.
#[inline]
pub(crate) fn transition(word: &AtomicU32, from: u32, to: u32) -> bool {
    debug_assert_eq!((from | to) & LOCK, 0);
    // ORDERING: the `Release` half publishes what came before: the slot write of `send_now`
    // (to the receiver's `Acquire` lock that sees `VALUE`), and for a handle's drop everything it
    // did, to the peer that frees the hatch after an `Acquire` look at our `DROPPED` bit. The
    // `Acquire` half is more than the callers need (after a successful transition neither reads
    // anything the peer wrote: `send_now` returns, a dropped handle never touches the hatch
    // again). Failure `Relaxed`: both callers then take the lock, which acquires.
    word.compare_exchange(from, to, Ordering::AcqRel, Ordering::Relaxed)
        .is_ok()
}

/// Proof that the lock is held, returned by [`Hatch::lock`] and consumed by
/// [`Hatch::unlock`]: the [`Section`] of this hatch's address, held for exactly as long as the
/// lock bit on hosts (on bare metal the section alone is the lock and the bit is never set).
///
/// The section is sync-core's lock (see `sync_core::lock`): a critical section on bare metal,
/// one of sync-core's striped OS mutexes with feature `std` on a hosted target, a critical
/// section on a host without `std`, loom's mutex under loom. Only a holder of the section sets
/// the lock bit (where it is used), so a second locker waits in the section — masked out, or asleep in the OS —
/// and never spins on the bit while its holder is preempted.
#[must_use = "the lock is released by `Hatch::unlock`"]
pub(crate) struct Locked {
    _section: Section,
}

impl Locked {
    /// Enters the section of the hatch at `key`, waiting (without spinning) for its holder.
    #[inline(always)]
    fn enter(key: *const ()) -> Self {
        Self {
            // SAFETY: left exactly once, when `leave` drops it in `Hatch::unlock` (or
            // `unlock_final`), in the same context; no other section is entered while it is
            // held: nothing runs under the lock but moves of values and wakers (no foreign code,
            // no other hatch), and nothing panics there (module docs).
            _section: unsafe { Section::enter(key) },
        }
    }

    /// Enters the section of the hatch at `key` if it is free; `None` without waiting.
    #[inline(always)]
    fn try_enter(key: *const ()) -> Option<Self> {
        // SAFETY: as in `enter`.
        let section = unsafe { Section::try_enter(key) }?;
        Some(Self { _section: section })
    }

    /// Leaves the section.
    #[inline(always)]
    fn leave(self) {
        drop(self);
    }
}

/// `Option::take` through a raw pointer from a cell.
///
/// # Safety
///
/// `slot` is the pointer of a waker cell that the caller has exclusive access to.
unsafe fn take(slot: *mut Option<Waker>) -> Option<Waker> {
    // SAFETY: the caller's contract.
    unsafe { (*slot).take() }
}

impl<T> Default for Hatch<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for Hatch<T> {
    fn drop(&mut self) {
        // ORDERING: `Relaxed`: `&mut self`, nobody else can reach the hatch.
        if core::mem::needs_drop::<T>() && self.state.load(Ordering::Relaxed) & VALUE != 0 {
            // SAFETY: `&mut self`: nobody else can reach the slot, and `VALUE` says it is full.
            drop(unsafe { self.take_value() });
        }
        // The waker slot drops itself.
    }
}

/// The words `Debug` and `defmt` use for a state: the slot, each side, and whose the hatch is.
pub(crate) struct Words {
    pub(crate) slot: &'static str,
    pub(crate) sender: &'static str,
    pub(crate) receiver: &'static str,
    pub(crate) usage: &'static str,
}

impl Words {
    pub(crate) const fn of(state: u32) -> Self {
        const fn side(state: u32, closed: u32, dropped: u32) -> &'static str {
            if state & dropped != 0 {
                "dropped"
            } else if state & closed != 0 {
                "closed"
            } else {
                "open"
            }
        }
        Self {
            slot: if state & VALUE != 0 { "full" } else { "empty" },
            sender: side(state, S_CLOSED, S_DROPPED),
            receiver: side(state, R_CLOSED, R_DROPPED),
            usage: if state & IN_USE == 0 {
                "free"
            } else if state & SPENT == SPENT {
                "spent"
            } else {
                "in use"
            },
        }
    }
}

impl<T> fmt::Debug for Hatch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = Words::of(self.peek());
        f.debug_struct("Hatch")
            .field("slot", &format_args!("{}", words.slot))
            .field("sender", &format_args!("{}", words.sender))
            .field("receiver", &format_args!("{}", words.receiver))
            .field("usage", &format_args!("{}", words.usage))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Hatch;
    use crate::SharedHatch;

    /// A new hatch's state word is zero, so a `static` hatch (whose waker slot is `None` and
    /// whose value slot is uninitialised) is all zeros and goes to `.bss`, not `.data`.
    #[test]
    fn new_state_is_zero() {
        assert_eq!(Hatch::<u32>::new().peek(), 0);
        assert_eq!(SharedHatch::<u32>::new().state(), 0);
    }
}
