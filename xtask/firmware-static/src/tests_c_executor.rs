//! Static task-ffi tasks driven by the C executor on the Cortex-M4: the scenario of the heap
//! firmware (`xtask/firmware/src/c_executor_scenario.rs`) with every task in a static
//! `TaskSlot`, then the freed slots spawned into again.

use core::future::Future;
use core::sync::atomic::Ordering;

use crate::exec;
use task_ffi::{Runnable, Task, TaskSlot};

use crate::Test;

#[path = "../../firmware/src/c_executor_scenario.rs"]
mod scenario;

use scenario::{DATA_DROPS, Data, exec_ptr};

pub const TESTS: &[Test] = &[(
    "static_task::c_executor_runs_static_tasks_woken_from_systick",
    c_executor_runs_static_tasks_woken_from_systick,
)];

/// One static slot per task id.
static SLOTS: [TaskSlot<160>; 4] = [const { TaskSlot::new() }; 4];

/// Spawns task `id` into its static slot.
pub fn spawn<F>(id: usize, priority: u32, future: F) -> (Runnable<(), Data>, Task<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match SLOTS[id].spawn_with(future, scenario::schedule, Data::new(id, priority)) {
        Ok(handles) => handles,
        Err(_) => panic!("slot {id} is taken"),
    }
}

fn c_executor_runs_static_tasks_woken_from_systick() {
    scenario::scenario();
    assert!(SLOTS.iter().all(TaskSlot::is_free), "every slot given back");

    // The freed slots are spawned into again and run through the C executor.
    let (r0, t0) = spawn(0, 2, async { 7u8 });
    let (r2, t2) = spawn(2, 9, async { 8u8 });
    r0.schedule();
    r2.schedule();
    // SAFETY: thread mode owns the executor's run side.
    assert_eq!(unsafe { c_executor::exec_run_all(exec_ptr()) }, 2);
    assert_eq!(exec::block_on(t0).0 + exec::block_on(t2).0, 15);
    assert_eq!(DATA_DROPS.load(Ordering::Relaxed), 5);
    assert!(SLOTS.iter().all(TaskSlot::is_free));
}
