//! `cargo fa`: a lint for framealloc misuse, mostly in async code.
//!
//! framealloc's types already turn the worst mistakes into compile errors (frame data is `!Send`
//! and borrows its frame). What the compiler cannot see is *intent*: a frame allocation in an
//! `async fn` compiles on a single-threaded executor, yet it ties the future to the frame loop's
//! thread and keeps a frame open for as long as the future sleeps. `cargo fa` reads the source
//! (with `syn`: syntax only, no type information — names are matched, so a method of another
//! type called `frame_box` is reported too) and reports:
//!
//! | code | finding |
//! | --- | --- |
//! | FA701 | frame allocation (`frame_alloc`, `frame_box`, `frame_vec`, `frame_slice`, their `try_` and `_with_capacity` forms) inside an `async fn`, `async` block or `async` closure |
//! | FA603 | frame data (a `let` bound to one of those calls, to `begin_frame`, or an async fn parameter of type `Frame`/`FrameBox`/`FrameVec`) still in scope at an `.await` |
//! | FA704 | frame boundary (`begin_frame`, `try_begin_frame`, `end_frame`) inside async code |
//! | FA711 | `mem::forget` of a pool, task or frame handle: the block is leaked for good |
//!
//! Install it as a cargo subcommand with `cargo install --path cargo-fa` and run `cargo fa`
//! (or `cargo fa src examples`, `cargo fa --explain FA603`, `cargo fa --list`); inside this
//! workspace `cargo run -p cargo-fa -- fa PATH` does the same without installing.
//!
//! Output is one line per finding, `path:line:column: CODE: message`, sorted by position; the
//! command exits with 1 when there are findings, 2 on a read or parse error, 0 otherwise.
//!
//! Scope rules: a non-`async` closure inherits the context it is written in (it usually runs
//! there); a nested `fn` item starts afresh; an `async` block inside a function is its own
//! future, so its awaits are checked against its own bindings only. Code inside macro calls is
//! not parsed. A binding stops being frame data at `drop(x)`, `mem::forget(x)`, `x.end()` or
//! `alloc.end_frame(x)` in the same block.
//!
//! ```
//! let src = "async fn f(alloc: &SmartAlloc) { let f = alloc.begin_frame(); let v = f.frame_vec::<u8>(); io().await; }";
//! let findings = cargo_fa::check_source(src).unwrap();
//! let codes: Vec<_> = findings.iter().map(|f| f.code.as_str()).collect();
//! assert_eq!(codes, ["FA704", "FA701", "FA603"]);
//! ```

mod lints;

use std::fmt::Write as _;

/// A lint code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// Frame data crossing an await point.
    FA603,
    /// Frame allocation in async code.
    FA701,
    /// Frame boundary in async code.
    FA704,
    /// `mem::forget` of an allocator handle.
    FA711,
}

impl Code {
    /// Every code, in order.
    pub const ALL: [Self; 4] = [Self::FA603, Self::FA701, Self::FA704, Self::FA711];

    /// The code as printed (`"FA701"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FA603 => "FA603",
            Self::FA701 => "FA701",
            Self::FA704 => "FA704",
            Self::FA711 => "FA711",
        }
    }

    /// Parses `"FA701"` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }

    /// One line: what the code reports.
    pub fn summary(self) -> &'static str {
        match self {
            Self::FA603 => "frame data crossing an await point",
            Self::FA701 => "frame allocation in async code",
            Self::FA704 => "frame boundary (begin_frame / end_frame) in async code",
            Self::FA711 => "mem::forget of a pool, task or frame handle",
        }
    }

    /// A paragraph: why it matters and what to do instead.
    pub fn explain(self) -> &'static str {
        match self {
            Self::FA603 => {
                "Frame data lives until the frame ends, on the thread that runs the frame loop. \
                 Holding it across `.await` keeps the frame open while the task sleeps, makes \
                 the future `!Send`, and blocks `end_frame` until the task resumes. Drop the \
                 data before awaiting, or allocate it from the pool tier (`TaskAlloc::alloc_vec`, \
                 `AsyncPoolGuard::pool_vec`), which any thread may hold and free."
            }
            Self::FA701 => {
                "Frame allocations belong to the frame loop's thread (upstream framealloc's \"main \
                 thread\"). In async code, use the pool tier through `TaskAlloc` or \
                 `AsyncPoolGuard`: it is thread-safe, reused across frames, and freed when the \
                 scope ends."
            }
            Self::FA704 => {
                "A frame opened inside async code spans whatever awaits follow, and the arena \
                 stays unavailable to the frame loop until the future finishes. Open and end \
                 frames in the synchronous main loop (e.g. around `runtime.block_on(...)`)."
            }
            Self::FA711 => {
                "Forgetting a `PoolBox`, `PoolVec`, `FrameBox` or `FrameVec` skips its \
                 destructor: the value is never dropped and a pool block is never reused. Drop \
                 the handle, or move the value out with `into_inner` / `into_vec`."
            }
        }
    }
}

/// One finding, at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The lint code.
    pub code: Code,
    /// What was found and what to do.
    pub message: String,
}

/// Lints one source file; findings are sorted by position.
pub fn check_source(src: &str) -> Result<Vec<Finding>, syn::Error> {
    let file = syn::parse_file(src)?;
    let mut findings = lints::check(&file);
    findings.sort();
    findings.dedup();
    Ok(findings)
}

/// Formats findings as `path:line:column: CODE: message` lines.
pub fn render(path: &str, findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = writeln!(
            out,
            "{path}:{}:{}: {}: {}",
            f.line,
            f.column,
            f.code.as_str(),
            f.message
        );
    }
    out
}
