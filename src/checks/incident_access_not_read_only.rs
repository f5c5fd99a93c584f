//! `incident-access-not-read-only`: a role an Agent Space or a responder can assume grants more
//! than metadata reads. Writes, permission changes and tagging are high (an investigation should
//! never be able to change what it investigates); content reads outside the application's own
//! log groups and traces are medium (they expose data the investigation does not need).
//!
//! A role only Agent Spaces reach, whose sessions one known DevOps Agent guardrail caps (the
//! config's `guardrail`, a session policy), is judged by what the role and the guardrail both
//! allow ("within the guardrail"); when everything of one kind is outside the guardrail, that
//! kind is reported low ("only outside the guardrail"). Roles responders reach are judged by
//! the role alone: the guardrail caps the agent's sessions, not people's.

use super::role_writes::{guarded, split_by_guardrail};
use super::{Check, Context, Evidence, Finding, Input, Meta, SHOWN, Severity, Status, app_names};
use crate::config::Guardrail;
use crate::graph::{IncidentRole, NodeKind, Topology};
use crate::iam::capability::{Capability, RoleView, Target, grant_labels, summarize_actions};
use crate::iam::catalog::ActionClass;
use std::collections::BTreeMap;

pub struct IncidentAccessNotReadOnly;

/// Session actions: how responders move along a chain of roles. Every role they reach is
/// checked on its own, so taking the next hop is not itself a change to anything.
const SESSION_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
];

const META: Meta = Meta {
    id: "incident-access-not-read-only",
    title: "Incident access goes beyond metadata reads",
    description: "A role that an Agent Space or a configured responder principal can assume (directly or through a chain) can do more than read metadata: Write, Permissions management or Tagging actions are high; content reads (object bodies, items, messages, secrets, log events) outside the application's own log groups and traces are medium. Evaluated with SCPs, permission boundaries and conditions.",
    severity: Severity::High,
    inputs: &[Input::Iam, Input::Organization, Input::AgentSpaces],
};

impl Check for IncidentAccessNotReadOnly {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let catalog = match cx.catalog() {
            Ok(c) => c,
            Err(f) => return vec![*f],
        };
        let iam = t.iam();
        let org = t.organization_id();
        let mut by_role: BTreeMap<&str, Vec<&IncidentRole>> = BTreeMap::new();
        let roles = t.incident_roles();
        for r in roles {
            by_role.entry(r.role.as_str()).or_default().push(r);
        }
        let mut out = Vec::new();
        for (role, reached) in by_role {
            let classes = [ActionClass::CHANGES, &[ActionClass::ContentRead]].concat();
            let Some(view) = RoleView::new(iam.store, catalog, org, role) else {
                continue;
            };
            let wanted = |caps: Vec<Capability>| -> Vec<Capability> {
                caps.into_iter()
                    .filter(|c| !SESSION_ACTIONS.contains(&c.action.as_str()))
                    .collect()
            };
            // Reached only by Agent Spaces whose sessions one known guardrail caps: what the
            // role allows beyond the guardrail is reported low, and only when nothing within it
            // is (of that kind).
            let guardrail = agent_only_guardrail(t, &reached);
            let guarded = guarded(&view, guardrail);
            let (caps, outside) = split_by_guardrail(&view, guarded.as_ref(), Target::OwnStatements, &classes);
            let (caps, outside) = (wanted(caps), wanted(outside));
            if caps.is_empty() && outside.is_empty() {
                continue;
            }
            let apps: Vec<usize> = reached.iter().filter_map(|r| r.application).collect();
            let split = |caps: &[Capability]| -> (Vec<Capability>, Vec<Capability>) {
                let (writes, reads): (Vec<Capability>, Vec<Capability>) =
                    caps.iter().cloned().partition(|c| c.class != ActionClass::ContentRead);
                let reads = reads
                    .into_iter()
                    .filter(|c| !own_logs_or_traces(t, c, &apps, role))
                    .collect();
                (writes, reads)
            };
            let (writes, reads) = split(&caps);
            let (writes_out, reads_out) = split(&outside);
            let beyond = |inside: Vec<Capability>, outside: Vec<Capability>| -> (Vec<Capability>, bool) {
                if inside.is_empty() && !outside.is_empty() {
                    (outside, true)
                } else {
                    (inside, false)
                }
            };
            let (writes, writes_beyond) = beyond(writes, writes_out);
            let (reads, reads_beyond) = beyond(reads, reads_out);
            let writes: Vec<&Capability> = writes.iter().collect();
            let reads: Vec<&Capability> = reads.iter().collect();
            let node = t.find(role).map(|ix| t.node(ix));
            for (list, severity, what, only_outside) in [
                (
                    writes,
                    Severity::High,
                    "changes resources (Write, Permissions management or Tagging)",
                    writes_beyond,
                ),
                (
                    reads,
                    Severity::Medium,
                    "reads content beyond the application's own logs and traces",
                    reads_beyond,
                ),
            ] {
                if list.is_empty() {
                    continue;
                }
                let severity = if only_outside { Severity::Low } else { severity };
                // Certain access makes a violation of the certain actions; access that holds only
                // under undecided conditions is conditional, naming each key and statement.
                let certain: Vec<&Capability> = list.iter().copied().filter(|c| c.conditional_on.is_empty()).collect();
                let (list, status) = if certain.is_empty() {
                    (list, Status::Conditional)
                } else {
                    (certain, Status::Violation)
                };
                let conditions: Vec<String> = if status == Status::Conditional {
                    conditions_of(&list)
                } else {
                    Vec::new()
                };
                let mut names: Vec<&str> = list.iter().map(|c| c.action.as_str()).collect();
                names.dedup();
                let shown = summarize_actions(&names, SHOWN);
                let mut message = format!("incident role `{role}` {what}: {} action(s), e.g. {shown}", names.len());
                if let Some(note) = unknown_space_note(t, &reached) {
                    message.push_str(&note);
                }
                if let Some(g) = guardrail {
                    message.push_str(&if only_outside {
                        format!(
                            ", but only outside the {} that caps the agent's sessions: the role allows it, the agent cannot use it while the guardrail stands",
                            g.name
                        )
                    } else {
                        format!(", within the {} that caps the agent's sessions", g.name)
                    });
                }
                let mut evidence: Vec<Evidence> = reached
                    .iter()
                    .map(|r| {
                        Evidence::new(
                            "can-assume",
                            r.reached_by.clone(),
                            Some(role.to_string()),
                            format!("chain: {}", r.path.join(" -> ")),
                        )
                    })
                    .collect();
                let grants = grant_labels(list.iter().copied());
                evidence.extend(grants.into_iter().map(|g| Evidence::new("grants", role, None, g)));
                let remediation = "Limit the role to metadata reads (List and configuration Read actions) plus reads of the application's own log groups and traces; mitigation rights belong in a separate, explicitly assumed role. Or deny the rest with a permission boundary.".to_string();
                out.push(Finding {
                    severity,
                    status,
                    applications: app_names(t, apps.iter().copied()),
                    evidence,
                    conditions,
                    ..META.finding_at(role, node.and_then(|n| n.account), None, message, remediation)
                });
            }
        }
        out
    }
}

/// The DevOps Agent guardrail that caps every session reaching the role, when only Agent Spaces
/// reach it and one guardrail (the same file) is known for all of them; `None` when a responder
/// reaches it or a space's guardrail is unknown.
fn agent_only_guardrail<'c>(t: &Topology<'c>, reached: &[&IncidentRole]) -> Option<&'c Guardrail> {
    let mut found: Option<&'c Guardrail> = None;
    for r in reached {
        let g = if r.unknown_space.is_some() {
            t.default_guardrail()
        } else {
            let space = t.agent_space_record(&r.reached_by)?;
            t.guardrail_for(&space.name)
        }?;
        if found.is_some_and(|f| f.file != g.file) {
            return None;
        }
        found = Some(g);
    }
    found
}

/// `key (policy statement sid)` for every undecided key of the capabilities, sorted.
fn conditions_of(list: &[&Capability]) -> Vec<String> {
    let mut out: Vec<String> = list
        .iter()
        .flat_map(|c| {
            let labels = grant_labels([*c]).join(", ");
            c.conditional_on.iter().map(move |k| format!("{k} ({labels})"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// For a role reached only on behalf of Agent Spaces the snapshot does not show: a sentence
/// saying so, with the `aws:SourceArn` its trust is pinned to.
fn unknown_space_note(t: &Topology<'_>, reached: &[&IncidentRole]) -> Option<String> {
    if reached.iter().any(|r| r.unknown_space.is_none()) {
        return None;
    }
    let mut pinned: Vec<&str> = reached
        .iter()
        .flat_map(|r| r.unknown_space.iter().flatten().map(String::as_str))
        .collect();
    pinned.sort_unstable();
    pinned.dedup();
    let known = pinned.iter().any(|p| {
        t.agent_space_records()
            .iter()
            .any(|s| crate::arn::glob_match(p, &s.arn))
    });
    let list = pinned.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    Some(if pinned.is_empty() {
        " (the DevOps Agent service may assume it for any Agent Space: its trust names no `aws:SourceArn`)".to_string()
    } else if known {
        format!(
            " (the DevOps Agent service may assume it for `aws:SourceArn` {list}, an Agent Space no application's config covers)"
        )
    } else {
        format!(
            " (the DevOps Agent service may assume it for `aws:SourceArn` {list}, an Agent Space that is not in the snapshot)"
        )
    })
}

/// Content reads of logs or traces confined to the applications' own: a logs read whose
/// resource pattern matches no log group of another application (their `logs-log-group`
/// resources and the `/aws/lambda/<name>` groups of their functions; `*` always does), or a
/// trace read in an account the application owns.
fn own_logs_or_traces(t: &Topology<'_>, c: &Capability, apps: &[usize], role: &str) -> bool {
    let service = c.action.split(':').next().unwrap_or("");
    let role_account = crate::arn::Arn::parse(role).ok().and_then(|a| a.account());
    match service {
        "xray" => role_account
            .and_then(|a| t.find(a))
            .and_then(|ix| t.owner(ix))
            .is_some_and(|o| apps.contains(&o)),
        "logs" if c.resource != "*" && !apps.is_empty() => {
            for (ix, node) in t.nodes() {
                let group = match node.kind {
                    NodeKind::Resource(crate::model::ResourceKind::LogsLogGroup) => node.id.to_string(),
                    NodeKind::Function => match (node.region, node.account, node.id.rsplit(':').next()) {
                        (Some(r), Some(a), Some(name)) => format!("arn:aws:logs:{r}:{a}:log-group:/aws/lambda/{name}"),
                        _ => continue,
                    },
                    _ => continue,
                };
                let hit = crate::arn::glob_match(&c.resource, &group)
                    || crate::arn::glob_match(&c.resource, &format!("{group}:*"));
                if hit && !t.owner(ix).is_some_and(|o| apps.contains(&o)) {
                    return false;
                }
            }
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::IncidentAccessNotReadOnly;
    use crate::checks::Severity;
    use crate::checks::testkit::*;
    use serde_json::json;

    const AGENT_TRUST: &str = "aidevops.amazonaws.com";

    fn agent_trust() -> serde_json::Value {
        json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": AGENT_TRUST}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEquals": {"aws:SourceArn": "arn:aws:aidevops:eu-west-1:111111111111:agentspace/invoice"}}}]})
    }

    #[test]
    fn fires_high_on_agent_space_role_writes_and_medium_on_content_reads() {
        let mut s = org();
        let role = add_role(
            &mut s,
            INVOICE,
            "agent",
            agent_trust(),
            allow(&["dynamodb:PutItem", "s3:GetObject", "dynamodb:DescribeTable"], "*"),
        );
        add_invoice_space(&mut s, &[(INVOICE, &role)]);
        let f = run(&IncidentAccessNotReadOnly, &s);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert_eq!((f[0].severity, f[0].resource.as_str()), (Severity::High, role.as_str()));
        assert!(f[0].message.contains("dynamodb:PutItem") && !f[0].message.contains("DescribeTable"));
        assert_eq!(f[0].applications, vec!["invoice"]);
        assert_eq!(f[1].severity, Severity::Medium);
        assert!(f[1].message.contains("s3:GetObject"));
    }

    #[test]
    fn a_grant_conditioned_on_an_unknown_key_is_reported_as_conditional_with_the_key() {
        let mut s = org();
        let policy = json!({"Statement": [{"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        let role = add_role(&mut s, INVOICE, "agent", agent_trust(), policy);
        add_invoice_space(&mut s, &[(INVOICE, &role)]);
        let f = run(&IncidentAccessNotReadOnly, &s);
        assert_eq!(f.len(), 1);
        // Intended change (issue 8.3): a status and the keys, not a sentence in the message.
        assert_eq!(f[0].status, crate::finding::Status::Conditional);
        assert_eq!(
            f[0].conditions,
            vec![
                "aws:MultiFactorAuthPresent (inline policy `p` of `arn:aws:iam::111111111111:role/agent` statement #0)"
            ]
        );
        // Near miss: the same write granted without the condition as well is a plain violation.
        let mut s = org();
        let both = json!({"Statement": [
            {"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
            {"Effect": "Allow", "Action": "dynamodb:DeleteTable", "Resource": "*"}]});
        let role = add_role(&mut s, INVOICE, "agent", agent_trust(), both);
        add_invoice_space(&mut s, &[(INVOICE, &role)]);
        let f = run(&IncidentAccessNotReadOnly, &s);
        assert_eq!((f.len(), f[0].status), (1, crate::finding::Status::Violation), "{f:#?}");
    }

    #[test]
    fn an_open_grant_is_found_whatever_the_statement_order() {
        for open_first in [false, true] {
            let mut s = org();
            add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
            let own = json!({"Effect": "Allow", "Action": "logs:StartQuery", "Resource": "arn:aws:logs:*:111111111111:log-group:/aws/lambda/invoice-*"});
            let open = json!({"Effect": "Allow", "Action": "logs:StartQuery", "Resource": "*"});
            let statements = if open_first { vec![open, own] } else { vec![own, open] };
            let role = add_role(
                &mut s,
                INVOICE,
                "agent",
                agent_trust(),
                json!({"Statement": statements}),
            );
            add_invoice_space(&mut s, &[(INVOICE, &role)]);
            let f = run(&IncidentAccessNotReadOnly, &s);
            assert_eq!(f.len(), 1, "open_first={open_first}: {f:#?}");
            assert_eq!(f[0].severity, Severity::Medium);
        }
    }

    #[test]
    fn responder_chain_is_followed() {
        let mut s = org();
        let target = add_role(
            &mut s,
            SHARED,
            "break-glass",
            trust(&format!("arn:aws:iam::{INVOICE}:role/oncall")),
            allow(&["lambda:UpdateFunctionCode"], "*"),
        );
        add_role(
            &mut s,
            INVOICE,
            "oncall",
            trust(&format!("arn:aws:iam::{INVOICE}:root")),
            allow(&["sts:AssumeRole"], &target),
        );
        let config = format!("{CONFIG}\n[responders]\nprincipals = [\"arn:aws:iam::{INVOICE}:role/oncall\"]\n");
        let f = run_with(&IncidentAccessNotReadOnly, &s, &config);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, target);
        assert!(
            f[0].evidence[0]
                .detail
                .contains("oncall -> arn:aws:iam::999999999999:role/break-glass"),
            "{:?}",
            f[0].evidence
        );
    }

    #[test]
    fn agent_role_without_a_space_in_the_snapshot_is_incident_access() {
        let mut s = org();
        let pinned = "arn:aws:aidevops:us-west-2:111111111111:agentspace/not-crawled";
        let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": AGENT_TRUST}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEquals": {"aws:SourceArn": pinned}}}]});
        let role = add_role(&mut s, INVOICE, "agent", trust, allow(&["dynamodb:PutItem"], "*"));
        let f = run(&IncidentAccessNotReadOnly, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, role);
        assert!(
            f[0].message.contains(&format!(
                "for `aws:SourceArn` `{pinned}`, an Agent Space that is not in the snapshot"
            )),
            "{}",
            f[0].message
        );
        // Near miss: a role trusting another service is not incident access.
        let mut s = org();
        add_role(
            &mut s,
            INVOICE,
            "lambda",
            json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            allow(&["dynamodb:PutItem"], "*"),
        );
        assert_eq!(run(&IncidentAccessNotReadOnly, &s), vec![]);
    }

    // A role trusting the responders' account is theirs to assume once that account's
    // administrators allow it, whether or not a responder holds the permission today.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies-cross-account-resource-access.html
    #[test]
    fn near_miss_role_trusting_the_responders_account_is_incident_access() {
        let mut s = org();
        let oncall = add_role(
            &mut s,
            INVOICE,
            "oncall",
            trust(INVOICE),
            allow(&["cloudwatch:GetMetricData"], "*"),
        );
        let target = add_role(
            &mut s,
            SHARED,
            "ops",
            trust(&format!("arn:aws:iam::{INVOICE}:root")),
            allow(&["sqs:PurgeQueue"], "*"),
        );
        // Near miss: a role trusting another account is not reached by these responders.
        add_role(
            &mut s,
            SHARED,
            "other",
            trust(CHECKOUT),
            allow(&["sqs:PurgeQueue"], "*"),
        );
        let config = format!("{CONFIG}\n[responders]\nprincipals = [\"{oncall}\"]\n");
        let f = run_with(&IncidentAccessNotReadOnly, &s, &config);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, target);
        assert!(
            f[0].evidence[0]
                .detail
                .contains(&format!("arn:aws:iam::{INVOICE}:root")),
            "{:?}",
            f[0].evidence
        );
    }

    #[test]
    fn quiet_for_metadata_reads_own_logs_and_scp_denied_writes() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        let policy = json!({"Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:Describe*", "lambda:List*", "cloudwatch:GetMetricData"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["logs:StartQuery", "logs:GetLogEvents"], "Resource": "arn:aws:logs:*:111111111111:log-group:/aws/lambda/invoice-*"},
            {"Effect": "Allow", "Action": "sqs:PurgeQueue", "Resource": "*"}
        ]});
        let role = add_role(&mut s, INVOICE, "agent", agent_trust(), policy);
        add_invoice_space(&mut s, &[(INVOICE, &role)]);
        // Near miss: the write is there, but an SCP on the account denies it; another role is
        // made read-only by its permission boundary.
        let bounded = add_role(
            &mut s,
            INVOICE,
            "agent-bounded",
            agent_trust(),
            allow(&["sqs:PurgeQueue", "sqs:DeleteQueue"], "*"),
        );
        let boundary = "arn:aws:iam::111111111111:policy/read-only";
        add(
            &mut s,
            "managed_policies",
            json!({"arn": boundary, "name": "read-only", "document": {"Statement": [{"Effect": "Allow", "Action": "sqs:Get*", "Resource": "*"}]}}),
        );
        if let Some(r) = s["roles"]
            .as_array_mut()
            .and_then(|r| r.iter_mut().find(|r| r["arn"] == bounded.as_str()))
        {
            r["permission_boundary"] = json!(boundary);
        }
        s["organization"]["policies"] = json!([{"id": "p-1", "arn": "arn:aws:organizations::111111111111:policy/o-x/service_control_policy/p-1", "name": "no-purge", "kind": "SERVICE_CONTROL_POLICY", "targets": [INVOICE],
            "document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "sqs:PurgeQueue", "Resource": "*"}]}}]);
        // The SCP allows everything else (an SCP with only a Deny would allow nothing, and this
        // test would pass whatever the check did with the reads).
        // https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
        assert_eq!(run(&IncidentAccessNotReadOnly, &s), vec![]);
    }

    // The DevOps Agent's guardrail is a session policy on the agent's sessions: they can do only
    // what the role and the guardrail both allow. People (responders) carry no such policy.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
    // https://docs.aws.amazon.com/devopsagent/latest/userguide/aws-devops-agent-security.html
    fn guarded(s: &serde_json::Value, guardrail_allows: &[&str], responder: bool) -> Vec<crate::finding::Finding> {
        let mut extra = "\n[devops_agent]\nguardrail = {guardrail}\n".to_string();
        if responder {
            extra.push_str(&format!(
                "[responders]\nprincipals = [\"arn:aws:iam::{INVOICE}:role/oncall\"]\n"
            ));
        }
        let (_dir, config) = config_with_guardrail(&extra, &allow(guardrail_allows, "*"));
        run_with(&IncidentAccessNotReadOnly, s, &config)
    }

    /// The invoice space's role may `dynamodb:PutItem` and `s3:GetObject`; with `responder`, the
    /// responder role `oncall` may assume it too.
    fn agent_writer(responder: bool) -> serde_json::Value {
        let mut s = org();
        let mut trust = agent_trust();
        if responder {
            trust["Statement"]
                .as_array_mut()
                .unwrap()
                .push(json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{INVOICE}:role/oncall")}, "Action": "sts:AssumeRole"}));
            add_role(&mut s, INVOICE, "oncall", trust_root(), allow(&["sts:AssumeRole"], "*"));
        }
        let role = add_role(
            &mut s,
            INVOICE,
            "agent",
            trust,
            allow(&["dynamodb:PutItem", "s3:GetObject"], "*"),
        );
        add_invoice_space(&mut s, &[(INVOICE, &role)]);
        s
    }

    fn trust_root() -> serde_json::Value {
        trust(&format!("arn:aws:iam::{INVOICE}:root"))
    }

    #[test]
    fn fires_low_for_agent_only_writes_outside_the_guardrail() {
        let f = guarded(&agent_writer(false), &["s3:GetObject"], false);
        assert_eq!(f.len(), 2, "{f:#?}");
        let low = f.iter().find(|x| x.severity == Severity::Low).unwrap();
        assert!(
            low.message.contains("dynamodb:PutItem")
                && low.message.contains("but only outside the DevOps Agent guardrail"),
            "{}",
            low.message
        );
        // The content read is within the guardrail: medium, as without one.
        let medium = f.iter().find(|x| x.severity == Severity::Medium).unwrap();
        assert!(
            medium.message.contains("s3:GetObject") && medium.message.contains("within the DevOps Agent guardrail"),
            "{}",
            medium.message
        );
    }

    #[test]
    fn near_miss_a_role_a_responder_reaches_too_is_judged_without_the_guardrail() {
        let f = guarded(&agent_writer(true), &["s3:GetObject"], true);
        let agent: Vec<_> = f.iter().filter(|x| x.resource.ends_with(":role/agent")).collect();
        assert_eq!(agent.len(), 2, "{f:#?}");
        assert_eq!(agent[0].severity, Severity::High);
        assert!(!agent[0].message.contains("guardrail"), "{}", agent[0].message);
    }

    /// The invoice space's role in `account` allowed `actions` on `resource`.
    fn agent_role(account: &str, actions: &[&str], resource: &str) -> serde_json::Value {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
        let role = add_role(&mut s, account, "agent", agent_trust(), allow(actions, resource));
        add_invoice_space(&mut s, &[(account, &role)]);
        s
    }

    // Trace reads are the application's own when the role's account belongs to it
    // (docs/checks.md); in an account of no application they are content reads beyond it.
    #[test]
    fn near_miss_trace_reads_are_own_only_in_the_applications_account() {
        assert_eq!(
            run(
                &IncidentAccessNotReadOnly,
                &agent_role(INVOICE, &["xray:BatchGetTraces"], "*")
            ),
            vec![]
        );
        let f = run(
            &IncidentAccessNotReadOnly,
            &agent_role(SHARED, &["xray:BatchGetTraces"], "*"),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Medium);
        assert!(f[0].message.contains("xray:BatchGetTraces"), "{}", f[0].message);
    }

    // A `logs:` read is the application's own only if its pattern matches no log group of another
    // application: the `/aws/lambda/<name>` group of another application's function, named
    // exactly (no `:*`), counts.
    #[test]
    fn fires_medium_for_reads_of_another_applications_function_log_group() {
        let group =
            |account: &str, name: &str| format!("arn:aws:logs:eu-west-1:{account}:log-group:/aws/lambda/{name}");
        let s = agent_role(INVOICE, &["logs:GetLogEvents"], &group(CHECKOUT, "checkout-api"));
        let f = run(&IncidentAccessNotReadOnly, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::Medium);
        // Near miss: the exact group of invoice's own function.
        let s = agent_role(INVOICE, &["logs:GetLogEvents"], &group(INVOICE, "invoice-api"));
        assert_eq!(run(&IncidentAccessNotReadOnly, &s), vec![]);
    }

    // Recorded `logs-log-group` resources count by their owner (tag or account).
    #[test]
    fn fires_medium_for_reads_matching_a_recorded_log_group_of_another_application() {
        for (owner, expected) in [("checkout", 1), ("invoice", 0)] {
            let mut s = agent_role(
                INVOICE,
                &["logs:GetLogEvents"],
                "arn:aws:logs:eu-west-1:111111111111:log-group:/app/*",
            );
            add(
                &mut s,
                "resources",
                json!({"arn": "arn:aws:logs:eu-west-1:111111111111:log-group:/app/audit", "kind": "logs-log-group", "account": INVOICE, "region": "eu-west-1", "tags": {"app": owner}}),
            );
            let f = run(&IncidentAccessNotReadOnly, &s);
            assert_eq!(f.len(), expected, "{owner}: {f:#?}");
        }
    }

    // Writes within the guardrail make the finding (high); the writes beyond it do not lower it.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
    #[test]
    fn near_miss_writes_partly_inside_the_guardrail_stay_high_naming_those() {
        let mut s = org();
        let role = add_role(
            &mut s,
            INVOICE,
            "agent",
            agent_trust(),
            allow(&["dynamodb:PutItem", "dynamodb:DeleteTable"], "*"),
        );
        add_invoice_space(&mut s, &[(INVOICE, &role)]);
        let f = guarded(&s, &["dynamodb:PutItem"], false);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        assert!(
            f[0].message.contains("dynamodb:PutItem")
                && !f[0].message.contains("dynamodb:DeleteTable")
                && f[0].message.contains("within the DevOps Agent guardrail"),
            "{}",
            f[0].message
        );
    }

    /// [`agent_writer`] with the checkout space associated with the same role, and the config's
    /// global guardrail allowing `s3:GetObject`; with `own`, the checkout space has its own
    /// guardrail file (allowing the same).
    fn two_spaces(own: bool) -> Vec<crate::finding::Finding> {
        let mut s = agent_writer(false);
        add(
            &mut s,
            "agent_spaces",
            json!({"id": "checkout", "arn": "arn:aws:aidevops:eu-west-1:222222222222:agentspace/checkout", "name": "checkout", "account": CHECKOUT, "region": "eu-west-1",
                "associations": [{"account": INVOICE, "role": format!("arn:aws:iam::{INVOICE}:role/agent")}]}),
        );
        let doc = allow(&["s3:GetObject"], "*");
        let (_dir, mut config) = config_with_guardrail("\n[devops_agent]\nguardrail = {guardrail}\n", &doc);
        let own_dir = tempfile::tempdir().unwrap();
        if own {
            let path = own_dir.path().join("own.json");
            std::fs::write(&path, doc.to_string()).unwrap();
            config.push_str(&format!(
                "[agent_spaces.checkout]\napplication = \"checkout\"\nguardrail = {}\n",
                toml_string(&path.display().to_string())
            ));
        }
        run_with(&IncidentAccessNotReadOnly, &s, &config)
    }

    // A role several spaces reach is judged with the guardrail only when one guardrail (the same
    // file) caps all their sessions; with two guardrails it is judged by the role alone.
    #[test]
    fn near_miss_a_role_two_spaces_reach_is_guarded_only_by_one_shared_guardrail() {
        let f = two_spaces(false);
        let writes: Vec<_> = f.iter().filter(|f| f.message.contains("dynamodb:PutItem")).collect();
        assert_eq!(writes.len(), 1, "{f:#?}");
        assert_eq!(writes[0].severity, Severity::Low);
        let f = two_spaces(true);
        let writes: Vec<_> = f.iter().filter(|f| f.message.contains("dynamodb:PutItem")).collect();
        assert_eq!(writes.len(), 1, "{f:#?}");
        assert_eq!(writes[0].severity, Severity::High);
        assert!(!writes[0].message.contains("guardrail"), "{}", writes[0].message);
    }
}
