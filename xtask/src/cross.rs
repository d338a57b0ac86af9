//! Cross builds (`cross`) and firmware tests on an emulated Cortex-M4 (`qemu`).

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use crate::cmd::{Cmd, Result, root};
use crate::jobs::Run;
use crate::setup;

/// The no_std crates and the feature sets a firmware user would pick (`""` = no features).
const MATRIX: &[(&str, &[&str])] = &[
    ("sync-core", &[""]),
    ("pool", &[""]),
    ("hatch", &["", "async", "alloc,async,spin_loop_hint"]),
    ("task-ffi", &[""]),
    ("frugal", &["pool,hatch", "pool,hatch,task-ffi,async"]),
];

/// Targets without compare-and-swap: atomics come from portable-atomic's critical-section backend.
const NO_CAS: &[&str] = &["thumbv6m-none-eabi", "riscv32imc-unknown-none-elf"];

/// An ESP-IDF (std) target: io-mini is type-checked for it with std built from source.
const ESPIDF: &str = "riscv32imc-esp-espidf";

/// The xtensa target of the ESP32.
const XTENSA: &str = "xtensa-esp32-none-elf";

/// Release builds (`min-size` profile: opt-level "z", LTO) of every no_std crate for the three
/// cross targets, then the xtensa build or type-check.
pub(crate) fn cross(_: &mut Run) -> Result {
    setup::targets()?;
    let start = Instant::now();
    let mut builds = 0;
    for target in setup::TARGETS {
        for (krate, feature_sets) in MATRIX {
            for features in *feature_sets {
                let mut features = features.to_string();
                if NO_CAS.contains(target) {
                    if !features.is_empty() {
                        features.push(',');
                    }
                    // Spelled as a dependency feature, except on sync-core itself.
                    if *krate != "sync-core" {
                        features.push_str("sync-core/");
                    }
                    features.push_str("portable-atomic-critical-section");
                }
                Cmd::cargo(None)
                    .args(&[
                        "build",
                        "--profile",
                        "min-size",
                        "--target",
                        target,
                        "-p",
                        krate,
                        "--no-default-features",
                    ])
                    .args(&["--features", &features])
                    .run()?;
                builds += 1;
            }
        }
    }
    let xtensa = xtensa()?;
    espidf()?;
    println!(
        "cross: {builds} release builds for {} targets ok; xtensa: {xtensa}; io-mini, framealloc and frugal (all crates) type-check for {ESPIDF} ({:.0?})",
        setup::TARGETS.len(),
        start.elapsed()
    );
    Ok(())
}

/// A real xtensa build with Espressif's `+esp` toolchain when installed, otherwise a type-check
/// with upstream nightly (which cannot generate Xtensa code). Returns which of the two ran.
fn xtensa() -> Result<&'static str> {
    let toolchains = Cmd::new("rustup").args(&["toolchain", "list"]).output()?;
    let esp = toolchains.lines().any(|l| {
        l.split_whitespace()
            .next()
            .is_some_and(|n| n == "esp" || n.starts_with("esp-"))
    });
    let target_dir = root().join("target/xtensa");
    let target_dir = target_dir.to_str().expect("utf-8 path");
    if esp {
        for (krate, feature_sets) in MATRIX {
            for features in *feature_sets {
                Cmd::cargo(Some("esp"))
                    .env("CARGO_TARGET_DIR", target_dir)
                    .args(&[
                        "build",
                        "-Zbuild-std=core,alloc",
                        "--profile",
                        "min-size",
                        "--target",
                        XTENSA,
                    ])
                    .args(&["-p", krate, "--no-default-features", "--features", features])
                    .run()?;
            }
        }
        return Ok("real build with the +esp toolchain");
    }
    let spec = xtensa_target_json()?;
    for (krate, feature_sets) in MATRIX {
        for features in *feature_sets {
            Cmd::cargo(Some("nightly"))
                .env("CARGO_TARGET_DIR", target_dir)
                .env("RUSTFLAGS", "-Zno-codegen")
                .args(&[
                    "check",
                    "-Zbuild-std=core,alloc",
                    "-Zjson-target-spec",
                    "--target",
                    spec.to_str().expect("utf-8 path"),
                ])
                .args(&["-p", krate, "--no-default-features", "--features", features])
                .run()?;
        }
    }
    Ok("type-check only with upstream nightly (-Zno-codegen; no +esp toolchain installed)")
}

/// The std crates (io-mini, framealloc with its tokio helpers) and the umbrella with every crate
/// on: ESP-IDF has std, so they are type-checked there (nightly, std built from source).
fn espidf() -> Result {
    let target_dir = root().join("target/espidf");
    Cmd::cargo(Some("nightly"))
        .env("CARGO_TARGET_DIR", target_dir.to_str().expect("utf-8 path"))
        .args(&["check", "-Zbuild-std=std,panic_abort", "--target", ESPIDF])
        .args(&[
            "-p",
            "io-mini",
            "-p",
            "framealloc",
            "--features",
            "framealloc/tokio",
        ])
        .args(&["-p", "frugal", "--features", ESPIDF_UMBRELLA])
        .run()
}

/// The umbrella's features checked for ESP-IDF: every crate, std, async.
const ESPIDF_UMBRELLA: &str = "frugal/pool,frugal/hatch,frugal/task-ffi,frugal/io-mini,frugal/framealloc,frugal/async,frugal/tokio";

/// Writes upstream's target spec for the ESP32 with LLVM's data-layout into `target/xtensa/`.
fn xtensa_target_json() -> Result<PathBuf> {
    let spec = Cmd::new("rustc")
        .args(&[
            "+nightly",
            "-Z",
            "unstable-options",
            "--print",
            "target-spec-json",
            "--target",
            XTENSA,
        ])
        .output()?;
    let layout = "e-m:e-p:32:32-i8:8:32-i16:16:32-i64:64-n32";
    let mut out = String::new();
    let mut replaced = false;
    for line in spec.lines() {
        if line.trim_start().starts_with("\"data-layout\"") {
            out.push_str(&format!("  \"data-layout\": \"{layout}\",\n"));
            replaced = true;
        } else if line.trim_start().starts_with("\"is-builtin\"") {
            // A custom spec must not claim to be built in.
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !replaced {
        return Err("rustc's xtensa target spec has no data-layout line".into());
    }
    let dir = root().join("target/xtensa");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join(format!("{XTENSA}.json"));
    fs::write(&path, out).map_err(|e| e.to_string())?;
    Ok(path)
}

/// Builds the firmware crate `xtask/<dir>` (release, thumbv7em, in its own target dir) and
/// returns the command that runs its binary `bin` on QEMU's mps2-an386 (Cortex-M4) with
/// semihosting, under a `timeout` of `secs` seconds. Installs the target and QEMU when missing.
pub(crate) fn firmware_on_qemu(dir: &str, bin: &str, secs: u64) -> Result<Cmd> {
    setup::targets()?;
    setup::apt(&[("qemu-system-arm", "qemu-system-arm")])?;
    let firmware = root().join("xtask").join(dir);
    Cmd::cargo(None)
        .dir(&firmware)
        .env_remove("CARGO_TARGET_DIR")
        .args(&["build", "--release"])
        .run()?;
    let elf = firmware
        .join("target/thumbv7em-none-eabihf/release")
        .join(bin);
    Ok(Cmd::new("timeout")
        .args(&["--kill-after=5", &secs.to_string(), "qemu-system-arm"])
        .args(&["-cpu", "cortex-m4", "-machine", "mps2-an386", "-nographic"])
        .args(&["-semihosting-config", "enable=on,target=native", "-kernel"])
        .arg(elf.to_str().expect("utf-8 path")))
}

/// Builds the firmware test crate (`xtask/firmware`) and runs it on QEMU under a timeout; the
/// firmware reports through semihosting and exits with its status.
pub(crate) fn qemu(_: &mut Run) -> Result {
    // The firmware links the C executor of examples/task-ffi/c, cross-compiled by its build.rs.
    setup::apt(&[("arm-none-eabi-gcc", "gcc-arm-none-eabi")])?;
    let qemu = firmware_on_qemu("firmware", "firmware-tests", 120)?;
    let start = Instant::now();
    let result = qemu.output();
    match result {
        Ok(out) => {
            print!("{out}");
            let summary = out
                .lines()
                .rev()
                .find(|l| l.contains(" passed, "))
                .unwrap_or("no summary line");
            println!(
                "qemu: firmware finished in {:.1?}: {summary}",
                start.elapsed()
            );
            Ok(())
        }
        Err(e) if start.elapsed().as_secs() >= 120 => {
            Err(format!("firmware hung and was killed after 120 s: {e}"))
        }
        Err(e) => Err(format!("firmware tests failed: {e}")),
    }
}
