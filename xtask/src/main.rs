//! The frugal workspace's CI driver. Run `cargo xtask help` for the subcommands.
//!
//! Every subcommand prints the commands it runs, its steps as `[step N/M, elapsed]`, and a
//! closing summary line. `ci` runs every check, collects the failures and ends with
//! `N passed, N failed`.

mod bench;
mod cmd;
mod cross;
mod jobs;
mod readme;
mod setup;
mod size;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <command> [options]

commands:
  demo      the integrated demo (every crate together); --qemu: its firmware variant on QEMU
  ci        everything CI checks (setup, fmt, clippy, test, doc, examples, loom, miri, tsan, cross,
            qemu, size, bench --quick)
  setup     install what a fresh machine lacks (rustup targets and components, apt packages)
  fmt       cargo fmt --check
  clippy    cargo clippy --workspace --all-targets --all-features -D warnings
  test      host tests (cargo-nextest when present, else cargo test) plus doctests
  readme    build README's host and embassy manifests as written (also part of `test`)
  doc       cargo doc with -D warnings
  examples  build every example and run them (each under a timeout)
  loom      loom models (RUSTFLAGS=--cfg loom, LOOM_MAX_PREEMPTIONS=2; --extended for 3)
  miri      the unit tests of the unsafe crates under miri (strict provenance), and of pool and
            sync-core once more for a 32-bit target (i686)
  tsan      the threaded tests under ThreadSanitizer (nightly, -Zbuild-std)
  cross     release builds for thumbv7em, thumbv6m, riscv32imc; xtensa (real or type-check)
  qemu      firmware tests on an emulated Cortex-M4 (qemu-system-arm, mps2-an386)
  size      flash/RAM of minimal Cortex-M4 firmware per primitive vs the peers; writes bench/SIZES.md
            and README's table (--dry-run: target/size/SIZES.md only)
  bench     benchmarks side by side with the peers (--quick: a short run); writes bench/RESULTS.md
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        print!("{HELP}");
        return ExitCode::FAILURE;
    };
    let rest = &args[1..];
    let extended = rest.iter().any(|a| a == "--extended");
    let mut run = jobs::Run::new(command);
    match command.as_str() {
        "ci" => jobs::ci(&mut run),
        "demo" => {
            let qemu = rest.iter().any(|a| a == "--qemu");
            run.step("demo", |_| jobs::demo(qemu));
        }
        "setup" => run.step("setup", setup::all),
        "fmt" => run.step("fmt", jobs::fmt),
        "clippy" => run.step("clippy", jobs::clippy),
        "test" => run.step("test", jobs::test),
        "doc" => run.step("doc", jobs::doc),
        "readme" => run.step("readme", |_| readme::build_manifests()),
        "examples" => run.step("examples", jobs::examples),
        "loom" => run.step("loom", |_| jobs::loom(extended)),
        "miri" => run.step("miri", jobs::miri),
        "tsan" => run.step("tsan", jobs::tsan),
        "cross" => run.step("cross", cross::cross),
        "qemu" => run.step("qemu", cross::qemu),
        "size" => {
            let dry_run = rest.iter().any(|a| a == "--dry-run");
            run.step("size", |run| size::size(run, !dry_run));
        }
        "bench" => {
            let quick = rest.iter().any(|a| a == "--quick");
            run.step("bench", |run| bench::bench(run, quick));
        }
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("unknown command `{other}`\n\n{HELP}");
            return ExitCode::FAILURE;
        }
    }
    run.finish()
}
