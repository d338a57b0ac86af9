//! The waker of every task: one [`RawWakerVTable`] shared by all task types.
//!
//! A waker only touches the state word of the [`Header`](crate::Header), which is the same for
//! every task; the two steps that depend on the task type (handing a runnable to the schedule
//! function, and destroying the task) are reached through the header's
//! [`TaskVTable`](crate::header::TaskVTable). So these four functions exist once in a program,
//! however many kinds of tasks it spawns.

use core::task::{RawWaker, RawWakerVTable, Waker};

use sync_core::sync::atomic::Ordering;

use crate::ScheduleInfo;
use crate::raw::header;
use crate::state::{CLOSED, COMPLETED, HANDLE, REFERENCE, REFS, RUNNING, SCHEDULED, TAKEN, abort};

/// Whether `wake` is `wake_by_ref` followed by `drop_waker` (one function less, one atomic
/// operation more per wake by value): on bare metal, where flash is scarcer than cycles, and on
/// hosts built with `--cfg task_ffi_small_wake`, so that the tests and loom models check that
/// variant too (`cargo xtask test` and `loom` do).
const SMALL_WAKE: bool = cfg!(any(target_os = "none", task_ffi_small_wake));

/// The waker vtable of every task; the data pointer is the task's (its header at offset 0).
pub(crate) static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

/// `RawWakerVTable::clone`: one more reference.
///
/// # Safety
///
/// `ptr` is the pointer of a live task and the caller owns a reference to it (a waker's).
pub(crate) unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a reference, so the task is alive.
    let header = unsafe { header(ptr) };
    // ORDERING: `Relaxed`, as `Arc::clone`: the new reference is made from one we hold, so
    // the task cannot be freed meanwhile and nothing needs to be ordered; the overflow check
    // only needs the count.
    let state = header.state.fetch_add(REFERENCE, Ordering::Relaxed);
    if state > isize::MAX as usize {
        abort();
    }
    RawWaker::new(ptr, &WAKER_VTABLE)
}

/// `RawWakerVTable::wake`: schedules the task with this waker's reference, or drops it.
///
/// # Safety
///
/// `ptr` is the pointer of a live task and the caller hands over a reference to it (a
/// waker's).
unsafe fn wake(ptr: *const ()) {
    if SMALL_WAKE {
        // The reference we were handed, back in a `Waker`: its drop (also when the schedule
        // function panics) gives the reference up after the wake.
        // SAFETY: `ptr` and the reference come from a waker of this vtable.
        let waker = unsafe { Waker::from_raw(RawWaker::new(ptr, &WAKER_VTABLE)) };
        waker.wake_by_ref();
        return;
    }
    // SAFETY: the waker holds a reference until we pass it on or drop it.
    let header = unsafe { header(ptr) };
    // ORDERING: a first guess for the compare-and-swap. Its `Acquire` is more than needed:
    // every path after it goes through a read-modify-write that orders by itself (the
    // compare-and-swap below, or `drop_waker`'s decrement).
    let mut state = header.state.load(Ordering::Acquire);
    loop {
        if state & (COMPLETED | CLOSED) != 0 {
            // SAFETY: we drop the reference we own.
            unsafe { drop_waker(ptr) };
            return;
        }
        // Already scheduled: an RMW that changes nothing still orders our writes before
        // the coming poll (release sequence), then our reference goes.
        // ORDERING: `Release`: what the waker wrote before waking is published to the next
        // poll, whose `Acquire` compare-and-swap in `run` (or `run`'s `Pending` exit, when
        // we set SCHEDULED during a poll) reads this write or a later one of its release
        // sequence. `Acquire` on success: when we make the runnable (the task was idle), the
        // last poll's effects on the future (published by `run`'s `Release` exit) happen-
        // before the schedule function hands the runnable on, and so before the next poll,
        // wherever it runs. Failure `Acquire`: the retry decides on the value (a
        // COMPLETED/CLOSED exit only drops our reference, which orders by itself).
        let new = state | SCHEDULED;
        match header
            .state
            .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                if state & (SCHEDULED | RUNNING) == 0 {
                    // SAFETY: we set SCHEDULED and pass our reference to the runnable.
                    unsafe { (header.vtable.schedule)(ptr, ScheduleInfo::new(false)) };
                } else {
                    // Scheduled already, or running (the runner reschedules when it sees
                    // SCHEDULED): our reference is not needed.
                    // SAFETY: we drop the reference we own.
                    unsafe { drop_waker(ptr) };
                }
                return;
            }
            Err(s) => state = s,
        }
    }
}

/// `RawWakerVTable::wake_by_ref`: schedules the task with a new reference.
///
/// # Safety
///
/// `ptr` is the pointer of a live task and the caller owns a reference to it (a waker's) for
/// the duration of the call.
unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker holds a reference for the duration of the call.
    let header = unsafe { header(ptr) };
    // ORDERING: a first guess for the compare-and-swap; on a finished task we return
    // without touching anything, so `Acquire` is more than needed.
    let mut state = header.state.load(Ordering::Acquire);
    loop {
        if state & (COMPLETED | CLOSED) != 0 {
            return;
        }
        // ORDERING: as in `wake`: `Release` publishes the waker's writes to the next poll,
        // `Acquire` (success) orders the last poll before the runnable we make here. The
        // added reference needs no ordering (as in `clone_waker`).
        let new = if state & (SCHEDULED | RUNNING) == 0 {
            (state | SCHEDULED) + REFERENCE
        } else {
            state | SCHEDULED
        };
        match header
            .state
            .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                if state & (SCHEDULED | RUNNING) == 0 {
                    if state > isize::MAX as usize {
                        abort();
                    }
                    // SAFETY: we set SCHEDULED and took a reference for the runnable.
                    unsafe { (header.vtable.schedule)(ptr, ScheduleInfo::new(false)) };
                }
                return;
            }
            Err(s) => state = s,
        }
    }
}

/// `RawWakerVTable::drop`: drops a reference; the last one of a detached, unfinished task
/// closes it and schedules it once more so the executor drops the future on its thread. Also
/// how a poll that returned `Pending` gives up the runnable's reference.
///
/// # Safety
///
/// `ptr` is the pointer of a live task and the caller hands over a reference to it (a
/// waker's, or the runnable's of a poll that returned `Pending`, with RUNNING cleared).
pub(crate) unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: the waker holds a reference until the `fetch_sub`.
    let header = unsafe { header(ptr) };
    // ORDERING: as in `drop_ref`: `Release` publishes our uses, `Acquire` (when last) orders
    // everyone else's before the final schedule or `destroy`.
    let new = header.state.fetch_sub(REFERENCE, Ordering::AcqRel) - REFERENCE;
    if new & (REFS | HANDLE) == 0 {
        if new & (COMPLETED | CLOSED) == 0 {
            // Nobody else can reach the task: no reference, no handle. (A spawn into its slot
            // may read the word, and finds it taken before and after: `TAKEN` stays set.)
            // ORDERING: a plain store, since we are alone; `Release` is more than needed:
            // the runnable reaches another thread only through the schedule function, which
            // must synchronise to move it there.
            header
                .state
                .store(TAKEN | SCHEDULED | CLOSED | REFERENCE, Ordering::Release);
            // SAFETY: we own the new reference and SCHEDULED.
            unsafe { (header.vtable.schedule)(ptr, ScheduleInfo::new(false)) };
        } else {
            // SAFETY: nothing else can reach the task and the future is gone.
            unsafe { (header.vtable.destroy)(ptr) };
        }
    }
}
