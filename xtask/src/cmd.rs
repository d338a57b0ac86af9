//! Running commands: echo them, run them from the workspace root, report failures as errors.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The result of a job: `Err` carries a message that says what failed.
pub(crate) type Result<T = ()> = std::result::Result<T, String>;

/// The workspace root (the parent of the xtask package).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Where cargo puts the workspace's build output: `$CARGO_TARGET_DIR` when set (relative paths
/// count from the workspace root, where every command runs), else `target/` in the root.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// A command builder that prints itself and runs in the workspace root.
pub(crate) struct Cmd {
    inner: Command,
    shown: String,
}

impl Cmd {
    pub(crate) fn new(program: &str) -> Self {
        let mut inner = Command::new(program);
        inner.current_dir(root());
        Self {
            inner,
            shown: program.to_string(),
        }
    }

    /// `cargo`, with the toolchain picked by `toolchain` (`None` for the default one).
    pub(crate) fn cargo(toolchain: Option<&str>) -> Self {
        let mut cmd = Self::new("cargo");
        if let Some(tc) = toolchain {
            cmd = cmd.arg(&format!("+{tc}"));
        }
        // A rustup proxy honours RUSTUP_TOOLCHAIN over `+tc`; clear it so `+tc` wins.
        cmd.inner.env_remove("RUSTUP_TOOLCHAIN");
        cmd
    }

    pub(crate) fn arg(mut self, arg: &str) -> Self {
        self.inner.arg(arg);
        self.shown.push(' ');
        self.shown.push_str(arg);
        self
    }

    pub(crate) fn args(mut self, args: &[&str]) -> Self {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.inner.env(key, value);
        self.shown = format!("{key}={value:?} {}", self.shown);
        self
    }

    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.inner.env_remove(key);
        self
    }

    pub(crate) fn dir(mut self, dir: &Path) -> Self {
        self.inner.current_dir(dir);
        self.shown = format!("(cd {}) {}", dir.display(), self.shown);
        self
    }

    /// Runs to completion, inheriting stdout/stderr.
    pub(crate) fn run(mut self) -> Result {
        println!("$ {}", self.shown);
        let start = Instant::now();
        let status = self
            .inner
            .status()
            .map_err(|e| format!("cannot start `{}`: {e}", self.shown))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "`{}` failed ({status}) after {:.0?}",
                self.shown,
                start.elapsed()
            ))
        }
    }

    /// Runs to completion with stdout and stderr captured together (for jobs that run side by
    /// side, whose output would interleave): the command line and what it printed, and whether
    /// it succeeded.
    pub(crate) fn run_quiet(mut self) -> (String, Result) {
        let start = Instant::now();
        let mut log = format!("$ {}\n", self.shown);
        let out = match self.inner.stdin(std::process::Stdio::null()).output() {
            Ok(out) => out,
            Err(e) => return (log, Err(format!("cannot start `{}`: {e}", self.shown))),
        };
        log.push_str(&String::from_utf8_lossy(&out.stdout));
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        let result = if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "`{}` failed ({}) after {:.0?}",
                self.shown,
                out.status,
                start.elapsed()
            ))
        };
        (log, result)
    }

    /// Runs and captures stdout (stderr is inherited). On failure the captured stdout is printed
    /// before the error is returned, so what the program said is not lost.
    pub(crate) fn output(mut self) -> Result<String> {
        let out = self
            .inner
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot start `{}`: {e}", self.shown))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() {
            Ok(stdout)
        } else {
            print!("{stdout}");
            Err(format!("`{}` failed ({})", self.shown, out.status))
        }
    }
}

/// Whether `program` is on the PATH.
pub(crate) fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
