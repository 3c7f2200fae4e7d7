//! The built-in rules that recognise a secret by its shape, wherever it sits: credentials in
//! URLs, bearer tokens, JWTs, and the key formats of cloud and SaaS providers.
//!
//! A declarative table, like ripgrep's flag definitions: each rule names itself, says what it
//! finds (`docs/redaction.md` lists the same), gives its pattern, and the literals one of which
//! every match contains, so that the text prefilter is built from the table and cannot drift
//! from it. The secret is the capture group named `s`, or the whole match.

/// An extra test on a candidate, for patterns whose shape alone is too loose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// The pattern is enough.
    None,
    /// The captured secret must look generated (mixed character classes).
    Generated,
    /// The captured secret must hold digits and letters (tokens do; CamelCase names do not).
    DigitsAndLetters,
    /// The captured secret must be base64 of `user:password`.
    BasicCredentials,
}

/// One built-in shape rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShapeRule {
    /// Stable name, used in the redaction marker and the report.
    pub(crate) name: &'static str,
    /// What it finds, for the docs.
    pub(crate) what: &'static str,
    pub(crate) pattern: &'static str,
    /// Literals one of which every match contains, as they are written (`eyJ`); their lower,
    /// UPPER and Capitalized forms are matched too, which covers the `(?i)` patterns.
    pub(crate) triggers: &'static [&'static str],
    pub(crate) check: Check,
}

/// Every built-in shape rule. PEM private keys and base64-encoded secrets are recognised in
/// code (`text.rs`) because they span lines or need decoding; they are documented with these.
pub(crate) const SHAPE_RULES: &[ShapeRule] = &[
    ShapeRule {
        name: "url-credentials",
        what: "the password of a URL with credentials: `scheme://user:password@host` (databases, brokers, proxies, registries)",
        pattern: r"(?i)\b[a-z][a-z0-9+.\-]{1,30}://[^\s:/?#@'\x22<>]*:(?P<s>[^\s/?#'\x22<>]+)@[^\s/?#@'\x22<>]",
        triggers: &["://"],
        check: Check::None,
    },
    ShapeRule {
        name: "url-token",
        what: "a token used as the whole user part of a URL: `https://<token>@host` (Sentry DSNs, git remotes with a token)",
        pattern: r"(?i)\b[a-z][a-z0-9+.\-]{1,30}://(?P<s>[A-Za-z0-9_\-~.%]{20,})@[^\s/?#@'\x22<>]",
        triggers: &["://"],
        check: Check::DigitsAndLetters,
    },
    ShapeRule {
        name: "dsn-credentials",
        what: "the password of a Go MySQL DSN: `user:password@tcp(host:3306)/db`",
        pattern: r"\b[A-Za-z0-9_.$\-]+:(?P<s>[^\s@/'\x22]+)@(?:tcp|tcp6|udp|unix)\(",
        triggers: &["@tcp(", "@tcp6(", "@udp(", "@unix("],
        check: Check::None,
    },
    ShapeRule {
        name: "jwt",
        what: "JSON Web Tokens (service-account tokens, OIDC id and access tokens): `eyJ….eyJ….sig`",
        pattern: r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}(?:\.[A-Za-z0-9_\-]*)?",
        triggers: &["eyJ"],
        check: Check::None,
    },
    ShapeRule {
        name: "bearer-token",
        what: "the token after `Bearer` (HTTP headers, gRPC metadata, curl commands)",
        pattern: r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9\-._~+/]{8,}=*)",
        triggers: &["bearer"],
        check: Check::Generated,
    },
    ShapeRule {
        name: "basic-auth-header",
        what: "the credentials after `Basic` when they decode to `user:password`",
        pattern: r"(?i)\bbasic\s+(?P<s>[A-Za-z0-9+/]{6,}={0,2})",
        triggers: &["basic"],
        check: Check::BasicCredentials,
    },
    ShapeRule {
        name: "aws-access-key-id",
        what: "AWS access key ids (`AKIA…` long-term, `ASIA…` temporary, and the other IAM prefixes)",
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}\b",
        triggers: &["AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA"],
        check: Check::None,
    },
    ShapeRule {
        name: "aws-secret-access-key",
        what: "a 40-character AWS secret key that follows its access key id on the same line (credentials CSV, `aws configure list`)",
        pattern: r"\b(?:AKIA|ASIA)[A-Z0-9]{16}[\s,;:|'\x22=]+(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
        triggers: &["AKIA", "ASIA"],
        check: Check::Generated,
    },
    ShapeRule {
        name: "gcp-api-key",
        what: "Google API keys: `AIza…`",
        pattern: r"\bAIza[0-9A-Za-z_\-]{35}",
        triggers: &["AIza"],
        check: Check::None,
    },
    ShapeRule {
        name: "gcp-oauth",
        what: "Google OAuth access tokens (`ya29.…`), refresh tokens (`1//0…`) and client secrets (`GOCSPX-…`)",
        pattern: r"\b(?:ya29\.[0-9A-Za-z_\-]{20,}|GOCSPX-[0-9A-Za-z_\-]{20,})|1//0[0-9A-Za-z_\-]{40,}",
        triggers: &["ya29.", "GOCSPX-", "1//0"],
        check: Check::None,
    },
    ShapeRule {
        name: "azure-connection-string",
        what: "keys and signatures in Azure connection strings: `AccountKey=`, `SharedAccessKey=`, `SharedAccessSignature=`",
        pattern: r"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature|PrimaryKey|SecondaryKey)\s*=\s*(?P<s>[^;\s'\x22]+)",
        triggers: &["AccountKey", "SharedAccessKey", "SharedAccessSignature", "PrimaryKey", "SecondaryKey"],
        check: Check::None,
    },
    ShapeRule {
        name: "azure-sas-signature",
        what: "the signature of an Azure shared-access-signature URL: `?…&sig=…`",
        pattern: r"(?i)[?&]sig=(?P<s>[^&\s'\x22#<>]{16,})",
        triggers: &["sig="],
        check: Check::None,
    },
    ShapeRule {
        name: "github-token",
        what: "GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`",
        pattern: r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})",
        triggers: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        check: Check::None,
    },
    ShapeRule {
        name: "gitlab-token",
        what: "GitLab tokens: `glpat-`, deploy, runner, CI job, feed and agent tokens, runner registration tokens",
        pattern: r"\b(?:gl(?:pat|dt|rt|ptt|cbt|oas|imt|ft|soat|ffct|agent)-[A-Za-z0-9_\-]{20,}|GR1348941[A-Za-z0-9_\-]{20,})",
        triggers: &[
            "glpat-",
            "gldt-",
            "glrt-",
            "glptt-",
            "glcbt-",
            "gloas-",
            "glimt-",
            "glft-",
            "glsoat-",
            "glffct-",
            "glagent-",
            "GR1348941",
        ],
        check: Check::None,
    },
    ShapeRule {
        name: "slack-token",
        what: "Slack tokens: `xoxb-`, `xoxp-`, `xoxa-`, `xoxo-`, `xoxs-`, `xoxr-`, `xoxe-`, `xapp-`",
        pattern: r"\b(?:xox[abposre](?:\.xox[abposre])?-[A-Za-z0-9\-]{10,}|xapp-\d-[A-Za-z0-9\-]{10,})",
        triggers: &["xox", "xapp-"],
        check: Check::None,
    },
    ShapeRule {
        name: "webhook-url-token",
        what: "the secret path of Slack, Discord and Microsoft Teams incoming-webhook URLs",
        pattern: r"(?i)(?:hooks\.slack\.com/(?:services|workflows|triggers)/|discord(?:app)?\.com/api/webhooks/\d+/|webhook\.office\.com/webhookb2/[^\s'\x22/]+/IncomingWebhook/)(?P<s>[A-Za-z0-9_\-/]{16,})",
        triggers: &[
            "hooks.slack.com",
            "discord.com/api/webhooks",
            "discordapp.com/api/webhooks",
            "webhook.office.com",
        ],
        check: Check::None,
    },
    ShapeRule {
        name: "stripe-key",
        what: "Stripe secret and restricted keys (`sk_live_`, `sk_test_`, `rk_live_`, `rk_test_`) and webhook secrets (`whsec_`)",
        pattern: r"\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})",
        triggers: &["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"],
        check: Check::None,
    },
    ShapeRule {
        name: "sendgrid-key",
        what: "SendGrid API keys: `SG.<id>.<secret>`",
        pattern: r"\bSG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}",
        triggers: &["SG."],
        check: Check::None,
    },
    ShapeRule {
        name: "twilio-api-key",
        what: "Twilio API key SIDs with their secret-bearing shape: `SK` and 32 hex digits",
        pattern: r"\bSK[0-9a-fA-F]{32}\b",
        triggers: &["SK"],
        check: Check::None,
    },
    ShapeRule {
        name: "npm-token",
        what: "npm access tokens: `npm_…`",
        pattern: r"\bnpm_[A-Za-z0-9]{36}",
        triggers: &["npm_"],
        check: Check::None,
    },
    ShapeRule {
        name: "pypi-token",
        what: "PyPI upload tokens: `pypi-…`",
        pattern: r"\bpypi-[A-Za-z0-9_\-]{50,}",
        triggers: &["pypi-"],
        check: Check::None,
    },
    ShapeRule {
        name: "openai-style-key",
        what: "OpenAI-style secret keys: `sk-…`, `sk-proj-…`, `sk-svcacct-…`, `sk-ant-api03-…`",
        pattern: r"\bsk-[A-Za-z0-9_\-]{20,}",
        triggers: &["sk-"],
        check: Check::Generated,
    },
    ShapeRule {
        name: "vendor-token",
        what: "other vendor tokens with a fixed prefix: HashiCorp Vault (`hvs.`, `hvb.`), Hugging Face (`hf_`), DigitalOcean (`dop_v1_`), Shopify (`shpat_`), Grafana (`glsa_`, `glc_`), Mailgun (`key-`), age (`AGE-SECRET-KEY-1`), Postman (`PMAK-`), New Relic (`NRAK-`), Doppler (`dp.st.`), Atlassian (`ATATT3`), Heroku (`HRKU-`), Pulumi (`pul-`), Terraform Cloud (`.atlasv1.`), Databricks (`dapi`), Linear (`lin_api_`), Notion (`ntn_`)",
        pattern: r"\b(?:hv[sbr]\.[A-Za-z0-9_\-]{24,}|hf_[A-Za-z0-9]{30,}|do[opr]_v1_[a-f0-9]{64}|shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2}|key-[0-9a-f]{32}|AGE-SECRET-KEY-1[0-9A-Z]{58}|PMAK-[0-9a-f]{24}-[0-9a-f]{34}|NRAK-[A-Z0-9]{27}|dp\.(?:st|ct|sa|scim|audit)\.[A-Za-z0-9_\-]{40,}|ATATT3[A-Za-z0-9_\-=]{100,}|HRKU-[A-Za-z0-9_\-]{30,}|pul-[a-f0-9]{40}|[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_\-]{60,}|dapi[a-f0-9]{32}|lin_api_[A-Za-z0-9]{40}|ntn_[A-Za-z0-9]{40,})",
        triggers: &[
            "hvs.",
            "hvb.",
            "hvr.",
            "hf_",
            "dop_v1_",
            "doo_v1_",
            "dor_v1_",
            "shpat_",
            "shpca_",
            "shppa_",
            "shpss_",
            "glsa_",
            "glc_",
            "key-",
            "AGE-SECRET-KEY-",
            "PMAK-",
            "NRAK-",
            "dp.",
            "ATATT3",
            "HRKU-",
            "pul-",
            ".atlasv1.",
            "dapi",
            "lin_api_",
            "ntn_",
        ],
        check: Check::None,
    },
    ShapeRule {
        name: "cli-password",
        what: "the password of database and ssh command lines: `mysql -pSECRET`, `mongosh -p SECRET`, `redis-cli -a SECRET`, `sshpass -p SECRET`, `docker login -p SECRET` (and podman, buildah, nerdctl, skopeo, oras, `az login`)",
        pattern: r"\b(?i:mysql|mysqldump|mysqladmin|mysqlsh|mariadb|mariadb-dump|mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport|mongostat|mongotop|sshpass|redis-cli|(?:docker|podman|buildah|nerdctl|skopeo|oras|az)\s+login)\b[^\n|;&]*?\s-[pa]\s*(?:'(?P<s>[^'\s]+)'|\x22(?P<s2>[^\x22\s]+)\x22|(?P<s3>[^\s'\x22\-][^\s'\x22]*))",
        triggers: &["mysql", "mariadb", "mongo", "sshpass", "redis-cli", "login"],
        check: Check::None,
    },
    ShapeRule {
        name: "cli-basic-auth",
        what: "the password of `user:password` after `-u`, `--user` or `--proxy-user` (curl, wget, htpasswd-style commands)",
        pattern: r"(?:^|\s)(?:-u|--user|--proxy-user|--http-user)[=\s]+['\x22]?[^\s:'\x22]+:(?P<s>[^\s'\x22]+)",
        triggers: &["-u", "--user", "--proxy-user", "--http-user"],
        check: Check::None,
    },
    ShapeRule {
        name: "cli-secret-argument",
        what: "secrets passed as arguments: `openssl … -passin pass:SECRET`, `echo SECRET | docker login --password-stdin`, `CONFIG SET requirepass SECRET`, `aws configure set aws_secret_access_key SECRET`",
        pattern: r"(?i)(?:-pass(?:in|out|word)?\s+pass:(?P<s>\S+)|\becho\s+(?:'(?P<s2>[^'\s]+)'|\x22(?P<s3>[^\x22\s]+)\x22|(?P<s4>[^\s'\x22|]+))\s*\|[^\n]*--password-stdin|\bset\s+[A-Za-z0-9_.\-]*(?:secret|token|password|passwd|requirepass|masterauth|api_?key|private_?key)[A-Za-z0-9_.\-]*\s+(?P<s5>[^\s'\x22]+))",
        triggers: &["pass:", "--password-stdin", "set "],
        check: Check::None,
    },
    ShapeRule {
        name: "netrc-password",
        what: "the password of a one-line `.netrc` entry: `machine host login user password SECRET`",
        pattern: r"(?i)\bmachine\s+\S+\s+login\s+\S+\s+password\s+(?P<s>\S+)",
        triggers: &["machine"],
        check: Check::None,
    },
    ShapeRule {
        name: "helm-release-payload",
        what: "gzip payloads in base64 (Helm release records, `H4sI…` and its double-encoded `SDRzSU…`): opaque, and they hold whole charts with their values",
        pattern: r"\b(?:H4sI|SDRzSU)[A-Za-z0-9+/]{60,}={0,2}",
        triggers: &["H4sI", "SDRzSU"],
        check: Check::None,
    },
    ShapeRule {
        name: "password-hash",
        what: "password hashes in crypt syntax, which can be cracked offline: bcrypt (`$2a$`, `$2b$`, `$2y$`), sha512-crypt (`$6$`), sha256-crypt (`$5$`), md5-crypt (`$1$`, Apache `$apr1$`), yescrypt (`$y$`), argon2 (`$argon2id$`), scrypt and pbkdf2 (htpasswd files, /etc/shadow, user lists in values)",
        pattern: r"\$(?:2[abxy]?|1|5|6|apr1|y|gy|7|argon2(?:id|i|d)|scrypt|pbkdf2(?:-sha(?:1|256|512))?)\$[A-Za-z0-9./+=$,:\-]{16,}",
        triggers: &[
            "$2a$", "$2b$", "$2x$", "$2y$", "$2$", "$1$", "$5$", "$6$", "$apr1$", "$y$", "$gy$", "$7$",
            "$argon2", "$scrypt$", "$pbkdf2",
        ],
        check: Check::None,
    },
    ShapeRule {
        name: "scram-verifier",
        what: "SCRAM verifiers as PostgreSQL and PgBouncer store them: `SCRAM-SHA-256$<iterations>:<salt>$<stored key>:<server key>`",
        pattern: r"(?i)\bSCRAM-SHA-(?:1|256|512)\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+",
        triggers: &["SCRAM-SHA-"],
        check: Check::None,
    },
    ShapeRule {
        name: "postgres-password-hash",
        what: "PostgreSQL md5 password hashes: `md5` and 32 hex digits (pg_authid, PgBouncer user lists, `ENCRYPTED PASSWORD 'md5…'`)",
        pattern: r"\bmd5[0-9a-f]{32}\b",
        triggers: &["md5"],
        check: Check::None,
    },
    ShapeRule {
        name: "ldap-password-hash",
        what: "LDAP-style password hashes (htpasswd `{SHA}`, OpenLDAP `{SSHA}`, `{CRYPT}`, `{PBKDF2-…}`)",
        pattern: r"\{(?:SHA|SSHA|SHA256|SSHA256|SHA512|SSHA512|MD5|SMD5|CRYPT|PBKDF2[A-Z0-9\-]*)\}[A-Za-z0-9+/=.$]{8,}",
        triggers: &["{SHA", "{SSHA", "{MD5", "{SMD5", "{CRYPT}", "{PBKDF2"],
        check: Check::None,
    },
    ShapeRule {
        name: "pooler-userlist",
        what: "the password of a PgBouncer (or Odyssey) user list line: `\"user\" \"password-or-hash\"`",
        pattern: r#"^\s*"[^"\s]{1,128}"\s+"(?P<s>[^"]{4,})"\s*$"#,
        triggers: &["\" \"", "\"\t\""],
        check: Check::None,
    },
    ShapeRule {
        name: "pgpass-password",
        what: "the password of a `.pgpass` line: `host:port:database:user:password`",
        pattern: r"^\s*[^:\s#]+:(?:\d{1,5}|\*):[^:\s]+:[^:\s]+:(?P<s>\S+)\s*$",
        triggers: &[":*:", ":5432:", ":6432:", ":5433:", ":26257:", ":3306:"],
        check: Check::None,
    },
    ShapeRule {
        name: "static-token-file",
        what: "the token or password of a kube-apiserver `--token-auth-file` or `--basic-auth-file` line: `secret,user,uid,\"group1,group2\"`",
        pattern: r#"^\s*(?P<s>[^,\s"]{6,}),[A-Za-z0-9_.:@\-]+,[A-Za-z0-9_.:@\-]+,"[^"]*"\s*$"#,
        triggers: &[",\""],
        check: Check::None,
    },
    ShapeRule {
        name: "jdbc-oracle-credentials",
        what: "the password of an Oracle JDBC URL: `jdbc:oracle:thin:user/password@host`",
        pattern: r"(?i)\bjdbc:oracle:[a-z0-9]+:[^/\s@:'\x22]+/(?P<s>[^@\s'\x22]+)@",
        triggers: &["jdbc:oracle:"],
        check: Check::None,
    },
    ShapeRule {
        name: "odbc-braced-password",
        what: "an ODBC connection string's braced password: `Pwd={…;…}` (a brace-quoted value may hold `;`)",
        pattern: r"(?i)\b(?:pwd|password)\s*=\s*\{(?P<s>(?:[^}]|\}\})+)\}",
        triggers: &["pwd", "password"],
        check: Check::None,
    },
    ShapeRule {
        name: "struct-dump-secret",
        what: "a secret field of a config struct dumped in a log: Go `%+v` and `%#v` (`{… Password:x …}`), Go maps (`map[password:x]`)",
        pattern: r"(?:\{[^{}\n]*?\b[A-Za-z]*(?:Password|Passwd|Secret|Token|APIKey|ApiKey|AccessKey|SecretKey|PrivateKey):(?:\x22(?P<s>[^\x22]+)\x22|(?P<s2>[^\s{}\x22,]+))|\bmap\[[^\]\n]*?\b[a-z_]*(?:password|passwd|secret|token|apikey|api_key):(?P<s3>[^\s\]]+))",
        triggers: &["Password:", "Passwd:", "Secret:", "Token:", "Key:", "map["],
        check: Check::None,
    },
    ShapeRule {
        name: "cloud-key-extra",
        what: "more cloud and SaaS key formats: Alibaba Cloud (`LTAI…`), Square (`sq0atp-`, `sq0csp-`), Telegram bot tokens (`<id>:AA…`), JFrog Artifactory (`AKCp…`), Sentry (`sntrys_`, `sntryu_`), Mailchimp (`…-us21`), Azure AD client secrets (`…8Q~…`), Dynatrace (`dt0c01.`)",
        pattern: r"\b(?:LTAI[A-Za-z0-9]{12,20}\b|sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,}|\d{8,10}:AA[A-Za-z0-9_\-]{33}\b|AKCp[A-Za-z0-9]{69}|sntry[su]_[A-Za-z0-9_=+/\-]{40,}|[0-9a-f]{32}-us\d{1,2}\b|[A-Za-z0-9_~.\-]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}|dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})",
        triggers: &[
            "LTAI", "sq0atp-", "sq0csp-", ":AA", "AKCp", "sntrys_", "sntryu_", "-us", "Q~", "dt0c01.",
        ],
        check: Check::None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_has_triggers() -> Result<(), regex::Error> {
        for rule in SHAPE_RULES {
            regex::Regex::new(rule.pattern)?;
            assert!(!rule.triggers.is_empty(), "{}", rule.name);
        }
        Ok(())
    }

    #[test]
    fn names_are_unique_kebab_case() {
        let mut names: Vec<&str> = SHAPE_RULES.iter().map(|rule| rule.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        assert!(names.iter().all(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
    }
}
