//! Memory per task: one allocation per spawn (also for a future far larger than async-task-ffi's
//! 2048-byte boxing threshold), its size for a trivial future, and the header size, measured with
//! a counting global allocator.

use std::alloc::System;

use sync_core::testing::CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc<System> = CountingAlloc::new(System);

/// Allocations and bytes of `f` (single-threaded: this file holds one test).
fn measure(f: impl FnOnce()) -> (usize, usize) {
    let (a, b) = (GLOBAL.allocations(), GLOBAL.bytes());
    f();
    (GLOBAL.allocations() - a, GLOBAL.bytes() - b)
}

#[test]
fn one_allocation_per_task_and_sizes() {
    let word = std::mem::size_of::<usize>();
    assert_eq!(std::mem::size_of::<task_ffi::Header>(), 4 * word);

    // Warm up block_on's thread-local parker outside the measurements.
    futures_lite::future::block_on(async {});
    let (n, trivial) = measure(|| {
        let (runnable, task) = task_ffi::spawn(async {}, |_| {});
        runnable.run();
        futures_lite::future::block_on(task);
    });
    assert_eq!(n, 1, "one allocation per task");
    // Header + union { future (1 byte), output }: with `std` the output slot holds a
    // `Result<(), Box<dyn Any>>` (2 words, the panic payload); without it one word.
    let union = if cfg!(feature = "std") {
        2 * word
    } else {
        word
    };
    assert_eq!(trivial, 4 * word + union);
    println!("spawn(async {{}}, |_| {{}}): {trivial} bytes in {n} allocation");

    let (n, with_data) = measure(|| {
        let (runnable, task) = task_ffi::spawn_with(async {}, |_| {}, [0u64; 2]);
        runnable.run();
        futures_lite::future::block_on(task);
    });
    assert_eq!(n, 1);
    assert_eq!(with_data, trivial + 16);
    println!("spawn_with(async {{}}, |_| {{}}, [u64; 2]): {with_data} bytes");

    // A 16 KiB future (state held across an await) still takes exactly one allocation, sized
    // for the future: it is not boxed separately.
    let (n, large) = measure(|| {
        let (runnable, task) = task_ffi::spawn_with(
            async {
                let buffer = [7u8; 16 * 1024];
                futures_lite::future::yield_now().await;
                buffer.iter().map(|&b| usize::from(b)).sum::<usize>()
            },
            |_| {},
            0u32,
        );
        // One poll parks the future at the yield with its buffer live; the schedule function
        // drops the rescheduled runnable, which cancels the task.
        runnable.run();
        drop(task);
    });
    assert_eq!(n, 1, "one allocation for a 16 KiB future");
    assert!(
        (16 * 1024..16 * 1024 + 256).contains(&large),
        "the allocation holds the future inline ({large} bytes)"
    );
    println!("spawn_with(16 KiB future): {large} bytes in {n} allocation");
}
