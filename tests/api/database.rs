use std::time::Duration;

use claim_registry::api::proto::ListArticlesRequest;
use claim_registry::domain::Role;
use tonic::Code;

use crate::helpers::{OwnedServer, spawn_app_on};

fn fresh_dir() -> tempfile::TempDir {
    // in the system's temporary directory, which the postgres user can reach when tests run as root
    let dir = tempfile::Builder::new()
        .prefix("claim-registry-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn the_embedded_database_starts_from_an_empty_directory_and_keeps_data_across_restarts() {
    let dir = fresh_dir();
    let (options, server) = OwnedServer::start(dir.path().join("data"));
    let app = spawn_app_on(options.clone().database("registry")).await;
    app.create_article("https://news.example/kept", "Kept across restarts.")
        .await;
    drop(app);
    server.stop();

    let (options, server) = OwnedServer::start(dir.path().join("data"));
    let pool = claim_registry::database::pool(options.database("registry"), 1);
    let urls: Vec<String> = sqlx::query_scalar("select url from articles")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(urls, ["https://news.example/kept"]);
    pool.close().await;
    server.stop();
}

#[tokio::test]
async fn calls_fail_as_unavailable_while_the_database_is_down_and_succeed_once_it_is_back() {
    let dir = fresh_dir();
    let (options, server) = OwnedServer::start(dir.path().join("data"));
    let app = spawn_app_on(options.database("registry")).await;
    let list = || app.as_role(Role::Reader, ListArticlesRequest::default());
    app.articles.clone().list_articles(list()).await.unwrap();

    server.stop();
    let status = app
        .articles
        .clone()
        .list_articles(list())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        !status.message().to_lowercase().contains("sql"),
        "no driver text leaks: {}",
        status.message()
    );

    let (_, server) = OwnedServer::start(dir.path().join("data"));
    let mut recovered = false;
    for _ in 0..50 {
        if app.articles.clone().list_articles(list()).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "the service recovers by itself once PostgreSQL is back"
    );
    drop(app);
    server.stop();
}
