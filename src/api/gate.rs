//! The gate every call to a factcheck.v1 service passes before tonic decodes it.
//!
//! In order, so that each refusal is the right one and costs as little as it can:
//!
//! 0. The database must be reachable and migrated: until then a call could meet missing tables
//!    and fail as INTERNAL, so it is UNAVAILABLE (with a RetryInfo) instead.
//! 1. The method must be one of ours ([`super::METHODS`]); any other path under the package is
//!    UNIMPLEMENTED here, so a method added to the proto without a role can never run unguarded.
//! 2. The content type must be gRPC with protobuf (`application/grpc`, `application/grpc+proto`);
//!    anything else, JSON included, is refused with HTTP 415 and INVALID_ARGUMENT.
//! 3. The caller's API key must be active and its role high enough: UNAUTHENTICATED or
//!    PERMISSION_DENIED before a byte of the body is read, however malformed the body is.
//! 4. The body must be exactly one gRPC message frame of at most [`MAX_MESSAGE_BYTES`], since
//!    every one of our methods takes one request message (all are unary but `WatchEvents`, which
//!    streams its replies to one request): no message, a frame cut short, a second message, or a
//!    compressed flag other than 0 is INVALID_ARGUMENT naming what was wrong; a larger message is
//!    RESOURCE_EXHAUSTED, as gRPC's status table has it.
//!
//! The caller's key then travels with the request as a [`Caller`] extension; handlers read it
//! with [`super::caller`]. Health and reflection pass through untouched: they need no key.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use prost::bytes::Bytes;
use tokio::sync::watch;
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::http;
use tower::{Layer, Service};

use crate::domain::ApiKey;
use crate::error::Error;
use crate::registry::Registry;

/// The largest request message the server accepts: room for the largest article body (1 MiB of
/// UTF-8) with its metadata, and a bound on what one call can make the server hold.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// The gRPC message header: a compressed flag and a 4-byte big-endian length.
const FRAME_HEADER_BYTES: usize = 5;

/// The package whose methods the gate guards.
const GUARDED_PREFIX: &str = "/factcheck.v1.";

/// The key a call was authorized with, put in the request's extensions by the gate.
#[derive(Debug, Clone)]
pub struct Caller(pub ApiKey);

/// Puts the [`Gate`] in front of a service.
#[derive(Debug, Clone)]
pub struct GateLayer {
    registry: Registry,
    ready: watch::Receiver<bool>,
}

impl GateLayer {
    /// A gate that authorizes callers against this registry's keys once `ready` says the
    /// database is reachable and migrated.
    pub fn new(registry: Registry, ready: watch::Receiver<bool>) -> Self {
        GateLayer { registry, ready }
    }
}

impl<S> Layer<S> for GateLayer {
    type Service = Gate<S>;

    fn layer(&self, inner: S) -> Gate<S> {
        Gate {
            inner,
            registry: self.registry.clone(),
            ready: self.ready.clone(),
        }
    }
}

/// The gate as a tower service; see the module documentation.
#[derive(Debug, Clone)]
pub struct Gate<S> {
    inner: S,
    registry: Registry,
    ready: watch::Receiver<bool>,
}

impl<S> Service<http::Request<Body>> for Gate<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if !request.uri().path().starts_with(GUARDED_PREFIX) {
            return Box::pin(self.inner.call(request));
        }
        if !*self.ready.borrow() {
            let not_yet = std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "the database is not reachable and migrated yet",
            );
            let status = Status::from(Error::Unavailable(sqlx::Error::Io(not_yet)));
            return Box::pin(std::future::ready(Ok(status.into_http())));
        }
        // the service that was polled ready goes into the future; a fresh clone stays behind
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let registry = self.registry.clone();
        Box::pin(async move {
            match admit(&registry, request).await {
                Ok(request) => inner.call(request).await,
                Err(refusal) => Ok(refusal),
            }
        })
    }
}

/// Checks a call to one of our methods; the request to pass on, or the response refusing it.
async fn admit(
    registry: &Registry,
    request: http::Request<Body>,
) -> Result<http::Request<Body>, http::Response<Body>> {
    let path = request.uri().path();
    let needed = super::role_for(path).ok_or_else(|| {
        Status::unimplemented(format!("{path} is not a method of this server")).into_http()
    })?;
    check_content_type(request.headers()).map_err(|status| {
        // the gRPC spec's answer to a request that is not gRPC, with the status for gRPC clients
        let mut response = status.into_http();
        *response.status_mut() = http::StatusCode::UNSUPPORTED_MEDIA_TYPE;
        response
    })?;
    let authorization = match request.headers().get(http::header::AUTHORIZATION) {
        None => None,
        // a value that is not visible ASCII is malformed credentials, like a missing scheme
        Some(value) => Some(value.to_str().unwrap_or("")),
    };
    let key = registry
        .authorize(authorization, needed)
        .await
        .map_err(|e| Status::from(e).into_http())?;
    let (mut parts, body) = request.into_parts();
    let message = one_message(&parts.headers, body)
        .await
        .map_err(Status::into_http)?;
    parts.extensions.insert(Caller(key));
    Ok(http::Request::from_parts(
        parts,
        Body::new(Full::new(message)),
    ))
}

/// Refuses any content type but gRPC with protobuf.
fn check_content_type(headers: &http::HeaderMap) -> Result<(), Status> {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if matches!(essence, "application/grpc" | "application/grpc+proto") {
        return Ok(());
    }
    let shown = if content_type.is_empty() {
        "no content-type".to_owned()
    } else {
        format!("content-type {content_type:?}")
    };
    Err(Status::invalid_argument(format!(
        "this server speaks gRPC with protobuf only (content-type application/grpc or \
         application/grpc+proto); the request has {shown}"
    )))
}

/// Reads a call's request body (unary or server streaming: one message either way), which must be one uncompressed gRPC message frame, and returns
/// the frame as it came.
async fn one_message(headers: &http::HeaderMap, body: Body) -> Result<Bytes, Status> {
    let limit = FRAME_HEADER_BYTES + MAX_MESSAGE_BYTES;
    let bytes = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => return Err(too_large()),
        Err(e) => {
            return Err(Status::invalid_argument(format!(
                "the request body could not be read: {e}"
            )));
        }
    };
    check_frame(headers, &bytes)?;
    Ok(bytes)
}

fn too_large() -> Status {
    Status::resource_exhausted(format!(
        "the request message is larger than the {MAX_MESSAGE_BYTES}-byte limit"
    ))
}

/// Checks that `bytes` is exactly one message frame: header, flag, and as many bytes as its
/// length says.
fn check_frame(headers: &http::HeaderMap, bytes: &[u8]) -> Result<(), Status> {
    if bytes.is_empty() {
        return Err(Status::invalid_argument(
            "the request carries no message: a call to this server sends exactly one",
        ));
    }
    if bytes.len() < FRAME_HEADER_BYTES {
        return Err(Status::invalid_argument(format!(
            "the request ends inside its message header ({} of {FRAME_HEADER_BYTES} bytes)",
            bytes.len()
        )));
    }
    match bytes[0] {
        0 => {}
        1 => {
            let encoding = headers
                .get("grpc-encoding")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            return Err(if encoding.is_empty() || encoding == "identity" {
                Status::invalid_argument(
                    "the message is flagged compressed but the request names no grpc-encoding",
                )
            } else {
                Status::unimplemented(format!(
                    "messages compressed with {encoding:?} are not accepted: this server takes \
                     uncompressed messages only (grpc-accept-encoding: identity)"
                ))
            });
        }
        flag => {
            return Err(Status::invalid_argument(format!(
                "the message's compressed flag is {flag}; gRPC allows only 0 and 1"
            )));
        }
    }
    let declared = u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
    if declared > MAX_MESSAGE_BYTES {
        return Err(too_large());
    }
    let carried = bytes.len() - FRAME_HEADER_BYTES;
    if carried < declared {
        return Err(Status::invalid_argument(format!(
            "the request ends inside its message: {carried} of the {declared} bytes its header \
             announces"
        )));
    }
    if carried > declared {
        return Err(Status::invalid_argument(
            "a call to this server carries exactly one message; this request carries more after its \
             first",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(flag: u8, declared: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![flag];
        bytes.extend(declared.to_be_bytes());
        bytes.extend(payload);
        bytes
    }

    fn refusal(bytes: &[u8]) -> Status {
        check_frame(&http::HeaderMap::new(), bytes).unwrap_err()
    }

    #[test]
    fn one_whole_uncompressed_message_passes() {
        assert!(check_frame(&http::HeaderMap::new(), &frame(0, 3, b"abc")).is_ok());
        assert!(check_frame(&http::HeaderMap::new(), &frame(0, 0, b"")).is_ok());
    }

    #[test]
    fn each_malformed_frame_is_refused_with_its_own_reason() {
        assert!(refusal(b"").message().contains("no message"));
        assert!(refusal(&[0, 0]).message().contains("header"));
        assert!(
            refusal(&frame(0, 10, b"abc"))
                .message()
                .contains("3 of the 10")
        );
        assert!(
            refusal(&frame(0, 1, b"ab"))
                .message()
                .contains("more after")
        );
        assert!(refusal(&frame(7, 0, b"")).message().contains("flag is 7"));
        assert!(
            refusal(&frame(1, 0, b""))
                .message()
                .contains("grpc-encoding")
        );
        for status in [
            refusal(b""),
            refusal(&frame(0, 10, b"abc")),
            refusal(&frame(7, 0, b"")),
        ] {
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
        }
    }

    #[test]
    fn a_message_announced_over_the_limit_is_resource_exhausted() {
        let status = refusal(&frame(0, MAX_MESSAGE_BYTES as u32 + 1, b""));
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    }

    #[test]
    fn a_compressed_message_in_an_unsupported_encoding_is_unimplemented() {
        let mut headers = http::HeaderMap::new();
        headers.insert("grpc-encoding", "gzip".parse().unwrap());
        let status = check_frame(&headers, &frame(1, 0, b"")).unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unimplemented);
    }
}
