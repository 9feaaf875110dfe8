//! The gRPC transport: generated protobuf types, the conversions between them and the domain,
//! and one tonic service per protobuf service. Handlers authorize, decode, call the
//! [`Registry`](crate::registry::Registry), and encode; they hold no logic of their own.

mod api_keys;
mod articles;
mod claims;
mod convert;

pub use api_keys::ApiKeyApi;
pub use articles::ArticleApi;
pub use claims::ClaimApi;

/// The types and services generated from `proto/factcheck/v1/`.
pub mod proto {
    #![allow(missing_docs, clippy::doc_markdown, clippy::doc_lazy_continuation)]
    tonic::include_proto!("factcheck.v1");

    /// The encoded descriptors of every file in `proto/`, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("factcheck_descriptor");
}

use tonic::Request;

use crate::domain::{ApiKey, Role};
use crate::error::Error;
use crate::registry::Registry;

/// Checks the caller's API key against the least role the call needs.
async fn authorize<T>(
    registry: &Registry,
    request: &Request<T>,
    needed: Role,
) -> Result<ApiKey, Error> {
    let header = match request.metadata().get("authorization") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            Error::Unauthenticated("malformed credentials: the authorization metadata is not ASCII")
        })?),
    };
    registry.authorize(header, needed).await
}
