//! loom models of the task state machine: run against wake, cancel, detach, the last waker and
//! the awaiter. A lost wake-up shows up as an unfinished task (or a deadlock in `block_on`), a
//! double drop or a leak as a wrong count.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize as StdUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

use sync_core::sync::atomic::{AtomicBool, Ordering};
use sync_core::sync::loom_only::{Arc, block_on, model, thread};
use task_ffi::{Runnable, Task};

/// Drop counts of one model run: future, schedule function, data, output.
#[derive(Default)]
struct Drops {
    future: StdUsize,
    schedule: StdUsize,
    data: StdUsize,
    output: StdUsize,
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
fn spawn<P>(
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
    let future = Fut {
        poll,
        _drop: Counted(&drops.future),
    };
    task_ffi::spawn_with(future, schedule, Counted(&drops.data))
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
    Box::leak(Box::default())
}

fn assert_freed(d: &Drops, output: usize) {
    assert_eq!(d.future.load(SeqCst), 1, "future");
    assert_eq!(d.schedule.load(SeqCst), 1, "schedule");
    assert_eq!(d.data.load(SeqCst), 1, "data");
    assert_eq!(d.output.load(SeqCst), output, "output");
}

/// A wake from another thread races the poll that returned `Pending`: never lost.
#[test]
fn wake_vs_run() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let flag = Arc::new(AtomicBool::new(false));
        let f2 = flag.clone();
        let (runnable, task) = spawn(
            d,
            move |_| {
                if f2.load(Ordering::Acquire) {
                    Poll::Ready(Out(Counted(&d.output)))
                } else {
                    Poll::Pending
                }
            },
            &queue,
        );
        let waker = runnable.waker();
        let t = thread::spawn(move || {
            flag.store(true, Ordering::Release);
            waker.wake();
        });
        runnable.run();
        t.join().unwrap();
        drain(&queue);
        assert!(task.is_finished(), "lost wake-up");
        drop(task);
        assert_freed(d, 1);
    });
}

/// The task is cancelled while a self-waking future runs.
#[test]
fn cancel_vs_run() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn(
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
    });
}

/// The handle is detached while the last waker is dropped on another thread.
#[test]
fn detach_vs_last_waker() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let slot: std::sync::Arc<Mutex<Option<Waker>>> = Default::default();
        let s2 = slot.clone();
        let (runnable, task) = spawn(
            d,
            move |cx| {
                *s2.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            },
            &queue,
        );
        runnable.run();
        let waker = slot.lock().unwrap().take().unwrap();
        let t = thread::spawn(move || drop(waker));
        task.detach();
        t.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
    });
}

/// The awaiter registers while the runner completes: the output arrives (no lost notify).
#[test]
fn join_vs_complete() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn(d, move |_| Poll::Ready(Out(Counted(&d.output))), &queue);
        let t = thread::spawn(move || {
            runnable.run();
        });
        let out = block_on(task);
        drop(out);
        t.join().unwrap();
        assert_freed(d, 1);
    });
}

/// `cancel().await` races a run that completes: the output is returned or dropped, once.
#[test]
fn cancel_await_vs_complete() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let made = std::sync::Arc::new(StdUsize::new(0));
        let m2 = made.clone();
        let (runnable, task) = spawn(
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
#[test]
fn two_wakes_vs_run() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let wakes = Arc::new(sync_core::sync::atomic::AtomicUsize::new(0));
        let w2 = wakes.clone();
        let (runnable, task) = spawn(
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
    });
}

/// Cancel, wake and run on three threads: the future and every part are dropped once.
#[test]
fn cancel_vs_wake_vs_run() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn(d, |_| Poll::Pending, &queue);
        let waker = runnable.waker();
        let canceller = thread::spawn(move || drop(task));
        let waker_thread = thread::spawn(move || waker.wake());
        runnable.run();
        canceller.join().unwrap();
        waker_thread.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
    });
}

/// The executor drops the runnable (shutdown) while a waker fires and the handle awaits.
#[test]
fn drop_runnable_vs_wake_vs_await() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn(d, |_| Poll::Pending, &queue);
        let waker = runnable.waker();
        // Two threads keep the model small: the wake and the await share the main thread.
        let dropper = thread::spawn(move || drop(runnable));
        waker.wake();
        assert!(block_on(task.fallible()).is_none());
        dropper.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
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
fn spawn_panicky<P>(
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
    task_ffi::spawn_with(future, schedule, Counted(&drops.data))
}

fn expect_panic(f: impl FnOnce()) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    assert!(r.is_err(), "expected a panic");
}

/// The completed future's destructor panics on the runner while the handle awaits: the task
/// still closes, the awaiter is woken (no hang), and every part is dropped once.
#[test]
fn destructor_panic_on_complete_vs_await() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) =
            spawn_panicky(d, move |_| Poll::Ready(Out(Counted(&d.output))), &queue);
        let t = thread::spawn(move || {
            expect_panic(move || {
                runnable.run();
            });
        });
        assert!(block_on(task.fallible()).is_none());
        t.join().unwrap();
        assert_freed(d, 1);
    });
}

/// The executor drops the runnable (its future's destructor panics) while the handle is
/// dropped on another thread: the task is freed once, by whichever goes last.
#[test]
fn destructor_panic_on_drop_vs_cancel() {
    model(|| {
        let d = leak_drops();
        let queue = Queue::default();
        let (runnable, task) = spawn_panicky(d, |_| Poll::Pending, &queue);
        let t = thread::spawn(move || drop(task));
        expect_panic(move || drop(runnable));
        t.join().unwrap();
        drain(&queue);
        assert_freed(d, 0);
    });
}
