//! Prometheus metrics: what the service counts and measures, and the `/metrics` endpoint that
//! serves them in Prometheus's text format when `serve --metrics-listen` asks for it.
//!
//! The `metrics` facade records; `metrics-exporter-prometheus` keeps the values and renders the
//! text format; hyper serves it on a listener the caller bound, so a test can bind port 0 and
//! learn the address. Without an installed recorder, every recording here is a no-op.
//!
//! | metric | kind | labels | where it is recorded |
//! |---|---|---|---|
//! | `claim_registry_rpc_calls_total` | counter | `method`, `code` | each call, in [`crate::server`] |
//! | `claim_registry_rpc_duration_seconds` | histogram | `method` | each call, until its response headers |
//! | `claim_registry_db_pool_connections` | gauge | `state`: `open`, `idle`, `in_use` | at each scrape |
//! | `claim_registry_database_errors_total` | counter | `kind`: `unavailable`, `internal` | [`crate::error`], where database errors are mapped |
//! | `claim_registry_health_transitions_total` | counter | `status`: `serving`, `not_serving` | the health watch, on each change |
//! | `claim_registry_serving` | gauge | | the health watch: 1 serving, 0 not |
//! | `claim_registry_embedded_postgres_restarts_total` | counter | | the embedded server's supervisor |
//! | `claim_registry_extraction_duration_seconds` | histogram | | each claim extraction |
//! | `claim_registry_extraction_input_bytes` | histogram | | each claim extraction |

use std::convert::Infallible;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use prost::bytes::Bytes;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::Code;

/// Calls by method and gRPC status code.
pub const RPC_CALLS: &str = "claim_registry_rpc_calls_total";
/// Call latency by method, in seconds, until the response headers (the whole reply for a
/// unary call).
pub const RPC_DURATION: &str = "claim_registry_rpc_duration_seconds";
/// The pool's connections by state: `open` (the pool's size), `idle`, `in_use`.
pub const POOL_CONNECTIONS: &str = "claim_registry_db_pool_connections";
/// Database errors by kind: `unavailable` (cannot reach PostgreSQL) or `internal` (a query
/// failed unexpectedly).
pub const DATABASE_ERRORS: &str = "claim_registry_database_errors_total";
/// Changes of the health status, by the status changed to.
pub const HEALTH_TRANSITIONS: &str = "claim_registry_health_transitions_total";
/// 1 while the health service reports SERVING, 0 while NOT_SERVING.
pub const SERVING: &str = "claim_registry_serving";
/// Restarts of the embedded PostgreSQL after it died.
pub const EMBEDDED_RESTARTS: &str = "claim_registry_embedded_postgres_restarts_total";
/// Time spent extracting claims from one text, in seconds.
pub const EXTRACTION_DURATION: &str = "claim_registry_extraction_duration_seconds";
/// Size of the texts claims are extracted from, in bytes of UTF-8.
pub const EXTRACTION_INPUT: &str = "claim_registry_extraction_input_bytes";

/// Latency buckets, in seconds: sub-millisecond reads to multi-second extractions of large bodies.
const SECONDS_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Text size buckets, in bytes: a paragraph to the 1 MiB body limit and the 4 MiB message limit.
const BYTES_BUCKETS: [f64; 9] = [
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    2_097_152.0,
    4_194_304.0,
];
/// How often the recorder's histograms are compacted when nobody scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);
/// The `method` label of calls to paths the server does not serve: any client can send any
/// path, and each distinct label value is a time series Prometheus keeps.
const OTHER_METHOD: &str = "other";
/// The paths the server serves besides our API's, each its own `method` label.
const STANDARD_METHODS: [&str; 4] = [
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

/// The process's recorder, once installed: a process can install only one, and tests start many
/// servers in one process, so every server after the first shares it.
static RECORDER: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs the process-wide recorder on the first call and returns a handle that renders it;
/// later calls return the same handle.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let mut installed = RECORDER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)?
        .set_buckets_for_metric(Matcher::Suffix("_bytes".to_owned()), &BYTES_BUCKETS)?
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    describe();
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        })
        .context("cannot start the metrics upkeep thread")?;
    *installed = Some(handle.clone());
    Ok(handle)
}

/// The `# HELP` lines of the scrape.
fn describe() {
    describe_counter!(RPC_CALLS, "gRPC calls by method and status code");
    describe_histogram!(
        RPC_DURATION,
        metrics::Unit::Seconds,
        "gRPC call latency by method, until the response headers"
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "database pool connections by state (open, idle, in_use), sampled at each scrape"
    );
    describe_counter!(
        DATABASE_ERRORS,
        "database errors by kind: unavailable (PostgreSQL unreachable) or internal"
    );
    describe_counter!(
        HEALTH_TRANSITIONS,
        "changes of the health status, by the status changed to"
    );
    describe_gauge!(
        SERVING,
        "1 while the health service reports SERVING, else 0"
    );
    describe_counter!(
        EMBEDDED_RESTARTS,
        "restarts of the embedded PostgreSQL after it died"
    );
    describe_histogram!(
        EXTRACTION_DURATION,
        metrics::Unit::Seconds,
        "time spent extracting claims from one text"
    );
    describe_histogram!(
        EXTRACTION_INPUT,
        metrics::Unit::Bytes,
        "size of the texts claims are extracted from"
    );
}

/// Records a finished call: its method (by path), status code and latency.
pub fn record_call(path: &str, code: Code, latency: Duration) {
    let method = method_label(path);
    counter!(RPC_CALLS, "method" => method, "code" => code_name(code)).increment(1);
    histogram!(RPC_DURATION, "method" => method).record(latency.as_secs_f64());
}

/// The `method` label of a path: the path itself when the server serves it, else "other".
fn method_label(path: &str) -> &'static str {
    crate::api::METHODS
        .iter()
        .map(|(method, _)| *method)
        .chain(STANDARD_METHODS)
        .find(|method| *method == path)
        .unwrap_or(OTHER_METHOD)
}

/// A code's name as gRPC's status code table writes it (`OK`, `INVALID_ARGUMENT`), the names
/// the README and the proto comments use.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// Counts a database error, by the kind [`crate::error::Error`] maps it to: `unavailable` or
/// `internal`.
pub fn database_error(kind: &'static str) {
    counter!(DATABASE_ERRORS, "kind" => kind).increment(1);
}

/// Records the health status the health watch reports, and whether it `changed` from the one
/// before: a change to SERVING after NOT_SERVING is the service reconnecting to its database.
pub fn health_reported(serving: bool, changed: bool) {
    gauge!(SERVING).set(if serving { 1.0 } else { 0.0 });
    if changed {
        let status = if serving { "serving" } else { "not_serving" };
        counter!(HEALTH_TRANSITIONS, "status" => status).increment(1);
    }
}

/// Counts a restart of the embedded PostgreSQL by its supervisor.
pub fn embedded_postgres_restarted() {
    counter!(EMBEDDED_RESTARTS).increment(1);
}

/// Runs `extract` on `text`, recording how long it took and how large the text was.
pub fn extraction<T>(text: &str, extract: impl FnOnce(&str) -> T) -> T {
    let started = Instant::now();
    let extracted = extract(text);
    histogram!(EXTRACTION_DURATION).record(started.elapsed().as_secs_f64());
    histogram!(EXTRACTION_INPUT).record(text.len() as f64);
    extracted
}

/// Sets the pool gauges from `pool` as it is now.
fn sample_pool(pool: &PgPool) {
    let open = pool.size();
    // `num_idle` is counted apart from `size`: keep in-use from going below zero in a race
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(open);
    gauge!(POOL_CONNECTIONS, "state" => "open").set(open);
    gauge!(POOL_CONNECTIONS, "state" => "idle").set(idle);
    gauge!(POOL_CONNECTIONS, "state" => "in_use").set(open - idle);
}

/// Installs the recorder (see [`install`]) and serves `GET /metrics` on `listener` over plain
/// HTTP/1.1, sampling `pool` at each scrape, until the returned task is aborted.
pub fn serve(listener: TcpListener, pool: PgPool) -> anyhow::Result<JoinHandle<()>> {
    let handle = install()?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "serving metrics at /metrics");
    Ok(tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // out of file descriptors and the like: pause rather than spin
                    tracing::warn!(%error, "cannot accept a metrics connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let handle = handle.clone();
            let pool = pool.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    std::future::ready(Ok::<_, Infallible>(respond(&request, &handle, &pool)))
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "metrics connection failed");
                }
            });
        }
    }))
}

/// The reply to one request: the scrape for `GET /metrics`, else 404 or 405.
fn respond(
    request: &Request<Incoming>,
    handle: &PrometheusHandle,
    pool: &PgPool,
) -> Response<Full<Bytes>> {
    let (status, content_type, body) = if request.uri().path() != "/metrics" {
        (
            StatusCode::NOT_FOUND,
            "text/plain",
            "try /metrics\n".to_owned(),
        )
    } else if request.method() != hyper::Method::GET {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            "GET only\n".to_owned(),
        )
    } else {
        sample_pool(pool);
        (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            handle.render(),
        )
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_the_server_does_not_serve_is_labelled_other_so_clients_cannot_add_series() {
        assert_eq!(
            method_label("/factcheck.v1.ClaimService/GetClaim"),
            "/factcheck.v1.ClaimService/GetClaim"
        );
        assert_eq!(
            method_label("/grpc.health.v1.Health/Check"),
            "/grpc.health.v1.Health/Check"
        );
        assert_eq!(method_label("/factcheck.v1.ClaimService/Nope"), "other");
        assert_eq!(method_label("/a/random/path/1234"), "other");
    }

    #[test]
    fn codes_are_named_as_grpc_names_them() {
        assert_eq!(code_name(Code::Ok), "OK");
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
        assert_eq!(code_name(Code::Unavailable), "UNAVAILABLE");
    }
}
