//! Session policies read from a file: the DevOps Agent guardrail of the config and the inline
//! session policy of `can --session-policy` go through this one parser, so both accept the same
//! documents and report a problem the same way (the line and column inside the file).
//!
//! A session policy is an identity-based policy passed when a session is created; it names no
//! principal, and the session may do only what both it and the role's policies allow
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session>).
use super::Policy;
use crate::diagnostic::json_path;
use crate::finding::Lines;

/// Why a session policy's text was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset in the text where the problem is, when known.
    pub offset: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// ` line L, column C: MESSAGE` against `text` (the text without its byte-order mark), or
    /// `: MESSAGE` when the place is not known.
    pub fn describe(&self, text: &str) -> String {
        match self.offset {
            Some(o) => {
                let (line, column) = Lines::new(strip(text)).position(o);
                format!(" line {line}, column {column}: {}", self.message)
            }
            None => format!(": {}", self.message),
        }
    }
}

fn strip(text: &str) -> &str {
    crate::model::strip_bom(text)
}

/// The session policy in `text` (a UTF-8 byte-order mark is ignored, as in every other input);
/// offsets in a [`Problem`] count from after the mark.
pub fn parse(text: &str) -> Result<Policy, Problem> {
    let text = strip(text);
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let start = Lines::new(text).line_range(e.line()).start;
        let offset = (start + e.column().saturating_sub(1)).min(text.len());
        Problem {
            offset: Some(offset),
            message: format!("not JSON: {e}"),
        }
    })?;
    let located = |at: &str, message: String| Problem {
        offset: json_path::spans(text, &[at]).get(at).map(|r| r.start),
        message,
    };
    if !value.is_object() {
        return Err(Problem {
            offset: Some(0),
            message: "a policy document must be a JSON object".to_string(),
        });
    }
    let policy = Policy::from_value(&value).map_err(|e| located(&e.at, e.to_string()))?;
    for (i, st) in policy.statements.iter().enumerate() {
        if st.principal.is_some() {
            let at = if value.get("Statement").is_some_and(serde_json::Value::is_array) {
                format!("Statement[{i}]")
            } else {
                "Statement".to_string()
            };
            return Err(located(
                &at,
                format!("{at}: a session policy cannot name a `Principal` or `NotPrincipal`"),
            ));
        }
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn fires_a_principal_is_refused_at_its_statement() {
        // An inline session policy names no principal (IAM rejects it as malformed).
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
        let text = "{\"Statement\": [\n {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"},\n {\"Effect\": \"Allow\", \"NotPrincipal\": {\"AWS\": \"*\"}, \"Action\": \"*\", \"Resource\": \"*\"}]}";
        let e = parse(text).unwrap_err();
        assert_eq!(
            e.describe(text),
            " line 3, column 2: Statement[1]: a session policy cannot name a `Principal` or `NotPrincipal`"
        );
    }

    #[test]
    fn quiet_a_bom_is_ignored_and_positions_count_after_it() {
        let good = "\u{feff}{\"Statement\": {\"Effect\": \"Deny\", \"Action\": \"*\", \"Resource\": \"*\"}}";
        assert_eq!(parse(good).unwrap().statements.len(), 1);
        let bad = "\u{feff}{\n  \"Statement\": nope}";
        let e = parse(bad).unwrap_err();
        assert!(e.describe(bad).starts_with(" line 2, column 17: not JSON"), "{e:?}");
    }

    #[test]
    fn near_miss_documents_that_are_not_objects_or_not_policies() {
        let e = parse("[]").unwrap_err();
        assert_eq!(
            e.describe("[]"),
            " line 1, column 1: a policy document must be a JSON object"
        );
        let wrong = "{\"Statement\": {\"Effect\": \"Maybe\", \"Action\": \"*\", \"Resource\": \"*\"}}";
        let e = parse(wrong).unwrap_err();
        assert!(e.offset.is_some(), "{e:?}");
        assert!(e.message.contains("Effect"), "{e:?}");
    }
}
