use claim_registry::api::proto::{
    CreateVerdictRequest, EvidenceSource, ListClaimsRequest, ListVerdictsRequest, Rating,
    ReviewState, Verdict,
};
use claim_registry::domain::Role;
use tonic::Code;

use crate::helpers::{SAMPLE, TestApp, assert_bad_field, quote, spawn_app};

fn verdict(rating: Rating, explanation: &str) -> Verdict {
    Verdict {
        rating: rating.into(),
        textual_rating: "Half True".into(),
        explanation: explanation.into(),
        evidence: vec![EvidenceSource {
            url: "https://un.example/resolution-242".into(),
            title: "UN resolution".into(),
        }],
        // a caller cannot choose who the reviewer is: this is ignored
        reviewer: "someone-else".into(),
        ..Default::default()
    }
}

async fn give(app: &TestApp, claim: &str, v: Verdict) -> Result<Verdict, tonic::Status> {
    let request = CreateVerdictRequest {
        parent: claim.into(),
        verdict: Some(v),
        request_id: String::new(),
    };
    Ok(app
        .claims
        .clone()
        .create_verdict(app.as_role(Role::Reviewer, request))
        .await?
        .into_inner()
        .verdict
        .unwrap())
}

#[tokio::test]
async fn a_verdict_becomes_the_current_one_and_its_reviewer_is_the_callers_key() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await;
    let given = give(
        &app,
        &claim.name,
        verdict(Rating::Mixed, "Partly supported."),
    )
    .await
    .unwrap();
    assert!(given.name.starts_with(&format!("{}/verdicts/", claim.name)));
    assert_eq!(given.reviewer, "test-reviewer");
    assert_eq!(given.evidence.len(), 1);

    let now = app.get_claim(&claim.name).await.unwrap();
    assert_eq!(now.review_state, ReviewState::Reviewed as i32);
    assert_eq!(now.current_verdict.unwrap(), given);
    assert_ne!(now.etag, claim.etag, "a verdict changes the claim's etag");
}

#[tokio::test]
async fn verdicts_are_kept_as_history_newest_first() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await;
    give(&app, &claim.name, verdict(Rating::Mixed, "first look"))
        .await
        .unwrap();
    let second = give(
        &app,
        &claim.name,
        verdict(Rating::MostlyFalse, "second look"),
    )
    .await
    .unwrap();
    let history = app
        .claims
        .clone()
        .list_verdicts(app.as_role(
            Role::Reader,
            ListVerdictsRequest {
                parent: claim.name.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let explanations: Vec<_> = history
        .verdicts
        .iter()
        .map(|v| v.explanation.as_str())
        .collect();
    assert_eq!(explanations, ["second look", "first look"]);
    let by_rating = app
        .list_claims(ListClaimsRequest {
            rating: Rating::MostlyFalse.into(),
            ..Default::default()
        })
        .await;
    assert_eq!(by_rating.len(), 1);
    assert_eq!(
        by_rating[0].current_verdict.as_ref().unwrap().name,
        second.name
    );
    let by_old_rating = app
        .list_claims(ListClaimsRequest {
            rating: Rating::Mixed.into(),
            ..Default::default()
        })
        .await;
    assert!(
        by_old_rating.is_empty(),
        "only the current verdict's rating counts"
    );
    let unreviewed = app
        .list_claims(ListClaimsRequest {
            review_state: ReviewState::Unreviewed.into(),
            ..Default::default()
        })
        .await;
    assert!(unreviewed.is_empty());
}

#[tokio::test]
async fn a_verdict_without_rating_explanation_or_with_bad_evidence_is_refused() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await;
    assert_bad_field(
        &give(&app, &claim.name, verdict(Rating::False, "  "))
            .await
            .unwrap_err(),
        "verdict.explanation",
    );
    assert_bad_field(
        &give(&app, &claim.name, verdict(Rating::Unspecified, "why"))
            .await
            .unwrap_err(),
        "verdict.rating",
    );
    let mut bad = verdict(Rating::False, "why");
    bad.evidence[0].url = "not a url".into();
    assert_bad_field(
        &give(&app, &claim.name, bad).await.unwrap_err(),
        "verdict.evidence[0].url",
    );
    assert_eq!(app.count("verdicts").await, 0);
}

#[tokio::test]
async fn a_verdict_on_an_unknown_claim_is_not_found() {
    let app = spawn_app().await;
    let name = format!("claims/{}", uuid::Uuid::now_v7());
    let status = give(&app, &name, verdict(Rating::True, "why"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains(&name));
}
