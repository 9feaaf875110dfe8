//! The codec every factcheck.v1 service speaks: prost's, with two rules of our own at the border.
//!
//! - A request that does not decode (invalid UTF-8 in a string, a truncated varint, a wrong wire
//!   type, field number 0, nesting past prost's limit) is the client's fault: INVALID_ARGUMENT
//!   with the decoder's reason, never INTERNAL.
//! - No string of any request may hold a NUL character. PostgreSQL's `text` cannot store one, so
//!   a NUL reaching SQL would fail there as an internal error. This is the one place that rule
//!   lives: the check walks the request's wire bytes with the schema of `proto/` (from the
//!   descriptor set the build makes) and names the field, e.g. `claim.quotes[1].text`, so no
//!   handler, domain type or list filter needs a check of its own.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::LazyLock;

use prost::bytes::Buf;
use prost::{Message, Name};
use prost_types::FileDescriptorSet;
use prost_types::field_descriptor_proto::{Label, Type};
use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};

use crate::error::Error;

/// prost's codec with our decoding rules; see the module documentation.
#[derive(Debug, Clone)]
pub struct CheckedCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for CheckedCodec<T, U> {
    fn default() -> Self {
        CheckedCodec(PhantomData)
    }
}

impl<T, U> Codec for CheckedCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Name + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = tonic_prost::ProstEncoder<T>;
    type Decoder = CheckedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        CheckedDecoder(PhantomData)
    }
}

/// Decodes `U` and applies the NUL rule; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct CheckedDecoder<U>(PhantomData<U>);

impl<U: Message + Name + Default> Decoder for CheckedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let bytes = buf.copy_to_bytes(buf.remaining());
        let message = U::decode(bytes.as_ref()).map_err(|e| {
            Status::invalid_argument(format!(
                "the request is not a valid {} message: {e}",
                U::full_name()
            ))
        })?;
        // NUL bytes are rare in protobuf encodings: look closer only when there is one
        if memchr::memchr(0, &bytes).is_some()
            && let Some(field) = SCHEMA.nul_in_text(&U::full_name(), &bytes)
        {
            return Err(Error::invalid(
                field,
                "contains a NUL character (U+0000), which no text field accepts",
            )
            .into());
        }
        Ok(Some(message))
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// The schema of every message in `proto/` and its imports, as the wire check needs it.
static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let set = FileDescriptorSet::decode(super::proto::FILE_DESCRIPTOR_SET)
        .expect("the build embeds a valid descriptor set");
    Schema::new(&set)
});

/// How deep the wire check follows nested messages; prost refuses deeper nesting already.
const MAX_DEPTH: usize = 100;

/// For each message's full name, its fields by number.
#[derive(Debug, Default)]
struct Schema {
    messages: HashMap<String, HashMap<u32, Field>>,
}

/// One field of a message: its proto name, whether it repeats, and what it holds.
#[derive(Debug)]
struct Field {
    name: String,
    repeated: bool,
    kind: Kind,
}

/// What the wire check needs to know of a field's type.
#[derive(Debug)]
enum Kind {
    /// A `string`.
    Text,
    /// A message, by full name without the leading dot.
    Message(String),
    /// Anything else: numbers, bytes, enums.
    Other,
}

impl Schema {
    fn new(set: &FileDescriptorSet) -> Self {
        let mut schema = Schema::default();
        for file in &set.file {
            let package = file.package();
            for message in &file.message_type {
                schema.add(package, message);
            }
        }
        schema
    }

    fn add(&mut self, scope: &str, message: &prost_types::DescriptorProto) {
        let full_name = format!("{scope}.{}", message.name());
        for nested in &message.nested_type {
            self.add(&full_name, nested);
        }
        let fields = message
            .field
            .iter()
            .map(|f| {
                let kind = match f.r#type() {
                    Type::String => Kind::Text,
                    Type::Message => Kind::Message(f.type_name().trim_start_matches('.').into()),
                    _ => Kind::Other,
                };
                let field = Field {
                    name: f.name().to_owned(),
                    repeated: f.label() == Label::Repeated,
                    kind,
                };
                (u32::try_from(f.number()).unwrap_or(0), field)
            })
            .collect();
        self.messages.insert(full_name, fields);
    }

    /// The path of the first string field of `message` that holds a NUL, in already decoded
    /// (so well-formed) wire bytes.
    fn nul_in_text(&self, message: &str, bytes: &[u8]) -> Option<String> {
        self.walk(message, bytes, "", 0)
    }

    fn walk(&self, message: &str, mut bytes: &[u8], path: &str, depth: usize) -> Option<String> {
        let fields = self.messages.get(message)?;
        let mut seen: HashMap<u32, usize> = HashMap::new();
        while bytes.has_remaining() && depth < MAX_DEPTH {
            let tag = prost::encoding::decode_varint(&mut bytes).ok()?;
            let number = u32::try_from(tag >> 3).ok()?;
            let payload = match tag & 7 {
                0 => {
                    prost::encoding::decode_varint(&mut bytes).ok()?;
                    continue;
                }
                1 | 5 => {
                    let width = if tag & 7 == 1 { 8 } else { 4 };
                    bytes.advance(width.min(bytes.len()));
                    continue;
                }
                2 => {
                    let len = usize::try_from(prost::encoding::decode_varint(&mut bytes).ok()?)
                        .ok()?
                        .min(bytes.len());
                    let (payload, rest) = bytes.split_at(len);
                    bytes = rest;
                    payload
                }
                // groups and anything else: prost skipped or refused them already
                _ => return None,
            };
            let Some(field) = fields.get(&number) else {
                continue;
            };
            let index = seen.entry(number).or_default();
            let here = match (path.is_empty(), field.repeated) {
                (true, false) => field.name.clone(),
                (true, true) => format!("{}[{index}]", field.name),
                (false, false) => format!("{path}.{}", field.name),
                (false, true) => format!("{path}.{}[{index}]", field.name),
            };
            *index += 1;
            match &field.kind {
                Kind::Text if payload.contains(&0) => return Some(here),
                Kind::Message(name) => {
                    if let Some(found) = self.walk(name, payload, &here, depth + 1) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::proto;

    fn nul_field<M: Message + Name>(message: &M) -> Option<String> {
        SCHEMA.nul_in_text(&M::full_name(), &message.encode_to_vec())
    }

    #[test]
    fn a_nul_in_a_nested_repeated_string_is_named_by_its_path() {
        let claim = proto::Claim {
            statement: "fine".into(),
            quotes: vec![
                proto::Quote::default(),
                proto::Quote {
                    text: "a\0b".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let request = proto::CreateClaimRequest {
            claim: Some(claim),
            request_id: String::new(),
        };
        assert_eq!(nul_field(&request).as_deref(), Some("claim.quotes[1].text"));
    }

    #[test]
    fn zero_bytes_outside_strings_are_not_nuls() {
        // an explicit zero varint and a zero-length string both encode a 0x00 byte
        let request = proto::ListClaimsRequest {
            page_size: 0,
            claimant: "Putin".into(),
            ..Default::default()
        };
        let mut bytes = request.encode_to_vec();
        bytes.extend([0x08, 0x00, 0x22, 0x00]);
        assert!(memchr::memchr(0, &bytes).is_some());
        assert_eq!(
            SCHEMA.nul_in_text("factcheck.v1.ListClaimsRequest", &bytes),
            None
        );
    }

    #[test]
    fn well_known_types_are_walked_too() {
        let request = proto::UpdateClaimRequest {
            claim: Some(proto::Claim::default()),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["statement".into(), "x\0".into()],
            }),
        };
        assert_eq!(nul_field(&request).as_deref(), Some("update_mask.paths[1]"));
    }
}
