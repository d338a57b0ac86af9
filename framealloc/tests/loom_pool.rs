//! loom models of the pool tier's shared free lists: concurrent allocation and free from one
//! size class never hands a block to two owners, and the counters balance.
#![cfg(loom)]

use framealloc::{AllocConfig, PoolBox, SmartAlloc};
use sync_core::sync::loom_only::{model, thread};

fn small_slabs() -> SmartAlloc {
    // Two blocks per slab, so the models also reserve slabs concurrently.
    SmartAlloc::new(AllocConfig {
        pool_slab_bytes: 32,
        ..Default::default()
    })
}

/// Two threads allocate, check and free blocks of the same class (the first allocation of
/// each races to reserve the slab): every value stays intact and every block goes back.
#[test]
fn concurrent_alloc_and_free_in_one_class() {
    model(|| {
        let alloc = small_slabs();
        let spawn = |id: u64| {
            let alloc = alloc.clone();
            thread::spawn(move || {
                let a = alloc.pool_box([id; 2]);
                assert_eq!(*a, [id; 2]);
                PoolBox::as_ptr(&a).addr()
            })
        };
        let t1 = spawn(1);
        let t2 = spawn(2);
        let p1 = t1.join().expect("t1");
        let p2 = t2.join().expect("t2");
        let st = alloc.stats().pool;
        assert_eq!((st.allocations, st.frees), (2, 2));
        assert_eq!(st.reserved_bytes, 32, "one slab, reserved once");
        assert!(p1 == p2 || p1.abs_diff(p2) == 16);
    });
}

/// A block freed by one thread is taken again by another, while a third allocation races.
#[test]
fn free_on_one_thread_reuse_on_another() {
    model(|| {
        let alloc = small_slabs();
        let a2 = alloc.clone();
        let t = thread::spawn(move || {
            let b = a2.pool_box(7u64);
            let v = *b;
            drop(b);
            v
        });
        let x = alloc.pool_box(1u64);
        let y = alloc.pool_box(2u64);
        assert_ne!(PoolBox::as_ptr(&x), PoolBox::as_ptr(&y));
        assert_eq!(t.join().expect("thread"), 7);
        let z = alloc.pool_box(3u64);
        assert_eq!((*x, *y, *z), (1, 2, 3));
        drop((x, y, z));
        let st = alloc.stats().pool;
        assert_eq!(st.live_count(), 0);
        assert!(st.reserved_bytes <= 64, "at most two 2-block slabs");
    });
}

/// Two blocks freed up front, then two threads pop the class's free list at once: each gets its
/// own block (a pop that is not one atomic step would hand one block to both, and one thread
/// would then read the other's value), and no new slab is reserved.
#[test]
fn two_concurrent_pops_of_one_free_list() {
    model(|| {
        let alloc = small_slabs();
        drop((alloc.pool_box([0u64; 2]), alloc.pool_box([0u64; 2])));
        let spawn = |id: u64| {
            let alloc = alloc.clone();
            thread::spawn(move || {
                let b = alloc.pool_box([id; 2]);
                // Hold the block while the other thread takes and writes its own.
                thread::yield_now();
                assert_eq!(*b, [id; 2], "a block was handed to two owners");
            })
        };
        let t1 = spawn(1);
        let t2 = spawn(2);
        t1.join().expect("t1");
        t2.join().expect("t2");
        let st = alloc.stats().pool;
        assert_eq!(st.reserved_bytes, 32, "the freed blocks were reused");
        assert_eq!(st.live_count(), 0);
    });
}
