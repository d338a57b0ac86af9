//! Sizes of the public types (the numbers quoted in the crate docs), on 64-bit targets.
#![cfg(target_pointer_width = "64")]

use std::mem::size_of;

use framealloc::{Frame, FrameBox, FrameVec, PoolBox, PoolVec, SmartAlloc};

#[test]
fn handle_sizes() {
    assert_eq!(size_of::<SmartAlloc>(), 8, "one Arc");
    assert_eq!(size_of::<Option<SmartAlloc>>(), 8);
    assert_eq!(size_of::<FrameBox<'_, u64>>(), 8, "one pointer");
    assert_eq!(
        size_of::<FrameVec<'_, u64>>(),
        32,
        "pointer, len, cap, frame"
    );
    assert_eq!(
        size_of::<PoolBox<'_, u64>>(),
        16,
        "pointer and a tagged pool-or-scope pointer"
    );
    assert_eq!(size_of::<PoolVec<'_, u64>>(), 32);
    assert!(size_of::<Frame<'_>>() <= 128, "{}", size_of::<Frame<'_>>());
}

#[cfg(feature = "task")]
#[test]
fn scope_sizes() {
    use framealloc::task::{AsyncPoolGuard, TaskAlloc};
    assert_eq!(
        size_of::<TaskAlloc>(),
        40,
        "Arc, pool pointer, three counters"
    );
    assert_eq!(
        size_of::<AsyncPoolGuard<'_>>(),
        40,
        "reference, pool pointer, three counters"
    );
}
