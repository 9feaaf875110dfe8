//! schema.org ClaimReview: how a published verdict leaves the registry, in the JSON-LD that
//! search engines and fact-check aggregators read.
//!
//! Google's structured-data documentation for ClaimReview marks `claimReviewed`,
//! `reviewRating` (with `alternateName`) and `url` as required, and recommends `author`,
//! `datePublished` and `itemReviewed` (a `Claim` with its `author`, `datePublished`,
//! `appearance` and `firstAppearance`). [`claim_review`] writes all of those the registry holds.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Claim, Rating, Verdict, VerdictState};

/// Where a claim appeared: an article one of its quotes stands in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appearance {
    /// The article's URL.
    pub url: String,
    /// Who published it.
    pub publisher: String,
    /// When it was published, when known; else when it was registered.
    pub time: OffsetDateTime,
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
fn date(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("every UTC time formats as RFC 3339")
}

/// The ClaimReview of `verdict` on `claim`, by `author`, with the claim's `appearances` (its
/// quotes' articles, in any order). Refused, saying why, for a verdict that is not published or
/// has no fact-check URL (ClaimReview's required `url`).
pub fn claim_review(
    claim: &Claim,
    verdict: &Verdict,
    author: &Organization,
    appearances: &[Appearance],
) -> Result<Value, String> {
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
    let mut appearances: Vec<&Appearance> = appearances.iter().collect();
    appearances.sort_by(|a, b| a.time.cmp(&b.time).then(a.url.cmp(&b.url)));
    appearances.dedup_by(|a, b| a.url == b.url);
    let creative_work = |a: &Appearance| {
        json!({
            "@type": "CreativeWork",
            "url": a.url,
            "datePublished": date(a.time),
            "publisher": {"@type": "Organization", "name": a.publisher},
        })
    };
    let mut item = json!({
        "@type": "Claim",
        "author": {"@type": "Person", "name": claim.claimant},
    });
    if let Some(first) = appearances.first() {
        item["datePublished"] = date(first.time).into();
        item["firstAppearance"] = creative_work(first);
        item["appearance"] = appearances.iter().map(|a| creative_work(a)).collect();
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
