//! Building values: straight from any serde deserializer (JSON, YAML), and from and to
//! `serde_json::Value` for tests and the few places that edit JSON.

use compact_str::CompactString;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Map, Number, Value};

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        // `deserialize_any` is where serde_json and the YAML reader count nesting, so a hostile
        // document fails with their depth-limit error before this visitor recurses deep.
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Value, E> {
        Ok(Value::Bool(flag))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        // serde_json's own visitor turns NaN and infinities (YAML's `.nan`, `.inf`) into null.
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::String(CompactString::from(text)))
    }

    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::String(CompactString::from(text)))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        serde::Deserialize::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items.into_boxed_slice()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            entries.push((key, map.next_value()?));
        }
        Ok(Value::Object(Map::from_entries(entries)))
    }
}

/// Reads a key as a string, as serde_json's visitor does (YAML's `1:` becomes `"1"`).
struct KeySeed;

impl<'de> de::DeserializeSeed<'de> for KeySeed {
    type Value = CompactString;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<CompactString, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = CompactString;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E>(self, text: &str) -> Result<CompactString, E> {
        Ok(CompactString::from(text))
    }

    fn visit_string<E>(self, text: String) -> Result<CompactString, E> {
        Ok(CompactString::from(text))
    }
}

impl From<serde_json::Value> for Value {
    fn from(value: serde_json::Value) -> Value {
        match value {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(flag) => Value::Bool(flag),
            serde_json::Value::Number(number) => from_number(&number),
            serde_json::Value::String(text) => Value::String(CompactString::from(text)),
            serde_json::Value::Array(items) => Value::Array(items.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(map) => Value::Object(Map::from_entries(
                map.into_iter().map(|(key, value)| (CompactString::from(key), Value::from(value))).collect(),
            )),
        }
    }
}

fn from_number(number: &serde_json::Number) -> Value {
    if let Some(n) = number.as_u64() {
        Value::Number(n.into())
    } else if let Some(n) = number.as_i64() {
        Value::Number(n.into())
    } else {
        number.as_f64().and_then(Number::from_f64).map_or(Value::Null, Value::Number)
    }
}

impl From<&Value> for serde_json::Value {
    fn from(value: &Value) -> serde_json::Value {
        match value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Number(number) => match (number.as_u64(), number.as_i64(), number.as_f64()) {
                (Some(n), _, _) => n.into(),
                (None, Some(n), _) => n.into(),
                (None, None, n) => {
                    n.and_then(serde_json::Number::from_f64).map_or(serde_json::Value::Null, Into::into)
                }
            },
            Value::String(text) => serde_json::Value::String(text.to_string()),
            Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(serde_json::Value::from).collect())
            }
            Value::Object(map) => serde_json::Value::Object(
                map.iter().map(|(key, value)| (key.to_owned(), serde_json::Value::from(value))).collect(),
            ),
        }
    }
}
