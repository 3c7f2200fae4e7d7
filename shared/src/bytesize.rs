//! Byte sizes as people type them on a command line: `1048576`, `500M`, `2G`, `1.5Gi`, `512Ki`,
//! `10MB`, `2 GiB`.
//!
//! One parser for both programs, so `--log-bytes` and `--max-entry-size` accept the same text.
//! It takes what kubectl users write for memory quantities (`Ki`, `Mi`, `Gi`, `Ti` binary; `k`,
//! `M`, `G`, `T` decimal; decimals such as `1.5Gi`) and what disks and `ls -h` print (`KB`,
//! `MB`, `KiB`, `MiB`, upper or lower case). Unlike a Kubernetes quantity, `m` means mega here: a
//! byte count has no milli, and `500m` typed on a command line means 500 megabytes.

use thiserror::Error;

/// Why a text is not a byte size.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ByteSizeError {
    /// Nothing before the unit is a number (`MB`, `lots`, `-3M`).
    #[error("`{0}` is not a size: it must start with a number (e.g. 500M, 1.5Gi, 512Ki)")]
    NotANumber(String),
    /// The unit is not one of the known ones.
    #[error("`{text}` has an unknown unit `{unit}`: use B, K, M, G, T (decimal) or Ki, Mi, Gi, Ti (binary)")]
    UnknownUnit {
        /// The whole text.
        text: String,
        /// The unit as written.
        unit: String,
    },
    /// The size does not fit in 64 bits.
    #[error("`{0}` is too large")]
    TooLarge(String),
}

/// Parses a byte size; a fractional result is rounded down to whole bytes (`1.5K` is 1500).
pub fn parse(text: &str) -> Result<u64, ByteSizeError> {
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(ByteSizeError::NotANumber(trimmed.to_owned()));
    }
    let factor = factor(unit.trim()).ok_or_else(|| ByteSizeError::UnknownUnit {
        text: trimmed.to_owned(),
        unit: unit.trim().to_owned(),
    })?;
    // Whole numbers are exact: no detour through floating point for `18446744073709551615`.
    if let Ok(whole) = number.parse::<u64>() {
        return whole.checked_mul(factor).ok_or_else(|| ByteSizeError::TooLarge(trimmed.to_owned()));
    }
    let value: f64 = number.parse().map_err(|_| ByteSizeError::NotANumber(trimmed.to_owned()))?;
    let bytes = (value * factor as f64).floor();
    // `u64::MAX as f64` rounds up to 2^64, so `<` keeps the cast in range.
    if bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64 {
        Ok(bytes as u64)
    } else {
        Err(ByteSizeError::TooLarge(trimmed.to_owned()))
    }
}

fn factor(unit: &str) -> Option<u64> {
    const K: u64 = 1_000;
    const KI: u64 = 1 << 10;
    // Case does not matter except in the binary suffixes' `i`, which is accepted either way too.
    let factor = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => K,
        "m" | "mb" => K.pow(2),
        "g" | "gb" => K.pow(3),
        "t" | "tb" => K.pow(4),
        "ki" | "kib" => KI,
        "mi" | "mib" => KI.pow(2),
        "gi" | "gib" => KI.pow(3),
        "ti" | "tib" => KI.pow(4),
        _ => return None,
    };
    Some(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_kubectl_users_type() {
        assert_eq!(parse("500M"), Ok(500_000_000));
        assert_eq!(parse("1.5Gi"), Ok(3 << 29));
        assert_eq!(parse("2G"), Ok(2_000_000_000));
        assert_eq!(parse("512Ki"), Ok(512 << 10));
        assert_eq!(parse("2Mi"), Ok(2 << 20));
        assert_eq!(parse("500K"), Ok(500_000));
        assert_eq!(parse("500k"), Ok(500_000));
    }

    #[test]
    fn what_disks_and_people_print() {
        assert_eq!(parse("1048576"), Ok(1 << 20));
        assert_eq!(parse("10MB"), Ok(10_000_000));
        assert_eq!(parse("2 GiB"), Ok(2 << 30));
        assert_eq!(parse(" 512kib "), Ok(512 << 10));
        assert_eq!(parse("500m"), Ok(500_000_000), "m is mega for a byte count, not milli");
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("1.5K"), Ok(1500));
        assert_eq!(parse("0.5"), Ok(0), "fractions of a byte round down");
    }

    #[test]
    fn garbage_is_refused_with_the_reason() {
        assert_eq!(parse("MB"), Err(ByteSizeError::NotANumber("MB".to_owned())));
        assert_eq!(parse(""), Err(ByteSizeError::NotANumber(String::new())));
        assert_eq!(parse("-3M"), Err(ByteSizeError::NotANumber("-3M".to_owned())));
        assert!(matches!(parse("12X"), Err(ByteSizeError::UnknownUnit { unit, .. }) if unit == "X"));
        assert!(matches!(parse("3 parsecs"), Err(ByteSizeError::UnknownUnit { .. })));
        assert_eq!(parse("1..5M"), Err(ByteSizeError::NotANumber("1..5M".to_owned())));
        assert_eq!(parse(".5M"), Err(ByteSizeError::NotANumber(".5M".to_owned())));
        assert_eq!(
            parse("99999999999999999999Gi"),
            Err(ByteSizeError::TooLarge("99999999999999999999Gi".to_owned()))
        );
        assert_eq!(parse("20000000000000Ti"), Err(ByteSizeError::TooLarge("20000000000000Ti".to_owned())));
        assert_eq!(parse("18446744073709551615"), Ok(u64::MAX));
        assert!(parse("1e3").is_err(), "exponents are not a size people type");
    }
}
