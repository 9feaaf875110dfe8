//! Learning the tagger from annotated articles (PolNeAR's format): the labels each token should
//! have, the cue words and their strengths, and the weights, by an averaged structured
//! perceptron (Collins 2002): tag an article with the current weights, and where the tags
//! differ from the annotation, move the weights towards the annotation's features and away
//! from the prediction's. The weights returned are the average over every step, which
//! generalises far better than the last ones. Everything is deterministic: the same articles
//! and settings give the same model, bit for bit.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use serde::Deserialize;

use super::{Cues, LABELS, Label, Model, Sequence, Vocabulary, features, fnv, viterbi};
use crate::extract::doc::Doc;
use crate::extract::rules;
use crate::extract::tokens::Kind;

/// An annotated article: its text and its attributions.
#[derive(Debug, Clone, Deserialize)]
pub struct Article {
    /// The article's id, as the data gives it.
    pub id: serde_json::Value,
    /// The article's text.
    pub text: String,
    /// Its attributions.
    #[serde(default)]
    pub quotes: Vec<Attribution>,
}

/// One annotated attribution, in code points of its article's text.
#[derive(Debug, Clone, Deserialize)]
pub struct Attribution {
    /// Where what was said starts (for a quote in several pieces, its first piece).
    pub start: usize,
    /// Where it ends (its last piece's end).
    pub end: usize,
    /// Where its source starts, when the annotation names one.
    pub speaker_start: Option<usize>,
    /// Where its source ends.
    pub speaker_end: Option<usize>,
    /// Where its cue starts.
    pub verb_start: Option<usize>,
    /// Where its cue ends.
    pub verb_end: Option<usize>,
}

/// The code point span of each of these tokens.
fn code_point_spans(doc: &Doc<'_>, tokens: &[usize]) -> Vec<(usize, usize)> {
    let bytes: Vec<usize> = tokens
        .iter()
        .flat_map(|&t| [doc.tokens[t].start, doc.tokens[t].end])
        .collect();
    let points = crate::extract::code_points(doc.text, &bytes);
    tokens
        .iter()
        .map(|&t| (points[&doc.tokens[t].start], points[&doc.tokens[t].end]))
        .collect()
}

/// Every token of an article but paragraph breaks.
fn all_tokens(doc: &Doc<'_>) -> Vec<usize> {
    (0..doc.tokens.len())
        .filter(|&t| doc.tokens[t].kind != Kind::Break)
        .collect()
}

/// The positions of the tokens that overlap a span of code points.
fn covered(spans: &[(usize, usize)], start: usize, end: usize) -> std::ops::Range<usize> {
    let first = spans.partition_point(|&(_, e)| e <= start);
    let last = spans.partition_point(|&(s, _)| s < end);
    first..last.max(first)
}

/// The labels an annotation gives the tokens: what was said first (an earlier or outer quote
/// keeps its tokens), then the sources on the tokens left outside.
fn labels(spans: &[(usize, usize)], quotes: &[Attribution]) -> Vec<Label> {
    let mut labels = vec![Label::Outside; spans.len()];
    let mut ordered: Vec<&Attribution> = quotes.iter().collect();
    ordered.sort_by_key(|q| (q.start, q.end));
    for q in &ordered {
        for (k, p) in covered(spans, q.start, q.end).enumerate() {
            if labels[p] == Label::Outside {
                labels[p] = if k == 0 {
                    Label::ContentBegin
                } else {
                    Label::Content
                };
            }
        }
    }
    for q in &ordered {
        if let (Some(start), Some(end)) = (q.speaker_start, q.speaker_end) {
            let free: Vec<usize> = covered(spans, start, end)
                .filter(|&p| labels[p] == Label::Outside)
                .collect();
            for (k, p) in free.into_iter().enumerate() {
                labels[p] = if k == 0 {
                    Label::SourceBegin
                } else {
                    Label::Source
                };
            }
        }
    }
    labels
}

/// How often each word occurs, and how often inside an annotated cue: the cue words' strengths.
#[derive(Debug, Default)]
pub struct CueCounts {
    /// Occurrences of each lower-cased word.
    total: HashMap<String, u32, FixedState>,
    /// Occurrences inside a cue.
    in_cue: HashMap<String, u32, FixedState>,
}

/// The fewest times a word must stand in a cue to be a cue word.
const MIN_CUE_COUNT: u32 = 3;
/// The smallest share of a word's occurrences inside cues for it to be a cue word.
const MIN_CUE_SHARE: f32 = 0.1;

impl CueCounts {
    /// Counts the words of an article and those of its annotated cues.
    pub fn add(&mut self, article: &Article) {
        let doc = Doc::new(&article.text);
        let tokens = all_tokens(&doc);
        let spans = code_point_spans(&doc, &tokens);
        for &t in &tokens {
            if doc.is_word(t) {
                *self.total.entry(doc.word(t).to_owned()).or_default() += 1;
            }
        }
        for q in &article.quotes {
            if let (Some(start), Some(end)) = (q.verb_start, q.verb_end) {
                for p in covered(&spans, start, end) {
                    let t = tokens[p];
                    if doc.is_word(t) {
                        *self.in_cue.entry(doc.word(t).to_owned()).or_default() += 1;
                    }
                }
            }
        }
    }

    /// The cue words, alphabetic ones seen in cues often enough, with their strengths, by word.
    pub fn cues(&self) -> Vec<(String, f32)> {
        let mut cues: Vec<(String, f32)> = self
            .in_cue
            .iter()
            .filter(|&(word, &count)| {
                count >= MIN_CUE_COUNT && word.chars().all(char::is_alphabetic)
            })
            .map(|(word, &count)| (word.clone(), count as f32 / self.total[word] as f32))
            .filter(|&(_, share)| share >= MIN_CUE_SHARE)
            .collect();
        cues.sort_by(|a, b| a.0.cmp(&b.0));
        cues
    }
}

/// An article ready to learn from: its features and the labels the annotation gives.
pub struct Example {
    sequence: Sequence,
    gold: Vec<Label>,
}

impl Example {
    /// Reads an article with the rules and these cue words, adding its words to a vocabulary.
    pub fn new(article: &Article, cues: &Cues, vocabulary: &mut Vocabulary) -> Example {
        let doc = Doc::new(&article.text);
        vocabulary.add(&doc);
        let found = rules::find_quotes(&doc);
        let sequence = features(&doc, &found, cues);
        let mut gold = labels(&code_point_spans(&doc, &sequence.tokens), &article.quotes);
        // what the tagger does not tag it cannot learn
        for (label, &tagged) in gold.iter_mut().zip(&sequence.tagged) {
            if !tagged {
                *label = Label::Outside;
            }
        }
        Example { sequence, gold }
    }
}

/// A small deterministic generator for the order of the articles (xorshift64*).
struct Shuffle(u64);

impl Shuffle {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// The weights while learning: the current ones, and the sum of every update scaled by when it
/// was made, from which the average over all steps follows.
struct Perceptron {
    index: HashMap<u64, usize, FixedState>,
    weights: Vec<[f32; LABELS]>,
    scaled: Vec<[f32; LABELS]>,
    transitions: [[f32; LABELS]; LABELS],
    scaled_transitions: [[f32; LABELS]; LABELS],
    /// Steps taken so far, plus one.
    step: f32,
}

impl Perceptron {
    fn emissions(&self, sequence: &Sequence) -> Vec<[f32; LABELS]> {
        sequence.emissions(|key| self.index.get(key).map(|&i| &self.weights[i]))
    }

    fn update(&mut self, key: u64, label: Label, delta: f32) {
        let next = self.weights.len();
        let i = *self.index.entry(key).or_insert(next);
        if i == next {
            self.weights.push([0.0; LABELS]);
            self.scaled.push([0.0; LABELS]);
        }
        self.weights[i][label as usize] += delta;
        self.scaled[i][label as usize] += self.step * delta;
    }

    fn update_transition(&mut self, from: Label, to: Label, delta: f32) {
        self.transitions[from as usize][to as usize] += delta;
        self.scaled_transitions[from as usize][to as usize] += self.step * delta;
    }

    /// Tags one example and moves the weights where it was wrong.
    fn learn(&mut self, example: &Example) {
        let predicted = viterbi(&self.emissions(&example.sequence), &self.transitions);
        for (p, (&want, &got)) in example.gold.iter().zip(&predicted).enumerate() {
            if want != got {
                for &key in example.sequence.features(p) {
                    self.update(key, want, 1.0);
                    self.update(key, got, -1.0);
                }
            }
            if p > 0 && (example.gold[p - 1], want) != (predicted[p - 1], got) {
                self.update_transition(example.gold[p - 1], want, 1.0);
                self.update_transition(predicted[p - 1], got, -1.0);
            }
        }
        self.step += 1.0;
    }

    /// The averaged weights, without features whose weights all average to zero.
    fn average(self, cues: Cues, vocabulary: Vocabulary) -> Model {
        let average = |w: f32, s: f32| w - s / self.step;
        let mut weights = HashMap::with_hasher(FixedState::default());
        for (&key, &i) in &self.index {
            let mut row = [0.0; LABELS];
            for (l, cell) in row.iter_mut().enumerate() {
                *cell = average(self.weights[i][l], self.scaled[i][l]);
            }
            if row.iter().any(|w| w.abs() > 1e-6) {
                weights.insert(key, row);
            }
        }
        let mut transitions = [[0.0; LABELS]; LABELS];
        for (a, row) in transitions.iter_mut().enumerate() {
            for (b, cell) in row.iter_mut().enumerate() {
                *cell = average(self.transitions[a][b], self.scaled_transitions[a][b]);
            }
        }
        Model::new(weights, transitions, cues, vocabulary)
    }
}

/// How many passes over the articles the shipped model makes.
pub const EPOCHS: usize = 60;

/// Learns a model from annotated articles: the cue words from their cues, then the weights,
/// in `epochs` passes over the articles in an order shuffled from a fixed seed.
pub fn fit(articles: &[&Article], epochs: usize) -> (Model, Vec<(String, f32)>) {
    let mut counts = CueCounts::default();
    articles.iter().for_each(|a| counts.add(a));
    let cue_list = counts.cues();
    let cues = Cues::from_hashes(cue_list.iter().map(|(w, s)| (fnv(w), *s)));
    let mut vocabulary = Vocabulary::default();
    let examples: Vec<Example> = (articles.iter())
        .map(|a| Example::new(a, &cues, &mut vocabulary))
        .collect();
    let mut perceptron = Perceptron {
        index: HashMap::with_capacity_and_hasher(1 << 20, FixedState::default()),
        weights: Vec::new(),
        scaled: Vec::new(),
        transitions: [[0.0; LABELS]; LABELS],
        scaled_transitions: [[0.0; LABELS]; LABELS],
        step: 1.0,
    };
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut shuffle = Shuffle(0x5eed_1e55_c1a1_3000);
    for _ in 0..epochs {
        for i in (1..order.len()).rev() {
            order.swap(i, shuffle.below(i + 1));
        }
        for &i in &order {
            perceptron.learn(&examples[i]);
        }
    }
    (perceptron.average(cues, vocabulary), cue_list)
}

/// The fold of each article for `folds`-fold cross-validation by article: articles ordered by
/// the hash of their id, then dealt out in turn, so a fold never depends on the file's order.
pub fn folds(articles: &[Article], folds: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..articles.len()).collect();
    order.sort_by_key(|&i| (fnv(&articles[i].id.to_string()), i));
    let mut fold = vec![0; articles.len()];
    for (rank, &i) in order.iter().enumerate() {
        fold[i] = rank % folds;
    }
    fold
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(text: &str, quotes: Vec<Attribution>) -> Article {
        Article {
            id: serde_json::json!("a"),
            text: text.to_owned(),
            quotes,
        }
    }

    fn attribution(text: &str, quote: &str, speaker: &str, verb: &str) -> Attribution {
        let at = |part: &str| {
            let byte = text.find(part).unwrap();
            let start = text[..byte].chars().count();
            (start, start + part.chars().count())
        };
        let ((start, end), (s, e), (v, w)) = (at(quote), at(speaker), at(verb));
        Attribution {
            start,
            end,
            speaker_start: Some(s),
            speaker_end: Some(e),
            verb_start: Some(v),
            verb_end: Some(w),
        }
    }

    #[test]
    fn the_annotation_labels_content_then_sources_in_code_points() {
        let text = "Élise Dupont said the budget is broken. It rained.";
        let a = article(
            text,
            vec![attribution(
                text,
                "the budget is broken",
                "Élise Dupont",
                "said",
            )],
        );
        let doc = Doc::new(&a.text);
        let labels = labels(&code_point_spans(&doc, &all_tokens(&doc)), &a.quotes);
        use Label::*;
        assert_eq!(
            labels,
            [
                SourceBegin,
                Source,
                Outside,
                ContentBegin,
                Content,
                Content,
                Content,
                Outside,
                Outside,
                Outside,
                Outside
            ]
        );
    }

    #[test]
    fn a_model_learns_a_cue_it_was_shown_and_tags_a_new_sentence_with_it() {
        // the tagger reads paragraphs with quotation marks
        let texts = [
            "Anna Berg said the river is rising fast. “Go.”",
            "Tom Hale said the bridge will close soon. “Go.”",
            "Mia Cole said the school has no heating. “Go.”",
            "Rain fell all night on the town. “Go.”",
        ];
        let articles: Vec<Article> = texts
            .iter()
            .map(|&text| {
                let quotes = match text.split_once(" said ") {
                    Some((who, what)) => {
                        let what = what.split_once('.').unwrap().0;
                        vec![attribution(text, what, who, "said")]
                    }
                    None => vec![],
                };
                article(text, quotes)
            })
            .collect();
        let refs: Vec<&Article> = articles.iter().collect();
        let (model, cues) = fit(&refs, 5);
        assert_eq!(cues, [("said".to_owned(), 1.0)]);
        let text = "Joe Dunn said the harbour is empty. “Go.”";
        let doc = Doc::new(text);
        let labels = model.tag(&features(&doc, &rules::find_quotes(&doc), &model.cues));
        use Label::*;
        assert_eq!(
            labels[..8],
            [
                SourceBegin,
                Source,
                Outside,
                ContentBegin,
                Content,
                Content,
                Content,
                Outside
            ]
        );
    }

    #[test]
    fn folds_are_dealt_by_id_whatever_the_order_of_the_file() {
        let articles: Vec<Article> = (0..10)
            .map(|i| Article {
                id: serde_json::json!(format!("article-{i}")),
                text: String::new(),
                quotes: vec![],
            })
            .collect();
        let forward = folds(&articles, 3);
        let mut reversed: Vec<Article> = articles.clone();
        reversed.reverse();
        let backward = folds(&reversed, 3);
        assert_eq!(forward, backward.into_iter().rev().collect::<Vec<_>>());
        assert_eq!(
            (0..3)
                .map(|f| forward.iter().filter(|&&x| x == f).count())
                .collect::<Vec<_>>(),
            [4, 3, 3]
        );
    }
}
