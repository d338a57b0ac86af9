//! Runnable examples for the frugal crates; the programs are under `examples/<crate>/`.
