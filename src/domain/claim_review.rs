//! schema.org ClaimReview: how a published verdict leaves the registry, in the JSON-LD that
//! search engines and fact-check aggregators read.
//!
//! Google's structured-data documentation for ClaimReview marks `claimReviewed`,
//! `reviewRating` (with `alternateName`) and `url` as required, and recommends `author`,
//! `datePublished` and `itemReviewed` (a `Claim` with its `author`, `datePublished`,
//! `appearance` and `firstAppearance`). [`claim_review`] writes all of those the registry holds.
//!
//! The other way, [`records`] reads other organisations' ClaimReviews for import (see `read`).

mod read;

pub use read::{
    ImportedReview, MAX_APPEARANCES, MAX_IMPORT_RECORDS, Record, Refusal, parse_date,
    rating_of_label, records,
};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Claim, Rating, Verdict, VerdictState};

/// Where a claim appeared: an article one of its quotes stands in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appearance {
    /// The article's URL.
    pub url: String,
    /// Who published it; may be empty (an imported appearance that does not say).
    pub publisher: String,
    /// When it was published: for an article, when known, else when it was registered; for an
    /// imported appearance, when the review says.
    pub time: Option<OffsetDateTime>,
}

/// What an imported review says besides its claim and verdict, kept to write it back out as
/// it came: who reviewed the claim, when the claim was made and where it appeared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewSource {
    /// The organisation that wrote the review.
    pub author: Organization,
    /// `itemReviewed.datePublished`: when the claim was made, when the review says.
    pub claim_date: Option<OffsetDateTime>,
    /// Where the claim appeared, the first appearance first.
    pub appearances: Vec<Appearance>,
}

/// An article's appearances in the order ClaimReview lists them: earliest first (the first
/// appearance), each address once.
pub fn in_order(mut appearances: Vec<Appearance>) -> Vec<Appearance> {
    appearances.sort_by(|a, b| a.time.cmp(&b.time).then(a.url.cmp(&b.url)));
    let mut seen = std::collections::HashSet::new();
    appearances.retain(|a| seen.insert(a.url.clone()));
    appearances
}

/// The organisation that publishes the reviews: ClaimReview's `author`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    /// Its name; a review without one has no `author`.
    pub name: String,
    /// Its web address; may be empty.
    pub url: String,
}

/// The normalized rating on ClaimReview's 1 (false) to 5 (true) scale: `None` for ratings that
/// are not a degree of truth (misleading is scored as mostly false: true parts, false
/// impression; unverifiable has no value, only its label).
pub fn rating_value(rating: Rating) -> Option<u8> {
    match rating {
        Rating::False => Some(1),
        Rating::MostlyFalse | Rating::Misleading => Some(2),
        Rating::Mixed => Some(3),
        Rating::MostlyTrue => Some(4),
        Rating::True => Some(5),
        Rating::Unverifiable => None,
    }
}

/// The label of a normalized rating, for a verdict given without its organisation's own.
pub fn rating_label(rating: Rating) -> &'static str {
    match rating {
        Rating::True => "True",
        Rating::MostlyTrue => "Mostly true",
        Rating::Mixed => "Mixed",
        Rating::MostlyFalse => "Mostly false",
        Rating::False => "False",
        Rating::Misleading => "Misleading",
        Rating::Unverifiable => "Unverifiable",
    }
}

/// A date-time as ClaimReview carries it (RFC 3339, UTC).
pub fn date(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("every UTC time formats as RFC 3339")
}

/// The ClaimReview of `verdict` on `claim`, as `source` tells: by its author, with the claim's
/// date (else its first appearance's) and its appearances, first first (for the desk's own
/// reviews, its quotes' articles put [`in_order`]). Refused, saying why, for a verdict that is
/// not published or has no fact-check URL (ClaimReview's required `url`).
pub fn claim_review(
    claim: &Claim,
    verdict: &Verdict,
    source: &ReviewSource,
) -> Result<Value, String> {
    let (author, appearances) = (&source.author, &source.appearances);
    if verdict.state != VerdictState::Published {
        return Err(format!(
            "{} is not published: only published verdicts have a ClaimReview",
            verdict.name
        ));
    }
    let Some(url) = &verdict.review_url else {
        return Err(format!(
            "{} has no review_url: a ClaimReview needs the fact-check article's URL (correct \
             the verdict with one)",
            verdict.name
        ));
    };
    let mut rating = json!({
        "@type": "Rating",
        "alternateName": if verdict.textual_rating.is_empty() {
            rating_label(verdict.rating)
        } else {
            verdict.textual_rating.as_str()
        },
    });
    if let Some(value) = rating_value(verdict.rating) {
        rating["ratingValue"] = value.into();
        rating["bestRating"] = 5.into();
        rating["worstRating"] = 1.into();
    }
    let creative_work = |a: &Appearance| {
        let mut work = json!({"@type": "CreativeWork", "url": a.url});
        if let Some(time) = a.time {
            work["datePublished"] = date(time).into();
        }
        if !a.publisher.is_empty() {
            work["publisher"] = json!({"@type": "Organization", "name": a.publisher});
        }
        work
    };
    let mut item = json!({
        "@type": "Claim",
        "author": {"@type": "Person", "name": claim.claimant},
    });
    if let Some(time) = source
        .claim_date
        .or_else(|| appearances.first().and_then(|a| a.time))
    {
        item["datePublished"] = date(time).into();
    }
    if let Some(first) = appearances.first() {
        item["firstAppearance"] = creative_work(first);
        item["appearance"] = appearances.iter().map(creative_work).collect();
    }
    let mut review = json!({
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim.statement,
        "reviewRating": rating,
        "itemReviewed": item,
    });
    if let Some(published) = verdict.publish_time {
        review["datePublished"] = date(published).into();
    }
    if !verdict.headline.is_empty() {
        review["name"] = verdict.headline.clone().into();
    }
    if !author.name.is_empty() {
        let mut organization = json!({"@type": "Organization", "name": author.name});
        if !author.url.is_empty() {
            organization["url"] = author.url.clone().into();
        }
        review["author"] = organization;
    }
    Ok(review)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rating_scale_runs_from_false_to_true_and_leaves_unverifiable_unscored() {
        let scored: Vec<Option<u8>> = Rating::ALL.into_iter().map(rating_value).collect();
        assert_eq!(
            scored,
            [Some(5), Some(4), Some(3), Some(2), Some(1), Some(2), None]
        );
    }
}
