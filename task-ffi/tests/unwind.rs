//! Panics in user code that runs inside the task state machine: the future's `poll` and
//! destructor, the output's destructor, the schedule function, the destructors of the schedule
//! function, the metadata and the data, and the awaiter's waker. After each panic the task must
//! still resolve (the `Task` is polled once with a no-op waker and must be `Ready`, so a
//! regression fails instead of hanging), every part must be dropped exactly once, and the
//! allocation must be freed exactly once (counted by the allocator in `parts`). The tests hold
//! [`serial`] so the count belongs to one test at a time.

mod parts;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Poll, RawWaker, RawWakerVTable, Waker};

use parts::*;
use task_ffi::{Builder, Runnable};

// ---------------------------------------------------------------------------------------------
// The future's destructor.

/// Dropping a `Runnable` whose future's destructor panics: the task is closed all the same.
#[test]
fn drop_runnable_when_future_destructor_panics() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let (runnable, task) = spawn(&probe, ready(), &q, false);
    probe.arm(Part::Future);
    assert_eq!(expect_panic(|| drop(runnable)), "Future destructor");
    assert!(task.is_finished());
    assert!(resolve(task).is_none());
    assert_freed(&probe, live, 0);
}

/// Running a cancelled task whose future's destructor panics.
#[test]
fn run_cancelled_when_future_destructor_panics() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let slot = Arc::default();
    let (runnable, task) = spawn(&probe, pending(&slot), &q, false);
    assert!(!runnable.run());
    let mut cancel = Box::pin(task.cancel());
    // Idle: cancelling schedules it once so the executor drops the future.
    assert!(poll_once(&mut cancel).is_pending());
    assert_eq!(q.len(), 1);
    probe.arm(Part::Future);
    let runnable = q.pop().unwrap();
    assert_eq!(expect_panic(|| runnable.run()), "Future destructor");
    assert!(matches!(poll_once(&mut cancel), Poll::Ready(None)));
    drop(cancel);
    drop(take_waker(&slot));
    assert_freed(&probe, live, 0);
}

/// The future cancels its own task during its poll and returns `Pending`: the runner drops the
/// future, whose destructor panics.
#[test]
fn cancel_during_poll_when_future_destructor_panics() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let tasks: Arc<Mutex<Option<T>>> = Arc::default();
    let t2 = tasks.clone();
    let p2 = probe.clone();
    let (runnable, task) = spawn(
        &probe,
        move |_| {
            drop(t2.lock().unwrap_or_else(|e| e.into_inner()).take());
            p2.arm(Part::Future);
            Poll::Pending
        },
        &q,
        false,
    );
    *tasks.lock().unwrap() = Some(task);
    assert_eq!(expect_panic(|| runnable.run()), "Future destructor");
    assert_eq!(q.len(), 0);
    assert_freed(&probe, live, 0);
}

/// The future completes and its destructor panics (the output is already there): without
/// `propagate_panic` the panic leaves `run` and the task is closed without an output.
#[test]
fn complete_when_future_destructor_panics() {
    let _serial = serial();
    let live = live_tasks();
    for detach in [false, true] {
        let probe = Probe::new();
        let q = Queue::default();
        let (runnable, task) = spawn(&probe, ready(), &q, false);
        let task = if detach {
            task.detach();
            None
        } else {
            Some(task)
        };
        probe.arm(Part::Future);
        assert_eq!(expect_panic(|| runnable.run()), "Future destructor");
        assert_eq!(probe.polls(), 1);
        if let Some(task) = task {
            assert!(task.is_finished());
            assert!(resolve(task).is_none());
        }
        // The output the future returned was dropped by the runner.
        assert_freed(&probe, live, 1);
    }
}

/// With `propagate_panic`, the destructor's panic becomes the output, resumed by the `Task`.
#[cfg(feature = "std")]
#[test]
fn complete_when_future_destructor_panics_propagated() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let (runnable, task) = spawn(&probe, ready(), &q, true);
    probe.arm(Part::Future);
    assert!(!runnable.run()); // caught
    assert_eq!(probe.drops(), [1, 1, 0, 0, 0]);
    assert!(task.is_finished());
    let mut task = task;
    let msg = expect_panic(|| poll_once(&mut task));
    assert_eq!(msg, "Future destructor");
    drop(task);
    assert_freed(&probe, live, 1);
}

/// With `propagate_panic`, a future whose poll and destructor both panic: the poll's panic
/// is the output, the destructor's payload is dropped.
#[cfg(feature = "std")]
#[test]
fn poll_and_destructor_panic_propagated() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let p2 = probe.clone();
    let (runnable, task) = spawn(
        &probe,
        move |_| {
            p2.arm(Part::Future);
            panic!("poll")
        },
        &q,
        true,
    );
    assert!(!runnable.run());
    let mut task = task;
    assert_eq!(expect_panic(|| poll_once(&mut task)), "poll");
    drop(task);
    assert_freed(&probe, live, 0);
}

// ---------------------------------------------------------------------------------------------
// `spawn_local` on the wrong thread: the thread check panics in the future's poll and drop.

/// A local task whose runnable runs on another thread, with `propagate_panic`: the check's
/// panic is the output, and the future (which must not be dropped there) is leaked.
#[cfg(feature = "std")]
#[test]
fn local_task_run_elsewhere_propagated() {
    let _serial = serial();
    // The future holds no heap memory: it is leaked, never dropped on the wrong thread.
    let (runnable, task) = Builder::new()
        .propagate_panic(true)
        .spawn_local(|()| async { 5 }, |_| {});
    std::thread::scope(|s| {
        s.spawn(move || assert!(!runnable.run())).join().unwrap();
    });
    assert!(task.is_finished());
    let mut task = task;
    let msg = expect_panic(|| poll_once(&mut task));
    assert_eq!(msg, "local task polled by a thread that did not spawn it");
}

/// A local task whose runnable is dropped on another thread: the drop panics, the future is
/// leaked, and the task is closed.
#[cfg(feature = "std")]
#[test]
fn local_task_dropped_elsewhere() {
    let _serial = serial();
    let probe = Probe::new();
    let data = Tagged(Piece::new(&probe, Part::Data));
    let live = live_tasks();
    let (runnable, task) = task_ffi::spawn_local_with(async { 1 }, |_| {}, data);
    assert_eq!(live_tasks(), live + 1);
    std::thread::scope(|s| {
        let msg = s.spawn(move || expect_panic(move || drop(runnable)));
        assert_eq!(
            msg.join().unwrap(),
            "local task dropped by a thread that did not spawn it"
        );
    });
    assert!(resolve(task).is_none());
    assert_eq!(probe.drops()[Part::Data as usize], 1);
    assert_eq!(live_tasks(), live);
}

// ---------------------------------------------------------------------------------------------
// The schedule function.

/// The schedule function panics when dropping the `Task` schedules the idle task: the
/// runnable it received is dropped (the future with it), and the handle is still given up.
#[test]
fn schedule_panics_in_task_drop() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let (runnable, task) = spawn(&probe, |_| Poll::Pending, &q, false);
    assert!(!runnable.run());
    probe.schedule_panics.store(true, SeqCst);
    assert_eq!(expect_panic(|| drop(task)), "schedule");
    assert_eq!(probe.scheds(), 1);
    assert_freed(&probe, live, 0);
}

/// The same through `Task::cancel`.
#[test]
fn schedule_panics_in_cancel() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let (runnable, task) = spawn(&probe, |_| Poll::Pending, &q, false);
    assert!(!runnable.run());
    probe.schedule_panics.store(true, SeqCst);
    let mut cancel = Box::pin(task.cancel());
    assert_eq!(expect_panic(|| poll_once(&mut cancel)), "schedule");
    drop(cancel);
    assert_freed(&probe, live, 0);
}

/// The schedule function panics in `detach` of an idle task that nothing can wake.
#[test]
fn schedule_panics_in_detach() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let (runnable, task) = spawn(&probe, |_| Poll::Pending, &q, false);
    assert!(!runnable.run());
    probe.schedule_panics.store(true, SeqCst);
    assert_eq!(expect_panic(|| task.detach()), "schedule");
    assert_freed(&probe, live, 0);
}

/// The schedule function panics when a waker wakes the task (each kind of wake, and the last
/// waker of a detached task): the runnable is dropped, so the task is cancelled and resolves.
#[test]
fn schedule_panics_in_wake() {
    let _serial = serial();
    let live = live_tasks();
    for how in 0..4 {
        let probe = Probe::new();
        let q = Queue::default();
        let slot = Arc::default();
        let (runnable, task) = spawn(&probe, pending(&slot), &q, false);
        assert!(!runnable.run());
        let waker = take_waker(&slot);
        probe.schedule_panics.store(true, SeqCst);
        let task = match how {
            0 => {
                assert_eq!(expect_panic(|| waker.wake()), "schedule");
                Some(task)
            }
            1 => {
                assert_eq!(expect_panic(|| waker.wake_by_ref()), "schedule");
                drop(waker);
                Some(task)
            }
            2 => {
                // Through `Runnable::schedule`: wake once with the panic disarmed.
                probe.schedule_panics.store(false, SeqCst);
                waker.wake();
                probe.schedule_panics.store(true, SeqCst);
                let r = q.pop().unwrap();
                assert_eq!(expect_panic(|| r.schedule()), "schedule");
                Some(task)
            }
            _ => {
                task.detach();
                assert_eq!(expect_panic(|| drop(waker)), "schedule");
                None
            }
        };
        assert_eq!(q.len(), 0);
        if let Some(task) = task {
            assert!(resolve(task).is_none());
        }
        assert_freed(&probe, live, 0);
    }
}

/// The schedule function panics when the runner reschedules a task woken during its poll.
#[test]
fn schedule_panics_after_woken_while_running() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let p2 = probe.clone();
    let (runnable, task) = spawn(
        &probe,
        move |cx| {
            cx.waker().wake_by_ref();
            p2.schedule_panics.store(true, SeqCst);
            Poll::Pending
        },
        &q,
        false,
    );
    assert_eq!(expect_panic(|| runnable.run()), "schedule");
    assert!(resolve(task).is_none());
    assert_freed(&probe, live, 0);
}

// ---------------------------------------------------------------------------------------------
// Destructors of the output, the schedule function, the metadata and the data.

/// The output's destructor panics wherever the output is dropped: by the runner (detached),
/// by `Task::drop`, by `Task::detach`.
#[test]
fn output_destructor_panics() {
    let _serial = serial();
    let live = live_tasks();
    for how in 0..3 {
        let probe = Probe::new();
        let q = Queue::default();
        let (runnable, task) = spawn(&probe, ready(), &q, false);
        probe.arm(Part::Output);
        match how {
            0 => {
                task.detach();
                assert_eq!(expect_panic(|| runnable.run()), "Output destructor");
            }
            1 => {
                assert!(!runnable.run());
                assert_eq!(expect_panic(|| drop(task)), "Output destructor");
            }
            _ => {
                assert!(!runnable.run());
                assert_eq!(expect_panic(|| task.detach()), "Output destructor");
            }
        }
        assert_freed(&probe, live, 1);
    }
}

/// A destructor of the schedule function, the metadata or the data panics when the task is
/// destroyed (by the `Task`, the runner, or the last waker): the other parts are still
/// dropped, the memory is freed, and the panic leaves that call.
#[test]
fn part_destructor_panics_in_destroy() {
    let _serial = serial();
    let live = live_tasks();
    for part in [Part::Schedule, Part::Metadata, Part::Data] {
        for last in ["task", "runner", "waker"] {
            let probe = Probe::new();
            let q = Queue::default();
            let slot = Arc::default();
            let (runnable, task) = spawn(&probe, pending_then_ready(&slot), &q, false);
            assert!(!runnable.run());
            let waker = take_waker(&slot);
            let expected = format!("{part:?} destructor");
            match last {
                "task" => {
                    waker.wake();
                    q.pop().unwrap().run();
                    probe.arm(part);
                    assert_eq!(expect_panic(|| drop(task)), expected);
                }
                "runner" => {
                    task.detach();
                    waker.wake();
                    probe.arm(part);
                    let r = q.pop().unwrap();
                    assert_eq!(expect_panic(|| r.run()), expected);
                }
                _ => {
                    task.detach();
                    waker.wake_by_ref();
                    q.pop().unwrap().run();
                    probe.arm(part);
                    assert_eq!(expect_panic(|| drop(waker)), expected);
                }
            }
            assert_eq!(q.len(), 0);
            assert_freed(&probe, live, 1);
        }
    }
}

/// The closure that makes the future panics: the parts are dropped and the memory freed.
#[test]
fn future_constructor_panics() {
    let _serial = serial();
    let live = live_tasks();
    let probe = Probe::new();
    let p = probe.clone();
    let msg = expect_panic(|| {
        let schedule = Piece::new(&p, Part::Schedule);
        Builder::new()
            .metadata(Piece::new(&p, Part::Metadata))
            .spawn_with(
                |_| -> std::future::Ready<()> { panic!("constructor") },
                move |_: Runnable<Piece, Tagged>| {
                    let _ = &schedule;
                },
                Tagged(Piece::new(&p, Part::Data)),
            )
    });
    assert_eq!(msg, "constructor");
    assert_eq!(probe.drops(), [0, 0, 1, 1, 1]);
    assert_eq!(live_tasks(), live);
}

// ---------------------------------------------------------------------------------------------
// The awaiter's waker.

static WAKE_PANICS: AtomicBool = AtomicBool::new(false);
static DROP_PANICS: AtomicBool = AtomicBool::new(false);

/// A waker whose `wake` and `drop` panic when armed (all of them `will_wake` each other).
fn flaky_waker() -> Waker {
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn wake(_: *const ()) {
        if WAKE_PANICS.load(SeqCst) {
            panic!("awaiter wake");
        }
    }
    fn drop(_: *const ()) {
        if DROP_PANICS.load(SeqCst) {
            panic!("awaiter drop");
        }
    }
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);
    // SAFETY: the vtable functions ignore the (null) data pointer and are thread-safe.
    unsafe { Waker::from_raw(clone(std::ptr::null())) }
}

/// Disarms the flaky wakers even when a test fails.
struct Disarm;

impl Drop for Disarm {
    fn drop(&mut self) {
        WAKE_PANICS.store(false, SeqCst);
        DROP_PANICS.store(false, SeqCst);
    }
}

/// The awaiter's wake panics when the runner completes the task: the panic leaves `run`, the
/// output stays in the task and the `Task` gets it.
#[test]
fn awaiter_wake_panics_on_completion() {
    let _serial = serial();
    let _disarm = Disarm;
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let slot = Arc::default();
    let (runnable, mut task) = spawn(&probe, pending_then_ready(&slot), &q, false);
    assert!(!runnable.run());
    assert!(poll_with(&mut task, &flaky_waker()).is_pending());
    take_waker(&slot).wake();
    WAKE_PANICS.store(true, SeqCst);
    let r = q.pop().unwrap();
    assert_eq!(expect_panic(|| r.run()), "awaiter wake");
    WAKE_PANICS.store(false, SeqCst);
    let out = resolve(task).expect("the output");
    assert_eq!(out.1, 7);
    drop(out);
    assert_freed(&probe, live, 1);
}

/// The awaiter's wake panics when the `Task` is dropped and the runnable drops the future.
#[test]
fn awaiter_wake_panics_on_cancel() {
    let _serial = serial();
    let _disarm = Disarm;
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let (runnable, task) = spawn(&probe, ready(), &q, false);
    let mut task = task.fallible();
    assert!(poll_with(&mut task, &flaky_waker()).is_pending());
    WAKE_PANICS.store(true, SeqCst);
    assert_eq!(expect_panic(|| drop(runnable)), "awaiter wake");
    WAKE_PANICS.store(false, SeqCst);
    assert!(matches!(poll_once(&mut task), Poll::Ready(None)));
    drop(task);
    assert_freed(&probe, live, 0);
}

/// The awaiter's waker is still in its slot when the task is destroyed, and its destructor
/// panics: the metadata and data are still dropped and the memory freed.
#[test]
fn awaiter_drop_panics_in_destroy() {
    let _serial = serial();
    let _disarm = Disarm;
    let live = live_tasks();
    let probe = Probe::new();
    let q = Queue::default();
    let slot = Arc::default();
    let (runnable, mut task) = spawn(&probe, pending(&slot), &q, false);
    assert!(!runnable.run());
    assert!(poll_with(&mut task, &flaky_waker()).is_pending());
    task.detach();
    // The last waker of the detached task closes it and schedules it once.
    drop(take_waker(&slot));
    let r = q.pop().unwrap();
    DROP_PANICS.store(true, SeqCst);
    assert_eq!(expect_panic(|| r.run()), "awaiter drop");
    DROP_PANICS.store(false, SeqCst);
    assert_freed(&probe, live, 0);
}
