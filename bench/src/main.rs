//! Benchmarks of the frugal crates against their peers; run through `cargo xtask bench`.
fn main() {
    println!("no benchmarks yet");
}
