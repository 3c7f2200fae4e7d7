//! Server-side tables (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): the columns and
//! cells the Kubernetes API server prints for built-in kinds (`printers`), a custom resource's
//! `additionalPrinterColumns`, and the API server's default (name and creation time) for the
//! rest. Every cell is computed as at the bundle's capture time.

mod columns;
mod printers;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::catalog::{PrinterColumn, Resource};

/// What each row carries besides its cells (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Include {
    None,
    Metadata,
    Object,
}

impl Include {
    pub(super) fn parse(text: Option<&str>) -> Include {
        match text {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        }
    }
}

/// A column: name, type, format, priority (1: only with `-o wide`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Column {
    pub(super) name: &'static str,
    pub(super) kind: &'static str,
    pub(super) format: &'static str,
    pub(super) priority: u8,
}

/// Whether an `Accept` header asks for a meta.k8s.io/v1 Table.
pub(super) fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let part = part.replace(' ', "");
        part.contains("as=Table") && part.contains("v=v1") && !part.contains("v=v1beta1")
    })
}

/// The Table of `objects` of `resource`.
pub(super) fn render(
    resource: &Resource,
    objects: &[Value],
    now: Timestamp,
    include: Include,
    resource_version: &str,
) -> Value {
    let (definitions, rows): (Vec<Value>, Vec<Vec<Value>>) = match &resource.columns {
        Some(custom) => custom_columns(custom, objects, now),
        None => match printers::printer(&resource.kind) {
            Some((columns, print)) => (
                columns.iter().map(definition).collect(),
                objects.iter().map(|object| print(object, now)).collect(),
            ),
            None if resource.group.ends_with(".k8s.io")
                || !resource.group.contains('.')
                || resource.group.is_empty() =>
            {
                default_columns(objects)
            }
            None => custom_columns(&[], objects, now),
        },
    };
    let rows: Vec<Value> = objects
        .iter()
        .zip(rows)
        .map(|(object, cells)| {
            let mut row = json!({"cells": cells});
            let included = match include {
                Include::None => None,
                Include::Object => Some(object.clone()),
                Include::Metadata => Some(json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": object.get("metadata").cloned().unwrap_or_else(|| json!({})),
                })),
            };
            if let (Some(included), Some(map)) = (included, row.as_object_mut()) {
                map.insert("object".to_owned(), included);
            }
            if let (Some(conditions), Some(map)) =
                (printers::row_conditions(&resource.kind, object), row.as_object_mut())
            {
                map.insert("conditions".to_owned(), conditions);
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

fn definition(column: &Column) -> Value {
    json!({"name": column.name, "type": column.kind, "format": column.format, "description": "", "priority": column.priority})
}

/// The API server's default table: the name and the creation time (RFC 3339).
fn default_columns(objects: &[Value]) -> (Vec<Value>, Vec<Vec<Value>>) {
    let definitions = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0}),
        json!({"name": "Created At", "type": "date", "format": "", "description": "", "priority": 0}),
    ];
    let rows = objects
        .iter()
        .map(|object| {
            vec![
                columns::text(object, "/metadata/name").into(),
                object.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null),
            ]
        })
        .collect();
    (definitions, rows)
}

/// A custom resource's table: Name, its printer columns, and Age when it names none (the
/// apiextensions server's rule).
fn custom_columns(
    custom: &[PrinterColumn],
    objects: &[Value],
    now: Timestamp,
) -> (Vec<Value>, Vec<Vec<Value>>) {
    let age = PrinterColumn {
        name: "Age".to_owned(),
        kind: "date".to_owned(),
        format: String::new(),
        description: String::new(),
        priority: 0,
        json_path: ".metadata.creationTimestamp".to_owned(),
    };
    let custom: Vec<&PrinterColumn> = if custom.is_empty() { vec![&age] } else { custom.iter().collect() };
    let mut definitions =
        vec![json!({"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0})];
    definitions.extend(custom.iter().map(|column| {
        json!({"name": column.name, "type": column.kind, "format": column.format, "description": column.description, "priority": column.priority})
    }));
    let rows = objects
        .iter()
        .map(|object| {
            let mut cells = vec![Value::from(columns::text(object, "/metadata/name"))];
            for column in &custom {
                cells.push(columns::json_path_cell(object, &column.json_path, &column.kind, now));
            }
            cells
        })
        .collect();
    (definitions, rows)
}
