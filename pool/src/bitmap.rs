//! [`Bitmap`]: the lock-free allocation bitmap of a pool, one bit per slot.
//!
//! Bit `i` is set while slot `i` is taken: owned by a [`Box`](crate::Box), reserved by an
//! allocation in progress, or travelling from a dropped `Box` to a waiter. A new bitmap is all
//! zeros, so a pool's `static` lands in `.bss` (no flash image of its slots); bits at and above `N`
//! in the last word stay zero and are masked out by the scan (a constant when `N` is, so free for
//! every word but the last).
//!
//! * [`Bitmap::acquire`] scans the words in order and, in the first word with a clear bit, sets
//!   its lowest clear bit with a `fetch_or` (if a racer set that bit first, it looks again). The
//!   policy is *lowest free index first*, like atomic-pool's. It costs O(⌈N/32⌉) loads in the
//!   worst case and one load plus one `fetch_or` when slot 0's word has room. Only the last word
//!   has padding bits, so a one-word bitmap compiles to the scan of one word.
//! * [`Bitmap::release`] clears one bit with a single `fetch_and`.
//!
//! A bitmap has no ABA problem (no next pointers) and works on targets without CAS through
//! portable-atomic. Orderings: the `fetch_or` that sets a bit is `Acquire` and the `fetch_and` that clears
//! it is `Release`, so everything the previous owner did to the slot (dropping its value)
//! happens-before the next owner writes to it.

use sync_core::sync::atomic::AtomicU32;
use sync_core::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// Bits per bitmap word.
pub(crate) const BITS: usize = 32;

/// The number of bitmap words for `n` slots.
#[doc(hidden)]
#[must_use]
pub const fn words_for(n: usize) -> usize {
    n.div_ceil(BITS)
}

/// The bits of word `word` that do not stand for a slot of an `n`-slot pool (masked as taken).
#[inline(always)]
const fn padding_bits(n: usize, word: usize) -> u32 {
    let first = word * BITS;
    if first + BITS <= n {
        0
    } else if first >= n {
        u32::MAX
    } else {
        // 1..=31 valid bits in this word.
        u32::MAX << (n - first)
    }
}

/// Sets the lowest bit of `word` that is clear in it and in `padding`, and returns its number.
///
/// `fetch_or` of the chosen bit (`Acquire`: pairs with the `Release` clear of its last owner).
/// If a racer set that bit first, it was set already and nothing changed: look again.
#[inline(always)]
fn take_lowest(word: &AtomicU32, padding: u32) -> Option<usize> {
    let mut current = word.load(Relaxed);
    loop {
        let free = !(current | padding);
        if free == 0 {
            return None;
        }
        let bit = free.trailing_zeros();
        if word.fetch_or(1 << bit, Acquire) & (1 << bit) == 0 {
            return Some(bit as usize);
        }
        current = word.load(Relaxed);
    }
}

/// `K` words of allocation bits (see the [module docs](self)).
pub(crate) struct Bitmap<const K: usize> {
    words: [AtomicU32; K],
}

impl<const K: usize> Bitmap<K> {
    /// An all-free bitmap (all zeros).
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            words: [const { AtomicU32::new(0) }; K],
        }
    }

    /// An all-free bitmap (all zeros).
    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            words: core::array::from_fn(|_| AtomicU32::new(0)),
        }
    }

    /// Sets the lowest clear bit below `n` and returns its index, or `None` if every one is set.
    ///
    /// Every word but the last is all slots; only the last one has padding bits (a constant
    /// once inlined), so a one-word bitmap compiles to a single word's scan.
    #[inline]
    pub(crate) fn acquire(&self, n: usize) -> Option<usize> {
        let last = K.checked_sub(1)?;
        for w in 0..last {
            if let Some(bit) = take_lowest(&self.words[w], 0) {
                return Some(w * BITS + bit);
            }
        }
        take_lowest(&self.words[last], padding_bits(n, last)).map(|bit| last * BITS + bit)
    }

    /// Clears bit `index`, which must be set.
    #[inline]
    pub(crate) fn release(&self, index: usize) {
        let mask = 1u32 << (index % BITS);
        let _before = self.words[index / BITS].fetch_and(!mask, Release);
        debug_assert!(_before & mask != 0, "pool: slot {index} released twice");
    }

    /// The number of clear bits below `n` (free slots) at the moment of each word's load.
    pub(crate) fn count_free(&self, n: usize) -> usize {
        self.words
            .iter()
            .enumerate()
            .map(|(w, word)| (word.load(Relaxed) | padding_bits(n, w)).count_zeros() as usize)
            .sum()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Bitmap, words_for};

    fn fill_free_refill<const K: usize>(n: usize) {
        let bitmap = Bitmap::<K>::new();
        assert_eq!(bitmap.count_free(n), n);
        for expected in 0..n {
            assert_eq!(bitmap.acquire(n), Some(expected), "lowest free index first");
        }
        assert_eq!(bitmap.acquire(n), None);
        assert_eq!(bitmap.count_free(n), 0);
        // Free in a scrambled order, then re-acquire: always the lowest free index.
        let mut freed: std::vec::Vec<usize> = (0..n).filter(|i| i % 3 != 1).collect();
        freed.reverse();
        for &i in &freed {
            bitmap.release(i);
        }
        assert_eq!(bitmap.count_free(n), freed.len());
        freed.sort_unstable();
        for &i in &freed {
            assert_eq!(bitmap.acquire(n), Some(i));
        }
        assert_eq!(bitmap.acquire(n), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(words_for(0), 0);
        assert_eq!(words_for(1), 1);
        assert_eq!(words_for(32), 1);
        assert_eq!(words_for(33), 2);
        fill_free_refill::<0>(0);
        fill_free_refill::<1>(1);
        fill_free_refill::<1>(31);
        fill_free_refill::<1>(32);
        fill_free_refill::<2>(33);
        fill_free_refill::<2>(64);
        fill_free_refill::<3>(65);
        fill_free_refill::<4>(100);
    }
}
