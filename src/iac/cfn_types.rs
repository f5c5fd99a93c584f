//! The CloudFormation resource types topoguard models: their physical names, `Ref` values and
//! ARNs, and the drafts their (resolved) properties become.
//!
//! Return values per type: <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html>

use super::draft::Entity;
use super::intrinsics::{Ctx, resolve_string};
use super::{Draft, api_of_kind, partition_of};
use crate::model::{
    EventBus, EventSourceMapping, Function, Group, InlinePolicy, ManagedPolicy, Resource, ResourceKind, Role, Rule,
    RuleState, Tags, Target, User,
};
use serde_json::{Value, json};

/// Where the stack deploys.
#[derive(Debug, Clone)]
pub struct Place {
    pub account: String,
    pub region: String,
    pub stack: String,
}

impl Place {
    fn partition(&self) -> &'static str {
        partition_of(&self.region).0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Role,
    User,
    Group,
    /// `AWS::IAM::UserPolicy` / `AWS::IAM::GroupPolicy`.
    EntityPolicy(Entity),
    /// `AWS::IAM::UserToGroupAddition`.
    Membership,
    Policy,
    ManagedPolicy,
    EventBus,
    EventBusPolicy,
    Rule,
    Function,
    Permission,
    EventSourceMapping,
    Resource(ResourceKind),
    /// A resource policy of a queue, topic, bucket or secret.
    PolicyOf(ResourceKind),
    /// `AWS::EventsV2::EventBus`.
    EventBusV2,
    /// `AWS::EventsV2::ResourcePolicy`.
    EventBusV2Policy,
    /// `AWS::EventsV2::Subscriber`.
    Subscriber,
    /// `AWS::RAM::ResourceShare` (modelled where it shares a v2 bus).
    ResourceShare,
    /// `AWS::DevOpsAgent::AgentSpace`.
    AgentSpace,
    /// `AWS::DevOpsAgent::Association` (modelled for AWS account associations).
    Association,
}

pub fn kind(ty: &str) -> Option<Kind> {
    Some(match ty {
        "AWS::IAM::Role" => Kind::Role,
        "AWS::IAM::User" => Kind::User,
        "AWS::IAM::Group" => Kind::Group,
        "AWS::IAM::UserPolicy" => Kind::EntityPolicy(Entity::User),
        "AWS::IAM::GroupPolicy" => Kind::EntityPolicy(Entity::Group),
        "AWS::IAM::UserToGroupAddition" => Kind::Membership,
        "AWS::IAM::Policy" | "AWS::IAM::RolePolicy" => Kind::Policy,
        "AWS::IAM::ManagedPolicy" => Kind::ManagedPolicy,
        "AWS::Events::EventBus" => Kind::EventBus,
        "AWS::Events::EventBusPolicy" => Kind::EventBusPolicy,
        "AWS::Events::Rule" => Kind::Rule,
        "AWS::Lambda::Function" => Kind::Function,
        "AWS::Lambda::Permission" => Kind::Permission,
        "AWS::Lambda::EventSourceMapping" => Kind::EventSourceMapping,
        "AWS::SQS::Queue" => Kind::Resource(ResourceKind::SqsQueue),
        "AWS::SNS::Topic" => Kind::Resource(ResourceKind::SnsTopic),
        "AWS::S3::Bucket" => Kind::Resource(ResourceKind::S3Bucket),
        "AWS::KMS::Key" => Kind::Resource(ResourceKind::KmsKey),
        "AWS::DynamoDB::Table" => Kind::Resource(ResourceKind::DynamodbTable),
        "AWS::SecretsManager::Secret" => Kind::Resource(ResourceKind::SecretsmanagerSecret),
        "AWS::SQS::QueuePolicy" => Kind::PolicyOf(ResourceKind::SqsQueue),
        "AWS::SNS::TopicPolicy" => Kind::PolicyOf(ResourceKind::SnsTopic),
        "AWS::S3::BucketPolicy" => Kind::PolicyOf(ResourceKind::S3Bucket),
        "AWS::SecretsManager::ResourcePolicy" => Kind::PolicyOf(ResourceKind::SecretsmanagerSecret),
        "AWS::EventsV2::EventBus" => Kind::EventBusV2,
        "AWS::EventsV2::ResourcePolicy" => Kind::EventBusV2Policy,
        "AWS::EventsV2::Subscriber" => Kind::Subscriber,
        "AWS::RAM::ResourceShare" => Kind::ResourceShare,
        "AWS::DevOpsAgent::AgentSpace" => Kind::AgentSpace,
        "AWS::DevOpsAgent::Association" => Kind::Association,
        _ => return None,
    })
}

/// Why a type is listed as not considered.
pub fn not_modelled_reason(ty: &str) -> String {
    if ty.starts_with("AWS::Serverless::") {
        "a SAM resource: give topoguard the transformed template (`sam build`, or the processed template of the stack)"
            .to_string()
    } else if ty == "AWS::IAM::InstanceProfile" {
        "an instance profile: the snapshot has no instance-profile records; the role it holds is modelled as `AWS::IAM::Role`"
            .to_string()
    } else if ty == "AWS::EventsV2::EventSource" {
        "an event source (AWS service or partner events forwarded into a v2 bus): the snapshot has no event-source record".to_string()
    } else if ty.starts_with("Custom::") || ty == "AWS::CloudFormation::CustomResource" {
        "a custom resource: what it creates is not known before deployment".to_string()
    } else {
        "topoguard does not model this resource type".to_string()
    }
}

/// Why a resource of a modelled type gave no change: a RAM share of no v2 bus, an Agent Space
/// association with a service that is not an AWS account.
pub fn nothing_modelled_reason(kind: Kind) -> &'static str {
    match kind {
        Kind::ResourceShare => {
            "a RAM share of no EventBridge v2 bus: topoguard models RAM shares of v2 buses only (the snapshot records them on the bus)"
        }
        Kind::Association => super::devopsagent::NOT_AN_ACCOUNT,
        _ => "nothing of it is modelled",
    }
}

/// The attribute that the service generates and that the template's ARN or `Ref` value of the
/// resource stands in for (recorded as known only after apply), if any.
pub fn generated_identifier(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::EventBusV2 => "EventBusArn",
        Kind::Subscriber => "SubscriberArn",
        Kind::AgentSpace => "AgentSpaceId",
        _ => return None,
    })
}

/// The property that names the resource, if it has one.
pub fn name_property(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Role => "RoleName",
        Kind::User => "UserName",
        Kind::Group => "GroupName",
        Kind::Policy | Kind::EntityPolicy(_) => "PolicyName",
        Kind::ManagedPolicy => "ManagedPolicyName",
        Kind::EventBus
        | Kind::Rule
        | Kind::Resource(ResourceKind::SecretsmanagerSecret)
        | Kind::EventBusV2
        | Kind::Subscriber
        | Kind::AgentSpace => "Name",
        Kind::Function => "FunctionName",
        Kind::Resource(ResourceKind::SqsQueue) => "QueueName",
        Kind::Resource(ResourceKind::SnsTopic) => "TopicName",
        Kind::Resource(ResourceKind::S3Bucket) => "BucketName",
        Kind::Resource(ResourceKind::DynamodbTable) => "TableName",
        _ => return None,
    })
}

/// The physical name and whether CloudFormation generates it at deployment.
pub fn physical_name(kind: Kind, id: &str, props: &Value, ctx: &Ctx, place: &Place) -> Result<(String, bool), String> {
    let given = match name_property(kind).and_then(|p| props.get(p)) {
        Some(v) => Some(resolve_string(v, ctx).map_err(|e| format!("{}: {e}", name_property(kind).unwrap_or("name")))?),
        None => None,
    };
    Ok(match given {
        Some(n) if !super::is_unknown(&n) => (n, false),
        _ if matches!(
            kind,
            Kind::Policy
                | Kind::EntityPolicy(_)
                | Kind::Membership
                | Kind::Permission
                | Kind::EventSourceMapping
                | Kind::EventBusPolicy
                | Kind::PolicyOf(_)
                | Kind::EventBusV2Policy
                | Kind::ResourceShare
                | Kind::Association
        ) =>
        {
            (id.to_string(), false)
        }
        _ => {
            let name = format!("{}-{id}", place.stack);
            // Buckets and queues in lower case, as CloudFormation generates them.
            match kind {
                Kind::Resource(ResourceKind::S3Bucket) => (name.to_ascii_lowercase(), true),
                _ => (name, true),
            }
        }
    })
}

fn path_of(props: &Value) -> String {
    props.get("Path").and_then(Value::as_str).unwrap_or("/").to_string()
}

/// The ARN of a resource of the template (`id` is its logical id or address).
pub fn arn(kind: Kind, id: &str, name: &str, props: &Value, ctx: &Ctx, p: &Place) -> String {
    let (part, r, a) = (p.partition(), &p.region, &p.account);
    match kind {
        Kind::EventBusV2 => super::eventsv2::bus_arn(name, id, p),
        Kind::Subscriber => super::eventsv2::subscriber_arn(name, id, p),
        Kind::ResourceShare => super::eventsv2::share_arn(id, p),
        Kind::AgentSpace => super::devopsagent::space_arn(&super::devopsagent::space_id(id, p), p),
        Kind::EventBusV2Policy => props
            .get("EventBusArn")
            .and_then(|b| resolve_string(b, ctx).ok())
            .unwrap_or_default(),
        Kind::Role => format!("arn:{part}:iam::{a}:role{}{name}", path_of(props)),
        Kind::User => format!("arn:{part}:iam::{a}:user{}{name}", path_of(props)),
        Kind::Group => format!("arn:{part}:iam::{a}:group{}{name}", path_of(props)),
        Kind::ManagedPolicy => format!("arn:{part}:iam::{a}:policy{}{name}", path_of(props)),
        Kind::EventBus => format!("arn:{part}:events:{r}:{a}:event-bus/{name}"),
        Kind::Rule => {
            let bus = props
                .get("EventBusName")
                .and_then(|b| resolve_string(b, ctx).ok())
                .unwrap_or_else(|| "default".into());
            let bus = bus.rsplit('/').next().unwrap_or("default").to_string();
            if bus == "default" {
                format!("arn:{part}:events:{r}:{a}:rule/{name}")
            } else {
                format!("arn:{part}:events:{r}:{a}:rule/{bus}/{name}")
            }
        }
        Kind::Function => format!("arn:{part}:lambda:{r}:{a}:function:{name}"),
        Kind::Resource(k) => resource_arn(k, name, p),
        _ => format!("arn:{part}:cloudformation:{r}:{a}:stack/{}/{name}", p.stack),
    }
}

fn resource_arn(k: ResourceKind, name: &str, p: &Place) -> String {
    let (part, r, a) = (p.partition(), &p.region, &p.account);
    match k {
        ResourceKind::SqsQueue => format!("arn:{part}:sqs:{r}:{a}:{name}"),
        ResourceKind::SnsTopic => format!("arn:{part}:sns:{r}:{a}:{name}"),
        ResourceKind::S3Bucket => format!("arn:{part}:s3:::{name}"),
        ResourceKind::KmsKey => format!("arn:{part}:kms:{r}:{a}:key/{name}"),
        ResourceKind::DynamodbTable => format!("arn:{part}:dynamodb:{r}:{a}:table/{name}"),
        ResourceKind::SecretsmanagerSecret => format!("arn:{part}:secretsmanager:{r}:{a}:secret:{name}"),
        _ => format!("arn:{part}:cloudformation:{r}:{a}:stack/{}/{name}", p.stack),
    }
}

/// What `Ref` returns for the resource; `arn` is its ARN.
pub fn ref_value(kind: Kind, id: &str, name: &str, arn_value: &str, p: &Place) -> String {
    match kind {
        Kind::ManagedPolicy
        | Kind::Resource(ResourceKind::SnsTopic | ResourceKind::SecretsmanagerSecret)
        | Kind::EventBusV2
        | Kind::EventBusV2Policy
        | Kind::Subscriber
        | Kind::ResourceShare => arn_value.to_string(),
        Kind::AgentSpace => super::devopsagent::space_id(id, p),
        // A composite identifier (`AgentSpaceId|AssociationId`) the service generates.
        Kind::Association => super::unknown_value(&format!("Ref {id}")),
        Kind::Resource(ResourceKind::SqsQueue) => format!(
            "https://sqs.{}.{}/{}/{name}",
            p.region,
            partition_of(&p.region).1,
            p.account
        ),
        _ => name.to_string(),
    }
}

/// The `Fn::GetAtt` attributes known before deployment: the ARN under the name the type's schema
/// gives it (`Arn`, `EventBusArn`, `SubscriberArn`) and an Agent Space's `AgentSpaceId` (stand-ins
/// where the service generates them, recorded as unknown by the reader).
pub fn attributes(kind: Kind, arn_value: &str, ref_value: &str) -> Vec<(&'static str, String)> {
    match kind {
        Kind::EventBusV2 => vec![("EventBusArn", arn_value.to_string())],
        Kind::Subscriber => vec![("SubscriberArn", arn_value.to_string())],
        Kind::AgentSpace => vec![("Arn", arn_value.to_string()), ("AgentSpaceId", ref_value.to_string())],
        Kind::EventBusV2Policy | Kind::Association => Vec::new(),
        _ => vec![("Arn", arn_value.to_string())],
    }
}

/// The API a resource's unknowns stand for (decides which checks become "not proven").
pub fn api(kind: Kind) -> &'static str {
    match kind {
        Kind::Role => "iam:CreateRole",
        Kind::User | Kind::EntityPolicy(Entity::User) => "iam:CreateUser",
        Kind::Group | Kind::EntityPolicy(Entity::Group) | Kind::Membership => "iam:CreateGroup",
        Kind::Policy => "iam:PutRolePolicy",
        Kind::ManagedPolicy => "iam:CreatePolicy",
        Kind::EventBus | Kind::EventBusPolicy => "events:CreateEventBus",
        Kind::Rule => "events:PutRule",
        Kind::Function | Kind::Permission | Kind::EventSourceMapping => "lambda:CreateFunction",
        Kind::Resource(k) | Kind::PolicyOf(k) => api_of_kind(k),
        Kind::EventBusV2 => "eventsv2:CreateEventBus",
        Kind::EventBusV2Policy => "eventsv2:PutResourcePolicy",
        Kind::Subscriber => "eventsv2:CreateSubscriber",
        Kind::ResourceShare => "ram:CreateResourceShare",
        Kind::AgentSpace => "aidevops:CreateAgentSpace",
        Kind::Association => "aidevops:AssociateService",
    }
}

fn s(props: &Value, key: &str) -> Option<String> {
    props.get(key).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn strings(props: &Value, key: &str) -> Vec<String> {
    props
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// A policy document given as an object or as JSON text.
pub(crate) fn document(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(t)) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
        Some(v) => v.clone(),
        None => json!({"Version": "2012-10-17", "Statement": []}),
    }
}

/// CloudFormation `Tags` (a list of `Key`/`Value`, or a map for some types).
pub(crate) fn tags(v: Option<&Value>) -> Tags {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|t| {
                Some((
                    t.get("Key")?.as_str()?.to_string(),
                    t.get("Value")
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))?,
                ))
            })
            .collect(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string)))
            .collect(),
        _ => Tags::new(),
    }
}

/// The `Policies` list of a role, user or group.
fn inline_policies(props: &Value) -> Vec<InlinePolicy> {
    props
        .get("Policies")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|x| InlinePolicy {
                    name: s(x, "PolicyName").unwrap_or_default(),
                    document: document(x.get("PolicyDocument")).into(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The drafts a resource of a modelled type becomes.
pub fn drafts(kind: Kind, id: &str, name: &str, props: &Value, ctx: &Ctx, p: &Place) -> Result<Vec<Draft>, String> {
    let account = p.account.clone();
    let arn = arn(kind, id, name, props, ctx, p);
    Ok(match kind {
        Kind::EventBusV2 => vec![super::eventsv2::bus(arn, name, props, p)],
        Kind::EventBusV2Policy => vec![super::eventsv2::policy(props, p)?],
        Kind::Subscriber => vec![super::eventsv2::subscriber(arn, name, props, p)?],
        Kind::ResourceShare => super::eventsv2::share(&arn, props, p),
        Kind::AgentSpace => vec![super::devopsagent::space(id, name, props, p)],
        Kind::Association => super::devopsagent::association(props, p)?,
        Kind::Role => vec![Draft::Role(Role {
            arn,
            account,
            name: name.to_string(),
            tags: tags(props.get("Tags")),
            trust_policy: document(props.get("AssumeRolePolicyDocument")).into(),
            inline_policies: inline_policies(props),
            attached_policies: strings(props, "ManagedPolicyArns"),
            permission_boundary: s(props, "PermissionsBoundary"),
        })],
        Kind::Policy => {
            let mut roles = strings(props, "Roles");
            roles.extend(s(props, "RoleName"));
            let policy = InlinePolicy {
                name: name.to_string(),
                document: document(props.get("PolicyDocument")).into(),
            };
            // `AWS::IAM::Policy` also embeds in `Users` and `Groups`.
            let mut out = vec![Draft::RolePolicy {
                account: account.clone(),
                roles,
                policy: policy.clone(),
            }];
            for (entity, key) in [(Entity::User, "Users"), (Entity::Group, "Groups")] {
                let names = strings(props, key);
                if !names.is_empty() {
                    out.push(Draft::EntityPolicy {
                        account: account.clone(),
                        entity,
                        names,
                        policy: policy.clone(),
                    });
                }
            }
            out
        }
        Kind::User => vec![Draft::User(User {
            arn,
            account,
            name: name.to_string(),
            tags: tags(props.get("Tags")),
            inline_policies: inline_policies(props),
            attached_policies: strings(props, "ManagedPolicyArns"),
            permission_boundary: s(props, "PermissionsBoundary"),
            groups: strings(props, "Groups"),
        })],
        Kind::Group => vec![Draft::Group(Group {
            arn,
            account,
            name: name.to_string(),
            inline_policies: inline_policies(props),
            attached_policies: strings(props, "ManagedPolicyArns"),
        })],
        Kind::EntityPolicy(entity) => {
            let key = if entity == Entity::User {
                "UserName"
            } else {
                "GroupName"
            };
            vec![Draft::EntityPolicy {
                account,
                entity,
                names: s(props, key).into_iter().collect(),
                policy: InlinePolicy {
                    name: name.to_string(),
                    document: document(props.get("PolicyDocument")).into(),
                },
            }]
        }
        Kind::Membership => {
            let group = s(props, "GroupName").ok_or("`GroupName` is required")?;
            strings(props, "Users")
                .into_iter()
                .map(|user| Draft::Membership {
                    account: account.clone(),
                    user,
                    groups: vec![group.clone()],
                })
                .collect()
        }
        Kind::ManagedPolicy => vec![Draft::ManagedPolicy {
            policy: ManagedPolicy {
                arn,
                name: name.to_string(),
                document: document(props.get("PolicyDocument")).into(),
            },
            account,
            roles: strings(props, "Roles"),
        }],
        Kind::EventBus => vec![Draft::EventBus(EventBus {
            arn,
            account,
            region: p.region.clone(),
            name: name.to_string(),
            tags: tags(props.get("Tags")),
            policy: props.get("Policy").map(|v| document(Some(v)).into()),
        })],
        Kind::EventBusPolicy => {
            let bus_name = s(props, "EventBusName").unwrap_or_else(|| "default".to_string());
            let bus = if bus_name.starts_with("arn:") {
                bus_name
            } else {
                format!(
                    "arn:{}:events:{}:{}:event-bus/{bus_name}",
                    p.partition(),
                    p.region,
                    p.account
                )
            };
            let mut statement = props.get("Statement").cloned().unwrap_or_else(|| {
                json!({"Effect": "Allow", "Action": s(props, "Action").unwrap_or_else(|| "events:PutEvents".into()), "Principal": {"AWS": s(props, "Principal").unwrap_or_default()}, "Resource": bus.clone()})
            });
            if let Some(o) = statement.as_object_mut() {
                o.insert(
                    "Sid".to_string(),
                    json!(s(props, "StatementId").unwrap_or_else(|| id.to_string())),
                );
            }
            vec![Draft::BusPolicy { bus, statement }]
        }
        Kind::Rule => rule(arn, name, props, p)?,
        Kind::Function => vec![function(arn, name, props, p)],
        Kind::Permission => vec![permission(id, props, p)?],
        Kind::EventSourceMapping => vec![event_source_mapping(id, props, p)?],
        Kind::Resource(k) => vec![resource(k, arn, name, props, p)],
        Kind::PolicyOf(k) => policy_of(k, props, p),
    })
}

/// A Lambda permission: one statement of the function's resource policy.
fn permission(id: &str, props: &Value, p: &Place) -> Result<Draft, String> {
    let f = s(props, "FunctionName").ok_or("`FunctionName` is required")?;
    let function = if f.starts_with("arn:") {
        f
    } else {
        format!("arn:{}:lambda:{}:{}:function:{f}", p.partition(), p.region, p.account)
    };
    let principal = s(props, "Principal").unwrap_or_default();
    let principal = if principal.ends_with(".amazonaws.com") {
        json!({"Service": principal})
    } else {
        json!({"AWS": principal})
    };
    let mut st = json!({"Sid": id, "Effect": "Allow", "Principal": principal, "Action": s(props, "Action").unwrap_or_else(|| "lambda:InvokeFunction".into()), "Resource": function.clone()});
    let mut cond = serde_json::Map::new();
    if let Some(src) = s(props, "SourceArn") {
        cond.insert("ArnLike".into(), json!({"AWS:SourceArn": src}));
    }
    if let Some(acc) = s(props, "SourceAccount") {
        cond.insert("StringEquals".into(), json!({"AWS:SourceAccount": acc}));
    }
    if !cond.is_empty()
        && let Some(o) = st.as_object_mut()
    {
        o.insert("Condition".into(), Value::Object(cond));
    }
    Ok(Draft::Permission {
        function,
        statement: st,
    })
}

/// An event-source mapping (a queue, stream or table feeding a function).
fn event_source_mapping(id: &str, props: &Value, p: &Place) -> Result<Draft, String> {
    let account = p.account.clone();
    let f = s(props, "FunctionName").ok_or("`FunctionName` is required")?;
    let function = if f.starts_with("arn:") {
        f
    } else {
        format!("arn:{}:lambda:{}:{}:function:{f}", p.partition(), p.region, p.account)
    };
    let source = s(props, "EventSourceArn")
        .ok_or("`EventSourceArn` is required (only queue, stream and table sources are modelled)")?;
    Ok(Draft::EventSourceMapping {
        account,
        mapping: EventSourceMapping {
            uuid: format!("{}-{id}", p.stack),
            function,
            source,
            state: None,
        },
    })
}

/// A queue, topic, bucket, key, table or secret.
fn resource(k: ResourceKind, arn: String, name: &str, props: &Value, p: &Place) -> Draft {
    let account = p.account.clone();
    let policy = match k {
        ResourceKind::KmsKey => props.get("KeyPolicy"),
        ResourceKind::DynamodbTable => props.get("ResourcePolicy").and_then(|r| r.get("PolicyDocument")),
        _ => None,
    };
    let aliases = match k {
        ResourceKind::SqsQueue => vec![ref_value(Kind::Resource(k), "", name, "", p)],
        _ => Vec::new(),
    };
    // S3 buckets record their bucket region too.
    let region = Some(p.region.clone());
    Draft::Resource(Resource {
        arn,
        kind: k,
        account,
        region,
        tags: tags(props.get("Tags")),
        aliases,
        policy: policy.map(|v| document(Some(v)).into()),
    })
}

/// A queue, topic, bucket or secret policy, put on each resource it names.
fn policy_of(k: ResourceKind, props: &Value, p: &Place) -> Vec<Draft> {
    let account = p.account.clone();
    let (key, doc_key) = match k {
        ResourceKind::SqsQueue => ("Queues", "PolicyDocument"),
        ResourceKind::SnsTopic => ("Topics", "PolicyDocument"),
        ResourceKind::S3Bucket => ("Bucket", "PolicyDocument"),
        _ => ("SecretId", "ResourcePolicy"),
    };
    let mut targets = strings(props, key);
    targets.extend(s(props, key));
    let policy = document(props.get(doc_key));
    targets
        .into_iter()
        .map(|t| {
            let target = if k == ResourceKind::S3Bucket && !t.starts_with("arn:") {
                format!("arn:{}:s3:::{t}", p.partition())
            } else {
                t
            };
            Draft::ResourcePolicy {
                account: account.clone(),
                target,
                policy: policy.clone(),
            }
        })
        .collect()
}

fn rule(arn: String, name: &str, props: &Value, p: &Place) -> Result<Vec<Draft>, String> {
    let bus_name = s(props, "EventBusName").unwrap_or_else(|| "default".to_string());
    let bus = if bus_name.starts_with("arn:") {
        bus_name
    } else {
        format!(
            "arn:{}:events:{}:{}:event-bus/{bus_name}",
            p.partition(),
            p.region,
            p.account
        )
    };
    let state = match s(props, "State").as_deref() {
        None | Some("ENABLED") => RuleState::Enabled,
        Some("DISABLED") => RuleState::Disabled,
        Some("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") => RuleState::EnabledWithAllCloudtrailManagementEvents,
        Some(other) => return Err(format!("`State` `{other}` is not a rule state")),
    };
    let targets = props
        .get("Targets")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .map(|t| Target {
                    id: s(t, "Id").unwrap_or_default(),
                    arn: s(t, "Arn").unwrap_or_default(),
                    role: s(t, "RoleArn"),
                    dead_letter_queue: t.get("DeadLetterConfig").and_then(|d| s(d, "Arn")),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(vec![Draft::Rule(Rule {
        arn,
        account: p.account.clone(),
        region: p.region.clone(),
        name: name.to_string(),
        bus,
        state,
        event_pattern: props
            .get("EventPattern")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)),
        schedule_expression: s(props, "ScheduleExpression"),
        tags: tags(props.get("Tags")),
        targets,
    })])
}

fn function(arn: String, name: &str, props: &Value, p: &Place) -> Draft {
    let vars = props
        .get("Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Draft::Function(Function {
        arn,
        account: p.account.clone(),
        region: p.region.clone(),
        name: name.to_string(),
        runtime: s(props, "Runtime"),
        role: s(props, "Role").unwrap_or_default(),
        tags: tags(props.get("Tags")),
        environment_keys: vars.keys().cloned().collect(),
        environment_references: references(vars.values()),
        policy: None,
        dead_letter_target: props.get("DeadLetterConfig").and_then(|d| s(d, "TargetArn")),
    })
}

/// ARNs and URLs among environment values (the values themselves are never kept).
pub(crate) fn references<'v>(values: impl Iterator<Item = &'v Value>) -> Vec<String> {
    let mut refs: Vec<String> = values
        .filter_map(Value::as_str)
        .filter(|v| (v.starts_with("arn:") || v.starts_with("https://")) && !super::is_unknown(v))
        .map(str::to_string)
        .collect();
    refs.sort();
    refs.dedup();
    refs
}
