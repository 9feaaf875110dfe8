//! Has this been checked before: appearances of a claim in other articles, a speaker's claims
//! across articles, and links between claims that say the same, suggested, reviewed and shown
//! as "previously checked".

use claim_registry::api::proto::{
    AddQuoteRequest, Claim, DismissClaimRequest, DismissalReason, ListClaimMatchesRequest,
    ListClaimsRequest, MatchReview, MatchState, Rating, RestoreClaimRequest,
    ReviewClaimMatchesRequest, ReviewState, UpdateClaimRequest,
};
use claim_registry::domain::{self, ClaimName, Role};
use claim_registry::store::matches::{self, Found};
use prost_types::FieldMask;
use tonic::Code;
use uuid::Uuid;

use crate::helpers::{SAMPLE, SAMPLE_QUOTE, TestApp, assert_bad_field, quote, spawn_app};

async fn add_quote(
    app: &TestApp,
    claim: &str,
    quote: claim_registry::api::proto::Quote,
) -> Result<Claim, tonic::Status> {
    let request = AddQuoteRequest {
        parent: claim.into(),
        quote: Some(quote),
        request_id: String::new(),
    };
    Ok(app
        .claims
        .clone()
        .add_quote(app.as_role(Role::Submitter, request))
        .await?
        .into_inner()
        .claim
        .unwrap())
}

fn name_of(claim: &Claim) -> ClaimName {
    ClaimName::parse(&claim.name).unwrap()
}

/// Stores what the matcher would have found: `state` links from `claim` to `earlier`.
async fn link(app: &TestApp, claim: &Claim, earlier: &Claim, state: domain::MatchState) {
    let mut conn = app.pool.acquire().await.unwrap();
    let found = Found {
        matched: name_of(earlier),
        score: 0.8,
        state,
    };
    matches::insert(&mut conn, name_of(claim), &[found])
        .await
        .unwrap();
}

async fn review(
    app: &TestApp,
    reviews: Vec<(String, MatchState)>,
) -> Result<Vec<claim_registry::api::proto::ClaimMatch>, tonic::Status> {
    let request = ReviewClaimMatchesRequest {
        reviews: reviews
            .into_iter()
            .map(|(name, decision)| MatchReview {
                name,
                decision: decision.into(),
            })
            .collect(),
    };
    Ok(app
        .claims
        .clone()
        .review_claim_matches(app.as_role(Role::Reviewer, request))
        .await?
        .into_inner()
        .matches)
}

#[tokio::test]
async fn the_same_claim_in_another_article_becomes_a_new_quote_of_it() {
    let app = spawn_app().await;
    let (_, claim) = app.sample_claim("https://news.example/first").await;
    let other = app
        .create_article("https://other-outlet.example/same", SAMPLE)
        .await;

    let added = add_quote(&app, &claim.name, quote(&other, SAMPLE_QUOTE))
        .await
        .unwrap();
    assert_eq!(added.quotes.len(), 2);
    assert_eq!(added.quotes[1].article, other.name);
    assert_eq!(added.quotes[1].text, SAMPLE_QUOTE);
    assert_ne!(added.etag, claim.etag, "an appearance changes the claim");
    let read = app.get_claim(&claim.name).await.unwrap();
    assert_eq!(read.quotes, added.quotes, "GetClaim shows every appearance");

    let again = add_quote(&app, &claim.name, quote(&other, SAMPLE_QUOTE))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists, "{again:?}");
}

#[tokio::test]
async fn an_appearance_whose_words_are_not_in_its_article_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (article, claim) = app.sample_claim("https://news.example/first").await;
    let before = app.row_counts().await;

    let mut wrong = quote(&article, SAMPLE_QUOTE);
    wrong.text = "The main thing now is to keep the bloodshed going".into();
    let status = add_quote(&app, &claim.name, wrong).await.unwrap_err();
    assert_bad_field(&status, "quote.text");

    let mut bad_span = quote(&article, SAMPLE_QUOTE);
    bad_span.span = Some(claim_registry::api::proto::TextSpan { start: 0, end: 5 });
    let status = add_quote(&app, &claim.name, bad_span).await.unwrap_err();
    assert_bad_field(&status, "quote.span");

    let mut no_article = quote(&article, SAMPLE_QUOTE);
    no_article.article = format!("articles/{}", Uuid::now_v7());
    let status = add_quote(&app, &claim.name, no_article).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    let missing = format!("claims/{}", Uuid::now_v7());
    let status = add_quote(&app, &missing, quote(&article, SAMPLE_QUOTE))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");

    assert_eq!(
        app.row_counts().await,
        before,
        "a refused appearance stores nothing"
    );
    let read = app.get_claim(&claim.name).await.unwrap();
    assert_eq!(read.quotes.len(), 1);
    assert_eq!(read.etag, claim.etag);
}

#[tokio::test]
async fn a_speakers_claims_are_listed_across_articles_whatever_the_case() {
    let app = spawn_app().await;
    let one = app.create_article("https://news.example/one", SAMPLE).await;
    let two = app
        .create_article("https://other.example/two", SAMPLE)
        .await;
    let first = app
        .create_claim("first", vec![quote(&one, SAMPLE_QUOTE)])
        .await;
    let second = app
        .create_claim("second", vec![quote(&two, SAMPLE_QUOTE)])
        .await;
    assert_eq!(first.claimant, second.claimant);

    let listed = app
        .list_claims(ListClaimsRequest {
            speaker: first.claimant.to_uppercase(),
            ..Default::default()
        })
        .await;
    let names: Vec<&str> = listed.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, [second.name.as_str(), first.name.as_str()]);

    let nobody = app
        .list_claims(ListClaimsRequest {
            speaker: "Nobody At All".into(),
            ..Default::default()
        })
        .await;
    assert!(nobody.is_empty());
}

#[tokio::test]
async fn a_speakers_listing_follows_a_changed_claimant_a_quotes_resolved_speaker_and_verdicts() {
    let app = spawn_app().await;
    let (article, claim) = app.sample_claim("https://news.example/speakers").await;
    let listed = |speaker: &str, state: ReviewState, rating: Rating| {
        let request = ListClaimsRequest {
            speaker: speaker.into(),
            review_state: state.into(),
            rating: rating.into(),
            ..Default::default()
        };
        let app = &app;
        async move {
            app.list_claims(request)
                .await
                .into_iter()
                .map(|c| c.name)
                .collect::<Vec<_>>()
        }
    };
    let any = (ReviewState::Unspecified, Rating::Unspecified);
    assert_eq!(
        listed("vladimir putin", any.0, any.1).await,
        vec![claim.name.clone()]
    );

    // the claimant changes: listed under the new name only
    let update = UpdateClaimRequest {
        claim: Some(Claim {
            name: claim.name.clone(),
            claimant: "The Kremlin".into(),
            etag: claim.etag.clone(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["claimant".into()],
        }),
    };
    app.claims
        .clone()
        .update_claim(app.as_role(Role::Submitter, update))
        .await
        .expect("the claimant changes");
    assert!(listed("vladimir putin", any.0, any.1).await.is_empty());
    assert_eq!(
        listed("the KREMLIN", any.0, any.1).await,
        vec![claim.name.clone()]
    );

    // a quote whose speaker the extractor resolved lists the claim under that name too, and
    // no longer once the quote is gone
    let claim_id = claim.name.trim_start_matches("claims/");
    sqlx::query("update quotes set resolved_speaker = 'Vladimir Putin' where claim_id = $1::uuid")
        .bind(claim_id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        listed("Vladimir Putin", any.0, any.1).await,
        vec![claim.name.clone()]
    );

    // a verdict: the state and rating filters see it
    app.give_verdict(&claim.name, Rating::False).await;
    assert_eq!(
        listed("the kremlin", ReviewState::Reviewed, Rating::False).await,
        vec![claim.name.clone()]
    );
    assert_eq!(
        listed("vladimir putin", ReviewState::Unspecified, Rating::False).await,
        vec![claim.name.clone()]
    );
    assert!(
        listed("the kremlin", ReviewState::Unspecified, Rating::True)
            .await
            .is_empty()
    );
    assert!(
        listed("the kremlin", ReviewState::Unreviewed, Rating::Unspecified)
            .await
            .is_empty()
    );
    // with an article the speaker is tested the other way round, to the same effect
    let in_article = app
        .list_claims(ListClaimsRequest {
            speaker: "the kremlin".into(),
            article: article.name.clone(),
            rating: Rating::False.into(),
            ..Default::default()
        })
        .await;
    assert_eq!(in_article.len(), 1);

    sqlx::query("delete from quotes where claim_id = $1::uuid")
        .bind(claim_id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(listed("vladimir putin", any.0, any.1).await.is_empty());
    assert_eq!(
        listed("the kremlin", any.0, any.1).await,
        vec![claim.name.clone()]
    );
}

#[tokio::test]
async fn an_accepted_suggestion_links_the_claims_and_shows_the_earlier_verdict() {
    let app = spawn_app().await;
    let (article, earlier) = app.sample_claim("https://news.example/first").await;
    app.give_verdict(&earlier.name, Rating::Mixed).await;
    let later = app
        .create_claim(
            "Stopping the bloodshed matters most",
            vec![quote(&article, SAMPLE_QUOTE)],
        )
        .await;
    link(&app, &later, &earlier, domain::MatchState::Suggested).await;

    let read = app.get_claim(&later.name).await.unwrap();
    assert!(
        read.previously_checked.is_none(),
        "a suggestion is not a link"
    );
    let listed = app
        .claims
        .clone()
        .list_claim_matches(app.as_role(
            Role::Reader,
            ListClaimMatchesRequest {
                parent: "claims/-".into(),
                state: MatchState::Suggested.into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .matches;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].matched_claim, earlier.name);

    let decided = review(&app, vec![(listed[0].name.clone(), MatchState::Accepted)])
        .await
        .unwrap();
    assert_eq!(decided[0].state, MatchState::Accepted as i32);
    assert_eq!(decided[0].reviewer, "test-reviewer");

    let read = app.get_claim(&later.name).await.unwrap();
    let checked = read
        .previously_checked
        .expect("the accepted link shows the earlier verdict");
    assert_eq!(checked.claim, earlier.name);
    let verdict = checked.verdict.unwrap();
    assert_eq!(verdict.rating, Rating::Mixed as i32);
    assert_eq!(verdict.reviewer, "test-reviewer");
    assert!(verdict.create_time.is_some());
}

#[tokio::test]
async fn a_rejected_suggestion_is_not_linked_and_cannot_be_decided_again() {
    let app = spawn_app().await;
    let (article, earlier) = app.sample_claim("https://news.example/first").await;
    app.give_verdict(&earlier.name, Rating::Mixed).await;
    let later = app
        .create_claim("Something else", vec![quote(&article, SAMPLE_QUOTE)])
        .await;
    let third = app
        .create_claim("A third", vec![quote(&article, SAMPLE_QUOTE)])
        .await;
    link(&app, &later, &earlier, domain::MatchState::Suggested).await;
    link(&app, &third, &earlier, domain::MatchState::Suggested).await;
    let name = format!("{}/matches/{}", later.name, name_of(&earlier).0);
    let third_name = format!("{}/matches/{}", third.name, name_of(&earlier).0);

    let decided = review(&app, vec![(name.clone(), MatchState::Rejected)])
        .await
        .unwrap();
    assert_eq!(decided[0].state, MatchState::Rejected as i32);
    assert!(
        app.get_claim(&later.name)
            .await
            .unwrap()
            .previously_checked
            .is_none()
    );

    // all or none: the open suggestion is not accepted beside the decided one
    let status = review(
        &app,
        vec![
            (third_name.clone(), MatchState::Accepted),
            (name.clone(), MatchState::Accepted),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("rejected"), "{status:?}");
    assert!(
        app.get_claim(&third.name)
            .await
            .unwrap()
            .previously_checked
            .is_none()
    );

    // the matcher finding the pair again leaves the rejection as it stands
    link(&app, &later, &earlier, domain::MatchState::Matched).await;
    assert!(
        app.get_claim(&later.name)
            .await
            .unwrap()
            .previously_checked
            .is_none()
    );

    let status = review(&app, vec![(name, MatchState::Matched)])
        .await
        .unwrap_err();
    assert_bad_field(&status, "reviews[0].decision");
    let status = review(&app, vec![]).await.unwrap_err();
    assert_bad_field(&status, "reviews");
}

#[tokio::test]
async fn a_link_the_matcher_found_to_a_claim_dismissed_since_is_not_stored() {
    let app = spawn_app().await;
    let (article, earlier) = app.sample_claim("https://news.example/first").await;
    let later = app
        .create_claim(
            "Stopping the bloodshed matters most",
            vec![quote(&article, SAMPLE_QUOTE)],
        )
        .await;
    let dismiss = DismissClaimRequest {
        name: earlier.name.clone(),
        reason: DismissalReason::NotAClaim.into(),
        ..Default::default()
    };
    app.claims
        .clone()
        .dismiss_claim(app.as_role(Role::Reviewer, dismiss))
        .await
        .unwrap();

    // what a matcher whose index had not yet read the dismissal would have found
    link(&app, &later, &earlier, domain::MatchState::Matched).await;
    assert_eq!(
        app.count("claim_matches").await,
        0,
        "no link to a dismissed claim"
    );
    assert!(
        app.get_claim(&later.name)
            .await
            .unwrap()
            .previously_checked
            .is_none()
    );

    let restore = RestoreClaimRequest {
        name: earlier.name.clone(),
        ..Default::default()
    };
    app.claims
        .clone()
        .restore_claim(app.as_role(Role::Reviewer, restore))
        .await
        .unwrap();
    link(&app, &later, &earlier, domain::MatchState::Matched).await;
    assert_eq!(
        app.count("claim_matches").await,
        1,
        "restored, it is linkable again"
    );
}
