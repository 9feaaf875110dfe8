use claim_registry::api::proto::{
    Claim, CreateClaimRequest, GetClaimRequest, ListClaimsRequest, QuoteKind, TextSpan,
    UpdateClaimRequest,
};
use claim_registry::domain::Role;
use prost_types::FieldMask;
use tonic::Code;

use crate::helpers::{SAMPLE, SAMPLE_QUOTE, assert_bad_field, offset_of, quote, spawn_app};

const NEGOTIATIONS: &str = "We start from the belief that there is no alternative to resolving the \
                            Palestinian-Israeli conflict through negotiations";

#[tokio::test]
async fn a_quote_at_exact_code_point_offsets_is_stored_with_its_speaker_and_cue() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let start = offset_of(SAMPLE, NEGOTIATIONS);
    let end = start + NEGOTIATIONS.chars().count() as u32;
    let said = offset_of(SAMPLE, "said Putin");
    let mut q = quote(&article, NEGOTIATIONS);
    q.span = Some(TextSpan { start, end });
    q.speaker_span = Some(TextSpan {
        start: said + 5,
        end: said + 10,
    });
    q.cue_span = Some(TextSpan {
        start: said,
        end: said + 4,
    });
    let claim = app
        .create_claim("There is no alternative to negotiations", vec![q])
        .await;

    let stored = &claim.quotes[0];
    assert_eq!(stored.span, Some(TextSpan { start, end }));
    assert_eq!(stored.speaker, "Putin");
    assert_eq!(stored.cue, "said");
    // the body's text at the offsets, counted in code points, is the quote
    let body: Vec<char> = SAMPLE.chars().collect();
    assert_eq!(
        body[start as usize..end as usize]
            .iter()
            .collect::<String>(),
        NEGOTIATIONS
    );
    assert_eq!(claim.review_state, 1, "a new claim is unreviewed");
    assert!(claim.current_verdict.is_none());
}

#[tokio::test]
async fn a_quote_given_only_as_text_is_found_and_its_speaker_is_the_nearest_mention() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim(
            "Civilian casualties are unacceptable",
            vec![quote(&article, SAMPLE_QUOTE)],
        )
        .await;
    let q = &claim.quotes[0];
    let start = offset_of(SAMPLE, "The main thing now");
    assert_eq!(q.span.unwrap().start, start);
    // "Putin stressed" follows the quote; the earlier "said Putin" is farther away
    let stressed = offset_of(SAMPLE, "Putin stressed");
    assert_eq!(q.speaker_span.unwrap().start, stressed);
    assert_eq!(q.kind, QuoteKind::Direct as i32);
}

#[tokio::test]
async fn a_quote_whose_text_differs_from_the_article_at_its_offsets_is_refused_and_nothing_is_stored()
 {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let mut q = quote(&article, NEGOTIATIONS);
    // off by one: the UTF-8 byte offset of the text, not its code point offset
    let byte_offset = SAMPLE.find(NEGOTIATIONS).unwrap() as u32;
    q.span = Some(TextSpan {
        start: byte_offset,
        end: byte_offset + NEGOTIATIONS.chars().count() as u32,
    });
    let status = app.try_create_claim("x", vec![q]).await.unwrap_err();
    assert_bad_field(&status, "claim.quotes[0].span");
    assert_eq!(app.count("claims").await, 0);
    assert_eq!(app.count("quotes").await, 0);
}

#[tokio::test]
async fn an_ambiguous_or_missing_quote_text_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let status = app
        .try_create_claim("x", vec![quote(&article, "Palestinian-Israeli conflict")])
        .await
        .unwrap_err();
    assert_bad_field(&status, "claim.quotes[0].text");
    assert!(
        status.message().contains("more than once"),
        "{}",
        status.message()
    );
    let status = app
        .try_create_claim(
            "x",
            vec![
                quote(&article, "stop the bloodshed"),
                quote(&article, "Moscow will not mediate"),
            ],
        )
        .await
        .unwrap_err();
    assert_bad_field(&status, "claim.quotes[1].text");
    assert!(status.message().contains("does not occur"));
}

#[tokio::test]
async fn a_speaker_or_cue_that_is_not_in_the_article_is_refused() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let mut q = quote(&article, "stop the bloodshed");
    q.speaker = "Biden".into();
    assert_bad_field(
        &app.try_create_claim("x", vec![q]).await.unwrap_err(),
        "claim.quotes[0].speaker",
    );
    let mut q = quote(&article, "stop the bloodshed");
    q.speaker_span = Some(TextSpan { start: 0, end: 5 });
    assert_bad_field(
        &app.try_create_claim("x", vec![q]).await.unwrap_err(),
        "claim.quotes[0].speaker_span",
    );
    let mut q = quote(&article, "stop the bloodshed");
    q.cue = "whispered".into();
    assert_bad_field(
        &app.try_create_claim("x", vec![q]).await.unwrap_err(),
        "claim.quotes[0].cue",
    );
}

#[tokio::test]
async fn a_claim_without_quotes_or_kind_or_statement_is_refused() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    assert_bad_field(
        &app.try_create_claim("x", vec![]).await.unwrap_err(),
        "claim.quotes",
    );
    let mut q = quote(&article, "stop the bloodshed");
    q.kind = QuoteKind::Unspecified.into();
    assert_bad_field(
        &app.try_create_claim("x", vec![q]).await.unwrap_err(),
        "claim.quotes[0].kind",
    );
    assert_bad_field(
        &app.try_create_claim(" ", vec![quote(&article, "stop the bloodshed")])
            .await
            .unwrap_err(),
        "claim.statement",
    );
    let too_many = vec![quote(&article, "stop the bloodshed"); 51];
    assert_bad_field(
        &app.try_create_claim("x", too_many).await.unwrap_err(),
        "claim.quotes",
    );
}

#[tokio::test]
async fn a_quote_in_an_unknown_article_is_not_found() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let mut q = quote(&article, "stop the bloodshed");
    q.article = format!("articles/{}", uuid::Uuid::now_v7());
    let status = app.try_create_claim("x", vec![q]).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains("claim.quotes[0].article"));
}

#[tokio::test]
async fn offsets_count_code_points_so_astral_characters_count_once() {
    let app = spawn_app().await;
    let body = "🇷🇺 “Peace is possible,” said Putin. 😀 Ünïcödé “Done,” he said.";
    let article = app.create_article("https://news.example/emoji", body).await;
    let mut q = quote(&article, "Done,");
    q.speaker = "he".into();
    let claim = app.create_claim("Done", vec![q]).await;
    let span = claim.quotes[0].span.unwrap();
    let chars: Vec<char> = body.chars().collect();
    assert_eq!(
        chars[span.start as usize..span.end as usize]
            .iter()
            .collect::<String>(),
        "Done,"
    );
    assert_eq!(span.start, offset_of(body, "Done,"));
}

#[tokio::test]
async fn a_retried_create_claim_with_the_same_request_id_stores_one_claim() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = Claim {
        statement: "s".into(),
        claimant: "Vladimir Putin".into(),
        quotes: vec![quote(&article, "stop the bloodshed")],
        ..Default::default()
    };
    let request = CreateClaimRequest {
        claim: Some(claim),
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    let first = app
        .claims
        .clone()
        .create_claim(app.as_role(Role::Submitter, request.clone()))
        .await
        .unwrap()
        .into_inner();
    let retry = app
        .claims
        .clone()
        .create_claim(app.as_role(Role::Submitter, request))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.claim.unwrap().name, retry.claim.unwrap().name);
    assert_eq!(app.count("claims").await, 1);
}

#[tokio::test]
async fn updating_a_claim_with_its_current_etag_changes_it_and_a_stale_etag_is_aborted() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim(
            "Moscow is ready to mediate",
            vec![quote(&article, "stop the bloodshed")],
        )
        .await;
    let update = |statement: &str, etag: &str| UpdateClaimRequest {
        claim: Some(Claim {
            name: claim.name.clone(),
            statement: statement.into(),
            etag: etag.into(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["statement".into()],
        }),
    };
    let updated = app
        .claims
        .clone()
        .update_claim(app.as_role(
            Role::Submitter,
            update("Russia is ready to mediate", &claim.etag),
        ))
        .await
        .unwrap()
        .into_inner()
        .claim
        .unwrap();
    assert_eq!(updated.statement, "Russia is ready to mediate");
    assert_eq!(
        updated.claimant, claim.claimant,
        "fields outside the mask are kept"
    );
    assert_ne!(updated.etag, claim.etag);

    let status = app
        .claims
        .clone()
        .update_claim(app.as_role(Role::Submitter, update("Lost update", &claim.etag)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Aborted);
    let current = app.get_claim(&claim.name).await.unwrap();
    assert_eq!(
        current.statement, "Russia is ready to mediate",
        "the stale write did not land"
    );
}

#[tokio::test]
async fn an_update_of_a_field_outside_the_mask_vocabulary_is_refused() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/a", SAMPLE).await;
    let claim = app
        .create_claim("s", vec![quote(&article, "stop the bloodshed")])
        .await;
    let request = UpdateClaimRequest {
        claim: Some(Claim {
            name: claim.name.clone(),
            etag: claim.etag.clone(),
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["quotes".into()],
        }),
    };
    let status = app
        .claims
        .clone()
        .update_claim(app.as_role(Role::Submitter, request))
        .await
        .unwrap_err();
    assert_bad_field(&status, "update_mask.paths[0]");
    let request = UpdateClaimRequest {
        claim: Some(Claim {
            name: format!("claims/{}", uuid::Uuid::now_v7()),
            statement: "x".into(),
            etag: "1".into(),
            ..Default::default()
        }),
        update_mask: None,
    };
    let status = app
        .claims
        .clone()
        .update_claim(app.as_role(Role::Submitter, request))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn claims_are_listed_by_article_and_by_claimant() {
    let app = spawn_app().await;
    let a = app.create_article("https://news.example/a", SAMPLE).await;
    let b = app
        .create_article(
            "https://news.example/b",
            "“Prices will fall,” the minister said.",
        )
        .await;
    app.create_claim("one", vec![quote(&a, "stop the bloodshed")])
        .await;
    let mut q = quote(&b, "Prices will fall,");
    q.speaker = "the minister".into();
    app.create_claim("two", vec![q]).await;
    let by_article = app
        .list_claims(ListClaimsRequest {
            article: b.name.clone(),
            ..Default::default()
        })
        .await;
    assert_eq!(by_article.len(), 1);
    assert_eq!(by_article[0].statement, "two");
    let by_claimant = app
        .list_claims(ListClaimsRequest {
            claimant: "Vladimir Putin".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(by_claimant.len(), 2);
    assert_eq!(by_claimant[0].statement, "two", "newest first");
}

#[tokio::test]
async fn getting_an_unknown_claim_or_its_verdicts_is_not_found() {
    let app = spawn_app().await;
    let name = format!("claims/{}", uuid::Uuid::now_v7());
    let get = GetClaimRequest { name: name.clone() };
    let status = app
        .claims
        .clone()
        .get_claim(app.as_role(Role::Reader, get))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    assert!(status.message().contains(&name));
    let list = claim_registry::api::proto::ListVerdictsRequest {
        parent: name,
        ..Default::default()
    };
    let status = app
        .claims
        .clone()
        .list_verdicts(app.as_role(Role::Reader, list))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let bad = GetClaimRequest {
        name: "claims/42".into(),
    };
    assert_bad_field(
        &app.claims
            .clone()
            .get_claim(app.as_role(Role::Reader, bad))
            .await
            .unwrap_err(),
        "name",
    );
}

/// A quote row for a direct insert: `(position, start, end, text, speaker_start, cue_start)`
/// of the claim `claim` in `article`, speaker "Putin", cue "сказал".
type QuoteRow = (i32, i32, i32, String, i32, i32);

async fn insert_quotes(
    app: &crate::helpers::TestApp,
    claim: uuid::Uuid,
    article: uuid::Uuid,
    rows: &[QuoteRow],
) -> Result<(), String> {
    sqlx::query(
        "insert into quotes (claim_id, position, article_id, start_offset, end_offset, text, \
                             speaker, speaker_start, speaker_end, cue, cue_start, cue_end, kind) \
         select $1, p, $2, s, e, t, 'Putin', ss, ss + 5, 'сказал', cs, cs + 6, 'direct' \
         from unnest($3::int4[], $4::int4[], $5::int4[], $6::text[], $7::int4[], $8::int4[]) \
              as r (p, s, e, t, ss, cs)",
    )
    .bind(claim)
    .bind(article)
    .bind(rows.iter().map(|r| r.0).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.1).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.2).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.3.clone()).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.4).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.5).collect::<Vec<_>>())
    .execute(&app.pool)
    .await
    .map(|_| ())
    .map_err(|e| match e {
        sqlx::Error::Database(db) => db.constraint().unwrap_or_default().to_owned(),
        other => other.to_string(),
    })
}

#[tokio::test]
async fn the_database_refuses_a_quote_speaker_or_cue_that_is_not_the_body_at_its_offsets_even_far_into_a_long_body()
 {
    let app = spawn_app().await;
    // Cyrillic, curly quotes and an astral emoji: offsets in code points are not bytes
    let unit = "“Да,” 🙂 сказал Putin. ";
    let body = unit.repeat(1_000_000 / unit.len());
    let article = app.create_article("https://news.example/long", &body).await;
    let first = claim_registry::api::proto::Quote {
        span: Some(TextSpan { start: 1, end: 3 }),
        cue: "сказал".into(),
        ..quote(&article, "Да")
    };
    let claim = app.create_claim("Yes", vec![first]).await;
    let article = uuid::Uuid::try_parse(article.name.trim_start_matches("articles/")).unwrap();
    let claim = uuid::Uuid::try_parse(claim.name.trim_start_matches("claims/")).unwrap();
    let unit_chars = unit.chars().count() as i32;
    let units = (body.chars().count() as i32) / unit_chars;
    // the quote «Да», its speaker and its cue in unit k, counted in code points
    let row = |position: i32, k: i32| -> QuoteRow {
        let at = k * unit_chars;
        (position, at + 1, at + 3, "Да".to_owned(), at + 15, at + 8)
    };
    let far: Vec<QuoteRow> = (1..=3).map(|p| row(p, units - p)).collect();
    assert_eq!(insert_quotes(&app, claim, article, &far).await, Ok(()));
    assert_eq!(app.count("quotes").await, 4);
    // one wrong row among right ones fails the whole statement, naming what is wrong
    let mut wrong_text = vec![row(4, 10), row(5, units - 10)];
    wrong_text[1].3 = "Нет".into();
    wrong_text[1].2 += 1;
    let mut wrong_speaker = vec![row(4, 10), row(5, units - 10)];
    wrong_speaker[1].4 += 1;
    let mut wrong_cue = vec![row(4, units - 20), row(5, units - 10)];
    wrong_cue[0].5 -= 1;
    for (rows, constraint) in [
        (wrong_text, "quotes_text_matches_article"),
        (wrong_speaker, "quotes_speaker_matches_article"),
        (wrong_cue, "quotes_cue_matches_article"),
    ] {
        assert_eq!(
            insert_quotes(&app, claim, article, &rows).await,
            Err(constraint.to_owned())
        );
        assert_eq!(
            app.count("quotes").await,
            4,
            "nothing of {constraint} is stored"
        );
    }
    // a quote moved off its text is refused as well
    let moved = sqlx::query(
        "update quotes set start_offset = start_offset + 1, end_offset = end_offset + 1 \
         where claim_id = $1 and position = 2",
    )
    .bind(claim)
    .execute(&app.pool)
    .await
    .unwrap_err();
    assert!(
        matches!(&moved, sqlx::Error::Database(db)
            if db.constraint() == Some("quotes_text_matches_article")),
        "{moved:?}"
    );
}
