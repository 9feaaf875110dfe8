//! The registry's domain: types that can only be built from input that passed their checks
//! ("parse, don't validate"), kept apart from protobuf and SQL. A rejection is a sentence
//! saying what is wrong; the transport layer adds the field's path.

mod api_key;
mod article;
mod claim;
pub mod claim_review;
mod event;
mod matching;
mod names;
mod page;
mod quote;
mod text;
mod triage;
mod verdict;

pub use api_key::{ApiKey, ApiKeySecret, NewApiKey, Role};
pub use article::{Article, ArticleBody, CanonicalUrl, LanguageCode, NewArticle, WebUrl};
pub use claim::{Claim, ClaimOrder, ClaimPatch, ClaimVersion, NewClaim, Origin, ReviewState};
pub use event::{
    Event, EventFilter, EventType, HeartbeatInterval, MAX_WATCHED_RESOURCES, WatchStart, Watched,
};
pub use matching::{ClaimMatch, MatchDecision, MatchState, PreviouslyChecked};
pub use names::{ApiKeyName, ArticleName, ClaimMatchName, ClaimName, Resource, VerdictName};
pub use page::{Cursor, MAX_PAGE_SIZE, PageSize, PageToken};
pub use quote::{Anchored, Quote, QuoteDraft, QuoteKind, QuoteRejection, Span};
pub use text::{optional_text, required_text, timestamp};
pub use triage::{
    Dismissal, DismissalFilter, DismissalKind, DismissalReason, MAX_DISMISSAL_NOTE_CHARS,
    NewDismissal,
};
pub use verdict::{
    EvidenceSource, NewVerdict, Rating, Verdict, VerdictAction, VerdictState, VerdictStep,
};

/// Every size limit of the domain, in one place for the transport layer and the docs.
pub mod limits {
    pub use super::article::{MAX_BODY_BYTES, MAX_URL_CHARS};
    pub use super::claim::{
        MAX_CLAIMANT_CHARS, MAX_EXTRACTED_CLAIMS_PER_ARTICLE, MAX_QUOTES_PER_CLAIM,
        MAX_STATEMENT_CHARS,
    };
    pub use super::quote::{MAX_QUOTE_CHARS, MAX_SPEAKER_CHARS};
    pub use super::verdict::{
        MAX_EVIDENCE_SOURCES, MAX_EVIDENCE_TITLE_CHARS, MAX_EXPLANATION_CHARS, MAX_HEADLINE_CHARS,
        MAX_NOTE_CHARS, MAX_TEXTUAL_RATING_CHARS,
    };
}
