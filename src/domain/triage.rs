//! Claim triage: a reviewer dismisses claims that need no check, and a listing leaves them out
//! unless asked.

use time::OffsetDateTime;

use super::claim::ClaimVersion;
use super::names::ClaimName;

/// The longest note a reviewer may give a dismissal, in code points: a sentence or two on why,
/// not an explanation of the kind a verdict carries.
pub const MAX_DISMISSAL_NOTE_CHARS: usize = 2000;

/// Why a claim needs no check. A duplicate carries the claim it repeats, so that a duplicate
/// without one cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DismissalReason {
    /// Not a factual claim: an opinion, a question, a greeting.
    NotAClaim,
    /// The same claim as another registered one, which is checked instead.
    Duplicate(ClaimName),
    /// A factual claim, but outside what the organisation checks.
    OutOfScope,
}

/// A reason's kind without its duplicate, as a client names it and the database stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DismissalKind {
    /// See [`DismissalReason::NotAClaim`].
    NotAClaim,
    /// See [`DismissalReason::Duplicate`].
    Duplicate,
    /// See [`DismissalReason::OutOfScope`].
    OutOfScope,
}

impl DismissalKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DismissalKind::NotAClaim => "not_a_claim",
            DismissalKind::Duplicate => "duplicate",
            DismissalKind::OutOfScope => "out_of_scope",
        }
    }

    /// The kind a stored name stands for.
    pub fn from_stored(value: &str) -> Option<Self> {
        match value {
            "not_a_claim" => Some(DismissalKind::NotAClaim),
            "duplicate" => Some(DismissalKind::Duplicate),
            "out_of_scope" => Some(DismissalKind::OutOfScope),
            _ => None,
        }
    }
}

impl DismissalReason {
    /// A reason as a request gives it: a duplicate must name the claim it repeats, which must
    /// not be the claim dismissed; the other reasons must name none. A rejection is about the
    /// duplicate named (or not named).
    pub fn new(
        kind: DismissalKind,
        duplicate_of: Option<ClaimName>,
        dismissed: ClaimName,
    ) -> Result<Self, String> {
        match (kind, duplicate_of) {
            (DismissalKind::Duplicate, None) => {
                Err("is required when the reason is DUPLICATE: the claim this one repeats".into())
            }
            (DismissalKind::Duplicate, Some(original)) if original == dismissed => {
                Err("names the claim being dismissed; a claim cannot duplicate itself".into())
            }
            (DismissalKind::Duplicate, Some(original)) => Ok(DismissalReason::Duplicate(original)),
            (_, Some(_)) => Err("must be empty unless the reason is DUPLICATE".into()),
            (DismissalKind::NotAClaim, None) => Ok(DismissalReason::NotAClaim),
            (DismissalKind::OutOfScope, None) => Ok(DismissalReason::OutOfScope),
        }
    }

    /// The reason's kind.
    pub fn kind(self) -> DismissalKind {
        match self {
            DismissalReason::NotAClaim => DismissalKind::NotAClaim,
            DismissalReason::Duplicate(_) => DismissalKind::Duplicate,
            DismissalReason::OutOfScope => DismissalKind::OutOfScope,
        }
    }

    /// The claim a duplicate repeats.
    pub fn duplicate_of(self) -> Option<ClaimName> {
        match self {
            DismissalReason::Duplicate(original) => Some(original),
            _ => None,
        }
    }
}

/// A reviewer's request to dismiss a claim, checked.
#[derive(Debug, Clone)]
pub struct NewDismissal {
    /// The claim to dismiss.
    pub claim: ClaimName,
    /// Why.
    pub reason: DismissalReason,
    /// The reviewer's note, if any.
    pub note: Option<String>,
    /// The version the reviewer last read, when the request sends an etag: dismissing a claim
    /// that changed since is refused as an update would be.
    pub expected: Option<ClaimVersion>,
}

/// How a claim was dismissed, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dismissal {
    /// Why.
    pub reason: DismissalReason,
    /// Who dismissed it: the name of the reviewer's API key.
    pub reviewer: String,
    /// When.
    pub dismiss_time: OffsetDateTime,
    /// The reviewer's note, if any.
    pub note: Option<String>,
}

/// Which claims a listing keeps by dismissal. Live claims by default: a dismissed claim needs
/// no check, and a reviewer's queue should not show it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DismissalFilter {
    /// Only claims not dismissed (or restored).
    #[default]
    NotDismissed,
    /// Only dismissed claims.
    Dismissed,
    /// Every claim.
    Any,
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_duplicate_needs_another_claim_and_only_a_duplicate_names_one() {
        let claim = ClaimName(Uuid::now_v7());
        let other = ClaimName(Uuid::now_v7());
        assert_eq!(
            DismissalReason::new(DismissalKind::Duplicate, Some(other), claim),
            Ok(DismissalReason::Duplicate(other))
        );
        for (kind, given) in [
            (DismissalKind::Duplicate, None),
            (DismissalKind::Duplicate, Some(claim)),
            (DismissalKind::NotAClaim, Some(other)),
            (DismissalKind::OutOfScope, Some(other)),
        ] {
            assert!(
                DismissalReason::new(kind, given, claim).is_err(),
                "{kind:?} {given:?}"
            );
        }
        assert_eq!(
            DismissalReason::new(DismissalKind::OutOfScope, None, claim),
            Ok(DismissalReason::OutOfScope)
        );
    }

    #[test]
    fn a_stored_kind_round_trips() {
        for kind in [
            DismissalKind::NotAClaim,
            DismissalKind::Duplicate,
            DismissalKind::OutOfScope,
        ] {
            assert_eq!(DismissalKind::from_stored(kind.as_str()), Some(kind));
        }
        assert_eq!(DismissalKind::from_stored("spam"), None);
    }
}
