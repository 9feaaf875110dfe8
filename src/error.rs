//! The service's one error type and its one mapping to gRPC status codes.
//!
//! Caller-fixable failures are variants of their own; everything unexpected is
//! [`Error::Internal`], which is logged in full and shown to the client as a bare "internal
//! error", so that no SQL or driver text ever leaves the service.

use std::collections::HashMap;
use std::time::Duration;

use tonic::Code;
use tonic_types::{ErrorDetails, StatusExt};

use crate::domain::{Resource, Role};

/// The `domain` of every `google.rpc.ErrorInfo` the service sends.
pub const ERROR_DOMAIN: &str = "claim-registry.factcheck.v1";

/// How long a client should wait before retrying a call that failed for a passing reason.
const RETRY_AFTER_UNAVAILABLE: Duration = Duration::from_secs(1);
/// How long to wait before retrying a call that lost a race (re-reading first where needed).
const RETRY_AFTER_ABORTED: Duration = Duration::from_millis(100);

/// Everything an RPC can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Fields of the request are malformed or out of bounds. Becomes INVALID_ARGUMENT with a
    /// `BadRequest` detail naming each field.
    #[error("invalid argument: {}", describe(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// A named resource does not exist. Becomes NOT_FOUND with a `ResourceInfo` detail.
    #[error("{resource}{} not found", in_field(.field))]
    NotFound {
        /// The resource's protobuf type, e.g. `factcheck.v1.Claim`.
        resource_type: &'static str,
        /// The resource name that was looked up, e.g. `claims/…`.
        resource: String,
        /// The request field that named it, when it was not the request's `name`.
        field: Option<String>,
    },
    /// The request conflicts with a resource that exists. Becomes ALREADY_EXISTS.
    #[error("{0}")]
    AlreadyExists(String),
    /// The resource is not in the state the request needs, and retrying will not change that
    /// (a claim with its most quotes, a suggestion decided before). Becomes
    /// FAILED_PRECONDITION with a `PreconditionFailure` detail naming the subject.
    #[error("{description}")]
    FailedPrecondition {
        /// A short type for the failed condition, e.g. `QUOTE_LIMIT`.
        kind: &'static str,
        /// What the condition is about: a resource name, or a request field.
        subject: String,
        /// What is wrong, in a sentence.
        description: String,
    },
    /// The request raced another change, e.g. a stale etag. Becomes ABORTED with a `RetryInfo`:
    /// re-read and retry.
    #[error("{0}")]
    Aborted(String),
    /// The call carries no valid API key. Becomes UNAUTHENTICATED with an `ErrorInfo` saying
    /// why and which role the call needs.
    #[error("{}", .problem.message())]
    Unauthenticated {
        /// What is wrong with the credentials.
        problem: Credentials,
        /// The least role the call needs.
        needed: Role,
    },
    /// The caller's key is valid but its role is too low. Becomes PERMISSION_DENIED with an
    /// `ErrorInfo` naming both roles.
    #[error("this call needs the {needed} role; the caller's key has the {held} role")]
    PermissionDenied {
        /// The least role the call needs.
        needed: Role,
        /// The role of the caller's key.
        held: Role,
    },
    /// A part of the service is not ready yet (the search index is being built), or is going
    /// away (the server is stopping and ends its event streams). Becomes UNAVAILABLE with a
    /// `RetryInfo`.
    #[error("{0}")]
    NotReady(String),
    /// An event stream's cursor is older than the history the registry keeps: resuming from it
    /// would miss changes. Becomes FAILED_PRECONDITION with an `ErrorInfo` (reason
    /// `CURSOR_TOO_OLD`, the cursor and the oldest one accepted) and a `PreconditionFailure` on
    /// `cursor`: the client must re-read the state it follows, then watch from a fresh cursor,
    /// as etcd's compaction and Kubernetes' "too old resource version" ask.
    #[error(
        "the cursor {cursor} is older than the retained history, which starts after cursor          {oldest}: changes after it were pruned; re-read the state you follow, then watch from          a fresh cursor"
    )]
    CursorTooOld {
        /// The cursor the client gave, or its stream had reached.
        cursor: i64,
        /// The oldest cursor accepted: the stream resumes after it with the oldest change kept.
        oldest: i64,
    },
    /// The server is at a limit of its own (the event streams one replica serves). Becomes
    /// RESOURCE_EXHAUSTED with a `RetryInfo`.
    #[error("{0}")]
    Exhausted(String),
    /// PostgreSQL cannot be reached. Becomes UNAVAILABLE with a `RetryInfo`: retry with backoff.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a bug or an unexpected failure. Becomes INTERNAL with no detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What is wrong with a call's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// No `authorization` metadata.
    Missing,
    /// `authorization` is not `Bearer <api key>`.
    Malformed,
    /// No active key has that secret: it never existed or was revoked.
    Unknown,
}

impl Credentials {
    /// The `ErrorInfo` reason: a constant a client can branch on.
    pub fn reason(self) -> &'static str {
        match self {
            Credentials::Missing => "CREDENTIALS_MISSING",
            Credentials::Malformed => "CREDENTIALS_MALFORMED",
            Credentials::Unknown => "API_KEY_INVALID",
        }
    }

    /// What a person reads.
    pub fn message(self) -> &'static str {
        match self {
            Credentials::Missing => {
                "missing credentials: send the metadata `authorization: Bearer <api key>`"
            }
            Credentials::Malformed => {
                "malformed credentials: the authorization metadata must be `Bearer <api key>` in ASCII"
            }
            Credentials::Unknown => "the API key is unknown or revoked",
        }
    }
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

fn in_field(field: &Option<String>) -> String {
    field
        .as_ref()
        .map(|f| format!(" ({f})"))
        .unwrap_or_default()
}

impl Error {
    /// An INVALID_ARGUMENT for one field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }])
    }

    /// A NOT_FOUND for a resource the request named in its `name` or `parent`.
    pub fn not_found<R: Resource>(name: &R) -> Self {
        Error::NotFound {
            resource_type: R::TYPE,
            resource: name.to_string(),
            field: None,
        }
    }

    /// A NOT_FOUND for a resource a request field refers to, e.g. `claim.quotes[0].article`.
    pub fn not_found_in<R: Resource>(name: &R, field: impl Into<String>) -> Self {
        Error::NotFound {
            resource_type: R::TYPE,
            resource: name.to_string(),
            field: Some(field.into()),
        }
    }

    /// The gRPC code this error becomes; the single place that decides it.
    pub fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::NotFound { .. } => Code::NotFound,
            Error::AlreadyExists(_) => Code::AlreadyExists,
            Error::FailedPrecondition { .. } | Error::CursorTooOld { .. } => {
                Code::FailedPrecondition
            }
            Error::Exhausted(_) => Code::ResourceExhausted,
            Error::Aborted(_) => Code::Aborted,
            Error::Unauthenticated { .. } => Code::Unauthenticated,
            Error::PermissionDenied { .. } => Code::PermissionDenied,
            Error::Unavailable(_) | Error::NotReady(_) => Code::Unavailable,
            Error::Internal(_) => Code::Internal,
        }
    }

    /// The structured details a client can act on without parsing the message.
    fn details(&self) -> ErrorDetails {
        match self {
            Error::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                for v in violations {
                    details.add_bad_request_violation(v.field.clone(), v.description.clone());
                }
                details
            }
            Error::NotFound {
                resource_type,
                resource,
                field,
            } => ErrorDetails::with_resource_info(
                *resource_type,
                resource.clone(),
                "",
                match field {
                    Some(field) => format!("named by {field}; no such resource exists"),
                    None => "no such resource exists".to_owned(),
                },
            ),
            Error::Unauthenticated { problem, needed } => ErrorDetails::with_error_info(
                problem.reason(),
                ERROR_DOMAIN,
                HashMap::from([("required_role".to_owned(), needed.to_string())]),
            ),
            Error::PermissionDenied { needed, held } => ErrorDetails::with_error_info(
                "ROLE_TOO_LOW",
                ERROR_DOMAIN,
                HashMap::from([
                    ("required_role".to_owned(), needed.to_string()),
                    ("key_role".to_owned(), held.to_string()),
                ]),
            ),
            Error::FailedPrecondition {
                kind,
                subject,
                description,
            } => ErrorDetails::with_precondition_failure(vec![
                tonic_types::PreconditionViolation::new(*kind, subject, description),
            ]),
            Error::CursorTooOld { cursor, oldest } => {
                let mut details = ErrorDetails::with_error_info(
                    "CURSOR_TOO_OLD",
                    ERROR_DOMAIN,
                    HashMap::from([
                        ("cursor".to_owned(), cursor.to_string()),
                        ("oldest_cursor".to_owned(), oldest.to_string()),
                        (
                            "action".to_owned(),
                            "re-read the state you follow, then watch from a fresh cursor"
                                .to_owned(),
                        ),
                    ]),
                );
                details.add_precondition_failure_violation(
                    "CURSOR_TOO_OLD",
                    "cursor",
                    format!("changes after cursor {cursor} were pruned; the oldest cursor kept is {oldest}"),
                );
                details
            }
            Error::Exhausted(_) => ErrorDetails::with_retry_info(Some(RETRY_AFTER_UNAVAILABLE)),
            Error::Aborted(_) => ErrorDetails::with_retry_info(Some(RETRY_AFTER_ABORTED)),
            Error::Unavailable(_) | Error::NotReady(_) => {
                ErrorDetails::with_retry_info(Some(RETRY_AFTER_UNAVAILABLE))
            }
            Error::AlreadyExists(_) | Error::Internal(_) => ErrorDetails::new(),
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        let code = error.code();
        let message = match &error {
            Error::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                "the database is unavailable; retry later".to_owned()
            }
            Error::Internal(source) => {
                tracing::error!(error = ?source, "internal error");
                return tonic::Status::internal("internal error");
            }
            other => other.to_string(),
        };
        tonic::Status::with_error_details(code, message, error.details())
    }
}

impl From<sqlx::Error> for Error {
    /// Connection failures become [`Error::Unavailable`]; everything else is unexpected, since
    /// the service checks its input before it reaches SQL.
    fn from(error: sqlx::Error) -> Self {
        if is_connection_error(&error) {
            crate::metrics::database_error("unavailable");
            Error::Unavailable(error)
        } else {
            crate::metrics::database_error("internal");
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

/// Every bad field of one request, collected so that a single reply names them all instead of
/// the first alone. Each check hands back the parsed value, or `None` when the field was bad.
#[derive(Debug, Default)]
pub struct Violations {
    found: Vec<FieldViolation>,
    /// A failure that is not a bad field; it wins over the violations.
    other: Option<Error>,
}

impl Violations {
    /// Records a domain rejection of `field`.
    pub fn check<T>(&mut self, result: Result<T, String>, field: impl Into<String>) -> Option<T> {
        self.take(result.field(field))
    }

    /// Records the violations of a decoded part of the request.
    pub fn take<T>(&mut self, result: Result<T, Error>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(Error::InvalidArgument(violations)) => {
                self.found.extend(violations);
                None
            }
            Err(other) => {
                self.other.get_or_insert(other);
                None
            }
        }
    }

    /// Records a violation found without parsing.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.found.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Whether no field was bad so far.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty() && self.other.is_none()
    }

    /// The error naming every bad field, or `Ok` when there was none.
    pub fn finish(self) -> Result<(), Error> {
        match (self.other, self.found.is_empty()) {
            (Some(other), _) => Err(other),
            (None, true) => Ok(()),
            (None, false) => Err(Error::InvalidArgument(self.found)),
        }
    }

    /// The error naming every bad field; for the arm of a `match` where some value is missing,
    /// which happens only after a violation was recorded.
    pub fn into_error(self) -> Error {
        match self.finish() {
            Err(error) => error,
            Ok(()) => Error::Internal(anyhow::anyhow!(
                "a decoded value is missing although no field was refused"
            )),
        }
    }
}
