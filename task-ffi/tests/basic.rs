//! Basic orders of run, detach, cancel and schedule, with exact counts of polls, schedules and
//! drops (future, output, schedule function, data), in plain and `spawn_with` modes.

mod common;

use std::ffi::c_void;
use std::task::Poll;

use common::{
    Counts, Mode, Queue, WakerSlot, drain, pending, pending_then_ready, poll_once, ready,
};
use task_ffi::{Runnable, Task};

fn drop_and_detach<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    check!(c, 0, 0, 0, 0, 0);
    drop(runnable);
    check!(c, 0, 0, 1, 0, 0);
    task.detach();
    check!(c, 0, 0, 1, 0, 1);
}

fn detach_and_drop<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    task.detach();
    check!(c, 0, 0, 0, 0, 0);
    drop(runnable);
    check!(c, 0, 0, 1, 0, 1);
}

fn detach_and_run<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    task.detach();
    check!(c, 0, 0, 0, 0, 0);
    assert!(!runnable.run());
    check!(c, 1, 0, 1, 1, 1);
}

fn run_and_detach<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    runnable.run();
    check!(c, 1, 0, 1, 0, 0);
    assert!(task.is_finished());
    task.detach();
    check!(c, 1, 0, 1, 1, 1);
}

fn cancel_and_run<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    drop(task);
    check!(c, 0, 0, 0, 0, 0);
    runnable.run();
    check!(c, 0, 0, 1, 0, 1);
}

fn run_and_cancel<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    runnable.run();
    check!(c, 1, 0, 1, 0, 0);
    drop(task);
    check!(c, 1, 0, 1, 1, 1);
}

fn cancel_join<K: Mode>() {
    let c = Counts::new();
    let (runnable, mut task) = K::spawn(&c, ready(&c), &Queue::new());
    assert!(poll_once(&mut task).is_pending());
    check!(c, 0, 0, 0, 0, 0);
    runnable.run();
    check!(c, 1, 0, 1, 0, 0);
    match poll_once(&mut task) {
        Poll::Ready(out) => assert_eq!(out.1, 7),
        Poll::Pending => panic!("not ready"),
    }
    check!(c, 1, 0, 1, 1, 0);
    drop(task);
    check!(c, 1, 0, 1, 1, 1);
}

fn schedule<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &q);
    runnable.schedule();
    check!(c, 0, 1, 0, 0, 0);
    for n in 2..5 {
        q.pop().unwrap().schedule();
        check!(c, 0, n, 0, 0, 0);
    }
    drain(&q);
    check!(c, 1, 4, 1, 0, 0);
    drop(task);
    check!(c, 1, 4, 1, 1, 1);
}

fn drop_inside_schedule<K: Mode>() {
    let c = Counts::new();
    let c2 = c.clone();
    let (runnable, task) = K::spawn_with_schedule(&c, ready(&c), move |r| {
        drop(r);
        // The schedule function is still running: its captures must still be alive.
        assert_eq!(c2.get()[4], 0);
    });
    task.detach();
    runnable.schedule();
    check!(c, 0, 1, 1, 0, 1);
}

fn waker<K: Mode>() {
    let c = Counts::new();
    let q = Queue::new();
    let slot = WakerSlot::new();
    let (runnable, task) = K::spawn(&c, pending(&c, &slot), &q);
    let w = runnable.waker();
    assert!(!runnable.run());
    check!(c, 1, 0, 0, 0, 0);
    w.wake_by_ref();
    check!(c, 1, 1, 0, 0, 0);
    w.wake_by_ref(); // already scheduled: no second schedule
    check!(c, 1, 1, 0, 0, 0);
    q.pop().unwrap().run();
    check!(c, 2, 1, 0, 0, 0);
    w.wake();
    check!(c, 2, 2, 0, 0, 0);
    drop(task); // scheduled: cancelling leaves the future to the runnable
    check!(c, 2, 2, 0, 0, 0);
    drop(slot.take());
    drain(&q);
    check!(c, 2, 2, 1, 0, 1);
}

extern "C" fn run_raw(ptr: *mut c_void) -> bool {
    // SAFETY: the pointer comes from `Runnable::into_raw` and is used once.
    unsafe { task_ffi::ffi::task_ffi_run(ptr) }
}

fn raw<K: Mode>() {
    let c = Counts::new();
    let (runnable, task) = K::spawn(&c, ready(&c), &Queue::new());
    let ptr = runnable.into_raw();
    check!(c, 0, 0, 0, 0, 0);
    // SAFETY: from `into_raw` of the same types, used once.
    let runnable = unsafe { Runnable::<(), K::D>::from_raw(ptr) };
    let ptr = runnable.into_raw();
    assert!(!run_raw(ptr.as_ptr().cast()));
    check!(c, 1, 0, 1, 0, 0);
    let tptr = task.into_raw();
    assert_eq!(tptr, ptr, "both handles point at the task");
    // SAFETY: from `Task::into_raw` of the same types, used once.
    let task = unsafe { Task::<common::Out>::from_raw(tptr) };
    assert_eq!(futures_lite::future::block_on(task).1, 7);
    check!(c, 1, 0, 1, 1, 1);
}

fn raw_task_cancel<K: Mode>() {
    let c = Counts::new();
    let slot = WakerSlot::new();
    let q = Queue::new();
    let (runnable, task) = K::spawn(&c, pending_then_ready(&c, &slot), &q);
    runnable.run();
    let ptr = task.into_raw();
    // SAFETY: from `Task::into_raw` of the same types, used once.
    let task = unsafe { Task::<common::Out>::from_raw(ptr) };
    drop(task); // cancel: idle task is scheduled once so the future is dropped
    check!(c, 1, 1, 0, 0, 0);
    drop(slot.take());
    let r = q.pop().unwrap();
    // SAFETY: the task pointer of a runnable we own, used once.
    unsafe { task_ffi::ffi::task_ffi_drop(r.into_raw().as_ptr().cast()) };
    check!(c, 1, 1, 1, 0, 1);
}

both_modes!(
    drop_and_detach,
    detach_and_drop,
    detach_and_run,
    run_and_detach,
    cancel_and_run,
    run_and_cancel,
    cancel_join,
    schedule,
    drop_inside_schedule,
    waker,
    raw,
    raw_task_cancel,
);

#[test]
fn schedule_counter_and_info() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use task_ffi::{ScheduleInfo, WithInfo};
    let woken_running = Arc::new(AtomicUsize::new(0));
    let w2 = woken_running.clone();
    let q = Arc::new(std::sync::Mutex::new(Vec::new()));
    let q2 = q.clone();
    let mut n = 0;
    let fut = std::future::poll_fn(move |cx| {
        n += 1;
        if n < 3 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(n)
        }
    });
    let (runnable, task) = task_ffi::spawn(
        fut,
        WithInfo(move |r: Runnable, info: ScheduleInfo| {
            if info.woken_while_running {
                w2.fetch_add(1, SeqCst);
            }
            q2.lock().unwrap().push(r);
        }),
    );
    runnable.schedule();
    let mut runs = 0;
    loop {
        let next = q.lock().unwrap().pop();
        let Some(r) = next else { break };
        runs += 1;
        r.run();
    }
    assert_eq!(runs, 3);
    assert_eq!(woken_running.load(SeqCst), 2);
    assert_eq!(futures_lite::future::block_on(task), 3);
}

#[test]
fn data_mut_seen_across_schedules() {
    let c = Counts::new();
    let q: Queue<common::Data> = Queue::new();
    let q2 = q.clone();
    let mut n = 0;
    let fut = common::Fut::new(&c, move |cx| {
        n += 1;
        if n < 4 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(n)
        }
    });
    let (mut runnable, task) = common::With::spawn_with_schedule(&c, fut, move |mut r| {
        r.data_mut().value += 10;
        q2.push(r);
    });
    runnable.data_mut().value = 1;
    runnable.schedule();
    let mut seen = Vec::new();
    while let Some(r) = q.pop() {
        seen.push(r.data().value);
        // What a C executor sees at the fixed offset.
        let ptr = r.into_raw();
        let data = ptr
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(task_ffi::TaskHead::<(), common::Data>::DATA_OFFSET)
            .cast::<common::Data>();
        // SAFETY: the data of a runnable we own; nobody else touches it meanwhile.
        let via_offset = unsafe { &*data }.value;
        assert_eq!(via_offset, *seen.last().unwrap());
        // SAFETY: from `into_raw` of the same types, used once.
        unsafe { Runnable::<(), common::Data>::from_raw(ptr) }.run();
    }
    assert_eq!(seen, [11, 21, 31, 41]);
    assert_eq!(futures_lite::future::block_on(task).1, 4);
    check!(c, 4, 4, 1, 1, 1);
}

#[test]
fn metadata_and_data_offsets() {
    use std::mem::{align_of, size_of};
    assert_eq!(size_of::<task_ffi::Header>(), 4 * size_of::<usize>());
    if cfg!(target_pointer_width = "64") {
        assert_eq!(size_of::<task_ffi::Header>(), 32);
        assert_eq!(task_ffi::TaskHead::<(), u64>::DATA_OFFSET, 32);
        assert_eq!(task_ffi::TaskHead::<u8, u64>::DATA_OFFSET, 40);
    }
    assert_eq!(
        task_ffi::TaskHead::<(), ()>::METADATA_OFFSET,
        size_of::<task_ffi::Header>()
    );
    assert_eq!(
        task_ffi::TaskHead::<u8, u16>::DATA_OFFSET % align_of::<u16>(),
        0
    );
    // Task and Runnable are two words in an Option (niche).
    assert_eq!(size_of::<Option<Runnable>>(), size_of::<usize>());
    assert_eq!(size_of::<Option<Task<u32>>>(), size_of::<usize>());
}

#[test]
fn metadata_dropped_once_and_shared() {
    use std::sync::Arc;
    let m = Arc::new(5u32);
    let (runnable, task) = task_ffi::Builder::new().metadata(m.clone()).spawn(
        |m: &Arc<u32>| {
            let v = **m;
            async move { v * 2 }
        },
        |_| {},
    );
    assert_eq!(Arc::strong_count(&m), 2);
    assert_eq!(**runnable.metadata(), 5);
    assert_eq!(**task.metadata(), 5);
    runnable.run();
    assert_eq!(futures_lite::future::block_on(task), 10);
    assert_eq!(Arc::strong_count(&m), 1);
}
