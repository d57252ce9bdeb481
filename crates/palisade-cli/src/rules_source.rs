//! Reading rule files and mapping files from disk for the Sigma loader, which does no IO.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use palisade_sigma::{Loader, Mapping, Pipeline, RuleSet};
use rayon::prelude::*;

use crate::Exit;

/// Collects `.yml`/`.yaml` files under each path (a file is taken as is), sorted for
/// reproducible output.
pub(crate) fn collect_rule_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = fs_err::metadata(path)
            .map_err(|error| Exit::Usage(anyhow::Error::new(error).context("reading rules")))?;
        if metadata.is_file() {
            files.push(path.clone());
            continue;
        }
        for entry in walkdir::WalkDir::new(path).follow_links(true) {
            let entry = entry.with_context(|| format!("walking {}", path.display()))?;
            let is_yaml = entry.path().extension().is_some_and(|ext| {
                ext.eq_ignore_ascii_case("yml") || ext.eq_ignore_ascii_case("yaml")
            });
            if entry.file_type().is_file() && is_yaml {
                files.push(entry.into_path());
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Builds the field mapping from `--mapping` values: `builtin` (default), `none`, or files.
pub(crate) fn mapping(specs: &[String]) -> anyhow::Result<Mapping> {
    if specs.is_empty() {
        return Ok(Mapping::new(Pipeline::builtin()));
    }
    let mut pipelines = Vec::new();
    for spec in specs {
        match spec.as_str() {
            "none" => {}
            "builtin" => pipelines.extend(Pipeline::builtin()),
            path => {
                let text = fs_err::read_to_string(path).map_err(|error| {
                    Exit::Usage(anyhow::Error::new(error).context("reading field mapping"))
                })?;
                pipelines
                    .push(Pipeline::parse(path, &text).map_err(|error| Exit::Usage(error.into()))?);
            }
        }
    }
    Ok(Mapping::new(pipelines))
}

/// Reads and compiles the rules under `paths`.
pub(crate) fn load(paths: &[PathBuf], loader: &Loader) -> anyhow::Result<RuleSet> {
    let files = collect_rule_files(paths)?;
    if files.is_empty() {
        return Err(Exit::Usage(anyhow::anyhow!(
            "no .yml or .yaml rule files under {}",
            display_paths(paths)
        ))
        .into());
    }
    let sources: Vec<(PathBuf, String)> = files
        .par_iter()
        .map(|file| {
            let bytes = fs_err::read(file)?;
            Ok((file.clone(), String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect::<std::io::Result<_>>()
        .context("reading rule files")?;
    Ok(loader.load(&sources))
}

pub(crate) fn display_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|path| path.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Returns true when the path looks like an EVTX file (by its magic, not its name).
pub(crate) fn is_evtx(path: &Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0u8; 8];
    fs_err::File::open(path).and_then(|mut file| file.read_exact(&mut magic)).is_ok()
        && &magic == b"ElfFile\0"
}
