//! Helpers shared by the behaviour tests: drop counters and over-aligned types.
#![allow(dead_code, unreachable_pub)]

/// Iterations scaled down under miri.
pub fn n(native: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { native }
}

pub use sync_core::testing::{Drops, Tracked as Token};

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
