//! Articles: what a client registers, and what the registry stores and returns.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::names::ArticleName;
use super::text::storable;

/// The largest article body accepted, in UTF-8 bytes. Long-form journalism runs to some
/// 100 KB; a megabyte leaves room for transcripts while bounding what one request can cost.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The longest URL accepted, in characters: what browsers and crawlers handle in practice.
pub const MAX_URL_CHARS: usize = 2048;

/// An absolute http(s) URL, as given and in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl {
    /// The URL as the client wrote it, trimmed.
    pub given: String,
    /// The parsed URL.
    pub parsed: url::Url,
}

impl WebUrl {
    /// Parses an absolute http or https URL with a host.
    pub fn parse(value: &str) -> Result<Self, String> {
        let given = value.trim();
        if given.is_empty() {
            return Err("is required".into());
        }
        if given.chars().count() > MAX_URL_CHARS {
            return Err(format!("is longer than {MAX_URL_CHARS} characters"));
        }
        let parsed = url::Url::parse(given).map_err(|e| format!("is not a valid URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "must be an http or https URL, not {}:",
                parsed.scheme()
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("must name a host".into());
        }
        Ok(WebUrl {
            given: given.to_owned(),
            parsed,
        })
    }
}

/// An article URL in the form duplicate detection compares: two URLs that lead to the same
/// story compare equal. The URL parser already lower-cases scheme and host and drops default
/// ports; this also drops the fragment, tracking parameters and an empty query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalUrl(String);

/// Query parameters that say how a reader arrived, not which page they read.
fn is_tracking_parameter(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_")
        || matches!(
            key.as_str(),
            "fbclid" | "gclid" | "dclid" | "msclkid" | "mc_cid" | "mc_eid" | "igshid" | "ref_src"
        )
}

impl CanonicalUrl {
    /// The canonical form of a URL.
    pub fn of(url: &WebUrl) -> Self {
        let mut url = url.parsed.clone();
        url.set_fragment(None);
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(key, _)| !is_tracking_parameter(key))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else if url.query_pairs().count() != kept.len() {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
        CanonicalUrl(url.into())
    }

    /// The canonical URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A BCP-47 language tag, e.g. `en`, `en-GB`, `pt-BR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageCode(String);

impl LanguageCode {
    /// Parses a well-formed BCP-47 tag.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("is required, as a BCP-47 language tag such as \"en\"".into());
        }
        let tag = language_tags::LanguageTag::parse(value)
            .map_err(|e| format!("is not a BCP-47 language tag ({e}): {value:?}"))?;
        Ok(LanguageCode(tag.as_str().to_owned()))
    }

    /// The tag as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An article's full text. Quote offsets count code points into it, so it is kept exactly as
/// given: not trimmed, not normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleBody {
    text: String,
    chars: usize,
    sha256: [u8; 32],
}

impl ArticleBody {
    /// Accepts a body that is not blank, not larger than [`MAX_BODY_BYTES`], and storable.
    pub fn parse(text: String) -> Result<Self, String> {
        if text.trim().is_empty() {
            return Err("is required".into());
        }
        if text.len() > MAX_BODY_BYTES {
            return Err(format!(
                "is {} bytes long; at most {MAX_BODY_BYTES} bytes are allowed",
                text.len()
            ));
        }
        storable(&text)?;
        let chars = text.chars().count();
        let sha256 = Sha256::digest(text.as_bytes()).into();
        Ok(ArticleBody {
            text,
            chars,
            sha256,
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The length in code points.
    pub fn chars(&self) -> usize {
        self.chars
    }

    /// The SHA-256 of the UTF-8 bytes: with the canonical URL, the article's identity.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }
}

/// An article as a client asks to register it, every field checked.
#[derive(Debug, Clone)]
pub struct NewArticle {
    /// Where the article was published.
    pub url: WebUrl,
    /// The headline.
    pub title: String,
    /// Who published it.
    pub publisher: String,
    /// Who wrote it, in credited order.
    pub authors: Vec<String>,
    /// The body's language.
    pub language: LanguageCode,
    /// When it was published, if known.
    pub publish_time: Option<OffsetDateTime>,
    /// The full text.
    pub body: ArticleBody,
}

/// A stored article.
#[derive(Debug, Clone)]
pub struct Article {
    /// Its resource name.
    pub name: ArticleName,
    /// The URL as given.
    pub url: String,
    /// The URL in canonical form.
    pub canonical_url: String,
    /// The headline.
    pub title: String,
    /// Who published it.
    pub publisher: String,
    /// Who wrote it.
    pub authors: Vec<String>,
    /// The body's BCP-47 language tag.
    pub language_code: String,
    /// When it was published, if known.
    pub publish_time: Option<OffsetDateTime>,
    /// The body, or `None` when it was not loaded (basic view).
    pub body: Option<String>,
    /// The body's length in code points.
    pub body_length: u32,
    /// The body's SHA-256.
    pub body_sha256: Vec<u8>,
    /// When it was registered.
    pub create_time: OffsetDateTime,
    /// Which body of its URL this is: 1 for the first registered, then 2, 3, … for each new
    /// body registered at the same canonical URL (a correction, an update).
    pub revision: u32,
    /// The revision before this one at the same URL, if this is not the first.
    pub previous_revision: Option<ArticleName>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(url: &str) -> String {
        CanonicalUrl::of(&WebUrl::parse(url).unwrap())
            .as_str()
            .to_owned()
    }

    #[test]
    fn the_canonical_url_drops_fragment_tracking_and_default_port() {
        assert_eq!(
            canonical("HTTPS://Example.COM:443/news/story?utm_source=x&id=7#comments"),
            "https://example.com/news/story?id=7"
        );
        assert_eq!(
            canonical("https://example.com/a?utm_medium=m"),
            "https://example.com/a"
        );
    }

    #[test]
    fn the_canonical_url_keeps_meaningful_query_parameters_in_order() {
        assert_eq!(
            canonical("https://example.com/a?b=2&a=1"),
            "https://example.com/a?b=2&a=1"
        );
    }

    #[test]
    fn only_absolute_http_urls_are_accepted() {
        assert!(
            WebUrl::parse("ftp://example.com/a")
                .unwrap_err()
                .contains("http")
        );
        assert!(WebUrl::parse("/relative").is_err());
        assert!(WebUrl::parse("").unwrap_err().contains("required"));
    }

    #[test]
    fn language_codes_must_be_bcp47() {
        assert_eq!(LanguageCode::parse("en-GB").unwrap().as_str(), "en-GB");
        assert!(LanguageCode::parse("english!").is_err());
    }

    #[test]
    fn a_body_is_kept_verbatim_and_measured_in_code_points() {
        let body = ArticleBody::parse("  “Hi,” he said.\n".into()).unwrap();
        assert_eq!(body.as_str(), "  “Hi,” he said.\n");
        assert_eq!(body.chars(), 17);
    }

    #[test]
    fn a_body_over_the_size_limit_is_refused() {
        let err = ArticleBody::parse("a".repeat(MAX_BODY_BYTES + 1)).unwrap_err();
        assert!(err.contains("at most"), "{err}");
    }
}
