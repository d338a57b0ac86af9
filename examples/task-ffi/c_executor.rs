//! A real C executor (`c-executor/c/executor.c`, compiled by the `c-executor` crate) running
//! task-ffi tasks.
//!
//! Rust spawns the tasks with user data (`spawn_with`) whose first field is the C
//! `struct exec_link`; the schedule function hands each runnable, as a raw pointer, to the C
//! `exec_push`. The C side keeps an intrusive priority queue threaded through that link, counts
//! the runs of each task in it, and runs or cancels tasks through the function pointers it got
//! at `exec_init`: `task_ffi::ffi::task_ffi_run` and `task_ffi_drop`. It links against no Rust
//! symbol. Its queue is guarded by lock hooks (here a `std` mutex; on firmware a critical
//! section), so a task woken on another thread is pushed safely.
//!
//! The tasks: a yielding task at the highest priority, two tasks that wake each other
//! (ping-pong), one woken from another thread, one cancelled by dropping its `Task` handle and
//! one cancelled at shutdown while still queued; the last two reach `task_ffi_drop` through
//! `exec_drop_all`. The example checks every output, the poll order the C queue produced, the
//! run counts the C code stored in the data, that every future and every data value is dropped
//! exactly once, and that the executor is empty at the end.
//!
//! Miri cannot run C, so this program is not run under miri (`task-ffi/tests/c_abi.rs` covers
//! the same entry points with a Rust stand-in for the C code).

// The C library is attached to this package's library target by build.rs; naming the crate
// links it into the example.
use examples as _;

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::thread;

use futures_lite::future::{block_on, yield_now};
use task_ffi::{Runnable, Task, TaskHead, ffi};

use c_executor::{
    Exec, ExecConfig, ExecLink, exec_drop_all, exec_init, exec_len, exec_push, exec_run_all,
    exec_size,
};

/// The queue lock behind the C `lock`/`unlock` hooks; the guard waits in a thread-local slot
/// between the two calls.
static QUEUE: Mutex<()> = Mutex::new(());

thread_local! {
    static HELD: RefCell<Option<MutexGuard<'static, ()>>> = const { RefCell::new(None) };
}

extern "C" fn queue_lock() {
    let guard = QUEUE.lock().unwrap_or_else(PoisonError::into_inner);
    HELD.with(|held| assert!(held.borrow_mut().replace(guard).is_none()));
}

extern "C" fn queue_unlock() {
    HELD.with(|held| assert!(held.borrow_mut().take().is_some()));
}

/// What the program checks: polls in order, dropped futures, dropped data with final runs.
#[derive(Default)]
struct Log {
    polls: Mutex<Vec<&'static str>>,
    futures_dropped: Mutex<Vec<&'static str>>,
    data_dropped: Mutex<Vec<(&'static str, u32)>>,
}

/// The user data: the C link first, then Rust-only fields the C code never touches.
#[repr(C)]
struct TaskData {
    link: ExecLink,
    name: &'static str,
    log: Arc<Log>,
}

impl Drop for TaskData {
    fn drop(&mut self) {
        // The task is being destroyed: `runs` is the C executor's final count.
        let entry = (self.name, *self.link.runs.get_mut());
        self.log.data_dropped.lock().unwrap().push(entry);
    }
}

/// Lives inside each future: logs its polls and its drop.
struct FutureGuard {
    name: &'static str,
    log: Arc<Log>,
}

impl FutureGuard {
    fn polled(&self) {
        self.log.polls.lock().unwrap().push(self.name);
    }
}

impl Drop for FutureGuard {
    fn drop(&mut self) {
        self.log.futures_dropped.lock().unwrap().push(self.name);
    }
}

/// The executor as the schedule functions see it.
#[derive(Clone, Copy)]
struct ExecRef(NonNull<Exec>);

// SAFETY: the C executor serialises every queue access through the lock hooks, and it outlives
// every schedule function (it is freed at the end of `main`, after every task is destroyed).
unsafe impl Send for ExecRef {}
// SAFETY: as above; `push` is the only operation and it is thread-safe.
unsafe impl Sync for ExecRef {}

impl ExecRef {
    fn push(self, runnable: Runnable<(), TaskData>) {
        // SAFETY: the executor is live (see above) and takes ownership of the runnable pointer,
        // whose data starts with the `struct exec_link` at the configured offset.
        unsafe { exec_push(self.0.as_ptr(), runnable.into_raw().as_ptr().cast()) };
    }
}

/// Spawns `future` with data for the C executor; the runnable is not scheduled yet.
fn spawn<F>(
    exec: ExecRef,
    log: &Arc<Log>,
    name: &'static str,
    priority: u32,
    future: F,
) -> (Runnable<(), TaskData>, Task<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let guard = FutureGuard {
        name,
        log: log.clone(),
    };
    let future = async move {
        let mut future = pin!(future);
        poll_fn(|cx| {
            guard.polled();
            future.as_mut().poll(cx)
        })
        .await
    };
    let data = TaskData {
        link: ExecLink::new(priority),
        name,
        log: log.clone(),
    };
    task_ffi::spawn_with(future, move |runnable| exec.push(runnable), data)
}

/// Two players share a ball: player `me` may hit it when `ball % 2 == me`, then wakes the other.
#[derive(Default)]
struct Court {
    ball: u32,
    waiting: [Option<Waker>; 2],
}

async fn player(me: usize, court: Arc<Mutex<Court>>, rounds: usize) -> Vec<u32> {
    let mut hits = Vec::new();
    for _ in 0..rounds {
        poll_fn(|cx| {
            let mut court = court.lock().unwrap();
            if court.ball as usize % 2 == me {
                Poll::Ready(())
            } else {
                court.waiting[me] = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        let other = {
            let mut court = court.lock().unwrap();
            hits.push(court.ball);
            court.ball += 1;
            court.waiting[1 - me].take()
        };
        if let Some(waker) = other {
            waker.wake();
        }
    }
    hits
}

/// A value sent from another thread, with the waker of the task waiting for it.
#[derive(Default)]
struct Mailbox(Mutex<(Option<u32>, Option<Waker>)>);

fn main() {
    assert_eq!(size_of::<Exec>(), exec_size(), "struct exec mirror");
    let config = ExecConfig {
        data_offset: TaskHead::<(), TaskData>::DATA_OFFSET,
        run: ffi::task_ffi_run,
        drop: ffi::task_ffi_drop,
        lock: Some(queue_lock),
        unlock: Some(queue_unlock),
    };
    let exec_ptr = Box::into_raw(Box::new(Exec::new(config)));
    // SAFETY: `exec_ptr` is a valid, exclusive `struct exec`; `config` is read during the call.
    unsafe { exec_init(exec_ptr, &raw const config) };
    let exec = ExecRef(NonNull::new(exec_ptr).unwrap());
    let log = Arc::new(Log::default());

    // Spawned lowest priority first: the C queue reorders them.
    let court = Arc::new(Mutex::new(Court::default()));
    let (r_ping, ping) = spawn(exec, &log, "ping", 2, player(0, court.clone(), 3));
    let (r_pong, pong) = spawn(exec, &log, "pong", 2, player(1, court.clone(), 3));
    let (r_yield, yielder) = spawn(exec, &log, "yield", 3, async {
        for _ in 0..3 {
            yield_now().await;
        }
        3
    });
    let mailbox = Arc::new(Mailbox::default());
    let inbox = mailbox.clone();
    let (r_remote, remote) = spawn(exec, &log, "remote", 1, async move {
        poll_fn(|cx| {
            let mut slot = inbox.0.lock().unwrap();
            match slot.0.take() {
                Some(value) => Poll::Ready(value * 2),
                None => {
                    slot.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    });
    let (r_never, never) = spawn(exec, &log, "never", 0, std::future::pending::<()>());
    for runnable in [r_ping, r_pong, r_yield, r_remote, r_never] {
        runnable.schedule();
    }
    // SAFETY: `exec` is live; this is the only thread running or dropping its tasks.
    assert_eq!(unsafe { exec_len(exec_ptr) }, 5);

    // SAFETY: as above.
    let runs = unsafe { exec_run_all(exec_ptr) };
    // yield: 4 polls; ping and pong: 3 each; remote and never: 1 each (both pending).
    assert_eq!(runs, 12);
    assert_eq!(
        *log.polls.lock().unwrap(),
        [
            "yield", "yield", "yield", "yield", "ping", "pong", "ping", "pong", "ping", "pong",
            "remote", "never"
        ],
        "highest priority first, FIFO among equals"
    );
    assert!(ping.is_finished() && pong.is_finished() && yielder.is_finished());
    assert!(!remote.is_finished());

    // Wake `remote` from another thread: the schedule function runs there and calls the C
    // `exec_push` under the lock hooks.
    thread::spawn(move || {
        let waker = {
            let mut slot = mailbox.0.lock().unwrap();
            slot.0 = Some(21);
            slot.1.take()
        };
        waker.expect("remote registered its waker").wake();
    })
    .join()
    .unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { exec_len(exec_ptr) }, 1);
    // SAFETY: as above.
    assert_eq!(unsafe { exec_run_all(exec_ptr) }, 1);
    assert!(remote.is_finished());

    // Cancellation: dropping the handle of `never` (idle) schedules it once more so that the
    // executor drops its future; `late` is queued but never runs. Shutdown hands both to
    // `task_ffi_drop`.
    drop(never);
    let (r_late, late) = spawn(exec, &log, "late", 5, async { 1 });
    r_late.schedule();
    // SAFETY: as above.
    assert_eq!(unsafe { exec_len(exec_ptr) }, 2);
    assert!(!log.futures_dropped.lock().unwrap().contains(&"never"));
    // SAFETY: as above.
    assert_eq!(unsafe { exec_drop_all(exec_ptr) }, 2);
    // SAFETY: as above.
    assert_eq!(unsafe { exec_len(exec_ptr) }, 0);
    assert_eq!(block_on(late.fallible()), None);

    assert_eq!(block_on(yielder), 3);
    assert_eq!(block_on(ping), [0, 2, 4]);
    assert_eq!(block_on(pong), [1, 3, 5]);
    assert_eq!(block_on(remote), 42);
    assert_eq!(court.lock().unwrap().ball, 6);

    // Every task is destroyed now: each future and each data value was dropped exactly once,
    // and the data carries the run counts the C code recorded.
    let mut futures = log.futures_dropped.lock().unwrap().clone();
    futures.sort_unstable();
    assert_eq!(
        futures,
        ["late", "never", "ping", "pong", "remote", "yield"]
    );
    let mut data = log.data_dropped.lock().unwrap().clone();
    data.sort_unstable();
    assert_eq!(
        data,
        [
            ("late", 0),
            ("never", 1),
            ("ping", 3),
            ("pong", 3),
            ("remote", 2),
            ("yield", 4)
        ]
    );
    // SAFETY: every task is destroyed (all data values are dropped), so no schedule function
    // refers to the executor any more, and its queue is empty.
    drop(unsafe { Box::from_raw(exec_ptr) });
    println!("C executor: {} runs, data dropped {data:?}", runs + 1);
}
