//! The crate's introductory example, made to run: a pool of two 256-byte buffers with room for
//! three waiting futures, allocated without waiting and then asynchronously.
//!
//! `futures_lite::future::block_on` drives it; a `Box` dropped on another thread hands its slot
//! to the waiting future.
use std::thread;
use std::time::Duration;

use futures_lite::future::block_on;
use pool::{Box, Pool, pool};

struct Buffer([u8; 256]);

// A maximum of 2 Buffer instances can be allocated at a time.
// A maximum of 3 futures can be waiting at a time.
pool!(BufferPool: [Buffer; 2], 3);

async fn run() {
    // Allocate without waiting (returns None if no data slot is free).
    let box1 = Box::<BufferPool>::new(Buffer([0; 256]));
    assert!(box1.is_some());

    // Allocate asynchronously (waits if no data slot is free); this could return None only if
    // all 3 waiter places were taken.
    let box2 = Box::<BufferPool>::new_async(Buffer([0; 256])).await;
    assert!(box2.is_some());
    assert_eq!(BufferPool::free_slots(), 0);

    // The pool is full now: `new` fails at once, `new_async` waits until a Box is dropped.
    assert!(Box::<BufferPool>::new(Buffer([2; 256])).is_none());
    let dropper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        drop(box1);
    });
    let box3 = Box::<BufferPool>::new_async(Buffer([3; 256]))
        .await
        .expect("a waiter place was free");
    assert_eq!(box3.0[255], 3);
    dropper.join().unwrap();
    println!(
        "two buffers in use, {} free, {} waiting",
        BufferPool::free_slots(),
        BufferPool::waiting()
    );
    drop((box2, box3));
    assert_eq!(BufferPool::free_slots(), 2);
}

fn main() {
    block_on(run());
    println!(
        "size of Box<BufferPool>: {} bytes",
        size_of::<Box<BufferPool>>()
    );
}
