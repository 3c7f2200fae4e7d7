//! Token mode through the real program: `kubesnap-collect redact --redact-mode tokens` over a
//! folder where one password sits in a Secret, an env file and a log, and another in a
//! ConfigMap; then `redaction-map show` with the key, with another key, and a second run.

use std::path::Path;
use std::process::{Command, Output};

fn collect(args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_kubesnap-collect")).args(args).output()
}

/// Every `tok-…` token in `text`, in order.
fn tokens_in(text: &str) -> Vec<String> {
    text.match_indices("tok-").map(|(at, _)| text[at..at + 20].to_owned()).collect()
}

fn write_input(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("logs"))?;
    // base64("Tr0ub4dor&3xyz")
    std::fs::write(
        dir.join("secret.json"),
        r#"{"kind":"Secret","metadata":{"name":"db"},"data":{"password":"VHIwdWI0ZG9yJjN4eXo="}}"#,
    )?;
    std::fs::write(dir.join("app.env"), "DB_PASSWORD=Tr0ub4dor&3xyz\nPORT=8080\n")?;
    std::fs::write(
        dir.join("logs/api.log"),
        "2026-01-01T00:00:00Z dialing postgres://app:Tr0ub4dor&3xyz@db:5432/app\n\
         2026-01-01T00:00:01Z ready\n",
    )?;
    std::fs::write(
        dir.join("configmap.json"),
        r#"{"kind":"ConfigMap","metadata":{"name":"cache"},"data":{"REDIS_PASSWORD":"c4che-Pa55word"}}"#,
    )?;
    Ok(())
}

fn read_all(dir: &Path) -> std::io::Result<String> {
    let mut all = String::new();
    for name in ["secret.json", "app.env", "logs/api.log", "configmap.json"] {
        all.push_str(&std::fs::read_to_string(dir.join(name))?);
        all.push('\n');
    }
    Ok(all)
}

#[test]
fn one_value_one_token_and_the_map_opens_only_with_its_key() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in");
    write_input(&input)?;
    let out = dir.path().join("out");
    let map = dir.path().join("bundle.map");
    let key = dir.path().join("map.key");
    let run = collect(&[
        "redact",
        &input.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
        "--redact-mode",
        "tokens",
        "--redaction-map",
        &map.to_string_lossy(),
        "--redaction-map-key",
        &key.to_string_lossy(),
    ])?;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let all = read_all(&out)?;
    assert!(!all.contains("Tr0ub4dor") && !all.contains("c4che-Pa55word"), "{all}");
    let secret = std::fs::read_to_string(out.join("secret.json"))?;
    let env = std::fs::read_to_string(out.join("app.env"))?;
    let log = std::fs::read_to_string(out.join("logs/api.log"))?;
    let config_map = std::fs::read_to_string(out.join("configmap.json"))?;
    let password = tokens_in(&secret);
    assert_eq!(password.len(), 1, "{secret}");
    assert_eq!(tokens_in(&env), password, "{env}");
    assert_eq!(tokens_in(&log), password, "{log}");
    let other = tokens_in(&config_map);
    assert_eq!(other.len(), 1, "{config_map}");
    assert_ne!(other, password);
    assert!(env.contains("PORT=8080"));

    // The map holds both values and opens with the key.
    let sealed = std::fs::read(&map)?;
    assert!(!sealed.windows(9).any(|window| window == b"Tr0ub4dor"), "the map is readable without its key");
    let shown = collect(&["redaction-map", "show", &map.to_string_lossy(), "--key", &key.to_string_lossy()])?;
    assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
    let stdout = String::from_utf8(shown.stdout)?;
    assert!(stdout.contains(&format!("{}\t\"Tr0ub4dor&3xyz\"", password[0])), "{stdout}");
    assert!(stdout.contains(&format!("{}\t\"c4che-Pa55word\"", other[0])), "{stdout}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    // One token, given as the marker the bundle shows.
    let marker = env.lines().next().unwrap_or_default().trim_start_matches("DB_PASSWORD=").to_owned();
    let one = collect(&[
        "redaction-map",
        "show",
        &map.to_string_lossy(),
        "--key",
        &key.to_string_lossy(),
        &marker,
    ])?;
    assert_eq!(String::from_utf8(one.stdout)?, format!("{}\t\"Tr0ub4dor&3xyz\"\n", password[0]));

    // Without the key there is no way in: another key is refused, and says so.
    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")?;
    let refused =
        collect(&["redaction-map", "show", &map.to_string_lossy(), "--key", &other_key.to_string_lossy()])?;
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("this key does not open it"));

    // A second run makes a new per-bundle key: other tokens for the same values.
    let again = dir.path().join("again");
    let second = collect(&[
        "redact",
        &input.to_string_lossy(),
        "-o",
        &again.to_string_lossy(),
        "--redact-mode",
        "tokens",
    ])?;
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    let env_again = std::fs::read_to_string(again.join("app.env"))?;
    assert_eq!(tokens_in(&env_again).len(), 1);
    assert_ne!(tokens_in(&env_again), password);
    Ok(())
}

#[test]
fn a_map_without_token_mode_is_refused_before_anything_is_written() -> Result<(), Box<dyn std::error::Error>>
{
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in");
    write_input(&input)?;
    let out = dir.path().join("out");
    let map = dir.path().join("m");
    let key = dir.path().join("k");
    let run = collect(&[
        "redact",
        &input.to_string_lossy(),
        "-o",
        &out.to_string_lossy(),
        "--redaction-map",
        &map.to_string_lossy(),
        "--redaction-map-key",
        &key.to_string_lossy(),
    ])?;
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("needs --redact-mode tokens"));
    assert!(!out.exists() && !map.exists() && !key.exists());
    Ok(())
}
