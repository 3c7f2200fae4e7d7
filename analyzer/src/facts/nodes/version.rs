//! Kubernetes version strings (`v1.28.3`, `v1.24.4+k3s1`, `v1.27.8-eks-8cb36c9`) as the
//! (major, minor) pair the skew policy and API deprecations are written in.

/// `(major, minor)` of a `gitVersion`; `None` when it is not `v<major>.<minor>...`.
pub(crate) fn minor(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
    Some((major, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_distribution_versions() {
        assert_eq!(minor("v1.28.3"), Some((1, 28)));
        assert_eq!(minor("v1.24.4+k3s1"), Some((1, 24)));
        assert_eq!(minor("v1.27.8-eks-8cb36c9"), Some((1, 27)));
        assert_eq!(minor("1.30"), Some((1, 30)));
        assert_eq!(minor("v1.31+"), Some((1, 31)));
        assert_eq!(minor("unknown"), None);
    }
}
