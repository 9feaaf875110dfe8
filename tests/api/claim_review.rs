//! ClaimReview export: a published verdict as schema.org JSON-LD, checked against a JSON Schema
//! of what Google's structured-data documentation requires and recommends. Import and the round
//! trip are in `claim_review_import`.

use claim_registry::api::proto::{
    CreateVerdictRequest, GetClaimReviewRequest, Rating, Verdict, VerdictState,
};
use claim_registry::domain::Role;
use claim_registry::registry::Desk;
use serde_json::{Value, json};
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{SAMPLE, TestApp, quote, spawn_app};

/// A protobuf `Struct` value back as JSON.
pub(crate) fn to_json(value: prost_types::Value) -> Value {
    use prost_types::value::Kind;
    match value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => b.into(),
        Some(Kind::NumberValue(n)) => json!(n),
        Some(Kind::StringValue(s)) => s.into(),
        Some(Kind::ListValue(list)) => list.values.into_iter().map(to_json).collect(),
        Some(Kind::StructValue(fields)) => object(fields),
    }
}

pub(crate) fn object(fields: prost_types::Struct) -> Value {
    Value::Object(
        fields
            .fields
            .into_iter()
            .map(|(k, v)| (k, to_json(v)))
            .collect(),
    )
}

pub(crate) fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/claim_review.schema.json"
    ))
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("the schema compiles")
}

pub(crate) fn errors(validator: &jsonschema::Validator, review: &Value) -> Vec<String> {
    validator
        .iter_errors(review)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

pub(crate) async fn verdict(app: &TestApp, claim: &str, v: Verdict) -> Verdict {
    app.claims
        .clone()
        .create_verdict(app.as_role(
            Role::Reviewer,
            CreateVerdictRequest {
                parent: claim.into(),
                verdict: Some(v),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .verdict
        .unwrap()
}

pub(crate) async fn claim_review(app: &TestApp, name: &str) -> Result<Value, tonic::Status> {
    let reply = app
        .claims
        .clone()
        .get_claim_review(app.as_role(Role::Reader, GetClaimReviewRequest { name: name.into() }))
        .await?
        .into_inner();
    Ok(object(reply.claim_review.unwrap()))
}

#[tokio::test]
async fn a_published_verdict_exports_as_a_claim_review_with_every_required_field() {
    let app = spawn_app().await;
    let desk = app
        .replica_with_desk(Desk {
            organization_name: "Desk Example".into(),
            organization_url: "https://desk.example".into(),
            ..Desk::default()
        })
        .await;
    let article = app
        .create_article("https://news.example/bloodshed", SAMPLE)
        .await;
    let claim = app
        .create_claim(
            "Putin called to stop the bloodshed",
            vec![quote(&article, "stop the bloodshed")],
        )
        .await;
    let given = verdict(
        &app,
        &claim.name,
        Verdict {
            rating: Rating::MostlyFalse.into(),
            textual_rating: "Needs context".into(),
            explanation: "Said of one town.".into(),
            review_url: "https://desk.example/checks/bloodshed".into(),
            headline: "Did Putin call to stop the bloodshed?".into(),
            ..Default::default()
        },
    )
    .await;

    let review = claim_review(&desk, &given.name).await.unwrap();
    let problems = errors(&schema(), &review);
    assert!(problems.is_empty(), "{problems:#?}\n{review:#}");
    assert_eq!(
        review["claimReviewed"],
        "Putin called to stop the bloodshed"
    );
    assert_eq!(review["url"], "https://desk.example/checks/bloodshed");
    assert_eq!(review["reviewRating"]["alternateName"], "Needs context");
    assert_eq!(review["reviewRating"]["ratingValue"], 2.0);
    assert_eq!(review["author"]["name"], "Desk Example");
    assert_eq!(review["itemReviewed"]["author"]["name"], claim.claimant);
    assert_eq!(
        review["itemReviewed"]["firstAppearance"]["url"],
        "https://news.example/bloodshed"
    );
    assert_eq!(
        review["itemReviewed"]["appearance"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_schema_refuses_a_review_without_what_google_requires() {
    let validator = schema();
    let good = json!({
        "@context": "https://schema.org", "@type": "ClaimReview",
        "url": "https://desk.example/1", "claimReviewed": "The world is flat",
        "reviewRating": {"@type": "Rating", "alternateName": "False", "ratingValue": 1,
                         "bestRating": 5, "worstRating": 1},
        "itemReviewed": {"@type": "Claim", "appearance": {"@type": "NewsArticle",
                                                          "url": "https://news.example/flat"}}
    });
    assert!(errors(&validator, &good).is_empty());
    for missing in ["url", "claimReviewed", "reviewRating"] {
        let mut bad = good.clone();
        bad.as_object_mut().unwrap().remove(missing);
        assert!(!errors(&validator, &bad).is_empty(), "{missing}");
    }
    let mut unlabelled = good.clone();
    unlabelled["reviewRating"]
        .as_object_mut()
        .unwrap()
        .remove("alternateName");
    assert!(!errors(&validator, &unlabelled).is_empty());
}

#[tokio::test]
async fn a_draft_or_a_verdict_without_a_review_url_has_no_claim_review() {
    let app = spawn_app().await;
    let article = app
        .create_article("https://news.example/drafts", SAMPLE)
        .await;
    let claim = app
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await;
    let draft = verdict(
        &app,
        &claim.name,
        Verdict {
            state: VerdictState::Draft.into(),
            rating: Rating::False.into(),
            explanation: "x".into(),
            review_url: "https://desk.example/checks/draft".into(),
            ..Default::default()
        },
    )
    .await;
    let no_url = verdict(
        &app,
        &claim.name,
        Verdict {
            rating: Rating::False.into(),
            explanation: "x".into(),
            ..Default::default()
        },
    )
    .await;
    for (name, says) in [(&draft.name, "not published"), (&no_url.name, "review_url")] {
        let status = claim_review(&app, name).await.unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(status.message().contains(says), "{status:?}");
        let failure = status.get_details_precondition_failure().unwrap();
        assert_eq!(failure.violations[0].r#type, "NOT_EXPORTABLE");
    }
}
