//! How long `CreateArticle` with `extract_claims` takes, through the real gRPC server: on the
//! sample excerpt (a normal article), on a pathological 1 MiB body, `“Yes,” Putin said. `
//! repeated, in which the extractor finds a claim every 23 bytes, and on a 1 MiB body with one
//! such claim every KiB (about as many as an article may register, spread over the whole
//! body). Beside each, the time of ExtractClaims on the same body: the extractor's share, which
//! is not the registry's. Prints figures; asserts nothing, since timings are the machine's.
//!
//! The database is the one `DATABASE_URL` names, else `bench_create_article` on the PostgreSQL
//! at 127.0.0.1:5432 (user postgres), created if missing. Without a reachable server it says so
//! loudly and measures nothing. `CLAIM_BENCH_BIG_RUNS` sets how often the 1 MiB body is sent
//! (default 3); `CLAIM_BENCH_SAMPLE_RUNS` the sample's runs (default 20).

use std::time::{Duration, Instant};

use claim_registry::api::proto::article_service_client::ArticleServiceClient;
use claim_registry::api::proto::claim_service_client::ClaimServiceClient;
use claim_registry::api::proto::{Article, CreateArticleRequest, ExtractClaimsRequest};
use claim_registry::domain::limits::MAX_BODY_BYTES;
use claim_registry::domain::{NewApiKey, Role};
use claim_registry::registry::Registry;
use sqlx::postgres::PgConnectOptions;
use tonic::transport::Channel;

/// The repeated sentence of the pathological body.
const PATHOLOGICAL: &str = "“Yes,” Putin said. ";

fn runs(variable: &str, default: usize) -> usize {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn options() -> PgConnectOptions {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/bench_create_article".into());
    url.parse().expect("DATABASE_URL is a PostgreSQL URL")
}

fn request(url: String, body: &str) -> CreateArticleRequest {
    CreateArticleRequest {
        article: Some(Article {
            url,
            title: "Bench".into(),
            publisher: "Bench Wire".into(),
            language_code: "en".into(),
            body: body.into(),
            ..Default::default()
        }),
        request_id: String::new(),
        extract_claims: true,
    }
}

/// A request carrying the key.
fn authorized<T>(secret: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    request
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let options = options();
    if let Err(e) = claim_registry::database::create_database_if_missing(&options).await {
        eprintln!(
            "\n!!! create_article bench SKIPPED: no PostgreSQL reachable at {}:{} ({e:#}); set \
             DATABASE_URL\n",
            options.get_host(),
            options.get_port()
        );
        return;
    }
    let pool = claim_registry::database::pool(options, 10);
    claim_registry::store::MIGRATOR
        .run(&pool)
        .await
        .expect("migrations apply");
    let registry = Registry::new(pool.clone());
    let name = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let (_, secret) = registry
        .create_api_key(NewApiKey {
            display_name: name,
            role: Role::Submitter,
        })
        .await
        .expect("a key is created");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(claim_registry::server::run(
        listener,
        registry,
        std::future::pending(),
    ));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    // the old service answered the 1 MiB body with ~45,600 claims, far over the default 4 MiB
    let client = ArticleServiceClient::new(channel.clone()).max_decoding_message_size(usize::MAX);
    let extractor = ClaimServiceClient::new(channel).max_decoding_message_size(usize::MAX);

    let sample = include_str!("../data/sample-excerpt.txt");
    let big = PATHOLOGICAL.repeat(MAX_BODY_BYTES / PATHOLOGICAL.len());
    // about as many claims as an article may register, spread over 1 MiB: anchoring and the
    // database's re-check of each quote walk the body up to the quote's offset
    let filler = "The committee met again on Tuesday and went through the budget line by line. ";
    let spread_unit = format!("{PATHOLOGICAL}{}", filler.repeat(13));
    let spread = spread_unit.repeat(MAX_BODY_BYTES / spread_unit.len());
    let run = uuid::Uuid::new_v4().simple().to_string();
    for (label, body, n) in [
        (
            "sample excerpt",
            sample,
            runs("CLAIM_BENCH_SAMPLE_RUNS", 20),
        ),
        (
            "1 MiB pathological body",
            big.as_str(),
            runs("CLAIM_BENCH_BIG_RUNS", 3),
        ),
        (
            "1 MiB, claims spread",
            spread.as_str(),
            runs("CLAIM_BENCH_BIG_RUNS", 3),
        ),
    ] {
        let (mut times, mut previews) = (Vec::new(), Vec::new());
        let (mut claims, mut found) = (0, 0);
        for i in 0..n {
            // the extractor alone, as the preview runs it: the part of the time that is not
            // the registry's
            let started = Instant::now();
            extractor
                .clone()
                .extract_claims(authorized(
                    secret.expose(),
                    ExtractClaimsRequest { text: body.into() },
                ))
                .await
                .expect("ExtractClaims succeeds");
            previews.push(started.elapsed());
            let url = format!(
                "https://bench.example/{run}/{}/{i}",
                label.replace(' ', "-")
            );
            let request = authorized(secret.expose(), request(url, body));
            let started = Instant::now();
            let reply = client
                .clone()
                .create_article(request)
                .await
                .expect("CreateArticle succeeds")
                .into_inner();
            times.push(started.elapsed());
            claims = reply.claims.len();
            found = reply.extracted_claims_found;
        }
        report(label, body.len(), claims, found, times, previews);
    }
}

fn report(
    label: &str,
    bytes: usize,
    claims: usize,
    found: u32,
    mut times: Vec<Duration>,
    mut previews: Vec<Duration>,
) {
    if times.is_empty() {
        return;
    }
    times.sort();
    previews.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "CreateArticle+extract_claims, {label:<24} {bytes:>8} bytes, {claims:>5} claims of \
         {found:>5} found: median {:>9.1} ms (min {:.1}, max {:.1}, {} runs); ExtractClaims \
         alone: median {:.1} ms",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len(),
        ms(previews[previews.len() / 2]),
    );
}
