//! Where the registry's data lives: an external PostgreSQL named by a URL, or the embedded
//! default run from the data directory. Either way the service gets a pool, migrated before the
//! service reports SERVING.

mod embedded;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::time::Instant;

pub use embedded::EmbeddedPostgres;

/// The database the embedded server keeps the registry in.
pub const EMBEDDED_DATABASE: &str = "claim_registry";

/// How long a call waits for a database connection before it fails with UNAVAILABLE.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// The wait after the first failed attempt to reach the database at start; it doubles.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(250);
/// The longest wait between attempts to reach the database at start.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5);

/// How the service reaches PostgreSQL.
#[derive(Debug, Clone)]
pub enum Location<'a> {
    /// A server named by a URL; its database is created if missing.
    External(&'a str),
    /// The embedded server in this data directory.
    Embedded(&'a Path),
}

/// The registry's database: the pool, and the embedded server when the service runs one.
#[derive(Debug)]
pub struct Database {
    /// The connection pool every call uses. It connects lazily: it exists before PostgreSQL is
    /// reachable, and reconnects by itself after PostgreSQL comes back.
    pub pool: PgPool,
    /// Where the pool connects; used to create the database if it is missing.
    options: PgConnectOptions,
    /// The embedded server this process started, stopped on [`Database::close`].
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Opens the database and applies pending migrations, failing at once when PostgreSQL cannot
    /// be reached: for commands a person runs and watches. On the embedded default, the server is
    /// started, unless `attach` allows using one that another process already runs there.
    pub async fn open(
        location: Location<'_>,
        max_connections: u32,
        attach: bool,
    ) -> anyhow::Result<Self> {
        let database = Database::start(location, max_connections, attach)?;
        database.migrate().await?;
        Ok(database)
    }

    /// Everything short of connecting: parses the URL, or starts the embedded server (unless
    /// `attach` allows using one another process runs), and makes the pool. [`Database::migrate`]
    /// or [`Database::migrate_when_reachable`] makes it ready for calls.
    pub fn start(
        location: Location<'_>,
        max_connections: u32,
        attach: bool,
    ) -> anyhow::Result<Self> {
        let data_dir = match location {
            Location::External(url) => {
                let options = url
                    .parse()
                    .context("the database URL is not a valid PostgreSQL URL")?;
                return Ok(Database::external(options, max_connections));
            }
            Location::Embedded(data_dir) => data_dir,
        };
        let (options, embedded) = match EmbeddedPostgres::attach(data_dir).filter(|_| attach) {
            Some(options) => (options.database(EMBEDDED_DATABASE), None),
            None => {
                let server = EmbeddedPostgres::start(data_dir)?;
                (server.connect_options(EMBEDDED_DATABASE), Some(server))
            }
        };
        Ok(Database {
            pool: pool(options.clone(), max_connections),
            options,
            embedded,
        })
    }

    /// An external database given by connection options rather than a URL, such as a test's;
    /// like [`Database::start`], it does not connect yet.
    pub fn external(options: PgConnectOptions, max_connections: u32) -> Self {
        Database {
            pool: pool(options.clone(), max_connections),
            options,
            embedded: None,
        }
    }

    /// Creates the database if it is missing and applies pending migrations, once.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        create_database_if_missing(&self.options).await?;
        crate::store::MIGRATOR
            .run(&self.pool)
            .await
            .context("cannot apply the database migrations")?;
        Ok(())
    }

    /// [`Database::migrate`], tried again with backoff while PostgreSQL cannot be reached, for at
    /// most `timeout`: a service may start before its database. A failure that waiting does not
    /// mend (a wrong password, a broken migration) fails at once.
    pub async fn migrate_when_reachable(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut delay = FIRST_RETRY_DELAY;
        for attempt in 1.. {
            let left = deadline.saturating_duration_since(Instant::now());
            // an unreachable host may leave a connection attempt hanging well past the deadline
            let error = match tokio::time::timeout(left, self.migrate()).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(error)) if !is_transient(&error) => return Err(error),
                Ok(Err(error)) => error,
                Err(_) => anyhow::anyhow!("no answer from PostgreSQL"),
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(error.context(format!(
                    "cannot reach PostgreSQL: gave up after {attempt} attempts in {timeout:?} \
                     (--db-connect-timeout)"
                )));
            }
            let wait = delay.min(left);
            tracing::warn!(
                error = format!("{error:#}"),
                attempt,
                retry_in_ms = wait.as_millis() as u64,
                gives_up_in_s = left.as_secs(),
                "database unreachable at start: trying again"
            );
            tokio::time::sleep(wait).await;
            delay = (delay * 2).min(MAX_RETRY_DELAY);
        }
        unreachable!("the attempts loop returns")
    }

    /// The embedded server's process id while it runs; `None` on an external database.
    pub fn embedded_pid(&self) -> Option<u32> {
        self.embedded.as_ref().and_then(EmbeddedPostgres::pid)
    }

    /// Closes the pool and stops the embedded server, if this process started one.
    pub async fn close(mut self) {
        self.pool.close().await;
        if let Some(mut server) = self.embedded.take() {
            server.stop();
        }
    }
}

/// Whether a start-up failure may mend by waiting: PostgreSQL not (yet) reachable, starting up,
/// shutting down or out of connections. Anything else, such as a refused password or a failed
/// migration, will fail the same way again.
fn is_transient(error: &anyhow::Error) -> bool {
    let Some(error) = error.chain().find_map(|e| e.downcast_ref::<sqlx::Error>()) else {
        return false;
    };
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // class 08: connection exception; 57P01..57P03: shutting down or starting up;
            // 53300: too many connections
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// How long a pooled connection may sit idle before it is pinged on its way out of the pool.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// The pool settings: calls fail fast with UNAVAILABLE when PostgreSQL is down, and the pool
/// recovers by itself once it is back. A connection is pinged before use only when it sat idle
/// for over [`PING_IF_IDLE_FOR`]: under load every connection is busy and a ping per call would
/// be a round trip per call for nothing, while an idle pool, the one a restarted server left
/// broken, is checked. A broken connection that slips through fails its call with UNAVAILABLE
/// (and a RetryInfo) once and is dropped; the health check's query sweeps the rest.
pub fn pool(options: PgConnectOptions, max_connections: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_IF_IDLE_FOR {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
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

#[cfg(test)]
mod tests {
    use std::io::{Error as IoError, ErrorKind};

    use sqlx::migrate::MigrateError;

    use super::*;

    #[test]
    fn a_database_not_up_yet_is_waited_for_and_a_broken_migration_is_not() {
        let refused = || sqlx::Error::Io(IoError::from(ErrorKind::ConnectionRefused));
        let connecting = anyhow::Error::new(refused()).context("cannot connect to PostgreSQL");
        assert!(is_transient(&connecting));
        let migrating = anyhow::Error::new(MigrateError::Execute(refused()))
            .context("cannot apply the database migrations");
        assert!(is_transient(&migrating));
        let dirty = anyhow::Error::new(MigrateError::Dirty(3))
            .context("cannot apply the database migrations");
        assert!(!is_transient(&dirty));
        assert!(!is_transient(&anyhow::anyhow!("something else")));
    }
}
