//! `cargo bench --bench load`: calls per second and latency percentiles of the service's main
//! RPCs under concurrent load on this machine, beside two yardsticks measured in the same run:
//!
//! - a tonic "hello world": the standard health service's `Check`, served alone by tonic with
//!   no database, which bounds what any tonic service can do here;
//! - pgbench running the SQL statements `CreateVerdict` runs, with as many clients as the load
//!   generator, which bounds what any service on this PostgreSQL can do.
//!
//! It prints the two ratios the hardening issue sets goals for: `GetClaim` ≥ 0.5× hello world,
//! `CreateVerdict` ≥ 0.9× pgbench. Prints figures; asserts nothing, since timings are the
//! machine's. Everything runs on 127.0.0.1 and each scenario is bounded in time.
//!
//! The database is the one `DATABASE_URL` names, else an embedded PostgreSQL in a temporary
//! directory. Settings: `LOAD_SECONDS` (per scenario, default 5), `LOAD_CLIENTS` (concurrent
//! calls in flight, default 50), `LOAD_CHANNELS` (HTTP/2 connections, default 4), `LOAD_POOL`
//! (the service's database connections, default 10 as `serve`'s).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use claim_registry::api::proto::article_service_client::ArticleServiceClient;
use claim_registry::api::proto::claim_service_client::ClaimServiceClient;
use claim_registry::api::proto::{
    Article, Claim, CreateArticleRequest, CreateClaimRequest, CreateVerdictRequest,
    ExtractClaimsRequest, GetClaimRequest, ListClaimsRequest, Quote, QuoteKind,
    SearchClaimsRequest, Verdict,
};
use claim_registry::database::{self, EmbeddedPostgres, create_database_if_missing};
use claim_registry::domain::{ClaimName, NewApiKey, Role};
use claim_registry::registry::Registry;
use claim_registry::store::claims as claim_store;
use sqlx::postgres::PgConnectOptions;
use tonic::transport::{Channel, Server};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const SAMPLE: &str = include_str!("../data/sample-excerpt.txt");

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one scenario measured.
struct Figures {
    calls: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u64>,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.calls as f64 / self.seconds
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        self.latencies_us[i] as f64 / 1000.0
    }

    fn print(&self, name: &str) {
        println!(
            "{name:<34} {:>9.0} calls/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} calls, {} errors)",
            self.rate(),
            self.percentile(0.50),
            self.percentile(0.99),
            self.calls,
            self.errors
        );
    }
}

/// Runs `call` from `clients` concurrent tasks for `seconds`; each task gets its index and the
/// number of calls it made so far, to vary its requests.
async fn drive<F, Fut>(clients: u64, seconds: u64, call: F) -> Figures
where
    F: Fn(u64, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let call = call.clone();
        tasks.spawn(async move {
            let (mut latencies, mut errors, mut n) = (Vec::new(), 0usize, 0u64);
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = call(client, n).await;
                latencies.push(t.elapsed().as_micros() as u64);
                errors += usize::from(!ok);
                n += 1;
            }
            (latencies, errors)
        });
    }
    let mut figures = Figures {
        calls: 0,
        errors: 0,
        seconds: 0.0,
        latencies_us: Vec::new(),
    };
    while let Some(done) = tasks.join_next().await {
        let (latencies, errors) = done.expect("a load task finishes");
        figures.calls += latencies.len();
        figures.errors += errors;
        figures.latencies_us.extend(latencies);
    }
    figures.seconds = started.elapsed().as_secs_f64();
    figures.latencies_us.sort_unstable();
    figures
}

/// The database to load: `DATABASE_URL`'s server, else an embedded one kept alive on a thread
/// of its own for the whole run (the server follows its starting thread).
fn database_server() -> PgConnectOptions {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return url.parse().expect("DATABASE_URL is a PostgreSQL URL");
    }
    let dir = tempfile::Builder::new()
        .prefix("claim-registry-load-")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let server = EmbeddedPostgres::start(&dir).expect("the embedded PostgreSQL starts");
        ready_tx.send(server.connect_options("postgres")).unwrap();
        std::thread::park();
        drop(server);
    });
    ready_rx.recv().expect("the embedded PostgreSQL is ready")
}

/// A request carrying `authorization: Bearer <secret>`.
fn auth<T>(secret: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {secret}")
            .parse()
            .expect("secrets are ASCII"),
    );
    request
}

/// splitmix64's finalizer: a well-spread number for each input.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn pgbench() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        candidates.extend(entries.flatten().map(|e| e.path().join("bin")));
    }
    candidates
        .into_iter()
        .map(|dir| dir.join("pgbench"))
        .find(|p| p.is_file())
}

/// pgbench running the statements of one `CreateVerdict` (as `src/store/` issues them: lock
/// the claim, then insert the verdict with its evidence and make it current in one statement)
/// on a random claim among the first `claims`, with `clients` connections for `seconds`, as the
/// key `reviewer`; transactions/s.
fn pgbench_create_verdict(
    options: &PgConnectOptions,
    clients: u64,
    seconds: u64,
    claims: usize,
    reviewer: uuid::Uuid,
) -> Option<f64> {
    let Some(pgbench) = pgbench() else {
        println!("pgbench: not found on PATH or in /usr/lib/postgresql/*/bin; no ratio");
        return None;
    };
    // the claim to judge is picked and locked in one statement, through a numbered copy of the
    // claims' ids the bench made; then the one statement `verdicts::insert` runs
    let script = r#"
\set k random(0, :claims - 1)
begin;
select id as claim from claims where id = (select id from load_claims where n = :k) for update \gset
with verdict as (insert into verdicts (id, claim_id, rating, textual_rating, explanation, reviewer, reviewer_key_id, state, revision, review_url, headline, publish_time, publisher, publisher_key_id) values (gen_random_uuid(), :claim, 'false', '', 'load test', 'load-reviewer', :reviewer, 'published', 1, null, '', now(), 'load-reviewer', :reviewer) returning id, create_time), history as (insert into verdict_history (verdict_id, step, action, actor, actor_key_id, content) select id, 1, 'published', 'load-reviewer', :reviewer, '{"rating": "false", "textual_rating": "", "explanation": "load test", "evidence": [], "review_url": null, "headline": "", "state": "published", "revision": 1}'::jsonb from verdict), evidence as (insert into evidence_sources (verdict_id, position, url, title) select (select id from verdict), (e.n - 1)::int4, e.url, e.title from unnest('{}'::text[], '{}'::text[]) with ordinality as e (url, title, n)), claim as (update claims set review_state = 'reviewed', current_verdict_id = (select id from verdict), current_rating = 'false', version = version + 1, update_time = now() where id = :claim) select create_time from verdict;
commit;
"#;
    let path =
        std::env::temp_dir().join(format!("claim-registry-pgbench-{}.sql", std::process::id()));
    std::fs::write(&path, script).ok()?;
    let mut command = std::process::Command::new(pgbench);
    command
        .args(["-n", "-j", "2", "-M", "prepared"])
        .arg("-D")
        .arg(format!("claims={claims}"))
        .arg("-D")
        .arg(format!("reviewer={reviewer}"))
        .arg("-c")
        .arg(clients.to_string())
        .arg("-T")
        .arg(seconds.to_string())
        .arg("-f")
        .arg(&path)
        .arg("-U")
        .arg(options.get_username())
        .arg("-p")
        .arg(options.get_port().to_string())
        .arg("-h");
    match options.get_socket() {
        Some(socket) => command.arg(socket),
        None => command.arg(options.get_host()),
    };
    command.arg(options.get_database().unwrap_or("postgres"));
    let output = command.output().ok()?;
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&output.stdout);
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok());
    if tps.is_none() {
        println!(
            "pgbench failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    tps
}

/// How long a claim registered on one replica takes to be found by `SearchClaims` on another
/// (the issue's goal: within 1 s of its commit): 40 claims, one at a time, each searched for by
/// a word only it has every 5 ms until found (at most 5 s), timed from `CreateClaim`'s reply.
async fn searchable(
    writer: &Channel,
    reader: &Channel,
    articles: &[String],
    submitter: &str,
    reviewer: &str,
) {
    let mut claims = ClaimServiceClient::new(writer.clone());
    let mut search = ClaimServiceClient::new(reader.clone());
    // the second replica builds its index first
    let deadline = Instant::now() + Duration::from_secs(60);
    while search
        .search_claims(auth(
            reviewer,
            SearchClaimsRequest {
                query: "load".into(),
                ..Default::default()
            },
        ))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the second replica's index is never built"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut waits = Vec::new();
    let mut missed = 0;
    for i in 0..40 {
        let word = format!("zebraquartz{i}x{}", std::process::id());
        let claim = Claim {
            statement: format!("The load test registered {word} a moment ago"),
            claimant: "Load Tester".into(),
            // each article ends "Edition {n}."
            quotes: vec![Quote {
                article: articles[i % articles.len()].clone(),
                text: format!("Edition {}.", i % articles.len()),
                speaker: "Putin".into(),
                kind: QuoteKind::Indirect.into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let request = CreateClaimRequest {
            claim: Some(claim),
            request_id: String::new(),
        };
        let name = claims
            .create_claim(auth(submitter, request))
            .await
            .expect("the claim is registered")
            .into_inner()
            .claim
            .unwrap()
            .name;
        let created = Instant::now();
        loop {
            let request = SearchClaimsRequest {
                query: word.clone(),
                page_size: 5,
                ..Default::default()
            };
            let found = search
                .search_claims(auth(reviewer, request))
                .await
                .map(|r| {
                    r.into_inner()
                        .results
                        .iter()
                        .any(|r| r.claim.as_ref().is_some_and(|c| c.name == name))
                })
                .unwrap_or(false);
            if found {
                waits.push(created.elapsed().as_micros() as u64);
                break;
            }
            if created.elapsed() > Duration::from_secs(5) {
                missed += 1;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // spread the claims over the follower's polling cycle
        tokio::time::sleep(Duration::from_millis(37)).await;
    }
    waits.sort_unstable();
    let at = |p: f64| {
        waits
            .get(((waits.len().max(1) - 1) as f64 * p).round() as usize)
            .map_or(f64::NAN, |us| *us as f64 / 1000.0)
    };
    println!(
        "{:<34} p50 {:>7.1} ms   p95 {:>7.1} ms   max {:>7.1} ms   ({} claims, {missed} not found within 5 s)",
        "new claim searchable elsewhere",
        at(0.5),
        at(0.95),
        at(1.0),
        waits.len()
    );
}

fn main() {
    let seconds = setting("LOAD_SECONDS", 5);
    let clients = setting("LOAD_CLIENTS", 50);
    let channels = setting("LOAD_CHANNELS", 4).max(1);
    let pool_size = u32::try_from(setting("LOAD_POOL", 10)).unwrap_or(10).max(1);
    let server = database_server();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let database = format!("load_{}", uuid::Uuid::new_v4().simple());
        let options = server.database(&database);
        create_database_if_missing(&options).await.expect("the load database is created");
        let pool = database::pool(options.clone(), pool_size);
        claim_registry::store::MIGRATOR.run(&pool).await.expect("migrations apply");
        let registry = Registry::new(pool.clone());
        let secret = |name: &str, role| {
            let registry = registry.clone();
            let name = name.to_owned();
            async move {
                let key = NewApiKey { display_name: name, role };
                registry.create_api_key(key).await.expect("a key").1.expose().to_owned()
            }
        };
        let submitter = secret("load-submitter", Role::Submitter).await;
        let reviewer = secret("load-reviewer", Role::Reviewer).await;

        // the registry under test and the hello-world yardstick, each on a port of its own
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(claim_registry::server::run(listener, registry, std::future::pending()));
        let hello = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hello_addr = hello.local_addr().unwrap();
        let (_, health) = tonic_health::server::health_reporter();
        tokio::spawn(
            Server::builder().add_service(health).serve_with_incoming(
                tonic::transport::server::TcpIncoming::from(hello).with_nodelay(Some(true)),
            ),
        );
        let connect = |addr: std::net::SocketAddr| async move {
            let mut all = Vec::new();
            for _ in 0..channels {
                all.push(
                    Channel::from_shared(format!("http://{addr}"))
                        .unwrap()
                        .tcp_nodelay(true)
                        .connect()
                        .await
                        .expect("the server answers"),
                );
            }
            all
        };
        let ours = connect(addr).await;
        let theirs = connect(hello_addr).await;

        // data: 20 articles with their extracted claims
        let mut articles = ArticleServiceClient::new(ours[0].clone());
        let mut article_names = Vec::new();
        for i in 0..20 {
            let request = CreateArticleRequest {
                article: Some(Article {
                    url: format!("https://load.example/{i}"),
                    title: "Load".into(),
                    publisher: "Load Wire".into(),
                    language_code: "en".into(),
                    body: format!("{SAMPLE}\n\nEdition {i}."),
                    ..Default::default()
                }),
                request_id: String::new(),
                extract_claims: true,
            };
            let reply = articles.create_article(auth(&submitter, request)).await.expect("article").into_inner();
            article_names.push(reply.article.unwrap().name);
        }
        let claims: Vec<String> = sqlx::query_scalar("select 'claims/' || id::text from claims order by id")
            .fetch_all(&pool)
            .await
            .unwrap();
        println!(
            "load: {clients} concurrent calls over {channels} connections, {pool_size} database connections, {seconds} s per scenario, {} claims in {} articles\n",
            claims.len(),
            article_names.len()
        );

        let health = drive(clients, seconds, {
            let theirs = theirs.clone();
            move |c, _| {
                let mut client = HealthClient::new(theirs[c as usize % theirs.len()].clone());
                async move { client.check(HealthCheckRequest { service: String::new() }).await.is_ok() }
            }
        })
        .await;
        health.print("hello world (tonic health Check)");

        let get = drive(clients, seconds, {
            let (ours, claims, reviewer) = (ours.clone(), claims.clone(), reviewer.clone());
            move |c, n| {
                let mut client = ClaimServiceClient::new(ours[c as usize % ours.len()].clone());
                let name = claims[((c * 7919 + n) as usize) % claims.len()].clone();
                let request = auth(&reviewer, GetClaimRequest { name });
                async move { client.get_claim(request).await.is_ok() }
            }
        })
        .await;
        get.print("GetClaim");

        // the same read without gRPC: what the database and driver alone allow
        let direct = drive(clients, seconds, {
            let (pool, claims) = (pool.clone(), claims.clone());
            move |c, n| {
                let pool = pool.clone();
                let name = ClaimName::parse(&claims[((c * 7919 + n) as usize) % claims.len()])
                    .expect("claim names parse");
                async move {
                    match pool.acquire().await {
                        Ok(mut conn) => claim_store::get(&mut conn, name).await.is_ok(),
                        Err(_) => false,
                    }
                }
            }
        })
        .await;
        direct.print("GetClaim's read, store only");

        let list = drive(clients, seconds, {
            let (ours, names, reviewer) = (ours.clone(), article_names.clone(), reviewer.clone());
            move |c, n| {
                let mut client = ClaimServiceClient::new(ours[c as usize % ours.len()].clone());
                let article = names[((c + n) as usize) % names.len()].clone();
                let request = auth(&reviewer, ListClaimsRequest { article, page_size: 10, ..Default::default() });
                async move { client.list_claims(request).await.is_ok() }
            }
        })
        .await;
        list.print("ListClaims by article (10)");

        let extract = drive(clients, seconds, {
            let (ours, reviewer) = (ours.clone(), reviewer.clone());
            move |c, _| {
                let mut client = ClaimServiceClient::new(ours[c as usize % ours.len()].clone());
                let request = auth(&reviewer, ExtractClaimsRequest { text: SAMPLE.into() });
                async move { client.extract_claims(request).await.is_ok() }
            }
        })
        .await;
        extract.print("ExtractClaims (sample article)");

        let verdicts = drive(clients, seconds, {
            let (ours, claims, reviewer) = (ours.clone(), claims.clone(), reviewer.clone());
            move |c, n| {
                let mut client = ClaimServiceClient::new(ours[c as usize % ours.len()].clone());
                // a claim drawn uniformly, as pgbench's `random()` draws it below: the same
                // odds of two calls waiting on one claim's lock
                let parent = claims[(mix(c << 32 | n) as usize) % claims.len().min(200)].clone();
                let verdict = Verdict { rating: 5, explanation: "load test".into(), ..Default::default() };
                let request = auth(&reviewer, CreateVerdictRequest { parent, verdict: Some(verdict), request_id: String::new() });
                async move { client.create_verdict(request).await.is_ok() }
            }
        })
        .await;
        verdicts.print("CreateVerdict");


        sqlx::query(
            "create table load_claims as \
             select (row_number() over (order by id) - 1)::int4 as n, id from claims",
        )
        .execute(&pool)
        .await
        .expect("the claims are numbered for pgbench");
        let reviewer_key: uuid::Uuid =
            sqlx::query_scalar("select id from api_keys where display_name = 'load-reviewer'")
                .fetch_one(&pool)
                .await
                .expect("the reviewer's key");
        let pgbench = pgbench_create_verdict(
            &options,
            clients,
            seconds,
            claims.len().min(200),
            reviewer_key,
        );
        if let Some(tps) = pgbench {
            println!("{:<34} {tps:>9.0} transactions/s (same SQL, {clients} clients)", "pgbench CreateVerdict SQL");
        }
        // a second replica on the same database, started last so as not
        // to weigh on the scenarios and pgbench, for the time a claim takes to be searchable
        let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let other_addr = other.local_addr().unwrap();
        tokio::spawn(claim_registry::server::run(
            other,
            Registry::new(database::pool(options.clone(), pool_size)),
            std::future::pending(),
        ));
        let replica = connect(other_addr).await;
        searchable(&ours[0], &replica[0], &article_names, &submitter, &reviewer).await;
        println!();
        println!(
            "GetClaim / hello world:      {:.2}  (goal >= 0.5)",
            get.rate() / health.rate()
        );
        match pgbench {
            Some(tps) => println!("CreateVerdict / pgbench:     {:.2}  (goal >= 0.9)", verdicts.rate() / tps),
            None => println!("CreateVerdict / pgbench:     not measured"),
        }
    });
}
