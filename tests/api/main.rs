//! Integration tests: the real server on 127.0.0.1:0 against a real PostgreSQL, through the
//! generated gRPC clients. Each test gets a fresh database. The server is the one `DATABASE_URL`
//! names, or else an embedded PostgreSQL that this test binary starts once in a fresh directory.

mod articles;
mod auth;
mod bad_input;
mod changes;
mod claim_review;
mod claim_review_import;
mod claims;
mod database;
mod events;
mod extraction;
mod helpers;
mod lifecycle;
mod listing;
mod matching;
mod metrics;
mod pagination;
mod search;
mod triage;
mod verdicts;
mod verdicts_across_claims;
