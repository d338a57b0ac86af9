//! Async-task-ffi's executor: a flume channel is the run queue, two worker threads run tasks, and the
//! main thread awaits their outputs. Tasks wake each other across threads (one awaits another's
//! `Task`), and the workers stop on their own once every task is gone: the last sender lives in
//! the schedule functions, which are dropped with their tasks.

use std::future::Future;
use std::thread;

use futures_lite::future;
use task_ffi::{Runnable, Task};

/// Spawns `future` onto the channel behind `sender`.
fn spawn<F>(sender: &flume::Sender<Runnable>, future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let sender = sender.clone();
    let schedule = move |runnable| sender.send(runnable).unwrap();
    let (runnable, task) = task_ffi::spawn(future, schedule);
    runnable.schedule();
    task
}

fn main() {
    let (sender, receiver) = flume::unbounded::<Runnable>();

    let workers: Vec<_> = (0..2)
        .map(|_| {
            let receiver = receiver.clone();
            thread::spawn(move || {
                let mut runs = 0usize;
                // Ends when every sender is gone, i.e. every task has been freed.
                for runnable in receiver.iter() {
                    runnable.run();
                    runs += 1;
                }
                runs
            })
        })
        .collect();
    drop(receiver);

    // A chain: each task awaits the previous one and adds to its output.
    let mut prev = spawn(&sender, async { 1u64 });
    for i in 2..=20u64 {
        let before = prev;
        prev = spawn(&sender, async move {
            future::yield_now().await;
            before.await + i
        });
    }
    // Independent tasks that yield a few times.
    let squares: Vec<_> = (0..10u64)
        .map(|i| {
            spawn(&sender, async move {
                for _ in 0..3 {
                    future::yield_now().await;
                }
                i * i
            })
        })
        .collect();
    // Only the schedule functions hold senders from now on.
    drop(sender);

    let total = future::block_on(prev);
    assert_eq!(total, (1..=20).sum::<u64>());
    let sum: u64 = squares.into_iter().map(future::block_on).sum();
    assert_eq!(sum, (0..10u64).map(|i| i * i).sum());

    let runs: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    // Every task ran at least once; the yielding ones ran once per yield more.
    assert!(runs >= 30 + 10 * 3, "runs: {runs}");
    println!("chain total {total}, squares {sum}, {runs} runs on 2 workers");
}
