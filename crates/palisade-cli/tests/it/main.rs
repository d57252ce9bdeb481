//! End-to-end tests that drive the real `palisade` binary.

mod cli;
mod compat;
mod crash;
mod detect;
mod golden;
mod serve;
mod server;
mod sources;
mod store;
mod syslog;
mod syslog_tls;
mod tail;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with arguments.
pub(crate) fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env_remove("PALISADE_DATA_DIR")
        .output()
        .expect("run palisade")
}

/// Returns the shared corpus, or `None` with a loud message (a failure in CI).
pub(crate) fn corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if root.join("evtx").is_dir() {
        return Some(root);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the shared corpus is missing at {} and CI=true",
        root.display()
    );
    eprintln!("\n!!! SKIPPED: shared corpus not found at {} !!!\n", root.display());
    None
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
