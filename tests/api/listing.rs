//! ListClaims's orders and plans, and claims read back in one statement.

#[path = "../bench/claim_listing.rs"]
mod claim_listing;

use claim_registry::api::proto::{
    CreateVerdictRequest, EvidenceSource, ListClaimsRequest, Rating, Verdict,
};
use claim_registry::domain::{ClaimOrder, Cursor, Role};
use claim_registry::store::claims;

use crate::helpers::{SAMPLE, assert_bad_field, quote, spawn_app};
use claim_listing::{Case, check_plan, middle, picks, seed};

#[tokio::test]
async fn an_unknown_order_by_is_refused_naming_it_together_with_the_other_bad_fields() {
    let app = spawn_app().await;
    for order_by in [
        "id desc",
        "create_time sideways",
        "statement",
        "create_time, id",
    ] {
        let request = ListClaimsRequest {
            order_by: order_by.into(),
            rating: 99,
            page_size: -1,
            ..Default::default()
        };
        let status = app
            .claims
            .clone()
            .list_claims(app.as_role(Role::Reader, request))
            .await
            .unwrap_err();
        for field in ["order_by", "rating", "page_size"] {
            assert_bad_field(&status, field);
        }
        assert!(status.message().contains("text_position"), "{status:?}");
    }
}

#[tokio::test]
async fn text_position_without_an_article_is_refused_naming_order_by() {
    let app = spawn_app().await;
    let request = ListClaimsRequest {
        order_by: "text_position".into(),
        claimant: "Vladimir Putin".into(),
        ..Default::default()
    };
    let status = app
        .claims
        .clone()
        .list_claims(app.as_role(Role::Reader, request))
        .await
        .unwrap_err();
    assert_bad_field(&status, "order_by");
    assert!(status.message().contains("article"), "{status:?}");
}

#[tokio::test]
async fn a_claim_reads_the_same_from_get_list_and_the_calls_that_wrote_it() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let created = app
        .create_claim(
            "There is no alternative to negotiations",
            vec![
                quote(&article, "stop the bloodshed"),
                quote(&article, "civilian casualties are unacceptable"),
            ],
        )
        .await;
    let verdict = Verdict {
        rating: Rating::MostlyTrue.into(),
        textual_rating: "Mostly true".into(),
        explanation: "Said, and in so many words.".into(),
        evidence: ["first", "second", "third"]
            .map(|title| EvidenceSource {
                url: format!("https://evidence.example/{title}"),
                title: title.into(),
            })
            .to_vec(),
        ..Default::default()
    };
    let given = app
        .claims
        .clone()
        .create_verdict(app.as_role(
            Role::Reviewer,
            CreateVerdictRequest {
                parent: created.name.clone(),
                verdict: Some(verdict),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .verdict
        .unwrap();
    let got = app.get_claim(&created.name).await.unwrap();
    // the quotes in their order, the verdict to the microsecond, the evidence in its order
    assert_eq!(got.quotes, created.quotes);
    assert_eq!(got.current_verdict.as_ref(), Some(&given));
    for order_by in ["", "create_time", "text_position"] {
        let listed = app
            .list_claims(ListClaimsRequest {
                article: article.name.clone(),
                order_by: order_by.into(),
                ..Default::default()
            })
            .await;
        assert_eq!(listed, vec![got.clone()], "order_by {order_by:?}");
    }
    let missing = app
        .get_claim("claims/0190a4f0-0000-7000-8000-000000000000")
        .await
        .unwrap_err();
    assert_eq!(missing.code(), tonic::Code::NotFound);
}

/// Enough claims that a plan which reads the table, or reads it in an order other than the
/// listing's, reads far more rows than a page: half of them or more against the 10,000 allowed.
const SEEDED_CLAIMS: i64 = 100_000;
const SEEDED_ARTICLES: i64 = 1_000;

/// Seeds the claims and checks the plan of every case: the first page, the page after it and
/// a page from the middle of the listing, for three sets of values. Returns how many plans it
/// checked.
async fn check_plans(cases: Vec<Case>) -> usize {
    let app = spawn_app().await;
    let mut conn = app.pool.acquire().await.unwrap();
    seed(&mut conn, SEEDED_CLAIMS, SEEDED_ARTICLES)
        .await
        .expect("the claims are seeded");
    let picks = picks(&mut conn, 3, 7).await.unwrap();
    let middle = middle(&mut conn).await.unwrap();
    let mut checked = 0;
    let mut problems = Vec::new();
    for case in cases {
        for pick in &picks {
            let filter = case.filter(pick);
            let first = claims::list(&mut conn, &filter, case.order, None, 50)
                .await
                .unwrap();
            let mut cursors = vec![None, Some(middle)];
            if let Some(id) = first.next_after {
                cursors.push(Some(Cursor {
                    id,
                    key: first.next_key,
                }));
            }
            for cursor in cursors {
                let plan = claims::explain_list(&mut conn, &filter, case.order, cursor, 50)
                    .await
                    .unwrap()
                    .expect("only an unreviewed state with a rating makes no query");
                checked += 1;
                if let Err(problem) = check_plan(&plan, &case) {
                    problems.push(format!("{} after {cursor:?}: {problem}", case.label()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    checked
}

#[tokio::test]
async fn every_combination_of_filters_and_order_reads_an_index_and_not_much_more_than_a_page() {
    let checked = check_plans(Case::all()).await;
    // 24 combinations (claimant and speaker never together) by two orders, 12 with an article
    // also in text order; three sets of values, two cursors or more each
    assert!(checked >= 60 * 3 * 2, "{checked}");
}

#[tokio::test]
async fn every_triage_combination_reads_an_index_and_not_much_more_than_a_page() {
    let checked = check_plans(Case::triage()).await;
    // 15 combinations of origin, dismissal and check-worthiness order; three sets of values,
    // two cursors or more each
    assert!(checked >= 15 * 3 * 2, "{checked}");
}

#[tokio::test]
async fn an_unreviewed_state_with_a_rating_lists_nothing_without_a_query() {
    let app = spawn_app().await;
    let mut conn = app.pool.acquire().await.unwrap();
    let filter = claims::ClaimFilter {
        review_state: Some(claim_registry::domain::ReviewState::Unreviewed),
        rating: Some(claim_registry::domain::Rating::False),
        ..Default::default()
    };
    for order in [ClaimOrder::NewestFirst, ClaimOrder::OldestFirst] {
        let plan = claims::explain_list(&mut conn, &filter, order, None, 50)
            .await
            .unwrap();
        assert_eq!(plan, None);
        let page = claims::list(&mut conn, &filter, order, None, 50)
            .await
            .unwrap();
        assert!(page.items.is_empty() && page.next_after.is_none());
    }
}
