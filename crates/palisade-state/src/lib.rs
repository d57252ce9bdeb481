//! The state database: everything Palisade keeps besides events. For now API tokens with
//! their roles, the audit log of what each user did, alerts and the rules switched off;
//! incidents and intel follow. SQLite through sqlx in the embedded default, so that PostgreSQL can follow for
//! scale-out with the same queries.
#![warn(missing_docs)]

mod alerts;
mod error;
mod exceptions;
mod role;
mod tokens;

use std::path::Path;
use std::str::FromStr as _;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use alerts::{AlertFilter, Recorded, StoredAlert};
pub use error::{Error, Result};
pub use exceptions::{EntityKind, Exception, NewException};
pub use role::{Permission, Role};
pub use tokens::{AuditEntry, TokenInfo};

/// The schema, applied in order; `user_version` records how far a database has come.
const MIGRATIONS: &[&str] = &[
    r"
    CREATE TABLE tokens (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        role        TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        created_at  TEXT NOT NULL,
        revoked_at  TEXT
    );
    CREATE TABLE audit_log (
        id      INTEGER PRIMARY KEY,
        at      TEXT NOT NULL,
        actor   TEXT NOT NULL,
        action  TEXT NOT NULL,
        detail  TEXT NOT NULL
    );
    CREATE INDEX audit_log_at ON audit_log (at);
",
    r"
    CREATE TABLE alerts (
        id            INTEGER PRIMARY KEY,
        dedup_key     TEXT NOT NULL,
        rule_id       TEXT NOT NULL,
        rule_title    TEXT NOT NULL,
        kind          TEXT NOT NULL,
        severity      TEXT NOT NULL,
        severity_rank INTEGER NOT NULL,
        attack        TEXT NOT NULL,
        grp           TEXT NOT NULL,
        summary       TEXT NOT NULL,
        entities      TEXT NOT NULL,
        evidence      TEXT NOT NULL,
        count         INTEGER NOT NULL,
        first_seen    INTEGER NOT NULL,
        last_seen     INTEGER NOT NULL,
        detected_at   INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        status        TEXT NOT NULL
    );
    CREATE INDEX alerts_dedup ON alerts (dedup_key, last_seen);
    CREATE INDEX alerts_detected ON alerts (detected_at);
    CREATE TABLE disabled_rules (
        rule_id     TEXT PRIMARY KEY,
        disabled_at TEXT NOT NULL,
        actor       TEXT NOT NULL
    );
",
    r"
    CREATE TABLE exceptions (
        id          INTEGER PRIMARY KEY,
        rule_id     TEXT NOT NULL,
        entity      TEXT NOT NULL,
        value       TEXT NOT NULL,
        owner       TEXT NOT NULL,
        reason      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        revoked_at  INTEGER
    );
    ALTER TABLE alerts ADD COLUMN exception_id INTEGER REFERENCES exceptions (id);
",
];

/// A handle on the state database; cheap to clone.
#[derive(Debug, Clone)]
pub struct StateDb {
    pool: SqlitePool,
}

impl StateDb {
    /// Opens (or creates) `state.db` in the data directory and brings its schema up to date.
    ///
    /// # Errors
    /// Returns database errors.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| Error::Io { path: data_dir.to_owned(), source })?;
        let path = data_dir.join("state.db");
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        let db = Self { pool };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(&mut *conn).await?;
        let current = usize::try_from(version).unwrap_or(usize::MAX);
        if current > MIGRATIONS.len() {
            return Err(Error::NewerSchema { found: current, known: MIGRATIONS.len() });
        }
        for (idx, sql) in MIGRATIONS.iter().enumerate().skip(current) {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::raw_sql(&format!("PRAGMA user_version = {}", idx + 1)).execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
