use std::time::{Duration, Instant};

use claim_registry::api::proto::ListArticlesRequest;
use claim_registry::api::proto::article_service_client::ArticleServiceClient;
use claim_registry::database::{Database, EmbeddedPostgres, Location};
use claim_registry::domain::{NewApiKey, Role};
use claim_registry::registry::Registry;
use claim_registry::server::Settings;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_types::StatusExt;

use crate::helpers::{OwnedServer, spawn_app_on, with_key};

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

/// The process group of a process, from `/proc/<pid>/stat` (the fifth field).
fn process_group(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // the command name in parentheses may hold spaces: count fields after its closing parenthesis
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    after_name.split(' ').nth(2).unwrap().parse().unwrap()
}

#[test]
fn the_embedded_database_runs_in_a_process_group_of_its_own_so_a_terminal_ctrl_c_spares_it() {
    let dir = fresh_dir();
    let mut server = EmbeddedPostgres::start(&dir.path().join("data")).unwrap();
    let pid = server.pid().expect("the server runs");
    let ours = process_group(std::process::id());
    let its = process_group(pid);
    server.stop();
    assert_ne!(
        its, ours,
        "the terminal's SIGINT goes to the foreground process group, which must not hold the server"
    );
}

/// Whether `pid` is a zombie: exited, but not yet reaped by its parent.
fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat[stat.rfind(')').unwrap() + 2..].starts_with('Z'))
}

#[tokio::test]
async fn an_embedded_database_killed_under_the_service_is_reaped_and_restarted() {
    let dir = fresh_dir();
    let database = Database::open(Location::Embedded(&dir.path().join("data")), 5, false)
        .await
        .unwrap();
    let registry = Registry::new(database.pool.clone());
    let key = NewApiKey {
        display_name: "reader".into(),
        role: Role::Reader,
    };
    let (_, secret) = registry.create_api_key(key).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(claim_registry::server::run(listener, registry, async {
        let _ = stopped.await;
    }));
    let articles = ArticleServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let list = || async {
        let request = with_key(secret.expose(), ListArticlesRequest::default());
        // a call waits at most the pool's acquire timeout; this bounds it in any case
        tokio::time::timeout(
            Duration::from_secs(10),
            articles.clone().list_articles(request),
        )
        .await
        .map_err(|_| tonic::Status::deadline_exceeded("no reply in 10 s"))
        .and_then(|reply| reply)
    };
    list().await.expect("the service works before the kill");

    let pid = database.embedded_pid().expect("the embedded server runs");
    kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();

    // until a new server runs and a call succeeds: a call right after the kill may still be
    // served by a backend of the dead server, which lingers until it notices
    let deadline = Instant::now() + Duration::from_secs(40);
    let restarted = || database.embedded_pid().is_some_and(|new| new != pid);
    let mut last = list().await;
    while !(restarted() && last.is_ok()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        last = list().await;
    }
    assert!(restarted(), "a new embedded server was started");
    let zombie = is_zombie(pid);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    database.close().await;
    assert!(!zombie, "the killed server was reaped");
    assert!(
        last.is_ok(),
        "calls succeed again after a restart: {last:?}"
    );
}

/// A `postgres://` URL for the database `name` on the embedded server that `data_dir` will run,
/// reached through its socket directory: known before the server starts.
fn embedded_url(data_dir: &std::path::Path, name: &str) -> String {
    format!(
        "postgres:///{name}?host={}&user=postgres",
        data_dir.join("run").display()
    )
}

/// The health status the server reports for itself.
async fn health(addr: std::net::SocketAddr) -> Result<ServingStatus, tonic::Status> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut client = HealthClient::new(channel);
    let reply = client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?;
    Ok(reply.into_inner().status())
}

#[tokio::test]
async fn the_service_serves_not_serving_until_a_late_database_is_up_then_serves_with_an_admin_key()
{
    let dir = fresh_dir();
    let data = dir.path().join("data");
    let url = embedded_url(&data, "registry");
    let database = Database::start(Location::External(&url), 5, false).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = Settings {
        connect_timeout: Duration::from_secs(60),
        admin_key_dir: dir.path().join("keys"),
        metrics: None,
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

    // up, but with no database yet: not serving, and calls are told to come back
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!service.is_finished(), "serve waits for the database");
    assert_eq!(health(addr).await.unwrap(), ServingStatus::NotServing);
    let mut articles = ArticleServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let status = articles
        .list_articles(with_key("any", ListArticlesRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.get_details_retry_info().is_some(),
        "the refusal says when to retry: {status:?}"
    );
    assert!(!dir.path().join("keys/admin-key").exists());

    let (_, postgres) = OwnedServer::start(data);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = health(addr).await;
    while !matches!(last, Ok(ServingStatus::Serving)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        last = health(addr).await;
    }
    assert_eq!(last.unwrap(), ServingStatus::Serving);
    let admin = std::fs::read_to_string(dir.path().join("keys/admin-key"))
        .expect("the first admin key is written once the database is there");
    articles
        .list_articles(with_key(admin.trim(), ListArticlesRequest::default()))
        .await
        .expect("the admin key works");

    let _ = stop.send(());
    service.await.unwrap().unwrap();
    postgres.stop();
}

#[tokio::test]
async fn the_service_gives_up_with_a_clear_error_when_the_database_never_comes() {
    let dir = fresh_dir();
    let url = embedded_url(&dir.path().join("nothing"), "registry");
    let database = Database::start(Location::External(&url), 5, false).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = Settings {
        connect_timeout: Duration::from_secs(1),
        admin_key_dir: dir.path().join("keys"),
        metrics: None,
        claim_cache_entries: claim_registry::registry::DEFAULT_CLAIM_CACHE_ENTRIES,
        model_dir: None,
        thresholds: Default::default(),
        desk: Default::default(),
    };
    let started = Instant::now();
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        claim_registry::server::serve(listener, database, settings, std::future::pending()),
    )
    .await
    .expect("serve gives up in bounded time");
    let error = format!("{:#}", outcome.unwrap_err());
    assert!(
        error.contains("cannot reach PostgreSQL") && error.contains("--db-connect-timeout"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
