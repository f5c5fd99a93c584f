//! Typed snapshot builders shared by the unit tests, the bench (`examples/bench.rs`) and the
//! bundled example's generator (`examples/gen-example`).
//!
//! Every builder returns a [`crate::model`] record (a [`Role`], a [`Function`], a [`Rule`]…), so
//! that what a test or a generator builds is what a loaded snapshot holds: a field renamed in the
//! model breaks the builders at compile time, not a test at run time. ARN helpers spell each ARN
//! shape once. [`write_ordered`] writes a snapshot with the key order of the committed example.
//!
//! Not part of the command-line tool: compiled into the library (so that examples can use it)
//! but hidden from its documentation.

mod ordered;

pub use ordered::write_ordered;

use crate::model::{
    EventBus, EventSourceMapping, Function, InlinePolicy, PolicyDocument, Resource, ResourceKind, Role, Rule,
    RuleState, Tags, Target,
};
use serde_json::{Map, Value, json};

/// The policy language version every builder writes.
pub const VERSION: &str = "2012-10-17";

// ---------------------------------------------------------------------------------------------
// ARNs
// ---------------------------------------------------------------------------------------------

pub fn bus_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:events:{region}:{account}:event-bus/{name}")
}

/// A rule's ARN: rules on the default bus leave the bus name out.
pub fn rule_arn(region: &str, account: &str, bus: &str, name: &str) -> String {
    if bus == "default" {
        format!("arn:aws:events:{region}:{account}:rule/{name}")
    } else {
        format!("arn:aws:events:{region}:{account}:rule/{bus}/{name}")
    }
}

pub fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

pub fn root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

pub fn table_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{account}:table/{name}")
}

pub fn queue_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sqs:{region}:{account}:{name}")
}

pub fn queue_url(region: &str, account: &str, name: &str) -> String {
    format!("https://sqs.{region}.amazonaws.com/{account}/{name}")
}

pub fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

pub fn space_arn(region: &str, account: &str, id: &str) -> String {
    format!("arn:aws:aidevops:{region}:{account}:agentspace/{id}")
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

/// Tags from `(key, value)` pairs.
pub fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect()
}

/// A policy document (version [`VERSION`]) with `statements`.
pub fn policy(statements: Vec<Value>) -> PolicyDocument {
    json!({"Version": VERSION, "Statement": statements}).into()
}

/// A one-element list written as a plain string, as most policy authors do.
pub fn one(values: &[&str]) -> Value {
    match values {
        [single] => json!(single),
        many => json!(many),
    }
}

/// An `Allow` statement named `sid` for `actions` on `resources` (each written as a string when it
/// has one element), with `extra` keys (a `Condition`, say) added.
pub fn allow(sid: &str, actions: &[&str], resources: &[&str], extra: Value) -> Value {
    let mut statement = Map::new();
    statement.insert("Sid".into(), json!(sid));
    statement.insert("Effect".into(), json!("Allow"));
    statement.insert("Action".into(), one(actions));
    statement.insert("Resource".into(), one(resources));
    if let Value::Object(more) = extra {
        statement.extend(more);
    }
    Value::Object(statement)
}

/// A trust policy letting `service` (e.g. `lambda.amazonaws.com`) assume the role.
pub fn service_trust(service: &str) -> PolicyDocument {
    policy(vec![json!({
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole"
    })])
}

/// A trust policy letting the AWS principal(s) `principal` (a string or a list) assume the role.
pub fn aws_trust(principal: Value) -> PolicyDocument {
    policy(vec![
        json!({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}),
    ])
}

/// An inline policy.
pub fn inline(name: &str, document: PolicyDocument) -> InlinePolicy {
    InlinePolicy {
        name: name.to_string(),
        document,
    }
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/// An IAM role with its trust policy and inline policies.
pub fn role(account: &str, name: &str, tags: Tags, trust: PolicyDocument, inline_policies: Vec<InlinePolicy>) -> Role {
    Role {
        arn: role_arn(account, name),
        account: account.to_string(),
        name: name.to_string(),
        tags,
        trust_policy: trust,
        inline_policies,
        attached_policies: Vec::new(),
        permission_boundary: None,
    }
}

/// A Lambda function running as `role`. `environment` maps variable names to the ARN or URL
/// found in the value (`None` for plain values); keys and references are recorded sorted.
pub fn function(
    region: &str,
    account: &str,
    name: &str,
    role: &str,
    tags: Tags,
    environment: &[(&str, Option<&str>)],
) -> Function {
    let mut keys: Vec<String> = environment.iter().map(|(k, _)| (*k).to_string()).collect();
    keys.sort();
    let mut references: Vec<String> = environment.iter().filter_map(|(_, v)| v.map(str::to_string)).collect();
    references.sort();
    Function {
        arn: function_arn(region, account, name),
        account: account.to_string(),
        region: region.to_string(),
        name: name.to_string(),
        runtime: None,
        role: role.to_string(),
        tags,
        environment_keys: keys,
        environment_references: references,
        policy: None,
        dead_letter_target: None,
    }
}

/// An EventBridge bus.
pub fn bus(region: &str, account: &str, name: &str, tags: Tags, policy: Option<PolicyDocument>) -> EventBus {
    EventBus {
        arn: bus_arn(region, account, name),
        account: account.to_string(),
        region: region.to_string(),
        name: name.to_string(),
        tags,
        policy,
    }
}

/// What starts a rule: an event pattern (written compact, keys in the given order) or a schedule.
pub enum Trigger<'a> {
    /// An event pattern's JSON text (see [`event_pattern`]).
    Pattern(String),
    Schedule(&'a str),
}

/// An event pattern as compact JSON with its keys in the given order.
pub fn event_pattern(fields: &[(&str, &[&str])]) -> String {
    let body: Vec<String> = fields
        .iter()
        .map(|(key, values)| format!("{}:{}", json!(key), json!(values)))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// An enabled rule on `bus` (a bus name in the same account and region).
pub fn rule(
    region: &str,
    account: &str,
    bus: &str,
    name: &str,
    tags: Tags,
    targets: Vec<Target>,
    trigger: Trigger<'_>,
) -> Rule {
    let (event_pattern, schedule_expression) = match trigger {
        Trigger::Pattern(text) => (Some(text), None),
        Trigger::Schedule(expression) => (None, Some(expression.to_string())),
    };
    Rule {
        arn: rule_arn(region, account, bus, name),
        account: account.to_string(),
        region: region.to_string(),
        name: name.to_string(),
        bus: bus_arn(region, account, bus),
        state: RuleState::Enabled,
        event_pattern,
        schedule_expression,
        tags,
        targets,
    }
}

/// A rule target, optionally with the role it is invoked as and a dead-letter queue.
pub fn target(id: &str, arn: &str, dead_letter_queue: Option<&str>, role: Option<&str>) -> Target {
    Target {
        id: id.to_string(),
        arn: arn.to_string(),
        role: role.map(str::to_string),
        dead_letter_queue: dead_letter_queue.map(str::to_string),
    }
}

/// A shareable resource (queue, table, key…); `region` is `None` for global resources.
pub fn resource(arn: &str, kind: ResourceKind, account: &str, region: Option<&str>, tags: Tags) -> Resource {
    Resource {
        arn: arn.to_string(),
        kind,
        account: account.to_string(),
        region: region.map(str::to_string),
        tags,
        aliases: Vec::new(),
        policy: None,
    }
}

/// An SQS queue, its URL recorded as an alias.
pub fn queue(region: &str, account: &str, name: &str, tags: Tags) -> Resource {
    Resource {
        aliases: vec![queue_url(region, account, name)],
        ..resource(
            &queue_arn(region, account, name),
            ResourceKind::SqsQueue,
            account,
            Some(region),
            tags,
        )
    }
}

/// An enabled event-source mapping from `source` to `function`.
pub fn event_source_mapping(uuid: &str, function: &str, source: &str) -> EventSourceMapping {
    EventSourceMapping {
        uuid: uuid.to_string(),
        function: function.to_string(),
        source: source.to_string(),
        state: Some("Enabled".to_string()),
    }
}
