//! Sizes of the shared state and the handles (documented in the crate docs).
#![cfg(target_pointer_width = "64")]

use std::mem::size_of;

use hatch::{Hatch, Receiver, Receiving, Sender, Sending};

#[test]
fn shared_state_is_at_most_32_bytes() {
    assert_eq!(size_of::<Hatch<u64>>(), 32);
    assert_eq!(size_of::<Hatch<()>>(), 24);
    assert_eq!(size_of::<Hatch<u8>>(), 24);
    assert_eq!(size_of::<Hatch<[u8; 64]>>(), 88);
}

#[test]
fn handles_are_two_words() {
    assert_eq!(size_of::<Sender<'static, u64>>(), 16);
    assert_eq!(size_of::<Receiver<'static, u64>>(), 16);
    assert_eq!(size_of::<Option<Sender<'static, u64>>>(), 16);
    assert_eq!(size_of::<Option<Receiver<'static, u64>>>(), 16);
    assert_eq!(size_of::<Sending<'static, 'static, u64>>(), 24);
    assert_eq!(size_of::<Receiving<'static, 'static, u64>>(), 16);
}
