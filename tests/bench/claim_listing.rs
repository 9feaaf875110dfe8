//! Claims to list, the combinations ListClaims offers, and what a good plan for each looks
//! like: shared by `tests/api/listing.rs`, which checks the plans on tens of thousands of claims,
//! and `tests/bench/list_claims.rs`, which times the listings on a million.

// each of the two users needs only part of this module
#![allow(dead_code)]

use std::time::Instant;

use claim_registry::domain::{
    ArticleName, ClaimOrder, Cursor, DismissalFilter, Origin, Rating, ReviewState,
};
use claim_registry::store::claims::ClaimFilter;
use serde_json::Value;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// The repeated sentence of every seeded body: 19 code points, a direct quote ("Yes,", at 1),
/// its speaker ("Putin", at 7) and its cue ("said", at 13).
const SENTENCE: &str = "“Yes,” Putin said. ";
/// The sentences of a seeded body.
const SENTENCES: i64 = 100;
/// How many claimants the seeded claims spread over, a few of them with many claims.
const CLAIMANTS: i64 = 10_000;

/// Seeds `claims` claims over `articles` articles, with SQL only (`generate_series`), in one
/// transaction: each claim quotes one article (most claims of an article were registered
/// together, one in ten later from anywhere), one in ten quotes a second article; claimants are
/// skewed (the commonest has ~5% of the claims), 30% of the claims are reviewed with a verdict
/// and an evidence source, their ratings skewed too (half "true", 5% "unverifiable"); one in
/// ten is manual, the rest extracted, and one in twenty is dismissed. Every quote is the body's text
/// at its offsets. Triggers and foreign keys are skipped while seeding when the role may
/// (`session_replication_role`), which makes it several times faster; the data is valid either
/// way. Ends with `vacuum analyze`, so the planner knows the tables.
pub async fn seed(conn: &mut PgConnection, claims: i64, articles: i64) -> sqlx::Result<()> {
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    let fast = sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .is_ok();
    if !fast {
        // the failed statement aborted the transaction
        tx.rollback().await?;
        tx = conn.begin().await?;
    }
    // v7-like ids: a millisecond clock in the first 48 bits, so that ids sort by creation
    let v7 = |ms: &str, salt: &str| {
        format!(
            "(lpad(to_hex({ms}), 12, '0') || '7' || substr(md5({salt}), 1, 3) || '8' \
             || substr(md5({salt}), 4, 15))::uuid"
        )
    };
    let start_ms = "1700000000000::int8";
    sqlx::query(
        "insert into api_keys (id, display_name, role, secret_sha256, secret_prefix) \
         values ($1, 'seed-reviewer', 'reviewer', sha256(convert_to($1::text, 'UTF8')), 'seed') \
         on conflict do nothing",
    )
    .bind(Uuid::now_v7())
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "insert into articles (id, url, canonical_url, title, publisher, language_code, body, \
                               body_length, body_sha256) \
         select {id}, 'https://seed.example/' || a, 'https://seed.example/' || a, 'Story ' || a, \
                'Publisher ' || (a % 50), 'en', b.body, length(b.body), \
                sha256(convert_to(b.body, 'UTF8')) \
         from generate_series(0, $1 - 1) a, (select repeat($2, $3) as body) b",
        id = v7(&format!("{start_ms} + a"), "'a' || a")
    ))
    .bind(articles)
    .bind(SENTENCE)
    .bind(SENTENCES as i32)
    .execute(&mut *tx)
    .await?;
    // per claim i: h, a hash in [0, 1000003); reviewed when h % 100 < 30
    let claim_id = v7(&format!("{start_ms} + 1000000 + i"), "'c' || i");
    let verdict_id = v7(&format!("{start_ms} + 5000000 + i"), "'v' || i");
    // ratings skewed like claimants: "true" for ~half the verdicts, "unverifiable" for ~5%
    let ratings = "(array['true', 'mostly_true', 'mixed', 'mostly_false', 'false', 'misleading', \
                   'unverifiable'])[1 + floor(7 * power((i * 40503 % 1000) / 1000.0, 3))::int]";
    let reviewed = "((i * 2654435761) % 1000003) % 100 < 30";
    let claimant = format!(
        "'Claimant ' || floor({CLAIMANTS} * power(((i * 2654435761) % 1000003) / 1000003.0, 3))"
    );
    let (state, verdict, rating) = if fast {
        (
            format!("case when {reviewed} then 'reviewed' else 'unreviewed' end"),
            format!("case when {reviewed} then {verdict_id} end"),
            format!("case when {reviewed} then {ratings} end"),
        )
    } else {
        (
            "'unreviewed'".to_owned(),
            "null".to_owned(),
            "null".to_owned(),
        )
    };
    sqlx::query(&format!(
        "insert into claims (id, statement, claimant, review_state, current_verdict_id, \
                             current_rating, origin, checkworthiness, dismissal_reason, \
                             dismissed_by, dismissed_by_key_id, dismiss_time) \
         select {claim_id}, 'Statement number ' || i, {claimant}, {state}, {verdict}, {rating}, \
                case when i % 10 = 0 then 'manual' else 'extracted' end, (i % 100) / 100.0, \
                case when {dismissed} then 'not_a_claim' end, \
                case when {dismissed} then 'seed-reviewer' end, \
                case when {dismissed} then \
                    (select id from api_keys where display_name = 'seed-reviewer') end, \
                case when {dismissed} then now() end \
         from generate_series(1, $1) i",
        dismissed = "i % 20 = 7"
    ))
    .bind(claims)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "insert into verdicts (id, claim_id, rating, textual_rating, explanation, reviewer, \
                               reviewer_key_id, publish_time, publisher, publisher_key_id) \
         select {verdict_id}, {claim_id}, {ratings}, 'Rated', 'Because ' || i, 'seed-reviewer', \
                k.id, now(), 'seed-reviewer', k.id \
         from generate_series(1, $1) i, \
              (select id from api_keys where display_name = 'seed-reviewer') k \
         where {reviewed}"
    ))
    .bind(claims)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "insert into evidence_sources (verdict_id, position, url, title) \
         select {verdict_id}, 0, 'https://evidence.example/' || i, 'Source ' || i \
         from generate_series(1, $1) i where {reviewed}"
    ))
    .bind(claims)
    .execute(&mut *tx)
    .await?;
    if !fast {
        sqlx::query(
            "update claims c set review_state = 'reviewed', current_verdict_id = v.id, \
                                 current_rating = v.rating \
             from verdicts v where v.claim_id = c.id",
        )
        .execute(&mut *tx)
        .await?;
    }
    // the article ids by number, to join instead of looking each one up
    sqlx::query(
        "create temporary table seed_articles on commit drop as \
         select a, (select id from articles where url = 'https://seed.example/' || a) as id \
         from generate_series(0, $1 - 1) a",
    )
    .bind(articles)
    .execute(&mut *tx)
    .await?;
    sqlx::query("create index on seed_articles (a)")
        .execute(&mut *tx)
        .await?;
    // per quote: the article of claim i is its block's (claims registered together) or, for
    // one in ten, any; a second quote (one claim in ten) is in any article
    for (position, which, spread, only) in [
        (0, "i * 7919", "i % 10 = 0", "true"),
        (1, "i * 104729", "true", "i % 10 = 3"),
    ] {
        let number = format!("case when {spread} then ({which}) % $2 else (i - 1) * $2 / $1 end");
        let sentence = format!("(({which}) + {position} * 50) % {SENTENCES}");
        sqlx::query(&format!(
            "insert into quotes (claim_id, position, article_id, start_offset, end_offset, text, \
                                 speaker, speaker_start, speaker_end, cue, cue_start, cue_end, \
                                 kind) \
             select {claim_id}, {position}, sa.id, s * 19 + 1, s * 19 + 5, 'Yes,', \
                    'Putin', s * 19 + 7, s * 19 + 12, 'said', s * 19 + 13, s * 19 + 17, 'direct' \
             from generate_series(1, $1) i \
             cross join lateral (select {sentence} as s) s \
             join seed_articles sa on sa.a = ({number}) \
             where {only}"
        ))
        .bind(claims)
        .bind(articles)
        .execute(&mut *tx)
        .await?;
    }
    // one claim in twenty linked to the claim registered before it, as the matcher would
    let earlier = v7(&format!("{start_ms} + 1000000 + i - 1"), "'c' || (i - 1)");
    sqlx::query(&format!(
        "insert into claim_matches (id, claim_id, matched_claim_id, score, state) \
         select gen_random_uuid(), {claim_id}, {earlier}, 0.95, 'matched' \
         from generate_series(2, $1) i where i % 20 = 0"
    ))
    .bind(claims)
    .execute(&mut *tx)
    .await?;
    // each claim's speakers, which triggers keep when they run (as migration 0008 fills them)
    sqlx::query(
        "insert into claim_speakers (speaker, claim_id, review_state, current_rating) \
         select lower(claimant), id, review_state, current_rating from claims \
         on conflict do nothing",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("vacuum analyze").execute(&mut *conn).await?;
    eprintln!(
        "seeded {claims} claims over {articles} articles in {:.1} s{}",
        started.elapsed().as_secs_f64(),
        if fast {
            ""
        } else {
            " (triggers on: the role may not set session_replication_role)"
        }
    );
    Ok(())
}

/// A combination of filters ListClaims offers, and an order.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Filtered by article.
    pub article: bool,
    /// Filtered by claimant.
    pub claimant: bool,
    /// Filtered by review state.
    pub review_state: bool,
    /// Filtered by rating.
    pub rating: bool,
    /// Filtered by speaker (a claimant's name in lower case, which also finds the quotes'
    /// resolved speakers); never with the claimant filter, which it widens.
    pub speaker: bool,
    /// Filtered by origin.
    pub origin: bool,
    /// Which claims by dismissal: live ones (the default), dismissed ones or all.
    pub dismissal: DismissalFilter,
    /// The order.
    pub order: ClaimOrder,
}

impl Case {
    /// Every combination of the five filters (claimant and speaker not together) with every
    /// order that applies to it.
    pub fn all() -> Vec<Case> {
        let mut cases = Vec::new();
        for mask in 0..32u8 {
            if mask & 2 != 0 && mask & 16 != 0 {
                continue;
            }
            let article = mask & 1 != 0;
            let orders: &[ClaimOrder] = if article {
                &[
                    ClaimOrder::NewestFirst,
                    ClaimOrder::OldestFirst,
                    ClaimOrder::TextPosition,
                ]
            } else {
                &[ClaimOrder::NewestFirst, ClaimOrder::OldestFirst]
            };
            for &order in orders {
                cases.push(Case {
                    article,
                    claimant: mask & 2 != 0,
                    review_state: mask & 4 != 0,
                    rating: mask & 8 != 0,
                    speaker: mask & 16 != 0,
                    origin: false,
                    dismissal: DismissalFilter::NotDismissed,
                    order,
                });
            }
        }
        cases
    }

    /// The combinations triage adds, each with live claims unless it says: check-worthiness
    /// order alone, by state, by origin, by both, by article; dismissed claims in every order and
    /// by state; every claim in id and check-worthiness order; origin in id order, alone, with a
    /// state and with an article.
    pub fn triage() -> Vec<Case> {
        use ClaimOrder::{CheckWorthiness, NewestFirst, OldestFirst};
        use DismissalFilter::{Any, Dismissed, NotDismissed};
        let case = |article, review_state, origin, dismissal, order| Case {
            article,
            claimant: false,
            review_state,
            rating: false,
            speaker: false,
            origin,
            dismissal,
            order,
        };
        vec![
            case(false, false, false, NotDismissed, CheckWorthiness),
            case(false, true, false, NotDismissed, CheckWorthiness),
            case(false, false, true, NotDismissed, CheckWorthiness),
            case(false, true, true, NotDismissed, CheckWorthiness),
            case(true, false, false, NotDismissed, CheckWorthiness),
            case(false, false, false, Dismissed, NewestFirst),
            case(false, false, false, Dismissed, OldestFirst),
            case(false, false, false, Dismissed, CheckWorthiness),
            case(false, true, false, Dismissed, NewestFirst),
            case(false, false, false, Any, NewestFirst),
            case(false, false, false, Any, CheckWorthiness),
            case(false, false, true, NotDismissed, NewestFirst),
            case(false, false, true, NotDismissed, OldestFirst),
            case(false, true, true, NotDismissed, NewestFirst),
            case(true, false, true, NotDismissed, NewestFirst),
        ]
    }

    /// A short name: the filters and the order.
    pub fn label(&self) -> String {
        let filters: Vec<&str> = [
            (self.article, "article"),
            (self.claimant, "claimant"),
            (self.review_state, "state"),
            (self.rating, "rating"),
            (self.speaker, "speaker"),
            (self.origin, "origin"),
            (self.dismissal == DismissalFilter::Dismissed, "dismissed"),
            (self.dismissal == DismissalFilter::Any, "any-dismissal"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect();
        let filters = if filters.is_empty() {
            "(none)".to_owned()
        } else {
            filters.join("+")
        };
        format!("{filters:<32} {}", self.order.as_str())
    }

    /// The filter with the values of `pick`. With a rating, the state is "reviewed": an
    /// unreviewed claim has no rating, and the store answers that combination without a query.
    pub fn filter(&self, pick: &Pick) -> ClaimFilter {
        ClaimFilter {
            article: self.article.then_some(pick.article),
            claimant: self.claimant.then(|| pick.claimant.clone()),
            review_state: self.review_state.then_some(if self.rating {
                ReviewState::Reviewed
            } else {
                pick.review_state
            }),
            rating: self.rating.then_some(pick.rating),
            speaker: self.speaker.then(|| pick.claimant.to_lowercase()),
            origin: self.origin.then_some(pick.origin),
            dismissal: self.dismissal,
        }
    }
}

/// Values for the filters, drawn from the seeded claims.
#[derive(Debug, Clone)]
pub struct Pick {
    /// An article.
    pub article: ArticleName,
    /// A claimant.
    pub claimant: String,
    /// A review state.
    pub review_state: ReviewState,
    /// A rating.
    pub rating: Rating,
    /// An origin.
    pub origin: Origin,
}

/// `n` sets of filter values: a random article, the claimant of a random claim (so claimants
/// come as often as they have claims), a random state and rating; reproducible from `seed`.
pub async fn picks(conn: &mut PgConnection, n: usize, seed: u64) -> sqlx::Result<Vec<Pick>> {
    let articles: Vec<Uuid> = sqlx::query_scalar("select id from articles order by id")
        .fetch_all(&mut *conn)
        .await?;
    let claimants: Vec<String> = sqlx::query_scalar(
        "select claimant from claims tablesample system (5) repeatable (7) limit 20000",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift64: reproducible and dependency-free
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as usize
    };
    Ok((0..n)
        .map(|_| Pick {
            article: ArticleName(articles[next() % articles.len()]),
            claimant: claimants[next() % claimants.len()].clone(),
            review_state: if next() % 2 == 0 {
                ReviewState::Reviewed
            } else {
                ReviewState::Unreviewed
            },
            rating: Rating::ALL[next() % Rating::ALL.len()],
            origin: if next() % 2 == 0 {
                Origin::Manual
            } else {
                Origin::Extracted
            },
        })
        .collect())
}

/// A cursor in the middle of every listing: the median claim id and, in text order, the middle
/// of the seeded bodies. A plan that does not seek to the cursor reads half of what passes the
/// filters before it reaches the page.
pub async fn middle(conn: &mut PgConnection) -> sqlx::Result<Cursor> {
    let id: Uuid = sqlx::query_scalar(
        "select id from claims order by id offset (select count(*) / 2 from claims) limit 1",
    )
    .fetch_one(conn)
    .await?;
    Ok(Cursor {
        id,
        key: Some(SENTENCES * 19 / 2),
    })
}

/// Every node of a plan, depth first.
fn nodes(plan: &Value) -> Vec<&Value> {
    let mut found = vec![plan];
    for child in plan["Plans"].as_array().into_iter().flatten() {
        found.extend(nodes(child));
    }
    found
}

/// Node types that read a table through an index.
const INDEX_SCANS: [&str; 3] = ["Index Scan", "Index Only Scan", "Bitmap Heap Scan"];

/// The most rows the scans under the `Limit` may read (rows returned plus rows their filters
/// removed) for a page of 50. An article's claims sifted by other filters cost a few hundred.
/// Where one row in a few dozen passes (a common rating), the planner may read the primary key
/// in order and filter rather than fetch rows through the filter's index, which its cost model
/// (random page cost 4) prices above reading up to about 7,000 rows in order, a few ms. A plan
/// that scans the table, or reads an index holding none of the filters for a rare value, or
/// does not seek to the cursor reads half the table or more: 50,000 at the test's 100,000
/// claims, 500,000 at the benchmark's million.
pub const MAX_ROWS_READ: f64 = 10_000.0;

/// Checks a plan of the list query (`explain (analyze, format json)`, planned for its values as
/// the store runs it) for a case. What makes a listing slow is reading rows only to throw them
/// away: scanning a table, or an index that does not hold the filters, and testing each row; or
/// sorting every row that passes. So:
///
/// - no table is scanned whole anywhere in the plan;
/// - the rows of the page (under the `Limit`) are read through indexes, and those scans read at
///   most [`MAX_ROWS_READ`] rows, counting those their filters or joins removed; how they are
///   joined (row by row, or a hash of one bounded side) is the planner's business;
/// - a sort under the `Limit` only with a filter, over the rows that passed it (the planner
///   sorts when it knows them to be few, e.g. a rare claimant), never the unfiltered table.
///
/// Returns the indexes the page is read by and how many rows they read, or what is wrong.
pub fn check_plan(plan: &str, case: &Case) -> Result<String, String> {
    let json: Value = serde_json::from_str(plan).map_err(|e| e.to_string())?;
    let root = &json[0]["Plan"];
    let problem = |what: String| Err(format!("{what}; plan:\n{plan}"));
    if let Some(seq) = nodes(root)
        .into_iter()
        .find(|n| n["Node Type"] == "Seq Scan")
    {
        return problem(format!("a sequential scan of {}", seq["Relation Name"]));
    }
    let Some(limit) = nodes(root).into_iter().find(|n| n["Node Type"] == "Limit") else {
        return problem("no Limit".into());
    };
    // the page's own rows: the Limit's input, without the lookups made for each row
    let mut page = Vec::new();
    let mut pending = vec![&limit["Plans"][0]];
    while let Some(node) = pending.pop() {
        let kind = node["Node Type"].as_str().unwrap_or_default();
        if node["Relation Name"].is_string() && !INDEX_SCANS.contains(&kind) {
            return problem(format!(
                "a {kind} of {} under the Limit",
                node["Relation Name"]
            ));
        }
        page.push(node);
        // a subplan is a lookup per row read (a claim's own quotes, by key): it only must not
        // scan a table, which is checked above for the whole plan
        let children = node["Plans"].as_array().into_iter().flatten();
        pending.extend(children.filter(|child| child["Parent Relationship"] != "SubPlan"));
    }
    let number = |node: &Value, field: &str| node[field].as_f64().unwrap_or(0.0);
    // per-loop figures, as EXPLAIN reports them, times the loops
    let read: f64 = page
        .iter()
        .filter(|n| n["Relation Name"].is_string())
        .map(|n| {
            (number(n, "Actual Rows")
                + number(n, "Rows Removed by Filter")
                + number(n, "Rows Removed by Index Recheck"))
                * number(n, "Actual Loops")
        })
        .sum::<f64>()
        + page
            .iter()
            .map(|n| number(n, "Rows Removed by Join Filter") * number(n, "Actual Loops"))
            .sum::<f64>();
    let indexes: Vec<&str> = page
        .iter()
        .filter_map(|n| n["Index Name"].as_str())
        .collect();
    if read > MAX_ROWS_READ {
        return problem(format!(
            "the page's scans ({indexes:?}) read {read} rows for a page of {}",
            number(limit, "Actual Rows")
        ));
    }
    let filtered = case.claimant
        || case.review_state
        || case.rating
        || case.article
        || case.speaker
        || case.origin
        || case.dismissal == DismissalFilter::Dismissed;
    let sorted = page
        .iter()
        .any(|n| n["Node Type"].as_str().is_some_and(|k| k.ends_with("Sort")));
    if sorted && !filtered {
        return problem("a sort of the unfiltered table under the Limit".into());
    }
    let shape = if sorted { ", sorted" } else { "" };
    Ok(format!("{}{shape}, {read} rows read", indexes.join(" + ")))
}
