//! The spans of values named by paths such as `roles[3].inline_policies[0].document` in a JSON
//! text, found in one pass: how snapshot validation problems (which name a path) get a place
//! to point at.
//!
//! A path is keys joined by `.` with array indexes in brackets, as the validator writes them;
//! an object key that itself contains `.` or `[` cannot be told apart, which is fine for the
//! snapshot's own field names. The scan does not validate JSON (the loader parsed it already);
//! on broken text it finds what it can and never panics.

use crate::finding::json_string_end;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// An open container while scanning.
struct Frame {
    is_object: bool,
    /// In an object: the next string is a key.
    expect_key: bool,
    /// Index of the next element (arrays).
    next_index: usize,
    /// Length of the path of this container.
    base: usize,
    /// Where this container started, when its path is wanted.
    wanted_start: Option<usize>,
    /// The path of the member whose value comes next (objects).
    member: Option<String>,
}

/// Byte range of the value at each wanted path that the text has.
pub fn spans(text: &str, wanted: &[&str]) -> HashMap<String, Range<usize>> {
    let wanted: HashSet<&str> = wanted.iter().copied().collect();
    let bytes = text.as_bytes();
    let mut found = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut path = String::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let end = json_string_end(bytes, i);
                let is_key = stack.last().is_some_and(|f| f.is_object && f.expect_key);
                if is_key {
                    let key = decode(text.get(i..end).unwrap_or(""));
                    if let Some(f) = stack.last_mut() {
                        let sep = if f.base == 0 { "" } else { "." };
                        f.member = Some(format!("{}{sep}{key}", path.get(..f.base).unwrap_or("")));
                    }
                } else if let Some(p) = value_path(&mut stack, &mut path)
                    && wanted.contains(p.as_str())
                {
                    found.entry(p).or_insert(i..end);
                }
                i = end;
                continue;
            }
            b'{' | b'[' => {
                let start = value_path(&mut stack, &mut path)
                    .filter(|p| wanted.contains(p.as_str()))
                    .map(|_| i);
                let base = path.len();
                stack.push(Frame {
                    is_object: b == b'{',
                    expect_key: b == b'{',
                    next_index: 0,
                    base,
                    wanted_start: start,
                    member: None,
                });
            }
            b'}' | b']' => {
                if let Some(frame) = stack.pop() {
                    path.truncate(frame.base);
                    if let Some(start) = frame.wanted_start {
                        found.entry(path.clone()).or_insert(start..i + 1);
                    }
                    let parent_base = stack.last().map_or(0, |f| f.base);
                    path.truncate(parent_base);
                }
            }
            b',' => {
                if let Some(f) = stack.last_mut() {
                    f.expect_key = f.is_object;
                }
            }
            b':' => {
                if let Some(f) = stack.last_mut() {
                    f.expect_key = false;
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {
                let end = scalar_end(bytes, i);
                if let Some(p) = value_path(&mut stack, &mut path)
                    && wanted.contains(p.as_str())
                {
                    found.entry(p).or_insert(i..end);
                }
                let parent_base = stack.last().map_or(0, |f| f.base);
                path.truncate(parent_base);
                i = end;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// The path of the value starting now (in `path`, which is left set to it for a container)
/// and a copy of it; `None` for the top-level value.
fn value_path(stack: &mut [Frame], path: &mut String) -> Option<String> {
    let f = stack.last_mut()?;
    path.truncate(f.base);
    if f.is_object {
        path.clear();
        path.push_str(f.member.as_deref().unwrap_or(""));
    } else {
        path.push_str(&format!("[{}]", f.next_index));
        f.next_index += 1;
    }
    Some(path.clone())
}

/// The byte just after a number or literal.
fn scalar_end(bytes: &[u8], start: usize) -> usize {
    let mut j = start;
    while let Some(&b) = bytes.get(j) {
        if matches!(
            b,
            b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'{' | b'[' | b':'
        ) {
            break;
        }
        j += 1;
    }
    j.max(start + 1)
}

/// The value of a JSON string literal; the raw text between the quotes if it does not decode.
fn decode(raw: &str) -> String {
    serde_json::from_str::<String>(raw)
        .unwrap_or_else(|_| raw.get(1..raw.len().saturating_sub(1)).unwrap_or("").to_string())
}

#[cfg(test)]
mod tests {
    use super::spans;

    const TEXT: &str = r#"{"organization": {"accounts": [{"id": "1"}, {"id": "2", "parent": "ou-x"}]},
 "roles": [{"arn": "a", "inline_policies": [{"name": "p", "document": {"Statement": []}}]}],
 "n": [1, -2.5e3, true, null], "k\"ey": {"x": 1}}"#;

    fn at<'a>(path: &str) -> Option<&'a str> {
        let found = spans(TEXT, &[path]);
        found.get(path).map(|r| &TEXT[r.clone()])
    }

    #[test]
    fn values_at_paths_are_found() {
        assert_eq!(at("organization.accounts[1].id"), Some("\"2\""));
        assert_eq!(at("organization.accounts[1].parent"), Some("\"ou-x\""));
        assert_eq!(at("organization.accounts[0]"), Some("{\"id\": \"1\"}"));
        assert_eq!(at("roles[0].inline_policies[0].document"), Some("{\"Statement\": []}"));
        assert_eq!(at("n[1]"), Some("-2.5e3"));
        assert_eq!(at("n[3]"), Some("null"));
        assert_eq!(at("k\"ey.x"), Some("1"));
        // Near misses: an index past the end, a key that is not there.
        assert_eq!(at("organization.accounts[2]"), None);
        assert_eq!(at("roles[0].trust_policy"), None);
    }

    #[test]
    fn broken_text_never_panics() {
        for text in [
            "",
            "{",
            "[[[",
            r#"{"a": [{"b": "x"#,
            "}}]]",
            r#"{"a":"\"#,
            "\u{e9}\"",
            "{\"a\" 1 2 3}",
        ] {
            let _ = spans(text, &["a", "a[0]", "a[0].b"]);
        }
    }
}
