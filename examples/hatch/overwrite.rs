//! Async-hatch's overwrite example: in overwrite mode the sender replaces an unreceived value, so
//! the receiver only sees the latest one (like embassy's `Signal`).

use futures_lite::future::block_on;

async fn sender_overwrite() {
    let (mut s, mut r) = hatch::hatch::<i32>();
    s.send(42).now().unwrap();
    assert_eq!(s.set_overwrites(true).send(420).now(), Ok(()));
    assert_eq!(r.receive().await, Ok(420));
    println!("the receiver saw only the latest value, 420");
}

fn main() {
    block_on(sender_overwrite());
}
