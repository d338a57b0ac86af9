//! Compiles `c/executor.c` for the target being built and links it as `frugal_c_executor`: the
//! host's C compiler, or on bare metal (`target_os = "none"`) the cross compiler cc picks for the
//! target (`arm-none-eabi-gcc` for thumbv7em) with `-ffreestanding`. Strict C99 with `-Wall
//! -Wextra -pedantic`; any warning fails the build.

fn main() {
    const SOURCES: [&str; 2] = ["c/executor.c", "c/executor.h"];
    for path in SOURCES {
        println!("cargo:rerun-if-changed={path}");
    }
    let mut build = cc::Build::new();
    build
        .file(SOURCES[0])
        .include("c")
        .std("c99")
        .flag("-Wall")
        .flag("-Wextra")
        .flag_if_supported("-pedantic")
        .warnings_into_errors(true);
    if std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "none") {
        build.flag("-ffreestanding");
    }
    build.compile("frugal_c_executor");
}
