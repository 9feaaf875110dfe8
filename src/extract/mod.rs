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
