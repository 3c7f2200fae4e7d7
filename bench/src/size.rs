//! Byte sizes on the command line: `200MB`, `2GB`, `512KiB`, `1048576`.

/// Parses a size: a whole number with an optional unit. `KB`/`MB`/`GB` are decimal (as disks
/// and the brief's "2 GB of logs" count), `KiB`/`MiB`/`GiB` binary; case does not matter.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("`{text}` does not start with a whole number"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}` (use B, KB, MB, GB, KiB, MiB or GiB)")),
    };
    number.checked_mul(multiplier).ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_decimal_or_binary_as_written() {
        assert_eq!(parse_size("200MB"), Ok(200_000_000));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("2 gib"), Ok(2 << 30));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1234"), Ok(1234));
    }

    #[test]
    fn garbage_is_refused_with_the_reason() {
        assert!(parse_size("MB").is_err_and(|e| e.contains("whole number")));
        assert!(parse_size("3 parsecs").is_err_and(|e| e.contains("unknown size unit")));
        assert!(parse_size("99999999999999GB").is_err_and(|e| e.contains("too large")));
    }
}
