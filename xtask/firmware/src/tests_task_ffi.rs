//! task-ffi on the Cortex-M4: a tiny static executor (a run queue in a critical-section mutex)
//! running tasks, one of them woken from the SysTick handler.

extern crate alloc;

use core::cell::RefCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use critical_section::Mutex;
use embedded_alloc::LlffHeap;
use heapless::Deque;
use sync_core::WaitQueue;
use task_ffi::Runnable;

use crate::{Test, exec, isr};

pub const TESTS: &[Test] = &[
    (
        "task_ffi::static_executor_runs_yielding_tasks",
        static_executor_runs_yielding_tasks,
    ),
    ("task_ffi::task_woken_from_systick", task_woken_from_systick),
    (
        "task_ffi::user_data_at_fixed_offset",
        user_data_at_fixed_offset,
    ),
];

#[global_allocator]
static HEAP: LlffHeap = LlffHeap::empty();

/// Gives the allocator 32 KiB.
pub fn init_heap() {
    use core::mem::MaybeUninit;
    const SIZE: usize = 32 * 1024;
    static mut MEMORY: [MaybeUninit<u8>; SIZE] = [MaybeUninit::uninit(); SIZE];
    // SAFETY: called once before any allocation; MEMORY is used by nothing else.
    unsafe { HEAP.init(core::ptr::addr_of_mut!(MEMORY) as usize, SIZE) }
}

/// The run queue: the schedule function pushes (from thread mode or an interrupt handler).
static QUEUE: Mutex<RefCell<Deque<Runnable, 16>>> = Mutex::new(RefCell::new(Deque::new()));
static SCHEDULED: AtomicUsize = AtomicUsize::new(0);

fn schedule(runnable: Runnable) {
    SCHEDULED.fetch_add(1, Ordering::Relaxed);
    critical_section::with(|cs| {
        QUEUE
            .borrow_ref_mut(cs)
            .push_back(runnable)
            .ok()
            .expect("run queue has room");
    });
}

/// Runs queued tasks until `done()`; sleeps (`wfi`) while the queue is empty.
fn run_until(done: impl Fn() -> bool) -> usize {
    let mut runs = 0;
    while !done() {
        match critical_section::with(|cs| QUEUE.borrow_ref_mut(cs).pop_front()) {
            Some(runnable) => {
                runnable.run();
                runs += 1;
            }
            None => cortex_m::asm::wfi(),
        }
    }
    runs
}

static FINISHED: AtomicUsize = AtomicUsize::new(0);

fn static_executor_runs_yielding_tasks() {
    FINISHED.store(0, Ordering::Relaxed);
    SCHEDULED.store(0, Ordering::Relaxed);
    let tasks: [_; 3] = core::array::from_fn(|i| {
        let (runnable, task) = task_ffi::spawn(
            async move {
                for _ in 0..i + 1 {
                    exec::yield_now().await;
                }
                FINISHED.fetch_add(1, Ordering::Relaxed);
                i * 10
            },
            schedule,
        );
        runnable.schedule();
        task
    });
    let runs = run_until(|| FINISHED.load(Ordering::Relaxed) == 3);
    // Task i runs i + 2 times: the first poll, i + 1 yields.
    assert_eq!(runs, 2 + 3 + 4);
    assert_eq!(SCHEDULED.load(Ordering::Relaxed), runs);
    for (i, task) in tasks.into_iter().enumerate() {
        assert!(task.is_finished());
        assert_eq!(crate::exec::block_on(task).0, i * 10);
    }
}

static WAITERS: WaitQueue<2> = WaitQueue::new();

fn task_woken_from_systick() {
    SCHEDULED.store(0, Ordering::Relaxed);
    let (runnable, task) = task_ffi::spawn(async { WAITERS.wait().await }, schedule);
    runnable.schedule();
    isr::set_hook(|| {
        let _ = WAITERS.notify_one(5);
    });
    let runs = run_until(|| task.is_finished());
    assert_eq!(
        runs, 2,
        "polled once, then once more after the interrupt woke it"
    );
    assert_eq!(crate::exec::block_on(task).0, Ok(5));
}

fn user_data_at_fixed_offset() {
    let (runnable, task) = task_ffi::spawn_with(async { 7u32 }, |_| {}, 0xC0FF_EEu32);
    let offset = task_ffi::TaskHead::<(), u32>::DATA_OFFSET;
    let raw = runnable.into_raw();
    // SAFETY: the task stays alive (we hold the runnable's reference through `raw`); the data is a
    // `u32` at DATA_OFFSET, as TaskHead documents.
    let data = unsafe { raw.as_ptr().cast::<u8>().add(offset).cast::<u32>().read() };
    assert_eq!(data, 0xC0FF_EE);
    // SAFETY: `raw` came from `into_raw` of this runnable type.
    let runnable = unsafe { Runnable::<(), u32>::from_raw(raw) };
    runnable.run();
    assert_eq!(crate::exec::block_on(task).0, 7);
}
