//! Cleaning a query before it is searched, and the text a claim is embedded from.
//!
//! Queries are often posts copied from social media: links, `@handles`, `#HashTags` and the
//! "— Name (@handle) January 6, 2020" line an embedded tweet ends with carry no claim but do
//! weigh in both BM25 and the embedding. [`clean_query`] takes them out; what it does was chosen
//! by measuring each step on the training queries (see the README).

/// A query's text as it is searched: links (`http…`, `www.…`, `pic.twitter.com/…`) and an
/// embedded tweet's trailing signature removed, `@` dropped from handles, hashtags split into
/// their words (`#StopTheSteal` → `Stop The Steal`), runs of white space made one space.
pub fn clean_query(text: &str) -> String {
    clean_query_with(text, &Cleaning::default())
}

/// EXPERIMENT knobs
#[derive(Debug, Clone, Default)]
pub struct Cleaning {
    /// strip sig
    pub strip_signature: bool,
    /// keep links
    pub keep_links: bool,
    /// no split
    pub no_split: bool,
    /// keep original tag too
    pub keep_tag_too: bool,
    /// drop handles in parens
    pub drop_paren_handles: bool,
}

/// EXPERIMENT
pub fn clean_query_with(text: &str, o: &Cleaning) -> String {
    let text = if o.strip_signature {
        strip_signature(text)
    } else {
        text
    };
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !o.keep_links && is_link(word) {
            continue;
        }
        if o.drop_paren_handles && word.starts_with("(@") {
            continue;
        }
        let word = if o.no_split {
            word.to_owned()
        } else if let Some(tag) = word.strip_prefix('#') {
            if o.keep_tag_too {
                format!("{tag} {}", split_camel_case(tag))
            } else {
                split_camel_case(tag)
            }
        } else if let Some(handle) = word.strip_prefix('@') {
            if o.keep_tag_too {
                format!("{handle} {}", split_camel_case(handle))
            } else {
                split_camel_case(handle)
            }
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

/// The text a claim's embedding is computed from: its title, when it has one, then its
/// statement. Embedding both in one text did better on the training queries than the statement
/// alone (see the README).
pub fn claim_embedding_text(statement: &str, title: &str) -> String {
    let (statement, title) = (statement.trim(), title.trim());
    match (title.is_empty(), statement.is_empty()) {
        (true, _) => statement.to_owned(),
        (false, true) => title.to_owned(),
        (false, false) => {
            let stop = if title.ends_with(['.', '?', '!', ':']) {
                ""
            } else {
                "."
            };
            format!("{title}{stop} {statement}")
        }
    }
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

/// The text without the signature an embedded tweet ends with: a dash ("—", "–" or "-")
/// followed by a name, `(@handle)` and a date. Text without one is returned whole.
fn strip_signature(text: &str) -> &str {
    let trimmed = text.trim_end();
    for dash in ["\u{2014}", "\u{2013}", " - "] {
        let Some(at) = trimmed.rfind(dash) else {
            continue;
        };
        let tail = &trimmed[at + dash.len()..];
        let has_handle = tail.contains("(@") && tail.contains(')');
        let ends_in_year = tail
            .trim_end()
            .rsplit(|c: char| !c.is_ascii_digit())
            .next()
            .is_some_and(|year| year.len() == 4);
        if has_handle && ends_in_year && tail.len() <= 120 {
            return &trimmed[..at];
        }
    }
    trimmed
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

    #[test]
    fn links_handles_hashtags_and_the_tweet_signature_are_cleaned() {
        let tweet = "Breaking: #StopTheSteal rally at @CityHall tonight https://t.co/abc pic.twitter.com/XyZ \
                     \u{2014} Some Person (@some_person) January 6, 2020";
        assert_eq!(
            clean_query(tweet),
            "Breaking: Stop The Steal rally at City Hall tonight"
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
    fn a_claim_is_embedded_from_its_title_and_statement() {
        assert_eq!(
            claim_embedding_text("It rained.", "Rain?"),
            "Rain? It rained."
        );
        assert_eq!(
            claim_embedding_text("It rained.", "Rain"),
            "Rain. It rained."
        );
        assert_eq!(claim_embedding_text("It rained.", " "), "It rained.");
        assert_eq!(claim_embedding_text("", "Rain"), "Rain");
    }
}
