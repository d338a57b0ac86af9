//! Behaviour of the pool and heap tiers: reuse, cross-thread frees, drops, alignment, overflow.

mod common;

use std::mem::{MaybeUninit, align_of};
use std::panic::{AssertUnwindSafe, catch_unwind};

use common::{Drops, PanicOnDrop, n};
use framealloc::{AllocConfig, Overflow, PoolBox, SmartAlloc};

#[test]
fn a_freed_block_is_reused() {
    let alloc = SmartAlloc::new(Default::default());
    let a = alloc.pool_box(1u64);
    let pa = PoolBox::as_ptr(&a);
    drop(a);
    let b = alloc.pool_box(2u64);
    assert_eq!(PoolBox::as_ptr(&b), pa, "same class, LIFO free list");
    let c = alloc.pool_box([0u8; 10]); // same 16-byte class, another block
    assert_ne!(c.as_ptr().cast::<u8>(), pa.cast::<u8>());
    drop((b, c));
    let st = alloc.stats().pool;
    assert_eq!((st.allocations, st.frees), (3, 3));
    assert_eq!((st.bytes_allocated, st.bytes_freed), (48, 48));
    assert_eq!(st.reserved_bytes, AllocConfig::default().pool_slab_bytes);
}

#[test]
fn blocks_are_reused_across_frames() {
    let alloc = SmartAlloc::new(Default::default());
    let mut seen = None;
    for _ in 0..n(100, 10) {
        let frame = alloc.begin_frame();
        let p = alloc.pool_box([7u32; 8]);
        let addr = p.as_ptr();
        assert_eq!(*seen.get_or_insert(addr), addr);
        drop(p);
        alloc.end_frame(frame);
    }
    assert_eq!(alloc.stats().pool.live_count(), 0);
}

#[test]
fn free_from_another_thread() {
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    let b = alloc.pool_box((drops.track(1), [1u8; 40]));
    let addr = PoolBox::as_ptr(&b).cast::<u8>();
    std::thread::scope(|s| {
        s.spawn(move || {
            assert_eq!(b.0.id, 1);
            drop(b);
        });
    });
    assert_eq!(drops.count(), 1);
    assert_eq!(alloc.stats().pool.live_count(), 0);
    let again = alloc.pool_box((drops.track(2), [2u8; 40]));
    assert_eq!(
        PoolBox::as_ptr(&again).cast::<u8>(),
        addr,
        "the freed block came back to the class"
    );
}

#[test]
fn threads_share_the_pool() {
    let alloc = SmartAlloc::new(AllocConfig {
        pool_slab_bytes: 1024,
        ..Default::default()
    });
    let rounds = n(2000, 30);
    let drops = Drops::new();
    std::thread::scope(|s| {
        for t in 0..4usize {
            let alloc = &alloc;
            let drops = &drops;
            s.spawn(move || {
                let mut held = Vec::new();
                for i in 0..rounds {
                    let id = t * 1_000_000 + i;
                    held.push(alloc.pool_box((drops.track(id), [id; 3])));
                    if i % 3 == 0 {
                        let b = held.swap_remove(i % held.len());
                        assert_eq!(b.1, [b.0.id; 3], "block handed to two owners");
                    }
                }
                for b in &held {
                    assert_eq!(b.1, [b.0.id; 3]);
                }
            });
        }
    });
    assert_eq!(drops.count(), 4 * rounds);
    let st = alloc.stats().pool;
    assert_eq!(st.live_count(), 0);
    assert_eq!(st.allocations, 4 * rounds);
    assert_eq!(st.bytes_allocated, st.bytes_freed);
}

#[test]
fn destructors_run_exactly_once() {
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    let a = alloc.pool_box(drops.track(0));
    let b = alloc.pool_box(drops.track(1));
    let inner = b.into_inner();
    assert_eq!(drops.count(), 0);
    drop(a);
    assert_eq!(drops.count(), 1);
    drop(inner);
    assert_eq!(drops.count(), 2);
    let mut v = alloc.pool_vec();
    for i in 0..100 {
        v.push(drops.track(i));
    }
    let last = v.pop().expect("non-empty");
    drop(last);
    assert_eq!(drops.count(), 3);
    v.clear();
    assert_eq!(drops.count(), 102);
    v.extend((0..10).map(|i| drops.track(i)));
    let std_vec = v.into_vec();
    assert_eq!(drops.count(), 102);
    drop(std_vec);
    assert_eq!(drops.count(), 112);
    assert_eq!(alloc.stats().pool.live_count(), 0);
}

#[test]
fn a_panicking_destructor_still_frees_the_block() {
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    let b = alloc.pool_box(PanicOnDrop(drops.track(0)));
    assert!(catch_unwind(AssertUnwindSafe(|| drop(b))).is_err());
    assert_eq!(drops.count(), 1);
    let mut v = alloc.pool_vec();
    v.push(PanicOnDrop(drops.track(1)));
    assert!(catch_unwind(AssertUnwindSafe(|| drop(v))).is_err());
    assert_eq!(drops.count(), 2);
    assert_eq!(alloc.stats().pool.live_count(), 0);
}

fn check_pool_align<T: Default + Copy>() {
    let alloc = SmartAlloc::new(Default::default());
    let mut keep = Vec::new();
    for round in 0..4u8 {
        let byte = alloc.pool_box(round);
        let b = alloc.pool_box(T::default());
        assert_eq!(
            PoolBox::as_ptr(&b).addr() % align_of::<T>(),
            0,
            "align {}",
            align_of::<T>()
        );
        let mut v = alloc.pool_vec::<T>();
        v.push(T::default());
        assert_eq!(v.as_ptr().addr() % align_of::<T>(), 0);
        assert_eq!(*byte, round);
        keep.push((byte, b, v));
    }
    let st = alloc.stats();
    if align_of::<T>() > 4096 {
        assert_eq!(
            st.heap.live_count(),
            8,
            "above 4096 the heap tier serves it"
        );
    } else {
        assert_eq!(st.heap.live_count(), 0);
        assert_eq!(st.pool.live_count(), 12);
    }
    drop(keep);
    let st = alloc.stats();
    assert_eq!((st.pool.live_count(), st.heap.live_count()), (0, 0));
}

#[test]
fn alignment_1_to_8192_interleaved_with_single_bytes() {
    for_each_align!(check_pool_align);
}

#[test]
fn large_values_go_to_the_heap_tier() {
    let alloc = SmartAlloc::new(Default::default());
    let big = alloc.pool_box([3u8; 5000]);
    let st = alloc.stats();
    assert_eq!((st.pool.allocations, st.heap.live_count()), (0, 1));
    assert_eq!(st.heap.live_bytes(), 5000);
    assert_eq!(big[4999], 3);
    drop(big);
    assert_eq!(alloc.stats().heap.live_count(), 0);
}

#[test]
fn pool_vec_moves_through_the_classes_into_the_heap() {
    let alloc = SmartAlloc::new(Default::default());
    let mut v = alloc.pool_vec::<u64>();
    let mut caps = Vec::new();
    for i in 0..2000u64 {
        v.push(i);
        if caps.last() != Some(&v.capacity()) {
            caps.push(v.capacity());
        }
    }
    assert_eq!(caps, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    assert_eq!(v.iter().sum::<u64>(), 1999 * 2000 / 2);
    let st = alloc.stats();
    assert_eq!(st.pool.live_count(), 0, "the old blocks went back");
    assert_eq!(st.heap.live_count(), 1);
    assert_eq!(st.pool.allocations, 9);
    drop(v);
    assert_eq!(alloc.stats().heap.live_count(), 0);
    let w = alloc.pool_vec_with_capacity::<u8>(100);
    assert!(w.capacity() >= 100 && w.is_empty());
    assert_eq!(alloc.stats().pool.live_bytes(), 128);
}

#[test]
fn hard_limit_refuses_large_values() {
    let alloc = SmartAlloc::new(AllocConfig {
        pool_overflow: Overflow::Error,
        ..Default::default()
    });
    let drops = Drops::new();
    let err = alloc.try_pool_box((drops.track(7), [0u8; 5000]));
    let back = err.expect_err("over the hard limit").into_inner();
    assert_eq!((back.0.id, drops.count()), (7, 0));
    assert!(alloc.try_pool_box([0u8; 4096]).is_ok());
    assert_eq!(alloc.stats().heap.allocations, 0);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut v = alloc.pool_vec::<u8>();
        v.extend(std::iter::repeat_n(0, 5000));
    }));
    assert!(r.is_err(), "infallible calls panic rather than return null");
    assert_eq!(alloc.stats().pool.live_count(), 0);
}

#[test]
fn zero_sized_values_take_no_memory() {
    let alloc = SmartAlloc::new(Default::default());
    let a = alloc.pool_box(());
    let mut v = alloc.pool_vec::<()>();
    for _ in 0..n(10_000, 100) {
        v.push(());
    }
    assert_eq!(v.len(), n(10_000, 100));
    assert_eq!(v.capacity(), usize::MAX);
    drop((a, v));
    let st = alloc.stats();
    assert_eq!((st.pool.allocations, st.heap.allocations), (0, 0));
}

#[test]
fn pool_alloc_then_write() {
    let alloc = SmartAlloc::new(Default::default());
    let slot = alloc.pool_alloc::<[u32; 4]>();
    let b = slot.write([1, 2, 3, 4]);
    assert_eq!(b.iter().sum::<u32>(), 10);
    let uninit: PoolBox<'_, MaybeUninit<String>> = alloc.pool_alloc();
    drop(uninit); // never initialised: nothing to drop, the block goes back
    drop(b);
    assert_eq!(alloc.stats().pool.live_count(), 0);
}

#[test]
fn clones_share_one_allocator() {
    let alloc = SmartAlloc::new(Default::default());
    let other = alloc.clone();
    let b = other.pool_box(1u8);
    assert_eq!(alloc.stats().pool.live_count(), 1);
    drop(b);
    let handle = std::thread::spawn(move || other.pool_box(5u8).into_inner());
    assert_eq!(handle.join().expect("thread"), 5);
    assert_eq!(alloc.stats().pool.allocations, 2);
    assert!(format!("{alloc:?}").starts_with("SmartAlloc"));
}

#[test]
fn boxes_of_every_class_freed_by_a_consumer_thread() {
    let alloc = SmartAlloc::new(Default::default());
    let drops = Drops::new();
    let count = n(3000, 12);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let alloc = &alloc;
        let producer_drops = &drops;
        s.spawn(move || {
            for i in 0..count {
                // Sizes from 1 byte to above the largest class, so every class and the heap.
                let len = 1 + (i * 997) % 6000;
                let mut v = alloc.pool_vec::<u8>();
                v.extend(std::iter::repeat_n((i % 251) as u8, len));
                let b = alloc.pool_box(producer_drops.track(i));
                tx.send((i, v, b)).expect("consumer alive");
            }
        });
        s.spawn(move || {
            for (i, v, b) in rx {
                assert_eq!(b.id, i);
                assert_eq!(v.len(), 1 + (i * 997) % 6000);
                assert!(
                    v.iter().all(|&x| x == (i % 251) as u8),
                    "block {i} was reused early"
                );
            }
        });
    });
    assert_eq!(drops.count(), count);
    let st = alloc.stats();
    assert_eq!((st.pool.live_count(), st.heap.live_count()), (0, 0));
    assert!(st.heap.allocations > 0 && st.pool.allocations > count);
}
