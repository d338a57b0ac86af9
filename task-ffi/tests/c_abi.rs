//! A tiny executor written against raw pointers only, the way a C executor would be: a FIFO
//! ring of task pointers behind `extern "C"` push/pop functions, tasks run, scheduled and
//! dropped through `task_ffi::ffi`, and the per-task data read at `TaskHead::DATA_OFFSET`.

mod common;

use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use common::{Counts, Data, Fut};
use futures_lite::future::block_on;
use task_ffi::{Runnable, TaskHead, ffi};

const CAP: usize = 16;

/// `struct ring { void *slots[16]; size_t head, len; }`.
#[repr(C)]
struct Ring {
    slots: [*mut c_void; CAP],
    head: usize,
    len: usize,
}

/// `void ring_push(struct ring *r, void *task)`.
unsafe extern "C" fn ring_push(ring: *mut Ring, task: *mut c_void) {
    // SAFETY: the caller passes a live ring it has exclusive access to.
    let r = unsafe { &mut *ring };
    assert!(r.len < CAP, "ring full");
    r.slots[(r.head + r.len) % CAP] = task;
    r.len += 1;
}

/// `void *ring_pop(struct ring *r)`: NULL when empty.
unsafe extern "C" fn ring_pop(ring: *mut Ring) -> *mut c_void {
    // SAFETY: as above.
    let r = unsafe { &mut *ring };
    if r.len == 0 {
        return ptr::null_mut();
    }
    let task = std::mem::replace(&mut r.slots[r.head], ptr::null_mut());
    r.head = (r.head + 1) % CAP;
    r.len -= 1;
    task
}

/// The ring behind a lock, so the safe `spawn_with` accepts the schedule function.
struct Exec(Mutex<Ring>);

// SAFETY: the raw pointers in the ring are runnables, which are `Send` for `Data`.
unsafe impl Send for Exec {}
// SAFETY: every access goes through the mutex.
unsafe impl Sync for Exec {}

impl Exec {
    fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(Ring {
            slots: [ptr::null_mut(); CAP],
            head: 0,
            len: 0,
        })))
    }

    fn push(&self, task: *mut c_void) {
        let mut ring = self.0.lock().unwrap();
        // SAFETY: the lock gives exclusive access to the ring.
        unsafe { ring_push(&raw mut *ring, task) };
    }

    fn pop(&self) -> *mut c_void {
        let mut ring = self.0.lock().unwrap();
        // SAFETY: as above.
        unsafe { ring_pop(&raw mut *ring) }
    }

    /// The C run loop; returns the data values seen through the raw offset.
    fn run_all(&self) -> Vec<usize> {
        let mut seen = Vec::new();
        loop {
            let task = self.pop();
            if task.is_null() {
                return seen;
            }
            let data = task
                .cast::<u8>()
                .wrapping_add(TaskHead::<(), Data>::DATA_OFFSET)
                .cast::<Data>();
            // SAFETY: we own the popped runnable, hence its data.
            unsafe { (*data).value += 1 };
            // SAFETY: as above.
            seen.push(unsafe { (*data).value });
            // SAFETY: a runnable pointer, used once.
            unsafe { ffi::task_ffi_run(task) };
        }
    }

    fn drop_all(&self) -> usize {
        let mut n = 0;
        loop {
            let task = self.pop();
            if task.is_null() {
                return n;
            }
            // SAFETY: a runnable pointer, used once.
            unsafe { ffi::task_ffi_drop(task) };
            n += 1;
        }
    }
}

fn spawn(exec: &Arc<Exec>, c: &Counts, yields: u32) -> task_ffi::Task<common::Out> {
    let mut left = yields;
    let fut = Fut::new(c, move |cx| {
        if left == 0 {
            Poll::Ready(yields)
        } else {
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    });
    let data = Data {
        counts: c.clone(),
        value: 0,
    };
    let exec = exec.clone();
    let (runnable, task) = task_ffi::spawn_with(
        fut,
        move |r: Runnable<(), Data>| exec.push(r.into_raw().as_ptr().cast()),
        data,
    );
    // The first schedule goes through the C entry point too.
    // SAFETY: a runnable pointer, used once.
    unsafe { ffi::task_ffi_schedule(runnable.into_raw().as_ptr().cast()) };
    task
}

#[test]
fn c_executor_runs_tasks_and_data_persists() {
    let exec = Exec::new();
    let (c1, c2) = (Counts::new(), Counts::new());
    let t1 = spawn(&exec, &c1, 2);
    let t2 = spawn(&exec, &c2, 0);
    let seen = exec.run_all();
    // FIFO: t1, t2, t1, t1; each task's data counts its own runs.
    assert_eq!(seen, [1, 1, 2, 3]);
    assert_eq!(block_on(t1).1, 2);
    assert_eq!(block_on(t2).1, 0);
    // [poll, sched, drop_f, drop_t, drop_s, drop_d]; the schedule functions here are not
    // instrumented (sched and drop_s stay 0): the data drops are what this checks.
    assert_eq!(c1.get(), [3, 0, 1, 1, 0, 1]);
    assert_eq!(c2.get(), [1, 0, 1, 1, 0, 1]);
}

#[test]
fn c_executor_shutdown_drops_queued_tasks() {
    let exec = Exec::new();
    let c = Counts::new();
    let forever = {
        let fut = Fut::new(&c, |cx| {
            cx.waker().wake_by_ref();
            Poll::Pending
        });
        let data = Data {
            counts: c.clone(),
            value: 0,
        };
        let exec = exec.clone();
        let (runnable, task) = task_ffi::spawn_with(
            fut,
            move |r: Runnable<(), Data>| exec.push(r.into_raw().as_ptr().cast()),
            data,
        );
        runnable.schedule();
        task
    };
    // One poll by hand, then shut down with the task queued again.
    let task = exec.pop();
    // SAFETY: a runnable pointer, used once.
    assert!(unsafe { ffi::task_ffi_run(task) });
    forever.detach();
    assert_eq!(exec.drop_all(), 1);
    assert_eq!(c.get(), [1, 0, 1, 0, 0, 1]);
}
