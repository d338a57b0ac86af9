//! A frame, pool and heap allocator with TaskAlloc and AsyncPoolGuard for async code.
//!
//! (Work in progress: the implementation lands with its issue.)
#![no_std]
