//! Behaviour of the frame tier: reuse, alignment, capacity and overflow, independence, drops.

mod common;

use std::cell::Cell;
use std::mem::align_of;

use common::{Drops, n};
use framealloc::{AllocConfig, Overflow, SmartAlloc};

fn small(capacity: usize, overflow: Overflow) -> SmartAlloc {
    SmartAlloc::new(AllocConfig {
        frame_capacity: capacity,
        frame_overflow: overflow,
        ..Default::default()
    })
}

#[test]
fn frame_memory_is_reused_at_the_same_address() {
    let alloc = SmartAlloc::new(Default::default());
    let mut first = None;
    for i in 0..n(10, 3) {
        let frame = alloc.begin_frame();
        assert_eq!(frame.number(), i);
        let a = frame.frame_box(i as u64);
        let p = std::ptr::from_ref::<u64>(&a);
        assert_eq!(*first.get_or_insert(p), p, "frame {i} moved");
        drop(a);
        alloc.end_frame(frame);
    }
}

#[test]
fn memory_is_flat_over_1000_frames() {
    let alloc = small(4096, Overflow::Heap);
    let frames = n(1000, 40);
    let mut reserved = None;
    let mut first = None;
    for i in 0..frames {
        let frame = alloc.begin_frame();
        let mut v = frame.frame_vec::<u32>();
        v.extend(0..64);
        let s = frame.frame_slice(&[7u8; 100]);
        let big = frame.frame_box([1u8; 8192]); // over capacity: heap tier, freed at the end
        assert_eq!(s[99], 7);
        assert_eq!(big[8191], 1);
        let p = v.as_ptr();
        assert_eq!(*first.get_or_insert(p), p);
        drop((v, big));
        alloc.end_frame(frame);
        let st = alloc.stats();
        assert_eq!(st.heap.live_count(), 0, "frame {i} leaked heap overflow");
        assert_eq!(st.frame.live_count(), 0);
        assert_eq!(
            *reserved.get_or_insert(st.frame.reserved_bytes),
            st.frame.reserved_bytes
        );
    }
    let st = alloc.stats();
    assert_eq!(st.frames, frames);
    assert_eq!(st.frame.reserved_bytes, 4096);
    assert_eq!(st.heap.allocations, frames);
    assert_eq!(st.heap.frees, frames);
    assert_eq!(st.frame.allocations, st.frame.frees);
    assert_eq!(st.frame.bytes_allocated, st.frame.bytes_freed);
    assert!(st.frame.allocations >= 2 * frames);
}

fn check_frame_align<T: Default + Copy>() {
    let alloc = small(256 * 1024, Overflow::Heap);
    let frame = alloc.begin_frame();
    for round in 0..3 {
        let byte = frame.frame_box(round as u8);
        let b = frame.frame_box(T::default());
        let addr = std::ptr::from_ref::<T>(&b).addr();
        assert_eq!(addr % align_of::<T>(), 0, "align {}", align_of::<T>());
        let raw = frame.frame_alloc::<T>();
        assert_eq!(std::ptr::from_mut(raw).addr() % align_of::<T>(), 0);
        let s = frame.frame_slice(&[T::default(); 3]);
        assert_eq!(s.as_ptr().addr() % align_of::<T>(), 0);
        let mut v = frame.frame_vec::<T>();
        v.push(T::default());
        assert_eq!(v.as_ptr().addr() % align_of::<T>(), 0);
        assert_eq!(*byte, round as u8);
    }
    let used = frame.used();
    if align_of::<T>() <= 4096 {
        assert!(used > 0);
    }
    alloc.end_frame(frame);
    let st = alloc.stats();
    assert_eq!(st.heap.live_count(), 0);
    if align_of::<T>() > 4096 {
        assert!(
            st.heap.allocations > 0,
            "alignment above 4096 falls back to the heap"
        );
    } else {
        assert_eq!(st.heap.allocations, 0);
    }
}

#[test]
fn alignment_1_to_8192_interleaved_with_single_bytes() {
    for_each_align!(check_frame_align);
}

#[test]
fn over_capacity_falls_back_to_the_heap() {
    let alloc = small(1024, Overflow::Heap);
    let frame = alloc.begin_frame();
    let a = frame.frame_box([1u8; 600]);
    let b = frame.frame_box([2u8; 600]); // does not fit: heap
    let c = frame.frame_box([3u8; 300]); // fits after `a`
    assert!(frame.used() <= 1024);
    assert_eq!(frame.allocations(), 3);
    assert_eq!((a[0], b[599], c[299]), (1, 2, 3));
    assert_eq!(alloc.stats().heap.live_count(), 1);
    assert_eq!(alloc.stats().heap.live_bytes(), 600);
    drop((a, b, c));
    alloc.end_frame(frame);
    let st = alloc.stats();
    assert_eq!(st.heap.live_count(), 0);
    assert_eq!(st.frame.allocations, 2);
    assert_eq!(
        st.frame.bytes_allocated,
        600 + 304,
        "arena blocks take whole 8-byte granules"
    );
    assert_eq!(
        st.frame.reserved_bytes, 1024,
        "the configured capacity is honoured"
    );
}

#[test]
fn grow_mode_enlarges_the_arena_at_the_frame_boundary() {
    let alloc = small(1024, Overflow::Grow);
    let frame = alloc.begin_frame();
    assert_eq!(frame.capacity(), 1024);
    let v = frame.frame_slice(&[9u8; 3000]);
    assert_eq!(v[2999], 9);
    alloc.end_frame(frame);
    assert_eq!(alloc.stats().heap.allocations, 1);
    let frame = alloc.begin_frame();
    assert!(frame.capacity() >= 3000, "capacity {}", frame.capacity());
    let v = frame.frame_slice(&[9u8; 3000]);
    assert_eq!(v[0], 9);
    alloc.end_frame(frame);
    assert_eq!(
        alloc.stats().heap.allocations,
        1,
        "second frame fits the arena"
    );
}

#[test]
fn hard_limit_returns_errors_and_gives_values_back() {
    let alloc = small(256, Overflow::Error);
    let frame = alloc.begin_frame();
    let drops = Drops::new();
    let ok = frame.try_frame_box([0u8; 200]).expect("fits");
    let err = frame.try_frame_box((drops.track(1), [0u8; 200]));
    let back = err.expect_err("over the hard limit").into_inner();
    assert_eq!(back.0.id, 1);
    assert_eq!(drops.count(), 0);
    drop(back);
    assert_eq!(drops.count(), 1);
    assert!(frame.try_frame_alloc::<[u8; 100]>().is_none());
    assert!(frame.try_frame_slice(&[0u8; 100]).is_none());
    assert!(frame.try_frame_alloc::<common::A8192>().is_none());
    assert!(
        frame.try_frame_alloc::<[u8; 56]>().is_some(),
        "the rest still fits"
    );
    drop(ok);
    alloc.end_frame(frame);
    assert_eq!(alloc.stats().heap.allocations, 0);
}

#[test]
#[should_panic(expected = "frame arena is full")]
fn hard_limit_panics_in_infallible_calls() {
    let alloc = small(64, Overflow::Error);
    let frame = alloc.begin_frame();
    let _b = frame.frame_box([0u8; 65]);
}

#[test]
fn zero_capacity_serves_everything_from_the_heap() {
    let alloc = small(0, Overflow::Heap);
    let frame = alloc.begin_frame();
    let a = frame.frame_box(5u32);
    assert_eq!(*a, 5);
    assert_eq!(frame.used(), 0);
    drop(a);
    alloc.end_frame(frame);
    assert_eq!(alloc.stats().heap.frees, 1);
}

#[test]
fn two_instances_on_one_thread_are_independent() {
    let a = SmartAlloc::new(Default::default());
    let b = SmartAlloc::new(Default::default());
    let fa = a.begin_frame();
    let fb = b.begin_frame();
    let xa = fa.frame_box(1u64);
    let xb = fb.frame_box(2u64);
    assert_ne!(
        std::ptr::from_ref::<u64>(&xa),
        std::ptr::from_ref::<u64>(&xb)
    );
    drop(xb);
    b.end_frame(fb);
    // Ending b's frame left a's data alone, and b can start a new frame meanwhile.
    let fb = b.begin_frame();
    let yb = fb.frame_box(3u64);
    assert_eq!((*xa, *yb), (1, 3));
    drop((xa, yb));
    a.end_frame(fa);
    b.end_frame(fb);
    assert_eq!(a.stats().frames, 1);
    assert_eq!(b.stats().frames, 2);
    assert!(!a.ptr_eq(&b));
    assert!(a.ptr_eq(&a.clone()));
}

#[test]
fn one_open_frame_per_allocator_and_drop_ends_it() {
    let alloc = SmartAlloc::new(Default::default());
    let clone = alloc.clone();
    let frame = alloc.begin_frame();
    assert!(clone.try_begin_frame().is_none());
    drop(frame);
    let frame = clone
        .try_begin_frame()
        .expect("dropping the token ended the frame");
    frame.end();
    assert_eq!(alloc.stats().frames, 2);
}

#[test]
#[should_panic(expected = "while a frame of this allocator is open")]
fn second_begin_frame_panics() {
    let alloc = SmartAlloc::new(Default::default());
    let _f = alloc.begin_frame();
    let _g = alloc.begin_frame();
}

#[test]
#[should_panic(expected = "another allocator")]
fn end_frame_checks_the_owner() {
    let a = SmartAlloc::new(Default::default());
    let b = SmartAlloc::new(Default::default());
    a.end_frame(b.begin_frame());
}

#[test]
fn frame_values_are_dropped_exactly_once() {
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    let frame = alloc.begin_frame();
    let a = frame.frame_box(drops.track(0));
    let mut v = frame.frame_vec();
    for i in 0..10 {
        v.push(drops.track(i));
    }
    let popped = v.pop().expect("one");
    assert_eq!(popped.id, 9);
    let inner = frame.frame_box(drops.track(20)).into_inner();
    // A leaked value must own nothing on the heap (miri checks for leaks): count through a
    // borrowed cell.
    struct Counted<'a>(&'a Cell<usize>);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let leaked_drops = Cell::new(0);
    let leaked = frame.frame_box(Counted(&leaked_drops)).leak();
    assert_eq!(leaked.0.get(), 0);
    assert_eq!(drops.count(), 0);
    drop(a);
    assert_eq!(drops.count(), 1);
    drop(v);
    assert_eq!(drops.count(), 10);
    drop((popped, inner));
    assert_eq!(drops.count(), 12);
    alloc.end_frame(frame);
    assert_eq!(drops.count(), 12);
    assert_eq!(leaked_drops.get(), 0, "a leaked value is never dropped");
}

#[test]
fn frame_vec_grows_in_place_while_last() {
    let alloc = SmartAlloc::new(Default::default());
    let frame = alloc.begin_frame();
    let mut v = frame.frame_vec::<u32>();
    v.push(0);
    let p = v.as_ptr();
    for i in 1..1000 {
        v.push(i);
    }
    assert_eq!(v.as_ptr(), p, "grew in place");
    assert_eq!(frame.used(), v.capacity() * 4);
    let other = frame.frame_box(1u8);
    v.extend_from_slice(&vec![5; v.capacity()]);
    assert_ne!(v.as_ptr(), p, "moved once something else followed it");
    assert_eq!(v[999], 999);
    assert_eq!(v[v.len() - 1], 5);
    assert_eq!(v.len(), 1000 + 1024);
    v.clear();
    assert!(v.is_empty());
    let s = v.leak();
    assert!(s.is_empty());
    drop(other);
    alloc.end_frame(frame);
}

#[test]
fn frame_blocks_take_whole_granules_and_the_last_still_grows_in_place() {
    let alloc = SmartAlloc::new(Default::default());
    let frame = alloc.begin_frame();
    let a = frame.frame_box(1u8);
    assert_eq!(frame.used(), 8, "a 1-byte value takes one 8-byte granule");
    let mut v = frame.frame_vec_with_capacity::<u8>(5);
    let p = v.as_ptr();
    assert_eq!(p.addr() % 8, 0, "every block starts on a granule");
    assert_eq!(frame.used(), 16);
    v.extend([1, 2, 3, 4, 5, 6]); // 5 -> 10 bytes: still the last block, so in place
    assert_eq!(v.as_ptr(), p, "an odd-sized last block grows in place");
    assert_eq!(frame.used(), 8 + 16);
    let b = frame.frame_box(2u16);
    assert_eq!(std::ptr::from_ref::<u16>(&b).addr(), p.addr() + 16);
    assert_eq!(frame.used(), 8 + 16 + 8);
    assert_eq!((*a, *b, v[5]), (1, 2, 6));
    drop((a, b, v));
    alloc.end_frame(frame);
}

#[test]
fn zero_sized_frame_values_take_no_memory() {
    let alloc = SmartAlloc::new(Default::default());
    let frame = alloc.begin_frame();
    thread_local!(static DROPS: Cell<usize> = const { Cell::new(0) });
    struct Z;
    impl Drop for Z {
        fn drop(&mut self) {
            DROPS.with(|d| d.set(d.get() + 1));
        }
    }
    let z = frame.frame_box(Z);
    let mut v = frame.frame_vec::<()>();
    for _ in 0..n(100_000, 100) {
        v.push(());
    }
    let _ = frame.frame_alloc::<()>();
    let _ = frame.frame_slice::<()>(&[(); 5]);
    assert_eq!(frame.used(), 0);
    assert_eq!(frame.allocations(), 0);
    drop(z);
    assert_eq!(DROPS.with(Cell::get), 1);
    assert_eq!(v.len(), n(100_000, 100));
    drop(v);
    alloc.end_frame(frame);
}

#[test]
fn frame_alloc_gives_uninitialised_room() {
    let alloc = SmartAlloc::new(Default::default());
    let frame = alloc.begin_frame();
    let slot = frame.frame_alloc::<[u16; 8]>();
    let arr = slot.write([3; 8]);
    arr[7] = 4;
    assert_eq!(arr.iter().map(|&x| u32::from(x)).sum::<u32>(), 25);
    alloc.end_frame(frame);
}

#[test]
fn frame_data_and_pool_data_live_on_different_schedules() {
    let alloc = SmartAlloc::new(Default::default());
    let kept;
    {
        let frame = alloc.begin_frame();
        let tmp = frame.frame_slice(b"abc");
        kept = alloc.pool_box(tmp.to_vec());
        alloc.end_frame(frame);
    }
    assert_eq!(&kept[..], b"abc");
}
