//! A statically allocated object pool with a std-like Box and async waiting for a free slot.
//!
//! (Work in progress: the implementation lands with its issue.)
#![no_std]
