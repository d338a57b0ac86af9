//! Concurrency building blocks shared by the frugal crates.
//!
//! * [`sync`] — the facade every frugal crate takes its atomics, `UnsafeCell` and critical
//!   sections from: `core` atomics on targets with compare-and-swap, `portable-atomic` on targets
//!   without (thumbv6m, riscv32imc), and loom's types under `--cfg loom`, so loom models see every
//!   synchronisation point of every crate.
//! * [`AtomicWaker`] — a lock-free slot for one waker (register / wake / take), the algorithm of
//!   `futures`' `AtomicWaker` written over the facade so that loom can check it.
//! * [`WaitQueue`] — a bounded FIFO queue of waiting tasks with cancellation that passes an
//!   unconsumed wake-up on, usable from interrupt handlers (critical-section based).
//! * [`lock`] — the one home of locks: a [`Mutex`](lock::Mutex) and an address-keyed
//!   [`Section`](lock::Section) that never spin (a critical section on bare metal, an OS lock with
//!   feature `std`), so a holder preempted by a higher priority always gets to finish.
//! * [`const_fn!`] — constructors that are `const` except under loom.
//!
//! `no_std`, no allocator. It needs a [`critical-section`] implementation, chosen by the final
//! binary (`cortex-m`'s `critical-section-single-core`, `critical-section`'s `std` on a host…).
//!
//! | item | lock-free | safe in an interrupt handler | size on 32-bit (64-bit) |
//! | --- | --- | --- | --- |
//! | [`AtomicWaker`] | yes | yes | 12 (24) bytes |
//! | [`WaitQueue<N>`] | no (critical section) | yes | 8 + 12·N (8 + 24·N) bytes |
//!
//! [`critical-section`]: https://docs.rs/critical-section
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(test, loom, feature = "test-util", feature = "std"))]
extern crate std;

pub mod atomic_waker;
pub mod lock;
mod macros;
pub mod sync;
pub mod wait_queue;

#[cfg(feature = "test-util")]
#[doc(hidden)]
pub mod testing;

#[doc(inline)]
pub use atomic_waker::AtomicWaker;
#[doc(inline)]
pub use wait_queue::{QueueFull, Ticket, Wait, WaitQueue};
