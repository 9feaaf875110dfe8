//! Tokens of an article: words, punctuation, quotation marks and paragraph breaks, with their
//! byte offsets. Written for attribution rather than taken from a UAX #29 segmenter: quotation
//! marks need a side (opening or closing) that only their surroundings tell, and news
//! abbreviations ("Sen.", "U.S.") must not end sentences.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Letters or digits, with inner apostrophes, hyphens and abbreviation periods.
    Word,
    /// One punctuation character that is not a quotation mark.
    Punct(char),
    /// A quotation mark that opens a quote.
    Open(char),
    /// A quotation mark that closes a quote.
    Close(char),
    /// One or more line breaks: paragraphs end here.
    Break,
}

/// A token and where it stands, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Its first byte.
    pub start: usize,
    /// Just past its last byte.
    pub end: usize,
    /// What it is.
    pub kind: Kind,
}

impl Token {
    /// Whether it is a word.
    pub fn is_word(&self) -> bool {
        self.kind == Kind::Word
    }

    /// Whether it is this punctuation character.
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }

    /// Whether it is a double quotation mark of either side. Single marks (`‘ ’`) open and close
    /// quotes too, but elsewhere `’` is as often an apostrophe (`voters’`), so the rules that
    /// look for quotation inside a text ignore them.
    pub fn is_quote(&self) -> bool {
        matches!(self.kind, Kind::Open(c) | Kind::Close(c) if c != '‘' && c != '’')
    }

    /// Whether it ends a sentence: `.`, `!`, `?` (or `…`).
    pub fn is_terminal(&self) -> bool {
        matches!(self.kind, Kind::Punct('.' | '!' | '?' | '…'))
    }
}

/// Abbreviations whose period does not end a sentence (lower-case, without the period).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "sen", "rep", "gov", "gen", "lt", "col", "sgt", "capt", "cmdr", "adm",
    "maj", "prof", "rev", "st", "jr", "sr", "no", "vs", "jan", "feb", "mar", "apr", "aug", "sept",
    "sep", "oct", "nov", "dec", "inc", "corp", "co", "ltd", "mt", "ft", "pres", "gens", "reps",
    "sens", "e.g", "i.e", "u.s", "u.k", "u.n", "d.c", "a.m", "p.m", "etc", "approx", "dept", "est",
];

/// AP abbreviations of US states, which are also words (`Ill.`, `Wash.`): their period ends
/// no sentence when a comma or a parenthesis follows it.
const STATES: &[&str] = &[
    "ala", "ariz", "ark", "calif", "colo", "conn", "del", "fla", "ga", "ill", "ind", "kan", "ky",
    "la", "md", "mass", "mich", "minn", "miss", "mo", "mont", "neb", "nev", "okla", "ore", "pa",
    "tenn", "tex", "va", "vt", "wash", "wis", "wyo",
];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits a text into tokens.
pub fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(text.len() / 4);
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' || c == '\r' {
            let mut end = i + 1;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_whitespace() {
                    if d == '\n' || d == '\r' {
                        end = j + 1;
                    }
                    chars.next();
                } else {
                    break;
                }
            }
            if !matches!(
                tokens.last(),
                Some(Token {
                    kind: Kind::Break,
                    ..
                })
            ) {
                tokens.push(Token {
                    start: i,
                    end,
                    kind: Kind::Break,
                });
            }
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        if is_word_char(c) {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if is_word_char(d) {
                    end = j + d.len_utf8();
                    chars.next();
                    continue;
                }
                // inner apostrophe, hyphen or period: part of the word when a letter follows
                if matches!(d, '\'' | '’' | '-' | '.' | '&') {
                    let after = text[j + d.len_utf8()..].chars().next();
                    if after.is_some_and(is_word_char) {
                        end = j + d.len_utf8();
                        chars.next();
                        continue;
                    }
                }
                break;
            }
            // an abbreviation or an initial keeps its period
            if bytes.get(end) == Some(&b'.') {
                let word = &text[i..end];
                let lower = word.to_lowercase();
                let initial = word.chars().count() == 1 && c.is_uppercase();
                // `Ashton, Md., who …`, `(R-Fla.)`: a state inside a phrase, not at its end
                let state = lower
                    .rsplit('-')
                    .next()
                    .is_some_and(|w| STATES.contains(&w))
                    && word.starts_with(char::is_uppercase)
                    && matches!(bytes.get(end + 1), Some(b',' | b')'));
                if initial || state || ABBREVIATIONS.contains(&lower.as_str()) || word.contains('.')
                {
                    end += 1;
                    chars.next();
                }
            }
            tokens.push(Token {
                start: i,
                end,
                kind: Kind::Word,
            });
            continue;
        }
        let mut end = i + c.len_utf8();
        let prev = text[..i].chars().next_back();
        // two apostrophes are a double quotation mark (`''I think so,'' he said.`)
        if c == '\'' && bytes.get(end) == Some(&b'\'') {
            end += 1;
            chars.next();
            let next = text[end..].chars().next();
            let after_space = prev.is_none_or(|p| p.is_whitespace() || "([{—–-".contains(p));
            let before_space = next.is_none_or(|n| n.is_whitespace() || ",.;:!?)".contains(n));
            let kind = if after_space && !before_space {
                Kind::Open('"')
            } else {
                Kind::Close('"')
            };
            tokens.push(Token {
                start: i,
                end,
                kind,
            });
            continue;
        }
        let next = text[end..].chars().next();
        let kind = match c {
            '“' | '«' | '„' | '‹' => Kind::Open(c),
            // single marks: `‘` opens after a space; `’` closes before a space or punctuation
            // (inside a word it is an apostrophe, and the word took it already)
            '‘' if prev.is_none_or(|p| p.is_whitespace() || "([{—–-".contains(p)) => {
                Kind::Open(c)
            }
            '’' if next.is_none_or(|n| n.is_whitespace() || ",.;:!?)”\"".contains(n)) => {
                Kind::Close(c)
            }
            // a closing mark at the start of a line, before a word, is a mistyped opening one
            '”' if prev.is_none_or(|p| p == '\n') && next.is_some_and(|n| !n.is_whitespace()) => {
                Kind::Open(c)
            }
            '”' | '»' | '›' => Kind::Close(c),
            '"' => {
                // a straight quote opens after a space or an opening bracket, or before a word
                let after_space = prev.is_none_or(|p| p.is_whitespace() || "([{—–-".contains(p));
                let before_space = next.is_none_or(|n| n.is_whitespace() || ",.;:!?)".contains(n));
                if after_space && !before_space {
                    Kind::Open(c)
                } else {
                    Kind::Close(c)
                }
            }
            _ => Kind::Punct(c),
        };
        tokens.push(Token {
            start: i,
            end,
            kind,
        });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        tokenize(text)
            .iter()
            .map(|t| &text[t.start..t.end])
            .collect()
    }

    #[test]
    fn abbreviations_and_initials_keep_their_periods() {
        assert_eq!(
            words("Sen. J. Smith of the U.S. said."),
            ["Sen.", "J.", "Smith", "of", "the", "U.S.", "said", "."]
        );
    }

    #[test]
    fn apostrophes_inside_words_stay_in_them() {
        assert_eq!(words("Trump’s team don't"), ["Trump’s", "team", "don't"]);
    }

    #[test]
    fn straight_quotes_get_a_side_from_their_surroundings() {
        let kinds: Vec<Kind> = tokenize("he said \"no,\" twice")
            .into_iter()
            .map(|t| t.kind)
            .filter(|k| matches!(k, Kind::Open(_) | Kind::Close(_)))
            .collect();
        assert_eq!(kinds, [Kind::Open('"'), Kind::Close('"')]);
    }

    #[test]
    fn two_apostrophes_are_a_double_quotation_mark() {
        let kinds: Vec<Kind> = tokenize("''It works,'' he said.")
            .into_iter()
            .map(|t| t.kind)
            .collect();
        assert_eq!(kinds[0], Kind::Open('"'));
        assert_eq!(kinds[4], Kind::Close('"'));
    }

    #[test]
    fn blank_lines_make_one_break() {
        let breaks = tokenize("a\n\n\nb")
            .iter()
            .filter(|t| t.kind == Kind::Break)
            .count();
        assert_eq!(breaks, 1);
    }
}
