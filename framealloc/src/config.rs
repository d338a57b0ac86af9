//! Configuration of a [`SmartAlloc`](crate::SmartAlloc), its check ([`ConfigError`]) and the
//! error type of the `try_` calls.
//!
//! Every field is public so a configuration reads as a struct literal with
//! `..Default::default()`; [`AllocConfig::default`] documents the defaults. A configuration is
//! checked once, when the allocator is built ([`SmartAlloc::try_new`](crate::SmartAlloc::try_new)
//! returns the [`ConfigError`], [`SmartAlloc::new`](crate::SmartAlloc::new) panics with it), so
//! no size that cannot be allocated reaches a tier.

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
///
/// A size that no allocation can have is rejected when the allocator is built:
///
/// ```
/// use framealloc::{AllocConfig, ConfigError, SmartAlloc};
///
/// let config = AllocConfig { pool_slab_bytes: usize::MAX, ..Default::default() };
/// assert_eq!(config.validate(), Err(ConfigError::PoolSlabTooLarge(usize::MAX)));
/// assert!(SmartAlloc::try_new(config).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AllocConfig {
    /// Bytes of the frame arena (one block, allocated at the first frame and reused by every
    /// frame after it). Default: 1 MiB. At most `isize::MAX` rounded down to a multiple of 4096
    /// (the arena's alignment); 0 serves every frame allocation from the heap tier.
    pub frame_capacity: usize,
    /// What the frame tier does when the arena is full or an alignment above 4096 is asked for.
    /// Default: [`Overflow::Heap`].
    pub frame_overflow: Overflow,
    /// Bytes the pool tier reserves at a time for one size class (rounded up to a whole number of
    /// blocks, at least one). Default: 16 KiB. Rounded up to whole 4096-byte blocks it must not
    /// exceed `isize::MAX`.
    pub pool_slab_bytes: usize,
    /// What the pool tier does with requests above its largest size class (4096 bytes or
    /// alignment): [`Overflow::Error`] makes them fail. Default: [`Overflow::Heap`].
    pub pool_overflow: Overflow,
}

impl AllocConfig {
    /// Checks that every size can be allocated: what
    /// [`SmartAlloc::try_new`](crate::SmartAlloc::try_new) checks before it builds an allocator.
    ///
    /// # Errors
    /// The first field whose value no allocation can have.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if crate::frame::arena_layout(self.frame_capacity).is_none() {
            return Err(ConfigError::FrameCapacityTooLarge(self.frame_capacity));
        }
        if crate::pool::slab_layouts(self.pool_slab_bytes).is_none() {
            return Err(ConfigError::PoolSlabTooLarge(self.pool_slab_bytes));
        }
        Ok(())
    }
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

/// An [`AllocConfig`] that no allocator can honour, from [`AllocConfig::validate`] and
/// [`SmartAlloc::try_new`](crate::SmartAlloc::try_new). Each variant carries the rejected value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigError {
    /// [`AllocConfig::frame_capacity`], rounded up to the arena's alignment (4096), exceeds
    /// `isize::MAX`, the largest size a Rust allocation can have.
    FrameCapacityTooLarge(usize),
    /// [`AllocConfig::pool_slab_bytes`], rounded up to whole blocks of the largest size class
    /// (4096 bytes), exceeds `isize::MAX`.
    PoolSlabTooLarge(usize),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::FrameCapacityTooLarge(n) => write!(
                f,
                "frame_capacity = {n} bytes cannot be allocated: rounded up to the arena's \
                 4096-byte alignment it exceeds isize::MAX"
            ),
            Self::PoolSlabTooLarge(n) => write!(
                f,
                "pool_slab_bytes = {n} cannot be allocated: rounded up to whole 4096-byte \
                 blocks it exceeds isize::MAX"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

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
