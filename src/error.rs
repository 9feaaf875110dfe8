//! The service's one error type and its one mapping to gRPC status codes.
//!
//! Caller-fixable failures are variants of their own; everything unexpected is
//! [`Error::Internal`], which is logged in full and shown to the client as a bare "internal
//! error", so that no SQL or driver text ever leaves the service.

use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::Role;

/// Everything an RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fields of the request are malformed or out of bounds. Becomes INVALID_ARGUMENT with a
    /// `BadRequest` detail naming each field.
    #[error("invalid argument: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// A named resource does not exist. Becomes NOT_FOUND; the message names the resource.
    #[error("{resource} not found")]
    NotFound {
        /// The resource name that was looked up, e.g. `claims/…`.
        resource: String,
    },
    /// The request conflicts with a resource that exists. Becomes ALREADY_EXISTS.
    #[error("{0}")]
    AlreadyExists(String),
    /// The request raced another change, e.g. a stale etag. Becomes ABORTED: re-read and retry.
    #[error("{0}")]
    Aborted(String),
    /// The call carries no valid API key. Becomes UNAUTHENTICATED.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The caller's key is valid but its role is too low. Becomes PERMISSION_DENIED.
    #[error("this call needs the {needed} role; the caller's key has the {held} role")]
    PermissionDenied {
        /// The least role the call needs.
        needed: Role,
        /// The role of the caller's key.
        held: Role,
    },
    /// PostgreSQL cannot be reached. Becomes UNAVAILABLE, which clients may retry with backoff.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a bug or an unexpected failure. Becomes INTERNAL with no detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// One bad field of a request: which one (a path such as `claim.quotes[1].span`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's path in the request message, in proto field names.
    pub field: String,
    /// What is wrong with it, in words a client developer can act on.
    pub description: String,
}

fn describe(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// An INVALID_ARGUMENT for one field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }])
    }

    /// A NOT_FOUND for a resource name.
    pub fn not_found(resource: impl Into<String>) -> Self {
        Error::NotFound {
            resource: resource.into(),
        }
    }

    /// The gRPC code this error becomes; the single place that decides it.
    pub fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::NotFound { .. } => Code::NotFound,
            Error::AlreadyExists(_) => Code::AlreadyExists,
            Error::Aborted(_) => Code::Aborted,
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::PermissionDenied { .. } => Code::PermissionDenied,
            Error::Unavailable(_) => Code::Unavailable,
            Error::Internal(_) => Code::Internal,
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                for v in &violations {
                    details.add_bad_request_violation(v.field.clone(), v.description.clone());
                }
                tonic::Status::with_error_details(
                    Code::InvalidArgument,
                    format!("invalid argument: {}", describe(&violations)),
                    details,
                )
            }
            Error::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                tonic::Status::unavailable("the database is unavailable; retry later")
            }
            Error::Internal(source) => {
                tracing::error!(error = ?source, "internal error");
                tonic::Status::internal("internal error")
            }
            other => tonic::Status::new(other.code(), other.to_string()),
        }
    }
}

impl From<sqlx::Error> for Error {
    /// Connection failures become [`Error::Unavailable`]; everything else is unexpected, since
    /// the service checks its input before it reaches SQL.
    fn from(error: sqlx::Error) -> Self {
        if is_connection_error(&error) {
            Error::Unavailable(error)
        } else {
            Error::Internal(anyhow::Error::new(error).context("database query failed"))
        }
    }
}

/// Whether a database error means "cannot reach PostgreSQL" rather than "the query failed".
fn is_connection_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // class 08: connection exception; 57P01..57P03: shutting down or starting up
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// Attaches a field path to a domain parse failure: `Title::parse(s).field("article.title")?`.
pub trait FieldContext<T> {
    /// Turns a domain rejection into an INVALID_ARGUMENT naming `field`.
    fn field(self, field: impl Into<String>) -> Result<T, Error>;
}

impl<T> FieldContext<T> for Result<T, String> {
    fn field(self, field: impl Into<String>) -> Result<T, Error> {
        self.map_err(|description| Error::invalid(field, description))
    }
}
