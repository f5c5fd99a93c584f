//! Policy documents as the APIs return them (JSON text, sometimes URL-encoded) turned into JSON
//! objects, and the ARNs and URLs found in Lambda environment values — never the values.

use super::apis::Api;
use super::ctx::{CallError, Ctx, Scope};
use crate::arn::Arn;
use crate::iam::Policy;
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Decodes a policy document: JSON text, URL-decoded first when it does not start with `{`.
pub fn decode_document(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    let decoded;
    let json = if trimmed.starts_with('{') {
        trimmed
    } else {
        decoded = percent_encoding::percent_decode_str(trimmed)
            .decode_utf8()
            .map_err(|e| format!("URL-encoded document is not UTF-8: {e}"))?;
        decoded.as_ref()
    };
    let value: Value = serde_json::from_str(json).map_err(|e| format!("document is not JSON: {e}"))?;
    Policy::from_value(&value).map_err(|e| format!("invalid policy document: {e}"))?;
    Ok(value)
}

/// Decodes the document of `owner`; an unreadable document becomes a gap and `None`, so that the
/// snapshot still loads.
pub fn parse_document(ctx: &Ctx, api: Api, scope: Scope<'_>, owner: &str, text: &str) -> Option<Value> {
    match decode_document(text) {
        Ok(v) => Some(v),
        Err(message) => {
            ctx.gap(
                api,
                scope,
                CallError {
                    code: "InvalidPolicyDocument".to_string(),
                    message: format!("policy of `{owner}`: {message}"),
                },
            );
            None
        }
    }
}

fn arn_pattern() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(?:[0-9]{12}|aws)?:[A-Za-z0-9_/.:+=@,*-]+").ok()
    })
    .as_ref()
}

fn url_pattern() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"(?i)\b(?:https?|wss?)://[^\s"'<>,;]+"#).ok())
        .as_ref()
}

/// The ARNs and URLs found in an environment value. URLs lose their user info, query and
/// fragment (where secrets hide); the value itself is never returned.
pub fn references(value: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    if let Some(re) = arn_pattern() {
        for m in re.find_iter(value) {
            let arn = m.as_str().trim_end_matches(['.', ',', ':']);
            if Arn::parse(arn).is_ok() {
                found.insert(arn.to_string());
            }
        }
    }
    if let Some(re) = url_pattern() {
        for m in re.find_iter(value) {
            if let Some(url) = clean_url(m.as_str()) {
                found.insert(url);
            }
        }
    }
    found
}

/// `scheme://host[:port]/path` of a URL: no user info, query or fragment.
fn clean_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, ""),
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.is_empty() {
        return None;
    }
    Some(format!("{}://{host}{path}", scheme.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_raw_and_url_encoded_documents() {
        let raw = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let encoded = percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string();
        assert_eq!(decode_document(raw).unwrap(), decode_document(&encoded).unwrap());
        assert!(decode_document("not json").is_err());
    }

    #[test]
    fn references_keep_arns_and_clean_urls_only() {
        let found = references(
            "queue=arn:aws:sqs:eu-west-1:111111111111:orders, url=https://user:hunter2@api.example.com/v1/x?token=s3cr3t#frag",
        );
        let found: Vec<_> = found.into_iter().collect();
        assert_eq!(
            found,
            vec![
                "arn:aws:sqs:eu-west-1:111111111111:orders".to_string(),
                "https://api.example.com/v1/x".to_string()
            ]
        );
        assert!(references("hunter2-s3cr3t").is_empty());
    }
}
