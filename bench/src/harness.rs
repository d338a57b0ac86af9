//! The measuring harness: cases, implementations, interleaved wall-time rounds.
//!
//! A *case* is one operation measured for several *implementations* (ours and each peer). An
//! implementation is a function that performs the whole operation `iters` times, feeds every
//! result through `black_box` and returns how many iterations succeeded; anything but `iters`
//! aborts the benchmark (a `None` from a full pool is a failure, not a fast iteration).
//!
//! Wall time: rounds run every implementation of a case back to back (A, B, C, A, B, C, …) so
//! that machine noise hits all of them alike; the report is the median time per iteration and the
//! spread (min..max over rounds). Instruction counts come from callgrind, run by the xtask on
//! `bench one <case> <impl> <iters>` at two iteration counts; the difference divided by the extra
//! iterations is the cost of one iteration without the setup.

use std::time::Instant;

/// One implementation of a case.
pub(crate) struct Impl {
    /// Its name in tables (`frugal`, or the peer crate's name).
    pub(crate) name: &'static str,
    /// Runs the operation `iters` times; returns how many succeeded.
    pub(crate) run: fn(u64) -> u64,
}

/// One benchmarked operation.
pub(crate) struct Case {
    /// The primitive it belongs to (`pool`, `hatch`, …): one table each.
    pub(crate) group: &'static str,
    /// What one iteration does.
    pub(crate) name: &'static str,
    /// Iterations per wall-time round (full mode).
    pub(crate) iters: u64,
    /// An iteration runs on more than one thread: callgrind serialises the threads in an order
    /// that varies, so the count is informative (median and spread), never gated.
    pub(crate) threads: bool,
    /// Ours first, then the peers.
    pub(crate) impls: Vec<Impl>,
}

/// Runs `imp` and aborts the process when an iteration failed.
pub(crate) fn checked(case: &Case, imp: &Impl, iters: u64) {
    let ok = (imp.run)(iters);
    if ok != iters {
        eprintln!(
            "bench: {} / {} / {}: {} of {iters} iterations failed",
            case.group,
            case.name,
            imp.name,
            iters - ok
        );
        std::process::exit(3);
    }
}

/// Median and spread of nanoseconds per iteration over `rounds` interleaved rounds.
pub(crate) fn wall(case: &Case, rounds: usize, iters: u64) -> Vec<(f64, f64, f64)> {
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); case.impls.len()];
    for imp in &case.impls {
        checked(case, imp, iters.div_ceil(10)); // warm-up
    }
    for _ in 0..rounds {
        for (i, imp) in case.impls.iter().enumerate() {
            let start = Instant::now();
            checked(case, imp, iters);
            samples[i].push(start.elapsed().as_nanos() as f64 / iters as f64);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            (s[s.len() / 2], s[0], s[s.len() - 1])
        })
        .collect()
}
