//! FIFO backpressure: worker tasks compete for one large buffer. Tasks that find the pool full
//! queue up and are served strictly in arrival order as the buffer is returned (each worker hands
//! it to the next in line by dropping it); a task that arrives when all waiter places are taken is
//! told so at once instead of queueing.
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use futures_lite::future::block_on;
use pool::{Box, Pool, pool};

pool!(Buffers: [[u8; 1024]; 1], 3);

static SERVED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

fn main() {
    // The main task holds the buffer.
    let holder = Box::<Buffers>::new([0; 1024]).unwrap();

    // Three workers queue, one after another, so their arrival order is 0, 1, 2.
    let workers: Vec<_> = (0..3)
        .map(|id| {
            let worker = thread::spawn(move || {
                let mut buffer = block_on(Box::<Buffers>::new_async_with(|| [0; 1024]))
                    .expect("a waiter place was free");
                SERVED.lock().unwrap().push(id);
                buffer[0] = id as u8;
                // Use the buffer briefly, then give it back (to the next in line).
                thread::sleep(Duration::from_millis(5));
                drop(buffer);
            });
            while Buffers::waiting() <= id {
                thread::sleep(Duration::from_millis(1));
            }
            worker
        })
        .collect();

    // A fourth waiter finds the three waiter places taken: it is refused at once.
    let refused = block_on(Box::<Buffers>::new_async([9; 1024]));
    assert!(refused.is_none(), "backpressure: no waiter place left");
    assert!(Box::<Buffers>::new([9; 1024]).is_none(), "and no free slot");

    // Return the buffer: it goes to the oldest waiting worker, then from worker to worker.
    drop(holder);
    for worker in workers {
        worker.join().unwrap();
    }
    let served = SERVED.lock().unwrap().clone();
    println!("workers served in order {served:?}");
    assert_eq!(served, [0, 1, 2], "served in arrival order");
    assert_eq!((Buffers::free_slots(), Buffers::waiting()), (1, 0));
}
