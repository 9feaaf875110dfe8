//! Reading ClaimReview JSON-LD as other organisations publish it: one review, an array of them,
//! a JSON-LD `@graph`, or the schema.org `DataFeed` that fact-check aggregators serve. Each
//! review found is read on its own: a malformed one is refused with its position in the
//! document and the reason, and does not stop the others.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::{Appearance, Organization, ReviewSource};
use crate::domain::WebUrl;
use crate::domain::claim::{MAX_CLAIMANT_CHARS, MAX_STATEMENT_CHARS};
use crate::domain::text::{optional_text, required_text};
use crate::domain::verdict::{
    MAX_EXPLANATION_CHARS, MAX_HEADLINE_CHARS, MAX_TEXTUAL_RATING_CHARS, NewVerdict, Rating,
};

/// The most records one ImportClaimReviews call takes: a call stays a few seconds of work;
/// larger feeds go through the command line, which has no limit.
pub const MAX_IMPORT_RECORDS: usize = 1_000;

/// The most appearances kept of one imported claim: a viral claim's review may list many; the
/// registry keeps the first ones, as it bounds a claim's quotes.
pub const MAX_APPEARANCES: usize = 50;

/// A review read from a document, ready to import: the claim it reviews and the verdict it
/// gives, by the organisation that wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedReview {
    /// The review's URL: its identity across imports.
    pub url: String,
    /// `claimReviewed`: the claim's statement.
    pub statement: String,
    /// `itemReviewed.author.name`: who made the claim.
    pub claimant: String,
    /// The verdict: published, with its rating, label, text, URL, headline and date.
    pub verdict: NewVerdict,
    /// What else the review says: its author, the claim's date and appearances.
    pub source: ReviewSource,
}

/// Why one record of a document was not imported, with its URL when it had a readable one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The record's `url`, if it had one that reads as a URL.
    pub url: Option<String>,
    /// What is wrong, naming the property: "reviewRating.ratingValue: …".
    pub reason: String,
}

/// One record of a document: where it stands (a JSONPath such as `$.dataFeedElement[3].item`)
/// and what it reads as.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Its position in the document.
    pub position: String,
    /// The review, or why it cannot be imported.
    pub review: Result<ImportedReview, Refusal>,
}

/// The records of a JSON-LD document, in document order. Arrays, `@graph`, `DataFeed`
/// (`dataFeedElement`) and `DataFeedItem` (`item`) are opened; anything else found where a
/// review should stand is a record, refused if it is not a ClaimReview.
pub fn records(document: &Value) -> Vec<Record> {
    let mut found = Vec::new();
    collect(document, "$".to_owned(), &mut found);
    found
        .into_iter()
        .map(|(position, value)| Record {
            review: review(value),
            position,
        })
        .collect()
}

/// Walks containers down to the values that should be reviews.
fn collect<'a>(value: &'a Value, position: String, found: &mut Vec<(String, &'a Value)>) {
    let member = |key: &str| format!("{position}.{key}");
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(item, format!("{position}[{i}]"), found);
            }
        }
        Value::Object(object) => {
            if let Some(graph) = object.get("@graph") {
                collect(graph, member("@graph"), found);
            } else if is_a(object, "DataFeed")
                && let Some(elements) = object.get("dataFeedElement")
            {
                collect(elements, member("dataFeedElement"), found);
            } else if is_a(object, "DataFeedItem")
                && let Some(item) = object.get("item")
            {
                collect(item, member("item"), found);
            } else {
                found.push((position, value));
            }
        }
        _ => found.push((position, value)),
    }
}

/// Whether a node's `@type` is (or includes) the schema.org type `name`, however prefixed.
fn is_a(object: &Map<String, Value>, name: &str) -> bool {
    let matches = |t: &Value| {
        t.as_str().is_some_and(|t| {
            t == name
                || t.strip_suffix(name)
                    .is_some_and(|prefix| prefix.ends_with('/') || prefix.ends_with(':'))
        })
    };
    match object.get("@type") {
        Some(Value::Array(types)) => types.iter().any(matches),
        Some(t) => matches(t),
        None => false,
    }
}

/// The first node of a property that may hold one node or an array of them.
fn first(value: Option<&Value>) -> Option<&Value> {
    match value {
        Some(Value::Array(items)) => items.first(),
        other => other,
    }
}

/// A property's text: a string, or a number written as one.
fn text_of(value: Option<&Value>) -> Option<String> {
    match first(value)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `name` of a node that may be a string (the name itself) or an object.
fn name_of(value: Option<&Value>) -> Option<String> {
    match first(value)? {
        Value::Object(node) => text_of(node.get("name")),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// A schema.org Date or DateTime: RFC 3339, a date (midnight UTC), or a date and time without
/// an offset (UTC).
pub fn parse_date(text: &str) -> Result<OffsetDateTime, String> {
    let text = text.trim();
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(time);
    }
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = Date::parse(text, date_only) {
        return Ok(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    }
    let local = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(time) = PrimitiveDateTime::parse(text, local) {
        return Ok(time.assume_utc());
    }
    Err(format!(
        "{text:?} is not a date: write 2024-05-01 or an RFC 3339 date-time such as \
         2024-05-01T12:00:00Z"
    ))
}

/// Reads one record as a review, or says what is wrong with it, naming the property.
fn review(value: &Value) -> Result<ImportedReview, Refusal> {
    let refuse = |url: Option<&str>, reason: String| Refusal {
        url: url.map(str::to_owned),
        reason,
    };
    let Value::Object(node) = value else {
        return Err(refuse(
            None,
            "is not a JSON object: a ClaimReview is one".into(),
        ));
    };
    if !is_a(node, "ClaimReview") {
        let given = node
            .get("@type")
            .map_or("no @type".to_owned(), |t| format!("@type {t}"));
        return Err(refuse(
            None,
            format!("is not a ClaimReview: it has {given}"),
        ));
    }
    let url = text_of(node.get("url"))
        .ok_or_else(|| "url: is required (the fact-check article's address)".to_owned())
        .and_then(|u| WebUrl::parse(&u).map_err(|e| format!("url: {e}")))
        .map_err(|reason| refuse(None, reason))?
        .given;
    let known = Some(url.as_str());
    let field = |name: &str, checked: Result<String, String>| {
        checked.map_err(|e| refuse(known, format!("{name}: {e}")))
    };
    let statement = field(
        "claimReviewed",
        required_text(
            &text_of(node.get("claimReviewed")).unwrap_or_default(),
            MAX_STATEMENT_CHARS,
        ),
    )?;
    let empty = Map::new();
    let item = match first(node.get("itemReviewed")) {
        Some(Value::Object(item)) => item,
        _ => &empty,
    };
    let claimant = field(
        "itemReviewed.author.name",
        required_text(
            &name_of(item.get("author")).unwrap_or_default(),
            MAX_CLAIMANT_CHARS,
        )
        .map_err(|e| format!("{e}: the registry keeps who made each claim")),
    )?;
    let Some(Value::Object(rating)) = first(node.get("reviewRating")) else {
        return Err(refuse(
            known,
            "reviewRating: is required, a Rating with alternateName or ratingValue".into(),
        ));
    };
    let label = field(
        "reviewRating.alternateName",
        optional_text(
            &text_of(rating.get("alternateName")).unwrap_or_default(),
            MAX_TEXTUAL_RATING_CHARS,
        ),
    )?;
    let rating = normalized_rating(rating, &label)
        .map_err(|e| refuse(known, format!("reviewRating.{e}")))?;
    let headline_text = text_of(node.get("headline")).or_else(|| text_of(node.get("name")));
    let headline = field(
        "name",
        optional_text(&headline_text.unwrap_or_default(), MAX_HEADLINE_CHARS),
    )?;
    let body = text_of(node.get("reviewBody")).or_else(|| text_of(node.get("description")));
    let explanation = field(
        "reviewBody",
        optional_text(&body.unwrap_or_default(), MAX_EXPLANATION_CHARS),
    )?;
    let date = |name: &str, value: Option<&Value>| match text_of(value) {
        None => Ok(None),
        Some(text) => parse_date(&text)
            .map(Some)
            .map_err(|e| refuse(known, format!("{name}: {e}"))),
    };
    let published = date("datePublished", node.get("datePublished"))?;
    let claim_date = date("itemReviewed.datePublished", item.get("datePublished"))?;
    let author = match first(node.get("author")) {
        Some(Value::Object(author)) => Organization {
            name: field(
                "author.name",
                optional_text(&text_of(author.get("name")).unwrap_or_default(), 300),
            )?,
            url: match text_of(author.get("url")) {
                None => String::new(),
                Some(u) => field("author.url", WebUrl::parse(&u).map(|u| u.given))?,
            },
        },
        Some(Value::String(name)) => Organization {
            name: field("author", optional_text(name, 300))?,
            url: String::new(),
        },
        _ => Organization::default(),
    };
    let appearances = appearances(item).map_err(|e| refuse(known, e))?;
    Ok(ImportedReview {
        statement,
        claimant,
        verdict: NewVerdict {
            rating,
            textual_rating: label,
            explanation,
            evidence: Vec::new(),
            review_url: Some(url.clone()),
            headline,
            draft: false,
            publish_time: published,
        },
        source: ReviewSource {
            author,
            claim_date,
            appearances,
        },
        url,
    })
}

/// The claim's appearances: `firstAppearance` first, then `appearance` in order, each a URL or
/// a CreativeWork with `url`, `datePublished` and `publisher`; repeated URLs once.
fn appearances(item: &Map<String, Value>) -> Result<Vec<Appearance>, String> {
    let mut nodes = Vec::new();
    for property in ["firstAppearance", "appearance"] {
        match item.get(property) {
            Some(Value::Array(items)) => nodes.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("itemReviewed.{property}[{i}]"), v)),
            ),
            Some(value) => nodes.push((format!("itemReviewed.{property}"), value)),
            None => {}
        }
    }
    let mut found: Vec<Appearance> = Vec::new();
    for (position, node) in nodes {
        let (url, publisher, time) = match node {
            Value::String(url) => (url.clone(), String::new(), None),
            Value::Object(work) => {
                let Some(url) = text_of(work.get("url")) else {
                    return Err(format!("{position}.url: is required"));
                };
                let time = match text_of(work.get("datePublished")) {
                    None => None,
                    Some(text) => Some(
                        parse_date(&text).map_err(|e| format!("{position}.datePublished: {e}"))?,
                    ),
                };
                let publisher =
                    optional_text(&name_of(work.get("publisher")).unwrap_or_default(), 300)
                        .map_err(|e| format!("{position}.publisher.name: {e}"))?;
                (url, publisher, time)
            }
            _ => return Err(format!("{position}: is neither a URL nor a CreativeWork")),
        };
        let url = WebUrl::parse(&url)
            .map_err(|e| format!("{position}.url: {e}"))?
            .given;
        if found.len() < MAX_APPEARANCES && !found.iter().any(|a| a.url == url) {
            found.push(Appearance {
                url,
                publisher,
                time,
            });
        }
    }
    Ok(found)
}

/// The normalized rating of a review's Rating: from `ratingValue` on its scale
/// (`worstRating`..`bestRating`, 1..5 when not given) when it has one, the label telling a
/// misleading claim from a mostly false one; else from the label's words; else unverifiable.
fn normalized_rating(rating: &Map<String, Value>, label: &str) -> Result<Rating, String> {
    let number = |name: &str, default: f64| match text_of(rating.get(name)) {
        None => Ok(default),
        Some(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| format!("{name}: {text:?} is not a number")),
    };
    let from_label = rating_of_label(label);
    if rating.get("ratingValue").is_none() {
        return Ok(from_label.unwrap_or(Rating::Unverifiable));
    }
    let (value, best, worst) = (
        number("ratingValue", 0.0)?,
        number("bestRating", 5.0)?,
        number("worstRating", 1.0)?,
    );
    if best <= worst {
        return Err(format!(
            "bestRating: {best} must be above worstRating {worst}"
        ));
    }
    if !(worst..=best).contains(&value) {
        return Err(format!(
            "ratingValue: {value} is outside worstRating {worst} to bestRating {best}"
        ));
    }
    // the value on ClaimReview's customary 1 (false) to 5 (true) scale
    let scaled = (1.0 + 4.0 * (value - worst) / (best - worst)).round() as u8;
    Ok(match scaled {
        1 => Rating::False,
        2 if from_label == Some(Rating::Misleading) => Rating::Misleading,
        2 => Rating::MostlyFalse,
        3 => Rating::Mixed,
        4 => Rating::MostlyTrue,
        _ => Rating::True,
    })
}

/// The normalized rating fact-checkers' common labels stand for ("Pants on Fire" is false,
/// "Half True" mixed, "Missing context" misleading); `None` for a label it does not know.
pub fn rating_of_label(label: &str) -> Option<Rating> {
    let label = label.to_lowercase().replace(['-', '_'], " ");
    let has = |words: &[&str]| words.iter().any(|w| label.contains(w));
    // the longer phrases first: "mostly false" before "false", "not true" before "true"
    if has(&[
        "mostly false",
        "mostly inaccurate",
        "largely false",
        "largely inaccurate",
    ]) {
        Some(Rating::MostlyFalse)
    } else if has(&[
        "mostly true",
        "mostly accurate",
        "largely true",
        "largely accurate",
    ]) {
        Some(Rating::MostlyTrue)
    } else if has(&[
        "half true",
        "mixture",
        "mixed",
        "partly",
        "partially",
        "half false",
    ]) {
        Some(Rating::Mixed)
    } else if has(&[
        "misleading",
        "missing context",
        "out of context",
        "cherry",
        "exaggerat",
    ]) {
        Some(Rating::Misleading)
    } else if has(&[
        "unverifiable",
        "unproven",
        "unverified",
        "unsupported",
        "no evidence",
        "not proven",
        "in progress",
        "unknown",
    ]) {
        Some(Rating::Unverifiable)
    } else if has(&[
        "not true",
        "false",
        "pants on fire",
        "fake",
        "incorrect",
        "inaccurate",
        "wrong",
        "hoax",
        "fabricated",
        "four pinocchios",
        "untrue",
        "baseless",
    ]) {
        Some(Rating::False)
    } else if has(&["true", "correct", "accurate"]) {
        Some(Rating::True)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rating(value: serde_json::Value, label: &str) -> Result<Rating, String> {
        normalized_rating(value.as_object().unwrap(), label)
    }

    #[test]
    fn a_rating_value_is_read_on_its_own_scale_and_the_label_tells_misleading_from_mostly_false() {
        assert_eq!(rating(json!({"ratingValue": 1}), ""), Ok(Rating::False));
        assert_eq!(rating(json!({"ratingValue": "5"}), ""), Ok(Rating::True));
        let ten = |v: f64| json!({"ratingValue": v, "bestRating": 10, "worstRating": 0});
        assert_eq!(rating(ten(5.0), ""), Ok(Rating::Mixed));
        assert_eq!(rating(ten(7.5), ""), Ok(Rating::MostlyTrue));
        assert_eq!(
            rating(json!({"ratingValue": 2}), "Misleading"),
            Ok(Rating::Misleading)
        );
        assert_eq!(
            rating(json!({"ratingValue": 2}), "Needs context"),
            Ok(Rating::MostlyFalse)
        );
        // the value decides over a label that says otherwise
        assert_eq!(rating(json!({"ratingValue": 5}), "False"), Ok(Rating::True));
        assert!(
            rating(json!({"ratingValue": 0}), "")
                .unwrap_err()
                .contains("outside")
        );
        assert!(rating(json!({"ratingValue": 1, "bestRating": 1}), "").is_err());
        assert!(
            rating(json!({"ratingValue": "high"}), "")
                .unwrap_err()
                .contains("not a number")
        );
    }

    #[test]
    fn fact_checkers_labels_map_to_the_normalized_scale_longer_phrases_first() {
        for (label, expected) in [
            ("Pants on Fire!", Some(Rating::False)),
            ("Four Pinocchios", Some(Rating::False)),
            ("Not true", Some(Rating::False)),
            ("Mostly False", Some(Rating::MostlyFalse)),
            ("mostly-true", Some(Rating::MostlyTrue)),
            ("Half True", Some(Rating::Mixed)),
            ("Missing context", Some(Rating::Misleading)),
            ("Unproven", Some(Rating::Unverifiable)),
            ("Inaccurate", Some(Rating::False)),
            ("Accurate", Some(Rating::True)),
            ("Spinning", None),
        ] {
            assert_eq!(rating_of_label(label), expected, "{label}");
        }
    }

    #[test]
    fn dates_are_read_as_rfc_3339_or_as_a_day_at_midnight_utc() {
        assert_eq!(
            parse_date("2016-06-20").unwrap(),
            time::macros::datetime!(2016-06-20 0:00 UTC)
        );
        assert_eq!(
            parse_date("2016-06-20T10:30:00+02:00").unwrap(),
            time::macros::datetime!(2016-06-20 8:30 UTC)
        );
        assert!(parse_date("20 June 2016").is_err());
    }

    #[test]
    fn positions_name_where_each_record_stands_in_the_document() {
        let review = json!({"@type": "ClaimReview"});
        let document = json!({"@type": "DataFeed", "dataFeedElement": [
            {"@type": "DataFeedItem", "item": [review, review]}, review
        ]});
        let positions: Vec<String> = records(&document).into_iter().map(|r| r.position).collect();
        assert_eq!(
            positions,
            [
                "$.dataFeedElement[0].item[0]",
                "$.dataFeedElement[0].item[1]",
                "$.dataFeedElement[1]"
            ]
        );
    }
}
