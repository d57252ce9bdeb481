//! At least 99.5% of the SigmaHQ corpus must load; the rest is listed with reasons.

use palisade_sigma::{Loader, Mapping, Pipeline};

use crate::corpus;

#[test]
fn sigmahq_rules_load_at_least_99_5_percent() {
    let Some(root) = corpus::root() else { return };
    let sources = corpus::rule_sources(&corpus::rule_dirs(&root));
    let set = Loader::new(Mapping::new(Pipeline::builtin())).load(&sources);
    let stats = set.stats();
    eprintln!(
        "{} files, {} documents, {} rules loaded, {} failed",
        stats.files, stats.documents, stats.rules_loaded, stats.failed
    );
    for diagnostic in set.errors() {
        eprintln!("  not loaded: {diagnostic}");
    }
    assert!(
        stats.documents >= 3_700,
        "the corpus should hold over 3,700 rules, saw {}",
        stats.documents
    );
    #[allow(clippy::cast_precision_loss)]
    let rate = stats.rules_loaded as f64 / stats.documents as f64;
    assert!(rate >= 0.995, "only {:.3}% of rules loaded", rate * 100.0);
    assert_eq!(stats.rules_loaded + stats.failed, stats.documents);
}
