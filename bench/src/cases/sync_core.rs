//! sync-core: the waker slot against the `atomic-waker` crate.

use std::hint::black_box;
use std::task::Waker;

use crate::harness::{Case, Impl};

pub(crate) fn cases() -> Vec<Case> {
    vec![Case {
        group: "sync-core",
        name: "AtomicWaker register + wake (same task)",
        iters: 2_000_000,
        threads: false,
        impls: vec![
            Impl {
                name: "frugal",
                run: ours,
            },
            Impl {
                name: "atomic-waker",
                run: peer,
            },
        ],
    }]
}

fn ours(iters: u64) -> u64 {
    let slot = sync_core::AtomicWaker::new();
    let waker = Waker::noop();
    for _ in 0..iters {
        black_box(&slot).register(black_box(waker));
        black_box(&slot).wake();
    }
    iters
}

fn peer(iters: u64) -> u64 {
    let slot = atomic_waker::AtomicWaker::new();
    let waker = Waker::noop();
    for _ in 0..iters {
        black_box(&slot).register(black_box(waker));
        black_box(&slot).wake();
    }
    iters
}
