//! Three worker threads queue on a `WaitQueue` and are released one by one, oldest first.
use std::thread;
use std::time::Duration;

use futures_lite::future::block_on;
use sync_core::WaitQueue;

static QUEUE: WaitQueue<3> = WaitQueue::new();

fn main() {
    let workers: Vec<_> = (0..3)
        .map(|id| {
            // Start the workers one after another so their arrival order is known.
            let worker =
                thread::spawn(|| block_on(QUEUE.wait()).expect("queue has room for three"));
            while QUEUE.len() <= id {
                thread::sleep(Duration::from_millis(1));
            }
            worker
        })
        .collect();
    for token in 100..103 {
        QUEUE.notify_one(token).expect("a worker is waiting");
    }
    let tokens: Vec<usize> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    println!("tokens by worker, in arrival order: {tokens:?}");
    assert_eq!(
        tokens,
        [100, 101, 102],
        "FIFO: the oldest waiter gets the first token"
    );
}
