//! The benchmark cases, one file per primitive.

mod framealloc;
mod hatch;
mod io;
mod pool;
mod sync_core;
mod task;

use crate::harness::Case;

/// Every case, grouped by primitive.
pub(crate) fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(sync_core::cases());
    cases.extend(pool::cases());
    cases.extend(hatch::cases());
    cases.extend(task::cases());
    cases.extend(io::cases());
    cases.extend(framealloc::cases());
    cases
}
