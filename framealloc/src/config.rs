//! Configuration of a [`SmartAlloc`](crate::SmartAlloc) and the error type of the `try_` calls.
//!
//! Every field is public so a configuration reads as a struct literal with
//! `..Default::default()`; [`AllocConfig::default`] documents the defaults.

use core::fmt;

/// What a tier does with a request it cannot serve from its own memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Serve the request from the heap tier (the global allocator). The default.
    #[default]
    Heap,
    /// Like [`Overflow::Heap`] for the current frame, and at the next frame boundary grow the
    /// frame arena so that the last frame would have fitted. Only meaningful for the frame tier;
    /// the pool tier treats it as [`Overflow::Heap`].
    Grow,
    /// A hard limit: `try_` calls return an error (giving the value back) and the infallible
    /// calls panic. No call ever returns a null pointer.
    Error,
}

/// How a [`SmartAlloc`](crate::SmartAlloc) sizes and limits its tiers.
///
/// ```
/// use framealloc::{AllocConfig, Overflow, SmartAlloc};
///
/// let alloc = SmartAlloc::new(AllocConfig {
///     frame_capacity: 64 * 1024,
///     frame_overflow: Overflow::Error,
///     ..Default::default()
/// });
/// assert_eq!(alloc.config().frame_capacity, 64 * 1024);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocConfig {
    /// Bytes of the frame arena (one block, allocated at the first frame and reused by every
    /// frame after it). Default: 1 MiB.
    pub frame_capacity: usize,
    /// What the frame tier does when the arena is full or an alignment above 4096 is asked for.
    /// Default: [`Overflow::Heap`].
    pub frame_overflow: Overflow,
    /// Bytes the pool tier reserves at a time for one size class (rounded up to a whole number of
    /// blocks, at least one). Default: 16 KiB.
    pub pool_slab_bytes: usize,
    /// What the pool tier does with requests above its largest size class (4096 bytes or
    /// alignment): [`Overflow::Error`] makes them fail. Default: [`Overflow::Heap`].
    pub pool_overflow: Overflow,
}

impl Default for AllocConfig {
    fn default() -> Self {
        Self {
            frame_capacity: 1 << 20,
            frame_overflow: Overflow::Heap,
            pool_slab_bytes: 16 * 1024,
            pool_overflow: Overflow::Heap,
        }
    }
}

/// A `try_` call failed because the tier has a hard limit ([`Overflow::Error`]).
///
/// It carries the value that could not be placed, so nothing is dropped on failure.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AllocError<T>(pub T);

impl<T> AllocError<T> {
    /// The value that was not allocated.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for AllocError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AllocError(..)")
    }
}

impl<T> fmt::Display for AllocError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the allocation exceeds a hard limit of the allocator configuration")
    }
}

impl<T> std::error::Error for AllocError<T> {}
