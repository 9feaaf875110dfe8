//! The learned tagger over the rules: it reads the rules' findings as features, with the words
//! around each token and how near a cue word stands, and tags each token of the paragraphs that
//! hold quotation marks as outside, content (what was said) or source (who said it). It
//! corrects the rules rather than replacing them: it redraws their quotations' extent and adds
//! quotes they missed when it also drew their source; their reported speech and their speakers
//! stay ([`quotes`] says how the two are joined, and why).
//!
//! The model is a linear-chain tagger (five labels, Viterbi decoding) whose weights were learnt
//! by an averaged structured perceptron ([`train`]) on PolNeAR's training compartment; they ship
//! beside this file (`model.bin`, with the cue words and their strengths in `cues.tsv`), both
//! written by `claim-registry tagger train`. `claim-registry tagger cv` measures the same
//! procedure by article-level cross-validation, never scoring an article with weights or cue
//! words learnt from it.

pub mod train;

use std::collections::HashMap;
use std::sync::OnceLock;

use foldhash::fast::FixedState;

use super::doc::{Doc, step};
use super::rules::{self, Found};
use super::tokens::Kind;
use crate::domain::QuoteKind;

/// How many labels a token can take: see [`Label`].
pub const LABELS: usize = 5;

/// What a token is to an attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Label {
    /// Neither what was said nor who said it.
    Outside = 0,
    /// The first token of what was said.
    ContentBegin = 1,
    /// A later token of what was said.
    Content = 2,
    /// The first token of who said it.
    SourceBegin = 3,
    /// A later token of who said it.
    Source = 4,
}

impl Label {
    /// The label of an index below [`LABELS`].
    fn of(index: usize) -> Label {
        [
            Label::Outside,
            Label::ContentBegin,
            Label::Content,
            Label::SourceBegin,
            Label::Source,
        ][index]
    }

    /// Whether a token with this label may follow one with label `before`: a span's later
    /// tokens follow its first or another of its later tokens.
    fn may_follow(self, before: Option<Label>) -> bool {
        match self {
            Label::Content => matches!(before, Some(Label::ContentBegin | Label::Content)),
            Label::Source => matches!(before, Some(Label::SourceBegin | Label::Source)),
            _ => true,
        }
    }
}

/// How many features every token has: one per template of [`features`].
pub const FEATURES: usize = 28;

/// The longest source the tagger draws, in words, as the rules' limit.
const MAX_SOURCE_WORDS: usize = 8;

/// The FNV-1a hash of a string: feature values are hashed, never kept as strings.
pub(crate) const fn fnv(text: &str) -> u64 {
    let bytes = text.as_bytes();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash = (hash ^ bytes[i] as u64).wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The hashes of the words the features name.
const THAT: u64 = fnv("that");
const SENTENCE_START: u64 = fnv("<s>");
const SENTENCE_END: u64 = fnv("</s>");

/// The key of a feature: its template and its value, mixed so that no template's values
/// collide with another's.
fn key(template: u64, value: u64) -> u64 {
    let mut x = value ^ template.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Words that attribute speech, with how often each stands inside an annotated cue where it
/// occurs (0.1 to 1): learnt from the training data with the weights.
#[derive(Debug, Clone, Default)]
pub struct Cues(HashMap<u64, f32, FixedState>);

impl Cues {
    /// The cue words from `word<TAB>strength` lines.
    pub fn parse(text: &str) -> Cues {
        Cues(
            text.lines()
                .filter(|line| !line.starts_with('#'))
                .filter_map(|line| {
                    let (word, strength) = line.split_once('\t')?;
                    Some((fnv(word), strength.trim().parse().ok()?))
                })
                .collect(),
        )
    }

    /// The cue words from their hashes and strengths.
    pub fn from_hashes(words: impl IntoIterator<Item = (u64, f32)>) -> Cues {
        Cues(words.into_iter().collect())
    }

    /// How strong a cue a word (by its hash) is.
    fn strength(&self, word: u64) -> Option<f32> {
        self.0.get(&word).copied()
    }
}

/// The cue strength from which a word counts as a cue for distances.
const STRONG_CUE: f32 = 0.3;

/// A strength in three buckets (1 weak, 2 middling, 3 strong), 0 for none.
fn strength_bucket(strength: Option<f32>) -> u64 {
    match strength {
        None => 0,
        Some(s) if s >= 0.6 => 3,
        Some(s) if s >= STRONG_CUE => 2,
        Some(_) => 1,
    }
}

/// A distance in tokens in buckets: 0 to 3 as they are, then 4–6 (4), 7–12 (5) and further
/// (6); 7 stands for no distance at all.
fn distance_bucket(distance: usize) -> u64 {
    match distance {
        0..=3 => distance as u64,
        4..=6 => 4,
        7..=12 => 5,
        _ => 6,
    }
}

/// No distance: no strong cue on that side in the sentence.
const NO_DISTANCE: u64 = 7;

/// The hash of a word's shape: upper-case letters as `X`, lower-case as `x`, digits as `d`,
/// runs longer than two cut to two, at most five characters (`Xxx`, `dd,dd`).
fn shape(word: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let (mut last, mut run, mut len) = (0, 0, 0);
    let mut rest = word;
    while let Some(&byte) = rest.as_bytes().first() {
        // ASCII by table, the rest by Unicode's cases
        let class = if byte.is_ascii() {
            rest = &rest[1..];
            u32::from(ASCII_SHAPE[usize::from(byte)])
        } else {
            let c = rest.chars().next().unwrap_or_default();
            rest = &rest[c.len_utf8()..];
            u32::from(shape_class(c))
        };
        run = if class == last { run + 1 } else { 1 };
        last = class;
        if run > 2 {
            continue;
        }
        hash = (hash ^ u64::from(class)).wrapping_mul(0x0100_0000_01b3);
        len += 1;
        if len == 5 {
            break;
        }
    }
    hash
}

/// A character's class in a shape: `X` upper-case, `x` lower-case, `d` an ASCII digit, else
/// the character itself.
fn shape_class(c: char) -> char {
    match c {
        c if c.is_uppercase() => 'X',
        c if c.is_lowercase() => 'x',
        c if c.is_ascii_digit() => 'd',
        c => c,
    }
}

/// [`shape_class`] of each ASCII byte, looked up rather than asked of Unicode's tables.
const ASCII_SHAPE: [u8; 128] = {
    let mut classes = [0; 128];
    let mut byte = 0;
    while byte < 128 {
        classes[byte] = match byte as u8 {
            b'A'..=b'Z' => b'X',
            b'a'..=b'z' => b'x',
            b'0'..=b'9' => b'd',
            b => b,
        };
        byte += 1;
    }
    classes
};

/// The hash of a word's last three characters.
fn suffix(word: &str) -> u64 {
    let bytes = word.as_bytes();
    // three ASCII bytes at the end are three characters
    let start = if bytes.len() >= 3 && bytes[bytes.len() - 3..].is_ascii() {
        bytes.len() - 3
    } else {
        word.char_indices()
            .rev()
            .nth(2)
            .map_or(0, |(index, _)| index)
    };
    fnv(&word[start..])
}

/// An article as the tagger reads it: its tokens but paragraph breaks, each with its features.
pub struct Sequence {
    /// The document's index of each token read.
    pub tokens: Vec<usize>,
    /// Whether the tagger tags each (else it is outside every quote, whatever its features).
    pub tagged: Vec<bool>,
    /// [`FEATURES`] feature keys per token.
    pub keys: Vec<u64>,
}

impl Sequence {
    /// How many tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The score of each label for each token, by the weights `weight` gives a feature key;
    /// a token the tagger does not tag is outside.
    pub fn emissions<'w>(
        &self,
        weight: impl Fn(&u64) -> Option<&'w [f32; LABELS]>,
    ) -> Vec<[f32; LABELS]> {
        (0..self.len())
            .map(|p| match self.tagged[p] {
                false => OUTSIDE_ONLY,
                true => {
                    let mut scores = [0.0; LABELS];
                    for weights in self.features(p).iter().filter_map(&weight) {
                        add(&mut scores, weights);
                    }
                    scores
                }
            })
            .collect()
    }

    /// The feature keys of token `p`.
    pub fn features(&self, p: usize) -> &[u64] {
        &self.keys[p * FEATURES..(p + 1) * FEATURES]
    }
}

/// What the rules said of a token, as one feature value: 0 outside their quotes, else the
/// quote's kind and whether the token begins it.
fn rules_tag(kind: QuoteKind, begins: bool) -> u8 {
    let kind = match kind {
        QuoteKind::Direct => 0,
        QuoteKind::Indirect => 1,
        QuoteKind::Mixed => 2,
    };
    1 + 2 * kind + u8::from(!begins)
}

/// The template whose value is the word of the strong cue before the token.
const PREVIOUS_CUE_WORD: usize = 14;

/// How many values each template with small values (buckets, flags, the rules' tags) takes,
/// from 0; 0 for the templates that take words' hashes (1 to 3, 5 to 8 and
/// [`PREVIOUS_CUE_WORD`]).
const RADIX: [usize; FEATURES] = [
    1, 0, 0, 0, 2, 0, 0, 0, 0, 7, 7, 2, 4, 8, 0, 2, 8, 9, 4, 9, 9, 9, 2, 7, 4, 8, 3, 2,
];

/// The small templates in groups whose weights are summed ahead, one row per combination of
/// their values: a token adds four rows rather than nineteen.
const GROUPS: [&[usize]; 4] = [
    &[0, 9, 10, 13, 16],
    &[19, 20, 21, 23],
    &[11, 12, 15, 17, 18, 22],
    &[4, 24, 25, 26, 27],
];

/// The row of a group's table for these values of its templates (mixed radix).
fn group_index(group: &[usize], values: &[u64; FEATURES]) -> usize {
    group.iter().fold(0, |index, &template| {
        index * RADIX[template] + (values[template] as usize).min(RADIX[template] - 1)
    })
}

/// The tokens the tagger reads and whether it tags each: those of the paragraphs with
/// quotation marks, each paragraph with two tokens either side for its words' neighbours (not
/// tagged). That is where the tagger draws quotes better than the rules (cross-validated on
/// PolNeAR's training compartment, the other paragraphs add 0.3 points of F1 over all
/// attribution types and nothing to quotations), and it is about a third of an article: tagging
/// the rest would halve the extractor's speed.
fn read_tokens(doc: &Doc<'_>) -> (Vec<usize>, Vec<bool>) {
    // per document token: 0 not read, 1 read for its neighbours, 2 tagged
    let mut state = vec![0u8; doc.tokens.len()];
    let is_break = |t: usize| doc.tokens[t].kind == Kind::Break;
    for paragraph in &doc.paragraphs {
        if paragraph.is_empty() || doc.quote_count(paragraph.clone()) == 0 {
            continue;
        }
        state[paragraph.clone()].iter_mut().for_each(|s| *s = 2);
        let before = (0..paragraph.start).rev().filter(|&t| !is_break(t)).take(2);
        let after = (paragraph.end..doc.tokens.len())
            .filter(|&t| !is_break(t))
            .take(2);
        for t in before.chain(after) {
            state[t] = state[t].max(1);
        }
    }
    let tokens: Vec<usize> = (0..doc.tokens.len())
        .filter(|&t| state[t] > 0 && !is_break(t))
        .collect();
    let tagged = tokens.iter().map(|&t| state[t] == 2).collect();
    (tokens, tagged)
}

/// An article read for features: what each template needs, computed once.
struct Context<'d, 'a> {
    doc: &'d Doc<'a>,
    /// The document's index of each token read.
    tokens: Vec<usize>,
    /// Whether the tagger reads each token (else it is outside every quote).
    tagged: Vec<bool>,
    /// The hash of each token's lower-cased text.
    words: Vec<u64>,
    /// Each token's strength as a cue word.
    strengths: Vec<Option<f32>>,
    /// By document token: the rules' tag ([`rules_tag`]), whether in a rules speaker, in a
    /// rules cue, between quotation marks.
    tag: Vec<u8>,
    speaker: Vec<bool>,
    cue: Vec<bool>,
    quoted: Vec<bool>,
    /// By sentence: the rules' tag of a quote beginning in it.
    sentence_kind: Vec<u8>,
    /// By token read: where its sentence starts and ends, the strong cues before and after it.
    starts: Vec<usize>,
    ends: Vec<usize>,
    previous_cue: Vec<Option<usize>>,
    next_cue: Vec<Option<usize>>,
}

impl<'d, 'a> Context<'d, 'a> {
    fn new(doc: &'d Doc<'a>, found: &[Found], cues: &Cues) -> Self {
        let count = doc.tokens.len();
        let (tokens, tagged) = read_tokens(doc);
        let n = tokens.len();
        let words: Vec<u64> = tokens.iter().map(|&t| fnv(doc.word(t))).collect();
        let strengths: Vec<Option<f32>> = tokens
            .iter()
            .zip(&words)
            .map(|(&t, &w)| {
                if doc.is_word(t) {
                    cues.strength(w)
                } else {
                    None
                }
            })
            .collect();
        let mut tag = vec![0u8; count];
        let mut speaker = vec![false; count];
        let mut cue = vec![false; count];
        let mut sentence_kind = vec![0u8; doc.sentences.len()];
        for f in found {
            let (first, last) = f.quote;
            step(last + 1 - first);
            for (t, tag) in tag.iter_mut().enumerate().take(last + 1).skip(first) {
                *tag = rules_tag(f.kind, t == first);
            }
            if let Some(s) = doc.sentence_of.get(first) {
                sentence_kind[*s] = rules_tag(f.kind, true);
            }
            for (span, marks) in [(f.speaker, &mut speaker), (f.cue, &mut cue)] {
                if let Some((a, b)) = span {
                    marks[a..=b].iter_mut().for_each(|m| *m = true);
                }
            }
        }
        let quoted = doc.quoted(doc.quote_regions());
        let sentence = |p: usize| doc.sentence_of[tokens[p]];
        let strong = |p: usize| strengths[p].is_some_and(|s| s >= STRONG_CUE);
        let mut starts = vec![0; n];
        let mut previous_cue = vec![None; n];
        for p in 0..n {
            let same = p > 0 && sentence(p) == sentence(p - 1);
            starts[p] = if same { starts[p - 1] } else { p };
            previous_cue[p] = match same {
                false => None,
                true if strong(p - 1) => Some(p - 1),
                true => previous_cue[p - 1],
            };
        }
        let mut ends = vec![0; n];
        let mut next_cue = vec![None; n];
        for p in (0..n).rev() {
            let same = p + 1 < n && sentence(p) == sentence(p + 1);
            ends[p] = if same { ends[p + 1] } else { p };
            next_cue[p] = match same {
                false => None,
                true if strong(p + 1) => Some(p + 1),
                true => next_cue[p + 1],
            };
        }
        Context {
            doc,
            tagged,
            tokens,
            words,
            strengths,
            tag,
            speaker,
            cue,
            quoted,
            sentence_kind,
            starts,
            ends,
            previous_cue,
            next_cue,
        }
    }

    /// The hash of the lower-cased word at `p`, or of a marker before the first and after the
    /// last token.
    fn word_at(&self, p: isize) -> u64 {
        if p < 0 {
            SENTENCE_START
        } else {
            self.words.get(p as usize).copied().unwrap_or(SENTENCE_END)
        }
    }

    /// The values of the templates at token `p`; those of the word templates (1 to 3, 5 to 8)
    /// only when `words` is set (fast tagging looks them up otherwise), else 0.
    fn values(&self, p: usize, words: bool) -> [u64; FEATURES] {
        let doc = self.doc;
        let t = self.tokens[p];
        step(1);
        let i = p as isize;
        // the rules' tags are 0 to 6; 7 before the first token, 8 after the last
        let tag_at = |p: isize| -> u64 {
            if p < 0 {
                7
            } else {
                self.tokens
                    .get(p as usize)
                    .map_or(8, |&t| u64::from(self.tag[t]))
            }
        };
        let in_quote = |q: usize| self.tokens.get(q).is_some_and(|&t| self.quoted[t]);
        let near = |d: Option<usize>| d.map_or(2, |d| u64::from(d > 3));
        let before = self.previous_cue[p].map(|c| p - c);
        let after = self.next_cue[p].map(|c| c - p);
        let mark = match doc.tokens[t].kind {
            Kind::Open(_) => 1,
            Kind::Close(_) => 2,
            _ => 0,
        };
        let mut values = [
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            distance_bucket(p - self.starts[p]),
            distance_bucket(self.ends[p] - p),
            u64::from(p == 0 || doc.paragraph_of[t] != doc.paragraph_of[self.tokens[p - 1]]),
            strength_bucket(self.strengths[p]),
            before.map_or(NO_DISTANCE, distance_bucket),
            self.previous_cue[p].map_or(0, |c| self.words[c]),
            u64::from(self.words[p] == THAT && before.is_some_and(|d| d <= 2)),
            after.map_or(NO_DISTANCE, distance_bucket),
            near(before) * 3 + near(after),
            strength_bucket(p.checked_sub(1).and_then(|q| self.strengths[q])),
            tag_at(i),
            tag_at(i - 1),
            tag_at(i + 1),
            u64::from(self.speaker[t]),
            u64::from(self.sentence_kind[doc.sentence_of[t]]),
            u64::from(self.tag[t] != 0) * 2 + u64::from(self.quoted[t]),
            u64::from(p > 0 && in_quote(p - 1)) * 4
                + u64::from(self.quoted[t]) * 2
                + u64::from(in_quote(p + 1)),
            mark,
            u64::from(self.cue[t]),
        ];
        values[4] = u64::from(doc.starts_upper(t));
        if words {
            values[1] = self.words[p];
            values[2] = shape(doc.raw(t));
            values[3] = suffix(doc.word(t));
            values[5] = self.word_at(i - 2);
            values[6] = self.word_at(i - 1);
            values[7] = self.word_at(i + 1);
            values[8] = self.word_at(i + 2);
        }
        values
    }
}

/// The features of every token of an article, as keys: bias; the word, its shape, its last
/// three letters, whether capitalised; the words two and one before and after; how far from
/// its sentence's start and end; whether it starts a paragraph; its strength as a cue, the
/// distance to the strong cues before and after it and the word of the one before, whether it
/// is a "that" just after a cue, the strength of the word before; the rules' tag of it and its
/// neighbours, whether the rules read it as a speaker, what the rules found in its sentence;
/// whether it and its neighbours stand between quotation marks, whether it is one; whether the
/// rules read it as a cue.
pub fn features(doc: &Doc<'_>, found: &[Found], cues: &Cues) -> Sequence {
    let context = Context::new(doc, found, cues);
    let mut keys = Vec::with_capacity(context.tokens.len() * FEATURES);
    for p in 0..context.tokens.len() {
        let values = context.values(p, true);
        keys.extend(
            values
                .iter()
                .enumerate()
                .map(|(template, &value)| key(template as u64, value)),
        );
    }
    Sequence {
        tokens: context.tokens,
        tagged: context.tagged,
        keys,
    }
}

/// The scores of a token the tagger does not read: outside, whatever its features.
const OUTSIDE_ONLY: [f32; LABELS] = [
    0.0,
    f32::NEG_INFINITY,
    f32::NEG_INFINITY,
    f32::NEG_INFINITY,
    f32::NEG_INFINITY,
];

/// The weights laid out for tagging fast: the small templates' weights summed ahead by group
/// ([`GROUPS`]), the previous cue word's by word. The word templates' weights are looked up
/// once per distinct word of an article rather than once per token.
#[derive(Debug, Clone)]
struct Tables {
    /// By group, the summed weights of each combination of its templates' values.
    groups: Vec<Vec<[f32; LABELS]>>,
    /// The weights of [`PREVIOUS_CUE_WORD`], by the hash of the cue word.
    previous_cue_word: HashMap<u64, [f32; LABELS], FixedState>,
    /// By word, its weights as the token's word and as the word two and one before, one and
    /// two after.
    words: HashMap<u64, [[f32; LABELS]; 5], FixedState>,
    /// The weights of a token's last three letters, and of its shape.
    suffixes: HashMap<u64, [f32; LABELS], FixedState>,
    shapes: HashMap<u64, [f32; LABELS], FixedState>,
}

/// Adds one row of weights to another.
fn add(scores: &mut [f32; LABELS], weights: &[f32; LABELS]) {
    for (score, weight) in scores.iter_mut().zip(weights) {
        *score += weight;
    }
}

/// A linear-chain tagger: a weight per feature and label, and one per pair of labels in a row.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The weights of each feature key, per label.
    pub weights: HashMap<u64, [f32; LABELS], FixedState>,
    /// The weight of label `b` after label `a`, at `[a][b]`.
    pub transitions: [[f32; LABELS]; LABELS],
    /// The cue words the features read.
    pub cues: Cues,
    /// The weights laid out for tagging, made on first use.
    tables: OnceLock<Tables>,
    /// The hashes of the words, suffixes and shapes that have weights: what the tables for
    /// fast tagging are laid out by.
    pub vocabulary: Vocabulary,
}

/// The values of the word templates seen in training, by hash: the words (lower-cased),
/// their last three letters and their shapes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vocabulary {
    /// Hashes of lower-cased words.
    pub words: Vec<u64>,
    /// Hashes of words' last three letters.
    pub suffixes: Vec<u64>,
    /// Hashes of words' shapes.
    pub shapes: Vec<u64>,
}

impl Vocabulary {
    /// The values of the word templates of every token the tagger reads in a document.
    pub fn add(&mut self, doc: &Doc<'_>) {
        for t in read_tokens(doc).0 {
            self.words.push(fnv(doc.word(t)));
            self.suffixes.push(suffix(doc.word(t)));
            self.shapes.push(shape(doc.raw(t)));
        }
    }

    /// Keeps the values with weights in a model, sorted, once each.
    fn keep(&mut self, weights: &HashMap<u64, [f32; LABELS], FixedState>) {
        let has = |template: u64, value: u64| weights.contains_key(&key(template, value));
        let lists: [(&mut Vec<u64>, &[u64]); 3] = [
            (&mut self.words, &[1, 5, 6, 7, 8]),
            (&mut self.suffixes, &[3]),
            (&mut self.shapes, &[2]),
        ];
        for (list, templates) in lists {
            list.sort_unstable();
            list.dedup();
            list.retain(|&v| templates.iter().any(|&t| has(t, v)));
        }
    }
}

/// The magic bytes of a weights file, with its format's version.
const MAGIC: &[u8; 8] = b"CRTAG02\n";

impl Model {
    /// A model of these weights and cue words.
    pub fn new(
        weights: HashMap<u64, [f32; LABELS], FixedState>,
        transitions: [[f32; LABELS]; LABELS],
        cues: Cues,
        mut vocabulary: Vocabulary,
    ) -> Model {
        vocabulary.keep(&weights);
        Model {
            weights,
            transitions,
            cues,
            tables: OnceLock::new(),
            vocabulary,
        }
    }

    /// The tagger that ships with the code.
    pub fn shipped() -> &'static Model {
        static MODEL: OnceLock<Model> = OnceLock::new();
        MODEL.get_or_init(|| {
            Model::read(include_bytes!("model.bin"), include_str!("cues.tsv"))
                .expect("the shipped tagger model is well formed")
        })
    }

    /// A model from the bytes of a weights file and the text of a cue list.
    pub fn read(bytes: &[u8], cues: &str) -> Option<Model> {
        let rest = bytes.strip_prefix(MAGIC)?;
        let floats = |rest: &mut &[u8]| -> Option<f32> {
            let (head, tail) = rest.split_first_chunk::<4>()?;
            *rest = tail;
            Some(f32::from_le_bytes(*head))
        };
        let mut rest = rest;
        let mut transitions = [[0.0; LABELS]; LABELS];
        for row in &mut transitions {
            for weight in row {
                *weight = floats(&mut rest)?;
            }
        }
        let mut vocabulary = Vocabulary::default();
        for list in [
            &mut vocabulary.words,
            &mut vocabulary.suffixes,
            &mut vocabulary.shapes,
        ] {
            let (count, tail) = rest.split_first_chunk::<4>()?;
            rest = tail;
            for _ in 0..u32::from_le_bytes(*count) {
                let (hash, tail) = rest.split_first_chunk::<8>()?;
                rest = tail;
                list.push(u64::from_le_bytes(*hash));
            }
        }
        let mut weights = HashMap::with_hasher(FixedState::default());
        while !rest.is_empty() {
            let (head, tail) = rest.split_first_chunk::<8>()?;
            rest = tail;
            let mut row = [0.0; LABELS];
            for weight in &mut row {
                *weight = floats(&mut rest)?;
            }
            weights.insert(u64::from_le_bytes(*head), row);
        }
        Some(Model::new(
            weights,
            transitions,
            Cues::parse(cues),
            vocabulary,
        ))
    }

    /// The bytes of its weights file: the magic, the transitions, the vocabulary (a count
    /// and the hashes, for words, suffixes and shapes), then each feature's key and weights, by
    /// key, all little-endian.
    pub fn weights_file(&self) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        for weight in self.transitions.iter().flatten() {
            bytes.extend(weight.to_le_bytes());
        }
        let vocabulary = &self.vocabulary;
        for list in [&vocabulary.words, &vocabulary.suffixes, &vocabulary.shapes] {
            bytes.extend((list.len() as u32).to_le_bytes());
            for hash in list {
                bytes.extend(hash.to_le_bytes());
            }
        }
        let mut keys: Vec<_> = self.weights.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            bytes.extend(key.to_le_bytes());
            for weight in self.weights[&key] {
                bytes.extend(weight.to_le_bytes());
            }
        }
        bytes
    }

    /// The score of each label for each token.
    pub fn emissions(&self, sequence: &Sequence) -> Vec<[f32; LABELS]> {
        sequence.emissions(|key| self.weights.get(key))
    }

    /// The best labels for a sequence.
    pub fn tag(&self, sequence: &Sequence) -> Vec<Label> {
        viterbi(&self.emissions(sequence), &self.transitions)
    }

    /// The weight of a feature, if it has one.
    fn weight(&self, template: usize, value: u64) -> Option<&[f32; LABELS]> {
        self.weights.get(&key(template as u64, value))
    }

    fn tables(&self) -> &Tables {
        self.tables.get_or_init(|| {
            let weight =
                |template, value| self.weight(template, value).copied().unwrap_or_default();
            let group_table = |group: &[usize]| -> Vec<[f32; LABELS]> {
                let size: usize = group.iter().map(|&t| RADIX[t]).product();
                (0..size)
                    .map(|mut index| {
                        let mut row = [0.0; LABELS];
                        for &template in group.iter().rev() {
                            let value = index % RADIX[template];
                            index /= RADIX[template];
                            add(&mut row, &weight(template, value as u64));
                        }
                        row
                    })
                    .collect()
            };
            Tables {
                groups: GROUPS.iter().map(|group| group_table(group)).collect(),
                previous_cue_word: self
                    .cues
                    .0
                    .keys()
                    .chain([&0])
                    .map(|&word| (word, weight(PREVIOUS_CUE_WORD, word)))
                    .collect(),
                words: self
                    .vocabulary
                    .words
                    .iter()
                    .map(|&word| (word, [1, 5, 6, 7, 8].map(|template| weight(template, word))))
                    .collect(),
                suffixes: (self.vocabulary.suffixes.iter())
                    .map(|&suffix| (suffix, weight(3, suffix)))
                    .collect(),
                shapes: (self.vocabulary.shapes.iter())
                    .map(|&shape| (shape, weight(2, shape)))
                    .collect(),
            }
        })
    }

    /// The scores of [`Model::emissions`] without building every key: the small templates'
    /// weights come summed from tables, the word templates' from one lookup per token.
    fn emissions_fast(&self, context: &Context<'_, '_>) -> Vec<[f32; LABELS]> {
        let tables = self.tables();
        let doc = context.doc;
        let n = context.tokens.len();
        let zero = [0.0; LABELS];
        let row = |template, value| self.weight(template, value).copied().unwrap_or(zero);
        // each token's word, for itself and for its neighbours
        let words: Vec<Option<&[[f32; LABELS]; 5]>> = (context.words.iter())
            .map(|word| tables.words.get(word))
            .collect();
        let start = [5, 6].map(|template| row(template, SENTENCE_START));
        let end = [7, 8].map(|template| row(template, SENTENCE_END));
        let around = |q: Option<usize>, role: usize, edge: &[f32; LABELS]| -> [f32; LABELS] {
            match q {
                Some(q) if q < n => words[q].map_or(zero, |w| w[role]),
                _ => *edge,
            }
        };
        (0..n)
            .map(|p| {
                if !context.tagged[p] {
                    return OUTSIDE_ONLY;
                }
                let t = context.tokens[p];
                let mut scores = words[p].map_or(zero, |w| w[0]);
                add(&mut scores, &around(p.checked_sub(2), 1, &start[0]));
                add(&mut scores, &around(p.checked_sub(1), 2, &start[1]));
                add(&mut scores, &around(Some(p + 1), 3, &end[0]));
                add(&mut scores, &around(Some(p + 2), 4, &end[1]));
                if let Some(weights) = tables.suffixes.get(&suffix(doc.word(t))) {
                    add(&mut scores, weights);
                }
                if let Some(weights) = tables.shapes.get(&shape(doc.raw(t))) {
                    add(&mut scores, weights);
                }
                let values = context.values(p, false);
                for (group, table) in GROUPS.iter().zip(&tables.groups) {
                    add(&mut scores, &table[group_index(group, &values)]);
                }
                if let Some(weights) = tables.previous_cue_word.get(&values[PREVIOUS_CUE_WORD]) {
                    add(&mut scores, weights);
                }
                scores
            })
            .collect()
    }
}

/// The label sequence of highest score, among those where every label may follow the one
/// before it ([`Label::may_follow`]).
pub fn viterbi(emissions: &[[f32; LABELS]], transitions: &[[f32; LABELS]; LABELS]) -> Vec<Label> {
    let n = emissions.len();
    if n == 0 {
        return Vec::new();
    }
    let mut back = vec![[0u8; LABELS]; n];
    let mut score = [f32::NEG_INFINITY; LABELS];
    for (label, s) in score.iter_mut().enumerate() {
        if Label::of(label).may_follow(None) {
            *s = emissions[0][label];
        }
    }
    for p in 1..n {
        let mut next = [f32::NEG_INFINITY; LABELS];
        for (label, cell) in next.iter_mut().enumerate() {
            let this = Label::of(label);
            for (before, &s) in score.iter().enumerate() {
                if !this.may_follow(Some(Label::of(before))) {
                    continue;
                }
                let candidate = s + transitions[before][label];
                if candidate > *cell {
                    *cell = candidate;
                    back[p][label] = before as u8;
                }
            }
            *cell += emissions[p][label];
        }
        score = next;
    }
    // the first best: with no weights at all, every token is outside
    let mut best = 0;
    for label in 1..LABELS {
        if score[label] > score[best] {
            best = label;
        }
    }
    let mut labels = vec![Label::Outside; n];
    for p in (0..n).rev() {
        labels[p] = Label::of(best);
        best = usize::from(back[p][best]);
    }
    labels
}

/// The runs of a span's labels, as (first, last) positions: a run starts at `begin` or at an
/// `inside` not preceded by the run's labels.
fn runs(labels: &[Label], begin: Label, inside: Label) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (p, &label) in labels.iter().enumerate() {
        let continues =
            label == inside && p > 0 && matches!(labels[p - 1], l if l == begin || l == inside);
        if continues {
            if let Some(run) = runs.last_mut() {
                run.1 = p;
            }
        } else if label == begin || label == inside {
            runs.push((p, p));
        }
    }
    runs
}

/// The source the tagger drew nearest a quote, in the quote's first or last sentence or within
/// it, one before it preferred to one after at the same distance. Sources are disjoint, in text
/// order and apart from quotes: the nearest is the last before, the first after, or the first
/// or last within, found by binary search.
fn nearest_source(
    sources: &[(usize, usize)],
    (first, last): (usize, usize),
    sentence_of: impl Fn(usize) -> usize,
) -> Option<(usize, usize)> {
    let sentences = [sentence_of(first), sentence_of(last)];
    let before = sources.partition_point(|&(_, end)| end < first);
    let after = sources.partition_point(|&(start, _)| start <= last);
    let candidates = [
        before.checked_sub(1),
        (before < after).then_some(before),
        after.checked_sub(1).filter(|&i| i >= before),
        (after < sources.len()).then_some(after),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|i| sources[i])
        .filter(|&(a, b)| {
            sentences.contains(&sentence_of(a))
                || sentences.contains(&sentence_of(b))
                || (first <= a && b <= last)
        })
        .min_by_key(|&(a, b)| 2 * a.abs_diff(last).min(b.abs_diff(first)) + usize::from(b >= first))
}

/// Direct when every word of a quote stands between quotation marks, mixed when some do,
/// indirect when none does: the tagger's quotes may leave out a closing mark or take in a
/// comma, which the rules' test of the marks at either end would read as mixed.
fn kind_of(doc: &Doc<'_>, quoted: &[bool], first: usize, last: usize) -> QuoteKind {
    let words = (first..=last).filter(|&t| doc.is_word(t));
    let (all, inside) = words.fold((0, 0), |(all, inside), t| {
        (all + 1, inside + usize::from(quoted[t]))
    });
    match inside {
        0 => QuoteKind::Indirect,
        n if n == all => QuoteKind::Direct,
        _ => QuoteKind::Mixed,
    }
}

/// The fewest words a quote the rules did not find must have for the tagger to draw it: its
/// shorter ones are wrong more often than right (cross-validated on PolNeAR's training
/// compartment).
const MIN_NEW_QUOTE_WORDS: usize = 6;

/// The article's quotes: the rules' findings, redrawn by the tagger where it reads them
/// otherwise. Chosen by article-level cross-validation on PolNeAR's training compartment:
/// - a quote of the tagger's that overlaps a direct or mixed quote of the rules replaces it
///   (the tagger draws quotation's extent better), keeping the rules' speaker when they found
///   one (theirs is right more often);
/// - the rules' reported speech stays as they read it: the tagger's version overlapping it is
///   dropped;
/// - a quote only the tagger finds is kept when it has [`MIN_NEW_QUOTE_WORDS`] words and a
///   source the tagger drew in its sentence, since a speaker found any other way is wrong more
///   often than not for such quotes; reported speech only the tagger finds must also follow
///   its source (before it, it is mostly a topic: "Commenting on the situation, he said …").
pub fn quotes(doc: &Doc<'_>, found: Vec<Found>, model: &Model) -> Vec<Found> {
    let context = Context::new(doc, &found, &model.cues);
    let labels = viterbi(&model.emissions_fast(&context), &model.transitions);
    let (tokens, quoted) = (context.tokens, context.quoted);
    let to_doc = |(a, b): (usize, usize)| (tokens[a], tokens[b]);
    let contents: Vec<(usize, usize)> = runs(&labels, Label::ContentBegin, Label::Content)
        .into_iter()
        .map(to_doc)
        .filter(|&(a, b)| doc.word_count(a..b + 1) > 0)
        .collect();
    let sources: Vec<(usize, usize)> = runs(&labels, Label::SourceBegin, Label::Source)
        .into_iter()
        .map(to_doc)
        .filter(|&(a, b)| {
            let words = doc.word_count(a..b + 1);
            words > 0 && words <= MAX_SOURCE_WORDS && !rules::too_long(&doc.text[doc.bytes(a, b)])
        })
        .collect();
    let overlaps = |(a, b): (usize, usize), (c, d): (usize, usize)| a <= d && c <= b;
    let sentence_of = |t: usize| doc.sentence_of[t];
    let reported = |f: &Found| f.kind == QuoteKind::Indirect;
    // the rules' quotes by first token, swept along with the tagger's (both in text order): the
    // ones overlapping the current quote, each looked at once per quote it overlaps, which is
    // linear in all (the tagger's quotes are disjoint, the rules' nest at most three deep)
    let mut by_start: Vec<&Found> = found.iter().collect();
    by_start.sort_by_key(|f| f.quote);
    let (mut next, mut active): (usize, Vec<&Found>) = (0, Vec::new());
    let mut quotes: Vec<Found> = Vec::new();
    for &(first, last) in &contents {
        step(1);
        while next < by_start.len() && by_start[next].quote.0 <= last {
            active.push(by_start[next]);
            next += 1;
        }
        active.retain(|f| f.quote.1 >= first);
        step(active.len());
        // the rules' quote overlapping this one the most
        let rules_quote = active
            .iter()
            .copied()
            .max_by_key(|f| f.quote.1.min(last) + 1 - f.quote.0.max(first));
        if rules_quote.is_some_and(reported) {
            continue;
        }
        let tagged = nearest_source(&sources, (first, last), sentence_of);
        let kind = kind_of(doc, &quoted, first, last);
        let speaker = match rules_quote {
            Some(f) => f.speaker.or(tagged),
            None if tagged.is_some_and(|(_, end)| end < first || kind != QuoteKind::Indirect)
                && doc.word_count(first..last + 1) >= MIN_NEW_QUOTE_WORDS =>
            {
                tagged
            }
            None => continue,
        };
        quotes.push(Found {
            quote: (first, last),
            speaker,
            cue: rules_quote.and_then(|f| f.cue),
            kind,
        });
    }
    // the tagger's quotes are disjoint and in order: one binary search says whether a rules'
    // quote overlaps any
    let drawn: Vec<(usize, usize)> = quotes.iter().map(|q| q.quote).collect();
    let overlaps_drawn = |quote: (usize, usize)| {
        let k = drawn.partition_point(|&(_, end)| end < quote.0);
        drawn.get(k).is_some_and(|&d| overlaps(d, quote))
    };
    quotes.extend(
        found
            .into_iter()
            .filter(|f| reported(f) || !overlaps_drawn(f.quote)),
    );
    quotes.sort_by_key(|f| f.quote);
    quotes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viterbi_never_continues_a_span_that_did_not_begin() {
        // every token prefers "inside content", which may not start a sequence nor follow O
        let emissions = vec![[0.0, 0.5, 1.0, 0.0, 0.0]; 3];
        let labels = viterbi(&emissions, &[[0.0; LABELS]; LABELS]);
        assert_eq!(
            labels,
            [Label::ContentBegin, Label::Content, Label::Content]
        );
    }

    #[test]
    fn a_run_of_content_ends_where_a_new_one_begins() {
        use Label::*;
        let labels = [
            Outside,
            ContentBegin,
            Content,
            ContentBegin,
            Outside,
            SourceBegin,
            Source,
        ];
        assert_eq!(runs(&labels, ContentBegin, Content), [(1, 2), (3, 3)]);
        assert_eq!(runs(&labels, SourceBegin, Source), [(5, 6)]);
    }

    #[test]
    fn a_model_reads_back_the_weights_file_it_wrote() {
        let mut model = Model::default();
        model.transitions[1][2] = 1.5;
        model.weights.insert(42, [0.0, 1.0, -2.0, 0.25, 3.0]);
        model.weights.insert(7, [1.0; LABELS]);
        // a vocabulary keeps the values that have weights
        for (template, value) in [(1, 3), (5, 9), (2, 11)] {
            model.weights.insert(key(template, value), [0.5; LABELS]);
        }
        model.vocabulary = Vocabulary {
            words: vec![3, 9],
            suffixes: vec![],
            shapes: vec![11],
        };
        let read = Model::read(&model.weights_file(), "said\t0.8\n").unwrap();
        assert_eq!(read.transitions, model.transitions);
        assert_eq!(read.weights, model.weights);
        assert_eq!(read.vocabulary, model.vocabulary);
        let mut unweighted = model.vocabulary.clone();
        unweighted.words.push(4);
        assert_eq!(
            Model::new(
                model.weights.clone(),
                model.transitions,
                Cues::default(),
                unweighted
            )
            .vocabulary,
            model.vocabulary
        );
        assert_eq!(read.cues.strength(fnv("said")), Some(0.8));
        assert!(Model::read(b"not a model", "").is_none());
    }

    #[test]
    fn fast_tagging_scores_every_token_as_the_features_do() {
        let text = include_str!("../../../tests/data/putin-cis-mediation.txt");
        let doc = Doc::new(text);
        let found = rules::find_quotes(&doc);
        let model = Model::shipped();
        let slow = model.emissions(&features(&doc, &found, &model.cues));
        let context = Context::new(&doc, &found, &model.cues);
        let fast = model.emissions_fast(&context);
        assert_eq!(slow.len(), fast.len());
        assert!(context.tagged.iter().filter(|&&t| t).count() > 100);
        let tagged = slow.iter().zip(&fast).zip(&context.tagged);
        for ((a, b), _) in tagged.filter(|&(_, &tagged)| tagged) {
            // the same weights summed in another order: equal up to rounding, which scales with
            // the largest of the sums (a label's score is thousands, its neighbour's near 0)
            let scale = a.iter().fold(1.0f32, |m, x| m.max(x.abs()));
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() <= 1e-5 * scale, "{a:?} against {b:?}");
            }
        }
    }

    #[test]
    fn every_small_template_is_in_one_group_and_its_values_stay_below_its_radix() {
        for (template, radix) in RADIX.iter().enumerate() {
            let groups = GROUPS.iter().filter(|g| g.contains(&template)).count();
            assert_eq!(groups, usize::from(*radix > 0), "template {template}");
        }
        let text = include_str!("../../../tests/data/putin-cis-mediation.txt");
        let doc = Doc::new(text);
        let found = rules::find_quotes(&doc);
        let context = Context::new(&doc, &found, &Model::shipped().cues);
        for p in 0..context.tokens.len() {
            let values = context.values(p, false);
            for template in (0..FEATURES).filter(|&t| RADIX[t] > 0) {
                assert!(
                    (values[template] as usize) < RADIX[template],
                    "template {template}"
                );
            }
        }
    }

    #[test]
    fn word_shapes_and_suffixes_read_characters_not_bytes() {
        assert_eq!(shape("Putin"), shape("Trump"));
        assert_ne!(shape("Putin"), shape("putin"));
        assert_eq!(shape("12,000"), shape("25,500"));
        assert_eq!(suffix("président"), fnv("ent"));
        assert_eq!(suffix("é"), fnv("é"));
        assert_eq!(suffix("aé1"), fnv("aé1"));
        assert_eq!(suffix("xaé1"), fnv("aé1"));
    }

    #[test]
    fn shapes_read_ascii_by_table_as_unicode_would() {
        for byte in 0..128u8 {
            let by_unicode = u32::from(shape_class(char::from(byte)));
            assert_eq!(
                u32::from(ASCII_SHAPE[usize::from(byte)]),
                by_unicode,
                "{byte}"
            );
        }
        // words mixing both: each character counts once, whatever its length in bytes
        assert_eq!(shape("Élysée"), shape("Abcdef"));
        assert_eq!(shape("ÀB12"), shape("AB12"));
        assert_eq!(shape("İx"), shape("Ax"));
        assert_eq!(shape("McDONALDé's"), shape("McDONALDe's"));
        assert_eq!(shape("aé1bcdefg"), shape("ab1cd"));
        assert_ne!(shape("“Hi”"), shape("\"Hi\""));
        assert_ne!(shape("٣٤"), shape("34"));
    }
}
