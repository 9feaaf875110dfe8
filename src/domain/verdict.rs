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

/// A verdict as a reviewer gives it; the reviewer comes from the caller's credentials.
#[derive(Debug, Clone)]
pub struct NewVerdict {
    /// The normalized rating.
    pub rating: Rating,
    /// The organisation's own label; may be empty.
    pub textual_rating: String,
    /// Why.
    pub explanation: String,
    /// What it rests on.
    pub evidence: Vec<EvidenceSource>,
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
    /// The display name of the key that gave it.
    pub reviewer: String,
    /// When it was given.
    pub create_time: OffsetDateTime,
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
