//! Lexical search: BM25 over a claim's words with English stemming, in a tantivy index held in
//! memory.
//!
//! The index is derived state: whoever owns it fills it from the source of truth and keeps it
//! current with [`LexicalIndex::upsert`] and [`LexicalIndex::remove`], and makes the changes
//! searchable with [`LexicalIndex::commit`] (milliseconds; nothing is written to disk). Queries
//! are built from the analyzer's tokens, never parsed: a user's `:`, quotes, dashes, `#`,
//! `AND` or `*` are only text.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur, Query, TermQuery,
};
use tantivy::schema::{
    BytesOptions, FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};
use tantivy::{
    DocId, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, TERMINATED, TantivyDocument, Term,
};

use super::Key;

/// The name the analyzer is registered under in the index's tokenizer manager.
const ANALYZER: &str = "claim_en";

/// Tokens longer than this many bytes are dropped: they are URLs' remains or hashes, not words.
const MAX_TOKEN_BYTES: usize = 40;

/// Most distinct terms a query keeps (the first ones): a whole article pasted as a query must
/// not become a query of thousands of clauses.
pub const MAX_QUERY_TERMS: usize = 256;

/// Memory the writer may use before it flushes a segment (tantivy's minimum is 15 MB).
const WRITER_MEMORY: usize = 50_000_000;

/// The text a claim is found by. Every field is optional (empty when absent); each is searched
/// with its own BM25 statistics and weight ([`FieldWeights`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimText<'a> {
    /// The claim's statement: what was said.
    pub statement: &'a str,
    /// A headline for it, such as the title of the fact-check article that reviews it.
    pub title: &'a str,
    /// Who made the claim, as written or resolved.
    pub claimant: &'a str,
    /// The verdict's explanation, when the claim has one.
    pub explanation: &'a str,
    /// Exact labels a search can require (a caller's filters: `speaker:…`, `rating:…`), not
    /// searched as words and not scored: [`LexicalIndex::search_tagged`] ranks only claims that
    /// carry all the tags it is given, however far down the unfiltered ranking they stand.
    pub tags: &'a [String],
}

/// How much a query term found in each field counts, as a factor on its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldWeights {
    /// The statement.
    pub statement: f32,
    /// The title.
    pub title: f32,
    /// The claimant.
    pub claimant: f32,
    /// The verdict's explanation.
    pub explanation: f32,
}

impl Default for FieldWeights {
    /// Statement and title count the same: on the training queries they do as well as any
    /// other split (tuned in the issue-8 evaluation, see the README). The claimant and the
    /// explanation count less, as context rather than the claim itself.
    fn default() -> Self {
        Self {
            statement: 1.0,
            title: 1.0,
            claimant: 0.5,
            explanation: 0.3,
        }
    }
}

/// A claim found lexically.
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalHit {
    /// The claim.
    pub key: Key,
    /// Its BM25 score for the query (summed over fields, weighted): comparable between hits of
    /// one query only.
    pub score: f32,
}

/// A failure of the index itself (not of any input): tantivy could not write or reload.
#[derive(Debug, thiserror::Error)]
#[error("lexical index: {0}")]
pub struct LexicalError(#[from] tantivy::TantivyError);

/// The schema's fields, looked up once.
#[derive(Debug, Clone, Copy)]
struct Fields {
    /// The claim's key, 16 big-endian bytes, indexed to delete by it.
    key: Field,
    /// The key's high and low 64 bits, fast fields to read it from a document: a number per
    /// document at a fixed place, where a fast bytes field would search its dictionary.
    key_high: Field,
    key_low: Field,
    statement: Field,
    title: Field,
    claimant: Field,
    explanation: Field,
    /// [`ClaimText::tags`], each indexed whole.
    tags: Field,
}

/// An in-memory BM25 index of claims, keyed by [`Key`]. `Send + Sync`: one writer behind a
/// mutex, readers lock-free; searches see the state of the last [`LexicalIndex::commit`].
pub struct LexicalIndex {
    /// The index, for its schema and tokenizers.
    index: Index,
    /// The single writer tantivy allows; its lock is held only while adding, deleting or
    /// committing.
    writer: Mutex<IndexWriter>,
    /// Searchers over the last committed state; reloaded by [`LexicalIndex::commit`].
    reader: IndexReader,
    /// The schema's fields.
    fields: Fields,
    /// The analyzer, cloned for each use (tantivy's token streams borrow it mutably).
    analyzer: TextAnalyzer,
    /// The fields' weights in queries.
    weights: FieldWeights,
}

impl std::fmt::Debug for LexicalIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexicalIndex")
            .field("weights", &self.weights)
            .finish_non_exhaustive()
    }
}

/// The analyzer of both claims and queries: words split at anything not a letter or digit,
/// accents folded, lower-cased, English stop words dropped, Porter-stemmed ("vaccines",
/// "vaccinated" and "vaccine" all become "vaccin").
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(AsciiFoldingFilter)
        .filter(LowerCaser)
        .filter(
            StopWordFilter::new(Language::English)
                .expect("tantivy has an English stop-word list when its `stopwords` feature is on"),
        )
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The analyzed terms of a text with their byte ranges in it, in order.
fn analyze(analyzer: &TextAnalyzer, text: &str) -> Vec<(String, Range<usize>)> {
    let mut analyzer = analyzer.clone();
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while let Some(token) = stream.next() {
        terms.push((token.text.clone(), token.offset_from..token.offset_to));
    }
    terms
}

impl LexicalIndex {
    /// An empty index with the given field weights.
    pub fn new(weights: FieldWeights) -> Result<Self, LexicalError> {
        let mut schema = Schema::builder();
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                // BM25 needs term frequencies, not positions: no phrase queries are ever built
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            key: schema.add_bytes_field("key", BytesOptions::default().set_indexed()),
            key_high: schema.add_u64_field("key_high", FAST),
            key_low: schema.add_u64_field("key_low", FAST),
            statement: schema.add_text_field("statement", text.clone()),
            title: schema.add_text_field("title", text.clone()),
            claimant: schema.add_text_field("claimant", text.clone()),
            explanation: schema.add_text_field("explanation", text),
            tags: schema.add_text_field("tags", STRING),
        };
        let index = Index::create_in_ram(schema.build());
        let analyzer = analyzer();
        index.tokenizers().register(ANALYZER, analyzer.clone());
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            writer: Mutex::new(writer),
            reader,
            fields,
            analyzer,
            weights,
        })
    }

    /// Adds a claim, or replaces the one with the same key. Searchable after the next
    /// [`LexicalIndex::commit`].
    pub fn upsert(&self, key: Key, text: &ClaimText<'_>) -> Result<(), LexicalError> {
        let mut document = TantivyDocument::default();
        document.add_bytes(self.fields.key, &key.to_be_bytes());
        document.add_u64(self.fields.key_high, (key >> 64) as u64);
        document.add_u64(self.fields.key_low, key as u64);
        for (field, value) in [
            (self.fields.statement, text.statement),
            (self.fields.title, text.title),
            (self.fields.claimant, text.claimant),
            (self.fields.explanation, text.explanation),
        ] {
            if !value.is_empty() {
                document.add_text(field, value);
            }
        }
        for tag in text.tags {
            document.add_text(self.fields.tags, tag);
        }
        let writer = self.lock_writer();
        // a delete applies to documents added before it, so the new one survives it
        writer.delete_term(self.key_term(key));
        writer.add_document(document)?;
        Ok(())
    }

    /// Removes a claim (nothing happens for an unknown key). Takes effect at the next
    /// [`LexicalIndex::commit`].
    pub fn remove(&self, key: Key) {
        self.lock_writer().delete_term(self.key_term(key));
    }

    /// Makes every change so far searchable: commits the writer and reloads the readers. Takes
    /// milliseconds for a handful of changes; call it once per batch, not per change.
    pub fn commit(&self) -> Result<(), LexicalError> {
        self.lock_writer().commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// How many claims are searchable.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether no claim is searchable.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The query's distinct analyzed terms, in the query's order, each with how often the
    /// query says it (at most [`MAX_QUERY_TERMS`]).
    fn query_terms(&self, query: &str) -> Vec<(String, f32)> {
        let mut counts: Vec<(String, f32)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (term, _) in analyze(&self.analyzer, query) {
            match seen.get(&term) {
                Some(&i) => counts[i].1 += 1.0,
                None if counts.len() < MAX_QUERY_TERMS => {
                    seen.insert(term.clone(), counts.len());
                    counts.push((term, 1.0));
                }
                None => {}
            }
        }
        counts
    }

    /// The claims that share words with `query`, best BM25 score first, at most `limit`.
    /// `query` is any text; it is analyzed like the claims, never parsed.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<LexicalHit>, LexicalError> {
        self.search_tagged(query, limit, &[])
    }

    /// [`LexicalIndex::search`] among the claims that carry every one of `required` tags
    /// ([`ClaimText::tags`]): the tags select, the words rank, so a filter that few claims pass
    /// still finds all of them.
    pub fn search_tagged(
        &self,
        query: &str,
        limit: usize,
        required: &[String],
    ) -> Result<Vec<LexicalHit>, LexicalError> {
        // each distinct term once, weighted by how often the query says it
        let counts = self.query_terms(query);
        if counts.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let weighted_fields = [
            (self.fields.statement, self.weights.statement),
            (self.fields.title, self.weights.title),
            (self.fields.claimant, self.weights.claimant),
            (self.fields.explanation, self.weights.explanation),
        ];
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (term, count) in &counts {
            for &(field, weight) in &weighted_fields {
                if weight <= 0.0 {
                    continue;
                }
                let query = TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(query), weight * count)),
                ));
            }
        }
        let mut query: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
        if !required.is_empty() {
            // the words must match somewhere and every tag must be there; tags add nothing
            // to the score
            let mut all: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
            for tag in required {
                let tag = TermQuery::new(self.tag_term(tag), IndexRecordOption::Basic);
                all.push((
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(Box::new(tag), 0.0)),
                ));
            }
            query = Box::new(BooleanQuery::new(all));
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(&*query, &TopDocs::with_limit(limit))?;
        // each segment's key columns opened once, for all of its hits
        let mut columns: Vec<Option<KeyColumns>> = Vec::new();
        columns.resize_with(searcher.segment_readers().len(), || None);
        let mut hits = Vec::with_capacity(top.len());
        for &(score, address) in &top {
            let column = match &mut columns[address.segment_ord as usize] {
                Some(column) => column,
                slot => slot.insert(KeyColumns::of(
                    searcher.segment_reader(address.segment_ord),
                )?),
            };
            hits.push(LexicalHit {
                key: column.key(address.doc_id)?,
                score,
            });
        }
        Ok(hits)
    }

    /// How many claims carry the rarest of `required` tags (`None` when none is required): an
    /// upper bound on how many a filter lets through, read from the index's term statistics
    /// without visiting a claim (it counts removed claims until their segment is merged).
    pub fn rarest_tag(&self, required: &[String]) -> Result<Option<u64>, LexicalError> {
        let searcher = self.reader.searcher();
        let mut rarest = None;
        for tag in required {
            let count = searcher.doc_freq(&self.tag_term(tag))?;
            rarest = Some(rarest.map_or(count, |r: u64| r.min(count)));
        }
        Ok(rarest)
    }

    /// The keys of the claims that carry every one of `required` tags (none when no tag is
    /// required), in no order: the claims a selective filter lets through, for the semantic side
    /// to compare every one of them with the query instead of sifting the nearest of all claims.
    /// Ask [`LexicalIndex::rarest_tag`] first: this visits every one of them.
    pub fn tagged_keys(&self, required: &[String]) -> Result<Vec<Key>, LexicalError> {
        if required.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let clauses: Vec<(Occur, Box<dyn Query>)> = required
            .iter()
            .map(|tag| {
                let tag = TermQuery::new(self.tag_term(tag), IndexRecordOption::Basic);
                (Occur::Must, Box::new(tag) as Box<dyn Query>)
            })
            .collect();
        let weight =
            BooleanQuery::new(clauses).weight(EnableScoring::disabled_from_searcher(&searcher))?;
        let mut keys = Vec::new();
        for segment in searcher.segment_readers() {
            let column = KeyColumns::of(segment)?;
            let mut docs = weight.scorer(segment, 1.0)?;
            let mut doc = docs.doc();
            while doc != TERMINATED {
                if !segment.is_deleted(doc) {
                    keys.push(column.key(doc)?);
                }
                doc = docs.advance();
            }
        }
        Ok(keys)
    }

    /// For each of `keys`, the terms of `query` (analyzed: lower-cased stems) its claim contains
    /// in any field, in the query's order; empty for a key the index does not hold. What
    /// [`LexicalIndex::highlight`] finds in a text. Asked only for the results a search returns,
    /// not for every candidate: each term's postings are read once per segment and walked
    /// forward through those claims' documents.
    pub fn matched_terms(
        &self,
        query: &str,
        keys: &[Key],
    ) -> Result<Vec<Vec<String>>, LexicalError> {
        let counts = self.query_terms(query);
        let mut matched = vec![Vec::new(); keys.len()];
        if counts.is_empty() || keys.is_empty() {
            return Ok(matched);
        }
        let searcher = self.reader.searcher();
        // each key's live document, by segment
        let mut by_segment: HashMap<u32, Vec<(DocId, usize)>> = HashMap::new();
        for (segment_ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.fields.key)?;
            for (i, &key) in keys.iter().enumerate() {
                let Some(mut postings) = inverted
                    .read_postings(&self.key_term(key), IndexRecordOption::Basic)
                    .map_err(tantivy::TantivyError::from)?
                else {
                    continue;
                };
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if !segment.is_deleted(doc) {
                        by_segment
                            .entry(segment_ord as u32)
                            .or_default()
                            .push((doc, i));
                    }
                    doc = postings.advance();
                }
            }
        }
        for (segment_ord, mut docs) in by_segment {
            docs.sort_unstable();
            let segment = searcher.segment_reader(segment_ord);
            for field in self.text_fields() {
                let inverted = segment.inverted_index(field)?;
                for (term, _) in &counts {
                    let Some(mut postings) = inverted
                        .read_postings(
                            &Term::from_field_text(field, term),
                            IndexRecordOption::Basic,
                        )
                        .map_err(tantivy::TantivyError::from)?
                    else {
                        continue;
                    };
                    for &(doc, i) in &docs {
                        // seek lands on the first document at or after `doc` (TERMINATED past
                        // the end); the documents are visited in increasing order
                        if postings.doc() <= doc
                            && postings.seek(doc) == doc
                            && !matched[i].contains(term)
                        {
                            matched[i].push(term.clone());
                        }
                    }
                }
            }
        }
        // matched terms in the query's order
        let order: HashMap<&str, usize> = counts
            .iter()
            .enumerate()
            .map(|(i, (term, _))| (term.as_str(), i))
            .collect();
        for terms in &mut matched {
            terms.sort_by_key(|term| order.get(term.as_str()).copied().unwrap_or(usize::MAX));
        }
        Ok(matched)
    }

    /// The text fields, in schema order.
    fn text_fields(&self) -> [Field; 4] {
        [
            self.fields.statement,
            self.fields.title,
            self.fields.claimant,
            self.fields.explanation,
        ]
    }

    /// The byte ranges of `text` whose words analyze to one of `terms` (a hit's
    /// [`LexicalIndex::matched_terms`]): what to highlight in a claim's text.
    pub fn highlight(&self, text: &str, terms: &[String]) -> Vec<Range<usize>> {
        analyze(&self.analyzer, text)
            .into_iter()
            .filter(|(term, _)| terms.contains(term))
            .map(|(_, range)| range)
            .collect()
    }

    /// The term that identifies a claim's document.
    /// The term a claim's tag is indexed as ([`ClaimText::tags`]).
    fn tag_term(&self, tag: &str) -> Term {
        Term::from_field_text(self.fields.tags, tag)
    }

    fn key_term(&self, key: Key) -> Term {
        Term::from_field_bytes(self.fields.key, &key.to_be_bytes())
    }

    /// The writer; a panic while it was held (there are none to expect) leaves it usable, since
    /// tantivy's own state is consistent between calls.
    fn lock_writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The index's schema, for tests and diagnostics.
    pub fn schema(&self) -> Schema {
        self.index.schema()
    }
}

/// A segment's key fast fields, to read its documents' keys from.
struct KeyColumns {
    high: Column<u64>,
    low: Column<u64>,
}

impl KeyColumns {
    fn of(segment: &tantivy::SegmentReader) -> Result<Self, LexicalError> {
        let fast = segment.fast_fields();
        Ok(Self {
            high: fast.u64("key_high")?,
            low: fast.u64("key_low")?,
        })
    }

    fn key(&self, doc: DocId) -> Result<Key, LexicalError> {
        match (self.high.first(doc), self.low.first(doc)) {
            (Some(high), Some(low)) => Ok((Key::from(high) << 64) | Key::from(low)),
            _ => Err(
                tantivy::TantivyError::InternalError(format!("document {doc} has no key")).into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(claims: &[(Key, &str)]) -> LexicalIndex {
        let index = LexicalIndex::new(FieldWeights::default()).unwrap();
        for &(key, statement) in claims {
            index
                .upsert(
                    key,
                    &ClaimText {
                        statement,
                        ..ClaimText::default()
                    },
                )
                .unwrap();
        }
        index.commit().unwrap();
        index
    }

    #[test]
    fn the_claims_a_filter_lets_through_are_listed_when_few_enough() {
        let index = LexicalIndex::new(FieldWeights::default()).unwrap();
        let speaker = ["speaker:rare".to_owned()];
        let both = ["speaker:rare".to_owned(), "rating:false".to_owned()];
        for key in 0..10u128 {
            let tags: &[String] = match key {
                2 | 5 => &both,
                7 => &speaker,
                _ => &[],
            };
            let claim = ClaimText {
                statement: "A claim",
                tags,
                ..ClaimText::default()
            };
            index.upsert(key, &claim).unwrap();
        }
        index.remove(5);
        index.commit().unwrap();
        let listed = |required: &[String]| {
            let mut keys = index.tagged_keys(required).unwrap();
            keys.sort_unstable();
            keys
        };
        // every tag must be there, and a removed claim is not listed
        assert_eq!(listed(&speaker), vec![2, 7]);
        assert_eq!(listed(&both), vec![2]);
        assert_eq!(listed(&["rating:true".to_owned()]), Vec::<Key>::new());
        assert_eq!(listed(&[]), Vec::<Key>::new());
        // the rarest tag bounds how many a filter lets through, before any is visited
        let rarest = |required: &[String]| index.rarest_tag(required).unwrap();
        assert!(rarest(&speaker).is_some_and(|n| n >= 2));
        assert!(rarest(&both).is_some_and(|n| n >= 1 && n <= rarest(&speaker).unwrap()));
        assert_eq!(rarest(&["rating:true".to_owned()]), Some(0));
        assert_eq!(rarest(&[]), None);
    }

    fn keys(hits: &[LexicalHit]) -> Vec<Key> {
        hits.iter().map(|hit| hit.key).collect()
    }

    #[test]
    fn query_syntax_characters_are_searched_as_text() {
        let index = index_of(&[
            (1, "The senator said taxes rose"),
            (2, "Crime AND punishment in the city"),
        ]);
        for query in [
            "title:taxes",
            "\"taxes",
            "taxes AND OR NOT (",
            "-taxes*",
            "#taxes: [rose TO",
            "taxes^10 ~2 \\",
        ] {
            let hits = index.search(query, 10).unwrap();
            assert_eq!(keys(&hits), vec![1], "query {query:?}");
        }
        // AND is a word like any other (here a stop word), not an operator requiring both sides
        assert_eq!(
            keys(&index.search("punishment AND taxes", 10).unwrap()).len(),
            2
        );
        assert!(index.search(":\"*()", 10).unwrap().is_empty());
        assert!(index.search("", 10).unwrap().is_empty());
    }

    #[test]
    fn stemming_matches_inflections() {
        let index = index_of(&[
            (7, "Vaccines caused autism in children"),
            (8, "The mayor is running again"),
        ]);
        let hits = index.search("vaccinated children causing", 10).unwrap();
        assert_eq!(keys(&hits), vec![7]);
        let matched = index
            .matched_terms("vaccinated children causing", &[7, 8, 9])
            .unwrap();
        assert_eq!(matched[0], vec!["vaccin", "children", "caus"]);
        assert!(matched[1].is_empty() && matched[2].is_empty());
        assert_eq!(keys(&index.search("Ran for MAYORS", 10).unwrap()), vec![8]);
        let text = "Vaccines caused autism in children";
        let ranges = index.highlight(text, &matched[0]);
        let words: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(words, vec!["Vaccines", "caused", "children"]);
    }

    #[test]
    fn a_replaced_claim_is_found_by_its_new_text_only() {
        let index = index_of(&[(1, "the moon landing was staged"), (2, "the earth is flat")]);
        index
            .upsert(
                1,
                &ClaimText {
                    statement: "bananas cure headaches",
                    ..ClaimText::default()
                },
            )
            .unwrap();
        // not searchable before the commit
        assert_eq!(keys(&index.search("moon landing", 10).unwrap()), vec![1]);
        index.commit().unwrap();
        assert!(index.search("moon landing", 10).unwrap().is_empty());
        assert_eq!(keys(&index.search("banana", 10).unwrap()), vec![1]);
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn a_removed_claim_is_not_found_after_the_commit() {
        let index = index_of(&[(u128::MAX, "the earth is flat"), (3, "the earth is round")]);
        index.remove(u128::MAX);
        index.remove(12345); // unknown: nothing happens
        index.commit().unwrap();
        assert_eq!(keys(&index.search("earth", 10).unwrap()), vec![3]);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn title_and_other_fields_are_searched_with_their_weights() {
        let index = LexicalIndex::new(FieldWeights::default()).unwrap();
        index
            .upsert(
                1,
                &ClaimText {
                    statement: "a photograph shows a shark on a highway",
                    title: "Hurricane shark",
                    claimant: "Facebook posts",
                    explanation: "The image was doctored",
                    tags: &[
                        "rating:false".to_owned(),
                        "speaker:facebook posts".to_owned(),
                    ],
                },
            )
            .unwrap();
        index.commit().unwrap();
        assert!(index.schema().get_field("explanation").is_ok());
        for query in ["hurricane", "doctored image", "facebook"] {
            assert_eq!(keys(&index.search(query, 10).unwrap()), vec![1], "{query}");
        }
        // tags select and are not words
        let tagged = |required: &[&str]| {
            let required: Vec<String> = required.iter().map(|t| t.to_string()).collect();
            keys(&index.search_tagged("shark", 10, &required).unwrap())
        };
        assert_eq!(tagged(&["speaker:facebook posts", "rating:false"]), vec![1]);
        assert!(tagged(&["speaker:facebook posts", "rating:true"]).is_empty());
        assert!(tagged(&["speaker:facebook"]).is_empty());
        assert!(index.search("rating", 10).unwrap().is_empty());
    }

    #[test]
    fn more_shared_words_rank_higher() {
        let index = index_of(&[
            (1, "Obama was born in Kenya"),
            (2, "Obama signed the health care law"),
            (3, "Kenya is in Africa"),
        ]);
        let hits = index.search("Was Obama born in Kenya?", 10).unwrap();
        assert_eq!(hits[0].key, 1);
        assert!(hits[0].score > hits[1].score);
    }
}
