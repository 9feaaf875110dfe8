//! ClaimReview import: other organisations' reviews, in every shape JSON-LD ships them, become
//! claims with published verdicts; a second import changes nothing; malformed records are
//! refused one by one; and an export imported into a fresh registry exports the same JSON-LD.

use claim_registry::api::proto::{
    CorrectVerdictRequest, ImportClaimReviewsRequest, ImportClaimReviewsResponse, ImportOutcome,
    ListClaimReviewsRequest, ListVerdictHistoryRequest, Origin, Rating, SearchClaimsRequest,
    SearchClaimsResponse, Signal, Verdict, VerdictAction,
};
use claim_registry::domain::Role;
use claim_registry::registry::Desk;
use serde_json::{Value, json};
use tonic::Code;

use crate::claim_review::{claim_review, errors, object, schema, verdict};
use crate::helpers::{SAMPLE, TestApp, quote, search_until, spawn_app, spawn_app_with_model};

/// JSON as the protobuf `Value` a client sends.
fn to_value(json: Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match json {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap()),
        Value::String(s) => Kind::StringValue(s),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.into_iter().map(to_value).collect(),
        }),
        Value::Object(fields) => Kind::StructValue(prost_types::Struct {
            fields: fields.into_iter().map(|(k, v)| (k, to_value(v))).collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

async fn import(
    app: &TestApp,
    document: Value,
) -> Result<ImportClaimReviewsResponse, tonic::Status> {
    let request = ImportClaimReviewsRequest {
        document: Some(to_value(document)),
    };
    Ok(app
        .claims
        .clone()
        .import_claim_reviews(app.as_role(Role::Reviewer, request))
        .await?
        .into_inner())
}

/// Every ClaimReview the registry lists, page by page (two per page, to cross pages).
async fn exported(app: &TestApp) -> Vec<Value> {
    let mut reviews = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = app
            .claims
            .clone()
            .list_claim_reviews(app.as_role(
                Role::Reader,
                ListClaimReviewsRequest {
                    page_size: 2,
                    page_token,
                },
            ))
            .await
            .unwrap()
            .into_inner();
        reviews.extend(
            page.claim_reviews
                .into_iter()
                .map(|r| object(r.claim_review.unwrap())),
        );
        if page.next_page_token.is_empty() {
            return reviews;
        }
        page_token = page.next_page_token;
    }
}

/// The claim a verdict's name stands under.
fn claim_of(verdict: &str) -> String {
    verdict.rsplitn(3, '/').nth(2).unwrap().to_owned()
}

/// A ClaimReview as another organisation might publish it.
fn review(url: &str, claim: &str, label: &str) -> Value {
    json!({
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim,
        "datePublished": "2024-03-01",
        "author": {"@type": "Organization", "name": "Other Checkers", "url": "https://other.example"},
        "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A. Politician"}},
        "reviewRating": {"@type": "Rating", "alternateName": label},
    })
}

fn outcomes(reply: &ImportClaimReviewsResponse) -> Vec<(String, ImportOutcome)> {
    reply
        .records
        .iter()
        .map(|r| (r.position.clone(), r.outcome()))
        .collect()
}

#[tokio::test]
async fn an_export_imported_into_a_fresh_registry_exports_the_same_json_ld() {
    let source = spawn_app().await;
    let desk = source
        .replica_with_desk(Desk {
            organization_name: "Desk Example".into(),
            organization_url: "https://desk.example".into(),
            ..Desk::default()
        })
        .await;
    let one = source
        .create_article("https://news.example/one", SAMPLE)
        .await;
    let two = source
        .create_article("https://news.example/two", SAMPLE)
        .await;
    let quoted = source
        .create_claim(
            "Putin called to stop the bloodshed",
            vec![
                quote(&one, "stop the bloodshed"),
                quote(&two, "stop the bloodshed"),
            ],
        )
        .await;
    let other = source
        .create_claim(
            "The bloodshed must stop",
            vec![quote(&one, "the bloodshed")],
        )
        .await;
    for (claim, rating, label, url) in [
        (
            &quoted.name,
            Rating::MostlyFalse,
            "Needs context",
            "https://desk.example/a",
        ),
        (
            &other.name,
            Rating::Misleading,
            "",
            "https://desk.example/b",
        ),
        (
            &other.name,
            Rating::Unverifiable,
            "Unproven",
            "https://desk.example/c",
        ),
    ] {
        verdict(
            &source,
            claim,
            Verdict {
                rating: rating.into(),
                textual_rating: label.into(),
                explanation: "Because.".into(),
                review_url: url.into(),
                headline: format!("Checked: {url}"),
                ..Default::default()
            },
        )
        .await;
    }
    // an imported review of a third organisation travels too, under its own author
    import(
        &source,
        review(
            "https://third.example/x",
            "Crime has doubled",
            "Pants on Fire",
        ),
    )
    .await
    .unwrap();
    let first = exported(&desk).await;
    assert_eq!(first.len(), 4);

    let fresh = spawn_app().await;
    let reply = import(&fresh, Value::Array(first.clone())).await.unwrap();
    assert_eq!((reply.created, reply.refused), (4, 0), "{reply:#?}");
    let again = exported(&fresh).await;
    assert_eq!(again, first);
    // and the fresh registry's claims are imported ones, without quotes
    let claim = fresh
        .get_claim(&claim_of(&reply.records[0].verdict))
        .await
        .unwrap();
    assert_eq!(claim.origin(), Origin::Imported);
    assert!(claim.quotes.is_empty());
}

#[tokio::test]
async fn a_single_review_an_array_a_graph_and_a_data_feed_all_import_and_a_second_import_changes_nothing()
 {
    let app = spawn_app().await;
    let single = review(
        "https://other.example/1",
        "Taxes doubled last year",
        "False",
    );
    let array = json!([
        review(
            "https://other.example/2",
            "Unemployment is at a record low",
            "True"
        ),
        review(
            "https://other.example/3",
            "The bridge cost a billion",
            "Half True"
        ),
    ]);
    let graph = json!({"@context": "https://schema.org", "@graph": [
        review("https://other.example/4", "Schools closed in March", "Mostly True"),
    ]});
    let feed = json!({
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [
            {"@type": "DataFeedItem", "item": [review("https://other.example/5", "Crime fell by half", "Mostly False")]},
            {"@type": "DataFeedItem", "item": review("https://other.example/6", "Prices rose 40%", "Missing context")},
            review("https://other.example/7", "The river is clean", "Unproven"),
        ],
    });
    let document = json!([single, array, graph, feed]);
    let first = import(&app, document.clone()).await.unwrap();
    assert_eq!(
        outcomes(&first)
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>(),
        [
            "$[0]",
            "$[1][0]",
            "$[1][1]",
            "$[2].@graph[0]",
            "$[3].dataFeedElement[0].item[0]",
            "$[3].dataFeedElement[1].item",
            "$[3].dataFeedElement[2]",
        ]
    );
    assert_eq!(first.created, 7, "{first:#?}");
    let ratings: Vec<Rating> = {
        let mut ratings = Vec::new();
        for record in &first.records {
            let claim = claim_of(&record.verdict);
            let claim = app.get_claim(&claim).await.unwrap();
            ratings.push(claim.current_verdict.unwrap().rating());
        }
        ratings
    };
    assert_eq!(
        ratings,
        [
            Rating::False,
            Rating::True,
            Rating::Mixed,
            Rating::MostlyTrue,
            Rating::MostlyFalse,
            Rating::Misleading,
            Rating::Unverifiable,
        ]
    );

    let rows = app.row_counts().await;
    let second = import(&app, document).await.unwrap();
    assert_eq!((second.created, second.updated, second.skipped), (0, 0, 7));
    assert!(
        second
            .records
            .iter()
            .all(|r| r.detail.contains("unchanged"))
    );
    assert_eq!(
        second
            .records
            .iter()
            .map(|r| &r.verdict)
            .collect::<Vec<_>>(),
        first.records.iter().map(|r| &r.verdict).collect::<Vec<_>>()
    );
    assert_eq!(app.row_counts().await, rows);
}

#[tokio::test]
async fn malformed_records_are_refused_one_by_one_with_their_position_and_reason_and_the_rest_import()
 {
    let app = spawn_app().await;
    let good = review("https://other.example/good", "Wages rose", "True");
    let mut no_claim = review("https://other.example/no-claim", "x", "False");
    no_claim.as_object_mut().unwrap().remove("claimReviewed");
    let mut off_scale = review("https://other.example/off-scale", "Rain fell", "False");
    off_scale["reviewRating"] =
        json!({"@type": "Rating", "ratingValue": 7, "bestRating": 5, "worstRating": 1});
    let mut bad_url = review("ftp://other.example/file", "Snow fell", "False");
    bad_url["url"] = "ftp://other.example/file".into();
    let mut bad_date = review("https://other.example/bad-date", "Hail fell", "False");
    bad_date["datePublished"] = "yesterday".into();
    let mut no_claimant = review("https://other.example/no-claimant", "Fog rose", "False");
    no_claimant["itemReviewed"] = json!({"@type": "Claim"});
    let not_a_review = json!({"@type": "NewsArticle", "url": "https://news.example/n"});
    let document = json!([
        good,
        no_claim,
        off_scale,
        bad_url,
        bad_date,
        no_claimant,
        not_a_review,
        "text",
        42
    ]);
    let reply = import(&app, document).await.unwrap();
    assert_eq!((reply.created, reply.refused), (1, 8), "{reply:#?}");
    let refusals: Vec<(&str, &str, &str)> = reply
        .records
        .iter()
        .filter(|r| r.outcome() == ImportOutcome::Refused)
        .map(|r| {
            (
                r.position.as_str(),
                r.review_url.as_str(),
                r.detail.as_str(),
            )
        })
        .collect();
    let expected = [
        (
            "$[1]",
            "https://other.example/no-claim",
            "claimReviewed: is required",
        ),
        (
            "$[2]",
            "https://other.example/off-scale",
            "reviewRating.ratingValue: 7 is outside",
        ),
        ("$[3]", "", "url: must be an http or https URL"),
        (
            "$[4]",
            "https://other.example/bad-date",
            "datePublished: \"yesterday\" is not a date",
        ),
        (
            "$[5]",
            "https://other.example/no-claimant",
            "itemReviewed.author.name: is required",
        ),
        ("$[6]", "", "is not a ClaimReview"),
        ("$[7]", "", "is not a JSON object"),
        ("$[8]", "", "is not a JSON object"),
    ];
    for ((position, url, detail), (want_position, want_url, want_detail)) in
        refusals.iter().zip(expected)
    {
        assert_eq!((*position, *url), (want_position, want_url));
        assert!(detail.starts_with(want_detail), "{position}: {detail}");
    }
    assert_eq!(app.count("claims").await, 1);
}

#[tokio::test]
async fn a_review_changed_at_its_source_is_updated_as_a_correction_on_the_next_import() {
    let app = spawn_app().await;
    let first = import(
        &app,
        review("https://other.example/c", "Taxes fell", "Mostly True"),
    )
    .await
    .unwrap();
    let name = first.records[0].verdict.clone();
    let mut changed = review("https://other.example/c", "Taxes fell sharply", "False");
    changed["name"] = "Did taxes fall?".into();
    let second = import(&app, changed).await.unwrap();
    assert_eq!(second.records[0].outcome(), ImportOutcome::Updated);
    assert_eq!(second.records[0].verdict, name);
    let detail = &second.records[0].detail;
    for field in ["claimReviewed", "reviewRating", "name"] {
        assert!(detail.contains(field), "{detail}");
    }
    let history = app
        .claims
        .clone()
        .list_verdict_history(app.as_role(
            Role::Reader,
            ListVerdictHistoryRequest {
                parent: name.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .steps;
    assert_eq!(
        history.iter().map(|s| s.action()).collect::<Vec<_>>(),
        [VerdictAction::Published, VerdictAction::Corrected]
    );
    assert_eq!(
        history[0].verdict.as_ref().unwrap().rating(),
        Rating::MostlyTrue
    );
    assert_eq!(history[1].verdict.as_ref().unwrap().rating(), Rating::False);
    let claim = claim_of(&name);
    let claim = app.get_claim(&claim).await.unwrap();
    assert_eq!(claim.statement, "Taxes fell sharply");
    assert_eq!(claim.current_verdict.unwrap().textual_rating, "False");
}

#[tokio::test]
async fn the_desks_own_review_is_left_alone_by_an_import_of_its_url() {
    let app = spawn_app().await;
    let article = app.create_article("https://news.example/own", SAMPLE).await;
    let claim = app
        .create_claim("Own claim", vec![quote(&article, "stop the bloodshed")])
        .await;
    let own = verdict(
        &app,
        &claim.name,
        Verdict {
            rating: Rating::True.into(),
            explanation: "Ours.".into(),
            review_url: "https://desk.example/own".into(),
            ..Default::default()
        },
    )
    .await;
    let reply = import(
        &app,
        review("https://desk.example/own", "Own claim", "False"),
    )
    .await
    .unwrap();
    assert_eq!(reply.records[0].outcome(), ImportOutcome::Skipped);
    assert_eq!(reply.records[0].verdict, own.name);
    assert!(reply.records[0].detail.contains("own verdict"));
    // a correction of the desk's own review is still the desk's to make
    app.claims
        .clone()
        .correct_verdict(app.as_role(
            Role::Reviewer,
            CorrectVerdictRequest {
                name: own.name.clone(),
                verdict: Some(Verdict {
                    rating: Rating::MostlyTrue.into(),
                    explanation: "Ours, corrected.".into(),
                    review_url: "https://desk.example/own".into(),
                    ..Default::default()
                }),
                note: "Nuance.".into(),
                etag: String::new(),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn googles_documented_example_passes_the_schema_imports_and_exports_its_properties_back() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/google_claim_review_example.json"
    ))
    .unwrap();
    let example: Value = serde_json::from_str(&text).unwrap();
    let validator = schema();
    assert!(
        errors(&validator, &example).is_empty(),
        "{:#?}",
        errors(&validator, &example)
    );

    let app = spawn_app().await;
    let reply = import(&app, example.clone()).await.unwrap();
    assert_eq!(reply.created, 1, "{reply:#?}");
    let ours = claim_review(&app, &reply.records[0].verdict).await.unwrap();
    assert!(
        errors(&validator, &ours).is_empty(),
        "{:#?}",
        errors(&validator, &ours)
    );
    // every required and recommended property of the example comes back with its value
    let same = |path: &[&str]| {
        let get = |mut v: &Value| {
            for key in path {
                v = &v[*key];
            }
            v.clone()
        };
        (get(&example), get(&ours))
    };
    for path in [
        &["url"][..],
        &["claimReviewed"],
        &["author", "name"],
        &["reviewRating", "alternateName"],
        &["itemReviewed", "author", "name"],
        &["itemReviewed", "appearance", "url"],
        &["itemReviewed", "appearance", "publisher", "name"],
    ] {
        let (theirs, mine) = same(path);
        let mine = match mine {
            // one appearance comes back as an array of one
            Value::Null if path[1] == "appearance" => {
                let mut v = ours["itemReviewed"]["appearance"][0].clone();
                for key in &path[2..] {
                    v = v[*key].clone();
                }
                v
            }
            other => other,
        };
        assert_eq!(theirs, mine, "{path:?}\n{ours:#}");
    }
    assert_eq!(
        same(&["itemReviewed", "datePublished"]).1,
        "2016-06-20T00:00:00Z"
    );
    assert_eq!(
        ours["itemReviewed"]["appearance"][0]["datePublished"],
        "2016-06-22T00:00:00Z"
    );
    assert_eq!(ours["reviewRating"]["ratingValue"], 1.0);
    assert_eq!(ours["reviewRating"]["bestRating"], 5.0);
    assert_eq!(ours["reviewRating"]["worstRating"], 1.0);
}

#[tokio::test]
async fn an_import_needs_the_reviewer_role_and_a_document_of_at_most_a_thousand_records() {
    let app = spawn_app().await;
    let status = app
        .claims
        .clone()
        .import_claim_reviews(app.as_role(
            Role::Submitter,
            ImportClaimReviewsRequest {
                document: Some(to_value(review("https://other.example/r", "x", "False"))),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = import(&app, Value::Null).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let huge = Value::Array(
        (0..1001)
            .map(|i| review(&format!("https://other.example/{i}"), "x", "False"))
            .collect(),
    );
    let status = import(&app, huge).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("1001 records"), "{status:?}");
    assert_eq!(app.count("claims").await, 0);
}

#[tokio::test]
async fn a_new_claim_repeating_an_imported_review_shows_the_other_organisations_verdict() {
    let app = spawn_app_with_model(claim_registry::search::Thresholds::default()).await;
    let reply = import(
        &app,
        review(
            "https://other.example/unemployment",
            "The unemployment rate fell to 3.5 percent in September",
            "Pants on Fire",
        ),
    )
    .await
    .unwrap();
    let imported = claim_of(&reply.records[0].verdict);
    // the imported claim is embedded and found by its meaning before the new one is registered
    // (a fixed wait of half a second flaked on a loaded machine)
    let repeating = "In September the unemployment rate dropped to 3.5 percent";
    let embedded = |r: &SearchClaimsResponse| {
        r.results.iter().any(|result| {
            result.claim.as_ref().is_some_and(|c| c.name == imported)
                && result.signals.contains(&(Signal::Semantic as i32))
        })
    };
    let request = SearchClaimsRequest {
        query: repeating.into(),
        ..Default::default()
    };
    let (found, _) = search_until(&app, request, embedded).await;
    assert!(
        embedded(&found),
        "the imported claim is never found by its meaning: {found:?}"
    );
    let article = app
        .create_article("https://news.example/jobs", SAMPLE)
        .await;
    let repeated = app
        .create_claim(repeating, vec![quote(&article, "stop the bloodshed")])
        .await;
    // matching runs off the request path, behind whatever else the machine is doing: the wait
    // is generous, since this test is about the link, not how fast it comes
    let started = std::time::Instant::now();
    let read = loop {
        let read = app.get_claim(&repeated.name).await.unwrap();
        if read.previously_checked.is_some() || started.elapsed().as_secs() >= 30 {
            break read;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let Some(previously) = read.previously_checked else {
        let matches = app.list_matches(&repeated.name).await;
        panic!(
            "the repeated claim is not linked to the imported review after {:?}; its matches: \
             {matches:?}",
            started.elapsed()
        );
    };
    assert_eq!(previously.claim, imported);
    let verdict = previously.verdict.unwrap();
    assert_eq!(verdict.textual_rating, "Pants on Fire");
    assert_eq!(verdict.review_url, "https://other.example/unemployment");
}
