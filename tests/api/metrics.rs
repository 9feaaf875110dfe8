//! The Prometheus endpoint of `serve --metrics-listen`. The process has one metrics recorder,
//! which every server in this test binary records into once it is installed, so the counts
//! checked here are lower bounds.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use claim_registry::api::proto::article_service_client::ArticleServiceClient;
use claim_registry::api::proto::claim_service_client::ClaimServiceClient;
use claim_registry::api::proto::{ExtractClaimsRequest, GetArticleRequest, ListArticlesRequest};
use claim_registry::database::Database;
use claim_registry::domain::Role;
use claim_registry::server::Settings;
use tonic::Code;

use crate::helpers::{SAMPLE, spawn_app};

/// Sends `GET path` over plain HTTP/1.1; the status code and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, body.to_owned())
    })
    .await
    .unwrap()
}

/// The value of the sample `name` whose labels include all of `labels`, in a text-format scrape.
fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (label_text, value) = match rest.strip_prefix('{') {
            Some(rest) => rest.split_once("} ")?,
            None => ("", rest.strip_prefix(' ')?),
        };
        labels
            .iter()
            .all(|(key, value)| label_text.contains(&format!("{key}=\"{value}\"")))
            .then(|| value.trim().parse().ok())?
    })
}

#[tokio::test]
async fn the_metrics_endpoint_counts_calls_by_method_and_code_and_shows_latency_extraction_and_the_pool()
 {
    let app = spawn_app().await;
    let database = Database::external(app.pool.connect_options().as_ref().clone(), 5);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = metrics.local_addr().unwrap();
    let settings = Settings {
        connect_timeout: Duration::from_secs(10),
        admin_key_dir: tempfile::tempdir().unwrap().keep(),
        metrics: Some(metrics),
        claim_cache_entries: claim_registry::registry::DEFAULT_CLAIM_CACHE_ENTRIES,
        model_dir: None,
        thresholds: Default::default(),
        desk: Default::default(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(claim_registry::server::serve(
        listener,
        database,
        settings,
        async {
            let _ = stopped.await;
        },
    ));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut articles = ArticleServiceClient::new(channel.clone());
    let mut claims = ClaimServiceClient::new(channel);
    let list = || app.as_role(Role::Reader, ListArticlesRequest::default());
    // the server accepts calls once start-up has checked the database
    let deadline = Instant::now() + Duration::from_secs(20);
    while articles.list_articles(list()).await.is_err() {
        assert!(Instant::now() < deadline, "the server becomes ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    articles.list_articles(list()).await.unwrap();
    let missing = GetArticleRequest {
        name: "articles/0190a8d4-0000-7000-8000-000000000000".into(),
        ..Default::default()
    };
    let status = articles
        .get_article(app.as_role(Role::Reader, missing))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let extract = ExtractClaimsRequest {
        text: SAMPLE.into(),
    };
    claims
        .extract_claims(app.as_role(Role::Reader, extract))
        .await
        .unwrap();

    let (code, scrape) = get(metrics_addr, "/metrics").await;
    assert_eq!(code, 200, "{scrape}");
    let list_method = [("method", "/factcheck.v1.ArticleService/ListArticles")];
    let ok = sample(
        &scrape,
        "claim_registry_rpc_calls_total",
        &[list_method[0], ("code", "OK")],
    );
    assert!(ok.is_some_and(|n| n >= 2.0), "{ok:?} in\n{scrape}");
    let not_found = sample(
        &scrape,
        "claim_registry_rpc_calls_total",
        &[
            ("method", "/factcheck.v1.ArticleService/GetArticle"),
            ("code", "NOT_FOUND"),
        ],
    );
    assert!(not_found.is_some_and(|n| n >= 1.0), "{not_found:?}");
    let count = sample(
        &scrape,
        "claim_registry_rpc_duration_seconds_count",
        &list_method,
    );
    let sum = sample(
        &scrape,
        "claim_registry_rpc_duration_seconds_sum",
        &list_method,
    );
    let under_10s = sample(
        &scrape,
        "claim_registry_rpc_duration_seconds_bucket",
        &[list_method[0], ("le", "10")],
    );
    assert!(count.is_some_and(|n| n >= 2.0), "{count:?}");
    assert!(sum.is_some_and(|s| s > 0.0), "{sum:?}");
    assert_eq!(under_10s, count, "every listing took less than 10 s");
    let open = sample(
        &scrape,
        "claim_registry_db_pool_connections",
        &[("state", "open")],
    )
    .expect("the pool's size");
    let idle = sample(
        &scrape,
        "claim_registry_db_pool_connections",
        &[("state", "idle")],
    )
    .expect("the pool's idle connections");
    let in_use = sample(
        &scrape,
        "claim_registry_db_pool_connections",
        &[("state", "in_use")],
    )
    .expect("the pool's connections in use");
    assert!((1.0..=5.0).contains(&open), "{open}");
    assert_eq!(idle + in_use, open);
    let extracted = sample(&scrape, "claim_registry_extraction_input_bytes_sum", &[]);
    assert!(
        extracted.is_some_and(|bytes| bytes >= SAMPLE.len() as f64),
        "{extracted:?}"
    );
    let extractions = sample(
        &scrape,
        "claim_registry_extraction_duration_seconds_count",
        &[],
    );
    assert!(extractions.is_some_and(|n| n >= 1.0), "{extractions:?}");
    assert!(scrape.contains("# HELP claim_registry_rpc_calls_total"));

    assert_eq!(get(metrics_addr, "/other").await.0, 404);
    let _ = stop.send(());
    service.await.unwrap().unwrap();
}
