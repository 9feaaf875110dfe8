//! `factcheck.v1.ApiKeyService`: key management for admins.

use tonic::{Request, Response, Status};

use super::convert::{encode_time, next_page_token, page, required};
use super::proto::api_key_service_server::ApiKeyService;
use super::proto::{
    self, CreateApiKeyRequest, CreateApiKeyResponse, ListApiKeysRequest, ListApiKeysResponse,
    RevokeApiKeyRequest, RevokeApiKeyResponse,
};
use crate::domain::{ApiKey, ApiKeyName, NewApiKey, PageSize, Role};
use crate::error::{FieldContext, Violations};
use crate::registry::Registry;

/// The key service's handlers.
#[derive(Clone, Debug)]
pub struct ApiKeyApi {
    registry: Registry,
}

impl ApiKeyApi {
    /// The service on a registry.
    pub fn new(registry: Registry) -> Self {
        ApiKeyApi { registry }
    }
}

fn encode_role(role: Role) -> proto::Role {
    match role {
        Role::Reader => proto::Role::Reader,
        Role::Submitter => proto::Role::Submitter,
        Role::Reviewer => proto::Role::Reviewer,
        Role::Admin => proto::Role::Admin,
    }
}

fn encode_key(key: ApiKey) -> proto::ApiKey {
    proto::ApiKey {
        name: key.name.to_string(),
        display_name: key.display_name,
        role: encode_role(key.role).into(),
        secret_prefix: key.secret_prefix,
        create_time: Some(encode_time(key.create_time)),
        revoke_time: key.revoke_time.map(encode_time),
    }
}

#[tonic::async_trait]
impl ApiKeyService for ApiKeyApi {
    async fn create_api_key(
        &self,
        request: Request<CreateApiKeyRequest>,
    ) -> Result<Response<CreateApiKeyResponse>, Status> {
        super::caller(&request)?;
        let key = required(request.into_inner().api_key, "api_key")?;
        let mut v = Violations::default();
        let role = match proto::Role::try_from(key.role) {
            Ok(proto::Role::Reader) => Some(Role::Reader),
            Ok(proto::Role::Submitter) => Some(Role::Submitter),
            Ok(proto::Role::Reviewer) => Some(Role::Reviewer),
            Ok(proto::Role::Admin) => Some(Role::Admin),
            _ => {
                v.add(
                    "api_key.role",
                    "is required: ROLE_READER, ROLE_SUBMITTER, ROLE_REVIEWER or ROLE_ADMIN",
                );
                None
            }
        };
        let display_name = v.check(
            NewApiKey::parse_display_name(&key.display_name),
            "api_key.display_name",
        );
        let (Some(role), Some(display_name)) = (role, display_name) else {
            return Err(v.into_error().into());
        };
        let new = NewApiKey { display_name, role };
        let (stored, secret) = self.registry.create_api_key(new).await?;
        Ok(Response::new(CreateApiKeyResponse {
            api_key: Some(encode_key(stored)),
            secret: secret.expose().to_owned(),
        }))
    }

    async fn list_api_keys(
        &self,
        request: Request<ListApiKeysRequest>,
    ) -> Result<Response<ListApiKeysResponse>, Status> {
        super::caller(&request)?;
        let request = request.into_inner();
        let size = PageSize::parse(request.page_size).field("page_size")?;
        let (size, after) = page(size, &request.page_token, "")?;
        let found = self.registry.list_api_keys(after, size.get()).await?;
        let next_page_token = next_page_token(&found, "");
        Ok(Response::new(ListApiKeysResponse {
            api_keys: found.items.into_iter().map(encode_key).collect(),
            next_page_token,
        }))
    }

    async fn revoke_api_key(
        &self,
        request: Request<RevokeApiKeyRequest>,
    ) -> Result<Response<RevokeApiKeyResponse>, Status> {
        super::caller(&request)?;
        let name = ApiKeyName::parse(&request.get_ref().name).field("name")?;
        let (key, _) = self.registry.revoke_api_key(name).await?;
        Ok(Response::new(RevokeApiKeyResponse {
            api_key: Some(encode_key(key)),
        }))
    }
}
