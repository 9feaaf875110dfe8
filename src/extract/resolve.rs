//! Who a speaker mention refers to, from the mentions before it in the same article: a surname
//! to the full name first written with it ("Putin" → "Vladimir Putin"), a description to the
//! person it titled ("the Russian president" → "Vladimir Putin", from "Russian President
//! Vladimir Putin"), a pronoun to the speaker before it.

use super::doc::Doc;

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

/// A person (or body) named in the article, with the words that titled it.
#[derive(Debug, Clone)]
struct Entity {
    /// The name, e.g. "Vladimir Putin".
    name: String,
    /// Its last word, lower-cased, for surname matches.
    surname: String,
    /// Lower-cased words that titled it where it was named: "russian", "president".
    titles: Vec<String>,
}

/// Resolves speaker mentions in text order.
pub struct Resolver {
    entities: Vec<Entity>,
    /// The entity of the last resolved speaker, for pronouns.
    last: Option<usize>,
}

impl Resolver {
    /// Collects the named entities of a document: runs of two or more capitalized words.
    pub fn new(doc: &Doc<'_>) -> Self {
        let mut entities: Vec<Entity> = Vec::new();
        let n = doc.tokens.len();
        let mut i = 0;
        while i < n {
            if !doc.starts_upper(i) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < n && doc.starts_upper(j + 1) {
                j += 1;
            }
            let (titles, name) = split_titles(doc, i, j);
            if name.len() >= 2 && !doc.is_all_caps(name[0]) {
                let words: Vec<&str> = name.iter().map(|&t| strip_possessive(doc.raw(t))).collect();
                let full = words.join(" ");
                let surname = words.last().map(|w| w.to_lowercase()).unwrap_or_default();
                // also lower-case title words just before the run: "White House spokesman"
                let mut titles = titles;
                let mut k = i;
                while k > 0
                    && k + 3 > i
                    && doc.tokens[k - 1].is_word()
                    && !doc.starts_upper(k - 1)
                    && TITLES.contains(&doc.word(k - 1))
                {
                    titles.push(doc.word(k - 1).to_owned());
                    k -= 1;
                }
                match entities.iter_mut().find(|e| e.name == full) {
                    Some(e) => e.titles.extend(titles),
                    None => entities.push(Entity {
                        name: full,
                        surname,
                        titles,
                    }),
                }
            }
            i = j + 1;
        }
        Resolver {
            entities,
            last: None,
        }
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
                .take_while(|&t| doc.tokens[t].is_word() && doc.starts_upper(t))
                .last()
                .unwrap_or(b);
            return self.resolve(doc, a, b);
        }
        if first == last && doc.is_in(first, REFERRING_PRONOUNS) {
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
                let found = self.entities.iter().position(|e| e.surname == surname);
                if let Some(e) = found {
                    self.last = Some(e);
                    return self.entities[e].name.clone();
                }
                let words: Vec<&str> = name.iter().map(|&t| strip_possessive(doc.raw(t))).collect();
                return words.join(" ");
            }
        }
        // a description: the entity whose titles share its words, else the last speaker
        let words: Vec<&str> = (first..=last)
            .filter(|&t| doc.tokens[t].is_word())
            .map(|t| doc.word(t))
            .collect();
        let best = self
            .entities
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    e.titles
                        .iter()
                        .filter(|t| words.contains(&t.as_str()) && *t != "the")
                        .count(),
                    i,
                )
            })
            .filter(|(score, _)| *score > 0)
            .max_by_key(|(score, i)| (*score, self.last == Some(*i)));
        match best.map(|(_, i)| i).or(self.last) {
            Some(e) => {
                self.last = Some(e);
                self.entities[e].name.clone()
            }
            None => mention,
        }
    }
}

/// Splits a capitalized run into its leading title words and the name after them.
fn split_titles(doc: &Doc<'_>, first: usize, last: usize) -> (Vec<String>, Vec<usize>) {
    let mut titles = Vec::new();
    let mut start = first;
    // nationality or organisation words before a title ("Russian President") are titles too
    let last_title = (first..=last)
        .rev()
        .find(|&t| TITLES.contains(&doc.word(t)));
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
