//! Condition evaluation with three outcomes: true, false, or unknown (the value of a key is not
//! known from the topology). Unknown is reported as "conditional", never silently allowed or
//! denied.
//!
//! Known keys: `aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:PrincipalArn`,
//! `aws:SourceAccount`, `aws:SourceArn`, `aws:RequestedRegion`, `aws:ResourceAccount`,
//! `aws:ResourceOrgID`, `aws:ResourceTag/*`, `aws:PrincipalTag/*`, and any key compared with
//! `IpAddress` / `NotIpAddress` (e.g. `aws:SourceIp`) — each only when the request context
//! carries a value for it.

use super::policy::{BaseOperator, Condition, Quantifier};
use crate::arn::{glob_match, glob_match_ignore_case};
use ipnet::IpNet;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A three-valued truth: `Unknown` carries the condition keys whose values were not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown(Vec<String>),
}

impl Truth {
    /// Conjunction: false wins, then unknown (keys merged), then true.
    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::Unknown(a), Truth::Unknown(b)) => Truth::Unknown(merge_keys(a, b)),
            (Truth::Unknown(a), Truth::True) | (Truth::True, Truth::Unknown(a)) => Truth::Unknown(a),
            (Truth::True, Truth::True) => Truth::True,
        }
    }

    /// Disjunction: true wins, then unknown (keys merged), then false.
    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::Unknown(a), Truth::Unknown(b)) => Truth::Unknown(merge_keys(a, b)),
            (Truth::Unknown(a), Truth::False) | (Truth::False, Truth::Unknown(a)) => Truth::Unknown(a),
            (Truth::False, Truth::False) => Truth::False,
        }
    }
}

/// The unknown keys of two results together, sorted, without repeats.
fn merge_keys(mut a: Vec<String>, b: Vec<String>) -> Vec<String> {
    a.extend(b);
    a.sort();
    a.dedup();
    a
}

/// What is known about a request: the values of each known key (one for single-valued keys, a
/// set for multi-valued keys such as `aws:PrincipalOrgPaths`), plus which keys are known to be
/// absent.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// Lowercased key → values. A key present with `None` is known to be absent from the request;
    /// `Some(empty)` is a multi-valued key present with the empty set.
    values: BTreeMap<String, Option<Vec<String>>>,
}

impl RequestContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a known value (keys are case-insensitive).
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.values.insert(key.to_ascii_lowercase(), Some(vec![value.into()]));
        self
    }

    /// Sets a multi-valued key to a set of values (possibly empty).
    pub fn set_many<I, V>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        let mut v: Vec<String> = values.into_iter().map(Into::into).collect();
        v.sort();
        v.dedup();
        self.values.insert(key.to_ascii_lowercase(), Some(v));
        self
    }

    /// Records that a key is known to be absent from the request.
    pub fn absent(&mut self, key: &str) -> &mut Self {
        self.values.insert(key.to_ascii_lowercase(), None);
        self
    }

    /// Forgets what is known about `key`: its value becomes unknown.
    pub fn forget(&mut self, key: &str) -> &mut Self {
        self.values.remove(&key.to_ascii_lowercase());
        self
    }

    /// True when the context says anything about `key` (a value, a set, or known absence).
    pub fn knows(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    /// Sets every tag as `prefix/<key>` (e.g. `aws:ResourceTag`), and records that the prefix is
    /// known, so a tag not set is known to be absent.
    pub fn tags(&mut self, prefix: &str, tags: &BTreeMap<String, String>) -> &mut Self {
        for (k, v) in tags {
            self.set(&format!("{prefix}/{k}"), v.clone());
        }
        self.values.insert(format!("{}/", prefix.to_ascii_lowercase()), None);
        self
    }

    /// `Some(Some(values))` known, `Some(None)` known absent, `None` unknown.
    fn lookup(&self, key: &str) -> Option<Option<&[String]>> {
        let key = key.to_ascii_lowercase();
        if let Some(v) = self.values.get(&key) {
            return Some(v.as_deref());
        }
        // A tag key under a known tag prefix that is not set is known to be absent.
        if let Some((prefix, _)) = key.split_once('/')
            && self.values.contains_key(&format!("{prefix}/"))
        {
            return Some(None);
        }
        None
    }

    /// The single value of a key; `None` when unknown, absent or multi-valued.
    fn single(&self, key: &str) -> Option<&str> {
        match self.lookup(key)?? {
            [one] => Some(one.as_str()),
            _ => None,
        }
    }

    /// Replaces `${key}` policy variables with known values; `None` when one is unknown.
    fn substitute<'p>(&self, pattern: &'p str) -> Option<Cow<'p, str>> {
        if !pattern.contains("${") {
            return Some(Cow::Borrowed(pattern));
        }
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(rest.get(..start)?);
            let after = rest.get(start + 2..)?;
            let end = after.find('}')?;
            let var = after.get(..end)?;
            match var {
                // Literal characters, kept escaped for the matchers (see `iam::pattern`).
                "*" | "?" | "$" => {
                    out.push_str("${");
                    out.push_str(var);
                    out.push('}');
                }
                _ => out.push_str(self.single(var)?),
            }
            rest = after.get(end + 1..)?;
        }
        out.push_str(rest);
        Some(Cow::Owned(out))
    }
}

/// Evaluates all conditions of a statement (they are ANDed).
pub fn evaluate_all(conditions: &[Condition], ctx: &RequestContext) -> Truth {
    conditions.iter().fold(Truth::True, |acc, c| acc.and(evaluate(c, ctx)))
}

/// Evaluates one condition. A multi-valued key is a set: `ForAnyValue` needs one member to
/// match, `ForAllValues` needs every member to match (true for the empty or absent set); a plain
/// operator on a set of several values behaves as `ForAnyValue` when it is positive and is
/// unknown when it is negated (AWS advises against both).
pub fn evaluate(c: &Condition, ctx: &RequestContext) -> Truth {
    let unknown = || Truth::Unknown(vec![c.key.clone()]);
    let op = &c.operator;
    let Some(known) = ctx.lookup(&c.key) else {
        return unknown();
    };
    let values = known.unwrap_or(&[]);
    if op.base == BaseOperator::Null {
        // "Null": true means the key must be absent (an empty set counts as absent).
        let want_absent = c.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
        return bool_truth(values.is_empty() == want_absent);
    }
    if values.is_empty() {
        // Key absent: IfExists and ForAllValues pass, negated operators pass, others fail.
        return bool_truth(
            op.if_exists || op.quantifier == Some(Quantifier::ForAllValues) || (op.negated && op.quantifier.is_none()),
        );
    }
    let mut patterns = Vec::with_capacity(c.values.len());
    for v in &c.values {
        // Policy variables are substituted only in string and ARN comparisons; in an IP
        // operator `${...}` is not an address and matches nothing:
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        if op.base.is_ip() {
            patterns.push(Cow::Borrowed(v.as_str()));
            continue;
        }
        match ctx.substitute(v) {
            Some(p) => patterns.push(p),
            None => return unknown(),
        }
    }
    let mut results = Vec::with_capacity(values.len());
    for value in values {
        match test(op.base, value, &patterns) {
            Some(b) => results.push(b),
            None => return unknown(),
        }
    }
    match (op.quantifier, results.as_slice()) {
        (Some(Quantifier::ForAllValues), r) => bool_truth(r.iter().all(|b| *b)),
        (Some(Quantifier::ForAnyValue), r) => bool_truth(r.iter().any(|b| *b)),
        (None, [one]) => bool_truth(*one),
        (None, _) if op.negated => unknown(),
        (None, r) => bool_truth(r.iter().any(|b| *b)),
    }
}

/// One operator on one value; `None` when the outcome cannot be decided from a topology.
fn test(base: BaseOperator, value: &str, patterns: &[Cow<'_, str>]) -> Option<bool> {
    use BaseOperator as B;
    let matched = |f: &dyn Fn(&str) -> bool| patterns.iter().any(|p| f(p));
    Some(match base {
        B::StringEquals => matched(&|p| literal(p) == value),
        B::StringNotEquals => !matched(&|p| literal(p) == value),
        B::StringEqualsIgnoreCase => matched(&|p| literal(p).eq_ignore_ascii_case(value)),
        B::StringNotEqualsIgnoreCase => !matched(&|p| literal(p).eq_ignore_ascii_case(value)),
        B::StringLike => matched(&|p| like(p, value, false)),
        B::StringNotLike => !matched(&|p| like(p, value, false)),
        B::ArnEquals | B::ArnLike => matched(&|p| arn_like(p, value)),
        B::ArnNotEquals | B::ArnNotLike => !matched(&|p| arn_like(p, value)),
        B::Bool => matched(&|p| p.eq_ignore_ascii_case(value)),
        B::NumericEquals
        | B::NumericNotEquals
        | B::NumericLessThan
        | B::NumericLessThanEquals
        | B::NumericGreaterThan
        | B::NumericGreaterThanEquals => numeric(base, value, patterns)?,
        B::IpAddress => ip_address(false, value, patterns),
        B::NotIpAddress => ip_address(true, value, patterns),
        // Dates and binary values are never known from a topology.
        B::Null | B::Other => return None,
    })
}

fn bool_truth(b: bool) -> Truth {
    if b { Truth::True } else { Truth::False }
}

/// ARN matching as ArnLike does it: per `:`-separated part, with wildcards; the resource part
/// may itself contain `:`.
fn arn_like(pattern: &str, value: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let v: Vec<&str> = value.splitn(6, ':').collect();
    if p.len() != 6 || v.len() != 6 {
        return like(pattern, value, false);
    }
    p.iter().zip(v.iter()).enumerate().all(|(i, (pp, vv))| {
        // The `arn` prefix and the service are case-insensitive in practice; the rest is not.
        like(pp, vv, i == 0)
    })
}

/// A wildcard match where `${*}`, `${?}` and `${$}` are the literal characters
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars>).
fn like(pattern: &str, value: &str, fold: bool) -> bool {
    match (pattern.contains("${"), fold) {
        (true, _) => super::pattern::matches(pattern, value, fold),
        (false, false) => glob_match(pattern, value),
        (false, true) => glob_match_ignore_case(pattern, value),
    }
}

/// A value for the operators without wildcards: the special variables as their characters.
fn literal(pattern: &str) -> std::borrow::Cow<'_, str> {
    if pattern.contains("${") {
        std::borrow::Cow::Owned(super::pattern::literal(pattern))
    } else {
        std::borrow::Cow::Borrowed(pattern)
    }
}

fn numeric(op: BaseOperator, value: &str, patterns: &[Cow<'_, str>]) -> Option<bool> {
    let v: f64 = value.parse().ok()?;
    let parsed: Vec<f64> = patterns.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    Some(match op {
        BaseOperator::NumericEquals => parsed.contains(&v),
        BaseOperator::NumericNotEquals => !parsed.contains(&v),
        BaseOperator::NumericLessThan => parsed.iter().any(|p| v < *p),
        BaseOperator::NumericLessThanEquals => parsed.iter().any(|p| v <= *p),
        BaseOperator::NumericGreaterThan => parsed.iter().any(|p| v > *p),
        _ => parsed.iter().any(|p| v >= *p),
    })
}

/// `IpAddress` (`negated` false): the address lies in one of the ranges; `NotIpAddress`: in none
/// of them. Ranges are IPv4 or IPv6 CIDR blocks (RFC 4632, RFC 4291); a bare address is a /32 or
/// /128. An address never lies in a range of the other family.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress>
///
/// AWS does not document how it evaluates a policy value that is not an address or a CIDR block
/// (IAM Access Analyzer reports it as an error, "Data type mismatch"); such a value contains no
/// address, and makes `NotIpAddress` false, as `@cloud-copilot/iam-simulate` does: the condition
/// is never satisfied through a malformed value. A request value that is not an address matches
/// neither operator.
fn ip_address(negated: bool, value: &str, patterns: &[Cow<'_, str>]) -> bool {
    let Ok(addr) = value.parse::<IpAddr>() else {
        return false;
    };
    let ranges: Vec<Option<IpNet>> = patterns.iter().map(|p| ip_range(p)).collect();
    let inside = ranges.iter().flatten().any(|range| range.contains(&addr));
    if negated {
        !inside && ranges.iter().all(Option::is_some)
    } else {
        inside
    }
}

/// A CIDR block, or a bare address as the block of that one address; `None` when malformed.
fn ip_range(text: &str) -> Option<IpNet> {
    if text.contains('/') {
        text.parse().ok()
    } else {
        text.parse::<IpAddr>().ok().map(IpNet::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: op.into(),
            key: key.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ctx() -> RequestContext {
        let mut c = RequestContext::new();
        c.set("aws:PrincipalOrgID", "o-abc")
            .set("aws:PrincipalAccount", "111111111111");
        c.tags(
            "aws:ResourceTag",
            &BTreeMap::from([("app".to_string(), "invoice".to_string())]),
        );
        c
    }

    #[test]
    fn known_keys_evaluate() {
        let c = ctx();
        assert_eq!(
            evaluate(&cond("StringEquals", "aws:PrincipalOrgID", &["o-abc"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(&cond("StringEquals", "aws:principalorgid", &["o-xyz"]), &c),
            Truth::False
        );
        assert_eq!(
            evaluate(&cond("StringNotEquals", "aws:PrincipalAccount", &["222222222222"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(&cond("StringLike", "aws:ResourceTag/app", &["inv*"]), &c),
            Truth::True
        );
    }

    #[test]
    fn absent_keys_follow_aws_rules() {
        let c = ctx();
        // Tag prefix known, tag not set: absent.
        assert_eq!(
            evaluate(&cond("StringEquals", "aws:ResourceTag/team", &["x"]), &c),
            Truth::False
        );
        assert_eq!(
            evaluate(&cond("StringEqualsIfExists", "aws:ResourceTag/team", &["x"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(&cond("StringNotEquals", "aws:ResourceTag/team", &["x"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(&cond("Null", "aws:ResourceTag/team", &["true"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(&cond("Null", "aws:ResourceTag/app", &["true"]), &c),
            Truth::False
        );
        assert_eq!(
            evaluate(&cond("ForAllValues:StringEquals", "aws:ResourceTag/team", &["x"]), &c),
            Truth::True
        );
        assert_eq!(
            evaluate(&cond("ForAnyValue:StringEquals", "aws:ResourceTag/team", &["x"]), &c),
            Truth::False
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let c = ctx();
        assert_eq!(
            evaluate(&cond("Bool", "aws:MultiFactorAuthPresent", &["true"]), &c),
            Truth::Unknown(vec!["aws:MultiFactorAuthPresent".into()])
        );
        let all = evaluate_all(
            &[
                cond("Bool", "aws:SecureTransport", &["true"]),
                cond("StringEquals", "aws:PrincipalOrgID", &["o-abc"]),
            ],
            &c,
        );
        assert_eq!(all, Truth::Unknown(vec!["aws:SecureTransport".into()]));
        let all = evaluate_all(
            &[
                cond("Bool", "aws:SecureTransport", &["true"]),
                cond("StringEquals", "aws:PrincipalOrgID", &["o-no"]),
            ],
            &c,
        );
        assert_eq!(all, Truth::False);
    }

    // `${*}`, `${?}`, `${$}` are the literal characters in condition values too:
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars
    #[test]
    fn near_miss_escaped_wildcards_in_conditions_are_literal() {
        let mut c = ctx();
        c.set("aws:SourceArn", "arn:aws:events:eu-west-1:111111111111:rule/a*b");
        let like = |p: &str| evaluate(&cond("ArnLike", "aws:SourceArn", &[p]), &c);
        assert_eq!(like("arn:aws:events:eu-west-1:111111111111:rule/a${*}b"), Truth::True);
        assert_eq!(like("arn:aws:events:eu-west-1:111111111111:rule/a${*}"), Truth::False);
        assert_eq!(like("arn:aws:events:eu-west-1:111111111111:rule/a*"), Truth::True);
        c.set("aws:PrincipalTag/team", "x?$");
        let s = |op: &str, p: &str| evaluate(&cond(op, "aws:PrincipalTag/team", &[p]), &c);
        assert_eq!(s("StringEquals", "x${?}${$}"), Truth::True);
        assert_eq!(s("StringLike", "x${?}${$}"), Truth::True);
        assert_eq!(s("StringLike", "${?}*"), Truth::False);
        assert_eq!(s("StringNotLike", "x${*}"), Truth::True);
    }

    #[test]
    fn policy_variables_and_arns() {
        let mut c = ctx();
        c.set("aws:SourceArn", "arn:aws:events:eu-west-1:111111111111:rule/bus/r");
        assert_eq!(
            evaluate(
                &cond(
                    "ArnLike",
                    "aws:SourceArn",
                    &["arn:aws:events:*:${aws:PrincipalAccount}:rule/*"]
                ),
                &c
            ),
            Truth::True
        );
        assert!(matches!(
            evaluate(
                &cond("ArnLike", "aws:SourceArn", &["arn:aws:events:*:${aws:username}:*"]),
                &c
            ),
            Truth::Unknown(_)
        ));
        assert_eq!(
            evaluate(&cond("ArnNotLike", "aws:SourceArn", &["arn:aws:sqs:*"]), &c),
            Truth::True
        );
    }

    // IP address operators: CIDR blocks (IPv4 and IPv6), a bare address is /32 (/128), several
    // values are ORed.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
    fn ip(op: &str, values: &[&str], source: Option<&str>) -> Truth {
        let mut c = ctx();
        match source {
            Some(addr) => c.set("aws:SourceIp", addr),
            None => c.absent("aws:SourceIp"),
        };
        evaluate(&cond(op, "aws:SourceIp", values), &c)
    }

    #[test]
    fn fires_ip_address_in_range() {
        assert_eq!(ip("IpAddress", &["10.0.0.0/8"], Some("10.1.2.3")), Truth::True);
        assert_eq!(
            ip("IpAddress", &["192.0.2.0/24", "10.0.0.0/8"], Some("10.1.2.3")),
            Truth::True
        );
        assert_eq!(ip("IpAddress", &["0.0.0.0/0"], Some("203.0.113.9")), Truth::True);
        // Host bits set in the block are ignored, as in the network the block names.
        assert_eq!(ip("IpAddress", &["10.9.9.9/8"], Some("10.1.2.3")), Truth::True);
        assert_eq!(ip("IpAddress", &["2001:db8::/32"], Some("2001:DB8:1::5")), Truth::True);
        assert_eq!(ip("NotIpAddress", &["10.0.0.0/8"], Some("192.0.2.1")), Truth::True);
    }

    #[test]
    fn quiet_ip_address_out_of_range() {
        assert_eq!(ip("IpAddress", &["10.0.0.0/8"], Some("11.0.0.1")), Truth::False);
        assert_eq!(ip("IpAddress", &["2001:db8::/32"], Some("2001:db9::1")), Truth::False);
        assert_eq!(
            ip("NotIpAddress", &["192.0.2.0/24", "10.0.0.0/8"], Some("10.1.2.3")),
            Truth::False
        );
    }

    #[test]
    fn near_miss_ip_address_boundaries() {
        // First and last address of a /24, and the ones just outside.
        assert_eq!(ip("IpAddress", &["192.0.2.0/24"], Some("192.0.2.0")), Truth::True);
        assert_eq!(ip("IpAddress", &["192.0.2.0/24"], Some("192.0.2.255")), Truth::True);
        assert_eq!(ip("IpAddress", &["192.0.2.0/24"], Some("192.0.1.255")), Truth::False);
        assert_eq!(ip("IpAddress", &["192.0.2.0/24"], Some("192.0.3.0")), Truth::False);
        // A bare address is that one address (/32, /128).
        assert_eq!(ip("IpAddress", &["192.0.2.7"], Some("192.0.2.7")), Truth::True);
        assert_eq!(ip("IpAddress", &["192.0.2.7"], Some("192.0.2.8")), Truth::False);
        assert_eq!(ip("IpAddress", &["2001:db8::1"], Some("2001:db8:0::1")), Truth::True);
        assert_eq!(ip("IpAddress", &["2001:db8::1"], Some("2001:db8::2")), Truth::False);
        assert_eq!(ip("IpAddress", &["2001:db8::/127"], Some("2001:db8::1")), Truth::True);
        assert_eq!(ip("IpAddress", &["2001:db8::/127"], Some("2001:db8::2")), Truth::False);
    }

    #[test]
    fn near_miss_ip_address_families_do_not_mix() {
        // An IPv4 address is in no IPv6 block (not even ::/0 or the IPv4-mapped ::ffff:0:0/96),
        // and an IPv6 address in no IPv4 block.
        assert_eq!(ip("IpAddress", &["::/0"], Some("10.1.2.3")), Truth::False);
        assert_eq!(ip("IpAddress", &["::ffff:0:0/96"], Some("10.1.2.3")), Truth::False);
        assert_eq!(ip("IpAddress", &["0.0.0.0/0"], Some("2001:db8::1")), Truth::False);
        assert_eq!(ip("NotIpAddress", &["2001:db8::/32"], Some("10.1.2.3")), Truth::True);
        assert_eq!(
            ip("IpAddress", &["2001:db8::/32", "10.0.0.0/8"], Some("10.1.2.3")),
            Truth::True
        );
    }

    #[test]
    fn ip_address_absent_key_follows_if_exists() {
        assert_eq!(ip("IpAddress", &["10.0.0.0/8"], None), Truth::False);
        assert_eq!(ip("IpAddressIfExists", &["10.0.0.0/8"], None), Truth::True);
        assert_eq!(ip("NotIpAddressIfExists", &["10.0.0.0/8"], None), Truth::True);
        // IfExists changes nothing when the key is present.
        assert_eq!(ip("IpAddressIfExists", &["10.0.0.0/8"], Some("11.0.0.1")), Truth::False);
        // Unknown stays unknown (conditional), naming the key.
        let unknown = evaluate(&cond("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]), &ctx());
        assert_eq!(unknown, Truth::Unknown(vec!["aws:SourceIp".into()]));
    }

    #[test]
    fn near_miss_malformed_ip_values_never_match() {
        for bad in [
            "10.0.0.0/33",
            "10.0.0",
            "10.0.0.256",
            "010.0.0.1",
            "10.0.0.0/",
            "/8",
            "",
            "10.*",
            "2001:db8::/129",
            "${aws:SourceIp}",
        ] {
            assert_eq!(ip("IpAddress", &[bad], Some("10.0.0.1")), Truth::False, "{bad}");
            assert_eq!(ip("NotIpAddress", &[bad], Some("10.0.0.1")), Truth::False, "{bad}");
        }
        // A malformed value beside a good one: the good one still matches for IpAddress; the
        // NotIpAddress condition is never satisfied.
        assert_eq!(ip("IpAddress", &["bogus", "10.0.0.0/8"], Some("10.0.0.1")), Truth::True);
        assert_eq!(
            ip("NotIpAddress", &["bogus", "192.0.2.0/24"], Some("10.0.0.1")),
            Truth::False
        );
        // A request value that is not an address matches neither operator.
        assert_eq!(ip("IpAddress", &["10.0.0.0/8"], Some("not-an-ip")), Truth::False);
        assert_eq!(ip("NotIpAddress", &["10.0.0.0/8"], Some("10.0.0.1/32")), Truth::False);
    }

    #[test]
    fn ip_address_quantifiers_on_a_multi_valued_key() {
        let mut c = ctx();
        c.set_many("test:Addresses", ["10.1.2.3", "192.0.2.1"]);
        let q = |op: &str| evaluate(&cond(op, "test:Addresses", &["10.0.0.0/8"]), &c);
        assert_eq!(q("ForAnyValue:IpAddress"), Truth::True);
        assert_eq!(q("ForAllValues:IpAddress"), Truth::False);
        assert_eq!(q("ForAnyValue:NotIpAddress"), Truth::True);
        assert_eq!(q("ForAllValues:NotIpAddress"), Truth::False);
        c.set_many("test:Addresses", ["10.1.2.3", "10.200.0.1"]);
        let q = |op: &str| evaluate(&cond(op, "test:Addresses", &["10.0.0.0/8"]), &c);
        assert_eq!(q("ForAllValues:IpAddress"), Truth::True);
        assert_eq!(q("ForAnyValue:NotIpAddress"), Truth::False);
    }

    // Numeric operators compare the key's value with each policy value as a number; several
    // policy values are ORed (for NumericNotEquals: equal to none of them).
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Numeric
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
    #[test]
    fn numeric_operators_compare_numbers_at_their_boundaries() {
        let mut c = ctx();
        let mut n = |op: &str, value: &str, policy: &[&str]| {
            c.set("s3:max-keys", value);
            evaluate(&cond(op, "s3:max-keys", policy), &c)
        };
        let t = Truth::True;
        let f = Truth::False;
        // (operator, request value, policy values, expected)
        let table: &[(&str, &str, &[&str], &Truth)] = &[
            ("NumericEquals", "10", &["10"], &t),
            ("NumericEquals", "10", &["10.0"], &t),
            ("NumericEquals", "11", &["10"], &f),
            ("NumericEquals", "11", &["10", "11"], &t),
            ("NumericNotEquals", "9", &["10"], &t),
            ("NumericNotEquals", "10", &["10"], &f),
            ("NumericNotEquals", "11", &["10", "11"], &f),
            ("NumericLessThan", "9", &["10"], &t),
            ("NumericLessThan", "10", &["10"], &f),
            ("NumericLessThan", "11", &["10"], &f),
            ("NumericLessThanEquals", "9", &["10"], &t),
            ("NumericLessThanEquals", "10", &["10"], &t),
            ("NumericLessThanEquals", "11", &["10"], &f),
            ("NumericGreaterThan", "9", &["10"], &f),
            ("NumericGreaterThan", "10", &["10"], &f),
            ("NumericGreaterThan", "11", &["10"], &t),
            ("NumericGreaterThanEquals", "9", &["10"], &f),
            ("NumericGreaterThanEquals", "10", &["10"], &t),
            ("NumericGreaterThanEquals", "11", &["10"], &t),
            // Numbers, not strings: "9" < "10" although "9" sorts after "10".
            ("NumericGreaterThan", "100", &["9"], &t),
            ("NumericLessThan", "-1", &["0.5"], &t),
        ];
        for (op, value, policy, want) in table {
            assert_eq!(&n(op, value, policy), *want, "{op} {value} {policy:?}");
        }
        // A value that is not a number cannot be compared from the topology: unknown, named.
        assert_eq!(
            n("NumericLessThan", "ten", &["10"]),
            Truth::Unknown(vec!["s3:max-keys".into()])
        );
        assert_eq!(
            n("NumericLessThan", "9", &["ten"]),
            Truth::Unknown(vec!["s3:max-keys".into()])
        );
    }

    // StringEqualsIgnoreCase / StringNotEqualsIgnoreCase ignore case; StringEquals does not.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    #[test]
    fn near_miss_string_case_only_matters_without_ignore_case() {
        let mut c = ctx();
        c.set("aws:PrincipalTag/team", "Payments");
        let s = |op: &str, v: &str| evaluate(&cond(op, "aws:PrincipalTag/team", &[v]), &c);
        assert_eq!(s("StringEquals", "payments"), Truth::False);
        assert_eq!(s("StringNotEquals", "payments"), Truth::True);
        assert_eq!(s("StringEqualsIgnoreCase", "payments"), Truth::True);
        assert_eq!(s("StringNotEqualsIgnoreCase", "payments"), Truth::False);
        assert_eq!(s("StringEqualsIgnoreCase", "billing"), Truth::False);
        assert_eq!(s("StringNotEqualsIgnoreCase", "billing"), Truth::True);
    }

    // ArnLike / ArnEquals: "Each of the six colon-delimited components of the ARN is checked
    // separately", case-sensitively.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    #[test]
    fn near_miss_arn_like_checks_each_of_the_six_components() {
        let mut c = ctx();
        c.set("aws:SourceArn", "arn:aws:sqs:eu-west-1:111111111111:x:q");
        let arn = |op: &str, p: &str| evaluate(&cond(op, "aws:SourceArn", &[p]), &c);
        assert_eq!(arn("ArnLike", "arn:aws:sqs:*:111111111111:x:q"), Truth::True);
        assert_eq!(arn("ArnEquals", "arn:aws:sqs:eu-west-1:111111111111:x:q"), Truth::True);
        // A `*` in one component does not reach into the next one.
        assert_eq!(arn("ArnLike", "arn:aws:sqs:*:*:q"), Truth::False);
        assert_eq!(arn("ArnNotLike", "arn:aws:sqs:*:*:q"), Truth::True);
        // A pattern with fewer than six components is no prefix match.
        assert_eq!(arn("ArnLike", "arn:aws:sqs:eu-west-1"), Truth::False);
        assert_eq!(arn("ArnNotEquals", "arn:aws:sqs:eu-west-1"), Truth::True);
        // The resource is case-sensitive.
        assert_eq!(arn("ArnLike", "arn:aws:sqs:eu-west-1:111111111111:X:Q"), Truth::False);
    }

    // A plain operator on a multivalued key: AWS says such keys "require a condition set
    // operator" and does not state the result without one; topoguard's choice is that a
    // positive operator matches when any value does and a negated one is unknown (never a
    // guessed pass).
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    #[test]
    fn plain_operators_on_a_multi_valued_key() {
        let mut c = ctx();
        c.set_many("aws:TagKeys", ["team", "cost-center"]);
        let q = |op: &str, v: &str| evaluate(&cond(op, "aws:TagKeys", &[v]), &c);
        assert_eq!(q("StringEquals", "team"), Truth::True);
        assert_eq!(q("StringEquals", "owner"), Truth::False);
        assert_eq!(q("StringNotEquals", "team"), Truth::Unknown(vec!["aws:TagKeys".into()]));
        assert_eq!(q("ForAnyValue:StringNotEquals", "team"), Truth::True);
        assert_eq!(q("ForAllValues:StringEquals", "team"), Truth::False);
    }

    #[test]
    fn request_context_knows_forgets_and_chains() {
        let mut c = RequestContext::new();
        c.absent("aws:SourceVpc").set("aws:SourceAccount", "111111111111");
        assert!(c.knows("aws:sourcevpc"), "known absent is known");
        assert!(c.knows("AWS:SourceAccount"));
        assert!(!c.knows("aws:SourceArn"));
        c.forget("aws:SourceAccount")
            .set("aws:SourceArn", "arn:aws:sns:eu-west-1:111111111111:t");
        assert!(!c.knows("aws:SourceAccount"));
        assert!(c.knows("aws:SourceArn"));
        c.set_many("aws:TagKeys", ["b", "a", "b"])
            .set("aws:RequestedRegion", "eu-west-1");
        assert!(c.knows("aws:RequestedRegion"));
        c.tags("aws:RequestTag", &BTreeMap::new())
            .set("aws:PrincipalType", "AssumedRole");
        assert!(
            c.knows("aws:RequestTag/anything"),
            "a tag under a known prefix is known absent"
        );
        assert!(c.knows("aws:PrincipalType"));
        assert!(!c.knows("aws:PrincipalTag/team"));
        // The set is sorted and without repeats; an empty set counts as absent for Null.
        assert_eq!(
            evaluate(&cond("ForAllValues:StringEquals", "aws:TagKeys", &["a", "b"]), &c),
            Truth::True
        );
        c.set_many("aws:TagKeys", Vec::<String>::new());
        assert_eq!(evaluate(&cond("Null", "aws:TagKeys", &["true"]), &c), Truth::True);
    }

    #[test]
    fn truth_and_or_merge_unknown_keys() {
        let u = |keys: &[&str]| Truth::Unknown(keys.iter().map(|k| k.to_string()).collect());
        assert_eq!(u(&["b", "a"]).and(u(&["a", "c"])), u(&["a", "b", "c"]));
        assert_eq!(u(&["b"]).or(u(&["a", "b"])), u(&["a", "b"]));
        assert_eq!(u(&["a"]).and(Truth::False), Truth::False);
        assert_eq!(u(&["a"]).or(Truth::True), Truth::True);
        assert_eq!(u(&["a"]).and(Truth::True), u(&["a"]));
        assert_eq!(Truth::False.or(u(&["a"])), u(&["a"]));
    }
}
