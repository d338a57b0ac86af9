//! [`Handle`]: what a [`Sender`] and a [`Receiver`] each hold (a pointer to the [`Hatch`] and
//! their local flags), with everything both sides share: `recycle`, `close`, `is_closed`, the
//! `Debug` output, the flag accessors (`flag_accessors!`), and the drop (`release`) that ends in
//! the cleanup by the last handle.
//!
//! # The drop of a handle
//!
//! Dropping a handle closes its side (`CLOSED` and `DROPPED`, plus `RECLAIM` / `RECYCLE` from its
//! local flags), wakes the peer's parked waker and, if the peer's handle is gone too, cleans up.
//! Three ways, cheapest first:
//!
//! 1. **The peer is gone** (its `DROPPED` bit is in an `Acquire` load of the state): nobody else
//!    can write the state or the cells any more, and the load synchronises with the peer's final
//!    publish, so this handle cleans up alone, without the lock.
//! 2. **Nothing to move** (both waker bits clear, lock free): one compare-and-swap from the state
//!    seen publishes the new bits; with both bits clear the waker slot is empty (invariant 3 in
//!    `shared.rs`).
//! 3. Otherwise (`release_locked`, out of line): lock, take the waker slot, publish with the
//!    final unlock through the state word alone ([`unlock_final`]), then wake the peer and drop
//!    our own waker from locals. If the peer dropped between our look and our lock, we are last
//!    after all and clean up.
//!
//! After its final publish a handle that is not last never touches the hatch again (invariant 4
//! in `shared.rs`): the peer may free it at any moment.
//!
//! # The cleanup
//!
//! The last handle owns the hatch exclusively. A boxed hatch ([`hatch()`](crate::hatch()),
//! `F_BOXED`) is freed, which drops a pending value and a waker (`drop_boxed`, out of line
//! so that the drop inlines), or only deallocated when the state says nothing in it needs
//! dropping (`free_boxed`). A hatch whose memory you manage (`clean_up_managed`) loses its
//! wakers and, unless `recycles` is set, its pending value; then one `Release` store marks it
//! free (`IN_USE` cleared: `reclaims` or `recycles` set, a later `try_split` may reuse it) or
//! `SPENT`.

use core::marker::PhantomData;
use core::ptr::NonNull;

use sync_core::sync::atomic::Ordering;

use crate::shared::{
    Hatch, IN_USE, LOCK, R_CLOSED, RECLAIM, RECYCLE, S_CLOSED, SPENT, Side, VALUE, WAKERS,
    transition, unlock_final,
};
#[cfg(doc)]
use crate::{Receiver, Sender};

/// Handle-local flag: sends replace an unreceived value.
pub(crate) const F_OVERWRITES: u8 = 1;
/// Handle-local flag: close this side after its next successful operation.
pub(crate) const F_CLOSES: u8 = 1 << 1;
/// Handle-local flag: on cleanup, mark the hatch free (value dropped).
pub(crate) const F_RECLAIMS: u8 = 1 << 2;
/// Handle-local flag: on cleanup, mark the hatch free and keep a pending value.
pub(crate) const F_RECYCLES: u8 = 1 << 3;
/// Handle-local flag: the hatch is a leaked `Box` that the last handle frees.
pub(crate) const F_BOXED: u8 = 1 << 4;
/// Handle-local flag of a sender: it has never written the slot of a hatch that began empty
/// (set only by [`hatch()`](crate::hatch)), so `VALUE` is clear and nothing was ever taken. Not
/// shown in `Debug`: it only lets `send_last` skip its look (see there).
pub(crate) const F_UNSENT: u8 = 1 << 5;

/// The names of the handle-local flags, in bit order, for `Debug` and `defmt`.
pub(crate) const FLAG_NAMES: [(u8, &str); 5] = [
    (F_OVERWRITES, "overwrites"),
    (F_CLOSES, "closes"),
    (F_RECLAIMS, "reclaims"),
    (F_RECYCLES, "recycles"),
    (F_BOXED, "boxed"),
];

/// A handle's local flags, shown as the set of their names (`{overwrites, boxed}`).
pub(crate) struct Flags(pub(crate) u8);

impl core::fmt::Debug for Flags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut set = f.debug_set();
        for (flag, name) in FLAG_NAMES {
            if self.0 & flag != 0 {
                set.entry(&format_args!("{name}"));
            }
        }
        set.finish()
    }
}

/// The getter/setter pairs of the handle-local flags, for [`Sender`] and [`Receiver`] (both keep
/// their [`Handle`] in a field named `handle`): the flags both sides have (`closes`, `reclaims`,
/// `recycles`), after any side-specific ones given first.
///
/// `operation` ("send" or "receive") goes into the docs of `closes`; the attributes after
/// `set_closes:` (up to a `;`) document that setter, since what closing does differs by side.
/// Each side-specific entry is `docs getter / docs setter = FLAG;`. A getter is a `const fn` reading the flag; a setter sets
/// or clears it (never toggles) and returns `&mut Self` for chaining.
macro_rules! flag_accessors {
    (
        operation: $op:literal;
        set_closes: $(#[$closes_doc:meta])* ;
        $(
            $(#[$get_doc:meta])* $get:ident /
            $(#[$set_doc:meta])* $set:ident = $flag:ident;
        )*
    ) => {
        $crate::handle::flag_accessors! {
            @each
            $(
                $(#[$get_doc])* $get /
                $(#[$set_doc])* $set = $flag;
            )*

            #[doc = concat!(
                "Whether this side closes after its next successful ", $op, " (default `false`)."
            )]
            closes /
            $(#[$closes_doc])*
            set_closes = F_CLOSES;

            /// Whether dropping this handle asks for the hatch to be reclaimed (default `false`).
            reclaims /
            /// Sets reclaiming. For a hatch whose memory you manage: when both handles are gone and
            /// either had `reclaims` set, the last one drops a pending value and marks the hatch free
            /// ([`Hatch::is_free`](crate::Hatch::is_free),
            /// [`Hatch::try_split`](crate::Hatch::try_split)). No effect on a boxed hatch, which
            /// is freed.
            set_reclaims = F_RECLAIMS;

            /// Whether dropping this handle asks for the hatch to be recycled (default `false`).
            recycles /
            /// Sets recycling. Like [`set_reclaims`](Self::set_reclaims), but a pending value is
            /// **kept** for the next pair split from the hatch (recycling wins over reclaiming). No
            /// effect on a boxed hatch.
            set_recycles = F_RECYCLES;
        }
    };
    (
        @each
        $(
            $(#[$get_doc:meta])* $get:ident /
            $(#[$set_doc:meta])* $set:ident = $flag:ident;
        )*
    ) => {$(
        $(#[$get_doc])*
        #[must_use]
        #[inline]
        pub const fn $get(&self) -> bool {
            self.handle.get($crate::handle::$flag)
        }

        $(#[$set_doc])*
        #[inline]
        pub fn $set(&mut self, on: bool) -> &mut Self {
            self.handle.set($crate::handle::$flag, on);
            self
        }
    )*};
}
pub(crate) use flag_accessors;

/// The pointer and local flags every handle holds, with the operations both sides share.
///
/// Variance: covariant in `'a` (a handle may claim the memory for less time) but **invariant in
/// `T`**, because `Hatch<T>` holds `T` in an `UnsafeCell`; otherwise a `Sender<&'static str>`
/// could be shortened to `Sender<&'short str>` and hand a dangling reference to its receiver.
pub(crate) struct Handle<'a, T> {
    pub(crate) hatch: NonNull<Hatch<T>>,
    pub(crate) flags: u8,
    _borrow: PhantomData<&'a Hatch<T>>,
}

impl<'a, T> Handle<'a, T> {
    /// # Safety
    /// `hatch` is valid for `'a` and this side's handle is not alive elsewhere.
    pub(crate) const unsafe fn new(hatch: NonNull<Hatch<T>>, flags: u8) -> Self {
        Self {
            hatch,
            flags,
            _borrow: PhantomData,
        }
    }

    /// The shared state.
    #[inline]
    pub(crate) fn hatch(&self) -> &Hatch<T> {
        // SAFETY: the hatch stays valid while a handle of it is alive (invariant 4 of the module
        // docs: it is freed or reset only after both handles are gone).
        unsafe { self.hatch.as_ref() }
    }

    /// Sets or clears a local flag.
    #[inline]
    pub(crate) fn set(&mut self, flag: u8, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
    }

    /// Whether a local flag is set.
    #[inline]
    pub(crate) const fn get(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Recycles: if the other side's handle is gone, reopens both sides (a pending value stays)
    /// and returns the handle for the new peer (local flags cleared, except `F_BOXED`).
    pub(crate) fn recycle(&mut self, side: Side) -> Result<Self, crate::RecycleError> {
        let hatch = self.hatch();
        let (state, locked) = hatch.lock();
        let (_, peer_dropped) = side.peer().closed_dropped();
        if state & peer_dropped == 0 {
            hatch.unlock(locked, state);
            return Err(crate::RecycleError(()));
        }
        // The slot holds no waker of the peer's: its drop took it out (invariants 1 and 2).
        // The waker bits may stay: the peer's drop emptied the slot, so a bit left is stale.
        hatch.unlock(locked, state & (VALUE | WAKERS | IN_USE));
        // SAFETY: the old peer is gone (its `DROPPED` bit, seen under the lock, which we cleared
        // in the same critical section), so this is the only handle of its side; the hatch is
        // valid for `'a`, as for `self`.
        Ok(unsafe { Self::new(self.hatch, self.flags & F_BOXED) })
    }

    /// Closes this side without dropping the handle and wakes the peer's parked waker.
    pub(crate) fn close(&mut self, side: Side) {
        let hatch = self.hatch();
        let (state, locked) = hatch.lock();
        // SAFETY: we hold the lock; `state` is the state under it.
        let peer = unsafe { hatch.take_waker(side.peer(), state) };
        hatch.unlock(locked, state | side.closed_dropped().0);
        if let Some(peer) = peer {
            peer.wake();
        }
    }

    /// Whether either side has closed (or been dropped): what `is_closed` reports on both
    /// sides, since a send fails, and a receive of an empty slot ends, in either case.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.hatch().peek() & (S_CLOSED | R_CLOSED) != 0
    }

    /// The `Debug` output of a handle named `name`: its hatch and its local flags.
    pub(crate) fn fmt_debug(
        &self,
        name: &str,
        f: &mut core::fmt::Formatter<'_>,
    ) -> core::fmt::Result {
        f.debug_struct(name)
            .field("hatch", self.hatch())
            .field("flags", &Flags(self.flags))
            .finish()
    }

    /// The drop of a handle: closes this side, wakes the peer, and cleans up if the peer's handle
    /// is gone too.
    ///
    /// Inlined for its two lock-free cases (the peer is gone: clean up; no waker and no lock: one
    /// compare-and-swap); everything else is [`release_locked`](Self::release_locked).
    #[inline(always)]
    pub(crate) fn release(&mut self, side: Side) {
        let hatch = self.hatch();
        let peer_dropped = side.peer().closed_dropped().1;
        // Once the peer's handle is gone nobody else writes the state or the cells (only this
        // handle could recycle), so we may clean up without taking the lock.
        // ORDERING: `peek` is `Acquire`; seeing the peer's `DROPPED` bit synchronises with the
        // peer's final publish (`Release`: `unlock_final` or `transition`), so all its accesses
        // to the cells happen-before our cleanup.
        let seen = hatch.peek();
        if seen & peer_dropped != 0 {
            self.clean_up(seen);
            return;
        }
        let (closed, dropped) = side.closed_dropped();
        let next = seen | closed | dropped | self.cleanup_bits();
        // No waker to move (invariant 3): close with one compare-and-swap. It fails, and we take
        // the lock, if the state is locked or changed since our look.
        // ORDERING: `transition`'s `Release` publishes every access this handle made, for the
        // peer that will clean up after seeing our `DROPPED` bit (with `Acquire`).
        // Not on bare metal, which has no lock-free writers (see "Lock-free paths" in
        // `shared.rs`).
        if !crate::shared::LOCKED_ONLY
            && seen & (LOCK | WAKERS) == 0
            && transition(hatch.word(), seen, next)
        {
            return;
        }
        self.release_locked(side);
    }

    /// `RECLAIM` / `RECYCLE` for this handle's `reclaims` / `recycles` flags.
    #[inline]
    pub(crate) fn cleanup_bits(&self) -> u32 {
        const _: () = assert!((F_RECLAIMS as u32) << 5 == RECLAIM);
        const _: () = assert!((F_RECYCLES as u32) << 5 == RECYCLE);
        u32::from(self.flags & (F_RECLAIMS | F_RECYCLES)) << 5
    }

    /// [`release`](Self::release) under the lock: a waker may have to be moved, or the state
    /// changed under our compare-and-swap.
    #[inline(never)]
    fn release_locked(&mut self, side: Side) {
        let hatch = self.hatch();
        let (closed, dropped) = side.closed_dropped();
        let (state, locked) = hatch.lock();
        if state & side.peer().closed_dropped().1 != 0 {
            // The peer dropped between our look and our lock: we are last after all. Put the
            // state back (the peer's final critical section happened-before our `Acquire`) and
            // clean up alone.
            hatch.unlock(locked, state);
            self.clean_up(state);
            return;
        }
        let next = (state | closed | dropped | self.cleanup_bits()) & !WAKERS;
        // SAFETY: we hold the lock; `state` is what it returned.
        let (own, peer) = unsafe { hatch.take_wakers_hinted(side, state) };
        // The peer lives on: publish and never touch the hatch again.
        unlock_final(hatch.word(), locked, next);
        if let Some(peer) = peer {
            peer.wake();
        }
        drop(own);
    }

    /// The cleanup by the last handle, given the state it found (`Acquire`) with the peer's
    /// `DROPPED` bit set: frees a boxed hatch, or marks a hatch you manage free or spent.
    ///
    /// Access is exclusive: the peer's handle is gone, its final critical section happened-before
    /// our load, and nobody else holds a handle.
    #[inline(always)]
    fn clean_up(&mut self, state: u32) {
        #[cfg(feature = "alloc")]
        if self.get(F_BOXED) {
            self.free_boxed(state);
            return;
        }
        self.clean_up_managed(state);
    }

    /// [`clean_up`](Self::clean_up) of a boxed hatch: frees it. When nothing in it needs
    /// dropping (both waker bits clear, so the waker slot is `None` by invariant 3, and the value
    /// slot empty or `T` without drop glue) the memory is only deallocated; otherwise the box is
    /// dropped, out of line, so that a handle's drop stays small enough to inline.
    #[cfg(feature = "alloc")]
    #[inline(always)]
    fn free_boxed(&mut self, state: u32) {
        let ptr = self.hatch.as_ptr();
        let value = core::mem::needs_drop::<T>() && state & VALUE != 0;
        if state & WAKERS == 0 && !value {
            // SAFETY: boxed hatches come from `Box::new_uninit` in `hatch()` (the global
            // allocator, `Layout::new::<Hatch<T>>()`), and both handles are gone, so this is the
            // last reference. Skipping the drop glue leaks nothing: the waker slot is `None`
            // (waker bits clear, invariant 3) and the value slot holds nothing that needs
            // dropping.
            unsafe {
                alloc::alloc::dealloc(ptr.cast(), core::alloc::Layout::new::<Hatch<T>>());
            }
        } else {
            Self::drop_boxed(ptr);
        }
    }

    /// Drops a boxed hatch: a pending value and the wakers with it, then frees it.
    #[cfg(feature = "alloc")]
    #[inline(never)]
    fn drop_boxed(ptr: *mut Hatch<T>) {
        // SAFETY: as in `free_boxed`: the last reference to a leaked box. `Drop for Hatch` drops
        // a pending value and the waker slot drops itself.
        drop(unsafe { alloc::boxed::Box::from_raw(ptr) });
    }

    /// [`clean_up`](Self::clean_up) of a hatch whose memory you manage.
    #[inline(never)]
    fn clean_up_managed(&mut self, state: u32) {
        let hatch = self.hatch();
        let mut next = state | self.cleanup_bits();
        // SAFETY: exclusive access (see above).
        let (own, peer) = unsafe { hatch.take_wakers(Side::Sender, state) };
        let keep = next & RECYCLE != 0;
        let value = if next & VALUE != 0 && !keep {
            next &= !VALUE;
            // SAFETY: exclusive access, the slot is full; `VALUE` is cleared above.
            Some(unsafe { hatch.take_value() })
        } else {
            None
        };
        let end = if next & (RECLAIM | RECYCLE) != 0 {
            next & VALUE
        } else {
            SPENT
        };
        if crate::shared::LOCKED_ONLY {
            // No handle is left, but `try_split` may run now on another core, and there it
            // claims the hatch with a load and a store inside the lock section: a store of ours
            // between the two would be lost (the hatch stuck in use). So publish inside the
            // section too.
            let (_, locked) = hatch.lock();
            // ORDERING: `Release`, as in the plain store below; through the word alone, as there.
            unlock_final(hatch.word(), locked, end);
        } else {
            // ORDERING: `Release` pairs with the `Acquire` of a later `try_split` or `is_free`:
            // they see the slot and waker cells as we leave them, and the user's reuse of the
            // memory comes after our drops. A plain store: no handle is left (see `clean_up`),
            // and a split only compare-and-swaps from a free state. Through the word alone: once
            // free, the memory may be reused at once (see `unlock_final`).
            hatch.word().store(end, Ordering::Release);
        }
        drop((own, peer, value));
    }
}
