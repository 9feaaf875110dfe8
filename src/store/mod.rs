//! The SQL layer: one module per table group, each function one or a few statements. Functions
//! take a `&mut PgConnection`, so callers decide the transaction; rows are mapped to domain
//! types here and nowhere else.

pub mod api_keys;
pub mod articles;
pub mod changes;
pub mod claims;
pub mod events;
pub mod idempotency;
pub mod imported_reviews;
pub mod matches;
pub mod search;
pub mod verdicts;

/// The migrations in `migrations/`, embedded in the binary and applied at start.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Whether an error is a unique-constraint violation of the named constraint or index.
pub(crate) fn is_unique_violation(error: &sqlx::Error, constraint: &str) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if db.is_unique_violation() && db.constraint() == Some(constraint))
}

/// Rows of a listing plus the id to continue after, when there are more.
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The last id of this page, when another page follows.
    pub next_after: Option<uuid::Uuid>,
    /// The last row's sort key, when another page follows in an order that is not by id (claims
    /// in an article's text order): the next page starts after it and `next_after`.
    pub next_key: Option<i64>,
}

impl<T> Page<T> {
    /// Cuts a listing fetched with `limit + 1` rows down to `limit`, remembering whether more
    /// follow.
    pub(crate) fn from_overfetch(
        mut items: Vec<T>,
        limit: i64,
        id: impl Fn(&T) -> uuid::Uuid,
    ) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_after = if items.len() > limit {
            items.truncate(limit);
            items.last().map(id)
        } else {
            None
        };
        Page {
            items,
            next_after,
            next_key: None,
        }
    }
}
