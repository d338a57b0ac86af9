//! A single-message, reusable async channel: a *hatch* holds at most one value at a time, passed
//! from one [`Sender`] to one [`Receiver`], as often as you like, between threads, async tasks or
//! both.
//!
//! ```
//! # futures_lite::future::block_on(async {
//! let (mut s, mut r) = hatch::hatch::<i32>();
//! s.send(42).now().unwrap();
//! assert_eq!(r.receive().await, Ok(42));
//! s.send(420).now().unwrap();
//! assert_eq!(r.receive().await, Ok(420));
//! # });
//! ```
//!
//! * **Send** — [`Sender::send`] returns a [`Sending`]: [`now`](Sending::now) fails with
//!   [`SendError::Full`] on a full slot, `.await` waits until the receiver takes the value that is
//!   there. In **overwrite** mode ([`Sender::set_overwrites`]) both replace the unreceived value
//!   (dropped exactly once) and never wait. [`SendError::Closed`] gives the value back.
//! * **One-shot send** — [`Sender::send_last`] sends and uses the sender up, like `oneshot`'s
//!   `send`: one compare-and-swap publishes the value and the sender's drop together, and the
//!   receive that follows takes no lock.
//! * **Lazy send** — [`Sender::wait`] resolves once the receiver is *listening*: a receive future
//!   is parked, or `Receiver::receive_blocking` waits. (A [`Receiving::now`] never counts.)
//! * **Receive** — [`Receiver::receive`] returns a [`Receiving`]: `.await` it for
//!   `Result<T, Closed>`, or [`now`](Receiving::now) for `Result<Option<T>, Closed>`; with feature
//!   `std`, `Receiver::receive_blocking` parks the thread.
//! * **Reuse and recovery** — a hatch carries any number of messages. When one side's handle is
//!   dropped, the other can [`recycle`](Sender::recycle) a new peer; a value sent before the drop
//!   is **not lost** but delivered to the new receiver. Recycling while the peer is alive is a
//!   [`RecycleError`], not a panic.
//! * **Flags** (local to a handle; setters set or clear, never toggle): `overwrites` (sender),
//!   `closes` (close this side after the next successful operation — one-shot use),
//!   `reclaims` and `recycles` (what the last handle does with a hatch whose memory you manage:
//!   mark it free, dropping or keeping a pending value).
//! * **Your own memory** — [`Hatch::new`] is `const`; put a [`Hatch`] in a `static`, on the stack
//!   or in a pool slot and split it with [`Hatch::try_split`], [`Hatch::split`] or the unsafe
//!   [`Hatch::split_raw`]. No allocator needed.
//!
//! Recovery (the sender makes a new receiver, the receiver a new sender):
//!
//! ```
//! use hatch::{Closed, SendError};
//! # futures_lite::future::block_on(async {
//! let (mut s, r) = hatch::hatch::<i32>();
//! drop(r);
//! assert_eq!(s.send(42).now(), Err(SendError::Closed(42)));
//! let mut r = s.recycle().unwrap();
//! drop(s);
//! assert_eq!(r.receive().await, Err(Closed));
//! let _s = r.recycle().unwrap();
//! # });
//! ```
//!
//! # Design
//!
//! The shared state ([`Hatch<T>`]) is one value slot, one waker slot that the two sides share
//! (only one of them can be waiting at a time; two bits of the word say whose waker it holds)
//! and one atomic word: a lock bit, a "slot full" bit, the closed and dropped bits of both
//! sides and the in-use/reclaim/recycle bits of a hatch you manage (table in `shared.rs`; a new
//! hatch's word is zero, so a `static` hatch is all zeros and lands in `.bss`). The waker slot, an
//! overwrite and every slow path are guarded by the lock bit, which only a holder of the hatch's
//! lock section sets: inside the section one `Acquire` `fetch_add` sets it (the bit is clear
//! there, so this never fails or retries, and the holder is then the only writer), then a
//! `Release` store of the new state clears it. The hot
//! paths need less (two "may hold a waker" hint bits in the word tell them that nothing waits):
//! `send().now()` on an empty hatch writes the slot, which only the sender touches while the
//! slot is empty, and publishes it with one compare-and-swap, no lock; `receive().now()` takes
//! the lock with a single compare-and-swap attempt, or needs only an `Acquire` load on an empty
//! hatch; the first handle to drop needs one compare-and-swap and the second an `Acquire` load;
//! after `Sender::send_last` the receive needs no read-modify-write at all.
//! On bare metal (`target_os = "none"`), where flash is scarce and the lock section is a short
//! critical section, these paths take the lock instead; with no lock-free writer left, the
//! section alone is the lock and the bit is never set. No `SeqCst` anywhere. Targets without
//! compare-and-swap (thumbv6m, riscv32imc) get the same operations from `portable-atomic`
//! through sync-core (each one a short critical section there).
//!
//! **No waker or destructor code runs while the lock is held.** A critical section moves wakers
//! and values between the cells and local variables; the waker is cloned before the lock is
//! taken again, and woken or dropped, like an overwritten value, after it is released. So a
//! panicking or re-entrant waker (one whose drop drops the other handle) cannot deadlock the
//! hatch, leave it locked or free it under our feet: a handle that is not last never touches the
//! hatch after its final unlock, and only the handle that finds the other side's `DROPPED` bit
//! under the lock frees (boxed) or resets (your memory) it.
//!
//! ## State machine
//!
//! Per side `open → closed → dropped` (`closes` stops at closed, a drop goes straight to
//! dropped); the slot alternates `empty ⇄ full`:
//!
//! | event | needs | effect | then (lock released) |
//! | --- | --- | --- | --- |
//! | send | receiver open; slot empty or overwriting | `full`; take receiver waker (and an overwritten value) | wake receiver, drop old value |
//! | send (future) | slot full, not overwriting | park sender waker | — |
//! | receive | slot full | `empty`; take sender waker | wake sender |
//! | receive | slot empty, sender closed | — | `Err(Closed)` |
//! | receive (future/blocking) | slot empty, sender open | park receiver waker; if newly listening take sender waker | wake lazy sender |
//! | wait | receiver waker parked | `Ok` | — |
//! | drop of a handle | — | closed + dropped; take the waker | wake peer; if the peer was dropped too: clean up |
//! | recycle | peer dropped | both sides open, the slot unchanged | — |
//!
//! The cleanup by the last handle frees a boxed hatch (dropping a pending value); a hatch you
//! manage is marked free (`reclaims`: pending value dropped; `recycles`: kept) or else spent,
//! pending value dropped ([`Hatch::split`] with `&mut` makes it usable again).
//!
//! ## Interrupt handlers
//!
//! **On bare metal (`target_os = "none"`: thumbv6m/thumbv7em/…, riscv32imc, …) a hatch is safe
//! to use from interrupt handlers**, also on a single core where the handler preempts code that
//! uses the same hatch (an ISR sending to a task, or dropping a handle). There every critical
//! section of the internal lock runs inside a `critical-section` critical section, entered just
//! before the lock bit is taken and left just after it is released, so no interrupt can run while
//! the lock is held and a handler never spins on a lock held by the code it preempted. Wakers and
//! `T`'s destructor still run outside (after the unlock), with interrupts as they were.
//!
//! The cost: an interrupt may be delayed by one critical section of the hatch — a few dozen
//! instructions plus a move of one `T` (so keep `T` small, or send a pointer, if interrupt
//! latency matters) — and each locked operation pays for entering and leaving a critical section
//! (on a single-core Cortex-M: read `PRIMASK`, `cpsid i`, and a conditional `cpsie i`). The
//! final binary must provide a `critical-section` implementation, as sync-core already requires
//! (e.g. `cortex-m`'s `critical-section-single-core`). On a multi-core chip the implementation's
//! cross-core lock makes it hold as well.
//!
//! **Several handlers sending to one task**: a [`SharedHatch`] in a `static` takes sends through
//! `&self` ([`SharedHatch::send`], [`SharedHatch::replace`]) from any number of handlers, with
//! no mutex around a handle, while the task awaits its one [`Receiver`]. Each send is one locked
//! critical section; it never waits for the receiver and never panics itself (only the receiver's
//! waker, which it wakes, is foreign code), and a value that cannot be delivered comes back in
//! the error.
//!
//! ```
//! static EVENTS: hatch::SharedHatch<u32> = hatch::SharedHatch::new();
//!
//! fn on_interrupt() {
//!     let _ = EVENTS.replace(7); // keep the newest value, like embassy-sync's `Signal`
//! }
//! # futures_lite::future::block_on(async {
//! let mut rx = EVENTS.receiver().unwrap();
//! on_interrupt();
//! assert_eq!(rx.receive().await, Ok(7));
//! # });
//! ```
//!
//! ## Threads and tasks of different priorities
//!
//! The lock never spins. It is sync-core's lock section for the hatch's address
//! (`sync_core::lock`): on bare metal the critical section above; on a hosted target with
//! feature `std` one of 64 striped OS lock words (sleeping in a futex on Linux and Android, in
//! `parking_lot_core` elsewhere, ESP-IDF included), so
//! a thread of higher priority (`SCHED_FIFO`, FreeRTOS priorities) that finds it held sleeps and
//! lets the holder finish; on a host without `std`, the binary's critical section (an OS mutex in
//! critical-section's `std` implementation). The lock-free paths above (hosts) take no lock. An
//! OS signal handler must not use a hatch's locked paths at all on a hosted target: the thread it
//! interrupted may hold that hatch's lock, or another hatch's that shares its stripe. Tested by
//! `tests/priority.rs` (two `SCHED_FIFO` threads on one CPU).
//!
//! ## Known bug classes, each with a test
//!
//! Tests in `tests/known_bugs.rs` (also run under miri), backed by the loom models in
//! `tests/loom_hatch.rs` (`send_vs_receive`, `send_vs_receiver_drop`,
//! `parked_receiver_dropped_during_send`, `overwrite_vs_receive`, `recycle_vs_close`,
//! `lazy_send_vs_receiver_drop`, `receive_vs_sender_drop`, `waker_update_vs_send`,
//! `recycle_then_receive_on_third_thread`, and for the lock-free paths
//! `send_now_vs_receiver_close`, `send_now_vs_receive_now`,
//! `receive_now_vs_overwrite_and_drop`, `send_last_vs_receive_now`, `send_last_vs_receiver_drop`,
//! `send_last_vs_parked_receive`,
//! and for a hatch you manage `try_split_vs_recycling_cleanup` and
//! `send_last_vs_reclaiming_receiver`; `send_last` is also tested alone in `tests/send_last.rs`):
//!
//! * `rustsec_2026_0005_receiver_polled_then_dropped_during_send` — the use-after-free of the
//!   `oneshot` crate: a receive future parked, then the receiver dropped while a send runs.
//! * `rustsec_2021_0124_close_races_send_and_receive` — tokio's data race: the receiver closes
//!   (`closes`) while a send and a receive are in flight.
//! * `close_racing_send_never_loses_the_value` — futures #620: a value is either received, or
//!   returned in `SendError::Closed`, or dropped exactly once with the hatch; never lost.
//! * `no_spurious_wake_after_sender_finished` — futures #1490: a completed send future leaves no
//!   waker behind that a later receiver drop would wake.
//! * `waker_updates_are_synchronised` — async-oneshot #20: re-polling with a new waker replaces
//!   the old one under the lock; only the latest is woken and the old one is dropped.
//! * `waker_drop_that_reenters_the_hatch` — folo #473: a waker whose drop drops the other handle
//!   (freeing the hatch) while we are still in our operation.
//! * `panicking_waker_clone_does_not_poison` — async-hatch cloned wakers under its spin lock;
//!   also `panicking_wake_after_unlock_keeps_the_value` and
//!   `panicking_drop_of_overwritten_value` (user code panicking after the unlock).
//! * `setters_set_not_toggle`, `recycle_keeps_pending_value`, and the loom model
//!   `recycle_vs_close` (async-hatch's `recover` read the peer's close with `Relaxed`).
//!
//! # Sizes
//!
//! | type (64-bit, `T = u64`) | bytes |
//! | --- | --- |
//! | `Hatch<u64>` (the shared state, one `Box` with [`hatch()`]) | 32 |
//! | `Hatch<()>` | 24 |
//! | `Sender`, `Receiver`, and `Option` of either | 16 (pointer + local flags) |
//! | `Sending<u64>` / `Receiving<u64>` | 24 / 16 |
//!
//! Asserted in `tests/sizes.rs`. On 32-bit targets `Hatch<u32>` is 16 bytes and `Hatch<u64>` 24
//! where `u64` is 8-aligned (Arm, RISC-V), checked at compile time: one value slot, one waker
//! slot that the two sides share (only one of them can be waiting at a time) and the state word. No allocation per message on
//! a reused hatch (the blocking receive's thread waker is made once per thread), counted by
//! `tests/no_alloc.rs`.
//!
//! # Features
//!
//! `alloc` (default): [`hatch()`]. `std`: `Receiver::receive_blocking` and the OS lock (implies `alloc`).
//! `async` (default): the `Future` impls and [`Sender::wait`]. `defmt`: `defmt::Format` for the
//! handles and error types. `spin_loop_hint` (default): no effect any more (the lock does not
//! spin), kept for existing manifests. With `std` the internal lock is an OS lock
//! (`sync-core/std`).
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test, loom))]
extern crate std;

#[cfg(all(feature = "std", not(loom)))]
mod blocking;
#[cfg(feature = "defmt")]
mod defmt_impls;
mod error;
mod handle;
mod receiver;
mod sender;
mod shared;
mod shared_hatch;

pub use error::{Closed, RecycleError, SendError};
pub use receiver::{Receiver, Receiving};
#[cfg(feature = "async")]
pub use sender::Wait;
pub use sender::{Sender, Sending};
pub use shared::Hatch;
pub use shared_hatch::SharedHatch;

/// Creates a hatch in a `Box` and returns its two handles; the last handle to drop frees it.
///
/// ```
/// let (mut s, mut r) = hatch::hatch::<&str>();
/// s.send("hello").now().unwrap();
/// assert_eq!(r.receive().now(), Ok(Some("hello")));
/// ```
#[cfg(feature = "alloc")]
#[must_use]
pub fn hatch<T>() -> (Sender<'static, T>, Receiver<'static, T>) {
    // Allocate first, so the optimizer can build the hatch in place in the allocation (it may;
    // nothing guarantees it, the value is still an argument).
    let boxed = alloc::boxed::Box::write(alloc::boxed::Box::new_uninit(), Hatch::<T>::new_in_use());
    let ptr = core::ptr::NonNull::from(alloc::boxed::Box::leak(boxed));
    // SAFETY: the leaked box lives until the last handle frees it (`F_BOXED`), so `'static` is
    // the handles' view of it, and this is its only sender. `F_UNSENT`: the slot begins empty.
    let sender = unsafe { Sender::from_raw(ptr, handle::F_BOXED | handle::F_UNSENT) };
    // SAFETY: as above, for its only receiver.
    let receiver = unsafe { Receiver::from_raw(ptr, handle::F_BOXED) };
    (sender, receiver)
}
