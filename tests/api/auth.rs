use claim_registry::api::proto::{
    ApiKey, CreateApiKeyRequest, CreateApiKeyResponse, CreateVerdictRequest, DismissClaimRequest,
    DismissalReason, GetClaimRequest, ListApiKeysRequest, ListArticlesRequest, RestoreClaimRequest,
    RevokeApiKeyRequest, Verdict, WatchEventsRequest,
};
use claim_registry::domain::Role;
use tonic::{Code, Request};

use crate::helpers::{SAMPLE, TestApp, article_request, spawn_app, with_key};

const ROLES: [Role; 4] = [Role::Reader, Role::Submitter, Role::Reviewer, Role::Admin];

/// Calls one rpc of each least role (two of the reader's: a unary one and the event stream) with
/// the key of `role`, returning each call's least role's rank and its code.
async fn codes_for(app: &TestApp, role: Role, claim: &str) -> [(usize, Code); 5] {
    let secret = app.secret(role);
    let code = |r: Result<(), tonic::Status>| r.err().map_or(Code::Ok, |s| s.code());
    let read = app
        .articles
        .clone()
        .list_articles(with_key(secret, ListArticlesRequest::default()))
        .await
        .map(drop);
    let watch = app
        .events
        .clone()
        .watch_events(with_key(secret, WatchEventsRequest::default()))
        .await
        .map(drop);
    let submit = app
        .articles
        .clone()
        .create_article(with_key(
            secret,
            article_request(&format!("https://n.example/{role}"), SAMPLE),
        ))
        .await
        .map(drop);
    let verdict = Verdict {
        rating: 1,
        explanation: "checked".into(),
        ..Default::default()
    };
    let review = app
        .claims
        .clone()
        .create_verdict(with_key(
            secret,
            CreateVerdictRequest {
                parent: claim.into(),
                verdict: Some(verdict),
                request_id: String::new(),
            },
        ))
        .await
        .map(drop);
    let admin = app
        .keys
        .clone()
        .list_api_keys(with_key(secret, ListApiKeysRequest::default()))
        .await
        .map(drop);
    [
        (0, code(read)),
        (0, code(watch)),
        (1, code(submit)),
        (2, code(review)),
        (3, code(admin)),
    ]
}

/// Creates a key as the admin; `role` is the proto's number (1 reader … 4 admin).
async fn create_key(app: &TestApp, name: &str, role: i32) -> CreateApiKeyResponse {
    app.keys
        .clone()
        .create_api_key(app.as_role(
            Role::Admin,
            CreateApiKeyRequest {
                api_key: Some(ApiKey {
                    display_name: name.into(),
                    role,
                    ..Default::default()
                }),
            },
        ))
        .await
        .expect("the admin creates the key")
        .into_inner()
}

#[tokio::test]
async fn each_role_may_do_what_its_rank_allows_and_is_denied_the_rest() {
    let app = spawn_app().await;
    let a = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim("s", vec![crate::helpers::quote(&a, "stop the bloodshed")])
        .await;
    for (rank, role) in ROLES.into_iter().enumerate() {
        let codes = codes_for(&app, role, &claim.name).await;
        for (needed, code) in codes {
            let expected = if needed <= rank {
                Code::Ok
            } else {
                Code::PermissionDenied
            };
            assert_eq!(
                code, expected,
                "role {role} calling an rpc of rank {needed}"
            );
        }
    }
}

/// Calls `method` with an empty message and the key of `role`; the reply's code.
async fn empty_call(app: &TestApp, method: &'static str, role: Role) -> Code {
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(method);
    grpc.unary(with_key(app.secret(role), ()), path, codec)
        .await
        .err()
        .map_or(Code::Ok, |s| s.code())
}

#[tokio::test]
async fn every_unary_method_refuses_the_roles_below_its_own_and_lets_the_others_through() {
    let app = spawn_app().await;
    let mut checked = 0;
    for (method, needed) in claim_registry::api::METHODS {
        // a stream answers with a stream; WatchEvents (reader rank) is in the test above
        if method.ends_with("/WatchEvents") {
            continue;
        }
        for role in ROLES {
            let code = empty_call(&app, method, role).await;
            if role < needed {
                assert_eq!(code, Code::PermissionDenied, "{role} calling {method}");
            } else {
                // an empty message is refused for what it lacks, never for who sent it
                assert!(
                    !matches!(code, Code::PermissionDenied | Code::Unauthenticated),
                    "{role} calling {method}: {code:?}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * (claim_registry::api::METHODS.len() - 1));
}

#[tokio::test]
async fn dismissing_and_restoring_a_claim_need_the_reviewer_role_as_reviewing_does() {
    let app = spawn_app().await;
    let a = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim("s", vec![crate::helpers::quote(&a, "stop the bloodshed")])
        .await;
    for role in ROLES {
        let dismiss = DismissClaimRequest {
            name: claim.name.clone(),
            reason: DismissalReason::NotAClaim.into(),
            ..Default::default()
        };
        let restore = RestoreClaimRequest {
            name: claim.name.clone(),
            ..Default::default()
        };
        let dismissed = app
            .claims
            .clone()
            .dismiss_claim(with_key(app.secret(role), dismiss))
            .await;
        let restored = app
            .claims
            .clone()
            .restore_claim(with_key(app.secret(role), restore))
            .await;
        for (rpc, result) in [
            ("DismissClaim", dismissed.map(drop)),
            ("RestoreClaim", restored.map(drop)),
        ] {
            let code = result.err().map_or(Code::Ok, |s| s.code());
            let expected = if role >= Role::Reviewer {
                Code::Ok
            } else {
                Code::PermissionDenied
            };
            assert_eq!(code, expected, "role {role} calling {rpc}");
        }
    }
}

#[tokio::test]
async fn calls_without_a_valid_key_are_unauthenticated() {
    let app = spawn_app().await;
    let get = || GetClaimRequest {
        name: format!("claims/{}", uuid::Uuid::now_v7()),
    };
    let status = app
        .claims
        .clone()
        .get_claim(Request::new(get()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("Bearer"));
    let status = app
        .events
        .clone()
        .watch_events(Request::new(WatchEventsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(
        status.code(),
        Code::Unauthenticated,
        "the stream is guarded too"
    );
    let status = app
        .claims
        .clone()
        .get_claim(with_key("crk_not-a-key", get()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let mut basic = Request::new(get());
    basic
        .metadata_mut()
        .insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
    assert_eq!(
        app.claims
            .clone()
            .get_claim(basic)
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
}

#[tokio::test]
async fn an_admin_creates_a_key_that_works_until_it_is_revoked() {
    let app = spawn_app().await;
    let created = create_key(&app, "alice", 3).await;
    let secret = created.secret;
    assert!(secret.starts_with("crk_"));
    let stored: Vec<u8> =
        sqlx::query_scalar("select secret_sha256 from api_keys where display_name = 'alice'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_ne!(stored, secret.as_bytes(), "only a hash is stored");
    let all_columns: String = sqlx::query_scalar(
        "select row_to_json(k)::text from api_keys k where display_name = 'alice'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(
        !all_columns.contains(&secret[4..]),
        "the secret appears in no column"
    );

    app.articles
        .clone()
        .list_articles(with_key(&secret, ListArticlesRequest::default()))
        .await
        .unwrap();
    let name = created.api_key.unwrap().name;
    let revoked = app
        .keys
        .clone()
        .revoke_api_key(app.as_role(Role::Admin, RevokeApiKeyRequest { name }))
        .await
        .unwrap()
        .into_inner();
    assert!(revoked.api_key.unwrap().revoke_time.is_some());
    let status = app
        .articles
        .clone()
        .list_articles(with_key(&secret, ListArticlesRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn a_key_name_in_use_is_refused_as_already_existing() {
    let app = spawn_app().await;
    let request = || CreateApiKeyRequest {
        api_key: Some(ApiKey {
            display_name: "test-reader".into(),
            role: 1,
            ..Default::default()
        }),
    };
    let status = app
        .keys
        .clone()
        .create_api_key(app.as_role(Role::Admin, request()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
}

#[tokio::test]
async fn health_and_reflection_answer_without_credentials() {
    let app = spawn_app().await;
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    // the health task checks the database right after start
    let mut status = 0;
    for _ in 0..50 {
        let request = tonic_health::pb::HealthCheckRequest {
            service: "factcheck.v1.ClaimService".into(),
        };
        status = health.check(request).await.unwrap().into_inner().status;
        if status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn key_management_names_bad_roles_and_unknown_keys() {
    let app = spawn_app().await;
    let no_role = CreateApiKeyRequest {
        api_key: Some(ApiKey {
            display_name: "bob".into(),
            role: 0,
            ..Default::default()
        }),
    };
    let status = app
        .keys
        .clone()
        .create_api_key(app.as_role(Role::Admin, no_role))
        .await
        .unwrap_err();
    crate::helpers::assert_bad_field(&status, "api_key.role");
    let spaces = CreateApiKeyRequest {
        api_key: Some(ApiKey {
            display_name: "bob smith".into(),
            role: 1,
            ..Default::default()
        }),
    };
    let status = app
        .keys
        .clone()
        .create_api_key(app.as_role(Role::Admin, spaces))
        .await
        .unwrap_err();
    crate::helpers::assert_bad_field(&status, "api_key.display_name");
    let unknown = RevokeApiKeyRequest {
        name: format!("apiKeys/{}", uuid::Uuid::now_v7()),
    };
    let status = app
        .keys
        .clone()
        .revoke_api_key(app.as_role(Role::Admin, unknown))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let listed = app
        .keys
        .clone()
        .list_api_keys(app.as_role(
            Role::Admin,
            ListApiKeysRequest {
                page_size: 3,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.api_keys.len(), 3);
    assert!(
        listed
            .api_keys
            .iter()
            .all(|k| k.secret_prefix.starts_with("crk_"))
    );
    let rest = app
        .keys
        .clone()
        .list_api_keys(app.as_role(
            Role::Admin,
            ListApiKeysRequest {
                page_size: 3,
                page_token: listed.next_page_token,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.api_keys.len(), 1, "four test keys in all");
    assert!(rest.next_page_token.is_empty());
}

#[tokio::test]
async fn refusals_carry_details_a_client_can_act_on() {
    use tonic_types::StatusExt;
    let app = spawn_app().await;
    let missing = format!("claims/{}", uuid::Uuid::now_v7());
    let status = app.get_claim(&missing).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let info = status.get_details_resource_info().expect("a ResourceInfo");
    assert_eq!(info.resource_type, "factcheck.v1.Claim");
    assert_eq!(info.resource_name, missing);

    let status = app
        .claims
        .clone()
        .get_claim(Request::new(GetClaimRequest { name: missing }))
        .await
        .unwrap_err();
    let info = status.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "CREDENTIALS_MISSING");
    assert_eq!(info.domain, claim_registry::error::ERROR_DOMAIN);
    assert_eq!(info.metadata["required_role"], "reader");

    let status = app
        .keys
        .clone()
        .list_api_keys(app.as_role(Role::Reviewer, ListApiKeysRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let info = status.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "ROLE_TOO_LOW");
    assert_eq!(info.metadata["required_role"], "admin");
    assert_eq!(info.metadata["key_role"], "reviewer");
}

#[tokio::test]
async fn a_request_id_belongs_to_the_key_that_sent_it() {
    let app = spawn_app().await;
    let (_, claim) = app.sample_claim("https://example.com/a").await;
    let request = CreateVerdictRequest {
        parent: claim.name.clone(),
        verdict: Some(Verdict {
            rating: 7,
            explanation: "A moral judgement.".into(),
            ..Default::default()
        }),
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    let by_reviewer = app
        .claims
        .clone()
        .create_verdict(app.as_role(Role::Reviewer, request.clone()))
        .await
        .unwrap()
        .into_inner()
        .verdict
        .unwrap();
    let by_admin = app
        .claims
        .clone()
        .create_verdict(app.as_role(Role::Admin, request))
        .await
        .unwrap()
        .into_inner()
        .verdict
        .unwrap();
    assert_ne!(
        by_admin.name, by_reviewer.name,
        "the admin's request made a verdict of its own"
    );
    assert_eq!(by_reviewer.reviewer, "test-reviewer");
    assert_eq!(by_admin.reviewer, "test-admin");
}

#[tokio::test]
async fn a_revoked_keys_name_is_never_given_to_another_key() {
    let app = spawn_app().await;
    let create = |name: &str| CreateApiKeyRequest {
        api_key: Some(ApiKey {
            display_name: name.into(),
            role: 3,
            ..Default::default()
        }),
    };
    let first = app
        .keys
        .clone()
        .create_api_key(app.as_role(Role::Admin, create("carol")))
        .await
        .unwrap()
        .into_inner()
        .api_key
        .unwrap();
    let revoke = || RevokeApiKeyRequest {
        name: first.name.clone(),
    };
    app.keys
        .clone()
        .revoke_api_key(app.as_role(Role::Admin, revoke()))
        .await
        .unwrap();
    let again = app
        .keys
        .clone()
        .revoke_api_key(app.as_role(Role::Admin, revoke()))
        .await
        .expect("revoking a revoked key changes nothing and succeeds")
        .into_inner()
        .api_key
        .unwrap();
    assert!(again.revoke_time.is_some());
    let status = app
        .keys
        .clone()
        .create_api_key(app.as_role(Role::Admin, create("carol")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert!(status.message().contains("never reused"), "{status:?}");
}

#[tokio::test]
async fn a_key_revoked_on_one_replica_stops_working_on_another_within_a_second() {
    let app = spawn_app().await;
    let other = app.replica().await;
    let created = create_key(&app, "dave", 1).await;
    let list = || with_key(&created.secret, ListArticlesRequest::default());
    // the other replica verifies the key and remembers it
    other.articles.clone().list_articles(list()).await.unwrap();
    app.keys
        .clone()
        .revoke_api_key(app.as_role(
            Role::Admin,
            RevokeApiKeyRequest {
                name: created.api_key.unwrap().name,
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        app.articles
            .clone()
            .list_articles(list())
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated,
        "the revoking replica forgets the key at once"
    );
    // past the cache's lifetime the other replica asks the database again
    tokio::time::sleep(claim_registry::registry::KEY_CACHE_TTL).await;
    let status = other
        .articles
        .clone()
        .list_articles(list())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
}
