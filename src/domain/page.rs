//! Pagination: page sizes and the opaque tokens that continue a listing.
//!
//! Lists are ordered by id, newest first; ids are UUIDv7, which sort by creation time. A token
//! holds the last id served, so the next page starts strictly after it: rows inserted meanwhile
//! are newer and land before the first page, never in the middle, and nothing is served twice or
//! skipped. The token also holds a fingerprint of the request's filters, so that a token is not
//! reused with other filters.
//!
//! A listing in another order (claims in an article's text order) pages by its sort key and the
//! id together: the token then also carries the last row's sort key, and its fingerprint covers
//! the order as well as the filters, so a token from one order is refused for another. Tokens
//! without a sort key are laid out exactly as before, so tokens handed out earlier still work.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How many rows a page holds when the client does not say.
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// The most rows a page holds; larger requests are lowered to it.
pub const MAX_PAGE_SIZE: i64 = 500;

/// A checked page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(i64);

impl PageSize {
    /// 0 means the default; negative sizes are refused; sizes over the maximum are lowered.
    pub fn parse(value: i32) -> Result<Self, String> {
        match i64::from(value) {
            v if v < 0 => Err(format!("must not be negative, not {value}")),
            0 => Ok(PageSize(DEFAULT_PAGE_SIZE)),
            v => Ok(PageSize(v.min(MAX_PAGE_SIZE))),
        }
    }

    /// The size as a SQL limit.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// The bytes of a token without a sort key: the id, then the fingerprint.
const PLAIN_LEN: usize = 24;
/// The bytes of a token with a sort key: a plain token, then the key (big-endian).
const KEYED_LEN: usize = PLAIN_LEN + 8;

/// Where a listing stands: the last row served, by its id and, in orders other than by id, the
/// sort key it was served at. The next page starts strictly after it in the listing's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last row's id: the order itself, or the tie-break within equal sort keys.
    pub id: Uuid,
    /// The last row's sort key, for orders that have one.
    pub key: Option<i64>,
}

/// Where a listing goes on: after which row, for which filters and order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageToken {
    /// The last id served; the next page starts after it.
    pub after: Uuid,
    /// The sort key of the last row served, in orders other than by id.
    pub key: Option<i64>,
    filters: [u8; 8],
}

impl PageToken {
    /// The token that continues a listing with these filters after `after`.
    pub fn new(after: Uuid, filters: &str) -> Self {
        PageToken {
            after,
            key: None,
            filters: fingerprint(filters),
        }
    }

    /// The token that continues a listing after `cursor`; `listing` describes the request's
    /// filters and its order, the same way as when the token is parsed.
    pub fn at(cursor: Cursor, listing: &str) -> Self {
        PageToken {
            after: cursor.id,
            key: cursor.key,
            filters: fingerprint(listing),
        }
    }

    /// Where the listing goes on.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            id: self.after,
            key: self.key,
        }
    }

    /// Parses a client's token; empty means the first page. `filters` describes the request's
    /// filters the same way as when the token was made.
    pub fn parse(token: &str, filters: &str) -> Result<Option<Self>, String> {
        if token.is_empty() {
            return Ok(None);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .filter(|b| b.len() == PLAIN_LEN || b.len() == KEYED_LEN)
            .ok_or("is not a page token this service handed out")?;
        let after = Uuid::from_slice(&bytes[..16]).map_err(|e| e.to_string())?;
        let key = bytes
            .get(PLAIN_LEN..)
            .and_then(|key| <[u8; 8]>::try_from(key).ok())
            .map(i64::from_be_bytes);
        let token = PageToken {
            after,
            key,
            filters: bytes[16..PLAIN_LEN]
                .try_into()
                .map_err(|_| "is malformed")?,
        };
        if token.filters != fingerprint(filters) {
            return Err("was handed out for a request with other filters".into());
        }
        Ok(Some(token))
    }

    /// The token as the client sees it.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(KEYED_LEN);
        bytes.extend_from_slice(self.after.as_bytes());
        bytes.extend_from_slice(&self.filters);
        if let Some(key) = self.key {
            bytes.extend_from_slice(&key.to_be_bytes());
        }
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

fn fingerprint(filters: &str) -> [u8; 8] {
    let digest = Sha256::digest(filters.as_bytes());
    digest[..8]
        .try_into()
        .expect("a SHA-256 digest is 32 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_cap_and_refuse_negatives() {
        assert_eq!(PageSize::parse(0).unwrap().get(), DEFAULT_PAGE_SIZE);
        assert_eq!(PageSize::parse(10_000).unwrap().get(), MAX_PAGE_SIZE);
        assert_eq!(PageSize::parse(7).unwrap().get(), 7);
        assert!(PageSize::parse(-1).is_err());
    }

    #[test]
    fn a_token_round_trips_only_with_the_same_filters() {
        let token = PageToken::new(Uuid::now_v7(), "claimant=Putin");
        let parsed = PageToken::parse(&token.encode(), "claimant=Putin").unwrap();
        assert_eq!(parsed, Some(token));
        assert!(PageToken::parse(&token.encode(), "claimant=Biden").is_err());
        assert!(PageToken::parse("garbage", "").is_err());
        assert_eq!(PageToken::parse("", "").unwrap(), None);
    }

    #[test]
    fn a_token_with_a_sort_key_round_trips_and_one_without_keeps_its_old_layout() {
        let cursor = Cursor {
            id: Uuid::now_v7(),
            key: Some(1_234_567),
        };
        let token = PageToken::at(cursor, "article order_by=text_position");
        let parsed = PageToken::parse(&token.encode(), "article order_by=text_position")
            .unwrap()
            .unwrap();
        assert_eq!(parsed.cursor(), cursor);
        assert!(PageToken::parse(&token.encode(), "article").is_err());
        // a token made before sort keys existed: 16 bytes of id, 8 of fingerprint
        let id = Uuid::now_v7();
        let mut old = id.as_bytes().to_vec();
        old.extend_from_slice(&fingerprint("claimant=Putin"));
        let old = URL_SAFE_NO_PAD.encode(old);
        assert_eq!(PageToken::new(id, "claimant=Putin").encode(), old);
        let parsed = PageToken::parse(&old, "claimant=Putin").unwrap().unwrap();
        assert_eq!(parsed.cursor(), Cursor { id, key: None });
    }
}
