//! task-ffi without a heap: two tasks in static `TaskSlot`s, one waking the other, run by a
//! minimal executor (one ready pointer per task, found through the task's user data). Compare
//! `static-task_embassy-executor.rs`: the same two tasks on embassy-executor's task pools.
//!
//! Price: reference-counted wakers (a slot takes a task of any future type once the last one is
//! gone, so a waker that outlives its task must keep the slot taken rather than wake whatever runs
//! there next; embassy-executor's slots hold one task type for good), and the bookkeeping of a poll
//! for tasks that can be cancelled, awaited through a `Task` and freed by their last handle (its
//! start, its `Pending` exit and its completion, shared by every task type; embassy-executor's
//! tasks can be neither cancelled nor awaited). Spawned detached, as embassy-executor's tasks are,
//! a task links none of the code that lets go of a `Task`. RAM: the awaiter's waker (two words) in
//! each task's header, for a `Task` handle.
#![no_std]
#![no_main]

use core::future::poll_fn;
use core::hint::black_box;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use core::task::Poll;

use size_probes as _;
use sync_core::AtomicWaker;
use task_ffi::{Align4, Runnable, TaskSlot};

static SIGNAL: AtomicWaker = AtomicWaker::new();
static SIGNALLED: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU32 = AtomicU32::new(0);

/// Waits for the other task's signal, forever.
async fn waiter() {
    loop {
        poll_fn(|cx| {
            SIGNAL.register(cx.waker());
            if SIGNALLED.swap(false, Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        COUNT.fetch_add(1, Ordering::Relaxed);
    }
}

/// Signals the waiter, then yields, forever.
async fn signaller() {
    loop {
        SIGNALLED.store(true, Ordering::Release);
        SIGNAL.wake();
        let mut yielded = false;
        poll_fn(|cx| {
            if core::mem::replace(&mut yielded, true) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .await;
    }
}

// Each slot is exactly its task (28 bytes, word-aligned: what `TaskSlot::task_size` reports and
// the smallest the compile-time check accepts), as embassy-executor sizes each pool to its task.
static SLOT_A: TaskSlot<28, Align4> = TaskSlot::new();
static SLOT_B: TaskSlot<28, Align4> = TaskSlot::new();
/// The executor: one ready runnable per task (the task's data is its index).
static READY: [AtomicPtr<()>; 2] = [const { AtomicPtr::new(ptr::null_mut()) }; 2];

fn schedule(runnable: Runnable<(), usize>) {
    let index = *runnable.data();
    READY[index].store(runnable.into_raw().as_ptr(), Ordering::Release);
}

#[cortex_m_rt::entry]
fn main() -> ! {
    // Detached at the spawn, as embassy-executor's tasks are: no `Task` handle.
    let a = SLOT_A.spawn_detached_with(waiter(), schedule, 0).unwrap();
    let b = SLOT_B.spawn_detached_with(signaller(), schedule, 1).unwrap();
    a.schedule();
    b.schedule();
    loop {
        for ready in &READY {
            if let Some(ptr) = NonNull::new(ready.swap(ptr::null_mut(), Ordering::Acquire)) {
                // SAFETY: the pointer came from `into_raw` of a `Runnable<(), usize>`, once.
                unsafe { Runnable::<(), usize>::from_raw(ptr) }.run();
            }
        }
        black_box(COUNT.load(Ordering::Relaxed));
    }
}
