//! The `idempotent_requests` table: what a create with a client `request_id` made.

use sqlx::PgConnection;
use uuid::Uuid;

/// A create request made retry-safe by its client: who sent it, the id, the method, and a hash
/// of the request.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    /// The API key that sent the request: request ids are the caller's own, so another caller
    /// replaying an id makes a request of its own instead of reading back this one's result.
    pub caller: Uuid,
    /// The client's request id.
    pub request_id: Uuid,
    /// The full gRPC method name, so one id cannot stand for two kinds of request.
    pub method: &'static str,
    /// The SHA-256 of the encoded request.
    pub request_sha256: [u8; 32],
}

/// What an earlier request with the same id made.
pub enum Earlier {
    /// Nothing yet: this is the first request with the id.
    None,
    /// The same request made this resource.
    Made(String),
    /// The id was used for a different request.
    Conflict,
}

/// Looks up an earlier request with the same id.
pub async fn find(conn: &mut PgConnection, key: &IdempotencyKey) -> sqlx::Result<Earlier> {
    let row: Option<(String, Vec<u8>, String)> = sqlx::query_as(
        "select method, request_sha256, resource_name from idempotent_requests \
         where key_id = $1 and request_id = $2",
    )
    .bind(key.caller)
    .bind(key.request_id)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        None => Earlier::None,
        Some((method, hash, resource)) if method == key.method && hash == key.request_sha256 => {
            Earlier::Made(resource)
        }
        Some(_) => Earlier::Conflict,
    })
}

/// The table's unique key (caller, request id), violated when two requests with one id race.
pub const UNIQUE_KEY: &str = "idempotent_requests_key_request_key";

/// Records what the request made, in the transaction that made it.
pub async fn record(
    conn: &mut PgConnection,
    key: &IdempotencyKey,
    resource_name: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into idempotent_requests (key_id, request_id, method, request_sha256, resource_name) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(key.caller)
    .bind(key.request_id)
    .bind(key.method)
    .bind(key.request_sha256.as_slice())
    .bind(resource_name)
    .execute(conn)
    .await?;
    Ok(())
}
