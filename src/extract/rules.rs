//! The attribution rules: who said what, where. Three passes over a [`Doc`]:
//!
//! 1. **Direct quotes**: each region between quotation marks that stands as a whole utterance
//!    (at the start of its sentence, or right after `X said:`) is attributed by the cue and
//!    speaker next to it: `“…,” said Putin.`, `“…,” Putin stressed.`, `He said: “…”`. Split
//!    quotes (`“A,” he said. “B.”`) become one quote; paragraphs that only continue a quote
//!    take the speaker before them.
//! 2. **Reported speech**: in every sentence, `X said (that) …`, `…, X said.`, `according to
//!    X, …` and `…, according to X.` Content with quotation marks inside is a mixed quote.
//! 3. Overlaps are settled: one quote per stretch of text, the direct reading first.
//! 4. A headline the sentence rules found nothing in is read by [`super::headline`].
//!
//! Every search runs in time that does not grow with the article: what could run to the end
//! of a sentence (a sentence without a period may be the whole text) is looked up in counts and
//! lists built once (`Doc::word_count`, `Stops`), and what could look back over everything
//! found so far is a binary search. `extraction_work_grows_linearly_with_pathological_input`
//! in the tests holds it to that.

use std::ops::Range;

use super::doc::{Doc, Region, step};
use super::lexicon;
use super::tokens::Kind;
use crate::domain::QuoteKind;

/// A quote the rules found, in token indices.
#[derive(Debug, Clone)]
pub struct Found {
    /// The quote's first and last tokens.
    pub quote: (usize, usize),
    /// The speaker as written, first and last tokens.
    pub speaker: Option<(usize, usize)>,
    /// The cue, first and last tokens.
    pub cue: Option<(usize, usize)>,
    /// Direct, indirect or mixed.
    pub kind: QuoteKind,
}

/// Words that open a description of a source: `the spokesman`, `one Democratic source`.
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "one", "another", "some", "several", "many", "two", "three", "his", "her",
    "their", "its", "our", "senior", "former", "top",
];

/// The longest speaker phrase, in words.
const MAX_SPEAKER_WORDS: usize = 8;
/// The fewest words reported speech must have to count.
const MIN_CONTENT_WORDS: usize = 3;

/// The fewest words in what a cue with a subject before it attributes: `mocked the complaint`.
const MIN_OBJECT_WORDS: usize = 2;

/// Whether tokens `s..=last` are enough to be what a cue with a subject attributes: two words
/// (`mocked the complaint`), or a name (`Cruz endorses Trump`).
fn is_object(doc: &Doc<'_>, s: usize, last: usize) -> bool {
    s <= last
        && (word_count(doc, s..last + 1) >= MIN_OBJECT_WORDS
            || (s == last && doc.starts_upper(s) && !doc.has(s, lexicon::PRONOUN)))
}

impl Found {
    /// A statement attributed by a cue, its kind read from its quotation marks.
    fn with_kind(
        doc: &Doc<'_>,
        quote: (usize, usize),
        speaker: (usize, usize),
        cue: (usize, usize),
    ) -> Found {
        Found {
            quote,
            speaker: Some(speaker),
            cue: Some(cue),
            kind: kind_of(doc, quote.0, quote.1),
        }
    }
}

/// Runs every pass.
pub fn find_quotes(doc: &Doc<'_>) -> Vec<Found> {
    let regions = doc.quote_regions();
    let mut found = direct_quotes(doc, regions);
    // a cue inside quotation marks is part of what was said, and a direct quote's cue is taken
    let mut skip = doc.quoted(regions);
    for f in &found {
        if let Some((a, b)) = f.cue {
            skip[a..=b].iter_mut().for_each(|s| *s = true);
        }
    }
    let mut reported = reported_speech(doc, regions, &skip, &found);
    // a reported clause that holds a direct quote with words outside it is the better reading:
    // PolNeAR's "mixed" quotes; one that only overlaps part of it yields to the direct quote
    if !found.is_empty() && !reported.is_empty() {
        let direct = Spans::new(found.iter());
        reported.retain(|r| {
            let (first, last) = r.quote;
            if r.kind == QuoteKind::Mixed {
                // a direct quote it holds whole is part of it; one it cuts through is not
                !direct.any_over(first, first) && !direct.any_over(last + 1, last + 1)
            } else {
                !direct.any_over(last + 1, first)
            }
        });
        let mixed = Spans::new(reported.iter().filter(|r| r.kind == QuoteKind::Mixed));
        found.retain(|f| !mixed.any_over(f.quote.0 + 1, f.quote.1));
    }
    found.extend(reported);
    let in_headline = |f: &Found| doc.paragraph_of.get(f.quote.0) == Some(&0);
    if !found.iter().any(in_headline)
        && let Some(h) = super::headline::headline(doc)
    {
        found.push(h);
    }
    found.sort_by_key(|f| f.quote);
    // no stretch of text is attributed more than a few times over (`A, according to X, B,
    // according to Y, …` would attribute its start once per cue), and no speaker is longer than
    // the registry takes (one speaker may go on to say many quotes): what is found then holds
    // as many characters as the text, give or take a factor
    let mut open_ends = std::collections::BinaryHeap::new();
    found.retain(|f| {
        while open_ends
            .peek()
            .is_some_and(|&std::cmp::Reverse(last)| last < f.quote.0)
        {
            open_ends.pop();
        }
        let room = open_ends.len() < MAX_OVERLAPPING_QUOTES;
        if room {
            open_ends.push(std::cmp::Reverse(f.quote.1));
        }
        room
    });
    for f in &mut found {
        if f.speaker
            .is_some_and(|(a, b)| too_long(&doc.text[doc.bytes(a, b)]))
        {
            f.speaker = None;
        }
    }
    found
}

/// The most quotes found that may hold one token.
const MAX_OVERLAPPING_QUOTES: usize = 3;

/// Whether a speaker is longer than the registry takes.
pub(super) fn too_long(speaker: &str) -> bool {
    use crate::domain::limits::MAX_SPEAKER_CHARS;
    speaker.len() > MAX_SPEAKER_CHARS
        && (speaker.len() > 4 * MAX_SPEAKER_CHARS || speaker.chars().count() > MAX_SPEAKER_CHARS)
}

/// Quotes' spans by first token, each with the furthest last token of any up to it: whether
/// a span overlaps, holds or cuts through one of them is a binary search.
struct Spans {
    /// First tokens, in order.
    firsts: Vec<usize>,
    /// For each, the furthest last token of the spans up to it.
    reach: Vec<usize>,
}

impl Spans {
    fn new<'a>(quotes: impl Iterator<Item = &'a Found>) -> Spans {
        let mut spans: Vec<(usize, usize)> = quotes.map(|f| f.quote).collect();
        spans.sort_unstable();
        let mut furthest = 0;
        let reach = spans
            .iter()
            .map(|&(_, last)| {
                furthest = furthest.max(last);
                furthest
            })
            .collect();
        Spans {
            firsts: spans.into_iter().map(|(first, _)| first).collect(),
            reach,
        }
    }

    /// Whether a span starts before token `before` and holds token `at` or one after it: one
    /// that overlaps `first..=last` is `any_over(last + 1, first)`, one that holds it
    /// `any_over(first + 1, last)`, one cut through at its start `any_over(first, first)`.
    fn any_over(&self, before: usize, at: usize) -> bool {
        step(1);
        let k = self.firsts.partition_point(|&first| first < before);
        k > 0 && self.reach[k - 1] >= at
    }
}

/// Whether token `i` is a cue verb: a lower-case word of the list ("States" is a name).
fn is_cue(doc: &Doc<'_>, i: usize) -> bool {
    // most words are no cue: the class bit answers first, before any string is compared
    if !doc.has(i, lexicon::CUE) {
        return false;
    }
    // `continued to stay away` is not speech, nor `four percentage points` (only `pointed out`)
    let continued_to = doc.word(i).starts_with("continu") && doc.word(i + 1) == "to";
    let point_not_out = doc.word(i).starts_with("point")
        && doc.word(i + 1) != "out"
        && !(doc.word(i + 1) == "to" && doc.is_in(i, &["pointed", "pointing"]));
    !doc.starts_upper(i)
        && !is_passive(doc, i)
        && !continued_to
        && !point_not_out
        && !is_noun_use(doc, i)
        && !speaks_of_nothing(doc, i)
}

/// Whether `spoke`, `talked` and their kin stand without a topic: `spoke for five minutes`,
/// `spoke to a gathering` report that someone spoke, not what they said; `spoke of`, `talked
/// about` and `spoke out against` attribute.
fn speaks_of_nothing(doc: &Doc<'_>, i: usize) -> bool {
    // the topic may come after a listener or a place: `spoke to DuVernay about the issue`;
    // `about five minutes` is no topic
    let topic = |t: usize| {
        (doc.is_in(t, &["of", "out"]) && t <= i + 2)
            || (doc.word(t) == "about" && !is_amount(doc, t + 1))
            || (t == i + 1 && doc.word(t) == "on")
    };
    doc.is_in(
        i,
        &["spoke", "speaks", "speaking", "talked", "talks", "talking"],
    ) && !(i + 1..(i + 6).min(doc.tokens.len()))
        .take_while(|&t| doc.tokens[t].is_word())
        .any(topic)
}

/// Whether an amount starts at token `t`: a number in digits or words, or `a`/`an` before a
/// unit (`about an hour`, but not `about a plan`).
fn is_amount(doc: &Doc<'_>, t: usize) -> bool {
    doc.raw(t).starts_with(|c: char| c.is_ascii_digit())
        || doc.is_in(
            t,
            &[
                "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "half", "twenty", "thirty", "forty", "fifty", "hundred",
            ],
        )
        || (doc.is_in(t, &["a", "an"])
            && doc.is_in(
                t + 1,
                &[
                    "minute", "hour", "day", "week", "month", "year", "dozen", "half",
                ],
            ))
}

/// Determiners: a word right after one is a noun (`the plan`, `a call for`), not a verb.
/// Quantifiers and numbers are left out, since they are often subjects themselves (`some
/// believe`, `three replied`); so are possessives, since PolNeAR marks `his remarks that …`
/// as an attribution.
#[rustfmt::skip]
const NOUN_MARKERS: &[&str] = &[
    "the", "a", "an", "this", "these", "those", "every", "each", "no", "another", "such",
];

/// Whether a cue word stands as a noun: after a determiner, in `Editor’s note`, or, for a
/// plural such as `states` or `calls`, after a lower-case modifier (`battleground states`) or a
/// number (`18 states`). A `that` after it makes it a verb again (`the report states that`).
fn is_noun_use(doc: &Doc<'_>, i: usize) -> bool {
    let Some(p) = i.checked_sub(1) else {
        return false;
    };
    if !doc.is_word(p) {
        return false;
    }
    // `the report states that …` makes a verb, `an hourlong show that aired` does not
    let that_follows = doc.word(i + 1) == "that" && !is_relative_that(doc, i + 1);
    // `Mr. King's show`, `his TV show`: a possessive makes a noun, `he’s said` does not
    let w = doc.word(p);
    let owner = w.strip_suffix("’s").or_else(|| w.strip_suffix("'s"));
    let possessive = doc.is_in(p, &["his", "her", "their", "its", "our", "my", "your"])
        || owner.is_some_and(|o| {
            ![
                "he", "she", "it", "that", "who", "what", "there", "here", "where",
            ]
            .contains(&o)
        });
    if ((doc.is_in(p, NOUN_MARKERS) || (possessive && doc.is_in(i, &["show", "shows"])))
        && !that_follows)
        || (doc.word(i) == "note" && doc.word(p).ends_with("’s"))
    {
        return true;
    }
    if !doc.is_in(i, AMBIGUOUS_PLURALS) {
        return false;
    }
    // `the help of states that …`: after a preposition, a noun whatever follows
    if doc.is_in(p, PREPOSITIONS) {
        return true;
    }
    !that_follows
        && !doc.has(p, lexicon::PRONOUN | lexicon::BETWEEN)
        && !doc.is_in(p, &["and", "but", "or"])
        && !is_adverb(doc, p)
        && (!doc.starts_upper(p) || doc.raw(p).starts_with(|c: char| c.is_ascii_digit()))
}

/// Whether the `that` at `t` opens a relative clause rather than a reported one: a verb, an
/// auxiliary or an adverb follows it (`countries that regularly violate`, `a show that aired`).
fn is_relative_that(doc: &Doc<'_>, t: usize) -> bool {
    let next = t + 1;
    doc.is_in(next, AUXILIARIES)
        || is_adverb(doc, next)
        || (doc.is_word(next) && !doc.starts_upper(next) && doc.word(next).ends_with("ed"))
}

/// Prepositions: a noun phrase follows them.
#[rustfmt::skip]
const PREPOSITIONS: &[&str] = &[
    "of", "in", "on", "at", "for", "from", "with", "by", "about", "into", "over", "under",
    "during", "against", "between", "among", "across", "through",
];

/// Cue words in -s that are as often plural nouns as verbs.
#[rustfmt::skip]
const AMBIGUOUS_PLURALS: &[&str] = &[
    "states", "calls", "claims", "remarks", "details", "advocates", "questions", "fears",
    "charges", "demand", "demands",
];

/// Whether a lower-case word is an adverb in -ly (`occasionally`, `repeatedly`).
fn is_adverb(doc: &Doc<'_>, i: usize) -> bool {
    let w = doc.word(i);
    doc.is_word(i)
        && !doc.starts_upper(i)
        && w.len() > 4
        && w.ends_with("ly")
        && !doc.has(i, lexicon::PRONOUN)
}

/// Whether a participle stands in the passive: `terrorists are revealed as`, `were admitted`.
/// The progressive (`is saying`) and the active perfect (`has said`) stay cues.
fn is_passive(doc: &Doc<'_>, i: usize) -> bool {
    const BE: &[&str] = &["is", "are", "was", "were", "be", "been", "being"];
    // `was first reported by`, `is powerfully documented in`
    let adverb = i > 1 && (is_adverb(doc, i - 1) || doc.is_in(i - 1, &["first", "also", "not"]));
    i > 0
        && (doc.is_in(i - 1, BE) || (adverb && doc.is_in(i - 2, BE)))
        && !doc.word(i).ends_with("ing")
}

/// Whether a speaker phrase names someone or refers to them: a capitalized word or a pronoun,
/// not a common noun phrase ("the plan").
fn is_source(doc: &Doc<'_>, speaker: (usize, usize)) -> bool {
    (speaker.0..=speaker.1).any(|t| doc.starts_upper(t))
        || (speaker.0 == speaker.1 && doc.has(speaker.0, lexicon::PRONOUN))
}

/// A verb of stance or intent with a source for subject, or any verb-like word directly
/// followed by `that` (`Mr. Obama's bet is that …`): a weaker cue, tried after the others.
/// `subject` is the speaker of the sentence's cue before, which a coordinated verb shares
/// (`He proposes doing away with the mandate, and plans to reduce …`).
fn is_weak_cue(
    doc: &Doc<'_>,
    c: usize,
    start: usize,
    subject: Option<(usize, usize)>,
) -> Option<(usize, usize)> {
    if doc.starts_upper(c) || !doc.is_word(c) {
        return None;
    }
    // `The McKinley plan is linear`: `plan` is a verb before `to` or `that`
    let plan_noun = doc.word(c).starts_with("plan") && !doc.is_in(c + 1, &["to", "that", "on"]);
    let stance = doc.has(c, lexicon::STANCE) && !plan_noun;
    let before_that = doc.word(c + 1) == "that"
        && !is_relative_that(doc, c + 1)
        && !doc.has(c, lexicon::STOP)
        && (doc.word(c).ends_with('s')
            || doc.word(c).ends_with("ed")
            || doc.is_in(c, &["is", "was"]));
    // (the costlier test last: this runs for most words)
    if (!stance && !before_that && label_as(doc, c).is_none()) || is_noun_use(doc, c) {
        return None;
    }
    if coordinated(doc, c, start) && subject.is_some() {
        return subject;
    }
    // the subject's head is a name or a pronoun: `a Republican tax plan would` is no source
    speaker_before(doc, c, start).filter(|&s| {
        (is_source(doc, s) && (doc.starts_upper(s.1) || doc.has(s.1, lexicon::PRONOUN)))
            || doc.is_in(s.1, lexicon::SOURCE_NOUNS)
    })
}

/// The start of an appositive chunk ending at the comma `comma`, when the chunk belongs to a
/// speaker's name: the name itself (`Donna Sampson Rawlings`), an age (`59`) or a place (`of
/// Ashton`). A chunk that opens the sentence with a preposition or a date (`After the debate`,
/// `Last week`) does not.
fn appositive_before(doc: &Doc<'_>, comma: usize, limit: usize) -> Option<usize> {
    let previous = (limit..comma)
        .rev()
        .take(MAX_SPEAKER_WORDS + 1)
        .find(|&t| !doc.tokens[t].is_word());
    let start = match previous {
        Some(p) if doc.tokens[p].is_punct(',') => p + 1,
        Some(_) => return None,
        None if comma - limit <= MAX_SPEAKER_WORDS => limit,
        None => return None,
    };
    if start >= comma || (start..comma).any(|t| is_cue(doc, t)) {
        return None;
    }
    let first = doc.word(start);
    let number = first.bytes().all(|b| b.is_ascii_digit());
    let place = start > limit && doc.is_in(start, &["of", "from"]) && doc.starts_upper(start + 1);
    let name = doc.starts_upper(start)
        && !doc.has(start, lexicon::STOP | lexicon::TIME)
        && !doc.is_in(start, NOT_A_NAME);
    (number || place || name).then_some(start)
}

/// Words that end no speaker phrase: determiners and adverbs left alone before a verb (`These
/// tactics that`, `Perhaps go a step further, and ask`, `Additional reporting by`).
#[rustfmt::skip]
const NOT_A_SOURCE: &[&str] = &[
    "these", "those", "this", "the", "most", "many", "first", "additional", "now", "perhaps",
    "rather", "please", "don't", "don’t", "worth", "like", "all", "each", "every", "another",
    "such", "just", "then", "so", "yes", "no",
];

/// Capitalized words that open a sentence without naming anyone.
#[rustfmt::skip]
const NOT_A_NAME: &[&str] = &[
    "the", "a", "an", "this", "that", "these", "those", "there", "here", "yes", "no", "now",
    "meanwhile", "still", "however", "instead", "indeed", "separately", "earlier", "later",
];

/// The speaker phrase that ends just before token `end` (exclusive), reading backwards and not
/// past `limit`: a pronoun, a name, or a description ("the Russian president"). An appositive
/// (`Brian Fallon, the campaign's press secretary, noted`) or a parenthesis (`Rep. John Mica
/// (R-Fla.) said`) between the name and the cue belongs to the speaker.
fn speaker_before(doc: &Doc<'_>, end: usize, limit: usize) -> Option<(usize, usize)> {
    // `he appeared to suggest`, `Caddell went on to discuss`: the subject of the verb before
    let mut j = governing_verb(doc, end, limit);
    // `Putin also said`, `they occasionally find`: adverbs and auxiliaries are not the speaker,
    // nor is a date (`the Supreme Court this month rejected`); a few of them at most stand
    // between the two
    let mut between = 0;
    while j > limit {
        if doc.has(j - 1, lexicon::BETWEEN) || is_adverb(doc, j - 1) {
            j -= 1;
        } else if j > limit + 2
            && doc.is_in(j - 1, &["week", "month", "year", "weekend"])
            && doc.is_in(j - 2, &["this", "last"])
        {
            j -= 2;
        } else if let Some(date) = date_before(doc, j, limit) {
            j = date;
        } else {
            break;
        }
        between += 1;
        if between > MAX_WORDS_BEFORE_CUE {
            return None;
        }
    }
    if j <= limit {
        return None;
    }
    // `Name (R-Fla.) said`: the parenthesis is part of the speaker
    let mut tail = j - 1;
    if doc.tokens[tail].is_punct(')') {
        let open = (limit..tail)
            .rev()
            .take(8)
            .find(|&t| doc.tokens[t].is_punct('('))?;
        let (first, _) = noun_phrase_before(doc, open, limit)?;
        return Some((first, tail));
    }
    // `Kall -- co-editor of Debating The Donald, a book … -- said`: a dashed appositive
    if is_dash(doc, tail) {
        let mut open = (limit..tail)
            .rev()
            .take(30)
            .find(|&t| is_dash(doc, t) && !is_dash(doc, t + 1))?;
        if (open + 1..tail).any(|t| doc.tokens[t].is_quote() || is_cue(doc, t)) {
            return None;
        }
        while open > limit && open + 30 > tail && is_dash(doc, open - 1) {
            open -= 1;
        }
        let (first, _) = noun_phrase_before(doc, open, limit)?;
        return doc.starts_upper(first).then_some((first, tail));
    }
    // `Clinton, during a town hall meeting in Columbus, Ohio, said`: an adverbial between
    // commas stands between the speaker and the cue, whatever commas it holds
    if doc.tokens[tail].is_punct(',')
        && let Some(open) = (limit..tail)
            .rev()
            .take(20)
            .take_while(|&t| {
                // `…, after winning Ohio, Gov. John Kasich (R-OH), said`: the speaker after it
                !doc.tokens[t].is_quote() && !is_cue(doc, t) && !doc.tokens[t].is_punct(')')
            })
            .find(|&t| doc.tokens[t].is_punct(',') && doc.is_in(t + 1, INTERJECTED))
        && let Some((first, last)) = noun_phrase_before(doc, open, limit)
        && (doc.starts_upper(first) || doc.has(first, lexicon::PRONOUN))
    {
        return Some((first, last));
    }
    // `Name, an appositive, said`
    if doc.tokens[tail].is_punct(',') {
        let comma = (limit..tail)
            .rev()
            .take(20)
            .find(|&t| doc.tokens[t].is_punct(','))?;
        // an appositive describes: `, and the meeting deteriorated from there,` is a clause
        let clause = doc.is_in(
            comma + 1,
            &[
                "and", "but", "or", "so", "because", "while", "when", "although", "though",
                "whereas", "if", "than", "since", "where", "whether", "as",
            ],
        );
        if comma + 1 >= tail
            || clause
            || (comma + 1..tail).any(|t| doc.tokens[t].is_quote() || is_cue(doc, t))
        {
            return None;
        }
        let (mut first, _) = noun_phrase_before(doc, comma, limit)?;
        // `Donna Sampson Rawlings, 59, of Ashton, Md., who watched …, said`: earlier appositives
        for _ in 0..MAX_APPOSITIVES {
            if first > limit + 1
                && doc.is_in(first - 1, &["of", "from"])
                && doc.tokens[first - 2].is_punct(',')
            {
                first -= 1;
            }
            if first <= limit + 1 || !doc.tokens[first - 1].is_punct(',') {
                break;
            }
            match appositive_before(doc, first - 1, limit) {
                Some(head) => first = head,
                None => break,
            }
        }
        if !doc.starts_upper(first) && !doc.is_in(first, &["the", "a", "an"]) {
            return None;
        }
        tail -= 1;
        return Some((first, tail));
    }
    noun_phrase_before(doc, j, limit)
}

/// Prepositions that open an adverbial set between a speaker and the cue by commas: `Clinton,
/// during a town hall meeting, said`, `Lewandowski, in a statement, said`.
const INTERJECTED: &[&str] = &["in", "during", "at", "on", "after", "before", "with"];

/// Days of the week, which date a statement and name no one.
const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Months, which date a statement after a preposition (`in August`, `on Sept. 8`); alone,
/// some are names (April, June).
#[rustfmt::skip]
const MONTHS: &[&str] = &[
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan.", "feb.", "aug.", "sept.", "sep.", "oct.", "nov.",
    "dec.",
];

/// Words that lead a date: `on Friday`, `early Friday`, `in August`, `last Tuesday`.
const DATE_LEADS: &[&str] = &["on", "in", "early", "late", "last", "this", "next", "by"];

/// Whether token `t` is a number written in digits: a day or a year.
fn is_number(doc: &Doc<'_>, t: usize) -> bool {
    let raw = doc.raw(t);
    !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit())
}

/// Where a date that ends just before token `end` starts, not before `limit`: `Trump on
/// Friday said`, `Clinton early Friday tweeted`, `the Post in August reported`, `his doctor
/// Friday afternoon wrote`. A date is no speaker; the speaker stands before it.
fn date_before(doc: &Doc<'_>, end: usize, limit: usize) -> Option<usize> {
    const PART: &[&str] = &["night", "morning", "afternoon", "evening"];
    let number = |t: usize| is_number(doc, t);
    let mut j = end;
    if j > limit + 1 && doc.is_in(j - 1, PART) {
        j -= 1;
    }
    // `Sept. 8`, `Sept. 8, 2016`: a day, a comma and a year at most, a number last
    let mut day = false;
    while j > limit + 1
        && end - j < 3
        && (number(j - 1) || (day && doc.tokens[j - 1].is_punct(',')))
    {
        day = true;
        j -= 1;
    }
    if j <= limit + 1 {
        return None;
    }
    let weekday = doc.is_in(j - 1, WEEKDAYS);
    let month = doc.is_in(j - 1, MONTHS);
    if !weekday && !month {
        return None;
    }
    j -= 1;
    let lead = j > limit + 1 && doc.is_in(j - 1, DATE_LEADS);
    if lead {
        j -= 1;
    }
    (weekday || lead || day).then_some(j)
}

/// The most adverbs, auxiliaries and dates between a speaker and its cue: `has also long said`.
const MAX_WORDS_BEFORE_CUE: usize = 8;

/// The most appositives a speaker's name takes before its cue: `Donna Sampson Rawlings, 59, of
/// Ashton, Md., who watched …, said`.
const MAX_APPOSITIVES: usize = 8;

/// Whether token `t` is a dash, or one hyphen of a `--` written for one.
fn is_dash(doc: &Doc<'_>, t: usize) -> bool {
    matches!(doc.tokens[t].kind, Kind::Punct('—' | '–' | '-'))
}

/// The noun phrase that ends just before token `end`: a pronoun, or up to eight words back to
/// a stop word or punctuation.
fn noun_phrase_before(doc: &Doc<'_>, end: usize, limit: usize) -> Option<(usize, usize)> {
    if end <= limit {
        return None;
    }
    let last = end - 1;
    if !doc.tokens[last].is_word()
        || doc.has(last, lexicon::STOP)
        || is_cue(doc, last)
        || doc.is_in(last, NOT_A_SOURCE)
    {
        return None;
    }
    if doc.has(last, lexicon::PRONOUN) {
        return Some((last, last));
    }
    let mut first = last;
    while first > limit {
        let t = first - 1;
        if !doc.tokens[t].is_word() || last - t >= MAX_SPEAKER_WORDS {
            break;
        }
        // "Mr. Morgan of the Sierra Club": `of` inside a name
        let inside_name = doc.word(t) == "of"
            && t > limit
            && doc.starts_upper(t - 1)
            && (doc.starts_upper(first)
                || (doc.word(first) == "the" && doc.starts_upper(first + 1)));
        if (doc.has(t, lexicon::STOP) && !inside_name)
            || doc.has(t, lexicon::PRONOUN)
            || is_cue(doc, t)
        {
            break;
        }
        first = t;
    }
    Some((first, last))
}

/// The speaker phrase that starts at token `start`, reading forwards up to `limit` (exclusive):
/// the inverted order of `said Putin`.
fn speaker_after(doc: &Doc<'_>, start: usize, limit: usize) -> Option<(usize, usize)> {
    if start >= limit || !doc.tokens[start].is_word() {
        return None;
    }
    if doc.has(start, lexicon::PRONOUN) {
        return Some((start, start));
    }
    // `said one Democratic source on the panel`, `said 9/11 widow Terry Strada`
    let determiner =
        doc.is_in(start, DETERMINERS) || doc.raw(start).starts_with(|c: char| c.is_ascii_digit());
    if (!determiner && !doc.starts_upper(start))
        || (doc.is_in(start, NOT_A_SOURCE) && !doc.is_in(start, DETERMINERS))
    {
        return None;
    }
    let mut last = start;
    while last + 1 < limit && last + 1 - start < MAX_SPEAKER_WORDS {
        let t = last + 1;
        let inside_name = doc.word(t) == "of" && t + 1 < limit && doc.starts_upper(t + 1);
        if !doc.tokens[t].is_word() || (doc.has(t, lexicon::STOP) && !inside_name) || is_cue(doc, t)
        {
            break;
        }
        // without a determiner, a name is a run of capitalized words
        if !determiner && !doc.starts_upper(t) && !inside_name {
            break;
        }
        last = t;
    }
    Some((start, last))
}

/// Words that open a sentence with an adverbial before its subject: `In an interview, Trump
/// said`, `But a few days later, Trump reversed himself, telling CBS`.
#[rustfmt::skip]
const OPENERS: &[&str] = &[
    "in", "at", "on", "with", "when", "as", "after", "before", "during", "earlier", "later",
    "but", "and", "yet", "so", "then", "now", "while", "although", "though", "because", "since",
    "if", "for", "by", "from", "despite", "amid", "following", "asked", "speaking", "still",
    "meanwhile", "also", "instead", "however",
];

/// Words that end a phrase of time: `A few days later`, `Last week`, `Tuesday night`.
#[rustfmt::skip]
const WHEN: &[&str] = &[
    "later", "ago", "earlier", "week", "month", "year", "weekend", "night", "morning",
    "afternoon", "evening", "today", "yesterday",
];

/// Conjunctions and adverbs that open a sentence and may stand right before its subject: `But
/// Trump reversed himself`.
const LINKS: &[&str] = &["but", "and", "yet", "so", "then", "now", "still", "also"];

/// The subject that opens a sentence starting at `start`, before `limit`: the sentence's
/// speaker for a cue that shares it (`…, saying`), past a dateline (`WASHINGTON — `) and an
/// opening adverbial (`In an interview Friday, `).
fn sentence_subject(doc: &Doc<'_>, start: usize, limit: usize) -> Option<(usize, usize)> {
    let mut s = start;
    // `WASHINGTON — `, `WASHINGTON, Dec. 8 (UPI) — `, `Washington (AFP) – `
    let agency = s + 3 < limit
        && doc.tokens[s + 1].is_punct('(')
        && doc.is_all_caps(s + 2)
        && doc.tokens[s + 3].is_punct(')');
    if s < limit && ((doc.is_all_caps(s) && doc.raw(s).len() > 1) || agency) {
        if let Some(dash) = (s + 1..limit.min(s + 12)).find(|&t| is_dash(doc, t)) {
            s = dash + 1;
            while s < limit && is_dash(doc, s) {
                s += 1;
            }
        }
    }
    // `But Trump reversed himself`, `But in 2008, Clinton slammed`, `On Thursday, however,
    // Trump spoke`: a few adverbials in a row at most
    for _ in 0..3 {
        if s + 1 < limit && doc.is_in(s, LINKS) {
            s += 1;
        }
        if let Some(date) = date_after(doc, s, limit) {
            // `On Sunday morning Mr. Trump made`
            s = date;
            continue;
        }
        let comma = (s + 1..limit.min(s + 24)).find(|&t| doc.tokens[t].is_punct(','));
        if s < limit && doc.is_in(s, OPENERS) {
            // the adverbial runs to its comma
            s = comma? + 1;
        } else if let Some(comma) = comma.filter(|&c| c < s + 6 && c > s)
            && (doc.is_in(comma - 1, WHEN) || doc.is_in(comma - 1, WEEKDAYS))
        {
            // `A few days later, `, `Last week, `
            s = comma + 1;
        } else {
            break;
        }
    }
    speaker_after(doc, s, limit)
}

/// Where a sentence goes on after a date that opens it at `start`, before `limit`: `On
/// Sunday morning Mr. Trump made`, `Last Friday, he said`, `In August 2015, the senator`.
fn date_after(doc: &Doc<'_>, start: usize, limit: usize) -> Option<usize> {
    let mut s = start;
    if s < limit && doc.is_in(s, DATE_LEADS) {
        s += 1;
    }
    if s >= limit || !(doc.is_in(s, WEEKDAYS) || (s > start && doc.is_in(s, MONTHS))) {
        return None;
    }
    s += 1;
    while s < limit && s < start + 6 && (is_number(doc, s) || doc.is_in(s, WHEN)) {
        s += 1;
    }
    if s < limit && doc.tokens[s].is_punct(',') {
        s += 1;
    }
    (s < limit).then_some(s)
}

/// The attribution that follows a closing mark in its sentence: `, said X`, `, X said`,
/// `X stressed.` Returns the speaker and the cue.
#[allow(clippy::type_complexity)]
fn attribution_after(doc: &Doc<'_>, close: usize) -> Option<((usize, usize), (usize, usize))> {
    // `“…?” Clinton said.`: the splitter may have ended a sentence at the closing mark
    let next = close + 1;
    if next >= doc.tokens.len()
        || doc.paragraph_of[next] != doc.paragraph_of[close]
        || doc.tokens[next].kind == Kind::Break
    {
        return None;
    }
    let sentence_end = doc.sentences[doc.sentence_of[next]].end;
    let mut i = close + 1;
    while i < sentence_end && matches!(doc.tokens[i].kind, Kind::Punct(',' | '—' | '–' | '-' | '―'))
    {
        i += 1;
    }
    // the attribution ends at the next quotation mark or the end of the sentence
    let end = doc.next_quote(i).min(sentence_end).max(i);
    let end = doc.before_terminals(i, end);
    if i >= end {
        return None;
    }
    if is_cue(doc, i) {
        let speaker = speaker_after(doc, i + 1, end)?;
        return Some((speaker, (i, i)));
    }
    if i == close + 1 && !doc.tokens[i].is_word() {
        return None;
    }
    // `” ― Karen Bobadilla`: a dash and a name, no verb
    if matches!(doc.tokens[i - 1].kind, Kind::Punct('―' | '—' | '–' | '-')) {
        let speaker = speaker_after(doc, i, end)?;
        return (speaker.1 + 1 == end).then_some((speaker, (i - 1, i - 1)));
    }
    // the cue comes within the speaker's words, an appositive included:
    // `” Scott Pruitt, the Republican attorney general of Oklahoma, said`
    let cue = (i..end.min(i + MAX_SPEAKER_WORDS + 30)).find(|&c| is_cue(doc, c))?;
    // everything between the mark and the cue is the speaker (`Mr. Morgan of the Sierra Club
    // said`, `” a narrator in the Clinton ad asks`), less the words that join it to the cue
    let mut last = cue.checked_sub(1)?;
    while last > i && doc.has(last, lexicon::BETWEEN) {
        last -= 1;
    }
    while last > i && matches!(doc.tokens[last].kind, Kind::Punct(',')) {
        last -= 1;
    }
    let starts_like_a_source = doc.starts_upper(i)
        || doc.has(i, lexicon::PRONOUN)
        || doc.is_in(i, DETERMINERS)
        || doc.raw(i).starts_with(|c: char| c.is_ascii_digit());
    (last >= i && doc.tokens[last].is_word() || doc.tokens[last].is_punct(')'))
        .then_some(())
        .filter(|_| {
            // `To which she said`: a clause with its own subject, not a speaker
            let later_pronoun =
                (i + 1..=last).any(|t| doc.is_in(t, &["he", "she", "they", "i", "we"]));
            starts_like_a_source && !later_pronoun && !(i..=last).any(|t| is_cue(doc, t))
        })
        .map(|_| ((i, last), (cue, cue)))
}

/// The attribution that introduces an opening mark: `X said: “`, `X said, “`, `X: “`.
#[allow(clippy::type_complexity)]
fn attribution_before(
    doc: &Doc<'_>,
    open: usize,
) -> Option<((usize, usize), Option<(usize, usize)>)> {
    let paragraph = &doc.paragraphs[doc.paragraph_of[open]];
    let mut j = open;
    while j > paragraph.start
        && matches!(doc.tokens[j - 1].kind, Kind::Punct(':' | ',' | '—' | '–'))
    {
        j -= 1;
    }
    if j == open || j == paragraph.start {
        return None;
    }
    let sentence_start = doc.sentences[doc.sentence_of[j - 1]].start;
    // `Said Ellis: “…”`
    if doc.has(sentence_start, lexicon::CUE)
        && let Some(speaker) = speaker_after(doc, sentence_start + 1, j)
        && speaker.1 + 1 == j
    {
        return Some((speaker, Some((sentence_start, sentence_start))));
    }
    if is_cue(doc, j - 1) {
        let speaker = if participle_cue(doc, j - 1) {
            sentence_subject(doc, sentence_start, j - 1)
        } else {
            speaker_before(doc, j - 1, sentence_start)
        }?;
        return Some((speaker, Some((j - 1, j - 1))));
    }
    // "X told reporters:" / "X said Monday:" — a cue a few words back
    let cue = (sentence_start..j)
        .rev()
        .take(4)
        .find(|&c| is_cue(doc, c))?;
    if participle_cue(doc, cue) {
        // `Clinton seemed ready to riff, telling the crowd, “…”`
        return Some((
            sentence_subject(doc, sentence_start, cue)?,
            Some((cue, cue)),
        ));
    }
    // `said Monday Ms. Tanzer`, but after `told`, the listener: `told the crowd`
    let inverted = || {
        (!doc.is_in(cue, &["tell", "tells", "told", "telling"]))
            .then(|| speaker_after(doc, cue + 1, j))
            .flatten()
    };
    let speaker = speaker_before(doc, cue, sentence_start).or_else(inverted)?;
    Some((speaker, Some((cue, cue))))
}

/// Whether the cue at `c` is a participle that takes the sentence's subject: `Trump attacked
/// Clinton, saying`, `incurred a wave of boos upon saying`.
fn participle_cue(doc: &Doc<'_>, c: usize) -> bool {
    const BEFORE: &[&str] = &["upon", "after", "before", "while", "by", "without", "when"];
    doc.word(c).ends_with("ing")
        && c >= 1
        && (doc.tokens[c - 1].is_punct(',') || doc.is_in(c - 1, BEFORE))
}

/// Whether only punctuation stands between the end of one region and the start of another
/// attribution-free stretch: the region ends its sentence.
fn ends_sentence(doc: &Doc<'_>, close: usize) -> bool {
    let sentence_end = doc.sentences[doc.sentence_of[close]].end;
    word_count(doc, close + 1..sentence_end) == 0
}

/// Whether only punctuation and an attribution precede the region in its sentence.
fn starts_sentence(doc: &Doc<'_>, open: usize) -> bool {
    let sentence_start = doc.sentences[doc.sentence_of[open]].start;
    word_count(doc, sentence_start..open) == 0
}

fn word_count(doc: &Doc<'_>, range: Range<usize>) -> usize {
    doc.word_count(range)
}

fn direct_quotes(doc: &Doc<'_>, regions: &[Region]) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    let mut last_speaker: Option<((usize, usize), usize)> = None; // speaker, paragraph of the quote
    let mut i = 0;
    while i < regions.len() {
        let region = &regions[i];
        let Region { open, mut close } = *region;
        let words = word_count(doc, open..close + 1);
        let paragraph = doc.paragraph_of[open];
        // a transcript line: `"PENCE: Well, look, …`
        if doc.is_all_caps(open + 1)
            && doc.tokens.get(open + 2).is_some_and(|t| t.is_punct(':'))
            && open + 3 <= close
        {
            found.push(Found {
                quote: (open + 3, close),
                speaker: Some((open + 1, open + 1)),
                cue: None,
                kind: QuoteKind::Direct,
            });
            last_speaker = Some(((open + 1, open + 1), doc.paragraph_of[close]));
            i += 1;
            continue;
        }
        // at the start of its sentence, or introduced by a colon: `X scolded him: “…”`
        let at_start =
            starts_sentence(doc, open) || (open > 0 && doc.tokens[open - 1].is_punct(':'));
        let before = attribution_before(doc, open);
        let mut attribution = None;
        if let Some((speaker, cue)) = before {
            attribution = Some((speaker, cue));
        } else if at_start && let Some((speaker, cue)) = attribution_after(doc, close) {
            attribution = Some((speaker, Some(cue)));
            // a split quote: `“A,” he said. “B.”` or `“A,” he said, “B.”` in one paragraph
            while let Some(next) = regions.get(i + 1) {
                let same_paragraph = doc.paragraph_of[next.open] == doc.paragraph_of[close];
                // the next sentence, or the one after a short aside without quotation marks
                let gap = doc.sentence_of[next.open].saturating_sub(doc.sentence_of[close]);
                let right_after = gap <= 1
                    || (gap == 2 && {
                        let aside = doc.sentences[doc.sentence_of[close] + 1].clone();
                        aside.len() <= 10 && !doc.tokens[aside].iter().any(|t| t.is_quote())
                    });
                // across a sentence end too: `“A,” he said. “B.”` is one quote (measured on
                // PolNeAR dev: direct+mixed F1 83.1 merged, 72.6 not)
                let next_is_whole = starts_sentence(doc, next.open)
                    || doc.tokens[next.open - 1].is_punct(',')
                    || doc.is_in(next.open - 1, &["but", "and"]);
                // `said Caddell, speaking of Clinton’s health issue. “…`: a participle in a
                // sentence of its own adds no cue (`adding later, “…` introduces a new quote)
                let new_sentence = starts_sentence(doc, next.open);
                let one_cue = (close + 1..next.open)
                    .filter(|&t| {
                        is_cue(doc, t)
                            && !(new_sentence
                                && doc.word(t).ends_with("ing")
                                && comma_at(doc, t - 1))
                    })
                    .count()
                    <= 1;
                if same_paragraph
                    && one_cue
                    && ends_sentence(doc, next.close)
                    && right_after
                    && next_is_whole
                    && word_count(doc, close + 1..next.open) <= 30
                    && attribution_after(doc, next.close).is_none()
                {
                    close = next.close;
                    i += 1;
                } else {
                    break;
                }
            }
        }
        let quote_ends_sentence = ends_sentence(doc, close) || attribution.is_some();
        match attribution {
            Some((speaker, cue)) if at_start || before.is_some() => {
                if quote_ends_sentence || before.is_some() {
                    // `So when Patriot signaled …, Mr. Barrett said, "we were floored."`: the
                    // attribution is parenthetical and the whole sentence is the quote
                    let sentence_start = doc.sentences[doc.sentence_of[speaker.0]].start;
                    let continues_sentence = doc.is_word(open + 1)
                        && !doc.starts_upper(open + 1)
                        && !(open > 0 && doc.tokens[open - 1].is_punct(':'));
                    let parenthetical = before.is_some()
                        && continues_sentence
                        && speaker.0 > sentence_start + 1
                        && doc.tokens[speaker.0 - 1].is_punct(',')
                        && word_count(doc, sentence_start..speaker.0) >= MIN_CONTENT_WORDS;
                    let (first, kind) = if parenthetical {
                        (sentence_start, QuoteKind::Mixed)
                    } else {
                        (open, QuoteKind::Direct)
                    };
                    found.push(Found {
                        quote: (first, close),
                        speaker: Some(speaker),
                        cue,
                        kind,
                    });
                    last_speaker = Some((speaker, doc.paragraph_of[close]));
                }
            }
            _ => {
                // a quote that is a whole sentence takes the speaker of the sentence before it,
                // when that one ends `…,” she said.`; a whole paragraph of quote also continues
                // the speaker of the paragraph before, or takes that of one ending `X said:`
                let whole_sentence = at_start && ends_sentence(doc, close);
                let whole_paragraph = whole_sentence && doc.paragraphs[paragraph].start + 1 >= open;
                if whole_sentence && words >= 4 {
                    let previous = trailing_attribution(doc, open).or_else(|| {
                        whole_paragraph
                            .then(|| {
                                colon_introduction(doc, paragraph).or_else(|| {
                                    last_speaker
                                        .filter(|(_, p)| paragraph <= p + 2)
                                        .map(|(s, _)| s)
                                })
                            })
                            .flatten()
                    });
                    if let Some(speaker) = previous {
                        found.push(Found {
                            quote: (open, close),
                            speaker: Some(speaker),
                            cue: None,
                            kind: QuoteKind::Direct,
                        });
                        last_speaker = Some((speaker, doc.paragraph_of[close]));
                    }
                }
            }
        }
        i += 1;
    }
    found
}

/// The speaker of the sentence before the one at `open`, when that sentence quotes and ends
/// with its attribution (`… that loop-hole,” she said. “We have no context …”`); it may end
/// the paragraph before.
fn trailing_attribution(doc: &Doc<'_>, open: usize) -> Option<(usize, usize)> {
    let sentence = doc.sentence_of[open].checked_sub(1)?;
    let previous = doc.sentences[sentence].clone();
    let same_or_next_paragraph = doc.paragraph_of[previous.start] + 1 >= doc.paragraph_of[open];
    if !same_or_next_paragraph || doc.quote_count(previous.clone()) == 0 {
        return None;
    }
    let last = doc.before_terminals(previous.start + 1, previous.end) - 1;
    if is_cue(doc, last) {
        return speaker_before(doc, last, previous.start);
    }
    let cue = (previous.start..last)
        .rev()
        .take(MAX_SPEAKER_WORDS)
        .find(|&c| is_cue(doc, c))?;
    speaker_after(doc, cue + 1, last + 1).filter(|s| s.1 == last)
}

/// The speaker of a paragraph ending `X said:` just before `paragraph`.
fn colon_introduction(doc: &Doc<'_>, paragraph: usize) -> Option<(usize, usize)> {
    let previous = doc.paragraphs.get(paragraph.checked_sub(1)?)?;
    let last = previous.end.checked_sub(1)?;
    if !doc.tokens[last].is_punct(':') {
        return None;
    }
    let sentence_start = doc.sentences[doc.sentence_of[last]].start;
    let cue = (sentence_start..last)
        .rev()
        .take(5)
        .find(|&c| is_cue(doc, c))?;
    speaker_before(doc, cue, sentence_start).or_else(|| speaker_after(doc, cue + 1, last))
}

/// The verb whose subject a cue at `c` takes: the cue itself, or the verb of a raising chain
/// before it (`appeared to suggest`, `going on to say`), not before `start`.
fn governing_verb(doc: &Doc<'_>, c: usize, start: usize) -> usize {
    if c < start + 3 || doc.word(c - 1) != "to" {
        return c;
    }
    if doc.is_in(c - 2, RAISING) {
        c - 2
    } else if doc.word(c - 2) == "on" && doc.is_in(c - 3, &["went", "goes", "go", "going"]) {
        c - 3
    } else {
        c
    }
}

/// Verbs whose subject is also the subject of the infinitive after them: `he appeared to
/// suggest that …`.
#[rustfmt::skip]
const RAISING: &[&str] = &[
    "appeared", "appears", "appear", "seemed", "seems", "seem", "tried", "tries", "try",
    "began", "begins", "begin", "started", "starts", "continued", "continues", "used",
    "managed", "needs", "needed", "had", "has", "have", "got", "going", "expected", "likely",
    "set", "sought", "seeks", "wanted", "wants", "hoped", "hopes", "decided", "decides",
    "refused", "refuses", "declined", "declines", "failed", "fails", "moved", "moves",
    "rushed", "rushes", "chose", "chooses", "dared", "vowed", "vows", "promised", "pledged",
    "planned", "plans", "intends", "intended",
];

/// Auxiliaries and modals: one of them after a cue shows the reported clause has begun.
#[rustfmt::skip]
const AUXILIARIES: &[&str] = &[
    "is", "was", "are", "were", "will", "would", "could", "can", "should", "may", "might",
    "must", "has", "have", "had", "does", "did", "do",
];

/// Who is told, as one word: `told reporters`, `said to them`.
const LISTENERS: &[&str] = &["me", "him", "her", "us", "them", "reporters", "journalists"];

/// Words that open an adjunct between a cue and its `that`: `said at a meeting … that`.
#[rustfmt::skip]
const LEADS: &[&str] = &[
    "at", "in", "on", "during", "after", "before", "from", "to", "with", "that", "last", "this", "earlier", "later", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "reporters", "me", "him", "her", "us", "them", "cnn", "the", "a", "an", "via", "by", "through", "while", "when", "over",
];

/// Where what was said starts after a cue at `cue`, within a sentence ending at `end`: past an
/// addressee (`told reporters`), a date (`said Monday`) or an adjunct before `that` (`said at a
/// meeting … that`).
fn content_start(doc: &Doc<'_>, cue: usize, end: usize) -> usize {
    // `pointed out that …`, `pointed to Britain’s decision`
    if doc.word(cue + 1) == "to" && doc.word(cue).starts_with("point") {
        return cue + 2;
    }
    let mut s = if doc.word(cue + 1) == "out" {
        cue + 2
    } else {
        cue + 1
    };
    let telling = doc.is_in(cue, &["told", "tell", "tells", "telling"]);
    // "that" within reach after an adjunct: "said at a campaign stop in Toledo, Ohio, that",
    // or after an addressee: "told one of his protégés on a regular basis that"
    if let Some(that) =
        (s..end.min(s + 16)).find(|&t| doc.word(t) == "that" && doc.tokens[t].is_word())
    {
        // a finite verb before `that` means the content has begun: `said the test could
        // change that`; so does a `that` with nothing after it
        let adjunct = (s..that).all(|t| {
            !doc.tokens[t].is_quote()
                && !doc.is_in(t, &["he", "she", "it", "they", "we", "i"])
                && !doc.is_in(t, AUXILIARIES)
        }) && doc
            .tokens
            .get(that + 1)
            .is_some_and(|t| t.is_word() || matches!(t.kind, Kind::Open(_)));
        // `told the audience that`, but not `said the candidate tended to …, such as his
        // proclamation that`: a noun phrase before `that` is short
        let noun_phrase = doc.is_in(s, &["the", "a", "an"]) && that - s > 4;
        // `agreed to clean up the mines and reclaim the land that had been ravaged`: an
        // infinitive is the content, and a `that` before a verb is a relative pronoun
        let infinitive = doc.word(s) == "to"
            && !doc.starts_upper(s + 1)
            && !doc.is_in(s + 1, NOUN_MARKERS)
            && !doc.has(s + 1, lexicon::PRONOUN)
            && !doc.is_in(s + 1, LISTENERS);
        let relative = that > s && is_relative_that(doc, that);
        if infinitive || relative {
            return s;
        }
        let leads = (doc.is_in(s, LEADS) && !noun_phrase) || doc.starts_upper(s) || telling;
        if adjunct && (leads || that == s) {
            return that;
        }
    }
    // `saying during the debate last week, “That makes me smart,”`: the quotation is what was said
    if doc.is_in(s, LEADS)
        && let Some(open) =
            (s..end.min(s + 14)).find(|&t| matches!(doc.tokens[t].kind, Kind::Open(_)))
        && matches!(doc.tokens[open - 1].kind, Kind::Punct(',' | ':'))
    {
        return open;
    }
    if telling {
        // skip the addressee: a pronoun, "reporters", or a name or description
        if doc.is_in(s, LISTENERS) {
            s += 1;
        } else if let Some((_, last)) = speaker_after(doc, s, end) {
            s = last + 1;
        }
    }
    while s < end
        && (doc.has(s, lexicon::TIME)
            || (doc.word(s) == "on" && s + 1 < end && doc.has(s + 1, lexicon::TIME)))
    {
        s += 1;
    }
    while s < end && matches!(doc.tokens[s].kind, Kind::Punct(',' | ':' | '—' | '–')) {
        s += 1;
    }
    s
}

/// The last token of a sentence's content: its final punctuation left out, unless a closing
/// quotation mark follows it.
fn content_end(doc: &Doc<'_>, end: usize) -> usize {
    doc.content_end(end)
}

/// Direct, indirect or mixed, by the quotation marks between `first` and `last`.
pub(super) fn kind_of(doc: &Doc<'_>, first: usize, last: usize) -> QuoteKind {
    let marks = doc.quote_count(first..last + 1);
    if marks == 0 {
        return QuoteKind::Indirect;
    }
    let opens_at_start = matches!(doc.tokens[first].kind, Kind::Open(_));
    let closes_at_end = matches!(doc.tokens[last].kind, Kind::Close(_));
    if opens_at_start && closes_at_end && marks == 2 {
        QuoteKind::Direct
    } else {
        QuoteKind::Mixed
    }
}

/// Whether a comma stands at `t`, or a comma and a closing mark (`,”`) end at `t`.
fn comma_at(doc: &Doc<'_>, t: usize) -> bool {
    doc.tokens[t].is_punct(',')
        || (matches!(doc.tokens[t].kind, Kind::Close(_))
            && t > 0
            && doc.tokens[t - 1].is_punct(','))
}

/// Where reported content that starts at `s` stops before a coordinated cue of the same
/// subject: `that the military is “depleted” and says he will expand it`.
fn coordinated_cue(stops: &Stops, s: usize, end: usize) -> Option<usize> {
    Stops::first(&stops.coordinated, s + 1).filter(|&t| t < end)
}

/// Whether token `t` coordinates a cue or a verb of stance with the verb before it: `and says`,
/// `but has pledged`. See [`coordinated_cue`].
fn is_coordinated_cue(doc: &Doc<'_>, t: usize) -> bool {
    let verb = |v: usize| is_cue(doc, v) || (doc.has(v, lexicon::STANCE) && !doc.starts_upper(v));
    doc.is_in(t, &["and", "but"])
        && (verb(t + 1) || (doc.has(t + 1, lexicon::BETWEEN) && verb(t + 2)))
}

/// A sentence end moved to the closing mark of a quotation it ends inside:
/// `told Fox that "they hit Matt. ... It is gaming the ref."`
fn extend_into_quote(doc: &Doc<'_>, regions: &[Region], end: usize) -> usize {
    let last = end - 1;
    // regions are in text order and do not overlap: only the last one opening by `last` can
    // hold it
    step(1);
    let opened = regions.partition_point(|r| r.open <= last);
    opened
        .checked_sub(1)
        .map(|k| &regions[k])
        .filter(|r| last < r.close && doc.paragraph_of[r.close] == doc.paragraph_of[last])
        .map_or(end, |r| r.close + 1)
}

/// The source of a noun cue: a possessor (`Stumpf’s emphasis`, `his claim`) or the names
/// before the noun (`a New York Times report`).
fn noun_cue_source(doc: &Doc<'_>, cue: usize, start: usize) -> Option<(usize, usize)> {
    let possessor = (start.max(cue.saturating_sub(3))..cue).rev().find(|&t| {
        let w = doc.word(t);
        w.ends_with("’s") || w.ends_with("'s") || doc.is_in(t, &["his", "her", "their", "its"])
    });
    if let Some(p) = possessor {
        let (first, _) = noun_phrase_before(doc, p + 1, start).unwrap_or((p, p));
        return Some((first, p));
    }
    let names = (start..cue)
        .rev()
        .take_while(|&t| doc.starts_upper(t) || doc.is_in(t, &["the", "a", "an"]))
        .last()?;
    (names < cue && (names..cue).any(|t| doc.starts_upper(t))).then_some((names, cue - 1))
}

/// Where reported content from `s` to `last` stops before another attribution of its own:
/// `…he felt demoralized serving under Obama, Ham also noted several “intangibles” …`.
fn next_attribution(stops: &Stops, s: usize, last: usize) -> Option<usize> {
    // a clause whose cue lies past `last` is not seen from within `s..last`
    let from = stops.attributions.partition_point(|&(t, _)| t < s + 2);
    stops.attributions[from..]
        .iter()
        .inspect(|_| step(1))
        .take_while(|&&(t, _)| t < last)
        .find(|&&(_, cue)| cue < last)
        .map(|&(t, _)| t)
}

/// The cue of the clause that token `t`, after a comma, opens with a speaker of its own: `…,
/// Ham also noted`, `…, and Ham noted`. See [`next_attribution`].
fn attribution_opening(doc: &Doc<'_>, t: usize) -> Option<usize> {
    if t == 0 || !doc.tokens[t - 1].is_punct(',') {
        return None;
    }
    let subject = if doc.is_in(t, &["and", "but"]) {
        t + 1
    } else {
        t
    };
    let cue = (subject..doc.tokens.len().min(subject + MAX_SPEAKER_WORDS + 2))
        .find(|&c| is_cue(doc, c))?;
    speaker_before(doc, cue, subject)
        .is_some_and(|speaker| speaker.0 == subject)
        .then_some(cue)
}

/// Where reported content from `s` to `last`, in a sentence starting at `start`, must stop so
/// as not to swallow a direct quote's own attribution: `She said …, and when pressed, the
/// mother of three replied, "…"`.
fn before_other_attribution(
    doc: &Doc<'_>,
    stops: &mut Stops,
    direct: &[Found],
    start: usize,
    s: usize,
    last: usize,
) -> Option<usize> {
    // the other attribution starts at its speaker, or at its cue when the speaker stands
    // before the content (`Trump attacked Clinton …, saying, "…"`); the first few direct
    // quotes with a cue in the content are enough to find it
    let from = stops.direct_cues.partition_point(|&(c, _)| c <= s);
    let speaker = stops.direct_cues[from..]
        .iter()
        .inspect(|_| step(1))
        .take_while(|&&(c, _)| c <= last)
        .take(MAX_OTHER_ATTRIBUTIONS)
        .map(|&(cue, f)| {
            direct[f]
                .speaker
                .map(|(first, _)| first)
                .filter(|&first| s < first)
                .unwrap_or(cue)
        })
        .min()?;
    // the clause that leads to that speaker starts at the first `, and`, else the last comma
    // (the speaker may stand after the cue, past the sentence)
    stops.cover(doc, start, speaker);
    let and = Stops::first(&stops.commas_before_and, s + 1).filter(|&t| t < speaker);
    let last_comma = Stops::last_before(&stops.commas, speaker).filter(|&t| t > s);
    Some(and.or(last_comma).unwrap_or(speaker))
}

/// The most direct quotes whose attributions [`before_other_attribution`] looks at within one
/// reported clause: more than a sentence ever holds.
const MAX_OTHER_ATTRIBUTIONS: usize = 16;

/// Where a new clause with its own subject starts after a comma or a dash: `…, and the
/// downgrade is …`.
fn new_clause(doc: &Doc<'_>, stops: &Stops, s: usize, end: usize) -> Option<usize> {
    // a quotation between `s` and a clause keeps it, and every clause after it, in the content
    Stops::first(&stops.clauses, s + 2)
        .filter(|&t| t < end.saturating_sub(2) && doc.quote_count(s..t) == 0)
}

/// Whether a new clause can start at token `t`, if no quotation stands before it in the
/// content. See [`new_clause`].
fn opens_clause(doc: &Doc<'_>, t: usize) -> bool {
    t >= 2 && {
        // a relative clause (`…, which forced her to leave`) stays: PolNeAR's spans keep it
        let after_comma =
            comma_at(doc, t - 1) || matches!(doc.tokens[t - 1].kind, Kind::Punct('—' | '–'));
        // `…, engaging in what analysts described as …`: a participial clause about the speaker
        if after_comma
            && doc.tokens[t - 1].is_punct(',')
            && !doc.is_in(t, &["including", "excluding", "regarding", "concerning"])
            && (doc.word(t).ends_with("ing")
                || (doc.word(t).ends_with("ly") && doc.word(t + 1).ends_with("ing")))
            && !doc.starts_upper(t)
        {
            return true;
        }
        after_comma
            && doc.is_in(t, &["and", "but", "while", "although", "though", "yet"])
            && (doc.is_in(
                t + 1,
                &[
                    "the", "a", "an", "he", "she", "they", "it", "we", "i", "his", "her", "their",
                    "its",
                ],
            ) || doc.starts_upper(t + 1))
    }
}

/// The object and quoted label of a verb at `c` that labels someone: `admires Putin as a
/// “strong leader,”`, `has gone after Trump as a “human leech”`. Any verb does, since the
/// quotation marks show whose words the label is.
fn label_as(doc: &Doc<'_>, c: usize) -> Option<(usize, usize)> {
    let s = if doc.is_in(c + 1, &["after", "on", "about"]) {
        c + 2
    } else {
        c + 1
    };
    let limit = (s + MAX_SPEAKER_WORDS).min(doc.tokens.len());
    let r#as = (s + 1..limit)
        .take_while(|&t| doc.tokens[t].is_word())
        .find(|&t| doc.word(t) == "as")?;
    if is_adverb(doc, c) || doc.has(c, lexicon::BETWEEN | lexicon::STOP | lexicon::PRONOUN) {
        return None;
    }
    let open = if doc.is_in(r#as + 1, &["a", "an", "the"]) {
        r#as + 2
    } else {
        r#as + 1
    };
    if !matches!(doc.tokens.get(open)?.kind, Kind::Open(_)) {
        return None;
    }
    let close = (open + 1..doc.tokens.len().min(open + 30))
        .find(|&t| matches!(doc.tokens[t].kind, Kind::Close(_)))?;
    Some((s, close))
}

/// What a cue at `c` attributes in a sentence ending at `end`, as first and last token: from
/// where its content starts to the end of the sentence or to a coordinated cue, a new clause
/// or a participle that starts another statement.
fn object_of(doc: &Doc<'_>, stops: &Stops, c: usize, end: usize) -> (usize, usize) {
    let s = content_start(doc, c, end);
    let cut = coordinated_cue(stops, s, end)
        .or_else(|| new_clause(doc, stops, s, end))
        .or_else(|| participle_after(stops, s, end));
    (s, content_end(doc, cut.unwrap_or(end)))
}

/// A comma that leads, within a few words, to a cue in -ing: `…, aside from saying he wants`.
/// What follows is another attribution by the same speaker.
fn participle_after(stops: &Stops, s: usize, end: usize) -> Option<usize> {
    // a cue past `end` is not seen from within the sentence
    let from = stops.participles.partition_point(|&(t, _)| t < s + 2);
    stops.participles[from..]
        .iter()
        .inspect(|_| step(1))
        .take_while(|&&(t, _)| t < end)
        .find(|&&(_, cue)| cue < end)
        .map(|&(t, _)| t)
}

/// The cue in -ing among the three tokens after a comma at `t`. See [`participle_after`].
fn participle_at(doc: &Doc<'_>, t: usize) -> Option<usize> {
    if !doc.tokens[t].is_punct(',') {
        return None;
    }
    (t + 1..doc.tokens.len().min(t + 4)).find(|&c| is_cue(doc, c) && doc.word(c).ends_with("ing"))
}

/// Where the forward searches of reported speech can stop, found once for each token so that
/// each search costs a binary search however far its sentence runs: the cuts of
/// [`coordinated_cue`], [`new_clause`], [`participle_after`] and [`next_attribution`], commas
/// and closing marks, and the cues of direct quotes. Only the sentences searched are looked at
/// ([`Stops::cover`]).
struct Stops {
    /// Tokens where [`is_coordinated_cue`] holds.
    coordinated: Vec<usize>,
    /// Tokens where [`opens_clause`] holds.
    clauses: Vec<usize>,
    /// Commas with a cue in -ing right after them, and that cue.
    participles: Vec<(usize, usize)>,
    /// Tokens after a comma that open a clause with a speaker of its own, and its cue.
    attributions: Vec<(usize, usize)>,
    /// Commas.
    commas: Vec<usize>,
    /// Commas before `and` or `but`.
    commas_before_and: Vec<usize>,
    /// Closing quotation marks of any kind.
    closes: Vec<usize>,
    /// The cues of direct quotes, each with its quote's index, in text order.
    direct_cues: Vec<(usize, usize)>,
    /// The tokens before this one have been looked at, or will never be searched.
    covered: usize,
}

impl Stops {
    fn new(direct: &[Found]) -> Stops {
        let mut stops = Stops {
            coordinated: Vec::new(),
            clauses: Vec::new(),
            participles: Vec::new(),
            attributions: Vec::new(),
            commas: Vec::new(),
            commas_before_and: Vec::new(),
            closes: Vec::new(),
            direct_cues: direct
                .iter()
                .enumerate()
                .filter_map(|(i, f)| f.cue.map(|(c, _)| (c, i)))
                .collect(),
            covered: 0,
        };
        stops.direct_cues.sort_unstable();
        stops
    }

    /// Looks at the tokens `from..end` not looked at yet, before a search within them: the
    /// sentence being read, which starts at `from`, and the quotation its end runs into.
    /// Sentences are read in order and searched only after their start, so the lists stay in
    /// order, and each token is looked at once.
    fn cover(&mut self, doc: &Doc<'_>, from: usize, end: usize) {
        let first = self.covered.max(from);
        if first >= end {
            return;
        }
        self.covered = end;
        let stops = self;
        // most tokens are words that no question is about: a class bit or the kind of the
        // token before tells, before any string is compared
        let mut before = first.checked_sub(1).map(|p| doc.tokens[p].kind);
        for t in first..end {
            let kind = doc.tokens[t].kind;
            match kind {
                Kind::Punct(',') => {
                    stops.commas.push(t);
                    if doc.is_in(t + 1, &["and", "but"]) {
                        stops.commas_before_and.push(t);
                    }
                    if let Some(cue) = participle_at(doc, t) {
                        stops.participles.push((t, cue));
                    }
                }
                Kind::Close(_) => stops.closes.push(t),
                Kind::Word if doc.has(t, lexicon::STOP) && is_coordinated_cue(doc, t) => {
                    stops.coordinated.push(t);
                }
                _ => {}
            }
            // a clause opens after a comma, a dash or a closing mark
            if matches!(before, Some(Kind::Punct(',' | '—' | '–') | Kind::Close(_))) {
                if opens_clause(doc, t) {
                    stops.clauses.push(t);
                }
                if let Some(cue) = attribution_opening(doc, t) {
                    stops.attributions.push((t, cue));
                }
            }
            before = Some(kind);
        }
    }

    /// The first position of a list at or after `from`.
    fn first(list: &[usize], from: usize) -> Option<usize> {
        step(1);
        list.get(list.partition_point(|&t| t < from)).copied()
    }

    /// The last position of a list before `end`.
    fn last_before(list: &[usize], end: usize) -> Option<usize> {
        step(1);
        list.partition_point(|&t| t < end)
            .checked_sub(1)
            .map(|k| list[k])
    }
}

/// Whether the cue at `c` takes the subject of a verb before it rather than one of its own:
/// an infinitive (`plans to call`), a participle (`…, saying he wants`) or a coordinated verb
/// (`… and has said`).
fn shares_a_subject(doc: &Doc<'_>, c: usize) -> bool {
    doc.word(c).ends_with("ing") || (c > 0 && doc.word(c - 1) == "to") || coordinated(doc, c, 0)
}

/// Whether the verb at `c` is coordinated with one before it, within a sentence starting at
/// `start`: `… and plans to`, `… but has said`.
fn coordinated(doc: &Doc<'_>, c: usize, start: usize) -> bool {
    const AND: &[&str] = &["and", "but"];
    (c > start && doc.is_in(c - 1, AND))
        || (c > start + 1 && doc.has(c - 1, lexicon::BETWEEN) && doc.is_in(c - 2, AND))
}

fn reported_speech(
    doc: &Doc<'_>,
    regions: &[Region],
    skip: &[bool],
    direct: &[Found],
) -> Vec<Found> {
    let mut found = Vec::new();
    let mut stops = Stops::new(direct);
    for sentence in &doc.sentences {
        let start = sentence.start;
        let end = extend_into_quote(doc, regions, sentence.end);
        // the subject of the sentence's last cue, for cues that share it: `…, arguing that`
        let first_cue = stops.direct_cues.partition_point(|&(c, _)| c < start);
        let mut subject = stops.direct_cues[first_cue..]
            .iter()
            .inspect(|_| step(1))
            .take_while(|&&(c, _)| c < end)
            .filter(|&&(_, f)| direct[f].speaker.is_some())
            .map(|&(_, f)| f)
            .min()
            .and_then(|f| direct[f].speaker);
        // computed once a sentence needs them, since each asks the whole sentence
        let mut last_speech: Option<Option<usize>> = None;
        let mut continued: Option<Option<usize>> = None;
        let mut next = start;
        // past the sentence's own end, `end` only takes in a quotation, where no cue counts
        for c in start..sentence.end {
            step(1);
            if c < next || skip[c] || !doc.tokens[c].is_word() {
                continue;
            }
            if doc.word(c) == lexicon::ACCORDING && c + 1 < end && doc.word(c + 1) == "to" {
                if let Some(f) = according_to(doc, c, start, end) {
                    next = f.quote.1.max(c + 1) + 1;
                    found.push(f);
                }
                continue;
            }
            // `Stumpf’s repeated emphasis that …`, `a New York Times report that …`
            if doc.is_in(c, lexicon::NOUN_CUES)
                && doc.word(c + 1) == "that"
                && !doc.starts_upper(c)
                && let Some(source) = noun_cue_source(doc, c, start)
            {
                let s = c + 1;
                let mut last = content_end(doc, end);
                stops.cover(doc, start, end);
                if let Some(cut) =
                    new_clause(doc, &stops, s, end).or_else(|| next_attribution(&stops, s, last))
                {
                    last = content_end(doc, cut);
                }
                if word_count(doc, s..last + 1) >= MIN_CONTENT_WORDS {
                    found.push(Found::with_kind(doc, (s, last), source, (c, c)));
                    next = last + 1;
                    continue;
                }
            }
            if !is_cue(doc, c) {
                if let Some(speaker) = is_weak_cue(doc, c, start, subject) {
                    stops.cover(doc, start, end);
                    let (s, last) =
                        label_as(doc, c).unwrap_or_else(|| object_of(doc, &stops, c, end));
                    // a speech cue later in the sentence is the real attribution:
                    // `The United States seeks to …, according to Putin.`
                    let speech_later = last_speech
                        .get_or_insert_with(|| last_speech_cue(doc, skip, sentence.clone()))
                        .is_some_and(|t| t > c);
                    if !speech_later
                        && s <= last
                        && is_object(doc, s, last)
                        && doc.tokens[s].is_word()
                    {
                        found.push(Found::with_kind(doc, (s, last), speaker, (c, c)));
                        subject = Some(speaker);
                        next = last + 1;
                    }
                }
                continue;
            }
            // `…, going on to say that`: the verb that governs the cue decides
            let h = governing_verb(doc, c, start);
            let shares_subject =
                (h > start && doc.word(h).ends_with("ing") && comma_at(doc, h - 1))
                    || coordinated(doc, h, start);
            let speaker = if shares_subject {
                // `Clinton spoke out Tuesday …, arguing that …`: the sentence's opening subject
                subject.or_else(|| sentence_subject(doc, start, c))
            } else {
                speaker_before(doc, c, start)
            };
            if let Some(speaker) = speaker {
                subject = Some(speaker);
                // `The museum, Mr. Obama said, would make visitors …`: the whole sentence
                if !shares_subject
                    && speaker.0 > start + 1
                    && doc.tokens[speaker.0 - 1].is_punct(',')
                    && doc.tokens.get(c + 1).is_some_and(|t| t.is_punct(','))
                    && word_count(doc, c + 2..end) >= MIN_CONTENT_WORDS
                {
                    let last = content_end(doc, end);
                    found.push(Found::with_kind(doc, (start, last), speaker, (c, c)));
                    next = end;
                    continue;
                }
                // "The country “has made changes,” McConnell said in June": content comes first
                if !shares_subject && let Some(mut f) = content_before(doc, start, speaker, c) {
                    if let Some(close) =
                        *continued.get_or_insert_with(|| continued_quote(doc, regions, end))
                    {
                        f.quote.1 = close;
                        f.kind = QuoteKind::Mixed;
                    }
                    next = end;
                    found.push(f);
                    continue;
                }
                stops.cover(doc, start, end);
                let (s, mut last) = object_of(doc, &stops, c, end);
                if let Some(cut) = before_other_attribution(doc, &mut stops, direct, start, s, last)
                {
                    last = content_end(doc, cut);
                }
                if let Some(cut) = next_attribution(&stops, s, last) {
                    last = content_end(doc, cut);
                }
                // `chanted "What curfew?" and kept going`: a quotation opening the content ends it
                if let Ok(k) = regions.binary_search_by_key(&s, |r| r.open)
                    && let region = &regions[k]
                    && region.close < last
                    && doc.is_in(
                        region.close + 1,
                        &["and", "but", "or", "when", "while", "before", "after", "as"],
                    )
                {
                    last = region.close;
                }
                // `what Prime Minister Malcolm Turnbull called North Korea's "reckless" actions`:
                // the quote is the whole phrase, from `what`
                let what = (speaker.0 > start
                    && doc.word(speaker.0 - 1) == "what"
                    && doc.has(c, lexicon::LABELLING))
                .then(|| speaker.0 - 1);
                if what.is_none()
                    && doc.has(c, lexicon::LABELLING)
                    && let Some(label_end) =
                        Stops::last_before(&stops.closes, last + 1).filter(|&t| t >= s)
                {
                    last = label_end;
                }
                let s = what.unwrap_or(s);
                if s <= last && is_object(doc, s, last) && !doc.tokens[s].is_terminal() {
                    found.push(Found::with_kind(doc, (s, last), speaker, (c, c)));
                    next = last + 1;
                    continue;
                }
            } else if let Some(speaker) = speaker_after(doc, c + 1, end) {
                // "…, said X." — inverted
                let comma = c.checked_sub(1).filter(|&p| p > start && comma_at(doc, p));
                // `said one GOP source in the room.`: a place or time may close the sentence
                let rest = speaker.1 + 1..end;
                let speaker_ends = speaker.1 + 2 >= end
                    || doc
                        .tokens
                        .get(speaker.1 + 1)
                        .is_some_and(|t| t.is_punct(',') || t.is_punct('('))
                    || ((doc.is_in(speaker.1 + 1, PREPOSITIONS)
                        || doc.has(speaker.1 + 1, lexicon::TIME))
                        && word_count(doc, rest.clone()) <= MAX_SPEAKER_WORDS
                        && !rest
                            .clone()
                            .any(|t| doc.tokens[t].is_quote() || is_cue(doc, t)));
                if let Some(comma) = comma
                    && word_count(doc, start..comma) >= MIN_CONTENT_WORDS
                    && speaker_ends
                {
                    let last = content_end(doc, comma + 1);
                    let quote_after =
                        *continued.get_or_insert_with(|| continued_quote(doc, regions, end));
                    let (last, kind) = match quote_after {
                        Some(close) => (close, QuoteKind::Mixed),
                        None => (last, kind_of(doc, start, last)),
                    };
                    found.push(Found {
                        quote: (start, last),
                        speaker: Some(speaker),
                        cue: Some((c, c)),
                        kind,
                    });
                    next = speaker.1 + 1;
                }
            }
        }
    }
    found
}

/// The last speech cue among `tokens` outside quotation marks, a cue that takes a subject of
/// its own or `according to`: a weaker cue before it attributes nothing.
fn last_speech_cue(doc: &Doc<'_>, skip: &[bool], tokens: Range<usize>) -> Option<usize> {
    tokens.rev().find(|&t| {
        !skip[t]
            && ((is_cue(doc, t) && !shares_a_subject(doc, t))
                || (doc.word(t) == lexicon::ACCORDING && doc.word(t + 1) == "to"))
    })
}

/// The closing mark of a quote that continues an attributed sentence ending at `end`: `Both
/// parties "saw Burma …," said Victor Cha, who served …. "We often compare it …"` is one quote.
fn continued_quote(doc: &Doc<'_>, regions: &[Region], end: usize) -> Option<usize> {
    step(1);
    let next = regions.get(regions.partition_point(|r| r.open < end))?;
    let same_paragraph = end > 0 && doc.paragraph_of[next.open] == doc.paragraph_of[end - 1];
    let adjacent = next.open == end || (next.open == end + 1 && !doc.tokens[end].is_word());
    (same_paragraph
        && adjacent
        && ends_sentence(doc, next.close)
        && attribution_after(doc, next.close).is_none())
    .then_some(next.close)
}

/// `…, X said.`: the content is the sentence up to the comma before the speaker.
fn content_before(
    doc: &Doc<'_>,
    start: usize,
    speaker: (usize, usize),
    cue: usize,
) -> Option<Found> {
    // `…, X said.` or `…,” X said.`, or `…, as police have said.`
    let mut comma = speaker.0.checked_sub(1)?;
    if doc.word(comma) == "as" && comma > 0 {
        comma -= 1;
    }
    if comma <= start || !comma_at(doc, comma) || word_count(doc, start..comma) < MIN_CONTENT_WORDS
    {
        return None;
    }
    // nothing of substance after the cue: a comma, or a date or place (`said in June 2012`);
    // `In a statement, the ministry said it would …` says what follows the cue
    let sentence_end = doc.sentences[doc.sentence_of[cue]].end;
    let next = cue + 1;
    let after_is_adjunct = next >= sentence_end
        || !doc.tokens[next].is_word()
        || doc.has(next, lexicon::TIME)
        || doc.is_in(
            next,
            &["in", "on", "at", "during", "after", "before", "via", "from"],
        )
        // `said to reporters`, but not `agreed to lend`
        || (doc.word(next) == "to"
            && (doc.starts_upper(next + 1)
                || doc.is_in(next + 1, NOUN_MARKERS)
                || doc.is_in(next + 1, LISTENERS)));
    // `In the end, Patriot agreed …`: an opening adjunct is not what was said
    let adjunct_only = doc.is_in(start, PREPOSITIONS) && word_count(doc, start..comma) <= 4;
    if adjunct_only {
        return None;
    }
    // `…, Graham told The Huffington Post on Tuesday.`: the listener is no content
    let listener_only = doc.is_in(cue, &["told", "tells", "tell"])
        && word_count(doc, next..sentence_end) <= MAX_SPEAKER_WORDS
        && !(next..sentence_end)
            .any(|t| doc.word(t) == "that" || doc.tokens[t].is_quote() || is_cue(doc, t));
    if !after_is_adjunct && !listener_only {
        return None;
    }
    // `Mills "got an immunity agreement," Jordan said, and still "got to sit in …"`: the
    // sentence goes on quoting after the attribution
    let goes_on = doc.tokens.get(next).is_some_and(|t| t.is_punct(','))
        && doc.is_in(next + 1, &["and", "but"])
        && doc.quote_count(next + 2..sentence_end) > 0;
    let last = if goes_on {
        content_end(doc, sentence_end)
    } else {
        content_end(doc, comma + 1)
    };
    Some(Found::with_kind(doc, (start, last), speaker, (cue, cue)))
}

/// `according to X, …` and `…, according to X.`
fn according_to(doc: &Doc<'_>, c: usize, start: usize, end: usize) -> Option<Found> {
    let speaker = speaker_after(doc, c + 2, end).or_else(|| {
        // "according to conservative talk radio host Rush Limbaugh,"
        let comma = (c + 2..end.min(c + 14)).find(|&t| !doc.tokens[t].is_word())?;
        (comma > c + 2).then(|| (c + 2, comma - 1))
    })?;
    let cue = Some((c, c + 1));
    if c == start || (c == start + 1 && !doc.tokens[start].is_word()) {
        let comma = (speaker.1 + 1..end).find(|&t| doc.tokens[t].is_punct(','))?;
        let last = content_end(doc, end);
        (comma < last).then(|| Found {
            quote: (comma + 1, last),
            speaker: Some(speaker),
            cue,
            kind: kind_of(doc, comma + 1, last),
        })
    } else {
        // `…, according to X` or `… — or flat out wrong — according to X`
        let before = c
            .checked_sub(1)
            .filter(|&p| doc.tokens[p].is_punct(',') || is_dash(doc, p))?;
        if word_count(doc, start..before) < MIN_CONTENT_WORDS {
            return None;
        }
        let last = content_end(doc, before + 1);
        Some(Found {
            quote: (start, last),
            speaker: Some(speaker),
            cue,
            kind: kind_of(doc, start, last),
        })
    }
}
