//! The `claims` and `quotes` tables.
//!
//! A claim is always read in one statement with its quotes and current verdict: the claim's
//! columns, its quotes as a JSON array and its verdict as a JSON object ([`completed`]). A
//! listing builds its SQL for the filters and order it has, so that every combination reads an
//! index in the listing's order and stops after a page ([`list_query`]); values are always
//! bound, never written into the SQL.

use sqlx::{PgConnection, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Page;
use super::verdicts::{self, current_verdict_json, undecodable};
use crate::domain::{
    Anchored, ArticleName, Claim, ClaimMatch, ClaimMatchName, ClaimName, ClaimOrder, ClaimPatch,
    ClaimVersion, Cursor, Dismissal, DismissalFilter, DismissalKind, DismissalReason, MatchState,
    NewDismissal, Origin, PreviouslyChecked, Quote, QuoteKind, Rating, ReviewState, Span,
};

/// A claim as [`completed`] reads it: its columns, its sort key in the listing, its quotes and
/// its current verdict as JSON.
#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: Uuid,
    statement: String,
    claimant: String,
    review_state: String,
    version: i64,
    create_time: OffsetDateTime,
    update_time: OffsetDateTime,
    origin: String,
    checkworthiness: Option<f32>,
    sort_key: Option<i32>,
    quotes: Option<String>,
    verdict: Option<String>,
    linked_claim_id: Option<Uuid>,
    link_score: Option<f32>,
    link_state: Option<String>,
    link_reviewer: Option<String>,
    link_create_time: Option<OffsetDateTime>,
    link_review_time: Option<OffsetDateTime>,
    linked_verdict: Option<String>,
    dismissal_reason: Option<String>,
    duplicate_of: Option<Uuid>,
    dismissed_by: Option<String>,
    dismiss_time: Option<OffsetDateTime>,
    dismissal_note: Option<String>,
}

/// A quote as `json_agg` of a `quotes` row writes it: the table's column names.
#[derive(serde::Deserialize)]
struct QuoteJson {
    article_id: String,
    start_offset: i32,
    end_offset: i32,
    text: String,
    speaker: String,
    speaker_start: i32,
    speaker_end: i32,
    cue: Option<String>,
    cue_start: Option<i32>,
    cue_end: Option<i32>,
    kind: String,
    resolved_speaker: Option<String>,
}

/// The claim columns a page query selects for [`completed`], from the claims table as `c`.
const PAGE_COLUMNS: &str = "c.id, c.statement, c.claimant, c.review_state, c.current_verdict_id, \
                            c.version, c.create_time, c.update_time, c.origin, c.checkworthiness, \
                            c.dismissal_reason, c.duplicate_of, c.dismissed_by, c.dismiss_time, \
                            c.dismissal_note";

fn span(start: i32, end: i32) -> Span {
    // the table's checks keep offsets non-negative and ordered
    Span {
        start: usize::try_from(start).unwrap_or_default(),
        end: usize::try_from(end).unwrap_or_default(),
    }
}

fn offset(value: usize) -> i32 {
    // bodies are at most 1 MiB, so every offset into one fits
    i32::try_from(value).expect("offsets into a body of at most 1 MiB fit in i32")
}

impl QuoteJson {
    fn into_quote(self) -> sqlx::Result<Quote> {
        let cue = match (self.cue, self.cue_start, self.cue_end) {
            (Some(text), Some(start), Some(end)) => Some(Anchored {
                text,
                span: span(start, end),
            }),
            _ => None,
        };
        Ok(Quote {
            article: ArticleName(Uuid::try_parse(&self.article_id).map_err(undecodable)?),
            quote: Anchored {
                text: self.text,
                span: span(self.start_offset, self.end_offset),
            },
            speaker: Anchored {
                text: self.speaker,
                span: span(self.speaker_start, self.speaker_end),
            },
            cue,
            // the table's check allows only the three kinds
            kind: QuoteKind::from_stored(&self.kind).unwrap_or(QuoteKind::Direct),
            resolved_speaker: self.resolved_speaker,
        })
    }
}

impl ClaimRow {
    fn into_claim(self) -> sqlx::Result<Claim> {
        let name = ClaimName(self.id);
        let previously_checked = match (
            self.linked_claim_id,
            self.linked_verdict.as_deref(),
            self.link_state.as_deref().and_then(MatchState::from_stored),
            self.link_create_time,
        ) {
            (Some(earlier), Some(verdict), Some(state), Some(create_time)) => {
                let earlier = ClaimName(earlier);
                Some(PreviouslyChecked {
                    claim: earlier,
                    verdict: verdicts::from_json(earlier, verdict)?,
                    link: ClaimMatch {
                        name: ClaimMatchName {
                            claim: name,
                            matched: earlier,
                        },
                        score: self.link_score.unwrap_or_default(),
                        state,
                        reviewer: self.link_reviewer,
                        create_time,
                        review_time: self.link_review_time,
                    },
                })
            }
            _ => None,
        };
        let dismissal = match (
            self.dismissal_reason
                .as_deref()
                .and_then(DismissalKind::from_stored),
            self.dismissed_by,
            self.dismiss_time,
        ) {
            (Some(kind), Some(reviewer), Some(dismiss_time)) => Some(Dismissal {
                // the table's checks: a duplicate names its original, and only a duplicate
                reason: match (kind, self.duplicate_of) {
                    (DismissalKind::Duplicate, Some(original)) => {
                        DismissalReason::Duplicate(ClaimName(original))
                    }
                    (DismissalKind::OutOfScope, _) => DismissalReason::OutOfScope,
                    _ => DismissalReason::NotAClaim,
                },
                reviewer,
                dismiss_time,
                note: self.dismissal_note,
            }),
            _ => None,
        };
        let quotes: Vec<QuoteJson> = match &self.quotes {
            Some(json) => serde_json::from_str(json).map_err(undecodable)?,
            None => Vec::new(),
        };
        Ok(Claim {
            name,
            quotes: quotes
                .into_iter()
                .map(QuoteJson::into_quote)
                .collect::<sqlx::Result<_>>()?,
            current_verdict: self
                .verdict
                .as_deref()
                .map(|json| verdicts::from_json(name, json))
                .transpose()?,
            // the table's check allows only the two states
            review_state: ReviewState::from_stored(&self.review_state)
                .unwrap_or(ReviewState::Unreviewed),
            statement: self.statement,
            claimant: self.claimant,
            version: ClaimVersion(self.version),
            create_time: self.create_time,
            update_time: self.update_time,
            // the table's check allows only the two origins
            origin: Origin::from_stored(&self.origin).unwrap_or(Origin::Manual),
            checkworthiness: self.checkworthiness,
            previously_checked,
            dismissal,
        })
    }
}

/// A new claim with its anchored quotes.
pub struct ClaimRecord<'a> {
    /// The statement.
    pub statement: &'a str,
    /// Who made it.
    pub claimant: &'a str,
    /// Who registers it.
    pub origin: Origin,
    /// How worth checking the statement is.
    pub checkworthiness: f32,
    /// Where it was made, in order; anchored in their articles.
    pub quotes: &'a [Quote],
}

/// The columns of quotes to insert, one array per column.
#[derive(Default)]
struct QuoteColumns<'a> {
    claim_id: Vec<Uuid>,
    position: Vec<i32>,
    article_id: Vec<Uuid>,
    start: Vec<i32>,
    end: Vec<i32>,
    text: Vec<&'a str>,
    speaker: Vec<&'a str>,
    speaker_start: Vec<i32>,
    speaker_end: Vec<i32>,
    cue: Vec<Option<&'a str>>,
    cue_start: Vec<Option<i32>>,
    cue_end: Vec<Option<i32>>,
    kind: Vec<&'static str>,
    resolved_speaker: Vec<Option<&'a str>>,
}

/// Stores claims with their anchored quotes, in two statements however many there are (one for
/// the claims, one for all their quotes; the quotes' trigger re-checks every anchor). Returns
/// the claims' names in the order given; their ids sort in that order too.
pub async fn insert(
    conn: &mut PgConnection,
    claims: &[ClaimRecord<'_>],
) -> sqlx::Result<Vec<ClaimName>> {
    if claims.is_empty() {
        return Ok(Vec::new());
    }
    // UUIDv7s made by one process sort in the order they were made
    let ids: Vec<Uuid> = claims.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "insert into claims (id, statement, claimant, origin, checkworthiness) \
         select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::real[])",
    )
    .bind(&ids)
    .bind(claims.iter().map(|c| c.statement).collect::<Vec<_>>())
    .bind(claims.iter().map(|c| c.claimant).collect::<Vec<_>>())
    .bind(claims.iter().map(|c| c.origin.as_str()).collect::<Vec<_>>())
    .bind(claims.iter().map(|c| c.checkworthiness).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    let mut quotes = Vec::new();
    for (id, claim) in ids.iter().zip(claims) {
        quotes.extend(
            claim
                .quotes
                .iter()
                .enumerate()
                .map(|(position, quote)| (*id, position, quote)),
        );
    }
    insert_quotes(conn, quotes).await?;
    Ok(ids.into_iter().map(ClaimName).collect())
}

/// Inserts quotes of claims, each at its position among its claim's quotes, in one statement
/// (the quotes' trigger re-checks every anchor).
async fn insert_quotes(
    conn: &mut PgConnection,
    quotes: Vec<(Uuid, usize, &Quote)>,
) -> sqlx::Result<()> {
    // the quotes as columns, one array each, for one multi-row insert
    let mut q = QuoteColumns::default();
    for (id, position, quote) in quotes {
        let cue = quote.cue.as_ref();
        q.claim_id.push(id);
        q.position.push(offset(position));
        q.article_id.push(quote.article.0);
        q.start.push(offset(quote.quote.span.start));
        q.end.push(offset(quote.quote.span.end));
        q.text.push(quote.quote.text.as_str());
        q.speaker.push(quote.speaker.text.as_str());
        q.speaker_start.push(offset(quote.speaker.span.start));
        q.speaker_end.push(offset(quote.speaker.span.end));
        q.cue.push(cue.map(|c| c.text.as_str()));
        q.cue_start.push(cue.map(|c| offset(c.span.start)));
        q.cue_end.push(cue.map(|c| offset(c.span.end)));
        q.kind.push(quote.kind.as_str());
        q.resolved_speaker.push(quote.resolved_speaker.as_deref());
    }
    sqlx::query(
        "insert into quotes (claim_id, position, article_id, start_offset, end_offset, text, \
                             speaker, speaker_start, speaker_end, cue, cue_start, cue_end, kind, \
                             resolved_speaker) \
         select * from unnest($1::uuid[], $2::int4[], $3::uuid[], $4::int4[], $5::int4[], \
                              $6::text[], $7::text[], $8::int4[], $9::int4[], $10::text[], \
                              $11::int4[], $12::int4[], $13::text[], $14::text[])",
    )
    .bind(q.claim_id)
    .bind(q.position)
    .bind(q.article_id)
    .bind(q.start)
    .bind(q.end)
    .bind(q.text)
    .bind(q.speaker)
    .bind(q.speaker_start)
    .bind(q.speaker_end)
    .bind(q.cue)
    .bind(q.cue_start)
    .bind(q.cue_end)
    .bind(q.kind)
    .bind(q.resolved_speaker)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds a quote to a claim, after its others, and bumps the claim's version: an appearance of
/// the claim in another article. The caller holds the claim's lock ([`lock`]). Returns how many
/// quotes the claim had before.
pub async fn add_quote(
    conn: &mut PgConnection,
    claim: ClaimName,
    quote: &Quote,
) -> sqlx::Result<usize> {
    let before: i64 = sqlx::query_scalar("select count(*) from quotes where claim_id = $1")
        .bind(claim.0)
        .fetch_one(&mut *conn)
        .await?;
    let before = usize::try_from(before).unwrap_or_default();
    insert_quotes(&mut *conn, vec![(claim.0, before, quote)]).await?;
    sqlx::query("update claims set version = version + 1, update_time = now() where id = $1")
        .bind(claim.0)
        .execute(conn)
        .await?;
    Ok(before)
}

/// Wraps a page query (`inner`, selecting [`PAGE_COLUMNS`] and an int4 `sort_key` from claims
/// as `c`) so that each of its rows comes with its quotes and current verdict, in the same
/// statement; `order` orders the result the way the page query does.
fn completed<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    inner: impl FnOnce(&mut QueryBuilder<'a, Postgres>),
    order: &str,
) {
    qb.push(
        "select p.id, p.statement, p.claimant, p.review_state, p.version, p.create_time, \
                p.update_time, p.origin, p.checkworthiness, p.sort_key, \
                p.dismissal_reason, p.duplicate_of, p.dismissed_by, p.dismiss_time, \
                p.dismissal_note, \
                (select json_agg(q order by q.position)::text from quotes q \
                 where q.claim_id = p.id) as quotes, \
                pc.matched_claim_id as linked_claim_id, pc.score as link_score, \
                pc.state as link_state, pc.reviewer as link_reviewer, \
                pc.create_time as link_create_time, pc.review_time as link_review_time, ",
    );
    qb.push(current_verdict_json("p"));
    qb.push(" as verdict, ");
    qb.push(current_verdict_json("pc"));
    qb.push(" as linked_verdict from (");
    inner(qb);
    // the earlier claim this one is linked to that has a verdict, the most alike first
    qb.push(
        ") p left join lateral ( \
             select m.matched_claim_id, m.score, m.state, m.reviewer, m.create_time, \
                    m.review_time, mc.current_verdict_id \
             from claim_matches m join claims mc on mc.id = m.matched_claim_id \
             where m.claim_id = p.id and m.state in ('matched', 'accepted') \
               and mc.current_verdict_id is not null \
             order by m.score desc, m.matched_claim_id limit 1 \
         ) pc on true",
    );
    if !order.is_empty() {
        qb.push(" order by ");
        qb.push(order);
    }
}

/// One claim with its quotes and current verdict, in one statement.
pub async fn get(conn: &mut PgConnection, name: ClaimName) -> sqlx::Result<Option<Claim>> {
    let mut qb = QueryBuilder::new("");
    completed(
        &mut qb,
        |qb| {
            qb.push(format!(
                "select {PAGE_COLUMNS}, null::int4 as sort_key from claims c where c.id = "
            ));
            qb.push_bind(name.0);
        },
        "",
    );
    let row: Option<ClaimRow> = qb.build_query_as().fetch_optional(conn).await?;
    row.map(ClaimRow::into_claim).transpose()
}

/// The claims with these names, in the order given, in one statement; names that do not exist
/// are left out.
pub async fn get_many(conn: &mut PgConnection, names: &[ClaimName]) -> sqlx::Result<Vec<Claim>> {
    let ids: Vec<Uuid> = names.iter().map(|n| n.0).collect();
    let mut qb = QueryBuilder::new("");
    completed(
        &mut qb,
        |qb| {
            qb.push(format!(
                "select {PAGE_COLUMNS}, i.n::int4 as sort_key \
                 from unnest("
            ));
            qb.push_bind(ids);
            qb.push("::uuid[]) with ordinality as i (id, n) join claims c on c.id = i.id");
        },
        "p.sort_key",
    );
    let rows: Vec<ClaimRow> = qb.build_query_as().fetch_all(conn).await?;
    rows.into_iter().map(ClaimRow::into_claim).collect()
}

/// What a listing of claims keeps; every filter given must hold.
#[derive(Debug, Default)]
pub struct ClaimFilter {
    /// Only claims with a quote in this article.
    pub article: Option<ArticleName>,
    /// Only claims of this claimant.
    pub claimant: Option<String>,
    /// Only claims in this review state.
    pub review_state: Option<ReviewState>,
    /// Only claims whose current verdict has this rating.
    pub rating: Option<Rating>,
    /// Only claims whose claimant, or a quote's resolved speaker, is this name in any case.
    pub speaker: Option<String>,
    /// Only claims of this origin.
    pub origin: Option<Origin>,
    /// Which claims to keep by dismissal: live ones unless asked.
    pub dismissal: DismissalFilter,
}

/// Joins conditions with `where` first and `and` after.
struct Conditions {
    any: bool,
}

impl Conditions {
    fn next<'q, 'a>(
        &mut self,
        qb: &'q mut QueryBuilder<'a, Postgres>,
    ) -> &'q mut QueryBuilder<'a, Postgres> {
        qb.push(if std::mem::replace(&mut self.any, true) {
            " and "
        } else {
            " where "
        });
        qb
    }
}

/// Starts a page query over the claims, read through `claim_speakers` when a speaker drives the
/// listing (its index holds the speaker's claims in claim order); the claim id column to order
/// and page by.
fn select_claims(qb: &mut QueryBuilder<'_, Postgres>, speaker_drives: bool) -> &'static str {
    qb.push(format!(
        "select {PAGE_COLUMNS}, null::int4 as sort_key from {}",
        if speaker_drives {
            "claim_speakers s join claims c on c.id = s.claim_id"
        } else {
            "claims c"
        }
    ));
    if speaker_drives { "s.claim_id" } else { "c.id" }
}

/// The SQL of a page of claims, after `prefix` (empty, or `explain …`); `None` when the filters
/// contradict each other and no claim can pass them (unreviewed claims have no rating).
///
/// Each combination has an index to read in the listing's order, stopping after `limit + 1`
/// rows (for a rare value the planner may rather read its few rows and sort them):
///
/// - with an article: the article's quotes, by `(article_id, claim_id)` in id order or
///   `(article_id, start_offset, claim_id)` in text order, one quote per claim (its first in
///   the article: lowest start, then lowest position), joined to their claims, which the other
///   filters then sift: an article's claims are few.
/// - without: the claims, by the index whose leading columns are the filters given and whose
///   last is the id: `claims_pkey`, `(claimant, id)`, `(review_state, id)`,
///   `(current_rating, id)`, `(claimant, review_state, id)`, `(claimant, current_rating, id)`.
///   A rating implies the reviewed state (the table's check), so a reviewed state beside a
///   rating is left out.
pub fn list_query(
    prefix: &str,
    filter: &ClaimFilter,
    order: ClaimOrder,
    after: Option<Cursor>,
    limit: i64,
) -> Option<QueryBuilder<'static, Postgres>> {
    let review_state = match (filter.review_state, filter.rating) {
        (Some(ReviewState::Unreviewed), Some(_)) => return None,
        (Some(ReviewState::Reviewed), Some(_)) => None,
        (state, _) => state,
    };
    let claimant = filter.claimant.clone();
    let rating = filter.rating;
    let speaker = filter.speaker.clone();
    let origin = filter.origin;
    let dismissal = filter.dismissal;
    // without an article, a speaker's claims are read from `claim_speakers` (as `s`) in claim
    // order; with one, the article's claims are tested against it
    let speaker_drives = speaker.is_some() && filter.article.is_none();
    let sift = move |qb: &mut QueryBuilder<'static, Postgres>, w: &mut Conditions| {
        if let Some(speaker) = speaker {
            if speaker_drives {
                w.next(qb)
                    .push("s.speaker = lower(")
                    .push_bind(speaker)
                    .push(")");
            } else {
                w.next(qb)
                    .push(
                        "exists (select 1 from claim_speakers s \
                         where s.claim_id = c.id and s.speaker = lower(",
                    )
                    .push_bind(speaker)
                    .push("))");
            }
        }
        if let Some(claimant) = claimant {
            w.next(qb).push("c.claimant = ").push_bind(claimant);
        }
        // read from the speaker's rows, which copy them, so that the (speaker, state) and
        // (speaker, rating) indexes answer
        let table = if speaker_drives { "s" } else { "c" };
        if let Some(state) = review_state {
            w.next(qb)
                .push(format!("{table}.review_state = "))
                .push_bind(state.as_str());
        }
        if let Some(rating) = rating {
            w.next(qb)
                .push(format!("{table}.current_rating = "))
                .push_bind(rating.as_str());
        }
        if let Some(origin) = origin {
            w.next(qb).push("c.origin = ").push_bind(origin.as_str());
        }
        // written out, not bound, so that the partial indexes of dismissed claims answer
        match dismissal {
            DismissalFilter::NotDismissed => {
                w.next(qb).push("c.dismissal_reason is null");
            }
            DismissalFilter::Dismissed => {
                w.next(qb).push("c.dismissal_reason is not null");
            }
            DismissalFilter::Any => {}
        }
    };
    // in check-worthiness order, a cursor's key is the last score's bits; one without a key is
    // past every score
    let score_after = |after: Cursor| {
        after
            .key
            .and_then(|k| u32::try_from(k).ok())
            .map_or(-1.0, f32::from_bits)
    };
    let mut qb = QueryBuilder::new(prefix);
    let mut w = Conditions { any: false };
    match (filter.article, order) {
        (None, ClaimOrder::TextPosition) => return None,
        (None, ClaimOrder::CheckWorthiness) => {
            completed(
                &mut qb,
                |qb| {
                    let id = select_claims(qb, speaker_drives);
                    sift(qb, &mut w);
                    if let Some(after) = after {
                        w.next(qb)
                            .push(format!("(coalesce(c.checkworthiness, 0), {id}) < ("))
                            .push_bind(score_after(after))
                            .push("::real, ")
                            .push_bind(after.id)
                            .push(")");
                    }
                    qb.push(format!(
                        " order by coalesce(c.checkworthiness, 0) desc, {id} desc limit "
                    ));
                    qb.push_bind(limit + 1);
                },
                "coalesce(p.checkworthiness, 0) desc, p.id desc",
            );
        }
        (None, order) => {
            let descending = order == ClaimOrder::NewestFirst;
            completed(
                &mut qb,
                |qb| {
                    let id = select_claims(qb, speaker_drives);
                    sift(qb, &mut w);
                    if let Some(after) = after {
                        w.next(qb)
                            .push(format!("{id} {} ", if descending { "<" } else { ">" }))
                            .push_bind(after.id);
                    }
                    qb.push(format!(
                        " order by {id}{} limit ",
                        if descending { " desc" } else { "" }
                    ));
                    qb.push_bind(limit + 1);
                },
                if descending { "p.id desc" } else { "p.id" },
            );
        }
        (Some(article), order) => {
            let by_text = order == ClaimOrder::TextPosition;
            completed(
                &mut qb,
                |qb| {
                    qb.push(format!(
                        "select {PAGE_COLUMNS}, {} as sort_key \
                         from quotes q join claims c on c.id = q.claim_id",
                        if by_text {
                            "q.start_offset"
                        } else {
                            "null::int4"
                        }
                    ));
                    w.next(qb).push("q.article_id = ").push_bind(article.0);
                    // one row per claim: its first quote in the article. `offset 0` keeps
                    // the test a lookup of the claim's own quotes for each row read, by index,
                    // instead of letting the planner join all quotes against the article's,
                    // which reads the whole quotes table before the first row
                    w.next(qb).push(
                        "not exists (select 1 from quotes f \
                         where f.claim_id = q.claim_id and f.article_id = q.article_id \
                           and (f.start_offset, f.position) < (q.start_offset, q.position) \
                         offset 0)",
                    );
                    match (after, order) {
                        (None, _) => {}
                        (Some(after), ClaimOrder::TextPosition) => {
                            // a cursor without a position in the text is past every one
                            let key = after.key.and_then(|k| i32::try_from(k).ok());
                            w.next(qb)
                                .push("(q.start_offset, q.claim_id) > (")
                                .push_bind(key.unwrap_or(i32::MAX))
                                .push(", ")
                                .push_bind(after.id)
                                .push(")");
                        }
                        (Some(after), ClaimOrder::NewestFirst) => {
                            w.next(qb).push("q.claim_id < ").push_bind(after.id);
                        }
                        (Some(after), ClaimOrder::OldestFirst) => {
                            w.next(qb).push("q.claim_id > ").push_bind(after.id);
                        }
                        (Some(after), ClaimOrder::CheckWorthiness) => {
                            w.next(qb)
                                .push("(coalesce(c.checkworthiness, 0), q.claim_id) < (")
                                .push_bind(score_after(after))
                                .push("::real, ")
                                .push_bind(after.id)
                                .push(")");
                        }
                    }
                    sift(qb, &mut w);
                    qb.push(match order {
                        ClaimOrder::NewestFirst => " order by q.claim_id desc limit ",
                        ClaimOrder::OldestFirst => " order by q.claim_id limit ",
                        ClaimOrder::TextPosition => " order by q.start_offset, q.claim_id limit ",
                        ClaimOrder::CheckWorthiness => {
                            " order by coalesce(c.checkworthiness, 0) desc, q.claim_id desc limit "
                        }
                    });
                    qb.push_bind(limit + 1);
                },
                match order {
                    ClaimOrder::NewestFirst => "p.id desc",
                    ClaimOrder::OldestFirst => "p.id",
                    ClaimOrder::TextPosition => "p.sort_key, p.id",
                    ClaimOrder::CheckWorthiness => "coalesce(p.checkworthiness, 0) desc, p.id desc",
                },
            );
        }
    }
    Some(qb)
}

/// A page of claims that pass `filter`, in `order`, after `after`: one statement, which reads
/// an index in the listing's order (see [`list_query`]), planned for the values it is given.
pub async fn list(
    conn: &mut PgConnection,
    filter: &ClaimFilter,
    order: ClaimOrder,
    after: Option<Cursor>,
    limit: i64,
) -> sqlx::Result<Page<Claim>> {
    let Some(mut qb) = list_query("", filter, order, after, limit) else {
        return Ok(Page::from_overfetch(Vec::new(), limit, |c: &Claim| {
            c.name.0
        }));
    };
    // with a claimant, speaker, state or rating, an unnamed statement planned for its values on
    // every call: a plan cached for the statement would be made for an average claimant, and
    // one with 5% of all claims is not. An article's claims, or all claims, are alike enough
    // for one prepared plan, which saves planning this statement on every call.
    let skewed = filter.claimant.is_some()
        || filter.speaker.is_some()
        || filter.review_state.is_some()
        || filter.rating.is_some()
        || filter.origin.is_some()
        || filter.dismissal != DismissalFilter::NotDismissed;
    let rows: Vec<ClaimRow> = qb
        .build_query_as()
        .persistent(!skewed)
        .fetch_all(conn)
        .await?;
    let mut keyed = Vec::with_capacity(rows.len());
    for row in rows {
        let key = row.sort_key.map(i64::from);
        let claim = row.into_claim()?;
        // in check-worthiness order, the score is the key, by its bits (which order as the
        // scores do, all of them being at least 0)
        let key = match order {
            ClaimOrder::CheckWorthiness => {
                Some(i64::from(claim.checkworthiness.unwrap_or(0.0).to_bits()))
            }
            _ => key,
        };
        keyed.push((claim, key));
    }
    let page = Page::from_overfetch(keyed, limit, |(c, _)| c.name.0);
    let next_key = page.items.last().and_then(|(_, key)| *key);
    Ok(Page {
        next_key: page.next_after.and(next_key),
        next_after: page.next_after,
        items: page.items.into_iter().map(|(c, _)| c).collect(),
    })
}

/// PostgreSQL's plan, run, as JSON text (`explain (analyze, format json)`), for the exact
/// statement [`list`] runs with these arguments; `None` when [`list`] runs none. For tests and
/// benchmarks, which check that every combination of filters and order reads an index and no
/// more rows than a page needs.
pub async fn explain_list(
    conn: &mut PgConnection,
    filter: &ClaimFilter,
    order: ClaimOrder,
    after: Option<Cursor>,
    limit: i64,
) -> sqlx::Result<Option<String>> {
    use sqlx::Row;
    let Some(mut qb) = list_query(
        "explain (analyze, format json) ",
        filter,
        order,
        after,
        limit,
    ) else {
        return Ok(None);
    };
    let row = qb.build().persistent(false).fetch_one(conn).await?;
    // a json value's binary form is its text
    Ok(Some(row.try_get_unchecked::<String, _>(0)?))
}

/// What an update found.
pub enum UpdateOutcome {
    /// The claim was changed.
    Updated,
    /// The claim exists but its version is not the expected one.
    Stale,
    /// No such claim.
    Missing,
}

/// Changes a claim's statement (with its new score) and claimant if it is still at the
/// expected version.
pub async fn update(
    conn: &mut PgConnection,
    patch: &ClaimPatch,
    checkworthiness: Option<f32>,
) -> sqlx::Result<UpdateOutcome> {
    let updated = sqlx::query(
        "update claims \
         set statement = coalesce($3, statement), claimant = coalesce($4, claimant), \
             checkworthiness = coalesce($5, checkworthiness), version = version + 1, update_time = now() \
         where id = $1 and version = $2",
    )
    .bind(patch.name.0)
    .bind(patch.expected.0)
    .bind(&patch.statement)
    .bind(&patch.claimant)
    .bind(checkworthiness)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() == 1 {
        return Ok(UpdateOutcome::Updated);
    }
    let exists: Option<(i64,)> = sqlx::query_as("select version from claims where id = $1")
        .bind(patch.name.0)
        .fetch_optional(conn)
        .await?;
    Ok(if exists.is_some() {
        UpdateOutcome::Stale
    } else {
        UpdateOutcome::Missing
    })
}

/// Locks a claim's row for the rest of the transaction; false when there is no such claim.
pub async fn lock(conn: &mut PgConnection, name: ClaimName) -> sqlx::Result<bool> {
    let row: Option<(Uuid,)> = sqlx::query_as("select id from claims where id = $1 for update")
        .bind(name.0)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Records a reviewer's dismissal of a claim and bumps its version. The caller holds the
/// claim's lock ([`lock`]) and has checked that it is live and that a duplicate's original
/// exists.
pub async fn dismiss(
    conn: &mut PgConnection,
    dismissal: &NewDismissal,
    reviewer: &str,
    reviewer_key: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "update claims \
         set dismissal_reason = $2, duplicate_of = $3, dismissed_by = $4, \
             dismissed_by_key_id = $5, dismiss_time = now(), dismissal_note = $6, \
             version = version + 1, update_time = now() \
         where id = $1",
    )
    .bind(dismissal.claim.0)
    .bind(dismissal.reason.kind().as_str())
    .bind(dismissal.reason.duplicate_of().map(|c| c.0))
    .bind(reviewer)
    .bind(reviewer_key)
    .bind(&dismissal.note)
    .execute(conn)
    .await?;
    Ok(())
}

/// Clears a claim's dismissal and bumps its version: the claim is live again. The caller holds
/// the claim's lock and has checked that it is dismissed.
pub async fn restore(conn: &mut PgConnection, claim: ClaimName) -> sqlx::Result<()> {
    sqlx::query(
        "update claims \
         set dismissal_reason = null, duplicate_of = null, dismissed_by = null, \
             dismissed_by_key_id = null, dismiss_time = null, dismissal_note = null, \
             version = version + 1, update_time = now() \
         where id = $1",
    )
    .bind(claim.0)
    .execute(conn)
    .await?;
    Ok(())
}
