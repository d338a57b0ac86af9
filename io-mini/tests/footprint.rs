//! Memory footprint: the static reactor and `Async<T>` sizes, checked with `size_of`.
//!
//! Per source 8 bytes; per waiter place 24 bytes on 64-bit targets (12 on 32-bit: a two-word
//! waker plus an index and two tags); plus the mutex, three flags and the eventfd cell.
#![cfg(not(loom))]

use std::net::TcpStream;

use io_mini::{Async, MAX_SOURCES, MAX_WAITERS};

const WORD: usize = size_of::<usize>();
/// A waiter place: `Option<Waker>` (two words) + u16 + two u8, rounded to a word.
const PLACE: usize = (2 * WORD + 4).div_ceil(WORD) * WORD;

#[test]
fn reactor_size_follows_the_formula() {
    let overhead = io_mini::reactor_size_for::<0, 0>();
    assert!(overhead <= 24, "fixed overhead {overhead} B");
    assert_eq!(
        io_mini::reactor_size_for::<20, 20>(),
        (overhead + 20 * 8 + 20 * PLACE).next_multiple_of(8)
    );
    assert_eq!(
        io_mini::reactor_size(),
        io_mini::reactor_size_for::<MAX_SOURCES, MAX_WAITERS>()
    );
}

#[test]
fn esp_idf_default_fits_512_bytes_on_32_bit() {
    // The same layout with 32-bit words (4-byte waker halves): 20 sources, 20 places.
    let overhead_32 = 4 + 4 + 4 + 4; // futex + poison flag, three flags, eventfd cell
    let size_32 = overhead_32 + 20 * 8 + 20 * 12;
    assert!(size_32 <= 512, "{size_32} B");
    if WORD == 8 {
        // On this 64-bit host the same capacity costs the wider waker places.
        assert!(io_mini::reactor_size_for::<20, 20>() <= 24 + 20 * 8 + 20 * 24);
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
