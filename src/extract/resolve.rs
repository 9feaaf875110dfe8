//! Who a speaker mention refers to, from the mentions before it in the same article: a surname
//! to the full name first written with it ("Putin" → "Vladimir Putin"), a description to the
//! person it titled ("the Russian president" → "Vladimir Putin", from "Russian President
//! Vladimir Putin"), a pronoun to whom the last sentence naming someone names first (else to
//! the speaker before it).

use std::collections::HashMap;

use super::doc::{Doc, step};
use super::lexicon;
use crate::domain::limits::MAX_CLAIMANT_CHARS;

type Map<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// The most entities a title word is looked up in: the first ones it titled. A description
/// ("the president") is scored against these only, so that resolving it costs the same however
/// many people an article names.
const MAX_TITLED: usize = 32;

/// The most words of a name before a relative pronoun: `Mr. Kamin, who emphasized`.
const MAX_NAME_WORDS: usize = 8;

/// Words that are titles or roles, not names, when they lead a capitalized run.
const TITLES: &[&str] = &[
    "president",
    "vice",
    "prime",
    "minister",
    "secretary",
    "senator",
    "sen.",
    "rep.",
    "gov.",
    "governor",
    "mayor",
    "gen.",
    "general",
    "chairman",
    "chairwoman",
    "chair",
    "speaker",
    "leader",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "director",
    "chief",
    "judge",
    "justice",
    "mr.",
    "mrs.",
    "ms.",
    "dr.",
    "prof.",
    "professor",
    "king",
    "queen",
    "prince",
    "pope",
    "ambassador",
    "attorney",
    "candidate",
    "nominee",
    "former",
    "representative",
    "commissioner",
    "republican",
    "democratic",
    "democrat",
    "sheriff",
    "officer",
    "ceo",
    "founder",
    "deputy",
    "foreign",
    "defense",
    "state",
    "house",
    "white",
    "senate",
    "the",
    "u.s.",
    "us",
    "presidential",
];

/// Pronouns that refer back to a person or body.
const REFERRING_PRONOUNS: &[&str] = &["he", "she", "they", "i", "we", "who", "it", "which"];

/// A person (or body) named in the article.
#[derive(Debug, Clone)]
struct Entity {
    /// The name, e.g. "Vladimir Putin".
    name: String,
    /// Its last word, lower-cased, for surname matches.
    surname: String,
}

/// Resolves speaker mentions in text order.
pub struct Resolver {
    entities: Vec<Entity>,
    /// The first entity with each surname.
    by_surname: Map<String, usize>,
    /// For each lower-cased word that titled entities where they were named ("russian",
    /// "president"), the first [`MAX_TITLED`] of them and how often it titled each.
    titled: Map<String, Vec<(usize, usize)>>,
    /// The entity of the last resolved speaker: what a pronoun refers to when no one is named
    /// before it, and what a description prefers in a tie.
    last: Option<usize>,
    /// Where entities are named outside quotation marks, by first token, in text order:
    /// who a pronoun may refer to.
    mentions: Vec<(usize, usize)>,
}

impl Resolver {
    /// Collects the named entities of a document: runs of two or more capitalized words.
    pub fn new(doc: &Doc<'_>) -> Self {
        let mut entities: Vec<Entity> = Vec::new();
        let mut titles_of: Vec<Vec<String>> = Vec::new();
        let mut by_name: Map<String, usize> = Map::default();
        let runs = capitalized_runs(doc);
        for &(i, j) in &runs {
            let (titles, name) = split_titles(doc, i, j);
            if name.len() >= 2 && !doc.is_all_caps(name[0]) {
                let words: Vec<&str> = name.iter().map(|&t| strip_possessive(doc.raw(t))).collect();
                let full = words.join(" ");
                // a run longer than any name the registry takes is no name
                if full.len() > MAX_CLAIMANT_CHARS && full.chars().count() > MAX_CLAIMANT_CHARS {
                    continue;
                }
                let surname = words.last().map(|w| w.to_lowercase()).unwrap_or_default();
                // also lower-case title words just before the run: "White House spokesman"
                let mut titles = titles;
                let mut k = i;
                while k > 0
                    && k + 3 > i
                    && doc.tokens[k - 1].is_word()
                    && !doc.starts_upper(k - 1)
                    && lexicon::contains(TITLES, doc.word(k - 1))
                {
                    titles.push(doc.word(k - 1).to_owned());
                    k -= 1;
                }
                step(1);
                match by_name.get(&full) {
                    Some(&e) => titles_of[e].extend(titles),
                    None => {
                        by_name.insert(full.clone(), entities.len());
                        entities.push(Entity {
                            name: full,
                            surname,
                        });
                        titles_of.push(titles);
                    }
                }
            }
        }
        let mut by_surname: Map<String, usize> = Map::default();
        for (e, entity) in entities.iter().enumerate() {
            by_surname.entry(entity.surname.clone()).or_insert(e);
        }
        // `the` titles everyone and tells no one apart
        let mut titled: Map<String, Vec<(usize, usize)>> = Map::default();
        for (e, mut titles) in titles_of.into_iter().enumerate() {
            step(titles.len());
            titles.sort_unstable();
            for same in titles.chunk_by(|a, b| a == b) {
                if same[0] == "the" {
                    continue;
                }
                let entities = titled.entry(same[0].clone()).or_default();
                if entities.len() < MAX_TITLED {
                    entities.push((e, same.len()));
                }
            }
        }
        // every capitalized run outside quotation marks that names an entity, by its whole
        // name or its surname
        let quoted = doc.quoted(doc.quote_regions());
        let mut mentions = Vec::new();
        let mut surname = String::new();
        for &(i, j) in &runs {
            if !quoted[i] {
                let (_, name) = split_titles(doc, i, j);
                if let Some(&surname_token) = name.last() {
                    step(1);
                    surname.clear();
                    let raw = strip_possessive(doc.raw(surname_token));
                    surname.extend(raw.chars().flat_map(char::to_lowercase));
                    if let Some(&e) = by_surname.get(surname.as_str()) {
                        mentions.push((i, e));
                    }
                }
            }
        }
        Resolver {
            mentions,
            entities,
            by_surname,
            titled,
            last: None,
        }
    }

    /// The first entity named, outside quotation marks, in the last sentence before token
    /// `at` that names one.
    fn subject_before(&self, doc: &Doc<'_>, at: usize) -> Option<usize> {
        let k = self.mentions.partition_point(|&(t, _)| t < at);
        let &(t, _) = self.mentions[..k].last()?;
        let sentence = doc.sentence_of[t];
        let first = self.mentions[..k].partition_point(|&(u, _)| doc.sentence_of[u] < sentence);
        Some(self.mentions[first].1)
    }

    /// The name a speaker mention (tokens `first..=last`) refers to.
    pub fn resolve(&mut self, doc: &Doc<'_>, first: usize, last: usize) -> String {
        let mention: String = doc.text[doc.tokens[first].start..doc.tokens[last].end].to_owned();
        // `Brian Fallon, the campaign’s press secretary`, `Rep. John Mica (R-Fla.)`: the head
        // before an appositive or a parenthesis is who it is
        let last = (first + 1..=last)
            .find(|&t| !doc.tokens[t].is_word() && !doc.tokens[t].is_quote())
            .map_or(last, |t| t - 1);
        // `Mr. Kamin, who emphasized`: a relative pronoun refers to the name before its comma
        if first == last
            && first >= 2
            && doc.is_in(first, &["who", "which"])
            && doc.tokens[first - 1].is_punct(',')
            && doc.starts_upper(first - 2)
        {
            let b = first - 2;
            let a = (0..b)
                .rev()
                .take(MAX_NAME_WORDS)
                .take_while(|&t| doc.tokens[t].is_word() && doc.starts_upper(t))
                .last()
                .unwrap_or(b);
            return self.resolve(doc, a, b);
        }
        if first == last && doc.is_in(first, REFERRING_PRONOUNS) {
            // `Clinton bashed Trump’s proposal. She addressed …`: a personal pronoun refers to
            // the first entity named in the last sentence that names one (its subject, most
            // often), outside quotation marks; a relative or first-person one, and one with no
            // entity before it, to the last speaker
            if !doc.is_in(first, &["who", "which", "i", "we"])
                && let Some(e) = self.subject_before(doc, first)
            {
                self.last = Some(e);
                return self.entities[e].name.clone();
            }
            return self
                .last
                .map(|e| self.entities[e].name.clone())
                .unwrap_or(mention);
        }
        // a mention that ends in a capitalized run names someone: the name after its titles;
        // one that ends in a common noun ("the Russian president") describes someone
        let caps: Vec<usize> = (first..=last).filter(|&t| doc.starts_upper(t)).collect();
        if let (Some(&a), Some(&b)) = (caps.first(), caps.last())
            && b == last
        {
            let (_, name) = split_titles(doc, a, b);
            if let Some(&surname_token) = name.last() {
                let surname = strip_possessive(doc.raw(surname_token)).to_lowercase();
                step(1);
                let found = self.by_surname.get(&surname).copied();
                if let Some(e) = found {
                    self.last = Some(e);
                    return self.entities[e].name.clone();
                }
                let words: Vec<&str> = name.iter().map(|&t| strip_possessive(doc.raw(t))).collect();
                return words.join(" ");
            }
        }
        // a description: the entity whose titles share most of its words (each title counted
        // as often as it titled them), else the last speaker; a tie goes to the last speaker,
        // then to the entity named last
        let mut words: Vec<&str> = (first..=last)
            .filter(|&t| doc.tokens[t].is_word())
            .map(|t| doc.word(t))
            .collect();
        words.sort_unstable();
        words.dedup();
        let mut scores: Map<usize, usize> = Map::default();
        for word in words {
            for &(e, times) in self.titled.get(word).into_iter().flatten() {
                step(1);
                *scores.entry(e).or_default() += times;
            }
        }
        let best = scores
            .into_iter()
            .max_by_key(|&(e, score)| (score, self.last == Some(e), e));
        match best.map(|(e, _)| e).or(self.last) {
            Some(e) => {
                self.last = Some(e);
                self.entities[e].name.clone()
            }
            None => mention,
        }
    }
}

/// The runs of capitalized words of a document, as (first, last) tokens in text order: where
/// names may stand. A capitalized preposition or day starts none (`On Wednesday, Clinton`).
fn capitalized_runs(doc: &Doc<'_>) -> Vec<(usize, usize)> {
    let n = doc.tokens.len();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < n {
        if !doc.starts_upper(i) || doc.has(i, lexicon::STOP | lexicon::TIME) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j + 1 < n && doc.starts_upper(j + 1) {
            j += 1;
        }
        runs.push((i, j));
        i = j + 1;
    }
    runs
}

/// Splits a capitalized run into its leading title words and the name after them.
fn split_titles(doc: &Doc<'_>, first: usize, last: usize) -> (Vec<String>, Vec<usize>) {
    let mut titles = Vec::new();
    let mut start = first;
    // nationality or organisation words before a title ("Russian President") are titles too
    let last_title = (first..=last)
        .rev()
        .find(|&t| lexicon::contains(TITLES, doc.word(t)));
    if let Some(lt) = last_title
        && lt < last
    {
        for t in first..=lt {
            titles.push(doc.word(t).to_owned());
        }
        start = lt + 1;
    }
    (titles, (start..=last).collect())
}

fn strip_possessive(word: &str) -> &str {
    word.strip_suffix("’s")
        .or_else(|| word.strip_suffix("'s"))
        .unwrap_or(word)
}
