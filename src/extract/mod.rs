//! Claim extraction: who said what in an article, anchored to its exact characters.
//!
//! [`extract`] reads an article body and returns every attributed statement it finds: the
//! quote's span, the speaker as written and the name it refers to, the cue that attributes it,
//! its kind (direct, indirect, mixed) and how worth checking it is. It runs rules over tokens,
//! not a model: see [`rules`] for the constructions it knows. Every span is in Unicode code
//! points of the input, and the text at a span is exactly the quote; any UTF-8 input gives a
//! result.

pub mod checkworthiness;
mod doc;
mod lexicon;
mod resolve;
pub mod rules;
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

/// Maps byte offsets of a text to code point offsets, for the few offsets a result needs.
struct CodePoints<'a> {
    text: &'a str,
    /// (byte, code point) of the last lookup, so ascending lookups cost one pass in all.
    cursor: (usize, usize),
}

impl<'a> CodePoints<'a> {
    fn new(text: &'a str) -> Self {
        CodePoints {
            text,
            cursor: (0, 0),
        }
    }

    fn at(&mut self, byte: usize) -> usize {
        let (b, c) = self.cursor;
        let code_point = if byte >= b {
            c + self.text[b..byte].chars().count()
        } else {
            self.text[..byte].chars().count()
        };
        self.cursor = (byte, code_point);
        code_point
    }

    fn piece(&mut self, range: std::ops::Range<usize>) -> Piece {
        let start = self.at(range.start);
        let end = self.at(range.end);
        Piece {
            text: self.text[range].to_owned(),
            span: Span { start, end },
        }
    }
}

/// Finds the attributed statements of an article, in text order.
pub fn extract(text: &str) -> Vec<ExtractedQuote> {
    let doc = doc::Doc::new(text);
    let found = rules::find_quotes(&doc);
    let mut resolver = resolve::Resolver::new(&doc);
    let mut code_points = CodePoints::new(text);
    found
        .into_iter()
        .map(|f| {
            let quote_bytes = doc.bytes(f.quote.0, f.quote.1);
            let resolved = f.speaker.map(|(a, b)| resolver.resolve(&doc, a, b));
            // offsets are looked up in ascending order where possible: cue and speaker may
            // stand before the quote, which `at` handles by counting from the start
            let quote = code_points.piece(quote_bytes.clone());
            let speaker = f.speaker.map(|(a, b)| code_points.piece(doc.bytes(a, b)));
            let cue = f.cue.map(|(a, b)| code_points.piece(doc.bytes(a, b)));
            let checkworthiness = checkworthiness::score(&text[quote_bytes]);
            ExtractedQuote {
                quote,
                speaker,
                resolved_speaker: resolved,
                cue,
                kind: f.kind,
                checkworthiness,
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
    /// The statement: the quote's words, without the marks and punctuation around them, cut to
    /// the longest statement the registry takes.
    pub statement: String,
    /// Who made it: the resolved name of the speaker, or the speaker as written.
    pub claimant: String,
    /// The quote that carries it.
    pub quote: ExtractedQuote,
}

/// The registrable claims of a text: every extracted quote with a speaker, in text order.
pub fn propose(text: &str) -> Vec<Proposal> {
    use crate::domain::limits::{
        MAX_CLAIMANT_CHARS, MAX_QUOTE_CHARS, MAX_SPEAKER_CHARS, MAX_STATEMENT_CHARS,
    };
    extract(text)
        .into_iter()
        .filter_map(|quote| {
            let speaker = quote.speaker.as_ref()?;
            let claimant = quote
                .resolved_speaker
                .clone()
                .unwrap_or_else(|| speaker.text.clone());
            let fits = speaker.text.chars().count() <= MAX_SPEAKER_CHARS
                && quote.quote.text.chars().count() <= MAX_QUOTE_CHARS
                && claimant.chars().count() <= MAX_CLAIMANT_CHARS
                && quote
                    .cue
                    .as_ref()
                    .is_none_or(|c| c.text.chars().count() <= MAX_SPEAKER_CHARS);
            let statement = statement_of(&quote.quote.text, MAX_STATEMENT_CHARS);
            (fits && !statement.is_empty()).then_some(Proposal {
                statement,
                claimant,
                quote,
            })
        })
        .collect()
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
