//! The gRPC server: the registry's services, standard health and reflection, and a span per
//! call. [`run`] serves on a listener the caller bound until the caller's shutdown future
//! completes, so tests bind `127.0.0.1:0` and drive the real server.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::codegen::http;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::api::gate::GateLayer;
use crate::api::proto::api_key_service_server::ApiKeyServiceServer;
use crate::api::proto::article_service_server::ArticleServiceServer;
use crate::api::proto::claim_service_server::ClaimServiceServer;
use crate::api::{self, ApiKeyApi, ArticleApi, ClaimApi};
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

/// Serves the registry on `listener` until `shutdown` completes; calls in flight then finish.
pub async fn run(
    listener: TcpListener,
    registry: Registry,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    // every service is known from the first call on: NOT_SERVING until the database answers
    for service in std::iter::once("").chain(SERVICES) {
        reporter
            .set_service_status(service, ServingStatus::NotServing)
            .await;
    }
    let health_task = tokio::spawn(watch_database(reporter, registry.clone()));

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
                // tonic sends a failed call's status in the response headers ("trailers-only"); a
                // call without one there succeeded, its OK status following in the trailers
                let code = response
                    .headers()
                    .get("grpc-status")
                    .map_or(tonic::Code::Ok, |v| tonic::Code::from_bytes(v.as_bytes()));
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
        .layer(GateLayer::new(registry.clone()))
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
    result?;
    tracing::info!("server stopped");
    Ok(())
}

/// Reports SERVING while the database answers and NOT_SERVING while it does not.
async fn watch_database(reporter: HealthReporter, registry: Registry) {
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
            for service in std::iter::once("").chain(SERVICES) {
                reporter.set_service_status(service, status).await;
            }
            last = Some(status);
        }
        tokio::time::sleep(HEALTH_INTERVAL).await;
    }
}
