//! The event stream's terms: an event (a committed change with its position), where a watch
//! starts, what it lets through, and how often it speaks when nothing happens.

use std::time::Duration;

use time::OffsetDateTime;

use super::names::{ArticleName, ClaimMatchName, ClaimName, VerdictName};

/// The most resources one watch may filter on: each is a term of the stream's page query.
pub const MAX_WATCHED_RESOURCES: usize = 100;
/// The heartbeat interval when the client gives none: short enough for a client to tell an idle
/// stream from a dead one within seconds, long enough to cost nothing.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);
/// The shortest heartbeat interval: a bound on what an idle stream can make the server send.
pub const MIN_HEARTBEAT: Duration = Duration::from_millis(100);
/// The longest heartbeat interval.
pub const MAX_HEARTBEAT: Duration = Duration::from_secs(600);

/// What kind of change an event reports. Each is one kind the change log's triggers write; a
/// kind the database names and this version does not is an event without a type, never a
/// skipped one (see [`Event::event_type`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// An article was registered.
    ArticleCreated,
    /// A claim was registered.
    ClaimCreated,
    /// A claim's own fields changed: an edit, a new current verdict, a new previously-checked one.
    ClaimUpdated,
    /// A quote was added to a claim.
    QuoteCreated,
    /// A verdict was given on a claim.
    VerdictCreated,
    /// A claim's statement was embedded, so it can be found by meaning.
    ClaimEmbedded,
    /// A claim was linked, or suggested, to an earlier one that says the same.
    MatchCreated,
    /// A reviewer accepted or rejected a suggested link.
    MatchReviewed,
    /// A draft verdict was published (a verdict published as it is given is `VerdictCreated`
    /// only).
    VerdictPublished,
    /// A published verdict was corrected: a new revision, with a public note.
    VerdictCorrected,
    /// A verdict was withdrawn.
    VerdictWithdrawn,
    /// A draft verdict was rewritten before publication.
    VerdictEdited,
}

/// A committed change as the stream delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The change's position in the stream: commit order, each position given once.
    pub position: i64,
    /// What happened; `None` for a kind of change this version does not know yet, which is
    /// delivered all the same, with the resources it names.
    pub event_type: Option<EventType>,
    /// The article registered, or the article a new quote stands in.
    pub article: Option<ArticleName>,
    /// The claim the change is about.
    pub claim: Option<ClaimName>,
    /// The verdict given.
    pub verdict: Option<VerdictName>,
    /// The link made or reviewed.
    pub link: Option<ClaimMatchName>,
    /// When the change's transaction began.
    pub change_time: OffsetDateTime,
}

impl Event {
    /// The resource that changed, as its name: the most specific one the change names.
    pub fn resource(&self) -> String {
        if let Some(verdict) = self.verdict {
            return verdict.to_string();
        }
        if let Some(link) = self.link {
            return link.to_string();
        }
        if let Some(claim) = self.claim {
            return claim.to_string();
        }
        self.article.map(|a| a.to_string()).unwrap_or_default()
    }
}

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchStart {
    /// With the changes numbered after the call began.
    Now,
    /// With the oldest change still retained.
    Oldest,
    /// With the first change after this position, which the client read before.
    After(i64),
}

impl WatchStart {
    /// A watch start from the request's optional cursor and its from-oldest flag; a negative
    /// cursor or both at once are refused, each naming its field.
    pub fn parse(cursor: Option<i64>, from_oldest: bool) -> Result<Self, (&'static str, String)> {
        match (cursor, from_oldest) {
            (Some(_), true) => Err((
                "from_oldest",
                "must not be set with cursor: a stream resumes after a cursor or starts from the \
                 oldest change, not both"
                    .into(),
            )),
            (Some(c), false) if c < 0 => Err(("cursor", format!("must not be negative, not {c}"))),
            (Some(c), false) => Ok(WatchStart::After(c)),
            (None, true) => Ok(WatchStart::Oldest),
            (None, false) => Ok(WatchStart::Now),
        }
    }
}

/// A resource a watch may be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// An article and the quotes that stand in it.
    Article(ArticleName),
    /// A claim, its quotes, verdicts, and links from and to it.
    Claim(ClaimName),
}

impl Watched {
    /// `articles/{id}` or `claims/{id}`.
    pub fn parse(name: &str) -> Result<Self, String> {
        if name.starts_with("articles/") {
            return ArticleName::parse(name).map(Watched::Article);
        }
        ClaimName::parse(name).map(Watched::Claim).map_err(|_| {
            format!("must be a resource name articles/{{id}} or claims/{{id}}, not {name:?}")
        })
    }
}

/// What a watch lets through: changes of any of `types` (all when empty) about any of the
/// watched resources (all when empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// The types let through; every type when empty.
    pub types: Vec<EventType>,
    /// The resources let through; every resource when empty.
    pub resources: Vec<Watched>,
}

impl EventFilter {
    /// Whether the filter lets every event through.
    pub fn is_everything(&self) -> bool {
        self.types.is_empty() && self.resources.is_empty()
    }

    /// Whether the filter lets `event` through: the same rule the store's page query applies in
    /// SQL, for events a stream takes from memory. An event of a type this version does not
    /// know passes only a filter without types.
    pub fn admits(&self, event: &Event) -> bool {
        let typed =
            self.types.is_empty() || event.event_type.is_some_and(|t| self.types.contains(&t));
        let about = self.resources.is_empty()
            || self.resources.iter().any(|watched| match watched {
                Watched::Article(a) => event.article == Some(*a),
                Watched::Claim(c) => {
                    event.claim == Some(*c) || event.link.is_some_and(|l| l.matched == *c)
                }
            });
        typed && about
    }
}

/// How long a stream may stay silent before it sends a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatInterval(Duration);

impl HeartbeatInterval {
    /// `None` is the default; otherwise between [`MIN_HEARTBEAT`] and [`MAX_HEARTBEAT`].
    pub fn parse(interval: Option<Duration>) -> Result<Self, String> {
        let Some(interval) = interval else {
            return Ok(HeartbeatInterval(DEFAULT_HEARTBEAT));
        };
        if !(MIN_HEARTBEAT..=MAX_HEARTBEAT).contains(&interval) {
            return Err(format!(
                "must be from {} s to {} s, not {} s",
                MIN_HEARTBEAT.as_secs_f64(),
                MAX_HEARTBEAT.as_secs_f64(),
                interval.as_secs_f64()
            ));
        }
        Ok(HeartbeatInterval(interval))
    }

    /// The interval.
    pub fn get(self) -> Duration {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_watch_starts_now_from_the_oldest_or_after_a_cursor_but_not_two_of_them() {
        assert_eq!(WatchStart::parse(None, false), Ok(WatchStart::Now));
        assert_eq!(WatchStart::parse(None, true), Ok(WatchStart::Oldest));
        assert_eq!(WatchStart::parse(Some(0), false), Ok(WatchStart::After(0)));
        assert_eq!(
            WatchStart::parse(Some(7), true).unwrap_err().0,
            "from_oldest"
        );
        assert_eq!(WatchStart::parse(Some(-1), false).unwrap_err().0, "cursor");
    }

    #[test]
    fn a_watched_resource_is_an_article_or_a_claim() {
        let id = Uuid::now_v7();
        assert_eq!(
            Watched::parse(&format!("articles/{id}")),
            Ok(Watched::Article(ArticleName(id)))
        );
        assert_eq!(
            Watched::parse(&format!("claims/{id}")),
            Ok(Watched::Claim(ClaimName(id)))
        );
        let err = Watched::parse(&format!("apiKeys/{id}")).unwrap_err();
        assert!(err.contains("articles/{id} or claims/{id}"), "{err}");
        assert!(Watched::parse("articles/nope").is_err());
    }

    #[test]
    fn the_heartbeat_interval_defaults_and_is_bounded() {
        assert_eq!(
            HeartbeatInterval::parse(None).unwrap().get(),
            DEFAULT_HEARTBEAT
        );
        let second = Some(Duration::from_secs(1));
        assert_eq!(
            HeartbeatInterval::parse(second).unwrap().get(),
            Duration::from_secs(1)
        );
        assert!(HeartbeatInterval::parse(Some(Duration::from_millis(10))).is_err());
        assert!(HeartbeatInterval::parse(Some(Duration::from_secs(601))).is_err());
    }

    #[test]
    fn a_filter_admits_the_types_and_the_resources_it_names() {
        let (article, claim, earlier) = (
            ArticleName(Uuid::now_v7()),
            ClaimName(Uuid::now_v7()),
            ClaimName(Uuid::now_v7()),
        );
        let quote = Event {
            position: 1,
            event_type: Some(EventType::QuoteCreated),
            article: Some(article),
            claim: Some(claim),
            verdict: None,
            link: None,
            change_time: OffsetDateTime::UNIX_EPOCH,
        };
        let link = Event {
            event_type: Some(EventType::MatchCreated),
            article: None,
            link: Some(ClaimMatchName {
                claim,
                matched: earlier,
            }),
            ..quote.clone()
        };
        let unknown = Event {
            event_type: None,
            ..quote.clone()
        };
        let everything = EventFilter::default();
        assert!(everything.is_everything());
        assert!(everything.admits(&quote) && everything.admits(&unknown));
        let quotes = EventFilter {
            types: vec![EventType::QuoteCreated],
            resources: Vec::new(),
        };
        assert!(quotes.admits(&quote) && !quotes.admits(&link) && !quotes.admits(&unknown));
        let of = |watched| EventFilter {
            types: Vec::new(),
            resources: vec![watched],
        };
        assert!(of(Watched::Article(article)).admits(&quote));
        assert!(!of(Watched::Article(article)).admits(&link));
        assert!(
            of(Watched::Claim(earlier)).admits(&link),
            "a link to a claim is about it"
        );
        assert!(!of(Watched::Claim(earlier)).admits(&quote));
    }

    #[test]
    fn an_event_names_the_most_specific_resource_it_changed() {
        let claim = ClaimName(Uuid::now_v7());
        let verdict = VerdictName {
            claim,
            id: Uuid::now_v7(),
        };
        let event = Event {
            position: 1,
            event_type: Some(EventType::VerdictCreated),
            article: None,
            claim: Some(claim),
            verdict: Some(verdict),
            link: None,
            change_time: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(event.resource(), verdict.to_string());
        let created = Event {
            verdict: None,
            ..event
        };
        assert_eq!(created.resource(), claim.to_string());
    }
}
