//! `cargo xtask size`: flash and RAM of minimal Cortex-M4 firmware per primitive, ours next to the
//! peers', built with opt-level "z", LTO and one codegen unit (`xtask/size-probes`).
//!
//! Each probe binary is named `<group>_<implementation>`; `baseline` (and `task_baseline-alloc`
//! for the probes that need a heap) is the same firmware using nothing, and the table reports each
//! probe's cost over its baseline. Flash is every allocated read-only section (vector table,
//! `.text`, `.rodata`); RAM is every allocated writable section (`.data`, `.bss`, `.uninit`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use crate::cmd::{Cmd, Result, root};
use crate::jobs::Run;

/// Flash and RAM bytes of one ELF file.
#[derive(Clone, Copy, Debug, Default)]
struct Footprint {
    flash: u64,
    ram: u64,
}

/// What a `size` run does with its measurements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Writes `bench/SIZES.md` and README.md's table.
    Publish,
    /// Writes `target/size/SIZES.md` only.
    DryRun,
    /// Compares frugal's probes with `bench/baseline-size.tsv` (and writes as `DryRun`).
    Check,
    /// Writes frugal's probes as the new baseline (and as `DryRun`).
    UpdateBaseline,
}

/// The baseline of the gate, and its tolerance: 8 bytes (a few instructions), flash and RAM alike.
const BASELINE: &str = "baseline-size.tsv";
const TOLERANCE: crate::gate::Tolerance = crate::gate::Tolerance {
    percent: 0.0,
    absolute: 8.0,
};

/// Measures every probe; `mode` says what to do with the figures.
pub(crate) fn size(_: &mut Run, mode: Mode) -> Result {
    let publish = mode == Mode::Publish;
    crate::setup::targets()?;
    let probes = root().join("xtask/size-probes");
    Cmd::cargo(None)
        .dir(&probes)
        .args(&["build", "--release", "--bins"])
        .run()?;
    let out = probes.join("target/thumbv7em-none-eabihf/release");
    let mut names: Vec<String> = fs::read_dir(probes.join("src/bin"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_string))
        .collect();
    names.sort();
    let mut sizes = BTreeMap::new();
    for name in &names {
        sizes.insert(name.clone(), footprint(&out.join(name))?);
    }
    let baseline = sizes.get("baseline").copied().ok_or("no baseline probe")?;
    let mut groups: BTreeMap<String, Vec<(String, Footprint, Footprint)>> = BTreeMap::new();
    for (name, fp) in &sizes {
        let Some((group, imp)) = name.split_once('_') else {
            continue;
        };
        if imp.starts_with("baseline") {
            continue;
        }
        let base = sizes
            .get(&format!("{group}_baseline-alloc"))
            .copied()
            .unwrap_or(baseline);
        let delta = Footprint {
            flash: fp.flash.saturating_sub(base.flash),
            ram: fp.ram.saturating_sub(base.ram),
        };
        groups
            .entry(group.to_string())
            .or_default()
            .push((imp.to_string(), *fp, delta));
    }
    // The gate: frugal's probes (`<group>_frugal…`), their cost over the baseline firmware.
    let mut figures = crate::gate::Figures::new();
    for (group, rows) in &groups {
        for (imp, _, delta) in rows.iter().filter(|r| is_ours(&r.0)) {
            let (flash, ram) = (delta.flash as f64, delta.ram as f64);
            figures.insert(format!("{group}_{imp} flash"), flash);
            figures.insert(format!("{group}_{imp} ram"), ram);
        }
    }
    let (intro, table) = render(&groups, baseline);
    let prices = prices(&probes, &groups);
    let table = format!("{table}{}", prices.as_deref().unwrap_or(""));
    let stamp = crate::readme::stamp();
    let report = format!(
        "# Firmware footprint (thumbv7em-none-eabihf, opt-level \"z\", LTO)\n\nMeasured {stamp}. {intro}\n{table}"
    );
    print!("{report}");
    prices?;
    if publish {
        fs::write(root().join("bench/SIZES.md"), &report).map_err(|e| e.to_string())?;
        crate::readme::update_section(
            "size",
            &format!("Measured {stamp} by `cargo xtask size`. {intro}\n{table}"),
        )?;
        println!(
            "size: {} probes measured; wrote bench/SIZES.md and README.md's table",
            names.len()
        );
    } else {
        let dir = crate::cmd::target_dir().join("size");
        fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        fs::write(dir.join("SIZES.md"), &report).map_err(|e| e.to_string())?;
        println!(
            "size: {} probes measured; wrote {}/SIZES.md",
            names.len(),
            dir.display()
        );
    }
    match mode {
        Mode::Check => crate::gate::check(BASELINE, &figures, TOLERANCE, "bytes"),
        Mode::UpdateBaseline => crate::gate::update(
            BASELINE,
            "Flash and RAM bytes frugal's size probes add to the baseline firmware \
             (thumbv7em-none-eabihf, opt-level \"z\", fat LTO, one codegen unit).",
            &figures,
        ),
        Mode::Publish | Mode::DryRun => Ok(()),
    }
}

/// Whether a probe's implementation is one of ours (`frugal`, `frugal-isr`, ...); every other
/// implementation is a peer.
fn is_ours(imp: &str) -> bool {
    imp.starts_with("frugal")
}

/// What each frugal probe above its smallest peer pays for (see [`crate::price`]).
fn prices(
    probes: &Path,
    groups: &BTreeMap<String, Vec<(String, Footprint, Footprint)>>,
) -> Result<String> {
    let mut list = Vec::new();
    for (group, rows) in groups {
        let Some(ours) = rows.iter().find(|r| r.0 == "frugal") else {
            continue;
        };
        let source = probes.join("src/bin").join(format!("{group}_frugal.rs"));
        list.push(crate::price::Group {
            name: group,
            ours: (ours.2.flash, ours.2.ram),
            peers: rows
                .iter()
                .filter(|r| !is_ours(&r.0))
                .map(|r| (r.0.as_str(), r.2.flash, r.2.ram))
                .collect(),
            reason: crate::price::reason(&source)?,
        });
    }
    // The gate's tolerance: within it, a difference is alignment, not a price.
    crate::price::render(&list, TOLERANCE.absolute as u64)
}

/// The explanation and the table of the footprint report.
fn render(
    groups: &BTreeMap<String, Vec<(String, Footprint, Footprint)>>,
    baseline: Footprint,
) -> (String, String) {
    let intro = format!(
        "Bytes each primitive adds to a minimal cortex-m-rt firmware (baseline: {} B flash, {} B RAM; \
         the task probes are measured over a baseline that already has the heap allocator). Ratio = \
         frugal / the smallest peer.\n",
        baseline.flash, baseline.ram
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| primitive | implementation | flash | RAM | flash ratio | RAM ratio |"
    );
    let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | ---: |");
    for (group, rows) in groups {
        let ours = rows.iter().find(|r| r.0 == "frugal").map(|r| r.2);
        // The peers: every implementation that is not one of ours (`frugal-isr` is ours too).
        let peers = || rows.iter().filter(|r| !is_ours(&r.0));
        let best_flash = peers().map(|r| r.2.flash).min();
        let best_ram = peers().map(|r| r.2.ram).min();
        for (imp, _, delta) in rows {
            let ratio = |ours: Option<u64>, best: Option<u64>| match (ours, best) {
                (Some(o), Some(b)) if imp == "frugal" && b > 0 => {
                    format!("{:.2}", o as f64 / b as f64)
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "| {group} | {imp} | {} | {} | {} | {} |",
                delta.flash,
                delta.ram,
                ratio(ours.map(|o| o.flash), best_flash),
                ratio(ours.map(|o| o.ram), best_ram)
            );
        }
    }
    (intro, out)
}

/// Sums the allocated sections of a 32-bit little-endian ELF file.
fn footprint(path: &Path) -> Result<Footprint> {
    let elf = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let u16_at = |o: usize| elf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        elf.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if elf.get(0..4) != Some(b"\x7fELF") || elf.get(4) != Some(&1) || elf.get(5) != Some(&1) {
        return Err(format!(
            "{}: not a 32-bit little-endian ELF file",
            path.display()
        ));
    }
    let bad = || format!("{}: truncated ELF header", path.display());
    let shoff = u32_at(0x20).ok_or_else(bad)? as usize;
    let shentsize = usize::from(u16_at(0x2e).ok_or_else(bad)?);
    let shnum = usize::from(u16_at(0x30).ok_or_else(bad)?);
    const SHF_WRITE: u32 = 1;
    const SHF_ALLOC: u32 = 2;
    const SHT_NOBITS: u32 = 8;
    let mut fp = Footprint::default();
    for i in 0..shnum {
        let h = shoff + i * shentsize;
        let (Some(kind), Some(flags), Some(size)) = (u32_at(h + 4), u32_at(h + 8), u32_at(h + 20))
        else {
            return Err(format!("{}: truncated section header {i}", path.display()));
        };
        if flags & SHF_ALLOC == 0 {
            continue;
        }
        if flags & SHF_WRITE == 0 {
            fp.flash += u64::from(size);
        } else {
            fp.ram += u64::from(size);
            if kind != SHT_NOBITS {
                // Initialised data is also stored in flash.
                fp.flash += u64::from(size);
            }
        }
    }
    Ok(fp)
}
