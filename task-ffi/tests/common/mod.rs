//! Shared helpers of the behaviour tests: counting futures, outputs, schedule functions and
//! user data, and the two spawn modes (plain `spawn` and `spawn_with`) every scenario runs in.
#![allow(dead_code, unused_imports, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use task_ffi::{Occupied, Runnable, Task};

/// Counters shared by one scenario.
#[derive(Clone, Default)]
pub struct Counts(Arc<Inner>);

#[derive(Default)]
pub struct Inner {
    poll: AtomicUsize,
    sched: AtomicUsize,
    drop_f: AtomicUsize,
    drop_t: AtomicUsize,
    drop_s: AtomicUsize,
    drop_d: AtomicUsize,
}

impl Counts {
    pub fn new() -> Self {
        Self::default()
    }

    /// `[polls, schedules, future drops, output drops, schedule drops, data drops]`.
    pub fn get(&self) -> [usize; 6] {
        let i = &self.0;
        [
            i.poll.load(SeqCst),
            i.sched.load(SeqCst),
            i.drop_f.load(SeqCst),
            i.drop_t.load(SeqCst),
            i.drop_s.load(SeqCst),
            i.drop_d.load(SeqCst),
        ]
    }

    pub fn polls(&self) -> usize {
        self.0.poll.load(SeqCst)
    }

    pub fn scheds(&self) -> usize {
        self.0.sched.load(SeqCst)
    }
}

/// Asserts the counters: `check!(c, poll, sched, drop_f, drop_t, drop_s)`; the data (or, in
/// plain mode, its stand-in) must be dropped together with the schedule function.
#[macro_export]
macro_rules! check {
    ($c:expr, $poll:expr, $sched:expr, $f:expr, $t:expr, $s:expr) => {
        assert_eq!(
            $c.get(),
            [$poll, $sched, $f, $t, $s, $s],
            "[poll, sched, drop_f, drop_t, drop_s, drop_d]"
        )
    };
}

/// The output: counts its drops.
pub struct Out(pub Counts, pub u32);

impl Drop for Out {
    fn drop(&mut self) {
        self.0.0.drop_t.fetch_add(1, SeqCst);
    }
}

/// The user data of `spawn_with`: counts its drops.
pub struct Data {
    pub counts: Counts,
    pub value: usize,
}

impl Drop for Data {
    fn drop(&mut self) {
        self.counts.0.drop_d.fetch_add(1, SeqCst);
    }
}

/// A future that counts polls and drops and delegates `poll` to a closure.
pub struct Fut<P> {
    counts: Counts,
    poll: P,
}

impl<P> Fut<P>
where
    P: FnMut(&mut Context<'_>) -> Poll<u32>,
{
    pub fn new(counts: &Counts, poll: P) -> Self {
        Self {
            counts: counts.clone(),
            poll,
        }
    }
}

impl<P> Future for Fut<P>
where
    P: FnMut(&mut Context<'_>) -> Poll<u32> + Unpin,
{
    type Output = Out;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Out> {
        self.counts.0.poll.fetch_add(1, SeqCst);
        let counts = self.counts.clone();
        (self.poll)(cx).map(|v| Out(counts, v))
    }
}

impl<P> Drop for Fut<P> {
    fn drop(&mut self) {
        self.counts.0.drop_f.fetch_add(1, SeqCst);
    }
}

/// Ready at the first poll with 7.
pub fn ready(
    counts: &Counts,
) -> Fut<impl FnMut(&mut Context<'_>) -> Poll<u32> + Unpin + Send + use<>> {
    Fut::new(counts, |_| Poll::Ready(7))
}

/// Always pending; stores the latest waker in `slot`.
pub fn pending(
    counts: &Counts,
    slot: &WakerSlot,
) -> Fut<impl FnMut(&mut Context<'_>) -> Poll<u32> + Unpin + Send + use<>> {
    let slot = slot.clone();
    Fut::new(counts, move |cx| {
        slot.set(cx.waker());
        Poll::Pending
    })
}

/// Pending at the first poll (storing the waker), ready with 7 afterwards.
pub fn pending_then_ready(
    counts: &Counts,
    slot: &WakerSlot,
) -> Fut<impl FnMut(&mut Context<'_>) -> Poll<u32> + Unpin + Send + use<>> {
    let slot = slot.clone();
    let mut first = true;
    Fut::new(counts, move |cx| {
        if std::mem::take(&mut first) {
            slot.set(cx.waker());
            Poll::Pending
        } else {
            Poll::Ready(7)
        }
    })
}

/// A place where futures leave their waker.
#[derive(Clone, Default)]
pub struct WakerSlot(Arc<Mutex<Option<Waker>>>);

impl WakerSlot {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&self, waker: &Waker) {
        *self.0.lock().unwrap() = Some(waker.clone());
    }

    pub fn take(&self) -> Waker {
        self.0.lock().unwrap().take().expect("no waker stored")
    }

    pub fn is_some(&self) -> bool {
        self.0.lock().unwrap().is_some()
    }
}

/// A queue of runnables filled by the schedule functions of [`Mode::spawn`].
pub struct Queue<D>(Arc<Mutex<Vec<Runnable<(), D>>>>);

impl<D> Clone for Queue<D> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<D> Queue<D> {
    pub fn new() -> Self {
        Self(Arc::default())
    }

    pub fn pop(&self) -> Option<Runnable<(), D>> {
        let mut q = self.0.lock().unwrap();
        if q.is_empty() {
            None
        } else {
            Some(q.remove(0))
        }
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn push(&self, r: Runnable<(), D>) {
        self.0.lock().unwrap().push(r);
    }
}

/// Drops of the schedule function's captures (and, in plain mode, the data stand-in).
pub struct SchedGuard {
    counts: Counts,
    plain: bool,
}

impl Drop for SchedGuard {
    fn drop(&mut self) {
        self.counts.0.drop_s.fetch_add(1, SeqCst);
        if self.plain {
            self.counts.0.drop_d.fetch_add(1, SeqCst);
        }
    }
}

/// How a scenario spawns its task.
pub trait Mode {
    /// The user data type.
    type D: Send + 'static;

    /// Spawns `future`; the schedule function counts and pushes to `queue`.
    fn spawn<F>(
        counts: &Counts,
        future: F,
        queue: &Queue<Self::D>,
    ) -> (Runnable<(), Self::D>, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static;

    /// Spawns with a schedule function that counts and then calls `then`.
    fn spawn_with_schedule<F, G>(
        counts: &Counts,
        future: F,
        then: G,
    ) -> (Runnable<(), Self::D>, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
        G: Fn(Runnable<(), Self::D>) + Send + Sync + 'static;
}

/// `task_ffi::spawn`.
pub struct Plain;
/// `task_ffi::spawn_with` with a counting [`Data`].
pub struct With;

fn schedule_fn<D: 'static, G>(
    counts: &Counts,
    plain: bool,
    then: G,
) -> impl Fn(Runnable<(), D>) + Send + Sync + 'static + use<D, G>
where
    G: Fn(Runnable<(), D>) + Send + Sync + 'static,
{
    let guard = SchedGuard {
        counts: counts.clone(),
        plain,
    };
    move |r| {
        let _ = &guard;
        guard.counts.0.sched.fetch_add(1, SeqCst);
        then(r);
    }
}

impl Mode for Plain {
    type D = ();

    fn spawn<F>(counts: &Counts, future: F, queue: &Queue<()>) -> (Runnable, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
    {
        let queue = queue.clone();
        Self::spawn_with_schedule(counts, future, move |r| queue.push(r))
    }

    fn spawn_with_schedule<F, G>(counts: &Counts, future: F, then: G) -> (Runnable, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
        G: Fn(Runnable) + Send + Sync + 'static,
    {
        task_ffi::spawn(future, schedule_fn(counts, true, then))
    }
}

impl Mode for With {
    type D = Data;

    fn spawn<F>(counts: &Counts, future: F, queue: &Queue<Data>) -> (Runnable<(), Data>, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
    {
        let queue = queue.clone();
        Self::spawn_with_schedule(counts, future, move |r| queue.push(r))
    }

    fn spawn_with_schedule<F, G>(
        counts: &Counts,
        future: F,
        then: G,
    ) -> (Runnable<(), Data>, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
        G: Fn(Runnable<(), Data>) + Send + Sync + 'static,
    {
        let data = Data {
            counts: counts.clone(),
            value: 0,
        };
        task_ffi::spawn_with(future, schedule_fn(counts, false, then), data)
    }
}

/// [`TaskSlot::spawn`] into one of [`SLOTS`].
pub struct StaticPlain;
/// [`TaskSlot::spawn_with`] into one of [`SLOTS`], with a counting [`Data`].
pub struct StaticWith;

impl Mode for StaticPlain {
    type D = ();

    fn spawn<F>(counts: &Counts, future: F, queue: &Queue<()>) -> (Runnable, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
    {
        let queue = queue.clone();
        Self::spawn_with_schedule(counts, future, move |r| queue.push(r))
    }

    fn spawn_with_schedule<F, G>(counts: &Counts, future: F, then: G) -> (Runnable, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
        G: Fn(Runnable) + Send + Sync + 'static,
    {
        spawn_static(future, schedule_fn(counts, true, then), ())
    }
}

impl Mode for StaticWith {
    type D = Data;

    fn spawn<F>(counts: &Counts, future: F, queue: &Queue<Data>) -> (Runnable<(), Data>, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
    {
        let queue = queue.clone();
        Self::spawn_with_schedule(counts, future, move |r| queue.push(r))
    }

    fn spawn_with_schedule<F, G>(
        counts: &Counts,
        future: F,
        then: G,
    ) -> (Runnable<(), Data>, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
        G: Fn(Runnable<(), Data>) + Send + Sync + 'static,
    {
        let data = Data {
            counts: counts.clone(),
            value: 0,
        };
        spawn_static(future, schedule_fn(counts, false, then), data)
    }
}

/// The static slots the `Static*` modes spawn into: shared by every test of a binary, so
/// slots are spawned into again and again (reuse), from several test threads at once.
pub static SLOTS: [task_ffi::TaskSlot<SLOT_SIZE>; 128] = [const { task_ffi::TaskSlot::new() }; 128];
/// The size of each of [`SLOTS`].
pub const SLOT_SIZE: usize = 1024;

/// Spawns into the first free slot of [`SLOTS`], trying the next one on [`Occupied`] (which
/// gives every argument back).
pub fn spawn_static<F, S, D>(future: F, schedule: S, data: D) -> (Runnable<(), D>, Task<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: task_ffi::Schedule<(), D> + Send + Sync + 'static,
    D: Send + 'static,
{
    let (mut future, mut schedule, mut data) = (future, schedule, data);
    for slot in &SLOTS {
        match slot.spawn_with(future, schedule, data) {
            Ok(handles) => {
                assert!(!slot.is_free());
                return handles;
            }
            Err(Occupied {
                future: f,
                schedule: s,
                data: d,
                ..
            }) => (future, schedule, data) = (f, s, d),
        }
    }
    panic!("every test slot is taken");
}

/// Instantiates generic scenarios `fn name<K: Mode>()` for every mode: heap and static, plain
/// and with user data.
#[macro_export]
macro_rules! both_modes {
    ($($name:ident),* $(,)?) => {
        mod plain {
            $(#[test] fn $name() { super::$name::<$crate::common::Plain>() })*
        }
        mod with_data {
            $(#[test] fn $name() { super::$name::<$crate::common::With>() })*
        }
        mod static_plain {
            $(#[test] fn $name() { super::$name::<$crate::common::StaticPlain>() })*
        }
        mod static_with_data {
            $(#[test] fn $name() { super::$name::<$crate::common::StaticWith>() })*
        }
    };
}

pub use sync_core::testing::poll_once;

/// Runs every queued runnable until the queue is empty; returns how many ran.
pub fn drain<D>(queue: &Queue<D>) -> usize {
    let mut n = 0;
    while let Some(r) = queue.pop() {
        r.run();
        n += 1;
    }
    n
}

/// The test side of a gate that a future passes through inside `poll`.
pub struct Gate {
    entered: std::sync::mpsc::Receiver<()>,
    go: std::sync::mpsc::Sender<()>,
}

/// The future side of a [`Gate`].
pub struct GateIn {
    entered: std::sync::mpsc::Sender<()>,
    go: std::sync::mpsc::Receiver<()>,
}

/// A gate: the future calls [`GateIn::pass`] inside `poll`, which blocks until the test has
/// seen it enter ([`Gate::wait_entered`]) and let it go ([`Gate::open`]).
pub fn gate() -> (Gate, GateIn) {
    let (es, er) = std::sync::mpsc::channel();
    let (gs, gr) = std::sync::mpsc::channel();
    (
        Gate {
            entered: er,
            go: gs,
        },
        GateIn {
            entered: es,
            go: gr,
        },
    )
}

impl Gate {
    pub fn wait_entered(&self) {
        self.entered.recv().unwrap();
    }

    pub fn open(&self) {
        self.go.send(()).unwrap();
    }
}

impl GateIn {
    pub fn pass(&self) {
        self.entered.send(()).unwrap();
        self.go.recv().unwrap();
    }
}

/// Blocks in the gate during its first poll, then returns `then(cx)`.
pub fn gated<R>(
    counts: &Counts,
    gate: GateIn,
    mut then: R,
) -> Fut<impl FnMut(&mut Context<'_>) -> Poll<u32> + Unpin + Send + use<R>>
where
    R: FnMut(&mut Context<'_>) -> Poll<u32> + Unpin + Send,
{
    Fut::new(counts, move |cx| {
        gate.pass();
        then(cx)
    })
}

/// A slot for a `Task` that the future itself may take (to cancel it during its own poll).
#[derive(Clone, Default)]
pub struct TaskSlot(Arc<Mutex<Option<Task<Out>>>>);

impl TaskSlot {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&self, task: Task<Out>) {
        *self.0.lock().unwrap() = Some(task);
    }

    pub fn take(&self) -> Task<Out> {
        self.0.lock().unwrap().take().expect("no task stored")
    }
}

/// Runs `f`, expecting it to panic.
pub fn expect_panic<R>(f: impl FnOnce() -> R) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    assert!(r.is_err(), "expected a panic");
}
