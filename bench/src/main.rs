//! Benchmarks of the frugal crates against their peers; `cargo xtask bench` drives it.
//!
//! * `bench list` — one line per case and implementation:
//!   `group<TAB>case<TAB>impl<TAB>iters<TAB>threads|one thread`.
//! * `bench wall [--quick]` — interleaved wall-time rounds of every case; one line per
//!   implementation: `wall<TAB>group<TAB>case<TAB>impl<TAB>median_ns<TAB>min_ns<TAB>max_ns`.
//! * `bench one <group> <case> <impl> <iters>` — runs one implementation (for callgrind).

mod cases;
mod harness;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cases = cases::all();
    match args.first().map(String::as_str) {
        Some("list") => {
            for case in &cases {
                for imp in &case.impls {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        case.group,
                        case.name,
                        imp.name,
                        case.iters,
                        if case.threads {
                            "threads"
                        } else {
                            "one thread"
                        }
                    );
                }
            }
        }
        Some("wall") => {
            let quick = args.iter().any(|a| a == "--quick");
            let (rounds, scale) = if quick { (3, 50) } else { (15, 1) };
            for case in &cases {
                let iters = (case.iters / scale).max(1);
                let results = harness::wall(case, rounds, iters);
                for (imp, (median, min, max)) in case.impls.iter().zip(results) {
                    println!(
                        "wall\t{}\t{}\t{}\t{median:.2}\t{min:.2}\t{max:.2}",
                        case.group, case.name, imp.name
                    );
                }
            }
        }
        Some("one") if args.len() == 5 => {
            let Ok(iters) = args[4].parse::<u64>() else {
                eprintln!("bench one: iterations must be a number");
                return ExitCode::FAILURE;
            };
            let found = cases
                .iter()
                .find(|c| c.group == args[1] && c.name == args[2])
                .and_then(|c| c.impls.iter().find(|i| i.name == args[3]).map(|i| (c, i)));
            let Some((case, imp)) = found else {
                eprintln!(
                    "bench one: no case {:?} / {:?} / {:?}",
                    args[1], args[2], args[3]
                );
                return ExitCode::FAILURE;
            };
            harness::checked(case, imp, iters);
        }
        _ => {
            eprintln!(
                "usage: bench list | bench wall [--quick] | bench one <group> <case> <impl> <iters>"
            );
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
