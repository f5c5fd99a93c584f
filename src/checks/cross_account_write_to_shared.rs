//! `cross-account-write-to-shared`: a principal of another account can change a resource in a
//! shared-dependency account — through the resource's own policy, or by assuming a role in the
//! shared account that may write it. Shared dependencies are where one application's incident
//! becomes everyone's; from outside, they should be read-only unless an exception says why.

use super::{Check, Context, Evidence, Finding, Input, Meta, SHOWN, Severity, Status, app_names};
use crate::arn::{Arn, glob_match};
use crate::config::WriteException;
use crate::graph::{NodeKind, Topology};
use crate::iam::capability::{Capability, RoleView, Target, grant_labels, summarize_actions};
use crate::iam::catalog::{ActionClass, Catalog};
use crate::iam::classify::allowed_actions;
use crate::iam::condition::Truth;
use crate::iam::reach::{Assumer, Caller, callers_of};
use crate::iam::{Effect, Policy};
use std::collections::{BTreeSet, HashMap};

pub struct CrossAccountWriteToShared;

const META: Meta = Meta {
    id: "cross-account-write-to-shared",
    title: "Another account can change a shared dependency",
    description: "A principal of another account can perform Write, Permissions management or Tagging actions on a resource in a shared-dependency account, through the resource's policy or through a role in the shared account it can assume. Accepted cases are listed under `allow` with a reason.",
    severity: Severity::High,
    inputs: &[
        Input::Iam,
        Input::Organization,
        Input::ResourcePolicies,
        Input::EventBridge,
        Input::Lambda,
    ],
};

impl Check for CrossAccountWriteToShared {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        if !t.has_shared_accounts() {
            return Vec::new();
        }
        let catalog = match cx.catalog() {
            Ok(c) => c,
            Err(f) => return vec![*f],
        };
        let iam = t.iam();
        let exceptions = cx.allow();
        let exposed = exposed_roles(t, catalog);
        let mut out = Vec::new();
        for (ix, node) in t.nodes() {
            if matches!(node.kind, NodeKind::Account | NodeKind::AgentSpace) {
                continue;
            }
            let Some(account) = node.account.filter(|a| t.is_shared_account(a)) else {
                continue;
            };
            // An external node (named by a policy or a reference, not in the snapshot): its own
            // policy and tags are unknown, so only the roles' side can be judged, and not proven.
            let external = node.kind == NodeKind::External;
            let mut grants = Vec::new();
            if !external {
                grants.extend(resource_policy_grants(t, catalog, node.id, account));
                grants.extend(subscriber_grants(t, node.id, account));
            }
            // 2. A role in the shared account that outsiders can assume may write it.
            let named = iam.store.resource_policy(node.id).map(|n| n.as_named());
            for (view, outsiders) in exposed.get(account).into_iter().flatten() {
                let target = Target::Resource {
                    arn: node.id,
                    account: Some(account),
                    region: node.region,
                    tags: node.tags,
                    policy: named,
                };
                let caps = view.capabilities(target, ActionClass::CHANGES);
                if !caps.is_empty() {
                    grants.extend(
                        outsiders
                            .iter()
                            .flat_map(|who| role_grant(view.role(), node.id, who, &caps)),
                    );
                }
            }
            for g in grants {
                let apps = principal_apps(t, &g.who);
                let remaining = not_excepted(cx, &exceptions, &g.who, &apps, node.id, &g.actions);
                if !remaining.is_empty() {
                    let f = self.finding(t, ix, &apps, &remaining, g);
                    out.push(if external { unseen(t, ix, f) } else { f });
                }
            }
        }
        out
    }
}

/// One way a principal of another account can change a resource.
struct Grant {
    /// [`Caller::id`] of who can.
    who: String,
    /// How the message names them and the path.
    text: String,
    actions: Vec<String>,
    evidence: Vec<Evidence>,
    /// Undecided condition keys, each with its statement; empty when the access is certain.
    conditions: Vec<String>,
}

/// An assumer of a shared-account role: who it is, and the roles of the snapshot behind it
/// when it is an account's administrators.
struct Outsider {
    assumer: Assumer,
    /// Roles of the assumer's account that can assume the role today (for an account trust).
    concrete: Vec<Assumer>,
}

/// Per shared account: its roles that principals of other accounts can assume and whose
/// policies name any write at all, prepared once, with those principals.
fn exposed_roles<'t>(
    t: &'t Topology<'_>,
    catalog: &'t Catalog,
) -> HashMap<&'t str, Vec<(RoleView<'t>, Vec<Outsider>)>> {
    let iam = t.iam();
    let org = t.organization_id();
    let mut exposed: HashMap<&str, Vec<(RoleView<'_>, Vec<Outsider>)>> = HashMap::new();
    let mut role_arns: Vec<&str> = iam.store.roles.keys().copied().collect();
    role_arns.sort_unstable();
    for arn in role_arns {
        let Some(rp) = iam.store.roles.get(arn) else { continue };
        let account = rp.role.account.as_str();
        if !t.is_shared_account(account) {
            continue;
        }
        let outsiders: Vec<&Assumer> = iam
            .reach
            .assumers(arn)
            .iter()
            .filter(|a| a.caller.is_outside(account))
            .collect();
        if outsiders.is_empty() {
            continue;
        }
        let Some(view) = RoleView::new(iam.store, catalog, org, arn).filter(|v| v.may_have(ActionClass::CHANGES))
        else {
            continue;
        };
        let outsiders = outsiders
            .into_iter()
            .map(|a| {
                let concrete = match a.caller {
                    Caller::AccountAdmins(_) => iam.reach.concrete_behind(iam.store, a, arn),
                    _ => Vec::new(),
                };
                Outsider {
                    assumer: a.clone(),
                    concrete,
                }
            })
            .collect();
        exposed.entry(account).or_default().push((view, outsiders));
    }
    exposed
}

/// Grants of a role an outsider can assume: one per concrete chain behind an account trust,
/// else one for the (synthetic) assumer itself.
fn role_grant(role: &str, resource: &str, who: &Outsider, caps: &[Capability]) -> Vec<Grant> {
    let chains: Vec<&Assumer> = if who.concrete.is_empty() {
        vec![&who.assumer]
    } else {
        who.concrete.iter().collect()
    };
    chains
        .into_iter()
        .map(|a| {
            let certain: Vec<&Capability> = caps.iter().filter(|c| c.conditional_on.is_empty()).collect();
            let trust = format!("trust policy statement {}", a.statement);
            let mut conditions: Vec<String> = Vec::new();
            let used: Vec<&Capability> = if a.conditional || certain.is_empty() {
                conditions.extend(a.conditional_on.iter().map(|k| format!("{k} ({trust} of `{role}`)")));
                for c in caps {
                    let labels = grant_labels([c]).join(", ");
                    conditions.extend(c.conditional_on.iter().map(|k| format!("{k} ({labels})")));
                }
                caps.iter().collect()
            } else {
                certain
            };
            let how = if a.caller.is_synthetic() {
                format!(
                    "{}, by assuming `{role}` (its trust names them; no principal in the snapshot needs to hold the permission today),",
                    a.caller.describe()
                )
            } else {
                format!("{} (another account), by assuming `{role}`,", a.caller.describe())
            };
            let mut evidence = vec![Evidence::new("can-assume", a.principal.clone(), Some(role.to_string()), trust)];
            evidence.extend(
                grant_labels(used.iter().copied())
                    .into_iter()
                    .map(|g| Evidence::new("grants", role.to_string(), Some(resource.to_string()), g)),
            );
            Grant {
                who: a.principal.clone(),
                text: how,
                actions: used.iter().map(|c| c.action.clone()).collect(),
                evidence,
                conditions,
            }
        })
        .collect()
}

/// 1. The resource policy grants writes to principals of other accounts.
fn resource_policy_grants(t: &Topology<'_>, catalog: &Catalog, arn: &str, account: &str) -> Vec<Grant> {
    let iam = t.iam();
    let Some(policy) = iam.store.resource_policy(arn).map(|n| &n.policy) else {
        return Vec::new();
    };
    let service = Arn::parse(arn).map(|a| a.service).unwrap_or("");
    let mut out = Vec::new();
    for (i, st) in policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.effect == Effect::Allow)
    {
        // `callers_of` evaluates the conditions for a direct call by each caller: AWS's default
        // SNS topic policy (`AWS:SourceOwner` = owner) lets in only the owner's principals.
        let outsiders: Vec<(Caller, Truth)> = callers_of(st, iam.reach.org(), account)
            .into_iter()
            .filter(|(c, _)| c.is_outside(account))
            .collect();
        if outsiders.is_empty() {
            continue;
        }
        let single = Policy {
            version: None,
            id: None,
            statements: vec![st.clone()],
        };
        let actions: Vec<String> = allowed_actions(catalog, &[&single])
            .actions
            .iter()
            .filter(|a| a.service() == service && ActionClass::CHANGES.contains(&a.class()))
            .map(|a| a.full_name())
            .collect();
        if actions.is_empty() {
            continue;
        }
        let label = st.sid.clone().unwrap_or_else(|| format!("#{i}"));
        for (caller, truth) in outsiders {
            let conditions = match truth {
                Truth::Unknown(keys) => keys
                    .into_iter()
                    .map(|k| format!("{k} (resource policy statement {label})"))
                    .collect(),
                _ => Vec::new(),
            };
            let text = if caller.is_synthetic() {
                caller.describe()
            } else {
                format!("{} (another account)", caller.describe())
            };
            out.push(Grant {
                who: caller.id(),
                text,
                actions: actions.clone(),
                evidence: vec![Evidence::new(
                    "grants",
                    arn,
                    Some(caller.id()),
                    format!("resource policy statement {label}"),
                )],
                conditions,
            });
        }
    }
    out
}

/// EventBridge v2: subscribers another account created on a bus of the shared account (through
/// a RAM share). Creating them is a write on the bus, and each one is proof it was allowed.
fn subscriber_grants(t: &Topology<'_>, arn: &str, account: &str) -> Vec<Grant> {
    let Some(bus) = t.event_bus_v2(arn) else {
        return Vec::new();
    };
    let shares: Vec<&str> = bus.shares.iter().map(|s| s.arn.as_str()).collect();
    let through = if shares.is_empty() {
        String::new()
    } else {
        format!(", shared through `{}`", shares.join("`, `"))
    };
    bus.subscribers
        .iter()
        .filter(|s| s.account != account)
        .map(|s| Grant {
            who: s.account.clone(),
            text: format!("account `{}` (it created subscriber `{}`{through})", s.account, s.arn),
            actions: vec!["events:CreateSubscriber".to_string()],
            evidence: vec![Evidence::new(
                "routes",
                arn,
                Some(s.arn.clone()),
                format!("subscriber of account `{}`", s.account),
            )],
            conditions: Vec::new(),
        })
        .collect()
}

impl CrossAccountWriteToShared {
    fn finding(
        &self,
        t: &Topology<'_>,
        ix: petgraph::graph::NodeIndex,
        apps: &[usize],
        actions: &[String],
        g: Grant,
    ) -> Finding {
        let node = t.node(ix);
        let names: Vec<&str> = actions.iter().map(String::as_str).collect();
        let message = format!(
            "{} can change shared {} `{}`: {}",
            g.text,
            node.kind.as_str(),
            node.id,
            summarize_actions(&names, SHOWN)
        );
        let mut f = META.finding(
            node,
            message,
            "Grant other accounts read access only (a read-only role or resource-policy statement); if the write is intended, record it under `[checks.cross-account-write-to-shared] allow` with the principal (a role ARN or an account), resource, actions and reason.".to_string(),
        );
        let mut conditions = g.conditions;
        conditions.sort();
        conditions.dedup();
        f.status = if conditions.is_empty() {
            Status::Violation
        } else {
            Status::Conditional
        };
        f.conditions = conditions;
        f.applications = app_names(t, apps.iter().copied());
        f.evidence = g.evidence;
        f
    }
}

/// A finding on an external node made "not proven": the write is allowed by the role, but the
/// resource's own policy (which could deny it) and tags (which conditions may test) were not
/// read, and for a wildcard pattern whether anything matches it is unknown.
fn unseen(t: &Topology<'_>, ix: petgraph::graph::NodeIndex, mut f: Finding) -> Finding {
    let why = match t.unseen_because(ix) {
        Some(why) => format!(
            "the resources matching `{}` are not all in the snapshot: {why}",
            t.node(ix).id
        ),
        None => format!(
            "`{}` is not in the snapshot, so its resource policy and tags could not be read",
            t.node(ix).id
        ),
    };
    f.status = Status::NotProven;
    f.message = format!("not proven: {}; {why}", f.message);
    f
}

/// The account of a principal (role ARN, account root ARN or bare account id).
fn principal_account(p: &str) -> Option<&str> {
    if crate::arn::is_account_id(p) {
        return Some(p);
    }
    Arn::parse(p).ok().and_then(|a| a.account())
}

/// Whether an `allow` entry's principal covers `who`: the same ARN (wildcards allowed), or an
/// account (bare id or root ARN) covering its administrators and every principal of it.
fn principal_matches(pattern: &str, who: &str) -> bool {
    if glob_match(pattern, who) {
        return true;
    }
    let account = crate::arn::root_account(pattern).or(crate::arn::is_account_id(pattern).then_some(pattern));
    account.is_some_and(|a| principal_account(who) == Some(a))
}

/// Applications a principal belongs to: the owner of its role node, or of its account.
fn principal_apps(t: &Topology<'_>, principal: &str) -> Vec<usize> {
    let mut apps = BTreeSet::new();
    if let Some(o) = t.find(principal).and_then(|ix| t.owner(ix)) {
        apps.insert(o);
    }
    if let Some(o) = principal_account(principal)
        .and_then(|a| t.find(a))
        .and_then(|ix| t.owner(ix))
    {
        apps.insert(o);
    }
    apps.into_iter().collect()
}

/// The actions no exception accepts for this principal and resource; marks the exceptions used
/// in the context (the engine reports the unused ones).
fn not_excepted(
    cx: &Context<'_, '_>,
    exceptions: &[&WriteException],
    who: &str,
    apps: &[usize],
    resource: &str,
    actions: &[String],
) -> Vec<String> {
    let t = cx.topology();
    let names: Vec<&str> = apps.iter().map(|a| t.app_name(*a)).collect();
    let applies: Vec<bool> = exceptions
        .iter()
        .map(|e| {
            e.principal.as_deref().is_none_or(|p| principal_matches(p, who))
                && e.application.as_deref().is_none_or(|a| names.contains(&a))
                && glob_match(&e.resource, resource)
        })
        .collect();
    actions
        .iter()
        .filter(|action| {
            let mut accepted = false;
            for (i, e) in exceptions.iter().enumerate() {
                if applies.get(i).copied().unwrap_or(false)
                    && e.actions.iter().any(|x| crate::arn::glob_match_ignore_case(x, action))
                {
                    accepted = true;
                    cx.use_allow(i);
                }
            }
            !accepted
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::CrossAccountWriteToShared;
    use crate::checks::Status;
    use crate::checks::testkit::*;
    use serde_json::{Value, json};

    fn queue_with_policy(s: &mut Value, statement: Value) -> String {
        let arn = add_queue(s, SHARED, "eu-west-1", "orders", json!({"shared-with": "checkout"}));
        if let Some(q) = s["resources"].as_array_mut().and_then(|r| r.last_mut()) {
            q["policy"] = json!({"Statement": [statement]});
        }
        arn
    }

    #[test]
    fn fires_on_resource_policy_granting_another_account_writes() {
        let mut s = org();
        let q = queue_with_policy(
            &mut s,
            json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{CHECKOUT}:root")}, "Action": ["sqs:SendMessage", "sqs:DeleteQueue", "sqs:GetQueueAttributes"], "Resource": "*"}),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, q);
        assert!(f[0].message.contains("sqs:DeleteQueue") && f[0].message.contains("sqs:SendMessage"));
        assert!(!f[0].message.contains("GetQueueAttributes"), "reads are not reported");
        assert_eq!(f[0].applications, vec!["checkout"]);
    }

    #[test]
    fn allow_entries_accept_named_actions_and_unused_ones_are_reported() {
        let mut s = org();
        queue_with_policy(
            &mut s,
            json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{CHECKOUT}:root")}, "Action": "sqs:SendMessage", "Resource": "*"}),
        );
        let config = format!(
            "{CONFIG}\n[checks.cross-account-write-to-shared]\nallow = [\n  {{ application = \"checkout\", resource = \"arn:aws:sqs:*:{SHARED}:orders\", actions = [\"sqs:SendMessage\"], reason = \"checkout enqueues orders\" }},\n  {{ principal = \"arn:aws:iam::{INVOICE}:root\", resource = \"*\", actions = [\"sqs:*\"], reason = \"stale\" }},\n]\n"
        );
        let f = run_with(&CrossAccountWriteToShared, &s, &config);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].check, "unused-ignore");
        assert_eq!(f[0].resource, "checks.cross-account-write-to-shared.allow[1]");
        // Through the engine the finding names the config file.
        let all = run_engine(&s, &config, "guardrails/topoguard.toml");
        let unused: Vec<_> = all.iter().filter(|f| f.check == "unused-ignore").collect();
        assert_eq!(unused.len(), 1, "{unused:#?}");
        assert!(
            unused[0]
                .message
                .starts_with("`checks.cross-account-write-to-shared.allow[1]` in `guardrails/topoguard.toml` matched"),
            "{}",
            unused[0].message
        );
        assert_eq!(unused[0].evidence[0].from, "guardrails/topoguard.toml");
    }

    #[test]
    fn assumable_role_in_the_shared_account_that_can_write_fires() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        let maint = add_role(
            &mut s,
            SHARED,
            "maintenance",
            trust(&format!("arn:aws:iam::{CHECKOUT}:root")),
            allow(&["sqs:PurgeQueue"], &q),
        );
        add_role(
            &mut s,
            CHECKOUT,
            "ops",
            trust(&format!("arn:aws:iam::{CHECKOUT}:root")),
            allow(&["sts:AssumeRole"], &maint),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("arn:aws:iam::222222222222:role/ops") && f[0].message.contains("sqs:PurgeQueue"));
        assert_eq!(f[0].evidence[0].relation, "can-assume");
    }

    // Trusting another account is access by that account: its administrators decide who gets the
    // identity permission, so the snapshot cannot prove nobody has it.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies-cross-account-resource-access.html
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    #[test]
    fn account_trust_fires_even_when_nobody_holds_the_permission_today() {
        for principal in [format!("arn:aws:iam::{CHECKOUT}:root"), CHECKOUT.to_string()] {
            let mut s = org();
            let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
            add_role(
                &mut s,
                SHARED,
                "maintenance",
                trust(&principal),
                allow(&["sqs:PurgeQueue"], &q),
            );
            let f = run(&CrossAccountWriteToShared, &s);
            assert_eq!(f.len(), 1, "{principal}: {f:#?}");
            assert!(
                f[0].message
                    .starts_with("any principal that account `222222222222`'s administrators allow, by assuming"),
                "{}",
                f[0].message
            );
            assert_eq!(f[0].evidence[0].from, format!("arn:aws:iam::{CHECKOUT}:root"));
            assert_eq!(f[0].status, crate::finding::Status::Violation);
        }
    }

    // "*" with aws:PrincipalOrgID is the whole organization (Access Analyzer's zone of trust), one
    // finding, not one per member: https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-concepts.html#access-analyzer-zone-of-trust
    #[test]
    fn org_wide_trust_is_one_finding_and_not_action_writes_count() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        s["organization"]["id"] = json!("o-test");
        let org_trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-test"}}}]});
        let policy = json!({"Statement": [{"Effect": "Allow", "NotAction": ["sqs:Receive*", "sqs:Get*", "sqs:List*"], "Resource": q}]});
        add_role(&mut s, SHARED, "org-wide", org_trust, policy);
        for account in [CHECKOUT, INVOICE] {
            add_role(
                &mut s,
                account,
                "admin",
                trust(&format!("arn:aws:iam::{account}:root")),
                allow(&["*"], "*"),
            );
        }
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.starts_with("any principal in organization `o-test`"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("sqs:PurgeQueue") || f[0].message.contains("sqs:DeleteQueue"));
    }

    #[test]
    fn a_write_that_holds_only_under_an_undecided_condition_is_conditional() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        let policy = json!({"Statement": [{"Sid": "Mfa", "Effect": "Allow", "Action": "sqs:PurgeQueue", "Resource": q,
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        add_role(&mut s, SHARED, "maintenance", trust(CHECKOUT), policy);
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, crate::finding::Status::Conditional);
        assert_eq!(
            f[0].conditions,
            vec![
                "aws:MultiFactorAuthPresent (inline policy `p` of `arn:aws:iam::999999999999:role/maintenance` statement Mfa)"
            ]
        );
        assert!(!f[0].message.contains("only if"), "{}", f[0].message);
    }

    // A grant conditioned on a request key (dynamodb:LeadingKeys) reached through an account
    // trust: conditional, not dropped and not a plain violation.
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
    #[test]
    fn leading_keys_write_through_an_account_trust_is_conditional() {
        let mut s = org();
        let table = format!("arn:aws:dynamodb:eu-west-1:{SHARED}:table/orders");
        add(
            &mut s,
            "resources",
            json!({"arn": table, "kind": "dynamodb-table", "account": SHARED, "region": "eu-west-1", "tags": {}}),
        );
        let policy = json!({"Statement": [{"Sid": "Own", "Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table,
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["checkout"]}}}]});
        add_role(
            &mut s,
            SHARED,
            "writer",
            trust(&format!("arn:aws:iam::{CHECKOUT}:root")),
            policy,
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, crate::finding::Status::Conditional);
        assert!(
            f[0].conditions.iter().all(|c| c.starts_with("dynamodb:LeadingKeys (")),
            "{:?}",
            f[0].conditions
        );
    }

    // A trust that lets the other account in only under a condition topoguard cannot decide makes
    // the access conditional, naming the trust statement's key, even though the role's own grant
    // is certain.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-multifactorauthpresent
    #[test]
    fn fires_conditional_when_only_the_trust_holds_under_an_undecided_condition() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        let trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{CHECKOUT}:root")}, "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
        add_role(&mut s, SHARED, "maintenance", trust, allow(&["sqs:PurgeQueue"], &q));
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::Conditional);
        assert!(
            !f[0].conditions.is_empty()
                && f[0]
                    .conditions
                    .iter()
                    .all(|c| c.starts_with("aws:MultiFactorAuthPresent (trust policy statement")),
            "{:?}",
            f[0].conditions
        );
        assert!(f[0].message.contains("sqs:PurgeQueue"), "{}", f[0].message);
    }

    // The same for a resource policy statement: the caller is let in only if the key holds.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    #[test]
    fn fires_conditional_when_the_resource_policy_grants_under_an_undecided_condition() {
        let mut s = org();
        let q = queue_with_policy(
            &mut s,
            json!({"Sid": "Mfa", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{CHECKOUT}:root")}, "Action": "sqs:PurgeQueue", "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!((f[0].resource.as_str(), f[0].status), (q.as_str(), Status::Conditional));
        assert_eq!(
            f[0].conditions,
            vec!["aws:MultiFactorAuthPresent (resource policy statement Mfa)"]
        );
    }

    // The finding names the writer's application: its account's (or its role's) owner, and
    // none for "any principal of any account".
    #[test]
    fn fires_naming_the_writers_application_or_none_for_anyone() {
        let mut s = org();
        queue_with_policy(
            &mut s,
            json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{INVOICE}:root")}, "Action": "sqs:PurgeQueue", "Resource": "*"}),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].applications, vec!["invoice"]);
        let mut s = org();
        queue_with_policy(
            &mut s,
            json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sqs:PurgeQueue", "Resource": "*"}),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.starts_with("any principal of any account"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].applications, Vec::<String>::new());
    }

    #[test]
    fn near_miss_allow_entries_accept_an_account_principal_not_another() {
        let config = |principal: &str, q: &str| {
            format!(
                "{CONFIG}\n[checks.cross-account-write-to-shared]\nallow = [\n  {{ principal = \"{principal}\", resource = \"{q}\", actions = [\"sqs:PurgeQueue\"], reason = \"checkout purges\" }},\n]\n"
            )
        };
        for principal in [CHECKOUT.to_string(), format!("arn:aws:iam::{CHECKOUT}:root")] {
            let mut s = org();
            let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
            add_role(
                &mut s,
                SHARED,
                "maintenance",
                trust(CHECKOUT),
                allow(&["sqs:PurgeQueue"], &q),
            );
            assert_eq!(
                run_with(&CrossAccountWriteToShared, &s, &config(&principal, &q)),
                vec![],
                "{principal}"
            );
            // Near miss: another account's entry does not cover it.
            let other = principal.replace(CHECKOUT, INVOICE);
            let f = run_with(&CrossAccountWriteToShared, &s, &config(&other, &q));
            assert_eq!(
                f.iter().filter(|f| f.check == "cross-account-write-to-shared").count(),
                1,
                "{f:#?}"
            );
        }
    }

    #[test]
    fn quiet_for_same_account_writes_and_read_only_roles() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        // Near miss: trusted by another account, but the role can only read.
        add_role(
            &mut s,
            SHARED,
            "reader",
            trust(&format!("arn:aws:iam::{CHECKOUT}:root")),
            allow(&["sqs:GetQueueAttributes"], &q),
        );
        // Made read-only by an SCP on the shared account, and by a permission boundary.
        add_role(
            &mut s,
            SHARED,
            "scp-limited",
            trust(CHECKOUT),
            allow(&["sqs:PurgeQueue"], &q),
        );
        s["organization"]["policies"] = json!([{"id": "p-1", "arn": "arn:aws:organizations::111111111111:policy/o-x/service_control_policy/p-1", "name": "no-purge", "kind": "SERVICE_CONTROL_POLICY", "targets": [SHARED],
            "document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}, {"Effect": "Deny", "Action": "sqs:PurgeQueue", "Resource": "*"}]}}]);
        let bounded = add_role(
            &mut s,
            SHARED,
            "bounded",
            trust(CHECKOUT),
            allow(&["sqs:DeleteQueue"], &q),
        );
        let boundary = "arn:aws:iam::999999999999:policy/read-only";
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
        // A writer in the shared account itself is not cross-account, also through its own root.
        add_role(
            &mut s,
            SHARED,
            "local",
            trust(&format!("arn:aws:iam::{SHARED}:root")),
            allow(&["sqs:PurgeQueue"], &q),
        );
        add_role(
            &mut s,
            SHARED,
            "local-caller",
            trust(SHARED),
            allow(&["sts:AssumeRole"], "*"),
        );
        assert_eq!(run(&CrossAccountWriteToShared, &s), vec![]);
    }

    #[test]
    fn fires_for_a_subscriber_another_account_created_on_a_shared_v2_bus() {
        let mut s = org();
        let q = add_queue(&mut s, CHECKOUT, "eu-west-1", "orders-in", json!({}));
        let bus = add_bus_v2(&mut s, SHARED, "eu-west-1", "orders", &[(CHECKOUT, &q)], true);
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, bus);
        assert!(f[0].message.contains("resource-share/orders"), "{}", f[0].message);
        assert!(f[0].message.contains("events:CreateSubscriber"), "{}", f[0].message);
        assert_eq!(f[0].applications, vec!["checkout"]);
    }

    #[test]
    fn near_miss_the_bus_owners_own_subscriber_is_quiet() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "audit", json!({}));
        add_bus_v2(&mut s, SHARED, "eu-west-1", "orders", &[(SHARED, &q)], true);
        assert_eq!(run(&CrossAccountWriteToShared, &s), vec![]);
    }

    fn source_pinned_trust(principal: &str, operator: &str, key: &str, value: &str) -> Value {
        json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole",
            "Condition": {operator: {key: value}}}]})
    }

    // `aws:SourceAccount`/`aws:SourceArn` are absent when a principal calls AssumeRole itself, so
    // a trust naming another account that requires them lets nobody of that account in; the same
    // trust with `...IfExists` does.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount
    #[test]
    fn trust_requiring_source_keys_lets_no_principal_of_another_account_write() {
        let cases = [
            ("StringEquals", "aws:SourceAccount", CHECKOUT, 0),
            (
                "ArnLike",
                "aws:SourceArn",
                "arn:aws:aidevops:*:222222222222:agentspace/*",
                0,
            ),
            // Near miss: the key may be absent.
            ("StringEqualsIfExists", "aws:SourceAccount", CHECKOUT, 1),
        ];
        for (operator, key, value, expected) in cases {
            let mut s = org();
            let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
            add_role(
                &mut s,
                SHARED,
                "maintenance",
                source_pinned_trust(CHECKOUT, operator, key, value),
                allow(&["sqs:PurgeQueue"], &q),
            );
            add_role(
                &mut s,
                CHECKOUT,
                "ops",
                trust(CHECKOUT),
                allow(&["sts:AssumeRole"], "*"),
            );
            let f = run(&CrossAccountWriteToShared, &s);
            assert_eq!(f.len(), expected, "{operator} {key}: {f:#?}");
        }
    }

    fn add_user(s: &mut Value, name: &str, policy: Option<Value>, extra: Value) -> String {
        let arn = format!("arn:aws:iam::{CHECKOUT}:user/{name}");
        let mut u = json!({"arn": arn, "account": CHECKOUT, "name": name});
        if let Some(p) = policy {
            u["inline_policies"] = json!([{"name": "assume", "document": p}]);
        }
        if let (Some(u), Some(extra)) = (u.as_object_mut(), extra.as_object()) {
            u.extend(extra.clone());
        }
        add(s, "users", u);
        arn
    }

    /// A shared role trusting checkout's account that can purge the shared queue.
    fn writable_shared_queue() -> (Value, String) {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        let maint = add_role(
            &mut s,
            SHARED,
            "maintenance",
            trust(CHECKOUT),
            allow(&["sqs:PurgeQueue"], &q),
        );
        (s, maint)
    }

    // An IAM user holding `sts:AssumeRole` is a concrete chain, like a role; its group's policies
    // count; a boundary without the action removes it.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    #[test]
    fn a_user_that_can_assume_a_writing_shared_role_is_named() {
        let (mut s, maint) = writable_shared_queue();
        let user = add_user(
            &mut s,
            "legacy-deployer",
            Some(allow(&["sts:AssumeRole"], &maint)),
            json!({}),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message
                .starts_with(&format!("`{user}` (another account), by assuming")),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].evidence[0].from, user);
        assert_eq!(f[0].evidence[0].relation, "can-assume");
        assert_eq!(f[0].applications, vec!["checkout"]);

        let (mut s, _) = writable_shared_queue();
        let group = format!("arn:aws:iam::{CHECKOUT}:group/deployers");
        add(
            &mut s,
            "groups",
            json!({"arn": group, "account": CHECKOUT, "name": "deployers", "inline_policies": [{"name": "assume", "document": allow(&["sts:AssumeRole"], "*")}]}),
        );
        let user = add_user(&mut s, "grouped", None, json!({"groups": ["deployers"]}));
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].evidence[0].from, user);
    }

    #[test]
    fn a_bounded_user_is_no_chain_and_the_account_trust_remains() {
        let (mut s, maint) = writable_shared_queue();
        let boundary = format!("arn:aws:iam::{CHECKOUT}:policy/no-assume");
        add(
            &mut s,
            "managed_policies",
            json!({"arn": boundary, "name": "no-assume", "document": allow(&["s3:Get*"], "*")}),
        );
        add_user(
            &mut s,
            "bounded",
            Some(allow(&["sts:AssumeRole"], &maint)),
            json!({"permission_boundary": boundary}),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        // Only the synthetic principal: no concrete chain through the bounded user.
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("administrators allow"), "{}", f[0].message);
        assert_eq!(f[0].evidence[0].from, format!("arn:aws:iam::{CHECKOUT}:root"));
    }

    /// A role of the shared account that checkout can assume and whose policy allows `actions`
    /// on `resource`, which the snapshot does not hold.
    fn exposed_writer(actions: &[&str], resource: &str) -> Value {
        let mut s = org();
        add_role(
            &mut s,
            SHARED,
            "exporter",
            trust(&format!("arn:aws:iam::{CHECKOUT}:root")),
            allow(actions, resource),
        );
        s
    }

    #[test]
    fn fires_not_proven_for_a_bucket_named_only_in_an_exposed_shared_role() {
        let mut s = exposed_writer(&["s3:PutObject"], "arn:aws:s3:::exports/*");
        s["bucket_owners"] = json!({"exports": SHARED});
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].resource, "arn:aws:s3:::exports");
        assert_eq!(f[0].status, Status::NotProven);
        assert!(f[0].message.contains("s3:PutObject"), "{}", f[0].message);
        assert!(
            f[0].message.contains("its resource policy and tags could not be read"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn fires_not_proven_for_a_wildcard_in_the_shared_account() {
        let s = exposed_writer(&["sqs:PurgeQueue"], "arn:aws:sqs:eu-west-1:999999999999:orders-*");
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotProven);
        assert!(f[0].message.contains("lists no `sqs` resources"), "{}", f[0].message);
    }

    #[test]
    fn near_miss_reads_of_an_unseen_bucket_and_writes_to_one_outside_shared_accounts_are_quiet() {
        let mut s = exposed_writer(&["s3:GetObject"], "arn:aws:s3:::exports/*");
        s["bucket_owners"] = json!({"exports": SHARED});
        assert_eq!(run(&CrossAccountWriteToShared, &s), vec![]);
        let mut s = exposed_writer(&["s3:PutObject"], "arn:aws:s3:::exports/*");
        s["bucket_owners"] = json!({"exports": INVOICE});
        assert_eq!(run(&CrossAccountWriteToShared, &s), vec![]);
    }

    #[test]
    fn fires_as_a_violation_when_the_bucket_is_in_the_snapshot() {
        let mut s = exposed_writer(&["s3:PutObject"], "arn:aws:s3:::exports/*");
        s["bucket_owners"] = json!({"exports": SHARED});
        add(
            &mut s,
            "resources",
            json!({"arn": "arn:aws:s3:::exports", "kind": "s3-bucket", "account": SHARED, "tags": {}}),
        );
        let f = run(&CrossAccountWriteToShared, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::Violation);
    }
}
