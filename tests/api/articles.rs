use claim_registry::api::proto::{
    ArticleView, CreateArticleRequest, GetArticleRequest, ListArticlesRequest,
};
use claim_registry::domain::Role;
use tonic::Code;

use crate::helpers::{SAMPLE, article, article_request, assert_bad_field, spawn_app};

/// A change that makes an article invalid.
type Spoil = fn(&mut claim_registry::api::proto::Article);

const URL: &str = "https://news.example/putin-cis?utm_source=feed#top";

#[tokio::test]
async fn registering_an_article_returns_it_with_its_name_length_and_fingerprint() {
    let app = spawn_app().await;
    let stored = app.create_article(URL, SAMPLE).await;
    assert!(stored.name.starts_with("articles/"));
    assert_eq!(stored.canonical_url, "https://news.example/putin-cis");
    assert_eq!(stored.body, SAMPLE);
    assert_eq!(stored.body_length as usize, SAMPLE.chars().count());
    assert_eq!(stored.body_sha256.len(), 64);

    let got = app
        .articles
        .clone()
        .get_article(app.as_role(
            Role::Reader,
            GetArticleRequest {
                name: stored.name.clone(),
                view: 0,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .article
        .unwrap();
    assert_eq!(got, stored);
}

#[tokio::test]
async fn registering_the_same_article_again_returns_the_stored_one() {
    let app = spawn_app().await;
    let first = app.create_article(URL, SAMPLE).await;
    // another spelling of the same URL: tracking parameters and fragment differ
    let request = article_request("https://NEWS.example/putin-cis", SAMPLE);
    let again = app.submit_article(request).await.unwrap();
    assert!(!again.created);
    assert_eq!(again.article.unwrap().name, first.name);
    assert_eq!(app.count("articles").await, 1);
}

#[tokio::test]
async fn a_new_body_at_a_registered_url_is_its_next_revision_and_old_quotes_stay_anchored() {
    let app = spawn_app().await;
    let (first, claim) = app.sample_claim(URL).await;
    let updated = format!("Updated at 14:00.\n\n{SAMPLE}");
    let second = app.create_article(URL, &updated).await;
    assert_ne!(first.name, second.name);
    assert_eq!((first.revision, second.revision), (1, 2));
    assert_eq!(first.previous_revision, "");
    assert_eq!(second.previous_revision, first.name);
    let third = app.create_article(URL, "A third body.").await;
    assert_eq!(third.revision, 3);
    assert_eq!(third.previous_revision, second.name);
    // registering a known revision again finds it
    let again = app
        .submit_article(article_request(URL, &updated))
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.article.unwrap().name, second.name);
    // the quote made on the first revision still points at its text there
    let read = app.get_claim(&claim.name).await.unwrap();
    assert_eq!(read.quotes[0].article, first.name);
    assert_eq!(read.quotes[0].span, claim.quotes[0].span);
}

#[tokio::test]
async fn a_retried_create_with_the_same_request_id_acts_once() {
    let app = spawn_app().await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let request = CreateArticleRequest {
        extract_claims: false,
        article: Some(article(URL, SAMPLE)),
        request_id: request_id.clone(),
    };
    let first = app.submit_article(request.clone()).await.unwrap();
    let retry = app.submit_article(request).await.unwrap();
    assert!(first.created);
    assert_eq!(retry.article.unwrap().name, first.article.unwrap().name);
    assert_eq!(app.count("articles").await, 1);
}

#[tokio::test]
async fn a_request_id_reused_for_a_different_request_is_refused() {
    let app = spawn_app().await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let first = CreateArticleRequest {
        extract_claims: false,
        article: Some(article(URL, SAMPLE)),
        request_id: request_id.clone(),
    };
    app.submit_article(first).await.unwrap();
    let other = CreateArticleRequest {
        extract_claims: false,
        article: Some(article("https://news.example/other", SAMPLE)),
        request_id,
    };
    let status = app.submit_article(other).await.unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert_eq!(app.count("articles").await, 1);
}

#[tokio::test]
async fn each_malformed_article_field_is_named_in_the_error() {
    let app = spawn_app().await;
    let cases: [(&str, Spoil); 7] = [
        ("article.url", (|a| a.url = "ftp://example.com/x".into())),
        ("article.title", (|a| a.title = "  ".into())),
        ("article.publisher", (|a| a.publisher.clear())),
        (
            "article.language_code",
            (|a| a.language_code = "not a tag".into()),
        ),
        ("article.body", (|a| a.body = "\n".into())),
        ("article.body", (|a| a.body = "nul\0byte".into())),
        (
            "article.publish_time",
            (|a| a.publish_time.as_mut().unwrap().nanos = -1),
        ),
    ];
    for (field, spoil) in cases {
        let mut bad = article(URL, SAMPLE);
        spoil(&mut bad);
        let request = CreateArticleRequest {
            extract_claims: false,
            article: Some(bad),
            request_id: String::new(),
        };
        let status = app.submit_article(request).await.unwrap_err();
        assert_bad_field(&status, field);
    }
    let missing = CreateArticleRequest {
        extract_claims: false,
        article: None,
        request_id: "not-a-uuid".into(),
    };
    let status = app.submit_article(missing).await.unwrap_err();
    assert_bad_field(&status, "request_id");
    assert_eq!(app.count("articles").await, 0);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_with_a_clear_error() {
    let app = spawn_app().await;
    let body = "word ".repeat(210_000);
    let request = article_request(URL, &body);
    let status = app.submit_article(request).await.unwrap_err();
    assert_bad_field(&status, "article.body");
    assert!(
        status.message().contains("at most 1048576 bytes"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn getting_an_unknown_article_is_not_found_and_a_malformed_name_is_invalid() {
    let app = spawn_app().await;
    let name = format!("articles/{}", uuid::Uuid::now_v7());
    let status = app
        .articles
        .clone()
        .get_article(app.as_role(
            Role::Reader,
            GetArticleRequest {
                name: name.clone(),
                view: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains(&name));
    let status = app
        .articles
        .clone()
        .get_article(app.as_role(
            Role::Reader,
            GetArticleRequest {
                name: "claims/1".into(),
                view: 0,
            },
        ))
        .await
        .unwrap_err();
    assert_bad_field(&status, "name");
}

#[tokio::test]
async fn listing_articles_leaves_bodies_out_unless_the_full_view_is_asked_for() {
    let app = spawn_app().await;
    app.create_article(URL, SAMPLE).await;
    app.create_article("https://news.example/other", "Another story.")
        .await;
    let list = |view: ArticleView, url: &str| ListArticlesRequest {
        view: view.into(),
        url: url.into(),
        ..Default::default()
    };
    let basic = app
        .articles
        .clone()
        .list_articles(app.as_role(Role::Reader, list(ArticleView::Unspecified, "")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(basic.articles.len(), 2);
    assert!(
        basic
            .articles
            .iter()
            .all(|a| a.body.is_empty() && a.body_length > 0)
    );
    assert_eq!(
        basic.articles[0].url, "https://news.example/other",
        "newest first"
    );
    let full = app
        .articles
        .clone()
        .list_articles(app.as_role(Role::Reader, list(ArticleView::Full, URL)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(full.articles.len(), 1);
    assert_eq!(full.articles[0].body, SAMPLE);
}

#[tokio::test]
async fn a_request_over_the_message_size_limit_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    let body = "x".repeat(claim_registry::server::MAX_MESSAGE_BYTES + 1);
    let request = article_request(URL, &body);
    let status = app.submit_article(request).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status
            .message()
            .contains("larger than the 4194304-byte limit"),
        "{}",
        status.message()
    );
    assert_eq!(app.count("articles").await, 0);
}

#[tokio::test]
async fn concurrent_retries_of_one_create_neither_starve_the_pool_nor_act_twice() {
    // the test server's pool has 5 connections: a retry that held one while waiting for a
    // second used to exhaust it, failing calls with UNAVAILABLE after the acquire timeout
    let app = spawn_app().await;
    let request = CreateArticleRequest {
        extract_claims: false,
        article: Some(article(URL, SAMPLE)),
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    app.submit_article(request.clone()).await.unwrap();
    let mut retries = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let mut client = app.articles.clone();
        let retry = app.as_role(Role::Submitter, request.clone());
        retries.spawn(async move { client.create_article(retry).await });
    }
    while let Some(reply) = retries.join_next().await {
        let reply = reply.unwrap().expect("every retry succeeds").into_inner();
        assert!(!reply.created);
    }
    assert_eq!(app.count("articles").await, 1);
}
