//! Eight threads share a 4-slot pool, allocating with `Box::new` and with `Box::new_async` under a
//! generous timeout; every value is stamped with its thread and iteration and checked after a
//! yield (a slot shared by two owners would show a foreign stamp). No waiter may ever time out:
//! a timeout here means a lost wake-up, not slowness (the timeout is far above any wait).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use pool::{Box, Pool, pool};

const THREADS: usize = 8;
/// Total iterations across the threads (10 000 on the host; a handful under miri, which is ~1000×
/// slower and checks the same code paths).
const TOTAL: usize = if cfg!(miri) { 48 } else { 10_000 };
/// Far above any legitimate wait (holders only stamp, yield and check).
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Stamp {
    thread: usize,
    iteration: usize,
    words: [usize; 6],
}

impl Stamp {
    fn new(thread: usize, iteration: usize) -> Self {
        Self {
            thread,
            iteration,
            words: [thread * 1_000_000 + iteration; 6],
        }
    }

    fn check(&self, thread: usize, iteration: usize) {
        assert_eq!(
            (self.thread, self.iteration),
            (thread, iteration),
            "foreign value"
        );
        assert!(
            self.words
                .iter()
                .all(|&w| w == thread * 1_000_000 + iteration)
        );
    }
}

impl Drop for Stamp {
    fn drop(&mut self) {
        DROPS.fetch_add(1, SeqCst);
    }
}

static DROPS: AtomicUsize = AtomicUsize::new(0);

pool!(Shared: [Stamp; 4], THREADS);

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `fut` on this thread until it completes or `timeout` passes (then it is dropped).
fn block_on_timeout<F: Future>(fut: F, timeout: Duration) -> Option<F::Output> {
    let deadline = Instant::now() + timeout;
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return Some(out);
        }
        let now = Instant::now();
        if now >= deadline {
            return None;
        }
        thread::park_timeout(deadline - now);
    }
}

#[test]
fn eight_threads_stamped_values_and_no_waiter_times_out() {
    let per_thread = TOTAL / THREADS;
    let waited = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let waited = waited.clone();
            thread::spawn(move || {
                for iteration in 0..per_thread {
                    let stamp = Stamp::new(thread, iteration);
                    let mut b = if iteration % 3 == 0 {
                        match Box::<Shared>::try_new(stamp) {
                            Ok(b) => b,
                            Err(stamp) => wait(stamp, &waited, thread, iteration),
                        }
                    } else {
                        wait(stamp, &waited, thread, iteration)
                    };
                    b.check(thread, iteration);
                    thread::yield_now();
                    b.check(thread, iteration);
                    b.words[0] = b.words[5]; // a write through DerefMut
                    b.check(thread, iteration);
                    drop(b);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker panicked");
    }
    assert_eq!(Shared::free_slots(), 4);
    assert_eq!(Shared::waiting(), 0);
    // Every value was dropped exactly once: one per iteration.
    assert_eq!(DROPS.load(SeqCst), per_thread * THREADS);
    println!(
        "{} of {} allocations went through new_async",
        waited.load(SeqCst),
        per_thread * THREADS
    );
}

fn wait(stamp: Stamp, waited: &AtomicUsize, thread: usize, iteration: usize) -> Box<Shared> {
    waited.fetch_add(1, SeqCst);
    block_on_timeout(Box::<Shared>::new_async(stamp), TIMEOUT)
        .unwrap_or_else(|| panic!("thread {thread} iteration {iteration}: waiter timed out"))
        .expect("8 waiter places for 8 threads")
}
