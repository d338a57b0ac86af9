//! An executor written the way a C program would write it: its run queue is an intrusive list
//! threaded through each task's user data, reached from the raw task pointer at
//! `TaskHead::DATA_OFFSET` (no call into Rust), and it runs or drops tasks through the
//! type-erased `extern "C"` functions of `task_ffi::ffi`. The queue picks the highest priority
//! first; the data also counts how often the executor ran each task.

use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;

use task_ffi::{TaskHead, ffi};

/// The per-task data, laid out for C.
#[repr(C)]
struct TaskData {
    priority: u32,
    runs: u32,
    next: *mut c_void,
}

/// The C side: a singly linked run queue plus the data offset it was configured with.
#[repr(C)]
struct CExecutor {
    head: *mut c_void,
    data_offset: usize,
    run: unsafe extern "C" fn(*mut c_void) -> bool,
    drop: unsafe extern "C" fn(*mut c_void),
}

/// `struct task_data *data_of(struct executor *e, void *task)`.
unsafe extern "C" fn data_of(exec: *mut CExecutor, task: *mut c_void) -> *mut TaskData {
    // SAFETY: the caller passes a live executor.
    let offset = unsafe { (*exec).data_offset };
    task.cast::<u8>().wrapping_add(offset).cast()
}

/// `void exec_push(struct executor *e, void *task)`: keeps the list sorted by priority.
unsafe extern "C" fn exec_push(exec: *mut CExecutor, task: *mut c_void) {
    // SAFETY: the queue owns `task`, a runnable pointer whose data is a `TaskData`.
    let data = unsafe { data_of(exec, task) };
    // SAFETY: as above; nobody else touches a queued task's data.
    let prio = unsafe { (*data).priority };
    // SAFETY: `exec` is live; we walk the list of queued tasks, which the queue owns.
    let mut link: *mut *mut c_void = unsafe { &raw mut (*exec).head };
    loop {
        // SAFETY: `link` points at the head or at a queued task's `next`.
        let cur = unsafe { *link };
        if cur.is_null() {
            break;
        }
        // SAFETY: `cur` is a queued task.
        let cur_data = unsafe { data_of(exec, cur) };
        // SAFETY: as above.
        if unsafe { (*cur_data).priority } < prio {
            break;
        }
        // SAFETY: as above.
        link = unsafe { &raw mut (*cur_data).next };
    }
    // SAFETY: `link` is valid (see above).
    let after = unsafe { *link };
    // SAFETY: `data` is the new task's.
    unsafe { (*data).next = after };
    // SAFETY: splice `task` in before the old `*link`.
    unsafe { *link = task };
}

/// `void *exec_pop(struct executor *e)`.
unsafe extern "C" fn exec_pop(exec: *mut CExecutor) -> *mut c_void {
    // SAFETY: `exec` is live and owns its list.
    let task = unsafe { (*exec).head };
    if !task.is_null() {
        // SAFETY: `task` is queued, so its data holds the next link.
        let data = unsafe { data_of(exec, task) };
        // SAFETY: as above.
        let next = unsafe { (*data).next };
        // SAFETY: `exec` is live.
        unsafe { (*exec).head = next };
    }
    task
}

/// `size_t exec_run_all(struct executor *e)`: runs until the queue is empty.
unsafe extern "C" fn exec_run_all(exec: *mut CExecutor) -> usize {
    let mut n = 0;
    loop {
        // SAFETY: `exec` is live.
        let task = unsafe { exec_pop(exec) };
        if task.is_null() {
            return n;
        }
        // SAFETY: the popped task is ours until we hand it to `run`.
        let data = unsafe { data_of(exec, task) };
        // SAFETY: as above.
        unsafe { (*data).runs += 1 };
        // SAFETY: `exec` is live.
        let run = unsafe { (*exec).run };
        // SAFETY: a runnable pointer, used once.
        unsafe { run(task) };
        n += 1;
    }
}

/// `void exec_drop_all(struct executor *e)`: cancels whatever is still queued.
unsafe extern "C" fn exec_drop_all(exec: *mut CExecutor) {
    loop {
        // SAFETY: `exec` is live.
        let task = unsafe { exec_pop(exec) };
        if task.is_null() {
            return;
        }
        // SAFETY: `exec` is live.
        let drop_fn = unsafe { (*exec).drop };
        // SAFETY: a runnable pointer, used once.
        unsafe { drop_fn(task) };
    }
}

fn main() {
    let mut exec = CExecutor {
        head: ptr::null_mut(),
        data_offset: TaskHead::<(), TaskData>::DATA_OFFSET,
        run: ffi::task_ffi_run,
        drop: ffi::task_ffi_drop,
    };
    let exec_ptr: *mut CExecutor = &raw mut exec;
    let order = Rc::new(std::cell::RefCell::new(Vec::new()));

    let mut tasks = Vec::new();
    for (name, priority, yields) in [("low", 1, 2), ("high", 9, 2), ("mid", 5, 2)] {
        let order = order.clone();
        let future = async move {
            for _ in 0..yields {
                order.borrow_mut().push(name);
                futures_lite::future::yield_now().await;
            }
            order.borrow_mut().push(name);
            name.len()
        };
        let schedule = move |runnable: task_ffi::Runnable<(), TaskData>| {
            // SAFETY: single-threaded; the executor outlives every task (drained below).
            unsafe { exec_push(exec_ptr, runnable.into_raw().as_ptr().cast()) };
        };
        let data = TaskData {
            priority,
            runs: 0,
            next: ptr::null_mut(),
        };
        // SAFETY: everything (future, schedule function, wakers) stays on this thread, and
        // `exec` outlives the tasks: the queue is drained before it goes out of scope.
        let (runnable, task) = unsafe { task_ffi::spawn_unchecked_with(future, schedule, data) };
        runnable.schedule();
        tasks.push(task);
    }
    // A task that never finishes: the executor cancels it at shutdown.
    let (runnable, forever) = {
        let schedule = move |runnable: task_ffi::Runnable<(), TaskData>| {
            // SAFETY: as above.
            unsafe { exec_push(exec_ptr, runnable.into_raw().as_ptr().cast()) };
        };
        let data = TaskData {
            priority: 0,
            runs: 0,
            next: ptr::null_mut(),
        };
        // SAFETY: as above.
        unsafe { task_ffi::spawn_unchecked_with(std::future::pending::<()>(), schedule, data) }
    };
    runnable.schedule();

    // SAFETY: `exec` is live; all tasks are on this thread.
    let runs = unsafe { exec_run_all(exec_ptr) };
    // 3 tasks × 3 polls + 1 poll of the pending task.
    assert_eq!(runs, 10);
    // Highest priority first at every step.
    assert_eq!(
        *order.borrow(),
        [
            "high", "high", "high", "mid", "mid", "mid", "low", "low", "low"
        ]
    );
    for task in tasks {
        assert!(task.is_finished());
        assert!(futures_lite::future::block_on(task) >= 3);
    }
    // Cancelling the pending task schedules it once more; the shutdown drops it.
    drop(forever);
    // SAFETY: as above.
    unsafe { exec_drop_all(exec_ptr) };
    assert!(exec.head.is_null());
    println!("{runs} runs, order {:?}", order.borrow());
}
