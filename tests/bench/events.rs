//! `cargo bench --bench events`: the change stream under write load. 8 writer clients (each its
//! own HTTP/2 connection) write at a steady rate, three quarters `CreateVerdict` and a quarter
//! `CreateArticle`, while 3 consumers watch the stream from before the first write; one of them
//! disconnects and resumes from its last cursor 5 times, a second each time. After the writers
//! stop, one last verdict marks the end; each consumer reads until it sees it.
//!
//! Prints the acknowledged writes per second, each consumer's events per second, the end-to-end
//! lag (a write's reply received → its event received by the consumer) at p50, p99 and max, and
//! checks, for every consumer, that every acknowledged write was streamed exactly once and in
//! commit order as clients can tell it (a write acknowledged before another was sent comes
//! first), cursors only ever increasing. Fails if that check fails; the lag is the machine's, so
//! it is printed against the target (p99 ≤ 100 ms at ≥ 1,000 writes/s), not asserted.
//!
//! The database is the one `DATABASE_URL` names, else an embedded PostgreSQL in a temporary
//! directory. Settings: `EVENTS_SECONDS` (the write phase, default 60), `EVENTS_RATE` (writes/s
//! offered by the 8 writers together, default 1200), `EVENTS_POOL` (the service's database
//! connections, default 10 as `serve`'s), `EVENTS_INFLIGHT` (most calls in flight per writer,
//! default 32: past it a writer waits, and the rate shows it).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use claim_registry::api::proto::article_service_client::ArticleServiceClient;
use claim_registry::api::proto::claim_service_client::ClaimServiceClient;
use claim_registry::api::proto::event_service_client::EventServiceClient;
use claim_registry::api::proto::watch_events_response::Message;
use claim_registry::api::proto::{
    Article, Claim, CreateArticleRequest, CreateClaimRequest, CreateVerdictRequest, EventType,
    Quote, QuoteKind, Verdict, WatchEventsRequest,
};
use claim_registry::database::{self, EmbeddedPostgres, create_database_if_missing};
use claim_registry::domain::{NewApiKey, Role};
use claim_registry::registry::Registry;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::Semaphore;
use tonic::transport::Channel;

const WRITERS: usize = 8;
const CONSUMERS: usize = 3;
/// How many times the third consumer disconnects and resumes.
const RESUMES: u32 = 5;
/// How long it stays away each time.
const AWAY: Duration = Duration::from_secs(1);
/// How many claims the verdicts spread over.
const CLAIMS: usize = 200;
/// The target for the lag at p99.
const TARGET_P99: Duration = Duration::from_millis(100);

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The database server: `DATABASE_URL`'s, else an embedded one in a temporary directory, run on
/// a thread of its own (the server follows its starting thread) until the returned guard is
/// dropped, which stops it and removes the directory.
fn database_server() -> (PgConnectOptions, Option<Embedded>) {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return (url.parse().expect("DATABASE_URL is a PostgreSQL URL"), None);
    }
    let dir = tempfile::Builder::new()
        .prefix("claim-registry-events-")
        .tempdir()
        .expect("a temporary directory");
    // the postgres user the embedded server runs as, when the bench runs as root, must reach it
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("the temporary directory is made reachable");
    let data = dir.path().join("data");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let server = EmbeddedPostgres::start(&data).expect("the embedded PostgreSQL starts");
        ready_tx.send(server.connect_options("postgres")).unwrap();
        let _ = stopped.recv();
        drop(server);
    });
    let options = ready_rx.recv().expect("the embedded PostgreSQL is ready");
    (
        options,
        Some(Embedded {
            stop,
            thread,
            _dir: dir,
        }),
    )
}

/// The embedded server of a run: stopped, and its directory removed, when dropped.
struct Embedded {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Embedded {
    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
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

async fn connect(addr: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("the server answers")
}

/// An acknowledged write: the resource it made, when it was sent and when its reply came.
#[derive(Clone)]
struct Write {
    resource: String,
    sent: Instant,
    acked: Instant,
}

/// One write: a verdict on one of the claims, or every fourth an article of its own.
async fn write(
    channel: Channel,
    secrets: Arc<(String, String)>,
    claim: String,
    n: u64,
    w: usize,
) -> Option<Write> {
    let sent = Instant::now();
    let resource = if n % 4 == 3 {
        let request = CreateArticleRequest {
            article: Some(Article {
                url: format!("https://events.example/{w}/{n}"),
                title: "Event load".into(),
                publisher: "Load Wire".into(),
                language_code: "en".into(),
                body: format!("Edition {w}-{n} of the event load."),
                ..Default::default()
            }),
            request_id: String::new(),
            extract_claims: false,
        };
        let reply = ArticleServiceClient::new(channel)
            .create_article(auth(&secrets.0, request))
            .await
            .ok()?;
        reply.into_inner().article?.name
    } else {
        let request = CreateVerdictRequest {
            parent: claim,
            verdict: Some(Verdict {
                rating: 5,
                explanation: "event load".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        let reply = ClaimServiceClient::new(channel)
            .create_verdict(auth(&secrets.1, request))
            .await
            .ok()?;
        reply.into_inner().verdict?.name
    };
    Some(Write {
        resource,
        sent,
        acked: Instant::now(),
    })
}

/// A writer: `rate` writes a second on its own connection until `until`, each sent on schedule
/// while fewer than `inflight` are in flight. Returns the acknowledged writes and the failures.
async fn writer(
    w: usize,
    channel: Channel,
    secrets: Arc<(String, String)>,
    claims: Arc<Vec<String>>,
    rate: f64,
    until: Instant,
    inflight: usize,
) -> (Vec<Write>, usize) {
    let gap = Duration::from_secs_f64(1.0 / rate);
    let limit = Arc::new(Semaphore::new(inflight));
    let mut calls = tokio::task::JoinSet::new();
    // the writers' schedules interleave rather than fire together
    let mut due = Instant::now() + gap.mul_f64(w as f64 / WRITERS as f64);
    let mut n = 0u64;
    while due < until {
        tokio::time::sleep_until(due.into()).await;
        let permit = limit.clone().acquire_owned().await.expect("never closed");
        let claim = claims[(n as usize * WRITERS + w) % claims.len()].clone();
        let (channel, secrets) = (channel.clone(), secrets.clone());
        calls.spawn(async move {
            let done = write(channel, secrets, claim, n, w).await;
            drop(permit);
            done
        });
        n += 1;
        due += gap;
    }
    let (mut writes, mut failed) = (Vec::new(), 0);
    while let Some(done) = calls.join_next().await {
        match done.expect("a write task finishes") {
            Some(write) => writes.push(write),
            None => failed += 1,
        }
    }
    (writes, failed)
}

/// What a consumer read.
struct Consumed {
    /// Each event's cursor and resource, and when it arrived.
    events: Vec<(i64, String, Instant)>,
    resumed: u32,
    finished: Instant,
}

/// Reads everything after `start` until the verdict on `marker`; with `resumes`, disconnects
/// every `every`, stays away for [`AWAY`], and resumes from its last cursor.
async fn consume(
    channel: Channel,
    secret: String,
    start: i64,
    marker: String,
    resumes: u32,
    every: Duration,
) -> Consumed {
    let mut client = EventServiceClient::new(channel);
    let mut consumed = Consumed {
        events: Vec::new(),
        resumed: 0,
        finished: Instant::now(),
    };
    let mut cursor = start;
    loop {
        let request = WatchEventsRequest {
            cursor: Some(cursor),
            ..Default::default()
        };
        let mut stream = client
            .watch_events(auth(&secret, request))
            .await
            .expect("the watch starts")
            .into_inner();
        let connected = Instant::now();
        loop {
            if consumed.resumed < resumes && connected.elapsed() >= every {
                consumed.resumed += 1;
                drop(stream);
                tokio::time::sleep(AWAY).await;
                break;
            }
            let message = tokio::time::timeout(Duration::from_secs(30), stream.message())
                .await
                .expect("a message within 30 s")
                .expect("the stream does not fail")
                .expect("the stream goes on");
            match message.message {
                Some(Message::Event(event)) => {
                    let now = Instant::now();
                    cursor = event.cursor;
                    let done = event.r#type() == EventType::VerdictCreated && event.claim == marker;
                    consumed.events.push((event.cursor, event.resource, now));
                    if done {
                        consumed.finished = now;
                        return consumed;
                    }
                }
                Some(Message::Heartbeat(beat)) => cursor = beat.cursor,
                None => {}
            }
        }
    }
}

/// Every acknowledged write streamed exactly once, in commit order as clients can tell it, and
/// cursors only increasing; the lag of each write in microseconds. `Err` says what is wrong.
fn check(consumed: &Consumed, writes: &[Write]) -> Result<Vec<u64>, String> {
    if !consumed.events.windows(2).all(|w| w[0].0 < w[1].0) {
        return Err("cursors went backwards or repeated".into());
    }
    let mut at: HashMap<&str, Vec<(i64, Instant)>> = HashMap::new();
    for (cursor, resource, when) in &consumed.events {
        at.entry(resource.as_str())
            .or_default()
            .push((*cursor, *when));
    }
    let mut lags = Vec::with_capacity(writes.len());
    let mut placed = Vec::with_capacity(writes.len());
    for write in writes {
        let seen = at
            .get(write.resource.as_str())
            .map_or(&[][..], Vec::as_slice);
        if seen.len() != 1 {
            return Err(format!("{} streamed {} times", write.resource, seen.len()));
        }
        let (cursor, when) = seen[0];
        lags.push(when.saturating_duration_since(write.acked).as_micros() as u64);
        placed.push((write, cursor));
    }
    let mut by_acked = placed.clone();
    by_acked.sort_by_key(|(w, _)| w.acked);
    placed.sort_by_key(|(w, _)| w.sent);
    let (mut done, mut newest_done) = (0, i64::MIN);
    for (write, cursor) in &placed {
        while done < by_acked.len() && by_acked[done].0.acked < write.sent {
            newest_done = newest_done.max(by_acked[done].1);
            done += 1;
        }
        if *cursor <= newest_done {
            return Err(format!(
                "{} streamed at {cursor}, before a write acknowledged before it was sent ({newest_done})",
                write.resource
            ));
        }
    }
    lags.sort_unstable();
    Ok(lags)
}

fn at(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    sorted_us[((sorted_us.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
}

fn main() {
    let seconds = setting("EVENTS_SECONDS", 60);
    let rate = setting("EVENTS_RATE", 1200) as f64;
    let pool_size = u32::try_from(setting("EVENTS_POOL", 10))
        .unwrap_or(10)
        .max(1);
    let inflight = setting("EVENTS_INFLIGHT", 32).max(1) as usize;
    let (server, embedded) = database_server();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let ok = runtime.block_on(async move {
        let options = server.database(&format!("events_{}", uuid::Uuid::new_v4().simple()));
        create_database_if_missing(&options).await.expect("the bench database is created");
        let pool = database::pool(options, pool_size);
        claim_registry::store::MIGRATOR.run(&pool).await.expect("migrations apply");
        let registry = Registry::new(pool.clone());
        let key = |name: &str, role| {
            let (registry, name) = (registry.clone(), name.to_owned());
            async move {
                let key = NewApiKey { display_name: name, role };
                registry.create_api_key(key).await.expect("a key").1.expose().to_owned()
            }
        };
        let secrets = Arc::new((
            key("events-submitter", Role::Submitter).await,
            key("events-reviewer", Role::Reviewer).await,
        ));
        let reader = key("events-reader", Role::Reader).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(claim_registry::server::run(listener, registry, std::future::pending()));

        // an article, the claims the verdicts spread over, and the marker claim
        let setup = connect(addr).await;
        let body = "The minister said the figures were final. Edition zero.";
        let article = ArticleServiceClient::new(setup.clone())
            .create_article(auth(&secrets.0, CreateArticleRequest {
                article: Some(Article {
                    url: "https://events.example/claims".into(),
                    title: "Event load".into(),
                    publisher: "Load Wire".into(),
                    language_code: "en".into(),
                    body: body.into(),
                    ..Default::default()
                }),
                request_id: String::new(),
                extract_claims: false,
            }))
            .await
            .expect("the article")
            .into_inner()
            .article
            .unwrap()
            .name;
        let mut claims = Vec::new();
        for i in 0..=CLAIMS {
            let claim = Claim {
                statement: format!("The figures are final ({i})"),
                claimant: "The minister".into(),
                quotes: vec![Quote {
                    article: article.clone(),
                    text: "the figures were final".into(),
                    speaker: "The minister".into(),
                    kind: QuoteKind::Indirect.into(),
                    ..Default::default()
                }],
                ..Default::default()
            };
            let request = CreateClaimRequest { claim: Some(claim), request_id: String::new() };
            let name = ClaimServiceClient::new(setup.clone())
                .create_claim(auth(&secrets.0, request))
                .await
                .expect("a claim")
                .into_inner()
                .claim
                .unwrap()
                .name;
            claims.push(name);
        }
        let marker = claims.pop().expect("the last claim marks the end");
        let claims = Arc::new(claims);
        // everything so far is numbered before the consumers start after it
        tokio::time::sleep(Duration::from_millis(500)).await;
        let start: i64 = sqlx::query_scalar("select last_position from change_stream")
            .fetch_one(&pool)
            .await
            .unwrap();

        println!(
            "events: {WRITERS} writers offering {rate:.0} writes/s for {seconds} s ({inflight} in flight each at most), \
             {CONSUMERS} consumers (one resumed {RESUMES} times, away {} s each), {pool_size} database connections\n",
            AWAY.as_secs()
        );
        // the resumes spread over the write phase, each away for AWAY
        let every = Duration::from_secs(seconds).saturating_sub(AWAY * RESUMES) / (RESUMES + 1);
        let mut consumers = Vec::new();
        for c in 0..CONSUMERS {
            let resumes = if c == CONSUMERS - 1 { RESUMES } else { 0 };
            consumers.push((resumes, tokio::spawn(consume(
                connect(addr).await,
                reader.clone(),
                start,
                marker.clone(),
                resumes,
                every,
            ))));
        }
        let began = Instant::now();
        let until = began + Duration::from_secs(seconds);
        let mut writers = Vec::new();
        for w in 0..WRITERS {
            writers.push(tokio::spawn(writer(
                w,
                connect(addr).await,
                secrets.clone(),
                claims.clone(),
                rate / WRITERS as f64,
                until,
                inflight,
            )));
        }
        let (mut writes, mut failed) = (Vec::new(), 0);
        for writer in writers {
            let (done, failures) = writer.await.expect("a writer finishes");
            writes.extend(done);
            failed += failures;
        }
        let wrote_for = began.elapsed().as_secs_f64();
        let request = CreateVerdictRequest {
            parent: marker.clone(),
            verdict: Some(Verdict { rating: 5, explanation: "the end".into(), ..Default::default() }),
            request_id: String::new(),
        };
        ClaimServiceClient::new(setup)
            .create_verdict(auth(&secrets.1, request))
            .await
            .expect("the marker verdict");
        println!(
            "{:<40} {:>8.0} writes/s   ({} acknowledged in {wrote_for:.1} s, {failed} failed)",
            "writes acknowledged",
            writes.len() as f64 / wrote_for,
            writes.len()
        );

        let mut ok = true;
        let mut continuous: Vec<u64> = Vec::new();
        for (c, (resumes, consumer)) in consumers.into_iter().enumerate() {
            let consumed = consumer.await.expect("a consumer finishes");
            let took = consumed.finished.duration_since(began).as_secs_f64();
            let name = if resumes > 0 {
                format!("consumer {c} (resumed {} times)", consumed.resumed)
            } else {
                format!("consumer {c}")
            };
            match check(&consumed, &writes) {
                Ok(lags) => {
                    println!(
                        "{name:<40} {:>8.0} events/s   lag p50 {:>6.1} ms   p99 {:>6.1} ms   max {:>7.1} ms   exactly once, in order: yes ({} events)",
                        consumed.events.len() as f64 / took,
                        at(&lags, 0.5),
                        at(&lags, 0.99),
                        at(&lags, 1.0),
                        consumed.events.len()
                    );
                    if resumes == 0 {
                        continuous.extend(lags);
                    }
                }
                Err(problem) => {
                    println!("{name:<40} exactly once, in order: NO: {problem}");
                    ok = false;
                }
            }
        }
        // a client that comes back after the whole run: everything from PostgreSQL (the window
        // of recent events reaches back 10,000 events only), as fast as it can read
        let caught_up = Instant::now();
        let replay = consume(connect(addr).await, reader.clone(), start, marker.clone(), 0, every).await;
        let took = replay.finished.duration_since(caught_up).as_secs_f64();
        match check(&replay, &writes) {
            Ok(_) => println!(
                "{:<40} {:>8.0} events/s   ({} events in {took:.1} s)   exactly once, in order: yes",
                "a late client catching up from the start",
                replay.events.len() as f64 / took,
                replay.events.len()
            ),
            Err(problem) => {
                println!("a late client catching up: exactly once, in order: NO: {problem}");
                ok = false;
            }
        }
        continuous.sort_unstable();
        let p99 = at(&continuous, 0.99);
        println!();
        println!(
            "lag of the connected consumers: p50 {:.1} ms, p99 {p99:.1} ms (target <= {} ms at >= 1,000 writes/s): {}",
            at(&continuous, 0.5),
            TARGET_P99.as_millis(),
            if p99 <= TARGET_P99.as_secs_f64() * 1000.0 { "met" } else { "NOT met" }
        );
        ok
    });
    // the service's connections end with the runtime, then the server stops
    drop(runtime);
    if let Some(embedded) = embedded {
        embedded.stop();
    }
    if !ok {
        eprintln!("the stream lost, repeated or reordered acknowledged writes");
        std::process::exit(1);
    }
}
