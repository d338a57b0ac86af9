//! Declares `--cfg io_mini_poll`, which forces the `poll(2)` backend on Linux and Android (to
//! test it there).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(io_mini_poll)");
}
