//! A single-message, reusable async channel.
//!
//! (Work in progress: the implementation lands with its issue.)
#![no_std]
