//! `defmt::Format` for the handles and the spawn error (feature `defmt`): the same words as their
//! `Debug` output, for firmware that logs with defmt.

use crate::slot::Occupied;
use crate::state::{AWAITER, CLOSED, COMPLETED, HANDLE, RUNNING, SCHEDULED};
use crate::{Runnable, Task};

/// Formats a task's state word as named flags.
fn format_state(f: defmt::Formatter<'_>, name: &str, state: usize) {
    defmt::write!(
        f,
        "{=str} {{ scheduled: {=bool}, running: {=bool}, completed: {=bool}, closed: {=bool}, handle: {=bool}, awaiter: {=bool} }}",
        name,
        state & SCHEDULED != 0,
        state & RUNNING != 0,
        state & COMPLETED != 0,
        state & CLOSED != 0,
        state & HANDLE != 0,
        state & AWAITER != 0,
    );
}

impl<M, D> defmt::Format for Runnable<M, D> {
    fn format(&self, f: defmt::Formatter<'_>) {
        format_state(f, "Runnable", self.state_word());
    }
}

impl<T, M> defmt::Format for Task<T, M> {
    fn format(&self, f: defmt::Formatter<'_>) {
        format_state(f, "Task", self.state_word());
    }
}

impl<F, S, D, M> defmt::Format for Occupied<F, S, D, M> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Occupied: the slot holds a live task");
    }
}
