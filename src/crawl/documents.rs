//! Policy documents as the APIs return them (JSON text, sometimes URL-encoded) turned into JSON
//! objects, and what the graph needs from Lambda environment values (ARNs, URL hosts, the ARNs of
//! the queues and buckets URLs name) — never the values.

use super::apis::Api;
use super::ctx::{CallError, Ctx, Scope};
use crate::arn::Arn;
use crate::iam::Policy;
use crate::model::PolicyDocument;
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
pub fn parse_document(ctx: &Ctx, api: Api, scope: Scope<'_>, owner: &str, text: &str) -> Option<PolicyDocument> {
    match decode_document(text) {
        Ok(v) => Some(PolicyDocument::from(v)),
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
    RE.get_or_init(|| Regex::new(r#"(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>,;]+"#).ok())
        .as_ref()
}

/// What the graph needs from an environment value: the ARNs in it, and for each URL the ARN of
/// the AWS resource it names (an SQS queue URL, an S3 bucket URL) or else only `scheme://host`.
/// User info, port, path, query and fragment are dropped (webhook tokens, API keys and
/// presigned signatures live there), and so is a URL whose host cannot be told apart from its
/// credentials; the value itself is never returned.
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
            if let Some(reference) = url_reference(m.as_str()) {
                found.insert(reference);
            }
        }
    }
    found
}

/// The reference kept for one URL (see [`references`]).
fn url_reference(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // An `@` after the authority: a password holding `/`, `?` or `#`, or an `@` in the path;
    // either way the host is not known for sure, so nothing is kept.
    if tail.contains('@') {
        return None;
    }
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_of(host_port)?;
    let path = tail.split(['?', '#']).next().unwrap_or("");
    if let Some(arn) = aws_resource_arn(&host, path) {
        return Some(arn);
    }
    Some(format!("{}://{host}", scheme.to_ascii_lowercase()))
}

/// The host of `host[:port]`, lowercase, when it is a domain name with at least one dot,
/// `localhost`, an IPv4 or a bracketed IPv6 address; `None` for anything else (such as the
/// `user:password` of a URL whose password holds a `/`).
fn host_of(host_port: &str) -> Option<String> {
    let (host, port) = if host_port.starts_with('[') {
        let close = host_port.find(']')?;
        let (host, port) = host_port.split_at(close + 1);
        (host, port.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if port.is_some_and(|p| p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let ok = if let Some(ip6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !ip6.is_empty() && ip6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        host == "localhost"
            || (host.contains('.')
                && host.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }))
    };
    ok.then_some(host)
}

/// The ARN of the AWS resource a URL names: an SQS queue
/// (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`, also the legacy `REGION.queue.` host) or
/// an S3 bucket (virtual-hosted `BUCKET.s3[.-]….amazonaws.com` or path-style
/// `s3[.-]….amazonaws.com/BUCKET/…`); object keys are not kept.
fn aws_resource_arn(host: &str, path: &str) -> Option<String> {
    let (name, partition) = if let Some(n) = host.strip_suffix(".amazonaws.com") {
        (n, "aws")
    } else {
        (host.strip_suffix(".amazonaws.com.cn")?, "aws-cn")
    };
    let labels: Vec<&str> = name.split('.').collect();
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    match labels.as_slice() {
        ["sqs", region] | [region, "queue"] => {
            let (account, queue) = (segments.next()?, segments.next()?);
            let valid = crate::arn::is_account_id(account)
                && queue.len() <= 80
                && queue
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
            (valid && segments.next().is_none() && !queue.is_empty())
                .then(|| format!("arn:{partition}:sqs:{region}:{account}:{queue}"))
        }
        ["queue"] => aws_resource_arn(&format!("us-east-1.queue.{}", host.strip_prefix("queue.")?), path),
        _ => {
            let s3 = labels.iter().position(|l| *l == "s3" || l.starts_with("s3-"))?;
            let bucket = if s3 == 0 {
                segments.next()?.to_string()
            } else {
                labels.get(..s3)?.join(".")
            };
            let valid = (3..=63).contains(&bucket.len())
                && bucket
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
            valid.then(|| format!("arn:{partition}:s3:::{bucket}"))
        }
    }
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

    /// One shape of secret-bearing environment value: the secret parts that must never be kept
    /// and exactly what is kept.
    #[derive(serde::Deserialize)]
    struct Shape {
        name: String,
        value: String,
        secrets: Vec<String>,
        keeps: Vec<String>,
    }

    fn corpus() -> Vec<Shape> {
        serde_json::from_str(include_str!("secret_corpus.json")).unwrap()
    }

    #[test]
    fn no_secret_part_of_any_corpus_shape_is_kept() {
        for shape in corpus() {
            let found = references(&shape.value);
            let kept: Vec<&String> = found.iter().collect();
            for secret in &shape.secrets {
                assert!(
                    !kept.iter().any(|k| k.contains(secret.as_str())),
                    "{}: `{secret}` kept in {kept:?}",
                    shape.name
                );
            }
            let expected: BTreeSet<String> = shape.keeps.iter().cloned().collect();
            assert_eq!(found, expected, "{}", shape.name);
        }
    }

    #[test]
    fn the_whole_corpus_in_one_value_keeps_no_secret() {
        // Shapes next to each other (as in a JSON or comma-separated value) do not merge into
        // one URL that would carry a neighbour's secret.
        let shapes = corpus();
        for separator in [" ", ",", ";", "\n", "\"", "'"] {
            let all: Vec<&str> = shapes.iter().map(|s| s.value.as_str()).collect();
            let found = references(&all.join(separator));
            for shape in &shapes {
                for secret in &shape.secrets {
                    assert!(
                        !found.iter().any(|k| k.contains(secret.as_str())),
                        "{}: `{secret}` kept with separator {separator:?}: {found:?}",
                        shape.name
                    );
                }
            }
        }
    }

    #[test]
    fn aws_resource_urls_become_their_arns() {
        // SQS queue URLs: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html
        // S3 virtual-hosted and path-style URLs: https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html
        let one = |v: &str| references(v).into_iter().collect::<Vec<_>>();
        assert_eq!(
            one("https://sqs.cn-north-1.amazonaws.com.cn/111111111111/q"),
            vec!["arn:aws-cn:sqs:cn-north-1:111111111111:q"]
        );
        assert_eq!(
            one("https://queue.amazonaws.com/111111111111/old"),
            vec!["arn:aws:sqs:us-east-1:111111111111:old"]
        );
        assert_eq!(
            one("https://my.dotted.bucket.s3.amazonaws.com/k"),
            vec!["arn:aws:s3:::my.dotted.bucket"]
        );
        assert_eq!(
            one("https://s3-eu-west-1.amazonaws.com/legacy-bucket/k"),
            vec!["arn:aws:s3:::legacy-bucket"]
        );
        assert_eq!(one("http://localhost:4566/x?y=z"), vec!["http://localhost"]);
        assert_eq!(one("https://[::1]:8443/p"), vec!["https://[::1]"]);
        // Near misses: a queue path with an extra segment or a bad account, a bucket name with
        // capitals, keep only the host.
        assert_eq!(
            one("https://sqs.eu-west-1.amazonaws.com/111111111111/q/extra"),
            vec!["https://sqs.eu-west-1.amazonaws.com"]
        );
        assert_eq!(
            one("https://sqs.eu-west-1.amazonaws.com/1111/q"),
            vec!["https://sqs.eu-west-1.amazonaws.com"]
        );
        assert_eq!(
            one("https://s3.amazonaws.com/Bad_Bucket/k"),
            vec!["https://s3.amazonaws.com"]
        );
        assert!(references("hunter2-s3cr3t").is_empty());
    }
}
