//! Keeps README.md's measurement tables in step with the last full run: `cargo xtask bench` and
//! `cargo xtask size` rewrite the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`, so
//! the README only ever shows numbers a run produced, with that run's date and machine.

use std::fs;

use crate::cmd::{Cmd, Result, root, target_dir};

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

/// The manifests README.md promises to build as written: each `<!-- build: NAME -->` marker is
/// followed by a `toml` block (the manifest) and, for `host`, a `rust` block (its `main.rs`).
const MANIFESTS: &[&str] = &["host", "embassy"];

/// Builds README's manifests as written, in `target/readme/<name>`: `host` with the `rust` block
/// after it as `src/main.rs`, built and run; `embassy` with the sources of `xtask/embassy-firmware`
/// (what the README points to), built for the firmware target. Paths to `../frugal/` are pointed
/// at this checkout; nothing else is changed.
pub(crate) fn build_manifests() -> Result {
    let text =
        fs::read_to_string(root().join("README.md")).map_err(|e| format!("README.md: {e}"))?;
    let checkout = format!("path = \"{}/", root().display());
    for name in MANIFESTS {
        let marker = format!("<!-- build: {name} -->");
        let at = text
            .find(&marker)
            .ok_or_else(|| format!("README.md has no {marker}"))?;
        let after = &text[at + marker.len()..];
        let manifest = fenced(after, "toml").ok_or_else(|| format!("{marker}: no toml block"))?;
        let dir = target_dir().join("readme").join(name);
        // Build output outside `dir`, which is rewritten each time, so later runs are quick.
        let build = target_dir().join("readme-build").join(name);
        let build = build.to_str().expect("utf-8 path");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
        let manifest = manifest.replace("path = \"../frugal/", &checkout);
        // Its own workspace: the directory lies inside this one's.
        write(
            &dir.join("Cargo.toml"),
            &format!("{manifest}\n[workspace]\n"),
        )?;
        if *name == "host" {
            let main =
                fenced(after, "rust,ignore").ok_or_else(|| format!("{marker}: no rust block"))?;
            write(&dir.join("src/main.rs"), main)?;
            Cmd::cargo(None)
                .dir(&dir)
                .env("CARGO_TARGET_DIR", build)
                .args(&["run", "--quiet"])
                .run()?;
        } else {
            let firmware = root().join("xtask/embassy-firmware");
            for file in [
                "build.rs",
                "memory.x",
                ".cargo/config.toml",
                "src/main.rs",
                "src/time_driver.rs",
            ] {
                let to = dir.join(file);
                fs::create_dir_all(to.parent().expect("a file has a parent"))
                    .map_err(|e| e.to_string())?;
                fs::copy(firmware.join(file), &to).map_err(|e| format!("{file}: {e}"))?;
            }
            crate::setup::targets()?;
            Cmd::cargo(None)
                .dir(&dir)
                .env("CARGO_TARGET_DIR", build)
                .args(&["build", "--release", "--quiet"])
                .run()?;
        }
        println!("README manifest `{name}` builds as written");
    }
    Ok(())
}

/// The body of the first fenced block of `lang` in `text`.
fn fenced<'t>(text: &'t str, lang: &str) -> Option<&'t str> {
    let open = format!("```{lang}\n");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find("\n```")?;
    Some(&text[start..start + len + 1])
}

fn write(path: &std::path::Path, text: &str) -> Result {
    fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
