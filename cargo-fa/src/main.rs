//! `cargo fa [PATH]...`: lints framealloc usage in the Rust files under each path (default: the
//! current directory, skipping `target*` and hidden directories). See the `cargo_fa` library
//! docs for the codes; `cargo fa --explain FA701` prints one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cargo_fa::{Code, check_source, render};

const USAGE: &str = "usage: cargo fa [--explain CODE | --list | PATH...]";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // Run as `cargo fa ...`, cargo passes the subcommand name first.
    if args.first().map(String::as_str) == Some("fa") {
        args.remove(0);
    }
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some("--list") => {
            for c in Code::ALL {
                println!("{}: {}", c.as_str(), c.summary());
            }
            return ExitCode::SUCCESS;
        }
        Some("--explain") => {
            return match args.get(1).and_then(|s| Code::parse(s)) {
                Some(c) => {
                    println!("{}: {}\n\n{}", c.as_str(), c.summary(), c.explain());
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!("cargo-fa: unknown code; known: FA603, FA701, FA704, FA711");
                    ExitCode::from(2)
                }
            };
        }
        Some(flag) if flag.starts_with('-') => {
            eprintln!("cargo-fa: unknown option {flag}\n{USAGE}");
            return ExitCode::from(2);
        }
        _ => {}
    }
    if args.is_empty() {
        args.push(".".into());
    }
    let mut files = Vec::new();
    for a in &args {
        collect(Path::new(a), &mut files);
    }
    files.sort();
    let (mut total, mut errors) = (0usize, 0usize);
    for file in &files {
        let shown = file.display().to_string();
        let src = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{shown}: cannot read: {e}");
                errors += 1;
                continue;
            }
        };
        match check_source(&src) {
            Ok(findings) => {
                total += findings.len();
                print!("{}", render(&shown, &findings));
            }
            Err(e) => {
                let at = e.span().start();
                eprintln!("{shown}:{}:{}: parse error: {e}", at.line, at.column + 1);
                errors += 1;
            }
        }
    }
    eprintln!(
        "cargo-fa: {total} finding(s) in {} file(s){}",
        files.len(),
        if errors > 0 {
            format!(", {errors} error(s)")
        } else {
            String::new()
        }
    );
    if errors > 0 {
        ExitCode::from(2)
    } else if total > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The `.rs` files at or under `path`.
fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        eprintln!("cargo-fa: cannot read {}", path.display());
        return;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !name.starts_with('.') && !name.starts_with("target") {
                collect(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}
