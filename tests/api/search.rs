//! SearchClaims by words and meaning, matching on registration with both thresholds, and the
//! index every replica derives from the database; dismissed claims in both.

use std::time::{Duration, Instant};

use claim_registry::api::proto::{
    Claim, DismissClaimRequest, DismissalFilter, DismissalReason, MatchState, Ranking, Rating,
    RestoreClaimRequest, SearchClaimsRequest, SearchClaimsResponse, Signal,
};
use claim_registry::domain::Role;
use claim_registry::search::Thresholds;

use crate::helpers::{
    SAMPLE, SAMPLE_QUOTE, TestApp, assert_bad_field, embedder, quote, search_until, spawn_app,
    spawn_app_with_model,
};

async fn search(app: &TestApp, request: SearchClaimsRequest) -> SearchClaimsResponse {
    app.claims
        .clone()
        .search_claims(app.as_role(Role::Reader, request))
        .await
        .expect("the search answers")
        .into_inner()
}

fn query(text: &str) -> SearchClaimsRequest {
    SearchClaimsRequest {
        query: text.into(),
        ..Default::default()
    }
}

fn names(reply: &SearchClaimsResponse) -> Vec<&str> {
    reply
        .results
        .iter()
        .map(|r| r.claim.as_ref().unwrap().name.as_str())
        .collect()
}

async fn claim(app: &TestApp, statement: &str) -> Claim {
    let article = app
        .create_article(
            &format!("https://news.example/{}", uuid::Uuid::now_v7()),
            SAMPLE,
        )
        .await;
    app.create_claim(statement, vec![quote(&article, SAMPLE_QUOTE)])
        .await
}

#[tokio::test]
async fn a_claim_is_found_by_its_words_and_by_a_paraphrase_in_other_words() {
    let app = spawn_app_with_model(Thresholds::default()).await;
    let jobs = claim(
        &app,
        "The unemployment rate fell to 3.5 percent in September",
    )
    .await;
    let _other = claim(
        &app,
        "The city council approved a new budget for public parks",
    )
    .await;

    let (by_words, _) = search_until(&app, query("unemployment rate September"), |r| {
        names(r).first() == Some(&jobs.name.as_str())
    })
    .await;
    assert_eq!(names(&by_words)[0], jobs.name);
    let first = &by_words.results[0];
    assert!(first.signals.contains(&(Signal::Lexical as i32)));
    let statement = first
        .highlights
        .iter()
        .find(|h| h.field == "statement")
        .expect("the statement's matched words are highlighted");
    let spans: Vec<String> = statement
        .spans
        .iter()
        .map(|s| {
            jobs.statement
                .chars()
                .skip(s.start as usize)
                .take((s.end - s.start) as usize)
                .collect()
        })
        .collect();
    assert!(spans.contains(&"unemployment".to_owned()), "{spans:?}");
    assert_eq!(by_words.ranking, Ranking::Hybrid as i32);

    let (by_meaning, _) = search_until(&app, query("Fewer people are out of work now"), |r| {
        !r.results.is_empty()
    })
    .await;
    let first = &by_meaning.results[0];
    assert_eq!(first.claim.as_ref().unwrap().name, jobs.name);
    assert!(first.signals.contains(&(Signal::Semantic as i32)));
    assert!(first.similarity > 0.3, "{first:?}");
}

#[tokio::test]
async fn query_syntax_is_text_and_filters_combine() {
    let app = spawn_app_with_model(Thresholds::default()).await;
    let jobs = claim(
        &app,
        "The unemployment rate fell to 3.5 percent in September",
    )
    .await;
    app.give_verdict(&jobs.name, Rating::False).await;
    for text in [
        "unemployment: \"rate\" -September #jobs AND (fell*",
        "title:unemployment OR rate^2 ~ \\",
    ] {
        let (reply, _) = search_until(&app, query(text), |r| {
            names(r).first() == Some(&jobs.name.as_str())
        })
        .await;
        assert_eq!(names(&reply).first(), Some(&jobs.name.as_str()), "{text}");
    }
    let reviewed = SearchClaimsRequest {
        rating: Rating::False.into(),
        speaker: jobs.claimant.to_uppercase(),
        language_code: "en".into(),
        ..query("unemployment")
    };
    let (reply, _) = search_until(&app, reviewed, |r| !r.results.is_empty()).await;
    assert_eq!(names(&reply), [jobs.name.as_str()]);
    let other_rating = SearchClaimsRequest {
        rating: Rating::True.into(),
        ..query("unemployment")
    };
    assert!(search(&app, other_rating).await.results.is_empty());

    let status = app
        .claims
        .clone()
        .search_claims(app.as_role(
            Role::Reader,
            SearchClaimsRequest {
                query: "  ".into(),
                rating: 42,
                language_code: "not a language!".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    for field in ["query", "rating", "language_code"] {
        assert_bad_field(&status, field);
    }
}

#[tokio::test]
async fn a_statement_registered_twice_is_one_result_under_its_first_registration() {
    let app = spawn_app_with_model(Thresholds::default()).await;
    let first = claim(
        &app,
        "The mayor 'banned' cars from the old town on Sundays.",
    )
    .await;
    let again = claim(
        &app,
        "the Mayor \u{201c}banned\u{201d} cars from the old town on Sundays",
    )
    .await;
    let other = claim(
        &app,
        "The mayor banned bicycles from the old town on Sundays.",
    )
    .await;
    let (reply, _) = search_until(&app, query("mayor banned cars old town"), |r| {
        r.results.len() == 2
    })
    .await;
    assert_eq!(names(&reply), [first.name.as_str(), other.name.as_str()]);
    assert_eq!(
        reply.results[0].same_statement_claims,
        [again.name.as_str()]
    );
    assert!(reply.results[1].same_statement_claims.is_empty());

    // a filter only the later one passes finds it on its own
    app.give_verdict(&again.name, Rating::False).await;
    let (reply, _) = search_until(
        &app,
        SearchClaimsRequest {
            rating: Rating::False.into(),
            ..query("mayor banned cars old town")
        },
        |r| !r.results.is_empty(),
    )
    .await;
    assert_eq!(names(&reply), [again.name.as_str()]);
    assert!(reply.results[0].same_statement_claims.is_empty());
}

#[tokio::test]
async fn a_new_claim_is_searchable_on_another_replica_and_a_restarted_one_rebuilds_its_index() {
    let one = spawn_app_with_model(Thresholds::default()).await;
    let two = one
        .replica_with(Some(embedder()), Thresholds::default())
        .await;
    let parks = claim(
        &one,
        "The city council approved a new budget for public parks",
    )
    .await;
    let (reply, took) = search_until(&two, query("budget for parks"), |r| {
        names(r).contains(&parks.name.as_str())
    })
    .await;
    assert!(names(&reply).contains(&parks.name.as_str()));
    eprintln!("searchable on another replica after {took:?}");

    drop(two);
    // a replica started now builds its index from the database
    let three = one.replica_with(None, Thresholds::default()).await;
    let (reply, _) =
        search_until(&three, query("budget for parks"), |r| !r.results.is_empty()).await;
    assert_eq!(names(&reply), [parks.name.as_str()]);
    assert_eq!(
        reply.ranking,
        Ranking::Lexical as i32,
        "no model: words alone"
    );
    assert!(reply.ranking_note.contains("model"), "{reply:?}");
}

/// The model name stored with a claim's vector, waiting up to ten seconds for it to be `want`.
async fn stored_model_until(app: &TestApp, claim: &Claim, want: &str) -> Option<String> {
    let id: uuid::Uuid = claim.name.trim_start_matches("claims/").parse().unwrap();
    let started = Instant::now();
    loop {
        let model: Option<String> =
            sqlx::query_scalar("select model from claim_embeddings where claim_id = $1")
                .bind(id)
                .fetch_optional(&app.pool)
                .await
                .unwrap();
        if model.as_deref() == Some(want) || started.elapsed() > Duration::from_secs(10) {
            return model;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn vectors_of_an_earlier_model_are_computed_again_at_start_without_matching_again() {
    let one = spawn_app_with_model(Thresholds::default()).await;
    let first = claim(
        &one,
        "The city council approved a new budget for public parks",
    )
    .await;
    let second = claim(
        &one,
        "The council approved a budget for the city's public parks",
    )
    .await;
    let current = claim_registry::registry::model_id();
    for claim in [&first, &second] {
        assert_eq!(
            stored_model_until(&one, claim, &current).await.as_deref(),
            Some(current.as_str())
        );
    }
    // both replicas walk the claims with stale vectors once, when their queue is first empty;
    // whichever does it after the change below, the vectors must come back and nothing be matched
    let links: i64 = one.count("claim_matches").await;

    // as after an upgrade of the model or its adapter: the stored vectors are another model's
    sqlx::query("update claim_embeddings set model = 'all-MiniLM-L6-v2@sha256:earlier'")
        .execute(&one.pool)
        .await
        .unwrap();
    let two = one
        .replica_with(Some(embedder()), Thresholds::default())
        .await;
    for claim in [&first, &second] {
        assert_eq!(
            stored_model_until(&two, claim, &current).await.as_deref(),
            Some(current.as_str()),
            "a vector of an earlier model is computed again"
        );
    }
    // and found by its meaning again, on the replica that recomputed it
    let (reply, _) = search_until(&two, query("money for green spaces in town"), |r| {
        r.results
            .iter()
            .any(|result| result.signals.contains(&(Signal::Semantic as i32)))
    })
    .await;
    assert!(
        reply
            .results
            .iter()
            .any(|result| result.signals.contains(&(Signal::Semantic as i32))),
        "{reply:?}"
    );
    assert_eq!(
        two.count("claim_matches").await,
        links,
        "no claim is matched twice"
    );
    assert_eq!(two.count("claim_work").await, 0);
}

#[tokio::test]
async fn a_claim_like_a_checked_one_is_linked_or_suggested_by_the_thresholds() {
    let checked_text = "The unemployment rate fell to 3.5 percent in September";
    let same_text = "In September the unemployment rate dropped to 3.5 percent";
    let near_text = "Unemployment is at its lowest level in fifty years";
    // the default match threshold; a suggest threshold low enough that the related claim's
    // candidates are all suggested
    let thresholds = Thresholds {
        suggest: 0.3,
        ..Thresholds::default()
    };
    let app = spawn_app_with_model(thresholds).await;
    let checked = claim(&app, checked_text).await;
    app.give_verdict(&checked.name, Rating::False).await;
    // the earlier claim is embedded and in the index, found by its meaning, before the later
    // ones are registered (a fixed wait flaked on a loaded machine)
    let embedded = |r: &SearchClaimsResponse| {
        r.results.iter().any(|result| {
            result
                .claim
                .as_ref()
                .is_some_and(|c| c.name == checked.name)
                && result.signals.contains(&(Signal::Semantic as i32))
        })
    };
    let (reply, _) = search_until(&app, query(same_text), embedded).await;
    assert!(
        embedded(&reply),
        "the checked claim is never found by its meaning: {reply:?}"
    );
    let same = claim(&app, same_text).await;
    let near = claim(&app, near_text).await;

    let started = Instant::now();
    let linked = loop {
        let read = app.get_claim(&same.name).await.unwrap();
        if read.previously_checked.is_some() || started.elapsed() > Duration::from_secs(10) {
            break read;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let Some(previously) = linked.previously_checked else {
        let found: Vec<(String, i64)> = sqlx::query_as(
            "select m.state || ' ' || m.score || ' ' || m.matched_claim_id, \
                    (select count(*) from claim_work) \
             from claim_matches m",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap();
        panic!("the paraphrase is not linked to the checked claim ({thresholds:?}): {found:?}");
    };
    assert_eq!(previously.claim, checked.name);
    assert_eq!(previously.verdict.unwrap().rating, Rating::False as i32);
    assert_eq!(
        previously.r#match.unwrap().state,
        MatchState::Matched as i32
    );

    // the related claim may be matched in a later batch than the paraphrase
    let started = Instant::now();
    let matches = loop {
        let matches = app.list_matches(&near.name).await.unwrap();
        if !matches.is_empty() || started.elapsed() > Duration::from_secs(10) {
            break matches;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let to_checked: Vec<_> = matches
        .iter()
        .filter(|m| m.matched_claim == checked.name)
        .collect();
    assert_eq!(to_checked.len(), 1, "{matches:?}");
    assert_eq!(to_checked[0].state, MatchState::Suggested as i32);
    assert!(
        app.get_claim(&near.name)
            .await
            .unwrap()
            .previously_checked
            .is_none(),
        "a suggestion is not a link until a reviewer accepts it"
    );
}

#[tokio::test]
async fn without_the_model_search_ranks_by_words_and_says_why() {
    let app = spawn_app().await;
    let parks = claim(
        &app,
        "The city council approved a new budget for public parks",
    )
    .await;
    let (reply, _) = search_until(&app, query("parks budget"), |r| !r.results.is_empty()).await;
    assert_eq!(names(&reply), [parks.name.as_str()]);
    assert_eq!(reply.ranking, Ranking::Lexical as i32);
    assert!(!reply.ranking_note.is_empty());
    assert_eq!(
        reply.results[0].signals,
        [Signal::Lexical as i32],
        "found by words only"
    );
}

/// Dismisses a claim as a reviewer, for `reason`.
async fn dismiss(app: &TestApp, claim: &Claim, reason: DismissalReason) {
    let request = DismissClaimRequest {
        name: claim.name.clone(),
        reason: reason.into(),
        ..Default::default()
    };
    app.claims
        .clone()
        .dismiss_claim(app.as_role(Role::Reviewer, request))
        .await
        .expect("the claim is dismissed");
}

/// Restores a dismissed claim as a reviewer.
async fn restore(app: &TestApp, claim: &Claim) {
    let request = RestoreClaimRequest {
        name: claim.name.clone(),
        ..Default::default()
    };
    app.claims
        .clone()
        .restore_claim(app.as_role(Role::Reviewer, request))
        .await
        .expect("the claim is restored");
}

/// The earlier claims the matcher linked or suggested for `claim`, once it has matched it (the
/// queue is empty), waiting at most ten seconds.
async fn matched_to(app: &TestApp, claim: &Claim) -> Vec<(String, MatchState)> {
    let started = Instant::now();
    while app.count("claim_work").await > 0 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.count("claim_work").await, 0, "the matcher is done");
    app.list_matches(&claim.name)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            let state = MatchState::try_from(m.state).unwrap();
            (m.matched_claim, state)
        })
        .collect()
}

#[tokio::test]
async fn a_dismissed_claim_is_left_out_of_search_unless_asked_for_and_found_again_once_restored() {
    let app = spawn_app_with_model(Thresholds::default()).await;
    let jobs = claim(
        &app,
        "The unemployment rate fell to 3.5 percent in September",
    )
    .await;
    let parks = claim(
        &app,
        "The city council approved a new budget for public parks",
    )
    .await;
    let by_words = || query("unemployment rate September");
    // by meaning too: the dismissed claim must not come back as a semantic find either
    let by_meaning = || query("Fewer people are out of work now");
    for request in [by_words(), by_meaning()] {
        let (reply, _) = search_until(&app, request.clone(), |r| {
            names(r).first() == Some(&jobs.name.as_str())
        })
        .await;
        assert_eq!(names(&reply)[0], jobs.name, "{request:?}");
    }

    dismiss(&app, &jobs, DismissalReason::NotAClaim).await;
    for request in [by_words(), by_meaning()] {
        let (reply, took) = search_until(&app, request.clone(), |r| {
            !names(r).contains(&jobs.name.as_str())
        })
        .await;
        assert!(
            !names(&reply).contains(&jobs.name.as_str()),
            "{request:?} still finds the dismissed claim after {took:?}"
        );
        assert!(
            reply
                .results
                .iter()
                .all(|r| r.claim.as_ref().unwrap().dismissal.is_none()),
            "{reply:?}"
        );
    }

    // a reviewer asks for dismissed claims, or for any
    let dismissed = SearchClaimsRequest {
        dismissal: DismissalFilter::Dismissed.into(),
        ..by_words()
    };
    let reply = search(&app, dismissed.clone()).await;
    assert_eq!(names(&reply), [jobs.name.as_str()]);
    let shown = reply.results[0].claim.as_ref().unwrap();
    assert_eq!(
        shown.dismissal.as_ref().map(|d| d.reason),
        Some(DismissalReason::NotAClaim as i32),
        "the claim shows its dismissal"
    );
    let any = SearchClaimsRequest {
        dismissal: DismissalFilter::Any.into(),
        ..query("unemployment budget parks")
    };
    let mut found = names(&search(&app, any).await)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    found.sort();
    let mut both = vec![jobs.name.clone(), parks.name.clone()];
    both.sort();
    assert_eq!(found, both);
    let not_dismissed = SearchClaimsRequest {
        dismissal: DismissalFilter::NotDismissed.into(),
        ..query("unemployment budget parks")
    };
    assert_eq!(
        names(&search(&app, not_dismissed).await),
        [parks.name.as_str()],
        "NOT_DISMISSED is the default spelled out"
    );

    restore(&app, &jobs).await;
    let (reply, took) = search_until(&app, by_words(), |r| {
        names(r).first() == Some(&jobs.name.as_str())
    })
    .await;
    assert_eq!(
        names(&reply).first(),
        Some(&jobs.name.as_str()),
        "the restored claim is not found after {took:?}"
    );
    let (reply, _) = search_until(&app, dismissed.clone(), |r| r.results.is_empty()).await;
    assert!(reply.results.is_empty(), "{reply:?}");
}

#[tokio::test]
async fn a_new_claim_repeating_a_dismissed_claim_is_neither_linked_nor_suggested_to_it() {
    // the default match threshold; a suggest threshold low enough that a paraphrase of a live
    // claim is at least suggested
    let thresholds = Thresholds {
        suggest: 0.3,
        ..Thresholds::default()
    };
    let app = spawn_app_with_model(thresholds).await;
    let text = "The unemployment rate fell to 3.5 percent in September";
    let dismissed = claim(&app, text).await;
    assert!(matched_to(&app, &dismissed).await.is_empty());
    dismiss(&app, &dismissed, DismissalReason::OutOfScope).await;

    // at once, before every replica's index may know of the dismissal, and once it does
    let at_once = claim(
        &app,
        "In September the unemployment rate dropped to 3.5 percent",
    )
    .await;
    search_until(&app, query(text), |r| {
        !names(r).contains(&dismissed.name.as_str())
    })
    .await;
    let later = claim(&app, text).await;
    for repeating in [&at_once, &later] {
        let found = matched_to(&app, repeating).await;
        assert!(
            found.iter().all(|(earlier, _)| *earlier != dismissed.name),
            "{} is linked or suggested to the dismissed claim: {found:?}",
            repeating.statement
        );
        let read = app.get_claim(&repeating.name).await.unwrap();
        assert!(read.previously_checked.is_none(), "{read:?}");
    }

    // restored, it is matchable again: a new claim that repeats it is linked or suggested
    restore(&app, &dismissed).await;
    search_until(&app, query(text), |r| {
        names(r).contains(&dismissed.name.as_str())
    })
    .await;
    let after = claim(&app, "The unemployment rate fell to 3.5% in September").await;
    let found = matched_to(&app, &after).await;
    assert!(
        found
            .iter()
            .any(|(earlier, state)| *earlier == dismissed.name
                && matches!(state, MatchState::Matched | MatchState::Suggested)),
        "the restored claim is neither linked nor suggested: {found:?}"
    );
}
