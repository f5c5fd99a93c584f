//! Writing a snapshot with the key order of the committed example.
//!
//! The example (`topology/examples/global-org.json`) was first written by a script that ordered
//! record fields as it built them. That order is the model's declaration order except in three
//! places, kept so the committed file stays byte-identical: `event_buses_v2` follows
//! `event_buses`, an association's `status` follows its `kind`, and a v2 subscriber without tags
//! leaves `tags` out. Policy documents and tag maps are sorted by key, as serde writes them.

use crate::model::Snapshot;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt;

/// A JSON value whose objects keep their keys in the order they were read.
enum Ordered {
    Scalar(serde_json::Value),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl Ordered {
    fn fields(&mut self) -> Option<&mut Vec<(String, Ordered)>> {
        match self {
            Ordered::Object(fields) => Some(fields),
            _ => None,
        }
    }

    fn items(&mut self) -> impl Iterator<Item = &mut Ordered> {
        match self {
            Ordered::Array(items) => items.iter_mut(),
            _ => std::slice::IterMut::default(),
        }
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Ordered> {
        self.fields()?.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Moves the field `key` to just after `after` (no change when either is absent).
    fn move_after(&mut self, key: &str, after: &str) {
        let Some(fields) = self.fields() else { return };
        let Some(from) = fields.iter().position(|(k, _)| k == key) else {
            return;
        };
        let field = fields.remove(from);
        match fields.iter().position(|(k, _)| k == after) {
            Some(at) => fields.insert(at + 1, field),
            None => fields.insert(from, field),
        }
    }

    fn is_empty_object(&self) -> bool {
        match self {
            Ordered::Object(fields) => fields.is_empty(),
            Ordered::Scalar(serde_json::Value::Object(map)) => map.is_empty(),
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(v.into()))
    }
    fn visit_unit<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Scalar(serde_json::Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Ordered::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut fields = Vec::new();
        while let Some(entry) = map.next_entry()? {
            fields.push(entry);
        }
        Ok(Ordered::Object(fields))
    }
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Ordered::Scalar(v) => v.serialize(serializer),
            Ordered::Array(items) => serializer.collect_seq(items),
            Ordered::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// `snapshot` as pretty JSON (two-space indent, trailing newline) in the committed example's
/// key order (see the module documentation).
pub fn write_ordered(snapshot: &Snapshot) -> Result<String, serde_json::Error> {
    let text = serde_json::to_string(snapshot)?;
    let mut tree: Ordered = serde_json::from_str(&text)?;
    tree.move_after("event_buses_v2", "event_buses");
    if let Some(spaces) = tree.get_mut("agent_spaces") {
        for space in spaces.items() {
            for association in space.get_mut("associations").into_iter().flat_map(Ordered::items) {
                association.move_after("status", "kind");
            }
        }
    }
    if let Some(buses) = tree.get_mut("event_buses_v2") {
        for bus in buses.items() {
            for subscriber in bus.get_mut("subscribers").into_iter().flat_map(Ordered::items) {
                if subscriber.get_mut("tags").is_some_and(|t| t.is_empty_object())
                    && let Some(fields) = subscriber.fields()
                {
                    fields.retain(|(k, _)| k != "tags");
                }
            }
        }
    }
    let mut out = serde_json::to_string_pretty(&tree)?;
    out.push('\n');
    Ok(out)
}
