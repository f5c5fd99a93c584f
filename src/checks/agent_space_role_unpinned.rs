//! `agent-space-role-unpinned`: a role that `aidevops.amazonaws.com` may assume is not pinned to
//! one Agent Space by `aws:SourceArn` and `aws:SourceAccount`, so any space — another
//! application's included — can use it.
//!
//! The decision comes from evaluating the trust policy for an unrelated Agent Space; the
//! condition analysis explains what is missing. `aws:SourceAccount` is required in any case.

use super::{Check, Context, Evidence, Finding, Input, Meta, Severity};
use crate::arn::Arn;
use crate::graph::AGENT_SERVICE;
use crate::iam::condition::Truth;
use crate::iam::reach::Reach;
use crate::iam::{Condition, Effect, Statement};

pub struct AgentSpaceRoleUnpinned;

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

fn trusts_service(st: &Statement) -> bool {
    st.effect == Effect::Allow
        && st.allows_action("sts:AssumeRole")
        && st
            .principal
            .as_ref()
            .is_some_and(|p| !p.is_negated() && p.inner().values("Service").contains(&AGENT_SERVICE))
}

/// What is wrong with one trust statement's pinning, if anything.
/// What is wrong with the statement's `aws:SourceAccount` condition, if anything.
fn account_problem(st: &Statement) -> Option<String> {
    let accounts: Vec<&Condition> = st.condition_values("aws:SourceAccount").filter(|c| pins(c)).collect();
    if accounts.is_empty() {
        Some("no `aws:SourceAccount` condition".to_string())
    } else if accounts
        .iter()
        .any(|c| c.values.len() != 1 || c.values.iter().any(|v| v.contains(['*', '?'])))
    {
        Some("`aws:SourceAccount` allows more than one account".to_string())
    } else {
        None
    }
}

/// What is wrong with the statement's `aws:SourceArn` condition, if anything.
fn arn_problem(st: &Statement) -> Option<String> {
    let arns: Vec<&Condition> = st.condition_values("aws:SourceArn").filter(|c| pins(c)).collect();
    match arns.as_slice() {
        [] => Some("no `aws:SourceArn` condition".to_string()),
        [c] => match c.values.as_slice() {
            [v] if crate::iam::pattern::has_wildcard(v) => {
                Some(format!("`aws:SourceArn` `{v}` is a wildcard, not one Agent Space"))
            }
            [v] => (!Arn::parse(v).is_ok_and(|a| a.resource.starts_with("agentspace/")))
                .then(|| format!("`aws:SourceArn` `{v}` is not an Agent Space ARN")),
            values => Some(format!(
                "`aws:SourceArn` lists {} values instead of one Agent Space",
                values.len()
            )),
        },
        _ => Some("several `aws:SourceArn` conditions".to_string()),
    }
}

/// Agent Spaces the trust was not written for, in every region and partition it could name: for
/// each probe account, an unrelated space in each region and partition the role and its
/// `aws:SourceArn` values mention (plus `us-east-1` and `eu-west-1` of `aws`), and a request
/// without `aws:SourceArn`. A wildcard confined to one region is found in that region.
fn probe_spaces(policy: &crate::iam::Policy, role: &str, accounts: &[String]) -> Vec<(Option<String>, String)> {
    let mut places: Vec<(String, String)> = vec![
        ("aws".to_string(), "us-east-1".to_string()),
        ("aws".to_string(), "eu-west-1".to_string()),
    ];
    let role_partition = Arn::parse(role)
        .map(|a| a.partition.to_string())
        .unwrap_or_else(|_| "aws".to_string());
    let named = policy
        .statements
        .iter()
        .filter(|st| trusts_service(st))
        .flat_map(|st| st.condition_values("aws:SourceArn"))
        .flat_map(|c| c.values.iter())
        .filter_map(|v| Arn::parse(v).ok());
    for arn in named {
        let partition = if arn.partition.contains(['*', '?']) {
            role_partition.clone()
        } else {
            arn.partition.to_string()
        };
        match arn.region().filter(|r| !r.contains(['*', '?'])) {
            Some(r) => places.push((partition, r.to_string())),
            None => places.push((partition, "us-east-1".to_string())),
        }
    }
    places.push((role_partition, "us-east-1".to_string()));
    places.sort();
    places.dedup();
    let mut out = Vec::new();
    for account in accounts {
        for (partition, region) in &places {
            out.push((
                Some(format!(
                    "arn:{partition}:aidevops:{region}:{account}:agentspace/topoguard-probe"
                )),
                account.clone(),
            ));
        }
        out.push((None, account.clone()));
    }
    out
}

const META: Meta = Meta {
    id: "agent-space-role-unpinned",
    title: "Agent Space role not pinned to one space",
    description: "A role trusted by `aidevops.amazonaws.com` lacks an `aws:SourceAccount` condition, or an `aws:SourceArn` condition naming exactly one Agent Space. Any Agent Space of that account, including another application's, can then assume it, which defeats one-space-per-application.",
    severity: Severity::High,
    inputs: &[Input::Iam],
};

impl Check for AgentSpaceRoleUnpinned {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let mut out = Vec::new();
        for role in t.iam_roles() {
            let (Some(ix), Some(policy)) = (
                t.find(&role.arn),
                t.policies.roles.get(role.arn.as_str()).map(|r| &r.trust.policy),
            ) else {
                continue;
            };
            if !policy.statements.iter().any(|st| trusts_service(st)) {
                continue;
            }
            // Evaluate the whole trust policy for Agent Spaces it was not written for: one in the
            // role's account and one in an unrelated account.
            // Probe accounts: the role's, an unrelated one, and every account the conditions name.
            let mut accounts: Vec<String> = vec![role.account.clone(), "000000000000".to_string()];
            for st in policy.statements.iter().filter(|st| trusts_service(st)) {
                for c in st.condition_values("aws:SourceAccount") {
                    accounts.extend(c.values.iter().filter(|v| crate::arn::is_account_id(v)).cloned());
                }
                for c in st.condition_values("aws:SourceArn") {
                    accounts.extend(
                        c.values
                            .iter()
                            .filter_map(|v| Arn::parse(v).ok().and_then(|a| a.account()).map(str::to_string)),
                    );
                }
            }
            accounts.sort();
            accounts.dedup();
            let probes = probe_spaces(policy, &role.arn, &accounts);
            let open: Vec<String> = probes
                .iter()
                .filter_map(|(probe, account)| {
                    let who = match &probe {
                        Some(arn) => format!("an unrelated Agent Space (`{arn}`)"),
                        None => format!("a request from account `{account}` without `aws:SourceArn`"),
                    };
                    match Reach::service_may_assume(
                        &t.policies,
                        &role.arn,
                        AGENT_SERVICE,
                        probe.as_deref(),
                        account.as_str(),
                    ) {
                        Truth::False => None,
                        Truth::True => Some(format!("{who} may assume it")),
                        Truth::Unknown(keys) => Some(format!(
                            "{who} may assume it unless conditions on {} hold",
                            keys.join(", ")
                        )),
                    }
                })
                .take(2)
                .collect();
            for (i, st) in policy
                .statements
                .iter()
                .enumerate()
                .filter(|(_, st)| trusts_service(st))
            {
                // The statement must pin both conditions itself (docs/checks.md): a wildcard the
                // probes do not match (`agentspace/invoice-*`) or several spaces is no pin, even
                // when no probe gets in.
                let account = account_problem(st);
                let arn = arn_problem(st);
                if open.is_empty() && account.is_none() && arn.is_none() {
                    continue;
                }
                let mut problems: Vec<String> = account.into_iter().chain(arn).collect();
                problems.extend(open.iter().cloned());
                let label = st
                    .sid
                    .as_ref()
                    .map_or_else(|| format!("statement #{i}"), |s| format!("statement `{s}`"));
                let node = t.node(ix);
                let mut f = META.finding(
                    node,
                    format!(
                        "role `{}` trusts `{AGENT_SERVICE}` ({label}) without pinning it to one Agent Space: {}",
                        role.arn,
                        problems.join("; ")
                    ),
                    format!(
                        "Add to {label} of the trust policy: \"Condition\": {{\"StringEquals\": {{\"aws:SourceAccount\": \"<space account>\"}}, \"ArnEquals\": {{\"aws:SourceArn\": \"arn:aws:aidevops:<region>:<space account>:agentspace/<space id>\"}}}}"
                    ),
                );
                f.applications = t.owner(ix).map(|a| vec![t.app_name(a).to_string()]).unwrap_or_default();
                f.evidence = vec![Evidence::new(
                    "trust-policy",
                    AGENT_SERVICE,
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

    // The confused-deputy guidance: pin aws:SourceArn to the exact resource; a wildcard in any
    // region or partition lets other spaces in.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    #[test]
    fn near_miss_wildcards_in_any_region_or_partition_fire_and_exact_pins_there_are_quiet() {
        for (space_region, partition) in [
            ("eu-west-1", "aws"),
            ("ap-southeast-2", "aws"),
            ("cn-north-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
        ] {
            let mut s = org();
            let wildcard = format!("arn:{partition}:aidevops:{space_region}:111111111111:agentspace/*");
            role(
                &mut s,
                "wild",
                json!({"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnLike": {"aws:SourceArn": wildcard}}),
            );
            let f = run(&AgentSpaceRoleUnpinned, &s);
            assert_eq!(f.len(), 1, "{wildcard}: {f:#?}");
            assert!(f[0].message.contains("is a wildcard"), "{}", f[0].message);
            // The evaluation probes that region and partition, where an unrelated space gets in.
            let probe = format!("arn:{partition}:aidevops:{space_region}:111111111111:agentspace/topoguard-probe");
            assert!(
                f[0].message
                    .contains(&format!("an unrelated Agent Space (`{probe}`) may assume it")),
                "{}",
                f[0].message
            );
            // Near miss: the exact space in that region and partition.
            let mut s = org();
            let exact = format!("arn:{partition}:aidevops:{space_region}:111111111111:agentspace/invoice");
            role(
                &mut s,
                "pinned",
                json!({"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEquals": {"aws:SourceArn": exact}}),
            );
            assert_eq!(run(&AgentSpaceRoleUnpinned, &s), vec![], "{exact}");
        }
    }

    /// The one message of the role `name` (one statement).
    fn message_of(s: &Value, name: &str) -> String {
        let f = run(&AgentSpaceRoleUnpinned, s);
        let mine: Vec<_> = f
            .iter()
            .filter(|f| f.resource.ends_with(&format!(":role/{name}")))
            .collect();
        assert_eq!(mine.len(), 1, "{name}: {f:#?}");
        mine[0].message.clone()
    }

    // The pin must be one exact Agent Space ARN, no wildcards (docs/checks.md): a wildcard in the
    // space id admits spaces created later, whatever name they get; two values admit two spaces.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    // Before this test, both were quiet: the evaluation's probe space (`topoguard-probe`) matches
    // neither `invoice-*` nor the two listed spaces, and the statement's own problems were then
    // dropped.
    #[test]
    fn fires_for_a_wildcard_the_probe_does_not_match_and_for_two_spaces() {
        let mut s = org();
        let account = json!({"aws:SourceAccount": INVOICE});
        role(
            &mut s,
            "prefix",
            json!({"StringEquals": account, "ArnLike": {"aws:SourceArn": "arn:aws:aidevops:us-east-1:111111111111:agentspace/invoice-*"}}),
        );
        role(
            &mut s,
            "two",
            json!({"StringEquals": account, "ArnEquals": {"aws:SourceArn": [SPACE, "arn:aws:aidevops:us-east-1:111111111111:agentspace/checkout"]}}),
        );
        assert!(
            message_of(&s, "prefix").contains(
                "`aws:SourceArn` `arn:aws:aidevops:us-east-1:111111111111:agentspace/invoice-*` is a wildcard"
            )
        );
        assert!(message_of(&s, "two").contains("`aws:SourceArn` lists 2 values instead of one Agent Space"));
        // Near miss: `${*}` is a literal `*` (a space id holding one), no wildcard.
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-specialchars
        let mut s = org();
        role(
            &mut s,
            "literal",
            json!({"StringEquals": account, "ArnEquals": {"aws:SourceArn": "arn:aws:aidevops:us-east-1:111111111111:agentspace/as-${*}1"}}),
        );
        assert_eq!(run(&AgentSpaceRoleUnpinned, &s), vec![]);
    }

    // `aws:SourceAccount` must be one account, no wildcards.
    #[test]
    fn fires_when_the_source_account_allows_more_than_one_account() {
        let arn = json!({"aws:SourceArn": SPACE});
        for (name, condition) in [
            (
                "two",
                json!({"StringEquals": {"aws:SourceAccount": [INVOICE, CHECKOUT]}, "ArnEquals": arn}),
            ),
            (
                "like",
                json!({"StringLike": {"aws:SourceAccount": "1111*"}, "ArnEquals": arn}),
            ),
        ] {
            let mut s = org();
            role(&mut s, name, condition);
            let m = message_of(&s, name);
            assert!(
                m.ends_with("`aws:SourceAccount` allows more than one account"),
                "{name}: {m}"
            );
        }
    }

    // Only positive operators pin a value: `...IfExists` passes when the key is absent, a negated
    // operator admits every other value, and `ForAllValues:` passes for an empty set.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    #[test]
    fn near_miss_if_exists_negated_and_for_all_values_operators_do_not_pin_the_account() {
        for operator in ["StringEqualsIfExists", "StringNotEquals", "ForAllValues:StringEquals"] {
            let mut s = org();
            role(
                &mut s,
                "weak",
                json!({operator: {"aws:SourceAccount": INVOICE}, "ArnEquals": {"aws:SourceArn": SPACE}}),
            );
            let m = message_of(&s, "weak");
            assert!(m.contains("no `aws:SourceAccount` condition"), "{operator}: {m}");
        }
        // An `IfExists` source ARN is no pin either: the request without it gets in.
        let mut s = org();
        role(
            &mut s,
            "weak",
            json!({"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEqualsIfExists": {"aws:SourceArn": SPACE}}),
        );
        let m = message_of(&s, "weak");
        assert!(m.contains("no `aws:SourceArn` condition"), "{m}");
        assert!(m.contains("without `aws:SourceArn` may assume it"), "{m}");
        assert!(!m.contains("aws:SourceAccount"), "{m}");
    }

    /// A role whose trust has one service statement per `(sid, condition)`.
    fn statements(s: &mut Value, name: &str, statements: &[(&str, Value)]) {
        let arn = format!("arn:aws:iam::{SHARED}:role/{name}");
        let list: Vec<Value> = statements
            .iter()
            .map(|(sid, c)| json!({"Sid": sid, "Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": c}))
            .collect();
        add(
            s,
            "roles",
            json!({"arn": arn, "account": SHARED, "name": name, "trust_policy": {"Version": "2012-10-17", "Statement": list}}),
        );
    }

    // One finding per service statement, each naming what is wrong with its own pin, when any
    // statement lets an unrelated space in.
    #[test]
    fn fires_naming_each_statements_own_problem() {
        let account = json!({"aws:SourceAccount": INVOICE});
        let mut s = org();
        statements(
            &mut s,
            "mixed",
            &[
                (
                    "Exact",
                    json!({"StringEquals": account, "ArnEquals": {"aws:SourceArn": SPACE}}),
                ),
                (
                    "Bucket",
                    json!({"StringEquals": account, "ArnEquals": {"aws:SourceArn": "arn:aws:s3:::invoice-data"}}),
                ),
                ("Open", json!({"StringEquals": account})),
                (
                    "Twice",
                    json!({"StringEquals": {"aws:SourceAccount": INVOICE, "aws:SourceArn": SPACE}, "ArnEquals": {"aws:SourceArn": SPACE}}),
                ),
            ],
        );
        let f = run(&AgentSpaceRoleUnpinned, &s);
        assert_eq!(f.len(), 4, "{f:#?}");
        let of = |sid: &str| {
            f.iter()
                .find(|f| f.message.contains(&format!("(statement `{sid}`)")))
                .map(|f| f.message.clone())
                .unwrap_or_default()
        };
        assert!(
            of("Bucket").contains("`aws:SourceArn` `arn:aws:s3:::invoice-data` is not an Agent Space ARN"),
            "{}",
            of("Bucket")
        );
        assert!(
            of("Open").contains(": no `aws:SourceArn` condition; "),
            "{}",
            of("Open")
        );
        assert!(
            of("Twice").contains("several `aws:SourceArn` conditions"),
            "{}",
            of("Twice")
        );
        // The exact pin is named only for the policy being open through the others.
        let exact = of("Exact");
        assert!(
            exact.contains("without pinning it to one Agent Space: an unrelated Agent Space (`"),
            "{exact}"
        );
        assert!(!exact.contains("`aws:SourceArn` `"), "{exact}");
    }

    // A Deny statement naming the service is no trust: it only takes away.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    #[test]
    fn quiet_for_a_pinned_role_with_a_deny_statement_for_the_service() {
        let mut s = org();
        let arn = role(
            &mut s,
            "pinned",
            json!({"StringEquals": {"aws:SourceAccount": INVOICE}, "ArnEquals": {"aws:SourceArn": SPACE}}),
        );
        if let Some(r) = s["roles"]
            .as_array_mut()
            .and_then(|r| r.iter_mut().find(|r| r["arn"] == arn.as_str()))
        {
            r["trust_policy"]["Statement"].as_array_mut().unwrap().push(
                json!({"Effect": "Deny", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
            );
        }
        assert_eq!(run(&AgentSpaceRoleUnpinned, &s), vec![]);
    }

    #[test]
    fn quiet_for_pinned_role_and_other_services() {
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
