//! The frugal umbrella: every frugal crate behind one feature each, re-exported as a module.
//!
//! | feature | module | crate | what it is | `no_std` |
//! | --- | --- | --- | --- | --- |
//! | (always) | [`sync`] | `sync-core` | atomics facade, [`sync::AtomicWaker`], [`sync::WaitQueue`] | yes |
//! | `pool` | `pool` | `pool` | static object pool with a std-like `Box` and async waiting | yes |
//! | `hatch` | `hatch` | `hatch` | single-message, reusable async channel | yes |
//! | `task-ffi` | `task` | `task-ffi` | task abstraction for executors (async-task compatible); tasks on the heap (`alloc`) or in static slots | yes |
//! | `io-mini` | `io` | `io-mini` | `Async<T>` on a static epoll (Linux) or `poll(2)` reactor | no (`std`) |
//! | `framealloc` | `framealloc` | `framealloc` | frame / pool / heap allocator with async helpers | no (`std`) |
//!
//! Environment features: `alloc`, `std` (forwarded to the enabled crates) and `framealloc-task`
//! (framealloc's task-scoped helpers; `tokio` is an alias). Integrations: `defmt` (sync-core,
//! pool, hatch, task-ffi) and `stable_deref_trait` (`pool::Box`). On targets without compare-and-swap (thumbv6m, riscv32imc) the final binary
//! picks portable-atomic's backend with `portable-atomic-critical-section` or
//! `portable-atomic-unsafe-assume-single-core`. `hatch` includes hatch's futures. With only
//! `no_std` features on, this crate is `no_std`.
//!
//! # Importing each module
//!
//! `frugal::sync` (always there):
//!
//! ```
//! use frugal::sync::AtomicWaker;
//!
//! static WAKER: AtomicWaker = AtomicWaker::new();
//! WAKER.wake(); // nobody registered: a no-op
//! ```
//!
//! `frugal::pool` (feature `pool`):
//!
//! ```
//! # #[cfg(feature = "pool")] {
//! use frugal::pool::{Box, Pool, pool};
//!
//! pool!(Buffers: [[u8; 64]; 2]);
//! let buffer = Box::<Buffers>::new([0; 64]).expect("a slot is free");
//! assert_eq!(Buffers::free_slots(), 1);
//! # drop(buffer);
//! # }
//! ```
//!
//! `frugal::hatch` (feature `hatch`; `hatch()` also needs `alloc`):
//!
//! ```
//! # #[cfg(all(feature = "hatch", feature = "alloc"))] {
//! let (mut s, mut r) = frugal::hatch::hatch::<u32>();
//! s.send(7).now().unwrap();
//! assert_eq!(r.receive().now(), Ok(Some(7)));
//! # }
//! ```
//!
//! A hatch in a `static`, no allocator (feature `hatch` alone; its futures are included):
//!
//! ```
//! # #[cfg(feature = "hatch")] {
//! use frugal::hatch::Hatch;
//!
//! static READINGS: Hatch<u32> = Hatch::new();
//! let (mut s, mut r) = READINGS.try_split().expect("a new hatch is free");
//! s.send(7).now().unwrap();
//! assert_eq!(futures_lite::future::block_on(r.receive()), Ok(7));
//! # }
//! ```
//!
//! `frugal::task` (feature `task-ffi`; heap spawns with `alloc`):
//!
//! ```
//! # #[cfg(all(feature = "task-ffi", feature = "alloc"))] {
//! let (runnable, task) = frugal::task::spawn(async { 1 + 2 }, |_| {});
//! runnable.run();
//! assert!(task.is_finished());
//! # }
//! ```
//!
//! `frugal::io` (feature `io-mini`):
//!
//! ```
//! # #[cfg(feature = "io-mini")] {
//! use frugal::io::Async;
//! use std::net::{TcpListener, TcpStream};
//!
//! futures_lite::future::block_on(async {
//!     let listener = Async::<TcpListener>::bind(([127, 0, 0, 1], 0))?;
//!     let addr = listener.get_ref().local_addr()?;
//!     let (client, accepted) =
//!         futures_lite::future::zip(Async::<TcpStream>::connect(addr), listener.accept()).await;
//!     assert_eq!(client?.get_ref().local_addr()?, accepted?.1);
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! # }
//! ```
//!
//! `frugal::framealloc` (feature `framealloc`):
//!
//! ```
//! # #[cfg(feature = "framealloc")] {
//! let alloc = frugal::framealloc::SmartAlloc::new(Default::default());
//! let frame = alloc.begin_frame();
//! let scratch = frame.frame_slice(&[1u32, 2, 3]);
//! assert_eq!(scratch.iter().sum::<u32>(), 6);
//! alloc.end_frame(frame);
//! let stats = alloc.stats();
//! assert_eq!((stats.frames, stats.frame.allocations), (1, 1));
//! # }
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Concurrency building blocks (the `sync-core` crate).
pub use sync_core as sync;

#[cfg(feature = "pool")]
#[doc(inline)]
pub use pool;

#[cfg(feature = "hatch")]
#[doc(inline)]
pub use hatch;

/// Tasks for executors (the `task-ffi` crate).
#[cfg(feature = "task-ffi")]
pub use task_ffi as task;

/// Async I/O on a static reactor (the `io-mini` crate).
#[cfg(feature = "io-mini")]
pub use io_mini as io;

#[cfg(feature = "framealloc")]
#[doc(inline)]
pub use framealloc;

/// The README's Rust snippets, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
