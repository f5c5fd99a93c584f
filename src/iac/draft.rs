//! Drafts: the snapshot records an IaC resource stands for, in the model's own types, plus the
//! few changes that modify another record (a policy attached to a role, a target added to a
//! rule, a statement added to a resource policy).

use crate::model::{
    AgentSpace, AgentSpaceAssociation, EventBus, EventBusV2, EventSourceMapping, Function, Group, InlinePolicy,
    ManagedPolicy, Resource, ResourceShare, Role, Rule, Subscriber, Target, User,
};
use serde_json::Value;

/// An IAM user or group, the entity an inline policy, attachment or membership names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    User,
    Group,
}

/// One modelled change.
#[derive(Debug, Clone)]
pub enum Draft {
    Role(Role),
    User(User),
    Group(Group),
    /// An inline policy put on the named users or groups (names or ARNs).
    EntityPolicy {
        account: String,
        entity: Entity,
        names: Vec<String>,
        policy: InlinePolicy,
    },
    /// A managed policy attached to a user or group.
    EntityAttachment {
        account: String,
        entity: Entity,
        name: String,
        policy_arn: String,
    },
    /// A user added to groups of its account.
    Membership {
        account: String,
        user: String,
        groups: Vec<String>,
    },
    /// A managed policy, attached to the named roles of its account.
    ManagedPolicy {
        policy: ManagedPolicy,
        account: String,
        roles: Vec<String>,
    },
    /// An inline policy put on the named roles.
    RolePolicy {
        account: String,
        roles: Vec<String>,
        policy: InlinePolicy,
    },
    /// A managed policy attached to a role.
    RoleAttachment {
        account: String,
        role: String,
        policy_arn: String,
    },
    EventBus(EventBus),
    /// One statement of an event bus's resource policy.
    BusPolicy {
        bus: String,
        statement: Value,
    },
    Rule(Rule),
    /// A target added to a rule.
    RuleTarget {
        rule: String,
        target: Target,
    },
    Function(Function),
    /// One statement of a function's resource policy.
    Permission {
        function: String,
        statement: Value,
    },
    EventSourceMapping {
        account: String,
        mapping: EventSourceMapping,
    },
    Resource(Resource),
    /// An EventBridge v2 bus.
    EventBusV2(EventBusV2),
    /// The whole resource policy of a v2 bus.
    BusV2Policy {
        account: String,
        bus: String,
        policy: Value,
    },
    /// A subscriber put on a v2 bus (of any account) by the subscriber's account.
    Subscriber {
        bus: String,
        subscriber: Subscriber,
    },
    /// A RAM resource share including a v2 bus.
    BusShare {
        account: String,
        bus: String,
        share: ResourceShare,
    },
    /// A principal added to the RAM share with ARN `share` (on every v2 bus it shares).
    SharePrincipal {
        account: String,
        share: String,
        principal: String,
    },
    /// A DevOps Agent Space.
    AgentSpace(AgentSpace),
    /// An account association of the Agent Space named by id or ARN.
    Association {
        account: String,
        space: String,
        association: AgentSpaceAssociation,
    },
    /// A whole resource policy (queue, topic, bucket, key, table, secret) put on the resource
    /// named by ARN or alias (a queue URL, a bucket name).
    ResourcePolicy {
        account: String,
        target: String,
        policy: Value,
    },
}

impl Draft {
    /// Primary records go first, then the changes that modify them.
    pub(crate) fn phase(&self) -> u8 {
        match self {
            Draft::Role(_)
            | Draft::User(_)
            | Draft::Group(_)
            | Draft::EventBus(_)
            | Draft::EventBusV2(_)
            | Draft::AgentSpace(_)
            | Draft::Function(_)
            | Draft::Resource(_) => 0,
            Draft::ManagedPolicy { .. } | Draft::Rule(_) | Draft::BusShare { .. } => 1,
            _ => 2,
        }
    }

    /// The account the change is made in.
    pub fn account(&self) -> &str {
        match self {
            Draft::Role(r) => &r.account,
            Draft::User(u) => &u.account,
            Draft::Group(g) => &g.account,
            Draft::EntityPolicy { account, .. }
            | Draft::EntityAttachment { account, .. }
            | Draft::Membership { account, .. }
            | Draft::ManagedPolicy { account, .. }
            | Draft::RolePolicy { account, .. }
            | Draft::RoleAttachment { account, .. }
            | Draft::EventSourceMapping { account, .. }
            | Draft::BusV2Policy { account, .. }
            | Draft::BusShare { account, .. }
            | Draft::SharePrincipal { account, .. }
            | Draft::Association { account, .. }
            | Draft::ResourcePolicy { account, .. } => account,
            Draft::EventBusV2(b) => &b.account,
            Draft::Subscriber { subscriber, .. } => &subscriber.account,
            Draft::AgentSpace(a) => &a.account,
            Draft::EventBus(b) => &b.account,
            Draft::Rule(r) => &r.account,
            Draft::Function(f) => &f.account,
            Draft::Resource(r) => &r.account,
            Draft::BusPolicy { bus: arn, .. }
            | Draft::RuleTarget { rule: arn, .. }
            | Draft::Permission { function: arn, .. } => arn.split(':').nth(4).unwrap_or(""),
        }
    }

    /// The ARN of the record the change creates or modifies, when it is known by ARN.
    pub fn arn(&self) -> Option<&str> {
        Some(match self {
            Draft::Role(r) => &r.arn,
            Draft::User(u) => &u.arn,
            Draft::Group(g) => &g.arn,
            Draft::ManagedPolicy { policy, .. } => &policy.arn,
            Draft::EventBus(b) => &b.arn,
            Draft::Rule(r) => &r.arn,
            Draft::Function(f) => &f.arn,
            Draft::Resource(r) => &r.arn,
            Draft::EventBusV2(b) => &b.arn,
            Draft::AgentSpace(a) => &a.arn,
            Draft::Subscriber { subscriber, .. } => &subscriber.arn,
            Draft::BusV2Policy { bus, .. } | Draft::BusShare { bus, .. } => bus,
            Draft::BusPolicy { bus, .. } => bus,
            Draft::RuleTarget { rule, .. } => rule,
            Draft::Permission { function, .. } => function,
            _ => return None,
        })
    }
}

/// Adds `statement` to a policy document (creating the document), replacing a statement with the
/// same `Sid`.
pub(crate) fn add_statement(policy: &mut Option<Value>, statement: Value) {
    let doc = policy.get_or_insert_with(|| serde_json::json!({"Version": "2012-10-17", "Statement": []}));
    if let Some(text) = doc.as_str().and_then(|t| serde_json::from_str::<Value>(t).ok()) {
        *doc = text;
    }
    let Some(obj) = doc.as_object_mut() else {
        return;
    };
    let list = obj.entry("Statement").or_insert_with(|| Value::Array(Vec::new()));
    if !list.is_array() {
        *list = Value::Array(vec![list.take()]);
    }
    if let Some(items) = list.as_array_mut() {
        let sid = statement.get("Sid").cloned();
        if sid.is_some() {
            items.retain(|s| s.get("Sid") != sid.as_ref());
        }
        items.push(statement);
    }
}

/// Removes the statement with `sid` from a policy document; an empty document is removed.
pub(crate) fn remove_statement(policy: &mut Option<Value>, sid: Option<&Value>) {
    let Some(sid) = sid else { return };
    if let Some(items) = policy
        .as_mut()
        .and_then(|d| d.get_mut("Statement"))
        .and_then(Value::as_array_mut)
    {
        items.retain(|s| s.get("Sid") != Some(sid));
        if items.is_empty() {
            *policy = None;
        }
    }
}
