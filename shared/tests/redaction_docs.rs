//! `docs/redaction.md` documents every built-in rule: a rule added to the code without a line
//! in the docs fails here.

use kubesnap_shared::redact::Redactor;

#[test]
fn every_builtin_rule_is_documented() -> Result<(), String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/redaction.md");
    let docs =
        std::fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let mut n_rules = 0;
    let missing: Vec<&str> = Redactor::rules()
        .inspect(|_| n_rules += 1)
        .map(|(name, _)| name)
        .filter(|name| !docs.contains(&format!("| `{name}` |")))
        .collect();
    assert!(n_rules >= 30, "only {n_rules} built-in rules; is the table intact?");
    assert_eq!(missing, Vec::<&str>::new(), "rules without a row in docs/redaction.md");
    Ok(())
}
