//! An Async<T> drop-in for async-io on a static, heap-free select reactor.
//!
//! (Work in progress: the implementation lands with its issue.)
#![no_std]
