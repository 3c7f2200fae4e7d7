//! Answers: a JSON body with its status code and content type, and the Kubernetes `Status`
//! every refusal is (kubectl prints its message).

use serde_json::{Value, json};

/// One answer of the API.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Answer {
    pub(super) code: u16,
    pub(super) content_type: &'static str,
    pub(super) body: Vec<u8>,
    /// `Warning` headers kubectl prints on stderr.
    pub(super) warnings: Vec<String>,
}

impl Answer {
    pub(super) fn json(value: &Value) -> Answer {
        Answer::typed(value, "application/json")
    }

    pub(super) fn typed(value: &Value, content_type: &'static str) -> Answer {
        Answer { code: 200, content_type, body: value.to_string().into_bytes(), warnings: Vec::new() }
    }

    pub(super) fn text(text: String) -> Answer {
        Answer { code: 200, content_type: "text/plain", body: text.into_bytes(), warnings: Vec::new() }
    }

    pub(super) fn with_warning(mut self, warning: Option<String>) -> Answer {
        self.warnings.extend(warning);
        self
    }
}

/// A failure `Status`: `code` and `reason` as the API server pairs them (404 NotFound, 405
/// MethodNotAllowed, 400 BadRequest, 403 Forbidden), `message` for the user.
pub(super) fn failure(code: u16, reason: &str, message: &str, details: Option<Value>) -> Answer {
    let mut status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let (Some(details), Some(map)) = (details, status.as_object_mut()) {
        map.insert("details".to_owned(), details);
    }
    Answer {
        code,
        content_type: "application/json",
        body: status.to_string().into_bytes(),
        warnings: Vec::new(),
    }
}

/// 404 for a named object.
pub(super) fn not_found(group: &str, plural: &str, name: &str, why: Option<&str>) -> Answer {
    let resource = if group.is_empty() { plural.to_owned() } else { format!("{plural}.{group}") };
    let message = match why {
        Some(why) => format!("{resource} \"{name}\" not found ({why})"),
        None => format!("{resource} \"{name}\" not found"),
    };
    failure(404, "NotFound", &message, Some(json!({"name": name, "group": group, "kind": plural})))
}

/// 404 for a path that names no resource.
pub(super) fn no_such_path(path: &str) -> Answer {
    failure(404, "NotFound", &format!("the server could not find the requested resource ({path})"), None)
}
