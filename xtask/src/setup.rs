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
    add_missing(None, "component", &["rustfmt", "clippy"])?;
    let toolchains = Cmd::new("rustup").args(&["toolchain", "list"]).output()?;
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        Cmd::new("rustup")
            .args(&["toolchain", "install", "nightly", "--profile", "minimal"])
            .run()?;
    }
    add_missing(Some("+nightly"), "component", &["miri", "rust-src"])?;
    // miri builds its own sysroot once; do it here so the miri step's time is the tests'.
    Cmd::cargo(Some("nightly")).args(&["miri", "setup"]).run()
}

/// Installs the stable cross targets ([`TARGETS`]) that are missing.
pub(crate) fn targets() -> Result {
    add_missing(None, "target", TARGETS)
}

/// `rustup [toolchain] <kind> add` of the `wanted` targets or components that
/// `rustup [toolchain] <kind> list --installed` lacks (components are listed with their host
/// triple appended).
fn add_missing(toolchain: Option<&str>, kind: &str, wanted: &[&str]) -> Result {
    if !have("rustup") {
        return Err(
            "rustup is not installed: the toolchains, targets and miri come from rustup".into(),
        );
    }
    let rustup = || {
        let cmd = Cmd::new("rustup");
        match toolchain {
            Some(t) => cmd.arg(t),
            None => cmd,
        }
    };
    let installed = rustup().args(&[kind, "list", "--installed"]).output()?;
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| {
            !installed
                .lines()
                .map(str::trim)
                .any(|l| l == *w || l.strip_prefix(w).is_some_and(|r| r.starts_with('-')))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    rustup().args(&[kind, "add"]).args(&missing).run()
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
