//! pool: allocate + free uncontended, free→waiter hand-off with 1 and 8 waiters, 2-thread churn.
// The peers' `pool!` macros expand to code clippy flags (manual `div_ceil`); not ours to change.
#![allow(clippy::manual_div_ceil)]

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use heapless::box_pool;
use heapless::pool::boxed::BoxBlock;

use crate::harness::{Case, Impl};

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            group: "pool",
            name: "new + drop, 64-byte value, uncontended",
            iters: 2_000_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: new_drop_ours,
                },
                Impl {
                    name: "atomic-pool",
                    run: new_drop_atomic_pool,
                },
                Impl {
                    name: "heapless box_pool",
                    run: new_drop_heapless,
                },
                Impl {
                    name: "std Box",
                    run: new_drop_std,
                },
            ],
        },
        Case {
            group: "pool",
            name: "free -> waiter hand-off, 1 waiter",
            iters: 200_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: |n| handoff_ours::<1>(n),
                },
                Impl {
                    name: "async-pool",
                    run: |n| handoff_async_pool::<1>(n),
                },
            ],
        },
        Case {
            group: "pool",
            name: "free -> waiter hand-off, 8 waiters",
            iters: 200_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: |n| handoff_ours::<8>(n),
                },
                Impl {
                    name: "async-pool",
                    run: |n| handoff_async_pool::<8>(n),
                },
            ],
        },
        Case {
            group: "pool",
            name: "2-thread churn (new + drop each), per operation",
            iters: 400_000,
            threads: true,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: |n| churn(n, || Box8::new(black_box([1u8; 64])).map(drop).is_some()),
                },
                Impl {
                    name: "atomic-pool",
                    run: |n| {
                        churn(n, || {
                            atomic_pool::Box::<APool8>::new(black_box([1u8; 64]))
                                .map(drop)
                                .is_some()
                        })
                    },
                },
            ],
        },
    ]
}

pool::pool!(Ours: [[u8; 64]; 4]);
atomic_pool::pool!(APool: [[u8; 64]; 4]);
box_pool!(HPool: [u8; 64]);

fn new_drop_ours(iters: u64) -> u64 {
    let mut ok = 0;
    for _ in 0..iters {
        let b = pool::Box::<Ours>::new(black_box([1u8; 64]));
        ok += u64::from(black_box(&b).is_some());
    }
    ok
}

fn new_drop_atomic_pool(iters: u64) -> u64 {
    let mut ok = 0;
    for _ in 0..iters {
        let b = atomic_pool::Box::<APool>::new(black_box([1u8; 64]));
        ok += u64::from(black_box(&b).is_some());
    }
    ok
}

fn new_drop_heapless(iters: u64) -> u64 {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for _ in 0..4 {
            let block: &'static mut BoxBlock<[u8; 64]> = Box::leak(Box::new(BoxBlock::new()));
            HPool.manage(block);
        }
    });
    let mut ok = 0;
    for _ in 0..iters {
        let b = HPool.alloc(black_box([1u8; 64]));
        ok += u64::from(black_box(&b).is_ok());
    }
    ok
}

fn new_drop_std(iters: u64) -> u64 {
    let mut ok = 0;
    for _ in 0..iters {
        let b = Box::new(black_box([1u8; 64]));
        black_box(&b);
        ok += 1;
    }
    ok
}

pool::pool!(Hand1: [u64; 1], 1);
pool::pool!(Hand8: [u64; 1], 8);
async_pool::pool!(AHand1: [u64; 1], 1);
async_pool::pool!(AHand8: [u64; 1], 8);

/// `W` futures wait for the one slot; each iteration frees the slot and polls the waiter that
/// should get it, which takes it and frees it again.
fn handoff_ours<const W: usize>(iters: u64) -> u64 {
    fn run<P: pool::Pool<Item = u64>>(iters: u64, waiters: usize) -> u64 {
        let cx = &mut Context::from_waker(Waker::noop());
        let mut held = pool::Box::<P>::new(0);
        let mut futures: Vec<_> = (0..waiters)
            .map(|_| Box::pin(pool::Box::<P>::new_async(1)))
            .collect();
        for f in &mut futures {
            assert!(f.as_mut().poll(cx).is_pending());
        }
        let mut ok = 0;
        let mut next = 0;
        for _ in 0..iters {
            drop(held.take());
            // The oldest waiter gets the slot.
            match futures[next].as_mut().poll(cx) {
                Poll::Ready(Some(b)) => {
                    ok += 1;
                    held = Some(b);
                    futures[next] = Box::pin(pool::Box::<P>::new_async(1));
                    assert!(futures[next].as_mut().poll(cx).is_pending());
                    next = (next + 1) % waiters;
                }
                _ => break,
            }
        }
        ok
    }
    if W == 1 {
        run::<Hand1>(iters, 1)
    } else {
        run::<Hand8>(iters, 8)
    }
}

fn handoff_async_pool<const W: usize>(iters: u64) -> u64 {
    fn run<P: async_pool::Pool<Item = u64>>(iters: u64, waiters: usize) -> u64 {
        let cx = &mut Context::from_waker(Waker::noop());
        let mut held = async_pool::Box::<P>::new(0);
        let mut futures: Vec<_> = (0..waiters)
            .map(|_| Box::pin(async_pool::Box::<P>::new_async(1)))
            .collect();
        for f in &mut futures {
            assert!(f.as_mut().poll(cx).is_pending());
        }
        let mut ok = 0;
        for _ in 0..iters {
            drop(held.take());
            // async-pool wakes every waiter; poll them in turn until one gets the slot.
            let mut got = false;
            for f in &mut futures {
                if let Poll::Ready(b) = f.as_mut().poll(cx) {
                    held = b;
                    *f = Box::pin(async_pool::Box::<P>::new_async(1));
                    assert!(f.as_mut().poll(cx).is_pending());
                    got = held.is_some();
                    break;
                }
            }
            if !got {
                break;
            }
            ok += 1;
        }
        ok
    }
    let _ = pin!(());
    if W == 1 {
        run::<AHand1>(iters, 1)
    } else {
        run::<AHand8>(iters, 8)
    }
}

pool::pool!(Box8Pool: [[u8; 64]; 8]);
type Box8 = pool::Box<Box8Pool>;
atomic_pool::pool!(APool8: [[u8; 64]; 8]);

/// Two threads allocate and free from one pool of 8; returns successful operations.
fn churn(iters: u64, op: fn() -> bool) -> u64 {
    let half = iters / 2;
    let other = std::thread::spawn(move || (0..half).filter(|_| op()).count() as u64);
    let mine = (0..iters - half).filter(|_| op()).count() as u64;
    mine + other.join().unwrap()
}
