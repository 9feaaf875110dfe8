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

/// Registers, with extraction, an article of twelve attributed sentences, then two manual
/// claims quoting it: one at the very span of an extracted quote (a tie in text order), one with
/// a later quote first and an earlier one second; and a claim of another article. Returns the
/// article's name and its claims with the code point where each first stands in it.
async fn article_with_claims_out_of_text_order(
    app: &crate::helpers::TestApp,
) -> (String, Vec<(u32, String)>) {
    use claim_registry::api::proto::CreateArticleRequest;

    use crate::helpers::{SAMPLE, article_request, quote};

    let body: String = (0..12)
        .map(|i| format!("“Point {i} matters,” Putin said. "))
        .collect();
    let response = app
        .submit_article(CreateArticleRequest {
            extract_claims: true,
            ..article_request("https://news.example/points", &body)
        })
        .await
        .unwrap();
    assert_eq!(response.claims.len(), 12, "{:#?}", response.claims);
    let article = response.article.unwrap();
    let tie = app
        .create_claim("Point 3", vec![quote(&article, "“Point 3 matters,”")])
        .await;
    let two = app
        .create_claim(
            "Points 10 and 1",
            vec![
                quote(&article, "Point 10 matters"),
                quote(&article, "Point 1 matters"),
            ],
        )
        .await;
    let other = app
        .create_article("https://news.example/other", SAMPLE)
        .await;
    app.create_claim("Elsewhere", vec![quote(&other, "stop the bloodshed")])
        .await;
    let claims = response
        .claims
        .iter()
        .chain([&tie, &two])
        .map(|c| {
            let start = c.quotes.iter().map(|q| q.span.unwrap().start).min();
            (start.unwrap(), c.name.clone())
        })
        .collect();
    (article.name, claims)
}

/// Every page of a listing of claims, following the tokens; the names in order.
async fn every_page(
    app: &crate::helpers::TestApp,
    request: ListClaimsRequest,
) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut pages = 0;
    let mut token = String::new();
    loop {
        let page = app
            .claims
            .clone()
            .list_claims(app.as_role(
                Role::Reader,
                ListClaimsRequest {
                    page_token: token,
                    ..request.clone()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        names.extend(page.claims.into_iter().map(|c| c.name));
        if page.next_page_token.is_empty() {
            return (names, pages);
        }
        token = page.next_page_token;
    }
}

#[tokio::test]
async fn an_articles_claims_come_back_in_text_order_across_pages_and_by_time_in_either_direction() {
    let app = spawn_app().await;
    let (article, mut claims) = article_with_claims_out_of_text_order(&app).await;
    let listing = |order_by: &str| ListClaimsRequest {
        article: article.clone(),
        order_by: order_by.into(),
        page_size: 4,
        ..Default::default()
    };
    // by where each claim first stands in the text; a tie by id, the older first
    claims.sort();
    let in_text_order: Vec<String> = claims.iter().map(|(_, name)| name.clone()).collect();
    let (listed, pages) = every_page(&app, listing("text_position")).await;
    assert_eq!(listed, in_text_order);
    assert_eq!(pages, 4);
    // claim ids are UUIDv7, in creation order, and their text sorts like their bytes
    let mut by_time = in_text_order.clone();
    by_time.sort();
    assert_ne!(
        by_time, in_text_order,
        "the text order is not the creation order"
    );
    assert_eq!(every_page(&app, listing("create_time")).await.0, by_time);
    by_time.reverse();
    assert_eq!(every_page(&app, listing("")).await.0, by_time);
    assert_eq!(
        every_page(&app, listing(" create_time  desc")).await.0,
        by_time
    );
}

#[tokio::test]
async fn a_page_token_from_one_order_is_refused_for_another() {
    let app = spawn_app().await;
    let (article, _) = article_with_claims_out_of_text_order(&app).await;
    let request = |order_by: &str, page_token: &str| ListClaimsRequest {
        article: article.clone(),
        order_by: order_by.into(),
        page_token: page_token.into(),
        page_size: 2,
        ..Default::default()
    };
    let list = |request: ListClaimsRequest| {
        let mut client = app.claims.clone();
        let request = app.as_role(Role::Reader, request);
        async move { client.list_claims(request).await.map(|r| r.into_inner()) }
    };
    let mut tokens = Vec::new();
    for order_by in ["text_position", "create_time", ""] {
        let page = list(request(order_by, "")).await.unwrap();
        assert!(!page.next_page_token.is_empty());
        tokens.push((order_by, page.next_page_token));
    }
    for (made_for, token) in &tokens {
        for order_by in ["text_position", "create_time", ""] {
            let result = list(request(order_by, token)).await;
            if order_by == *made_for {
                assert!(result.is_ok(), "{made_for:?} → {order_by:?}: {result:?}");
            } else {
                assert_bad_field(&result.unwrap_err(), "page_token");
            }
        }
    }
    // the default order spelled out is the same order
    let (_, newest_first) = &tokens[2];
    list(request("create_time desc", newest_first))
        .await
        .unwrap();
}
