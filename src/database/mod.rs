//! Where the registry's data lives: an external PostgreSQL named by a URL, or the embedded
//! default run from the data directory. Either way the service gets a migrated pool.

mod embedded;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

pub use embedded::EmbeddedPostgres;

/// The database the embedded server keeps the registry in.
pub const EMBEDDED_DATABASE: &str = "claim_registry";

/// How long a call waits for a database connection before it fails with UNAVAILABLE.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How the service reaches PostgreSQL.
#[derive(Debug, Clone)]
pub enum Location<'a> {
    /// A server named by a URL; its database is created if missing.
    External(&'a str),
    /// The embedded server in this data directory.
    Embedded(&'a Path),
}

/// An open database: the pool, and the embedded server when the service runs one.
#[derive(Debug)]
pub struct Database {
    /// The connection pool every call uses.
    pub pool: PgPool,
    /// The embedded server this process started, stopped on [`Database::close`].
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Opens the database and applies pending migrations. On the embedded default, the server is
    /// started, unless `attach` allows using one that another process already runs there.
    ///
    /// Call it from a thread that lives as long as the database should (see [`EmbeddedPostgres`]).
    pub async fn open(
        location: Location<'_>,
        max_connections: u32,
        attach: bool,
    ) -> anyhow::Result<Self> {
        let (options, embedded) = match location {
            Location::External(url) => {
                let options: PgConnectOptions = url
                    .parse()
                    .context("the database URL is not a valid PostgreSQL URL")?;
                (options, None)
            }
            Location::Embedded(data_dir) => {
                match EmbeddedPostgres::attach(data_dir).filter(|_| attach) {
                    Some(options) => (options.database(EMBEDDED_DATABASE), None),
                    None => {
                        let server = EmbeddedPostgres::start(data_dir)?;
                        (server.connect_options(EMBEDDED_DATABASE), Some(server))
                    }
                }
            }
        };
        create_database_if_missing(&options).await?;
        let pool = pool(options, max_connections);
        crate::store::MIGRATOR
            .run(&pool)
            .await
            .context("cannot apply the database migrations")?;
        Ok(Database { pool, embedded })
    }

    /// Closes the pool and stops the embedded server, if this process started one.
    pub async fn close(mut self) {
        self.pool.close().await;
        if let Some(mut server) = self.embedded.take() {
            server.stop();
        }
    }
}

/// The pool settings: calls fail fast with UNAVAILABLE when PostgreSQL is down, and connections
/// are checked before use, so the pool recovers by itself once it is back.
pub fn pool(options: PgConnectOptions, max_connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(true)
        .connect_lazy_with(options)
}

/// Creates the database `options` names, through the server's `postgres` database, unless it
/// exists. Replicas racing to create it are fine: the loser sees it exists.
pub async fn create_database_if_missing(options: &PgConnectOptions) -> anyhow::Result<()> {
    let name = options.get_database().unwrap_or("postgres").to_owned();
    let mut admin = options
        .clone()
        .database("postgres")
        .connect()
        .await
        .context("cannot connect to PostgreSQL")?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let create = format!("create database \"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&create).execute(&mut admin).await {
            Ok(_) => tracing::info!(database = %name, "created the database"),
            // 42P04: duplicate_database, another replica was faster
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create the database {name:?}"));
            }
        }
    }
    admin.close().await?;
    Ok(())
}
