//! Claim triage: dismissing and restoring claims, and listing them by origin, dismissal and
//! check-worthiness.

use claim_registry::api::proto::{
    Claim, CreateArticleRequest, DismissClaimRequest, DismissalFilter, DismissalReason,
    ListClaimsRequest, Origin, RestoreClaimRequest, UpdateClaimRequest,
};
use claim_registry::domain::Role;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::helpers::{SAMPLE, TestApp, article_request, assert_bad_field, quote, spawn_app};

/// The quotes of [`SAMPLE`] the tests' claims are made with, one claim each.
const QUOTES: [&str; 4] = [
    "stop the bloodshed",
    "civilian casualties are unacceptable",
    "there is no alternative to resolving the Palestinian-Israeli conflict through negotiations",
    "Russia is ready to coordinate with all constructive-minded partners",
];

/// Registers [`SAMPLE`] and one claim per quote of [`QUOTES`], oldest first.
async fn claims(app: &TestApp) -> Vec<Claim> {
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let mut made = Vec::new();
    for (i, text) in QUOTES.iter().enumerate() {
        made.push(
            app.create_claim(&format!("Claim number {i}"), vec![quote(&article, text)])
                .await,
        );
    }
    made
}

/// A dismissal of `claim` for `reason`, with nothing else.
fn dismissal(claim: &str, reason: DismissalReason) -> DismissClaimRequest {
    DismissClaimRequest {
        name: claim.into(),
        reason: reason.into(),
        ..Default::default()
    }
}

impl TestApp {
    async fn dismiss(&self, role: Role, request: DismissClaimRequest) -> Result<Claim, Status> {
        let response = self
            .claims
            .clone()
            .dismiss_claim(self.as_role(role, request))
            .await?;
        Ok(response.into_inner().claim.unwrap())
    }

    async fn restore(&self, role: Role, name: &str, etag: &str) -> Result<Claim, Status> {
        let request = RestoreClaimRequest {
            name: name.into(),
            etag: etag.into(),
            request_id: String::new(),
        };
        let response = self
            .claims
            .clone()
            .restore_claim(self.as_role(role, request))
            .await?;
        Ok(response.into_inner().claim.unwrap())
    }
}

fn names(claims: &[Claim]) -> Vec<&str> {
    claims.iter().map(|c| c.name.as_str()).collect()
}

#[tokio::test]
async fn a_reviewer_dismisses_a_claim_for_each_reason_and_the_claim_shows_why_by_whom_and_when() {
    let app = spawn_app().await;
    let made = claims(&app).await;
    let original = &made[0];
    let cases = [
        (DismissalReason::NotAClaim, "", "an opinion"),
        (DismissalReason::Duplicate, original.name.as_str(), ""),
        (DismissalReason::OutOfScope, "", ""),
    ];
    for ((reason, duplicate_of, note), claim) in cases.into_iter().zip(&made[1..]) {
        let dismissed = app
            .dismiss(
                Role::Reviewer,
                DismissClaimRequest {
                    duplicate_of: duplicate_of.into(),
                    note: note.into(),
                    etag: claim.etag.clone(),
                    ..dismissal(&claim.name, reason)
                },
            )
            .await
            .unwrap();
        let d = dismissed
            .dismissal
            .clone()
            .expect("the claim shows its dismissal");
        assert_eq!(d.reason, reason as i32);
        assert_eq!(d.duplicate_of, duplicate_of);
        assert_eq!(d.note, note);
        assert_eq!(d.reviewer, "test-reviewer");
        assert!(d.dismiss_time.is_some());
        assert_ne!(dismissed.etag, claim.etag, "a dismissal is a change");
        // the quotes stay, and every reader sees the same
        assert_eq!(dismissed.quotes, claim.quotes);
        assert_eq!(app.get_claim(&claim.name).await.unwrap(), dismissed);
    }
    // each dismissal is in the change log, as an update of its claim
    let logged: i64 = sqlx::query_scalar(
        "select count(*) from changes where kind = 'claim_updated' and claim_id = any($1)",
    )
    .bind(
        made[1..]
            .iter()
            .map(|c| uuid::Uuid::parse_str(&c.name["claims/".len()..]).unwrap())
            .collect::<Vec<_>>(),
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(logged, 3);
}

#[tokio::test]
async fn a_duplicate_must_name_another_registered_claim_and_only_a_duplicate_names_one() {
    let app = spawn_app().await;
    let made = claims(&app).await;
    let claim = &made[1];
    let refused = |duplicate_of: &str, reason| DismissClaimRequest {
        duplicate_of: duplicate_of.into(),
        ..dismissal(&claim.name, reason)
    };
    for request in [
        refused("", DismissalReason::Duplicate),
        refused(&claim.name, DismissalReason::Duplicate),
        refused(&made[0].name, DismissalReason::NotAClaim),
        refused(
            "articles/0190a4f0-0000-7000-8000-000000000000",
            DismissalReason::Duplicate,
        ),
    ] {
        let status = app.dismiss(Role::Reviewer, request).await.unwrap_err();
        assert_bad_field(&status, "duplicate_of");
    }
    let status = app
        .dismiss(Role::Reviewer, refused("", DismissalReason::Unspecified))
        .await
        .unwrap_err();
    assert_bad_field(&status, "reason");
    let unknown = "claims/0190a4f0-0000-7000-8000-000000000000";
    let status = app
        .dismiss(Role::Reviewer, refused(unknown, DismissalReason::Duplicate))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(status.message().contains("duplicate_of"), "{status:?}");
    assert!(
        app.get_claim(&claim.name)
            .await
            .unwrap()
            .dismissal
            .is_none()
    );
}

#[tokio::test]
async fn dismissing_a_dismissed_claim_and_restoring_a_live_one_fail_their_precondition() {
    let app = spawn_app().await;
    let made = claims(&app).await;
    let claim = &made[0];
    let status = app
        .restore(Role::Reviewer, &claim.name, "")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("is not dismissed"), "{status:?}");
    let violation = &status
        .get_details_precondition_failure()
        .unwrap()
        .violations[0];
    assert_eq!(violation.r#type, "CLAIM_NOT_DISMISSED");
    assert_eq!(violation.subject, claim.name);

    app.dismiss(
        Role::Reviewer,
        dismissal(&claim.name, DismissalReason::OutOfScope),
    )
    .await
    .unwrap();
    let status = app
        .dismiss(
            Role::Reviewer,
            dismissal(&claim.name, DismissalReason::NotAClaim),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status
            .message()
            .contains("already dismissed (out_of_scope)"),
        "{status:?}"
    );
    // a claim is not a duplicate of a dismissed one
    let status = app
        .dismiss(
            Role::Reviewer,
            DismissClaimRequest {
                duplicate_of: claim.name.clone(),
                ..dismissal(&made[1].name, DismissalReason::Duplicate)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
}

#[tokio::test]
async fn a_restored_claim_is_live_again_and_listed_without_its_dismissal() {
    let app = spawn_app().await;
    let made = claims(&app).await;
    let claim = &made[2];
    let dismissed = app
        .dismiss(
            Role::Reviewer,
            dismissal(&claim.name, DismissalReason::NotAClaim),
        )
        .await
        .unwrap();
    let restored = app
        .restore(Role::Reviewer, &claim.name, &dismissed.etag)
        .await
        .unwrap();
    assert!(restored.dismissal.is_none());
    assert_ne!(restored.etag, dismissed.etag);
    assert_eq!(restored.quotes, claim.quotes);
    let listed = app.list_claims(ListClaimsRequest::default()).await;
    assert!(listed.contains(&restored), "{:?}", names(&listed));
    // and it may be dismissed again
    app.dismiss(
        Role::Reviewer,
        dismissal(&claim.name, DismissalReason::OutOfScope),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_stale_etag_is_refused_and_a_retried_request_id_returns_the_claim() {
    let app = spawn_app().await;
    let made = claims(&app).await;
    let claim = &made[0];
    let status = app
        .dismiss(
            Role::Reviewer,
            DismissClaimRequest {
                etag: "999".into(),
                ..dismissal(&claim.name, DismissalReason::NotAClaim)
            },
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
    let request = DismissClaimRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        ..dismissal(&claim.name, DismissalReason::NotAClaim)
    };
    let first = app.dismiss(Role::Reviewer, request.clone()).await.unwrap();
    let again = app.dismiss(Role::Reviewer, request).await.unwrap();
    assert_eq!(again, first);
    let status = app
        .restore(Role::Reviewer, &claim.name, &claim.etag)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted, "{status:?}");
}

#[tokio::test]
async fn dismissed_claims_are_left_out_of_list_claims_unless_asked_for() {
    let app = spawn_app().await;
    let made = claims(&app).await;
    app.dismiss(
        Role::Reviewer,
        dismissal(&made[1].name, DismissalReason::NotAClaim),
    )
    .await
    .unwrap();
    let list = |dismissal: DismissalFilter| {
        app.list_claims(ListClaimsRequest {
            dismissal: dismissal.into(),
            ..Default::default()
        })
    };
    let live = [&made[3].name, &made[2].name, &made[0].name].map(String::as_str);
    assert_eq!(names(&list(DismissalFilter::Unspecified).await), live);
    assert_eq!(names(&list(DismissalFilter::NotDismissed).await), live);
    assert_eq!(
        names(&list(DismissalFilter::Dismissed).await),
        [made[1].name.as_str()]
    );
    assert_eq!(list(DismissalFilter::Any).await.len(), 4);
    // an article's listing leaves them out too
    let by_article = app
        .list_claims(ListClaimsRequest {
            article: made[0].quotes[0].article.clone(),
            order_by: "text_position".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(by_article.len(), 3);
    let status = app
        .claims
        .clone()
        .list_claims(app.as_role(
            Role::Reader,
            ListClaimsRequest {
                dismissal: 9,
                origin: 9,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_bad_field(&status, "dismissal");
    assert_bad_field(&status, "origin");
}

#[tokio::test]
async fn claims_are_listed_by_origin() {
    let app = spawn_app().await;
    let made = claims(&app).await;
    let extracted = app
        .submit_article(CreateArticleRequest {
            extract_claims: true,
            ..article_request("https://news.example/extracted", SAMPLE)
        })
        .await
        .unwrap()
        .claims;
    assert!(!extracted.is_empty());
    let list = |origin: Origin| {
        app.list_claims(ListClaimsRequest {
            origin: origin.into(),
            page_size: 500,
            ..Default::default()
        })
    };
    let manual = list(Origin::Manual).await;
    assert_eq!(manual.len(), made.len());
    assert!(manual.iter().all(|c| c.origin == Origin::Manual as i32));
    let found = list(Origin::Extracted).await;
    assert_eq!(found.len(), extracted.len());
    assert!(found.iter().all(|c| c.origin == Origin::Extracted as i32));
}

#[tokio::test]
async fn claims_are_listed_most_worth_checking_first_page_by_page() {
    let app = spawn_app().await;
    let mut made = claims(&app).await;
    made.extend(claims_in_second_article(&app).await);
    // scores with ties, which are broken newest first
    let scores = [0.2_f32, 0.9, 0.5, 0.9, 0.1, 0.5, 0.7];
    for (claim, score) in made.iter().zip(scores) {
        sqlx::query("update claims set checkworthiness = $2 where id = $1")
            .bind(uuid::Uuid::parse_str(&claim.name["claims/".len()..]).unwrap())
            .bind(score)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let mut expected: Vec<(f32, usize)> = scores.iter().copied().zip(0..).collect();
    expected.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    let expected: Vec<&str> = expected
        .iter()
        .map(|(_, i)| made[*i].name.as_str())
        .collect();
    for order_by in ["checkworthiness desc", "check_worthiness desc"] {
        let mut listed = Vec::new();
        let mut token = String::new();
        loop {
            let page = app
                .claims
                .clone()
                .list_claims(app.as_role(
                    Role::Reader,
                    ListClaimsRequest {
                        order_by: order_by.into(),
                        page_size: 3,
                        page_token: token.clone(),
                        ..Default::default()
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            assert!(page.claims.len() <= 3);
            listed.extend(page.claims);
            if page.next_page_token.is_empty() {
                break;
            }
            // a token of this order is refused for another
            let status = app
                .claims
                .clone()
                .list_claims(app.as_role(
                    Role::Reader,
                    ListClaimsRequest {
                        page_token: page.next_page_token.clone(),
                        ..Default::default()
                    },
                ))
                .await
                .unwrap_err();
            assert_bad_field(&status, "page_token");
            token = page.next_page_token;
        }
        assert_eq!(names(&listed), expected, "{order_by}");
    }
    // the reviewers' queue: unreviewed, most worth checking first
    app.give_verdict(expected[0], claim_registry::api::proto::Rating::True)
        .await;
    let queue = app
        .list_claims(ListClaimsRequest {
            order_by: "checkworthiness desc".into(),
            review_state: claim_registry::api::proto::ReviewState::Unreviewed.into(),
            ..Default::default()
        })
        .await;
    assert_eq!(names(&queue), expected[1..]);
    // no index orders a claimant's claims so
    let status = app
        .claims
        .clone()
        .list_claims(app.as_role(
            Role::Reader,
            ListClaimsRequest {
                order_by: "checkworthiness desc".into(),
                claimant: "Vladimir Putin".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_bad_field(&status, "order_by");
}

/// Three more claims, in a second copy of [`SAMPLE`].
async fn claims_in_second_article(app: &TestApp) -> Vec<Claim> {
    let article = app.create_article("https://news.example/b", SAMPLE).await;
    let mut made = Vec::new();
    for (i, text) in QUOTES[..3].iter().enumerate() {
        made.push(
            app.create_claim(&format!("Second claim {i}"), vec![quote(&article, text)])
                .await,
        );
    }
    made
}

#[tokio::test]
async fn a_reviewer_rewrites_an_extracted_claims_statement_and_its_quote_stays_the_evidence() {
    let app = spawn_app().await;
    let extracted = app
        .submit_article(CreateArticleRequest {
            extract_claims: true,
            ..article_request("https://news.example/extracted", SAMPLE)
        })
        .await
        .unwrap()
        .claims;
    let claim = extracted[0].clone();
    let statement = "Russia is ready to mediate in the Palestinian-Israeli conflict";
    let request = UpdateClaimRequest {
        claim: Some(Claim {
            statement: statement.into(),
            ..claim.clone()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["statement".into()],
        }),
    };
    let updated = app
        .claims
        .clone()
        .update_claim(app.as_role(Role::Reviewer, request))
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_eq!(updated.statement, statement);
    assert_eq!(updated.quotes, claim.quotes);
    assert_eq!(updated.claimant, claim.claimant);
    assert_eq!(updated.origin, Origin::Extracted as i32);
    assert_eq!(app.get_claim(&claim.name).await.unwrap(), updated);
}
