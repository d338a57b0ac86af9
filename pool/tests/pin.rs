//! Pinning a value in its slot: a `!Unpin` future that borrows from itself runs to completion in
//! a pool slot, and a pinned value keeps its address; `StableDeref` with its feature.
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::future::block_on;
use pool::{Box, Pool, pool};

/// A `!Unpin` value that records its own address when first polled and checks it stays there.
struct Anchored {
    home: Option<usize>,
    polls: u32,
    _pin: PhantomPinned,
}

impl Future for Anchored {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let addr = std::ptr::from_ref::<Self>(&self).addr();
        // SAFETY: no field is moved out; `home` and `polls` are plain data.
        let this = unsafe { self.get_unchecked_mut() };
        assert_eq!(*this.home.get_or_insert(addr), addr, "a pinned value moved");
        this.polls += 1;
        if this.polls < 3 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(this.polls)
        }
    }
}

#[test]
fn a_pinned_unpin_less_future_runs_in_its_slot() {
    pool!(Futures: [Anchored; 1]);
    let value = Anchored {
        home: None,
        polls: 0,
        _pin: PhantomPinned,
    };
    let mut pinned = Box::<Futures>::pin(value).expect("a free slot");
    let slot = std::ptr::from_ref::<Anchored>(&pinned).addr();
    // Moving the `Pin<Box>` moves the pointer only.
    let moved = std::hint::black_box(&mut pinned);
    assert_eq!(block_on(moved.as_mut()), 3);
    assert_eq!(std::ptr::from_ref::<Anchored>(&pinned).addr(), slot);
    assert_eq!(Futures::free_slots(), 0);
    drop(pinned);
    assert_eq!(
        Futures::free_slots(),
        1,
        "dropping the Pin<Box> frees the slot"
    );
    assert!(
        Box::<Futures>::pin(Anchored {
            home: None,
            polls: 0,
            _pin: PhantomPinned
        })
        .is_some()
    );
}

#[test]
fn pin_from_box_pins_in_place() {
    pool!(Futures: [Anchored; 1]);
    let b = Box::<Futures>::new(Anchored {
        home: None,
        polls: 0,
        _pin: PhantomPinned,
    })
    .unwrap();
    let slot = Box::as_ptr(&b).as_ptr().addr();
    let mut pinned: Pin<Box<Futures>> = Pin::from(b);
    assert_eq!(block_on(pinned.as_mut()), 3);
    assert_eq!(pinned.home, Some(slot), "polled in its slot");
}

#[cfg(feature = "stable_deref_trait")]
#[test]
fn box_is_stable_deref() {
    fn stable<T: stable_deref_trait::StableDeref>(_: &T) {}
    pool!(Buffers: [[u8; 16]; 1]);
    let b = Box::<Buffers>::new([0; 16]).unwrap();
    stable(&b);
}
