//! The change log (every write, in the writing transaction, read exactly once by snapshot) and
//! what follows it: the claim cache behind `GetClaim`.

use claim_registry::api::proto::{Rating, ReviewState};
use claim_registry::domain::EventType;
use claim_registry::registry::MAX_STALENESS;
use claim_registry::store::changes;
use uuid::Uuid;

use crate::helpers::{SAMPLE, quote, spawn_app};

fn id_of(name: &str) -> Uuid {
    Uuid::parse_str(name.rsplit('/').next().unwrap()).unwrap()
}

#[tokio::test]
async fn every_write_is_in_the_change_log_once_in_the_order_it_was_made() {
    let app = spawn_app().await;
    let mut conn = app.pool.acquire().await.unwrap();
    let start = changes::now(&mut conn).await.unwrap();

    let article = app.create_article("https://news.example/log", SAMPLE).await;
    let claim = app
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await;
    app.give_verdict(&claim.name, Rating::False).await;

    let (read, next) = changes::since(&mut conn, &start).await.unwrap();
    let kinds: Vec<EventType> = read.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            EventType::ArticleCreated,
            EventType::ClaimCreated,
            EventType::QuoteCreated,
            EventType::VerdictCreated,
            EventType::ClaimUpdated,
        ]
    );
    let claim_id = id_of(&claim.name);
    assert_eq!(read[0].article, Some(id_of(&article.name)));
    assert!(read[1..].iter().all(|c| c.claim == Some(claim_id)));
    assert!(read[3].verdict.is_some());
    assert!(read.windows(2).all(|w| w[0].seq < w[1].seq));

    let (again, _) = changes::since(&mut conn, &next).await.unwrap();
    assert!(again.is_empty(), "read twice: {again:?}");
}

#[tokio::test]
async fn a_change_that_commits_after_a_later_numbered_one_is_still_read() {
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
    let mut reader = app.pool.acquire().await.unwrap();
    let start = changes::now(&mut reader).await.unwrap();

    // the slow transaction writes first, so its log row takes the smaller number
    let mut slow = app.pool.begin().await.unwrap();
    sqlx::query("update claims set claimant = 'Slow', version = version + 1 where id = $1")
        .bind(id_of(&other.name))
        .execute(&mut *slow)
        .await
        .unwrap();
    app.give_verdict(&claim.name, Rating::False).await;

    let (first, middle) = changes::since(&mut reader, &start).await.unwrap();
    assert_eq!(
        first.iter().map(|c| c.kind).collect::<Vec<_>>(),
        [EventType::VerdictCreated, EventType::ClaimUpdated],
        "only the committed transaction's rows are read"
    );
    let fast_seq = first[0].seq;

    slow.commit().await.unwrap();
    let (second, end) = changes::since(&mut reader, &middle).await.unwrap();
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0].kind, EventType::ClaimUpdated);
    assert!(
        second[0].seq < fast_seq,
        "the late row has the smaller number: a reader by number alone would have skipped it"
    );
    assert!(
        changes::since(&mut reader, &end)
            .await
            .unwrap()
            .0
            .is_empty()
    );
}

#[tokio::test]
async fn a_replica_shows_its_own_change_at_once_and_another_replicas_within_the_staleness_bound() {
    let one = spawn_app().await;
    let two = one.replica().await;
    let article = one
        .create_article("https://news.example/cache", SAMPLE)
        .await;
    let claim = one
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await;
    // both replicas have read the claim, and may hold it
    for app in [&one, &two] {
        let read = app.get_claim(&claim.name).await.unwrap();
        assert_eq!(read.review_state, ReviewState::Unreviewed as i32);
    }

    one.give_verdict(&claim.name, Rating::False).await;
    let mine = one.get_claim(&claim.name).await.unwrap();
    assert_eq!(
        mine.review_state,
        ReviewState::Reviewed as i32,
        "the replica that made the change shows it at once"
    );

    // a read that starts MAX_STALENESS after the commit is served either from a cache that has
    // applied the change or from the database
    tokio::time::sleep(MAX_STALENESS).await;
    let theirs = two.get_claim(&claim.name).await.unwrap();
    assert_eq!(theirs.review_state, ReviewState::Reviewed as i32);
    assert_eq!(theirs.etag, mine.etag);
}
