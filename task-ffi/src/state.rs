//! The bits of a task's state word.
//!
//! One `AtomicUsize` in the [`Header`](crate::Header) holds nine flags in its low bits and a
//! reference count above them:
//!
//! | bit | name | set while |
//! | --- | --- | --- |
//! | 0 | `SCHEDULED` | a [`Runnable`](crate::Runnable) exists (queued, or about to be run) |
//! | 1 | `RUNNING` | the future is being polled |
//! | 2 | `COMPLETED` | the future returned `Ready`; the output is (or was) in the task |
//! | 3 | `CLOSED` | the task was cancelled, or its output was taken; nothing will poll it again |
//! | 4 | `HANDLE` | the [`Task`](crate::Task) handle still exists |
//! | 5 | `AWAITER` | a waker of whoever awaits the `Task` sits in the awaiter slot |
//! | 6 | `REGISTERING` | the `Task` is writing the awaiter slot |
//! | 7 | `NOTIFYING` | someone is taking the waker out of the awaiter slot to wake it |
//! | 8 | `TAKEN` | the task exists: from the spawn until its memory is given back |
//! | 9.. | references | one per `Runnable` and one per `Waker` (the `Task` is the `HANDLE` bit) |
//!
//! The allocation is freed when the count is zero and `HANDLE` is clear; the future is dropped by
//! whoever owns the `SCHEDULED` (or `RUNNING`) right, the output by whoever sets `CLOSED` on a
//! `COMPLETED` task. The full transition table is in the crate docs.
//!
//! `TAKEN` is what makes the state word of a [`TaskSlot`](crate::TaskSlot) its "taken" flag
//! too: no transition clears it, so the word of a live task is never zero, not even while its
//! last handle destroys it; the slot's `release` stores zero once every part is dropped, and a
//! spawn claims the slot by one compare-and-swap from zero to [`INITIAL`].

/// A `Runnable` exists for the task.
pub(crate) const SCHEDULED: usize = 1 << 0;
/// The future is being polled.
pub(crate) const RUNNING: usize = 1 << 1;
/// The future completed; the output was stored.
pub(crate) const COMPLETED: usize = 1 << 2;
/// The task is closed: cancelled, or its output was taken.
pub(crate) const CLOSED: usize = 1 << 3;
/// The `Task` handle exists.
pub(crate) const HANDLE: usize = 1 << 4;
/// The awaiter slot holds a waker.
pub(crate) const AWAITER: usize = 1 << 5;
/// The awaiter slot is being written.
pub(crate) const REGISTERING: usize = 1 << 6;
/// The awaiter slot is being emptied by a notifier.
pub(crate) const NOTIFYING: usize = 1 << 7;
/// The task exists (set by the spawn, never cleared): a live state word is never zero.
pub(crate) const TAKEN: usize = 1 << 8;
/// One reference (a `Runnable` or a `Waker`).
pub(crate) const REFERENCE: usize = 1 << 9;
/// The mask of the reference count.
pub(crate) const REFS: usize = !(REFERENCE - 1);

/// The state of a freshly spawned task: a `Runnable` (one reference) and a `Task` exist.
pub(crate) const INITIAL: usize = TAKEN | SCHEDULED | HANDLE | REFERENCE;

/// Aborts the process: used when the reference count would overflow and when a C caller passes a
/// null runnable. Without `std` a panic while panicking aborts.
#[cold]
pub(crate) fn abort() -> ! {
    #[cfg(feature = "std")]
    {
        std::process::abort()
    }
    #[cfg(not(feature = "std"))]
    {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("task-ffi: aborting");
            }
        }
        let _bomb = Bomb;
        panic!("task-ffi: aborting");
    }
}

/// Formats a state word for `Debug` impls.
pub(crate) fn debug_state(
    f: &mut core::fmt::Formatter<'_>,
    name: &str,
    state: usize,
) -> core::fmt::Result {
    f.debug_struct(name)
        .field("scheduled", &(state & SCHEDULED != 0))
        .field("running", &(state & RUNNING != 0))
        .field("completed", &(state & COMPLETED != 0))
        .field("closed", &(state & CLOSED != 0))
        .field("handle", &(state & HANDLE != 0))
        .field("awaiter", &(state & AWAITER != 0))
        .field("references", &(state / REFERENCE))
        .finish()
}
