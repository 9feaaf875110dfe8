//! Resource names in the style of Google's API Improvement Proposals: `articles/{id}`,
//! `claims/{id}`, `claims/{id}/verdicts/{id}`, `apiKeys/{id}`. Ids are UUIDs.

use std::fmt;

use uuid::Uuid;

/// A resource name: what type of resource it names, so that an error about it can say.
pub trait Resource: fmt::Display {
    /// The resource's protobuf message, e.g. `factcheck.v1.Claim`.
    const TYPE: &'static str;
}

/// Parses `{collection}/{uuid}`, naming the expected form when it does not match.
fn parse_id(name: &str, collection: &str) -> Result<Uuid, String> {
    if name.is_empty() {
        return Err(format!("is required, as {collection}/{{id}}"));
    }
    name.strip_prefix(collection)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|id| Uuid::try_parse(id).ok())
        .ok_or_else(|| {
            format!("must be a resource name {collection}/{{id}} with a UUID id, not {name:?}")
        })
}

macro_rules! resource_name {
    ($(#[$doc:meta])* $name:ident, $collection:literal, $type:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The collection segment of the name.
            pub const COLLECTION: &'static str = $collection;

            /// Parses a resource name of this collection.
            pub fn parse(name: &str) -> Result<Self, String> {
                parse_id(name, $collection).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($collection, "/{}"), self.0)
            }
        }

        impl Resource for $name {
            const TYPE: &'static str = $type;
        }
    };
}

resource_name!(
    /// The name of an article, `articles/{id}`.
    ArticleName,
    "articles",
    "factcheck.v1.Article"
);
resource_name!(
    /// The name of a claim, `claims/{id}`.
    ClaimName,
    "claims",
    "factcheck.v1.Claim"
);
resource_name!(
    /// The name of an API key, `apiKeys/{id}`.
    ApiKeyName,
    "apiKeys",
    "factcheck.v1.ApiKey"
);

/// The name of a verdict, `claims/{claim_id}/verdicts/{verdict_id}`: verdicts live under their
/// claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerdictName {
    /// The claim the verdict judges.
    pub claim: ClaimName,
    /// The verdict's own id.
    pub id: Uuid,
}

/// Parses `claims/{claim_id}/{collection}/{id}`, a resource under a claim, naming the expected
/// form (`form`) when it does not match.
fn parse_under_claim(
    name: &str,
    collection: &str,
    form: &str,
) -> Result<(ClaimName, Uuid), String> {
    if name.is_empty() {
        return Err(format!("is required, as {form}"));
    }
    let refuse = || format!("must be a resource name {form} with UUID ids, not {name:?}");
    let (claim, id) = name
        .split_once(&format!("/{collection}/"))
        .ok_or_else(refuse)?;
    let claim = ClaimName::parse(claim).map_err(|_| refuse())?;
    let id = Uuid::try_parse(id).map_err(|_| refuse())?;
    Ok((claim, id))
}

impl VerdictName {
    /// Parses `claims/{id}/verdicts/{id}`.
    pub fn parse(name: &str) -> Result<Self, String> {
        let (claim, id) =
            parse_under_claim(name, "verdicts", "claims/{claim_id}/verdicts/{verdict_id}")?;
        Ok(VerdictName { claim, id })
    }
}

impl fmt::Display for VerdictName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/verdicts/{}", self.claim, self.id)
    }
}

impl Resource for VerdictName {
    const TYPE: &'static str = "factcheck.v1.Verdict";
}

/// The name of a link from a claim to an earlier one that says the same,
/// `claims/{claim_id}/matches/{matched_claim_id}`: links live under the later claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimMatchName {
    /// The later claim.
    pub claim: ClaimName,
    /// The earlier claim it says the same as.
    pub matched: ClaimName,
}

impl ClaimMatchName {
    /// Parses `claims/{id}/matches/{id}`.
    pub fn parse(name: &str) -> Result<Self, String> {
        let (claim, matched) = parse_under_claim(
            name,
            "matches",
            "claims/{claim_id}/matches/{matched_claim_id}",
        )?;
        Ok(ClaimMatchName {
            claim,
            matched: ClaimName(matched),
        })
    }
}

impl fmt::Display for ClaimMatchName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/matches/{}", self.claim, self.matched.0)
    }
}

impl Resource for ClaimMatchName {
    const TYPE: &'static str = "factcheck.v1.ClaimMatch";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_round_trips_through_display_and_parse() {
        let name = ClaimName(Uuid::now_v7());
        assert_eq!(ClaimName::parse(&name.to_string()).unwrap(), name);
    }

    #[test]
    fn a_match_name_round_trips_and_names_its_form_when_malformed() {
        let name = ClaimMatchName {
            claim: ClaimName(Uuid::now_v7()),
            matched: ClaimName(Uuid::now_v7()),
        };
        assert_eq!(ClaimMatchName::parse(&name.to_string()).unwrap(), name);
        let err = ClaimMatchName::parse(&format!("claims/{}/verdicts/x", name.claim.0));
        assert!(err.unwrap_err().contains("matches/{matched_claim_id}"));
    }

    #[test]
    fn a_name_of_another_collection_is_refused() {
        let id = Uuid::now_v7();
        let err = ArticleName::parse(&format!("claims/{id}")).unwrap_err();
        assert!(err.contains("articles/{id}"), "{err}");
        assert!(ArticleName::parse("articles/not-a-uuid").is_err());
        assert!(ArticleName::parse("").unwrap_err().contains("required"));
    }
}
