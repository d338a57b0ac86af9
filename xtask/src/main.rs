//! The frugal workspace's CI driver. Run `cargo xtask help` for the subcommands.
//!
//! Every subcommand prints the commands it runs, its steps as `[step N/M, elapsed]`, and a
//! closing summary line. `ci` runs every check, collects the failures and ends with
//! `N passed, N failed`. [`STEPS`] is the one list of subcommands: the help text, the flags each
//! accepts and what `ci` runs all come from it.

mod bench;
mod cmd;
mod crates;
mod cross;
mod gate;
mod jobs;
mod price;
mod readme;
mod setup;
mod size;

use std::process::ExitCode;

use cmd::Result;
use jobs::Run;

/// One subcommand.
struct Step {
    name: &'static str,
    help: &'static str,
    /// The flags it accepts, with their help.
    flags: &'static [(&'static str, &'static str)],
    /// The flags `ci` runs it with; `None`: not part of `ci`.
    ci: Option<&'static [&'static str]>,
    job: fn(&mut Run, &[&str]) -> Result,
}

/// Every subcommand, in the order `ci` runs them (cheapest first).
const STEPS: &[Step] = &[
    Step {
        name: "setup",
        help: "install what a fresh machine lacks (rustup targets and components, apt packages)",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| setup::all(run),
    },
    Step {
        name: "fmt",
        help: "cargo fmt --check",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| jobs::fmt(run),
    },
    Step {
        name: "clippy",
        help: "cargo clippy --workspace --all-targets --all-features -D warnings",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| jobs::clippy(run),
    },
    Step {
        name: "test",
        help: "host tests (cargo-nextest when present), doctests, the no_std crates without \
               default features, the crates with an alt cfg once more with it (bare-metal \
               protocols, io-mini's poll(2)), and README's manifests built as written",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| jobs::test(run),
    },
    Step {
        name: "readme",
        help: "only README's host and embassy manifests, built as written (part of `test`)",
        flags: &[],
        ci: None,
        job: |_, _| readme::build_manifests(),
    },
    Step {
        name: "doc",
        help: "cargo doc with -D warnings",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| jobs::doc(run),
    },
    Step {
        name: "examples",
        help: "build every example and run each under a timeout",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| jobs::examples(run),
    },
    Step {
        name: "loom",
        help: "loom models (RUSTFLAGS=--cfg loom, LOOM_MAX_PREEMPTIONS=2), then those of the \
               crates with an alt cfg once more with it",
        flags: &[("--extended", "LOOM_MAX_PREEMPTIONS=3")],
        ci: Some(&[]),
        job: |_, flags| jobs::loom(flags.contains(&"--extended")),
    },
    Step {
        name: "miri",
        help: "the tests of the crates the crate table marks, under miri (strict provenance), some \
               also for a 32-bit target",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| jobs::miri(run),
    },
    Step {
        name: "tsan",
        help: "the threaded tests under ThreadSanitizer (nightly, -Zbuild-std)",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| jobs::tsan(run),
    },
    Step {
        name: "cross",
        help: "release builds for thumbv7em, thumbv6m, riscv32imc; xtensa (real or type-check); \
               ESP-IDF type-check",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| cross::cross(run),
    },
    Step {
        name: "qemu",
        help: "firmware tests on an emulated Cortex-M4 (qemu-system-arm, mps2-an386)",
        flags: &[],
        ci: Some(&[]),
        job: |run, _| cross::qemu(run),
    },
    Step {
        name: "size",
        help: "flash/RAM of minimal Cortex-M4 firmware per primitive next to the peers; writes \
               bench/SIZES.md and README's table",
        flags: &[
            ("--dry-run", "write target/size/SIZES.md only"),
            (
                "--check",
                "fail if frugal's flash or RAM grew past bench/baseline-size.tsv",
            ),
            (
                "--update-baseline",
                "write frugal's figures to bench/baseline-size.tsv",
            ),
        ],
        ci: Some(&["--check"]),
        job: |run, flags| {
            let mode = if flags.contains(&"--update-baseline") {
                size::Mode::UpdateBaseline
            } else if flags.contains(&"--check") {
                size::Mode::Check
            } else if flags.contains(&"--dry-run") {
                size::Mode::DryRun
            } else {
                size::Mode::Publish
            };
            size::size(run, mode)
        },
    },
    Step {
        name: "bench",
        help: "benchmarks side by side with the peers; writes bench/RESULTS.md and README's table",
        flags: &[
            (
                "--quick",
                "a short run into target/bench-quick/, committed files untouched",
            ),
            (
                "--check",
                "fail if a single-threaded instruction count regressed past its baseline",
            ),
            (
                "--update-baseline",
                "write those counts to bench/baseline-instructions.tsv",
            ),
        ],
        ci: Some(&["--check"]),
        job: |run, flags| {
            let mode = if flags.contains(&"--update-baseline") {
                bench::Mode::UpdateBaseline
            } else if flags.contains(&"--check") {
                bench::Mode::Check
            } else if flags.contains(&"--quick") {
                bench::Mode::Quick
            } else {
                bench::Mode::Full
            };
            bench::bench(run, mode)
        },
    },
    Step {
        name: "demo",
        help: "the integrated demo (every crate together)",
        flags: &[("--qemu", "its firmware variant on QEMU")],
        ci: None,
        job: |_, flags| jobs::demo(flags.contains(&"--qemu")),
    },
];

/// The help text, from [`STEPS`].
fn help() -> String {
    let ci: Vec<String> = STEPS
        .iter()
        .filter_map(|s| s.ci.map(|flags| [&[s.name][..], flags].concat().join(" ")))
        .collect();
    let mut text = String::from("cargo xtask <command> [flags]\n\ncommands:\n");
    text.push_str(&format!(
        "  {:<9} every check CI runs: {}\n",
        "ci",
        ci.join(", ")
    ));
    for step in STEPS {
        text.push_str(&format!("  {:<9} {}\n", step.name, step.help));
        for (flag, help) in step.flags {
            text.push_str(&format!("  {:<9}   {flag}: {help}\n", ""));
        }
    }
    text
}

/// The step named `name` with `flags`, after checking that it accepts each of them.
fn checked<'a>(
    name: &str,
    flags: &'a [String],
) -> std::result::Result<(&'static Step, Vec<&'a str>), String> {
    let step = STEPS
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("unknown command `{name}`"))?;
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    if let Some(bad) = flags
        .iter()
        .find(|f| !step.flags.iter().any(|(ok, _)| ok == *f))
    {
        let accepted: Vec<&str> = step.flags.iter().map(|(f, _)| *f).collect();
        return Err(format!(
            "unknown flag `{bad}` for `{name}` (it accepts: {})",
            if accepted.is_empty() {
                "none".to_string()
            } else {
                accepted.join(", ")
            }
        ));
    }
    Ok((step, flags))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        print!("{}", help());
        return ExitCode::FAILURE;
    };
    let rest = &args[1..];
    match command.as_str() {
        "help" | "--help" | "-h" => {
            print!("{}", help());
            return ExitCode::SUCCESS;
        }
        "ci" => {
            if let Some(flag) = rest.first() {
                eprintln!("unknown flag `{flag}` for `ci` (it accepts: none)");
                return ExitCode::FAILURE;
            }
            let mut run = Run::new("ci");
            let steps: Vec<&Step> = STEPS.iter().filter(|s| s.ci.is_some()).collect();
            run.plan(steps.len());
            for step in steps {
                let flags = step.ci.unwrap_or_default();
                let shown = [&[step.name][..], flags].concat().join(" ");
                run.step(&shown, |run| (step.job)(run, flags));
            }
            return run.finish();
        }
        _ => {}
    }
    match checked(command, rest) {
        Ok((step, flags)) => {
            let mut run = Run::new(step.name);
            run.step(step.name, |run| (step.job)(run, &flags));
            run.finish()
        }
        Err(message) => {
            eprintln!("{message}\n\n{}", help());
            ExitCode::FAILURE
        }
    }
}
