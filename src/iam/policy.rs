//! IAM policy grammar: parses every document form AWS accepts into typed statements.
//!
//! Accepted: a JSON object, JSON text, or URL-encoded JSON text (as the IAM API returns
//! documents); `Statement` as one object or a list; string-or-list for `Action`, `Resource` and
//! principal values; `NotAction`, `NotResource`, `NotPrincipal`; `Condition` blocks with any
//! operator (`…IfExists`, `ForAllValues:…`, `ForAnyValue:…`), whose values may be strings,
//! numbers or booleans. Invalid documents give an error naming the element, never a panic.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Why a policy document could not be read; `at` is the element path, e.g. `Statement[1].Effect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub at: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

impl std::error::Error for PolicyError {}

/// Where in a document the parser is: a chain on the stack, rendered only when there is an error.
#[derive(Clone, Copy)]
enum Loc<'a> {
    Root,
    Key(&'a Loc<'a>, &'a str),
    Index(&'a Loc<'a>, usize),
}

impl Loc<'_> {
    fn render(&self) -> String {
        match self {
            Loc::Root => String::new(),
            Loc::Key(parent, key) => {
                let p = parent.render();
                if p.is_empty() {
                    (*key).to_string()
                } else {
                    format!("{p}.{key}")
                }
            }
            Loc::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }
}

fn err(at: &Loc<'_>, message: impl Into<String>) -> PolicyError {
    PolicyError {
        at: at.render(),
        message: message.into(),
    }
}

fn err_at(at: &str, message: impl Into<String>) -> PolicyError {
    PolicyError {
        at: at.to_string(),
        message: message.into(),
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Policy {
    pub version: Option<String>,
    pub id: Option<String>,
    /// Shared: identical statements of a loaded snapshot's documents are one allocation
    /// ([`crate::model::interning`]).
    pub statements: Vec<Arc<Statement>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` / `NotAction`, `Resource` / `NotResource`, `Principal` / `NotPrincipal` keep which
/// form was written, because the negated forms mean "everything except".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Matcher<T> {
    Is(T),
    IsNot(T),
}

impl<T> Matcher<T> {
    pub fn inner(&self) -> &T {
        match self {
            Matcher::Is(v) | Matcher::IsNot(v) => v,
        }
    }
    pub fn is_negated(&self) -> bool {
        matches!(self, Matcher::IsNot(_))
    }
}

/// A principal element: `"*"` or a map of principal types to values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// `"Principal": "*"` — anyone.
    Any,
    /// `{"AWS": [...], "Service": [...], "Federated": [...], "CanonicalUser": [...]}`.
    Typed(BTreeMap<String, Vec<String>>),
}

impl Principal {
    /// Values of one principal type (`AWS`, `Service`, …); `"*"` yields `["*"]`.
    pub fn values(&self, kind: &str) -> Vec<&str> {
        match self {
            Principal::Any => vec!["*"],
            Principal::Typed(map) => map
                .get(kind)
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default(),
        }
    }
}

/// One condition: operator (parsed; as written e.g. `ForAnyValue:StringLikeIfExists`), key,
/// values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    pub operator: Operator,
    pub key: String,
    pub values: Vec<String>,
}

impl Condition {
    /// The operator without `ForAllValues:`/`ForAnyValue:` prefix and `IfExists` suffix.
    pub fn base_operator(&self) -> &str {
        let written = self.operator.as_str();
        let op = written.split_once(':').map_or(written, |(_, rest)| rest);
        op.strip_suffix("IfExists").unwrap_or(op)
    }
}

/// `ForAnyValue:` / `ForAllValues:` — how an operator treats a multi-valued key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    ForAnyValue,
    ForAllValues,
}

/// The operator without quantifier and `IfExists`. Dates and binary values (and any operator not
/// listed) are [`BaseOperator::Other`]: never known from a topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Bool,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    IpAddress,
    NotIpAddress,
    Null,
    Other,
}

impl BaseOperator {
    /// `IpAddress` or `NotIpAddress`.
    pub fn is_ip(self) -> bool {
        matches!(self, BaseOperator::IpAddress | BaseOperator::NotIpAddress)
    }

    fn parse(name: &str) -> BaseOperator {
        use BaseOperator::*;
        match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Bool" => Bool,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "Null" => Null,
            _ => Other,
        }
    }
}

/// A condition operator, split once when the policy is parsed: the text as written (for
/// evidence), its quantifier, base operator, `IfExists` and whether it is a negated operator
/// (its base name contains `Not`, e.g. `StringNotLike`, `NotIpAddress`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Operator {
    written: String,
    pub quantifier: Option<Quantifier>,
    pub base: BaseOperator,
    /// The base operator's name (without quantifier and `IfExists`).
    base_len: (usize, usize),
    pub if_exists: bool,
    pub negated: bool,
}

impl Operator {
    /// Splits an operator as written, e.g. `ForAnyValue:StringLikeIfExists`.
    pub fn parse(written: impl Into<String>) -> Operator {
        let written = written.into();
        let (quantifier, start) = match written.split_once(':') {
            Some(("ForAllValues", _)) => (Some(Quantifier::ForAllValues), "ForAllValues:".len()),
            Some(("ForAnyValue", _)) => (Some(Quantifier::ForAnyValue), "ForAnyValue:".len()),
            _ => (None, 0),
        };
        let rest = written.get(start..).unwrap_or("");
        let if_exists = rest.ends_with("IfExists");
        let base_name = rest.strip_suffix("IfExists").unwrap_or(rest);
        Operator {
            quantifier,
            base: BaseOperator::parse(base_name),
            base_len: (start, start + base_name.len()),
            if_exists,
            negated: base_name.contains("Not"),
            written,
        }
    }

    /// The operator as written in the policy.
    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// The base operator's name as written (without quantifier and `IfExists`).
    pub fn base_name(&self) -> &str {
        self.written.get(self.base_len.0..self.base_len.1).unwrap_or("")
    }
}

impl From<&str> for Operator {
    fn from(written: &str) -> Self {
        Operator::parse(written)
    }
}

impl From<String> for Operator {
    fn from(written: String) -> Self {
        Operator::parse(written)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Matcher<Principal>>,
    pub action: Option<Matcher<Vec<String>>>,
    pub resource: Option<Matcher<Vec<String>>>,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// Condition values for a key (case-insensitive, as IAM treats condition keys).
    pub fn condition_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Condition> + 'a {
        self.conditions.iter().filter(move |c| c.key.eq_ignore_ascii_case(key))
    }

    /// Whether the statement's `Action` (or `NotAction`) covers `action`: patterns match
    /// case-insensitively, as IAM compares action names. A statement without either covers
    /// nothing.
    pub fn allows_action(&self, action: &str) -> bool {
        let named = |list: &[String]| list.iter().any(|p| crate::arn::glob_match_ignore_case(p, action));
        match &self.action {
            Some(Matcher::Is(list)) => named(list),
            Some(Matcher::IsNot(list)) => !named(list),
            None => false,
        }
    }

    /// The `Resource` patterns when written positively (not `NotResource`).
    pub fn resources(&self) -> &[String] {
        match &self.resource {
            Some(Matcher::Is(v)) => v,
            _ => &[],
        }
    }
}

impl Policy {
    /// Parses a document given as a JSON object or as (possibly URL-encoded) JSON text.
    pub fn from_value(value: &Value) -> Result<Self, PolicyError> {
        match value {
            Value::Object(map) => parse_document(map),
            Value::String(text) => Self::from_text(text),
            other => Err(err_at(
                "",
                format!(
                    "a policy document must be an object or JSON text, found {}",
                    kind_of(other)
                ),
            )),
        }
    }

    /// Parses JSON text, URL-decoding it first when it is URL-encoded.
    pub fn from_text(text: &str) -> Result<Self, PolicyError> {
        let trimmed = text.trim_start();
        let decoded;
        let json = if trimmed.starts_with('%') {
            decoded = percent_encoding::percent_decode_str(trimmed)
                .decode_utf8()
                .map_err(|e| err_at("", format!("URL-encoded document is not UTF-8: {e}")))?;
            decoded.as_ref()
        } else {
            trimmed
        };
        let value: Value = serde_json::from_str(json).map_err(|e| err_at("", format!("document is not JSON: {e}")))?;
        match &value {
            Value::Object(map) => parse_document(map),
            other => Err(err_at(
                "",
                format!("a policy document must be a JSON object, found {}", kind_of(other)),
            )),
        }
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn parse_document(map: &Map<String, Value>) -> Result<Policy, PolicyError> {
    let root = Loc::Root;
    let mut policy = Policy::default();
    for (key, value) in map {
        let here = Loc::Key(&root, key);
        match key.as_str() {
            "Version" => policy.version = Some(string(value, &here)?),
            "Id" => policy.id = Some(string(value, &here)?),
            "Statement" => {
                policy.statements = match value {
                    Value::Array(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, s)| parse_statement(s, &Loc::Index(&here, i)).map(Arc::new))
                        .collect::<Result<_, _>>()?,
                    single => vec![Arc::new(parse_statement(single, &here)?)],
                }
            }
            _ => return Err(err(&here, "unknown policy element")),
        }
    }
    if !map.contains_key("Statement") {
        return Err(err_at("Statement", "missing"));
    }
    Ok(policy)
}

fn parse_statement(value: &Value, at: &Loc<'_>) -> Result<Statement, PolicyError> {
    let Value::Object(map) = value else {
        return Err(err(
            at,
            format!("a statement must be an object, found {}", kind_of(value)),
        ));
    };
    let mut sid = None;
    let mut effect = None;
    let mut principal = None;
    let mut action = None;
    let mut resource = None;
    let mut conditions = Vec::new();
    for (key, v) in map {
        let here = Loc::Key(at, key);
        let set_once = |slot_full: bool| {
            if slot_full {
                Err(err(&here, "given together with its negated form"))
            } else {
                Ok(())
            }
        };
        match key.as_str() {
            "Sid" => sid = Some(string(v, &here)?),
            "Effect" => {
                effect = Some(match v {
                    Value::String(e) if e == "Allow" => Effect::Allow,
                    Value::String(e) if e == "Deny" => Effect::Deny,
                    Value::String(other) => {
                        return Err(err(&here, format!("must be `Allow` or `Deny`, found `{other}`")));
                    }
                    other => return Err(err(&here, format!("must be a string, found {}", kind_of(other)))),
                })
            }
            "Action" | "NotAction" => {
                set_once(action.is_some())?;
                let list = string_list(v, &here)?;
                action = Some(if key == "Action" {
                    Matcher::Is(list)
                } else {
                    Matcher::IsNot(list)
                });
            }
            "Resource" | "NotResource" => {
                set_once(resource.is_some())?;
                let list = string_list(v, &here)?;
                resource = Some(if key == "Resource" {
                    Matcher::Is(list)
                } else {
                    Matcher::IsNot(list)
                });
            }
            "Principal" | "NotPrincipal" => {
                set_once(principal.is_some())?;
                let p = parse_principal(v, &here)?;
                principal = Some(if key == "Principal" {
                    Matcher::Is(p)
                } else {
                    Matcher::IsNot(p)
                });
            }
            "Condition" => conditions = parse_conditions(v, &here)?,
            _ => return Err(err(&here, "unknown statement element")),
        }
    }
    let effect = effect.ok_or_else(|| err(&Loc::Key(at, "Effect"), "missing"))?;
    if action.is_none() {
        return Err(err(
            &Loc::Key(at, "Action"),
            "missing (neither `Action` nor `NotAction` given)",
        ));
    }
    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

fn parse_principal(v: &Value, at: &Loc<'_>) -> Result<Principal, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principal::Any),
        Value::Object(map) => {
            let mut typed = BTreeMap::new();
            for (kind, values) in map {
                let here = Loc::Key(at, kind);
                if !matches!(kind.as_str(), "AWS" | "Service" | "Federated" | "CanonicalUser") {
                    return Err(err(&here, "unknown principal type"));
                }
                typed.insert(kind.clone(), string_list(values, &here)?);
            }
            Ok(Principal::Typed(typed))
        }
        other => Err(err(
            at,
            format!("must be `*` or an object of principal types, found {}", kind_of(other)),
        )),
    }
}

fn parse_conditions(v: &Value, at: &Loc<'_>) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = v else {
        return Err(err(at, format!("must be an object, found {}", kind_of(v))));
    };
    let mut out = Vec::new();
    for (operator, keys) in ops {
        let here = Loc::Key(at, operator);
        let Value::Object(keys) = keys else {
            return Err(err(
                &here,
                format!("must be an object of condition keys, found {}", kind_of(keys)),
            ));
        };
        for (key, values) in keys {
            let key_at = Loc::Key(&here, key);
            let values = match values {
                Value::Array(items) => items.iter().map(|i| scalar(i, &key_at)).collect::<Result<_, _>>()?,
                single => vec![scalar(single, &key_at)?],
            };
            out.push(Condition {
                operator: Operator::parse(operator.as_str()),
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

fn scalar(v: &Value, at: &Loc<'_>) -> Result<String, PolicyError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(err(
            at,
            format!(
                "condition values must be strings, numbers or booleans, found {}",
                kind_of(other)
            ),
        )),
    }
}

fn string(v: &Value, at: &Loc<'_>) -> Result<String, PolicyError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        other => Err(err(at, format!("must be a string, found {}", kind_of(other)))),
    }
}

fn string_list(v: &Value, at: &Loc<'_>) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| string(item, &Loc::Index(at, i)))
            .collect(),
        other => Err(err(
            at,
            format!("must be a string or a list of strings, found {}", kind_of(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_string_or_list_forms_and_conditions() {
        let p = Policy::from_value(&json!({
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Principal": {"Service": "aidevops.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"},
                              "ArnLikeIfExists": {"aws:SourceArn": ["arn:aws:aidevops:us-east-1:123456789012:agentspace/a"]}}
            }
        }))
        .unwrap();
        let s = &p.statements[0];
        assert_eq!(s.effect, Effect::Allow);
        assert_eq!(
            s.principal.as_ref().unwrap().inner().values("Service"),
            vec!["aidevops.amazonaws.com"]
        );
        assert_eq!(s.conditions.len(), 2);
        let c = s.condition_values("AWS:SOURCEARN").next().unwrap();
        assert_eq!(c.base_operator(), "ArnLike");
    }

    #[test]
    fn decodes_url_encoded_documents() {
        let text = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22NotAction%22%3A%22iam%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";
        let p = Policy::from_text(text).unwrap();
        assert_eq!(p.statements[0].effect, Effect::Deny);
        assert!(p.statements[0].action.as_ref().unwrap().is_negated());
    }

    #[test]
    fn locates_errors() {
        let e = Policy::from_value(
            &json!({"Statement": [{"Effect": "Allow", "Action": "s3:*"}, {"Effect": "Maybe", "Action": "*"}]}),
        )
        .unwrap_err();
        assert_eq!(e.at, "Statement[1].Effect");
        let e = Policy::from_value(&json!({"Statement": [{"Effect": "Allow", "Action": "a", "NotAction": "b"}]}))
            .unwrap_err();
        assert!(e.to_string().contains("negated"), "{e}");
        assert!(Policy::from_value(&json!(42)).is_err());
        assert!(Policy::from_text("{\"Statement\": [").is_err());
        assert!(Policy::from_value(&json!({"Version": "2012-10-17"})).is_err());
    }

    // The grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
    // (`Version`, `Id`, `Statement` at the top; `Statement` one block or a list; a one-value
    // list may drop its brackets; quotation marks optional for numbers and booleans).

    #[test]
    fn a_document_keeps_version_id_sid_and_every_statement() {
        let p = Policy::from_value(&json!({
            "Version": "2012-10-17",
            "Id": "queue-policy",
            "Statement": [
                {"Sid": "Send", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"},
                {"Effect": "Deny", "Action": ["sqs:DeleteQueue"], "Resource": ["*"]}
            ]
        }))
        .unwrap();
        assert_eq!(p.version.as_deref(), Some("2012-10-17"));
        assert_eq!(p.id.as_deref(), Some("queue-policy"));
        assert_eq!(p.statements.len(), 2);
        assert_eq!(p.statements[0].sid.as_deref(), Some("Send"));
        assert_eq!(p.statements[1].sid, None);
        assert_eq!(
            (p.statements[0].effect, p.statements[1].effect),
            (Effect::Allow, Effect::Deny)
        );
    }

    /// `Action`/`NotAction`, `Resource`/`NotResource`, `Principal`/`NotPrincipal`: the negated
    /// forms mean "everything except", so the parser keeps which one was written.
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    #[test]
    fn negated_elements_are_kept_apart_from_positive_ones() {
        let p = Policy::from_value(&json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
             "Action": "sqs:*", "Resource": "arn:aws:sqs:eu-west-1:111111111111:q"},
            {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:root"},
             "NotAction": "sqs:*", "NotResource": "arn:aws:sqs:eu-west-1:111111111111:q"}
        ]}))
        .unwrap();
        let (pos, neg) = (&p.statements[0], &p.statements[1]);
        let negated = |s: &Statement| {
            (
                s.principal.as_ref().unwrap().is_negated(),
                s.action.as_ref().unwrap().is_negated(),
                s.resource.as_ref().unwrap().is_negated(),
            )
        };
        assert_eq!(negated(pos), (false, false, false));
        assert_eq!(negated(neg), (true, true, true));
        assert_eq!(neg.action.as_ref().unwrap().inner(), &vec!["sqs:*".to_string()]);
        assert_eq!(
            neg.principal.as_ref().unwrap().inner().values("AWS"),
            ["arn:aws:iam::111111111111:root"]
        );
        // Only a positive `Resource` lists the resources a statement names.
        assert_eq!(pos.resources(), ["arn:aws:sqs:eu-west-1:111111111111:q"]);
        assert!(neg.resources().is_empty());
        let no_resource =
            Policy::from_value(&json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}})).unwrap();
        assert!(no_resource.statements[0].resources().is_empty());
    }

    /// Action names match case-insensitively, with `*` and `?` wildcards; `NotAction` covers
    /// every action it does not name.
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
    #[test]
    fn statements_cover_actions_case_insensitively_and_not_action_inverts() {
        let p = Policy::from_value(&json!({"Statement": [
            {"Effect": "Allow", "Action": ["SQS:Send*", "s3:GetObjec?"], "Resource": "*"},
            {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
        ]}))
        .unwrap();
        let (named, not) = (&p.statements[0], &p.statements[1]);
        assert!(named.allows_action("sqs:SendMessage"));
        assert!(named.allows_action("s3:getobject"));
        assert!(!named.allows_action("sqs:ReceiveMessage"));
        assert!(!not.allows_action("iam:PassRole"));
        assert!(not.allows_action("sqs:ReceiveMessage"));
        // A statement with neither element (not a valid document) covers nothing.
        let none = Statement {
            action: None,
            ..(**named).clone()
        };
        assert!(!none.allows_action("sqs:SendMessage"));
    }

    /// A principal is `"*"` or a map of the four principal types; a value list may be one string.
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    #[test]
    fn principals_are_star_or_a_map_of_the_four_types() {
        let principal = |v: Value| {
            Policy::from_value(&json!({"Statement": {"Effect": "Allow", "Principal": v, "Action": "sqs:*"}}))
                .map(|p| p.statements[0].principal.clone().unwrap().inner().clone())
        };
        let any = principal(json!("*")).unwrap();
        assert_eq!(any, Principal::Any);
        assert_eq!(any.values("AWS"), ["*"]);
        let typed = principal(json!({"AWS": ["111111111111", "arn:aws:iam::222222222222:role/r"],
                                     "Service": "lambda.amazonaws.com", "Federated": "cognito-identity.amazonaws.com",
                                     "CanonicalUser": "79a59df900b949e55d96a1e698fbaced"}))
        .unwrap();
        assert_eq!(
            typed.values("AWS"),
            ["111111111111", "arn:aws:iam::222222222222:role/r"]
        );
        assert_eq!(typed.values("Service"), ["lambda.amazonaws.com"]);
        assert!(typed.values("Nobody").is_empty());
        // Near misses: a string other than `*`, a type not in the list (types are case-sensitive).
        let e = principal(json!("arn:aws:iam::111111111111:root")).unwrap_err();
        assert_eq!(e.at, "Statement.Principal");
        assert!(e.message.contains("found a string"), "{e}");
        let e = principal(json!({"aws": "111111111111"})).unwrap_err();
        assert_eq!(e.to_string(), "Statement.Principal.aws: unknown principal type");
    }

    /// Condition operators: the base name, the `ForAllValues:`/`ForAnyValue:` quantifier for
    /// multivalued keys, the `IfExists` suffix, and the negated ones (`…Not…`).
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    #[test]
    fn condition_operators_are_split_into_their_parts() {
        use BaseOperator::*;
        let table = [
            ("StringEquals", StringEquals),
            ("StringNotEquals", StringNotEquals),
            ("StringEqualsIgnoreCase", StringEqualsIgnoreCase),
            ("StringNotEqualsIgnoreCase", StringNotEqualsIgnoreCase),
            ("StringLike", StringLike),
            ("StringNotLike", StringNotLike),
            ("ArnEquals", ArnEquals),
            ("ArnLike", ArnLike),
            ("ArnNotEquals", ArnNotEquals),
            ("ArnNotLike", ArnNotLike),
            ("Bool", Bool),
            ("NumericEquals", NumericEquals),
            ("NumericNotEquals", NumericNotEquals),
            ("NumericLessThan", NumericLessThan),
            ("NumericLessThanEquals", NumericLessThanEquals),
            ("NumericGreaterThan", NumericGreaterThan),
            ("NumericGreaterThanEquals", NumericGreaterThanEquals),
            ("IpAddress", IpAddress),
            ("NotIpAddress", NotIpAddress),
            ("Null", Null),
            ("DateGreaterThan", Other),
            ("BinaryEquals", Other),
        ];
        for (name, base) in table {
            for (written, quantifier) in [
                (name.to_string(), None),
                (format!("ForAllValues:{name}"), Some(Quantifier::ForAllValues)),
                (format!("ForAnyValue:{name}IfExists"), Some(Quantifier::ForAnyValue)),
            ] {
                let op = Operator::parse(written.as_str());
                assert_eq!(op.base, base, "{written}");
                assert_eq!(op.quantifier, quantifier, "{written}");
                assert_eq!(op.base_name(), name, "{written}");
                assert_eq!(op.as_str(), written);
                assert_eq!(op.if_exists, written.ends_with("IfExists"), "{written}");
                assert_eq!(op.negated, name.contains("Not"), "{written}");
                assert_eq!(op.base.is_ip(), name.contains("IpAddress"), "{written}");
                assert_eq!(Operator::from(written.as_str()), op);
                assert_eq!(Operator::from(written.clone()), op);
            }
        }
        // A prefix that is no quantifier stays part of the name.
        let op = Operator::parse("ForSomeValues:StringEquals");
        assert_eq!((op.quantifier, op.base), (None, Other));
    }

    /// Condition values may be strings, numbers or booleans, one or a list; condition keys are
    /// case-insensitive.
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    #[test]
    fn conditions_read_scalars_lists_and_keys_in_any_case() {
        let p = Policy::from_value(
            &json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {
                "NumericLessThanEquals": {"s3:max-keys": 10},
                "Bool": {"aws:SecureTransport": true},
                "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["team-*", "app"]}
            }}}),
        )
        .unwrap();
        let s = &p.statements[0];
        assert_eq!(s.conditions.len(), 3);
        fn only<'a>(s: &'a Statement, key: &'a str) -> &'a Condition {
            let found: Vec<&Condition> = s.condition_values(key).collect();
            assert_eq!(found.len(), 1, "{key}");
            found[0]
        }
        assert_eq!(only(s, "S3:MAX-KEYS").values, ["10"]);
        assert_eq!(only(s, "aws:securetransport").values, ["true"]);
        let tags = only(s, "aws:TagKeys");
        assert_eq!(tags.values, ["team-*", "app"]);
        assert_eq!(tags.base_operator(), "StringLike");
        assert_eq!(only(s, "s3:max-keys").base_operator(), "NumericLessThanEquals");
        assert_eq!(s.condition_values("aws:SourceArn").count(), 0);
    }

    /// Text as IAM returns it: leading white space, URL-encoded or not; anything but an object
    /// (or text holding one) is an error naming what was found.
    #[test]
    fn documents_as_text_and_what_is_not_a_document() {
        let doc = r#"{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#;
        let plain = Policy::from_text(&format!("\n  {doc}")).unwrap();
        assert_eq!(plain.statements.len(), 1);
        let encoded: String =
            percent_encoding::utf8_percent_encode(doc, percent_encoding::NON_ALPHANUMERIC).to_string();
        assert_eq!(Policy::from_text(&encoded).unwrap(), plain);
        assert_eq!(Policy::from_value(&Value::String(doc.to_string())).unwrap(), plain);
        for (value, found) in [
            (json!(null), "null"),
            (json!(true), "a boolean"),
            (json!(1), "a number"),
            (json!([]), "a list"),
        ] {
            let e = Policy::from_value(&value).unwrap_err();
            assert_eq!(e.at, "");
            assert_eq!(
                e.to_string(),
                format!("a policy document must be an object or JSON text, found {found}")
            );
            let e = Policy::from_text(&value.to_string()).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("a policy document must be a JSON object, found {found}")
            );
        }
        let e = Policy::from_text("%FF%FE").unwrap_err();
        assert!(e.message.starts_with("URL-encoded document is not UTF-8"), "{e}");
        let e = Policy::from_text("{").unwrap_err();
        assert!(e.message.starts_with("document is not JSON"), "{e}");
    }

    /// Every invalid element is an error naming where it is and what was found.
    #[test]
    fn errors_name_the_element_and_what_was_found() {
        let at = |doc: Value| Policy::from_value(&doc).unwrap_err().to_string();
        let st = |statement: Value| at(json!({"Statement": [statement]}));
        assert_eq!(at(json!({})), "Statement: missing");
        assert_eq!(at(json!({"Statement": [], "Ids": "x"})), "Ids: unknown policy element");
        assert_eq!(
            at(json!({"Statement": [], "Version": 2012})),
            "Version: must be a string, found a number"
        );
        assert_eq!(
            at(json!({"Statement": [], "Id": null})),
            "Id: must be a string, found null"
        );
        assert_eq!(
            at(json!({"Statement": "s"})),
            "Statement: a statement must be an object, found a string"
        );
        assert_eq!(st(json!({"Action": "s3:*"})), "Statement[0].Effect: missing");
        assert_eq!(
            st(json!({"Effect": "Allow"})),
            "Statement[0].Action: missing (neither `Action` nor `NotAction` given)"
        );
        assert_eq!(
            st(json!({"Effect": "Permit", "Action": "s3:*"})),
            "Statement[0].Effect: must be `Allow` or `Deny`, found `Permit`"
        );
        assert_eq!(
            st(json!({"Effect": true, "Action": "s3:*"})),
            "Statement[0].Effect: must be a string, found a boolean"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": "s3:*", "Sid": {}})),
            "Statement[0].Sid: must be a string, found an object"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": "s3:*", "Effects": "Allow"})),
            "Statement[0].Effects: unknown statement element"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": ["s3:GetObject", 7]})),
            "Statement[0].Action[1]: must be a string, found a number"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": "s3:*", "Resource": {}})),
            "Statement[0].Resource: must be a string or a list of strings, found an object"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"})),
            "Statement[0].Resource: given together with its negated form"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": "s3:*", "Principal": "*", "NotPrincipal": "*"})),
            "Statement[0].Principal: given together with its negated form"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": "s3:*", "Principal": {"AWS": 1}})),
            "Statement[0].Principal.AWS: must be a string or a list of strings, found a number"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": "s3:*", "Condition": []})),
            "Statement[0].Condition: must be an object, found a list"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": "s3:*", "Condition": {"StringEquals": "x"}})),
            "Statement[0].Condition.StringEquals: must be an object of condition keys, found a string"
        );
        assert_eq!(
            st(
                json!({"Effect": "Allow", "Action": "s3:*", "Condition": {"StringEquals": {"aws:SourceAccount": [null]}}})
            ),
            "Statement[0].Condition.StringEquals.aws:SourceAccount: condition values must be strings, numbers or booleans, found null"
        );
        assert_eq!(
            st(json!({"Effect": "Allow", "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": {}}}})),
            "Statement[0].Condition.Bool.aws:SecureTransport: condition values must be strings, numbers or booleans, found an object"
        );
    }
}
