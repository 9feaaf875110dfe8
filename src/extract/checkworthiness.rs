//! How worth checking a statement is: a score in [0, 1] from a logistic model over features of
//! the sentence: numbers, comparisons, causes, records and named entities push it up; opinions,
//! greetings, questions and first-person feelings push it down.

/// Scores a sentence or statement.
pub fn score(text: &str) -> f32 {
    let features = features(text);
    let z: f32 = WEIGHTS
        .iter()
        .zip(features.iter())
        .map(|(w, x)| w * x)
        .sum::<f32>()
        + BIAS;
    1.0 / (1.0 + (-z).exp())
}

/// The intercept of the model.
const BIAS: f32 = -2.0;
/// One weight per feature, in the order of [`features`].
const WEIGHTS: [f32; 8] = [1.2, 0.8, 0.6, 0.5, 0.4, -0.8, -0.6, 0.3];

/// Words of comparison and change.
const COMPARATIVE: &[&str] = &[
    "more",
    "less",
    "fewer",
    "most",
    "least",
    "higher",
    "lower",
    "increase",
    "increased",
    "decrease",
    "decreased",
    "rose",
    "fell",
    "doubled",
    "tripled",
    "percent",
    "record",
    "largest",
    "biggest",
    "smallest",
    "highest",
    "lowest",
    "million",
    "billion",
    "trillion",
    "than",
];
/// Words of cause and consequence.
const CAUSAL: &[&str] = &[
    "because",
    "caused",
    "result",
    "due",
    "led",
    "leads",
    "since",
    "therefore",
];
/// Words of opinion and feeling.
const OPINION: &[&str] = &[
    "think",
    "believe",
    "feel",
    "hope",
    "love",
    "great",
    "wonderful",
    "terrible",
    "thank",
    "thanks",
    "welcome",
    "good",
    "bad",
    "happy",
    "proud",
    "honored",
    "glad",
];

fn features(text: &str) -> [f32; 8] {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '%' && c != '$')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let count = |list: &[&str]| words.iter().filter(|w| list.contains(&w.as_str())).count() as f32;
    let has_number = words.iter().any(|w| w.chars().any(|c| c.is_ascii_digit())) as u8 as f32;
    let money_or_percent = text.contains('$') as u8 as f32 + text.contains('%') as u8 as f32;
    let capitalized = text
        .split_whitespace()
        .skip(1)
        .filter(|w| w.starts_with(char::is_uppercase))
        .count() as f32;
    let question = text.trim_end().ends_with('?') as u8 as f32;
    let length = (words.len() as f32 / 20.0).min(2.0);
    [
        has_number,
        money_or_percent,
        count(COMPARATIVE).min(3.0),
        count(CAUSAL).min(2.0),
        (capitalized / 3.0).min(1.5),
        count(OPINION).min(2.0),
        question,
        length,
    ]
}
