//! Puts `memory.x` where the linker (cortex-m-rt's `link.x`) finds it, and cross-compiles the C
//! executor of `examples/task-ffi/c/` with `arm-none-eabi-gcc` (the `static_task::c_executor_*`
//! test drives static task-ffi tasks with it).
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");

    const C_DIR: &str = "../../examples/task-ffi/c";
    println!("cargo:rerun-if-changed={C_DIR}/executor.c");
    println!("cargo:rerun-if-changed={C_DIR}/executor.h");
    cc::Build::new()
        .compiler("arm-none-eabi-gcc")
        .file(format!("{C_DIR}/executor.c"))
        .include(C_DIR)
        .std("c99")
        .flag("-ffreestanding")
        .flag("-Wall")
        .flag("-Wextra")
        .flag("-pedantic")
        .warnings_into_errors(true)
        .compile("frugal_c_executor");
}
