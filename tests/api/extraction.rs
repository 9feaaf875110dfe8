use claim_registry::api::proto::{
    CreateArticleRequest, ExtractClaimsRequest, ListClaimsRequest, Origin, QuoteKind,
};
use claim_registry::domain::Role;
use claim_registry::domain::limits::{MAX_BODY_BYTES, MAX_EXTRACTED_CLAIMS_PER_ARTICLE};

use crate::helpers::{SAMPLE, article, article_request, assert_bad_field, quote, spawn_app};

#[tokio::test]
async fn a_body_with_a_claim_every_few_words_registers_only_the_first_thousand_and_says_so() {
    let app = spawn_app().await;
    // the body: one attributed statement every 23 bytes, ~45,600 in 1 MiB
    let sentence = "“Yes,” Putin said. ";
    let body = sentence.repeat(MAX_BODY_BYTES / sentence.len());
    let response = app
        .submit_article(CreateArticleRequest {
            extract_claims: true,
            ..article_request("https://news.example/yes", &body)
        })
        .await
        .unwrap();
    let article = response.article.unwrap();
    assert!(response.created);
    assert_eq!(response.claims.len(), MAX_EXTRACTED_CLAIMS_PER_ARTICLE);
    assert!(response.extracted_claims_truncated);
    assert!(
        response.extracted_claims_found as usize > 40_000,
        "{}",
        response.extracted_claims_found
    );
    // what the reply says is what is stored, the first claims of the text, in its order
    assert_eq!(app.count("claims").await, response.claims.len() as i64);
    assert_eq!(app.count("quotes").await, response.claims.len() as i64);
    let starts: Vec<u32> = response
        .claims
        .iter()
        .map(|c| c.quotes[0].span.unwrap().start)
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "in text order");
    assert_eq!(starts[0], 0, "from the first sentence on");
    for claim in &response.claims {
        assert_eq!(claim.quotes[0].article, article.name);
        assert_eq!(claim.quotes[0].text, "“Yes,”");
        assert_eq!(claim.origin, Origin::Extracted as i32);
    }
    let stored = app.get_claim(&response.claims[999].name).await.unwrap();
    assert_eq!(&stored, &response.claims[999]);
}

#[tokio::test]
async fn registering_an_article_with_extraction_stores_its_claims_marked_as_extracted() {
    let app = spawn_app().await;
    let request = CreateArticleRequest {
        extract_claims: true,
        article: Some(article("https://news.example/putin", SAMPLE)),
        request_id: String::new(),
    };
    let response = app.submit_article(request).await.unwrap();
    let article = response.article.unwrap();
    assert!(response.claims.len() >= 3, "{:#?}", response.claims);
    assert_eq!(
        response.extracted_claims_found as usize,
        response.claims.len()
    );
    assert!(!response.extracted_claims_truncated);
    for claim in &response.claims {
        assert_eq!(claim.origin, Origin::Extracted as i32);
        assert!((0.0..=1.0).contains(&claim.checkworthiness));
        let q = &claim.quotes[0];
        assert_eq!(q.article, article.name);
        // the stored quote is the body's text at its offsets
        let chars: Vec<char> = SAMPLE.chars().collect();
        let span = q.span.unwrap();
        assert_eq!(
            chars[span.start as usize..span.end as usize]
                .iter()
                .collect::<String>(),
            q.text
        );
    }
    let negotiations = response
        .claims
        .iter()
        .find(|c| c.statement.contains("through negotiations"))
        .expect("found");
    assert_eq!(negotiations.claimant, "Vladimir Putin");
    assert_eq!(negotiations.quotes[0].speaker, "Putin");
    assert_eq!(negotiations.quotes[0].kind, QuoteKind::Direct as i32);
    let casualties = response
        .claims
        .iter()
        .find(|c| c.quotes[0].speaker == "the Russian president")
        .expect("found");
    assert_eq!(casualties.quotes[0].resolved_speaker, "Vladimir Putin");

    let stored = app.get_claim(&negotiations.name).await.unwrap();
    assert_eq!(&stored, negotiations);
    let listed = app
        .list_claims(ListClaimsRequest {
            article: article.name.clone(),
            ..Default::default()
        })
        .await;
    assert_eq!(listed.len(), response.claims.len());
}

#[tokio::test]
async fn extract_claims_previews_without_storing_anything() {
    let app = spawn_app().await;
    // a quoted question: its score must be the same in the preview and in storage
    let text = format!("{SAMPLE}\n\n“Why did the United States block this format?” Putin asked.");
    let request = ExtractClaimsRequest { text: text.clone() };
    let preview = app
        .claims
        .clone()
        .extract_claims(app.as_role(Role::Reader, request))
        .await
        .unwrap()
        .into_inner();
    assert!(!preview.claims.is_empty());
    assert_eq!(app.count("claims").await, 0);
    assert_eq!(app.count("articles").await, 0);
    // the preview shows what registering would store, scores included
    let stored = app
        .submit_article(CreateArticleRequest {
            extract_claims: true,
            ..crate::helpers::article_request("https://news.example/p", &text)
        })
        .await
        .unwrap()
        .claims;
    let scores = |claims: &[claim_registry::api::proto::Claim]| {
        claims
            .iter()
            .map(|c| (c.statement.clone(), c.checkworthiness))
            .collect::<Vec<_>>()
    };
    assert_eq!(scores(&preview.claims), scores(&stored));
    assert!(
        preview
            .claims
            .iter()
            .all(|c| c.name.is_empty() && c.origin == Origin::Extracted as i32)
    );
    let status = app
        .claims
        .clone()
        .extract_claims(app.as_role(Role::Reader, ExtractClaimsRequest { text: " \n".into() }))
        .await
        .unwrap_err();
    assert_bad_field(&status, "text");
}

#[tokio::test]
async fn a_manual_claim_is_marked_manual_and_scored_and_rescored_on_update() {
    let app = spawn_app().await;
    let a = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim(
            "Civilian casualties are unacceptable",
            vec![quote(&a, "stop the bloodshed")],
        )
        .await;
    assert_eq!(claim.origin, Origin::Manual as i32);
    assert!(claim.checkworthiness > 0.0);
    assert!(claim.quotes[0].resolved_speaker.is_empty());
    let update = claim_registry::api::proto::UpdateClaimRequest {
        claim: Some(claim_registry::api::proto::Claim {
            name: claim.name.clone(),
            etag: claim.etag.clone(),
            statement: "Unemployment rose by 25 percent in 2015, the highest in 40 years".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["statement".into()],
        }),
    };
    let updated = app
        .claims
        .clone()
        .update_claim(app.as_role(Role::Submitter, update))
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_ne!(
        updated.checkworthiness, claim.checkworthiness,
        "a new statement gets a new score"
    );
}
