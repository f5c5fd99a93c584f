//! Terraform plans (`terraform show -json plan.out`) → an [`Overlay`].
//!
//! Each entry of `resource_changes` of a modelled `aws_*` type becomes drafts: `create` and
//! `update` (and replacements) from `after`, `delete` from `before`; `no-op` and `read` change
//! nothing. Values marked in `after_unknown` become the unknown marker and are listed as
//! [`Unknown`]s. Module addresses and `count` / `for_each` keys stay in the address that locates
//! the change. The account and region come from the resource's ARN, then the `aws` provider's
//! `region`, `assume_role` and `allowed_account_ids`, then `--account` / `--region`.
//!
//! Format: <https://developer.hashicorp.com/terraform/internals/json-format>

use super::cfn_types::{self, Kind, Place};
use super::draft::Entity;
use super::intrinsics::Ctx;
use super::terraform_ram;
use super::{
    Action, Change, Draft, IacError, NotConsidered, Overlay, SourceLocation, Target, Unknown, jsonpos, unknown_value,
};
use crate::model::{ResourceKind, Target as RuleTarget};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Why `aws_ram_resource_share` is listed as not considered: it holds the share's name and
/// settings; what it shares and with whom are its association resources, which are read.
const RAM_SHARE_ITSELF: &str = "the RAM share itself (name, settings): what it shares and with whom come from `aws_ram_resource_association` and `aws_ram_principal_association`, which are read where the resource is an EventBridge v2 bus";

/// Plan `format_version` majors this reader understands.
const SUPPORTED_MAJORS: &[&str] = &["0", "1"];

/// Reads the plan at `path` (named `file` in messages).
pub fn read(path: &std::path::Path, file: &str, target: &Target) -> Result<Overlay, IacError> {
    let text = std::fs::read_to_string(path).map_err(|e| IacError::file(file, format!("cannot read plan: {e}")))?;
    read_text(&text, file, target)
}

/// Defaults from the `aws` provider configuration.
#[derive(Debug, Default)]
struct Provider {
    account: Option<String>,
    region: Option<String>,
}

fn constant(expr: Option<&Value>) -> Option<&Value> {
    expr.and_then(|e| e.get("constant_value"))
}

/// Every provider configuration of the plan by its key (`aws`, `aws.eu`, `module.x:aws`).
fn providers(plan: &Value) -> BTreeMap<String, Provider> {
    plan.pointer("/configuration/provider_config")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, p)| p.get("name").and_then(Value::as_str).is_none_or(|n| n == "aws"))
                .map(|(k, p)| (k.clone(), provider(p)))
                .collect()
        })
        .unwrap_or_default()
}

/// Resource address in the configuration (module path without instance keys, `type.name`) →
/// its `provider_config_key`, from `configuration.root_module` and its module calls.
fn provider_keys(module: &Value, prefix: &str, out: &mut BTreeMap<String, String>) {
    for r in module.get("resources").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(address), Some(key)) = (
            r.get("address").and_then(Value::as_str),
            r.get("provider_config_key").and_then(Value::as_str),
        ) {
            out.insert(format!("{prefix}{address}"), key.to_string());
        }
    }
    for (name, call) in module
        .get("module_calls")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(m) = call.get("module") {
            provider_keys(m, &format!("{prefix}module.{name}."), out);
        }
    }
}

/// A resource change's configuration address: `module.a["x"].aws_s3_bucket.b[0]` →
/// `module.a.aws_s3_bucket.b`.
fn config_address(rc: &Value) -> Option<String> {
    let ty = rc.get("type").and_then(Value::as_str)?;
    let name = rc.get("name").and_then(Value::as_str)?;
    let module = rc.get("module_address").and_then(Value::as_str).unwrap_or("");
    let mut prefix = String::new();
    let mut depth = 0usize;
    for c in module.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if depth == 0 => prefix.push(c),
            _ => {}
        }
    }
    if !prefix.is_empty() {
        prefix.push('.');
    }
    Some(format!("{prefix}{ty}.{name}"))
}

/// The provider defaults of one resource change: the configuration its `provider_config_key`
/// names (an alias such as `aws.eu`, or `module.x:aws`), else the default `aws` provider.
fn provider_for<'p>(
    rc: &Value,
    keys: &BTreeMap<String, String>,
    providers: &'p BTreeMap<String, Provider>,
    fallback: &'p Provider,
) -> &'p Provider {
    let key = config_address(rc).and_then(|a| keys.get(&a));
    key.and_then(|k| {
        providers
            .get(k)
            .or_else(|| k.rsplit_once(':').and_then(|(_, bare)| providers.get(bare)))
    })
    .or_else(|| providers.get("aws"))
    .unwrap_or(fallback)
}

/// One `aws` provider configuration block: its `region`, and the account of its `assume_role`
/// role or its single `allowed_account_ids` entry.
fn provider(config: &Value) -> Provider {
    let Some(aws) = config.get("expressions") else {
        return Provider::default();
    };
    let region = constant(aws.get("region")).and_then(Value::as_str).map(str::to_string);
    let assumed = aws
        .get("assume_role")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|r| constant(r.get("role_arn")))
        .and_then(Value::as_str)
        .and_then(|arn| arn.split(':').nth(4))
        .map(str::to_string);
    let allowed = constant(aws.get("allowed_account_ids"))
        .and_then(Value::as_array)
        .filter(|a| a.len() == 1)
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .map(str::to_string);
    Provider {
        account: assumed.or(allowed),
        region,
    }
}

/// Reads plan text; see [`read`].
pub fn read_text(text: &str, file: &str, target: &Target) -> Result<Overlay, IacError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let plan: Value = serde_json::from_str(text).map_err(|e| IacError {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        resource: None,
        message: format!("not valid JSON: {e}"),
    })?;
    let version = plan.get("format_version").and_then(Value::as_str).ok_or_else(|| {
        IacError::file(
            file,
            "not a Terraform plan: no `format_version` (write it with `terraform show -json plan.out`)",
        )
    })?;
    let major = version.split('.').next().unwrap_or("");
    if !SUPPORTED_MAJORS.contains(&major) {
        return Err(IacError::file(
            file,
            format!("plan `format_version` `{version}` is not supported: this topoguard reads 0.x and 1.x"),
        ));
    }
    let changes = match plan.get("resource_changes") {
        None => return Ok(Overlay::default()),
        Some(Value::Array(c)) => c,
        Some(_) => return Err(IacError::file(file, "`resource_changes` is not a list")),
    };
    let positions: BTreeMap<String, (usize, usize)> = jsonpos::keys(text)
        .into_iter()
        .filter(|k| k.path == ["resource_changes", "[]"] && k.key == "address")
        .filter_map(|k| Some((k.string_value?, (k.line, k.column))))
        .rev()
        .collect();
    let providers = providers(&plan);
    let mut keys = BTreeMap::new();
    if let Some(root) = plan.pointer("/configuration/root_module") {
        provider_keys(root, "", &mut keys);
    }
    let fallback = Provider::default();
    let shares = terraform_ram::links(&plan, changes, config_address, |share| {
        let defaults = provider_for(share, &keys, &providers, &fallback);
        let values = share.pointer("/change/after").unwrap_or(&Value::Null);
        let place = place_of(None, values, defaults, target)?;
        Some(super::eventsv2::share_arn(share.get("address")?.as_str()?, &place))
    });
    let mut overlay = Overlay::default();
    for (i, rc) in changes.iter().enumerate() {
        let joined = rc
            .get("address")
            .and_then(Value::as_str)
            .and_then(|a| shares.get(a))
            .map(|arn| terraform_ram::joined(rc, arn));
        let rc = joined.as_ref().unwrap_or(rc);
        let address = rc
            .get("address")
            .and_then(Value::as_str)
            .map_or_else(|| format!("resource_changes[{i}]"), str::to_string);
        let (line, column) = positions.get(&address).copied().unwrap_or((1, 1));
        let loc = SourceLocation {
            file: file.to_string(),
            resource: address.clone(),
            line,
            column,
        };
        let defaults = provider_for(rc, &keys, &providers, &fallback);
        one(rc, &loc, defaults, target, &mut overlay)?;
    }
    Ok(overlay)
}

fn one(
    rc: &Value,
    loc: &SourceLocation,
    defaults: &Provider,
    target: &Target,
    overlay: &mut Overlay,
) -> Result<(), IacError> {
    let ty = rc.get("type").and_then(Value::as_str).unwrap_or("");
    if rc.get("mode").and_then(Value::as_str) == Some("data") {
        return Ok(());
    }
    let actions: Vec<&str> = rc
        .pointer("/change/actions")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let action = match actions.as_slice() {
        ["no-op"] | ["read"] => return Ok(()),
        ["create"] => Action::Create,
        ["delete"] => Action::Delete,
        ["update"] | ["delete", "create"] | ["create", "delete"] => Action::Update,
        other => return Err(IacError::at(loc, format!("unknown change actions `{other:?}`"))),
    };
    let Some(kind) = tf_kind(ty) else {
        overlay.not_considered.push(NotConsidered {
            location: loc.clone(),
            resource_type: ty.to_string(),
            reason: match ty {
                "aws_iam_instance_profile" => cfn_types::not_modelled_reason("AWS::IAM::InstanceProfile"),
                "aws_ram_resource_share" => RAM_SHARE_ITSELF.to_string(),
                _ => "topoguard does not model this resource type".to_string(),
            },
        });
        return Ok(());
    };
    let change = rc.get("change").cloned().unwrap_or(Value::Null);
    let (values, unknown_fields) = if action == Action::Delete {
        (change.get("before").cloned().unwrap_or(Value::Null), Vec::new())
    } else {
        let mut after = change.get("after").cloned().unwrap_or(Value::Null);
        let mut fields = Vec::new();
        mark_unknown(
            &mut after,
            change.get("after_unknown").unwrap_or(&Value::Null),
            &loc.resource,
            "after",
            &mut fields,
        );
        (after, fields)
    };
    // An event target's `arn` is the target's, not its own.
    let own_arn = if ty == "aws_cloudwatch_event_target" {
        None
    } else {
        values.get("arn")
    };
    let place = place_of(own_arn, &values, defaults, target).ok_or_else(|| {
        IacError::at(
            loc,
            "cannot tell which account and region this resource deploys into: pass `--account` and `--region`",
        )
    })?;
    let drafts = drafts(ty, kind, &values, loc, &place).map_err(|m| IacError::at(loc, m))?;
    if drafts.is_empty() {
        overlay.not_considered.push(NotConsidered {
            location: loc.clone(),
            resource_type: ty.to_string(),
            reason: cfn_types::nothing_modelled_reason(kind).to_string(),
        });
        return Ok(());
    }
    let api = cfn_types::api(kind);
    for field in unknown_fields {
        overlay.unknowns.push(Unknown {
            location: loc.clone(),
            field,
            account: place.account.clone(),
            region: Some(place.region.clone()),
            api: api.to_string(),
        });
    }
    overlay.changes.extend(drafts.into_iter().map(|draft| Change {
        action,
        location: loc.clone(),
        draft,
    }));
    Ok(())
}

/// Replaces every value that `after_unknown` marks with the unknown marker, recording its path.
fn mark_unknown(v: &mut Value, unknown: &Value, address: &str, at: &str, fields: &mut Vec<String>) {
    match unknown {
        Value::Bool(true) => {
            *v = Value::String(unknown_value(&format!("{address}.{}", at.trim_start_matches("after."))));
            fields.push(at.to_string());
        }
        Value::Object(m) => {
            if !v.is_object() {
                *v = Value::Object(Map::new());
            }
            for (k, u) in m {
                if let Some(obj) = v.as_object_mut() {
                    let slot = obj.entry(k.clone()).or_insert(Value::Null);
                    mark_unknown(slot, u, address, &format!("{at}.{k}"), fields);
                }
            }
        }
        Value::Array(items) => {
            if !v.is_array() {
                *v = Value::Array(Vec::new());
            }
            for (i, u) in items.iter().enumerate() {
                if let Some(arr) = v.as_array_mut() {
                    while arr.len() <= i {
                        arr.push(Value::Null);
                    }
                    if let Some(slot) = arr.get_mut(i) {
                        mark_unknown(slot, u, address, &format!("{at}[{i}]"), fields);
                    }
                }
            }
        }
        _ => {}
    }
}

fn place_of(own_arn: Option<&Value>, values: &Value, defaults: &Provider, target: &Target) -> Option<Place> {
    let arn = own_arn.and_then(Value::as_str).filter(|a| !super::is_unknown(a));
    let arn_part = |i: usize| {
        arn.and_then(|a| a.split(':').nth(i))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let account = arn_part(4)
        .or_else(|| defaults.account.clone())
        .or_else(|| target.accounts.first().cloned())?;
    let region = values
        .get("region")
        .and_then(Value::as_str)
        .filter(|r| !super::is_unknown(r))
        .map(str::to_string)
        .or_else(|| arn_part(3))
        .or_else(|| defaults.region.clone())
        .or_else(|| target.region.clone())
        // IAM is global: its ARNs name no region, and none is needed.
        .or_else(|| (arn_part(2).as_deref() == Some("iam")).then(|| "us-east-1".to_string()))?;
    Some(Place {
        account,
        region,
        stack: "terraform".to_string(),
    })
}

fn tf_kind(ty: &str) -> Option<Kind> {
    Some(match ty {
        "aws_iam_role" => Kind::Role,
        "aws_iam_user" => Kind::User,
        "aws_iam_group" => Kind::Group,
        "aws_iam_user_policy" | "aws_iam_user_policy_attachment" => Kind::EntityPolicy(Entity::User),
        "aws_iam_group_policy" | "aws_iam_group_policy_attachment" => Kind::EntityPolicy(Entity::Group),
        "aws_iam_user_group_membership" | "aws_iam_group_membership" => Kind::Membership,
        "aws_iam_role_policy" | "aws_iam_role_policy_attachment" | "aws_iam_policy_attachment" => Kind::Policy,
        "aws_iam_policy" => Kind::ManagedPolicy,
        "aws_cloudwatch_event_bus" => Kind::EventBus,
        "aws_cloudwatch_event_bus_policy" | "aws_cloudwatch_event_permission" => Kind::EventBusPolicy,
        "aws_cloudwatch_event_rule" | "aws_cloudwatch_event_target" => Kind::Rule,
        "aws_lambda_function" => Kind::Function,
        "aws_lambda_permission" => Kind::Permission,
        "aws_lambda_event_source_mapping" => Kind::EventSourceMapping,
        "aws_sqs_queue" => Kind::Resource(ResourceKind::SqsQueue),
        "aws_sns_topic" => Kind::Resource(ResourceKind::SnsTopic),
        "aws_s3_bucket" => Kind::Resource(ResourceKind::S3Bucket),
        "aws_kms_key" => Kind::Resource(ResourceKind::KmsKey),
        "aws_dynamodb_table" => Kind::Resource(ResourceKind::DynamodbTable),
        "aws_secretsmanager_secret" => Kind::Resource(ResourceKind::SecretsmanagerSecret),
        "aws_sqs_queue_policy" => Kind::PolicyOf(ResourceKind::SqsQueue),
        "aws_sns_topic_policy" => Kind::PolicyOf(ResourceKind::SnsTopic),
        "aws_s3_bucket_policy" => Kind::PolicyOf(ResourceKind::S3Bucket),
        "aws_secretsmanager_secret_policy" => Kind::PolicyOf(ResourceKind::SecretsmanagerSecret),
        "aws_dynamodb_resource_policy" => Kind::PolicyOf(ResourceKind::DynamodbTable),
        "aws_devopsagent_agent_space" => Kind::AgentSpace,
        "aws_ram_resource_association" | "aws_ram_principal_association" => Kind::ResourceShare,
        _ => return None,
    })
}

fn g(v: &Value, k: &str) -> Value {
    v.get(k).cloned().unwrap_or(Value::Null)
}

fn st(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// The first element of a nested block list (`environment[0]`), or the block itself.
fn block<'v>(v: &'v Value, k: &str) -> Option<&'v Value> {
    match v.get(k)? {
        Value::Array(a) => a.first(),
        Value::Null => None,
        other => Some(other),
    }
}

fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, x)| !x.is_null()).collect()),
        other => other,
    }
}

/// Terraform attributes → the CloudFormation property shape [`cfn_types::drafts`] reads.
fn cfn_props(ty: &str, v: &Value) -> Value {
    let tags = g(v, "tags");
    without_nulls(match ty {
        "aws_iam_role" => json!({
            "RoleName": g(v, "name"), "Path": g(v, "path"), "AssumeRolePolicyDocument": g(v, "assume_role_policy"),
            "PermissionsBoundary": g(v, "permissions_boundary"), "Tags": tags,
            "ManagedPolicyArns": g(v, "managed_policy_arns"),
            "Policies": v.get("inline_policy").and_then(Value::as_array).map(|ps| ps.iter().filter(|p| p.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty())).map(|p| json!({"PolicyName": g(p, "name"), "PolicyDocument": g(p, "policy")})).collect::<Vec<_>>()),
        }),
        "aws_iam_user" => json!({
            "UserName": g(v, "name"), "Path": g(v, "path"), "PermissionsBoundary": g(v, "permissions_boundary"), "Tags": tags,
        }),
        "aws_iam_group" => json!({"GroupName": g(v, "name"), "Path": g(v, "path")}),
        "aws_iam_user_policy" => {
            json!({"PolicyName": g(v, "name"), "UserName": g(v, "user"), "PolicyDocument": g(v, "policy")})
        }
        "aws_iam_group_policy" => {
            json!({"PolicyName": g(v, "name"), "GroupName": g(v, "group"), "PolicyDocument": g(v, "policy")})
        }
        "aws_iam_group_membership" => json!({"GroupName": g(v, "group"), "Users": g(v, "users")}),
        "aws_iam_role_policy" => {
            json!({"PolicyName": g(v, "name"), "RoleName": g(v, "role"), "PolicyDocument": g(v, "policy")})
        }
        "aws_iam_policy" => {
            json!({"ManagedPolicyName": g(v, "name"), "Path": g(v, "path"), "PolicyDocument": g(v, "policy")})
        }
        "aws_cloudwatch_event_bus" => json!({"Name": g(v, "name"), "Tags": tags}),
        "aws_cloudwatch_event_rule" => json!({
            "Name": g(v, "name"), "EventBusName": g(v, "event_bus_name"), "EventPattern": g(v, "event_pattern"),
            "ScheduleExpression": g(v, "schedule_expression"), "Tags": tags,
            "State": st(v, "state").or_else(|| v.get("is_enabled").and_then(Value::as_bool).map(|e| if e { "ENABLED".into() } else { "DISABLED".into() })),
        }),
        "aws_lambda_function" => json!({
            "FunctionName": g(v, "function_name"), "Role": g(v, "role"), "Runtime": g(v, "runtime"), "Tags": tags,
            "Environment": block(v, "environment").map(|e| json!({"Variables": g(e, "variables")})),
            "DeadLetterConfig": block(v, "dead_letter_config").map(|d| json!({"TargetArn": g(d, "target_arn")})),
        }),
        "aws_lambda_permission" => json!({
            "FunctionName": g(v, "function_name"), "Action": g(v, "action"), "Principal": g(v, "principal"),
            "SourceArn": g(v, "source_arn"), "SourceAccount": g(v, "source_account"),
        }),
        "aws_lambda_event_source_mapping" => {
            json!({"FunctionName": g(v, "function_name"), "EventSourceArn": g(v, "event_source_arn")})
        }
        "aws_sqs_queue" => json!({"QueueName": g(v, "name"), "Tags": tags}),
        "aws_sns_topic" => json!({"TopicName": g(v, "name"), "Tags": tags}),
        "aws_s3_bucket" => json!({"BucketName": g(v, "bucket"), "Tags": tags}),
        "aws_kms_key" => json!({"KeyPolicy": g(v, "policy"), "Tags": tags}),
        "aws_dynamodb_table" => json!({"TableName": g(v, "name"), "Tags": tags}),
        "aws_secretsmanager_secret" => json!({"Name": g(v, "name"), "Tags": tags}),
        "aws_sqs_queue_policy" => json!({"Queues": [g(v, "queue_url")], "PolicyDocument": g(v, "policy")}),
        "aws_sns_topic_policy" => json!({"Topics": [g(v, "arn")], "PolicyDocument": g(v, "policy")}),
        "aws_s3_bucket_policy" => json!({"Bucket": g(v, "bucket"), "PolicyDocument": g(v, "policy")}),
        "aws_secretsmanager_secret_policy" => json!({"SecretId": g(v, "secret_arn"), "ResourcePolicy": g(v, "policy")}),
        "aws_devopsagent_agent_space" => json!({"Name": g(v, "name"), "KmsKeyArn": g(v, "kms_key_arn"), "Tags": tags}),
        _ => json!({}),
    })
}

/// The user and group resources whose shape is Terraform's own: attachments and a user's
/// memberships.
fn entity_draft(ty: &str, v: &Value, p: &Place) -> Option<Draft> {
    let attachment = |entity, key| Draft::EntityAttachment {
        account: p.account.clone(),
        entity,
        name: st(v, key).unwrap_or_default(),
        policy_arn: st(v, "policy_arn").unwrap_or_default(),
    };
    Some(match ty {
        "aws_iam_user_policy_attachment" => attachment(Entity::User, "user"),
        "aws_iam_group_policy_attachment" => attachment(Entity::Group, "group"),
        "aws_iam_user_group_membership" => Draft::Membership {
            account: p.account.clone(),
            user: st(v, "user").unwrap_or_default(),
            groups: v
                .get("groups")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
        },
        _ => return None,
    })
}

/// The drafts one resource change becomes.
fn drafts(ty: &str, kind: Kind, v: &Value, loc: &SourceLocation, p: &Place) -> Result<Vec<Draft>, String> {
    let partition = super::partition_of(&p.region).0;
    let bus_arn = |name: Option<String>| {
        let name = name.unwrap_or_else(|| "default".to_string());
        if name.starts_with("arn:") {
            name
        } else {
            format!("arn:{partition}:events:{}:{}:event-bus/{name}", p.region, p.account)
        }
    };
    if let Some(d) = entity_draft(ty, v, p) {
        return Ok(vec![d]);
    }
    match ty {
        "aws_iam_role_policy_attachment" => {
            return Ok(vec![Draft::RoleAttachment {
                account: p.account.clone(),
                role: st(v, "role").unwrap_or_default(),
                policy_arn: st(v, "policy_arn").unwrap_or_default(),
            }]);
        }
        "aws_iam_policy_attachment" => {
            let roles = v.get("roles").and_then(Value::as_array).cloned().unwrap_or_default();
            return Ok(roles
                .iter()
                .filter_map(Value::as_str)
                .map(|r| Draft::RoleAttachment {
                    account: p.account.clone(),
                    role: r.to_string(),
                    policy_arn: st(v, "policy_arn").unwrap_or_default(),
                })
                .collect());
        }
        "aws_cloudwatch_event_target" => {
            let bus = bus_arn(st(v, "event_bus_name"));
            let bus_name = bus.rsplit('/').next().unwrap_or("default").to_string();
            let rule = st(v, "rule").unwrap_or_default();
            let rule = if rule.starts_with("arn:") {
                rule
            } else if bus_name == "default" {
                format!("arn:{partition}:events:{}:{}:rule/{rule}", p.region, p.account)
            } else {
                format!(
                    "arn:{partition}:events:{}:{}:rule/{bus_name}/{rule}",
                    p.region, p.account
                )
            };
            let target = RuleTarget {
                id: st(v, "target_id").unwrap_or_default(),
                arn: st(v, "arn").unwrap_or_default(),
                role: st(v, "role_arn"),
                dead_letter_queue: block(v, "dead_letter_config").and_then(|d| st(d, "arn")),
            };
            return Ok(vec![Draft::RuleTarget { rule, target }]);
        }
        "aws_cloudwatch_event_bus_policy" => {
            let bus = bus_arn(st(v, "event_bus_name"));
            let doc = cfn_types::document(v.get("policy"));
            let statements = match doc.get("Statement") {
                Some(Value::Array(s)) => s.clone(),
                Some(one) => vec![one.clone()],
                None => Vec::new(),
            };
            return Ok(statements
                .into_iter()
                .map(|statement| Draft::BusPolicy {
                    bus: bus.clone(),
                    statement,
                })
                .collect());
        }
        "aws_ram_resource_association" => {
            let bus = st(v, "resource_arn").filter(|r| super::eventsv2::is_bus_v2(r));
            let share = st(v, "resource_share_arn")
                .filter(|s| !super::is_unknown(s))
                .unwrap_or_else(|| super::eventsv2::share_arn(&loc.resource, p));
            return Ok(bus
                .map(|bus| Draft::BusShare {
                    account: p.account.clone(),
                    bus,
                    share: crate::model::ResourceShare {
                        arn: share,
                        principals: Vec::new(),
                    },
                })
                .into_iter()
                .collect());
        }
        "aws_ram_principal_association" => {
            return Ok(vec![Draft::SharePrincipal {
                account: p.account.clone(),
                share: st(v, "resource_share_arn").unwrap_or_default(),
                principal: st(v, "principal").unwrap_or_default(),
            }]);
        }
        "aws_dynamodb_resource_policy" => {
            return Ok(vec![Draft::ResourcePolicy {
                account: p.account.clone(),
                target: st(v, "resource_arn").unwrap_or_default(),
                policy: cfn_types::document(v.get("policy")),
            }]);
        }
        _ => {}
    }
    let props = cfn_props(ty, v);
    let ctx = Ctx::default();
    let id = match ty {
        "aws_lambda_permission" => st(v, "statement_id").unwrap_or_else(|| loc.resource.clone()),
        _ => loc.resource.clone(),
    };
    let name = match cfn_types::name_property(kind)
        .and_then(|k| props.get(k))
        .and_then(Value::as_str)
    {
        Some(n) if !super::is_unknown(n) => n.to_string(),
        _ => loc.resource.replace(['[', ']', '"', '.'], "-"),
    };
    let mut out = cfn_types::drafts(kind, &id, &name, &props, &ctx, p)?;
    // Attributes that only Terraform sets on the resource itself.
    for d in &mut out {
        match d {
            Draft::Resource(r) => {
                if let Some(arn) = st(v, "arn").filter(|a| !super::is_unknown(a)) {
                    r.arn = arn;
                }
                if let Some(policy) = st(v, "policy").filter(|s| !s.is_empty()) {
                    r.policy = Some(cfn_types::document(Some(&Value::String(policy))).into());
                }
                if let Some(url) = st(v, "url")
                    .or_else(|| st(v, "id"))
                    .filter(|u| u.starts_with("https://"))
                {
                    r.aliases = vec![url];
                }
            }
            Draft::EventSourceMapping { mapping, .. } => {
                if let Some(uuid) = st(v, "uuid").filter(|u| !super::is_unknown(u)) {
                    mapping.uuid = uuid;
                }
            }
            Draft::AgentSpace(a) => {
                // `aws_devopsagent_agent_space` manages no preferences and no operator app: not
                // recorded (an update keeps the snapshot's).
                a.elevated_actions_enabled = None;
                a.operator_app_role = None;
                let known = |k: &str| st(v, k).filter(|x| !super::is_unknown(x) && !x.is_empty());
                if let (Some(arn), Some(id)) = (known("arn"), known("agent_space_id")) {
                    a.arn = arn;
                    a.id = id;
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
