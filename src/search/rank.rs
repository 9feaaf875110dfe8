//! Hybrid ranking and the match/suggest decisions.
//!
//! [`fuse`] scores every claim either signal found as its cosine similarity to the query plus a
//! bonus for its lexical rank: `cosine + lexical_weight / (lexical_rank_offset + rank)` (rank 0
//! is BM25's best). Cosine keeps the semantic scale, so scores are comparable across queries;
//! the rank bonus lets strong word overlap (names, numbers, rare words) overrule a close cosine.
//! The form and its two numbers were chosen on the 800 training queries of CLEF-2020 CheckThat!
//! Task 2 (5-fold cross-validated): MAP@5 0.905 there, against 0.833 for the cosine alone,
//! 0.807 for BM25 alone and 0.897 for reciprocal rank fusion of the two. Re-measured (same
//! folds, every family's numbers chosen inside the folds): reciprocal rank fusion at its best
//! (k 10, title weighted 0.7 in BM25) 0.905, the cosine plus a weight times BM25's score over
//! the query's best BM25 score 0.89, this form plus a bonus for the semantic rank as well 0.903;
//! the depth does not matter from 50 on. None beats this form by more than a query or two in 800.
//!
//! [`decide`] then gives each result a *confidence*: its cosine, plus its lead in fused score over
//! the next result, plus a little when it is also BM25's first. A claim that is close in
//! meaning, clearly ahead of the rest and agreed on by both signals is the same claim; two
//! near-equal candidates are for a person to choose between.

use super::Key;
use super::lexical::LexicalHit;
use super::vectors::VectorHit;

/// How the two signals are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fusion {
    /// The bonus of BM25's first result; the result at lexical rank `r` (from 0) gets
    /// `lexical_weight / (lexical_rank_offset + r)`. Default 1.2 (train, cross-validated).
    pub lexical_weight: f32,
    /// See `lexical_weight`. Default 5 (train, cross-validated; 3 to 8 do as well).
    pub lexical_rank_offset: f32,
    /// How many results each signal contributes before fusion. Default 100.
    pub depth: usize,
}

impl Default for Fusion {
    fn default() -> Self {
        Self {
            lexical_weight: 1.2,
            lexical_rank_offset: 5.0,
            depth: 100,
        }
    }
}

/// The two thresholds on a result's confidence, as in Meedan Check: at or above `matched` the
/// first result is linked automatically; at or above `suggest` a result is shown to a reviewer.
///
/// The defaults were chosen on the training queries only: `matched` (with `agreement`) is the
/// pair that decided the most matches while matches stayed right at least 98% of the time and
/// fewer than 2.5% of queries got a match once their right claim (and its verbatim twins) had
/// been removed from the pool; `suggest` is the lowest threshold at which the first result was
/// right 90% of the time.
///
/// That rule, re-run inside 5 cross-validation folds (threshold chosen on four, counted on the
/// fifth), gives 65% of queries matched, 99.0% right, 2.4% false matches with the right claim
/// removed; asking for at most 2% false matches instead gives 65%, 99.0% and 1.9% (0.895 or 0.9
/// in every fold, and 0.895 on all the training queries). Those figures are with claims of the
/// same words folded into one result ([`fold_same_statements`]); before folding they were 56%,
/// 97.8%, 2.8% and 53%, 98.6%, 1.9%, and the rule picked 0.894 (the threshold stayed). Other confidences were tried the
/// same way and did no better by more than one or two queries in 800: a logistic model of the
/// cosine, the lead, the agreement, the cosine's margin over the runner-up and BM25's own lead;
/// weighted sums of those; how many candidates lie within 0.1 of the first one's cosine. The
/// false matches that remain are mostly other claims on the same subject (a different claim
/// about the same person or event), confident on both signals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Confidence from which the first result is a match. Default 0.895.
    pub matched: f32,
    /// Confidence from which a result is suggested. Default 0.52.
    pub suggest: f32,
    /// Added to the confidence of BM25's first result: the two signals agree. Default 0.1
    /// (0 to 0.2 tried; 0.1 with `matched` 0.895 decided 54% of the training queries against
    /// 50% without it, at the same precision and false-match rate).
    pub agreement: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            matched: 0.895,
            suggest: 0.52,
            agreement: 0.1,
        }
    }
}

/// What to do with a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Link it automatically: it is the same claim.
    Match,
    /// Show it to a reviewer, who accepts or rejects the link.
    Suggest,
}

impl Decision {
    /// The name used on the wire and in the offline command's output.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Match => "match",
            Decision::Suggest => "suggest",
        }
    }
}

/// A claim in the fused ranking, with what found it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The claim.
    pub key: Key,
    /// The fused score the ranking is ordered by.
    pub score: f32,
    /// Its embedding's cosine similarity to the query's; `None` without the model (or for a
    /// claim without a vector).
    pub cosine: Option<f32>,
    /// Its place in BM25's ranking (from 0), when BM25 found it among the first
    /// [`Fusion::depth`].
    pub lexical_rank: Option<usize>,
    /// Whether it was among the [`Fusion::depth`] nearest embeddings.
    pub semantic: bool,
    /// The query's analyzed terms it contains (see [`super::LexicalIndex::matched_terms`]):
    /// filled in for the results a search returns, after fusion.
    pub matched_terms: Vec<String>,
    /// Its confidence (see [`decide`]); `None` without a cosine.
    pub confidence: Option<f32>,
    /// What to do with it.
    pub decision: Option<Decision>,
    /// Later claims with the same words ([`super::text::statement_fingerprint`]) that the
    /// ranking also found, folded into this one (see [`fold_same_statements`]), in key order.
    pub same_statement: Vec<Key>,
}

impl Ranked {
    /// Whether BM25 found it.
    pub fn lexical(&self) -> bool {
        self.lexical_rank.is_some()
    }
}

/// Fuses the two rankings. `lexical` and `semantic` are each best first; `cosine_of` gives the
/// cosine of claims the semantic ranking did not include (BM25-only finds), `None` when they
/// have no vector. Without the model, pass an empty `semantic` and a `cosine_of` that returns
/// `None`s: the result is BM25's order. Ordered by score, best first, ties by key.
pub fn fuse(
    lexical: &[LexicalHit],
    semantic: &[VectorHit],
    cosine_of: impl FnOnce(&[Key]) -> Vec<Option<f32>>,
    fusion: &Fusion,
) -> Vec<Ranked> {
    let mut ranked: Vec<Ranked> = Vec::with_capacity(lexical.len() + semantic.len());
    let mut position = std::collections::HashMap::new();
    for hit in semantic.iter().take(fusion.depth) {
        position.insert(hit.key, ranked.len());
        ranked.push(Ranked {
            key: hit.key,
            score: 0.0,
            cosine: Some(hit.cosine),
            lexical_rank: None,
            semantic: true,
            matched_terms: Vec::new(),
            confidence: None,
            decision: None,
            same_statement: Vec::new(),
        });
    }
    let mut missing = Vec::new();
    for (rank, hit) in lexical.iter().take(fusion.depth).enumerate() {
        let i = *position.entry(hit.key).or_insert_with(|| {
            missing.push(ranked.len());
            ranked.push(Ranked {
                key: hit.key,
                score: 0.0,
                cosine: None,
                lexical_rank: None,
                semantic: false,
                matched_terms: Vec::new(),
                confidence: None,
                decision: None,
                same_statement: Vec::new(),
            });
            ranked.len() - 1
        });
        ranked[i].lexical_rank = Some(rank);
    }
    if !missing.is_empty() {
        let keys: Vec<Key> = missing.iter().map(|&i| ranked[i].key).collect();
        for (i, cosine) in missing.into_iter().zip(cosine_of(&keys)) {
            ranked[i].cosine = cosine;
        }
    }
    for result in &mut ranked {
        let bonus = result.lexical_rank.map_or(0.0, |rank| {
            fusion.lexical_weight / (fusion.lexical_rank_offset + rank as f32)
        });
        result.score = result.cosine.unwrap_or(0.0) + bonus;
    }
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.key.cmp(&b.key)));
    ranked
}

/// Shows each statement once: where the ranking holds claims with the same words (`fingerprint`
/// gives each claim's [`super::text::statement_fingerprint`], `None` for a claim it does not
/// know), the group takes the place of its best-ranked member, under its earliest claim (the
/// smallest key: keys are registration order, UUIDv7 in the service and line numbers in the
/// `match` command), and names the others in [`Ranked::same_statement`]. The group keeps its
/// best member's score and cosine (same words embed alike) and counts as BM25's best place
/// among its members.
///
/// The earliest is the original: on the CLEF-2020 CheckThat! Task 2 training queries whose right
/// claim has same-words twins in the pool, the right one is the earliest 185 times in 190. Left
/// unfolded, twins also split the first place between two near-equal results, so neither led
/// enough to be decided a match. Folding raised MAP@5 from 0.907 to 0.915 on the training
/// queries (0.878 to 0.886 on dev) and the share of training queries decided a match from 54% to
/// 65%, at the same precision and false-match rate with the right claim removed.
///
/// Run it before [`decide`], on the whole fused list, so that leads are between statements.
pub fn fold_same_statements(
    ranked: Vec<Ranked>,
    fingerprint: impl Fn(Key) -> Option<u64>,
) -> Vec<Ranked> {
    let mut folded: Vec<Ranked> = Vec::with_capacity(ranked.len());
    let mut group_of: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for result in ranked {
        let Some(print) = fingerprint(result.key) else {
            folded.push(result);
            continue;
        };
        match group_of.get(&print) {
            Some(&i) => {
                let kept = &mut folded[i];
                kept.lexical_rank = match (kept.lexical_rank, result.lexical_rank) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                kept.semantic |= result.semantic;
                if result.key < kept.key {
                    kept.same_statement.push(kept.key);
                    kept.key = result.key;
                } else {
                    kept.same_statement.push(result.key);
                }
                kept.same_statement.sort_unstable();
            }
            None => {
                group_of.insert(print, folded.len());
                folded.push(result);
            }
        }
    }
    folded
}

/// Sets each result's confidence and decision. The confidence of a result is its cosine, plus
/// its lead in fused score over the next result (none for the last: give it the whole fused
/// list, not a page of it), plus [`Thresholds::agreement`] when it is BM25's first. Only the first
/// result can be a [`Decision::Match`]; any result at or above `suggest` is a
/// [`Decision::Suggest`]. Results without a cosine (no model) get neither: words alone never
/// link claims.
pub fn decide(ranked: &mut [Ranked], thresholds: &Thresholds) {
    for i in 0..ranked.len() {
        let lead = ranked
            .get(i + 1)
            .map_or(0.0, |next| ranked[i].score - next.score);
        let agreement = if ranked[i].lexical_rank == Some(0) {
            thresholds.agreement
        } else {
            0.0
        };
        let confidence = ranked[i].cosine.map(|cosine| cosine + lead + agreement);
        ranked[i].confidence = confidence;
        ranked[i].decision = match confidence {
            Some(c) if i == 0 && c >= thresholds.matched => Some(Decision::Match),
            Some(c) if c >= thresholds.suggest => Some(Decision::Suggest),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexical(keys: &[Key]) -> Vec<LexicalHit> {
        keys.iter()
            .map(|&key| LexicalHit { key, score: 10.0 })
            .collect()
    }

    fn semantic(hits: &[(Key, f32)]) -> Vec<VectorHit> {
        hits.iter()
            .map(|&(key, cosine)| VectorHit { key, cosine })
            .collect()
    }

    #[test]
    fn claims_with_the_same_words_are_one_result_under_the_earliest_in_the_best_place() {
        // 9 and 3 say the same; 9 ranks first, 3 third; 5 is another statement
        let ranked = fuse(
            &lexical(&[5, 9]),
            &semantic(&[(9, 0.90), (5, 0.80), (3, 0.89)]),
            |_| Vec::new(),
            &Fusion::default(),
        );
        let order: Vec<Key> = ranked.iter().map(|r| r.key).collect();
        assert_eq!(order, vec![9, 5, 3]);
        let folded = fold_same_statements(ranked, |key| Some(if key == 5 { 1 } else { 2 }));
        let order: Vec<Key> = folded.iter().map(|r| r.key).collect();
        assert_eq!(order, vec![3, 5]);
        assert_eq!(folded[0].same_statement, vec![9]);
        assert_eq!(folded[0].lexical_rank, Some(1));
        assert!((folded[0].score - (0.90 + 1.2 / 6.0)).abs() < 1e-6);
        // a claim the fingerprints do not know stays as it is
        let ranked = fuse(
            &lexical(&[5, 3]),
            &semantic(&[]),
            |keys| vec![None; keys.len()],
            &Fusion::default(),
        );
        assert_eq!(fold_same_statements(ranked, |_| None).len(), 2);
    }

    #[test]
    fn fusion_orders_by_cosine_plus_the_lexical_rank_bonus() {
        let fusion = Fusion::default();
        // 1 is semantically best; 2 is close and BM25's first, so it wins; 3 is BM25's second
        // but far in meaning, so 4, found only semantically, passes it
        let ranked = fuse(
            &lexical(&[2, 3, 1]),
            &semantic(&[(1, 0.70), (2, 0.65), (4, 0.60)]),
            |keys| {
                assert_eq!(keys, &[3]);
                vec![Some(0.2)]
            },
            &fusion,
        );
        let order: Vec<Key> = ranked.iter().map(|r| r.key).collect();
        assert_eq!(order, vec![2, 1, 4, 3]);
        assert!((ranked[0].score - (0.65 + 1.2 / 5.0)).abs() < 1e-6);
        assert!((ranked[1].score - (0.70 + 1.2 / 7.0)).abs() < 1e-6);
        assert!(ranked[0].lexical() && ranked[0].semantic);
        assert!(ranked[3].lexical() && !ranked[3].semantic);
        assert!(!ranked[2].lexical() && ranked[2].semantic);
        assert_eq!(ranked[3].cosine, Some(0.2));
    }

    #[test]
    fn without_vectors_the_order_is_bm25s() {
        let ranked = fuse(
            &lexical(&[5, 3, 9]),
            &[],
            |keys| vec![None; keys.len()],
            &Fusion::default(),
        );
        let order: Vec<Key> = ranked.iter().map(|r| r.key).collect();
        assert_eq!(order, vec![5, 3, 9]);
    }

    #[test]
    fn equal_scores_are_ordered_by_key() {
        let ranked = fuse(
            &[],
            &semantic(&[(9, 0.5), (4, 0.5)]),
            |_| Vec::new(),
            &Fusion::default(),
        );
        assert_eq!(ranked[0].key, 4);
    }

    fn scored(cosines_and_scores: &[(Option<f32>, f32)]) -> Vec<Ranked> {
        cosines_and_scores
            .iter()
            .enumerate()
            .map(|(i, &(cosine, score))| Ranked {
                key: i as Key,
                score,
                cosine,
                lexical_rank: None,
                semantic: cosine.is_some(),
                matched_terms: Vec::new(),
                confidence: None,
                decision: None,
                same_statement: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn a_confident_first_result_is_a_match_and_close_runners_up_are_suggestions() {
        let thresholds = Thresholds {
            matched: 0.84,
            suggest: 0.52,
            agreement: 0.1,
        };
        let mut ranked = scored(&[
            (Some(0.80), 1.00), // 0.80 + 0.10 lead = 0.90: match
            (Some(0.60), 0.90), // 0.60 + 0.30 = 0.90, but not first: suggest
            (Some(0.40), 0.60), // 0.40 + 0.05 = 0.45: nothing
            (Some(0.50), 0.55), // 0.50 + 0.05 = 0.55: suggest
            (Some(0.51), 0.50), // last, no lead: 0.51: nothing
        ]);
        decide(&mut ranked, &thresholds);
        let decisions: Vec<Option<Decision>> = ranked.iter().map(|r| r.decision).collect();
        assert_eq!(
            decisions,
            vec![
                Some(Decision::Match),
                Some(Decision::Suggest),
                None,
                Some(Decision::Suggest),
                None
            ]
        );
        assert!((ranked[0].confidence.unwrap() - 0.90).abs() < 1e-6);
    }

    #[test]
    fn a_first_result_neck_and_neck_with_the_second_is_only_suggested() {
        // 0.80 + 0.01 lead = 0.81
        let mut ranked = scored(&[(Some(0.80), 1.10), (Some(0.79), 1.09)]);
        let thresholds = Thresholds {
            matched: 0.84,
            suggest: 0.52,
            agreement: 0.1,
        };
        decide(&mut ranked, &thresholds);
        assert_eq!(ranked[0].decision, Some(Decision::Suggest));
        // BM25 putting it first too adds the agreement: 0.91, a match
        ranked[0].lexical_rank = Some(0);
        decide(&mut ranked, &thresholds);
        assert!((ranked[0].confidence.unwrap() - 0.91).abs() < 1e-6);
        assert_eq!(ranked[0].decision, Some(Decision::Match));
    }

    #[test]
    fn results_without_a_cosine_get_no_decision() {
        let mut ranked = scored(&[(None, 5.0), (None, 0.1)]);
        decide(&mut ranked, &Thresholds::default());
        assert!(
            ranked
                .iter()
                .all(|r| r.decision.is_none() && r.confidence.is_none())
        );
    }
}
