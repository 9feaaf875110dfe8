use std::collections::HashSet;

use claim_registry::api::proto::{ListArticlesRequest, ListClaimsRequest};
use claim_registry::domain::Role;

use crate::helpers::{assert_bad_field, spawn_app};

#[tokio::test]
async fn paging_while_rows_are_inserted_serves_each_row_once_and_skips_none() {
    let app = spawn_app().await;
    for i in 0..25 {
        app.create_article(
            &format!("https://news.example/{i}"),
            &format!("Story number {i}."),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    let mut inserted = 0;
    loop {
        let request = ListArticlesRequest {
            page_size: 4,
            page_token: token.clone(),
            ..Default::default()
        };
        let page = app
            .articles
            .clone()
            .list_articles(app.as_role(Role::Reader, request))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.articles.into_iter().map(|a| a.url));
        // new articles arrive between pages
        for _ in 0..2 {
            app.create_article(
                &format!("https://news.example/new-{inserted}"),
                &format!("Late story {inserted}."),
            )
            .await;
            inserted += 1;
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no article is served twice");
    let originals: HashSet<String> = (0..25)
        .map(|i| format!("https://news.example/{i}"))
        .collect();
    assert!(
        originals.iter().all(|url| unique.contains(url)),
        "every article present at the start is served"
    );
    assert_eq!(
        seen.len(),
        25,
        "articles inserted after the listing began are newer and come before it"
    );
}

#[tokio::test]
async fn a_page_token_is_refused_with_other_filters_and_sizes_are_bounded() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.create_article(&format!("https://news.example/{i}"), &format!("Story {i}."))
            .await;
    }
    let first = app
        .claims
        .clone()
        .list_claims(app.as_role(
            Role::Reader,
            ListClaimsRequest {
                page_size: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(first.next_page_token.is_empty(), "no claims, no next page");
    let page = app
        .articles
        .clone()
        .list_articles(app.as_role(
            Role::Reader,
            ListArticlesRequest {
                page_size: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.articles.len(), 1);
    let other_filter = ListArticlesRequest {
        page_size: 1,
        page_token: page.next_page_token.clone(),
        publisher: "Reuters".into(),
        ..Default::default()
    };
    let status = app
        .articles
        .clone()
        .list_articles(app.as_role(Role::Reader, other_filter))
        .await
        .unwrap_err();
    assert_bad_field(&status, "page_token");
    let negative = ListArticlesRequest {
        page_size: -1,
        ..Default::default()
    };
    assert_bad_field(
        &app.articles
            .clone()
            .list_articles(app.as_role(Role::Reader, negative))
            .await
            .unwrap_err(),
        "page_size",
    );
    let garbage = ListArticlesRequest {
        page_token: "%%%".into(),
        ..Default::default()
    };
    assert_bad_field(
        &app.articles
            .clone()
            .list_articles(app.as_role(Role::Reader, garbage))
            .await
            .unwrap_err(),
        "page_token",
    );
}
