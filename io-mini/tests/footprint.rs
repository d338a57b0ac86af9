//! Memory footprint: the static reactor and `Async<T>` sizes, checked with `size_of`.
//!
//! Per source 12 bytes (8 on ESP-IDF, which stores no file identity); per waiter place 24
//! bytes on 64-bit targets (12 on 32-bit: a two-word waker plus an index and two tags); plus
//! the mutex, three flags, a mode byte, two `u16` high-water marks, a one-word mask of the
//! waiting places and the backend's fd cell (the eventfd; with epoll, the epoll fd too).
//!
//! The ESP-IDF figures cannot be measured by a host test: they are asserted at compile time in
//! the crate (`src/lib.rs`) whenever it is built for ESP-IDF, as `cargo xtask cross` does.
#![cfg(not(loom))]

use std::net::TcpStream;

use io_mini::{Async, MAX_SOURCES, MAX_WAITERS};

const WORD: usize = size_of::<usize>();
/// A source: fd, file id, generation and two flag bytes.
const SOURCE: usize = 12;
/// A waiter place: `Option<Waker>` (two words) + u16 + two u8, rounded to a word.
const PLACE: usize = (2 * WORD + 4).div_ceil(WORD) * WORD;

#[test]
fn reactor_size_follows_the_formula() {
    let overhead = io_mini::reactor_size_for::<0, 0>();
    assert!(overhead <= 40, "fixed overhead {overhead} B");
    assert_eq!(
        io_mini::reactor_size_for::<20, 20>(),
        (overhead + 20 * SOURCE + 20 * PLACE).next_multiple_of(8)
    );
    assert_eq!(
        io_mini::reactor_size(),
        io_mini::reactor_size_for::<MAX_SOURCES, MAX_WAITERS>()
    );
    // The figures of the crate docs' memory table (x86_64): the epoll backend keeps its epoll
    // fd next to the eventfd, 8 bytes more than `poll(2)`'s.
    if WORD == 8 {
        let epoll = if io_mini::BACKEND == "epoll" { 8 } else { 0 };
        assert_eq!(io_mini::reactor_size_for::<20, 20>(), 752 + epoll);
        assert_eq!(io_mini::reactor_size_for::<64, 64>(), 2_336 + epoll);
        assert_eq!(io_mini::reactor_size_for::<256, 256>(), 9_248 + epoll);
    }
}

#[test]
fn async_adds_eight_bytes() {
    assert_eq!(
        size_of::<Async<TcpStream>>(),
        size_of::<TcpStream>() + 8,
        "key (4 B) + two parked waiter ids (4 B); the handle's fd niche holds the Option"
    );
}
