//! A panic — in user code while a frame is open, in a destructor, an iterator or a `Clone` —
//! leaves every structure usable: frames end and the arena comes back, blocks are given back,
//! counters stay right, and nothing is dropped twice.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::{Drops, PanicOnDrop};
use framealloc::{AllocConfig, Overflow, SmartAlloc};

fn small_arena() -> SmartAlloc {
    SmartAlloc::new(AllocConfig {
        frame_capacity: 256,
        frame_overflow: Overflow::Grow,
        ..Default::default()
    })
}

#[test]
fn a_panic_while_a_frame_is_open_ends_the_frame_and_the_next_one_opens() {
    let alloc = small_arena();
    let drops = Drops::new();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        let frame = alloc.begin_frame();
        let _kept = frame.frame_box(drops.track(0));
        let _big = frame.frame_slice(&[1u8; 1000]); // heap overflow
        let mut v = frame.frame_vec();
        v.extend((1..4).map(|i| drops.track(i)));
        panic!("user code");
    }));
    assert!(caught.is_err());
    assert_eq!(
        drops.count(),
        4,
        "the frame's values were dropped while unwinding"
    );
    let st = alloc.stats();
    assert_eq!(st.frames, 1, "the frame ended");
    assert_eq!(st.heap.live_count(), 0, "its heap overflow was freed");
    assert!(st.frame.reserved_bytes >= 1000, "and Grow still applied");
    let frame = alloc.try_begin_frame().expect("the arena is back");
    assert_eq!(frame.number(), 1);
    assert_eq!(*frame.frame_box(7u32), 7);
    alloc.end_frame(frame);
}

#[test]
fn a_panicking_destructor_of_frame_data_leaves_the_frame_usable() {
    let alloc = small_arena();
    let drops = Drops::new();
    let frame = alloc.begin_frame();
    let b = frame.frame_box(PanicOnDrop(drops.track(0)));
    assert!(catch_unwind(AssertUnwindSafe(|| drop(b))).is_err());
    let mut v = frame.frame_vec();
    v.push(drops.track(1));
    v.push(drops.track(2));
    let mut w = frame.frame_vec();
    w.push(PanicOnDrop(drops.track(3)));
    w.push(PanicOnDrop(drops.track(4)));
    // The second destructor panics while the first one unwinds: Rust aborts on a double panic,
    // so drop them one at a time.
    let last = w.pop().expect("two");
    assert!(catch_unwind(AssertUnwindSafe(|| drop(w))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| drop(last))).is_err());
    assert_eq!(drops.count(), 3);
    assert_eq!(v.len(), 2, "other frame data is untouched");
    let again = frame.frame_box(5u64);
    assert_eq!(*again, 5);
    drop((v, again));
    assert_eq!(drops.count(), 5);
    alloc.end_frame(frame);
    assert!(alloc.try_begin_frame().is_some());
}

#[test]
fn end_frame_with_a_foreign_frame_gives_it_back_to_its_own_allocator() {
    let a = small_arena();
    let b = small_arena();
    let caught = catch_unwind(AssertUnwindSafe(|| a.end_frame(b.begin_frame())));
    assert!(caught.is_err());
    assert_eq!(b.stats().frames, 1, "b's frame ended while unwinding");
    assert_eq!(a.stats().frames, 0);
    a.end_frame(a.try_begin_frame().expect("a is untouched"));
    b.end_frame(b.try_begin_frame().expect("b has its arena back"));
}

/// An iterator that yields `n` tokens, then panics; it claims more than it yields.
struct Bomb<'d> {
    drops: &'d Drops,
    left: usize,
}

impl Iterator for Bomb<'_> {
    type Item = common::Token;
    fn next(&mut self) -> Option<common::Token> {
        if self.left == 0 {
            panic!("iterator");
        }
        self.left -= 1;
        Some(self.drops.track(self.left))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left + 10, None)
    }
}

/// Panics in `clone` when `id` is 2.
struct CloneBomb(usize);

impl Clone for CloneBomb {
    fn clone(&self) -> Self {
        assert_ne!(self.0, 2, "clone");
        Self(self.0)
    }
}

#[test]
fn a_panicking_iterator_or_clone_leaves_vectors_of_both_tiers_consistent() {
    let alloc = small_arena();
    let drops = Drops::new();
    let frame = alloc.begin_frame();
    let mut fv = frame.frame_vec();
    let mut pv = alloc.pool_vec();
    for round in 0..2 {
        let before = drops.count();
        let r = catch_unwind(AssertUnwindSafe(|| {
            fv.extend(Bomb {
                drops: &drops,
                left: 3,
            });
        }));
        assert!(r.is_err());
        let r = catch_unwind(AssertUnwindSafe(|| {
            pv.extend(Bomb {
                drops: &drops,
                left: 3,
            });
        }));
        assert!(r.is_err());
        assert_eq!(drops.count(), before, "nothing dropped by the panic");
        assert_eq!((fv.len(), pv.len()), (3 * (round + 1), 3 * (round + 1)));
    }
    let src: Vec<_> = (0..4).map(CloneBomb).collect();
    let mut cv = alloc.pool_vec();
    assert!(catch_unwind(AssertUnwindSafe(|| cv.extend_from_slice(&src))).is_err());
    assert_eq!(
        cv.iter().map(|c| c.0).collect::<Vec<_>>(),
        [0, 1],
        "the clones before the panic stay"
    );
    drop((fv, pv, cv));
    assert_eq!(drops.count(), 12, "every token dropped once");
    alloc.end_frame(frame);
    assert_eq!(alloc.stats().pool.live_count(), 0);
}

#[cfg(feature = "task")]
#[test]
fn scope_counters_stay_right_when_a_destructor_panics() {
    use framealloc::task::{AsyncPoolGuard, TaskAlloc};
    let alloc = SmartAlloc::default();
    let drops = Drops::new();
    let task = TaskAlloc::new(&alloc);
    let guard = AsyncPoolGuard::new(&alloc);
    let a = task.alloc_box(PanicOnDrop(drops.track(0)));
    let mut v = guard.pool_vec();
    v.push(PanicOnDrop(drops.track(1)));
    assert_eq!((task.live_allocations(), guard.live_allocations()), (1, 1));
    assert!(catch_unwind(AssertUnwindSafe(|| drop(a))).is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| drop(v))).is_err());
    assert_eq!(drops.count(), 2);
    assert_eq!((task.live_allocations(), task.live_bytes()), (0, 0));
    assert_eq!((guard.live_allocations(), guard.live_bytes()), (0, 0));
    assert_eq!(alloc.stats().pool.live_count(), 0);
    assert_eq!(*task.alloc_box(3u8), 3, "the scope still works");
}
