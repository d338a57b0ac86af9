//! Tasks in static [`TaskSlot`]s: no allocation, occupied slots give the arguments back and
//! leave the live task alone, reuse after completion and cancellation (not before the last
//! waker is gone), panics free the slot, the FFI view, and reuse racing the last drop.
//!
//! Runs without the `alloc` feature (`cargo test --no-default-features`): the behaviour suites
//! (`basic.rs`, `cancel.rs`, ...) run their scenarios on slots as well, in their `static_*`
//! modules.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

use futures_lite::future::block_on;
use task_ffi::{Builder, Occupied, Runnable, TaskHead, TaskSlot};

/// Counts the allocations of threads that asked for it.
struct Counting;

std::thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to `System`; a thread-local counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.with(|a| a.set(a.get() + 1));
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`, returning how many allocations this thread made meanwhile.
fn allocations(f: impl FnOnce()) -> usize {
    ALLOCS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.with(Cell::get)
}

/// Counts drops.
struct Counted(&'static AtomicUsize);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Pending at the first poll (leaving its waker in `slot`), ready with 9 afterwards.
struct Once {
    polled: bool,
    waker: &'static Mutex<Option<Waker>>,
}

impl Future for Once {
    type Output = u32;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if std::mem::replace(&mut self.polled, true) {
            Poll::Ready(9)
        } else {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

#[test]
fn spawn_run_await_allocate_nothing_and_the_task_lives_in_the_slot() {
    static SLOT: TaskSlot<256> = TaskSlot::new();
    let n = allocations(|| {
        let (runnable, task) = SLOT.spawn(async { 5 }, |_: Runnable| {}).unwrap();
        let addr = runnable.into_raw();
        assert_eq!(addr.as_ptr().cast_const().cast(), std::ptr::from_ref(&SLOT));
        // SAFETY: from `into_raw` just above.
        let runnable = unsafe { Runnable::<()>::from_raw(addr) };
        runnable.run();
        let mut task = task;
        let poll = Pin::new(&mut task).poll(&mut Context::from_waker(Waker::noop()));
        assert_eq!(poll, Poll::Ready(5));
    });
    assert_eq!(n, 0, "a static task allocated");
    assert!(SLOT.is_free());
}

#[test]
fn a_slot_is_its_bytes_and_nothing_more() {
    // The "taken" flag is the task's own state word: a slot costs exactly its block.
    assert_eq!(std::mem::size_of::<TaskSlot<32>>(), 32);
    assert_eq!(std::mem::size_of::<TaskSlot<256>>(), 256);
    assert_eq!(std::mem::size_of::<TaskSlot<64, task_ffi::Align64>>(), 64);
    assert_eq!(std::mem::align_of::<TaskSlot<32>>(), 8);
}

/// On 32-bit targets a task whose parts need at most a word fits a word-aligned slot of exactly
/// its size.
#[test]
#[cfg(target_pointer_width = "32")]
fn a_word_aligned_slot_is_exactly_its_task() {
    use task_ffi::Align4;
    static SLOT: TaskSlot<36, Align4> = TaskSlot::new();
    assert_eq!(std::mem::size_of::<TaskSlot<28, Align4>>(), 28);
    assert_eq!(std::mem::size_of::<TaskSlot<36, Align4>>(), 36);
    let (runnable, task) = SLOT
        .spawn_with(async { 7u32 }, |_: Runnable<(), u32>| {}, 1u32)
        .unwrap();
    runnable.run();
    assert_eq!(block_on(task), 7);
    assert!(SLOT.is_free());
}

#[test]
fn occupied_gives_the_arguments_back_and_leaves_the_live_task_alone() {
    static SLOT: TaskSlot<256> = TaskSlot::new();
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let (runnable, task) = SLOT
        .spawn_with(async { 1 }, |_: Runnable<(), u32>| {}, 10u32)
        .unwrap();
    let counted = Counted(&DROPS);
    let Err(Occupied {
        future,
        schedule,
        data,
        ..
    }) = SLOT.spawn_with(
        async move {
            let _c = counted;
            2
        },
        |_: Runnable<(), u32>| {},
        20u32,
    )
    else {
        panic!("spawned into a taken slot");
    };
    assert_eq!(DROPS.load(SeqCst), 0, "the refused future was dropped");
    assert_eq!(data, 20);
    let _ = schedule;
    assert_eq!(block_on(future), 2);
    assert_eq!(DROPS.load(SeqCst), 1);
    // The live task is untouched.
    assert_eq!(*runnable.data(), 10);
    assert!(!SLOT.is_free());
    runnable.run();
    assert_eq!(block_on(task), 1);
    assert!(SLOT.is_free());
}

#[test]
fn a_slot_is_reused_after_completion_and_after_cancellation() {
    static SLOT: TaskSlot<256> = TaskSlot::new();
    for i in 0..100u32 {
        let (runnable, task) = SLOT.spawn(async move { i }, |_: Runnable| {}).unwrap();
        match i % 4 {
            // Completed and awaited.
            0 => {
                runnable.run();
                assert_eq!(block_on(task), i);
            }
            // Completed, detached before the run.
            1 => {
                task.detach();
                runnable.run();
            }
            // Cancelled by dropping the runnable.
            2 => {
                drop(runnable);
                assert_eq!(block_on(task.fallible()), None);
            }
            // Cancelled by dropping the task, then run (drops the future).
            _ => {
                drop(task);
                assert!(!SLOT.is_free());
                runnable.run();
            }
        }
        assert!(SLOT.is_free(), "round {i}");
    }
}

#[test]
fn a_detached_spawn_runs_on_its_own_and_gives_the_slot_back() {
    static SLOT: TaskSlot<256> = TaskSlot::new();
    static FUTURES: AtomicUsize = AtomicUsize::new(0);
    static OUTPUTS: AtomicUsize = AtomicUsize::new(0);
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    static QUEUE: Mutex<Vec<Runnable>> = Mutex::new(Vec::new());
    let schedule = |r: Runnable| QUEUE.lock().unwrap().push(r);
    // Completes after a wake: the output is dropped once, with the future, and the slot is
    // free again, without any handle to let go of.
    let guard = Counted(&FUTURES);
    let once = Once {
        polled: false,
        waker: &WAKER,
    };
    let runnable = SLOT
        .spawn_detached(
            async move {
                let _guard = guard;
                once.await;
                Counted(&OUTPUTS)
            },
            schedule,
        )
        .unwrap();
    assert!(!SLOT.is_free());
    assert!(!runnable.run());
    WAKER.lock().unwrap().take().unwrap().wake();
    let next = QUEUE.lock().unwrap().pop().unwrap();
    assert!(!next.run());
    assert_eq!(
        (FUTURES.load(SeqCst), OUTPUTS.load(SeqCst)),
        (1, 1),
        "future and output dropped once"
    );
    assert!(SLOT.is_free());
    // Never run: dropping the runnable drops the future and frees the slot.
    let guard = Counted(&FUTURES);
    let runnable = SLOT
        .spawn_detached(async move { drop(guard) }, schedule)
        .unwrap();
    drop(runnable);
    assert_eq!(FUTURES.load(SeqCst), 2);
    assert!(SLOT.is_free());
    // A taken slot gives the arguments back and leaves the live task alone.
    let with_data = |_: Runnable<(), u8>| {};
    let (runnable, task) = SLOT.spawn_with(async { 1 }, with_data, 7u8).unwrap();
    let Err(Occupied { data, .. }) = SLOT.spawn_detached_with(async { 2 }, with_data, 8u8) else {
        panic!("the slot is taken");
    };
    assert_eq!(data, 8);
    runnable.run();
    assert_eq!(block_on(task), 1);
    assert!(SLOT.is_free());
}

#[test]
fn a_waker_held_after_completion_keeps_the_slot_taken() {
    static SLOT: TaskSlot<256> = TaskSlot::new();
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    static QUEUE: Mutex<Vec<Runnable>> = Mutex::new(Vec::new());
    let future = Once {
        polled: false,
        waker: &WAKER,
    };
    let (runnable, task) = SLOT
        .spawn(future, |r| QUEUE.lock().unwrap().push(r))
        .unwrap();
    runnable.run();
    let waker = WAKER.lock().unwrap().take().unwrap();
    waker.wake_by_ref();
    let runnable = QUEUE.lock().unwrap().pop().unwrap();
    runnable.run();
    assert_eq!(block_on(task), 9);
    // Completed, output taken, Task gone: the waker still points at the task.
    assert!(!SLOT.is_free());
    assert!(SLOT.spawn(async { 0 }, |_: Runnable| {}).is_err());
    waker.wake(); // a completed task is not scheduled; the last reference goes
    assert!(QUEUE.lock().unwrap().is_empty());
    assert!(SLOT.is_free());
}

#[test]
fn a_panic_in_poll_or_in_the_future_constructor_frees_the_slot() {
    static SLOT: TaskSlot<256> = TaskSlot::new();
    let (runnable, task) = SLOT
        .spawn(async { panic!("boom") }, |_: Runnable| {})
        .unwrap();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runnable.run()));
    assert!(r.is_err());
    assert_eq!(block_on(task.fallible()), None::<()>);
    assert!(SLOT.is_free());

    let r = std::panic::catch_unwind(|| {
        let _ = Builder::new().spawn_with_in(
            &SLOT,
            |()| -> std::future::Ready<u8> { panic!("no future") },
            |_: Runnable| {},
            (),
        );
    });
    assert!(r.is_err());
    assert!(SLOT.is_free());
    let (runnable, task) = SLOT.spawn(async { 3 }, |_: Runnable| {}).unwrap();
    runnable.run();
    assert_eq!(block_on(task), 3);
}

#[test]
fn a_static_task_has_its_data_at_the_offset_and_runs_through_ffi() {
    static SLOT: TaskSlot<256> = TaskSlot::new();
    let (runnable, task) = SLOT
        .spawn_with(async { 11u8 }, |_: Runnable<(), u64>| {}, 0xC0FFEE_u64)
        .unwrap();
    let ptr = runnable.into_raw().as_ptr();
    let at = ptr
        .cast::<u8>()
        .wrapping_add(TaskHead::<(), u64>::DATA_OFFSET)
        .cast::<u64>();
    // SAFETY: a `u64` sits at DATA_OFFSET of a task with data `u64`; we hold its runnable.
    let data = unsafe { at.read() };
    assert_eq!(data, 0xC0FFEE);
    // SAFETY: a runnable pointer, used once, on a thread that may run it.
    assert!(!unsafe { task_ffi::ffi::task_ffi_run(ptr.cast()) });
    assert_eq!(block_on(task), 11);
    assert!(SLOT.is_free());
}

#[test]
fn reuse_races_the_last_runnable_drop() {
    static SLOT: TaskSlot<256> = TaskSlot::new();
    static FUTURES: AtomicUsize = AtomicUsize::new(0);
    static DATA: AtomicUsize = AtomicUsize::new(0);
    let rounds = if cfg!(miri) { 10 } else { 2000 };
    for round in 0..rounds {
        let f = Counted(&FUTURES);
        let (runnable, task) = SLOT
            .spawn_with(
                async move {
                    let _f = f;
                },
                |_: Runnable<(), Counted>| {},
                Counted(&DATA),
            )
            .unwrap();
        task.detach();
        let dropper = std::thread::spawn(move || drop(runnable));
        // Spawn again as soon as the slot is free; the old task must be fully gone by then.
        let mut data = Counted(&DATA);
        let (runnable, task) = loop {
            match SLOT.spawn_with(async { 7 }, |_: Runnable<(), Counted>| {}, data) {
                Ok(handles) => break handles,
                Err(back) => {
                    data = back.data;
                    std::thread::yield_now();
                }
            }
        };
        assert_eq!(FUTURES.load(SeqCst), round + 1);
        assert_eq!(DATA.load(SeqCst), 2 * round + 1);
        dropper.join().unwrap();
        runnable.run();
        assert_eq!(block_on(task), 7);
        assert_eq!(DATA.load(SeqCst), 2 * round + 2);
        assert!(SLOT.is_free());
    }
}
