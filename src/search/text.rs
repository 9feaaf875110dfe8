//! Cleaning a query before it is searched, and the text a claim is embedded from.
//!
//! Queries are often posts copied from social media: links carry no words of the claim, and
//! `@handles` and `#HashTags` carry words run together that neither the analyzer nor the
//! model's vocabulary splits. What [`clean_query`] does was chosen by measuring each step on the
//! training queries of the CLEF-2020 CheckThat! claim-matching data.

/// A query's text as it is searched: links (`http…`, `www.…`, `pic.twitter.com/…`) removed,
/// hashtags and handles split into their words (`#StopTheSteal` → `Stop The Steal`,
/// `@LindseyGrahamSC` → `Lindsey Graham SC`), runs of white space made one space.
///
/// An embedded tweet's trailing "— Name (@handle) date" is kept: removing it made both signals
/// worse on the training queries (MAP@5 of a reciprocal rank fusion 0.860 with it removed,
/// 0.897 with it kept), since who posted a claim and when often names its subject. Removing it
/// for the embedding only does not help either (the cosine alone: 0.812 without it, 0.833 with
/// it; 0.822 for the raw, uncleaned post).
pub fn clean_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if is_link(word) {
            continue;
        }
        let word = if let Some(tag) = word.strip_prefix('#') {
            split_camel_case(tag)
        } else if let Some(handle) = word.strip_prefix('@') {
            split_camel_case(handle)
        } else {
            word.to_owned()
        };
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// The text a claim's embedding is computed from: its statement alone. Embedding the title
/// with it ("Title. Statement") or averaging the two did no better on the training queries
/// (semantic MAP@5 0.833 for the statement, 0.833 for both, 0.773 for the title), and one
/// vector per claim is what the database stores; the title still counts lexically. A second
/// vector, of the title, scored as `cosine(statement) + 0.5 cosine(title)`, lifts the cosine
/// alone to 0.848 but the fused ranking only from 0.906 to 0.908 (5-fold cross-validated): not
/// worth a second vector per claim. The larger of the two cosines does worse (0.830 alone).
pub fn claim_embedding_text<'a>(claim: &super::ClaimText<'a>) -> &'a str {
    claim.statement.trim()
}

/// What two statements must share to be the same words: a hash of their letters and digits,
/// lower-cased, in words. Case, punctuation, quotation marks (straight or curly) and spacing do
/// not count: `Trump 'crashed' a wedding` and `Trump "crashed" a wedding` are the same words.
///
/// Search shows such claims once ([`super::rank::fold_same_statements`]). Registries hold the
/// same statement more than once (a claim registered again, a fact-check filed twice): the
/// verified claims of CLEF-2020 CheckThat! Task 2 have 184 such groups in 10,375 claims. A hash,
/// not the text: the index keeps one per claim, 8 bytes each.
pub fn statement_fingerprint(statement: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for word in statement
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
    {
        for c in word.chars().flat_map(char::to_lowercase) {
            c.hash(&mut hasher);
        }
        ' '.hash(&mut hasher);
    }
    hasher.finish()
}

/// Whether a word is a link.
fn is_link(word: &str) -> bool {
    let lower = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    let lower = lower.to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("www.")
        || lower.starts_with("pic.twitter.com/")
        || lower.starts_with("t.co/")
        || lower.starts_with("bit.ly/")
}

/// A hashtag or handle split into words at case changes and between letters and digits, with
/// `_` as a space: `StopTheSteal` → `Stop The Steal`, `COVID19` → `COVID 19`,
/// `black_lives_matter` → `black lives matter`. Leading and trailing punctuation is dropped,
/// except a final mark that ends a sentence.
fn split_camel_case(tag: &str) -> String {
    let end = tag.trim_end_matches(|c: char| !c.is_alphanumeric()).len();
    let (tag, trailing) = tag.split_at(end);
    let chars: Vec<char> = tag.chars().collect();
    let mut out = String::with_capacity(tag.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            out.push(' ');
            continue;
        }
        if i > 0 {
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (previous.is_lowercase() && c.is_uppercase())
                || (previous.is_uppercase() && c.is_uppercase() && next_is_lower)
                || (previous.is_alphabetic() && c.is_ascii_digit())
                || (previous.is_ascii_digit() && c.is_alphabetic());
            if boundary && !out.ends_with(' ') {
                out.push(' ');
            }
        }
        out.push(c);
    }
    let trailing: String = trailing
        .chars()
        .filter(|c| matches!(c, '.' | ',' | '!' | '?' | ':' | ';'))
        .take(1)
        .collect();
    out.trim().to_owned() + &trailing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::ClaimText;

    #[test]
    fn links_handles_and_hashtags_are_cleaned() {
        let tweet = "Breaking: #StopTheSteal rally at @CityHall tonight https://t.co/abc pic.twitter.com/XyZ \
                     \u{2014} Some Person (@some_person) January 6, 2020";
        assert_eq!(
            clean_query(tweet),
            "Breaking: Stop The Steal rally at City Hall tonight \u{2014} Some Person (@some_person) January 6, 2020"
        );
    }

    #[test]
    fn text_without_tweet_parts_is_kept_as_it_is() {
        let text = "The unemployment rate fell to 3.5% - a 50-year low.";
        assert_eq!(clean_query(text), text);
        assert_eq!(clean_query("  two   spaces\n"), "two spaces");
    }

    #[test]
    fn hashtags_split_at_case_changes_digits_and_underscores() {
        assert_eq!(split_camel_case("COVID19"), "COVID 19");
        assert_eq!(split_camel_case("NASAScientists!"), "NASA Scientists!");
        assert_eq!(
            split_camel_case("black_lives_matter,"),
            "black lives matter,"
        );
        assert_eq!(split_camel_case("coronavirus"), "coronavirus");
    }

    #[test]
    fn statements_differing_in_case_punctuation_and_quotation_marks_are_the_same_words() {
        let straight = statement_fingerprint("Trump 'crashed' a wedding and \"groped\" the bride.");
        let curly = statement_fingerprint(
            "trump \u{201c}crashed\u{201d} a  wedding and \u{2018}groped\u{2019} the bride",
        );
        assert_eq!(straight, curly);
        assert_ne!(straight, statement_fingerprint("Trump crashed a wedding."));
        // words stay apart: joining two words makes another statement
        assert_ne!(statement_fingerprint("a bc"), statement_fingerprint("ab c"));
        assert_eq!(
            statement_fingerprint("\u{00c9}t\u{00c9} 2019"),
            statement_fingerprint("\u{00e9}t\u{00e9}, 2019")
        );
    }

    #[test]
    fn a_claim_is_embedded_from_its_statement() {
        let claim = ClaimText {
            statement: " It rained. ",
            title: "Rain?",
            ..ClaimText::default()
        };
        assert_eq!(claim_embedding_text(&claim), "It rained.");
    }
}
