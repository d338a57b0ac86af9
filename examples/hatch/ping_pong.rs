//! Cross-thread ping-pong over two reused hatches, with the blocking receive on both threads:
//! no allocation per message, no async runtime.

use std::thread;

const ROUNDS: u64 = 100_000;

fn main() {
    let (mut ping, mut pinged) = hatch::hatch::<u64>();
    let (mut pong, mut ponged) = hatch::hatch::<u64>();
    let partner = thread::spawn(move || {
        let mut count = 0;
        while let Ok(n) = pinged.receive_blocking() {
            pong.send(n + 1).now().expect("the answer slot is empty");
            count += 1;
        }
        count
    });
    let mut n = 0;
    for _ in 0..ROUNDS {
        ping.send(n).now().expect("the question slot is empty");
        n = ponged.receive_blocking().expect("the partner answers");
    }
    drop(ping);
    let answered = partner.join().unwrap();
    assert_eq!(n, ROUNDS);
    assert_eq!(answered, ROUNDS);
    println!("{ROUNDS} round trips, final value {n}");
}
