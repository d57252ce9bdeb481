//! The one way parsed events reach the store from any input: enrich, detect, append.
//!
//! Every input (HTTP ingest, Elastic `_bulk`, Splunk HEC, syslog, tailed files) hands its
//! parsed events here, so a stage added to the pipeline (detection comes next) applies to all
//! of them alike.

use std::sync::Arc;

use palisade_enrich::Enricher;
use palisade_event::Event;
use palisade_store::Store;

use crate::detect::{Detection, Pending};

/// Enrichment, detection, storage; cheap to clone.
#[derive(Debug, Clone)]
pub struct Pipeline {
    store: Arc<Store>,
    enricher: Arc<Enricher>,
    detection: Option<Arc<Detection>>,
}

impl Pipeline {
    /// A pipeline into `store`, with live detection when `detection` is given.
    #[must_use]
    pub fn new(
        store: Arc<Store>,
        enricher: Arc<Enricher>,
        detection: Option<Arc<Detection>>,
    ) -> Self {
        Self { store, enricher, detection }
    }

    /// Enriches the events, matches them against the rules, appends them durably, then runs
    /// the stateful detection on the stored events (which now have ids); returns their
    /// sequence range. Blocking: call it from a blocking task.
    ///
    /// # Errors
    /// The store's append error.
    pub fn append(&self, mut events: Vec<Event>) -> palisade_store::Result<(u64, u64)> {
        let received = std::time::Instant::now();
        for event in &mut events {
            self.enricher.enrich(event);
        }
        let Some(detection) = &self.detection else {
            return self.store.append(events);
        };
        let rules = detection.rules();
        let mut hits = palisade_detect::stage::scan(&rules, &events);
        let wanted = detection.wanted(&events);
        let (first, last) = self.store.append_events(&events)?;
        // The store has encoded its own copy; the events detection needs move on to it.
        let stored: Vec<Pending> = events
            .iter_mut()
            .zip(&mut hits)
            .zip(wanted)
            .enumerate()
            .filter(|(_, ((_, hits), wanted))| !hits.is_empty() || wanted.any())
            .map(|(idx, ((event, hits), wanted))| Pending {
                id: first + idx as u64,
                event: std::mem::take(event),
                hits: std::mem::take(hits),
                wanted,
            })
            .collect();
        if !stored.is_empty() {
            detection.process(&stored, received);
        }
        Ok((first, last))
    }

    /// The store behind the pipeline.
    #[must_use]
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}
