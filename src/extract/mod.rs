//! Claim extraction: who said what in an article, anchored to its exact characters.
//!
//! [`extract`] reads an article body and returns every attributed statement it finds: the
//! quote's span, the speaker as written and the name it refers to, the cue that attributes it,
//! its kind (direct, indirect, mixed) and how worth checking it is. It runs rules over tokens
//! (see [`rules`] for the constructions they know), then a tagger learnt from annotated news
//! over the rules' findings ([`tagger`]), which redraws quotes and speakers where it reads
//! them better. Every span is in Unicode code
//! points of the input, and the text at a span is exactly the quote; any UTF-8 input gives a
//! result, in time linear in its length (bodies come from any reader, so no input may make the
//! work quadratic: no stretch of text is in more than a few quotes, no speaker is longer than
//! the registry takes, and no rule scans to the end of its sentence once per word).

pub mod checkworthiness;
mod doc;
mod headline;
mod lexicon;
mod resolve;
pub mod rules;
mod statement;
pub mod tagger;
mod tokens;

use crate::domain::{QuoteKind, Span};

/// A piece of the article and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// The text, exactly as in the article.
    pub text: String,
    /// Where it stands, in code points.
    pub span: Span,
}

/// One attributed statement found in an article.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractedQuote {
    /// What was said.
    pub quote: Piece,
    /// Who said it, as written ("Putin", "the Russian leader", "he").
    pub speaker: Option<Piece>,
    /// The name the speaker refers to within the article ("Vladimir Putin").
    pub resolved_speaker: Option<String>,
    /// The verb or phrase that attributes it ("said", "according to").
    pub cue: Option<Piece>,
    /// How it renders the speaker's words.
    pub kind: QuoteKind,
    /// How worth checking the statement is, in [0, 1].
    pub checkworthiness: f32,
}

/// The code point offsets of byte offsets of a text, found in one pass over the text however
/// many offsets are asked for and in whatever order.
fn code_points(
    text: &str,
    bytes: &[usize],
) -> std::collections::HashMap<usize, usize, foldhash::fast::FixedState> {
    let mut sorted = bytes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut map = std::collections::HashMap::with_capacity_and_hasher(
        sorted.len(),
        foldhash::fast::FixedState::default(),
    );
    let (mut byte, mut count) = (0, 0);
    for target in sorted {
        count += text[byte..target].chars().count();
        byte = target;
        map.insert(target, count);
    }
    map
}

/// Finds the attributed statements of an article, in text order, with the shipped tagger.
pub fn extract(text: &str) -> Vec<ExtractedQuote> {
    extract_with(text, Some(tagger::Model::shipped()))
}

/// Finds the attributed statements of an article with a given tagger: the rules, then the
/// tagger over them (cross-validation runs each fold's own); with none, the rules alone (what
/// the speed benchmark weighs the tagger's cost against).
pub fn extract_with(text: &str, model: Option<&tagger::Model>) -> Vec<ExtractedQuote> {
    let doc = doc::Doc::new(text);
    let found = rules::find_quotes(&doc);
    let found = match model {
        Some(model) => tagger::quotes(&doc, found, model),
        None => found,
    };
    let mut resolver = resolve::Resolver::new(&doc);
    let ranges = |f: &rules::Found| {
        [Some(f.quote), f.speaker, f.cue]
            .into_iter()
            .flatten()
            .map(|(a, b)| doc.bytes(a, b))
            .collect::<Vec<_>>()
    };
    let offsets: Vec<usize> = found
        .iter()
        .flat_map(ranges)
        .flat_map(|r| [r.start, r.end])
        .collect();
    let code_point = code_points(text, &offsets);
    let piece = |range: std::ops::Range<usize>| {
        doc::step(range.len());
        Piece {
            span: Span {
                start: code_point[&range.start],
                end: code_point[&range.end],
            },
            text: text[range].to_owned(),
        }
    };
    found
        .into_iter()
        .map(|f| {
            let quote_bytes = doc.bytes(f.quote.0, f.quote.1);
            ExtractedQuote {
                resolved_speaker: f.speaker.map(|(a, b)| {
                    let name = resolver.resolve(&doc, a, b);
                    doc::step(name.len());
                    name
                }),
                speaker: f.speaker.map(|(a, b)| piece(doc.bytes(a, b))),
                cue: f.cue.map(|(a, b)| piece(doc.bytes(a, b))),
                checkworthiness: checkworthiness::score(&text[quote_bytes.clone()]),
                quote: piece(quote_bytes),
                kind: f.kind,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;

/// A claim the extractor proposes: what CreateArticle with extraction registers, and what
/// ExtractClaims previews.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The statement: one sentence of the quote, self-contained (no marks, complementizer or
    /// framing; a first-person subject named), cut to the longest statement the registry takes.
    pub statement: String,
    /// Who made it: the resolved name of the speaker, or the speaker as written.
    pub claimant: String,
    /// How worth checking the statement is: what the registry stores for the claim.
    pub checkworthiness: f32,
    /// The quote that carries it, narrowed to the sentence the statement rests on: the
    /// verbatim evidence.
    pub quote: ExtractedQuote,
}

/// The registrable claims of a text, in text order: for every extracted quote with a speaker,
/// one claim per statement it makes (see [`statement`]), with the speaker's resolved name as
/// claimant. A quote of one statement is its evidence whole; a quote of several gives each its
/// own sentence of the quote.
pub fn propose(text: &str) -> Vec<Proposal> {
    use crate::domain::limits::{
        MAX_CLAIMANT_CHARS, MAX_QUOTE_CHARS, MAX_SPEAKER_CHARS, MAX_STATEMENT_CHARS,
    };
    let mut proposals = Vec::new();
    for quote in extract(text) {
        let Some(speaker) = quote.speaker.as_ref() else {
            continue;
        };
        let claimant = quote
            .resolved_speaker
            .clone()
            .unwrap_or_else(|| speaker.text.clone());
        let fits = speaker.text.chars().count() <= MAX_SPEAKER_CHARS
            && claimant.chars().count() <= MAX_CLAIMANT_CHARS
            && quote
                .cue
                .as_ref()
                .is_none_or(|c| c.text.chars().count() <= MAX_SPEAKER_CHARS);
        if !fits {
            continue;
        }
        let found = statement::statements(&quote.quote.text, &claimant);
        // one statement rests on the whole quote, as extracted; several on a sentence each
        let whole = found.len() == 1;
        for found in found {
            let range = if whole {
                0..quote.quote.text.len()
            } else {
                found.range
            };
            let part = &quote.quote.text[range.clone()];
            let statement = statement_of(&found.text, MAX_STATEMENT_CHARS);
            if statement.is_empty() || part.chars().count() > MAX_QUOTE_CHARS {
                continue;
            }
            let start = quote.quote.span.start + quote.quote.text[..range.start].chars().count();
            let mut evidence = quote.clone();
            evidence.quote = Piece {
                span: Span {
                    start,
                    end: start + part.chars().count(),
                },
                text: part.to_owned(),
            };
            evidence.checkworthiness = checkworthiness::score(&statement);
            proposals.push(Proposal {
                checkworthiness: evidence.checkworthiness,
                statement,
                claimant: claimant.clone(),
                quote: evidence,
            });
        }
    }
    proposals
}

/// A quote as a statement: marks, edge punctuation and line breaks out, at most `max` code
/// points (cut at a word, with an ellipsis).
fn statement_of(quote: &str, max: usize) -> String {
    const EDGE: &[char] = &[
        '“', '”', '"', '„', '«', '»', '‘', '’', '\'', ',', ';', ':', ' ', '—', '–', '-', '…',
    ];
    let collapsed: String = quote.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed.trim_matches(EDGE);
    if trimmed.chars().count() <= max {
        return trimmed.to_owned();
    }
    let mut cut: String = trimmed.chars().take(max - 1).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    cut.push('…');
    cut
}
