//! `factcheck.v1.EventService`: the change stream.

use std::pin::Pin;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::convert::encode_time;
use super::proto::event_service_server::EventService;
use super::proto::{
    self, Heartbeat, WatchEventsRequest, WatchEventsResponse, watch_events_response,
};
use crate::domain::{
    Event, EventFilter, EventType, HeartbeatInterval, MAX_WATCHED_RESOURCES, WatchStart, Watched,
};
use crate::error::{Error, Violations};
use crate::registry::{Registry, WatchMessage};

/// The event service's handlers.
#[derive(Clone, Debug)]
pub struct EventApi {
    registry: Registry,
}

impl EventApi {
    /// The service on a registry.
    pub fn new(registry: Registry) -> Self {
        EventApi { registry }
    }
}

/// The stream of WatchEvents' messages, as tonic sends it.
type WatchStream = Pin<Box<dyn Stream<Item = Result<WatchEventsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl EventService for EventApi {
    type WatchEventsStream = WatchStream;

    async fn watch_events(
        &self,
        request: Request<WatchEventsRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let caller = super::caller(&request)?;
        let (start, filter, heartbeat) = decode_watch(request.into_inner())?;
        let stream = self.registry.watch_events(start, filter, heartbeat).await?;
        let messages = stream.map(|message| message.map(encode_message).map_err(Status::from));
        Ok(Response::new(Box::pin(while_key_active(
            messages,
            self.registry.clone(),
            caller.name,
        ))))
    }
}

/// Where the watch starts, what it lets through and how often it beats; every bad field named.
/// How often a stream asks whether its caller's key was revoked since the stream began: a
/// revoked key's stream ends within this much (and a heartbeat), with UNAUTHENTICATED.
pub const KEY_RECHECK_INTERVAL: Duration = Duration::from_secs(5);

/// `messages` for as long as the key `key` stays active: asked again at the first message
/// after each [`KEY_RECHECK_INTERVAL`] (heartbeats bring one when nothing happens); once it
/// is revoked, one UNAUTHENTICATED error and the end of the stream.
fn while_key_active(
    messages: impl Stream<Item = Result<WatchEventsResponse, Status>> + Send + 'static,
    registry: Registry,
    key: crate::domain::ApiKeyName,
) -> impl Stream<Item = Result<WatchEventsResponse, Status>> + Send + 'static {
    let checked = std::time::Instant::now();
    futures_util::stream::unfold(
        (Box::pin(messages), registry, checked, false),
        move |(mut messages, registry, mut checked, ended)| async move {
            if ended {
                return None;
            }
            let message = messages.next().await?;
            if checked.elapsed() >= KEY_RECHECK_INTERVAL {
                checked = std::time::Instant::now();
                match registry.key_is_active(key).await {
                    Ok(true) => {}
                    Ok(false) => {
                        let revoked = Status::unauthenticated(format!(
                            "{key} was revoked while this stream was open: the stream ends; \
                             resume from the last cursor with an active key"
                        ));
                        return Some((Err(revoked), (messages, registry, checked, true)));
                    }
                    Err(error) => {
                        return Some((Err(error.into()), (messages, registry, checked, true)));
                    }
                }
            }
            Some((message, (messages, registry, checked, false)))
        },
    )
}

fn decode_watch(
    request: WatchEventsRequest,
) -> Result<(WatchStart, EventFilter, HeartbeatInterval), Error> {
    let mut v = Violations::default();
    let start = match WatchStart::parse(request.cursor, request.from_oldest) {
        Ok(start) => Some(start),
        Err((field, description)) => {
            v.add(field, description);
            None
        }
    };
    let types: Vec<Option<EventType>> = request
        .types
        .iter()
        .enumerate()
        .map(|(i, t)| v.take(event_type(*t, &format!("types[{i}]"))))
        .collect();
    if request.resources.len() > MAX_WATCHED_RESOURCES {
        v.add(
            "resources",
            format!(
                "names {} resources; at most {MAX_WATCHED_RESOURCES} are allowed",
                request.resources.len()
            ),
        );
    }
    let resources: Vec<Option<Watched>> = request
        .resources
        .iter()
        .take(MAX_WATCHED_RESOURCES)
        .enumerate()
        .map(|(i, name)| v.check(Watched::parse(name), format!("resources[{i}]")))
        .collect();
    let interval = match request.heartbeat_interval.map(duration).transpose() {
        Ok(interval) => v.check(HeartbeatInterval::parse(interval), "heartbeat_interval"),
        Err(description) => {
            v.add("heartbeat_interval", description);
            None
        }
    };
    match (start, interval) {
        (Some(start), Some(interval)) if v.is_empty() => {
            let mut types: Vec<EventType> = types.into_iter().flatten().collect();
            types.dedup();
            let filter = EventFilter {
                types,
                resources: resources.into_iter().flatten().collect(),
            };
            Ok((start, filter, interval))
        }
        _ => Err(v.into_error()),
    }
}

/// A protobuf duration as a std one; negative or malformed ones refused.
fn duration(value: prost_types::Duration) -> Result<Duration, String> {
    if value.seconds < 0 || !(0..1_000_000_000).contains(&value.nanos) {
        return Err(format!(
            "must be a positive duration, not {}s {}ns",
            value.seconds, value.nanos
        ));
    }
    // both checked non-negative above
    Ok(Duration::new(
        value.seconds.unsigned_abs(),
        value.nanos.unsigned_abs(),
    ))
}

/// An event type of a filter: one of the named types.
fn event_type(value: i32, field: &str) -> Result<EventType, Error> {
    use proto::EventType as P;
    Ok(match P::try_from(value) {
        Ok(P::ArticleCreated) => EventType::ArticleCreated,
        Ok(P::ClaimCreated) => EventType::ClaimCreated,
        Ok(P::ClaimUpdated) => EventType::ClaimUpdated,
        Ok(P::QuoteCreated) => EventType::QuoteCreated,
        Ok(P::VerdictCreated) => EventType::VerdictCreated,
        Ok(P::ClaimEmbedded) => EventType::ClaimEmbedded,
        Ok(P::MatchCreated) => EventType::MatchCreated,
        Ok(P::MatchReviewed) => EventType::MatchReviewed,
        Ok(P::VerdictPublished) => EventType::VerdictPublished,
        Ok(P::VerdictCorrected) => EventType::VerdictCorrected,
        Ok(P::VerdictWithdrawn) => EventType::VerdictWithdrawn,
        Ok(P::VerdictEdited) => EventType::VerdictEdited,
        Ok(P::Unspecified) | Err(_) => {
            return Err(Error::invalid(
                field,
                format!(
                    "{value} is not an event type a filter can name (EVENT_TYPE_…, not UNSPECIFIED)"
                ),
            ));
        }
    })
}

fn encode_type(event_type: Option<EventType>) -> proto::EventType {
    use proto::EventType as P;
    match event_type {
        None => P::Unspecified,
        Some(EventType::ArticleCreated) => P::ArticleCreated,
        Some(EventType::ClaimCreated) => P::ClaimCreated,
        Some(EventType::ClaimUpdated) => P::ClaimUpdated,
        Some(EventType::QuoteCreated) => P::QuoteCreated,
        Some(EventType::VerdictCreated) => P::VerdictCreated,
        Some(EventType::ClaimEmbedded) => P::ClaimEmbedded,
        Some(EventType::MatchCreated) => P::MatchCreated,
        Some(EventType::MatchReviewed) => P::MatchReviewed,
        Some(EventType::VerdictPublished) => P::VerdictPublished,
        Some(EventType::VerdictCorrected) => P::VerdictCorrected,
        Some(EventType::VerdictWithdrawn) => P::VerdictWithdrawn,
        Some(EventType::VerdictEdited) => P::VerdictEdited,
    }
}

fn encode_event(event: Event) -> proto::Event {
    proto::Event {
        cursor: event.position,
        r#type: encode_type(event.event_type).into(),
        resource: event.resource(),
        claim: event.claim.map(|c| c.to_string()).unwrap_or_default(),
        article: event.article.map(|a| a.to_string()).unwrap_or_default(),
        change_time: Some(encode_time(event.change_time)),
    }
}

fn encode_message(message: WatchMessage) -> WatchEventsResponse {
    let message = match message {
        WatchMessage::Event(event) => watch_events_response::Message::Event(encode_event(event)),
        WatchMessage::Heartbeat(cursor) => {
            watch_events_response::Message::Heartbeat(Heartbeat { cursor })
        }
    };
    WatchEventsResponse {
        message: Some(message),
    }
}
