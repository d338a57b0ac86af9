//! Helpers of the hatch test files, from sync-core's `testing` module: drop-counting values and
//! manual polling.
#![allow(unused_imports, unreachable_pub)]

pub use sync_core::testing::{Drops, Tracked, poll_with as poll_once};
