//! Positions in JSON text: one pass over the bytes that reports each object key with the keys
//! leading to it, its 1-based line and column (in characters), and the value when it is a
//! string. CloudFormation JSON uses it for resource logical ids, Terraform plans for
//! `resource_changes[].address`. It does not validate (serde_json did) and never panics.

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
    let (mut line, mut col) = (1usize, 1usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let (l0, c0) = (line, col);
        advance(c, &mut line, &mut col);
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
                let s = read_string(&mut chars, &mut line, &mut col);
                match stack.last_mut() {
                    Some((Ctx::Object { expect_key }, _)) if *expect_key => {
                        *expect_key = false;
                        out.push(KeyAt {
                            path: path.clone(),
                            key: s.clone(),
                            line: l0,
                            column: c0,
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

fn advance(c: char, line: &mut usize, col: &mut usize) {
    if c == '\n' {
        *line += 1;
        *col = 1;
    } else {
        *col += 1;
    }
}

/// Reads a string body after its opening quote, decoding the simple escapes.
fn read_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, line: &mut usize, col: &mut usize) -> String {
    let mut s = String::new();
    while let Some(c) = chars.next() {
        advance(c, line, col);
        match c {
            '"' => break,
            '\\' => {
                if let Some(e) = chars.next() {
                    advance(e, line, col);
                    match e {
                        'n' => s.push('\n'),
                        't' => s.push('\t'),
                        'u' => {
                            let hex: String = (0..4).filter_map(|_| chars.next()).collect();
                            *col += hex.chars().count();
                            if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                s.push(ch);
                            }
                        }
                        other => s.push(other),
                    }
                }
            }
            other => s.push(other),
        }
    }
    s
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
}
