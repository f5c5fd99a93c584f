//! `agent-space-role-unpinned`: a role that `aidevops.amazonaws.com` may assume is not pinned to
//! one Agent Space by `aws:SourceArn` and `aws:SourceAccount`, so any space — another
//! application's included — can use it.
//!
//! This reads trust-policy conditions as written; the IAM engine's full evaluation will refine it.

use super::{Check, Evidence, Finding, Input, Severity, finding_for};
use crate::arn::Arn;
use crate::graph::Topology;
use crate::iam::{Condition, Effect, Policy, Statement};

pub struct AgentSpaceRoleUnpinned;

const SERVICE: &str = "aidevops.amazonaws.com";

/// Operators that can pin a value; negated, `IfExists` and `ForAllValues` forms cannot.
fn pins(c: &Condition) -> bool {
    let op = c.operator.as_str();
    !op.ends_with("IfExists")
        && !op.starts_with("ForAllValues:")
        && matches!(
            c.base_operator(),
            "StringEquals" | "StringLike" | "ArnEquals" | "ArnLike"
        )
}

fn allows_assume(st: &Statement) -> bool {
    st.action.as_ref().is_some_and(|a| {
        if a.is_negated() {
            return !a
                .inner()
                .iter()
                .any(|x| crate::arn::glob_match_ignore_case(x, "sts:AssumeRole"));
        }
        a.inner()
            .iter()
            .any(|x| crate::arn::glob_match_ignore_case(x, "sts:AssumeRole"))
    })
}

fn trusts_service(st: &Statement) -> bool {
    st.effect == Effect::Allow
        && allows_assume(st)
        && st
            .principal
            .as_ref()
            .is_some_and(|p| !p.is_negated() && p.inner().values("Service").contains(&SERVICE))
}

/// What is wrong with one trust statement's pinning, if anything.
fn problems(st: &Statement) -> Vec<String> {
    let mut out = Vec::new();
    let accounts: Vec<&Condition> = st.condition_values("aws:SourceAccount").filter(|c| pins(c)).collect();
    if accounts.is_empty() {
        out.push("no `aws:SourceAccount` condition".to_string());
    } else if accounts
        .iter()
        .any(|c| c.values.len() != 1 || c.values.iter().any(|v| v.contains(['*', '?'])))
    {
        out.push("`aws:SourceAccount` allows more than one account".to_string());
    }
    let arns: Vec<&Condition> = st.condition_values("aws:SourceArn").filter(|c| pins(c)).collect();
    match arns.as_slice() {
        [] => out.push("no `aws:SourceArn` condition".to_string()),
        [c] => match c.values.as_slice() {
            [v] if v.contains(['*', '?']) => {
                out.push(format!("`aws:SourceArn` `{v}` is a wildcard, not one Agent Space"))
            }
            [v] => {
                let is_space = Arn::parse(v).is_ok_and(|a| a.resource.starts_with("agentspace/"));
                if !is_space {
                    out.push(format!("`aws:SourceArn` `{v}` is not an Agent Space ARN"));
                }
            }
            values => out.push(format!(
                "`aws:SourceArn` lists {} values instead of one Agent Space",
                values.len()
            )),
        },
        _ => out.push("several `aws:SourceArn` conditions".to_string()),
    }
    out
}

impl Check for AgentSpaceRoleUnpinned {
    fn id(&self) -> &'static str {
        "agent-space-role-unpinned"
    }
    fn title(&self) -> &'static str {
        "Agent Space role not pinned to one space"
    }
    fn description(&self) -> &'static str {
        "A role trusted by `aidevops.amazonaws.com` lacks an `aws:SourceAccount` condition, or an `aws:SourceArn` condition naming exactly one Agent Space. Any Agent Space of that account, including another application's, can then assume it, which defeats one-space-per-application."
    }
    fn default_severity(&self) -> Severity {
        Severity::High
    }
    fn inputs(&self) -> &'static [Input] {
        &[Input::Iam]
    }
    fn run(&self, t: &Topology<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for role in &t.snapshot.roles {
            let (Some(ix), Ok(policy)) = (t.find(&role.arn), Policy::from_value(&role.trust_policy)) else {
                continue;
            };
            for (i, st) in policy
                .statements
                .iter()
                .enumerate()
                .filter(|(_, st)| trusts_service(st))
            {
                let problems = problems(st);
                if problems.is_empty() {
                    continue;
                }
                let label = st
                    .sid
                    .as_ref()
                    .map_or_else(|| format!("statement #{i}"), |s| format!("statement `{s}`"));
                let node = t.node(ix);
                let mut f = finding_for(
                    self,
                    node,
                    format!(
                        "role `{}` trusts `{SERVICE}` ({label}) with {}: any Agent Space can assume it",
                        role.arn,
                        problems.join(", ")
                    ),
                    format!(
                        "Add to {label} of the trust policy: \"Condition\": {{\"StringEquals\": {{\"aws:SourceAccount\": \"<space account>\"}}, \"ArnEquals\": {{\"aws:SourceArn\": \"arn:aws:aidevops:<region>:<space account>:agentspace/<space id>\"}}}}"
                    ),
                );
                f.applications = t.owner(ix).map(|a| vec![t.app_name(a).to_string()]).unwrap_or_default();
                f.evidence = vec![Evidence::new(
                    "trust-policy",
                    SERVICE,
                    Some(role.arn.clone()),
                    format!("{label} allows sts:AssumeRole"),
                )];
                out.push(f);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::AgentSpaceRoleUnpinned;
    use crate::checks::testkit::*;
    use serde_json::{Value, json};

    fn role(s: &mut Value, name: &str, condition: Value) -> String {
        let arn = format!("arn:aws:iam::{SHARED}:role/{name}");
        add(
            s,
            "roles",
            json!({"arn": arn, "account": SHARED, "name": name, "trust_policy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": condition}
            ]}}),
        );
        arn
    }

    const SPACE: &str = "arn:aws:aidevops:us-east-1:111111111111:agentspace/invoice";

    #[test]
    fn fires_without_source_arn_with_wildcards_and_with_if_exists() {
        let mut s = org();
        role(
            &mut s,
            "no-arn",
            json!({"StringEquals": {"aws:SourceAccount": INVOICE}}),
        );
        role(
            &mut s,
            "wild",
            json!({"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnLike": {"aws:SourceArn": "arn:aws:aidevops:us-east-1:111111111111:agentspace/*"}}),
        );
        role(
            &mut s,
            "ifexists",
            json!({"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEqualsIfExists": {"aws:SourceArn": SPACE}}),
        );
        role(&mut s, "no-account", json!({"ArnEquals": {"aws:SourceArn": SPACE}}));
        let f = run(&AgentSpaceRoleUnpinned, &s);
        assert_eq!(f.len(), 4, "{f:#?}");
        assert!(f.iter().any(|x| x.message.contains("is a wildcard")));
        assert!(f.iter().any(|x| x.message.contains("no `aws:SourceAccount`")));
    }

    #[test]
    fn pinned_role_and_other_services_are_quiet() {
        let mut s = org();
        role(
            &mut s,
            "pinned",
            json!({"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEquals": {"aws:SourceArn": [SPACE]}}),
        );
        // Near miss: a Lambda role without conditions trusts another service.
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        assert_eq!(run(&AgentSpaceRoleUnpinned, &s), vec![]);
    }
}
