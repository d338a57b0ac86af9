//! `lock::Mutex` and `lock::Section` on the OS backend (feature `std`): mutual exclusion under
//! contention, no poisoning (a panic under the lock releases it and leaves the data usable),
//! and `Section::try_enter` while another thread holds the section.
#![cfg(all(feature = "std", not(loom)))]

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use sync_core::lock::{BACKEND, Mutex, Section};

const THREADS: usize = 4;
const ROUNDS: usize = if cfg!(miri) { 50 } else { 20_000 };

#[test]
fn the_os_backend_is_used() {
    assert_eq!(BACKEND, "os");
}

#[test]
fn contended_mutex_loses_no_update() {
    // A read-then-write counter: two holders at once would lose increments.
    let m = Arc::new(Mutex::new((0_usize, false)));
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (m, start) = (m.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..ROUNDS {
                    if i % 2 == 0 {
                        m.with(|(n, busy)| {
                            assert!(!*busy, "two holders at once");
                            *busy = true;
                            let v = *n;
                            std::hint::black_box(());
                            *n = v + 1;
                            *busy = false;
                        });
                    } else {
                        let mut g = m.lock();
                        assert!(!g.1, "two holders at once");
                        g.0 += 1;
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(m.with(|(n, _)| *n), THREADS * ROUNDS);
}

/// A counter guarded by the `Section` of its own address.
struct Guarded(UnsafeCell<usize>);

// SAFETY: the counter is only touched while the section for its address is held.
unsafe impl Sync for Guarded {}

impl Guarded {
    fn key(&self) -> *const () {
        std::ptr::from_ref(self).cast()
    }

    fn add_one(&self) {
        // SAFETY: no other section is entered while this one is held; dropped on this thread.
        let _section = unsafe { Section::enter(self.key()) };
        // SAFETY: the section for this address is held, so nobody else touches the counter.
        unsafe { *self.0.get() += 1 };
    }
}

#[test]
fn contended_section_loses_no_update() {
    let counters = Arc::new([Guarded(UnsafeCell::new(0)), Guarded(UnsafeCell::new(0))]);
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (counters, start) = (counters.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..ROUNDS {
                    counters[(i + t) % 2].add_one();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let total: usize = counters
        .iter()
        // SAFETY: every thread that touched the counters was joined.
        .map(|c| unsafe { *c.0.get() })
        .sum();
    assert_eq!(total, THREADS * ROUNDS);
}

#[test]
fn a_panic_under_the_lock_releases_it_and_keeps_the_data() {
    let m = Mutex::new(vec![1, 2]);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        m.with(|v| {
            v.push(3);
            panic!("under the lock");
        })
    }));
    assert!(caught.is_err());
    // Not poisoned: the data is as the closure left it, and the lock is free.
    assert_eq!(m.with(|v| v.clone()), [1, 2, 3]);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut g = m.lock();
        g.push(4);
        panic!("holding a guard");
    }));
    assert!(caught.is_err());
    assert_eq!(*m.lock(), [1, 2, 3, 4]);
}

#[test]
fn try_enter_fails_while_another_thread_holds_the_section() {
    let word = Arc::new(0_u64);
    let key = std::ptr::from_ref(&*word).cast::<()>().addr();
    let held = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let left = Arc::new(AtomicBool::new(false));
    let holder = {
        let (held, release, left) = (held.clone(), release.clone(), left.clone());
        std::thread::spawn(move || {
            // SAFETY: no other section is entered on this thread while it is held.
            let section = unsafe { Section::enter(std::ptr::without_provenance(key)) };
            held.wait();
            release.wait();
            // Set while still holding: whoever enters after us must see it.
            left.store(true, Ordering::Release);
            drop(section);
        })
    };
    held.wait();
    // SAFETY: no other section is held by this thread.
    assert!(unsafe { Section::try_enter(std::ptr::without_provenance(key)) }.is_none());
    release.wait();
    // Entering waits for the holder to leave.
    // SAFETY: as above.
    let section = unsafe { Section::enter(std::ptr::without_provenance(key)) };
    assert!(left.load(Ordering::Acquire), "two holders of one section");
    drop(section);
    holder.join().unwrap();
    // SAFETY: as above.
    assert!(unsafe { Section::try_enter(std::ptr::without_provenance(key)) }.is_some());
}
