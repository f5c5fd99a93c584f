//! Policy documents of a snapshot, parsed once and interned.
//!
//! A [`PolicyDocument`] keeps the document's JSON text and the typed [`Policy`] parsed from it,
//! behind one shared pointer. While a snapshot is loaded (see
//! [`interning`]), identical documents — the same trust policy on thousands of Lambda roles, the
//! same managed policy document — share one parse: a document whose text was seen before is not
//! parsed again. Identical statements of different documents — the same `Deny` in every
//! inline policy, the same queue statement in every function role of an account — share one
//! [`Statement`] as well. A document that does not parse keeps its error; validation reports it with its
//! location, so a loaded snapshot holds only parsed documents.
//!
//! The text is only read to write the document out again, and it was the largest holder of
//! memory in a loaded snapshot (docs/performance.md). A document object whose `Statement` is an
//! object or a list, and which holds no fractional number, keeps its canonical text (keys sorted,
//! compact: what a `Value` writes) in pieces: the text before the statements, each statement's
//! text, and the text after them; identical pieces of the documents of one [`interning`] scope
//! are one allocation (in a snapshot of Lambda roles only the statement naming the function's own
//! log group is new in each inline policy). Any other document keeps its text as read.
//!
//! On the wire the type is exactly the `serde_json::Value` it replaces (same JSON, same schema):
//! serialization re-reads the kept text into a value, so key order and number forms are what a
//! `Value` would have written.

use crate::iam::{Policy, PolicyError, Statement};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

/// A policy document: its JSON text and the policy parsed from it (or why it does not parse).
#[derive(Clone)]
pub struct PolicyDocument(Arc<Inner>);

struct Inner {
    /// The JSON text (an object, or a string holding the document as the IAM API returns it).
    text: Text,
    /// True when the text is a JSON object (not JSON text in a string).
    object: bool,
    parsed: Result<Arc<Policy>, PolicyError>,
    /// A `Value` view, built only when a caller asks for one (tests, diagnostics).
    value: OnceLock<Value>,
}

impl PolicyDocument {
    /// A document from its JSON text, which must be valid JSON (it is parsed into a policy here;
    /// a policy error is kept, not raised). Its statements are taken from `statements` when an
    /// identical one is there, and added to it otherwise.
    /// Also says whether the kept text is `text` itself (see [`Seen::find`]).
    fn from_json_text(text: &str, seen: Option<&mut Seen>) -> (Self, bool) {
        let value = serde_json::from_str::<Value>(text).map_err(|e| PolicyError {
            at: String::new(),
            message: format!("document is not JSON: {e}"),
        });
        let (mut statements, mut pieces) = match seen {
            Some(seen) => (Some(&mut seen.statements), Some(&mut seen.pieces)),
            None => (None, None),
        };
        let parsed = value
            .as_ref()
            .map_err(Clone::clone)
            .and_then(Policy::from_value)
            .map(|mut policy| {
                if let Some(seen) = statements.take() {
                    share_statements(&mut policy, seen);
                }
                Arc::new(policy)
            });
        let kept = value.as_ref().ok().and_then(|v| Text::split(v, pieces.take()));
        let verbatim = kept.as_ref().is_none_or(|kept| kept.is(text));
        let doc = PolicyDocument(Arc::new(Inner {
            object: is_object_text(text),
            text: kept.unwrap_or_else(|| Text::Whole(text.into())),
            parsed,
            value: OnceLock::new(),
        }));
        (doc, verbatim)
    }

    /// The document's JSON text: as read, or its canonical form (see the module docs).
    fn text(&self) -> Cow<'_, str> {
        self.0.text.get()
    }

    /// The parsed policy, or why the document does not parse.
    pub fn policy(&self) -> Result<&Arc<Policy>, &PolicyError> {
        self.0.parsed.as_ref()
    }

    /// The document as a JSON value (built on first use and kept).
    pub fn value(&self) -> &Value {
        self.0
            .value
            .get_or_init(|| serde_json::from_str(&self.text()).unwrap_or(Value::Null))
    }

    /// True when the document is written as a JSON object (not as JSON text in a string).
    pub fn is_object(&self) -> bool {
        self.0.object
    }

    /// True when both handles share one parse (interned).
    pub fn shares_parse_with(&self, other: &PolicyDocument) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl From<Value> for PolicyDocument {
    fn from(value: Value) -> Self {
        let parsed = Policy::from_value(&value).map(Arc::new);
        PolicyDocument(Arc::new(Inner {
            text: Text::split(&value, None).unwrap_or_else(|| Text::Whole(value.to_string().into())),
            object: value.is_object(),
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
        f.write_str(&self.text())
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
            None => serde_json::from_str::<Value>(&self.text())
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

/// True when `text` (valid JSON) is an object.
fn is_object_text(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// How a document keeps its JSON text.
enum Text {
    /// As read.
    Whole(Box<str>),
    /// The canonical text in pieces: `prefix`, the statements (a list, or the single object when
    /// `single`), `suffix`.
    Split {
        prefix: Arc<str>,
        statements: Box<[Arc<str>]>,
        single: bool,
        suffix: Arc<str>,
    },
}

impl Text {
    /// The pieces of `document`'s canonical text, shared with `pieces` (when given) where the
    /// same piece is there; `None` when the document is not an object with a `Statement` object
    /// or list, or holds a fractional number (whose canonical text might not read back as the
    /// same number).
    fn split(document: &Value, mut pieces: Option<&mut HashSet<Arc<str>>>) -> Option<Text> {
        let Value::Object(map) = document else {
            return None;
        };
        let (statements, single) = match map.get("Statement")? {
            Value::Array(list) => (list.iter().collect::<Vec<_>>(), false),
            object @ Value::Object(_) => (vec![object], true),
            _ => return None,
        };
        if has_fraction(document) {
            return None;
        }
        // What `Value`'s `Display` writes for the object, around the `Statement` value: keys
        // in map order (sorted), `"key":value` joined by commas.
        let (mut prefix, mut suffix) = (String::from("{"), String::new());
        let mut after = false;
        for (key, value) in map {
            if key == "Statement" {
                prefix.push_str("\"Statement\":");
                after = true;
                continue;
            }
            let entry = format!("{}:{value}", Value::String(key.clone()));
            if after {
                suffix.push(',');
                suffix.push_str(&entry);
            } else {
                prefix.push_str(&entry);
                prefix.push(',');
            }
        }
        suffix.push('}');
        let mut share = |piece: &str| -> Arc<str> {
            match pieces.as_deref_mut() {
                Some(seen) => crate::intern::share_str(seen, piece),
                None => Arc::from(piece),
            }
        };
        Some(Text::Split {
            prefix: share(&prefix),
            statements: statements.iter().map(|s| share(&s.to_string())).collect(),
            single,
            suffix: share(&suffix),
        })
    }

    /// True when the kept text is `read`, compared piece by piece.
    fn is(&self, read: &str) -> bool {
        let Text::Split {
            prefix,
            statements,
            single,
            suffix,
        } = self
        else {
            return matches!(self, Text::Whole(text) if **text == *read);
        };
        let mut rest = read;
        let mut take = |piece: &str| match rest.strip_prefix(piece) {
            Some(r) => {
                rest = r;
                true
            }
            None => false,
        };
        let whole = take(prefix)
            && (*single || take("["))
            && statements
                .iter()
                .enumerate()
                .all(|(i, s)| (i == 0 || take(",")) && take(s))
            && (*single || take("]"))
            && take(suffix);
        whole && rest.is_empty()
    }

    fn get(&self) -> Cow<'_, str> {
        match self {
            Text::Whole(text) => Cow::Borrowed(text),
            Text::Split {
                prefix,
                statements,
                single,
                suffix,
            } => {
                let mut out = String::with_capacity(
                    prefix.len() + suffix.len() + statements.iter().map(|s| s.len() + 1).sum::<usize>() + 2,
                );
                out.push_str(prefix);
                if !single {
                    out.push('[');
                }
                for (i, statement) in statements.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(statement);
                }
                if !single {
                    out.push(']');
                }
                out.push_str(suffix);
                Cow::Owned(out)
            }
        }
    }
}

/// True when `v` holds a number that is neither a signed nor an unsigned 64-bit integer.
fn has_fraction(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_i64().is_none() && n.as_u64().is_none(),
        Value::Array(list) => list.iter().any(has_fraction),
        Value::Object(map) => map.values().any(has_fraction),
        _ => false,
    }
}

/// The canonical text of `text` (as a `Value` writes it), `None` when it is not JSON.
fn canonical(text: &str) -> Option<String> {
    serde_json::from_str::<Value>(text).ok().map(|v| v.to_string())
}

/// Replaces each statement of `policy` by the identical one in `seen`, or records it there.
fn share_statements(policy: &mut Policy, seen: &mut HashSet<Arc<Statement>>) {
    for st in &mut policy.statements {
        *st = crate::intern::share(seen, Arc::clone(st));
    }
}

/// What one [`interning`] scope has seen: documents by the hash of the text they were read from,
/// their statements, and the pieces of their texts.
#[derive(Default)]
struct Seen {
    hasher: RandomState,
    /// Each with whether its kept text is the text it was read from.
    documents: HashMap<u64, Vec<(PolicyDocument, bool)>>,
    statements: HashSet<Arc<Statement>>,
    pieces: HashSet<Arc<str>>,
}

impl Seen {
    /// The document read before from the same `text` (or from a text with the same canonical
    /// form, when the first was not kept verbatim).
    fn find(&self, key: u64, text: &str) -> Option<PolicyDocument> {
        let candidates = self.documents.get(&key)?;
        let mut canonical_text: Option<Option<String>> = None;
        candidates.iter().find_map(|(doc, verbatim)| {
            let same = if *verbatim {
                doc.0.text.is(text)
            } else {
                let canonical_text = canonical_text.get_or_insert_with(|| canonical(text));
                canonical_text.as_deref() == Some(&*doc.text())
            };
            same.then(|| doc.clone())
        })
    }
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
            return PolicyDocument::from_json_text(text, None).0;
        };
        let key = seen.hasher.hash_one(text);
        if let Some(found) = seen.find(key, text) {
            return found;
        }
        let (doc, verbatim) = PolicyDocument::from_json_text(text, Some(seen));
        seen.documents.entry(key).or_default().push((doc.clone(), verbatim));
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

    /// Prefix, statements and suffix of a split text.
    type Pieces<'a> = (&'a Arc<str>, &'a [Arc<str>], &'a Arc<str>);

    /// The pieces of a split text, or `None` for a text kept whole.
    fn pieces(doc: &PolicyDocument) -> Option<Pieces<'_>> {
        match &doc.0.text {
            Text::Split {
                prefix,
                statements,
                suffix,
                ..
            } => Some((prefix, statements, suffix)),
            Text::Whole(_) => None,
        }
    }

    #[test]
    fn statement_texts_of_different_documents_are_kept_once_while_interning() {
        let deny = r#"{"Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}"#;
        let one = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"a"}},{deny}]}}"#
        );
        let two = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"b"}},{deny}],"Version":"2012-10-17"}}"#
        );
        let docs: Vec<PolicyDocument> = interning(|| serde_json::from_str(&format!("[{one},{two}]"))).unwrap();
        let (p1, s1, x1) = pieces(&docs[0]).unwrap();
        let (p2, s2, x2) = pieces(&docs[1]).unwrap();
        assert!(Arc::ptr_eq(p1, p2) && Arc::ptr_eq(x1, x2) && Arc::ptr_eq(&s1[1], &s2[1]));
        assert!(!Arc::ptr_eq(&s1[0], &s2[0]));
        // The kept text is the canonical one: keys sorted, whatever order they were read in.
        let canonical = |t: &str| serde_json::from_str::<Value>(t).unwrap().to_string();
        assert_eq!(docs[0].text(), canonical(&one));
        assert_eq!(docs[1].text(), canonical(&two));
        // Outside an interning scope the pieces are the document's own.
        let alone: Vec<PolicyDocument> = serde_json::from_str(&format!("[{one},{two}]")).unwrap();
        assert!(!Arc::ptr_eq(pieces(&alone[0]).unwrap().0, pieces(&alone[1]).unwrap().0));
    }

    #[test]
    fn a_split_text_is_compared_piece_by_piece() {
        let text = r#"{"Id":"x","Statement":[{"Action":"a","Effect":"Allow"},{"Action":"b","Effect":"Deny"}],"Version":"2012-10-17"}"#;
        let kept = Text::split(&serde_json::from_str(text).unwrap(), None).unwrap();
        assert_eq!(kept.get(), text);
        assert!(kept.is(text));
        // Near misses: a character more, less, or different anywhere.
        assert!(!kept.is(&format!("{text} ")));
        assert!(!kept.is(&text[..text.len() - 1]));
        assert!(!kept.is(&text.replace("Deny", "Dény")));
        assert!(!kept.is(&text.replace("},{", "}, {")));
        let single = r#"{"Statement":{"Action":"a","Effect":"Allow"}}"#;
        let kept = Text::split(&serde_json::from_str(single).unwrap(), None).unwrap();
        assert!(kept.is(single) && !kept.is(r#"{"Statement":[{"Action":"a","Effect":"Allow"}]}"#));
    }

    #[test]
    fn documents_that_cannot_be_split_keep_their_text_as_read() {
        for text in [
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Condition":{"NumericLessThan":{"k":1.5}}}}"#,
            r#"{"Version": "2012-10-17"}"#,
            r#""{\"Statement\": []}""#,
            r#"{"Statement": "not a list"}"#,
        ] {
            let doc: PolicyDocument = interning(|| serde_json::from_str(text)).unwrap();
            assert!(pieces(&doc).is_none(), "{text}");
            assert_eq!(doc.text(), text);
        }
        // Near miss: a single statement object (and integers) split, and write back as read.
        let text = r#"{"Statement":{"Action":"s3:*","Condition":{"NumericLessThan":{"k":15}},"Effect":"Allow"}}"#;
        let doc: PolicyDocument = interning(|| serde_json::from_str(text)).unwrap();
        assert!(pieces(&doc).is_some());
        assert_eq!(serde_json::to_string(&doc).unwrap(), text);
    }

    #[test]
    fn indented_documents_are_interned_by_what_was_read() {
        let pretty = "{\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:*\"}\n  ]\n}";
        let compact = r#"{"Statement":[{"Action":"s3:*","Effect":"Allow"}]}"#;
        let list = format!("[{pretty},{pretty},{compact}]");
        let docs: Vec<PolicyDocument> = interning(|| serde_json::from_str(&list)).unwrap();
        assert!(docs[0].shares_parse_with(&docs[1]));
        // A different text hashes apart and is its own parse (as before), with the same value.
        assert!(!docs[0].shares_parse_with(&docs[2]));
        assert_eq!(docs[0], docs[2]);
        assert_eq!(
            serde_json::to_string_pretty(&docs[0]).unwrap(),
            serde_json::to_string_pretty(&docs[2]).unwrap()
        );
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
