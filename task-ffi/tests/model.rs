//! Property test: random sequences of operations on one task — run or drop its runnable, wake
//! it (by value, by reference, from inside its own poll), drop wakers, poll, cancel or detach
//! its `Task`, let the future complete — while at most one user callback at a time is armed to
//! panic (the future's `poll` or destructor, the output's destructor, the schedule function or
//! its destructor, the metadata's or the data's destructor), with and without
//! `propagate_panic`.
//!
//! After every step the task is checked against what its handles imply: at most one runnable,
//! and only while the future is alive; no part dropped twice; the allocation freed exactly when
//! the schedule function, metadata and data are dropped, and only once no handle is left; a
//! finished task with no runnable resolves at once; no panic unless a callback is armed (or a
//! propagated panic is resumed). At the end everything is let go and every part must have been
//! dropped exactly once and the memory freed.

mod parts;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use parts::*;
use proptest::prelude::*;
use task_ffi::FallibleTask;

/// The user callback armed to panic.
#[derive(Clone, Copy, Debug)]
enum Knob {
    Poll,
    FutureDrop,
    OutputDrop,
    ScheduleCall,
    ScheduleDrop,
    MetadataDrop,
    DataDrop,
}

#[derive(Clone, Debug)]
enum Op {
    /// Runs the queued runnable.
    Run,
    /// Drops the queued runnable.
    DropRunnable,
    /// Wakes (by value) one of the wakers the future left.
    Wake(usize),
    /// Wakes one by reference.
    WakeByRef(usize),
    /// Drops one.
    DropWaker(usize),
    /// The next poll wakes the task from inside the poll.
    SelfWake,
    /// Polls the `Task` once with a no-op waker.
    PollTask,
    /// Drops the `Task` (cancels the task).
    DropTask,
    /// Detaches the `Task`.
    Detach,
    /// The next poll returns `Ready`.
    Complete,
    /// Arms one callback to panic (and disarms the others).
    Arm(Knob),
    /// Disarms every callback.
    Disarm,
}

fn knob() -> impl Strategy<Value = Knob> {
    prop_oneof![
        Just(Knob::Poll),
        Just(Knob::FutureDrop),
        Just(Knob::OutputDrop),
        Just(Knob::ScheduleCall),
        Just(Knob::ScheduleDrop),
        Just(Knob::MetadataDrop),
        Just(Knob::DataDrop),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Run),
        1 => Just(Op::DropRunnable),
        2 => any::<usize>().prop_map(Op::Wake),
        2 => any::<usize>().prop_map(Op::WakeByRef),
        1 => any::<usize>().prop_map(Op::DropWaker),
        1 => Just(Op::SelfWake),
        2 => Just(Op::PollTask),
        1 => Just(Op::DropTask),
        1 => Just(Op::Detach),
        1 => Just(Op::Complete),
        2 => knob().prop_map(Op::Arm),
        1 => Just(Op::Disarm),
    ]
}

/// The task, its handles, and the switches its future and schedule function read.
struct World {
    probe: Arc<Probe>,
    queue: Queue,
    wakers: Arc<Mutex<Vec<Waker>>>,
    task: Option<FallibleTask<Out, Piece>>,
    ready: Arc<AtomicBool>,
    self_wake: Arc<AtomicBool>,
    poll_panics: Arc<AtomicBool>,
    /// Outputs the future returned (0 or 1).
    made: Arc<AtomicUsize>,
    armed: Option<Knob>,
    propagate: bool,
    live: usize,
}

impl World {
    fn new(propagate: bool) -> Self {
        let probe = Probe::new();
        let queue = Queue::default();
        let wakers: Arc<Mutex<Vec<Waker>>> = Arc::default();
        let ready = Arc::new(AtomicBool::new(false));
        let self_wake = Arc::new(AtomicBool::new(false));
        let poll_panics = Arc::new(AtomicBool::new(false));
        let made = Arc::new(AtomicUsize::new(0));
        let live = live_tasks();
        let (w, r, s, p, m) = (
            wakers.clone(),
            ready.clone(),
            self_wake.clone(),
            poll_panics.clone(),
            made.clone(),
        );
        let (runnable, task) = spawn(
            &probe,
            move |cx| {
                if p.load(SeqCst) {
                    panic!("poll");
                }
                if s.swap(false, SeqCst) {
                    cx.waker().wake_by_ref();
                }
                let mut w = w.lock().unwrap_or_else(|e| e.into_inner());
                if w.len() < 3 {
                    w.push(cx.waker().clone());
                }
                if r.load(SeqCst) {
                    m.fetch_add(1, SeqCst);
                    Poll::Ready(7)
                } else {
                    Poll::Pending
                }
            },
            &queue,
            propagate,
        );
        queue.0.lock().unwrap().push_back(runnable);
        Self {
            probe,
            queue,
            wakers,
            task: Some(task.fallible()),
            ready,
            self_wake,
            poll_panics,
            made,
            armed: None,
            propagate,
            live,
        }
    }

    fn disarm(&mut self) {
        self.armed = None;
        self.probe.disarm_all();
        self.probe.schedule_panics.store(false, SeqCst);
        self.poll_panics.store(false, SeqCst);
    }

    fn arm(&mut self, knob: Knob) {
        self.disarm();
        self.armed = Some(knob);
        match knob {
            Knob::Poll => self.poll_panics.store(true, SeqCst),
            Knob::FutureDrop => self.probe.arm(Part::Future),
            Knob::OutputDrop => self.probe.arm(Part::Output),
            Knob::ScheduleCall => self.probe.schedule_panics.store(true, SeqCst),
            Knob::ScheduleDrop => self.probe.arm(Part::Schedule),
            Knob::MetadataDrop => self.probe.arm(Part::Metadata),
            Knob::DataDrop => self.probe.arm(Part::Data),
        }
    }

    /// Takes waker `i` (modulo the count) out of the shared list.
    fn take_waker(&self, i: usize) -> Option<Waker> {
        let mut w = self.wakers.lock().unwrap_or_else(|e| e.into_inner());
        if w.is_empty() {
            None
        } else {
            let n = w.len();
            Some(w.remove(i % n))
        }
    }

    /// Applies `op`; a panic is an error unless a callback is armed (or a propagated panic may
    /// be resumed).
    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let mut may_panic = self.armed.is_some();
        let outcome = match op {
            Op::Run => self.queue.pop().map(|r| {
                catch_unwind(AssertUnwindSafe(|| {
                    r.run();
                }))
            }),
            Op::DropRunnable => self
                .queue
                .pop()
                .map(|r| catch_unwind(AssertUnwindSafe(|| drop(r)))),
            Op::Wake(i) => self
                .take_waker(*i)
                .map(|w| catch_unwind(AssertUnwindSafe(|| w.wake()))),
            Op::WakeByRef(i) => self.take_waker(*i).map(|w| {
                let r = catch_unwind(AssertUnwindSafe(|| w.wake_by_ref()));
                // Put it back: it stays with the others until `DropWaker` or the end.
                self.wakers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(w);
                r
            }),
            Op::DropWaker(i) => self
                .take_waker(*i)
                .map(|w| catch_unwind(AssertUnwindSafe(|| drop(w)))),
            Op::SelfWake => {
                self.self_wake.store(true, SeqCst);
                None
            }
            Op::PollTask => self.task.take().map(|task| {
                let resolves = task.is_finished() && self.queue.len() == 0;
                // A propagated panic (from an earlier armed poll or destructor) is resumed.
                may_panic |= self.propagate;
                let mut slot = Some(task);
                let mut pending = false;
                let r = catch_unwind(AssertUnwindSafe(|| {
                    let task = slot.as_mut().expect("the task");
                    match poll_once(task) {
                        Poll::Pending => pending = true,
                        Poll::Ready(out) => {
                            // Resolved: the output (if any), then the handle, are dropped.
                            drop(out);
                            drop(slot.take());
                        }
                    }
                }));
                assert!(
                    !(pending && resolves),
                    "a finished task with no runnable hangs"
                );
                // Kept if pending, or if the poll resumed a panic (the task stays pollable).
                self.task = slot;
                r
            }),
            Op::DropTask => self
                .task
                .take()
                .map(|t| catch_unwind(AssertUnwindSafe(|| drop(t)))),
            Op::Detach => self
                .task
                .take()
                .map(|t| catch_unwind(AssertUnwindSafe(|| t.detach()))),
            Op::Complete => {
                self.ready.store(true, SeqCst);
                None
            }
            Op::Arm(knob) => {
                self.arm(*knob);
                None
            }
            Op::Disarm => {
                self.disarm();
                None
            }
        };
        if let Some(Err(payload)) = outcome {
            prop_assert!(may_panic, "unexpected panic: {}", message(&*payload));
        }
        Ok(())
    }

    /// What must hold between any two steps.
    fn check(&self) -> Result<(), TestCaseError> {
        let [future, output, schedule, metadata, data] = self.probe.drops();
        let made = self.made.load(SeqCst);
        prop_assert!(future <= 1 && schedule <= 1 && metadata <= 1 && data <= 1);
        prop_assert!(made <= 1 && output <= made);
        let queued = self.queue.len();
        prop_assert!(queued <= 1, "two runnables");
        prop_assert!(queued == 0 || future == 0, "a runnable without its future");
        // Destroyed means all three dropped, the memory freed, and no handle left.
        let destroyed = schedule == 1;
        prop_assert_eq!(metadata, schedule);
        prop_assert_eq!(data, schedule);
        prop_assert_eq!(live_tasks(), self.live + 1 - schedule, "allocation count");
        if destroyed {
            prop_assert!(future == 1 && queued == 0 && self.task.is_none());
            prop_assert!(
                self.wakers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_empty()
            );
        }
        Ok(())
    }

    /// Lets go of everything; every part must then be dropped once and the memory freed.
    fn finish(mut self) -> Result<(), TestCaseError> {
        self.disarm();
        drop(self.task.take());
        // Drop (rather than run) what is queued: a poll would leave new wakers, which the
        // future itself holds (a reference cycle through its own task).
        loop {
            let wakers =
                std::mem::take(&mut *self.wakers.lock().unwrap_or_else(|e| e.into_inner()));
            let none_left = wakers.is_empty();
            drop(wakers); // the last one of a detached task schedules it once
            match self.queue.pop() {
                Some(r) => drop(r),
                None if none_left => break,
                None => {}
            }
        }
        let made = self.made.load(SeqCst);
        prop_assert_eq!(
            self.probe.drops(),
            [1, made, 1, 1, 1],
            "[future, output, schedule, metadata, data]"
        );
        prop_assert_eq!(live_tasks(), self.live, "the task allocation is freed");
        Ok(())
    }
}

proptest! {
    // A few cases under miri, which is slow; no failure files (miri isolates the file system,
    // and a failing case is printed in full anyway).
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_operations_with_panicking_callbacks(
        propagate in any::<bool>(),
        ops in proptest::collection::vec(op(), 0..40),
    ) {
        let _serial = serial();
        // `propagate_panic` needs the `std` feature.
        let propagate = propagate && cfg!(feature = "std");
        let mut world = World::new(propagate);
        world.check()?;
        for op in &ops {
            world.apply(op)?;
            world.check()?;
        }
        world.finish()?;
    }
}
