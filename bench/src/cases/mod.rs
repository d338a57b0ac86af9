//! The benchmark cases, one file per primitive.

mod sync_core;

use crate::harness::Case;

/// Every case, grouped by primitive.
pub(crate) fn all() -> Vec<Case> {
    let mut cases = Vec::new();
    cases.extend(sync_core::cases());
    cases
}
