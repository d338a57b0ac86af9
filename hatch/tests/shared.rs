//! `SharedHatch`: sends through `&self` (a `static`) from several threads, one receiver.
//! Also run under miri (small counts there).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use hatch::{RecycleError, SendError, SharedHatch};

/// A value that counts its drops.
struct Tracked(Arc<AtomicUsize>, u32);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn sends_before_a_receiver_are_handed_back() {
    static SHARED: SharedHatch<u32> = SharedHatch::new();
    assert!(!SHARED.is_open());
    assert_eq!(SHARED.send(1), Err(SendError::Closed(1)));
    assert_eq!(SHARED.replace(2), Err(SendError::Closed(2)));
    let mut r = SHARED.receiver().unwrap();
    assert!(SHARED.is_open());
    assert_eq!(r.receive().now(), Ok(None), "nothing was kept");
}

#[test]
fn one_receiver_at_a_time() {
    let shared = SharedHatch::<u8>::new();
    let r = shared.receiver().unwrap();
    assert_eq!(
        format!("{:?}", shared.receiver().unwrap_err()),
        "RecycleError(PeerAlive)"
    );
    let _: RecycleError = shared.receiver().unwrap_err();
    drop(r);
    let _r = shared.receiver().expect("the first receiver is gone");
}

#[test]
fn full_and_replace() {
    let shared = SharedHatch::<u8>::new();
    let mut r = shared.receiver().unwrap();
    shared.send(1).unwrap();
    assert!(shared.has_value());
    assert_eq!(shared.send(2), Err(SendError::Full(2)));
    assert_eq!(shared.replace(3), Ok(Some(1)));
    assert_eq!(r.receive().now(), Ok(Some(3)));
    assert_eq!(shared.replace(4), Ok(None));
    assert_eq!(r.receive().now(), Ok(Some(4)));
}

#[test]
fn a_closed_receiver_refuses_sends_and_a_new_one_gets_the_kept_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let shared = SharedHatch::new();
    let mut r = shared.receiver().unwrap();
    shared.send(Tracked(drops.clone(), 1)).unwrap();
    r.close();
    let err = shared.send(Tracked(drops.clone(), 2)).unwrap_err();
    assert!(err.is_closed());
    drop(err);
    assert_eq!(
        drops.load(SeqCst),
        1,
        "the refused value came back and was dropped"
    );
    drop(r);
    let mut r = shared.receiver().unwrap();
    let got = r.receive().now().unwrap().unwrap();
    assert_eq!(got.1, 1, "the value sent before the close is kept");
    drop(got);
    shared.send(Tracked(drops.clone(), 3)).unwrap();
    drop(r);
    assert_eq!(drops.load(SeqCst), 2);
    drop(shared);
    assert_eq!(
        drops.load(SeqCst),
        3,
        "a value left in the slot is dropped with the hatch"
    );
}

#[test]
fn a_waiting_receive_is_woken_by_a_shared_send() {
    let shared = SharedHatch::new();
    let mut r = shared.receiver().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::yield_now();
            shared.send(7_u32).unwrap();
        });
        assert_eq!(futures_lite::future::block_on(r.receive()), Ok(7));
    });
}

#[test]
fn several_threads_send_through_a_static() {
    static SHARED: SharedHatch<u32> = SharedHatch::new();
    let per_thread: u32 = if cfg!(miri) { 10 } else { 2_000 };
    let mut r = SHARED.receiver().unwrap();
    let mut sum = 0_u64;
    let mut count = 0;
    std::thread::scope(|s| {
        for t in 0..3_u32 {
            s.spawn(move || {
                for i in 0..per_thread {
                    let mut v = t * 1_000_000 + i;
                    loop {
                        match SHARED.send(v) {
                            Ok(()) => break,
                            Err(SendError::Full(back)) => {
                                v = back;
                                std::thread::yield_now();
                            }
                            Err(SendError::Closed(_)) => panic!("the receiver lives"),
                        }
                    }
                }
            });
        }
        while count < 3 * per_thread {
            let v = futures_lite::future::block_on(r.receive()).unwrap();
            sum += u64::from(v % 1_000_000) + u64::from(v / 1_000_000) * 1_000_000;
            count += 1;
        }
    });
    let expect: u64 = (0..3_u64)
        .map(|t| {
            (0..u64::from(per_thread))
                .map(|i| t * 1_000_000 + i)
                .sum::<u64>()
        })
        .sum();
    assert_eq!(sum, expect, "every value received exactly once");
    assert_eq!(r.receive().now(), Ok(None));
}

#[test]
fn debug_names_the_state() {
    let shared = SharedHatch::<u8>::new();
    assert_eq!(
        format!("{shared:?}"),
        "SharedHatch { full: false, receiver: none }"
    );
    let r = shared.receiver().unwrap();
    shared.send(1).unwrap();
    assert_eq!(
        format!("{shared:?}"),
        "SharedHatch { full: true, receiver: open }"
    );
    drop(r);
}
