//! Whether a key name (an env var, a YAML or JSON key, a CLI flag, a query parameter) names a
//! secret, and whether the value found under it can be one.
//!
//! A key is split into lower-case words (`DB_PASSWORD`, `dbPassword`, `db-password` and
//! `db.password` all give `db password`) so that the knobs *about* a secret
//! (`PASSWORD_HASH_ALGO`, `tokenTTL`, `secretName`, `existingSecret`) can be told from the secret
//! itself by their last or first word.

/// How strongly a key name says that its value is a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyClass {
    /// Not a secret's name.
    Plain,
    /// Often a secret, often a setting (`auth`, `session`, `STRIPE_KEY`, `sig`): only a value that
    /// looks generated is redacted.
    Weak,
    /// Names a secret (`DB_PASSWORD`, `api_key`, `client-key-data`): any value that is not a
    /// placeholder, a boolean, a number or a path is redacted.
    Strong,
}

/// Pieces whose presence anywhere in the joined lower-case key makes it a secret's name.
/// `pgpassword`, `identitytoken` and `clientsecret` contain them without a word boundary.
pub(crate) const STRONG_PIECES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "credential",
    "apikey",
    "privatekey",
    "accesskey",
    "secretkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "clientkey",
    "authkey",
    "sharedkey",
    "accountkey",
    "licensekey",
    "servicekey",
    "webhookkey",
    "requirepass",
    "masterauth",
    "storepass",
    "keypass",
    "dockerconfigjson",
    "dockercfg",
    "authorization",
];

/// Whole words that make a key a secret's name (`ADMIN_PASS`, `LDAP_BIND_PW`, `AUTH_SALT`).
const STRONG_WORDS: &[&str] =
    &["pass", "pwd", "pw", "creds", "salt", "pepper", "psk", "bearer", "jwt", "hmac"];

/// Whole words that make a key possibly a secret's name.
const WEAK_WORDS: &[&str] = &["auth", "session", "sessionid", "cookie", "signature"];

/// Words that, next to the word `key`, say the key is a private or shared key file or value
/// (`tls.key`, `ca.key`, `id_rsa`, `ssh-privatekey`).
const KEY_QUALIFIERS: &[&str] = &[
    "tls",
    "ssl",
    "private",
    "priv",
    "client",
    "server",
    "rsa",
    "dsa",
    "ec",
    "ecdsa",
    "ed25519",
    "ssh",
    "ca",
    "root",
    "gpg",
    "pgp",
    "sops",
    "age",
    "aes",
    "hmac",
    "jwt",
    "cookie",
    "session",
    "crypt",
    "cipher",
    "decryption",
];

/// Public material that shares words with secrets (`client-certificate-data`,
/// `discovery-token-ca-cert-hash`, `id_rsa.pub`).
const PUBLIC_WORDS: &[&str] = &[
    "cert",
    "certs",
    "certificate",
    "certificates",
    "crt",
    "cacert",
    "pub",
    "public",
    "publickey",
    "fingerprint",
];

/// A last word that says the value is about a secret, not the secret: a reference, a file, a
/// setting (`secretName`, `TOKEN_FILE`, `PASSWORD_HASH_ALGO`, `token_ttl`).
const REFERENCE_LAST: &[&str] = &[
    "name",
    "names",
    "ref",
    "refs",
    "reference",
    "file",
    "files",
    "filename",
    "filepath",
    "path",
    "paths",
    "dir",
    "directory",
    "folder",
    "url",
    "uri",
    "urls",
    "link",
    "endpoint",
    "endpoints",
    "host",
    "hosts",
    "hostname",
    "server",
    "servers",
    "addr",
    "address",
    "port",
    "type",
    "types",
    "kind",
    "algo",
    "algorithm",
    "algorithms",
    "alg",
    "length",
    "len",
    "size",
    "bits",
    "ttl",
    "expiry",
    "expiration",
    "expires",
    "expire",
    "lifetime",
    "timeout",
    "interval",
    "duration",
    "period",
    "seconds",
    "minutes",
    "hours",
    "days",
    "policy",
    "policies",
    "mode",
    "enabled",
    "enable",
    "disabled",
    "disable",
    "required",
    "require",
    "header",
    "field",
    "fields",
    "property",
    "prefix",
    "suffix",
    "format",
    "version",
    "id",
    "ids",
    "count",
    "max",
    "min",
    "limit",
    "rotation",
    "namespace",
    "mount",
    "selector",
    "location",
    "source",
    "provider",
    "store",
    "label",
    "labels",
    "annotation",
    "annotations",
    "var",
    "variable",
    "user",
    "username",
    "login",
    "email",
    "owner",
    "issuer",
    "audience",
    "aud",
    "scope",
    "scopes",
    "usage",
    "hint",
    "regex",
    "pattern",
    "template",
    "strategy",
    "method",
    "scheme",
    "encoding",
    "backend",
    "driver",
    "class",
    "rounds",
    "iterations",
    "cost",
    "complexity",
    "strength",
    "attempts",
    "retries",
    "history",
    "generation",
    "status",
    "state",
    "phase",
    "ready",
    "exists",
    "keys",
    "secrets",
    "tokens",
    "passwords",
    "credentials",
    "vault",
    "manager",
    "index",
    "mapping",
    "prompt",
    "message",
    "msg",
    "description",
    "help",
    "storage",
    "cache",
    "volume",
    "configmap",
    "parameter",
    "parameters",
    "request",
    "response",
    "reviewer",
    "review",
    "authority",
    "authenticator",
    "lookup",
    "refresh",
    "renew",
    "rotate",
    "kms",
    "env",
    "checksum",
    "checksums",
    "hash",
    "digest",
    "algorithm",
    "alg",
    "cipher",
    "hasher",
    "encoder",
];

/// A first word that says the key is a switch or a reference (`existingSecret`,
/// `enable_token_auth`, `useSecret`).
const REFERENCE_FIRST: &[&str] = &[
    "existing",
    "use",
    "enable",
    "disable",
    "allow",
    "require",
    "skip",
    "insecure",
    "generate",
    "auto",
    "show",
    "hide",
    "mask",
    "validate",
    "verify",
    "min",
    "max",
    "num",
    "no",
    "is",
    "has",
    "should",
    "must",
    "create",
    "automount",
    "mount",
    "rotate",
    "external",
    "checksum",
];

/// Kinds of characters in a value, for [`looks_generated`].
#[derive(Debug, Default, Clone, Copy)]
struct CharClasses {
    lower: usize,
    upper: usize,
    digit: usize,
    symbol: usize,
    space: usize,
}

fn char_classes(value: &str) -> CharClasses {
    let mut classes = CharClasses::default();
    for c in value.chars() {
        if c.is_ascii_lowercase() {
            classes.lower += 1;
        } else if c.is_ascii_uppercase() {
            classes.upper += 1;
        } else if c.is_ascii_digit() {
            classes.digit += 1;
        } else if c.is_whitespace() {
            classes.space += 1;
        } else {
            classes.symbol += 1;
        }
    }
    classes
}

/// Splits a key into lower-case words on punctuation and camel-case humps:
/// `AWS_SECRET_ACCESS_KEY`, `awsSecretAccessKey` and `X-API-Key` all split on their words.
pub(crate) fn words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && !current.is_empty()
            && (prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(char::is_uppercase) && next.is_some_and(char::is_lowercase)));
        if boundary {
            words.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Classifies a key name.
pub(crate) fn classify(key: &str) -> KeyClass {
    let key = key.trim_start_matches(['-', '.', '_', '$', '@']);
    let words = words(key);
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return KeyClass::Plain;
    };
    let joined = words.concat();
    let has = |list: &[&str]| words.iter().any(|word| list.contains(&word.as_str()));
    let private_key_file =
        matches!(joined.as_str(), "idrsa" | "iddsa" | "idecdsa" | "ided25519" | "sshprivatekey")
            || (last == "key" && words.len() > 1 && has(KEY_QUALIFIERS));
    if has(PUBLIC_WORDS) {
        return KeyClass::Plain;
    }
    if private_key_file {
        return KeyClass::Strong;
    }
    if REFERENCE_LAST.contains(&last.as_str())
        || (words.len() > 1 && REFERENCE_FIRST.contains(&first.as_str()))
    {
        return KeyClass::Plain;
    }
    if STRONG_PIECES.iter().any(|piece| joined.contains(piece)) || has(STRONG_WORDS) {
        return KeyClass::Strong;
    }
    if has(WEAK_WORDS) || (last == "key" && words.len() > 1) || joined.ends_with("apikey") {
        return KeyClass::Weak;
    }
    KeyClass::Plain
}

/// Literal pieces (lower case) one of which every non-plain key contains: the text prefilter
/// is built from them, so it cannot drift from [`classify`].
pub(crate) fn key_triggers() -> Vec<&'static str> {
    let mut triggers: Vec<&'static str> = Vec::new();
    triggers.extend(STRONG_PIECES);
    triggers.extend(STRONG_WORDS);
    triggers.extend(WEAK_WORDS);
    // `tls.key`, `STRIPE_KEY`, `id_rsa`: every remaining non-plain key ends in `key` or is an
    // ssh key file name.
    triggers.extend([
        "key",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "idrsa",
        "iddsa",
        "idecdsa",
        "ided25519",
    ]);
    triggers
}

/// A value that stands for another, so is never a secret even when its shape says so: empty,
/// a template or env placeholder, a reference to a secret store, an existing redaction.
pub(crate) fn is_placeholder(value: &str) -> bool {
    let value = value.trim();
    // A value that already holds a marker was redacted before: redacting it again would only
    // hide the words around the marker.
    if value.is_empty()
        || value.contains("<redacted")
        || value.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '#'))
    {
        return true;
    }
    // A shell expansion (`${X}`, `$(cat f)`, `` `cat f` ``) is computed where it runs: not a
    // literal, even when the scanner only saw its start.
    let wrapped = value.starts_with("${")
        || value.starts_with("$(")
        || value.starts_with('`')
        || (value.starts_with("{{") && value.ends_with("}}"))
        || (value.starts_with('<') && value.ends_with('>'))
        || (value.starts_with("%(") && value.ends_with(")s"))
        || matches!(value, "%s" | "%v" | "%q" | "%d" | "?")
        || is_env_reference(value);
    if wrapped {
        return true;
    }
    // References to secret stores rather than secrets (sops ciphertext, Vault, cloud managers).
    const REFERENCE_PREFIXES: &[&str] = &[
        "enc[",
        "vault:",
        "ref+",
        "op://",
        "arn:aws:secretsmanager:",
        "arn:aws:ssm:",
        "azurekeyvault://",
        "sm://",
    ];
    let lower = value.to_ascii_lowercase();
    REFERENCE_PREFIXES.iter().any(|prefix| lower.starts_with(prefix))
}

/// A value that is never a secret, whatever its key: a placeholder, a boolean, a number, a
/// size, a duration, a lower-case file path.
pub(crate) fn is_inert(value: &str) -> bool {
    let value = value.trim();
    if is_placeholder(value) || value.chars().count() <= 1 {
        return true;
    }
    const WORDS: &[&str] = &[
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "null",
        "nil",
        "none",
        "~",
        "enabled",
        "disabled",
        "required",
        "optional",
        "unset",
        "n/a",
        "na",
        "undefined",
        "redacted",
        "[redacted]",
        "(redacted)",
        "[filtered]",
        "[masked]",
        "masked",
        "hidden",
        "\"\"",
        "''",
        "{}",
        "[]",
    ];
    let lower = value.to_ascii_lowercase();
    WORDS.contains(&lower.as_str())
        || is_number_like(value)
        || is_lowercase_path(value)
        || is_algorithm(&lower)
}

/// The name of a hash, cipher or signing algorithm (`password_encryption = scram-sha-256`,
/// `JWT_ALG=RS256`): a setting, not a secret.
fn is_algorithm(lower: &str) -> bool {
    const ALGORITHMS: &[&str] = &[
        "md5",
        "sha1",
        "sha-1",
        "sha224",
        "sha256",
        "sha-256",
        "sha384",
        "sha-384",
        "sha512",
        "sha-512",
        "sha3-256",
        "sha3-512",
        "scram-sha-1",
        "scram-sha-256",
        "scram-sha-512",
        "bcrypt",
        "scrypt",
        "argon2",
        "argon2i",
        "argon2d",
        "argon2id",
        "pbkdf2",
        "pbkdf2_sha256",
        "pbkdf2-sha256",
        "pbkdf2-sha512",
        "sha512-crypt",
        "sha256-crypt",
        "md5-crypt",
        "hs256",
        "hs384",
        "hs512",
        "rs256",
        "rs384",
        "rs512",
        "es256",
        "es384",
        "es512",
        "ps256",
        "ps384",
        "ps512",
        "eddsa",
        "ed25519",
        "rsa",
        "ecdsa",
        "x25519",
        "aes",
        "aes128",
        "aes256",
        "aes-128-gcm",
        "aes-256-gcm",
        "aes-128-cbc",
        "aes-256-cbc",
        "aes-256-ctr",
        "aescbc",
        "aesgcm",
        "secretbox",
        "chacha20-poly1305",
        "xchacha20-poly1305",
        "hmac-sha1",
        "hmac-sha256",
        "hmac-sha384",
        "hmac-sha512",
        "hmacsha256",
        "hmac_sha256",
    ];
    ALGORITHMS.contains(&lower)
}

/// `$NAME` or `$NAME_2`: a shell or Compose variable, not a value.
fn is_env_reference(value: &str) -> bool {
    let Some(name) = value.strip_prefix('$') else { return false };
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A number, a quantity (`500Mi`), a duration (`30s`, `1h30m`) or a size (`953 bytes`).
fn is_number_like(value: &str) -> bool {
    let value = value.strip_suffix(" bytes").unwrap_or(value);
    if let Some(hex) = value.strip_prefix("0x").or_else(|| value.strip_prefix("0X")) {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let digits_end = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .unwrap_or(value.len());
    if digits_end == 0 || !value[..digits_end].chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let unit = &value[digits_end..];
    const UNITS: &[&str] = &[
        "", "ns", "us", "ms", "s", "m", "h", "d", "w", "y", "k", "ki", "mi", "gi", "ti", "pi", "kb", "mb",
        "gb", "tb", "g", "t", "%", "b", "e", "m",
    ];
    // A long run of digits is an id or a PIN-like secret only when it carries letters too;
    // pure digits of any length are left as numbers.
    UNITS.contains(&unit.to_ascii_lowercase().as_str())
        || unit.split(|c: char| c.is_ascii_digit()).all(|part| matches!(part, "" | "h" | "m" | "s" | "ms"))
}

/// `/var/run/secrets/kubernetes.io/serviceaccount/token`: a path in lower case. Generated secrets
/// mix cases, so a mixed-case value that starts with `/` is still treated as a value.
fn is_lowercase_path(value: &str) -> bool {
    let rest = value
        .strip_prefix("file://")
        .or_else(|| value.strip_prefix("~/"))
        .or_else(|| value.strip_prefix("./"))
        .or_else(|| value.strip_prefix("../"))
        .or_else(|| value.strip_prefix('/'));
    let Some(rest) = rest else { return false };
    !rest.is_empty()
        && rest.contains('/')
        && rest
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '/' | '.' | '-' | '_'))
}

/// Whether a value looks machine-generated (a key, a token, a password someone typed with
/// digits or symbols) rather than a word or a setting: the bar for weak keys and weak contexts.
pub(crate) fn looks_generated(value: &str) -> bool {
    let value = value.trim();
    let n_chars = value.chars().count();
    if n_chars < 8 || is_inert(value) {
        return false;
    }
    let classes = char_classes(value);
    if classes.space > 0 {
        return false;
    }
    let letters = classes.lower + classes.upper;
    let n_kinds =
        [classes.lower, classes.upper, classes.digit, classes.symbol].iter().filter(|&&n| n > 0).count();
    (classes.digit > 0 && letters > 0)
        || n_kinds >= 3
        || (n_chars >= 16 && classes.upper > 0 && classes.lower > 0)
        || (classes.symbol >= 3 && classes.symbol * 4 >= n_chars)
}

/// A value shaped like a key name (`postgres-password`, `password`, `tls.key`): what Helm's
/// `existingSecretPasswordKey` and ExternalSecret's `secretKey` hold.
pub(crate) fn is_key_name_value(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty()
        && value.len() <= 63
        && value.chars().all(|c| c.is_ascii_lowercase() || matches!(c, '-' | '_' | '.'))
        && classify(value) != KeyClass::Plain
}

/// A Kubernetes object name (a DNS-1123 subdomain): lower-case letters, digits, `-` and `.`,
/// starting and ending with a letter or digit.
pub(crate) fn is_object_name(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 253
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// An annotation or label key (`nginx.ingress.kubernetes.io/auth-secret`) whose last word is
/// `secret`, holding an object name (or `namespace/name`): by convention such a key names the
/// Secret to use, and the name is no secret.
pub(crate) fn names_a_secret(key_prefix: &str, key: &str, value: &str) -> bool {
    let prefixed = key_prefix.ends_with('/') && key_prefix.trim_end_matches('/').contains('.');
    let last_is_secret = words(key).last().is_some_and(|last| last == "secret");
    let value = value.trim();
    let name = value.split_once('/').map_or(
        value,
        |(namespace, name)| {
            if is_object_name(namespace) { name } else { value }
        },
    );
    prefixed && last_is_secret && is_object_name(name) && name.contains(['-', '.'])
}

/// Whether the value under `key` is to be redacted. `strong_context` is true where the syntax
/// leaves no doubt that `value` is the whole value of `key` (a YAML or env line, a JSON pair, a
/// quoted value, `--flag=value`); in free text the value must also look generated.
pub(crate) fn should_redact(class: KeyClass, key: &str, value: &str, strong_context: bool) -> bool {
    if class == KeyClass::Plain || is_inert(value) {
        return false;
    }
    if let Some((prefix, name)) = key.rsplit_once('/')
        && names_a_secret(&format!("{prefix}/"), name, value)
    {
        return false;
    }
    // `adminPasswordKey: postgres-password` names the key inside a Secret.
    if words(key).last().is_some_and(|last| last == "key") && is_key_name_value(value) {
        return false;
    }
    match class {
        KeyClass::Strong if strong_context => true,
        _ => looks_generated(value),
    }
}

/// [`should_redact`], or, for a user rule with a value pattern, whether the pattern matches (a
/// user who writes `^[0-9]{4}$` means numbers too).
pub(crate) fn redacts(
    class: KeyClass,
    pattern: Option<&regex::Regex>,
    key: &str,
    value: &str,
    strong_context: bool,
) -> bool {
    match pattern {
        Some(pattern) => !is_placeholder(value) && pattern.is_match(value),
        None => should_redact(class, key, value, strong_context),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_case_and_punctuation() {
        assert_eq!(words("AWS_SECRET_ACCESS_KEY"), ["aws", "secret", "access", "key"]);
        assert_eq!(words("awsSecretAccessKey"), ["aws", "secret", "access", "key"]);
        assert_eq!(words("X-API-Key"), ["x", "api", "key"]);
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("client-key-data"), ["client", "key", "data"]);
        assert_eq!(words("tls.key"), ["tls", "key"]);
    }

    #[test]
    fn secret_names_are_strong() {
        for key in [
            "DB_PASSWORD",
            "PGPASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "ADMIN_PASS",
            "LDAP_BIND_PW",
            "bindPassword",
            "SESSION_SECRET",
            "OAUTH_CLIENT_SECRET",
            "api_key",
            "X-Api-Key",
            "ENCRYPTION_KEY",
            "SIGNING_KEY",
            "MASTER_KEY",
            "AUTH_SALT",
            "client-key-data",
            "tls.key",
            "ca.key",
            "id_rsa",
            "ssh-privatekey",
            "private_key",
            "privateKey",
            "token",
            "id-token",
            "identitytoken",
            "_authToken",
            "requirepass",
            "masterauth",
            ".dockerconfigjson",
            "SECRET_KEY_BASE",
            "AccountKey",
            "SharedAccessKey",
            "aws_secret_access_key",
            "Authorization",
            "PRIVATE_TOKEN",
        ] {
            assert_eq!(classify(key), KeyClass::Strong, "{key}");
        }
    }

    #[test]
    fn knobs_and_references_are_plain() {
        for key in [
            "PASSWORD_HASH_ALGO",
            "automountServiceAccountToken",
            "MAX_USERS",
            "USER_AGENT",
            "secretName",
            "existingSecret",
            "secretKeyRef",
            "secretRef",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "token_ttl",
            "tokenTTL",
            "client-certificate-data",
            "certificate-authority-data",
            "discovery-token-ca-cert-hash",
            "key",
            "secretKeys",
            "SharedAccessKeyName",
            "private_key_id",
            "AWS_ACCESS_KEY_ID",
            "oauth_auto_login",
            "disable_login_form",
            "PASSWORD_MIN_LENGTH",
            "token_url",
            "id_rsa.pub",
            "name",
            "value",
        ] {
            assert_eq!(classify(key), KeyClass::Plain, "{key}");
        }
    }

    #[test]
    fn ambiguous_names_are_weak() {
        for key in ["auth", "session", "STRIPE_KEY", "ROUTING_KEY", "X-Amz-Signature", "cookie"] {
            assert_eq!(classify(key), KeyClass::Weak, "{key}");
        }
    }

    #[test]
    fn every_non_plain_key_contains_a_trigger() {
        let triggers = key_triggers();
        for key in [
            "DB_PASSWORD",
            "LDAP_BIND_PW",
            "tls.key",
            "STRIPE_KEY",
            "X-Amz-Signature",
            "id_ed25519",
            "AUTH_SALT",
        ] {
            let lower = key.to_ascii_lowercase();
            assert!(triggers.iter().any(|t| lower.contains(t)), "{key}");
        }
    }

    #[test]
    fn inert_values_are_recognised() {
        for value in [
            "",
            "true",
            "False",
            "500",
            "3.5",
            "30s",
            "1h30m",
            "512Mi",
            "953 bytes",
            "${POSTGRES_PASSWORD}",
            "{{ .Values.db.password }}",
            "<redacted>",
            "<redacted:key-name>",
            "$DB_PASS",
            "$(DB_PASS)",
            "******",
            "/var/run/secrets/kubernetes.io/serviceaccount/token",
            "vault:secret/data/db#password",
            "ENC[AES256_GCM,data:x]",
        ] {
            assert!(is_inert(value), "{value:?}");
        }
        for value in
            ["hunter2", "s3cr3t!", "/X77tJSYpjmL/UAjQyO0JfyD7JgTjzsZG8TVHgZ", "$2a$10$abcdefgh", "changeme"]
        {
            assert!(!is_inert(value), "{value:?}");
        }
    }

    #[test]
    fn generated_values_are_told_from_words() {
        for value in ["qw3r2m0ee", "dXNlcjpwYXNzd29yZA==", "AJpQgJx3dFZuDvylYiPn5cWysolsBxzz", "a!b@c#d$"] {
            assert!(looks_generated(value), "{value:?}");
        }
        for value in ["ldap", "orders.created", "ClientIP", "required", "context deadline", "authentication"]
        {
            assert!(!looks_generated(value), "{value:?}");
        }
    }

    #[test]
    fn key_reference_values_are_not_redacted() {
        assert!(!should_redact(KeyClass::Strong, "adminPasswordKey", "postgres-password", true));
        assert!(!should_redact(KeyClass::Strong, "secretKey", "password", true));
        assert!(should_redact(KeyClass::Strong, "secret_key", "e5318bcd4fa47551c2ec2f326857d589", true));
        assert!(should_redact(KeyClass::Strong, "DB_PASSWORD", "hunter", true));
        assert!(!should_redact(KeyClass::Strong, "DB_PASSWORD", "hunter", false));
        assert!(!should_redact(KeyClass::Weak, "auth", "ldap", true));
    }
}
