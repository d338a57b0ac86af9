//! The parts of a test task whose destructors are counted and may be armed to panic, and a
//! global allocator that counts live task allocations, shared by the panic tests (`unwind.rs`)
//! and the property test (`model.rs`).
//!
//! The allocation is counted by a global allocator that tracks live blocks aligned to
//! [`TAG_ALIGN`]: the user data of every task spawned with [`spawn`] is [`Tagged`], which gives
//! the task that alignment, and nothing else in these test binaries asks for it.
#![allow(dead_code, unused_imports, unreachable_pub)]

use std::alloc::System;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use sync_core::testing::CountingAlloc;
use task_ffi::{Builder, Runnable, Task};

/// The alignment that marks task allocations (see the module docs).
pub const TAG_ALIGN: usize = 1024;

#[global_allocator]
static GLOBAL: CountingAlloc<System> = CountingAlloc::with_tag_align(System, TAG_ALIGN);

/// Live task allocations (blocks aligned to [`TAG_ALIGN`]).
pub fn live_tasks() -> usize {
    GLOBAL.live_tagged()
}

/// One test at a time (the allocation count and the armed wakers are global).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The parts of a task whose destructors are counted and may be armed to panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Future,
    Output,
    Schedule,
    Metadata,
    Data,
}

pub const PARTS: [Part; 5] = [
    Part::Future,
    Part::Output,
    Part::Schedule,
    Part::Metadata,
    Part::Data,
];

/// Counters of one scenario, and which callbacks panic.
#[derive(Default)]
pub struct Probe {
    pub drops: [AtomicUsize; 5],
    pub armed: [AtomicBool; 5],
    pub polls: AtomicUsize,
    pub scheds: AtomicUsize,
    pub schedule_panics: AtomicBool,
}

impl Probe {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Makes the destructor of `part` panic from now on.
    pub fn arm(&self, part: Part) {
        self.armed[part as usize].store(true, SeqCst);
    }

    /// Makes no destructor panic any more.
    pub fn disarm_all(&self) {
        for armed in &self.armed {
            armed.store(false, SeqCst);
        }
    }

    /// Drops of `[future, output, schedule, metadata, data]`.
    pub fn drops(&self) -> [usize; 5] {
        PARTS.map(|p| self.drops[p as usize].load(SeqCst))
    }

    pub fn polls(&self) -> usize {
        self.polls.load(SeqCst)
    }

    pub fn scheds(&self) -> usize {
        self.scheds.load(SeqCst)
    }
}

/// A part of a task: counts its drop, panics in it when armed.
pub struct Piece {
    pub probe: Arc<Probe>,
    pub part: Part,
}

impl Piece {
    pub fn new(probe: &Arc<Probe>, part: Part) -> Self {
        Self {
            probe: probe.clone(),
            part,
        }
    }
}

impl Drop for Piece {
    fn drop(&mut self) {
        self.probe.drops[self.part as usize].fetch_add(1, SeqCst);
        if self.probe.armed[self.part as usize].load(SeqCst) {
            panic!("{:?} destructor", self.part);
        }
    }
}

/// The user data: gives the task allocation the [`TAG_ALIGN`] alignment.
#[repr(align(1024))]
pub struct Tagged(pub Piece);

/// The output.
pub struct Out(pub Piece, pub u32);

/// A future driven by a closure.
pub struct Fut<P> {
    pub piece: Piece,
    pub poll: P,
}

impl<P: FnMut(&mut Context<'_>) -> Poll<u32> + Unpin> Future for Fut<P> {
    type Output = Out;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Out> {
        self.piece.probe.polls.fetch_add(1, SeqCst);
        let probe = self.piece.probe.clone();
        (self.poll)(cx).map(|v| Out(Piece::new(&probe, Part::Output), v))
    }
}

pub type R = Runnable<Piece, Tagged>;
pub type T = Task<Out, Piece>;

/// The executor's queue (drained by every test: a queued runnable would keep its task alive).
#[derive(Clone, Default)]
pub struct Queue(pub Arc<Mutex<VecDeque<R>>>);

impl Queue {
    pub fn pop(&self) -> Option<R> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).pop_front()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Spawns with metadata, data and a schedule function made of [`Piece`]s; the schedule
/// function counts, panics when `schedule_panics` is set, and queues otherwise.
pub fn spawn<P>(probe: &Arc<Probe>, poll: P, queue: &Queue, propagate: bool) -> (R, T)
where
    P: FnMut(&mut Context<'_>) -> Poll<u32> + Unpin + Send + 'static,
{
    let piece = Piece::new(probe, Part::Schedule);
    let q = queue.clone();
    let schedule = move |r: R| {
        let probe = &piece.probe;
        probe.scheds.fetch_add(1, SeqCst);
        if probe.schedule_panics.load(SeqCst) {
            panic!("schedule");
        }
        q.0.lock().unwrap_or_else(|e| e.into_inner()).push_back(r);
    };
    let future = Fut {
        piece: Piece::new(probe, Part::Future),
        poll,
    };
    let builder = Builder::new().metadata(Piece::new(probe, Part::Metadata));
    #[cfg(feature = "std")]
    let builder = builder.propagate_panic(propagate);
    #[cfg(not(feature = "std"))]
    assert!(!propagate, "propagate_panic needs the std feature");
    builder.spawn_with(
        move |_| future,
        schedule,
        Tagged(Piece::new(probe, Part::Data)),
    )
}

/// Ready with 7 at the first poll.
pub fn ready() -> impl FnMut(&mut Context<'_>) -> Poll<u32> + Unpin + Send + 'static {
    |_| Poll::Ready(7)
}

/// Pending forever, leaving a waker in `slot`.
pub fn pending(
    slot: &Arc<Mutex<Option<Waker>>>,
) -> impl FnMut(&mut Context<'_>) -> Poll<u32> + Unpin + Send + 'static {
    let slot = slot.clone();
    move |cx| {
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Pending at the first poll (leaving a waker in `slot`), ready with 7 afterwards.
pub fn pending_then_ready(
    slot: &Arc<Mutex<Option<Waker>>>,
) -> impl FnMut(&mut Context<'_>) -> Poll<u32> + Unpin + Send + 'static {
    let slot = slot.clone();
    let mut first = true;
    move |cx| {
        if std::mem::take(&mut first) {
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
            Poll::Pending
        } else {
            Poll::Ready(7)
        }
    }
}

pub fn take_waker(slot: &Arc<Mutex<Option<Waker>>>) -> Waker {
    let waker = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    waker.expect("no waker stored")
}

pub use sync_core::testing::{poll_once, poll_with};

/// Runs `f`, expecting a panic; returns its message.
pub fn expect_panic<R>(f: impl FnOnce() -> R) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => message(&*payload),
    }
}

pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string payload>".to_string()
    }
}

/// The task resolves without waiting: `Some(output)` or `None` (closed).
pub fn resolve<O, M>(task: Task<O, M>) -> Option<O> {
    let mut task = task.fallible();
    match poll_once(&mut task) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the task hangs: still pending after the panic"),
    }
}

/// Every part dropped once and the task allocation freed.
pub fn assert_freed(probe: &Probe, live: usize, outputs: usize) {
    assert_eq!(
        probe.drops(),
        [1, outputs, 1, 1, 1],
        "drops of [future, output, schedule, metadata, data]"
    );
    assert_eq!(live_tasks(), live, "the task allocation is freed");
}
