//! The gRPC transport: generated protobuf types, the conversions between them and the domain,
//! the [`gate`] that authorizes and frames every call, the [`codec`] that decodes it, and one
//! tonic service per protobuf service. Handlers decode, call the
//! [`Registry`](crate::registry::Registry), and encode; they hold no logic of their own.

mod api_keys;
mod articles;
mod claims;
pub mod codec;
mod convert;
mod events;
pub mod gate;

pub use api_keys::ApiKeyApi;
pub use articles::ArticleApi;
pub use claims::ClaimApi;
pub use events::{EventApi, KEY_RECHECK_INTERVAL};

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

/// Every method of our services and the least role that may call it: the service's whole
/// authorization policy in one table, which the [`gate`] enforces before a request is decoded.
/// A test checks that it lists exactly the methods of `proto/`.
pub const METHODS: [(&str, Role); 29] = [
    (
        "/factcheck.v1.ArticleService/CreateArticle",
        Role::Submitter,
    ),
    ("/factcheck.v1.ArticleService/GetArticle", Role::Reader),
    ("/factcheck.v1.ArticleService/ListArticles", Role::Reader),
    ("/factcheck.v1.ClaimService/CreateClaim", Role::Submitter),
    ("/factcheck.v1.ClaimService/GetClaim", Role::Reader),
    ("/factcheck.v1.ClaimService/ListClaims", Role::Reader),
    ("/factcheck.v1.ClaimService/UpdateClaim", Role::Submitter),
    ("/factcheck.v1.ClaimService/CreateVerdict", Role::Reviewer),
    ("/factcheck.v1.ClaimService/ListVerdicts", Role::Reader),
    ("/factcheck.v1.ClaimService/GetVerdict", Role::Reader),
    ("/factcheck.v1.ClaimService/PublishVerdict", Role::Reviewer),
    ("/factcheck.v1.ClaimService/UpdateVerdict", Role::Reviewer),
    ("/factcheck.v1.ClaimService/CorrectVerdict", Role::Reviewer),
    ("/factcheck.v1.ClaimService/WithdrawVerdict", Role::Reviewer),
    (
        "/factcheck.v1.ClaimService/ListVerdictHistory",
        Role::Reader,
    ),
    ("/factcheck.v1.ClaimService/GetClaimReview", Role::Reader),
    ("/factcheck.v1.ClaimService/ListClaimReviews", Role::Reader),
    (
        "/factcheck.v1.ClaimService/ImportClaimReviews",
        Role::Reviewer,
    ),
    ("/factcheck.v1.ClaimService/ExtractClaims", Role::Reader),
    ("/factcheck.v1.ClaimService/SearchClaims", Role::Reader),
    ("/factcheck.v1.ClaimService/AddQuote", Role::Submitter),
    ("/factcheck.v1.ClaimService/ListClaimMatches", Role::Reader),
    (
        "/factcheck.v1.ClaimService/ReviewClaimMatches",
        Role::Reviewer,
    ),
    ("/factcheck.v1.ClaimService/DismissClaim", Role::Reviewer),
    ("/factcheck.v1.ClaimService/RestoreClaim", Role::Reviewer),
    ("/factcheck.v1.ApiKeyService/CreateApiKey", Role::Admin),
    ("/factcheck.v1.ApiKeyService/ListApiKeys", Role::Admin),
    ("/factcheck.v1.ApiKeyService/RevokeApiKey", Role::Admin),
    ("/factcheck.v1.EventService/WatchEvents", Role::Reader),
];

/// The least role that may call a method, by its path; `None` for a path that is not ours.
pub fn role_for(path: &str) -> Option<Role> {
    METHODS
        .iter()
        .find(|(method, _)| *method == path)
        .map(|(_, role)| *role)
}

/// The key the [`gate`] authorized this call with.
fn caller<T>(request: &Request<T>) -> Result<ApiKey, Error> {
    request
        .extensions()
        .get::<gate::Caller>()
        .map(|caller| caller.0.clone())
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "a call reached its handler without passing the gate"
            ))
        })
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn the_role_table_lists_exactly_the_methods_of_the_proto() {
        let set = prost_types::FileDescriptorSet::decode(proto::FILE_DESCRIPTOR_SET).unwrap();
        let mut in_proto: Vec<String> = set
            .file
            .iter()
            .filter(|f| f.package() == "factcheck.v1")
            .flat_map(|f| {
                f.service.iter().flat_map(|s| {
                    s.method
                        .iter()
                        .map(|m| format!("/factcheck.v1.{}/{}", s.name(), m.name()))
                })
            })
            .collect();
        let mut in_table: Vec<String> = METHODS.iter().map(|(m, _)| m.to_string()).collect();
        in_proto.sort();
        in_table.sort();
        assert_eq!(in_table, in_proto);
    }
}
