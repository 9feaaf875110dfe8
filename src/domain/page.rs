//! Pagination: page sizes and the opaque tokens that continue a listing.
//!
//! Lists are ordered by id, newest first; ids are UUIDv7, which sort by creation time. A token
//! holds the last id served, so the next page starts strictly after it: rows inserted meanwhile
//! are newer and land before the first page, never in the middle, and nothing is served twice or
//! skipped. The token also holds a fingerprint of the request's filters, so that a token is not
//! reused with other filters.

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

/// Where a listing goes on: after which id, for which filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageToken {
    /// The last id served; the next page starts after it.
    pub after: Uuid,
    filters: [u8; 8],
}

impl PageToken {
    /// The token that continues a listing with these filters after `after`.
    pub fn new(after: Uuid, filters: &str) -> Self {
        PageToken {
            after,
            filters: fingerprint(filters),
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
            .filter(|b| b.len() == 24)
            .ok_or("is not a page token this service handed out")?;
        let after = Uuid::from_slice(&bytes[..16]).map_err(|e| e.to_string())?;
        let token = PageToken {
            after,
            filters: bytes[16..].try_into().map_err(|_| "is malformed")?,
        };
        if token.filters != fingerprint(filters) {
            return Err("was handed out for a request with other filters".into());
        }
        Ok(Some(token))
    }

    /// The token as the client sees it.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(24);
        bytes.extend_from_slice(self.after.as_bytes());
        bytes.extend_from_slice(&self.filters);
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
}
