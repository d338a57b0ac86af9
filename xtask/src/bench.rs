//! `cargo xtask bench`: wall time and instruction counts of every case, ours next to each peer.
//!
//! Wall time comes from `bench wall` (interleaved rounds, median and spread). Instruction counts
//! come from callgrind: `bench one …` runs at `n` and `2n` iterations and the difference over `n`
//! is the cost of one iteration with setup and process start-up cancelled out; callgrind counts are
//! deterministic, so they can be compared on a noisy shared machine. Results go to stdout as one
//! table per primitive, to `bench/RESULTS.md`, as a bar chart of the ratios to
//! `bench/ratios.svg`, and as a compact table into README.md's `bench` section. A `--quick` run
//! (what `cargo xtask ci` does) writes to `target/bench-quick/` instead and leaves the README
//! alone, so committed numbers always come from a full run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;

use crate::cmd::{Cmd, Result, root, target_dir};
use crate::jobs::Run;
use crate::{gate, readme, setup};

/// One implementation's measurements.
struct Row {
    group: String,
    case: String,
    imp: String,
    median_ns: f64,
    min_ns: f64,
    max_ns: f64,
    instructions: Option<f64>,
    /// Lowest and highest instruction count of the callgrind repetitions.
    instr_spread: (f64, f64),
}

/// What a `bench` run does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every case, wall time and callgrind; rewrites bench/RESULTS.md and README's table.
    Full,
    /// A short run of every case into `target/bench-quick/`.
    Quick,
    /// frugal's single-threaded callgrind counts against `bench/baseline-instructions.tsv`.
    Check,
    /// Writes those counts as the new baseline.
    UpdateBaseline,
}

/// The baseline of the gate, and its tolerance: 3 % of instructions, at least 2.
const BASELINE: &str = "baseline-instructions.tsv";
const TOLERANCE: gate::Tolerance = gate::Tolerance {
    percent: 3.0,
    absolute: 2.0,
};

/// Iterations of a gate measurement (callgrind at `n` and `2n`), fixed so that the baseline and
/// the check count the same thing.
const GATE_ITERS: u64 = 2_000;

pub(crate) fn bench(_: &mut Run, mode: Mode) -> Result {
    setup::apt(&[("valgrind", "valgrind")])?;
    // Built the way a release ships: the workspace's `measure` profile (fat LTO, one codegen
    // unit).
    Cmd::cargo(None)
        .args(&["build", "--profile", "measure", "-p", "bench"])
        .run()?;
    let binary = target_dir().join("measure/bench");
    let binary = binary.to_str().expect("utf-8 path");
    if matches!(mode, Mode::Check | Mode::UpdateBaseline) {
        return gate_run(binary, mode);
    }
    let quick = mode == Mode::Quick;
    let mut wall_args = vec!["wall"];
    if quick {
        wall_args.push("--quick");
    }
    let wall = Cmd::new(binary).args(&wall_args).output()?;
    let mut rows = Vec::new();
    for line in wall.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 7 || f[0] != "wall" {
            continue;
        }
        let num = |s: &str| {
            s.parse::<f64>()
                .map_err(|e| format!("bad number {s:?} from bench: {e}"))
        };
        rows.push(Row {
            group: f[1].into(),
            case: f[2].into(),
            imp: f[3].into(),
            median_ns: num(f[4])?,
            min_ns: num(f[5])?,
            max_ns: num(f[6])?,
            instructions: None,
            instr_spread: (0.0, 0.0),
        });
    }
    if rows.is_empty() {
        return Err("bench printed no results".into());
    }
    // Single-threaded cases give the same count every time; cases with threads vary with the
    // order callgrind runs the threads in, so a full run takes the median of several pairs and
    // keeps their spread.
    let (n, reps): (u64, usize) = if quick { (2_000, 1) } else { (20_000, 5) };
    for row in &mut rows {
        let mut per_iter = Vec::with_capacity(reps);
        while per_iter.len() < reps {
            let low = callgrind(binary, row, n)?;
            let high = callgrind(binary, row, 2 * n)?;
            per_iter.push((high.saturating_sub(low)) as f64 / n as f64);
            // Two identical counts: a deterministic (single-threaded) case, no need for more.
            if per_iter.len() == 2 && per_iter[0] == per_iter[1] {
                break;
            }
        }
        per_iter.sort_by(f64::total_cmp);
        row.instructions = Some(per_iter[per_iter.len() / 2]);
        row.instr_spread = (per_iter[0], per_iter[per_iter.len() - 1]);
    }
    let machine = readme::stamp();
    let report = render(&rows, &machine, quick);
    print!("{report}");
    // A --quick run is a smoke test: its numbers stay out of the committed results.
    let dir = if quick {
        target_dir().join("bench-quick")
    } else {
        root().join("bench")
    };
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    fs::write(dir.join("RESULTS.md"), &report).map_err(|e| e.to_string())?;
    fs::write(dir.join("ratios.svg"), svg(&rows)).map_err(|e| e.to_string())?;
    if !quick {
        readme::update_section("bench", &summary(&rows, &machine))?;
    }
    println!(
        "bench: {} measurements; wrote {}/RESULTS.md and ratios.svg{}",
        rows.len(),
        dir.display(),
        if quick { "" } else { ", and README.md's table" }
    );
    Ok(())
}

/// The gate: frugal's single-threaded rows (the cases say which have threads), each measured
/// twice by callgrind; a row whose two counts agree is deterministic, so it is compared with (or
/// written to) the baseline. Rows with threads, whose counts vary with the order callgrind runs
/// the threads in, are never gated, even when two runs happen to agree.
fn gate_run(binary: &str, mode: Mode) -> Result {
    let list = Cmd::new(binary).arg("list").output()?;
    let mut figures = gate::Figures::new();
    for line in list.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 5 || !f[2].starts_with("frugal") {
            continue;
        }
        if f[4] == "threads" {
            println!("gate: {}/{}/{}: threads, not gated", f[0], f[1], f[2]);
            continue;
        }
        let row = Row {
            group: f[0].into(),
            case: f[1].into(),
            imp: f[2].into(),
            median_ns: 0.0,
            min_ns: 0.0,
            max_ns: 0.0,
            instructions: None,
            instr_spread: (0.0, 0.0),
        };
        let mut counts = [0.0; 2];
        for count in &mut counts {
            let low = callgrind(binary, &row, GATE_ITERS)?;
            let high = callgrind(binary, &row, 2 * GATE_ITERS)?;
            let per_iter = high.saturating_sub(low) as f64 / GATE_ITERS as f64;
            *count = per_iter;
        }
        let key = format!("{}/{}/{}", row.group, row.case, row.imp);
        if counts[0] == counts[1] {
            figures.insert(key, counts[0]);
        } else {
            println!(
                "gate: {key}: {:.1} / {:.1} instructions (threads: not gated)",
                counts[0], counts[1]
            );
        }
    }
    if figures.is_empty() {
        return Err("bench printed no single-threaded frugal case to gate".into());
    }
    if mode == Mode::UpdateBaseline {
        gate::update(
            BASELINE,
            "Callgrind instructions per iteration of frugal's single-threaded bench cases \
             (profile `measure`: fat LTO, one codegen unit).",
            &figures,
        )
    } else {
        gate::check(BASELINE, &figures, TOLERANCE, "instructions")
    }
}

/// Total instructions of one `bench one` run under callgrind.
fn callgrind(binary: &str, row: &Row, iters: u64) -> Result<u64> {
    let out_file = target_dir().join("callgrind.out");
    let out_file = out_file.to_str().expect("utf-8 path");
    Cmd::new("valgrind")
        .args(&[
            "--tool=callgrind",
            "--quiet",
            &format!("--callgrind-out-file={out_file}"),
        ])
        .args(&[
            binary,
            "one",
            &row.group,
            &row.case,
            &row.imp,
            &iters.to_string(),
        ])
        .output()?;
    let text = fs::read_to_string(out_file).map_err(|e| e.to_string())?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| "callgrind output has no summary line".to_string())
}

/// Markdown tables: per group, per case, each implementation with its ratio to ours.
fn render(rows: &[Row], machine: &str, quick: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark results\n");
    let _ = writeln!(
        out,
        "Measured {machine}{}, built with the `measure` profile (release with fat LTO and one \
         codegen unit, as a release binary ships).",
        if quick {
            " (--quick: few rounds, indicative only)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "Instructions per iteration come from callgrind: deterministic for single-threaded cases; for \
         cases with threads, the median of five runs with min..max (callgrind serialises threads, so \
         the count depends on their interleaving). Wall time is the median of interleaved rounds \
         with min..max. Ratio = frugal / peer (below 1.00 means frugal is cheaper).\n"
    );
    let mut groups: BTreeMap<&str, BTreeMap<&str, Vec<&Row>>> = BTreeMap::new();
    for row in rows {
        groups
            .entry(&row.group)
            .or_default()
            .entry(&row.case)
            .or_default()
            .push(row);
    }
    for (group, cases) in groups {
        let _ = writeln!(out, "## {group}\n");
        let _ = writeln!(
            out,
            "| case | implementation | instructions/iter | ratio (instr) | wall ns/iter (min..max) | ratio (wall) |"
        );
        let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | ---: |");
        for (case, impls) in cases {
            let ours = impls.iter().copied().find(|r| r.imp == "frugal");
            for row in &impls {
                let (lo, hi) = row.instr_spread;
                let instr = match row.instructions {
                    None => "–".into(),
                    Some(i) if hi - lo >= 1.0 => format!("{i:.1} ({lo:.0}..{hi:.0})"),
                    Some(i) => format!("{i:.1}"),
                };
                let (ratio_i, ratio_w) = match ours {
                    Some(o) if row.imp != "frugal" => (
                        match (o.instructions, row.instructions) {
                            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
                            _ => "–".into(),
                        },
                        format!("{:.2}", o.median_ns / row.median_ns),
                    ),
                    _ => ("".into(), "".into()),
                };
                let _ = writeln!(
                    out,
                    "| {case} | {} | {instr} | {ratio_i} | {:.1} ({:.1}..{:.1}) | {ratio_w} |",
                    row.imp, row.median_ns, row.min_ns, row.max_ns
                );
            }
        }
        out.push('\n');
    }
    out
}

/// README's compact table: per case, frugal's instructions and each peer's with the ratio.
fn summary(rows: &[Row], machine: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Callgrind instructions per iteration (for cases with threads the median of five runs, with \
         min..max), \
         measured {machine} by `cargo xtask bench`. Ratio = frugal / peer: below 1.00 frugal is \
         cheaper. Spreads and wall times: [bench/RESULTS.md](bench/RESULTS.md).\n"
    );
    let _ = writeln!(
        out,
        "| primitive | case | frugal | peers: instructions (ratio) |"
    );
    let _ = writeln!(out, "| --- | --- | ---: | --- |");
    let mut cases: BTreeMap<(&str, &str), Vec<&Row>> = BTreeMap::new();
    for row in rows {
        cases.entry((&row.group, &row.case)).or_default().push(row);
    }
    // An instruction count, with its spread when the repetitions differed (threaded cases).
    let shown = |r: &Row, i: f64| {
        let (lo, hi) = r.instr_spread;
        if hi - lo >= 1.0 {
            format!("{i:.0} ({lo:.0}..{hi:.0})")
        } else {
            format!("{i:.0}")
        }
    };
    for ((group, case), impls) in cases {
        let Some((ours_row, ours)) = impls
            .iter()
            .find(|r| r.imp == "frugal")
            .and_then(|r| Some((*r, r.instructions?)))
        else {
            continue;
        };
        let peers: Vec<String> = impls
            .iter()
            .filter(|r| r.imp != "frugal")
            .filter_map(|r| {
                let i = r.instructions?;
                Some(format!("{} {} ({:.2})", r.imp, shown(r, i), ours / i))
            })
            .collect();
        let peers = if peers.is_empty() {
            "—".to_string()
        } else {
            peers.join(", ")
        };
        let ours = shown(ours_row, ours);
        let _ = writeln!(out, "| {group} | {case} | {ours} | {peers} |");
    }
    out
}

/// A horizontal bar chart of frugal/peer instruction ratios (1.0 marked), as SVG.
fn svg(rows: &[Row]) -> String {
    let mut bars = Vec::new();
    for row in rows.iter().filter(|r| r.imp != "frugal") {
        let ours = rows
            .iter()
            .find(|o| o.imp == "frugal" && o.group == row.group && o.case == row.case);
        if let (Some(o), Some(peer)) = (ours.and_then(|o| o.instructions), row.instructions)
            && peer > 0.0
        {
            bars.push((
                format!("{}: {} vs {}", row.group, row.case, row.imp),
                o / peer,
            ));
        }
    }
    let (width, bar_h, label_w, scale_w) = (900.0, 22.0, 520.0, 330.0);
    let max = bars.iter().map(|b| b.1).fold(1.5_f64, f64::max);
    let height = 40.0 + bar_h * bars.len() as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <text x=\"10\" y=\"16\" font-weight=\"bold\">frugal / peer, instructions per iteration (lower is better)</text>\n"
    );
    for (i, (label, ratio)) in bars.iter().enumerate() {
        let y = 28.0 + bar_h * i as f64;
        let w = ratio / max * scale_w;
        let color = if *ratio <= 1.0 { "#2a9d4b" } else { "#d1495b" };
        let _ = writeln!(
            s,
            "<text x=\"10\" y=\"{:.0}\">{}</text>",
            y + 14.0,
            xml(label)
        );
        let _ = writeln!(
            s,
            "<rect x=\"{label_w}\" y=\"{y:.0}\" width=\"{w:.1}\" height=\"{:.0}\" fill=\"{color}\"/>",
            bar_h - 6.0
        );
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.0}\">{ratio:.2}</text>",
            label_w + w + 4.0,
            y + 14.0
        );
    }
    let one = label_w + scale_w / max;
    let _ = writeln!(
        s,
        "<line x1=\"{one:.1}\" y1=\"24\" x2=\"{one:.1}\" y2=\"{height}\" stroke=\"#333\" stroke-dasharray=\"4\"/>"
    );
    s.push_str("</svg>\n");
    s
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
