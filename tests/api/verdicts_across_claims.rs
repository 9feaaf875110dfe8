//! ListVerdicts across claims (`claims/-`), filtered by reviewer, rating, state and time.

use claim_registry::api::proto::{
    CreateVerdictRequest, ListVerdictsRequest, Rating, Verdict, VerdictState,
};
use claim_registry::domain::Role;
use tonic::Status;

use crate::helpers::{SAMPLE, TestApp, assert_bad_field, quote, spawn_app};

/// Gives `claim` a verdict as `role` (published unless `state` says draft).
async fn give(app: &TestApp, role: Role, claim: &str, rating: Rating, draft: bool) -> Verdict {
    let verdict = Verdict {
        rating: rating.into(),
        explanation: "Checked against the record.".into(),
        state: if draft {
            VerdictState::Draft.into()
        } else {
            VerdictState::Unspecified.into()
        },
        ..Default::default()
    };
    let request = CreateVerdictRequest {
        parent: claim.into(),
        verdict: Some(verdict),
        request_id: String::new(),
    };
    app.claims
        .clone()
        .create_verdict(app.as_role(role, request))
        .await
        .expect("the verdict is given")
        .into_inner()
        .verdict
        .unwrap()
}

async fn list(app: &TestApp, request: ListVerdictsRequest) -> Result<Vec<Verdict>, Status> {
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .claims
            .clone()
            .list_verdicts(app.as_role(
                Role::Reader,
                ListVerdictsRequest {
                    page_token: token.clone(),
                    page_size: 2,
                    ..request.clone()
                },
            ))
            .await?
            .into_inner();
        all.extend(page.verdicts);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        token = page.next_page_token;
    }
}

fn names(verdicts: &[Verdict]) -> Vec<&str> {
    verdicts.iter().map(|v| v.name.as_str()).collect()
}

#[tokio::test]
async fn every_claims_verdicts_are_listed_newest_first_by_reviewer_rating_state_and_time() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let mut claims = Vec::new();
    for text in ["stop the bloodshed", "civilian casualties are unacceptable"] {
        claims.push(
            app.create_claim("s", vec![quote(&article, text)])
                .await
                .name,
        );
    }
    let given = [
        give(&app, Role::Reviewer, &claims[0], Rating::True, false).await,
        give(&app, Role::Admin, &claims[1], Rating::False, false).await,
        give(&app, Role::Reviewer, &claims[1], Rating::False, true).await,
        give(&app, Role::Reviewer, &claims[0], Rating::Mixed, false).await,
    ];
    let newest_first = |picked: &[usize]| -> Vec<&str> {
        let mut picked = picked.to_vec();
        picked.sort_by(|a, b| b.cmp(a));
        picked.iter().map(|i| given[*i].name.as_str()).collect()
    };
    let every = ListVerdictsRequest {
        parent: "claims/-".into(),
        ..Default::default()
    };
    let all = list(&app, every.clone()).await.unwrap();
    assert_eq!(names(&all), newest_first(&[0, 1, 2, 3]));
    assert_eq!(all[3], given[0], "a verdict reads the same listed");
    let by = |change: &dyn Fn(&mut ListVerdictsRequest)| {
        let mut request = every.clone();
        change(&mut request);
        request
    };
    let reviewer = list(&app, by(&|r| r.reviewer = "test-reviewer".into()))
        .await
        .unwrap();
    assert_eq!(names(&reviewer), newest_first(&[0, 2, 3]));
    let false_ones = list(&app, by(&|r| r.rating = Rating::False.into()))
        .await
        .unwrap();
    assert_eq!(names(&false_ones), newest_first(&[1, 2]));
    let drafts = list(&app, by(&|r| r.state = VerdictState::Draft.into()))
        .await
        .unwrap();
    assert_eq!(names(&drafts), newest_first(&[2]));
    let published_false = list(
        &app,
        by(&|r| {
            r.rating = Rating::False.into();
            r.state = VerdictState::Published.into();
        }),
    )
    .await
    .unwrap();
    assert_eq!(names(&published_false), newest_first(&[1]));
    // a time range: from the second verdict's time, before the fourth's
    let from = given[1].create_time;
    let until = given[3].create_time;
    let range = list(
        &app,
        by(&|r| {
            r.create_time_after = from;
            r.create_time_before = until;
        }),
    )
    .await
    .unwrap();
    assert_eq!(names(&range), newest_first(&[1, 2]));
    // one claim's verdicts take the same filters
    let one = list(
        &app,
        ListVerdictsRequest {
            parent: claims[0].clone(),
            rating: Rating::Mixed.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(names(&one), newest_first(&[3]));
}

#[tokio::test]
async fn a_token_is_refused_for_other_filters_and_bad_filters_are_named() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await
        .name;
    for rating in [Rating::True, Rating::False, Rating::Mixed] {
        give(&app, Role::Reviewer, &claim, rating, false).await;
    }
    let first = app
        .claims
        .clone()
        .list_verdicts(app.as_role(
            Role::Reader,
            ListVerdictsRequest {
                parent: "claims/-".into(),
                page_size: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let status = app
        .claims
        .clone()
        .list_verdicts(app.as_role(
            Role::Reader,
            ListVerdictsRequest {
                parent: "claims/-".into(),
                page_token: first.next_page_token,
                reviewer: "test-reviewer".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_bad_field(&status, "page_token");
    let status = app
        .claims
        .clone()
        .list_verdicts(app.as_role(
            Role::Reader,
            ListVerdictsRequest {
                parent: "claims/*".into(),
                rating: 99,
                state: 99,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    for field in ["parent", "rating", "state"] {
        assert_bad_field(&status, field);
    }
}
