//! Kubernetes resource quantities (`250m`, `1Gi`, `1.5`, `2e3`) as numbers.

/// CPU in millicores from a quantity string (`250m` → 250, `2` → 2000).
pub fn cpu_millicores(quantity: &str) -> Option<f64> {
    parse(quantity).map(|cores| cores * 1000.0)
}

/// Bytes from a quantity string (`1Gi`, `512Mi`, `1G`, `1000`).
pub fn bytes(quantity: &str) -> Option<f64> {
    parse(quantity)
}

/// A quantity as a plain number in base units.
pub fn parse(quantity: &str) -> Option<f64> {
    let quantity = quantity.trim();
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(number) = quantity.strip_suffix(suffix) {
            return number.parse::<f64>().ok().filter(|n| n.is_finite()).map(|n| n * factor);
        }
    }
    quantity.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_quantities() {
        assert_eq!(cpu_millicores("250m"), Some(250.0));
        assert_eq!(cpu_millicores("2"), Some(2000.0));
        assert_eq!(cpu_millicores("487558164n").map(f64::round), Some(488.0));
        assert_eq!(bytes("1Gi"), Some(1_073_741_824.0));
        assert_eq!(bytes("732212Ki"), Some(732_212.0 * 1024.0));
        assert_eq!(bytes("1e3"), Some(1000.0));
        assert_eq!(bytes("lots"), None);
    }
}
