//! The vector both tiers share (`FrameVec`, `PoolVec`): every element dropped exactly once on
//! every path (pop, clear, drop, a panicking destructor, `into_vec`, `leak`), the buffer given
//! back, zero-sized elements.

mod common;

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use common::{Drops, PanicOnDrop};
use framealloc::SmartAlloc;

/// Counts its drop; panics in it when `panics` is set.
struct Element {
    _token: common::Token,
    panics: bool,
}

impl Drop for Element {
    fn drop(&mut self) {
        if self.panics {
            panic!("Element");
        }
    }
}

#[test]
fn pool_vec_drops_each_element_once_and_frees_its_block_when_a_destructor_panics() {
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    let mut v = alloc.pool_vec();
    v.extend((0..5).map(|i| Element {
        _token: drops.track(i),
        panics: i == 1,
    }));
    assert_eq!(alloc.stats().pool.live_count(), 1);
    let caught = catch_unwind(AssertUnwindSafe(|| drop(v)));
    assert!(caught.is_err(), "the destructor's panic reaches the caller");
    assert_eq!(drops.count(), 5, "the slice drop goes on after the panic");
    assert_eq!(alloc.stats().pool.live_count(), 0, "block given back");
}

#[test]
fn frame_vec_clear_after_a_panicking_destructor_never_drops_twice() {
    let alloc = SmartAlloc::new(Default::default());
    let frame = alloc.begin_frame();
    let drops = Drops::new();
    let mut v = frame.frame_vec();
    v.push(PanicOnDrop(drops.track(0)));
    let caught = catch_unwind(AssertUnwindSafe(|| v.clear()));
    assert!(caught.is_err());
    assert_eq!(drops.count(), 1);
    assert!(v.is_empty(), "len was reset before the destructor ran");
    drop(v);
    assert_eq!(drops.count(), 1, "nothing dropped twice");
    alloc.end_frame(frame);
}

#[test]
fn pop_into_vec_and_leak_move_elements_out_without_dropping_them() {
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    let mut v = alloc.pool_vec();
    v.extend((0..10).map(|i| drops.track(i)));
    let last = v.pop().expect("ten elements");
    assert_eq!((last.id, drops.count()), (9, 0));
    drop(last);
    let std_vec = v.into_vec();
    assert_eq!(drops.count(), 1);
    assert_eq!(
        alloc.stats().pool.live_count(),
        0,
        "into_vec gave the block back"
    );
    assert_eq!(
        std_vec.iter().map(|t| t.id).collect::<Vec<_>>(),
        (0..9).collect::<Vec<_>>()
    );
    drop(std_vec);
    assert_eq!(drops.count(), 10);

    // `leak`: a counter that owns no heap memory, so nothing leaks but the elements.
    struct CountsDrop<'c>(&'c Cell<usize>, usize);
    impl Drop for CountsDrop<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let leaked_drops = Cell::new(0);
    let frame = alloc.begin_frame();
    let mut f = frame.frame_vec();
    f.extend((0..3).map(|i| CountsDrop(&leaked_drops, i)));
    let leaked = f.leak();
    assert_eq!(leaked.len(), 3);
    assert_eq!(leaked[2].1, 2);
    alloc.end_frame(frame);
    assert_eq!(leaked_drops.get(), 0, "leaked elements are never dropped");
}

#[test]
fn zero_sized_elements_take_no_buffer() {
    let alloc = SmartAlloc::new(Default::default());
    let mut v = alloc.pool_vec::<()>();
    for _ in 0..1000 {
        v.push(());
    }
    assert_eq!((v.len(), v.capacity()), (1000, usize::MAX));
    assert_eq!(alloc.stats().pool.allocations, 0);
    assert_eq!(v.into_vec().len(), 1000);

    let frame = alloc.begin_frame();
    let mut f = frame.frame_vec::<()>();
    f.extend(std::iter::repeat_n((), 1000));
    assert_eq!(f.len(), 1000);
    assert_eq!(frame.used(), 0);
    drop(f);
    alloc.end_frame(frame);
}

#[test]
fn growth_keeps_the_elements_in_both_tiers() {
    let alloc = SmartAlloc::new(Default::default());
    let mut p = alloc.pool_vec::<u64>();
    let frame = alloc.begin_frame();
    let mut f = frame.frame_vec::<u64>();
    for i in 0..400 {
        p.push(i);
        f.push(i);
        if i % 100 == 0 {
            // Something else after `f` in the arena forces its next growth to move.
            let _ = frame.frame_box(i);
        }
    }
    assert!(p.iter().copied().eq(0..400));
    assert!(f.iter().copied().eq(0..400));
    assert_eq!(alloc.stats().pool.live_count(), 1, "one block at a time");
    drop(f);
    alloc.end_frame(frame);
    drop(p);
    assert_eq!(alloc.stats().pool.live_count(), 0);
}
