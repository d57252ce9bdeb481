//! The one way parsed events reach the store from any input: enrich, then append.
//!
//! Every input (HTTP ingest, Elastic `_bulk`, Splunk HEC, syslog, tailed files) hands its
//! parsed events here, so a stage added to the pipeline (detection comes next) applies to all
//! of them alike.

use std::sync::Arc;

use palisade_enrich::Enricher;
use palisade_event::Event;
use palisade_store::Store;

/// Enrichment then storage; cheap to clone.
#[derive(Debug, Clone)]
pub struct Pipeline {
    store: Arc<Store>,
    enricher: Arc<Enricher>,
}

impl Pipeline {
    /// A pipeline into `store`.
    #[must_use]
    pub fn new(store: Arc<Store>, enricher: Arc<Enricher>) -> Self {
        Self { store, enricher }
    }

    /// Enriches the events and appends them durably; returns their sequence range.
    /// Blocking: call it from a blocking task.
    ///
    /// # Errors
    /// The store's append error.
    pub fn append(&self, mut events: Vec<Event>) -> palisade_store::Result<(u64, u64)> {
        for event in &mut events {
            self.enricher.enrich(event);
        }
        self.store.append(events)
    }

    /// The store behind the pipeline.
    #[must_use]
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}
