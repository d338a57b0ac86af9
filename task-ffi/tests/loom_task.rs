//! loom models of the task state machine: run against wake, cancel, detach, the last waker and
//! the awaiter. A lost wake-up shows up as an unfinished task (or a deadlock in `block_on`), a
//! double drop or a leak as a wrong count.
//!
//! Every model runs twice: with the task on the heap (`heap::`) and in a static slot
//! (`in_slot::`); `reuse_vs_last_drop` and `reuse_vs_last_waker` race a spawn into a slot with
//! the drops that free it, and `spawn_detached_vs_wake` runs a task spawned without a `Task`.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Waker};

use sync_core::sync::atomic::{AtomicBool, AtomicUsize as StdUsize, Ordering};
use sync_core::sync::loom_only::{Arc, block_on, model, thread};
use task_ffi::{Runnable, Task, TaskSlot};

/// Drop counts of one model run (loom atomics: a drop is a point where loom may switch
/// threads): future, schedule function, data, output; and the slot the
/// static mode spawns into.
struct Drops {
    future: StdUsize,
    schedule: StdUsize,
    data: StdUsize,
    output: StdUsize,
    slot: TaskSlot<1024>,
}

/// Where a model's task lives.
trait Place {
    fn spawn<F, S>(
        drops: &'static Drops,
        future: F,
        schedule: S,
        data: Counted<'static>,
    ) -> (Runnable<(), Counted<'static>>, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
        S: Fn(Runnable<(), Counted<'static>>) + Send + Sync + 'static;

    /// Asserts that the memory of the task was given back.
    fn assert_given_back(drops: &'static Drops);
}

/// `task_ffi::spawn_with`.
struct Heap;
/// `TaskSlot::spawn_with` into the run's slot.
struct InSlot;

impl Place for Heap {
    fn spawn<F, S>(
        _: &'static Drops,
        future: F,
        schedule: S,
        data: Counted<'static>,
    ) -> (Runnable<(), Counted<'static>>, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
        S: Fn(Runnable<(), Counted<'static>>) + Send + Sync + 'static,
    {
        task_ffi::spawn_with(future, schedule, data)
    }

    fn assert_given_back(_: &'static Drops) {}
}

impl Place for InSlot {
    fn spawn<F, S>(
        drops: &'static Drops,
        future: F,
        schedule: S,
        data: Counted<'static>,
    ) -> (Runnable<(), Counted<'static>>, Task<Out>)
    where
        F: Future<Output = Out> + Send + 'static,
        S: Fn(Runnable<(), Counted<'static>>) + Send + Sync + 'static,
    {
        match drops.slot.spawn_with(future, schedule, data) {
            Ok(handles) => handles,
            Err(_) => panic!("the run's slot is taken"),
        }
    }

    fn assert_given_back(drops: &'static Drops) {
        assert!(drops.slot.is_free(), "slot not given back");
    }
}

struct Counted<'a>(&'a StdUsize);
impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A future driven by a closure; counts its drop.
struct Fut<P: FnMut(&mut Context<'_>) -> Poll<Out>> {
    poll: P,
    _drop: Counted<'static>,
}

impl<P: FnMut(&mut Context<'_>) -> Poll<Out> + Unpin> Future for Fut<P> {
    type Output = Out;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Out> {
        (self.poll)(cx)
    }
}

/// The output: counts its drop.
struct Out(#[allow(dead_code)] Counted<'static>);

type Queue = std::sync::Arc<Mutex<Vec<Runnable<(), Counted<'static>>>>>;

/// Spawns with a queueing schedule function and counted data.
fn spawn<K: Place, P>(
    drops: &'static Drops,
    poll: P,
    queue: &Queue,
) -> (Runnable<(), Counted<'static>>, Task<Out>)
where
    P: FnMut(&mut Context<'_>) -> Poll<Out> + Unpin + Send + 'static,
{
    let (future, schedule) = parts(drops, poll, queue);
    K::spawn(drops, future, schedule, Counted(&drops.data))
}

/// The future (polled by `poll`) and the schedule function (pushing onto `queue`) of a model's
/// task, each counting its drop in `drops`.
fn parts<P>(
    drops: &'static Drops,
    poll: P,
    queue: &Queue,
) -> (
    Fut<P>,
    impl Fn(Runnable<(), Counted<'static>>) + Send + Sync + 'static,
)
where
    P: FnMut(&mut Context<'_>) -> Poll<Out> + Unpin + Send + 'static,
{
    let q = queue.clone();
    let guard = Counted(&drops.schedule);
    let schedule = move |r| {
        let _ = &guard;
        q.lock().unwrap().push(r);
    };
    let future = Fut {
        poll,
        _drop: Counted(&drops.future),
    };
    (future, schedule)
}

/// A poll that completes (with an output counted in `drops`) once `flag` is set.
fn ready_once_set(
    drops: &'static Drops,
    flag: &Arc<AtomicBool>,
) -> impl FnMut(&mut Context<'_>) -> Poll<Out> + Unpin + Send + 'static {
    let flag = flag.clone();
    move |_| {
        if flag.load(Ordering::Acquire) {
            Poll::Ready(Out(Counted(&drops.output)))
        } else {
            Poll::Pending
        }
    }
}

/// Sets `flag`, then wakes the task of `runnable`, on another thread.
fn set_and_wake(
    runnable: &Runnable<(), Counted<'static>>,
    flag: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    let waker = runnable.waker();
    thread::spawn(move || {
        flag.store(true, Ordering::Release);
        waker.wake();
    })
}

fn drain(queue: &Queue) {
    loop {
        let next = queue.lock().unwrap().pop();
        match next {
            Some(r) => {
                r.run();
            }
            None => return,
        }
    }
}

fn leak_drops() -> &'static Drops {
    Box::leak(Box::new(Drops {
        future: StdUsize::new(0),
        schedule: StdUsize::new(0),
        data: StdUsize::new(0),
        output: StdUsize::new(0),
        slot: TaskSlot::new(),
    }))
}

fn assert_freed(d: &Drops, output: usize) {
    assert_eq!(d.future.load(SeqCst), 1, "future");
    assert_eq!(d.schedule.load(SeqCst), 1, "schedule");
    assert_eq!(d.data.load(SeqCst), 1, "data");
    assert_eq!(d.output.load(SeqCst), output, "output");
}

/// A wake from another thread races the poll that returned `Pending`: never lost.
fn wake_vs_run<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let flag = Arc::new(AtomicBool::new(false));
        let (runnable, task) = spawn::<K, _>(d, ready_once_set(d, &flag), &queue);
        let t = set_and_wake(&runnable, flag);
        runnable.run();
        t.join().unwrap();
        drain(&queue);
        assert!(task.is_finished(), "lost wake-up");
        drop(task);
        assert_freed(d, 1);
        K::assert_given_back(d);
    });
}

/// The task is cancelled while a self-waking future runs.
fn cancel_vs_run<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn::<K, _>(
            d,
            |cx| {
                cx.waker().wake_by_ref();
                Poll::Pending
            },
            &queue,
        );
        let t = thread::spawn(move || drop(task));
        runnable.run();
        t.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
        K::assert_given_back(d);
    });
}

/// Where [`spawn_keeping_waker`] keeps the waker of the task's first poll.
type KeptWaker = std::sync::Arc<Mutex<Option<Waker>>>;

/// Spawns a task that never completes and, when polled, keeps a clone of its waker in the
/// returned cell (for models that drop the last waker on another thread).
fn spawn_keeping_waker<K: Place>(
    drops: &'static Drops,
    queue: &Queue,
) -> (Runnable<(), Counted<'static>>, Task<Out>, KeptWaker) {
    let kept = KeptWaker::default();
    let k2 = kept.clone();
    let (runnable, task) = spawn::<K, _>(
        drops,
        move |cx| {
            *k2.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        },
        queue,
    );
    (runnable, task, kept)
}

/// The handle is detached while the last waker is dropped on another thread.
fn detach_vs_last_waker<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task, kept) = spawn_keeping_waker::<K>(d, &queue);
        runnable.run();
        let waker = kept.lock().unwrap().take().unwrap();
        let t = thread::spawn(move || drop(waker));
        task.detach();
        t.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
        K::assert_given_back(d);
    });
}

/// The awaiter registers while the runner completes: the output arrives (no lost notify).
fn join_vs_complete<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) =
            spawn::<K, _>(d, move |_| Poll::Ready(Out(Counted(&d.output))), &queue);
        let t = thread::spawn(move || {
            runnable.run();
        });
        let out = block_on(task);
        drop(out);
        t.join().unwrap();
        assert_freed(d, 1);
        K::assert_given_back(d);
    });
}

/// `cancel().await` races a run that completes: the output is returned or dropped, once.
fn cancel_await_vs_complete<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let made = std::sync::Arc::new(StdUsize::new(0));
        let m2 = made.clone();
        let (runnable, task) = spawn::<K, _>(
            d,
            move |_| {
                m2.fetch_add(1, SeqCst);
                Poll::Ready(Out(Counted(&d.output)))
            },
            &queue,
        );
        let t = thread::spawn(move || {
            runnable.run();
        });
        let out = block_on(task.cancel());
        t.join().unwrap();
        drain(&queue);
        // Cancelled before the run: never polled, no output; otherwise exactly one output,
        // returned by `cancel` or dropped by the runner.
        let made = made.load(SeqCst);
        assert!(made <= 1);
        assert!(out.is_none() || made == 1);
        drop(out);
        assert_freed(d, made);
    });
}

/// Two wakers race a run (3 threads): scheduled at most once at a time, never lost.
fn two_wakes_vs_run<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let wakes = Arc::new(sync_core::sync::atomic::AtomicUsize::new(0));
        let w2 = wakes.clone();
        let (runnable, task) = spawn::<K, _>(
            d,
            move |_| {
                if w2.load(Ordering::Acquire) == 2 {
                    Poll::Ready(Out(Counted(&d.output)))
                } else {
                    Poll::Pending
                }
            },
            &queue,
        );
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let waker = runnable.waker();
                let wakes = wakes.clone();
                thread::spawn(move || {
                    wakes.fetch_add(1, Ordering::Release);
                    waker.wake();
                })
            })
            .collect();
        runnable.run();
        for t in threads {
            t.join().unwrap();
        }
        assert!(queue.lock().unwrap().len() <= 1);
        drain(&queue);
        assert!(task.is_finished(), "lost wake-up");
        drop(task);
        assert_freed(d, 1);
        K::assert_given_back(d);
    });
}

/// Cancel, wake and run on three threads: the future and every part are dropped once.
fn cancel_vs_wake_vs_run<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn::<K, _>(d, |_| Poll::Pending, &queue);
        let waker = runnable.waker();
        let canceller = thread::spawn(move || drop(task));
        let waker_thread = thread::spawn(move || waker.wake());
        runnable.run();
        canceller.join().unwrap();
        waker_thread.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
        K::assert_given_back(d);
    });
}

/// A detached task's poll keeps no waker while its last waker is dropped on another thread:
/// whichever lets go last (the end of the poll, or the waker's drop, which schedules the task
/// once more) closes it, and the future is dropped exactly once; the memory is given back.
fn detached_pending_vs_last_waker<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn::<K, _>(d, |_| Poll::Pending, &queue);
        task.detach();
        let waker = runnable.waker();
        let dropper = thread::spawn(move || drop(waker));
        runnable.run();
        dropper.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
        K::assert_given_back(d);
    });
}

/// The executor drops the runnable (shutdown) while a waker fires and the handle awaits.
fn drop_runnable_vs_wake_vs_await<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn::<K, _>(d, |_| Poll::Pending, &queue);
        let waker = runnable.waker();
        // Two threads keep the model small: the wake and the await share the main thread.
        let dropper = thread::spawn(move || drop(runnable));
        waker.wake();
        assert!(block_on(task.fallible()).is_none());
        dropper.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
        K::assert_given_back(d);
    });
}

/// A future whose destructor panics; counts its drop.
struct PanickyFut<P: FnMut(&mut Context<'_>) -> Poll<Out>> {
    poll: P,
    _drop: Counted<'static>,
}

impl<P: FnMut(&mut Context<'_>) -> Poll<Out> + Unpin> Future for PanickyFut<P> {
    type Output = Out;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Out> {
        (self.poll)(cx)
    }
}

impl<P: FnMut(&mut Context<'_>) -> Poll<Out>> Drop for PanickyFut<P> {
    fn drop(&mut self) {
        panic!("future destructor");
    }
}

/// Spawns a [`PanickyFut`] like [`spawn`].
fn spawn_panicky<K: Place, P>(
    drops: &'static Drops,
    poll: P,
    queue: &Queue,
) -> (Runnable<(), Counted<'static>>, Task<Out>)
where
    P: FnMut(&mut Context<'_>) -> Poll<Out> + Unpin + Send + 'static,
{
    let q = queue.clone();
    let guard = Counted(&drops.schedule);
    let schedule = move |r| {
        let _ = &guard;
        q.lock().unwrap().push(r);
    };
    let future = PanickyFut {
        poll,
        _drop: Counted(&drops.future),
    };
    K::spawn(drops, future, schedule, Counted(&drops.data))
}

fn expect_panic(f: impl FnOnce()) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    assert!(r.is_err(), "expected a panic");
}

/// The completed future's destructor panics on the runner while the handle awaits: the task
/// still closes, the awaiter is woken (no hang), and every part is dropped once.
fn destructor_panic_on_complete_vs_await<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) =
            spawn_panicky::<K, _>(d, move |_| Poll::Ready(Out(Counted(&d.output))), &queue);
        let t = thread::spawn(move || {
            expect_panic(move || {
                runnable.run();
            });
        });
        assert!(block_on(task.fallible()).is_none());
        t.join().unwrap();
        assert_freed(d, 1);
        K::assert_given_back(d);
    });
}

/// The executor drops the runnable (its future's destructor panics) while the handle is
/// dropped on another thread: the task is freed once, by whichever goes last.
fn destructor_panic_on_drop_vs_cancel<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn_panicky::<K, _>(d, |_| Poll::Pending, &queue);
        let t = thread::spawn(move || drop(task));
        expect_panic(move || drop(runnable));
        t.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
        K::assert_given_back(d);
    });
}

/// A spawn into a slot races the drop of the runnable that holds its last reference: the spawn
/// either finds the slot taken (and gets its arguments back) or finds every part of the old
/// task dropped.
fn reuse_vs_last_drop<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn::<InSlot, _>(d, |_| Poll::Pending, &queue);
        task.detach();
        let t = thread::spawn(move || drop(runnable));
        spawn_again_into_the_slot(d);
        t.join().unwrap();
        assert_freed(d, 0);
        K::assert_given_back(d);
    });
}

/// `TaskSlot::spawn_detached_with` (no `Task` from the start) while a wake from another thread
/// races the poll: the task completes, its output is dropped by the runner, and the slot is
/// given back once, then spawned into again.
fn spawn_detached_vs_wake<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let flag = Arc::new(AtomicBool::new(false));
        let (future, schedule) = parts(d, ready_once_set(d, &flag), &queue);
        let Ok(runnable) = d
            .slot
            .spawn_detached_with(future, schedule, Counted(&d.data))
        else {
            panic!("a new slot is free");
        };
        let t = set_and_wake(&runnable, flag);
        runnable.run();
        t.join().unwrap();
        drain(&queue);
        assert_freed(d, 1);
        K::assert_given_back(d);
        let (runnable, task) = d
            .slot
            .spawn(std::future::pending::<()>(), |_: Runnable| {})
            .expect("a slot given back takes a new task");
        drop((runnable, task));
    });
}

/// Spawns a second task into `drops`' slot while its first task may still be going away: the
/// spawn finds the slot taken (and gets its arguments back), or, if it succeeds, every part of
/// the old task was dropped first (only a destroyed task frees its slot).
fn spawn_again_into_the_slot(drops: &'static Drops) {
    match drops
        .slot
        .spawn(std::future::pending::<()>(), |_: Runnable| {})
    {
        Ok((runnable, task)) => {
            assert_freed(drops, 0);
            drop(task);
            drop(runnable);
        }
        Err(back) => drop(back.future),
    }
}

/// A spawn into a slot races the drop of the last waker of a detached, idle task: that drop
/// takes the count to zero (so the state word holds no reference and no handle) and then closes
/// the task and schedules it once, so that its future is dropped. The slot must stay taken
/// through it all: the spawn finds it taken, or (never, here, since the runnable waits in the
/// queue) every part of the old task dropped.
fn reuse_vs_last_waker<K: Place>() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task, kept) = spawn_keeping_waker::<InSlot>(d, &queue);
        task.detach();
        runnable.run();
        let waker = kept.lock().unwrap().take().unwrap();
        let t = thread::spawn(move || drop(waker));
        spawn_again_into_the_slot(d);
        t.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
        K::assert_given_back(d);
    });
}

/// Every model, with the task on the heap and in a slot.
macro_rules! every_place {
    ($($name:ident),* $(,)?) => {
        mod heap {
            $(#[test] fn $name() { super::$name::<super::Heap>() })*
        }
        mod in_slot {
            $(#[test] fn $name() { super::$name::<super::InSlot>() })*
            #[test]
            fn reuse_vs_last_drop() {
                super::reuse_vs_last_drop::<super::InSlot>()
            }
            #[test]
            fn reuse_vs_last_waker() {
                super::reuse_vs_last_waker::<super::InSlot>()
            }
            #[test]
            fn spawn_detached_vs_wake() {
                super::spawn_detached_vs_wake::<super::InSlot>()
            }
        }
    };
}

every_place!(
    detached_pending_vs_last_waker,
    wake_vs_run,
    cancel_vs_run,
    detach_vs_last_waker,
    join_vs_complete,
    cancel_await_vs_complete,
    two_wakes_vs_run,
    cancel_vs_wake_vs_run,
    drop_runnable_vs_wake_vs_await,
    destructor_panic_on_complete_vs_await,
    destructor_panic_on_drop_vs_cancel,
);
