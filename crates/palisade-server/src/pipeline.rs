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
use crate::turnstile::Ticket;

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
    pub fn append(&self, events: Vec<Event>) -> palisade_store::Result<(u64, u64)> {
        self.append_iter(events.len(), events)
    }

    /// [`Pipeline::append`] for events made as they are taken (an input can parse in the
    /// iterator): each event is enriched, encoded into the store's columns, matched against
    /// the rules and asked which behaviour detectors want it in one step, while it is still
    /// in the core's cache (no lock is taken: see [`Detection::wanted`]). Walking the whole
    /// batch once per step cost about a cache miss per step and event, which on a batch of
    /// thousands of events (megabytes) was a large share of ingest. Events that no rule matched and no detector
    /// wants are dropped right away; the others wait for the append to be durable and get
    /// the stateful detection. `capacity` is about how many events come.
    ///
    /// # Errors
    /// The store's append error.
    pub fn append_iter(
        &self,
        capacity: usize,
        events: impl IntoIterator<Item = Event>,
    ) -> palisade_store::Result<(u64, u64)> {
        self.append_in_turn(capacity, events, None)
    }

    /// [`Pipeline::append_iter`] that runs the stateful detection only in the turn of
    /// `ticket`, when one is given: batches of one stream prepared at once then reach the
    /// detectors in the order their tickets were drawn. The enrichment, encoding, rule
    /// matching and store append before that do not wait, so the store may number two such
    /// batches in either order.
    ///
    /// # Errors
    /// The store's append error.
    pub fn append_in_turn(
        &self,
        capacity: usize,
        events: impl IntoIterator<Item = Event>,
        ticket: Option<Ticket>,
    ) -> palisade_store::Result<(u64, u64)> {
        let received = std::time::Instant::now();
        let mut encoder = self.store.encoder(capacity);
        let detection = self.detection.as_deref();
        let rules = detection.map(Detection::rules);
        let mut scratch = rules.as_ref().map(|rules| rules.scratch());
        let mut pending: Vec<Pending> = Vec::new();
        for (index, mut event) in (0_u64..).zip(events) {
            self.enricher.enrich(&mut event);
            encoder.push(&event);
            let (Some(detection), Some(rules), Some(scratch)) = (detection, &rules, &mut scratch)
            else {
                continue;
            };
            let hits = rules.matches(&event, scratch);
            let (wanted, readings) = detection.wanted(&event);
            if !hits.is_empty() || wanted.any() {
                if pending.capacity() == 0 {
                    pending.reserve(capacity.min(1024));
                } else if pending.len() == pending.capacity() {
                    // Grown once to room for every event left, not doubled step by step:
                    // each step copied all the events held so far.
                    let left =
                        capacity.saturating_sub(usize::try_from(index).unwrap_or(usize::MAX));
                    pending.reserve(left.max(1));
                }
                let hits = hits.to_vec();
                // The index for now; the id once the store has numbered the append.
                pending.push(Pending { id: index, event, hits, wanted, readings });
            }
        }
        // A ticket not waited on (the append failed, or nothing is left to detect) is given up
        // when it is dropped, and the next one's turn comes.
        let (first, last) = self.store.append_encoded(encoder)?;
        if let Some(detection) = detection
            && !pending.is_empty()
        {
            for event in &mut pending {
                event.id += first;
            }
            let _turn = ticket.map(Ticket::wait);
            detection.process(pending, received);
        }
        Ok((first, last))
    }

    /// The store behind the pipeline.
    #[must_use]
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}
