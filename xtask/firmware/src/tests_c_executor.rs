//! task-ffi heap tasks driven by the C executor on the Cortex-M4 (the scenario is shared with
//! `firmware-static`, see `c_executor_scenario.rs`).

use core::future::Future;

use task_ffi::{Runnable, Task};

use crate::Test;

#[path = "c_executor_scenario.rs"]
mod scenario;

use scenario::Data;

pub const TESTS: &[Test] = &[(
    "task_ffi::c_executor_runs_tasks_woken_from_systick",
    scenario::scenario,
)];

/// Spawns task `id` on the heap.
pub fn spawn<F>(id: usize, priority: u32, future: F) -> (Runnable<(), Data>, Task<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    task_ffi::spawn_with(future, scenario::schedule, Data::new(id, priority))
}
