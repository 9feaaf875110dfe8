//! Claim search: has this been checked before?

pub mod lexical;
pub mod model;
pub mod text;
pub mod vectors;

/// A claim's key in the search indexes: 128 bits, so the service keys by UUID
/// (`Uuid::as_u128`) and the offline command by line number.
pub type Key = u128;
