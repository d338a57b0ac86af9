//! The examples of upstream async-hatch's README, run as tests against this crate.
//!
//! Adapted only where the README's snippets are incomplete: imports, `mem`, `mut` bindings, the
//! missing `;`, and `recycle()` returning a `Result` (recycling while the peer lives is an error
//! value).

use std::mem;

use futures_lite::future::block_on;
use hatch::{Closed, SendError};

async fn simple() {
    let (mut s, mut r) = hatch::hatch::<i32>();
    s.send(42).now().unwrap();
    assert_eq!(r.receive().await, Ok(42));
    s.send(420).now().unwrap();
    assert_eq!(r.receive().await, Ok(420));
}

async fn recovery() {
    let (mut s, r) = hatch::hatch::<i32>();
    mem::drop(r);
    assert_eq!(s.send(42).now(), Err(SendError::Closed(42)));
    let mut r = s.recycle().unwrap();
    mem::drop(s);
    assert_eq!(r.receive().await, Err(Closed));
    let _s = r.recycle().unwrap();
}

async fn sender_overwrite() {
    let (mut s, mut r) = hatch::hatch::<i32>();
    s.send(42).now().unwrap();
    assert_eq!(s.set_overwrites(true).send(420).now(), Ok(()));
    assert_eq!(r.receive().await, Ok(420));
}

#[test]
fn readme_simple() {
    block_on(simple());
}

#[test]
fn readme_recovery() {
    block_on(recovery());
}

#[test]
fn readme_sender_overwrite() {
    block_on(sender_overwrite());
}
