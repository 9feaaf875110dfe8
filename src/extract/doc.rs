//! A tokenized article with the views the rules read: lower-cased words, paragraphs, sentences
//! and the regions between quotation marks.

use std::ops::{Index, Range};

use super::lexicon;
use super::tokens::{Kind, Token, tokenize};

#[cfg(test)]
thread_local! {
    /// Work done by the extractor on this thread, counted by [`step`].
    static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts `n` steps of work: a token read, a candidate looked at, a byte copied out. Tests
/// compare the count on inputs of size n and 2n to show the work grows linearly; outside tests
/// it compiles to nothing.
#[inline(always)]
pub(super) fn step(n: usize) {
    #[cfg(test)]
    STEPS.with(|s| s.set(s.get() + n as u64));
    #[cfg(not(test))]
    let _ = n;
}

/// The steps counted on this thread so far.
#[cfg(test)]
pub(super) fn steps() -> u64 {
    STEPS.with(std::cell::Cell::get)
}

/// The tokens of an article. Every read counts a [`step`].
pub struct Tokens(Vec<Token>);

impl Tokens {
    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Token `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&Token> {
        step(1);
        self.0.get(i)
    }

    /// Every token, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Token> {
        step(self.0.len());
        self.0.iter()
    }
}

impl Index<usize> for Tokens {
    type Output = Token;
    fn index(&self, i: usize) -> &Token {
        step(1);
        &self.0[i]
    }
}

impl Index<Range<usize>> for Tokens {
    type Output = [Token];
    fn index(&self, range: Range<usize>) -> &[Token] {
        step(range.len());
        &self.0[range]
    }
}

/// A tokenized article.
pub struct Doc<'a> {
    /// The article text.
    pub text: &'a str,
    /// The text with ASCII letters lower-cased: same byte offsets, for lexicon lookups.
    lower: String,
    /// The tokens.
    pub tokens: Tokens,
    /// For each token, the index of its sentence in `sentences`.
    pub sentence_of: Vec<usize>,
    /// Sentences as token ranges; they never cross a paragraph break.
    pub sentences: Vec<Range<usize>>,
    /// Paragraphs as token ranges, breaks excluded.
    pub paragraphs: Vec<Range<usize>>,
    /// For each token, the index of its paragraph.
    pub paragraph_of: Vec<usize>,
    /// For each token, its word classes (see [`lexicon::classes`]); 0 for punctuation.
    classes: Vec<lexicon::Classes>,
    /// For each token, whether it is a word starting with an upper-case letter: the rules and
    /// the tagger ask it of most tokens several times.
    upper: Vec<bool>,
    /// For each token index (and the end), what stands before it: the questions the rules ask
    /// about any stretch of tokens, answered in constant time however long the stretch.
    before: Vec<Before>,
    /// The double quotation marks ([`Token::is_quote`]), in order.
    quote_marks: Vec<usize>,
    /// The pairs of quotation marks ([`Doc::quote_regions`]), found once: the rules and the
    /// tagger both read them.
    regions: std::sync::OnceLock<Vec<Region>>,
}

/// What stands before a token index.
#[derive(Debug, Clone, Copy, Default)]
struct Before {
    /// How many words.
    words: usize,
    /// How many double quotation marks.
    quotes: usize,
    /// One past the last token that is not a terminal, or 0: where a run of terminals ending
    /// here starts.
    nonterminal: usize,
    /// One past the last token that is neither a terminal nor a comma, or 0.
    content: usize,
}

/// The tokens between a pair of quotation marks, marks included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The opening mark's token.
    pub open: usize,
    /// The closing mark's token, or the region's last token when the quote is left open.
    pub close: usize,
}

impl<'a> Doc<'a> {
    /// Tokenizes a text and finds its paragraphs and sentences.
    pub fn new(text: &'a str) -> Self {
        let tokens = tokenize(text);
        let lower = text.to_ascii_lowercase();
        let classes = tokens
            .iter()
            .map(|t| {
                if t.is_word() {
                    lexicon::classes(&lower[t.start..t.end])
                } else {
                    0
                }
            })
            .collect();
        let upper = tokens
            .iter()
            .map(|t| t.is_word() && text[t.start..t.end].starts_with(char::is_uppercase))
            .collect();
        let n = tokens.len();
        let mut before = Vec::with_capacity(n + 1);
        let mut quote_marks = Vec::new();
        let mut at = Before::default();
        before.push(at);
        for (i, t) in tokens.iter().enumerate() {
            at.words += usize::from(t.is_word());
            if t.is_quote() {
                at.quotes += 1;
                quote_marks.push(i);
            }
            if !t.is_terminal() {
                at.nonterminal = i + 1;
                if !t.is_punct(',') {
                    at.content = i + 1;
                }
            }
            before.push(at);
        }
        let mut doc = Doc {
            text,
            lower,
            classes,
            upper,
            before,
            quote_marks,
            regions: std::sync::OnceLock::new(),
            sentence_of: vec![0; tokens.len()],
            paragraph_of: vec![0; tokens.len()],
            tokens: Tokens(tokens),
            sentences: Vec::new(),
            paragraphs: Vec::new(),
        };
        doc.segment();
        doc
    }

    fn segment(&mut self) {
        let n = self.tokens.len();
        let mut para_start = 0;
        let mut sent_start = 0;
        let mut i = 0;
        while i < n {
            let token = self.tokens[i];
            if token.kind == Kind::Break {
                if sent_start < i {
                    self.sentences.push(sent_start..i);
                }
                if para_start < i {
                    self.paragraphs.push(para_start..i);
                }
                para_start = i + 1;
                sent_start = i + 1;
                i += 1;
                continue;
            }
            if token.is_terminal() {
                // closing marks and further terminals belong to the sentence they end
                let mut end = i + 1;
                while end < n
                    && (matches!(self.tokens[end].kind, Kind::Close(_))
                        || self.tokens[end].is_terminal())
                {
                    end += 1;
                }
                let next_starts_sentence = end >= n
                    || match self.tokens[end].kind {
                        Kind::Break | Kind::Open(_) => true,
                        Kind::Word => {
                            self.starts_upper(end)
                                || self.text[self.tokens[end].start..].starts_with(char::is_numeric)
                        }
                        Kind::Punct(c) => "([—–-".contains(c),
                        Kind::Close(_) => false,
                    };
                if next_starts_sentence {
                    self.sentences.push(sent_start..end);
                    sent_start = end;
                }
                i = end;
                continue;
            }
            i += 1;
        }
        if sent_start < n {
            self.sentences.push(sent_start..n);
        }
        if para_start < n {
            self.paragraphs.push(para_start..n);
        }
        for (s, range) in self.sentences.iter().enumerate() {
            for t in range.clone() {
                self.sentence_of[t] = s;
            }
        }
        for (p, range) in self.paragraphs.iter().enumerate() {
            for t in range.clone() {
                self.paragraph_of[t] = p;
            }
        }
    }

    /// The token's text; empty past the last token.
    pub fn raw(&self, i: usize) -> &'a str {
        self.tokens
            .get(i)
            .map_or("", |t| &self.text[t.start..t.end])
    }

    /// The token's text, ASCII lower-cased; empty past the last token.
    pub fn word(&self, i: usize) -> &str {
        self.tokens
            .get(i)
            .map_or("", |t| &self.lower[t.start..t.end])
    }

    /// Whether token `i` exists and is a word.
    pub fn is_word(&self, i: usize) -> bool {
        self.tokens.get(i).is_some_and(Token::is_word)
    }

    /// Whether the token is a word starting with an upper-case letter.
    pub fn starts_upper(&self, i: usize) -> bool {
        self.upper.get(i).copied().unwrap_or(false)
    }

    /// Whether token `i` is a word of one of these classes.
    pub fn has(&self, i: usize, class: lexicon::Classes) -> bool {
        step(1);
        self.classes.get(i).is_some_and(|c| c & class != 0)
    }

    /// Whether the token is a word in the list.
    pub fn is_in(&self, i: usize, list: &[&str]) -> bool {
        self.is_word(i) && lexicon::contains(list, self.word(i))
    }

    /// Whether every letter of the word is upper-case (a transcript's "PENCE").
    pub fn is_all_caps(&self, i: usize) -> bool {
        let raw = self.raw(i);
        self.is_word(i)
            && raw.chars().any(char::is_alphabetic)
            && !raw.chars().any(char::is_lowercase)
    }

    /// How many words stand in a range of tokens (none in an empty or reversed one).
    pub fn word_count(&self, range: Range<usize>) -> usize {
        step(1);
        if range.start >= range.end {
            return 0;
        }
        self.before[range.end].words - self.before[range.start].words
    }

    /// How many double quotation marks stand in a range of tokens.
    pub fn quote_count(&self, range: Range<usize>) -> usize {
        step(1);
        if range.start >= range.end {
            return 0;
        }
        self.before[range.end].quotes - self.before[range.start].quotes
    }

    /// The first double quotation mark at or after token `from`, or the number of tokens.
    pub fn next_quote(&self, from: usize) -> usize {
        step(1);
        self.before
            .get(from)
            .and_then(|b| self.quote_marks.get(b.quotes))
            .copied()
            .unwrap_or(self.tokens.len())
    }

    /// `end` moved back over the terminals just before it, not below `floor`.
    pub fn before_terminals(&self, floor: usize, end: usize) -> usize {
        step(1);
        if end <= floor {
            return end;
        }
        self.before[end].nonterminal.max(floor)
    }

    /// The last token of a sentence's content ending at `end` (exclusive): its final
    /// punctuation (terminals and commas) left out, never below token 0.
    pub fn content_end(&self, end: usize) -> usize {
        step(1);
        let last = end.saturating_sub(1);
        self.before
            .get(last + 1)
            .map_or(last, |b| b.content.saturating_sub(1))
    }

    /// The byte range from the start of token `first` to the end of token `last`.
    pub fn bytes(&self, first: usize, last: usize) -> Range<usize> {
        self.tokens[first].start..self.tokens[last].end
    }

    /// Whether the opening mark at `open` starts a transcript line: `"PENCE: …`.
    pub fn is_transcript_line(&self, open: usize) -> bool {
        self.is_all_caps(open + 1) && self.tokens.get(open + 2).is_some_and(|t| t.is_punct(':'))
    }

    /// For each token, whether it stands between quotation marks.
    pub fn quoted(&self, regions: &[Region]) -> Vec<bool> {
        let mut quoted = vec![false; self.tokens.len()];
        for region in regions {
            for q in &mut quoted[region.open..=region.close] {
                *q = true;
            }
        }
        quoted
    }

    /// The pairs of double quotation marks, paragraph by paragraph. Marks nest: an opening
    /// mark inside an open quote opens a quote within it (`“… what he calls “hell” than …”`).
    /// A quote still open at the end of its paragraph continues into the next when that one
    /// opens with a mark (the convention for quotes of several paragraphs); otherwise it ends
    /// at its paragraph's last closing mark (the sample's unbalanced `“A. “B,” said Putin.`),
    /// or at the paragraph's end when there is none.
    pub fn quote_regions(&self) -> &[Region] {
        self.regions.get_or_init(|| self.find_quote_regions())
    }

    /// The pairs of quotation marks, as [`Doc::quote_regions`] describes them.
    fn find_quote_regions(&self) -> Vec<Region> {
        let mut regions = Vec::new();
        let mut open: Option<usize> = None;
        let mut depth = 0usize;
        let mut last_close: Option<usize> = None;
        let mut last_in_quote = 0;
        for (i, token) in self.tokens.iter().enumerate() {
            // `„…“`: after a low opening mark, `“` closes
            let german = open.is_some_and(|o| self.tokens[o].kind == Kind::Open('„'));
            let kind = match token.kind {
                Kind::Open('“') if german => Kind::Close('“'),
                // single marks count only outside double ones, where `’` may be an apostrophe
                Kind::Open('‘') | Kind::Close('’')
                    if open.is_some_and(|o| !matches!(self.tokens[o].kind, Kind::Open('‘'))) =>
                {
                    Kind::Punct('’')
                }
                Kind::Open(c)
                    if open.is_some_and(|o| self.tokens[o].kind == Kind::Open('‘')) && c != '‘' =>
                {
                    Kind::Punct(c)
                }
                other => other,
            };
            match kind {
                Kind::Open(_) => {
                    if open.is_none() {
                        open = Some(i);
                        last_close = None;
                    }
                    depth += 1;
                }
                Kind::Close(_) => {
                    if let Some(start) = open {
                        depth = depth.saturating_sub(1);
                        last_close = Some(i);
                        if depth == 0 {
                            regions.push(Region {
                                open: start,
                                close: i,
                            });
                            open = None;
                        }
                    }
                }
                Kind::Break => {
                    if let Some(start) = open {
                        // a transcript's next speaker (`"PENCE: …`) starts a quote of their own
                        // with a mark of the same style: a straight-quoted excerpt is not
                        // continued by a curly-quoted line with an attribution of its own
                        let straight = |c: char| c == '"';
                        let single = |c: char| c == '‘';
                        let same_style = match (
                            self.tokens[start].kind,
                            self.tokens.get(i + 1).map(|t| t.kind),
                        ) {
                            (Kind::Open(a), Some(Kind::Open(b))) => {
                                straight(a) == straight(b) && single(a) == single(b)
                            }
                            _ => false,
                        };
                        let continues = same_style && !self.is_transcript_line(i + 1);
                        if continues {
                            // the next paragraph's opening mark continues this quote
                            depth = 0;
                        } else {
                            let close = last_close.filter(|&c| c > start).unwrap_or(last_in_quote);
                            regions.push(Region { open: start, close });
                            open = None;
                            depth = 0;
                        }
                    }
                }
                _ => {}
            }
            if token.kind != Kind::Break {
                last_in_quote = i;
            }
        }
        if let Some(start) = open {
            let close = last_close.filter(|&c| c > start).unwrap_or(last_in_quote);
            regions.push(Region { open: start, close });
        }
        regions
    }
}
