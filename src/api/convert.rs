//! Conversions between protobuf messages and domain types. Decoding checks every field and
//! names it by its path in the request when it is wrong; encoding cannot fail.

use prost::Message;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::proto;
use crate::domain::{
    self, ApiKey, ArticleBody, ArticleName, ClaimName, ClaimVersion, Cursor, Dismissal,
    DismissalFilter, DismissalKind, DismissalReason, EvidenceSource, LanguageCode,
    MAX_DISMISSAL_NOTE_CHARS, MatchDecision, MatchState, NewArticle, NewClaim, NewDismissal,
    NewVerdict, Origin, PageSize, PageToken, QuoteDraft, QuoteKind, Rating, ReviewState, Span,
    VerdictAction, VerdictState, WebUrl, limits, optional_text, required_text,
};
use crate::error::{Error, FieldContext, Violations};
use crate::store::Page;
use crate::store::idempotency::IdempotencyKey;

/// The most authors one article may credit.
const MAX_AUTHORS: usize = 100;

// ---- decoding ----

/// A required message field.
pub fn required<T>(value: Option<T>, field: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::invalid(field, "is required"))
}

/// The idempotency key of a create request: its caller, request id (if any), method and hash.
pub fn idempotency_key<M: Message>(
    caller: &ApiKey,
    request_id: &str,
    method: &'static str,
    request: &M,
) -> Result<Option<IdempotencyKey>, Error> {
    if request_id.is_empty() {
        return Ok(None);
    }
    let request_id = Uuid::try_parse(request_id)
        .map_err(|_| format!("must be a UUID, not {request_id:?}"))
        .field("request_id")?;
    Ok(Some(IdempotencyKey {
        caller: caller.name.0,
        request_id,
        method,
        request_sha256: Sha256::digest(request.encode_to_vec()).into(),
    }))
}

/// A checked page size with its token; `filters` describes the request's filters for the
/// token's check. The token is checked last, once the filters it is bound to are known good.
pub fn page(
    size: PageSize,
    page_token: &str,
    filters: &str,
) -> Result<(PageSize, Option<Uuid>), Error> {
    let token = PageToken::parse(page_token, filters).field("page_token")?;
    Ok((size, token.map(|t| t.after)))
}

/// The token for the page after `page`, empty when it was the last; it carries the page's last
/// sort key too, for listings not ordered by id alone.
pub fn next_page_token<T>(page: &Page<T>, filters: &str) -> String {
    page.next_after
        .map(|id| {
            let cursor = Cursor {
                id,
                key: page.next_key,
            };
            PageToken::at(cursor, filters).encode()
        })
        .unwrap_or_default()
}

/// A time given in a request.
pub fn decode_time(value: prost_types::Timestamp, field: &str) -> Result<OffsetDateTime, Error> {
    domain::timestamp(value.seconds, value.nanos).field(field)
}

fn timestamp(
    value: Option<prost_types::Timestamp>,
    field: &str,
) -> Result<Option<OffsetDateTime>, Error> {
    value
        .map(|t| domain::timestamp(t.seconds, t.nanos).field(field))
        .transpose()
}

/// An article to register; every bad field is named.
pub fn new_article(article: Option<proto::Article>) -> Result<NewArticle, Error> {
    let a = required(article, "article")?;
    let mut v = Violations::default();
    if a.authors.len() > MAX_AUTHORS {
        v.add(
            "article.authors",
            format!("may list at most {MAX_AUTHORS} authors"),
        );
    }
    let authors: Vec<Option<String>> = a
        .authors
        .iter()
        .take(MAX_AUTHORS)
        .enumerate()
        .map(|(i, author)| v.check(required_text(author, 300), format!("article.authors[{i}]")))
        .collect();
    let url = v.check(WebUrl::parse(&a.url), "article.url");
    let title = v.check(required_text(&a.title, 1000), "article.title");
    let publisher = v.check(required_text(&a.publisher, 300), "article.publisher");
    let language = v.check(
        LanguageCode::parse(&a.language_code),
        "article.language_code",
    );
    let publish_time = v.take(timestamp(a.publish_time, "article.publish_time"));
    let body = v.check(ArticleBody::parse(a.body), "article.body");
    match (url, title, publisher, language, publish_time, body) {
        (
            Some(url),
            Some(title),
            Some(publisher),
            Some(language),
            Some(publish_time),
            Some(body),
        ) if v.is_empty() => Ok(NewArticle {
            url,
            title,
            publisher,
            authors: authors.into_iter().flatten().collect(),
            language,
            publish_time,
            body,
        }),
        _ => Err(v.into_error()),
    }
}

/// An article view; `default_full` says what unspecified means for the method.
pub fn article_view(view: i32, default_full: bool) -> Result<bool, Error> {
    match proto::ArticleView::try_from(view) {
        Ok(proto::ArticleView::Unspecified) => Ok(default_full),
        Ok(proto::ArticleView::Basic) => Ok(false),
        Ok(proto::ArticleView::Full) => Ok(true),
        Err(_) => Err(Error::invalid(
            "view",
            format!("{view} is not an ArticleView"),
        )),
    }
}

fn span(value: Option<proto::TextSpan>, field: String) -> Result<Option<Span>, Error> {
    value
        .map(|s| Span::new(s.start as usize, s.end as usize).field(field))
        .transpose()
}

fn quote_kind(kind: i32, field: String) -> Result<QuoteKind, Error> {
    match proto::QuoteKind::try_from(kind) {
        Ok(proto::QuoteKind::Direct) => Ok(QuoteKind::Direct),
        Ok(proto::QuoteKind::Indirect) => Ok(QuoteKind::Indirect),
        Ok(proto::QuoteKind::Mixed) => Ok(QuoteKind::Mixed),
        _ => Err(Error::invalid(
            field,
            "is required: QUOTE_KIND_DIRECT, QUOTE_KIND_INDIRECT or QUOTE_KIND_MIXED",
        )),
    }
}

/// A quote's verbatim text: kept exactly as given, not trimmed.
fn quote_text(text: String) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("is required".into());
    }
    let chars = text.chars().count();
    if chars > limits::MAX_QUOTE_CHARS {
        return Err(format!(
            "is {chars} characters long; at most {} are allowed",
            limits::MAX_QUOTE_CHARS
        ));
    }
    Ok(text)
}

/// A quote to add to a claim: an appearance; every bad field is named under `quote`.
pub fn new_quote(q: Option<proto::Quote>) -> Result<QuoteDraft, Error> {
    quote(required(q, "quote")?, "quote")
}

/// A match state filter; `None` for unspecified.
pub fn match_state(value: i32, field: &str) -> Result<Option<MatchState>, Error> {
    use proto::MatchState as P;
    Ok(Some(match P::try_from(value) {
        Ok(P::Unspecified) => return Ok(None),
        Ok(P::Matched) => MatchState::Matched,
        Ok(P::Suggested) => MatchState::Suggested,
        Ok(P::Accepted) => MatchState::Accepted,
        Ok(P::Rejected) => MatchState::Rejected,
        Err(_) => {
            return Err(Error::invalid(
                field,
                format!("{value} is not a MatchState"),
            ));
        }
    }))
}

/// A verdict state filter; `None` for unspecified.
pub fn verdict_state_filter(value: i32, field: &str) -> Result<Option<VerdictState>, Error> {
    match proto::VerdictState::try_from(value) {
        Ok(proto::VerdictState::Unspecified) => Ok(None),
        Ok(proto::VerdictState::Draft) => Ok(Some(VerdictState::Draft)),
        Ok(proto::VerdictState::Published) => Ok(Some(VerdictState::Published)),
        Ok(proto::VerdictState::Withdrawn) => Ok(Some(VerdictState::Withdrawn)),
        Err(_) => Err(Error::invalid(
            field,
            format!("{value} is not a VerdictState"),
        )),
    }
}

/// An origin filter; `None` for unspecified.
pub fn origin_filter(value: i32, field: &str) -> Result<Option<Origin>, Error> {
    match proto::Origin::try_from(value) {
        Ok(proto::Origin::Unspecified) => Ok(None),
        Ok(proto::Origin::Manual) => Ok(Some(Origin::Manual)),
        Ok(proto::Origin::Extracted) => Ok(Some(Origin::Extracted)),
        Ok(proto::Origin::Imported) => Ok(Some(Origin::Imported)),
        Err(_) => Err(Error::invalid(field, format!("{value} is not an Origin"))),
    }
}

/// A dismissal filter; unspecified keeps the claims that are not dismissed.
pub fn dismissal_filter(value: i32, field: &str) -> Result<DismissalFilter, Error> {
    use proto::DismissalFilter as P;
    match P::try_from(value) {
        Ok(P::Unspecified | P::NotDismissed) => Ok(DismissalFilter::NotDismissed),
        Ok(P::Dismissed) => Ok(DismissalFilter::Dismissed),
        Ok(P::Any) => Ok(DismissalFilter::Any),
        Err(_) => Err(Error::invalid(
            field,
            format!("{value} is not a DismissalFilter"),
        )),
    }
}

/// An etag a request may send; `None` when empty.
pub fn optional_etag(etag: &str) -> Result<Option<ClaimVersion>, String> {
    if etag.is_empty() {
        return Ok(None);
    }
    ClaimVersion::parse_etag(etag).map(Some)
}

/// A dismissal to record; every bad field is named.
pub fn new_dismissal(request: &proto::DismissClaimRequest) -> Result<NewDismissal, Error> {
    use proto::DismissalReason as P;
    let mut v = Violations::default();
    let claim = v.check(ClaimName::parse(&request.name), "name");
    let kind = match P::try_from(request.reason) {
        Ok(P::NotAClaim) => Some(DismissalKind::NotAClaim),
        Ok(P::Duplicate) => Some(DismissalKind::Duplicate),
        Ok(P::OutOfScope) => Some(DismissalKind::OutOfScope),
        Ok(P::Unspecified) => v.check(
            Err("is required: NOT_A_CLAIM, DUPLICATE or OUT_OF_SCOPE".into()),
            "reason",
        ),
        Err(_) => v.check(
            Err(format!("{} is not a DismissalReason", request.reason)),
            "reason",
        ),
    };
    let duplicate_of = if request.duplicate_of.is_empty() {
        Some(None)
    } else {
        v.check(ClaimName::parse(&request.duplicate_of), "duplicate_of")
            .map(Some)
    };
    let note = v.check(
        optional_text(&request.note, MAX_DISMISSAL_NOTE_CHARS),
        "note",
    );
    let expected = v.check(optional_etag(&request.etag), "etag");
    let (Some(claim), Some(kind), Some(duplicate_of), Some(note), Some(expected)) =
        (claim, kind, duplicate_of, note, expected)
    else {
        return Err(v.into_error());
    };
    let reason = v.check(
        DismissalReason::new(kind, duplicate_of, claim),
        "duplicate_of",
    );
    match reason {
        Some(reason) if v.is_empty() => Ok(NewDismissal {
            claim,
            reason,
            note: Some(note).filter(|n| !n.is_empty()),
            expected,
        }),
        _ => Err(v.into_error()),
    }
}

/// A reviewer's decision: ACCEPTED or REJECTED, nothing else.
pub fn match_decision(value: i32, field: &str) -> Result<MatchDecision, Error> {
    match match_state(value, field)? {
        Some(MatchState::Accepted) => Ok(MatchDecision::Accept),
        Some(MatchState::Rejected) => Ok(MatchDecision::Reject),
        _ => Err(Error::invalid(
            field,
            "must be MATCH_STATE_ACCEPTED or MATCH_STATE_REJECTED",
        )),
    }
}

fn quote(q: proto::Quote, path: &str) -> Result<QuoteDraft, Error> {
    let mut v = Violations::default();
    let article = v.check(ArticleName::parse(&q.article), format!("{path}.article"));
    let quote_span = v.take(span(q.span, format!("{path}.span")));
    let text = v.check(quote_text(q.text), format!("{path}.text"));
    let speaker = v.check(
        required_text(&q.speaker, limits::MAX_SPEAKER_CHARS),
        format!("{path}.speaker"),
    );
    let speaker_span = v.take(span(q.speaker_span, format!("{path}.speaker_span")));
    let cue = v.check(
        optional_text(&q.cue, limits::MAX_SPEAKER_CHARS),
        format!("{path}.cue"),
    );
    let cue_span = v.take(span(q.cue_span, format!("{path}.cue_span")));
    let kind = v.take(quote_kind(q.kind, format!("{path}.kind")));
    match (
        article,
        quote_span,
        text,
        speaker,
        speaker_span,
        cue,
        cue_span,
        kind,
    ) {
        (
            Some(article),
            Some(span),
            Some(text),
            Some(speaker),
            Some(speaker_span),
            Some(cue),
            Some(cue_span),
            Some(kind),
        ) if v.is_empty() => Ok(QuoteDraft {
            article,
            span,
            text,
            speaker,
            speaker_span,
            cue: Some(cue).filter(|c| !c.is_empty()),
            cue_span,
            kind,
            resolved_speaker: None,
        }),
        _ => Err(v.into_error()),
    }
}

/// A claim to register; every bad field, in every quote, is named.
pub fn new_claim(claim: Option<proto::Claim>) -> Result<NewClaim, Error> {
    let c = required(claim, "claim")?;
    let mut v = Violations::default();
    let max = limits::MAX_QUOTES_PER_CLAIM;
    if c.quotes.is_empty() {
        v.add("claim.quotes", "needs at least one quote");
    }
    if c.quotes.len() > max {
        v.add(
            "claim.quotes",
            format!("holds {} quotes; at most {max} are allowed", c.quotes.len()),
        );
    }
    let statement = v.check(
        required_text(&c.statement, limits::MAX_STATEMENT_CHARS),
        "claim.statement",
    );
    let claimant = v.check(
        required_text(&c.claimant, limits::MAX_CLAIMANT_CHARS),
        "claim.claimant",
    );
    let quotes: Vec<Option<QuoteDraft>> = c
        .quotes
        .into_iter()
        .take(max)
        .enumerate()
        .map(|(i, q)| v.take(quote(q, &format!("claim.quotes[{i}]"))))
        .collect();
    match (statement, claimant) {
        (Some(statement), Some(claimant)) if v.is_empty() => Ok(NewClaim {
            statement,
            claimant,
            quotes: quotes.into_iter().flatten().collect(),
            origin: Origin::Manual,
        }),
        _ => Err(v.into_error()),
    }
}

/// A rating; `None` for unspecified (allowed in filters only).
pub fn rating(value: i32, field: &str) -> Result<Option<Rating>, Error> {
    use proto::Rating as P;
    let rating = match P::try_from(value) {
        Ok(P::Unspecified) => return Ok(None),
        Ok(P::True) => Rating::True,
        Ok(P::MostlyTrue) => Rating::MostlyTrue,
        Ok(P::Mixed) => Rating::Mixed,
        Ok(P::MostlyFalse) => Rating::MostlyFalse,
        Ok(P::False) => Rating::False,
        Ok(P::Misleading) => Rating::Misleading,
        Ok(P::Unverifiable) => Rating::Unverifiable,
        Err(_) => return Err(Error::invalid(field, format!("{value} is not a Rating"))),
    };
    Ok(Some(rating))
}

/// A review state; `None` for unspecified.
pub fn review_state(value: i32, field: &str) -> Result<Option<ReviewState>, Error> {
    match proto::ReviewState::try_from(value) {
        Ok(proto::ReviewState::Unspecified) => Ok(None),
        Ok(proto::ReviewState::Unreviewed) => Ok(Some(ReviewState::Unreviewed)),
        Ok(proto::ReviewState::Reviewed) => Ok(Some(ReviewState::Reviewed)),
        Err(_) => Err(Error::invalid(
            field,
            format!("{value} is not a ReviewState"),
        )),
    }
}

/// A verdict to attach; every bad field is named.
pub fn new_verdict(verdict: Option<proto::Verdict>) -> Result<NewVerdict, Error> {
    use limits::*;
    let verdict = required(verdict, "verdict")?;
    let mut v = Violations::default();
    let rating = match rating(verdict.rating, "verdict.rating") {
        Ok(Some(rating)) => Some(rating),
        Ok(None) => {
            v.add(
                "verdict.rating",
                "is required: one of RATING_TRUE … RATING_UNVERIFIABLE",
            );
            None
        }
        Err(e) => v.take(Err(e)),
    };
    if verdict.evidence.len() > MAX_EVIDENCE_SOURCES {
        v.add(
            "verdict.evidence",
            format!(
                "cites {} sources; at most {MAX_EVIDENCE_SOURCES} are allowed",
                verdict.evidence.len()
            ),
        );
    }
    let evidence: Vec<Option<EvidenceSource>> = verdict
        .evidence
        .iter()
        .take(MAX_EVIDENCE_SOURCES)
        .enumerate()
        .map(|(i, e)| {
            v.take(
                EvidenceSource::parse(&e.url, &e.title).map_err(|(field, description)| {
                    Error::invalid(format!("verdict.evidence[{i}].{field}"), description)
                }),
            )
        })
        .collect();
    let textual_rating = v.check(
        optional_text(&verdict.textual_rating, MAX_TEXTUAL_RATING_CHARS),
        "verdict.textual_rating",
    );
    let explanation = v.check(
        required_text(&verdict.explanation, MAX_EXPLANATION_CHARS),
        "verdict.explanation",
    );
    let review_url = if verdict.review_url.is_empty() {
        Some(None)
    } else {
        v.check(
            WebUrl::parse(&verdict.review_url).map(|url| Some(url.given)),
            "verdict.review_url",
        )
    };
    let headline = v.check(
        optional_text(&verdict.headline, MAX_HEADLINE_CHARS),
        "verdict.headline",
    );
    let draft = match proto::VerdictState::try_from(verdict.state) {
        Ok(proto::VerdictState::Draft) => Some(true),
        Ok(proto::VerdictState::Unspecified | proto::VerdictState::Published) => Some(false),
        _ => {
            v.add(
                "verdict.state",
                "is VERDICT_STATE_DRAFT (keep it a draft) or VERDICT_STATE_PUBLISHED (publish \
                 it at once, the default) when a verdict is created",
            );
            None
        }
    };
    match (
        rating,
        textual_rating,
        explanation,
        review_url,
        headline,
        draft,
    ) {
        (
            Some(rating),
            Some(textual_rating),
            Some(explanation),
            Some(review_url),
            Some(headline),
            Some(draft),
        ) if v.is_empty() => Ok(NewVerdict {
            rating,
            textual_rating,
            explanation,
            evidence: evidence.into_iter().flatten().collect(),
            review_url,
            headline,
            draft,
            publish_time: None,
        }),
        _ => Err(v.into_error()),
    }
}

/// A verdict's etag as a lifecycle request sends it: empty for none (no check), else the
/// version this service handed out.
pub fn verdict_etag(etag: &str) -> Result<Option<i64>, String> {
    if etag.is_empty() {
        return Ok(None);
    }
    etag.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .map(Some)
        .ok_or_else(|| format!("{etag:?} is not an etag this service handed out"))
}

/// A correction's note or a withdrawal's reason: required, bounded.
pub fn note(text: &str) -> Result<String, String> {
    required_text(text, limits::MAX_NOTE_CHARS)
}

// ---- encoding ----

/// A point in time as a protobuf timestamp.
pub fn encode_time(time: OffsetDateTime) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.unix_timestamp(),
        // always in 0..1e9
        nanos: i32::try_from(time.nanosecond()).unwrap_or_default(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An article as the API shows it.
pub fn encode_article(a: domain::Article) -> proto::Article {
    proto::Article {
        name: a.name.to_string(),
        url: a.url,
        canonical_url: a.canonical_url,
        title: a.title,
        publisher: a.publisher,
        authors: a.authors,
        language_code: a.language_code,
        publish_time: a.publish_time.map(encode_time),
        body: a.body.unwrap_or_default(),
        body_length: a.body_length,
        body_sha256: hex(&a.body_sha256),
        create_time: Some(encode_time(a.create_time)),
        revision: a.revision,
        previous_revision: a
            .previous_revision
            .map(|p| p.to_string())
            .unwrap_or_default(),
    }
}

fn encode_span(span: Span) -> proto::TextSpan {
    // offsets into a body of at most 1 MiB fit in u32
    proto::TextSpan {
        start: u32::try_from(span.start).unwrap_or(u32::MAX),
        end: u32::try_from(span.end).unwrap_or(u32::MAX),
    }
}

fn encode_kind(kind: QuoteKind) -> proto::QuoteKind {
    match kind {
        QuoteKind::Direct => proto::QuoteKind::Direct,
        QuoteKind::Indirect => proto::QuoteKind::Indirect,
        QuoteKind::Mixed => proto::QuoteKind::Mixed,
    }
}

fn encode_quote(q: domain::Quote) -> proto::Quote {
    let kind = encode_kind(q.kind);
    proto::Quote {
        article: q.article.to_string(),
        span: Some(encode_span(q.quote.span)),
        text: q.quote.text,
        speaker: q.speaker.text,
        speaker_span: Some(encode_span(q.speaker.span)),
        cue_span: q.cue.as_ref().map(|c| encode_span(c.span)),
        cue: q.cue.map(|c| c.text).unwrap_or_default(),
        kind: kind.into(),
        resolved_speaker: q.resolved_speaker.unwrap_or_default(),
    }
}

fn encode_rating(rating: Rating) -> proto::Rating {
    match rating {
        Rating::True => proto::Rating::True,
        Rating::MostlyTrue => proto::Rating::MostlyTrue,
        Rating::Mixed => proto::Rating::Mixed,
        Rating::MostlyFalse => proto::Rating::MostlyFalse,
        Rating::False => proto::Rating::False,
        Rating::Misleading => proto::Rating::Misleading,
        Rating::Unverifiable => proto::Rating::Unverifiable,
    }
}

/// A verdict as the API shows it.
pub fn encode_verdict(v: domain::Verdict) -> proto::Verdict {
    proto::Verdict {
        name: v.name.to_string(),
        rating: encode_rating(v.rating).into(),
        textual_rating: v.textual_rating,
        explanation: v.explanation,
        evidence: v
            .evidence
            .into_iter()
            .map(|e| proto::EvidenceSource {
                url: e.url,
                title: e.title,
            })
            .collect(),
        reviewer: v.reviewer,
        create_time: Some(encode_time(v.create_time)),
        state: match v.state {
            VerdictState::Draft => proto::VerdictState::Draft,
            VerdictState::Published => proto::VerdictState::Published,
            VerdictState::Withdrawn => proto::VerdictState::Withdrawn,
        }
        .into(),
        revision: v.revision,
        review_url: v.review_url.unwrap_or_default(),
        headline: v.headline,
        publish_time: v.publish_time.map(encode_time),
        publisher: v.publisher.unwrap_or_default(),
        update_time: Some(encode_time(v.update_time)),
        etag: v.version.to_string(),
    }
}

/// A step of a verdict's history as the API shows it.
pub fn encode_verdict_step(step: domain::VerdictStep) -> proto::VerdictStep {
    proto::VerdictStep {
        step: step.step,
        action: match step.action {
            VerdictAction::Drafted => proto::VerdictAction::Drafted,
            VerdictAction::Published => proto::VerdictAction::Published,
            VerdictAction::Corrected => proto::VerdictAction::Corrected,
            VerdictAction::Withdrawn => proto::VerdictAction::Withdrawn,
            VerdictAction::Edited => proto::VerdictAction::Edited,
        }
        .into(),
        actor: step.actor,
        time: Some(encode_time(step.time)),
        note: step.note,
        changed_fields: step.changed,
        // a past state has no etag: only the verdict as it now stands takes the next step
        verdict: Some(proto::Verdict {
            etag: String::new(),
            ..encode_verdict(step.verdict)
        }),
    }
}

/// A link between claims as the API shows it.
pub fn encode_match(m: domain::ClaimMatch) -> proto::ClaimMatch {
    let state = match m.state {
        MatchState::Matched => proto::MatchState::Matched,
        MatchState::Suggested => proto::MatchState::Suggested,
        MatchState::Accepted => proto::MatchState::Accepted,
        MatchState::Rejected => proto::MatchState::Rejected,
    };
    proto::ClaimMatch {
        name: m.name.to_string(),
        matched_claim: m.name.matched.to_string(),
        score: m.score,
        state: state.into(),
        reviewer: m.reviewer.unwrap_or_default(),
        create_time: Some(encode_time(m.create_time)),
        review_time: m.review_time.map(encode_time),
    }
}

/// A search result as the API shows it.
pub fn encode_search_result(
    claim: domain::Claim,
    found: crate::registry::Found,
) -> proto::SearchResult {
    let mut signals = Vec::new();
    if found.lexical {
        signals.push(proto::Signal::Lexical.into());
    }
    if found.semantic {
        signals.push(proto::Signal::Semantic.into());
    }
    proto::SearchResult {
        claim: Some(encode_claim(claim)),
        score: found.score,
        similarity: found.similarity.unwrap_or_default().max(0.0),
        signals,
        same_statement_claims: found
            .same_statement
            .into_iter()
            .map(|id| domain::ClaimName(id).to_string())
            .collect(),
        highlights: found
            .highlights
            .into_iter()
            .map(|(field, spans)| proto::Highlight {
                field: field.to_owned(),
                spans: spans
                    .into_iter()
                    .map(|r| Span {
                        start: r.start,
                        end: r.end,
                    })
                    .map(encode_span)
                    .collect(),
            })
            .collect(),
    }
}

/// A claim as the API shows it.
pub fn encode_claim(c: domain::Claim) -> proto::Claim {
    let review_state = match c.review_state {
        ReviewState::Unreviewed => proto::ReviewState::Unreviewed,
        ReviewState::Reviewed => proto::ReviewState::Reviewed,
    };
    proto::Claim {
        name: c.name.to_string(),
        statement: c.statement,
        claimant: c.claimant,
        quotes: c.quotes.into_iter().map(encode_quote).collect(),
        review_state: review_state.into(),
        current_verdict: c.current_verdict.map(encode_verdict),
        etag: c.version.etag(),
        create_time: Some(encode_time(c.create_time)),
        update_time: Some(encode_time(c.update_time)),
        origin: encode_origin(c.origin).into(),
        checkworthiness: c.checkworthiness.unwrap_or_default(),
        previously_checked: c.previously_checked.map(|p| proto::PreviouslyChecked {
            claim: p.claim.to_string(),
            verdict: Some(encode_verdict(p.verdict)),
            r#match: Some(encode_match(p.link)),
        }),
        dismissal: c.dismissal.map(encode_dismissal),
    }
}

fn encode_dismissal(d: Dismissal) -> proto::Dismissal {
    let reason = match d.reason.kind() {
        DismissalKind::NotAClaim => proto::DismissalReason::NotAClaim,
        DismissalKind::Duplicate => proto::DismissalReason::Duplicate,
        DismissalKind::OutOfScope => proto::DismissalReason::OutOfScope,
    };
    proto::Dismissal {
        reason: reason.into(),
        duplicate_of: d
            .reason
            .duplicate_of()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        reviewer: d.reviewer,
        dismiss_time: Some(encode_time(d.dismiss_time)),
        note: d.note.unwrap_or_default(),
    }
}

fn encode_origin(origin: Origin) -> proto::Origin {
    match origin {
        Origin::Manual => proto::Origin::Manual,
        Origin::Extracted => proto::Origin::Extracted,
        Origin::Imported => proto::Origin::Imported,
    }
}

/// An extractor proposal as the claim it would register: no name, one quote whose spans point
/// into the extracted text.
pub fn encode_proposal(p: crate::extract::Proposal) -> proto::Claim {
    let q = p.quote;
    let speaker = q.speaker;
    proto::Claim {
        statement: p.statement,
        claimant: p.claimant,
        quotes: vec![proto::Quote {
            article: String::new(),
            span: Some(encode_span(q.quote.span)),
            text: q.quote.text,
            speaker_span: speaker.as_ref().map(|s| encode_span(s.span)),
            speaker: speaker.map(|s| s.text).unwrap_or_default(),
            cue_span: q.cue.as_ref().map(|c| encode_span(c.span)),
            cue: q.cue.map(|c| c.text).unwrap_or_default(),
            kind: encode_kind(q.kind).into(),
            resolved_speaker: q.resolved_speaker.unwrap_or_default(),
        }],
        review_state: proto::ReviewState::Unreviewed.into(),
        origin: proto::Origin::Extracted.into(),
        checkworthiness: p.checkworthiness,
        ..Default::default()
    }
}

/// JSON as a protobuf `Struct`'s value: what grpcurl prints back as the same JSON.
pub fn encode_json(value: serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s),
        serde_json::Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.into_iter().map(encode_json).collect(),
        }),
        serde_json::Value::Object(fields) => Kind::StructValue(encode_object(fields)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A protobuf `Value` as JSON: what a client sent as JSON through grpcurl, back as that JSON
/// (numbers are doubles on the wire; integral ones come back as integers).
pub fn decode_json(value: prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    match value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => b.into(),
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => (n as i64).into(),
        Some(Kind::NumberValue(n)) => serde_json::Number::from_f64(n)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Some(Kind::StringValue(s)) => s.into(),
        Some(Kind::ListValue(list)) => list.values.into_iter().map(decode_json).collect(),
        Some(Kind::StructValue(object)) => serde_json::Value::Object(
            object
                .fields
                .into_iter()
                .map(|(k, v)| (k, decode_json(v)))
                .collect(),
        ),
    }
}

/// What an import did with a record, as the API reports it.
pub fn encode_import_report(line: crate::registry::ImportReport) -> proto::ImportedRecord {
    use crate::registry::ImportOutcome;
    let outcome = match line.outcome {
        ImportOutcome::Created => proto::ImportOutcome::Created,
        ImportOutcome::Updated => proto::ImportOutcome::Updated,
        ImportOutcome::Skipped => proto::ImportOutcome::Skipped,
        ImportOutcome::Refused => proto::ImportOutcome::Refused,
    };
    proto::ImportedRecord {
        position: line.position,
        outcome: outcome.into(),
        review_url: line.url.unwrap_or_default(),
        verdict: line.verdict.map(|v| v.to_string()).unwrap_or_default(),
        detail: line.detail,
    }
}

/// A JSON object as a protobuf `Struct`.
pub fn encode_object(fields: serde_json::Map<String, serde_json::Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: fields
            .into_iter()
            .map(|(k, v)| (k, encode_json(v)))
            .collect(),
    }
}
