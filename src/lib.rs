//! # claim-registry
//!
//! A gRPC service that keeps the claims made in news articles, each anchored to the exact
//! characters of the archived article that carry it, and the verdicts reviewers give them.
//!
//! # Layout
//!
//! A call travels down these layers and back:
//!
//! - [`server`]: the tonic server: our services plus health and reflection, a span per call,
//!   graceful shutdown. [`server::run`] serves on a listener until a shutdown future completes.
//! - [`api`]: the gRPC transport: the gate every call passes before it is decoded (readiness,
//!   the method's role, content type, API key, one message frame), the codec (undecodable input
//!   and NULs are the client's fault), decoding requests into domain types (every bad field
//!   named), encoding replies, one handler per rpc.
//! - [`registry`]: the use cases, one method each, one transaction each; key verification (with
//!   its one-second cache) and idempotent retries live here, and the change log's followers: the
//!   claim cache and search index, and the event stream clients watch (`WatchEvents`).
//! - [`store`]: the SQL, one module per table group, rows mapped to domain types.
//! - [`domain`]: the types everything above trades in, each built only by parsing its input:
//!   articles, claims, quotes and their anchoring, verdicts, keys and roles, resource names, pages.
//! - [`error`]: the one error type and its one mapping to gRPC status codes.
//!
//! Around them:
//!
//! - [`database`]: the external PostgreSQL or the embedded default (supervised, restarted when
//!   it dies), and migrations, retried at start until PostgreSQL is reachable.
//! - [`cli`]: the `claim-registry` command line (`serve`, `migrate`, `keys`, `import` and
//!   `export claimreview`, and the offline `extract`, `checkworthiness`, `match` and, for
//!   developers, `tagger train` and `tagger cv`).
//! - [`search`]: claim search and matching: BM25 with stemming (tantivy) and sentence
//!   embeddings (all-MiniLM-L6-v2 on candle), fused, with match/suggest decisions; derived state
//!   its owner fills and keeps current.
//! - [`extract`]: who said what in an article: rules over tokens, a tagger learnt from
//!   annotated news over their findings (`extract/tagger/`, its weights written by `tagger
//!   train`), check-worthiness, and statements that stand alone.
//! - [`telemetry`]: logging to standard error.
//! - [`metrics`]: Prometheus metrics and the `/metrics` endpoint.

pub mod api;
mod claim_review_cli;
pub mod cli;
pub mod database;
pub mod domain;
pub mod error;
pub mod extract;
mod extract_cli;
mod match_cli;
pub mod metrics;
pub mod registry;
pub mod search;
pub mod server;
pub mod store;
mod tagger_cli;
pub mod telemetry;
