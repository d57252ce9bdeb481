//! Roles and what each may do. A token has exactly one role; roles are fixed sets of
//! permissions so that an admin can reason about them without a policy language.

use std::fmt;
use std::str::FromStr;

/// Something a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Send events (HTTP ingest, `_bulk`, HEC).
    Ingest,
    /// Run queries and read events, alerts and statistics.
    Read,
    /// Manage tokens, settings and retention.
    Admin,
}

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Hunting and triage: read, query (and, later, work alerts and incidents).
    Analyst,
    /// Read-only dashboards and reports.
    Viewer,
    /// Log shippers: send events, nothing else.
    Ingest,
}

impl Role {
    /// Every role, for help texts.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Viewer, Role::Ingest];

    /// Whether this role may do `permission`.
    #[must_use]
    pub fn allows(self, permission: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Analyst | Role::Viewer => permission == Permission::Read,
            Role::Ingest => permission == Permission::Ingest,
        }
    }

    /// The role's name as stored and typed.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
            Role::Ingest => "ingest",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = crate::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == text).ok_or_else(|| {
            crate::Error::Invalid(format!(
                "unknown role `{text}`; roles are admin, analyst, viewer, ingest"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_only_their_permissions() {
        assert!(Role::Admin.allows(Permission::Admin));
        assert!(Role::Analyst.allows(Permission::Read));
        assert!(!Role::Analyst.allows(Permission::Ingest));
        assert!(!Role::Analyst.allows(Permission::Admin));
        assert!(!Role::Viewer.allows(Permission::Ingest));
        assert!(Role::Ingest.allows(Permission::Ingest));
        assert!(!Role::Ingest.allows(Permission::Read));
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().expect("round trip"), role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
