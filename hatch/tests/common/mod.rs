//! Helpers shared by the hatch test files: drop-counting values and manual polling.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

/// Counts drops of the [`Tracked`] values it makes.
#[derive(Clone, Debug, Default)]
pub struct Drops(Arc<AtomicUsize>);

impl Drops {
    pub fn new() -> Self {
        Self::default()
    }

    /// A value whose drop is counted here.
    pub fn make(&self, id: u32) -> Tracked {
        Tracked {
            id,
            drops: self.0.clone(),
        }
    }

    /// Drops so far.
    pub fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// A value that counts its drop.
#[derive(Debug)]
pub struct Tracked {
    pub id: u32,
    drops: Arc<AtomicUsize>,
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// Polls `fut` once with `waker`.
pub fn poll_once<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}
