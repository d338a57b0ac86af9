//! Regression gates: deterministic measurements compared with baselines committed in `bench/`.
//!
//! A baseline is a small tab-separated file, one `key<TAB>value` line per figure, written only by
//! an explicit `--update-baseline` run, so every change to it shows in review. `--check` fails
//! when a figure grows past its tolerance, when a baselined figure is no longer measured, or when
//! a new figure has no baseline; a figure that shrank past the tolerance is reported (update the
//! baseline to keep the gain) but does not fail.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;

use crate::cmd::{Result, root};

/// How far a figure may grow before the gate fails: the larger of `percent` of the baseline and
/// `absolute`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tolerance {
    pub(crate) percent: f64,
    pub(crate) absolute: f64,
}

impl Tolerance {
    fn allowed(self, base: f64) -> f64 {
        (base * self.percent / 100.0).max(self.absolute)
    }
}

/// Measured figures by key.
pub(crate) type Figures = BTreeMap<String, f64>;

/// Writes `figures` as the baseline `bench/<file>`, under a comment line saying what they are.
pub(crate) fn update(file: &str, what: &str, figures: &Figures) -> Result {
    let mut text = format!("# {what}\n# Written by `--update-baseline`; compared by `--check`.\n");
    for (key, value) in figures {
        let _ = writeln!(text, "{key}\t{value}");
    }
    let path = root().join("bench").join(file);
    fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "gate: wrote {} figures to {}",
        figures.len(),
        path.display()
    );
    Ok(())
}

/// Compares `figures` with the baseline `bench/<file>`; `Err` lists every regression.
pub(crate) fn check(file: &str, figures: &Figures, tolerance: Tolerance, unit: &str) -> Result {
    let path = root().join("bench").join(file);
    let text = fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (write it with --update-baseline)", path.display()))?;
    let mut baseline = Figures::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let parsed = line
            .split_once('\t')
            .and_then(|(k, v)| Some((k.to_string(), v.trim().parse::<f64>().ok()?)));
        let Some((key, value)) = parsed else {
            return Err(format!("{}: bad line {line:?}", path.display()));
        };
        baseline.insert(key, value);
    }
    let mut failures = Vec::new();
    for (key, &base) in &baseline {
        let Some(&now) = figures.get(key) else {
            failures.push(format!("{key}: in the baseline but not measured"));
            continue;
        };
        let allowed = tolerance.allowed(base);
        let verdict = if now > base + allowed {
            failures.push(format!(
                "{key}: {now:.1} {unit}, baseline {base:.1} (+{allowed:.1} allowed)"
            ));
            "REGRESSION"
        } else if now < base - allowed {
            "improved: update the baseline to keep it"
        } else {
            "ok"
        };
        println!("gate: {key}: {now:.1} {unit} (baseline {base:.1}) {verdict}");
    }
    for key in figures.keys().filter(|k| !baseline.contains_key(*k)) {
        failures.push(format!("{key}: measured but not in the baseline"));
    }
    if failures.is_empty() {
        println!(
            "gate: {} figures within tolerance of {}",
            baseline.len(),
            path.display()
        );
        Ok(())
    } else {
        Err(format!(
            "{} regressions against {} (if intended, run with --update-baseline and commit the \
             diff): {}",
            failures.len(),
            path.display(),
            failures.join("; ")
        ))
    }
}
