//! The executor: a run queue of [`task_ffi::Runnable`]s and a few worker threads.
//!
//! This is the smallest executor task-ffi allows, and the shape most embedded executors have:
//!
//! * **Run queue** — an unbounded flume channel. A task's schedule function sends its
//!   `Runnable` into the channel whenever the task is woken (by io-mini's reactor thread, the
//!   pool's wait queue, a hatch, a timer or another worker).
//! * **Workers** — `WORKERS` threads pull runnables and [`run`](task_ffi::Runnable::run) them;
//!   each run polls the task's future once. A task is never polled by two workers at once:
//!   task-ffi's state word hands out at most one `Runnable` per task.
//! * **Shutdown** — nothing to signal: every schedule function holds a clone of the sender, so
//!   the channel disconnects (and the workers return) once the [`Spawner`] and every task are
//!   gone.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::thread::{self, JoinHandle};

use task_ffi::{Runnable, Task};

/// Polls run so far, by all workers (read by the progress view).
pub(crate) static POLLS: AtomicUsize = AtomicUsize::new(0);

/// Spawns tasks onto the run queue; cheap to clone (one channel sender).
#[derive(Clone)]
pub(crate) struct Spawner {
    queue: flume::Sender<Runnable>,
}

impl Spawner {
    /// Spawns `future` and schedules its first poll.
    pub(crate) fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let queue = self.queue.clone();
        // The workers own the receiver until every sender (this one included) is gone, so the
        // send cannot fail while the task exists.
        let schedule = move |runnable| queue.send(runnable).expect("the workers are running");
        let (runnable, task) = task_ffi::spawn(future, schedule);
        runnable.schedule();
        task
    }
}

/// The worker threads; [`Workers::join`] waits for them once every task is gone.
pub(crate) struct Workers {
    threads: Vec<JoinHandle<usize>>,
}

impl Workers {
    /// Waits for the workers (drop every [`Spawner`] and task first) and returns the number of
    /// polls each one ran.
    pub(crate) fn join(self) -> Vec<usize> {
        self.threads
            .into_iter()
            .map(|t| t.join().expect("a worker panicked"))
            .collect()
    }
}

/// Starts `workers` threads on a fresh run queue.
pub(crate) fn start(workers: usize) -> (Spawner, Workers) {
    let (queue, runnables) = flume::unbounded::<Runnable>();
    let threads = (0..workers)
        .map(|i| {
            let runnables = runnables.clone();
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    let mut runs = 0;
                    for runnable in runnables.iter() {
                        runnable.run();
                        runs += 1;
                        POLLS.fetch_add(1, Relaxed);
                    }
                    runs
                })
                .expect("spawn a worker thread")
        })
        .collect();
    (Spawner { queue }, Workers { threads })
}
