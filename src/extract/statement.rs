//! Claims a checker can use as they are: the statements a quote makes, each self-contained.
//!
//! A quote is evidence, verbatim; a claim is what it asserts, readable alone. [`statements`]
//! splits a quote into its sentences (a quote of three assertions is three claims, each resting
//! on its own part of the quote) and rewrites each one as a statement:
//!
//! - quotation marks, a trailing comma or period, and a leading "and"/"but" go;
//! - an indirect quote's leading complementizer goes ("that Moscow is ready" → "Moscow is
//!   ready");
//! - the speaker's framing of their own assertion goes ("I would like to emphasize that Russia
//!   is ready" → "Russia is ready"; "The most important thing is that X" → "X");
//! - a first-person subject is named ("I am ready" → "Vladimir Putin is ready"), so the claim
//!   says who without its quote.
//!
//! Rules over words, linear in the quote's length, as the rest of the extractor.

use std::ops::Range;

/// One statement of a quote: what a claim states, and the part of the quote it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement, self-contained.
    pub text: String,
    /// Where the sentence it rests on stands in the quote, in bytes of the quote's text: no
    /// quotation marks or spaces at its edges.
    pub range: Range<usize>,
}

/// Fewest words a sentence needs to be a statement of its own: shorter ones ("Thank you.") are
/// no claim.
const MIN_WORDS: usize = 3;

/// Marks and spaces trimmed from a sentence's edges (its part of the quote).
const EDGE: &[char] = &[
    '“', '”', '"', '„', '«', '»', '‘', '’', '\'', ',', ';', ':', '—', '–', '-', '…',
];

/// Abbreviations whose period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "gen", "gov", "sen", "rep", "prof", "lt", "col",
    "sgt", "capt", "no", "vs", "etc", "inc", "co", "corp", "ltd", "jan", "feb", "mar", "apr",
    "aug", "sept", "sep", "oct", "nov", "dec", "u.s", "u.n", "u.k", "e.g", "i.e", "a.m", "p.m",
];

/// Words that open a sentence as a link to the one before, not as part of its assertion.
const LINKS: &[&str] = &["and", "but", "so", "yet", "also", "however", "moreover"];

/// Words a speaker frames their own assertion with before its "that": "I would like to
/// emphasize that", "We start from the belief that", "you and I understand that".
const FRAMING: &[&str] = &[
    "i",
    "we",
    "you",
    "and",
    "all",
    "would",
    "like",
    "to",
    "want",
    "wish",
    "must",
    "can",
    "should",
    "emphasize",
    "emphasise",
    "stress",
    "note",
    "say",
    "said",
    "believe",
    "think",
    "know",
    "understand",
    "repeat",
    "recall",
    "underline",
    "reiterate",
    "start",
    "from",
    "the",
    "belief",
    "conviction",
    "fact",
    "am",
    "are",
    "sure",
    "convinced",
    "confident",
    "hope",
    "feel",
    "agree",
    "insist",
    "admit",
    "acknowledge",
    "again",
    "also",
    "just",
    "really",
    "firmly",
    "do",
    "deeply",
    "clearly",
    "very",
    "well",
    "of",
    "course",
    "proceed",
    "assume",
    "point",
    "out",
    "tell",
    "let",
    "me",
    "us",
];

/// Nouns of "The most important thing is that X".
const POINT_NOUNS: &[&str] = &["thing", "point", "issue", "question", "fact", "problem"];

/// The statements of `quote`, made by `claimant`: one per sentence of at least [`MIN_WORDS`]
/// words (or the whole quote as one, when no sentence is that long), in order.
pub fn statements(quote: &str, claimant: &str) -> Vec<Statement> {
    super::doc::step(quote.len());
    let sentences: Vec<Range<usize>> = sentences(quote)
        .into_iter()
        .filter_map(|r| trimmed(quote, r))
        .collect();
    let long: Vec<&Range<usize>> = sentences
        .iter()
        .filter(|r| quote[(*r).clone()].split_whitespace().count() >= MIN_WORDS)
        .collect();
    let chosen: Vec<Range<usize>> = if long.is_empty() {
        trimmed(quote, 0..quote.len()).into_iter().collect()
    } else {
        long.into_iter().cloned().collect()
    };
    chosen
        .into_iter()
        .map(|range| Statement {
            text: rewrite(&quote[range.clone()], claimant),
            range,
        })
        .filter(|s| !s.text.is_empty())
        .collect()
}

/// The byte ranges of the sentences of `text`: split after a sentence's final mark (and any
/// closing quotation marks) when a space and a capital letter, digit or opening mark follow,
/// except after an abbreviation or an initial.
fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        // the end: past the final mark and any closing marks
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if matches!(d, '”' | '"' | '’' | '\'' | '»' | ')') {
                end = j + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let rest = &text[end..];
        let after_space = rest.trim_start();
        if after_space.len() == rest.len() {
            continue;
        }
        let next = after_space.trim_start_matches(['“', '"', '‘', '\'', '«', '(']);
        let opens = next
            .chars()
            .next()
            .is_some_and(|n| n.is_uppercase() || n.is_ascii_digit());
        if !opens || (c == '.' && is_abbreviation(&text[start..i])) {
            continue;
        }
        found.push(start..end);
        start = end;
    }
    if start < text.len() {
        found.push(start..text.len());
    }
    found
}

/// Whether the word before a period (the end of `before`) is an abbreviation or an initial.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '(' | '“' | '"'))
        .next()
        .unwrap_or("");
    let lower = word.to_lowercase();
    (word.chars().count() == 1 && word.chars().all(char::is_uppercase))
        || ABBREVIATIONS.contains(&lower.as_str())
}

/// `range` without marks and spaces at its edges; `None` when nothing is left.
fn trimmed(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let piece = &text[range.clone()];
    let edge = |c: char| c.is_whitespace() || EDGE.contains(&c);
    let start = range.start + (piece.len() - piece.trim_start_matches(edge).len());
    let end = range.end - (piece.len() - piece.trim_end_matches(edge).len());
    (start < end).then_some(start..end)
}

/// A sentence of a quote as a self-contained statement.
fn rewrite(sentence: &str, claimant: &str) -> String {
    let collapsed: String = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text = collapsed
        .trim_matches(|c: char| EDGE.contains(&c) || c == '.' || c.is_whitespace())
        .to_owned();
    // a link to the sentence before, then the complementizer, then the framing, in that order:
    // "And I think that X", "that X"
    if let Some(rest) = drop_first_word(&text, LINKS) {
        text = rest;
    }
    if let Some(rest) = drop_first_word(&text, &["that"]) {
        text = rest;
    }
    if let Some(rest) = unframed(&text) {
        text = rest;
    }
    let text = name_first_person(&text, claimant);
    capitalized(text.trim_matches(|c: char| EDGE.contains(&c) || c.is_whitespace()))
}

/// `text` without its first word, when that word (case aside, a comma after it aside) is one
/// of `words` and more follows.
fn drop_first_word(text: &str, words: &[&str]) -> Option<String> {
    let (first, rest) = text.split_once(' ')?;
    let first = first.trim_end_matches(',').to_lowercase();
    (words.contains(&first.as_str()) && !rest.trim().is_empty()).then(|| rest.trim().to_owned())
}

/// What follows a speaker's framing of their assertion: the clause after "that" when every
/// word before it frames ("I would like to emphasize that", "you and I understand,
/// semi-professionally, that"), or after "The most important thing is that".
fn unframed(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split(' ').collect();
    let that = words
        .iter()
        .take(10)
        .position(|w| w.eq_ignore_ascii_case("that"))?;
    if that == 0 || that + 1 >= words.len() {
        return None;
    }
    let lower: Vec<String> = words[..that]
        .iter()
        .map(|w| w.trim_matches(',').to_lowercase())
        .collect();
    let first_person = matches!(lower[0].as_str(), "i" | "we" | "you" | "let")
        && lower
            .iter()
            .all(|w| FRAMING.contains(&w.as_str()) || w.ends_with("ly"));
    // "The (most) important/main thing (now) is that"
    let point = lower.len() >= 3
        && lower[0] == "the"
        && lower[lower.len() - 1] == "is"
        && lower.iter().any(|w| POINT_NOUNS.contains(&w.as_str()))
        && lower.len() <= 6;
    (first_person || point).then(|| words[that + 1..].join(" "))
}

/// A statement whose subject is "I" with the claimant named instead, the verb agreeing:
/// "I am ready" → "Vladimir Putin is ready", "I support" → "Vladimir Putin supports".
fn name_first_person(text: &str, claimant: &str) -> String {
    if claimant.is_empty() {
        return text.to_owned();
    }
    // "I'm X": the contraction is "I am"
    if let Some(rest) = text
        .strip_prefix("I’m ")
        .or_else(|| text.strip_prefix("I'm "))
    {
        return format!("{claimant} is {rest}");
    }
    let Some(rest) = text.strip_prefix("I ") else {
        return text.to_owned();
    };
    let (verb, after) = rest.split_once(' ').unwrap_or((rest, ""));
    let agreed = match verb {
        "am" => "is".to_owned(),
        "have" => "has".to_owned(),
        "do" => "does".to_owned(),
        "was" | "will" | "would" | "can" | "could" | "should" | "must" | "might" | "may"
        | "had" | "did" | "shall" => verb.to_owned(),
        v if v.chars().all(|c| c.is_ascii_lowercase()) && !v.ends_with("ed") => third_person(v),
        // not a verb we can agree: leave the sentence as it was said
        _ => return text.to_owned(),
    };
    if after.is_empty() {
        format!("{claimant} {agreed}")
    } else {
        format!("{claimant} {agreed} {after}")
    }
}

/// A present-tense verb in the third person singular: "support" → "supports", "reach" →
/// "reaches", "deny" → "denies".
fn third_person(verb: &str) -> String {
    let bytes = verb.as_bytes();
    if verb.ends_with('y') && bytes.len() > 1 && !b"aeiou".contains(&bytes[bytes.len() - 2]) {
        format!("{}ies", &verb[..verb.len() - 1])
    } else if ["s", "sh", "ch", "x", "z", "o"]
        .iter()
        .any(|end| verb.ends_with(end))
    {
        format!("{verb}es")
    } else {
        format!("{verb}s")
    }
}

/// `text` with its first letter upper-cased.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(quote: &str) -> Vec<String> {
        statements(quote, "Vladimir Putin")
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn a_quote_of_three_sentences_is_three_statements_each_on_its_own_words() {
        let quote = "“Collective efforts are necessary. I would like to emphasize that Russia is \
                     ready to coordinate with partners. “We start from the belief that there is \
                     no alternative to negotiations,”";
        let found = statements(quote, "Vladimir Putin");
        let texts: Vec<&str> = found.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Collective efforts are necessary",
                "Russia is ready to coordinate with partners",
                "There is no alternative to negotiations",
            ]
        );
        let parts: Vec<&str> = found.iter().map(|s| &quote[s.range.clone()]).collect();
        assert_eq!(parts[0], "Collective efforts are necessary.");
        assert!(parts[2].starts_with("We start"));
        assert!(parts[2].ends_with("negotiations"));
    }

    #[test]
    fn an_indirect_quote_loses_its_that_and_a_link_word_goes_with_it() {
        assert_eq!(
            texts("that Moscow is ready to mediate in the conflict"),
            ["Moscow is ready to mediate in the conflict"]
        );
        assert_eq!(
            texts("And without equipment, it would be more difficult to carry it out,"),
            ["Without equipment, it would be more difficult to carry it out"]
        );
    }

    #[test]
    fn framing_goes_and_a_first_person_subject_is_named() {
        assert_eq!(
            texts("The most important thing is that civilian casualties are unacceptable."),
            ["Civilian casualties are unacceptable"]
        );
        assert_eq!(
            texts(
                "But you and I understand, semi-professionally, that the use of force is a complex issue."
            ),
            ["The use of force is a complex issue"]
        );
        assert_eq!(
            texts("I am ready to meet the president."),
            ["Vladimir Putin is ready to meet the president"]
        );
        assert_eq!(
            texts("I support the ceasefire."),
            ["Vladimir Putin supports the ceasefire"]
        );
        // a "that" after words that are not framing is the assertion's own
        assert_eq!(
            texts("The report shows that prices rose."),
            ["The report shows that prices rose"]
        );
    }

    #[test]
    fn abbreviations_and_initials_do_not_end_a_sentence_and_short_ones_are_no_statement() {
        assert_eq!(
            texts("Mr. Smith met J. Doe in the U.S. on Monday. Thank you."),
            ["Mr. Smith met J. Doe in the U.S. on Monday"]
        );
        assert_eq!(texts("“Never.”"), ["Never"]);
    }
}
