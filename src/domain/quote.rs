//! Source quotes and how they are anchored to the exact characters of an article.
//!
//! Every offset is a count of Unicode code points from the start of the article body, and every
//! span is half-open: `[start, end)`. A quote is only ever stored once the body's text at its
//! span is, character for character, the quote's text.

use std::ops::Range;

use super::names::ArticleName;

/// The longest quote accepted, in code points: several paragraphs of speech.
pub const MAX_QUOTE_CHARS: usize = 20_000;
/// The longest speaker or cue accepted, in code points.
pub const MAX_SPEAKER_CHARS: usize = 300;

/// A half-open range `[start, end)` of code points in an article body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    /// The first code point.
    pub start: usize,
    /// Just past the last code point.
    pub end: usize,
}

impl Span {
    /// A span that holds at least one code point.
    pub fn new(start: usize, end: usize) -> Result<Self, String> {
        if end <= start {
            return Err(format!("end ({end}) must be greater than start ({start})"));
        }
        Ok(Span { start, end })
    }

    /// How many code points lie between two spans; 0 when they touch or overlap.
    fn gap(&self, other: &Span) -> usize {
        // one of the two differences is zero after saturation: whichever span comes first
        other
            .start
            .saturating_sub(self.end)
            .max(self.start.saturating_sub(other.end))
    }

    fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// How a quote renders the speaker's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteKind {
    /// The speaker's own words, inside quotation marks.
    Direct,
    /// Reported speech, in the writer's words.
    Indirect,
    /// Reported speech with some of the speaker's words quoted.
    Mixed,
}

impl QuoteKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteKind::Direct => "direct",
            QuoteKind::Indirect => "indirect",
            QuoteKind::Mixed => "mixed",
        }
    }

    /// The kind a stored name stands for.
    pub fn from_stored(value: &str) -> Option<Self> {
        Some(match value {
            "direct" => QuoteKind::Direct,
            "indirect" => QuoteKind::Indirect,
            "mixed" => QuoteKind::Mixed,
            _ => return None,
        })
    }
}

/// A piece of article text with the span it stands at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchored {
    /// The text, exactly as in the body.
    pub text: String,
    /// Where it stands.
    pub span: Span,
}

/// A quote as a client gives it: the text, and optionally where it stands.
#[derive(Debug, Clone)]
pub struct QuoteDraft {
    /// The article the quote stands in.
    pub article: ArticleName,
    /// Where the quote stands, if the client said.
    pub span: Option<Span>,
    /// The verbatim words.
    pub text: String,
    /// The speaker as written.
    pub speaker: String,
    /// Where the speaker stands, if the client said.
    pub speaker_span: Option<Span>,
    /// The attributing verb or phrase, if given.
    pub cue: Option<String>,
    /// Where the cue stands, if the client said.
    pub cue_span: Option<Span>,
    /// How the words render the speaker's.
    pub kind: QuoteKind,
    /// The name the speaker refers to, when the extractor resolved it.
    pub resolved_speaker: Option<String>,
}

/// A quote anchored to its article: every text is the body's text at its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// The article the quote stands in.
    pub article: ArticleName,
    /// The quoted words and their place.
    pub quote: Anchored,
    /// The speaker as written, and its place.
    pub speaker: Anchored,
    /// The cue as written, and its place, if given.
    pub cue: Option<Anchored>,
    /// How the words render the speaker's.
    pub kind: QuoteKind,
    /// The name the speaker refers to, when the extractor resolved it.
    pub resolved_speaker: Option<String>,
}

/// Why a quote could not be anchored: the field of the quote at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRejection {
    /// The quote's field, e.g. `span` or `speaker`.
    pub field: &'static str,
    /// What is wrong with it.
    pub description: String,
}

fn reject(field: &'static str, description: impl Into<String>) -> QuoteRejection {
    QuoteRejection {
        field,
        description: description.into(),
    }
}

impl QuoteDraft {
    /// Anchors the quote, its speaker and its cue in `body`, the text of the quote's article.
    ///
    /// The quote text must stand at the given span, or, without one, exactly once in the body.
    /// Speaker and cue must stand at their spans, or, without them, anywhere in the body as
    /// whole words; the occurrence nearest to the quote (outside it, if there is one) is taken.
    pub fn anchor(self, body: &str) -> Result<Quote, QuoteRejection> {
        let quote = match self.span {
            Some(span) => at_span(body, span, &self.text).map_err(|d| reject("span", d))?,
            None => only_occurrence(body, &self.text).map_err(|d| reject("text", d))?,
        };
        let speaker = match self.speaker_span {
            Some(span) => {
                at_span(body, span, &self.speaker).map_err(|d| reject("speaker_span", d))?
            }
            None => {
                nearest_word(body, &self.speaker, quote.span).map_err(|d| reject("speaker", d))?
            }
        };
        let cue = match (self.cue, self.cue_span) {
            (Some(cue), Some(span)) => {
                Some(at_span(body, span, &cue).map_err(|d| reject("cue_span", d))?)
            }
            (Some(cue), None) => {
                Some(nearest_word(body, &cue, quote.span).map_err(|d| reject("cue", d))?)
            }
            (None, Some(_)) => return Err(reject("cue_span", "is given without a cue")),
            (None, None) => None,
        };
        Ok(Quote {
            article: self.article,
            quote,
            speaker,
            cue,
            kind: self.kind,
            resolved_speaker: self.resolved_speaker,
        })
    }
}

/// The byte range of a code point span, or `None` when the span runs past the end.
fn byte_range(body: &str, span: Span) -> Option<Range<usize>> {
    let mut boundaries = body
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(body.len()));
    let start = boundaries.nth(span.start)?;
    let end = boundaries.nth(span.end - span.start - 1)?;
    Some(start..end)
}

/// Shortens a text for an error message.
fn excerpt(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        format!("{text:?}")
    } else {
        format!("{:?}…", text.chars().take(MAX).collect::<String>())
    }
}

fn at_span(body: &str, span: Span, expected: &str) -> Result<Anchored, String> {
    let Some(range) = byte_range(body, span) else {
        return Err(format!(
            "[{}, {}) runs past the end of the article body ({} code points)",
            span.start,
            span.end,
            body.chars().count()
        ));
    };
    let actual = &body[range];
    if actual != expected {
        return Err(format!(
            "the article's text at [{}, {}) is {}, not {}",
            span.start,
            span.end,
            excerpt(actual),
            excerpt(expected)
        ));
    }
    Ok(Anchored {
        text: expected.to_owned(),
        span,
    })
}

/// Every occurrence of `needle` in `body`, overlapping ones included, as byte ranges and spans.
fn occurrences<'a>(
    body: &'a str,
    needle: &'a str,
) -> impl Iterator<Item = (Range<usize>, Span)> + 'a {
    let needle_chars = needle.chars().count();
    let mut search_from = 0;
    let mut counted_to = 0;
    let mut chars_before = 0;
    std::iter::from_fn(move || {
        if needle.is_empty() || search_from > body.len() {
            return None;
        }
        let found = search_from + body[search_from..].find(needle)?;
        chars_before += body[counted_to..found].chars().count();
        counted_to = found;
        // the next search starts one character on, so overlapping occurrences are seen too
        search_from = found + body[found..].chars().next().map_or(1, char::len_utf8);
        let span = Span {
            start: chars_before,
            end: chars_before + needle_chars,
        };
        Some((found..found + needle.len(), span))
    })
}

fn only_occurrence(body: &str, text: &str) -> Result<Anchored, String> {
    let mut found = occurrences(body, text).map(|(_, span)| span);
    match (found.next(), found.next()) {
        (None, _) => Err(format!(
            "{} does not occur in the article body",
            excerpt(text)
        )),
        (Some(span), None) => Ok(Anchored {
            text: text.to_owned(),
            span,
        }),
        (Some(first), Some(second)) => Err(format!(
            "{} occurs more than once in the article body (at {} and {}, at least); give its span",
            excerpt(text),
            first.start,
            second.start
        )),
    }
}

/// Whether the match at `range` is a whole word: no letter or digit right before or after it.
fn is_whole_word(body: &str, range: &Range<usize>) -> bool {
    let before = body[..range.start].chars().next_back();
    let after = body[range.end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

fn nearest_word(body: &str, text: &str, quote: Span) -> Result<Anchored, String> {
    occurrences(body, text)
        .filter(|(range, _)| is_whole_word(body, range))
        .map(|(_, span)| span)
        .min_by_key(|span| (span.overlaps(&quote), span.gap(&quote)))
        .map(|span| Anchored {
            text: text.to_owned(),
            span,
        })
        .ok_or_else(|| {
            format!(
                "{} does not occur in the article body as a whole word",
                excerpt(text)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    const BODY: &str = "“We start from the belief that there is no alternative,” said Putin. \
                        Later Putin stressed: “Civilian casualties are unacceptable.”";

    fn draft(text: &str, span: Option<Span>) -> QuoteDraft {
        QuoteDraft {
            article: ArticleName(Uuid::nil()),
            span,
            text: text.into(),
            speaker: "Putin".into(),
            speaker_span: None,
            cue: None,
            cue_span: None,
            kind: QuoteKind::Direct,
            resolved_speaker: None,
        }
    }

    #[test]
    fn a_quote_given_only_its_text_is_found_with_code_point_offsets() {
        let quote = draft("We start from the belief", None)
            .anchor(BODY)
            .unwrap();
        // the opening curly quote is one code point, though three UTF-8 bytes
        assert_eq!(quote.quote.span, Span { start: 1, end: 25 });
    }

    #[test]
    fn a_quote_at_the_wrong_offsets_is_refused_naming_the_span() {
        let err = draft("We start", Some(Span { start: 0, end: 8 }))
            .anchor(BODY)
            .unwrap_err();
        assert_eq!(err.field, "span");
        assert!(err.description.contains("“We star"), "{}", err.description);
    }

    #[test]
    fn a_span_past_the_end_of_the_body_is_refused() {
        let len = BODY.chars().count();
        let err = draft(
            "x",
            Some(Span {
                start: len,
                end: len + 1,
            }),
        )
        .anchor(BODY)
        .unwrap_err();
        assert!(
            err.description.contains("past the end"),
            "{}",
            err.description
        );
    }

    #[test]
    fn a_span_ending_exactly_at_the_end_of_the_body_is_accepted() {
        let len = BODY.chars().count();
        let quote = draft(
            "”",
            Some(Span {
                start: len - 1,
                end: len,
            }),
        )
        .anchor(BODY)
        .unwrap();
        assert_eq!(quote.quote.text, "”");
    }

    #[test]
    fn an_ambiguous_text_is_refused_and_a_missing_one_too() {
        let err = draft("Putin", None).anchor(BODY).unwrap_err();
        assert_eq!(err.field, "text");
        assert!(err.description.contains("more than once"));
        let err = draft("Biden", None).anchor(BODY).unwrap_err();
        assert!(err.description.contains("does not occur"));
    }

    #[test]
    fn overlapping_occurrences_count_as_ambiguous() {
        let err = draft("aa", None).anchor("aaa").unwrap_err();
        assert!(err.description.contains("more than once"));
    }

    #[test]
    fn the_speaker_nearest_to_the_quote_is_taken() {
        let quote = draft("Civilian casualties are unacceptable.", None)
            .anchor(BODY)
            .unwrap();
        let last_putin = BODY.rfind("Putin").unwrap();
        assert_eq!(quote.speaker.span.start, BODY[..last_putin].chars().count());
    }

    #[test]
    fn a_speaker_must_be_a_whole_word() {
        let mut d = draft("said", None);
        d.speaker = "Put".into();
        let err = d.anchor(BODY).unwrap_err();
        assert_eq!(err.field, "speaker");
    }

    #[test]
    fn a_cue_is_anchored_near_its_quote() {
        let mut d = draft("Civilian casualties are unacceptable.", None);
        d.cue = Some("stressed".into());
        let quote = d.anchor(BODY).unwrap();
        assert_eq!(quote.cue.unwrap().text, "stressed");
    }

    #[test]
    fn a_cue_span_without_a_cue_is_refused() {
        let mut d = draft("Civilian casualties", None);
        d.cue_span = Some(Span { start: 0, end: 1 });
        assert_eq!(d.anchor(BODY).unwrap_err().field, "cue_span");
    }
}
