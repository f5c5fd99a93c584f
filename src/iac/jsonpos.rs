//! Positions in JSON text: one pass over the bytes that reports each object key with the keys
//! leading to it, its 1-based line and column (from [`Lines`], the crate's one line/column
//! implementation: columns in Unicode code points), and the value when it is a string.
//! CloudFormation JSON uses it for resource logical ids, Terraform plans for
//! `resource_changes[].address`. It does not validate (serde_json did) and never panics.

use crate::finding::Lines;

/// One object key found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAt {
    /// Keys of the enclosing objects; `[]` stands for an array element.
    pub path: Vec<String>,
    pub key: String,
    pub line: usize,
    pub column: usize,
    /// The value, when it is a string.
    pub string_value: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Object { expect_key: bool },
    Array,
}

/// Every key of every object, in document order.
pub fn keys(text: &str) -> Vec<KeyAt> {
    let mut out: Vec<KeyAt> = Vec::new();
    let mut stack: Vec<(Ctx, Option<String>)> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut last_key: Option<(String, usize)> = None; // key and its index in `out`
    let lines = Lines::new(text);
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' | '[' => {
                let ctx = if c == '{' {
                    Ctx::Object { expect_key: true }
                } else {
                    Ctx::Array
                };
                let label = match stack.last() {
                    Some((Ctx::Array, _)) => Some("[]".to_string()),
                    _ => last_key.take().map(|(k, _)| k),
                };
                if let Some(l) = &label {
                    path.push(l.clone());
                }
                stack.push((ctx, label));
            }
            '}' | ']' => {
                if let Some((_, label)) = stack.pop()
                    && label.is_some()
                {
                    path.pop();
                }
                last_key = None;
            }
            ',' => {
                if let Some((Ctx::Object { expect_key }, _)) = stack.last_mut() {
                    *expect_key = true;
                }
                last_key = None;
            }
            '"' => {
                let s = read_string(text, &mut chars, at);
                match stack.last_mut() {
                    Some((Ctx::Object { expect_key }, _)) if *expect_key => {
                        *expect_key = false;
                        let (line, column) = lines.position(at);
                        out.push(KeyAt {
                            path: path.clone(),
                            key: s.clone(),
                            line,
                            column,
                            string_value: None,
                        });
                        last_key = Some((s, out.len() - 1));
                    }
                    _ => {
                        if let Some((_, i)) = last_key.take()
                            && let Some(k) = out.get_mut(i)
                        {
                            k.string_value = Some(s);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Reads the string whose opening quote is at byte `start` and leaves `chars` after its closing
/// quote; the value is decoded as JSON decodes it (the loader already parsed the text, so a
/// string that does not decode is kept raw rather than refused).
fn read_string(text: &str, chars: &mut std::str::CharIndices<'_>, start: usize) -> String {
    let mut end = text.len();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                end = i + 1;
                break;
            }
            '\\' => {
                chars.next();
            }
            _ => {}
        }
    }
    let raw = text.get(start..end).unwrap_or_default();
    serde_json::from_str::<String>(raw)
        .unwrap_or_else(|_| raw.trim_start_matches('"').trim_end_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_resource_keys_and_address_values() {
        let text = "{\n  \"Resources\": {\n    \"Queue\": {\"Type\": \"AWS::SQS::Queue\"},\n    \"Topic\": {}\n  },\n  \"resource_changes\": [{\"address\": \"a.b[\\\"k\\\"]\"}]\n}";
        let ks = keys(text);
        let res: Vec<_> = ks
            .iter()
            .filter(|k| k.path == ["Resources"])
            .map(|k| (k.key.as_str(), k.line, k.column))
            .collect();
        assert_eq!(res, [("Queue", 3, 5), ("Topic", 4, 5)]);
        let addr = ks.iter().find(|k| k.key == "address").unwrap();
        assert_eq!(addr.path, ["resource_changes", "[]"]);
        assert_eq!(addr.string_value.as_deref(), Some("a.b[\"k\"]"));
        assert_eq!((addr.line, addr.column), (6, 25));
    }

    #[test]
    fn escapes_decode_as_json_and_columns_count_characters() {
        let text = "{\"é\\u00e9\": {\"k\\b\\/\\ud83d\\ude00\": 1, \"ü\": \"a\\tb\"}}";
        let ks = keys(text);
        assert_eq!(ks[0].key, "éé");
        assert_eq!(ks[1].key, "k\u{8}/😀");
        assert_eq!(ks[2].key, "ü");
        assert_eq!(ks[2].string_value.as_deref(), Some("a\tb"));
        // `"ü"` is the 38th character; counting bytes would say 39 (`é` takes two).
        assert_eq!((ks[2].line, ks[2].column), (1, 38));
    }
}
