//! Async-hatch's recovery example: when one side closes, the other recycles a new peer.
//!
//! A value sent before the receiver went away is not lost: the recycled receiver gets it.

use std::mem;

use futures_lite::future::block_on;
use hatch::{Closed, SendError};

async fn recovery() {
    let (mut s, r) = hatch::hatch::<i32>();
    mem::drop(r);
    assert_eq!(s.send(42).now(), Err(SendError::Closed(42)));
    let mut r = s.recycle().unwrap();
    mem::drop(s);
    assert_eq!(r.receive().await, Err(Closed));
    let mut s = r.recycle().unwrap();
    println!("recycled a receiver, then a sender");

    // Recycling keeps a pending value for the new peer.
    s.send(7).now().unwrap();
    mem::drop(r);
    let mut r = s.recycle().unwrap();
    assert_eq!(r.receive().await, Ok(7));
    // Recycling while the peer lives is an error value, not a panic.
    assert!(s.recycle().is_err());
    println!("the value sent before the receiver dropped reached the recycled receiver");
}

fn main() {
    block_on(recovery());
}
