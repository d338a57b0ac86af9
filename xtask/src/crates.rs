//! The one table of the workspace's library crates and what each check does with them. Every
//! step that walks crates (tests without default features, loom, miri, ThreadSanitizer, cross
//! builds, the ESP-IDF type-check) reads [`CRATES`]; a crate listed here whose directory is
//! missing is an error, never a skipped check.

use crate::cmd::{Result, root};

/// How a crate's tests run under miri.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Miri {
    /// Not at all (the tests make syscalls miri cannot run).
    No,
    /// On the host target.
    Host,
    /// On the host target and once more on a 32-bit one, where address and size arithmetic
    /// overflows first.
    HostAnd32Bit,
}

/// One library crate and its place in each check.
#[derive(Debug)]
pub(crate) struct Crate {
    /// Package name, which is also its directory.
    pub(crate) name: &'static str,
    /// Feature sets built for the firmware targets by `cross` (`""`: no features); empty for
    /// crates that need `std`.
    pub(crate) firmware_features: &'static [&'static str],
    /// Its tests also run without default features, as a firmware build sees the crate.
    pub(crate) no_default_tests: bool,
    pub(crate) miri: Miri,
    /// Test targets (`tests/<name>.rs`) run under ThreadSanitizer.
    pub(crate) tsan: &'static [&'static str],
    /// Type-checked for ESP-IDF (std) with these features; `None`: not.
    pub(crate) espidf: Option<&'static str>,
    /// A cfg that switches the crate to the protocol or backend its other targets run (bare
    /// metal, ESP-IDF), so the host checks it too.
    pub(crate) alt_cfg: Option<AltCfg>,
}

/// See [`Crate::alt_cfg`]: `test` runs the crate's tests once more with `cfg`, and `loom` its
/// loom models when `loom` is set (when the cfg changes what they model).
#[derive(Debug)]
pub(crate) struct AltCfg {
    pub(crate) cfg: &'static str,
    pub(crate) loom: bool,
}

/// The library crates. Host tools (cargo-fa, examples, bench, xtask) are not listed: the
/// workspace-wide steps (fmt, clippy, test, doc) cover them.
pub(crate) const CRATES: &[Crate] = &[
    Crate {
        name: "sync-core",
        firmware_features: &["", "defmt"],
        no_default_tests: true,
        miri: Miri::HostAnd32Bit,
        tsan: &["wait_queue", "atomic_waker"],
        espidf: None,
        alt_cfg: Some(AltCfg {
            cfg: "sync_core_locked_only",
            loom: true,
        }),
    },
    Crate {
        name: "pool",
        firmware_features: &["", "defmt,stable_deref_trait"],
        no_default_tests: true,
        miri: Miri::HostAnd32Bit,
        tsan: &["stress", "async_wait"],
        espidf: None,
        alt_cfg: Some(AltCfg {
            cfg: "sync_core_locked_only",
            loom: true,
        }),
    },
    Crate {
        name: "hatch",
        firmware_features: &["", "async", "alloc,async,defmt"],
        no_default_tests: true,
        miri: Miri::Host,
        tsan: &["stress"],
        espidf: None,
        alt_cfg: Some(AltCfg {
            cfg: "hatch_locked_only",
            loom: true,
        }),
    },
    Crate {
        name: "task-ffi",
        firmware_features: &["", "alloc,defmt", "pool"],
        no_default_tests: true,
        miri: Miri::Host,
        tsan: &["stress"],
        espidf: None,
        alt_cfg: Some(AltCfg {
            cfg: "task_ffi_small_wake",
            loom: true,
        }),
    },
    Crate {
        name: "io-mini",
        firmware_features: &[],
        no_default_tests: false,
        miri: Miri::No,
        tsan: &["stress"],
        espidf: Some(""),
        // Its loom models check the registry's protocols for both backends in every build.
        alt_cfg: Some(AltCfg {
            cfg: "io_mini_poll",
            loom: false,
        }),
    },
    Crate {
        name: "framealloc",
        firmware_features: &[],
        no_default_tests: false,
        miri: Miri::Host,
        tsan: &["pool"],
        espidf: Some("task"),
        alt_cfg: None,
    },
    Crate {
        name: "frugal",
        firmware_features: &["pool,hatch", "pool,hatch,task-ffi,alloc,defmt"],
        no_default_tests: false,
        miri: Miri::No,
        tsan: &[],
        espidf: Some("pool,hatch,task-ffi,io-mini,framealloc,framealloc-task"),
        alt_cfg: None,
    },
];

/// The crates for which `wanted` holds, each checked to exist.
pub(crate) fn select(wanted: impl Fn(&Crate) -> bool) -> Result<Vec<&'static Crate>> {
    let mut chosen = Vec::new();
    for krate in CRATES.iter().filter(|k| wanted(k)) {
        if !root().join(krate.name).join("Cargo.toml").is_file() {
            return Err(format!(
                "the crate table lists {}, but {}/Cargo.toml is missing",
                krate.name, krate.name
            ));
        }
        chosen.push(krate);
    }
    Ok(chosen)
}
