//! The jobs: each returns `Ok` or a message saying what failed; `Run` times and tallies them.

use std::fs;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::cmd::{Cmd, Result, have, root, target_dir};
use crate::crates::{self, Miri};

/// Tallies the steps of one xtask invocation and prints progress and the closing line.
pub(crate) struct Run {
    name: String,
    start: Instant,
    planned: usize,
    done: usize,
    failures: Vec<(String, String)>,
}

impl Run {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            start: Instant::now(),
            planned: 1,
            done: 0,
            failures: Vec::new(),
        }
    }

    pub(crate) fn plan(&mut self, steps: usize) {
        self.planned = steps;
    }

    /// Runs one step, printing `[step N/M]` before and its outcome with timings after.
    pub(crate) fn step(&mut self, name: &str, job: impl FnOnce(&mut Self) -> Result) {
        self.done += 1;
        let step_start = Instant::now();
        println!(
            "\n==> [step {}/{}, {:.0?} elapsed] {name}",
            self.done,
            self.planned,
            self.start.elapsed()
        );
        let outcome = job(self);
        let took = step_start.elapsed();
        match outcome {
            Ok(()) => println!("<== {name}: ok ({took:.1?})"),
            Err(message) => {
                println!("<== {name}: FAILED ({took:.1?}): {message}");
                self.failures.push((name.to_string(), message));
            }
        }
    }

    /// Prints the summary and turns it into the exit code.
    pub(crate) fn finish(self) -> ExitCode {
        let failed = self.failures.len();
        let passed = self.done - failed;
        println!(
            "\n==> cargo xtask {} finished in {:.0?}",
            self.name,
            self.start.elapsed()
        );
        for (name, message) in &self.failures {
            println!("    FAILED {name}: {message}");
        }
        println!("{passed} passed, {failed} failed");
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn fmt(_: &mut Run) -> Result {
    Cmd::cargo(None)
        .args(&["fmt", "--all", "--", "--check"])
        .run()
}

pub(crate) fn clippy(_: &mut Run) -> Result {
    Cmd::cargo(None)
        .args(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ])
        .run()
}

pub(crate) fn test(_: &mut Run) -> Result {
    if have("cargo-nextest") {
        Cmd::cargo(None)
            .args(&[
                "nextest",
                "run",
                "--workspace",
                "--all-features",
                "--no-fail-fast",
            ])
            .run()?;
    } else {
        println!("cargo-nextest not found: using cargo test");
        Cmd::cargo(None)
            .args(&[
                "test",
                "--workspace",
                "--all-features",
                "--no-fail-fast",
                "--lib",
                "--bins",
                "--tests",
            ])
            .run()?;
    }
    Cmd::cargo(None)
        .args(&["test", "--workspace", "--all-features", "--doc"])
        .run()?;
    // The no_std crates as a firmware build sees them: without their default features (no
    // `std`, no `alloc` in hatch); the tests that need a feature declare it.
    let mut cmd = Cmd::cargo(None).args(&["test", "--no-default-features", "--lib", "--tests"]);
    for krate in crates::select(|k| k.no_default_tests)? {
        cmd = cmd.args(&["-p", krate.name]);
    }
    cmd.run()?;
    // The protocols and backends of the other targets (bare metal's all-in-the-critical-section
    // paths, io-mini's poll(2)), selected by each crate's `alt_cfg`: one more run, all at once.
    let (rustflags, alt) = alt_cfgs("")?;
    let mut cmd = Cmd::cargo(None)
        .env("RUSTFLAGS", &rustflags)
        .env(
            "CARGO_TARGET_DIR",
            target_dir().join("alt-cfg").to_str().expect("utf-8 path"),
        )
        .args(&[
            "test",
            "--all-features",
            "--no-fail-fast",
            "--lib",
            "--tests",
        ]);
    for krate in &alt {
        cmd = cmd.args(&["-p", krate.name]);
    }
    cmd.run()?;
    // The umbrella as a firmware manifest names it: `hatch` alone gives a hatch that can be
    // awaited (its doctest awaits one in a `static`, without an allocator).
    Cmd::cargo(None)
        .args(&["test", "-p", "frugal", "--no-default-features"])
        .args(&["--features", "hatch", "--doc"])
        .run()?;
    crate::readme::build_manifests()
}

/// `cargo doc` of the workspace, warnings denied; then the library crates as docs.rs builds them
/// (nightly, `--cfg docsrs`, every feature), so the feature badges (`doc(cfg)`) render.
pub(crate) fn doc(_: &mut Run) -> Result {
    Cmd::cargo(None)
        .env("RUSTDOCFLAGS", "-D warnings")
        .args(&["doc", "--workspace", "--all-features", "--no-deps"])
        .run()?;
    let mut docsrs = Cmd::cargo(Some("nightly"))
        .env("RUSTDOCFLAGS", "--cfg docsrs -D warnings")
        .env(
            "CARGO_TARGET_DIR",
            target_dir().join("docsrs").to_str().expect("utf-8 path"),
        )
        .args(&["doc", "--all-features", "--no-deps"]);
    for krate in crates::select(|_| true)? {
        docsrs = docsrs.args(&["-p", krate.name]);
    }
    docsrs.run()
}

/// The examples of the `examples` package, as `cargo metadata` reports them.
fn example_names() -> Result<Vec<String>> {
    let metadata = Cmd::cargo(None)
        .args(&["metadata", "--format-version", "1", "--no-deps"])
        .output()?;
    let metadata: serde_json::Value =
        serde_json::from_str(&metadata).map_err(|e| format!("cargo metadata: {e}"))?;
    let package = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "examples"))
        .ok_or("cargo metadata lists no `examples` package")?;
    let mut names: Vec<String> = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "example"))
        })
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err("the `examples` package has no examples".into());
    }
    Ok(names)
}

/// Builds every example, then runs each one under a timeout; all must exit with status 0.
pub(crate) fn examples(_: &mut Run) -> Result {
    Cmd::cargo(None)
        .args(&["build", "-p", "examples", "--examples"])
        .run()?;
    let mut failed = Vec::new();
    let names = example_names()?;
    for name in &names {
        let program = target_dir().join("debug/examples").join(name);
        let outcome = Cmd::new("timeout")
            .args(&[
                "--kill-after=5",
                "60",
                program.to_str().expect("utf-8 path"),
            ])
            .run();
        if let Err(e) = outcome {
            failed.push(format!("{name} ({e})"));
        }
    }
    println!("examples: {} ran, {} failed", names.len(), failed.len());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("examples failed: {}", failed.join(", ")))
    }
}

/// Runs the integrated demo (`examples/demo`), or with `qemu` its firmware variant
/// (`xtask/demo-firmware`) on the emulated Cortex-M4.
pub(crate) fn demo(qemu: bool) -> Result {
    if !qemu {
        return Cmd::cargo(None)
            .args(&["run", "-p", "examples", "--example", "demo"])
            .run();
    }
    crate::cross::firmware_on_qemu("demo-firmware", "demo-firmware", 60)?.run()
}

/// Every `<crate>/tests/loom_*.rs` of the crate table, as (crate, test name).
fn loom_tests() -> Result<Vec<(&'static str, String)>> {
    let mut found = Vec::new();
    for krate in crates::select(|_| true)? {
        let Ok(entries) = fs::read_dir(root().join(krate.name).join("tests")) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| {
                n.starts_with("loom_") && Path::new(n).extension().is_some_and(|x| x == "rs")
            })
            .map(|n| n.trim_end_matches(".rs").to_string())
            .collect();
        names.sort();
        found.extend(names.into_iter().map(|n| (krate.name, n)));
    }
    Ok(found)
}

/// Runs the loom models (`--extended` raises the preemption bound from 2 to 3).
pub(crate) fn loom(extended: bool) -> Result {
    let preemptions = if extended { "3" } else { "2" };
    let tests = loom_tests()?;
    if tests.is_empty() {
        return Err("no loom models found (<crate>/tests/loom_*.rs)".into());
    }
    // Every model, then once more those of the crates with an `alt_cfg`, built with all of them.
    let (alt_flags, alt) = alt_cfgs("--cfg loom")?;
    let runs = tests
        .iter()
        .map(|(krate, test)| (krate, test, "--cfg loom", "loom"))
        .chain(
            tests
                .iter()
                .filter(|(krate, _)| {
                    alt.iter()
                        .any(|k| k.name == *krate && k.alt_cfg.as_ref().is_some_and(|a| a.loom))
                })
                .map(|(krate, test)| (krate, test, alt_flags.as_str(), "loom-alt-cfg")),
        );
    let mut failed = Vec::new();
    let mut count = 0;
    for (krate, test, flags, dir) in runs {
        count += 1;
        let outcome = Cmd::cargo(None)
            .env("RUSTFLAGS", flags)
            .env("LOOM_MAX_PREEMPTIONS", preemptions)
            .env(
                "CARGO_TARGET_DIR",
                target_dir().join(dir).to_str().expect("utf-8 path"),
            )
            .args(&["test", "--profile", "loom", "-p", krate, "--test", test])
            .run();
        if let Err(e) = outcome {
            failed.push(e);
        }
    }
    println!("loom: {count} model runs, {} failed", failed.len());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// The 32-bit target of the miri run: miri needs no linker or C library for it.
const MIRI_32_BIT_TARGET: &str = "i686-unknown-linux-gnu";

/// How many miri runs go side by side. The interpreter is single-threaded and most of the step
/// is interpreting tests, not compiling, so on CI's two cores two lanes take about half the time.
const MIRI_LANES: usize = 2;

/// Runs the tests of the crates the table marks for miri (nightly, strict provenance), and of
/// those marked [`Miri::HostAnd32Bit`] once more for a 32-bit target, in [`MIRI_LANES`] lanes
/// (each with its own target directory, since cargo locks one for a whole run). A lane prints
/// each run's output when it ends.
pub(crate) fn miri(_: &mut Run) -> Result {
    let host = crates::select(|k| k.miri != Miri::No)?;
    let wide = crates::select(|k| k.miri == Miri::HostAnd32Bit)?;
    let runs: Vec<(&str, Option<&str>)> = host
        .iter()
        .map(|k| (k.name, None))
        .chain(wide.iter().map(|k| (k.name, Some(MIRI_32_BIT_TARGET))))
        .collect();
    let printed = std::sync::Mutex::new(());
    let failed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for lane in 0..MIRI_LANES {
            let (runs, printed, failed) = (&runs, &printed, &failed);
            scope.spawn(move || {
                let dir = target_dir().join(format!("miri-lane-{lane}"));
                for &(krate, target) in runs.iter().skip(lane).step_by(MIRI_LANES) {
                    let mut cmd = Cmd::cargo(Some("nightly"))
                        .env("CARGO_TARGET_DIR", &dir.display().to_string())
                        .env(
                            "MIRIFLAGS",
                            "-Zmiri-strict-provenance -Zmiri-symbolic-alignment-check",
                        )
                        .args(&["miri", "test", "-p", krate, "--all-features"]);
                    if let Some(target) = target {
                        cmd = cmd.args(&["--target", target]);
                    }
                    let (log, result) = cmd.run_quiet();
                    let _printing = printed.lock().unwrap_or_else(|e| e.into_inner());
                    print!("{log}");
                    if let Err(e) = result {
                        println!("{e}");
                        failed.lock().unwrap_or_else(|e| e.into_inner()).push(e);
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// Runs the threaded tests under ThreadSanitizer (nightly, `-Zsanitizer=thread`, the standard
/// library rebuilt with it by `-Zbuild-std`), in `target/tsan`. A data race fails the step.
pub(crate) fn tsan(_: &mut Run) -> Result {
    let host = Cmd::new("rustc").args(&["-vV"]).output()?;
    let host = host
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or("tsan: `rustc -vV` printed no host line")?
        .to_string();
    let target = target_dir().join("tsan");
    let mut failed = Vec::new();
    let tests: Vec<(&str, &str)> = crates::select(|k| !k.tsan.is_empty())?
        .iter()
        .flat_map(|k| k.tsan.iter().map(|t| (k.name, *t)))
        .collect();
    for &(krate, test) in &tests {
        if !root()
            .join(krate)
            .join("tests")
            .join(format!("{test}.rs"))
            .is_file()
        {
            return Err(format!("tsan: no test {krate}/tests/{test}.rs"));
        }
        let outcome = Cmd::cargo(Some("nightly"))
            .env("RUSTFLAGS", "-Zsanitizer=thread")
            .env("TSAN_OPTIONS", "halt_on_error=1 second_deadlock_stack=1")
            .env("CARGO_TARGET_DIR", target.to_str().expect("utf-8 path"))
            .args(&[
                "test",
                "-Zbuild-std",
                "--target",
                &host,
                "-p",
                krate,
                "--all-features",
                "--test",
                test,
            ])
            .run();
        if let Err(e) = outcome {
            failed.push(e);
        }
    }
    println!("tsan: {} test files, {} failed", tests.len(), failed.len());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// `RUSTFLAGS` that select every crate's `alt_cfg` (after `base`), and those crates.
fn alt_cfgs(base: &str) -> Result<(String, Vec<&'static crates::Crate>)> {
    let alt = crates::select(|k| k.alt_cfg.is_some())?;
    let mut flags = base.to_string();
    for cfg in alt.iter().filter_map(|k| k.alt_cfg.as_ref()).map(|a| a.cfg) {
        if !flags.contains(&format!("--cfg {cfg}")) {
            flags = format!("{flags} --cfg {cfg}").trim_start().to_string();
        }
    }
    Ok((flags, alt))
}
