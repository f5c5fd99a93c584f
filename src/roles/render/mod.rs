//! Renderers of a role set: `iam` (one directory per role with its JSON documents),
//! `cloudformation` (one template per account) and `terraform` (one `.tf.json` root module per
//! account). Each returns every file in memory, keyed by relative path, with sorted keys and no
//! timestamps, so the same role set always gives the same bytes. Every format also writes
//! `summary.json` with the roles and the notes (zone crossings, placeholders). With
//! `--agent-spaces`, [`agent_spaces`] adds the Agent Space templates.

pub mod agent_spaces;
mod cloudformation;
mod iam;
mod terraform;

use super::RoleSet;
pub use crate::model::file_name;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Trust and permission JSON documents per role, in `<app>/<account>/<role>/`.
    Iam,
    /// One CloudFormation template per account (JSON), parameterised for StackSets.
    Cloudformation,
    /// One Terraform root module per account (`<account>/main.tf.json`).
    Terraform,
}

/// Files to write: relative path (with `/`) → content. Every component that comes from data
/// (application, account, role and Agent Space names) goes through [`file_name`], and the
/// writer places each path with `cli::join_inside`, which refuses anything leaving `--out-dir`.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Renders every file of `format`.
pub fn render(set: &RoleSet, format: Format) -> Files {
    let mut files = match format {
        Format::Iam => iam::render(set),
        Format::Cloudformation => cloudformation::render(set),
        Format::Terraform => terraform::render(set),
    };
    files.insert("summary.json".to_string(), pretty(&summary(set)));
    files
}

/// Pretty JSON with a trailing newline.
pub fn pretty(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

fn summary(set: &RoleSet) -> Value {
    let roles: Vec<Value> = set
        .roles
        .iter()
        .map(|r| {
            json!({
                "application": r.application,
                "account": r.account,
                "arn": r.arn(),
                "kind": r.kind,
                "space": r.space,
                "policies": r.policies.len(),
                "largest_policy_chars": r.policies.iter().map(super::compact_len).max().unwrap_or(0),
                "trust_chars": super::compact_len(&r.trust),
            })
        })
        .collect();
    json!({
        "generated_by": "topoguard roles",
        "roles": roles,
        "parameters": set.parameters,
        "notes": set.notes,
    })
}

/// Whether `doc` contains the placeholder `${name}` anywhere.
fn uses_placeholder(doc: &Value, name: &str) -> bool {
    serde_json::to_string(doc).is_ok_and(|s| s.contains(&format!("${{{name}}}")))
}

/// The role's accounts, sorted, each with its roles in set order.
fn by_account(set: &RoleSet) -> BTreeMap<&str, Vec<&super::GeneratedRole>> {
    let mut out: BTreeMap<&str, Vec<&super::GeneratedRole>> = BTreeMap::new();
    for r in &set.roles {
        out.entry(r.account.as_str()).or_default().push(r);
    }
    out
}

/// A CamelCase identifier from a name (`DevOpsAgentRole-invoice-oncall` →
/// `DevOpsAgentRoleInvoiceOncall`).
pub(crate) fn identifier(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}
