//! The `api_keys` table.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Page;
use crate::domain::{ApiKey, ApiKeyName, ApiKeySecret, NewApiKey, Role};

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Uuid,
    display_name: String,
    role: String,
    secret_prefix: String,
    create_time: OffsetDateTime,
    revoke_time: Option<OffsetDateTime>,
}

const COLUMNS: &str = "id, display_name, role, secret_prefix, create_time, revoke_time";

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        ApiKey {
            name: ApiKeyName(row.id),
            display_name: row.display_name,
            // the table's check allows only the four roles; reader is the safe fallback
            role: Role::parse(&row.role).unwrap_or(Role::Reader),
            secret_prefix: row.secret_prefix,
            create_time: row.create_time,
            revoke_time: row.revoke_time,
        }
    }
}

/// The unique index that makes a display name name one key for all time.
pub const DISPLAY_NAME_KEY: &str = "api_keys_display_name_key";

/// Stores a key by its secret's hash.
pub async fn insert(
    conn: &mut PgConnection,
    key: &NewApiKey,
    secret: &ApiKeySecret,
) -> sqlx::Result<ApiKey> {
    let row: ApiKeyRow = sqlx::query_as(&format!(
        "insert into api_keys (id, display_name, role, secret_sha256, secret_prefix) \
         values ($1, $2, $3, $4, $5) returning {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(&key.display_name)
    .bind(key.role.as_str())
    .bind(secret.sha256().as_slice())
    .bind(secret.prefix())
    .fetch_one(conn)
    .await?;
    Ok(row.into())
}

/// The active key whose secret has this hash.
pub async fn find_active(
    conn: &mut PgConnection,
    secret_sha256: &[u8; 32],
) -> sqlx::Result<Option<ApiKey>> {
    let row: Option<ApiKeyRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from api_keys where secret_sha256 = $1 and revoke_time is null"
    ))
    .bind(secret_sha256.as_slice())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(ApiKey::from))
}

/// Whether the key `id` exists and is not revoked: a long call (an event stream) asks again
/// as it goes.
pub async fn is_active(conn: &mut PgConnection, id: uuid::Uuid) -> sqlx::Result<bool> {
    let active: Option<bool> =
        sqlx::query_scalar("select revoke_time is null from api_keys where id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(active.unwrap_or(false))
}

/// Whether any key is active: a registry without one is new and needs its first admin key.
pub async fn any_active(conn: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from api_keys where revoke_time is null)")
        .fetch_one(conn)
        .await
}

/// A page of keys, newest first, after the given id.
pub async fn list(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Page<ApiKey>> {
    let rows: Vec<ApiKeyRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from api_keys where ($1::uuid is null or id < $1) order by id desc limit $2"
    ))
    .bind(after)
    .bind(limit + 1)
    .fetch_all(conn)
    .await?;
    let keys = rows.into_iter().map(ApiKey::from).collect();
    Ok(Page::from_overfetch(keys, limit, |k: &ApiKey| k.name.0))
}

/// What revoking a key found.
pub enum Revoked {
    /// The key was active and is revoked now.
    Now(ApiKey),
    /// The key had been revoked before; nothing changed.
    Before(ApiKey),
    /// No such key.
    Missing,
}

/// Revokes a key; revoking a revoked key changes nothing, its first revoke time stays.
pub async fn revoke(conn: &mut PgConnection, name: ApiKeyName) -> sqlx::Result<Revoked> {
    let revoked: Option<ApiKeyRow> = sqlx::query_as(&format!(
        "update api_keys set revoke_time = now() where id = $1 and revoke_time is null \
         returning {COLUMNS}"
    ))
    .bind(name.0)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = revoked {
        return Ok(Revoked::Now(row.into()));
    }
    let existing: Option<ApiKeyRow> =
        sqlx::query_as(&format!("select {COLUMNS} from api_keys where id = $1"))
            .bind(name.0)
            .fetch_optional(conn)
            .await?;
    Ok(existing.map_or(Revoked::Missing, |row| Revoked::Before(row.into())))
}

/// The key with this display name, active or revoked: names are never reused.
pub async fn find_by_display_name(
    conn: &mut PgConnection,
    display_name: &str,
) -> sqlx::Result<Option<ApiKey>> {
    let row: Option<ApiKeyRow> = sqlx::query_as(&format!(
        "select {COLUMNS} from api_keys where display_name = $1"
    ))
    .bind(display_name)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(ApiKey::from))
}

/// How many keys were ever named `prefix` or `prefix-…`: the next bootstrap key's number.
pub async fn count_named_like(conn: &mut PgConnection, prefix: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from api_keys where display_name = $1 or display_name like $1 || '-%'",
    )
    .bind(prefix)
    .fetch_one(conn)
    .await
}
