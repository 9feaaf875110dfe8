//! API keys and roles: who may call what.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::names::ApiKeyName;

/// What a caller may do. Roles are ordered: each includes every role before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads everything.
    Reader,
    /// Also registers articles and claims.
    Submitter,
    /// Also gives verdicts.
    Reviewer,
    /// Also manages keys.
    Admin,
}

impl Role {
    /// The name stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Submitter => "submitter",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    /// The role a name stands for.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "reader" => Ok(Role::Reader),
            "submitter" => Ok(Role::Submitter),
            "reviewer" => Ok(Role::Reviewer),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "{other:?} is not a role; the roles are reader, submitter, reviewer and admin"
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every secret starts with, so that a leaked one is recognisable in logs and scanners.
const SECRET_PREFIX: &str = "crk_";

/// A key's secret. It exists in clear only between its creation and the moment it is shown to
/// its holder; the registry keeps its SHA-256 alone. `Debug` never prints it.
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// A new secret: 256 bits from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        ApiKeySecret(format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The SHA-256 of a presented secret, which is how keys are looked up. A plain hash is
    /// enough: the secrets are random, not passwords, so there is nothing to guess.
    pub fn hash_of(presented: &str) -> [u8; 32] {
        Sha256::digest(presented.as_bytes()).into()
    }

    /// This secret's hash.
    pub fn sha256(&self) -> [u8; 32] {
        Self::hash_of(&self.0)
    }

    /// The first characters, enough to tell keys apart in listings.
    pub fn prefix(&self) -> String {
        self.0.chars().take(SECRET_PREFIX.len() + 6).collect()
    }

    /// The secret itself, to show its holder once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeySecret({}…)", self.prefix())
    }
}

/// A key to create: its holder's name and its role.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// A unique label for the holder.
    pub display_name: String,
    /// What it may do.
    pub role: Role,
}

impl NewApiKey {
    /// The longest display name accepted.
    pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

    /// Checks a display name: 1 to 100 characters of letters, digits, and `.`, `_`, `-`, `@`,
    /// so that it reads cleanly wherever it is recorded as a reviewer.
    pub fn parse_display_name(value: &str) -> Result<String, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("is required".into());
        }
        if value.chars().count() > Self::MAX_DISPLAY_NAME_CHARS {
            return Err(format!(
                "is longer than {} characters",
                Self::MAX_DISPLAY_NAME_CHARS
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')))
        {
            return Err(format!(
                "may hold only letters, digits, '.', '_', '-' and '@', not {c:?}"
            ));
        }
        Ok(value.to_owned())
    }
}

/// A stored key, without its secret.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// Its resource name.
    pub name: ApiKeyName,
    /// Its holder's label.
    pub display_name: String,
    /// What it may do.
    pub role: Role,
    /// The secret's first characters.
    pub secret_prefix: String,
    /// When it was created.
    pub create_time: OffsetDateTime,
    /// When it was revoked, if it was.
    pub revoke_time: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_from_reader_to_admin() {
        assert!(Role::Reader < Role::Submitter);
        assert!(Role::Submitter < Role::Reviewer);
        assert!(Role::Reviewer < Role::Admin);
        assert_eq!(Role::parse("reviewer").unwrap(), Role::Reviewer);
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn a_secret_is_random_and_its_debug_form_hides_it() {
        let a = ApiKeySecret::generate();
        let b = ApiKeySecret::generate();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("crk_"));
        assert_eq!(a.sha256(), ApiKeySecret::hash_of(a.expose()));
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn display_names_refuse_spaces_and_control_characters() {
        assert!(NewApiKey::parse_display_name("ingest-service").is_ok());
        assert!(NewApiKey::parse_display_name("two words").is_err());
        assert!(NewApiKey::parse_display_name("a\nb").is_err());
    }
}
