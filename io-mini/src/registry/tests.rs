//! Unit tests of the registry: plain data, no reactor thread, no system calls.

use super::*;
use sync_core::testing::WakeCounter;

type Small = Registry<4, 4>;

/// The id of a socket, one per fd number (so that registering a number twice is a duplicate).
fn file(fd: i32) -> FileId {
    FileId::new(7, fd.unsigned_abs().into(), true)
}

fn freed(wakeup: bool, failed: usize) -> Freed {
    Freed {
        wakeup,
        failed,
        unwatch: None,
    }
}

#[test]
fn insert_limits() {
    let mut r = Small::new();
    assert_eq!(r.insert(-1, file(-1)), Err(InsertError::BadFd));
    let keys: Vec<_> = (10..14).map(|fd| r.insert(fd, file(fd)).unwrap()).collect();
    assert_eq!(r.insert(10, file(10)), Err(InsertError::Duplicate));
    assert_eq!(r.insert(20, file(20)), Err(InsertError::Full));
    assert_eq!(r.remove(keys[1]), freed(false, 0));
    let again = r.insert(20, file(20)).unwrap();
    assert_eq!(again.slot, keys[1].slot);
    assert_ne!(again.generation, keys[1].generation);
    assert_eq!(r.sources(), 4);
}

#[test]
fn notify_only_when_reactor_lacks_interest() {
    let counter = WakeCounter::new();
    let mut r = Small::new();
    let key = r.insert(3, file(3)).unwrap();
    let mut out = [Interest {
        fd: 0,
        key,
        dirs: 0,
    }; 4];
    // Reactor not polling yet: no write.
    let (a, notify) = r.add_waiter(key, Direction::Read, counter.waker()).unwrap();
    assert!(!notify);
    assert_eq!(r.snapshot(&mut out), 1);
    assert_eq!(out[0].dirs, READ);
    // Interest already in the poll set: no write.
    let (b, notify) = r.add_waiter(key, Direction::Read, counter.waker()).unwrap();
    assert!(!notify);
    // New direction: exactly one write, then none until the next snapshot.
    let (c, notify) = r
        .add_waiter(key, Direction::Write, counter.waker())
        .unwrap();
    assert!(notify);
    let (d, notify) = r
        .add_waiter(key, Direction::Write, counter.waker())
        .unwrap();
    assert!(!notify);
    r.begin_dispatch();
    assert_eq!(r.dispatch(key, READ), 2);
    let mut wakers: [Option<Waker>; 4] = Default::default();
    assert_eq!(r.take_wakers(&mut wakers), 2);
    for w in wakers.iter_mut().filter_map(Option::take) {
        w.wake();
    }
    assert_eq!(counter.wakes(), 2);
    let w = counter.waker();
    let (mut a, mut b) = (Some(a), Some(b));
    assert_eq!(r.poll_waiter(&mut a, &w).0, WaiterPoll::Ready);
    assert_eq!(r.poll_waiter(&mut b, &w).0, WaiterPoll::Ready);
    assert!(a.is_none() && b.is_none());
    // The write waiters are untouched; a full pool refuses a fifth waiter only when full.
    let mut c = Some(c);
    assert_eq!(r.poll_waiter(&mut c, &w).0, WaiterPoll::NeedsWaker);
    drop(r.cancel(c.take().unwrap()));
    drop(r.cancel(d));
    assert_eq!(r.waiters(), 0);
    assert_eq!(
        r.remove(key),
        freed(false, 0),
        "not polling: no wake-up needed"
    );
}

#[test]
fn scans_cover_only_the_taken_prefix() {
    let counter = WakeCounter::new();
    let mut r = Small::new();
    let keys: Vec<_> = (10..13).map(|fd| r.insert(fd, file(fd)).unwrap()).collect();
    assert_eq!(r.entry_end, 3);
    // A hole is reused before the prefix grows.
    assert_eq!(r.remove(keys[1]), freed(false, 0));
    assert_eq!(r.entry_end, 3);
    let again = r.insert(20, file(20)).unwrap();
    assert_eq!(again.slot, keys[1].slot);
    assert_eq!(r.entry_end, 3);
    // Removing the last entry shrinks the prefix past every free slot before it.
    assert_eq!(r.remove(again), freed(false, 0));
    assert_eq!(r.entry_end, 3, "slot 2 is still taken");
    assert_eq!(r.remove(keys[2]), freed(false, 0));
    assert_eq!(r.entry_end, 1);
    assert_eq!(
        r.insert(10, file(10)),
        Err(InsertError::Duplicate),
        "the prefix is searched"
    );
    assert_eq!(r.sources(), 1);
    // Waiter places: the same rules.
    let key = keys[0];
    let mut ids: Vec<_> = (0..3)
        .map(|_| {
            r.add_waiter(key, Direction::Read, counter.waker())
                .unwrap()
                .0
        })
        .collect();
    assert_eq!(r.waiter_end, 3);
    let c = ids.pop().unwrap();
    let b = ids.pop().unwrap();
    let a = ids.pop().unwrap();
    drop(r.cancel(b));
    assert_eq!(r.waiter_end, 3);
    drop(r.cancel(c));
    assert_eq!(r.waiter_end, 1);
    let mut out = [Interest::EMPTY; 4];
    assert_eq!(r.snapshot(&mut out), 1);
    assert_eq!((out[0].fd, out[0].dirs), (10, READ));
    // A woken place keeps its index in the prefix until its owner consumes it.
    r.begin_dispatch();
    assert_eq!(r.dispatch(key, READ), 1);
    assert_eq!(r.waiter_end, 1);
    let mut a = Some(a);
    assert_eq!(r.poll_waiter(&mut a, &counter.waker()).0, WaiterPoll::Ready);
    assert_eq!(r.waiter_end, 0);
    assert_eq!(r.remove(key), freed(false, 0));
    assert_eq!((r.entry_end, r.sources(), r.waiters()), (0, 0, 0));
    // The whole table is still usable.
    let all: Vec<_> = (0..4).map(|fd| r.insert(fd, file(fd)).unwrap()).collect();
    assert_eq!(r.insert(9, file(9)), Err(InsertError::Full));
    assert_eq!(r.entry_end, 4);
    for key in all {
        assert_eq!(r.remove(key), freed(false, 0));
    }
    assert_eq!(r.entry_end, 0);
}

#[test]
fn wake_ready_into_takes_what_fits_and_leaves_the_rest() {
    let counter = WakeCounter::new();
    let mut r = Small::new();
    let key = r.insert(3, file(3)).unwrap();
    let w = counter.waker();
    let ids: Vec<_> = (0..3)
        .map(|_| r.add_waiter(key, Direction::Write, w.clone()).unwrap().0)
        .collect();
    let other = r.add_waiter(key, Direction::Read, w.clone()).unwrap().0;
    r.mark_ready(key, WRITE);
    let mut out: [Option<Waker>; 2] = Default::default();
    assert_eq!(r.wake_ready_into(&mut out), (3, 2));
    let mut rest: [Option<Waker>; 4] = Default::default();
    assert_eq!(
        r.take_wakers(&mut rest),
        1,
        "the third waker stays for take_wakers"
    );
    assert_eq!(r.take_wakers(&mut rest), 0, "and is taken once");
    assert_eq!(counter.wakes(), 0);
    for id in ids {
        assert_eq!(r.poll_waiter(&mut Some(id), &w).0, WaiterPoll::Ready);
    }
    let mut other = Some(other);
    assert_eq!(r.poll_waiter(&mut other, &w).0, WaiterPoll::Pending);
    drop(r.cancel(other.take().unwrap()));
    drop((out, rest, w));
    assert_eq!(counter.live(), 0);
}

#[test]
fn rearm_turns_a_woken_place_back_into_a_waiting_one() {
    let counter = WakeCounter::new();
    let w = counter.waker();
    let mut r = Small::new();
    let key = r.insert(3, file(3)).unwrap();
    let mut id = Some(r.add_waiter(key, Direction::Read, w.clone()).unwrap().0);
    let index = id.as_ref().unwrap().0;
    // Waiting, same task: the clone is handed back unused.
    let (poll, notify, [spare, none]) = r.rearm(&mut id, w.clone());
    assert_eq!((poll, notify), (WaiterPoll::Pending, false));
    assert!(spare.is_some_and(|s| s.will_wake(&w)) && none.is_none());
    let mut out = [Interest::EMPTY; 4];
    assert_eq!(r.snapshot(&mut out), 1);
    r.begin_dispatch();
    assert_eq!(r.dispatch(key, READ), 1);
    let mut wakers: [Option<Waker>; 4] = Default::default();
    assert_eq!(r.take_wakers(&mut wakers), 1);
    drop(wakers);
    // Woken, its waker taken (and woken): re-armed in the same place with the clone; the
    // reactor is not polling, so no wake-up write.
    let (poll, notify, spare) = r.rearm(&mut id, w.clone());
    assert_eq!((poll, notify), (WaiterPoll::Pending, false));
    assert!(spare.iter().all(Option::is_none), "the clone is stored");
    assert_eq!(id.as_ref().map(|id| id.0), Some(index));
    assert_eq!(r.snapshot(&mut out), 1, "the re-armed place is watched");
    assert_eq!(out[0].dirs, READ);
    // Woken again; this time the reactor polls without the interest: one wake-up write,
    // then none until the next snapshot.
    r.begin_dispatch();
    assert_eq!(r.dispatch(key, READ), 1);
    assert_eq!(r.snapshot(&mut out), 0, "the woken place is not watched");
    let (poll, notify, _) = r.rearm(&mut id, w.clone());
    assert_eq!((poll, notify), (WaiterPoll::Pending, true));
    let (poll, notify, _) = r.rearm(&mut id, w.clone());
    assert_eq!((poll, notify), (WaiterPoll::Pending, false));
    // Another task's waker replaces the stored one, which is handed back.
    let other = WakeCounter::new();
    let (poll, _, [spare, _]) = r.rearm(&mut id, other.waker());
    assert_eq!(poll, WaiterPoll::Pending);
    assert!(spare.is_some_and(|s| s.will_wake(&w)));
    // Failed: as poll_waiter, and both the stored waker and the clone come back.
    r.shutdown();
    let (poll, _, [old, clone]) = r.rearm(&mut id, w.clone());
    assert_eq!(poll, WaiterPoll::Failed);
    assert!(id.is_none() && old.is_some() && clone.is_some());
    drop((old, clone, w));
    assert_eq!((r.waiters(), counter.wakes(), counter.live()), (0, 0, 0));
    assert_eq!((other.wakes(), other.live()), (0, 0));
}

#[test]
fn pool_exhaustion_is_an_error() {
    let counter = WakeCounter::new();
    let mut r = Registry::<1, 2>::new();
    let key = r.insert(0, file(0)).unwrap();
    let a = r
        .add_waiter(key, Direction::Read, counter.waker())
        .unwrap()
        .0;
    let b = r
        .add_waiter(key, Direction::Read, counter.waker())
        .unwrap()
        .0;
    let (err, waker) = r
        .add_waiter(key, Direction::Read, counter.waker())
        .unwrap_err();
    assert_eq!(err, AddError::NoPlace);
    drop(waker);
    drop(r.cancel(a));
    drop(r.cancel(b));
    assert_eq!(counter.wakes(), 0);
    assert_eq!(counter.live(), 0);
}

#[test]
fn removal_while_watched_wakes_reactor_and_stale_events_are_ignored() {
    let counter = WakeCounter::new();
    let mut r = Registry::<2, 2>::new();
    let key = r.insert(5, file(5)).unwrap();
    let id = r
        .add_waiter(key, Direction::Read, counter.waker())
        .unwrap()
        .0;
    let mut out = [Interest {
        fd: 0,
        key,
        dirs: 0,
    }; 2];
    assert_eq!(r.snapshot(&mut out), 1);
    drop(r.cancel(id));
    assert_eq!(
        r.remove(key),
        freed(true, 0),
        "the reactor still polls the fd: wake it"
    );
    let reused = r.insert(5, file(5)).unwrap();
    let id = r
        .add_waiter(reused, Direction::Read, counter.waker())
        .unwrap()
        .0;
    r.begin_dispatch();
    // The event for the old registration must not wake the new one.
    assert_eq!(r.dispatch(out[0].key, READ), 0);
    drop(r.cancel(id));
    assert_eq!(counter.wakes(), 0);
}

#[test]
fn removal_fails_a_leaked_waiter_instead_of_keeping_the_slot_watched() {
    let counter = WakeCounter::new();
    let mut r = Registry::<1, 2>::new();
    let key = r.insert(4, file(4)).unwrap();
    // The owner of this id goes away without cancelling (as a forgotten future would).
    let _leaked: WaiterId = r
        .add_waiter(key, Direction::Read, counter.waker())
        .unwrap()
        .0;
    assert_eq!(r.remove(key), freed(false, 1));
    let reused = r.insert(9, file(9)).unwrap();
    let mut out = [Interest::EMPTY; 1];
    assert_eq!(r.snapshot(&mut out), 0, "the leaked waiter is not watched");
    let mut wakers: [Option<Waker>; 2] = Default::default();
    assert_eq!(r.take_wakers(&mut wakers), 1);
    assert_eq!(r.remove(reused), freed(false, 0));
}

#[test]
fn shutdown_fails_waiters_and_refuses_new_ones() {
    let counter = WakeCounter::new();
    let mut r = Small::new();
    let key = r.insert(1, file(1)).unwrap();
    let id = r
        .add_waiter(key, Direction::Write, counter.waker())
        .unwrap()
        .0;
    r.shutdown();
    let mut wakers: [Option<Waker>; 4] = Default::default();
    assert_eq!(r.take_wakers(&mut wakers), 1);
    let mut id = Some(id);
    assert_eq!(
        r.poll_waiter(&mut id, &counter.waker()).0,
        WaiterPoll::Failed
    );
    assert_eq!(r.insert(2, file(2)), Err(InsertError::Dead));
    assert!(matches!(
        r.add_waiter(key, Direction::Read, counter.waker()),
        Err((AddError::Dead, _))
    ));
}

#[test]
fn file_ids_tell_a_live_socket_from_a_stale_one() {
    let (socket, other) = (FileId::new(7, 100, true), FileId::new(7, 101, true));
    let pipe = FileId::new(9, 100, false);
    assert_eq!(socket.relation(socket), FileRelation::SameSocket);
    assert_eq!(socket.relation(other), FileRelation::Different);
    assert_eq!(socket.relation(pipe), FileRelation::Different);
    assert_eq!(
        pipe.relation(pipe),
        FileRelation::Unknown,
        "may be reopened"
    );
    assert_eq!(socket.relation(FileId::UNKNOWN), FileRelation::Unknown);
    assert_eq!(FileId::UNKNOWN.relation(socket), FileRelation::Unknown);
    assert_eq!(
        FileId::UNKNOWN.relation(FileId::UNKNOWN),
        FileRelation::Unknown
    );
}

#[test]
fn a_stale_entry_is_evicted_and_its_leaked_waiters_failed() {
    let counter = WakeCounter::new();
    let mut r = Small::new();
    let (old, new) = (FileId::new(7, 100, true), FileId::new(7, 101, true));
    let stale = r.insert(5, old).unwrap();
    let live = r.insert(6, file(6)).unwrap();
    // Both have waiters in the reactor's poll set; the stale one's owner is gone (leaked).
    let _leaked = r
        .add_waiter(stale, Direction::Read, counter.waker())
        .unwrap()
        .0;
    let live_id = r
        .add_waiter(live, Direction::Read, counter.waker())
        .unwrap()
        .0;
    let mut out = [Interest::EMPTY; 4];
    assert_eq!(r.snapshot(&mut out), 2);
    // The same socket again: refused, nothing evicted.
    assert_eq!(r.evict_stale(5, old), Freed::default());
    assert_eq!(r.insert(5, old), Err(InsertError::Duplicate));
    // Another socket on fd 5: the stale entry goes (the reactor watched it: wake it up), its
    // waiter is failed, and the new registration takes the slot with a new generation.
    assert_eq!(r.evict_stale(5, new), freed(true, 1));
    let key = r.insert(5, new).unwrap();
    assert_eq!(key.slot, stale.slot);
    assert_ne!(key, stale);
    let mut wakers: [Option<Waker>; 4] = Default::default();
    assert_eq!(r.take_wakers(&mut wakers), 1, "the leaked waiter's waker");
    // The stale key is harmless: removing it changes nothing, waiting on it fails.
    assert_eq!(r.remove(stale), Freed::default());
    assert!(matches!(
        r.add_waiter(stale, Direction::Read, counter.waker()),
        Err((AddError::Stale, _))
    ));
    assert_eq!(r.sources(), 2);
    // The other source's waiter is untouched and still woken by its events.
    r.begin_dispatch();
    assert_eq!(r.dispatch(live, READ), 1);
    assert_eq!(
        r.poll_waiter(&mut Some(live_id), &counter.waker()).0,
        WaiterPoll::Ready
    );
    // A stale event for the old registration wakes nobody of the new one.
    let id = r
        .add_waiter(key, Direction::Read, counter.waker())
        .unwrap()
        .0;
    assert_eq!(r.dispatch(stale, READ), 0);
    drop(r.cancel(id));
}

#[test]
fn entries_that_cannot_be_told_apart_coexist() {
    let counter = WakeCounter::new();
    let mut r = Small::new();
    let pipe = FileId::new(9, 100, false);
    let first = r.insert(5, pipe).unwrap();
    assert_eq!(r.evict_stale(5, pipe), Freed::default());
    let second = r.insert(5, pipe).unwrap();
    assert_eq!(r.evict_stale(5, FileId::UNKNOWN), Freed::default());
    let third = r.insert(5, FileId::UNKNOWN).unwrap();
    assert_eq!(r.sources(), 3);
    // Each is watched and woken on its own.
    let a = r
        .add_waiter(first, Direction::Read, counter.waker())
        .unwrap()
        .0;
    let b = r
        .add_waiter(second, Direction::Write, counter.waker())
        .unwrap()
        .0;
    let mut out = [Interest::EMPTY; 4];
    assert_eq!(r.snapshot(&mut out), 2);
    assert_eq!(
        (out[0].fd, out[0].dirs, out[1].fd, out[1].dirs),
        (5, READ, 5, WRITE)
    );
    r.begin_dispatch();
    r.mark_ready(out[0].key, READ);
    r.mark_ready(out[1].key, WRITE);
    assert_eq!(r.wake_ready(), 2);
    for id in [a, b] {
        assert_eq!(
            r.poll_waiter(&mut Some(id), &counter.waker()).0,
            WaiterPoll::Ready
        );
    }
    // Removing one leaves the others registered.
    assert_eq!(r.remove(second), freed(false, 0));
    assert_eq!(r.sources(), 2);
    for key in [first, third] {
        assert_eq!(r.remove(key), freed(false, 0));
    }
    assert_eq!(r.sources(), 0);
}

#[test]
fn revive_accepts_requests_again_and_keeps_registrations() {
    let counter = WakeCounter::new();
    let mut r = Small::new();
    let key = r.insert(1, file(1)).unwrap();
    let failed = r
        .add_waiter(key, Direction::Read, counter.waker())
        .unwrap()
        .0;
    let mut out = [Interest::EMPTY; 4];
    assert_eq!(r.snapshot(&mut out), 1);
    r.shutdown();
    assert_eq!(r.insert(2, file(2)), Err(InsertError::Dead));
    r.revive();
    // The waiter failed by the shutdown stays failed; new requests work, with the usual
    // wake-up rule (the new reactor has not taken a snapshot yet: no wake-up needed).
    assert_eq!(
        r.poll_waiter(&mut Some(failed), &counter.waker()).0,
        WaiterPoll::Failed
    );
    let (id, notify) = r.add_waiter(key, Direction::Read, counter.waker()).unwrap();
    assert!(!notify);
    assert!(r.insert(2, file(2)).is_ok());
    assert_eq!(r.snapshot(&mut out), 1);
    r.begin_dispatch();
    assert_eq!(r.dispatch(key, READ), 1);
    assert_eq!(
        r.poll_waiter(&mut Some(id), &counter.waker()).0,
        WaiterPoll::Ready
    );
}

#[test]
fn entry_lists_taken_slots_for_the_sweep() {
    let mut r = Small::new();
    let a = r.insert(3, file(3)).unwrap();
    let b = r.insert(4, file(4)).unwrap();
    assert_eq!(r.remove(a), freed(false, 0));
    assert_eq!(r.slots(), 2);
    assert_eq!(r.entry(0), None);
    assert_eq!(r.entry(1), Some((b, 4, file(4))));
    assert_eq!(r.entry(2), None);
}

#[test]
fn events_reach_waiting_places_past_the_mask() {
    // More places than the `waiting` mask covers: the first ones are found through the mask,
    // the rest by the scan; a place woken or freed leaves the mask.
    const PLACES: usize = MASKED + 8;
    let counter = WakeCounter::new();
    let w = counter.waker();
    let mut r = Registry::<2, PLACES>::arming();
    let key = r.insert(3, file(3)).unwrap();
    let mut reads: Vec<_> = (0..PLACES - 1)
        .map(|_| Some(r.add_waiter(key, Direction::Read, w.clone()).unwrap().0))
        .collect();
    let mut write = Some(r.add_waiter(key, Direction::Write, w.clone()).unwrap().0);
    // One read place goes before the event, another one is woken by it and re-armed.
    drop(r.cancel(reads.swap_remove(5).unwrap()));
    r.check_waiting();
    r.mark_event(key, 3, READ);
    let mut out: [Option<Waker>; 4] = Default::default();
    let mut armed = Vec::new();
    let events = [(key, 3, READ)];
    let (woken, taken) = r.wake_events_into(&events, &mut out, |fd, key, dirs| {
        armed.push((fd, key, dirs));
        true
    });
    assert_eq!((woken, taken), (PLACES - 2, 4));
    assert_eq!(armed, [(3, key, WRITE)], "the write place is armed again");
    r.check_waiting();
    let (poll, notify, spare) = r.rearm(&mut reads[0], w.clone());
    assert_eq!((poll, notify), (WaiterPoll::Pending, true));
    drop(spare);
    r.check_waiting();
    for id in &mut reads[1..] {
        assert_eq!(r.poll_waiter(id, &w).0, WaiterPoll::Ready);
    }
    assert_eq!(r.poll_waiter(&mut write, &w).0, WaiterPoll::Pending);
    r.check_waiting();
    drop(r.cancel(reads[0].take().unwrap()));
    drop(r.cancel(write.take().unwrap()));
    r.check_waiting();
    drop((out, w));
    let mut rest: [Option<Waker>; 4] = Default::default();
    assert_eq!(r.take_wakers(&mut rest), 0);
    assert_eq!((r.waiters(), counter.wakes(), counter.live()), (0, 0, 0));
}

#[test]
fn the_poll_protocol_reaches_waiting_places_past_the_mask() {
    // The snapshot and the dispatch of the poll(2) protocol walk the waiting places through the
    // mask, then scan the rest: a direction waited for only by a place past the mask is still
    // watched and woken, and cancelled places are skipped.
    const PLACES: usize = MASKED + 4;
    let counter = WakeCounter::new();
    let w = counter.waker();
    let mut r = Registry::<3, PLACES>::new();
    let a = r.insert(3, file(3)).unwrap();
    let b = r.insert(4, file(4)).unwrap();
    // Every masked place and one past the mask wait to read `a`; the last place past the mask,
    // alone, waits to write `b`.
    let mut reads: Vec<_> = (0..PLACES - 1)
        .map(|_| Some(r.add_waiter(a, Direction::Read, w.clone()).unwrap().0))
        .collect();
    let mut write = Some(r.add_waiter(b, Direction::Write, w.clone()).unwrap().0);
    // A cancelled place inside the mask and one past it.
    drop(r.cancel(reads.swap_remove(PLACES - 2).unwrap()));
    drop(r.cancel(reads.swap_remove(7).unwrap()));
    r.check_waiting();
    let mut out = [Interest {
        fd: 0,
        key: a,
        dirs: 0,
    }; 3];
    assert_eq!(r.snapshot(&mut out), 2);
    assert_eq!((out[0].key, out[0].dirs), (a, READ));
    assert_eq!(
        (out[1].key, out[1].dirs),
        (b, WRITE),
        "watched for the place past the mask"
    );
    r.begin_dispatch();
    r.mark_ready(b, WRITE);
    let mut wakers: [Option<Waker>; 2] = Default::default();
    assert_eq!(
        r.wake_ready_into(&mut wakers),
        (1, 1),
        "only the write place"
    );
    r.check_waiting();
    assert_eq!(r.poll_waiter(&mut write, &w).0, WaiterPoll::Ready);
    r.mark_ready(a, READ);
    assert_eq!(r.wake_ready(), PLACES - 3);
    r.check_waiting();
    for id in &mut reads {
        assert_eq!(r.poll_waiter(id, &w).0, WaiterPoll::Ready);
    }
    drop((wakers, w));
    let mut rest: [Option<Waker>; 4] = Default::default();
    while r.take_wakers(&mut rest) > 0 {
        rest = Default::default();
    }
    assert_eq!((r.waiters(), counter.wakes(), counter.live()), (0, 0, 0));
}
