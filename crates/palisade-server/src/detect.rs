//! Live detection in the server: the rule set, the stateful detector, the alert writer, the
//! clock that closes correlation windows, and the saved state.
//!
//! Rules come from two places: the built-in rules shipped in the binary
//! (`palisade_detect::builtin`), and every `.yml`/`.yaml` file under `DATA_DIR/rules`
//! (`palisade rules import` copies files there). [`Detection::reload`] reads them again
//! without a restart; rules switched off are kept in the state database.
//!
//! Alerts go through a bounded queue to one writer thread that records them in the state
//! database (with deduplication). When the database falls behind, the queue fills and the
//! inputs wait: detection lag slows ingestion rather than losing alerts.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::metrics::DetectMetrics;

use jiff::{SignedDuration, Timestamp};
use palisade_detect::behaviour::Readings;
use palisade_detect::correlation::EngineConfig;
use palisade_detect::stage::{Detector, Interest, RuleInfo, Wanted};
use palisade_detect::{Alert, AlertSink, EventId};
use palisade_event::Event;
use palisade_sigma::{Loader, Mapping, Pipeline as FieldMapping, RuleSet};
use palisade_state::StateDb;

/// Settings of live detection (`[detect]` in the config file).
#[derive(Debug, Clone)]
pub struct DetectOptions {
    /// Alerts with the same rule and subject within this window are one alert.
    pub suppress: SignedDuration,
    /// Correlation windows: allowed lateness and memory bounds.
    pub engine: EngineConfig,
    /// How often the open windows and baselines are saved.
    pub checkpoint_every: Duration,
    /// Behaviour detector settings (`[detect.behaviour]`).
    pub behaviours: palisade_detect::behaviour::BehaviourConfig,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            suppress: SignedDuration::from_secs(3600),
            engine: EngineConfig::default(),
            checkpoint_every: Duration::from_secs(10),
            behaviours: palisade_detect::behaviour::BehaviourConfig::default(),
        }
    }
}

/// What a (re)load of the rules found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    /// Rule files read.
    pub files: usize,
    /// Sigma rules loaded.
    pub rules: usize,
    /// Correlation rules compiled.
    pub correlations: usize,
    /// Rules and correlations that did not load, with the reason.
    pub problems: Vec<String>,
}

/// A stored event on its way to [`Detection::process`].
#[derive(Debug)]
pub struct Pending {
    /// Its store id.
    pub id: EventId,
    /// The event.
    pub event: Event,
    /// Its Sigma rule matches.
    pub hits: Vec<u32>,
    /// The behaviour detectors that want it.
    pub wanted: Wanted,
    /// What they read of it when asked, reused when they see it.
    pub readings: Readings,
}

/// Live detection, shared by every input's pipeline.
pub struct Detection {
    detector: Mutex<Detector>,
    /// Which detectors want an event, asked without the detector's lock.
    interest: Arc<Interest>,
    /// Alerts with the time their events entered the pipeline.
    alerts: SyncSender<(Vec<Alert>, Instant)>,
    metrics: DetectMetrics,
    rules_dir: PathBuf,
    state_path: PathBuf,
    db: StateDb,
}

impl std::fmt::Debug for Detection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Detection")
            .field("rules_dir", &self.rules_dir)
            .finish_non_exhaustive()
    }
}

/// Reads the built-in rules and every rule file under `dir`, and compiles them with the
/// built-in field mappings.
///
/// # Errors
/// IO errors reading `dir`.
pub fn load_rules(dir: &Path) -> std::io::Result<(RuleSet, LoadReport)> {
    let mut sources: Vec<(PathBuf, String)> = palisade_detect::builtin::rules()
        .iter()
        .map(|(name, text)| (PathBuf::from(format!("builtin/{name}")), (*text).to_owned()))
        .collect();
    if dir.is_dir() {
        let mut files = Vec::new();
        collect_rule_files(dir, &mut files, 0)?;
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path)?;
            sources.push((path, text));
        }
    }
    let loader = Loader::new(Mapping::new(FieldMapping::builtin()));
    let rules = loader.load(&sources);
    let correlations = palisade_detect::correlation::CorrelationSet::compile(&rules);
    let mut problems: Vec<String> =
        rules.errors().map(|diagnostic| diagnostic.to_string()).collect();
    problems.extend(correlations.problems().iter().map(|problem| {
        format!("{}: correlation `{}`: {}", problem.path, problem.title, problem.message)
    }));
    let report = LoadReport {
        files: sources.len(),
        rules: rules.rules().len(),
        correlations: correlations.correlations().len(),
        problems,
    };
    Ok((rules, report))
}

fn collect_rule_files(dir: &Path, into: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > 16 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_rule_files(&path, into, depth + 1)?;
        } else if kind.is_file()
            && path.extension().is_some_and(|ext| ext == "yml" || ext == "yaml")
        {
            into.push(path);
        }
    }
    Ok(())
}

impl Detection {
    /// Loads the rules, restores the saved windows and baselines, and starts the alert writer
    /// and the clock. Call it inside the server's Tokio runtime.
    ///
    /// # Errors
    /// IO errors reading the rules or the saved state, database errors.
    pub async fn start(
        data_dir: &Path,
        db: StateDb,
        options: DetectOptions,
    ) -> Result<(Arc<Self>, LoadReport), Box<dyn std::error::Error + Send + Sync>> {
        Self::start_with_sink(data_dir, db.clone(), db, options).await
    }

    /// As [`Self::start`], with alerts recorded in `sink` instead of the state database
    /// (which still holds the rules switched off).
    ///
    /// # Errors
    /// As [`Self::start`].
    pub async fn start_with_sink<S: AlertSink>(
        data_dir: &Path,
        db: StateDb,
        sink: S,
        options: DetectOptions,
    ) -> Result<(Arc<Self>, LoadReport), Box<dyn std::error::Error + Send + Sync>> {
        let rules_dir = data_dir.join("rules");
        let (rules, report) = load_rules(&rules_dir)?;
        let behaviours = palisade_detect::behaviour::all(&options.behaviours);
        let mut detector = Detector::new(rules, behaviours, options.engine);
        let interest = detector.interest(palisade_detect::behaviour::all(&options.behaviours))?;
        detector.set_disabled(db.disabled_rules().await?.into_iter().collect());
        let state_dir = data_dir.join("detect");
        std::fs::create_dir_all(&state_dir)?;
        let state_path = state_dir.join("state.json");
        match std::fs::read(&state_path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(state) => {
                    if let Err(error) = detector.restore(state) {
                        tracing::warn!(%error, "part of the saved detection state was not restored");
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, path = %state_path.display(), "saved detection state unreadable; starting empty")
                }
            },
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error.into()),
        }
        // A few seconds of alerts at a high rate; when full, inputs wait.
        let (sender, receiver) = sync_channel(1024);
        let metrics = DetectMetrics::default();
        let detection = Arc::new(Self {
            detector: Mutex::new(detector),
            interest,
            alerts: sender,
            metrics: metrics.clone(),
            rules_dir,
            state_path,
            db: db.clone(),
        });
        let handle = tokio::runtime::Handle::current();
        let suppress = options.suppress;
        std::thread::Builder::new()
            .name("alert-writer".into())
            .spawn(move || write_alerts(&receiver, &sink, &handle, suppress, &metrics))?;
        tokio::spawn(clock(Arc::clone(&detection), options.checkpoint_every));
        Ok((detection, report))
    }

    /// Its metrics, for `/metrics`.
    #[must_use]
    pub fn metrics(&self) -> &DetectMetrics {
        &self.metrics
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Detector> {
        self.detector.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The rule set to scan events with (step 1, no lock held while scanning).
    #[must_use]
    pub fn rules(&self) -> Arc<RuleSet> {
        self.lock().rules()
    }

    /// Which behaviour detectors want the event, with what they read of it (for
    /// [`Self::process`] to reuse). The events that must reach [`Self::process`] are those
    /// with a rule match or a detector that wants them. Takes no lock: input threads ask
    /// while another one's events are being processed.
    #[must_use]
    pub fn wanted(&self, event: &Event) -> (Wanted, Readings) {
        self.interest.wants_keeping(event)
    }

    /// Step 2 on stored events that entered the pipeline at `received`; queues the alerts
    /// for the writer (waits when it is behind). Blocking.
    pub fn process(&self, mut events: Vec<Pending>, received: Instant) {
        let now = Timestamp::now();
        let alerts: Vec<Alert> = {
            let mut detector = self.lock();
            let alerts = events
                .iter_mut()
                .flat_map(|pending| {
                    detector.process_with(
                        &pending.event,
                        std::mem::take(&mut pending.readings),
                        pending.id,
                        &pending.hits,
                        pending.wanted,
                        now,
                    )
                })
                .collect();
            let stats = detector.correlation_stats();
            self.metrics.late.set(i64::try_from(stats.late).unwrap_or(i64::MAX));
            alerts
        };
        self.metrics.examined.inc_by(events.len() as u64);
        // Freed here, after the detector's lock is released: the other append task may be
        // waiting for it.
        drop(events);
        self.send(alerts, received);
    }

    fn send(&self, alerts: Vec<Alert>, received: Instant) {
        if alerts.is_empty() {
            return;
        }
        self.metrics.raised.inc_by(alerts.len() as u64);
        if self.alerts.send((alerts, received)).is_err() {
            tracing::error!("the alert writer stopped; alerts are not recorded");
        }
    }

    /// Reads the rules again and swaps them in, keeping open windows of unchanged
    /// correlations.
    ///
    /// # Errors
    /// IO errors reading the rules directory, database errors.
    pub async fn reload(&self) -> Result<LoadReport, Box<dyn std::error::Error + Send + Sync>> {
        let dir = self.rules_dir.clone();
        let (rules, report) = tokio::task::spawn_blocking(move || load_rules(&dir)).await??;
        let disabled: HashSet<String> = self.db.disabled_rules().await?.into_iter().collect();
        let mut detector = self.lock();
        detector.replace_rules(rules);
        detector.set_disabled(disabled);
        tracing::info!(rules = report.rules, correlations = report.correlations, "rules reloaded");
        Ok(report)
    }

    /// Applies the list of rules switched off in the state database.
    ///
    /// # Errors
    /// Database errors.
    pub async fn refresh_disabled(&self) -> palisade_state::Result<()> {
        let disabled: HashSet<String> = self.db.disabled_rules().await?.into_iter().collect();
        self.lock().set_disabled(disabled);
        Ok(())
    }

    /// Every rule, correlation and detector, with its state.
    #[must_use]
    pub fn list(&self) -> Vec<RuleInfo> {
        self.lock().list()
    }

    /// Saves the open windows and baselines (atomically: a temporary file renamed).
    ///
    /// # Errors
    /// IO errors.
    pub fn checkpoint(&self) -> std::io::Result<()> {
        // Detection waits only while the state is written out as text; the file is written
        // and synced after the lock is released.
        let state = self.lock().save_json();
        let bytes = state.get().as_bytes();
        let temporary = self.state_path.with_extension("json.tmp");
        {
            use std::io::Write as _;
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&temporary, &self.state_path)
    }
}

/// Closes correlation windows every second and saves the state regularly.
async fn clock(detection: Arc<Detection>, checkpoint_every: Duration) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut last_checkpoint = tokio::time::Instant::now();
    loop {
        ticker.tick().await;
        let detection = Arc::clone(&detection);
        let save = last_checkpoint.elapsed() >= checkpoint_every;
        if save {
            last_checkpoint = tokio::time::Instant::now();
        }
        let result = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let (alerts, groups) = {
                let mut detector = detection.lock();
                (detector.advance(Timestamp::now()), detector.open_groups())
            };
            detection.metrics.open_groups.set(i64::try_from(groups).unwrap_or(i64::MAX));
            detection.send(alerts, started);
            if save { detection.checkpoint() } else { Ok(()) }
        })
        .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "saving the detection state failed"),
            Err(error) => tracing::error!(%error, "the detection clock failed"),
        }
    }
}

/// The alert writer: records queued alerts in batches, retrying while the database fails.
fn write_alerts<S: AlertSink>(
    receiver: &Receiver<(Vec<Alert>, Instant)>,
    sink: &S,
    handle: &tokio::runtime::Handle,
    suppress: SignedDuration,
    metrics: &DetectMetrics,
) {
    while let Ok((mut batch, received)) = receiver.recv() {
        // Each alert's arrival time, for the latency histogram once committed.
        let mut arrivals = vec![received; batch.len()];
        while batch.len() < 10_000 {
            match receiver.try_recv() {
                Ok((more, received)) => {
                    arrivals.extend(std::iter::repeat_n(received, more.len()));
                    batch.extend(more);
                }
                Err(_) => break,
            }
        }
        let mut delay = Duration::from_millis(100);
        loop {
            match handle.block_on(sink.record(&batch, suppress)) {
                Ok(recorded) => {
                    tracing::debug!(
                        new = recorded.new,
                        folded = recorded.folded,
                        "alerts recorded"
                    );
                    metrics.recorded.inc_by(batch.len() as u64);
                    for arrival in &arrivals {
                        metrics.latency.observe(arrival.elapsed().as_secs_f64());
                    }
                    break;
                }
                Err(error) => {
                    tracing::error!(%error, alerts = batch.len(), "recording alerts failed; retrying");
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}
