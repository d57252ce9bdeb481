//! API errors: a status code and a JSON body `{"error": "..."}` that says what to do.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// An error answer of the API.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u32>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after: None }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {error}"))
    }

    /// A "come back later" answer with `Retry-After`.
    pub(crate) fn busy(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after: Some(1) }
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<palisade_store::Error> for ApiError {
    fn from(error: palisade_store::Error) -> Self {
        match error {
            palisade_store::Error::InvalidQuery(_) => Self::bad_request(error.to_string()),
            palisade_store::Error::QueryLimit(_) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
            }
            other => Self::internal(other),
        }
    }
}

impl From<palisade_state::Error> for ApiError {
    fn from(error: palisade_state::Error) -> Self {
        match error {
            palisade_state::Error::Invalid(message) => Self::bad_request(message),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, axum::Json(serde_json::json!({ "error": self.message }))).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
