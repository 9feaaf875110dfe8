//! The verdict lifecycle: drafts, publication (with the four-eyes rule when second review is
//! on), corrections with notes, withdrawals falling back, and the history of every step.

use claim_registry::api::proto::{
    CorrectVerdictRequest, CreateVerdictRequest, GetVerdictRequest, ListVerdictHistoryRequest,
    PublishVerdictRequest, Rating, ReviewState, Verdict, VerdictAction, VerdictState,
    WithdrawVerdictRequest,
};
use claim_registry::domain::Role;
use claim_registry::registry::Desk;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::helpers::{SAMPLE, TestApp, assert_bad_field, quote, spawn_app};

fn content(rating: Rating, explanation: &str) -> Verdict {
    Verdict {
        rating: rating.into(),
        textual_rating: "Half True".into(),
        explanation: explanation.into(),
        review_url: "https://desk.example/checks/bloodshed".into(),
        headline: "Did he call to stop the bloodshed?".into(),
        ..Default::default()
    }
}

fn draft(rating: Rating) -> Verdict {
    Verdict {
        state: VerdictState::Draft.into(),
        ..content(rating, "Drafted against the record.")
    }
}

async fn new_claim(app: &TestApp) -> String {
    let article = app
        .create_article(
            &format!("https://news.example/{}", uuid::Uuid::now_v7()),
            SAMPLE,
        )
        .await;
    app.create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await
        .name
}

async fn create(app: &TestApp, role: Role, claim: &str, v: Verdict) -> Result<Verdict, Status> {
    let request = CreateVerdictRequest {
        parent: claim.into(),
        verdict: Some(v),
        request_id: String::new(),
    };
    Ok(app
        .claims
        .clone()
        .create_verdict(app.as_role(role, request))
        .await?
        .into_inner()
        .verdict
        .unwrap())
}

async fn publish(app: &TestApp, role: Role, name: &str) -> Result<Verdict, Status> {
    let request = PublishVerdictRequest {
        name: name.into(),
        etag: String::new(),
        request_id: String::new(),
    };
    Ok(app
        .claims
        .clone()
        .publish_verdict(app.as_role(role, request))
        .await?
        .into_inner()
        .verdict
        .unwrap())
}

async fn correct(app: &TestApp, request: CorrectVerdictRequest) -> Result<Verdict, Status> {
    Ok(app
        .claims
        .clone()
        .correct_verdict(app.as_role(Role::Reviewer, request))
        .await?
        .into_inner()
        .verdict
        .unwrap())
}

async fn withdraw(app: &TestApp, name: &str, reason: &str) -> Result<Verdict, Status> {
    let request = WithdrawVerdictRequest {
        name: name.into(),
        reason: reason.into(),
        etag: String::new(),
        request_id: String::new(),
    };
    Ok(app
        .claims
        .clone()
        .withdraw_verdict(app.as_role(Role::Reviewer, request))
        .await?
        .into_inner()
        .verdict
        .unwrap())
}

async fn history(app: &TestApp, name: &str) -> Vec<claim_registry::api::proto::VerdictStep> {
    app.claims
        .clone()
        .list_verdict_history(app.as_role(
            Role::Reader,
            ListVerdictHistoryRequest {
                parent: name.into(),
            },
        ))
        .await
        .expect("the history is listed")
        .into_inner()
        .steps
}

/// The failed condition's type in a FAILED_PRECONDITION reply.
fn precondition(status: &Status) -> String {
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    status
        .get_details_precondition_failure()
        .expect("a PreconditionFailure detail")
        .violations[0]
        .r#type
        .clone()
}

#[tokio::test]
async fn a_draft_counts_for_its_claim_only_once_published() {
    let app = spawn_app().await;
    let claim = new_claim(&app).await;
    let drafted = create(&app, Role::Reviewer, &claim, draft(Rating::False))
        .await
        .unwrap();
    assert_eq!(drafted.state(), VerdictState::Draft);
    assert_eq!(drafted.revision, 0);
    assert!(drafted.publish_time.is_none());
    let stored = app.get_claim(&claim).await.unwrap();
    assert_eq!(stored.review_state(), ReviewState::Unreviewed);
    assert!(stored.current_verdict.is_none());

    let published = publish(&app, Role::Reviewer, &drafted.name).await.unwrap();
    assert_eq!(published.state(), VerdictState::Published);
    assert_eq!(published.revision, 1);
    assert!(published.publish_time.is_some());
    assert_eq!(published.publisher, published.reviewer);
    assert_ne!(published.etag, drafted.etag);
    assert_eq!(
        published.review_url,
        "https://desk.example/checks/bloodshed"
    );
    let stored = app.get_claim(&claim).await.unwrap();
    assert_eq!(stored.review_state(), ReviewState::Reviewed);
    assert_eq!(stored.current_verdict.unwrap().name, drafted.name);

    let again = publish(&app, Role::Reviewer, &drafted.name)
        .await
        .unwrap_err();
    assert_eq!(precondition(&again), "VERDICT_STATE");
    assert!(again.message().contains("published"), "{again:?}");

    let steps = history(&app, &drafted.name).await;
    let actions: Vec<VerdictAction> = steps.iter().map(|s| s.action()).collect();
    assert_eq!(actions, [VerdictAction::Drafted, VerdictAction::Published]);
    assert_eq!(steps[1].changed_fields, ["state"]);
    assert_eq!(
        steps[0].verdict.as_ref().unwrap().state(),
        VerdictState::Draft
    );

    let read = app
        .claims
        .clone()
        .get_verdict(app.as_role(
            Role::Reader,
            GetVerdictRequest {
                name: drafted.name.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .verdict
        .unwrap();
    assert_eq!(read, published);
}

#[tokio::test]
async fn with_second_review_on_only_another_reviewer_publishes_a_draft() {
    let app = spawn_app().await;
    let desk = app
        .replica_with_desk(Desk {
            second_review: true,
            ..Desk::default()
        })
        .await;
    let claim = new_claim(&desk).await;

    let at_once = create(&desk, Role::Reviewer, &claim, content(Rating::False, "x"))
        .await
        .unwrap_err();
    assert_eq!(precondition(&at_once), "SECOND_REVIEW_REQUIRED");

    let drafted = create(&desk, Role::Reviewer, &claim, draft(Rating::False))
        .await
        .unwrap();
    let own = publish(&desk, Role::Reviewer, &drafted.name)
        .await
        .unwrap_err();
    assert_eq!(precondition(&own), "SELF_APPROVAL");
    assert!(own.message().contains(&drafted.reviewer), "{own:?}");
    assert_eq!(
        desk.get_claim(&claim).await.unwrap().review_state(),
        ReviewState::Unreviewed
    );

    // the admin's key is another person's, and its role includes reviewing
    let published = publish(&desk, Role::Admin, &drafted.name).await.unwrap();
    assert_eq!(published.state(), VerdictState::Published);
    assert_ne!(published.publisher, published.reviewer);
    let steps = history(&desk, &drafted.name).await;
    assert_eq!(steps[0].actor, drafted.reviewer);
    assert_eq!(steps[1].actor, published.publisher);
}

#[tokio::test]
async fn a_correction_is_a_new_revision_with_a_note_and_the_earlier_one_stays_readable() {
    let app = spawn_app().await;
    let claim = new_claim(&app).await;
    let first = create(
        &app,
        Role::Reviewer,
        &claim,
        content(Rating::False, "First reading."),
    )
    .await
    .unwrap();
    assert_eq!(first.revision, 1);

    let request = |note: &str, etag: &str| CorrectVerdictRequest {
        name: first.name.clone(),
        verdict: Some(content(
            Rating::Mixed,
            "A second source changes the picture.",
        )),
        note: note.into(),
        etag: etag.into(),
        request_id: String::new(),
    };
    assert_bad_field(&correct(&app, request(" ", "")).await.unwrap_err(), "note");
    let stale = correct(&app, request("Second source.", "999"))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");

    let corrected = correct(&app, request("A second source was found.", &first.etag))
        .await
        .unwrap();
    assert_eq!(corrected.revision, 2);
    assert_eq!(corrected.rating(), Rating::Mixed);
    assert_eq!(corrected.publish_time, first.publish_time);
    let stored = app.get_claim(&claim).await.unwrap();
    assert_eq!(stored.current_verdict.unwrap().rating(), Rating::Mixed);

    let steps = history(&app, &first.name).await;
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[1].action(), VerdictAction::Corrected);
    assert_eq!(steps[1].note, "A second source was found.");
    assert_eq!(steps[1].changed_fields, ["rating", "explanation"]);
    let before = steps[0].verdict.as_ref().unwrap();
    assert_eq!(before.rating(), Rating::False);
    assert_eq!(before.explanation, "First reading.");
    assert_eq!(before.revision, 1);
    assert_eq!(steps[1].verdict.as_ref().unwrap().revision, 2);
    // past states carry no etag: only the verdict as it stands takes the next step
    assert!(
        steps
            .iter()
            .all(|s| s.verdict.as_ref().unwrap().etag.is_empty())
    );

    // only a published verdict is corrected
    let drafted = create(&app, Role::Reviewer, &claim, draft(Rating::True))
        .await
        .unwrap();
    let refused = correct(
        &app,
        CorrectVerdictRequest {
            name: drafted.name.clone(),
            ..request("note", "")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(precondition(&refused), "VERDICT_STATE");
}

#[tokio::test]
async fn withdrawing_the_current_verdict_falls_back_to_the_one_before_then_to_unreviewed() {
    let app = spawn_app().await;
    let claim = new_claim(&app).await;
    let older = create(&app, Role::Reviewer, &claim, content(Rating::False, "a"))
        .await
        .unwrap();
    let newer = create(&app, Role::Reviewer, &claim, content(Rating::True, "b"))
        .await
        .unwrap();
    assert_eq!(
        app.get_claim(&claim)
            .await
            .unwrap()
            .current_verdict
            .unwrap()
            .name,
        newer.name
    );

    assert_bad_field(
        &withdraw(&app, &newer.name, "").await.unwrap_err(),
        "reason",
    );
    let withdrawn = withdraw(&app, &newer.name, "Rated the wrong claim.")
        .await
        .unwrap();
    assert_eq!(withdrawn.state(), VerdictState::Withdrawn);
    let stored = app.get_claim(&claim).await.unwrap();
    assert_eq!(stored.current_verdict.as_ref().unwrap().name, older.name);
    assert_eq!(stored.current_verdict.unwrap().rating(), Rating::False);

    let twice = withdraw(&app, &newer.name, "again").await.unwrap_err();
    assert_eq!(precondition(&twice), "VERDICT_STATE");

    withdraw(&app, &older.name, "Withdrawn pending review.")
        .await
        .unwrap();
    let stored = app.get_claim(&claim).await.unwrap();
    assert_eq!(stored.review_state(), ReviewState::Unreviewed);
    assert!(stored.current_verdict.is_none());
    let steps = history(&app, &older.name).await;
    assert_eq!(steps.last().unwrap().note, "Withdrawn pending review.");
    assert_eq!(steps.last().unwrap().changed_fields, ["state"]);
}

#[tokio::test]
async fn lifecycle_calls_name_what_is_wrong_and_refuse_readers() {
    let app = spawn_app().await;
    let claim = new_claim(&app).await;
    let drafted = create(&app, Role::Reviewer, &claim, draft(Rating::False))
        .await
        .unwrap();
    assert_bad_field(
        &publish(&app, Role::Reviewer, "claims/x/verdicts/y")
            .await
            .unwrap_err(),
        "name",
    );
    let unknown = format!("{claim}/verdicts/{}", uuid::Uuid::now_v7());
    assert_eq!(
        publish(&app, Role::Reviewer, &unknown)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        publish(&app, Role::Reader, &drafted.name)
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let bad_state = create(
        &app,
        Role::Reviewer,
        &claim,
        Verdict {
            state: VerdictState::Withdrawn.into(),
            review_url: "not a url".into(),
            ..draft(Rating::False)
        },
    )
    .await
    .unwrap_err();
    assert_bad_field(&bad_state, "verdict.state");
    assert_bad_field(&bad_state, "verdict.review_url");
}

#[tokio::test]
async fn each_step_after_the_first_is_in_the_change_log_with_its_verdict() {
    use claim_registry::domain::EventType;
    use claim_registry::store::changes;
    let app = spawn_app().await;
    let claim = new_claim(&app).await;
    let mut conn = app.pool.acquire().await.unwrap();
    let start = changes::now(&mut conn).await.unwrap();
    let drafted = create(&app, Role::Reviewer, &claim, draft(Rating::False))
        .await
        .unwrap();
    publish(&app, Role::Reviewer, &drafted.name).await.unwrap();
    correct(
        &app,
        CorrectVerdictRequest {
            name: drafted.name.clone(),
            verdict: Some(content(Rating::Mixed, "Corrected.")),
            note: "A figure was wrong.".into(),
            etag: String::new(),
            request_id: String::new(),
        },
    )
    .await
    .unwrap();
    withdraw(&app, &drafted.name, "Rated the wrong claim.")
        .await
        .unwrap();
    let (read, _) = changes::since(&mut conn, &start).await.unwrap();
    let steps: Vec<EventType> = read
        .iter()
        .map(|c| c.kind)
        .filter(|k| *k != EventType::ClaimUpdated)
        .collect();
    assert_eq!(
        steps,
        [
            EventType::VerdictCreated,
            EventType::VerdictPublished,
            EventType::VerdictCorrected,
            EventType::VerdictWithdrawn,
        ]
    );
    let id = drafted.name.rsplit('/').next().unwrap();
    assert!(
        read.iter()
            .filter(|c| c.kind != EventType::ClaimUpdated)
            .all(|c| c.verdict.map(|v| v.to_string()).as_deref() == Some(id))
    );
}

#[tokio::test]
async fn a_lifecycle_step_retried_with_its_request_id_is_taken_once_and_a_reused_id_is_refused() {
    let app = spawn_app().await;
    let (_, claim) = app.sample_claim("https://news.example/retried").await;
    let drafted = create(&app, Role::Reviewer, &claim.name, draft(Rating::True))
        .await
        .unwrap();
    let id = "6f1c8f59-3a4e-4d1a-9a53-2c1f5b0a7e11";
    let publish_once = || PublishVerdictRequest {
        name: drafted.name.clone(),
        etag: String::new(),
        request_id: id.into(),
    };
    let call = |request: PublishVerdictRequest| {
        let mut client = app.claims.clone();
        let request = app.as_role(Role::Reviewer, request);
        async move { client.publish_verdict(request).await }
    };
    let first = call(publish_once())
        .await
        .unwrap()
        .into_inner()
        .verdict
        .unwrap();
    // the reply was lost: the retry succeeds instead of finding the verdict published already
    let again = call(publish_once())
        .await
        .unwrap()
        .into_inner()
        .verdict
        .unwrap();
    assert_eq!(again.name, first.name);
    assert_eq!(again.etag, first.etag);
    let history = app
        .claims
        .clone()
        .list_verdict_history(app.as_role(
            Role::Reader,
            ListVerdictHistoryRequest {
                parent: first.name.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .steps;
    assert_eq!(history.len(), 2, "drafted, published once");
    // the same id for a different request is refused
    let withdraw = WithdrawVerdictRequest {
        name: first.name.clone(),
        reason: "Wrong claim.".into(),
        etag: String::new(),
        request_id: id.into(),
    };
    let status = app
        .claims
        .clone()
        .withdraw_verdict(app.as_role(Role::Reviewer, withdraw))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
}

async fn update(
    app: &TestApp,
    role: Role,
    name: &str,
    verdict: Verdict,
) -> Result<Verdict, Status> {
    let request = claim_registry::api::proto::UpdateVerdictRequest {
        name: name.into(),
        verdict: Some(verdict),
        etag: String::new(),
        request_id: String::new(),
    };
    Ok(app
        .claims
        .clone()
        .update_verdict(app.as_role(role, request))
        .await?
        .into_inner()
        .verdict
        .unwrap())
}

#[tokio::test]
async fn a_draft_is_rewritten_in_place_and_with_second_review_no_one_who_wrote_it_publishes_it() {
    let app = spawn_app().await;
    let desk = app
        .replica_with_desk(Desk {
            second_review: true,
            ..Desk::default()
        })
        .await;
    let claim = new_claim(&desk).await;
    let drafted = create(&desk, Role::Reviewer, &claim, draft(Rating::False))
        .await
        .unwrap();
    // the admin (another reviewer) rewrites the reviewer's draft
    let edited = update(
        &desk,
        Role::Admin,
        &drafted.name,
        content(Rating::MostlyFalse, "One figure holds."),
    )
    .await
    .unwrap();
    assert_eq!(edited.name, drafted.name);
    assert_eq!(edited.state(), VerdictState::Draft);
    assert_eq!(edited.rating(), Rating::MostlyFalse);
    assert_eq!(edited.revision, 0, "a draft has published no revision");
    assert_ne!(edited.etag, drafted.etag);
    let steps = history(&desk, &drafted.name).await;
    assert_eq!(
        steps.iter().map(|s| s.action()).collect::<Vec<_>>(),
        [VerdictAction::Drafted, VerdictAction::Edited]
    );
    assert_eq!(steps[1].changed_fields, ["rating", "explanation"]);
    assert_eq!(steps[0].verdict.as_ref().unwrap().rating(), Rating::False);

    // neither its author nor its editor may publish it; the claim stays unreviewed meanwhile
    for role in [Role::Reviewer, Role::Admin] {
        let refused = publish(&desk, role, &drafted.name).await.unwrap_err();
        assert_eq!(precondition(&refused), "SELF_APPROVAL", "{role}");
    }
    assert_eq!(
        desk.get_claim(&claim).await.unwrap().review_state(),
        ReviewState::Unreviewed
    );

    // once published, it is corrected, not edited
    let no_review = new_claim(&app).await;
    let given = create(&app, Role::Reviewer, &no_review, content(Rating::True, "x"))
        .await
        .unwrap();
    let refused = update(
        &app,
        Role::Reviewer,
        &given.name,
        content(Rating::False, "y"),
    )
    .await
    .unwrap_err();
    assert_eq!(precondition(&refused), "VERDICT_STATE");
    assert!(refused.message().contains("corrected"), "{refused:?}");
    // and a reader may not edit
    let denied = update(&app, Role::Reader, &drafted.name, draft(Rating::True))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
}
