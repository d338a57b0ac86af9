//! Cross-thread stress: many messages over one reused hatch, none lost, duplicated or reordered.
//! Every test uses the blocking receive, so the file needs feature `std`.
#![cfg(feature = "std")]

use futures_lite::future::block_on;
use hatch::Closed;

/// One million messages (a few hundred under miri, which is ~1000x slower).
const MESSAGES: u64 = if cfg!(miri) { 300 } else { 1_000_000 };

/// The slot ping-pongs between full and empty: the sender waits (async send) until the receiver
/// (blocking receive on a plain thread) has taken the previous message.
#[test]
fn million_messages_ping_pong_over_one_hatch() {
    let (mut s, mut r) = hatch::hatch::<u64>();
    let sender = std::thread::spawn(move || {
        for i in 0..MESSAGES {
            block_on(s.send(i)).unwrap();
        }
    });
    for i in 0..MESSAGES {
        assert_eq!(r.receive_blocking(), Ok(i));
    }
    sender.join().unwrap();
    assert_eq!(r.receive_blocking(), Err(Closed));
}

/// Request/response: two reused hatches, each message answered before the next is sent.
#[test]
fn request_response_round_trips() {
    let rounds = MESSAGES / 10;
    let (mut ask, mut asked) = hatch::hatch::<u64>();
    let (mut answer, mut answered) = hatch::hatch::<u64>();
    let echo = std::thread::spawn(move || {
        while let Ok(v) = asked.receive_blocking() {
            answer.send(v + 1).now().unwrap();
        }
    });
    for i in 0..rounds {
        ask.send(i).now().unwrap();
        assert_eq!(block_on(answered.receive()), Ok(i + 1));
    }
    drop(ask);
    echo.join().unwrap();
    assert_eq!(answered.receive().now(), Err(Closed));
}

/// A fresh hatch per message: each sender goes to a worker thread, which sends with `now()` (the
/// lock-free path when the receiver has not parked yet, the locked one when it has) and drops
/// it, while this thread receives and drops the receiver. Every value arrives once, and the last
/// handle frees each hatch, whichever side drops first.
#[test]
fn fresh_hatch_per_message_across_threads() {
    let rounds: u64 = if cfg!(miri) { 30 } else { 20_000 };
    let (tx, rx) = std::sync::mpsc::channel::<hatch::Sender<'static, u64>>();
    let worker = std::thread::spawn(move || {
        for (i, mut s) in (0..).zip(rx) {
            s.send(i).now().unwrap();
        }
    });
    for i in 0..rounds {
        let (s, mut r) = hatch::hatch();
        tx.send(s).unwrap();
        assert_eq!(r.receive_blocking(), Ok(i));
    }
    drop(tx);
    worker.join().unwrap();
}
