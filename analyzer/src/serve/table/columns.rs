//! Cell helpers shared by the printers: text fields, ages (Kubernetes' `HumanDuration`),
//! label and selector formatting, container names and images, and the JSONPath subset printer
//! columns use.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

/// A string field by JSON pointer ("" when absent).
pub(super) fn text(object: &Value, pointer: &str) -> String {
    object.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// An integer field by JSON pointer (0 when absent).
pub(super) fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// An array field by JSON pointer (empty when absent).
pub(super) fn array<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object.pointer(pointer).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// `text` or `<none>` when empty.
pub(super) fn or_none(text: String) -> String {
    if text.is_empty() { "<none>".to_owned() } else { text }
}

/// Kubernetes' `duration.HumanDuration`.
pub(crate) fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{days}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The time since an RFC 3339 timestamp at `now` (`translateTimestampSince`): `<unknown>`
/// when absent or unreadable.
pub(super) fn since(timestamp: Option<&str>, now: Timestamp) -> String {
    match timestamp.and_then(|text| text.parse::<Timestamp>().ok()) {
        Some(then) => human_duration(now.as_second() - then.as_second()),
        None => "<unknown>".to_owned(),
    }
}

/// The object's age at `now`.
pub(super) fn age(object: &Value, now: Timestamp) -> String {
    since(object.pointer("/metadata/creationTimestamp").and_then(Value::as_str), now)
}

/// `labels.FormatLabels`: `k=v` sorted by key, comma-separated; `<none>` when empty.
pub(super) fn format_labels(map: Option<&Value>) -> String {
    let pairs: BTreeMap<&str, &str> = map
        .and_then(Value::as_object)
        .map(|map| map.iter().filter_map(|(k, v)| Some((k.as_str(), v.as_str()?))).collect())
        .unwrap_or_default();
    or_none(pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","))
}

/// `metav1.FormatLabelSelector`: requirements sorted by key; `<none>` when it selects everything.
pub(super) fn format_selector(selector: Option<&Value>) -> String {
    let Some(selector) = selector else { return "<none>".to_owned() };
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in labels {
            requirements.push((key.clone(), format!("{key}={}", value.as_str().unwrap_or_default())));
        }
    }
    for expression in
        selector.get("matchExpressions").and_then(Value::as_array).map_or(&[][..], Vec::as_slice)
    {
        let key = text(expression, "/key");
        let mut values: Vec<&str> = array(expression, "/values").iter().filter_map(Value::as_str).collect();
        values.sort_unstable();
        let requirement = match text(expression, "/operator").as_str() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            _ => return "<error>".to_owned(),
        };
        requirements.push((key, requirement));
    }
    requirements.sort();
    or_none(requirements.into_iter().map(|(_, text)| text).collect::<Vec<_>>().join(","))
}

/// The names and images of a pod template's (or pod's) containers, comma-separated.
pub(super) fn containers_and_images(spec: Option<&Value>) -> (String, String) {
    let containers = spec.and_then(|spec| spec.get("containers")).and_then(Value::as_array);
    let containers = containers.map_or(&[][..], Vec::as_slice);
    let names: Vec<String> = containers.iter().map(|c| text(c, "/name")).collect();
    let images: Vec<String> = containers.iter().map(|c| text(c, "/image")).collect();
    (names.join(","), images.join(","))
}

/// One printer column's cell: the first value its JSONPath finds, typed as the column says.
pub(super) fn json_path_cell(object: &Value, path: &str, kind: &str, now: Timestamp) -> Value {
    let Some(found) = json_path(object, path) else { return Value::Null };
    match kind {
        "date" => Value::from(since(found.as_str(), now)),
        "integer" | "number" | "boolean" => found.clone(),
        _ => match found {
            Value::String(text) => Value::from(text.clone()),
            other => Value::from(other.to_string()),
        },
    }
}

/// The first value a JSONPath finds, for the forms printer columns use: `.a.b`, `.a[0]`,
/// `.a[*].b`, `.a[?(@.type=="Ready")].status` (with or without `{}` and `$`).
pub(super) fn json_path<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}').trim_start_matches('$');
    let mut current = vec![object];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let (field, tail) = after.split_at(end);
            if !field.is_empty() {
                current = current.into_iter().filter_map(|value| value.get(field)).collect();
            }
            rest = tail;
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let (inside, tail) = (after[..end].trim(), &after[end + 1..]);
            current = if inside == "*" {
                current
                    .into_iter()
                    .flat_map(|value| value.as_array().map_or(&[][..], Vec::as_slice))
                    .collect()
            } else if let Some(filter) = inside.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')')) {
                let (field, wanted) = filter.split_once("==")?;
                let wanted = wanted.trim().trim_matches(|c| c == '"' || c == '\'');
                current
                    .into_iter()
                    .flat_map(|value| value.as_array().map_or(&[][..], Vec::as_slice))
                    .filter(|item| {
                        json_path(item, &format!(".{}", field.trim())).is_some_and(|v| match v {
                            Value::String(text) => text == wanted,
                            other => wanted.parse::<Value>().is_ok_and(|parsed| &parsed == other),
                        })
                    })
                    .collect()
            } else {
                let index: usize = inside.parse().ok()?;
                current.into_iter().filter_map(|value| value.get(index)).collect()
            };
            rest = tail;
        } else {
            return None;
        }
    }
    current.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_read_as_kubectl_prints_them() {
        assert_eq!(human_duration(59), "59s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(125), "2m5s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 5 * 60), "3h5m");
        assert_eq!(human_duration(10 * 3600), "10h");
        assert_eq!(human_duration(65 * 3600), "2d17h");
        assert_eq!(human_duration(64 * 86400), "64d");
        assert_eq!(human_duration(3 * 365 * 86400 + 86400), "3y1d");
    }

    #[test]
    fn selectors_format_as_the_api_server_formats_them() {
        let selector = json!({"matchLabels": {"b": "2", "a": "1"}, "matchExpressions": [{"key": "c", "operator": "In", "values": ["y", "x"]}]});
        assert_eq!(format_selector(Some(&selector)), "a=1,b=2,c in (x,y)");
        assert_eq!(format_selector(Some(&json!({}))), "<none>");
    }

    #[test]
    fn json_paths_of_printer_columns() {
        let object = json!({"status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]}, "spec": {"items": [{"n": 1}]}});
        assert_eq!(
            json_path(&object, r#".status.conditions[?(@.type=="Ready")].status"#),
            Some(&json!("True"))
        );
        assert_eq!(json_path(&object, ".spec.items[0].n"), Some(&json!(1)));
        assert_eq!(json_path(&object, ".spec.missing"), None);
    }
}
