//! Token authentication: `Authorization: Bearer TOKEN` (or `Splunk TOKEN`, as HEC clients
//! send it), checked against the state database, then the role against the permission the
//! endpoint needs.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use palisade_state::{Permission, TokenInfo};

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) TokenInfo);

impl Caller {
    /// Refuses with 403 unless the caller's role grants `permission`.
    pub(crate) fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.0.role.allows(permission) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "the token `{}` has the role {}, which may not {}",
                    self.0.name,
                    self.0.role,
                    match permission {
                        Permission::Ingest => "send events",
                        Permission::Read => "read or query",
                        Permission::Admin => "administer",
                    }
                ),
            ))
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, message);
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| unauthorized("missing Authorization header: send `Authorization: Bearer TOKEN` (create one with `palisade token create`)"))?
            .to_str()
            .map_err(|_| unauthorized("the Authorization header is not text"))?;
        // `Splunk` is how HEC clients send it, `ApiKey` how Elastic clients do.
        let secret = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("Splunk "))
            .or_else(|| header.strip_prefix("ApiKey "))
            .map(str::trim)
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer TOKEN`"))?;
        match state.db.authenticate(secret).await? {
            Some(info) => Ok(Caller(info)),
            None => Err(unauthorized("unknown or revoked token")),
        }
    }
}
