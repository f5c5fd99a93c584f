//! Where each resource is defined in the snapshot text: one pass over the bytes builds an index
//! from a resource's identity (its `arn`, and its `id` — account ids, unit and policy ids) to
//! the span of its JSON object.
//!
//! A *resource object* is an element of an array that is a member of the top-level object
//! (`roles[i]`, `functions[i]`, …) or of `organization` (`organization.accounts[i]`, …); nested
//! objects (rule targets, policy statements) are not indexed, so an ARN that a rule targets
//! points at the resource that defines it, not at the rule. When two objects carry the same
//! identity the first wins (validation rejects duplicate ARNs anyway).
//!
//! Positions come from [`Lines`], the crate's one line/column implementation (1-based lines,
//! columns in Unicode code points, SARIF `columnKind` `unicodeCodePoints`; byte offsets 0-based;
//! the end exclusive: just after the closing `}`). The scan keeps byte ranges; lines and columns
//! are computed only for the identities a report asks for. The scan does not validate JSON (the
//! loader did); on text that is not JSON it indexes what it can and never panics.

pub use crate::finding::Span;
use crate::finding::{Lines, json_string_end};
use std::collections::HashMap;
use std::ops::Range;

/// Identity → span of the resource object that defines it.
#[derive(Debug)]
pub struct LocationIndex<'t> {
    ranges: HashMap<String, Range<usize>>,
    lines: Lines<'t>,
}

/// What a container on the scan stack is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Root,
    Organization,
    /// An array member of the root or of `organization`.
    Collection,
    Resource,
    Other,
}

#[derive(Debug)]
struct Frame {
    role: Role,
    is_object: bool,
    /// In an object: the next string is a key.
    expect_key: bool,
    /// The last key read in this object.
    key: Option<Key>,
    /// Byte offset of the opening bracket.
    start: usize,
    /// Identities found in this resource object.
    ids: Vec<String>,
}

/// The keys the index cares about; every other key is `Other` (not decoded, not stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Arn,
    Id,
    Organization,
    Other,
}

impl Key {
    fn of(raw: &str) -> Key {
        let name = if raw.contains('\\') {
            std::borrow::Cow::Owned(decode(raw))
        } else {
            std::borrow::Cow::Borrowed(raw.get(1..raw.len().saturating_sub(1)).unwrap_or(""))
        };
        match name.as_ref() {
            "arn" => Key::Arn,
            "id" => Key::Id,
            "organization" => Key::Organization,
            _ => Key::Other,
        }
    }
}

impl<'t> LocationIndex<'t> {
    /// Scans `text` once.
    pub fn build(text: &'t str) -> Self {
        let bytes = text.as_bytes();
        let mut ranges: HashMap<String, Range<usize>> = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'"' => {
                    let end = json_string_end(bytes, i);
                    let raw = text.get(i..end).unwrap_or("");
                    on_string(&mut stack, raw);
                    i = end;
                    continue;
                }
                b'{' | b'[' => {
                    let role = child_role(&stack, b == b'{');
                    if let Some(f) = stack.last_mut() {
                        f.key = None;
                    }
                    stack.push(Frame {
                        role,
                        is_object: b == b'{',
                        expect_key: b == b'{',
                        key: None,
                        start: i,
                        ids: Vec::new(),
                    });
                }
                b'}' | b']' => {
                    if let Some(frame) = stack.pop()
                        && frame.role == Role::Resource
                    {
                        for id in frame.ids {
                            ranges.entry(id).or_insert(frame.start..i + 1);
                        }
                    }
                }
                b',' => {
                    if let Some(f) = stack.last_mut() {
                        f.expect_key = f.is_object;
                        f.key = None;
                    }
                }
                b':' => {
                    if let Some(f) = stack.last_mut() {
                        f.expect_key = false;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        LocationIndex {
            ranges,
            lines: Lines::new(text),
        }
    }

    /// The span of the object that defines `id` (an ARN or an account id).
    pub fn get(&self, id: &str) -> Option<Span> {
        self.ranges.get(id).map(|r| self.lines.span(r.clone()))
    }

    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// The role of a container opened inside the top of `stack`.
fn child_role(stack: &[Frame], is_object: bool) -> Role {
    let Some(parent) = stack.last() else {
        return if is_object { Role::Root } else { Role::Other };
    };
    match (parent.role, is_object) {
        (Role::Root, true) if parent.key == Some(Key::Organization) => Role::Organization,
        (Role::Root | Role::Organization, false) => Role::Collection,
        (Role::Collection, true) => Role::Resource,
        _ => Role::Other,
    }
}

/// A JSON string (with its quotes) read at the top of `stack`: a key, or an identity of a
/// resource object.
fn on_string(stack: &mut [Frame], raw: &str) {
    let Some(frame) = stack.last_mut() else { return };
    if frame.is_object && frame.expect_key {
        frame.key = Some(Key::of(raw));
        return;
    }
    if frame.role == Role::Resource && matches!(frame.key, Some(Key::Arn | Key::Id)) {
        frame.ids.push(decode(raw));
    }
}

/// The value of a JSON string literal; the raw text between the quotes if it does not decode.
fn decode(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.get(1..raw.len().saturating_sub(1)).unwrap_or("").to_string();
    }
    serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "{\n  \"organization\": {\"accounts\": [\n    {\"id\": \"111111111111\", \"name\": \"é\"}\n  ]},\n  \"rules\": [\n    {\"arn\": \"arn:aws:events:eu-west-1:111111111111:rule/b/r\", \"targets\": [{\"arn\": \"arn:aws:lambda:eu-west-1:111111111111:function:f\"}]}\n  ],\n  \"functions\": [{\"name\": \"f\",\n    \"arn\": \"arn:aws:lambda:eu-west-1:111111111111:function:f\"}],\n  \"odd\": [{\"arn\": \"x\\u001b\\\"y\"}]\n}\n";

    fn slice(span: Span) -> &'static str {
        TEXT.get(span.byte_offset..span.byte_offset + span.byte_length).unwrap()
    }

    #[test]
    fn resource_objects_are_indexed_with_their_span() {
        let index = LocationIndex::build(TEXT);
        let account = index.get("111111111111").unwrap();
        assert_eq!((account.start_line, account.start_column), (3, 5));
        assert_eq!(slice(account), "{\"id\": \"111111111111\", \"name\": \"é\"}");
        // Columns count code points: the object is 35 characters, 36 bytes.
        assert_eq!(account.byte_length, 36);
        assert_eq!((account.end_line, account.end_column), (3, 5 + 35));
        let rule = index.get("arn:aws:events:eu-west-1:111111111111:rule/b/r").unwrap();
        assert_eq!(rule.start_line, 6);
        assert!(slice(rule).ends_with("}]}"));
        // Decoded identities match what the loader sees.
        assert!(index.get("x\u{1b}\"y").is_some());
    }

    #[test]
    fn nested_objects_do_not_define_resources() {
        let index = LocationIndex::build(TEXT);
        // The rule targets the function first; the function's own object wins.
        let function = index.get("arn:aws:lambda:eu-west-1:111111111111:function:f").unwrap();
        assert_eq!((function.start_line, function.start_column), (8, 17));
        assert_eq!((function.end_line, function.end_column), (9, 63));
        assert!(index.get("arn:aws:lambda:eu-west-1:111111111111:function:g").is_none());
        // Near miss: the `name` member is not an identity.
        assert!(index.get("f").is_none());
        assert_eq!(index.len(), 4);
    }

    #[test]
    fn broken_text_never_panics() {
        for text in [
            "",
            "{",
            "[[[",
            r#"{"a": [{"arn": "x"#,
            "}}]]",
            r#"{"a":[{"arn":"\"#,
            "\u{e9}\"",
        ] {
            let _ = LocationIndex::build(text);
        }
    }
}
