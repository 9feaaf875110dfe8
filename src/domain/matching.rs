//! Matching: links between a claim and an earlier one that says the same, found by the
//! registry and reviewed by people.

use time::OffsetDateTime;

use super::names::{ClaimMatchName, ClaimName};
use super::verdict::Verdict;

/// Where a link between two claims stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchState {
    /// Similar enough to link without review.
    Matched,
    /// Similar enough to ask a reviewer.
    Suggested,
    /// A reviewer linked them.
    Accepted,
    /// A reviewer said they differ.
    Rejected,
}

impl MatchState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchState::Matched => "matched",
            MatchState::Suggested => "suggested",
            MatchState::Accepted => "accepted",
            MatchState::Rejected => "rejected",
        }
    }

    /// The state a stored name stands for.
    pub fn from_stored(name: &str) -> Option<Self> {
        Some(match name {
            "matched" => MatchState::Matched,
            "suggested" => MatchState::Suggested,
            "accepted" => MatchState::Accepted,
            "rejected" => MatchState::Rejected,
            _ => return None,
        })
    }

    /// Whether the two claims count as the same claim: an earlier verdict carries over.
    pub fn links(self) -> bool {
        matches!(self, MatchState::Matched | MatchState::Accepted)
    }
}

/// A reviewer's decision on a suggestion: the only two states a person may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchDecision {
    /// The claims say the same.
    Accept,
    /// They do not.
    Reject,
}

impl MatchDecision {
    /// The state the decision leaves the match in.
    pub fn state(self) -> MatchState {
        match self {
            MatchDecision::Accept => MatchState::Accepted,
            MatchDecision::Reject => MatchState::Rejected,
        }
    }
}

/// A stored link from a claim to an earlier one.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimMatch {
    /// Its name: which claim links to which.
    pub name: ClaimMatchName,
    /// The ranking's confidence that they say the same, at least 0 (cosine, lead, agreement).
    pub score: f32,
    /// Where it stands.
    pub state: MatchState,
    /// Who accepted or rejected it.
    pub reviewer: Option<String>,
    /// When the registry found it.
    pub create_time: OffsetDateTime,
    /// When a reviewer decided.
    pub review_time: Option<OffsetDateTime>,
}

/// The verdict of an earlier claim that a claim is linked to: why it needs no new review.
#[derive(Debug, Clone)]
pub struct PreviouslyChecked {
    /// The earlier claim.
    pub claim: ClaimName,
    /// Its current verdict.
    pub verdict: Verdict,
    /// The link.
    pub link: ClaimMatch,
}
