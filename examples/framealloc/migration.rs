//! Moving frame-allocating code into async code: upstream framealloc's "Migration from Sync Code" (before:
//! `process_data` with a frame vector; after: `process_data_async` with `TaskAlloc`) and the
//! fixes of its "Troubleshooting" section (`good_function`, `not_crossing`).
//!
//! The program runs both versions of `process_data` on the same input and checks they agree,
//! that the sync version's frame ended (the arena is reset, nothing live), that the async
//! version's vector came from the pool and went back when `into_vec` moved its elements out, and
//! that the troubleshooting fixes are `Send` futures: they run in `tokio::spawn` on a
//! multi-threaded runtime, which frame data could not.
//!
//! Adaptations:
//! * Before: `begin_frame` returns a `Frame` token and the vector comes from it
//!   (`frame.frame_vec()`); upstream framealloc's `result.into_inner()` *after* `end_frame` would read
//!   freed frame memory, so the elements are copied out (`to_vec()`) before the frame ends.
//! * After: `PoolVec::into_vec` replaces upstream framealloc's `into_inner` (one copy into a `std` `Vec`;
//!   the pool block goes back at once). `task` is `let task`, since `alloc_vec` takes `&self`.
//! * Troubleshooting: `alloc_box` takes the value (`task.alloc_box(0u8)`; upstream framealloc's
//!   `alloc_box::<u8>()` had none), and the functions return what they computed so the program
//!   can check it. The two *bad* functions are not examples on purpose: `cargo fa` reports them
//!   (FA701, FA603; fixture `cargo-fa/tests/fixtures/troubleshooting.rs`), and holding frame data across an
//!   `.await` in a future that must be `Send` does not compile (the `compile_fail` docs of
//!   `framealloc::Frame`).

use framealloc::SmartAlloc;
use framealloc::task::TaskAlloc;

/// The transformation both versions apply: a running XOR of the input.
fn step(acc: &mut u8, b: u8) -> u8 {
    *acc ^= b;
    *acc
}

/// Before (sync): frame allocation, valid until the frame ends.
fn process_data(data: &[u8]) -> Vec<u8> {
    let alloc = SmartAlloc::new(Default::default());
    let frame = alloc.begin_frame();
    let mut result = frame.frame_vec::<u8>();
    // Process data...
    let mut acc = 0;
    result.extend(data.iter().map(|&b| step(&mut acc, b)));
    assert_eq!(frame.allocations(), 1, "one frame allocation");
    let out = result.to_vec(); // copied out while the frame is open
    drop(result);
    alloc.end_frame(frame);
    let st = alloc.stats();
    assert_eq!((st.frames, st.frame.live_count()), (1, 0), "frame ended");
    assert_eq!(st.pool.allocations, 0);
    out
}

/// After (async): a task-scoped pool vector, held across `.await`.
async fn process_data_async(alloc: &SmartAlloc, data: &[u8]) -> Vec<u8> {
    let task = TaskAlloc::new(alloc);
    let mut result = task.alloc_vec::<u8>();
    // Process data asynchronously...
    let mut acc = 0;
    for chunk in data.chunks(16) {
        result.extend(chunk.iter().map(|&b| step(&mut acc, b)));
        tokio::task::yield_now().await;
    }
    assert_eq!(task.live_allocations(), 1, "one pool vector");
    result.into_vec()
}

async fn some_async_op() {
    tokio::task::yield_now().await;
}

/// Troubleshooting "Frame allocation in async function": the fix, `TaskAlloc`.
async fn good_function() -> u8 {
    let alloc = SmartAlloc::new(Default::default());
    let task = TaskAlloc::new(&alloc);
    let mut data = task.alloc_box(0u8);
    some_async_op().await;
    *data += 42;
    assert_eq!(alloc.stats().pool.live_count(), 1);
    *data
}

/// Troubleshooting "Frame data crossing await point": the fix, a pool vector.
async fn not_crossing() -> usize {
    let alloc = SmartAlloc::new(Default::default());
    let mut data = alloc.pool_vec::<u8>();
    data.extend_from_slice(b"pool data may cross an await");
    some_async_op().await;
    let used = use_data(&data);
    drop(data);
    assert_eq!(alloc.stats().pool.live_count(), 0);
    used
}

fn use_data(data: &[u8]) -> usize {
    data.len()
}

fn main() {
    let input: Vec<u8> = (0..200u32).map(|i| (i * 37 % 256) as u8).collect();
    let before = process_data(&input);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let alloc = SmartAlloc::new(Default::default());
    let after = runtime.block_on(process_data_async(&alloc, &input));
    assert_eq!(after, before, "both versions agree");
    let st = alloc.stats();
    assert!(st.pool.allocations >= 1, "the async version used the pool");
    assert_eq!(st.pool.live_count(), 0, "into_vec gave the block back");
    assert_eq!(st.frames, 0, "and no frame");
    println!(
        "process_data and process_data_async agree on {} bytes ({} pool allocations)",
        after.len(),
        st.pool.allocations
    );

    // Both fixes are `Send` futures: `tokio::spawn` accepts them.
    let (good, crossing) = runtime.block_on(async {
        let good = tokio::spawn(good_function());
        let crossing = tokio::spawn(not_crossing());
        (
            good.await.expect("good_function"),
            crossing.await.expect("not_crossing"),
        )
    });
    assert_eq!((good, crossing), (42, 28));
    println!("good_function -> {good}, not_crossing -> {crossing}");
}
