//! framealloc: a frame of 10 007 small allocations + reset (vs bumpalo), pool-tier alloc/free of
//! 64-byte objects (vs the system allocator), and TaskAlloc vs `Box` inside a task.

use std::hint::black_box;

use framealloc::{AllocConfig, SmartAlloc};

use crate::harness::{Case, Impl};

/// Allocations per frame.
const PER_FRAME: u64 = 10_007;

pub(crate) fn cases() -> Vec<Case> {
    vec![
        Case {
            group: "framealloc",
            name: "frame: 10 007 x 16-byte allocations + reset, per allocation",
            iters: 2_000_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: frame_ours,
                },
                Impl {
                    name: "bumpalo",
                    run: frame_bumpalo,
                },
            ],
        },
        Case {
            group: "framealloc",
            name: "pool tier: alloc + free of a 64-byte object",
            iters: 2_000_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: pool_ours,
                },
                Impl {
                    name: "system allocator",
                    run: pool_system,
                },
            ],
        },
        Case {
            group: "framealloc",
            name: "TaskAlloc box vs Box inside a task, per allocation",
            iters: 1_000_000,
            threads: false,
            impls: vec![
                Impl {
                    name: "frugal",
                    run: task_ours,
                },
                Impl {
                    name: "std Box",
                    run: task_std,
                },
            ],
        },
    ]
}

fn config() -> AllocConfig {
    AllocConfig {
        frame_capacity: 1 << 20,
        ..AllocConfig::default()
    }
}

/// Runs `iters` allocations in frames of `PER_FRAME`; returns the allocations that succeeded.
fn frame_ours(iters: u64) -> u64 {
    let alloc = SmartAlloc::new(config());
    let mut done = 0;
    while done < iters {
        let frame = alloc.begin_frame();
        let n = PER_FRAME.min(iters - done);
        for i in 0..n {
            let v = frame.frame_box([black_box(i), i]);
            black_box(&*v);
        }
        alloc.end_frame(frame);
        done += n;
    }
    done
}

fn frame_bumpalo(iters: u64) -> u64 {
    let mut bump = bumpalo::Bump::with_capacity(1 << 20);
    let mut done = 0;
    while done < iters {
        let n = PER_FRAME.min(iters - done);
        for i in 0..n {
            let v = bump.alloc([black_box(i), i]);
            black_box(&*v);
        }
        bump.reset();
        done += n;
    }
    done
}

fn pool_ours(iters: u64) -> u64 {
    let alloc = SmartAlloc::new(AllocConfig::default());
    for i in 0..iters {
        let b = alloc.pool_box([black_box(i); 8]);
        black_box(&*b);
    }
    iters
}

fn pool_system(iters: u64) -> u64 {
    for i in 0..iters {
        let b = Box::new([black_box(i); 8]);
        black_box(&*b);
    }
    iters
}

fn task_ours(iters: u64) -> u64 {
    let alloc = SmartAlloc::new(AllocConfig::default());
    futures_lite::future::block_on(async {
        let task = framealloc::task::TaskAlloc::new(&alloc);
        for i in 0..iters {
            let b = task.alloc_box([black_box(i); 4]);
            futures_lite::future::yield_now().await;
            black_box(&*b);
        }
    });
    iters
}

fn task_std(iters: u64) -> u64 {
    futures_lite::future::block_on(async {
        for i in 0..iters {
            let b = Box::new([black_box(i); 4]);
            futures_lite::future::yield_now().await;
            black_box(&*b);
        }
    });
    iters
}
