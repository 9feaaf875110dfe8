//! Logging: `tracing` to standard error, filtered by `RUST_LOG`, as text or JSON lines.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber, with colour only when standard error is a terminal. `RUST_LOG` filters (default: `info`, with sqlx's per-query
/// lines and tantivy's per-commit lines at `warn`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tantivy=warn"));
    // colour escapes only for a person at a terminal, never into a file or a collector
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    // a second init (as in tests) keeps the first subscriber
    drop(result);
}
