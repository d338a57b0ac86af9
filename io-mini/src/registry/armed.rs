//! The arming protocol, for a kernel set that holds every registered fd and reports each armed
//! direction once (epoll with `EPOLLONESHOT`), instead of the snapshot protocol of `poll(2)`.
//!
//! * An entry's snapshot bits mean *armed in the kernel*. A task that adds (or re-arms) a
//!   waiting place for a direction that is not armed records it as armed and must arm the fd in
//!   the kernel before it unlocks ([`Registry::add_waiter`] and [`Registry::rearm`] return
//!   `true`; [`Registry::arm_request`] says with what). Arming is level-triggered: the kernel
//!   checks the fd's readiness when it is armed, so readiness that came before the waiter was
//!   added is reported, and no wake-up is lost.
//! * When the kernel reports the fd (once: one-shot), it has disarmed every direction of it. The
//!   reactor records that ([`Registry::mark_event`]: armed bits cleared), wakes the waiting
//!   places of the directions reported, and re-arms, before it unlocks, the directions that still
//!   have waiting places ([`Registry::wake_events_into`]). A direction with nobody waiting stays
//!   disarmed: the reactor never spins on readiness nobody asked for.
//! * Everything that arms or disarms runs under the registry's lock, so the kernel's state and
//!   the armed bits never disagree in the direction that would lose a wake-up (armed here but
//!   not in the kernel); the reverse (a report for a direction already disarmed here) only
//!   costs a spurious re-arm.
//! * The kernel's events carry a [`Key`] and the fd. An fd registered twice (a pipe: see the
//!   module docs) shares one kernel entry: once that happens the registry is [`SHARED`], events
//!   are matched by fd, and an arm covers the directions armed for every registration of the fd.
//!   Removing the last registration of an fd asks the caller to take it out of the kernel set
//!   ([`Freed::unwatch`](super::Freed)).

use core::task::Waker;

use super::{Direction, Key, Registry, State, mark_waiting};

/// Mode bit: the arming protocol (see the module docs).
pub const ARMING: u8 = 1;
/// Mode bit: some fd has been registered twice; events are matched by fd.
pub const SHARED: u8 = 2;

/// `Entry::ready` bit: the kernel reported the fd (and so disarmed it) in this dispatch.
const EVENT: u8 = 1 << 2;
/// `Entry::ready` bit: re-arming the fd failed; its waiting places are woken instead.
const ARM_FAILED: u8 = 1 << 3;

impl Key {
    /// The key as 32 bits, to tag a kernel event.
    pub const fn to_bits(self) -> u32 {
        (self.slot as u32) << 16 | self.generation as u32
    }

    /// A key from [`Key::to_bits`].
    pub const fn from_bits(bits: u32) -> Self {
        Self {
            slot: (bits >> 16) as u16,
            generation: bits as u16,
        }
    }
}

impl<const N: usize, const W: usize> Registry<N, W> {
    /// An empty registry for the arming protocol.
    pub const fn arming() -> Self {
        let mut registry = Self::new();
        registry.mode = ARMING;
        registry
    }

    /// Whether this registry follows the arming protocol.
    pub fn is_arming(&self) -> bool {
        self.mode & ARMING != 0
    }

    /// The fd of `key` and the directions to arm for it: those armed for every registration
    /// of the fd. For a registration just inserted, or after `add_waiter`/`rearm` returned
    /// `true`.
    pub fn arm_request(&self, key: Key) -> (i32, u8) {
        let fd = self.entries[usize::from(key.slot)].fd;
        (fd, self.fd_mask(usize::from(key.slot)))
    }

    /// The directions armed for the fd of `slot`, over all its registrations.
    fn fd_mask(&self, slot: usize) -> u8 {
        let fd = self.entries[slot].fd;
        if self.mode & SHARED == 0 {
            return self.entries[slot].snap;
        }
        self.live_entries()
            .iter()
            .filter(|e| e.fd == fd)
            .fold(0, |mask, e| mask | e.snap)
    }

    /// Arming `dir` of `key` failed: it is not armed, and its waiting places are marked woken
    /// (the tasks retry their operation, which reports the fd's error). Returns how many; hand
    /// their wakers out with [`Registry::take_wakers`].
    pub fn arm_failed(&mut self, key: Key, dir: Direction) -> usize {
        if !self.is_current(key) {
            return 0;
        }
        let slot = usize::from(key.slot);
        self.entries[slot].snap &= !dir.bit();
        let end = usize::from(self.waiter_end);
        let mut woken = 0;
        for (index, place) in self.waiters[..end].iter_mut().enumerate() {
            if place.state == State::Waiting && usize::from(place.slot) == slot && place.dir == dir
            {
                place.state = State::Woken;
                mark_waiting(&mut self.waiting, index, false);
                woken += 1;
            }
        }
        woken
    }

    /// Reactor: the kernel reported `dirs` for the fd `fd`, tagged with `key`; the fd is
    /// disarmed now. A key that no longer names a registration is ignored, unless the registry
    /// is [`SHARED`]: then every registration of `fd` takes the event. Call
    /// [`Registry::wake_events_into`] after the last one.
    pub fn mark_event(&mut self, key: Key, fd: i32, dirs: u8) {
        if self.mode & SHARED == 0 {
            if let Some(entry) = self.entries.get_mut(usize::from(key.slot))
                && entry.fd >= 0
                && entry.generation == key.generation
            {
                entry.snap = 0;
                entry.ready |= dirs | EVENT;
            }
            return;
        }
        let end = usize::from(self.entry_end);
        for entry in &mut self.entries[..end] {
            if entry.fd == fd && fd >= 0 {
                entry.snap = 0;
                entry.ready |= dirs | EVENT;
            }
        }
    }

    /// Reactor, arming protocol: marks `Woken` every waiting place whose direction was reported
    /// (moving its waker into `out` as far as it has room, as [`Registry::wake_ready_into`]),
    /// then re-arms with `arm(fd, key, dirs)` every reported fd that still has waiting places
    /// for other directions. A failed re-arm wakes those places too. `events` are those just
    /// given to [`Registry::mark_event`]: only their entries are visited again (all entries
    /// when the registry is [`SHARED`]). Returns `(woken, taken)`.
    pub fn wake_events_into(
        &mut self,
        events: &[(Key, i32, u8)],
        out: &mut [Option<Waker>],
        mut arm: impl FnMut(i32, Key, u8) -> bool,
    ) -> (usize, usize) {
        let (entries, waiters) = (usize::from(self.entry_end), usize::from(self.waiter_end));
        let (mut woken, mut taken) = (0, 0);
        let mut waiting = self.waiting_places();
        while let Some(index) = waiting.next(&self.waiters) {
            let place = &mut self.waiters[index];
            let entry = &mut self.entries[usize::from(place.slot)];
            if entry.ready & place.dir.bit() != 0 {
                place.state = State::Woken;
                mark_waiting(&mut self.waiting, index, false);
                woken += 1;
                if let Some(slot) = out.get_mut(taken) {
                    *slot = place.waker.take();
                    taken += 1;
                }
            } else if entry.ready & EVENT != 0 {
                // Still wanted after the one-shot report: armed again below.
                entry.snap |= place.dir.bit();
            }
        }
        // Every entry marked by an event is one the events name by key, unless the registry is
        // shared (then marked by fd): only those need the second look.
        let mut failed = false;
        if self.mode & SHARED == 0 {
            for &(key, ..) in events {
                let slot = usize::from(key.slot);
                if slot < entries && self.entries[slot].ready != 0 {
                    failed |= !self.rearm_reported(slot, &mut arm);
                }
            }
        } else {
            for slot in 0..entries {
                if self.entries[slot].ready != 0 {
                    failed |= !self.rearm_reported(slot, &mut arm);
                }
            }
        }
        if failed {
            for (index, place) in self.waiters[..waiters].iter_mut().enumerate() {
                if place.state == State::Waiting
                    && self.entries[usize::from(place.slot)].ready & ARM_FAILED != 0
                {
                    place.state = State::Woken;
                    mark_waiting(&mut self.waiting, index, false);
                    woken += 1;
                }
            }
            for entry in &mut self.entries[..entries] {
                entry.ready = 0;
            }
        }
        (woken, taken)
    }

    /// The entry in `slot` was reported: re-arms the directions still waited for (recorded in
    /// its armed bits by [`Registry::wake_events_into`]) and clears its marks. On failure it
    /// is marked [`ARM_FAILED`] instead and `false` is returned.
    fn rearm_reported(&mut self, slot: usize, arm: &mut impl FnMut(i32, Key, u8) -> bool) -> bool {
        let entry = &self.entries[slot];
        if entry.ready & EVENT != 0 && entry.snap != 0 {
            // N < NIL, so the slot fits.
            let key = Key {
                slot: slot as u16,
                generation: entry.generation,
            };
            let (fd, mask) = (entry.fd, self.fd_mask(slot));
            if !arm(fd, key, mask) {
                let entry = &mut self.entries[slot];
                entry.snap = 0;
                entry.ready = ARM_FAILED;
                return false;
            }
        }
        self.entries[slot].ready = 0;
        true
    }
}
