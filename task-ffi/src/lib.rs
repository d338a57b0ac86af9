//! The task abstraction for executors, async-task compatible, plus what FFI executors need.
//!
//! (Work in progress: the implementation lands with its issue.)
#![no_std]
