//! Tests of the redactor as a whole: one positive and one near miss per rule, objects, and
//! the invariants (the prefilter never hides a secret, redaction is idempotent).

use super::*;

#[test]
fn builtin_compiles_every_rule() {
    let redactor = Redactor::builtin();
    assert_eq!(redactor.shapes.len(), SHAPE_RULES.len());
    assert!(redactor.shape_set.is_some());
    assert!(redactor.prefilter.is_some());
    assert!(redactor.base64.is_some());
    assert!(redactor.secret_kind.is_some());
}
