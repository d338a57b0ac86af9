//! Keeps README.md's measurement tables in step with the last full run: `cargo xtask bench` and
//! `cargo xtask size` rewrite the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`, so
//! the README only ever shows numbers a run produced, with that run's date and machine.

use std::fs;

use crate::cmd::{Cmd, Result, root};

/// Replaces the body of section `name` of README.md (the markers stay).
pub(crate) fn update_section(name: &str, body: &str) -> Result {
    let path = root().join("README.md");
    let text = fs::read_to_string(&path).map_err(|e| format!("README.md: {e}"))?;
    let (start, end) = (
        format!("<!-- {name}:start -->"),
        format!("<!-- {name}:end -->"),
    );
    let (Some(a), Some(b)) = (text.find(&start), text.find(&end)) else {
        return Err(format!("README.md has no {start} … {end} section"));
    };
    if b < a {
        return Err(format!("README.md: {end} comes before {start}"));
    }
    let new = format!(
        "{}{start}\n{}\n{}",
        &text[..a],
        body.trim_end_matches('\n'),
        &text[b..]
    );
    fs::write(&path, new).map_err(|e| format!("README.md: {e}"))
}

/// When and where a measurement ran: date, CPU, cores and rustc.
pub(crate) fn stamp() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let date = Cmd::new("date")
        .args(&["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .unwrap_or_default();
    let rustc = Cmd::new("rustc").arg("-V").output().unwrap_or_default();
    format!("{} on {cpu}, {cores} cores; {}", date.trim(), rustc.trim())
}
