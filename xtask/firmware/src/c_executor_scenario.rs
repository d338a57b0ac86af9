//! The C-executor scenario both QEMU firmwares run: task-ffi tasks driven by
//! `c-executor/c/executor.c`, the same C99 file the host example uses, cross-compiled with
//! `arm-none-eabi-gcc` by each firmware's `build.rs`. `firmware` spawns the tasks on the heap,
//! `firmware-static` in static `TaskSlot`s (it includes this file with `#[path]`); the parent
//! module provides `spawn(id, priority, future)`, and the C code cannot tell the two apart.
//!
//! The C queue is threaded through each task's user data (found at `TaskHead::DATA_OFFSET`),
//! runs the highest priority first and counts runs in the data; it reaches Rust only through the
//! function pointers `task_ffi_run` / `task_ffi_drop` and the lock hooks, which mask interrupts
//! here, because the SysTick handler wakes a task and so pushes onto the C queue.

use core::cell::{RefCell, UnsafeCell};
use core::future::poll_fn;
use core::mem::size_of;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use core::task::Poll;

use critical_section::Mutex;
use heapless::Vec;
use sync_core::AtomicWaker;
use task_ffi::{Runnable, TaskHead, ffi};

use crate::{exec, isr};

use c_executor::{
    Exec, ExecConfig, ExecLink, exec_drop_all, exec_init, exec_len, exec_push, exec_run_all,
    exec_size,
};

/// Static storage for the C executor.
struct ExecCell(UnsafeCell<Exec>);

// SAFETY: the C code guards the queue with the lock hooks (interrupts masked); every other
// function is only called from thread mode.
unsafe impl Sync for ExecCell {}

/// The executor's configuration: the data offset of this test's task type, the type-erased
/// entry points and the interrupt-masking lock hooks.
const CONFIG: ExecConfig = ExecConfig {
    data_offset: TaskHead::<(), Data>::DATA_OFFSET,
    run: ffi::task_ffi_run,
    drop: ffi::task_ffi_drop,
    lock: Some(lock),
    unlock: Some(unlock),
};

static EXEC: ExecCell = ExecCell(UnsafeCell::new(Exec::new(CONFIG)));

pub fn exec_ptr() -> *mut Exec {
    EXEC.0.get()
}

/// Whether interrupts were enabled when the C code took its lock.
static WERE_ENABLED: AtomicBool = AtomicBool::new(false);

extern "C" fn lock() {
    let enabled = cortex_m::register::primask::read().is_active();
    cortex_m::interrupt::disable();
    WERE_ENABLED.store(enabled, Ordering::Relaxed);
}

extern "C" fn unlock() {
    if WERE_ENABLED.load(Ordering::Relaxed) {
        // SAFETY: interrupts were enabled before the matching `lock`; the C code's critical
        // section is over.
        unsafe { cortex_m::interrupt::enable() };
    }
}

/// The user data: the C link first, then a Rust-only id.
#[repr(C)]
pub struct Data {
    link: ExecLink,
    id: usize,
}

impl Data {
    /// The data of task `id`, queued at `priority` by the C code.
    pub fn new(id: usize, priority: u32) -> Self {
        Self {
            link: ExecLink::new(priority),
            id,
        }
    }
}

/// Runs recorded by the C code, per task id, when the task's data is dropped.
static FINAL_RUNS: [AtomicU32; 4] = [const { AtomicU32::new(u32::MAX) }; 4];
pub static DATA_DROPS: AtomicUsize = AtomicUsize::new(0);

impl Drop for Data {
    fn drop(&mut self) {
        FINAL_RUNS[self.id].store(*self.link.runs.get_mut(), Ordering::Relaxed);
        DATA_DROPS.fetch_add(1, Ordering::Relaxed);
    }
}

/// The order in which task ids were polled.
static POLLS: Mutex<RefCell<Vec<usize, 16>>> = Mutex::new(RefCell::new(Vec::new()));

fn polled(id: usize) {
    critical_section::with(|cs| POLLS.borrow_ref_mut(cs).push(id).expect("room for the log"));
}

pub fn schedule(runnable: Runnable<(), Data>) {
    let raw = runnable.into_raw();
    // SAFETY: the executor was initialised before any task was scheduled; the pointer comes
    // from `into_raw` and its ownership passes to the C queue.
    unsafe { exec_push(exec_ptr(), raw.as_ptr().cast()) };
}

static TICK_WAKER: AtomicWaker = AtomicWaker::new();
static TICKED: AtomicBool = AtomicBool::new(false);

pub fn scenario() {
    assert_eq!(
        exec_size(),
        size_of::<Exec>(),
        "Rust's mirror of struct exec"
    );
    // SAFETY: the storage is static and not yet used; the config is read during the call.
    unsafe { exec_init(exec_ptr(), &CONFIG) };

    // Task 0 (priority 1) waits for the SysTick handler; task 1 (priority 5) yields three times.
    let (r0, t0) = super::spawn(0, 1, async {
        polled(0);
        poll_fn(|cx| {
            TICK_WAKER.register(cx.waker());
            if TICKED.load(Ordering::Acquire) {
                Poll::Ready(40)
            } else {
                Poll::Pending
            }
        })
        .await
    });
    let (r1, t1) = super::spawn(1, 5, async {
        for _ in 0..3 {
            polled(1);
            exec::yield_now().await;
        }
        polled(1);
        2
    });
    r0.schedule();
    r1.schedule();
    // SAFETY: thread mode owns the executor's run side.
    let mut runs = unsafe { exec_run_all(exec_ptr()) };
    assert_eq!(
        runs, 5,
        "task 1 ran to completion first, then task 0 parked"
    );
    assert!(!t0.is_finished() && t1.is_finished());
    isr::set_hook(|| {
        if !TICKED.swap(true, Ordering::Release) {
            TICK_WAKER.wake();
        }
    });
    while !(t0.is_finished() && t1.is_finished()) {
        // SAFETY: thread mode owns the executor's run side.
        runs += unsafe { exec_run_all(exec_ptr()) };
        if !(t0.is_finished() && t1.is_finished()) {
            cortex_m::asm::wfi();
        }
    }
    isr::clear_hook();
    // The waker slot still holds a clone of task 0's waker (a reference to the task).
    drop(TICK_WAKER.take());
    assert_eq!(runs, 6, "task 1 four times, task 0 twice");
    assert_eq!(exec::block_on(t0).0, 40);
    assert_eq!(exec::block_on(t1).0, 2);

    // Task 2 is queued but never run: `exec_drop_all` cancels it through `task_ffi_drop`.
    let (r2, t2) = super::spawn(2, 3, async { 0u8 });
    r2.schedule();
    // SAFETY: thread mode, executor initialised.
    assert_eq!(unsafe { exec_drop_all(exec_ptr()) }, 1);
    drop(t2);
    // SAFETY: as above.
    assert_eq!(unsafe { exec_len(exec_ptr()) }, 0);

    // Higher priority first: task 1 ran its four polls before task 0's first.
    critical_section::with(|cs| {
        assert_eq!(POLLS.borrow_ref(cs).as_slice(), &[1, 1, 1, 1, 0]);
    });
    assert_eq!(
        DATA_DROPS.load(Ordering::Relaxed),
        3,
        "each task's data dropped once"
    );
    let runs: [u32; 3] = core::array::from_fn(|i| FINAL_RUNS[i].load(Ordering::Relaxed));
    assert_eq!(
        runs,
        [2, 4, 0],
        "runs counted by the C code in each task's data"
    );
}
