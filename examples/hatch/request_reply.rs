//! Request/reply with one hatch per request: a worker thread answers each request through the
//! reply sender that came with it, using it up with `send_last` (the one-shot send). The
//! caller awaits the answer; if the worker drops a request unanswered, the caller sees
//! `Closed` instead of waiting forever.

use std::sync::mpsc;
use std::thread;

use futures_lite::future::block_on;

/// A request: the number to square, and where the answer goes.
struct Request {
    n: u64,
    reply: hatch::Sender<'static, u64>,
}

fn main() {
    let (requests, inbox) = mpsc::channel::<Request>();
    let worker = thread::spawn(move || {
        for Request { n, reply } in inbox {
            if n == 13 {
                // Unanswered: dropping the sender closes the hatch.
                continue;
            }
            // `Err` only if the caller gave up (dropped its receiver).
            let _ = reply.send_last(n * n);
        }
    });

    block_on(async {
        for n in [3, 13, 12] {
            let (reply, mut answer) = hatch::hatch();
            requests
                .send(Request { n, reply })
                .expect("the worker runs");
            match answer.receive().await {
                Ok(square) => println!("{n}² = {square}"),
                Err(hatch::Closed) => println!("{n}: no answer"),
            }
        }
    });

    drop(requests);
    worker.join().expect("the worker does not panic");
}
