//! The gRPC server: the registry's services, standard health and reflection, a span and
//! metrics per call. [`serve`] is the service as `claim-registry serve` runs it, start-up
//! included; [`run`] serves a registry whose database is ready. Both serve on a listener the
//! caller bound until the caller's shutdown future completes, so tests bind `127.0.0.1:0` and
//! drive the real server.

use std::fs::OpenOptions;
use std::future::Future;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tonic::body::Body;
use tonic::codegen::http;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{Layer, Service};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::api::gate::GateLayer;
use crate::api::proto::api_key_service_server::ApiKeyServiceServer;
use crate::api::proto::article_service_server::ArticleServiceServer;
use crate::api::proto::claim_service_server::ClaimServiceServer;
use crate::api::{self, ApiKeyApi, ArticleApi, ClaimApi};
use crate::database::Database;
use crate::registry::Registry;

pub use crate::api::gate::MAX_MESSAGE_BYTES;
/// How often the health service re-checks the database.
const HEALTH_INTERVAL: Duration = Duration::from_secs(2);
/// The service names the health service reports on, besides the server as a whole ("").
const SERVICES: [&str; 3] = [
    "factcheck.v1.ArticleService",
    "factcheck.v1.ClaimService",
    "factcheck.v1.ApiKeyService",
];

/// How `serve` runs, besides the gRPC listener and the database.
#[derive(Debug)]
pub struct Settings {
    /// How long start-up keeps trying to reach and migrate the database before it gives up.
    pub connect_timeout: Duration,
    /// Where the first admin key is written when the registry has no keys yet.
    pub admin_key_dir: PathBuf,
    /// Where to serve Prometheus metrics over HTTP, if anywhere.
    pub metrics: Option<TcpListener>,
    /// Most claims kept in memory for `GetClaim`; 0 keeps none.
    pub claim_cache_entries: usize,
    /// Where the embedding model is, or is installed on first start; `None` ranks searches by
    /// words alone and matches nothing.
    pub model_dir: Option<PathBuf>,
    /// When a new claim is linked to an earlier one, or suggested.
    pub thresholds: crate::search::Thresholds,
    /// How the desk reviews: second review, the organisation.
    pub desk: crate::registry::Desk,
}

/// The service as `claim-registry serve` runs it. Serves on `listener` at once, reporting
/// NOT_SERVING and refusing our API's calls with UNAVAILABLE until the database is reachable and
/// migrated, which is tried for up to `settings.connect_timeout`; then writes the first admin
/// key if the registry has none, and serves until `shutdown` completes, letting calls in flight
/// finish. Closes the database at the end, which stops the embedded server. Fails when the
/// database cannot be made ready in time.
pub async fn serve(
    listener: TcpListener,
    database: Database,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let registry = Registry::with_claim_cache(database.pool.clone(), settings.claim_cache_entries)
        .with_thresholds(settings.thresholds)
        .with_desk(settings.desk);
    let model = tokio::task::spawn_blocking({
        let registry = registry.clone();
        let dir = settings.model_dir.clone();
        move || load_model(&registry, dir.as_deref())
    });
    let metrics = match settings.metrics {
        Some(listener) => Some(crate::metrics::serve(listener, database.pool.clone())?),
        None => None,
    };
    let (ready, ready_rx) = watch::channel(false);
    let (give_up, gave_up) = oneshot::channel::<()>();
    let shutdown = async {
        tokio::select! {
            () = shutdown => {}
            _ = gave_up => {}
        }
    };
    let mut server = std::pin::pin!(run_with(listener, registry.clone(), ready_rx, shutdown));
    let start_up = async {
        database
            .migrate_when_reachable(settings.connect_timeout)
            .await?;
        if let Some(secret) = registry.bootstrap_admin_key().await? {
            let path = write_admin_key(&settings.admin_key_dir, secret.expose())?;
            tracing::info!(path = %path.display(), "no API keys existed: wrote a new admin key to a file only its owner can read");
        }
        anyhow::Ok(())
    };
    /// What finished first.
    enum First {
        Server(anyhow::Result<()>),
        StartUp(anyhow::Result<()>),
    }
    let first = tokio::select! {
        // a shutdown during start-up stops the retries too
        result = &mut server => First::Server(result),
        result = start_up => First::StartUp(result),
    };
    let outcome = match first {
        First::Server(result) => result,
        First::StartUp(Ok(())) => {
            tracing::info!("database ready: accepting calls");
            ready.send_replace(true);
            server.await
        }
        First::StartUp(Err(error)) => {
            let _ = give_up.send(());
            if let Err(stopping) = server.await {
                tracing::warn!(
                    error = format!("{stopping:#}"),
                    "the server failed while stopping"
                );
            }
            Err(error)
        }
    };
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    // a model still installing is left to finish on its own: its thread ends with the process
    drop(model);
    database.close().await;
    outcome
}

/// Loads the embedding model from `dir`, installing it there first if missing, and gives it to
/// the registry's search index; without it, searches rank by words alone and say why, and new
/// claims wait to be matched. Never fails the service.
fn load_model(registry: &Registry, dir: Option<&Path>) {
    let Some(dir) = dir else {
        registry
            .index()
            .set_unavailable("no model directory is configured".into());
        return;
    };
    match crate::search::model::Embedder::from_dir(dir) {
        Ok(embedder) => {
            registry.index().set_embedder(std::sync::Arc::new(embedder));
            tracing::info!(dir = %dir.display(), "embedding model loaded: searches rank by words and meaning");
        }
        Err(error) => {
            tracing::warn!(
                error = format!("{error:#}"),
                "embedding model unavailable: searches rank by words alone and new claims are not matched until it is"
            );
            registry
                .index()
                .set_unavailable(format!("the embedding model is unavailable: {error}"));
        }
    }
}

/// Writes the first admin key to `data_dir/admin-key`, readable by its owner only.
fn write_admin_key(data_dir: &Path, secret: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("admin-key");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(file, "{secret}")?;
    Ok(path.canonicalize().unwrap_or(path))
}

/// Serves the registry, whose database is migrated, on `listener` until `shutdown` completes;
/// calls in flight then finish.
pub async fn run(
    listener: TcpListener,
    registry: Registry,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    run_with(listener, registry, watch::channel(true).1, shutdown).await
}

/// Serves the registry on `listener` until `shutdown` completes; our API's calls are refused
/// with UNAVAILABLE, and health reports NOT_SERVING, until `ready` turns true.
async fn run_with(
    listener: TcpListener,
    registry: Registry,
    ready: watch::Receiver<bool>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    // every service is known from the first call on: NOT_SERVING until the database answers
    for service in std::iter::once("").chain(SERVICES) {
        reporter
            .set_service_status(service, ServingStatus::NotServing)
            .await;
    }
    let health_task = tokio::spawn(watch_database(reporter, registry.clone(), ready.clone()));
    let follower = tokio::spawn(follow_changes(registry.clone(), ready.clone()));
    let matcher = tokio::spawn(match_new_claims(registry.clone(), ready.clone()));

    // our API, health, and google.rpc's error details, so that grpcurl can decode the
    // BadRequest field violations of an INVALID_ARGUMENT
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(api::proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    // grpcurl 1.8 speaks only the older v1alpha protocol
    let reflection_v1alpha = reflection().build_v1alpha()?;

    let trace = TraceLayer::new_for_grpc()
        .make_span_with(
            |request: &http::Request<_>| tracing::info_span!("rpc", method = %request.uri().path()),
        )
        .on_request(())
        .on_response(
            |response: &http::Response<_>, latency: Duration, _span: &Span| {
                let code = response_code(response);
                // to the microsecond: more digits are noise
                let latency_ms = (latency.as_secs_f64() * 1e6).round() / 1e3;
                if matches!(
                    code,
                    tonic::Code::Internal | tonic::Code::Unknown | tonic::Code::Unavailable
                ) {
                    tracing::warn!(code = ?code, latency_ms, "rpc finished");
                } else {
                    tracing::info!(code = ?code, latency_ms, "rpc finished");
                }
            },
        )
        .on_failure(());

    let local_addr = listener.local_addr()?;
    tracing::info!(%local_addr, "serving gRPC");
    let result = Server::builder()
        .layer(trace)
        .layer(CallMetricsLayer)
        .layer(GateLayer::new(registry.clone(), ready))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            ArticleServiceServer::new(ArticleApi::new(registry.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            ClaimServiceServer::new(ClaimApi::new(registry.clone()))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            ApiKeyServiceServer::new(ApiKeyApi::new(registry))
                .max_decoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(
            // small replies must not wait for Nagle's algorithm to coalesce them with more
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await;
    health_task.abort();
    follower.abort();
    matcher.abort();
    result?;
    tracing::info!("server stopped");
    Ok(())
}

/// The status code of a call, as far as the response headers tell: tonic sends a failed call's
/// status in them ("trailers-only"); a call without one there succeeded, its OK status following
/// in the trailers.
fn response_code<B>(response: &http::Response<B>) -> tonic::Code {
    response
        .headers()
        .get("grpc-status")
        .map_or(tonic::Code::Ok, |v| tonic::Code::from_bytes(v.as_bytes()))
}

/// Follows the change log once the database is `ready` (migrated: the log exists), for as long
/// as the server runs.
async fn follow_changes(registry: Registry, mut ready: watch::Receiver<bool>) {
    if ready.wait_for(|ready| *ready).await.is_err() {
        return;
    }
    registry.follow_changes().await;
}

/// Embeds and matches new claims once the database is `ready`, for as long as the server runs.
async fn match_new_claims(registry: Registry, mut ready: watch::Receiver<bool>) {
    if ready.wait_for(|ready| *ready).await.is_err() {
        return;
    }
    registry.match_new_claims().await;
}

/// Reports NOT_SERVING until the database is `ready`, then SERVING while it answers and
/// NOT_SERVING while it does not.
async fn watch_database(
    reporter: HealthReporter,
    registry: Registry,
    mut ready: watch::Receiver<bool>,
) {
    // a closed channel that never said ready: start-up failed, and the server is stopping
    if ready.wait_for(|ready| *ready).await.is_err() {
        return;
    }
    let mut last = None;
    loop {
        let check = sqlx::query("select 1").execute(registry.pool());
        let healthy = matches!(
            tokio::time::timeout(HEALTH_INTERVAL, check).await,
            Ok(Ok(_))
        );
        let status = if healthy {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if last != Some(status) {
            if healthy {
                tracing::info!("database reachable: serving");
            } else {
                tracing::warn!("database unreachable: not serving");
            }
            // health starts out NOT_SERVING: a first failed check changes nothing
            let changed = status != last.unwrap_or(ServingStatus::NotServing);
            crate::metrics::health_reported(healthy, changed);
            for service in std::iter::once("").chain(SERVICES) {
                reporter.set_service_status(service, status).await;
            }
            last = Some(status);
        }
        tokio::time::sleep(HEALTH_INTERVAL).await;
    }
}

/// Records every call's method, status code and latency in [`crate::metrics`]. It sits beside
/// the trace layer rather than in its `on_response`, which sees the response but not the
/// request's method.
#[derive(Debug, Clone, Copy)]
struct CallMetricsLayer;

impl<S> Layer<S> for CallMetricsLayer {
    type Service = CallMetrics<S>;

    fn layer(&self, inner: S) -> CallMetrics<S> {
        CallMetrics { inner }
    }
}

/// The service [`CallMetricsLayer`] wraps around the server's.
#[derive(Debug, Clone)]
struct CallMetrics<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for CallMetrics<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let path = request.uri().path().to_owned();
        let started = Instant::now();
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            crate::metrics::record_call(&path, response_code(&response), started.elapsed());
            Ok(response)
        })
    }
}
