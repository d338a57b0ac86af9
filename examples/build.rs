//! Compiles the C executor of the `task-ffi-c-executor` example (`task-ffi/c/executor.c`) into
//! a static library linked into this package. The C is built as strict C99 with `-Wall
//! -Wextra -pedantic`, and any warning fails the build.

fn main() {
    const SOURCES: [&str; 2] = ["task-ffi/c/executor.c", "task-ffi/c/executor.h"];
    for path in SOURCES {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    cc::Build::new()
        .file(SOURCES[0])
        .include("task-ffi/c")
        .std("c99")
        .flag("-Wall")
        .flag("-Wextra")
        .flag_if_supported("-pedantic")
        .warnings_into_errors(true)
        .compile("frugal_c_executor");
}
