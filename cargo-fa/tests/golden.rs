//! Golden-file tests: every `fixtures/*.rs` is linted and the output compared with
//! `fixtures/*.expected` (regenerate with `UPDATE_GOLDEN=1 cargo test -p cargo-fa`), then the
//! binary is run the way `cargo fa` runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    v.sort();
    v
}

fn shown(p: &Path) -> String {
    format!(
        "tests/fixtures/{}",
        p.file_name().expect("name").to_string_lossy()
    )
}

fn expected_path(p: &Path) -> PathBuf {
    p.with_extension("expected")
}

#[test]
fn fixtures_match_their_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatched = Vec::new();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 4, "fixtures not found: {fixtures:?}");
    for fixture in fixtures {
        let src = std::fs::read_to_string(&fixture).expect("read fixture");
        let findings = cargo_fa::check_source(&src).expect("fixture parses");
        let got = cargo_fa::render(&shown(&fixture), &findings);
        let exp_path = expected_path(&fixture);
        if update {
            std::fs::write(&exp_path, &got).expect("write golden");
            continue;
        }
        let Ok(want) = std::fs::read_to_string(&exp_path) else {
            eprintln!(
                "--- {} is missing (UPDATE_GOLDEN=1 writes it)",
                exp_path.display()
            );
            mismatched.push(exp_path);
            continue;
        };
        if got != want {
            eprintln!("--- {}\n+++ got\n{got}", exp_path.display());
            mismatched.push(exp_path);
        }
    }
    assert!(mismatched.is_empty(), "golden mismatch: {mismatched:?}");
}

#[test]
fn clean_fixture_has_no_findings_and_the_others_do() {
    for fixture in fixtures() {
        let src = std::fs::read_to_string(&fixture).expect("read");
        let n = cargo_fa::check_source(&src).expect("parses").len();
        let clean = fixture.ends_with("clean.rs");
        assert_eq!(n == 0, clean, "{}: {n} findings", fixture.display());
    }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-fa"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo-fa");
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("utf-8"),
        String::from_utf8(out.stderr).expect("utf-8"),
    )
}

#[test]
fn binary_exit_codes_and_output() {
    let (code, out, err) = run(&["fa", "tests/fixtures/clean.rs"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("0 finding(s) in 1 file(s)"));

    let (code, out, _) = run(&["fa", "tests/fixtures"]);
    assert_eq!(code, 1, "findings make the command fail");
    let want: String = fixtures()
        .iter()
        .map(|f| std::fs::read_to_string(expected_path(f)).expect("golden"))
        .collect();
    assert_eq!(out, want);

    let (code, out, _) = run(&["--explain", "fa603"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("FA603: frame data crossing an await point"));
    let (code, out, _) = run(&["--list"]);
    assert_eq!((code, out.lines().count()), (0, 4));
    assert_eq!(run(&["--explain", "FA999"]).0, 2);
    assert_eq!(run(&["--bogus"]).0, 2);
}

#[test]
fn parse_errors_exit_with_2() {
    let dir = std::env::temp_dir().join(format!("cargo-fa-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let bad = dir.join("bad.rs");
    std::fs::write(&bad, "fn broken( {").expect("write");
    let (code, _, err) = run(&[bad.to_str().expect("utf-8")]);
    std::fs::remove_dir_all(&dir).expect("cleanup");
    assert_eq!(code, 2);
    assert!(err.contains("parse error"), "{err}");
}
