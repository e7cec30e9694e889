//! A refused request: the HTTP status and the reason, as a response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::metrics::Metrics;

/// Why a request was refused, and the HTTP status that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    /// The error code a transport with error messages sends (`unauthorized`, `rooms_off`,
    /// `bad_room`, ...).
    pub(crate) code: &'static str,
    /// What the client is told.
    pub(crate) why: String,
}

impl Refusal {
    /// A refusal.
    pub(crate) fn new(status: StatusCode, code: &'static str, why: impl Into<String>) -> Self {
        Refusal {
            status,
            code,
            why: why.into(),
        }
    }

    /// Counts it in `livepose_rejected_connections_total` (connections and requests refused
    /// by limits, token or origin).
    pub(crate) fn counted(self, metrics: &Metrics) -> Self {
        metrics.rejected_total.inc();
        self
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, self.why).into_response()
    }
}
