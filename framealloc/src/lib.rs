//! A frame, pool and heap allocator for game-style main loops, with task-scoped helpers for async
//! code ([`task::TaskAlloc`], [`task::AsyncPoolGuard`], feature `task`).
//!
//! # The three tiers
//!
//! | tier | what | cost | freed | threads |
//! | --- | --- | --- | --- | --- |
//! | frame | bump arena of [`AllocConfig::frame_capacity`] bytes, 4096-aligned | a few instructions (align, add, compare) | all at once by [`SmartAlloc::end_frame`] | the thread that opened the frame |
//! | pool | 9 power-of-two size classes, 16..=4096 bytes, one free list each behind an OS mutex | lock, pop, unlock | one by one, reused | any; a block may be freed by another thread |
//! | heap | the global allocator | `malloc` | one by one | any |
//!
//! The heap tier serves what the others cannot: values above 4096 bytes (or alignment), and frame
//! allocations beyond the arena. [`Overflow`] picks, per tier, between that fallback and a hard
//! limit (the `try_` calls then return [`AllocError`]; the infallible calls panic — no call ever
//! returns a null pointer). Every tier serves alignments up to 4096 (the heap tier any).
//! [`SmartAlloc::stats`] counts allocations, frees and bytes per tier, and the counts balance.
//!
//! ```
//! use framealloc::SmartAlloc;
//!
//! let alloc = SmartAlloc::new(Default::default());
//! let mut kept = alloc.pool_vec::<u32>();
//! for frame_no in 0..3 {
//!     let frame = alloc.begin_frame();
//!     let mut scratch = frame.frame_vec::<u32>();
//!     scratch.extend((0..10).map(|i| i * frame_no));
//!     kept.push(scratch.iter().sum());
//!     drop(scratch);
//!     alloc.end_frame(frame); // frame memory is reused by the next frame
//! }
//! assert_eq!(&kept[..], &[0, 45, 90]);
//! ```
//!
//! # Safety by construction
//! * **No use after `end_frame`.** [`SmartAlloc::begin_frame`] returns a [`Frame`] token; frame
//!   data ([`FrameBox`], [`FrameVec`], `&mut` from [`Frame::frame_alloc`] /
//!   [`Frame::frame_slice`]) borrows it, and [`SmartAlloc::end_frame`] takes it by value, so the
//!   borrow checker rejects any use after the frame ended (see the `compile_fail` examples on
//!   [`Frame`]).
//! * **Frame data never outlives its frame, and the frame's handles stay on its thread.** The
//!   [`Frame`] token, [`FrameBox`] and [`FrameVec`] are `!Send` and `!Sync`: moving them into
//!   `tokio::spawn`/`std::thread::spawn`, or holding them across an `.await` in a future that
//!   must be `Send`, does not compile (`compile_fail` examples on [`Frame`], [`FrameBox`] and
//!   [`FrameVec`]).
//!
//!   [`Frame::frame_alloc`], [`Frame::frame_slice`], [`FrameBox::leak`] and [`FrameVec::leak`]
//!   return plain references (`&mut T`, `&mut [T]`), and a plain reference to `Send` data is
//!   `Send`. That is deliberate: a reference is what every other API takes (`sort`, I/O
//!   buffers, numeric kernels), and it borrows the frame, so it can only go where the borrow
//!   checker proves that the frame outlives it — a scoped thread (`std::thread::scope`,
//!   rayon's scopes and parallel iterators) that works on frame scratch memory in parallel,
//!   but never a `'static` thread or task, nor anything that lives past
//!   [`SmartAlloc::end_frame`] (examples on [`Frame::frame_slice`]). A `!Send` wrapper would
//!   forbid the first and add nothing to the second. The frame's *bookkeeping* (the bump
//!   offset, the overflow list) is only ever touched through the `!Sync` token, on its thread.
//!
//!   `cargo fa` (the workspace's `cargo-fa` package) flags frame allocation in async code even
//!   where the compiler accepts it (a `!Send` future on a local executor).
//! * **Pool and task handles cannot outlive their allocator or scope**: [`PoolBox`] and
//!   [`PoolVec`] borrow the [`SmartAlloc`] (or the `TaskAlloc` / `AsyncPoolGuard`) they came
//!   from, drop their value exactly once, and give their block back even if the destructor
//!   panics.
//! * Zero-sized values never touch memory in any tier.
//! * **Configuration is checked when the allocator is built.** [`SmartAlloc::try_new`] returns a
//!   [`ConfigError`] for a size no allocation can have ([`SmartAlloc::new`] panics with it, at
//!   that call); a built allocator never fails later because of its configuration, and every
//!   size computed from a configured or requested size is computed with checked arithmetic.
//! * **A panic leaves every structure usable.** A destructor that panics inside a [`PoolBox`],
//!   [`PoolVec`] or [`FrameVec`] still has its block given back (and the other elements
//!   dropped); a panic while a frame is open or ends gives the arena back, so the next
//!   [`SmartAlloc::begin_frame`] works.
//!
//! # Differences from upstream framealloc
//! The async guide of upstream framealloc 0.10 has several calls that cannot be made safe as
//! written; this crate keeps the names and changes the shapes:
//!
//! * `begin_frame(&self)` returns a [`Frame`] token and `end_frame(&self, frame)` consumes it;
//!   `frame_alloc`, `frame_box`, `frame_vec` and `frame_slice` are methods of the token, not of
//!   `SmartAlloc` (upstream's `alloc.frame_vec()` after `alloc.begin_frame()` could not tie the
//!   data to the frame). Dropping the token also ends the frame, so a panic or an early return
//!   cannot leave a frame open. One frame per allocator is open at a time; frames of *different*
//!   allocators are independent (upstream shares one thread-local arena between all instances).
//! * `frame_alloc::<T>()` returns `&mut MaybeUninit<T>` instead of a raw pointer;
//!   `frame_slice(&[T])` copies a `Copy` slice; `frame_vec::<T>()` takes no capacity and grows
//!   (in place while it is the last allocation); `pool_alloc::<T>()` returns a
//!   `PoolBox<MaybeUninit<T>>` filled with [`PoolBox::write`]. Frame and pool handles run `T`'s
//!   destructor (upstream's `PoolBox` does not).
//! * Upstream's `AsyncPoolGuard::new(&alloc)` followed by `alloc.pool_alloc()` cannot work: the
//!   guard cannot track or free allocations made past it. Allocate **through** the guard
//!   (`guard.pool_box(v)`, `guard.pool_vec()`, `guard.pool_alloc()`); the handles borrow the guard.
//! * `TaskAlloc::alloc_box(v)`/`alloc_vec()` take `&self` (upstream's `let mut task` still
//!   compiles, with an `unused_mut` warning) and really use the pool tier (upstream used the
//!   global heap). "Frees everything when dropped" is enforced by borrowing rather than by a
//!   tracking list: the handles cannot outlive the scope, so they are all dropped (and their
//!   blocks reused) before it is. A handle deliberately leaked with `mem::forget` stays leaked,
//!   as with `std::boxed::Box`. `alloc_vec` returns a growable [`PoolVec`] (its `into_vec`
//!   replaces upstream's `into_inner`).
//! * Upstream framealloc's `tokio` feature and module are `task` here: the helpers are
//!   runtime-agnostic and pull in no dependency. `tokio` stays as an alias of the feature, and
//!   `framealloc::tokio` of the module, so code written for upstream keeps building.
//! * `SmartAlloc::new(Default::default())` works as upstream; `SmartAlloc` also implements
//!   `Default`. Configuration is a plain struct ([`AllocConfig`]) whose frame capacity is
//!   honoured (upstream ignored it) and checked when the allocator is built
//!   ([`SmartAlloc::try_new`]).
//! * The lint codes of `cargo fa`: FA701 frame allocation in async code, FA603 frame data
//!   crossing an await point (upstream numbers the latter FA702).
//!
//! # Sizes (64-bit)
//!
//! | type | bytes |
//! | --- | --- |
//! | [`SmartAlloc`] | 8 (one `Arc`) |
//! | [`FrameBox`] | 8 |
//! | [`FrameVec`] | 32 |
//! | [`PoolBox`] | 16 (value pointer + one tagged pool-or-scope pointer) |
//! | [`PoolVec`] | 32 |
//! | `TaskAlloc`, `AsyncPoolGuard` | 40 |
//!
//! Memory: the frame arena is reserved at the first frame (`frame_capacity` bytes, 1 MiB by
//! default); the pool tier reserves `pool_slab_bytes` (16 KiB by default) per size class in use,
//! and keeps its slabs until the allocator is dropped. No per-allocation header in any tier.
//!
//! # Threads
//! A [`Frame`] belongs to the thread that opened it (`!Send`): run the frame loop on one thread
//! (upstream's "main thread") and give tasks the pool tier; lend frame scratch memory to scoped
//! worker threads as plain slices when a frame's work is parallel. The pool tier is shared by all
//! threads and all clones of the handle.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod frame;
mod frame_box;
mod grow_vec;
mod pool;
mod pool_box;
mod smart;
mod stats;

#[cfg(feature = "task")]
#[cfg_attr(docsrs, doc(cfg(feature = "task")))]
pub mod task;

/// Upstream framealloc's name of [`task`].
#[cfg(feature = "task")]
#[doc(hidden)]
pub use task as tokio;

pub use config::{AllocConfig, AllocError, ConfigError, Overflow};
pub use frame::Frame;
pub use frame_box::{FrameBox, FrameStore, FrameVec};
pub use grow_vec::{GrowVec, VecStore};
pub use pool_box::{PoolBox, PoolStore, PoolVec};
pub use smart::SmartAlloc;
pub use stats::{Stats, TierStats};
