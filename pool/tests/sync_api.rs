//! The synchronous API of `pool`: allocation, drop accounting, sizes of N, zero-sized and
//! over-aligned items, panicking destructors, raw pointers, trait impls and sizes.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use pool::{Box, Pool, pool};

/// A value that counts its drops in a per-test counter.
#[derive(Debug)]
struct Counted {
    value: usize,
    drops: &'static AtomicUsize,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

#[test]
fn new_until_full_then_reuse() {
    pool!(P: [u32; 4]);
    let boxes: Vec<_> = (0..4).map(|i| Box::<P>::new(i).unwrap()).collect();
    assert!(Box::<P>::new(9).is_none());
    assert_eq!(
        Box::<P>::try_new(10),
        Err(10),
        "try_new gives the value back"
    );
    assert_eq!(P::free_slots(), 0);
    let values: Vec<u32> = boxes.iter().map(|b| **b).collect();
    assert_eq!(values, [0, 1, 2, 3]);
    let mut boxes = boxes;
    let third = boxes.remove(2);
    let third_addr = Box::as_ptr(&third);
    drop(third);
    assert_eq!(P::free_slots(), 1);
    let again = Box::<P>::new(22).unwrap();
    assert_eq!(Box::as_ptr(&again), third_addr, "the freed slot is reused");
    assert!(Box::<P>::new(23).is_none());
    let values: Vec<u32> = boxes.iter().map(|b| **b).collect();
    assert_eq!(values, [0, 1, 3], "other values untouched");
    assert_eq!(
        (P::capacity(), P::waiting(), P::waiter_capacity()),
        (4, 0, 0)
    );
}

#[test]
fn a_value_that_does_not_fit_is_dropped_once() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    pool!(P: [Counted; 1]);
    let held = Box::<P>::new(Counted {
        value: 1,
        drops: &DROPS,
    })
    .unwrap();
    assert!(
        Box::<P>::new(Counted {
            value: 2,
            drops: &DROPS
        })
        .is_none()
    );
    assert_eq!(
        DROPS.load(SeqCst),
        1,
        "new drops the value it could not place"
    );
    let back = Box::<P>::try_new(Counted {
        value: 3,
        drops: &DROPS,
    })
    .unwrap_err();
    assert_eq!(
        (back.value, DROPS.load(SeqCst)),
        (3, 1),
        "try_new gives it back"
    );
    drop(back);
    assert_eq!(held.value, 1);
    drop(held);
    assert_eq!(DROPS.load(SeqCst), 3);
}

/// Fills an `N`-slot pool, checks every value and drop count, frees in a scrambled order and
/// refills.
macro_rules! fill_test {
    ($name:ident, $n:expr) => {
        #[test]
        fn $name() {
            static DROPS: AtomicUsize = AtomicUsize::new(0);
            pool!(P: [Counted; $n]);
            let new = |value| Box::<P>::new(Counted { value, drops: &DROPS });
            let mut boxes: Vec<_> = (0..$n).map(|i| new(i).expect("a free slot")).collect();
            assert!(new(usize::MAX).is_none(), "full at N = {}", $n);
            assert_eq!((P::free_slots(), DROPS.load(SeqCst)), (0, 1));
            for (i, b) in boxes.iter().enumerate() {
                assert_eq!(b.value, i);
            }
            // Distinct slots.
            let mut addrs: Vec<usize> = boxes.iter().map(|b| Box::as_ptr(b).as_ptr().addr()).collect();
            addrs.sort_unstable();
            addrs.dedup();
            assert_eq!(addrs.len(), $n);
            // Free every other one, from the back.
            let mut kept = Vec::new();
            while let Some(b) = boxes.pop() {
                if b.value % 2 == 1 {
                    drop(b);
                } else {
                    kept.push(b);
                }
            }
            let freed = $n / 2;
            assert_eq!(P::free_slots(), freed);
            assert_eq!(DROPS.load(SeqCst), 1 + freed);
            let refill: Vec<_> = (0..freed).map(|i| new(1000 + i).unwrap()).collect();
            assert!(new(usize::MAX).is_none());
            assert_eq!(DROPS.load(SeqCst), 2 + freed);
            drop(refill);
            drop(kept);
            assert_eq!(P::free_slots(), $n);
            assert_eq!(DROPS.load(SeqCst), 2 + freed + $n, "every value dropped once");
        }
    };
}

fill_test!(fill_1, 1);
fill_test!(fill_31, 31);
fill_test!(fill_32, 32);
fill_test!(fill_33, 33);
fill_test!(fill_64, 64);
fill_test!(fill_65, 65);
fill_test!(fill_100, 100);

#[test]
fn const_expressions_for_n_and_w() {
    const BASE: usize = 3;
    pool!(P: [u8; BASE * 2 + 1], BASE - 1);
    assert_eq!((P::capacity(), P::waiter_capacity()), (7, 2));
}

#[test]
fn zero_sized_items() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Zst;
    impl Drop for Zst {
        fn drop(&mut self) {
            DROPS.fetch_add(1, SeqCst);
        }
    }
    pool!(P: [Zst; 3]);
    let a = Box::<P>::new(Zst).unwrap();
    let b = Box::<P>::new(Zst).unwrap();
    let c = Box::<P>::new(Zst).unwrap();
    assert!(Box::<P>::new(Zst).is_none());
    assert_eq!(DROPS.load(SeqCst), 1);
    drop(b);
    assert_eq!((P::free_slots(), DROPS.load(SeqCst)), (1, 2));
    let raw = Box::into_raw(c);
    // SAFETY: `raw` came from `into_raw` of this pool, once.
    let c = unsafe { Box::<P>::from_raw(raw) };
    drop((a, c));
    assert_eq!((P::free_slots(), DROPS.load(SeqCst)), (3, 4));

    pool!(Units: [(); 40]);
    let units: Vec<_> = (0..40).map(|_| Box::<Units>::new(()).unwrap()).collect();
    assert!(Box::<Units>::new(()).is_none());
    drop(units);
    assert_eq!(Units::free_slots(), 40);
}

#[test]
fn over_aligned_items_keep_their_alignment() {
    #[repr(align(64))]
    struct Line([u8; 3]);
    #[repr(align(4096))]
    struct Page(u8);
    #[repr(align(64))]
    struct AlignedZst;

    pool!(Lines: [Line; 5]);
    pool!(Pages: [Page; 3]);
    pool!(Zsts: [AlignedZst; 2]);
    let lines: Vec<_> = (0..5)
        .map(|i| Box::<Lines>::new(Line([i; 3])).unwrap())
        .collect();
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(Box::as_ptr(line).as_ptr().addr() % 64, 0);
        assert_eq!(line.0, [i as u8; 3]);
    }
    let pages: Vec<_> = (0..3)
        .map(|i| Box::<Pages>::new(Page(i)).unwrap())
        .collect();
    for (i, page) in pages.iter().enumerate() {
        assert_eq!(Box::as_ptr(page).as_ptr().addr() % 4096, 0);
        assert_eq!(usize::from(page.0), i);
    }
    let zsts = [
        Box::<Zsts>::new(AlignedZst).unwrap(),
        Box::<Zsts>::new(AlignedZst).unwrap(),
    ];
    assert!(
        zsts.iter()
            .all(|z| Box::as_ptr(z).as_ptr().addr() % 64 == 0)
    );
    assert_eq!(size_of::<Box<Pages>>(), size_of::<usize>());
}

#[test]
fn a_panicking_drop_still_frees_its_slot() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("boom");
        }
    }
    pool!(P: [Bomb; 1]);
    let b = Box::<P>::new(Bomb).unwrap();
    assert_eq!(P::free_slots(), 0);
    let result = catch_unwind(AssertUnwindSafe(|| drop(b)));
    assert!(result.is_err());
    assert_eq!(P::free_slots(), 1, "the slot came back despite the panic");
    let b = Box::<P>::new(Bomb).unwrap();
    std::mem::forget(b);
}

#[test]
fn raw_round_trip_and_into_inner() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    pool!(P: [Counted; 2]);
    let b = Box::<P>::new(Counted {
        value: 5,
        drops: &DROPS,
    })
    .unwrap();
    let raw = Box::into_raw(b);
    assert_eq!(P::free_slots(), 1, "into_raw keeps the slot");
    assert_eq!(DROPS.load(SeqCst), 0);
    // SAFETY: `raw` came from `into_raw` of this pool, once.
    let b = unsafe { Box::<P>::from_raw(raw) };
    let inner = Box::into_inner(b);
    assert_eq!(
        (inner.value, DROPS.load(SeqCst), P::free_slots()),
        (5, 0, 2)
    );
    drop(inner);
    assert_eq!(DROPS.load(SeqCst), 1);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "is not a slot of this pool")]
fn from_raw_with_a_foreign_pointer_is_caught_in_debug_builds() {
    pool!(P: [u64; 2]);
    let mut local = 0u64;
    let foreign = std::ptr::NonNull::from(&mut local);
    // SAFETY: deliberately broken; the debug assertion panics before anything is done with it.
    let b = unsafe { Box::<P>::from_raw(foreign) };
    std::mem::forget(b);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "is not a slot of this pool")]
fn from_raw_with_a_misaligned_pointer_is_caught_in_debug_builds() {
    pool!(P: [[u8; 4]; 2]);
    let b = Box::<P>::new([0; 4]).unwrap();
    let inside = Box::into_raw(b).map_addr(|a| a.checked_add(1).unwrap());
    // SAFETY: deliberately broken; the debug assertion panics first.
    let b = unsafe { Box::<P>::from_raw(inside) };
    std::mem::forget(b);
}

#[test]
fn trait_impls_forward_to_the_value() {
    pool!(P: [String; 4]);
    let a = Box::<P>::new("apple".to_string()).unwrap();
    let b = Box::<P>::new("banana".to_string()).unwrap();
    let mut a2 = Box::<P>::new("apple".to_string()).unwrap();
    assert_eq!(format!("{a:?} {b}"), "\"apple\" banana");
    assert!(a == a2 && a != b && a < b);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Less);
    let hash = |v: &dyn Fn(&mut DefaultHasher)| {
        let mut h = DefaultHasher::new();
        v(&mut h);
        h.finish()
    };
    assert_eq!(hash(&|h| a.hash(h)), hash(&|h| "apple".to_string().hash(h)));
    a2.push_str(" pie");
    assert_eq!(a2.as_ref(), "apple pie");
    assert_eq!(a2.len(), 9, "DerefMut and Deref");
    assert!(format!("{a:p}").starts_with("0x"));
}

#[test]
fn box_is_one_pointer_and_send_sync_follow_the_item() {
    use std::cell::Cell;
    use std::rc::Rc;
    pool!(Bytes: [[u8; 256]; 32], 4);
    pool!(Cells: [Cell<u8>; 1]);
    pool!(Rcs: [Rc<u8>; 1]);
    assert_eq!(size_of::<Box<Bytes>>(), size_of::<usize>());
    assert_eq!(size_of::<Option<Box<Bytes>>>(), size_of::<usize>());
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Box<Bytes>>();
    sync::<Box<Bytes>>();
    send::<Box<Cells>>(); // Cell is Send but not Sync
    let _ = (Box::<Cells>::new(Cell::new(1)), Box::<Rcs>::new(Rc::new(1)));
}

#[test]
fn static_footprint_is_slots_plus_bitmap_plus_queue() {
    use pool::{NoWaiters, PoolStorage, WaitQueue};
    pool!(Plain: [[u8; 256]; 32]);
    pool!(Waiting: [[u8; 256]; 32], 4);
    // atomic-pool's layout: the slots plus one 32-bit word per 32 slots; a pool with waiter
    // places adds its queue, in the same all-zero static.
    let queue = size_of::<WaitQueue<4>>();
    assert_eq!(size_of::<<Plain as Pool>::Storage>(), 32 * 256 + 4);
    assert!(
        size_of::<<Waiting as Pool>::Storage>()
            <= 32 * 256 + 4 + queue + align_of::<WaitQueue<4>>()
    );
    assert_eq!(size_of::<PoolStorage<u32, 4, 1, NoWaiters>>(), 20);
    println!(
        "N=32 x [u8; 256], W=4: {} B of slots, bitmap and {queue} B of queue",
        size_of::<<Waiting as Pool>::Storage>(),
    );
}
