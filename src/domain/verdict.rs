//! Verdicts: reviewers' judgements of claims.

use time::OffsetDateTime;

use super::article::WebUrl;
use super::names::VerdictName;

/// The longest explanation accepted, in code points.
pub const MAX_EXPLANATION_CHARS: usize = 20_000;
/// The longest textual rating accepted, in code points.
pub const MAX_TEXTUAL_RATING_CHARS: usize = 100;
/// The most evidence sources one verdict may cite.
pub const MAX_EVIDENCE_SOURCES: usize = 50;
/// The longest evidence title accepted, in code points.
pub const MAX_EVIDENCE_TITLE_CHARS: usize = 1000;

/// A normalized rating, comparable across reviewing organisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    /// Accurate.
    True,
    /// Accurate but needs clarification.
    MostlyTrue,
    /// Partly accurate.
    Mixed,
    /// An element of truth, critical facts ignored.
    MostlyFalse,
    /// Not accurate.
    False,
    /// Accurate parts, false impression.
    Misleading,
    /// Cannot be established.
    Unverifiable,
}

impl Rating {
    /// Every rating, in the order of the scale.
    pub const ALL: [Rating; 7] = [
        Rating::True,
        Rating::MostlyTrue,
        Rating::Mixed,
        Rating::MostlyFalse,
        Rating::False,
        Rating::Misleading,
        Rating::Unverifiable,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::True => "true",
            Rating::MostlyTrue => "mostly_true",
            Rating::Mixed => "mixed",
            Rating::MostlyFalse => "mostly_false",
            Rating::False => "false",
            Rating::Misleading => "misleading",
            Rating::Unverifiable => "unverifiable",
        }
    }

    /// The rating a stored name stands for.
    pub fn from_stored(value: &str) -> Option<Self> {
        Rating::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

/// A source of evidence: where it can be read, and its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceSource {
    /// The source's URL.
    pub url: String,
    /// The source's title; may be empty.
    pub title: String,
}

impl EvidenceSource {
    /// Checks the URL and title of a source.
    pub fn parse(url: &str, title: &str) -> Result<Self, (&'static str, String)> {
        let url = WebUrl::parse(url).map_err(|e| ("url", e))?;
        let title = super::text::optional_text(title, MAX_EVIDENCE_TITLE_CHARS)
            .map_err(|e| ("title", e))?;
        Ok(EvidenceSource {
            url: url.given,
            title,
        })
    }
}

/// The longest headline of a fact-check article accepted, in code points.
pub const MAX_HEADLINE_CHARS: usize = 300;
/// The longest correction note or withdrawal reason accepted, in code points.
pub const MAX_NOTE_CHARS: usize = 5_000;

/// Where a verdict stands in its lifecycle: drafted, then published, possibly withdrawn. Only a
/// published verdict counts for its claim (its current verdict is the newest published one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictState {
    /// Written, not yet public; with second review on, another reviewer must publish it.
    Draft,
    /// Public: the claim shows it (the newest published one) and ClaimReview exports it.
    Published,
    /// Taken back, with a reason; kept, with its history, but no longer counts.
    Withdrawn,
}

impl VerdictState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictState::Draft => "draft",
            VerdictState::Published => "published",
            VerdictState::Withdrawn => "withdrawn",
        }
    }

    /// The state a stored name stands for.
    pub fn from_stored(value: &str) -> Option<Self> {
        [
            VerdictState::Draft,
            VerdictState::Published,
            VerdictState::Withdrawn,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// What a step of a verdict's history did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictAction {
    /// Written as a draft.
    Drafted,
    /// Made public (a draft published, or a verdict given and published at once).
    Published,
    /// A published verdict's content replaced by a new revision, with a public note.
    Corrected,
    /// Taken back, with a reason.
    Withdrawn,
    /// A draft's content rewritten before publication.
    Edited,
}

impl VerdictAction {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictAction::Drafted => "drafted",
            VerdictAction::Published => "published",
            VerdictAction::Corrected => "corrected",
            VerdictAction::Withdrawn => "withdrawn",
            VerdictAction::Edited => "edited",
        }
    }

    /// The action a stored name stands for.
    pub fn from_stored(value: &str) -> Option<Self> {
        [
            VerdictAction::Drafted,
            VerdictAction::Published,
            VerdictAction::Corrected,
            VerdictAction::Withdrawn,
            VerdictAction::Edited,
        ]
        .into_iter()
        .find(|a| a.as_str() == value)
    }
}

/// One step of a verdict's history: who did what, when, and the verdict as it stood after.
#[derive(Debug, Clone)]
pub struct VerdictStep {
    /// Its number, from 1, in the order the steps were taken.
    pub step: i32,
    /// What was done.
    pub action: VerdictAction,
    /// The display name of the key that did it.
    pub actor: String,
    /// When.
    pub time: OffsetDateTime,
    /// A correction's public note or a withdrawal's reason; empty otherwise.
    pub note: String,
    /// The fields of the content this step changed (`rating`, `explanation`, …).
    pub changed: Vec<String>,
    /// The verdict after this step: earlier revisions stay readable.
    pub verdict: Verdict,
}

/// A verdict as a reviewer gives it; the reviewer comes from the caller's credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVerdict {
    /// The normalized rating.
    pub rating: Rating,
    /// The organisation's own label; may be empty.
    pub textual_rating: String,
    /// Why.
    pub explanation: String,
    /// What it rests on.
    pub evidence: Vec<EvidenceSource>,
    /// The fact-check article that gives it, for ClaimReview's `url`; may be absent.
    pub review_url: Option<String>,
    /// That article's headline; may be empty.
    pub headline: String,
    /// Whether it is published at once or kept as a draft.
    pub draft: bool,
    /// When it was published elsewhere, for a review imported from its organisation's
    /// ClaimReview; `None` (every verdict given here): published now, if not a draft.
    pub publish_time: Option<OffsetDateTime>,
}

/// A stored verdict.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Its resource name, under its claim.
    pub name: VerdictName,
    /// The normalized rating.
    pub rating: Rating,
    /// The organisation's own label.
    pub textual_rating: String,
    /// Why.
    pub explanation: String,
    /// What it rests on.
    pub evidence: Vec<EvidenceSource>,
    /// The display name of the key that gave it: its author.
    pub reviewer: String,
    /// When it was given.
    pub create_time: OffsetDateTime,
    /// Where it stands.
    pub state: VerdictState,
    /// How many contents it has published: 1 when first published, one more per correction;
    /// 0 for a draft never published.
    pub revision: i32,
    /// The fact-check article that gives it.
    pub review_url: Option<String>,
    /// That article's headline.
    pub headline: String,
    /// When it was first published.
    pub publish_time: Option<OffsetDateTime>,
    /// Who published it (with second review on, not its author).
    pub publisher: Option<String>,
    /// When it last changed.
    pub update_time: OffsetDateTime,
    /// Bumped on every change: the etag a client sends back to change it.
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rating_round_trips_through_its_stored_name() {
        for rating in Rating::ALL {
            assert_eq!(Rating::from_stored(rating.as_str()), Some(rating));
        }
    }
}
