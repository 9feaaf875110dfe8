//! How long the store's ListClaims query takes at a million claims, for every combination of
//! filters (article, claimant, review state, rating) and every order: p50, p95 and p99 in ms of
//! `store::claims::list` for a first page and the page after it (50 claims each), with filter
//! values drawn from the data, and the index each plan reads. Prints figures; asserts nothing
//! (timings are the machine's), but flags a plan that does not read an index in order.
//!
//! The database is the one `DATABASE_URL` names, else `bench_list_claims` on the PostgreSQL at
//! 127.0.0.1:5432 (user postgres), created if missing and seeded once (with `generate_series`,
//! about a minute) with `CLAIM_BENCH_CLAIMS` claims (default 1,000,000) over
//! `CLAIM_BENCH_ARTICLES` articles (default 10,000); `CLAIM_BENCH_RESEED=1` seeds again. Without
//! a reachable server it says so loudly and measures nothing. `CLAIM_BENCH_CALLS` sets the
//! calls per combination (default 200).

#[path = "claim_listing.rs"]
mod claim_listing;

use std::time::{Duration, Instant};

use claim_listing::{Case, check_plan, middle, picks, seed};
use claim_registry::domain::Cursor;
use claim_registry::store::claims;
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

/// The page size: ListClaims's default.
const PAGE: i64 = 50;

fn setting(variable: &str, default: i64) -> i64 {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/bench_list_claims".into());
    let options: PgConnectOptions = url.parse().expect("DATABASE_URL is a PostgreSQL URL");
    if let Err(e) = claim_registry::database::create_database_if_missing(&options).await {
        eprintln!(
            "\n!!! list_claims bench SKIPPED: no PostgreSQL reachable at {}:{} ({e:#}); set \
             DATABASE_URL\n",
            options.get_host(),
            options.get_port()
        );
        return;
    }
    let mut conn = options.connect().await.expect("a connection");
    claim_registry::store::MIGRATOR
        .run(&mut conn)
        .await
        .expect("migrations apply");
    let (claims_wanted, articles) = (
        setting("CLAIM_BENCH_CLAIMS", 1_000_000),
        setting("CLAIM_BENCH_ARTICLES", 10_000),
    );
    let have: i64 = sqlx::query_scalar("select count(*) from claims")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    if have != claims_wanted || std::env::var("CLAIM_BENCH_RESEED").is_ok() {
        sqlx::query("truncate claims, quotes, verdicts, evidence_sources, articles cascade")
            .execute(&mut conn)
            .await
            .unwrap();
        seed(&mut conn, claims_wanted, articles)
            .await
            .expect("the claims are seeded");
    }
    let calls = usize::try_from(setting("CLAIM_BENCH_CALLS", 200)).unwrap_or(200);
    let picks = picks(&mut conn, calls, 42).await.unwrap();
    let middle = middle(&mut conn).await.unwrap();
    println!(
        "store::claims::list at {have} claims: {calls} filter values per combination, each a \
         first page and the next ({PAGE} claims a page); ms",
        have = claims_wanted
    );
    println!(
        "{:<32} {:<16} {:>7} {:>7} {:>7} {:>7}  index of the plan",
        "filters", "order", "p50", "p95", "p99", "max"
    );
    let mut worst_p95 = (0.0, String::new());
    for case in Case::all().into_iter().chain(Case::triage()) {
        let mut times = Vec::with_capacity(calls * 2);
        // warm the caches once, as a serving database would be
        for pick in picks.iter().take(5) {
            claims::list(&mut conn, &case.filter(pick), case.order, None, PAGE)
                .await
                .unwrap();
        }
        let mut cursor_plan = None;
        for pick in &picks {
            let filter = case.filter(pick);
            let started = Instant::now();
            let first = claims::list(&mut conn, &filter, case.order, None, PAGE)
                .await
                .unwrap();
            times.push(started.elapsed());
            if let Some(id) = first.next_after {
                let cursor = Cursor {
                    id,
                    key: first.next_key,
                };
                let started = Instant::now();
                claims::list(&mut conn, &filter, case.order, Some(cursor), PAGE)
                    .await
                    .unwrap();
                times.push(started.elapsed());
                if cursor_plan.is_none() {
                    cursor_plan = Some((filter, cursor));
                }
            }
        }
        // the plans of a first page, the page after it and one from the middle of the listing
        let mut plans = vec![
            (case.filter(&picks[0]), None),
            (case.filter(&picks[0]), Some(middle)),
        ];
        plans.extend(cursor_plan.map(|(filter, cursor)| (filter, Some(cursor))));
        let mut index = String::new();
        for (filter, cursor) in plans {
            let plan = claims::explain_list(&mut conn, &filter, case.order, cursor, PAGE)
                .await
                .unwrap();
            let checked = match plan.as_deref().map(|p| check_plan(p, &case)) {
                None => "no query (no claim can pass)".to_owned(),
                Some(Ok(index)) => index,
                Some(Err(problem)) => format!("NOT AN INDEX READ OF A PAGE: {problem}"),
            };
            if index.is_empty() || checked.starts_with("NOT") {
                index = checked;
            }
        }
        times.sort();
        let ms = |q: f64| {
            let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
            times[i].as_secs_f64() * 1e3
        };
        let label = case.label();
        let (filters, order) = label.split_at(32);
        println!(
            "{filters} {:<16} {:>7.2} {:>7.2} {:>7.2} {:>7.2}  {index}",
            order.trim(),
            ms(0.50),
            ms(0.95),
            ms(0.99),
            times
                .last()
                .copied()
                .unwrap_or(Duration::ZERO)
                .as_secs_f64()
                * 1e3,
        );
        if ms(0.95) > worst_p95.0 {
            worst_p95 = (ms(0.95), label.clone());
        }
    }
    println!(
        "worst p95: {:.2} ms ({})",
        worst_p95.0,
        worst_p95.1.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}
