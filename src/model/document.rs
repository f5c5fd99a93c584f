//! Policy documents of a snapshot, parsed once and interned.
//!
//! A [`PolicyDocument`] keeps the document's JSON text as it appeared in the file and the typed
//! [`Policy`] parsed from it, behind one shared pointer. While a snapshot is loaded (see
//! [`interning`]), identical documents — the same trust policy on thousands of Lambda roles, the
//! same managed policy document — share one parse: a document whose text was seen before is not
//! parsed again. Identical statements of different documents — the same `Deny` in every
//! inline policy, the same queue statement in every function role of an account — share one
//! [`Statement`] as well. A document that does not parse keeps its error; validation reports it with its
//! location, so a loaded snapshot holds only parsed documents.
//!
//! On the wire the type is exactly the `serde_json::Value` it replaces (same JSON, same schema):
//! serialization re-reads the kept text into a value, so key order and number forms are what a
//! `Value` would have written.

use crate::iam::{Policy, PolicyError, Statement};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::{Borrow, Cow};
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

/// A policy document: its JSON text and the policy parsed from it (or why it does not parse).
#[derive(Clone)]
pub struct PolicyDocument(Arc<Inner>);

struct Inner {
    /// The JSON text (an object, or a string holding the document as the IAM API returns it).
    text: Box<str>,
    parsed: Result<Arc<Policy>, PolicyError>,
    /// A `Value` view, built only when a caller asks for one (tests, diagnostics).
    value: OnceLock<Value>,
}

impl PolicyDocument {
    /// A document from its JSON text, which must be valid JSON (it is parsed into a policy here;
    /// a policy error is kept, not raised). Its statements are taken from `statements` when an
    /// identical one is there, and added to it otherwise.
    fn from_json_text(text: &str, statements: Option<&mut HashSet<Arc<Statement>>>) -> Self {
        let parsed = serde_json::from_str::<Value>(text)
            .map_err(|e| PolicyError {
                at: String::new(),
                message: format!("document is not JSON: {e}"),
            })
            .and_then(|v| Policy::from_value(&v))
            .map(|mut policy| {
                if let Some(seen) = statements {
                    share_statements(&mut policy, seen);
                }
                Arc::new(policy)
            });
        PolicyDocument(Arc::new(Inner {
            text: text.into(),
            parsed,
            value: OnceLock::new(),
        }))
    }

    /// The parsed policy, or why the document does not parse.
    pub fn policy(&self) -> Result<&Arc<Policy>, &PolicyError> {
        self.0.parsed.as_ref()
    }

    /// The document as a JSON value (built on first use and kept).
    pub fn value(&self) -> &Value {
        self.0
            .value
            .get_or_init(|| serde_json::from_str(&self.0.text).unwrap_or(Value::Null))
    }

    /// True when the document is written as a JSON object (not as JSON text in a string).
    pub fn is_object(&self) -> bool {
        self.0.text.trim_start().starts_with('{')
    }

    /// True when both handles share one parse (interned).
    pub fn shares_parse_with(&self, other: &PolicyDocument) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl From<Value> for PolicyDocument {
    fn from(value: Value) -> Self {
        let text = value.to_string();
        let parsed = Policy::from_value(&value).map(Arc::new);
        PolicyDocument(Arc::new(Inner {
            text: text.into(),
            parsed,
            value: OnceLock::from(value),
        }))
    }
}

impl std::ops::Index<&str> for PolicyDocument {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        &self.value()[key]
    }
}

impl fmt::Debug for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text)
    }
}

impl PartialEq for PolicyDocument {
    fn eq(&self, other: &Self) -> bool {
        self.shares_parse_with(other) || self.value() == other.value()
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.value.get() {
            Some(v) => v.serialize(serializer),
            None => serde_json::from_str::<Value>(&self.0.text)
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = Box::deserialize(deserializer)?;
        Ok(intern(raw.get()))
    }
}

impl JsonSchema for PolicyDocument {
    fn inline_schema() -> bool {
        Value::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        Value::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        Value::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        Value::json_schema(generator)
    }
}

/// A set key that finds an interned document by its text.
struct ByText(PolicyDocument);

impl Borrow<str> for ByText {
    fn borrow(&self) -> &str {
        &self.0.0.text
    }
}
impl PartialEq for ByText {
    fn eq(&self, other: &Self) -> bool {
        self.0.0.text == other.0.0.text
    }
}
impl Eq for ByText {}
impl Hash for ByText {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.0.text.hash(state);
    }
}

/// Replaces each statement of `policy` by the identical one in `seen`, or records it there.
fn share_statements(policy: &mut Policy, seen: &mut HashSet<Arc<Statement>>) {
    for st in &mut policy.statements {
        match seen.get(&**st) {
            Some(found) => *st = Arc::clone(found),
            None => {
                seen.insert(Arc::clone(st));
            }
        }
    }
}

/// What one [`interning`] scope has seen: documents by text, and their statements.
#[derive(Default)]
struct Seen {
    documents: HashSet<ByText>,
    statements: HashSet<Arc<Statement>>,
}

thread_local! {
    static INTERNER: RefCell<Option<Seen>> = const { RefCell::new(None) };
}

/// The document for `text`: the interned one when the same text was seen during the current
/// [`interning`] scope, otherwise a new parse (recorded in the scope, if any).
fn intern(text: &str) -> PolicyDocument {
    INTERNER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let Some(seen) = slot.as_mut() else {
            return PolicyDocument::from_json_text(text, None);
        };
        if let Some(found) = seen.documents.get(text) {
            return found.0.clone();
        }
        let doc = PolicyDocument::from_json_text(text, Some(&mut seen.statements));
        seen.documents.insert(ByText(doc.clone()));
        doc
    })
}

/// Runs `f` (a deserialization) with document interning on this thread: identical document
/// texts deserialized inside share one parse, identical statements one [`Statement`]. The
/// tables are dropped when `f` returns.
pub fn interning<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(Option<Seen>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            INTERNER.with(|cell| *cell.borrow_mut() = previous);
        }
    }
    let previous = INTERNER.with(|cell| cell.borrow_mut().replace(Seen::default()));
    let _reset = Reset(previous);
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;

    #[test]
    fn identical_documents_share_one_parse_while_interning() {
        let list = format!("[{TRUST},{TRUST},{TRUST}]");
        let docs: Vec<PolicyDocument> = interning(|| serde_json::from_str(&list)).unwrap();
        assert!(docs[0].shares_parse_with(&docs[1]) && docs[1].shares_parse_with(&docs[2]));
        assert_eq!(docs[0].policy().unwrap().statements.len(), 1);
        // Near miss: outside an interning scope every document is its own parse.
        let docs: Vec<PolicyDocument> = serde_json::from_str(&list).unwrap();
        assert!(!docs[0].shares_parse_with(&docs[1]));
        // A different document is never shared.
        let other = TRUST.replace("lambda", "events");
        let docs: Vec<PolicyDocument> = interning(|| serde_json::from_str(&format!("[{TRUST},{other}]"))).unwrap();
        assert!(!docs[0].shares_parse_with(&docs[1]));
    }

    #[test]
    fn identical_statements_of_different_documents_share_one_statement_while_interning() {
        let deny = r#"{"Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}"#;
        let one = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:eu-west-1:111111111111:a"}},{deny}]}}"#
        );
        let two = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:eu-west-1:111111111111:b"}},{deny}]}}"#
        );
        let list = format!("[{one},{two}]");
        let docs: Vec<PolicyDocument> = interning(|| serde_json::from_str(&list)).unwrap();
        let (a, b) = (docs[0].policy().unwrap(), docs[1].policy().unwrap());
        assert!(!docs[0].shares_parse_with(&docs[1]));
        assert!(Arc::ptr_eq(&a.statements[1], &b.statements[1]));
        // Near miss: statements that differ in one resource stay apart.
        assert!(!Arc::ptr_eq(&a.statements[0], &b.statements[0]));
        assert_ne!(a.statements[0], b.statements[0]);
        // Outside an interning scope nothing is shared.
        let docs: Vec<PolicyDocument> = serde_json::from_str(&list).unwrap();
        let (a, b) = (docs[0].policy().unwrap(), docs[1].policy().unwrap());
        assert!(!Arc::ptr_eq(&a.statements[1], &b.statements[1]));
        assert_eq!(a.statements[1], b.statements[1]);
    }

    #[test]
    fn serializes_as_the_value_it_replaces() {
        for v in [
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}], "Id": 1.5}),
            json!("{\"Statement\": []}"),
        ] {
            let text = serde_json::to_string_pretty(&v).unwrap();
            let doc: PolicyDocument = serde_json::from_str(&text).unwrap();
            assert_eq!(serde_json::to_string_pretty(&doc).unwrap(), text);
            assert_eq!(
                serde_json::to_string(&PolicyDocument::from(v.clone())).unwrap(),
                v.to_string()
            );
        }
    }

    #[test]
    fn a_bad_document_keeps_its_error() {
        let doc: PolicyDocument =
            serde_json::from_str(r#"{"Statement": [{"Effect": "Maybe", "Action": "*"}]}"#).unwrap();
        let e = doc.policy().unwrap_err();
        assert_eq!(e.at, "Statement[0].Effect");
        let from_value = serde_json::from_value::<PolicyDocument>(json!(42)).unwrap();
        assert!(from_value.policy().is_err());
    }
}
