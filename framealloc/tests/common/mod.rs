//! Helpers shared by the behaviour tests: drop counters and over-aligned types.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// Iterations scaled down under miri.
pub fn n(native: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { native }
}

/// Counts how many of its values were dropped.
#[derive(Clone, Default)]
pub struct Drops(Arc<AtomicUsize>);

impl Drops {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn token(&self, id: usize) -> Token {
        Token {
            id,
            drops: self.0.clone(),
        }
    }
    pub fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Increments its counter once when dropped.
pub struct Token {
    pub id: usize,
    drops: Arc<AtomicUsize>,
}

impl Drop for Token {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// A value whose destructor panics (after counting).
pub struct PanicOnDrop(pub Token);

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("PanicOnDrop");
    }
}

macro_rules! aligned {
    ($($name:ident = $n:literal),* $(,)?) => {
        $(
            #[derive(Default, Clone, Copy)]
            #[repr(C, align($n))]
            pub struct $name(pub u8);
        )*
    };
}

aligned!(
    A1 = 1,
    A2 = 2,
    A4 = 4,
    A8 = 8,
    A16 = 16,
    A32 = 32,
    A64 = 64,
    A128 = 128,
    A256 = 256,
    A512 = 512,
    A1024 = 1024,
    A2048 = 2048,
    A4096 = 4096,
    A8192 = 8192,
);

/// Calls `$f::<T>()` for every over-aligned type, 1..=8192.
#[macro_export]
macro_rules! for_each_align {
    ($f:ident) => {{
        use $crate::common::*;
        $f::<A1>();
        $f::<A2>();
        $f::<A4>();
        $f::<A8>();
        $f::<A16>();
        $f::<A32>();
        $f::<A64>();
        $f::<A128>();
        $f::<A256>();
        $f::<A512>();
        $f::<A1024>();
        $f::<A2048>();
        $f::<A4096>();
        $f::<A8192>();
    }};
}
