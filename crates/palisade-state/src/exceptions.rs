//! Exceptions: known false positives that analysts tune out without editing rules.
//!
//! An exception names a rule by id (or `*` for every rule) and one entity (a user, a host, an
//! address or network, a domain or domain suffix). It has an owner, a reason and an expiry,
//! so that nothing is tuned out forever by accident. Because it refers to the rule's id and
//! not to its text, it survives rule updates. An alert it covers is still recorded, with the
//! exception's id, and left out of the default alert list: nothing detected is lost.

use std::net::IpAddr;

use jiff::Timestamp;
use palisade_detect::Alert;
use sqlx::Row as _;

use crate::StateDb;
use crate::error::{Error, Result};

/// Which entity an exception is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    /// A user name (case-insensitive).
    User,
    /// A host name (case-insensitive).
    Host,
    /// An address, or a network in CIDR notation.
    Ip,
    /// A domain, or `*.suffix` for it and every subdomain.
    Domain,
}

impl EntityKind {
    /// The lower-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Host => "host",
            Self::Ip => "ip",
            Self::Domain => "domain",
        }
    }

    /// Parses the lower-case name.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "user" => Self::User,
            "host" => Self::Host,
            "ip" => Self::Ip,
            "domain" => Self::Domain,
            _ => return None,
        })
    }
}

/// A new exception, as an analyst asks for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewException {
    /// The rule's id, or `*` for every rule.
    pub rule_id: String,
    /// Which entity.
    pub entity: EntityKind,
    /// The entity's value (a CIDR network for `ip`, `*.suffix` for `domain`).
    pub value: String,
    /// Who answers for it.
    pub owner: String,
    /// Why the alerts it covers are not worth anyone's time.
    pub reason: String,
    /// When it stops applying.
    pub expires_at: Timestamp,
}

/// A stored exception.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Exception {
    /// Its id.
    pub id: i64,
    /// The rule's id, or `*`.
    pub rule_id: String,
    /// Which entity.
    pub entity: EntityKind,
    /// The value.
    pub value: String,
    /// Who answers for it.
    pub owner: String,
    /// Why.
    pub reason: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it stops applying.
    pub expires_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

impl Exception {
    /// True while it applies.
    #[must_use]
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }

    /// True when it covers `alert`: same rule (or `*`), and every entity of its kind in the
    /// alert matches its value. An alert that also involves another user than the excepted
    /// one is not covered: the exception must not hide what it was not written for.
    #[must_use]
    pub fn covers(&self, alert: &Alert) -> bool {
        if self.rule_id != "*" && self.rule_id != alert.rule_id {
            return false;
        }
        let entities = &alert.entities;
        let values = match self.entity {
            EntityKind::User => &entities.users,
            EntityKind::Host => &entities.hosts,
            EntityKind::Ip => &entities.ips,
            EntityKind::Domain => &entities.domains,
        };
        !values.is_empty() && values.iter().all(|value| self.matches(value))
    }

    fn matches(&self, value: &str) -> bool {
        match self.entity {
            EntityKind::User | EntityKind::Host => value.eq_ignore_ascii_case(&self.value),
            EntityKind::Ip => match (value.parse::<IpAddr>(), self.value.parse::<ipnet::IpNet>()) {
                (Ok(address), Ok(network)) => network.contains(&address),
                (Ok(address), Err(_)) => {
                    self.value.parse::<IpAddr>().is_ok_and(|own| own == address)
                }
                _ => false,
            },
            EntityKind::Domain => {
                let value = value.trim_end_matches('.').to_ascii_lowercase();
                let own = self.value.to_ascii_lowercase();
                match own.strip_prefix("*.") {
                    Some(suffix) => value == suffix || value.ends_with(&format!(".{suffix}")),
                    None => value == own,
                }
            }
        }
    }
}

fn check(new: &NewException) -> Result<()> {
    let invalid = |message: &str| Err(Error::Invalid(message.to_owned()));
    let text_ok = |text: &str, max: usize| {
        !text.trim().is_empty() && text.len() <= max && !text.chars().any(char::is_control)
    };
    if !text_ok(&new.rule_id, 512) {
        return invalid("the rule id must be 1 to 512 characters (or * for every rule)");
    }
    if !text_ok(&new.value, 512) {
        return invalid("the value must be 1 to 512 characters");
    }
    if !text_ok(&new.owner, 128) {
        return invalid("an exception needs an owner (1 to 128 characters)");
    }
    if !text_ok(&new.reason, 4096) {
        return invalid("an exception needs a reason (1 to 4096 characters)");
    }
    if new.entity == EntityKind::Ip
        && new.value.parse::<ipnet::IpNet>().is_err()
        && new.value.parse::<IpAddr>().is_err()
    {
        return invalid("an ip exception needs an address or a CIDR network");
    }
    if new.expires_at <= Timestamp::now() {
        return invalid("the expiry must be in the future");
    }
    Ok(())
}

fn exception_row(row: &sqlx::sqlite::SqliteRow) -> Result<Exception> {
    let entity: String = row.try_get("entity")?;
    let time = |micros: i64| Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH);
    let revoked: Option<i64> = row.try_get("revoked_at")?;
    Ok(Exception {
        id: row.try_get("id")?,
        rule_id: row.try_get("rule_id")?,
        entity: EntityKind::parse(&entity).unwrap_or(EntityKind::User),
        value: row.try_get("value")?,
        owner: row.try_get("owner")?,
        reason: row.try_get("reason")?,
        created_at: time(row.try_get("created_at")?),
        expires_at: time(row.try_get("expires_at")?),
        revoked_at: revoked.map(time),
    })
}

impl StateDb {
    /// Adds an exception; `actor` goes to the audit log.
    ///
    /// # Errors
    /// [`Error::Invalid`] for missing owner or reason, a past expiry, a bad address; database
    /// errors.
    pub async fn add_exception(&self, new: &NewException, actor: &str) -> Result<Exception> {
        check(new)?;
        let now = Timestamp::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO exceptions (rule_id, entity, value, owner, reason, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(new.rule_id.trim())
        .bind(new.entity.as_str())
        .bind(new.value.trim())
        .bind(new.owner.trim())
        .bind(new.reason.trim())
        .bind(now.as_microsecond())
        .bind(new.expires_at.as_microsecond())
        .fetch_one(self.pool())
        .await?;
        self.audit(
            actor,
            "exception.add",
            serde_json::json!({
                "id": id, "rule_id": new.rule_id, "entity": new.entity, "value": new.value,
                "owner": new.owner, "reason": new.reason, "expires_at": new.expires_at.to_string(),
            }),
        )
        .await?;
        self.exceptions()
            .await?
            .into_iter()
            .find(|exception| exception.id == id)
            .ok_or_else(|| Error::Invalid(format!("exception {id} vanished")))
    }

    /// Every exception, newest first, expired and revoked ones included.
    ///
    /// # Errors
    /// Database errors.
    pub async fn exceptions(&self) -> Result<Vec<Exception>> {
        let rows =
            sqlx::query("SELECT * FROM exceptions ORDER BY id DESC").fetch_all(self.pool()).await?;
        rows.iter().map(exception_row).collect()
    }

    /// The exceptions that apply now.
    ///
    /// # Errors
    /// Database errors.
    pub async fn active_exceptions(&self) -> Result<Vec<Exception>> {
        let rows =
            sqlx::query("SELECT * FROM exceptions WHERE revoked_at IS NULL AND expires_at > ?")
                .bind(Timestamp::now().as_microsecond())
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(exception_row).collect()
    }

    /// Revokes an exception; false when there was no active one with that id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn revoke_exception(&self, id: i64, actor: &str) -> Result<bool> {
        let changed =
            sqlx::query("UPDATE exceptions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
                .bind(Timestamp::now().as_microsecond())
                .bind(id)
                .execute(self.pool())
                .await?
                .rows_affected();
        self.audit(
            actor,
            "exception.revoke",
            serde_json::json!({ "id": id, "changed": changed > 0 }),
        )
        .await?;
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use palisade_detect::{AlertKind, Entities, Severity};

    use super::*;

    fn alert(rule: &str, users: &[&str], ips: &[&str], domains: &[&str]) -> Alert {
        let mut entities = Entities::default();
        entities.users.extend(users.iter().map(|v| (*v).to_owned()));
        entities.ips.extend(ips.iter().map(|v| (*v).to_owned()));
        entities.domains.extend(domains.iter().map(|v| (*v).to_owned()));
        Alert {
            rule_id: rule.to_owned(),
            rule_title: rule.to_owned(),
            kind: AlertKind::Sigma,
            severity: Severity::Medium,
            attack: vec![],
            group: String::new(),
            summary: String::new(),
            entities,
            evidence: vec![1],
            count: 1,
            first_seen: Timestamp::UNIX_EPOCH,
            last_seen: Timestamp::UNIX_EPOCH,
            detected_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn exception(rule: &str, entity: EntityKind, value: &str) -> Exception {
        Exception {
            id: 1,
            rule_id: rule.to_owned(),
            entity,
            value: value.to_owned(),
            owner: "o".into(),
            reason: "r".into(),
            created_at: Timestamp::UNIX_EPOCH,
            expires_at: Timestamp::MAX,
            revoked_at: None,
        }
    }

    #[test]
    fn exceptions_cover_only_what_they_name() {
        let backup = exception("r1", EntityKind::User, "SVC_backup");
        assert!(backup.covers(&alert("r1", &["svc_backup"], &[], &[])));
        assert!(!backup.covers(&alert("r2", &["svc_backup"], &[], &[])), "another rule");
        assert!(!backup.covers(&alert("r1", &["svc_backup", "alice"], &[], &[])), "alice too");
        assert!(!backup.covers(&alert("r1", &[], &["10.0.0.1"], &[])), "no user at all");
        let scanner = exception("*", EntityKind::Ip, "10.20.0.0/16");
        assert!(scanner.covers(&alert("any", &["x"], &["10.20.3.4"], &[])));
        assert!(!scanner.covers(&alert("any", &[], &["10.21.3.4"], &[])));
        assert!(!scanner.covers(&alert("any", &[], &["10.20.3.4", "8.8.8.8"], &[])));
        let cdn = exception("*", EntityKind::Domain, "*.example.com");
        assert!(cdn.covers(&alert("d", &[], &[], &["a.b.example.com", "example.com."])));
        assert!(!cdn.covers(&alert("d", &[], &[], &["badexample.com"])));
    }

    #[tokio::test]
    async fn exceptions_need_an_owner_a_reason_and_a_future_expiry_and_are_audited() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = StateDb::open(dir.path()).await.expect("open");
        let good = NewException {
            rule_id: "r1".into(),
            entity: EntityKind::Ip,
            value: "192.0.2.0/24".into(),
            owner: "soc-lead".into(),
            reason: "vulnerability scanner".into(),
            expires_at: Timestamp::now()
                .checked_add(jiff::SignedDuration::from_hours(24))
                .expect("time"),
        };
        for bad in [
            NewException { owner: " ".into(), ..good.clone() },
            NewException { reason: String::new(), ..good.clone() },
            NewException { value: "not-an-address".into(), ..good.clone() },
            NewException { expires_at: Timestamp::UNIX_EPOCH, ..good.clone() },
        ] {
            assert!(matches!(db.add_exception(&bad, "t").await, Err(Error::Invalid(_))), "{bad:?}");
        }
        let made = db.add_exception(&good, "t").await.expect("add");
        assert_eq!(db.active_exceptions().await.expect("active"), std::slice::from_ref(&made));
        assert!(db.revoke_exception(made.id, "t").await.expect("revoke"));
        assert!(!db.revoke_exception(made.id, "t").await.expect("again"));
        assert!(db.active_exceptions().await.expect("active").is_empty());
        assert_eq!(db.exceptions().await.expect("all").len(), 1);
        let log = db.audit_log(10).await.expect("log");
        assert_eq!(log.iter().filter(|entry| entry.action.starts_with("exception.")).count(), 3);
    }
}
