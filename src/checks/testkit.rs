//! Test helpers: a small organization (invoice in 111111111111, checkout in 222222222222, a
//! shared-dependency account 999999999999, zones eu and us) and builders for its resources.

use super::{Check, Context, Finding, known_ids};
use crate::config::parse_config;
use crate::graph::Topology;
use crate::model::parse_snapshot;
use serde_json::{Value, json};
use std::path::Path;

pub const INVOICE: &str = "111111111111";
pub const CHECKOUT: &str = "222222222222";
pub const SHARED: &str = "999999999999";

pub const CONFIG: &str = r#"
[applications.invoice]
accounts = ["111111111111"]
[applications.checkout]
accounts = ["222222222222"]
[shared_dependencies]
accounts = ["999999999999"]
[zones.eu]
regions = ["eu-west-1", "eu-central-1"]
[zones.us]
regions = ["us-east-1", "us-west-2"]
"#;

/// An organization with the three accounts and nothing in them.
pub fn org() -> Value {
    json!({
        "schema_version": 1,
        "organization": {
            "units": [{"id": "r-root", "name": "Root"}],
            "accounts": [
                {"id": INVOICE, "name": "invoice-prod", "parent": "r-root"},
                {"id": CHECKOUT, "name": "checkout-prod", "parent": "r-root"},
                {"id": SHARED, "name": "shared-services", "parent": "r-root"}
            ]
        }
    })
}

fn push(snapshot: &mut Value, list: &str, item: Value) {
    if let Some(obj) = snapshot.as_object_mut() {
        let entry = obj.entry(list).or_insert_with(|| json!([]));
        if let Some(items) = entry.as_array_mut() {
            items.push(item);
        }
    }
}

/// The ARN of queue `name` (the shared builders' [`crate::testkit::queue_arn`], account first).
pub fn queue_arn(account: &str, region: &str, name: &str) -> String {
    crate::testkit::queue_arn(region, account, name)
}

/// Adds an SQS queue with the given tags.
pub fn add_queue(s: &mut Value, account: &str, region: &str, name: &str, tags: Value) -> String {
    let arn = queue_arn(account, region, name);
    push(
        s,
        "resources",
        json!({"arn": arn, "kind": "sqs-queue", "account": account, "region": region, "tags": tags}),
    );
    arn
}

/// Adds a function whose execution role allows `sqs:SendMessage` on `uses`.
pub fn add_function(s: &mut Value, account: &str, region: &str, name: &str, uses: &[&str]) -> String {
    let role = crate::testkit::role_arn(account, &format!("{name}-role"));
    push(
        s,
        "roles",
        json!({
            "arn": role, "account": account, "name": format!("{name}-role"),
            "trust_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "inline_policies": [{"name": "use", "document": {"Version": "2012-10-17", "Statement": [{"Sid": "Use", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": uses}]}}]
        }),
    );
    let arn = crate::testkit::function_arn(region, account, name);
    push(
        s,
        "functions",
        json!({"arn": arn, "account": account, "region": region, "name": name, "role": role}),
    );
    arn
}

/// Adds a bus and a rule on it delivering to `targets`.
pub fn add_rule(s: &mut Value, account: &str, region: &str, name: &str, targets: &[&str], tags: Value) -> String {
    let bus = crate::testkit::bus_arn(region, account, &format!("{name}-bus"));
    push(
        s,
        "event_buses",
        json!({"arn": bus, "account": account, "region": region, "name": format!("{name}-bus")}),
    );
    let arn = crate::testkit::rule_arn(region, account, &format!("{name}-bus"), name);
    let targets: Vec<Value> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"id": format!("t{i}"), "arn": t}))
        .collect();
    push(
        s,
        "rules",
        json!({"arn": arn, "account": account, "region": region, "name": name, "bus": bus, "state": "ENABLED", "tags": tags, "targets": targets}),
    );
    arn
}

/// Adds an entry to a top-level list of the snapshot.
pub fn add(s: &mut Value, list: &str, item: Value) {
    push(s, list, item);
}

/// Runs one check on the snapshot with `config` (TOML).
pub fn run_with(check: &dyn Check, snapshot: &Value, config: &str) -> Vec<Finding> {
    let snapshot = parse_snapshot(&snapshot.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(config, Path::new("test.toml"), &known_ids()).unwrap();
    let topology = Topology::build(&snapshot, &config);
    let cx = Context::new(&topology, check);
    let mut findings = check.run(&cx);
    findings.extend(cx.unused_allows());
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings
}

/// Runs every enabled check through the engine (ignores, severities, unused entries), naming the
/// config `config_path`.
pub fn run_engine(snapshot: &Value, config: &str, config_path: &str) -> Vec<Finding> {
    let snapshot = parse_snapshot(&snapshot.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(config, Path::new(config_path), &known_ids()).unwrap();
    let topology = Topology::build(&snapshot, &config);
    super::run_checks(&topology, config_path).findings
}

/// Runs one check with [`CONFIG`].
pub fn run(check: &dyn Check, snapshot: &Value) -> Vec<Finding> {
    run_with(check, snapshot, CONFIG)
}

/// Adds a role with a trust policy and one inline policy; returns its ARN.
pub fn add_role(s: &mut Value, account: &str, name: &str, trust: Value, policy: Value) -> String {
    let arn = crate::testkit::role_arn(account, name);
    push(
        s,
        "roles",
        json!({"arn": arn, "account": account, "name": name, "trust_policy": trust, "inline_policies": [{"name": "p", "document": policy}]}),
    );
    arn
}

/// A trust policy letting `principal` (an AWS principal) assume the role.
pub fn trust(principal: &str) -> Value {
    json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]})
}

/// A policy allowing `actions` on `resource`.
pub fn allow(actions: &[&str], resource: &str) -> Value {
    json!({"Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]})
}

/// Adds the invoice Agent Space (primary account invoice) associated with `roles`
/// (`(account, role ARN)` pairs).
pub fn add_invoice_space(s: &mut Value, roles: &[(&str, &str)]) {
    let associations: Vec<Value> = roles.iter().map(|(a, r)| json!({"account": a, "role": r})).collect();
    push(
        s,
        "agent_spaces",
        json!({"id": "invoice", "arn": "arn:aws:aidevops:eu-west-1:111111111111:agentspace/invoice", "name": "invoice", "account": INVOICE, "region": "eu-west-1", "tags": {"app": "invoice"}, "associations": associations}),
    );
}

/// `s` as a quoted TOML string or key, control characters as `\uXXXX` (hostile-name tests of
/// the config loader and the role renderers).
pub fn toml_string(s: &str) -> String {
    let body: String = s
        .chars()
        .map(|c| match c {
            '"' | '\\' => format!("\\{c}"),
            c if c.is_control() => format!("\\u{:04X}", u32::from(c)),
            c => c.to_string(),
        })
        .collect();
    format!("\"{body}\"")
}

/// Adds an EventBridge v2 bus with `subscribers` (`(subscriber account, target ARN)` pairs),
/// shared through one RAM share when `shared`; returns the bus ARN.
pub fn add_bus_v2(
    s: &mut Value,
    account: &str,
    region: &str,
    name: &str,
    subscribers: &[(&str, &str)],
    shared: bool,
) -> String {
    let arn = format!("arn:aws:events:{region}:{account}:event-busv2/{name}/b-0001");
    let subs: Vec<Value> = subscribers
        .iter()
        .enumerate()
        .map(|(i, (acc, target))| {
            json!({"arn": format!("arn:aws:events:{region}:{account}:subscriber/{name}/s{i}"), "name": format!("s{i}"),
                   "account": acc, "target": target, "filters": ["{\"source\":[\"orders\"]}"]})
        })
        .collect();
    let shares = if shared {
        json!([{"arn": format!("arn:aws:ram:{region}:{account}:resource-share/{name}"), "principals": [INVOICE, CHECKOUT]}])
    } else {
        json!([])
    };
    push(
        s,
        "event_buses_v2",
        json!({"arn": arn, "account": account, "region": region, "name": name, "shares": shares, "subscribers": subs}),
    );
    arn
}

/// [`CONFIG`] with `extra` appended, where `{guardrail}` in `extra` becomes the absolute path
/// of a file holding the policy `doc` (kept alive by the returned directory).
pub fn config_with_guardrail(extra: &str, doc: &Value) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("guardrail.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let shown = toml_string(&path.display().to_string());
    let config = format!("{CONFIG}{}", extra.replace("{guardrail}", &shown));
    (dir, config)
}
