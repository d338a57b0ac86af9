//! Waiting for a pool slot with a timeout, as the crate docs recommend: `embassy_time::with_timeout`
//! around `Box::new_async` (embassy-time's std driver runs the timer).
//!
//! The first wait times out because nobody frees a slot; the timed-out future gives its waiter
//! place back and drops its value. The second wait succeeds because a holder lets go in time.
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;

use embassy_time::{Duration, Timer, with_timeout};
use futures_lite::future::block_on;
use pool::{Box, Pool, pool};

static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// A frame buffer that counts its drops.
struct Frame([u8; 512]);

impl Drop for Frame {
    fn drop(&mut self) {
        DROPPED.fetch_add(1, SeqCst);
    }
}

pool!(Frames: [Frame; 1], 2);

fn main() {
    block_on(async {
        let held = Box::<Frames>::new(Frame([1; 512])).unwrap();

        // Nobody frees the slot: the wait ends after 50 ms.
        let timed_out = with_timeout(
            Duration::from_millis(50),
            Box::<Frames>::new_async(Frame([2; 512])),
        )
        .await;
        assert!(timed_out.is_err(), "no slot can become free");
        assert_eq!(Frames::waiting(), 0, "the cancelled wait left the queue");
        assert_eq!(DROPPED.load(SeqCst), 1, "its value was dropped, once");
        println!("timed out after 50 ms, as expected");

        // This time the holder lets go after 20 ms, well within the 2 s timeout.
        let holder = thread::spawn(move || {
            block_on(Timer::after_millis(20));
            drop(held);
        });
        let frame = with_timeout(
            Duration::from_secs(2),
            Box::<Frames>::new_async_with(|| Frame([3; 512])),
        )
        .await
        .expect("the holder frees the slot in time")
        .expect("a waiter place is free");
        holder.join().unwrap();
        assert_eq!(frame.0[0], 3);
        println!("got the slot once the holder dropped its frame");
    });
    assert_eq!(Frames::free_slots(), 1);
    assert_eq!(DROPPED.load(SeqCst), 3);
}
