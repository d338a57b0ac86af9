//! Cross builds (`cross`) and firmware tests on an emulated Cortex-M4 (`qemu`).

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use crate::cmd::{Cmd, Result, root, target_dir};
use crate::crates;
use crate::jobs::Run;
use crate::setup;

/// The no_std crates and the feature sets a firmware user would pick (`""` = no features), from
/// the crate table.
fn matrix() -> Result<Vec<(&'static str, &'static [&'static str])>> {
    Ok(crates::select(|k| !k.firmware_features.is_empty())?
        .iter()
        .map(|k| (k.name, k.firmware_features))
        .collect())
}

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
    let matrix = matrix()?;
    for target in setup::TARGETS {
        for &(krate, feature_sets) in &matrix {
            for features in feature_sets {
                let mut features = features.to_string();
                if NO_CAS.contains(target) {
                    if !features.is_empty() {
                        features.push(',');
                    }
                    // sync-core's feature, which the umbrella forwards under the same name (a
                    // firmware that depends on `frugal` alone); the other crates name sync-core's.
                    if krate != "sync-core" && krate != "frugal" {
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
    // A whole firmware, linked, for a core without compare-and-swap: the embassy firmware on
    // thumbv6m depends on frugal alone (its portable-atomic feature) for its atomics.
    Cmd::cargo(None)
        .dir(&root().join("xtask/embassy-firmware"))
        .env_remove("CARGO_TARGET_DIR")
        .args(&["build", "--release", "--target", "thumbv6m-none-eabi"])
        .run()?;
    let xtensa = xtensa()?;
    espidf()?;
    println!(
        "cross: {builds} release builds for {} targets ok (frugal alone on thumbv6m and riscv32imc through its portable-atomic feature), the embassy firmware linked for thumbv6m; xtensa: {xtensa}; the std crates and frugal (all crates) type-check for {ESPIDF} ({:.0?})",
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
    let target_dir = target_dir().join("xtensa");
    let target_dir = target_dir.to_str().expect("utf-8 path");
    let matrix = matrix()?;
    if esp {
        for &(krate, feature_sets) in &matrix {
            for features in feature_sets {
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
    for &(krate, feature_sets) in &matrix {
        for features in feature_sets {
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

/// The crates the table marks for ESP-IDF (the std crates, and the umbrella with every crate on),
/// type-checked there with std built from source (nightly).
fn espidf() -> Result {
    let target_dir = target_dir().join("espidf");
    let mut cmd = Cmd::cargo(Some("nightly"))
        .env("CARGO_TARGET_DIR", target_dir.to_str().expect("utf-8 path"))
        .args(&["check", "-Zbuild-std=std,panic_abort", "--target", ESPIDF]);
    let mut features = Vec::new();
    for krate in crates::select(|k| k.espidf.is_some())? {
        cmd = cmd.args(&["-p", krate.name]);
        let wanted = krate.espidf.unwrap_or_default();
        features.extend(
            wanted
                .split(',')
                .filter(|f| !f.is_empty())
                .map(|f| format!("{}/{f}", krate.name)),
        );
    }
    if !features.is_empty() {
        cmd = cmd.args(&["--features", &features.join(",")]);
    }
    cmd.run()
}

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
    let dir = target_dir().join("xtensa");
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

/// The firmware test crates run by `qemu`, as (directory under `xtask/`, binary).
const FIRMWARES: &[(&str, &str)] = &[
    // frugal's no_std crates, with a heap for task-ffi.
    ("firmware", "firmware-tests"),
    // task-ffi in static slots, without any allocator.
    ("firmware-static", "firmware-static"),
    // frugal the way embassy users write firmware: executor tasks, embassy-time, with_timeout.
    ("embassy-firmware", "embassy-firmware"),
];

/// Builds each firmware test crate of [`FIRMWARES`] and runs it on QEMU under a timeout; the
/// firmware reports through semihosting and exits with its status. A run that exits 0 without
/// an `N passed, 0 failed` summary line fails too.
pub(crate) fn qemu(_: &mut Run) -> Result {
    // The firmwares link the C executor of c-executor crate, cross-compiled by its build script.
    setup::apt(&[("arm-none-eabi-gcc", "gcc-arm-none-eabi")])?;
    let mut failed = Vec::new();
    for (dir, bin) in FIRMWARES {
        if let Err(e) = qemu_one(dir, bin) {
            failed.push(format!("{dir}: {e}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// Runs one firmware of [`FIRMWARES`] (see [`qemu`]).
fn qemu_one(dir: &str, bin: &str) -> Result {
    let qemu = firmware_on_qemu(dir, bin, 120)?;
    let start = Instant::now();
    let result = qemu.output();
    match result {
        Ok(out) => {
            print!("{out}");
            let summary = out.lines().rev().find(|l| l.contains(" passed, "));
            println!(
                "qemu: {dir} finished in {:.1?}: {}",
                start.elapsed(),
                summary.unwrap_or("no summary line")
            );
            match summary {
                Some(line) if line.trim_end().ends_with(" passed, 0 failed") => Ok(()),
                Some(line) => Err(format!("firmware reported failures: {line}")),
                None => Err("firmware exited without a summary line".into()),
            }
        }
        Err(e) if start.elapsed().as_secs() >= 120 => {
            Err(format!("firmware hung and was killed after 120 s: {e}"))
        }
        Err(e) => Err(format!("firmware tests failed: {e}")),
    }
}
