//! The event stream (`EventService.WatchEvents`): every committed change once, in commit order,
//! resumable from a cursor, with heartbeats, filters, retention, and through a database restart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use claim_registry::api::proto::event_service_client::EventServiceClient;
use claim_registry::api::proto::watch_events_response::Message;
use claim_registry::api::proto::{
    self, AddQuoteRequest, CreateVerdictRequest, EventType, Rating, ReviewState, Verdict,
    WatchEventsRequest, WatchEventsResponse,
};
use claim_registry::domain::Role;
use claim_registry::registry::{MAX_STALENESS, Registry};
use claim_registry::store::changes;
use time::OffsetDateTime;
use tonic::transport::Channel;
use tonic::{Code, Status, Streaming};
use tonic_types::StatusExt;

use crate::database::fresh_dir;
use crate::helpers::{OwnedServer, SAMPLE, TestApp, quote, spawn_app, spawn_app_on, with_key};

/// How long a test waits for a message before it fails.
const WAIT: Duration = Duration::from_secs(15);

/// A message of the stream, as the tests look at it.
#[derive(Debug, Clone, PartialEq)]
enum Got {
    Event(proto::Event),
    Heartbeat(i64),
}

fn got(message: WatchEventsResponse) -> Got {
    match message
        .message
        .expect("every message carries an event or a heartbeat")
    {
        Message::Event(event) => Got::Event(event),
        Message::Heartbeat(beat) => Got::Heartbeat(beat.cursor),
    }
}

/// A watch that resumes after `cursor`.
fn after(cursor: i64) -> WatchEventsRequest {
    WatchEventsRequest {
        cursor: Some(cursor),
        ..Default::default()
    }
}

fn every(duration: Duration) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: duration.as_secs() as i64,
        nanos: duration.subsec_nanos() as i32,
    })
}

/// Calls WatchEvents as a reader.
async fn watch(
    app: &TestApp,
    request: WatchEventsRequest,
) -> Result<Streaming<WatchEventsResponse>, Status> {
    app.events
        .clone()
        .watch_events(app.as_role(Role::Reader, request))
        .await
        .map(|r| r.into_inner())
}

/// The next message; fails the test on a timeout, an error or the stream's end.
async fn next(stream: &mut Streaming<WatchEventsResponse>) -> Got {
    let message = tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("a message within the wait")
        .expect("the stream does not fail")
        .expect("the stream goes on");
    got(message)
}

/// A stream, and the cursor its first message (always a heartbeat) says it starts after.
async fn started(
    app: &TestApp,
    request: WatchEventsRequest,
) -> (Streaming<WatchEventsResponse>, i64) {
    let mut stream = watch(app, request).await.expect("the watch starts");
    match next(&mut stream).await {
        Got::Heartbeat(cursor) => (stream, cursor),
        other => panic!("the first message is a heartbeat, not {other:?}"),
    }
}

/// The events of the stream, heartbeats skipped, until `enough` holds for them.
async fn events_until(
    stream: &mut Streaming<WatchEventsResponse>,
    enough: impl Fn(&[proto::Event]) -> bool,
) -> Vec<proto::Event> {
    let mut events = Vec::new();
    while !enough(&events) {
        if let Got::Event(event) = next(stream).await {
            events.push(event);
        }
    }
    events
}

fn types(events: &[proto::Event]) -> Vec<EventType> {
    events.iter().map(|e| e.r#type()).collect()
}

fn assert_increasing(events: &[proto::Event]) {
    assert!(
        events.windows(2).all(|w| w[0].cursor < w[1].cursor),
        "cursors increase: {:?}",
        events.iter().map(|e| e.cursor).collect::<Vec<_>>()
    );
}

/// The log's number of the change at this stream position: the order it was written in.
async fn seq_at(app: &TestApp, cursor: i64) -> i64 {
    sqlx::query_scalar("select seq from change_positions where position = $1")
        .bind(cursor)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// Gives a verdict as the reviewer and returns its name.
async fn verdict(app: &TestApp, claim: &str) -> Result<String, Status> {
    let request = CreateVerdictRequest {
        parent: claim.into(),
        verdict: Some(Verdict {
            rating: Rating::False.into(),
            explanation: "Checked.".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let reply = app
        .claims
        .clone()
        .create_verdict(app.as_role(Role::Reviewer, request))
        .await?;
    Ok(reply.into_inner().verdict.unwrap().name)
}

/// Waits until every committed change has its position, so that a stream started now starts
/// after all of them.
async fn settled(app: &TestApp) {
    let deadline = Instant::now() + WAIT;
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from changes c \
             where not exists (select 1 from change_positions p where p.seq = c.seq)",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if waiting == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} changes are never numbered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn id_of(name: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(name.rsplit('/').next().unwrap()).unwrap()
}

#[tokio::test]
async fn every_change_is_streamed_once_in_commit_order_each_with_a_greater_cursor() {
    let app = spawn_app().await;
    let (mut stream, start) = started(&app, WatchEventsRequest::default()).await;

    let article = app
        .create_article("https://news.example/stream", SAMPLE)
        .await;
    let claim = app
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await;
    let given = verdict(&app, &claim.name).await.unwrap();

    let events = events_until(&mut stream, |e| e.len() >= 5).await;
    assert_eq!(
        types(&events),
        [
            EventType::ArticleCreated,
            EventType::ClaimCreated,
            EventType::QuoteCreated,
            EventType::VerdictCreated,
            EventType::ClaimUpdated,
        ]
    );
    assert!(events[0].cursor > start);
    assert_increasing(&events);
    assert_eq!(events[0].resource, article.name);
    assert_eq!(events[0].article, article.name);
    assert_eq!(events[1].resource, claim.name);
    assert_eq!(
        (events[2].resource.as_str(), events[2].article.as_str()),
        (claim.name.as_str(), article.name.as_str()),
        "a quote's change names its claim and the article it stands in"
    );
    assert_eq!(events[3].resource, given);
    assert_eq!(events[3].claim, claim.name);
    assert_eq!(events[4].resource, claim.name);
    assert!(events.iter().all(|e| e.change_time.is_some()));

    // the same history, read again from the same cursor, is the same
    let (mut again, from) = started(&app, after(start)).await;
    assert_eq!(from, start);
    assert_eq!(events_until(&mut again, |e| e.len() >= 5).await, events);
}

#[tokio::test]
async fn a_change_that_commits_after_a_later_numbered_one_is_streamed_after_it_and_resumed_clients_get_it()
 {
    let app = spawn_app().await;
    let article = app
        .create_article("https://news.example/late", SAMPLE)
        .await;
    let claim = app
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await;
    let other = app
        .create_claim("t", vec![quote(&article, "stop the bloodshed")])
        .await;
    settled(&app).await;
    let (mut stream, start) = started(&app, WatchEventsRequest::default()).await;

    // the slow transaction writes first, so its log row takes the smaller number
    let mut slow = app.pool.begin().await.unwrap();
    sqlx::query("update claims set claimant = 'Slow', version = version + 1 where id = $1")
        .bind(id_of(&other.name))
        .execute(&mut *slow)
        .await
        .unwrap();
    verdict(&app, &claim.name).await.unwrap();
    let fast = events_until(&mut stream, |e| e.len() >= 2).await;
    assert_eq!(
        types(&fast),
        [EventType::VerdictCreated, EventType::ClaimUpdated],
        "the committed transaction is streamed while the slow one runs"
    );
    assert!(fast.iter().all(|e| e.claim == claim.name));
    let seen = fast[1].cursor;

    slow.commit().await.unwrap();
    let late = events_until(&mut stream, |e| !e.is_empty()).await;
    assert_eq!(late[0].r#type(), EventType::ClaimUpdated);
    assert_eq!(late[0].claim, other.name);
    assert!(
        late[0].cursor > seen,
        "streamed after what was committed first"
    );
    assert!(
        seq_at(&app, late[0].cursor).await < seq_at(&app, fast[0].cursor).await,
        "the late change has the smaller log number: a stream by that number would skip it"
    );

    // a client that stopped after the fast transaction resumes with the late one
    let (mut resumed, _) = started(&app, after(seen)).await;
    assert_eq!(events_until(&mut resumed, |e| !e.is_empty()).await, late);
    let (mut replay, _) = started(&app, after(start)).await;
    let all = events_until(&mut replay, |e| e.len() >= 3).await;
    assert_eq!(all, [fast, late].concat());
}

#[tokio::test]
async fn a_client_resumes_after_its_cursor_missing_nothing_and_seeing_nothing_twice() {
    let app = spawn_app().await;
    let (mut stream, start) = started(&app, WatchEventsRequest::default()).await;
    let (article, _) = app.sample_claim("https://news.example/resume").await;
    let first = events_until(&mut stream, |e| !e.is_empty()).await;
    drop(stream);

    app.create_claim("again", vec![quote(&article, "stop the bloodshed")])
        .await;
    let (mut resumed, from) = started(&app, after(first[0].cursor)).await;
    assert_eq!(from, first[0].cursor);
    let rest = events_until(&mut resumed, |e| e.len() >= 4).await;

    let (mut whole, _) = started(&app, after(start)).await;
    let all = events_until(&mut whole, |e| e.len() >= 5).await;
    assert_eq!([first, rest].concat(), all);
    assert_increasing(&all);
}

#[tokio::test]
async fn an_idle_stream_sends_heartbeats_carrying_the_current_cursor() {
    let app = spawn_app().await;
    let interval = Duration::from_millis(200);
    let request = WatchEventsRequest {
        heartbeat_interval: every(interval),
        ..Default::default()
    };
    let (mut stream, start) = started(&app, request).await;
    let quiet = Instant::now();
    for _ in 0..3 {
        assert_eq!(next(&mut stream).await, Got::Heartbeat(start));
    }
    let took = quiet.elapsed();
    assert!(
        took >= interval * 3 - Duration::from_millis(50) && took < Duration::from_secs(3),
        "three heartbeats of an idle stream took {took:?}"
    );

    app.create_article("https://news.example/beat", SAMPLE)
        .await;
    let Got::Event(event) = next(&mut stream).await else {
        panic!("the change comes before the next heartbeat")
    };
    match next(&mut stream).await {
        Got::Heartbeat(cursor) => assert!(cursor >= event.cursor, "{cursor} < {}", event.cursor),
        other => panic!("a heartbeat follows, not {other:?}"),
    }
}

#[tokio::test]
async fn filters_let_through_only_the_types_and_resources_asked_for_and_heartbeats_move_past_the_rest()
 {
    let app = spawn_app().await;
    let a = app.create_article("https://news.example/a", SAMPLE).await;
    let b = app.create_article("https://news.example/b", SAMPLE).await;
    let x = app
        .create_claim("x", vec![quote(&a, "stop the bloodshed")])
        .await;
    let y = app
        .create_claim("y", vec![quote(&a, "stop the bloodshed")])
        .await;
    settled(&app).await;
    let (mut by_type, _) = started(
        &app,
        WatchEventsRequest {
            types: vec![
                EventType::VerdictCreated.into(),
                EventType::QuoteCreated.into(),
            ],
            ..Default::default()
        },
    )
    .await;
    let (mut by_claim, _) = started(
        &app,
        WatchEventsRequest {
            resources: vec![x.name.clone()],
            ..Default::default()
        },
    )
    .await;
    let (mut by_article, _) = started(
        &app,
        WatchEventsRequest {
            resources: vec![b.name.clone()],
            heartbeat_interval: every(Duration::from_millis(200)),
            ..Default::default()
        },
    )
    .await;

    verdict(&app, &x.name).await.unwrap();
    verdict(&app, &y.name).await.unwrap();
    let add = AddQuoteRequest {
        parent: y.name.clone(),
        quote: Some(quote(&b, "stop the bloodshed")),
        request_id: String::new(),
    };
    app.claims
        .clone()
        .add_quote(app.as_role(Role::Submitter, add))
        .await
        .unwrap();
    verdict(&app, &x.name).await.unwrap();

    let typed = events_until(&mut by_type, |e| e.len() >= 4).await;
    assert_eq!(
        types(&typed),
        [
            EventType::VerdictCreated,
            EventType::VerdictCreated,
            EventType::QuoteCreated,
            EventType::VerdictCreated,
        ]
    );
    let claimed = events_until(&mut by_claim, |e| e.len() >= 4).await;
    assert!(claimed.iter().all(|e| e.claim == x.name), "{claimed:?}");
    assert_eq!(
        types(&claimed),
        [
            EventType::VerdictCreated,
            EventType::ClaimUpdated,
            EventType::VerdictCreated,
            EventType::ClaimUpdated,
        ]
    );
    let in_b = events_until(&mut by_article, |e| !e.is_empty()).await;
    assert_eq!(types(&in_b), [EventType::QuoteCreated]);
    assert_eq!(
        (in_b[0].claim.as_str(), in_b[0].article.as_str()),
        (y.name.as_str(), b.name.as_str())
    );
    // the article's stream has nothing more to send, but its cursor moves past the rest
    let last = claimed[3].cursor;
    let deadline = Instant::now() + WAIT;
    loop {
        match next(&mut by_article).await {
            Got::Heartbeat(cursor) if cursor >= last => break,
            Got::Heartbeat(_) => {
                assert!(Instant::now() < deadline, "the cursor never passed {last}")
            }
            Got::Event(event) => panic!("nothing else is about article b: {event:?}"),
        }
    }

    // filters that name nothing a stream can follow are refused, each field named
    let bad = WatchEventsRequest {
        types: vec![EventType::Unspecified.into(), 99],
        resources: vec![format!("apiKeys/{}", uuid::Uuid::now_v7()), x.name.clone()],
        heartbeat_interval: every(Duration::from_millis(10)),
        ..Default::default()
    };
    let status = watch(&app, bad).await.unwrap_err();
    for field in ["types[0]", "types[1]", "resources[0]", "heartbeat_interval"] {
        crate::helpers::assert_bad_field(&status, field);
    }
}

#[tokio::test]
async fn a_rolled_back_write_never_appears_in_the_stream() {
    let app = spawn_app().await;
    let (article, claim) = app.sample_claim("https://news.example/rollback").await;
    let other = app
        .create_claim("t", vec![quote(&article, "stop the bloodshed")])
        .await;
    settled(&app).await;
    let (mut stream, start) = started(&app, WatchEventsRequest::default()).await;

    let mut rolled_back = app.pool.begin().await.unwrap();
    sqlx::query("update claims set claimant = 'Never', version = version + 1 where id = $1")
        .bind(id_of(&claim.name))
        .execute(&mut *rolled_back)
        .await
        .unwrap();
    rolled_back.rollback().await.unwrap();
    verdict(&app, &other.name).await.unwrap();

    let events = events_until(&mut stream, |e| e.len() >= 2).await;
    assert!(events.iter().all(|e| e.claim == other.name), "{events:?}");
    assert_eq!(
        events.iter().map(|e| e.cursor).collect::<Vec<_>>(),
        [start + 1, start + 2],
        "the rolled-back change took no position either"
    );
}

#[tokio::test]
async fn a_cursor_older_than_the_retained_history_is_refused_with_the_oldest_cursor_to_resume_from()
{
    let app = spawn_app().await;
    let (_, start) = started(&app, WatchEventsRequest::default()).await;
    let (mut stream, _) = started(&app, WatchEventsRequest::default()).await;
    app.sample_claim("https://news.example/pruned").await;
    let written = events_until(&mut stream, |e| e.len() >= 3).await;
    let newest = written[2].cursor;

    let registry = Registry::new(app.pool.clone());
    let pruned = registry
        .prune_events_before(OffsetDateTime::now_utc() + time::Duration::seconds(1))
        .await
        .unwrap();
    assert!(pruned >= 3, "pruned {pruned}");

    let status = watch(&app, after(start)).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let info = status.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "CURSOR_TOO_OLD");
    assert_eq!(info.domain, claim_registry::error::ERROR_DOMAIN);
    assert_eq!(info.metadata["cursor"], start.to_string());
    assert_eq!(info.metadata["oldest_cursor"], newest.to_string());
    assert!(info.metadata["action"].contains("re-read"));
    let failure = status
        .get_details_precondition_failure()
        .expect("a PreconditionFailure");
    assert_eq!(failure.violations[0].subject, "cursor");
    assert!(status.message().contains("re-read"), "{}", status.message());

    // the oldest cursor still kept is accepted, and is where "from the oldest" starts
    let (_, oldest) = started(
        &app,
        WatchEventsRequest {
            from_oldest: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(oldest, newest);
    let (mut resumed, _) = started(&app, after(newest)).await;
    let article = app
        .create_article("https://news.example/after-pruning", SAMPLE)
        .await;
    let next_events = events_until(&mut resumed, |e| !e.is_empty()).await;
    assert_eq!(next_events[0].resource, article.name);

    // a cursor this registry never gave, and two starts at once, are the client's to fix
    let status = watch(&app, after(newest + 1_000)).await.unwrap_err();
    crate::helpers::assert_bad_field(&status, "cursor");
    let both = WatchEventsRequest {
        cursor: Some(newest),
        from_oldest: true,
        ..Default::default()
    };
    crate::helpers::assert_bad_field(&watch(&app, both).await.unwrap_err(), "from_oldest");
}

#[tokio::test]
async fn pruning_tells_a_log_follower_that_had_not_read_the_pruned_changes_and_replicas_keep_current()
 {
    let one = spawn_app().await;
    let two = one.replica().await;
    let (_, claim) = one.sample_claim("https://news.example/follow").await;
    for app in [&one, &two] {
        app.get_claim(&claim.name).await.unwrap();
    }
    let mut reader = one.pool.acquire().await.unwrap();
    let behind = changes::now(&mut reader).await.unwrap();
    one.create_article("https://news.example/unread", SAMPLE)
        .await;
    // let the sequencer number the new change, then prune everything numbered
    tokio::time::sleep(Duration::from_millis(200)).await;
    Registry::new(one.pool.clone())
        .prune_events_before(OffsetDateTime::now_utc() + time::Duration::seconds(1))
        .await
        .unwrap();
    assert!(
        changes::pruned_past(&mut reader, &behind).await.unwrap(),
        "a follower that had not read the pruned change learns it may have missed it"
    );
    // a follower that had read them is not told; other tests' transactions still running may
    // keep its snapshot's horizon low for a moment
    let deadline = Instant::now() + WAIT;
    loop {
        let current = changes::now(&mut reader).await.unwrap();
        if !changes::pruned_past(&mut reader, &current).await.unwrap() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a fresh follower is told it missed changes"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // the replicas' followers read on (or start afresh) and show a change made through the other
    one.give_verdict(&claim.name, Rating::False).await;
    tokio::time::sleep(MAX_STALENESS).await;
    let theirs = two.get_claim(&claim.name).await.unwrap();
    assert_eq!(theirs.review_state, ReviewState::Reviewed as i32);
}

/// Registers an article, retrying while the database is away, and returns its name; the
/// article's URL says which it is.
async fn article_when_up(app: &TestApp, url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let request = crate::helpers::article_request(url, SAMPLE);
        match app
            .articles
            .clone()
            .create_article(app.as_role(Role::Submitter, request))
            .await
        {
            Ok(reply) => return reply.into_inner().article.unwrap().name,
            Err(status) => {
                assert!(
                    Instant::now() < deadline,
                    "the database never came back: {status:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// Reads the stream from `cursor` until it has `wanted` events, resuming from its last cursor
/// whenever it fails as UNAVAILABLE (or cannot start while the database is away); returns the
/// events and how many times it resumed.
async fn read_resuming(
    app: &TestApp,
    mut cursor: i64,
    enough: impl Fn(&[proto::Event]) -> bool,
) -> (Vec<proto::Event>, u32) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut events = Vec::new();
    let mut resumed = 0;
    let request = |cursor| WatchEventsRequest {
        cursor: Some(cursor),
        heartbeat_interval: every(Duration::from_millis(500)),
        ..Default::default()
    };
    while !enough(&events) {
        assert!(
            Instant::now() < deadline,
            "the stream never caught up: {events:?}"
        );
        let mut stream = match watch(app, request(cursor)).await {
            Ok(stream) => stream,
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        loop {
            match tokio::time::timeout(WAIT, stream.message()).await {
                Ok(Ok(Some(message))) => match got(message) {
                    Got::Event(event) => {
                        cursor = event.cursor;
                        events.push(event);
                        if enough(&events) {
                            break;
                        }
                    }
                    Got::Heartbeat(at) => cursor = at,
                },
                Ok(Err(status)) => {
                    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                    resumed += 1;
                    break;
                }
                Ok(Ok(None)) | Err(_) => {
                    panic!("the stream ended without a status, or fell silent")
                }
            }
        }
    }
    (events, resumed)
}

#[tokio::test]
async fn a_postgresql_restart_in_the_middle_of_streaming_loses_nothing_for_a_client_that_resumes() {
    let dir = fresh_dir();
    let (options, server) = OwnedServer::start(dir.path().join("data"));
    let app = spawn_app_on(options.database("registry")).await;
    let (mut stream, start) = started(&app, WatchEventsRequest::default()).await;
    let mut written = Vec::new();
    for i in 0..5 {
        written.push(article_when_up(&app, &format!("https://news.example/before/{i}")).await);
    }
    let before = events_until(&mut stream, |e| e.len() >= 2).await;

    server.stop();
    // while it is down, the stream either fails as UNAVAILABLE or waits with heartbeats
    match tokio::time::timeout(Duration::from_secs(2), stream.message()).await {
        Ok(Err(status)) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
        Ok(Ok(Some(_))) | Err(_) => {}
        Ok(Ok(None)) => panic!("the stream ended without a status"),
    }
    let (_, server) = OwnedServer::start(dir.path().join("data"));
    for i in 0..5 {
        written.push(article_when_up(&app, &format!("https://news.example/after/{i}")).await);
    }

    // the client resumes from the last cursor it had, on a new stream, through any failure
    let (rest, _) = read_resuming(&app, before[1].cursor, |e| {
        e.iter()
            .filter(|e| e.r#type() == EventType::ArticleCreated)
            .count()
            >= written.len() - 2
    })
    .await;
    let all = [before, rest].concat();
    assert_increasing(&all);
    let mut streamed: Vec<String> = all.iter().map(|e| e.resource.clone()).collect();
    streamed.sort();
    written.sort();
    assert_eq!(
        streamed, written,
        "every acknowledged write once, none twice"
    );

    // and so does a client that reads it all again from before the restart
    let (again, _) = read_resuming(&app, start, |e| e.len() >= written.len()).await;
    assert_eq!(again, all);
    drop(app);
    server.stop();
}

/// An acknowledged write: what it made, when it was sent and when its reply came.
struct Write {
    resource: String,
    sent: Instant,
    acked: Instant,
}

/// What one consumer read: every event, and when each arrived.
struct Consumed {
    events: Vec<(proto::Event, Instant)>,
    resumed: u32,
}

/// Events a resuming consumer reads on one connection, at most, before it disconnects.
const RESUME_AFTER_EVENTS: usize = 8;

/// Reads everything after `start` until the verdict on `marker`, disconnecting and resuming from
/// its last cursor `resumes` times, one every `resume_every` or [`RESUME_AFTER_EVENTS`] events.
async fn consume(
    client: EventServiceClient<Channel>,
    secret: String,
    start: i64,
    marker: String,
    resumes: u32,
    resume_every: Duration,
) -> Consumed {
    let mut consumed = Consumed {
        events: Vec::new(),
        resumed: 0,
    };
    let mut cursor = start;
    loop {
        // heartbeats bring the loop round to its resume check even when nothing is written
        let request = WatchEventsRequest {
            cursor: Some(cursor),
            heartbeat_interval: every(Duration::from_millis(100)),
            ..Default::default()
        };
        let request = with_key(&secret, request);
        let mut stream = client
            .clone()
            .watch_events(request)
            .await
            .unwrap()
            .into_inner();
        let connected = Instant::now();
        let mut seen_here = 0;
        loop {
            // by time, or by count on a machine too busy for the time to come round before
            // the writes end: the test asserts more than 40 writes, so 5 resumes always happen
            let due = connected.elapsed() >= resume_every || seen_here >= RESUME_AFTER_EVENTS;
            if consumed.resumed < resumes && due {
                consumed.resumed += 1;
                break;
            }
            let message = tokio::time::timeout(WAIT, stream.message())
                .await
                .expect("a message within the wait")
                .expect("the stream does not fail")
                .expect("the stream goes on");
            match got(message) {
                Got::Event(event) => {
                    cursor = event.cursor;
                    seen_here += 1;
                    let done = event.r#type() == EventType::VerdictCreated && event.claim == marker;
                    consumed.events.push((event, Instant::now()));
                    if done {
                        return consumed;
                    }
                }
                Got::Heartbeat(at) => cursor = at,
            }
        }
    }
}

/// Checks that a consumer saw every acknowledged write exactly once, each write after every
/// write acknowledged before it was sent, and cursors only ever increasing.
fn check_exactly_once_in_order(consumed: &Consumed, writes: &[Write]) {
    let events: Vec<&proto::Event> = consumed.events.iter().map(|(e, _)| e).collect();
    assert!(
        events.windows(2).all(|w| w[0].cursor < w[1].cursor),
        "a consumer's cursors only increase: nothing twice, nothing out of order"
    );
    let mut at: HashMap<&str, Vec<i64>> = HashMap::new();
    for event in &events {
        at.entry(event.resource.as_str())
            .or_default()
            .push(event.cursor);
    }
    let mut by_sent: Vec<(&Write, i64)> = writes
        .iter()
        .map(|w| {
            let seen = at.get(w.resource.as_str()).map_or(&[][..], Vec::as_slice);
            assert_eq!(
                seen.len(),
                1,
                "{} streamed {} times",
                w.resource,
                seen.len()
            );
            (w, seen[0])
        })
        .collect();
    // commit order as clients can tell it: a write acknowledged before another was sent comes
    // first in the stream
    let mut by_acked = by_sent.clone();
    by_acked.sort_by_key(|(w, _)| w.acked);
    by_sent.sort_by_key(|(w, _)| w.sent);
    let (mut done, mut newest_done) = (0, i64::MIN);
    for (write, cursor) in &by_sent {
        while done < by_acked.len() && by_acked[done].0.acked < write.sent {
            newest_done = newest_done.max(by_acked[done].1);
            done += 1;
        }
        assert!(
            *cursor > newest_done,
            "{} was sent after a write streamed at {newest_done} was acknowledged, yet streamed at {cursor}",
            write.resource
        );
    }
}

#[tokio::test]
async fn concurrent_writers_are_seen_exactly_once_in_commit_order_by_consumers_on_three_replicas_one_resumed_five_times()
 {
    let app = spawn_app().await;
    let article = app
        .create_article("https://news.example/load", SAMPLE)
        .await;
    let mut claims = Vec::new();
    for i in 0..16 {
        let claim = app
            .create_claim(
                &format!("claim {i}"),
                vec![quote(&article, "stop the bloodshed")],
            )
            .await;
        claims.push(claim.name);
    }
    let marker = app
        .create_claim("the end", vec![quote(&article, "stop the bloodshed")])
        .await
        .name;
    settled(&app).await;
    let (_, start) = started(&app, WatchEventsRequest::default()).await;
    // one consumer on the writers' replica, one on another (which numbers changes too, when it
    // gets there first), and the resumed one on a replica that reads every page from PostgreSQL
    let other = app.replica().await;
    let from_database = app
        .replica_of(Registry::new(app.pool.clone()).with_recent_events(0))
        .await;
    let consumers: Vec<_> = [(&app, 0), (&other, 0), (&from_database, 5)]
        .into_iter()
        .map(|(replica, resumes)| {
            let task = tokio::spawn(consume(
                replica.events.clone(),
                app.secret(Role::Reader).to_owned(),
                start,
                marker.clone(),
                resumes,
                Duration::from_millis(250),
            ));
            (resumes, task)
        })
        .collect();

    // 3 s of writes, and at least 6 per writer (enough for the resumes below) however busy
    // the machine is, within 60 s
    let deadline = Instant::now() + Duration::from_secs(3);
    let hard_deadline = Instant::now() + Duration::from_secs(60);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (client, secret, claims) = (
                app.claims.clone(),
                app.secret(Role::Reviewer).to_owned(),
                claims.clone(),
            );
            tokio::spawn(async move {
                let mut writes = Vec::new();
                let mut n = w;
                while (Instant::now() < deadline || writes.len() < 6)
                    && Instant::now() < hard_deadline
                {
                    let request = CreateVerdictRequest {
                        parent: claims[n % claims.len()].clone(),
                        verdict: Some(Verdict {
                            rating: Rating::Mixed.into(),
                            explanation: "load".into(),
                            ..Default::default()
                        }),
                        request_id: String::new(),
                    };
                    n += 3;
                    let sent = Instant::now();
                    let reply = client
                        .clone()
                        .create_verdict(with_key(&secret, request))
                        .await;
                    if let Ok(reply) = reply {
                        writes.push(Write {
                            resource: reply.into_inner().verdict.unwrap().name,
                            sent,
                            acked: Instant::now(),
                        });
                    }
                }
                writes
            })
        })
        .collect();
    let mut writes = Vec::new();
    for writer in writers {
        writes.extend(writer.await.unwrap());
    }
    assert!(writes.len() > 40, "only {} writes in 3 s", writes.len());
    eprintln!("{} acknowledged writes from 8 writers in 3 s", writes.len());
    verdict(&app, &marker).await.unwrap();
    for (resumes, consumer) in consumers {
        let consumed = consumer.await.unwrap();
        check_exactly_once_in_order(&consumed, &writes);
        eprintln!(
            "a consumer resumed {} times saw {} events, each write once, in order",
            consumed.resumed,
            consumed.events.len()
        );
        assert_eq!(
            consumed.resumed, resumes,
            "the consumer disconnected and resumed"
        );
    }
}

#[tokio::test]
async fn a_stream_beyond_the_replicas_limit_is_refused_as_resource_exhausted() {
    let app = spawn_app().await;
    let limited = Registry::new(app.pool.clone())
        .with_event_settings(claim_registry::registry::DEFAULT_EVENT_RETENTION, 1);
    let replica = app.replica_of(limited).await;
    let (first, _) = started(&replica, WatchEventsRequest::default()).await;
    let status = watch(&replica, WatchEventsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.get_details_retry_info().is_some());
    drop(first);
    // the place is given back when the client goes; the server notices at its next send
    let deadline = Instant::now() + WAIT;
    while let Err(status) = watch(&replica, WatchEventsRequest::default()).await {
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert!(
            Instant::now() < deadline,
            "the closed stream's place is never given back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_stopping_server_ends_its_streams_with_unavailable_instead_of_waiting_for_them() {
    let app = spawn_app().await;
    let replica = app.replica().await;
    let (mut stream, _) = started(&replica, WatchEventsRequest::default()).await;
    replica.stop();
    let ended = tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("the stream ends promptly");
    let status = ended.expect_err("the stream ends with a status");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("resume"), "{}", status.message());
}

/// Every event a stream sends until a heartbeat says it has covered `last`.
async fn everything_through(
    app: &TestApp,
    request: WatchEventsRequest,
    last: i64,
) -> Vec<proto::Event> {
    let request = WatchEventsRequest {
        heartbeat_interval: every(Duration::from_millis(100)),
        ..request
    };
    let mut stream = watch(app, request).await.expect("the watch starts");
    let mut events = Vec::new();
    loop {
        match next(&mut stream).await {
            Got::Event(event) => events.push(event),
            Got::Heartbeat(cursor) if cursor >= last => return events,
            Got::Heartbeat(_) => {}
        }
    }
}

#[tokio::test]
async fn a_stream_read_from_postgresql_is_the_same_as_one_served_from_memory() {
    let app = spawn_app().await;
    let article = app
        .create_article("https://news.example/memory", SAMPLE)
        .await;
    let x = app
        .create_claim("x", vec![quote(&article, "stop the bloodshed")])
        .await;
    let y = app
        .create_claim("y", vec![quote(&article, "stop the bloodshed")])
        .await;
    for claim in [&x, &y, &x] {
        verdict(&app, &claim.name).await.unwrap();
    }
    settled(&app).await;
    let last: i64 = sqlx::query_scalar("select last_position from change_stream")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    // a replica that keeps no recent events reads every page from PostgreSQL
    let from_database = app
        .replica_of(Registry::new(app.pool.clone()).with_recent_events(0))
        .await;
    let requests = [
        after(0),
        WatchEventsRequest {
            from_oldest: true,
            types: vec![EventType::VerdictCreated.into()],
            ..Default::default()
        },
        WatchEventsRequest {
            cursor: Some(3),
            resources: vec![x.name.clone()],
            ..Default::default()
        },
        WatchEventsRequest {
            from_oldest: true,
            resources: vec![article.name.clone(), y.name.clone()],
            ..Default::default()
        },
    ];
    for request in requests {
        let remembered = everything_through(&app, request.clone(), last).await;
        let read = everything_through(&from_database, request.clone(), last).await;
        assert!(!read.is_empty(), "{request:?} lets something through");
        assert_eq!(read, remembered, "{request:?}");
    }
}

#[tokio::test]
async fn a_stream_whose_key_is_revoked_ends_with_unauthenticated_within_the_recheck_interval() {
    let app = spawn_app().await;
    let created = app
        .keys
        .clone()
        .create_api_key(app.as_role(
            Role::Admin,
            proto::CreateApiKeyRequest {
                api_key: Some(proto::ApiKey {
                    display_name: "short-lived".into(),
                    role: proto::Role::Reader.into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let request = WatchEventsRequest {
        heartbeat_interval: every(Duration::from_millis(100)),
        ..Default::default()
    };
    let mut stream = app
        .events
        .clone()
        .watch_events(with_key(&created.secret, request))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(next(&mut stream).await, Got::Heartbeat(_)));
    let revoked_at = Instant::now();
    app.keys
        .clone()
        .revoke_api_key(app.as_role(
            Role::Admin,
            proto::RevokeApiKeyRequest {
                name: created.api_key.unwrap().name,
            },
        ))
        .await
        .unwrap();
    let deadline = claim_registry::api::KEY_RECHECK_INTERVAL + Duration::from_secs(5);
    let ended = loop {
        match tokio::time::timeout(deadline, stream.message()).await {
            Ok(Ok(Some(_))) if revoked_at.elapsed() < deadline => continue,
            Ok(Err(status)) => break status,
            other => panic!("the stream goes on after its key was revoked: {other:?}"),
        }
    };
    assert_eq!(ended.code(), Code::Unauthenticated, "{ended:?}");
    assert!(ended.message().contains("revoked"), "{ended:?}");
}
