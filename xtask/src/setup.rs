//! Installs what a fresh machine lacks, or fails saying exactly what is missing.

use crate::cmd::{Cmd, Result, have};
use crate::jobs::Run;

/// Cross targets of the stable toolchain.
pub(crate) const TARGETS: &[&str] = &[
    "thumbv7em-none-eabihf",
    "thumbv6m-none-eabi",
    "riscv32imc-unknown-none-elf",
];

/// Installs rustup targets, nightly components and Debian packages.
pub(crate) fn all(_: &mut Run) -> Result {
    rustup()?;
    apt(&[
        ("qemu-system-arm", "qemu-system-arm"),
        ("arm-none-eabi-gcc", "gcc-arm-none-eabi"),
        ("valgrind", "valgrind"),
    ])
}

fn rustup() -> Result {
    targets()?;
    let components = Cmd::new("rustup")
        .args(&["component", "list", "--installed"])
        .output()?;
    let missing: Vec<&str> = ["rustfmt", "clippy"]
        .into_iter()
        .filter(|c| !components.lines().any(|l| l.starts_with(c)))
        .collect();
    if !missing.is_empty() {
        Cmd::new("rustup")
            .args(&["component", "add"])
            .args(&missing)
            .run()?;
    }
    let toolchains = Cmd::new("rustup").args(&["toolchain", "list"]).output()?;
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        Cmd::new("rustup")
            .args(&["toolchain", "install", "nightly", "--profile", "minimal"])
            .run()?;
    }
    let components = Cmd::new("rustup")
        .args(&["+nightly", "component", "list", "--installed"])
        .output()?;
    let wanted = ["miri", "rust-src"];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|c| !components.lines().any(|l| l.starts_with(c)))
        .collect();
    if !missing.is_empty() {
        Cmd::new("rustup")
            .args(&["+nightly", "component", "add"])
            .args(&missing)
            .run()?;
    }
    // miri builds its own sysroot once; do it here so the miri step's time is the tests'.
    Cmd::cargo(Some("nightly")).args(&["miri", "setup"]).run()
}

fn need_rustup() -> Result {
    if have("rustup") {
        Ok(())
    } else {
        Err("rustup is not installed: the toolchains, targets and miri come from rustup".into())
    }
}

/// Installs the stable cross targets ([`TARGETS`]) that are missing.
pub(crate) fn targets() -> Result {
    need_rustup()?;
    let installed = Cmd::new("rustup")
        .args(&["target", "list", "--installed"])
        .output()?;
    let missing: Vec<&str> = TARGETS
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Cmd::new("rustup")
        .args(&["target", "add"])
        .args(&missing)
        .run()
}

/// Installs Debian packages whose program is missing (`(program, package)` pairs).
pub(crate) fn apt(wanted: &[(&str, &str)]) -> Result {
    let missing: Vec<&str> = wanted
        .iter()
        .filter(|(program, _)| !have(program))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root = Cmd::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|uid| uid.trim() == "0");
    if !root || !have("apt-get") {
        return Err(format!(
            "missing Debian packages {missing:?} and cannot install them (needs root and apt-get): \
             run `sudo apt-get install {}`",
            missing.join(" ")
        ));
    }
    Cmd::new("apt-get").args(&["update", "-qq"]).run()?;
    Cmd::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(&["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .run()?;
    for (program, package) in wanted {
        if !have(program) {
            return Err(format!(
                "installed {package} but `{program}` is still not on the PATH"
            ));
        }
    }
    Ok(())
}
