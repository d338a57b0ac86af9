//! Async-hatch's simple example: two messages, one after the other, over one reused hatch.

use futures_lite::future::block_on;

async fn simple() {
    let (mut s, mut r) = hatch::hatch::<i32>();
    s.send(42).now().unwrap();
    assert_eq!(r.receive().await, Ok(42));
    s.send(420).now().unwrap();
    assert_eq!(r.receive().await, Ok(420));
    println!("received 42, then 420, over one hatch");
}

fn main() {
    block_on(simple());
}
