//! Engine benchmarks over the shared corpus: compiling every SigmaHQ rule, and matching
//! pre-parsed Windows events (the 315 sample EVTX files) against every Windows rule.
//!
//! Run with `cargo bench -p palisade-sigma --bench engine`; figures go in docs/benchmarks.md.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use palisade_event::Event;
use palisade_sigma::{Loader, Mapping, Pipeline};
use rayon::prelude::*;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn rule_sources(dirs: &[PathBuf]) -> Vec<(PathBuf, String)> {
    let mut sources = Vec::new();
    for dir in dirs {
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name().into_iter().flatten() {
            if entry.file_type().is_file()
                && entry.path().extension().is_some_and(|ext| ext == "yml")
            {
                sources.push((
                    entry.path().to_owned(),
                    std::fs::read_to_string(entry.path()).expect("read rule"),
                ));
            }
        }
    }
    sources
}

fn windows_rule_dirs() -> Vec<PathBuf> {
    let root = corpus().join("sigma-rules");
    vec![
        root.join("rules/windows"),
        root.join("rules-emerging-threats"),
        root.join("rules-threat-hunting/windows"),
    ]
}

fn corpus_events() -> Vec<Event> {
    let mut events = Vec::new();
    for entry in
        walkdir::WalkDir::new(corpus().join("evtx")).sort_by_file_name().into_iter().flatten()
    {
        if entry.path().extension().is_some_and(|ext| ext == "evtx") {
            let bytes = std::fs::read(entry.path()).expect("read evtx");
            events.extend(palisade_parse::format::evtx::read(bytes, 1).expect("evtx").flatten());
        }
    }
    events
}

fn benches(c: &mut Criterion) {
    if !corpus().is_dir() {
        eprintln!("!!! shared corpus missing; skipping engine benchmarks");
        return;
    }
    let all_rules = rule_sources(&[
        corpus().join("sigma-rules/rules"),
        corpus().join("sigma-rules/rules-emerging-threats"),
        corpus().join("sigma-rules/rules-threat-hunting"),
    ]);
    let loader = Loader::new(Mapping::new(Pipeline::builtin()));
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.throughput(Throughput::Elements(all_rules.len() as u64));
    group.bench_function("sigmahq_all_rules", |b| b.iter(|| loader.load(&all_rules)));
    group.finish();

    let windows = loader.load(&rule_sources(&windows_rule_dirs()));
    let events = corpus_events();
    eprintln!("{} Windows rules, {} events", windows.rules().len(), events.len());
    {
        let mut scratch = windows.scratch();
        let hits: usize =
            events.iter().map(|event| windows.matches(event, &mut scratch).len()).sum();
        eprintln!("{hits} matches, {} exact evaluations", scratch.evaluated());
    }
    let mut group = c.benchmark_group("match");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("evtx_corpus_one_thread", |b| {
        let mut scratch = windows.scratch();
        b.iter(|| {
            events.iter().map(|event| windows.matches(event, &mut scratch).len()).sum::<usize>()
        });
    });
    group.bench_function("evtx_corpus_all_threads", |b| {
        b.iter(|| {
            events
                .par_iter()
                .map_init(
                    || windows.scratch(),
                    |scratch, event| windows.matches(event, scratch).len(),
                )
                .sum::<usize>()
        });
    });
    group.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
