//! `spawn_unchecked` used as its safety contract allows (see `Builder::spawn_unchecked`): parts
//! that are not `Send`/`Sync`/`'static`, with every handle kept where the contract says. These
//! run under miri, whose data-race detector checks that no part is touched from two threads.
//!
//! What the thread rule for the schedule function, the metadata and the data prevents: a
//! schedule function that captures an `Rc`, a `Send` future, the wakers kept on the spawning
//! thread, but the `Task` (which is `Send` by type: its output is `Send`, `M = ()`) dropped on
//! another thread while the spawning thread clones the same `Rc`. Dropping the `Task` of an idle
//! task schedules it once more so its future is dropped, which calls the schedule function on
//! that other thread, which touches the `Rc`'s counter: miri reports a data race between the
//! two non-atomic accesses of the counter. A `Runnable::schedule` on another thread does the
//! same, and so does a last handle dropped there (it drops the schedule function, the
//! metadata and the data). Hence the rule: if `S` or `M` is not `Send + Sync`, or `D` is not
//! `Send`, every handle (each `Runnable`, the `Task`, each `Waker`) stays on the spawning
//! thread. That program is undefined behaviour, so it is not part of this suite:
//!
//! ```text
//! let counter = Rc::new(Cell::new(0usize));
//! let c = counter.clone();
//! // SAFETY: none — this is the misuse the contract forbids (the `Task` moves threads below).
//! let (runnable, task) = unsafe {
//!     task_ffi::spawn_unchecked(std::future::pending::<()>(), move |r: Runnable| {
//!         let _clone = c.clone(); // touches the Rc's counter
//!         drop(r);
//!     })
//! };
//! assert!(!runnable.run()); // idle now; no waker was ever made
//! std::thread::scope(|s| {
//!     s.spawn(move || drop(task)); // calls the schedule function on that thread
//!     for _ in 0..100 {
//!         let _x = counter.clone(); // miri: data race with the clone above
//!     }
//! });
//! ```

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_lite::future::{self, block_on};
use task_ffi::{Builder, Runnable};

/// Nothing is `Send`: the future, the output, the schedule function, the metadata and the
/// data all hold `Rc`s. Every handle stays on this thread, so every part is touched here only.
#[test]
fn nothing_send_one_thread() {
    type R = Runnable<Rc<Cell<u32>>, Rc<Cell<u32>>>;
    let queue: Rc<RefCell<VecDeque<R>>> = Rc::default();
    let schedules = Rc::new(Cell::new(0));
    let q = queue.clone();
    let s = schedules.clone();
    let schedule = move |r: R| {
        s.set(s.get() + 1);
        q.borrow_mut().push_back(r);
    };
    let metadata = Rc::new(Cell::new(1));
    let data = Rc::new(Cell::new(2));
    let shared = Rc::new(Cell::new(10));
    let waker_slot: Rc<RefCell<Option<Waker>>> = Rc::default();
    let (f_shared, f_slot) = (shared.clone(), waker_slot.clone());
    // SAFETY: every handle of this task (the runnables, the task, the wakers) is used and
    // dropped on this thread, and everything borrowed is `'static`.
    let (runnable, task) = unsafe {
        Builder::new()
            .metadata(metadata.clone())
            .spawn_unchecked_with(
                move |m: &Rc<Cell<u32>>| {
                    let m = m.clone();
                    let mut first = true;
                    future::poll_fn(move |cx| {
                        if std::mem::take(&mut first) {
                            *f_slot.borrow_mut() = Some(cx.waker().clone());
                            return Poll::Pending;
                        }
                        Poll::Ready(Rc::new(f_shared.get() + m.get()))
                    })
                },
                schedule,
                data.clone(),
            )
    };
    runnable.data().set(3);
    runnable.schedule();
    assert_eq!(schedules.get(), 1);
    let r = queue.borrow_mut().pop_front().unwrap();
    assert!(!r.run());
    let waker = waker_slot.borrow_mut().take().unwrap();
    waker.wake_by_ref();
    let r = queue.borrow_mut().pop_front().unwrap();
    assert_eq!(r.metadata().get(), 1);
    assert_eq!(r.data().get(), 3);
    r.run();
    assert_eq!(*block_on(task), 11);
    drop(waker);
    assert_eq!(schedules.get(), 2);
    // The task is gone: the schedule function, metadata and data with it.
    assert_eq!(Rc::strong_count(&metadata), 1);
    assert_eq!(Rc::strong_count(&data), 1);
    assert_eq!(Rc::strong_count(&queue), 1);

    // Cancelled by dropping the `Task`: the schedule function runs (here) to drop the future.
    let queue: Rc<RefCell<Vec<Runnable>>> = Rc::default();
    let q = queue.clone();
    // SAFETY: as above.
    let (runnable, task) = unsafe {
        task_ffi::spawn_unchecked(future::pending::<Rc<u8>>(), move |r| {
            q.borrow_mut().push(r);
        })
    };
    let waker = runnable.waker();
    assert!(!runnable.run());
    drop(task);
    let r = queue.borrow_mut().pop().unwrap();
    assert!(!r.run()); // drops the future
    drop(waker); // the last handle: the schedule function goes with the task
    assert_eq!(Rc::strong_count(&queue), 1);
}

/// A future that is not `Send`, with a schedule function that is `Send + Sync`: a waker may be
/// woken on another thread, where the schedule function only sends the runnable back to the
/// spawning thread, which runs it.
#[test]
fn future_not_send_woken_elsewhere() {
    let (sender, receiver) = std::sync::mpsc::channel::<Runnable>();
    let (waker_tx, waker_rx) = std::sync::mpsc::channel::<Waker>();
    let local = Rc::new(Cell::new(0u32));
    let l2 = local.clone();
    let future = future::poll_fn(move |cx| {
        l2.set(l2.get() + 1);
        if l2.get() < 3 {
            waker_tx.send(cx.waker().clone()).unwrap();
            Poll::Pending
        } else {
            Poll::Ready(l2.get())
        }
    });
    // SAFETY: the future is not `Send`: every runnable is run or dropped on this thread (the
    // schedule function, called on the waking thread, only sends it here). Everything else is
    // `Send` (and `Sync`) and `'static`.
    let (runnable, task) =
        unsafe { task_ffi::spawn_unchecked(future, move |r| sender.send(r).unwrap()) };
    std::thread::scope(|s| {
        // Wakes the task from another thread until the future (and its sender) is gone.
        s.spawn(move || {
            for waker in waker_rx {
                waker.wake();
            }
        });
        runnable.run();
        let mut runs = 1;
        while !task.is_finished() {
            receiver.recv().unwrap().run();
            runs += 1;
        }
        assert_eq!(runs, 3);
    });
    assert_eq!(local.get(), 3);
    assert_eq!(block_on(task), 3);
}

/// Parts that borrow locals, and a future that borrows the metadata: every handle is gone
/// before the locals are.
#[test]
fn borrows_outlive_every_handle() {
    fn name_len<'a>(name: &'a str, polled: &'a Cell<u32>) -> impl Future<Output = usize> + 'a {
        future::poll_fn(move |cx| {
            polled.set(polled.get() + 1);
            if polled.get() == 1 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(name.len())
            }
        })
    }

    let polled = Cell::new(0);
    let scheduled = Cell::new(0);
    {
        let queue: RefCell<VecDeque<Runnable<String>>> = RefCell::default();
        // SAFETY: everything borrowed (`polled`, `scheduled`, `queue`) outlives every handle,
        // which are all used and dropped on this thread; the future's borrow of the metadata
        // does not leave the future (the output is a `usize`).
        let (runnable, task) = unsafe {
            Builder::new()
                .metadata(String::from("four"))
                .spawn_unchecked(
                    |name| name_len(name, &polled),
                    |r| {
                        scheduled.set(scheduled.get() + 1);
                        queue.borrow_mut().push_back(r);
                    },
                )
        };
        assert!(runnable.run());
        let next = queue.borrow_mut().pop_front().unwrap();
        assert_eq!(next.metadata(), "four");
        assert!(!next.run());
        assert_eq!(block_on(task), 4);
    }
    assert_eq!((polled.get(), scheduled.get()), (2, 1));
}
