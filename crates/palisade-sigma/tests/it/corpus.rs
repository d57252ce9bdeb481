//! Access to the shared test corpus.

use std::path::{Path, PathBuf};

/// Returns the shared corpus directory, or `None` (after a loud message) on a developer
/// machine without it. In CI a missing corpus fails the test.
pub(crate) fn root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if root.join("sigma-rules").is_dir() {
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

/// Reads every rule file under the given directories as (path, text).
pub(crate) fn rule_sources(dirs: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let mut sources = Vec::new();
    for dir in dirs {
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.expect("walk rules");
            let path = entry.path();
            if entry.file_type().is_file()
                && path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml")
            {
                sources.push((path.to_owned(), std::fs::read_to_string(path).expect("read rule")));
            }
        }
    }
    sources
}

/// The three SigmaHQ rule folders of the corpus.
pub(crate) fn rule_dirs(root: &Path) -> Vec<PathBuf> {
    ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|dir| root.join("sigma-rules").join(dir))
        .collect()
}
