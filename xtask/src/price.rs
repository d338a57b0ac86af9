//! What a frugal size probe pays for where it is larger than a peer.
//!
//! A frugal probe (`xtask/size-probes/src/bin/<group>_frugal.rs`) that adds more flash or RAM
//! than the smallest peer of its group says why in its doc comment, in a paragraph that starts
//! with `//! Price:` and runs to the end of the comment: the guarantees the bytes buy, which the
//! peers lack. `cargo xtask size` prints that reason under the table, next to the measured ratio
//! against every peer, so the table and its reasons come from the same run. The step fails when a
//! probe above its smallest peer gives no reason, and when a probe gives one but is no longer
//! above (a stale reason), whatever the mode: the ratios are measured on every run, `ci` too.
//! "Above" means by more than the size gate's tolerance: the same sources move by a few bytes of
//! alignment with where they are checked out (the path is part of each crate's identity, which
//! orders the symbols), so a tie measured in one place can be 4 B apart in another.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::cmd::Result;

/// The `Price:` paragraph of a probe's doc comment, joined into one line; `None` without one.
pub(crate) fn reason(source: &Path) -> Result<Option<String>> {
    let text = fs::read_to_string(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let doc = text
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.trim_start_matches("//!").trim());
    let mut words: Option<Vec<&str>> = None;
    for line in doc {
        if let Some(rest) = line.strip_prefix("Price:") {
            words = Some(vec![rest.trim()]);
        } else if let Some(words) = words.as_mut() {
            words.push(line);
        }
    }
    Ok(words.map(|w| w.join(" ").trim().to_string()))
}

/// One group's frugal figures and its peers', as (implementation, flash, RAM).
pub(crate) struct Group<'g> {
    pub(crate) name: &'g str,
    pub(crate) ours: (u64, u64),
    pub(crate) peers: Vec<(&'g str, u64, u64)>,
    pub(crate) reason: Option<String>,
}

/// The list printed under the table, one item per group above its smallest peer, or the
/// groups whose reason is missing or stale.
pub(crate) fn render(groups: &[Group<'_>], slack: u64) -> Result<String> {
    let mut out = String::new();
    let mut problems = Vec::new();
    for g in groups {
        let (Some(best_flash), Some(best_ram)) = (
            g.peers.iter().map(|p| p.1).min(),
            g.peers.iter().map(|p| p.2).min(),
        ) else {
            continue;
        };
        let above = g.ours.0 > best_flash + slack || g.ours.1 > best_ram + slack;
        match (&g.reason, above) {
            (None, true) => problems.push(format!(
                "{}: frugal adds more than its smallest peer ({} B flash, {} B RAM against {} B \
                 and {} B, beyond {slack} B) and its probe has no `//! Price:` paragraph saying \
                 why",
                g.name, g.ours.0, g.ours.1, best_flash, best_ram
            )),
            (Some(_), false) => problems.push(format!(
                "{}: frugal is no longer above its smallest peer (by more than {slack} B); \
                 remove the stale `//! Price:` paragraph of its probe",
                g.name
            )),
            (None, false) => {}
            (Some(reason), true) => {
                // The price in bytes, and as a ratio.
                let price = |ours: u64, peer: u64, what: &str| {
                    let bytes = ours as i64 - peer as i64;
                    if peer == 0 {
                        format!("{bytes:+} B {what}")
                    } else {
                        format!("{bytes:+} B {what} ({:.2}×)", ours as f64 / peer as f64)
                    }
                };
                let against: Vec<String> = g
                    .peers
                    .iter()
                    .map(|(name, flash, ram)| {
                        format!(
                            "{name} {}, {}",
                            price(g.ours.0, *flash, "flash"),
                            price(g.ours.1, *ram, "RAM")
                        )
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "- **{}** (against {}): {reason}",
                    g.name,
                    against.join("; against ")
                );
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    if out.is_empty() {
        return Ok(out);
    }
    Ok(format!(
        "\nWhere frugal adds more than a peer, what the bytes buy (ratios from this run; the \
         reasons are in each probe's doc comment):\n\n{out}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(ours: (u64, u64), reason: Option<&str>) -> Group<'static> {
        Group {
            name: "g",
            ours,
            peers: vec![("a", 100, 10), ("b", 200, 5)],
            reason: reason.map(str::to_string),
        }
    }

    #[test]
    fn a_probe_above_its_peers_needs_a_reason() {
        let err = render(&[group((150, 5), None)], 0).unwrap_err();
        assert!(err.contains("no `//! Price:` paragraph"), "{err}");
        let text = render(&[group((150, 5), Some("close"))], 0).unwrap();
        assert!(
            text.contains(
                "- **g** (against a +50 B flash (1.50×), -5 B RAM (0.50×); \
                 against b -50 B flash (0.75×), +0 B RAM (1.00×)): close"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_reason_below_every_peer_is_stale() {
        assert!(render(&[group((100, 5), None)], 0).unwrap().is_empty());
        let err = render(&[group((100, 5), Some("close"))], 0).unwrap_err();
        assert!(err.contains("stale"), "{err}");
    }

    #[test]
    fn a_few_bytes_of_alignment_are_not_a_price() {
        // 4 B above the smallest peer, within 8 B of slack: a tie, no reason needed or allowed.
        assert!(render(&[group((104, 5), None)], 8).unwrap().is_empty());
        assert!(render(&[group((104, 5), Some("close"))], 8).is_err());
        assert!(render(&[group((109, 5), None)], 8).is_err());
    }

    #[test]
    fn the_paragraph_runs_to_the_end_of_the_doc_comment() {
        let dir = std::env::temp_dir().join(format!("xtask-price-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("probe.rs");
        fs::write(
            &file,
            "//! A probe.\n//!\n//! Price: one\n//! two.\n#![no_std]\n//! not this\n",
        )
        .unwrap();
        assert_eq!(reason(&file).unwrap().as_deref(), Some("one two."));
        fs::write(&file, "//! A probe.\n#![no_std]\n").unwrap();
        assert_eq!(reason(&file).unwrap(), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
