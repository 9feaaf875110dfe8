//! Word lists the rules use. Every entry is lower-case; lookups lower-case the word first.

/// Verbs that attribute speech or a stance to a source, in every inflection written out.
#[rustfmt::skip]
pub const CUE_VERBS: &[&str] = &[
    "say", "says", "said", "saying", "tell", "tells", "told", "telling", "add", "adds", "added",
    "adding", "note", "notes", "noted", "noting", "stress", "stresses", "stressed", "stressing",
    "explain", "explains", "explained", "explaining", "claim", "claims", "claimed", "claiming",
    "argue", "argues", "argued", "arguing", "insist", "insists", "insisted", "insisting", "warn",
    "warns", "warned", "warning", "write", "writes", "wrote", "writing", "report", "reports",
    "reported", "reporting", "announce", "announces", "announced", "announcing", "states",
    "stated", "declare", "declares", "declared", "declaring", "assert", "asserts", "asserted",
    "suggest", "suggests", "suggested", "suggesting", "acknowledge", "acknowledges",
    "acknowledged", "acknowledging", "admit", "admits", "admitted", "admitting", "ask", "asks",
    "asked", "asking", "reply", "replies", "replied", "respond", "responds", "responded", "recall",
    "recalls", "recalled", "recalling", "predict", "predicts", "predicted", "predicting",
    "promise", "promises", "promised", "promising", "pledge", "pledges", "pledged", "vow", "vows",
    "vowed", "vowing", "contend", "contends", "contended", "maintain", "maintains", "maintained",
    "emphasize", "emphasizes", "emphasized", "emphasise", "emphasised", "charge", "charges",
    "charged", "deny", "denies", "denied", "denying", "confirm", "confirms", "confirmed",
    "confirming", "reveal", "reveals", "revealed", "estimate", "estimates", "estimated",
    "conclude", "concludes", "concluded", "complain", "complains", "complained", "concede",
    "concedes", "conceded", "allege", "alleges", "alleged", "tweet", "tweets", "tweeted",
    "tweeting", "testify", "testified", "observe", "observes", "observed", "mention", "mentions",
    "mentioned", "urge", "urges", "urged", "continue", "continues", "continued", "believe",
    "believes", "believed", "think", "thinks", "thought", "agree", "agrees", "agreed", "boast",
    "boasts", "boasted", "joke", "joked", "quip", "quipped", "shout", "shouted", "yell", "yelled",
    "exclaim", "exclaimed", "remark", "remarks", "remarked", "point", "points", "pointed",
    "pointing", "caution", "cautioned", "lament", "lamented", "hint", "hinted", "signal",
    "signaled", "signalled", "contest", "disputes", "disputed", "counter", "countered", "retort",
    "retorted", "find", "finds", "found", "show", "shows", "showed", "indicate", "indicates",
    "indicated", "conclude", "wonder", "wondered", "muse", "mused", "sing", "sings", "sang",
    "feel", "feels", "felt", "fear", "fears", "feared", "hope", "hopes", "hoped", "expect",
    "expects", "expected", "worry", "worried", "know", "knows", "knew", "recommend",
    "recommended", "propose", "proposed", "demand", "demanded", "demands", "reiterate",
    "reiterated", "reiterates", "describe", "described", "describes", "call", "called", "calls",
    "criticize", "criticized", "criticised", "accuse", "accused", "accuses", "blasted", "slammed",
    "praised", "dismissed", "branded", "labeled", "labelled", "dubbed", "exhorted", "touted",
    "attacked", "condemned", "lauded", "hailed", "chanted", "scolded", "mocked", "derided",
    "decried", "questioned",
    "yells", "shouts", "screams", "screamed", "cries", "cried", "chants", "proclaimed", "proclaims",
    "characterized", "characterizes",
    "reads", "read", "quoted", "quotes", "cited", "cites", "citing", "echoed", "echoes",
    "expressed", "expresses", "likened", "likens", "spoke", "speaks", "speaking", "talked",
    "talks", "detailed", "details", "documents", "documented", "advocates", "advocated",
    "emphasizing", "stressing", "noting", "explaining", "recalling", "calling", "describing",
];

/// Cues that take an object and a label for it: `described Clinton as a “disgrace”`. What was
/// said ends with the label.
#[rustfmt::skip]
pub const LABELLING_CUES: &[&str] = &[
    "call", "calls", "called", "calling", "describe", "describes", "described", "describing",
    "branded", "brands", "labeled", "labelled", "labels", "dubbed", "dubs", "criticized",
    "criticised", "criticizes", "accused", "accuses", "blasted", "slammed", "praised", "dismissed",
    "mocked", "derided", "decried", "hailed", "lauded", "attacked", "condemned",
];

/// Personal and relative pronouns that can be a speaker as written.
#[rustfmt::skip]
pub const PRONOUNS: &[&str] = &[
    "he", "she", "they", "it", "we", "i", "you", "who", "which",
];

/// Words that may stand between a speaker and its cue: "Putin also said", "he has long said".
#[rustfmt::skip]
pub const BETWEEN_SPEAKER_AND_CUE: &[&str] = &[
    "also", "has", "have", "had", "is", "was", "are", "were", "will", "would", "could", "can",
    "did", "does", "do", "later", "then", "previously", "repeatedly", "often", "recently",
    "reportedly", "once", "again", "still", "publicly", "privately", "long", "never", "not",
    "already", "just", "further", "only", "even", "frequently", "quickly", "flatly", "simply",
    "clearly", "explicitly", "bluntly", "angrily", "firmly", "loudly", "quietly", "told", "been",
    "being", "has long", "had long", "might", "may", "must", "should", "shall", "now", "all",
    "both",
];

/// Words that end a speaker phrase when reading backwards from a cue.
#[rustfmt::skip]
pub const SPEAKER_STOPS: &[&str] = &[
    "and", "but", "or", "because", "when", "while", "after", "before", "as", "if", "than", "so",
    "since", "though", "although", "whereas", "where", "whether", "what", "how", "why", "said",
    "says", "told", "in", "on", "at", "for", "to", "from", "with", "by", "about", "into", "over",
    "under", "during", "against", "between", "of", "is", "was", "are", "were", "be", "not",
];

/// Words after a cue that date or place it rather than start what was said.
#[rustfmt::skip]
pub const TIME_WORDS: &[&str] = &[
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
    "yesterday", "tonight", "recently", "earlier", "later", "last", "this", "week", "month",
    "year", "night", "morning", "afternoon", "evening", "again", "also", "repeatedly", "once",
    "publicly", "privately", "previously", "then", "weekend",
];

/// Verbs of intent or stance whose object is what is attributed: `pledged to impose sanctions`,
/// `supports the bill`. They count as cues only with a named or pronoun subject.
#[rustfmt::skip]
pub const STANCE_VERBS: &[&str] = &[
    "want", "wants", "wanted", "plan", "plans", "planned", "pledge", "pledges", "pledged",
    "vow", "vows", "vowed", "promise", "promises", "promised", "refuse", "refuses", "refused",
    "decline", "declines", "declined", "decide", "decided", "decides", "agree", "agrees",
    "agreed", "threaten", "threatens", "threatened", "hope", "hopes", "hoped", "intend",
    "intends", "intended", "seek", "seeks", "sought", "support", "supports", "supported",
    "oppose", "opposes", "opposed", "propose", "proposes", "proposed", "demand", "demands",
    "demanded", "reject", "rejects", "rejected", "endorse", "endorses", "endorsed", "blame",
    "blames", "blamed", "defend", "defends", "defended", "favor", "favors", "favored", "back",
    "backs", "backed", "welcome", "welcomed", "welcomes", "question", "questions", "discuss",
    "discussed", "discusses", "unveil", "unveiled", "unveils", "outline", "outlined",
    "outlines", "offer", "offers", "offered", "encourage", "encourages", "encouraged",
    "wanting", "planning", "pledging", "vowing", "promising", "refusing", "seeking", "hoping",
    "intending", "threatening", "supporting", "opposing", "proposing", "demanding",
];

/// Common nouns for people and bodies that take stances: `companies seek to`, `the court
/// rejected`. A stance verb needs a name or a pronoun for subject, or one of these.
#[rustfmt::skip]
pub const SOURCE_NOUNS: &[&str] = &[
    "officials", "official", "experts", "critics", "police", "lawmakers", "legislators",
    "voters", "supporters", "opponents", "analysts", "economists", "companies", "leaders",
    "candidates", "candidate", "president", "administration", "court", "judge", "judges",
    "campaign", "government", "committee", "agency", "department", "group", "groups",
    "advocates", "activists", "researchers", "scientists", "investigators", "prosecutors",
    "authorities", "members", "protesters", "residents", "senators", "governor", "mayor",
    "spokesman", "spokeswoman", "aides", "allies", "donors", "nominee", "governments",
    "countries", "nations", "states", "lawyers", "attorneys", "democrats", "republicans",
    "conservatives", "liberals", "delegates", "parties", "party", "union", "unions", "firms",
    "banks", "employers", "workers", "families", "parents", "students", "veterans",
    "council", "panel", "people", "men", "women", "doctors", "physicians", "presidents",
    "company", "others", "poll", "polls", "survey", "study", "studies",
];

/// Nouns that attribute the clause after them: `Stumpf’s emphasis that …`, `a report that …`.
#[rustfmt::skip]
pub const NOUN_CUES: &[&str] = &[
    "claim", "claims", "statement", "report", "reports", "argument", "emphasis", "assertion",
    "belief", "warning", "promise", "pledge", "suggestion", "contention", "insistence",
    "allegation", "allegations", "accusation", "charge", "prediction", "view", "message",
    "announcement", "conclusion", "finding", "findings", "estimate", "remark", "remarks",
    "comment", "comments", "testimony", "admission", "denial", "complaint",
];

/// Cues of reported speech that are not verbs: "according to X".
pub const ACCORDING: &str = "according";

/// Whether a lower-case word is in a list. (Lengths and first letters compared before the
/// rest: the rules ask this of most tokens, and a full comparison is a library call.)
pub fn contains(list: &[&str], word: &str) -> bool {
    let (length, first) = (word.len(), word.as_bytes().first());
    list.iter()
        .any(|entry| entry.len() == length && entry.as_bytes().first() == first && *entry == word)
}

/// A word's classes, as bits: which of the lists above hold it.
pub type Classes = u16;
/// In [`CUE_VERBS`].
pub const CUE: Classes = 1;
/// In [`PRONOUNS`].
pub const PRONOUN: Classes = 1 << 1;
/// In [`BETWEEN_SPEAKER_AND_CUE`].
pub const BETWEEN: Classes = 1 << 2;
/// In [`SPEAKER_STOPS`].
pub const STOP: Classes = 1 << 3;
/// In [`TIME_WORDS`].
pub const TIME: Classes = 1 << 4;
/// In [`STANCE_VERBS`].
pub const STANCE: Classes = 1 << 5;
/// In [`LABELLING_CUES`].
pub const LABELLING: Classes = 1 << 6;

/// The classes of a lower-case word: one hash lookup instead of a scan of every list, since
/// the rules ask about each token many times (foldhash: SipHash cost a tenth of the time).
pub fn classes(word: &str) -> Classes {
    type Table = std::collections::HashMap<&'static str, Classes, foldhash::fast::FixedState>;
    static TABLE: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = Table::default();
        for (list, class) in [
            (CUE_VERBS, CUE),
            (PRONOUNS, PRONOUN),
            (BETWEEN_SPEAKER_AND_CUE, BETWEEN),
            (SPEAKER_STOPS, STOP),
            (TIME_WORDS, TIME),
            (STANCE_VERBS, STANCE),
            (LABELLING_CUES, LABELLING),
        ] {
            for word in list {
                *table.entry(*word).or_insert(0) |= class;
            }
        }
        table
    });
    table.get(word).copied().unwrap_or(0)
}
