//! Amazon Resource Names: parsing, and glob matching of ARN patterns as IAM policies write them.
//!
//! ARNs are case-sensitive; `*` matches any run of characters and `?` any one character, across
//! the `:` and `/` separators, as IAM does for the `Resource` element.

use std::fmt;

/// The parts of an ARN: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

/// The six `:`-separated parts of an ARN or an ARN pattern (the last keeps its own `:`), unchecked;
/// `None` with fewer than six.
pub fn split(s: &str) -> Option<[&str; 6]> {
    let mut parts = s.splitn(6, ':');
    let mut out = [""; 6];
    for part in &mut out {
        *part = parts.next()?;
    }
    Some(out)
}

/// Why a string is not an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnError(String);

impl fmt::Display for ArnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ArnError {}

impl<'a> Arn<'a> {
    /// Parses an ARN, checking its shape: six `:`-separated parts, a known partition, a service,
    /// an account that is empty, `aws` or twelve digits, and a non-empty resource.
    pub fn parse(s: &'a str) -> Result<Self, ArnError> {
        let Some([prefix, partition, service, region, account, resource]) = split(s) else {
            return Err(ArnError(format!(
                "`{s}` is not an ARN: expected `arn:partition:service:region:account:resource`"
            )));
        };
        if prefix != "arn" {
            return Err(ArnError(format!("`{s}` is not an ARN: it does not start with `arn:`")));
        }
        if !matches!(
            partition,
            "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b" | "aws-eusc"
        ) {
            return Err(ArnError(format!("`{s}` has unknown partition `{partition}`")));
        }
        if service.is_empty() || !service.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ArnError(format!("`{s}` has an invalid service `{service}`")));
        }
        if !region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ArnError(format!("`{s}` has an invalid region `{region}`")));
        }
        if !(account.is_empty() || account == "aws" || is_account_id(account)) {
            return Err(ArnError(format!(
                "`{s}` has an invalid account `{account}`: expected twelve digits"
            )));
        }
        if resource.is_empty() {
            return Err(ArnError(format!("`{s}` has an empty resource part")));
        }
        Ok(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// The region, or `None` for global resources.
    pub fn region(&self) -> Option<&'a str> {
        (!self.region.is_empty()).then_some(self.region)
    }

    /// The account, or `None` for resources whose ARN carries none (S3 buckets).
    pub fn account(&self) -> Option<&'a str> {
        is_account_id(self.account).then_some(self.account)
    }
}

/// The resource that owns a sub-resource ARN: the bucket of an S3 object
/// (`arn:aws:s3:::B/key` → `arn:aws:s3:::B`), the table of a DynamoDB index or stream
/// (`…:table/T/index/I`, `…:table/T/stream/S` → `…:table/T`). `None` for anything else.
pub fn owning_resource(id: &str) -> Option<&str> {
    let arn = Arn::parse(id).ok()?;
    let cut = match arn.service {
        "s3" if arn.account.is_empty() && arn.region.is_empty() => arn.resource.find('/')?,
        "dynamodb" => {
            let name = arn.resource.strip_prefix("table/")?;
            let slash = name.find('/')?;
            let rest = name.get(slash..)?;
            if !(rest.starts_with("/index/") || rest.starts_with("/stream/")) {
                return None;
            }
            "table/".len() + slash
        }
        _ => return None,
    };
    let base_len = id.len() - arn.resource.len() + cut;
    id.get(..base_len).filter(|b| !b.is_empty())
}

/// The queue URL of an SQS queue ARN (`https://sqs.<region>.amazonaws.com/<account>/<name>`).
pub fn sqs_queue_url(queue: &Arn<'_>) -> String {
    format!(
        "https://sqs.{}.amazonaws.com/{}/{}",
        queue.region, queue.account, queue.resource
    )
}

/// The ARN of the queue an SQS queue URL names, the reverse of [`sqs_queue_url`].
pub fn sqs_queue_arn(url: &str) -> Option<String> {
    let rest = url.strip_prefix("https://sqs.")?;
    let (region, rest) = rest.split_once('.')?;
    let (_, path) = rest.split_once('/')?;
    let (account, name) = path.split_once('/')?;
    let partition = if region.starts_with("cn-") { "aws-cn" } else { "aws" };
    (is_account_id(account) && !name.is_empty() && !name.contains('/'))
        .then(|| format!("arn:{partition}:sqs:{region}:{account}:{name}"))
}

/// The account of an account-root principal (`arn:aws:iam::123456789012:root`), `None` for any
/// other principal.
pub fn root_account(principal: &str) -> Option<&str> {
    Arn::parse(principal)
        .ok()
        .filter(|a| a.service == "iam" && a.resource == "root")
        .and_then(|a| a.account())
}

/// The account a `Principal` value names as a whole: its root ARN or its bare id (the same
/// principal). <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts>
pub fn named_account(principal: &str) -> Option<&str> {
    root_account(principal).or(is_account_id(principal).then_some(principal))
}

/// True when `s` is a twelve-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Glob match with `*` (any run) and `?` (one character), case-sensitive, as IAM matches ARNs.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    glob_match_bytes(pattern.as_bytes(), text.as_bytes(), false)
}

/// Glob match ignoring ASCII case, as IAM matches action names.
pub fn glob_match_ignore_case(pattern: &str, text: &str) -> bool {
    glob_match_bytes(pattern.as_bytes(), text.as_bytes(), true)
}

fn glob_match_bytes(p: &[u8], t: &[u8], fold: bool) -> bool {
    // Iterative matcher with one backtrack point: linear in practice, never recursive. `?` and
    // each retry of `*` step over one whole character of the text (a UTF-8 sequence), so `?`
    // matches `é` as IAM's "any single character" does; literal bytes compare one by one.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let eq = |a: u8, b: u8| {
        if fold { a.eq_ignore_ascii_case(&b) } else { a == b }
    };
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(b'?') => {
                pi += 1;
                ti += char_len(t, ti);
            }
            Some(&pc) if t.get(ti).is_some_and(|&tc| eq(pc, tc)) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    let next = st + char_len(t, st);
                    pi = sp + 1;
                    ti = next;
                    star = Some((sp, next));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
}

/// The length of the UTF-8 sequence that starts at byte `i` of `t` (1 for a byte that starts
/// none, and at the end of the text).
fn char_len(t: &[u8], i: usize) -> usize {
    match t.get(i) {
        Some(b) if *b >= 0xF0 => 4,
        Some(b) if *b >= 0xE0 => 3,
        Some(b) if *b >= 0xC0 => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_regional_and_global_arns() {
        let a = Arn::parse("arn:aws:sqs:eu-west-1:123456789012:orders").unwrap();
        assert_eq!(a.service, "sqs");
        assert_eq!(a.region(), Some("eu-west-1"));
        assert_eq!(a.account(), Some("123456789012"));
        let b = Arn::parse("arn:aws:s3:::invoice-archive").unwrap();
        assert_eq!(b.region(), None);
        assert_eq!(b.account(), None);
        assert_eq!(b.resource, "invoice-archive");
        let c = Arn::parse("arn:aws:events:eu-west-1:123456789012:rule/bus/name:with:colons").unwrap();
        assert_eq!(c.resource, "rule/bus/name:with:colons");
    }

    #[test]
    fn sqs_queue_urls_and_arns_map_both_ways() {
        let arn = "arn:aws:sqs:eu-west-1:111111111111:orders";
        let url = sqs_queue_url(&Arn::parse(arn).unwrap());
        assert_eq!(url, "https://sqs.eu-west-1.amazonaws.com/111111111111/orders");
        assert_eq!(sqs_queue_arn(&url).as_deref(), Some(arn));
        assert_eq!(
            sqs_queue_arn("https://sqs.eu-west-1.amazonaws.com/not-an-account/q"),
            None
        );
        assert_eq!(root_account("arn:aws:iam::111111111111:root"), Some("111111111111"));
        assert_eq!(root_account("arn:aws:iam::111111111111:role/x"), None);
    }

    #[test]
    fn rejects_malformed_arns() {
        for bad in [
            "",
            "orders",
            "arn:aws:sqs:eu-west-1:123456789012",
            "arn:foo:sqs:eu-west-1:123456789012:q",
            "arn:aws:sqs:eu-west-1:12345:q",
            "arn:aws::eu-west-1:123456789012:q",
            "arn:aws:sqs:eu-west-1:123456789012:",
            "ARN:aws:sqs:eu-west-1:123456789012:q",
        ] {
            assert!(Arn::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn glob_matches_like_iam() {
        assert!(glob_match(
            "arn:aws:sqs:*:123456789012:orders-*",
            "arn:aws:sqs:eu-west-1:123456789012:orders-eu"
        ));
        assert!(!glob_match(
            "arn:aws:sqs:*:123456789012:orders-*",
            "arn:aws:sqs:eu-west-1:123456789012:Orders-eu"
        ));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*", ""));
        assert!(glob_match("**a", "ba"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match_ignore_case("S3:Get*", "s3:getobject"));
    }

    /// `?` is any single character, also one that takes several bytes in UTF-8 (S3 object keys
    /// are UTF-8), and `*` resumes after whole characters. Found by
    /// `iam::properties::glob_matching_agrees_with_a_regular_expression`.
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html>
    #[test]
    fn near_miss_question_mark_is_one_character_not_one_byte() {
        assert!(glob_match("arn:aws:s3:::b/caf?", "arn:aws:s3:::b/café"));
        assert!(!glob_match("arn:aws:s3:::b/caf??", "arn:aws:s3:::b/café"));
        assert!(glob_match("?", "€") && glob_match("?", "😀") && !glob_match("?", "😀x"));
        assert!(glob_match("*?x", "éx") && glob_match("*é?", "aéé") && !glob_match("*é?", "aé"));
        assert!(glob_match_ignore_case("?B", "éb"));
    }
}
