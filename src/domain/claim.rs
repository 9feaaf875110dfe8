//! Claims: statements someone made, anchored to the quotes that carry them.

use time::OffsetDateTime;

use super::names::ClaimName;
use super::quote::{Quote, QuoteDraft};
use super::verdict::Verdict;

/// The longest statement accepted, in code points.
pub const MAX_STATEMENT_CHARS: usize = 2000;
/// The longest claimant name accepted, in code points.
pub const MAX_CLAIMANT_CHARS: usize = 300;
/// The most quotes one claim may carry: a claim repeated across many articles is registered once
/// per group of articles, not with an unbounded list.
pub const MAX_QUOTES_PER_CLAIM: usize = 50;
/// The most claims CreateArticle with extraction registers for one article; the extractor's
/// further proposals are dropped and the reply says how many it found. News articles carry tens
/// of attributed statements; a body that yields thousands (a quote every few words) is noise or
/// abuse, and registering each costs a row, its quote and the trigger's re-check of the body.
pub const MAX_EXTRACTED_CLAIMS_PER_ARTICLE: usize = 1_000;

/// A claim as a client asks to register it, or as the extractor proposes it; its quotes are
/// not yet anchored.
#[derive(Debug, Clone)]
pub struct NewClaim {
    /// The statement.
    pub statement: String,
    /// Who made it.
    pub claimant: String,
    /// Where it was made: 1 to [`MAX_QUOTES_PER_CLAIM`] quotes.
    pub quotes: Vec<QuoteDraft>,
    /// Who registers it.
    pub origin: Origin,
}

/// Who registered a claim: reviewers weigh a client's claims and the extractor's differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A client, through CreateClaim.
    Manual,
    /// The service's extractor, through CreateArticle with extraction.
    Extracted,
    /// Another organisation's ClaimReview, through an import: a claim with no quote, whose
    /// review names where it appeared.
    Imported,
}

impl Origin {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Manual => "manual",
            Origin::Extracted => "extracted",
            Origin::Imported => "imported",
        }
    }

    /// The origin a stored name stands for.
    pub fn from_stored(value: &str) -> Option<Self> {
        match value {
            "manual" => Some(Origin::Manual),
            "extracted" => Some(Origin::Extracted),
            "imported" => Some(Origin::Imported),
            _ => None,
        }
    }
}

/// Where a claim stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// No verdict yet.
    Unreviewed,
    /// At least one verdict.
    Reviewed,
}

impl ReviewState {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Unreviewed => "unreviewed",
            ReviewState::Reviewed => "reviewed",
        }
    }

    /// The state a stored name stands for.
    pub fn from_stored(value: &str) -> Option<Self> {
        match value {
            "unreviewed" => Some(ReviewState::Unreviewed),
            "reviewed" => Some(ReviewState::Reviewed),
            _ => None,
        }
    }
}

/// The order a listing of claims comes in (AIP-132 `order_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOrder {
    /// Newest first: `create_time desc`, the default.
    NewestFirst,
    /// Oldest first: `create_time`.
    OldestFirst,
    /// In the order of the filtered article's text: by where each claim's first quote in that
    /// article starts, claims starting at the same offset by id. Only with an article filter.
    TextPosition,
    /// Most worth checking first: `checkworthiness desc`, a claim without a score as 0, equal
    /// scores newest first. Triage's order: what a reviewer should look at next.
    CheckWorthiness,
}

impl ClaimOrder {
    /// The `order_by` values accepted, for messages and docs.
    pub const ACCEPTED: &'static str = "\"create_time desc\" (the default), \"create_time\", \"text_position\" or \"checkworthiness desc\"";

    /// Parses an AIP-132 `order_by`: empty means the default; spaces around and between the
    /// words do not matter, and `asc` may be spelled out. `text_position` needs an article
    /// filter, since a claim's place in a text only exists within one article.
    pub fn parse(order_by: &str, by_article: bool) -> Result<Self, String> {
        let words: Vec<&str> = order_by.split_whitespace().collect();
        let order = match words.as_slice() {
            [] | ["create_time", "desc"] => ClaimOrder::NewestFirst,
            ["create_time"] | ["create_time", "asc"] => ClaimOrder::OldestFirst,
            ["text_position"] | ["text_position", "asc"] => ClaimOrder::TextPosition,
            // the field's name, and the words' spelling of it
            ["checkworthiness" | "check_worthiness", "desc"] => ClaimOrder::CheckWorthiness,
            _ => {
                return Err(format!(
                    "{order_by:?} is not an order of claims; use {}",
                    Self::ACCEPTED
                ));
            }
        };
        if order == ClaimOrder::TextPosition && !by_article {
            return Err(
                "\"text_position\" orders the claims of one article: give `article` too".into(),
            );
        }
        Ok(order)
    }

    /// The order in canonical AIP-132 form; a page token is bound to it.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimOrder::NewestFirst => "create_time desc",
            ClaimOrder::OldestFirst => "create_time",
            ClaimOrder::TextPosition => "text_position",
            ClaimOrder::CheckWorthiness => "checkworthiness desc",
        }
    }
}

/// A claim's version, bumped on every change; clients see it as the etag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimVersion(pub i64);

impl ClaimVersion {
    /// Parses an etag the service handed out.
    pub fn parse_etag(etag: &str) -> Result<Self, String> {
        if etag.is_empty() {
            return Err("is required: send the etag of the claim as last read".into());
        }
        etag.parse::<i64>()
            .ok()
            .filter(|v| *v > 0)
            .map(ClaimVersion)
            .ok_or_else(|| format!("{etag:?} is not an etag this service handed out"))
    }

    /// The etag clients see.
    pub fn etag(self) -> String {
        self.0.to_string()
    }
}

/// A change to a claim's statement or claimant, valid only against the version it was read at.
#[derive(Debug, Clone)]
pub struct ClaimPatch {
    /// The claim to change.
    pub name: ClaimName,
    /// The version the client last read.
    pub expected: ClaimVersion,
    /// The new statement, if it changes.
    pub statement: Option<String>,
    /// The new claimant, if it changes.
    pub claimant: Option<String>,
}

/// A stored claim with its quotes and its current verdict.
#[derive(Debug, Clone)]
pub struct Claim {
    /// Its resource name.
    pub name: ClaimName,
    /// The statement.
    pub statement: String,
    /// Who made it.
    pub claimant: String,
    /// Where it was made, in the order given.
    pub quotes: Vec<Quote>,
    /// Whether it has a verdict yet.
    pub review_state: ReviewState,
    /// The newest verdict, if any.
    pub current_verdict: Option<Verdict>,
    /// The current version.
    pub version: ClaimVersion,
    /// When it was registered.
    pub create_time: OffsetDateTime,
    /// When it last changed.
    pub update_time: OffsetDateTime,
    /// Who registered it.
    pub origin: Origin,
    /// How worth checking its statement is, in [0, 1], when scored.
    pub checkworthiness: Option<f32>,
    /// The verdict of an earlier claim it is linked to, when that claim has one.
    pub previously_checked: Option<super::PreviouslyChecked>,
    /// How a reviewer dismissed it, while it is dismissed.
    pub dismissal: Option<super::Dismissal>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_by_is_parsed_in_any_spacing_and_text_order_needs_an_article() {
        assert_eq!(ClaimOrder::parse("", false), Ok(ClaimOrder::NewestFirst));
        assert_eq!(
            ClaimOrder::parse("  create_time   desc ", false),
            Ok(ClaimOrder::NewestFirst)
        );
        assert_eq!(
            ClaimOrder::parse("create_time asc", false),
            Ok(ClaimOrder::OldestFirst)
        );
        assert_eq!(
            ClaimOrder::parse("text_position", true),
            Ok(ClaimOrder::TextPosition)
        );
        assert!(
            ClaimOrder::parse("text_position", false)
                .unwrap_err()
                .contains("article")
        );
        for (given, order) in [
            ("checkworthiness desc", ClaimOrder::CheckWorthiness),
            (" check_worthiness  desc", ClaimOrder::CheckWorthiness),
        ] {
            assert_eq!(ClaimOrder::parse(given, false), Ok(order));
        }
        for bad in [
            "checkworthiness",
            "id desc",
            "create_time sideways",
            "create_time,id",
            "CREATE_TIME",
        ] {
            assert!(ClaimOrder::parse(bad, true).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_etag_round_trips_and_garbage_is_refused() {
        assert_eq!(
            ClaimVersion::parse_etag(&ClaimVersion(7).etag()).unwrap(),
            ClaimVersion(7)
        );
        assert!(ClaimVersion::parse_etag("W/\"x\"").is_err());
        assert!(ClaimVersion::parse_etag("0").is_err());
        assert!(
            ClaimVersion::parse_etag("")
                .unwrap_err()
                .contains("required")
        );
    }
}
