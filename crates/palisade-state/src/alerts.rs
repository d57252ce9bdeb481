//! Alerts: recorded with deduplication, listed for triage; and the rules switched off.
//!
//! Deduplication lives here, not in the detector, so that it holds across restarts: an alert
//! whose rule and subject (`Alert::dedup_key`) match an alert seen within the suppression
//! window is folded into it (count, last time, evidence) instead of becoming a new row.
//! Times are stored as microseconds since the epoch so that they sort and compare as numbers.

use jiff::{SignedDuration, Timestamp};
use palisade_detect::{Alert, AlertKind, Entities, Severity};
use sqlx::Row as _;

use crate::StateDb;
use crate::error::{Error, Result};

/// An alert as stored, with its row id and triage status.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredAlert {
    /// Row id: what analysts and the API call the alert by.
    pub id: i64,
    /// `new`, `acknowledged`, `closed`.
    pub status: String,
    /// The exception that covers it, when one does: such alerts are kept but not listed
    /// unless asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception_id: Option<i64>,
    /// The alert.
    #[serde(flatten)]
    pub alert: Alert,
}

pub use palisade_detect::Recorded;

/// Filters for [`StateDb::list_alerts`].
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only alerts detected at or after this time.
    pub since: Option<Timestamp>,
    /// Only alerts of at least this severity.
    pub min_severity: Option<Severity>,
    /// Only alerts of this rule.
    pub rule_id: Option<String>,
    /// At most this many, newest first (default 100, at most 10,000).
    pub limit: Option<u32>,
    /// Also alerts covered by an exception.
    pub include_excepted: bool,
}

fn severity_rank(severity: Severity) -> i64 {
    match severity {
        Severity::Informational => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

fn micros(time: Timestamp) -> i64 {
    time.as_microsecond()
}

fn from_micros(value: i64) -> Timestamp {
    Timestamp::from_microsecond(value).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn alert_row(row: &sqlx::sqlite::SqliteRow) -> Result<StoredAlert> {
    let kind: String = row.try_get("kind")?;
    let severity: String = row.try_get("severity")?;
    let attack: String = row.try_get("attack")?;
    let entities: String = row.try_get("entities")?;
    let evidence: String = row.try_get("evidence")?;
    let count: i64 = row.try_get("count")?;
    Ok(StoredAlert {
        id: row.try_get("id")?,
        status: row.try_get("status")?,
        exception_id: row.try_get("exception_id")?,
        alert: Alert {
            rule_id: row.try_get("rule_id")?,
            rule_title: row.try_get("rule_title")?,
            kind: match kind.as_str() {
                "correlation" => AlertKind::Correlation,
                "behaviour" => AlertKind::Behaviour,
                _ => AlertKind::Sigma,
            },
            severity: Severity::parse(&severity).unwrap_or(Severity::Medium),
            attack: serde_json::from_str(&attack).unwrap_or_default(),
            group: row.try_get("grp")?,
            summary: row.try_get("summary")?,
            entities: serde_json::from_str::<Entities>(&entities).unwrap_or_default(),
            evidence: serde_json::from_str(&evidence).unwrap_or_default(),
            count: u64::try_from(count).unwrap_or(0),
            first_seen: from_micros(row.try_get("first_seen")?),
            last_seen: from_micros(row.try_get("last_seen")?),
            detected_at: from_micros(row.try_get("detected_at")?),
        },
    })
}

impl palisade_detect::AlertSink for StateDb {
    type Error = Error;

    fn record(
        &self,
        alerts: &[Alert],
        suppress: SignedDuration,
    ) -> impl std::future::Future<Output = Result<Recorded>> + Send {
        self.record_alerts(alerts, suppress)
    }
}

impl StateDb {
    /// Records alerts, folding each into an alert with the same rule and subject whose last
    /// event is less than `suppress` before its first one. One transaction for the batch.
    ///
    /// # Errors
    /// Database errors; then none of the batch is recorded.
    pub async fn record_alerts(
        &self,
        alerts: &[Alert],
        suppress: SignedDuration,
    ) -> Result<Recorded> {
        let mut outcome = Recorded::default();
        // Read once per batch, so that a new or revoked exception applies from the next one.
        let exceptions = self.active_exceptions().await?;
        // Fold the batch in memory first: under an attack most alerts of a batch repeat a
        // few (rule, subject) pairs, and one row write per pair keeps the writer ahead.
        let mut folded: Vec<(String, Option<i64>, Alert)> = Vec::new();
        let mut open: std::collections::HashMap<(String, Option<i64>), usize> =
            std::collections::HashMap::new();
        for alert in alerts {
            let key = alert.dedup_key();
            let exception =
                exceptions.iter().find(|exception| exception.covers(alert)).map(|e| e.id);
            if exception.is_some() {
                outcome.excepted += 1;
            }
            if let Some(&idx) = open.get(&(key.clone(), exception)) {
                let existing = &mut folded[idx].2;
                let within = existing
                    .last_seen
                    .checked_add(suppress)
                    .is_ok_and(|limit| alert.first_seen <= limit)
                    && alert
                        .last_seen
                        .checked_add(suppress)
                        .is_ok_and(|limit| existing.first_seen <= limit);
                if within {
                    existing.absorb(alert);
                    outcome.folded += 1;
                    continue;
                }
            }
            open.insert((key.clone(), exception), folded.len());
            folded.push((key, exception, alert.clone()));
        }
        let mut tx = self.pool().begin().await?;
        for (key, exception, alert) in &folded {
            let (key, exception) = (key.clone(), *exception);
            let since = alert.first_seen.saturating_sub(suppress).unwrap_or(alert.first_seen);
            let existing = sqlx::query(
                "SELECT * FROM alerts WHERE dedup_key = ? AND last_seen >= ? AND status != 'closed'
                 AND exception_id IS ? ORDER BY id DESC LIMIT 1",
            )
            .bind(&key)
            .bind(micros(since))
            .bind(exception)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = existing {
                let mut stored = alert_row(&row)?;
                stored.alert.absorb(alert);
                sqlx::query(
                    "UPDATE alerts SET count = ?, first_seen = ?, last_seen = ?, evidence = ?,
                     entities = ?, updated_at = ? WHERE id = ?",
                )
                .bind(i64::try_from(stored.alert.count).unwrap_or(i64::MAX))
                .bind(micros(stored.alert.first_seen))
                .bind(micros(stored.alert.last_seen))
                .bind(json(&stored.alert.evidence))
                .bind(json(&stored.alert.entities))
                .bind(micros(alert.detected_at))
                .bind(stored.id)
                .execute(&mut *tx)
                .await?;
                outcome.folded += 1;
            } else {
                sqlx::query(
                    "INSERT INTO alerts (dedup_key, rule_id, rule_title, kind, severity, severity_rank,
                     attack, grp, summary, entities, evidence, count, first_seen, last_seen,
                     detected_at, updated_at, status, exception_id)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?)",
                )
                .bind(&key)
                .bind(&alert.rule_id)
                .bind(&alert.rule_title)
                .bind(alert.kind.as_str())
                .bind(alert.severity.as_str())
                .bind(severity_rank(alert.severity))
                .bind(json(&alert.attack))
                .bind(&alert.group)
                .bind(&alert.summary)
                .bind(json(&alert.entities))
                .bind(json(&alert.evidence))
                .bind(i64::try_from(alert.count).unwrap_or(i64::MAX))
                .bind(micros(alert.first_seen))
                .bind(micros(alert.last_seen))
                .bind(micros(alert.detected_at))
                .bind(micros(alert.detected_at))
                .bind(exception)
                .execute(&mut *tx)
                .await?;
                outcome.new += 1;
            }
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Lists alerts, newest detection first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn list_alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>> {
        let limit = i64::from(filter.limit.unwrap_or(100).clamp(1, 10_000));
        let rows = sqlx::query(
            "SELECT * FROM alerts
             WHERE (?1 IS NULL OR detected_at >= ?1)
               AND (?2 IS NULL OR severity_rank >= ?2)
               AND (?3 IS NULL OR rule_id = ?3)
               AND (?5 OR exception_id IS NULL)
             ORDER BY detected_at DESC, id DESC LIMIT ?4",
        )
        .bind(filter.since.map(micros))
        .bind(filter.min_severity.map(severity_rank))
        .bind(filter.rule_id.as_deref())
        .bind(limit)
        .bind(filter.include_excepted)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(alert_row).collect()
    }

    /// One alert by id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn alert(&self, id: i64) -> Result<Option<StoredAlert>> {
        let row = sqlx::query("SELECT * FROM alerts WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(alert_row).transpose()
    }

    /// The keys of the rules, correlations and detectors switched off.
    ///
    /// # Errors
    /// Database errors.
    pub async fn disabled_rules(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT rule_id FROM disabled_rules ORDER BY rule_id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(|row| row.try_get("rule_id").map_err(Error::from)).collect()
    }

    /// Switches a rule off (`enabled` false) or back on; `actor` goes to the audit log.
    /// Returns false when nothing changed.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty id; database errors.
    pub async fn set_rule_enabled(
        &self,
        rule_id: &str,
        enabled: bool,
        actor: &str,
    ) -> Result<bool> {
        let rule_id = rule_id.trim();
        if rule_id.is_empty() || rule_id.len() > 512 {
            return Err(Error::Invalid("a rule id must be 1 to 512 characters".into()));
        }
        let changed = if enabled {
            sqlx::query("DELETE FROM disabled_rules WHERE rule_id = ?")
                .bind(rule_id)
                .execute(self.pool())
                .await?
                .rows_affected()
        } else {
            sqlx::query("INSERT OR IGNORE INTO disabled_rules (rule_id, disabled_at, actor) VALUES (?, ?, ?)")
                .bind(rule_id)
                .bind(Timestamp::now().to_string())
                .bind(actor)
                .execute(self.pool())
                .await?
                .rows_affected()
        };
        let action = if enabled { "rule.enable" } else { "rule.disable" };
        self.audit(
            actor,
            action,
            serde_json::json!({ "rule_id": rule_id, "changed": changed > 0 }),
        )
        .await?;
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use palisade_detect::{Alert, AlertKind, Entities, Severity};

    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).expect("time")
    }

    fn alert(rule: &str, user: &str, seconds: i64, id: u64) -> Alert {
        let mut entities = Entities::default();
        entities.users.insert(user.to_owned());
        Alert {
            rule_id: rule.to_owned(),
            rule_title: format!("Rule {rule}"),
            kind: AlertKind::Sigma,
            severity: Severity::High,
            attack: vec!["T1110".to_owned()],
            group: String::new(),
            summary: "s".to_owned(),
            entities,
            evidence: vec![id],
            count: 1,
            first_seen: at(seconds),
            last_seen: at(seconds),
            detected_at: at(seconds),
        }
    }

    #[tokio::test]
    async fn alerts_fold_within_the_suppression_window_and_survive_reopening() {
        let dir = tempfile::tempdir().expect("tmp");
        let window = SignedDuration::from_secs(600);
        {
            let db = StateDb::open(dir.path()).await.expect("open");
            let first = db
                .record_alerts(&[alert("r1", "alice", 0, 1), alert("r1", "bob", 10, 2)], window)
                .await
                .expect("record");
            assert_eq!(first, Recorded { new: 2, folded: 0, excepted: 0 });
            // alice again 5 minutes later: folded; 20 minutes after that: a new alert.
            let second = db
                .record_alerts(
                    &[alert("r1", "alice", 300, 3), alert("r2", "alice", 300, 4)],
                    window,
                )
                .await
                .expect("record");
            assert_eq!(second, Recorded { new: 1, folded: 1, excepted: 0 });
        }
        let db = StateDb::open(dir.path()).await.expect("reopen");
        let later =
            db.record_alerts(&[alert("r1", "alice", 1500, 5)], window).await.expect("record");
        assert_eq!(later, Recorded { new: 1, folded: 0, excepted: 0 });
        let all = db.list_alerts(&AlertFilter::default()).await.expect("list");
        assert_eq!(all.len(), 4);
        let folded = all
            .iter()
            .find(|stored| stored.alert.rule_id == "r1" && stored.alert.evidence.contains(&1))
            .expect("alice's first alert");
        assert_eq!(folded.alert.count, 2);
        assert_eq!(folded.alert.evidence, [1, 3]);
        assert_eq!((folded.alert.first_seen, folded.alert.last_seen), (at(0), at(300)));
        let only_r2 = db
            .list_alerts(&AlertFilter { rule_id: Some("r2".into()), ..AlertFilter::default() })
            .await
            .expect("list");
        assert_eq!(only_r2.len(), 1);
        let recent = db
            .list_alerts(&AlertFilter { since: Some(at(1000)), ..AlertFilter::default() })
            .await
            .expect("list");
        assert_eq!(recent.len(), 1);
        assert_eq!(db.alert(recent[0].id).await.expect("get").expect("exists"), recent[0]);
    }

    #[tokio::test]
    async fn a_batch_folds_in_memory_before_it_is_written() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = StateDb::open(dir.path()).await.expect("open");
        let window = SignedDuration::from_secs(600);
        let batch: Vec<Alert> = (0..50)
            .map(|n| alert("r1", if n % 2 == 0 { "alice" } else { "bob" }, n, n as u64 + 1))
            .chain([alert("r1", "alice", 5000, 99)])
            .collect();
        let outcome = db.record_alerts(&batch, window).await.expect("record");
        assert_eq!(outcome, Recorded { new: 3, folded: 48, excepted: 0 });
        let all = db.list_alerts(&AlertFilter::default()).await.expect("list");
        let counts: Vec<u64> = all.iter().map(|stored| stored.alert.count).collect();
        assert_eq!(counts.iter().sum::<u64>(), 51);
        let alice = all
            .iter()
            .find(|stored| stored.alert.evidence.first() == Some(&1))
            .expect("alice's first alert");
        assert_eq!((alice.alert.count, alice.alert.last_seen), (25, at(48)));
    }

    #[tokio::test]
    async fn excepted_alerts_are_kept_apart_and_hidden_by_default() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = StateDb::open(dir.path()).await.expect("open");
        let window = SignedDuration::from_secs(600);
        let made = db
            .add_exception(
                &crate::NewException {
                    rule_id: "r1".into(),
                    entity: crate::EntityKind::User,
                    value: "svc_backup".into(),
                    owner: "soc".into(),
                    reason: "nightly job".into(),
                    expires_at: Timestamp::now()
                        .checked_add(SignedDuration::from_hours(1))
                        .expect("time"),
                },
                "t",
            )
            .await
            .expect("add");
        let outcome = db
            .record_alerts(&[alert("r1", "svc_backup", 0, 1), alert("r1", "alice", 0, 2)], window)
            .await
            .expect("record");
        assert_eq!(outcome, Recorded { new: 2, folded: 0, excepted: 1 });
        let listed = db.list_alerts(&AlertFilter::default()).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert!(listed[0].alert.entities.users.contains("alice"));
        let all = db
            .list_alerts(&AlertFilter { include_excepted: true, ..AlertFilter::default() })
            .await
            .expect("list");
        assert_eq!(all.len(), 2);
        assert!(all.iter().any(|stored| stored.exception_id == Some(made.id)));
        // Revoked: the next alert for the service account is listed again, as a new alert
        // (not folded into the excepted one).
        assert!(db.revoke_exception(made.id, "t").await.expect("revoke"));
        let outcome =
            db.record_alerts(&[alert("r1", "svc_backup", 60, 3)], window).await.expect("record");
        assert_eq!(outcome, Recorded { new: 1, folded: 0, excepted: 0 });
        assert_eq!(db.list_alerts(&AlertFilter::default()).await.expect("list").len(), 2);
    }

    #[tokio::test]
    async fn rules_switch_off_and_on_with_an_audit_trail() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = StateDb::open(dir.path()).await.expect("open");
        assert!(db.set_rule_enabled("abc", false, "tester").await.expect("disable"));
        assert!(!db.set_rule_enabled("abc", false, "tester").await.expect("again"));
        assert_eq!(db.disabled_rules().await.expect("list"), ["abc"]);
        assert!(db.set_rule_enabled("abc", true, "tester").await.expect("enable"));
        assert!(db.disabled_rules().await.expect("list").is_empty());
        let log = db.audit_log(10).await.expect("log");
        assert_eq!(log.iter().filter(|entry| entry.action.starts_with("rule.")).count(), 3);
        assert!(db.set_rule_enabled(" ", false, "tester").await.is_err());
    }
}
