//! Infrastructure-as-code overlays: a CloudFormation template (JSON or YAML, CDK and SAM output
//! included) or a Terraform plan (`terraform show -json`) read into *changes* — snapshot records
//! created, updated or deleted — each with the template location that causes it.
//!
//! The overlay is a separate layer above the snapshot model: readers ([`cfn`], [`terraform`])
//! turn their input into [`Draft`]s, [`apply`] lays the drafts over a parsed snapshot through the
//! model's public types, and the result is validated like any snapshot. What the overlay cannot
//! model is listed once in [`Overlay::not_considered`]; what cannot be known before deployment
//! (a generated name, an unknown-after-apply value) becomes a [`Unknown`], which `apply` turns
//! into a coverage gap so the affected checks report "not proven" naming the template location.

mod apply;
pub mod cfn;
mod cfn_types;
mod devopsagent;
pub mod diff;
mod draft;
mod entities;
mod eventsv2;
mod intrinsics;
mod jsonpos;
pub mod terraform;
mod terraform_ram;
mod yaml;

pub use apply::{Applied, POLICY_NOT_IN_SNAPSHOT, UNKNOWN_CODE, apply};
pub use draft::Draft;

use crate::model::ResourceKind;
use serde::Serialize;
use std::fmt;

/// Where a change comes from: the template or plan file, the logical id or Terraform address,
/// and the 1-based line and column where that resource is defined.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SourceLocation {
    /// The file as the user named it (forward slashes).
    pub file: String,
    /// CloudFormation logical id or Terraform resource address.
    pub resource: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{} ({})", self.file, self.line, self.column, self.resource)
    }
}

/// What a change does to the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// One resource of the template or plan that topoguard models.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: Action,
    pub location: SourceLocation,
    pub draft: Draft,
}

/// A resource the overlay does not model: listed, never silently dropped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct NotConsidered {
    pub location: SourceLocation,
    /// CloudFormation or Terraform resource type.
    pub resource_type: String,
    pub reason: String,
}

impl NotConsidered {
    /// One line: `file:line:column (LogicalId): AWS::EC2::VPC not considered: reason`.
    pub fn line(&self) -> String {
        format!(
            "{}: {} not considered: {}",
            self.location, self.resource_type, self.reason
        )
    }
}

/// A value that is known only after deployment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unknown {
    pub location: SourceLocation,
    /// The property or attribute, e.g. `Properties.RoleName` or `after.arn`.
    pub field: String,
    /// Account and region of the resource.
    pub account: String,
    pub region: Option<String>,
    /// The API whose result it stands for, in IAM action form (`iam:CreateRole`); it decides which
    /// checks become "not proven".
    pub api: String,
}

/// Everything one or more IaC files change.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    pub changes: Vec<Change>,
    pub not_considered: Vec<NotConsidered>,
    pub unknowns: Vec<Unknown>,
    /// `Outputs.*.Export` of the CloudFormation templates read, for `Fn::ImportValue` of the
    /// other templates of the same run.
    pub exports: Vec<Export>,
}

/// One CloudFormation export: `Fn::ImportValue` of `name` in the same account and region gives
/// `value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub account: String,
    pub region: String,
    pub name: String,
    pub value: String,
}

impl Overlay {
    /// Appends another file's overlay.
    pub fn extend(&mut self, other: Overlay) {
        self.changes.extend(other.changes);
        self.not_considered.extend(other.not_considered);
        self.unknowns.extend(other.unknowns);
        self.exports.extend(other.exports);
    }
}

/// Where a template deploys when it does not say so itself.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `--account` (repeatable: a StackSet deploys to each).
    pub accounts: Vec<String>,
    pub region: Option<String>,
    /// `--parameter KEY=VALUE`, in the order given.
    pub parameters: Vec<(String, String)>,
}

/// A bad IaC input: the file, the place and what is wrong. Ends the command with exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {}{message}", resource_prefix(.resource))]
pub struct IacError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// Logical id or address, when the problem is inside one resource.
    pub resource: Option<String>,
    pub message: String,
}

fn resource_prefix(resource: &Option<String>) -> String {
    resource
        .as_ref()
        .map(|r| format!("resource `{r}`: "))
        .unwrap_or_default()
}

impl IacError {
    /// An error about the whole file (line 1, column 1).
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        IacError {
            file: file.to_string(),
            line: 1,
            column: 1,
            resource: None,
            message: message.into(),
        }
    }

    /// An error inside one resource, at its location.
    pub fn at(location: &SourceLocation, message: impl Into<String>) -> Self {
        IacError {
            file: location.file.clone(),
            line: location.line,
            column: location.column,
            resource: Some(location.resource.clone()),
            message: message.into(),
        }
    }
}

/// The marker that stands for a value known only after deployment, e.g.
/// `(known after apply: Queue.Arn)`. It is a plain string so that it can flow through `Fn::Sub`
/// and `Fn::Join`; [`is_unknown`] finds it anywhere in a string.
pub(crate) fn unknown_value(what: &str) -> String {
    format!("{UNKNOWN_PREFIX}{what})")
}

pub(crate) const UNKNOWN_PREFIX: &str = "(known after apply: ";

/// Whether a resolved string contains a value known only after deployment.
pub fn is_unknown(s: &str) -> bool {
    s.contains(UNKNOWN_PREFIX)
}

/// The API whose result a resource of `kind` stands for (used to scope "not proven").
pub(crate) fn api_of_kind(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::SqsQueue => "sqs:CreateQueue",
        ResourceKind::SnsTopic => "sns:CreateTopic",
        ResourceKind::DynamodbTable => "dynamodb:CreateTable",
        ResourceKind::S3Bucket => "s3:CreateBucket",
        ResourceKind::KmsKey => "kms:CreateKey",
        ResourceKind::SecretsmanagerSecret => "secretsmanager:CreateSecret",
        ResourceKind::LogsLogGroup => "logs:CreateLogGroup",
        ResourceKind::KinesisStream => "kinesis:CreateStream",
        ResourceKind::SsmParameter => "ssm:PutParameter",
        ResourceKind::Other => "tag:TagResources",
    }
}

/// The partition and URL suffix of a region.
pub(crate) fn partition_of(region: &str) -> (&'static str, &'static str) {
    if region.starts_with("cn-") {
        ("aws-cn", "amazonaws.com.cn")
    } else if region.starts_with("us-gov-") {
        ("aws-us-gov", "amazonaws.com")
    } else {
        ("aws", "amazonaws.com")
    }
}

/// The evidence relation that names the template location of a finding's resource; fingerprints
/// leave it out.
pub const TEMPLATE_RELATION: &str = "template";

/// Adds a `template` evidence step to every finding whose resource, or an evidence endpoint, an
/// IaC change defines, so every output names the file, the logical id or address, the line and
/// the column. The defining location comes first; the other changes of the same record
/// (`related`: a group membership of a user, a policy attached to a role) follow as further
/// `template` steps whose detail says so.
pub fn locate_findings(
    findings: &mut [crate::finding::Finding],
    sources: &std::collections::BTreeMap<String, SourceLocation>,
    related: &std::collections::BTreeMap<String, Vec<SourceLocation>>,
) {
    for f in findings {
        let ids: Vec<String> = std::iter::once(f.resource.clone())
            .chain(
                f.evidence
                    .iter()
                    .flat_map(|e| std::iter::once(e.from.clone()).chain(e.to.clone())),
            )
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        let mut steps = Vec::new();
        for id in &ids {
            if let Some(src) = sources.get(id)
                && seen.insert(src.clone())
            {
                steps.push(crate::finding::Evidence::new(
                    TEMPLATE_RELATION,
                    id.clone(),
                    None,
                    src.to_string(),
                ));
            }
        }
        for id in &ids {
            for src in related.get(id).into_iter().flatten() {
                if seen.insert(src.clone()) {
                    steps.push(crate::finding::Evidence::new(
                        TEMPLATE_RELATION,
                        id.clone(),
                        None,
                        format!("{src} (also changes it)"),
                    ));
                }
            }
        }
        f.evidence.extend(steps);
    }
}

/// Reads every `--cfn` and `--terraform-plan` file into one overlay.
pub fn read_all(
    cfn: &[std::path::PathBuf],
    plans: &[std::path::PathBuf],
    target: &Target,
) -> Result<Overlay, IacError> {
    let name = |p: &std::path::Path| p.display().to_string().replace('\\', "/");
    // Two passes: the first collects every template's exports, the second resolves
    // `Fn::ImportValue` against them (templates may import from one given after them).
    let mut exports = Vec::new();
    for p in cfn {
        exports.extend(cfn::read_with(p, &name(p), target, &[])?.exports);
    }
    let mut overlay = Overlay::default();
    for p in cfn {
        overlay.extend(cfn::read_with(p, &name(p), target, &exports)?);
    }
    for p in plans {
        overlay.extend(terraform::read(p, &name(p), target)?);
    }
    Ok(overlay)
}

/// Not-considered resources, one line per type: `AWS::EC2::VPC (2): t.yaml:4:3 (Vpc), …: reason`.
pub fn not_considered_lines(items: &[NotConsidered]) -> Vec<String> {
    let mut by_type: std::collections::BTreeMap<(&str, &str), Vec<String>> = std::collections::BTreeMap::new();
    for n in items {
        by_type
            .entry((&n.resource_type, &n.reason))
            .or_default()
            .push(n.location.to_string());
    }
    by_type
        .into_iter()
        .map(|((ty, reason), locs)| format!("{ty} ({}): {}: {reason}", locs.len(), locs.join(", ")))
        .collect()
}
