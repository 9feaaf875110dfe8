//! The headline: an article's first paragraph, when it is one, often attributes a statement in
//! the compressed grammar of headlines, which the sentence rules do not read:
//!
//! - `Pat Caddell: Democrat Voters Worried …`: a name, a colon, what they said;
//! - `Clinton Hid Past Health Problems From Public, Former White House Doctor Says.`;
//! - `Chris Christie Calls Hillary Clinton ‘A Disgrace’ …`, in title case, where every word is
//!   capitalized and a cue verb cannot be told from a name by its case.
//!
//! Headlines written in sentence case (`Bill Clinton calls Obamacare …`) need none of this: the
//! sentence rules read them.

use super::doc::Doc;
use super::lexicon;
use super::rules::{Found, kind_of};

/// The most words a headline's source before its colon or verb can have.
const MAX_SOURCE_WORDS: usize = 5;

/// Labels that head a headline without being a source: `The Latest: …`.
#[rustfmt::skip]
const NOT_SOURCES: &[&str] = &[
    "the", "a", "an", "update", "updated", "watch", "video", "exclusive", "breaking", "analysis",
    "opinion", "editorial", "live", "photos", "review", "editor’s", "editor's", "correction",
];

/// Verbs headlines use to attribute, beyond the cue and stance lists: `Black Lawmakers Rip …`.
#[rustfmt::skip]
const HEADLINE_VERBS: &[&str] = &[
    "rips", "slams", "hammers", "blasts", "knocks", "sees", "urges", "endorses", "rejects",
    "attacks", "mocks", "touts", "praises", "defends", "dismisses", "pans", "calls",
];

/// The attribution the headline makes, if the first paragraph is a headline and makes one.
pub fn headline(doc: &Doc<'_>) -> Option<Found> {
    let paragraph = doc.paragraphs.first()?.clone();
    let words = paragraph.clone().filter(|&t| doc.is_word(t)).count();
    // a headline is one short line: an article that opens with a long paragraph has none
    if !(3..=30).contains(&words) || doc.paragraphs.len() < 2 {
        return None;
    }
    let start = paragraph.start;
    let last = content_last(doc, paragraph.start, paragraph.end)?;
    colon(doc, start, last).or_else(|| {
        is_title_case(doc, paragraph.clone())
            .then(|| says_at_end(doc, start, last).or_else(|| verb(doc, start, last)))
            .flatten()
    })
}

/// `Source: what they said`.
fn colon(doc: &Doc<'_>, start: usize, last: usize) -> Option<Found> {
    let colon = (start..last)
        .take(MAX_SOURCE_WORDS + 1)
        .find(|&t| doc.tokens[t].is_punct(':'))?;
    if colon == start || !source_words(doc, start, colon) || doc.is_in(start, NOT_SOURCES) {
        return None;
    }
    let content = colon + 1;
    if (content..=last).filter(|&t| doc.is_word(t)).count() < 2 {
        return None;
    }
    Some(Found {
        quote: (content, last),
        speaker: Some((start, colon - 1)),
        cue: Some((colon, colon)),
        kind: kind_of(doc, content, last),
    })
}

/// `What was said, Source Says.`
fn says_at_end(doc: &Doc<'_>, start: usize, last: usize) -> Option<Found> {
    if !doc.is_in(last, &["says", "said"]) {
        return None;
    }
    let comma = (start..last)
        .rev()
        .take(MAX_SOURCE_WORDS + 1)
        .find(|&t| doc.tokens[t].is_punct(','))?;
    if comma + 1 >= last || !source_words(doc, comma + 1, last) || comma <= start + 1 {
        return None;
    }
    Some(Found {
        quote: (start, comma - 1),
        speaker: Some((comma + 1, last - 1)),
        cue: Some((last, last)),
        kind: kind_of(doc, start, comma - 1),
    })
}

/// `Source Verbs what they said`, the verb a cue in any case.
fn verb(doc: &Doc<'_>, start: usize, last: usize) -> Option<Found> {
    let cue = (start + 1..last)
        .take(MAX_SOURCE_WORDS)
        .take_while(|&t| doc.is_word(t))
        .find(|&t| {
            doc.word(t).ends_with('s')
                && (doc.has(t, lexicon::CUE | lexicon::STANCE) || doc.is_in(t, HEADLINE_VERBS))
        })?;
    if !source_words(doc, start, cue) || doc.is_in(start, NOT_SOURCES) {
        return None;
    }
    Some(Found {
        quote: (cue + 1, last),
        speaker: Some((start, cue - 1)),
        cue: Some((cue, cue)),
        kind: kind_of(doc, cue + 1, last),
    })
}

/// Whether tokens `from..to` could name a source: a few capitalized words.
fn source_words(doc: &Doc<'_>, from: usize, to: usize) -> bool {
    to > from
        && to - from <= MAX_SOURCE_WORDS
        && (from..to).all(|t| doc.starts_upper(t) || doc.is_in(t, &["of", "and"]))
        && doc.starts_upper(to - 1)
}

/// Whether most of the paragraph's longer words are capitalized.
fn is_title_case(doc: &Doc<'_>, paragraph: std::ops::Range<usize>) -> bool {
    let long: Vec<usize> = paragraph
        .filter(|&t| doc.is_word(t) && doc.raw(t).chars().count() >= 4)
        .collect();
    long.len() >= 3 && long.iter().filter(|&&t| doc.starts_upper(t)).count() * 4 >= long.len() * 3
}

/// The headline's last token, its final period left out unless a quotation mark closes after it.
fn content_last(doc: &Doc<'_>, start: usize, end: usize) -> Option<usize> {
    let mut last = end.checked_sub(1)?;
    while last > start && (doc.tokens[last].is_terminal() || doc.tokens[last].is_punct(';')) {
        last -= 1;
    }
    (last > start).then_some(last)
}
