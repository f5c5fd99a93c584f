//! Typed resource records of the snapshot: IAM roles and policies, EventBridge buses and rules,
//! Lambda functions and event-source mappings, other (shareable) resources and Agent Spaces.

use super::{PolicyDocument, Tags};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// An IAM role with every policy that shapes what it can do.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub arn: String,
    pub account: String,
    pub name: String,
    #[serde(default)]
    pub tags: Tags,
    /// The assume-role (trust) policy document.
    pub trust_policy: PolicyDocument,
    #[serde(default)]
    pub inline_policies: Vec<InlinePolicy>,
    /// ARNs of attached managed policies (their documents are in `managed_policies`).
    #[serde(default)]
    pub attached_policies: Vec<String>,
    /// ARN of the permission boundary policy, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_boundary: Option<String>,
}

/// A policy embedded in a role.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InlinePolicy {
    pub name: String,
    pub document: PolicyDocument,
}

/// A managed policy and its default version's document.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    pub document: PolicyDocument,
}

/// An EventBridge event bus.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBus {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(default)]
    pub tags: Tags,
    /// The bus's resource policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyDocument>,
}

/// Whether a rule delivers events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RuleState {
    Enabled,
    Disabled,
    EnabledWithAllCloudtrailManagementEvents,
}

/// An EventBridge rule on some bus.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    /// ARN of the bus the rule is on.
    pub bus: String,
    pub state: RuleState,
    /// The event pattern as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    #[serde(default)]
    pub targets: Vec<Target>,
}

/// Where a rule delivers: a function, queue, topic, another bus (possibly in another account or
/// region), …
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub id: String,
    pub arn: String,
    /// Role EventBridge assumes to deliver, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Dead-letter queue ARN, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_queue: Option<String>,
}

/// A Lambda function. Environment values and code are never recorded: only the variable names
/// and the ARNs/URLs found in the values.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Function {
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// ARN of the execution role.
    pub role: String,
    #[serde(default)]
    pub tags: Tags,
    /// Names of the environment variables (never their values).
    #[serde(default)]
    pub environment_keys: Vec<String>,
    /// ARNs and URLs found in environment values.
    #[serde(default)]
    pub environment_references: Vec<String>,
    /// The function's resource policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyDocument>,
    /// Dead-letter target of asynchronous invocations, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_target: Option<String>,
}

/// A queue, stream or table feeding a function.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSourceMapping {
    pub uuid: String,
    /// ARN of the function fed.
    pub function: String,
    /// ARN of the event source.
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// Kinds of resource recorded in [`Resource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    SqsQueue,
    SnsTopic,
    DynamodbTable,
    S3Bucket,
    KmsKey,
    SecretsmanagerSecret,
    LogsLogGroup,
    KinesisStream,
    SsmParameter,
    /// Any other taggable resource.
    Other,
}

/// Any other resource: the shared-dependency kinds and whatever the Tagging API returned.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    pub arn: String,
    pub kind: ResourceKind,
    pub account: String,
    /// Region; absent for global resources. S3 buckets record their bucket region here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default)]
    pub tags: Tags,
    /// Other names the resource is referenced by (an SQS queue URL, an S3 bucket URL).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The resource policy (queue, topic, table, key, bucket, secret policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyDocument>,
}

/// An AWS DevOps Agent Space.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSpace {
    pub id: String,
    pub arn: String,
    pub name: String,
    /// The primary account (where the space lives).
    pub account: String,
    pub region: String,
    #[serde(default)]
    pub tags: Tags,
    /// Secondary accounts the space can investigate, each through a role.
    #[serde(default)]
    pub associations: Vec<AgentSpaceAssociation>,
    /// The space preference `elevatedActionsEnabled`: the agent may run write actions after
    /// approval. Absent when not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevated_actions_enabled: Option<bool>,
    /// ARN of the customer managed KMS key encrypting the space's data, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    /// ARN of the role the space's operator web app runs as, if the app is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_app_role: Option<String>,
}

/// An account associated with an Agent Space.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSpaceAssociation {
    pub account: String,
    /// The role the space assumes in that account (`assumableRoleArn`).
    pub role: String,
    /// Monitor (the space's own account) or source; absent when not recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<super::AssociationKind>,
    /// The `sts:ExternalId` the service passes when it assumes `role` (source associations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The role the agent assumes for write actions after approval (`agentElevatedRoleArn`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevated_role: Option<String>,
    /// Validation status of `elevated_role`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevated_role_status: Option<super::ValidationStatus>,
    /// Validation status of the association (`ValidateAwsAssociations`, `Association.status`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<super::ValidationStatus>,
}
