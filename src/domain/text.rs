//! Checks shared by every free-text field and by timestamps.

use time::OffsetDateTime;

/// A required single-value text field: trimmed, not empty, at most `max_chars` code points.
pub fn required_text(value: &str, max_chars: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("is required".into());
    }
    optional_text(value, max_chars)
}

/// An optional text field: trimmed, at most `max_chars` code points; empty is allowed.
pub fn optional_text(value: &str, max_chars: usize) -> Result<String, String> {
    let value = value.trim();
    storable(value)?;
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(format!(
            "is {chars} characters long; at most {max_chars} are allowed"
        ));
    }
    Ok(value.to_owned())
}

/// PostgreSQL's text type cannot hold the NUL character, so it is refused up front.
pub(crate) fn storable(value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err("contains a NUL character, which cannot be stored".into());
    }
    Ok(())
}

/// A protobuf timestamp as a point in time, refusing nanos out of range and years past 9999.
pub fn timestamp(seconds: i64, nanos: i32) -> Result<OffsetDateTime, String> {
    if !(0..1_000_000_000).contains(&nanos) {
        return Err(format!("nanos must be in 0..999999999, not {nanos}"));
    }
    // 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z, the range of google.protobuf.Timestamp
    if !(-62_135_596_800..=253_402_300_799).contains(&seconds) {
        return Err("is outside the years 1 to 9999".into());
    }
    let time = OffsetDateTime::from_unix_timestamp(seconds).map_err(|e| e.to_string())?;
    Ok(time + time::Duration::nanoseconds(nanos.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed_and_must_not_be_blank() {
        assert_eq!(required_text("  Reuters ", 10).unwrap(), "Reuters");
        assert_eq!(required_text("   ", 10).unwrap_err(), "is required");
    }

    #[test]
    fn text_length_is_counted_in_code_points_not_bytes() {
        assert!(required_text("ééééé", 5).is_ok());
        assert!(required_text("éééééé", 5).is_err());
    }

    #[test]
    fn a_nul_character_is_refused() {
        assert!(optional_text("a\0b", 10).unwrap_err().contains("NUL"));
    }

    #[test]
    fn timestamps_out_of_range_are_refused() {
        assert!(timestamp(0, -1).is_err());
        assert!(timestamp(253_402_300_800, 0).is_err());
        assert_eq!(
            timestamp(1, 5).unwrap().unix_timestamp_nanos(),
            1_000_000_005
        );
    }
}
