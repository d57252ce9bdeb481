//! API tokens and the audit log.
//!
//! A token is `pal_` followed by 32 random bytes in URL-safe base64. Only its SHA-256 is
//! stored, so a copy of the database does not hand out working tokens; the secret is shown
//! once, when created.

use base64::Engine as _;
use sha2::Digest as _;
use sqlx::Row as _;

use crate::StateDb;
use crate::error::{Error, Result};
use crate::role::Role;

/// What the server knows about the caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// The token's name (who or what uses it).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// When it was created, RFC 3339.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// When, RFC 3339.
    pub at: String,
    /// Which token (or local user) did it.
    pub actor: String,
    /// What, e.g. `query`, `token.create`.
    pub action: String,
    /// Details as JSON.
    pub detail: serde_json::Value,
}

fn hash(secret: &str) -> String {
    let digest = sha2::Sha256::digest(secret.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn token_info(row: &sqlx::sqlite::SqliteRow) -> Result<TokenInfo> {
    let role: String = row.try_get("role")?;
    Ok(TokenInfo {
        name: row.try_get("name")?,
        role: role.parse()?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl StateDb {
    /// Creates a token and returns it with its secret, which is not stored and cannot be
    /// shown again.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an empty or taken name; database errors.
    pub async fn create_token(&self, name: &str, role: Role) -> Result<(TokenInfo, String)> {
        let name = name.trim();
        if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
            return Err(Error::Invalid(
                "a token name must be 1 to 128 characters without control characters".into(),
            ));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|error| Error::Random(error.to_string()))?;
        let secret =
            format!("pal_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
        let created_at = now();
        let inserted = sqlx::query(
            "INSERT INTO tokens (name, role, secret_hash, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(hash(&secret))
        .bind(&created_at)
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                return Err(Error::Invalid(format!("a token named `{name}` already exists")));
            }
            Err(error) => return Err(error.into()),
        }
        let info = TokenInfo { name: name.to_owned(), role, created_at, revoked_at: None };
        Ok((info, secret))
    }

    /// Returns the token a secret belongs to, unless it is unknown or revoked.
    ///
    /// # Errors
    /// Returns database errors.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<TokenInfo>> {
        let row = sqlx::query(
            "SELECT name, role, created_at, revoked_at FROM tokens \
             WHERE secret_hash = ? AND revoked_at IS NULL",
        )
        .bind(hash(secret))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(token_info).transpose()
    }

    /// Lists every token (secrets are not stored, so none is shown).
    ///
    /// # Errors
    /// Returns database errors.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows =
            sqlx::query("SELECT name, role, created_at, revoked_at FROM tokens ORDER BY name")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(token_info).collect()
    }

    /// Revokes a token by name; returns false when no active token has that name.
    ///
    /// # Errors
    /// Returns database errors.
    pub async fn revoke_token(&self, name: &str) -> Result<bool> {
        let done =
            sqlx::query("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")
                .bind(now())
                .bind(name)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records an action in the audit log.
    ///
    /// # Errors
    /// Returns database errors.
    pub async fn audit(&self, actor: &str, action: &str, detail: serde_json::Value) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)")
            .bind(now())
            .bind(actor)
            .bind(action)
            .bind(detail.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// The newest `limit` audit entries, newest first.
    ///
    /// # Errors
    /// Returns database errors.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows =
            sqlx::query("SELECT at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?")
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|row| {
                let detail: String = row.try_get("detail")?;
                Ok(AuditEntry {
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_authenticate_until_revoked_and_survive_reopening() {
        let dir = tempfile::tempdir().expect("tmp");
        let secret = {
            let db = StateDb::open(dir.path()).await.expect("open");
            let (info, secret) = db.create_token("shipper", Role::Ingest).await.expect("create");
            assert_eq!(info.role, Role::Ingest);
            assert!(secret.starts_with("pal_") && secret.len() > 40);
            let error = db.create_token("shipper", Role::Admin).await.expect_err("duplicate");
            assert!(error.to_string().contains("already exists"), "{error}");
            assert!(db.create_token("  ", Role::Admin).await.is_err());
            secret
        };
        let db = StateDb::open(dir.path()).await.expect("reopen");
        let found = db.authenticate(&secret).await.expect("auth").expect("known token");
        assert_eq!((found.name.as_str(), found.role), ("shipper", Role::Ingest));
        assert!(db.authenticate("pal_wrong").await.expect("auth").is_none());
        assert!(db.authenticate("").await.expect("auth").is_none());
        let stored: Vec<String> = sqlx::query_scalar("SELECT secret_hash FROM tokens")
            .fetch_all(db.pool())
            .await
            .expect("select");
        assert!(!stored.iter().any(|hash| hash.contains(&secret)), "only the hash is stored");
        assert!(db.revoke_token("shipper").await.expect("revoke"));
        assert!(!db.revoke_token("shipper").await.expect("revoke twice"));
        assert!(db.authenticate(&secret).await.expect("auth").is_none());
    }

    #[tokio::test]
    async fn the_audit_log_keeps_actions_newest_first() {
        let dir = tempfile::tempdir().expect("tmp");
        let db = StateDb::open(dir.path()).await.expect("open");
        db.audit("alice", "query", serde_json::json!({"query": "SELECT 1"})).await.expect("a");
        db.audit("bob", "token.create", serde_json::json!({"name": "x"})).await.expect("b");
        let log = db.audit_log(10).await.expect("log");
        assert_eq!(log.len(), 2);
        assert_eq!((log[0].actor.as_str(), log[0].action.as_str()), ("bob", "token.create"));
        assert_eq!(log[1].detail["query"], "SELECT 1");
    }
}
