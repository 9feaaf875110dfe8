//! How worth checking a statement is: a score in [0, 1] from a logistic regression over the
//! statement's words and word pairs and a few sentence-level features.
//!
//! The model is `model.tsv` beside this file, trained by `train.py` (also beside it) on the
//! CLEF CheckThat! 2019 task 1 training debates, where check-worthy sentences are factual,
//! checkable claims (numbers, comparisons, causes, records) and the rest are opinions,
//! greetings, questions and vague talk. The features here must stay those of `train.py`.

use std::collections::HashMap;
use std::sync::OnceLock;

use foldhash::fast::FixedState;

/// The shipped model: one `feature<TAB>weight` line per feature, `#` lines are comments.
const MODEL: &str = include_str!("model.tsv");

/// The model's weights by the FNV-1a hash of the feature's name, so that scoring builds no
/// strings (64 bits: no two of the model's features collide).
/// Hashed with foldhash rather than SipHash: the lookups are the scorer's hot path, and the
/// keys come from the shipped model, not from callers.
fn weights() -> &'static HashMap<u64, f32, FixedState> {
    static WEIGHTS: OnceLock<HashMap<u64, f32, FixedState>> = OnceLock::new();
    WEIGHTS.get_or_init(|| {
        MODEL
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let (feature, weight) = line.split_once('\t')?;
                Some((Fnv::new().add(feature).finish(), weight.parse().ok()?))
            })
            .collect()
    })
}

/// FNV-1a, 64 bits, fed in parts: `Fnv::new().add("w:").add(word)` hashes "w:" + word.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn add(mut self, part: &str) -> Self {
        for byte in part.bytes() {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    fn finish(self) -> u64 {
        self.0
    }
}

/// Lower-cased words: runs of ASCII letters, and runs of digits written as "0".
fn words(sentence: &str) -> Vec<String> {
    let lower = sentence.to_lowercase();
    let mut words = Vec::new();
    let mut current = String::new();
    let mut digits = false;
    for c in lower.chars() {
        let letter = c.is_ascii_lowercase();
        let digit = c.is_ascii_digit();
        if (letter || digit) && !current.is_empty() && digit == digits {
            current.push(c);
            continue;
        }
        if !current.is_empty() {
            words.push(if digits {
                "0".to_owned()
            } else {
                std::mem::take(&mut current)
            });
            current.clear();
        }
        if letter || digit {
            current.push(c);
            digits = digit;
        }
    }
    if !current.is_empty() {
        words.push(if digits { "0".to_owned() } else { current });
    }
    words
}

/// Scores a sentence or statement: the probability the model gives it of being check-worthy.
pub fn score(sentence: &str) -> f32 {
    let weights = weights();
    let words = words(sentence);
    let by_hash = |hash: u64| weights.get(&hash).copied().unwrap_or(0.0);
    let weight = |feature: &str| by_hash(Fnv::new().add(feature).finish());
    // each word and word pair counts once, however often it occurs (as in train.py)
    let mut features: Vec<u64> = words
        .iter()
        .map(|w| Fnv::new().add("w:").add(w).finish())
        .collect();
    features.extend(words.windows(2).map(|pair| {
        Fnv::new()
            .add("b:")
            .add(&pair[0])
            .add("_")
            .add(&pair[1])
            .finish()
    }));
    features.sort_unstable();
    features.dedup();
    let mut z = weight("bias") + features.iter().map(|&f| by_hash(f)).sum::<f32>();
    let has_number = words.iter().any(|w| w == "0");
    let money_or_percent = f32::from(u8::from(sentence.contains('$')))
        + f32::from(u8::from(
            sentence.contains('%') || words.iter().any(|w| w == "percent"),
        ));
    z += weight("len") * words.len().min(40) as f32 / 20.0;
    z += weight("has_number") * f32::from(u8::from(has_number));
    z += weight("money_or_percent") * money_or_percent;
    z += weight("question") * f32::from(u8::from(sentence.trim_end().ends_with('?')));
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_numbers_generalised() {
        assert_eq!(
            words("Taxes rose 35% in 2015!"),
            ["taxes", "rose", "0", "in", "0"]
        );
        assert_eq!(words("U.S. jobs"), ["u", "s", "jobs"]);
    }

    #[test]
    fn scores_match_those_the_training_script_computed() {
        // train.py writes golden.tsv with the model: the features here must stay its features
        for line in include_str!("golden.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let (sentence, expected) = line.split_once('\t').unwrap();
            let expected: f32 = expected.parse().unwrap();
            let actual = score(sentence);
            assert!(
                (actual - expected).abs() < 1e-4,
                "{sentence:?}: {actual} != {expected}"
            );
        }
    }

    #[test]
    fn a_factual_claim_with_numbers_scores_above_a_greeting() {
        let claim = score(
            "We lost 70,000 manufacturing jobs last year and the deficit doubled to $1 trillion.",
        );
        let greeting = score("Thank you very much, it is great to be here tonight.");
        assert!(claim > greeting, "{claim} vs {greeting}");
        assert!((0.0..=1.0).contains(&claim) && (0.0..=1.0).contains(&greeting));
    }
}
