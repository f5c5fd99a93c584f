//! `agent-space-elevated-access`: the role an Agent Space uses for approved write actions can
//! change something that is not its application's own: a shared dependency, or another
//! application's resource. Elevated actions are meant to be the reversible mitigations of the
//! application on call (like the responders' `mitigate` tier), nothing more.
//!
//! The roles checked are each association's elevated role (`agentElevatedRoleArn`), and, when
//! the space has `elevatedActionsEnabled` but an association names no elevated role, that
//! association's own role (it is then the only role the agent has there). Writes are decided by
//! the IAM engine per resource of the role's account, with the resource's policy.
//!
//! The agent's sessions are capped by the DevOps Agent's guardrail, a session policy. When the
//! config names it (`[devops_agent] guardrail`, or the space's own), each write is evaluated
//! again with it: writes the guardrail allows too make the finding (high, as without a
//! guardrail, saying it is within the guardrail); writes only the role allows are listed as
//! `outside-guardrail` evidence, and when they are all the role can write outside the
//! application, the finding is low ("allowed by the role but outside the guardrail"). Without
//! a configured guardrail every write the role allows counts.

use super::role_writes::{Writes, outside_evidence, role_writes};
use super::{Check, Context, Evidence, Finding, Input, Meta, SHOWN, Severity, Status};
use crate::config::Guardrail;
use crate::graph::{AppId, NodeKind, Topology};
use crate::iam::capability::{Capability, RoleView, grant_labels, summarize_actions};
use crate::iam::catalog::ActionClass;
use crate::model::AgentSpace;
use petgraph::graph::NodeIndex;

pub struct AgentSpaceElevatedAccess;

/// The roles the agent may write with, per association: (role, why it is checked).
fn elevated_roles(space: &AgentSpace) -> Vec<(&str, &'static str)> {
    let enabled = space.elevated_actions_enabled == Some(true);
    let mut out: Vec<(&str, &'static str)> = space
        .associations
        .iter()
        .filter_map(|a| match (&a.elevated_role, enabled) {
            (Some(r), _) => Some((r.as_str(), "elevated role of an association")),
            (None, true) => Some((
                a.role.as_str(),
                "association role of a space with elevated actions enabled and no elevated role",
            )),
            (None, false) => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// Whether `ix` is outside `app`'s own resources: owned by someone else, unowned, or shared.
fn not_own(t: &Topology<'_>, ix: NodeIndex, app: AppId) -> bool {
    let kind = t.node(ix).kind;
    let candidate = matches!(
        kind,
        NodeKind::EventBus
            | NodeKind::Rule
            | NodeKind::Subscriber
            | NodeKind::Function
            | NodeKind::Resource(_)
            | NodeKind::External
    );
    candidate && (t.owner(ix) != Some(app) || t.is_shared(ix))
}

/// Resources and the writes listed for them.
type Listed<'h> = Vec<(NodeIndex, &'h [Capability])>;

/// For the message: each resource with its actions; the undecided condition keys; the `grants`
/// evidence of the role's statements.
fn describe(t: &Topology<'_>, role: &str, listed: &Listed<'_>) -> (Vec<String>, Vec<String>, Vec<Evidence>) {
    let mut resources = Vec::new();
    let mut keys = Vec::new();
    let mut evidence = Vec::new();
    for (r, caps) in listed {
        let names: Vec<&str> = caps.iter().map(|c| c.action.as_str()).collect();
        let node = t.node(*r);
        resources.push(format!(
            "{} `{}` ({})",
            node.kind.as_str(),
            node.id,
            summarize_actions(&names, 3)
        ));
        keys.extend(caps.iter().flat_map(|c| c.conditional_on.iter().cloned()));
        evidence.extend(
            grant_labels(*caps)
                .into_iter()
                .map(|g| Evidence::new("grants", role.to_string(), Some(node.id.to_string()), g)),
        );
    }
    (resources, keys, evidence)
}

/// One role's finding: high for the writes the agent's sessions can make (all the role's when
/// the guardrail is unknown); low when every write is outside the guardrail (the role allows
/// them, the guardrail does not).
struct RoleFinding<'r> {
    space: &'r AgentSpace,
    app: AppId,
    role: &'r str,
    why: &'r str,
    guardrail: Option<&'r Guardrail>,
}

impl RoleFinding<'_> {
    fn build(&self, t: &Topology<'_>, hits: &[Writes]) -> Option<Finding> {
        let ix = t.find(self.role)?;
        let (role, why, app) = (self.role, self.why, t.app_name(self.app));
        let pick = |outside: bool| -> Listed<'_> {
            hits.iter()
                .map(|w| (w.resource, if outside { &w.outside[..] } else { &w.inside[..] }))
                .filter(|(_, c)| !c.is_empty())
                .collect()
        };
        let (inside, outside) = (pick(false), pick(true));
        let beyond = inside.is_empty();
        let listed = if beyond { &outside } else { &inside };
        let (mut resources, mut keys, grants) = describe(t, role, listed);
        let certain = listed
            .iter()
            .any(|(_, c)| c.iter().any(|c| c.conditional_on.is_empty()));
        let total = resources.len();
        resources.truncate(SHOWN);
        let more = if total > SHOWN {
            format!(" and {} more", total - SHOWN)
        } else {
            String::new()
        };
        let space = &self.space.arn;
        let list = resources.join("; ");
        let message = match self.guardrail {
            None => format!(
                "`{role}` ({why}) of Agent Space `{space}` can change what `{app}` does not own alone: {list}{more}"
            ),
            Some(g) if beyond => format!(
                "`{role}` ({why}) of Agent Space `{space}` can change what `{app}` does not own alone, but only outside the {}: {list}{more}; the agent's sessions cannot make these writes while the guardrail stands, the role still allows them",
                g.name
            ),
            Some(g) => {
                let also = if outside.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (the role allows more writes on {} resource(s) that the guardrail does not: see the outside-guardrail evidence)",
                        outside.len()
                    )
                };
                format!(
                    "`{role}` ({why}) of Agent Space `{space}` can change what `{app}` does not own alone, within the {}: {list}{more}{also}",
                    g.name
                )
            }
        };
        let mut f = META.finding(
            t.node(ix),
            message,
            format!(
                "Limit `{role}` to reversible writes on `{app}`'s own functions and rules (as `topoguard roles` builds the mitigate tier), or turn elevated actions off for the space."
            ),
        );
        if beyond {
            f.severity = Severity::Low;
        }
        if !certain {
            keys.sort();
            keys.dedup();
            f.status = Status::Conditional;
            f.conditions = keys;
        }
        f.applications = vec![app.to_string()];
        f.evidence = vec![Evidence::new("can-assume", space.clone(), Some(role.to_string()), why)];
        f.evidence.extend(grants);
        if let Some(g) = self.guardrail {
            f.evidence.extend(
                outside
                    .iter()
                    .map(|(r, caps)| outside_evidence(role, t.node(*r).id, caps, g)),
            );
        }
        Some(f)
    }
}

const META: Meta = Meta {
    id: "agent-space-elevated-access",
    title: "Agent Space may write outside its application",
    description: "An Agent Space association has an elevated role (`agentElevatedRoleArn`), or the space has elevated actions enabled, and the role the agent writes with can perform Write, Permissions management or Tagging actions on a shared dependency or on a resource its application does not own. Approved elevated actions should stay within the application's own reversible mitigations.",
    severity: Severity::High,
    inputs: &[
        Input::Iam,
        Input::Organization,
        Input::AgentSpaces,
        Input::ResourcePolicies,
        Input::EventBridge,
        Input::Lambda,
    ],
};

impl Check for AgentSpaceElevatedAccess {
    check_meta!();
    fn run(&self, cx: &Context<'_, '_>) -> Vec<Finding> {
        let t = cx.topology();
        let catalog = match cx.catalog() {
            Ok(c) => c,
            Err(f) => return vec![*f],
        };
        let org = t.organization_id();
        let mut out = Vec::new();
        for view in t.agent_spaces() {
            let Some(space) = view.existing else { continue };
            for (role, why) in elevated_roles(space) {
                let Some(rv) = RoleView::new(&t.policies, catalog, org, role) else {
                    if let Some(ix) = t.find(&space.arn) {
                        let mut f = META.finding(
                            t.node(ix),
                            format!(
                                "not proven: `{role}` ({why}) of Agent Space `{}` is not in the snapshot, so what it can write is unknown",
                                space.arn
                            ),
                            "Crawl the account of the role so its policies are known.".to_string(),
                        );
                        f.status = Status::NotProven;
                        f.applications = vec![t.app_name(view.app).to_string()];
                        out.push(f);
                    }
                    continue;
                };
                if !rv.may_have(ActionClass::CHANGES) {
                    continue;
                }
                let account = crate::arn::Arn::parse(role)
                    .ok()
                    .and_then(|a| a.account().map(str::to_string));
                let Some(account) = account else { continue };
                let guardrail = t.guardrail_for(view.name);
                let hits = role_writes(t, &rv, guardrail, &account, |ix| not_own(t, ix, view.app));
                if hits.is_empty() {
                    continue;
                }
                let f = RoleFinding {
                    space,
                    app: view.app,
                    role,
                    why,
                    guardrail,
                };
                // Writes on external nodes (named, not in the snapshot: policy and tags unread)
                // make a finding of their own, not proven.
                let (unseen, seen): (Vec<Writes>, Vec<Writes>) = hits
                    .into_iter()
                    .partition(|w| t.node(w.resource).kind == NodeKind::External);
                if !seen.is_empty() {
                    out.extend(f.build(t, &seen));
                }
                out.extend(f.build(t, &unseen).filter(|_| !unseen.is_empty()).map(|mut f| {
                    f.status = Status::NotProven;
                    f.message = format!(
                        "not proven: {}; not in the snapshot, so their resource policies and tags could not be read",
                        f.message
                    );
                    f
                }));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::AgentSpaceElevatedAccess;
    use crate::checks::Status;
    use crate::checks::testkit::*;
    use serde_json::{Value, json};

    const SPACE: &str = "arn:aws:aidevops:eu-west-1:111111111111:agentspace/invoice";

    /// The invoice space with one association into `account` whose elevated role may
    /// `sqs:SendMessage`/`sqs:PurgeQueue` on `resource`; `enabled` sets the space preference.
    fn setup(account: &str, resource: &str, elevated: bool, enabled: Option<bool>) -> Value {
        let mut s = org();
        let agent = json!({"Statement": [{"Effect": "Allow", "Principal": {"Service": "aidevops.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let role = add_role(
            &mut s,
            account,
            "invoice-agent",
            agent.clone(),
            allow(&["sqs:GetQueueAttributes"], "*"),
        );
        let write = add_role(
            &mut s,
            account,
            "invoice-elevated",
            agent,
            allow(&["sqs:PurgeQueue"], resource),
        );
        let mut assoc = json!({"account": account, "role": role, "kind": "source"});
        if elevated {
            assoc["elevated_role"] = json!(write);
            assoc["elevated_role_status"] = json!("valid");
        }
        let mut sp = json!({"id": "invoice", "arn": SPACE, "name": "invoice", "account": INVOICE, "region": "eu-west-1", "associations": [assoc]});
        if let Some(e) = enabled {
            sp["elevated_actions_enabled"] = json!(e);
        }
        add(&mut s, "agent_spaces", sp);
        s
    }

    /// A queue in SHARED used by invoice (so it is a shared dependency) and one of invoice's own.
    fn queues(s: &mut Value) -> (String, String) {
        let shared = add_queue(s, SHARED, "eu-west-1", "orders", json!({}));
        let own = add_queue(s, INVOICE, "eu-west-1", "invoice-work", json!({}));
        add_function(s, INVOICE, "eu-west-1", "invoice-api", &[&shared, &own]);
        (shared, own)
    }

    #[test]
    fn fires_when_the_elevated_role_can_purge_a_shared_queue() {
        let mut s = setup(SHARED, "*", true, None);
        let (shared, _) = queues(&mut s);
        let f = run(&AgentSpaceElevatedAccess, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::Violation);
        assert!(
            f[0].message.contains(&shared) && f[0].message.contains("sqs:PurgeQueue"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].resource, "arn:aws:iam::999999999999:role/invoice-elevated");
    }

    #[test]
    fn fires_for_the_association_role_when_elevated_actions_are_on_without_an_elevated_role() {
        let mut s = org();
        let (shared, _) = queues(&mut s);
        let role = add_role(
            &mut s,
            SHARED,
            "invoice-agent",
            json!({"Statement": []}),
            allow(&["sqs:SendMessage"], &shared),
        );
        add(
            &mut s,
            "agent_spaces",
            json!({"id": "invoice", "arn": SPACE, "name": "invoice", "account": INVOICE, "region": "eu-west-1",
            "elevated_actions_enabled": true, "associations": [{"account": SHARED, "role": role}]}),
        );
        let f = run(&AgentSpaceElevatedAccess, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("elevated actions enabled"), "{}", f[0].message);
    }

    /// `setup` with a second association (into invoice's own account) whose elevated role is
    /// `elevated`.
    fn second_association(s: &mut Value, elevated: &str) {
        let assoc = json!({"account": INVOICE, "role": "arn:aws:iam::111111111111:role/invoice-agent", "kind": "source", "elevated_role": elevated});
        s["agent_spaces"][0]["associations"].as_array_mut().unwrap().push(assoc);
    }

    // The check reports each role the agent writes with once, however many associations name it.
    #[test]
    fn fires_once_per_elevated_role_not_once_per_association() {
        let mut s = setup(SHARED, "*", true, None);
        queues(&mut s);
        second_association(&mut s, "arn:aws:iam::999999999999:role/invoice-elevated");
        let f = run(&AgentSpaceElevatedAccess, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        // Near miss: a second, different elevated role that can write the shared queue too is a
        // finding of its own.
        let mut s = setup(SHARED, "*", true, None);
        queues(&mut s);
        let other = add_role(
            &mut s,
            SHARED,
            "invoice-elevated-2",
            json!({"Statement": []}),
            allow(&["sqs:PurgeQueue"], "*"),
        );
        second_association(&mut s, &other);
        let f = run(&AgentSpaceElevatedAccess, &s);
        let resources: Vec<&str> = f.iter().map(|f| f.resource.as_str()).collect();
        assert_eq!(
            resources,
            vec!["arn:aws:iam::999999999999:role/invoice-elevated", other.as_str()],
            "{f:#?}"
        );
    }

    // "Not its application's own" is either: another application's resource that nobody shares
    // counts as much as a shared one.
    #[test]
    fn fires_for_another_applications_resource_that_is_not_shared() {
        let mut s = setup(CHECKOUT, "*", true, None);
        let q = add_queue(&mut s, CHECKOUT, "eu-west-1", "checkout-work", json!({}));
        let f = run(&AgentSpaceElevatedAccess, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains(&format!("sqs-queue `{q}` (sqs:PurgeQueue)")),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].applications, vec!["invoice"]);
    }

    // The message lists up to eight resources (SHOWN) and counts the rest.
    #[test]
    fn fires_listing_eight_resources_and_counting_the_rest() {
        for (queues, more) in [(8, None), (9, Some(" and 1 more"))] {
            let mut s = setup(SHARED, "*", true, None);
            for i in 0..queues {
                add_queue(&mut s, SHARED, "eu-west-1", &format!("q{i}"), json!({}));
            }
            let f = run(&AgentSpaceElevatedAccess, &s);
            assert_eq!(f.len(), 1, "{f:#?}");
            let listed = f[0].message.matches("sqs-queue `").count();
            assert_eq!(listed, 8, "{}", f[0].message);
            match more {
                Some(m) => assert!(f[0].message.ends_with(m), "{}", f[0].message),
                None => assert!(!f[0].message.contains(" more"), "{}", f[0].message),
            }
        }
    }

    #[test]
    fn quiet_when_the_elevated_role_writes_only_the_applications_own_queue() {
        let mut s = setup(
            INVOICE,
            "arn:aws:sqs:eu-west-1:111111111111:invoice-work",
            true,
            Some(true),
        );
        queues(&mut s);
        assert_eq!(run(&AgentSpaceElevatedAccess, &s), vec![]);
    }

    #[test]
    fn near_miss_writes_without_elevated_actions_or_role_are_quiet() {
        // The association role can write, but no elevated role exists and elevated actions are off:
        // that write access is agent-space-role-overbroad's business, not this check's.
        let mut s = setup(SHARED, "*", false, Some(false));
        queues(&mut s);
        assert_eq!(run(&AgentSpaceElevatedAccess, &s), vec![]);
    }

    #[test]
    fn an_elevated_role_outside_the_snapshot_is_not_proven() {
        let mut s = org();
        add(
            &mut s,
            "agent_spaces",
            json!({"id": "invoice", "arn": SPACE, "name": "invoice", "account": INVOICE, "region": "eu-west-1",
            "associations": [{"account": SHARED, "role": "arn:aws:iam::999999999999:role/a", "elevated_role": "arn:aws:iam::999999999999:role/gone"}]}),
        );
        let f = run(&AgentSpaceElevatedAccess, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotProven);
    }

    // The agent's sessions are capped by the service's guardrail, a session policy: a session
    // can do only what both the role and the session policy allow.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
    // https://docs.aws.amazon.com/devopsagent/latest/userguide/aws-devops-agent-security.html
    fn with_guardrail(s: &Value, actions: &[&str], space_override: Option<&[&str]>) -> Vec<crate::finding::Finding> {
        let doc = allow(actions, "*");
        let (_dir, config) = config_with_guardrail("\n[devops_agent]\nguardrail = {guardrail}\n", &doc);
        let config = match space_override {
            None => config,
            Some(own) => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("own.json");
                std::fs::write(&path, allow(own, "*").to_string()).unwrap();
                let extra = format!(
                    "[agent_spaces.invoice]\napplication = \"invoice\"\nguardrail = {}\n",
                    toml_string(&path.display().to_string())
                );
                return run_with(&AgentSpaceElevatedAccess, s, &format!("{config}{extra}"));
            }
        };
        run_with(&AgentSpaceElevatedAccess, s, &config)
    }

    #[test]
    fn fires_low_when_every_elevated_write_is_outside_the_guardrail() {
        let mut s = setup(SHARED, "*", true, None);
        let (shared, _) = queues(&mut s);
        let f = with_guardrail(&s, &["lambda:PutFunctionConcurrency"], None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::checks::Severity::Low);
        assert!(
            f[0].message.contains("but only outside the DevOps Agent guardrail `") && f[0].message.contains(&shared),
            "{}",
            f[0].message
        );
        let outside: Vec<_> = f[0]
            .evidence
            .iter()
            .filter(|e| e.relation == "outside-guardrail")
            .collect();
        assert_eq!(outside.len(), 1, "{:#?}", f[0].evidence);
        assert!(outside[0].detail.contains("sqs:PurgeQueue"), "{}", outside[0].detail);
    }

    #[test]
    fn near_miss_a_write_inside_the_guardrail_stays_high() {
        let mut s = setup(SHARED, "*", true, None);
        queues(&mut s);
        let f = with_guardrail(&s, &["sqs:PurgeQueue"], None);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::checks::Severity::High);
        assert_eq!(f[0].status, Status::Violation);
        assert!(
            f[0].message.contains("within the DevOps Agent guardrail"),
            "{}",
            f[0].message
        );
        assert!(!f[0].evidence.iter().any(|e| e.relation == "outside-guardrail"));
        // The guardrail's own statement is named among the grants.
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.relation == "grants" && e.detail.starts_with("DevOps Agent guardrail `")),
            "{:#?}",
            f[0].evidence
        );
    }

    #[test]
    fn a_space_s_own_guardrail_replaces_the_global_one() {
        let mut s = setup(SHARED, "*", true, None);
        queues(&mut s);
        // Global: the write is inside; the space's own guardrail leaves it outside.
        let f = with_guardrail(&s, &["sqs:*"], Some(&["lambda:PutFunctionConcurrency"]));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, crate::checks::Severity::Low);
    }

    #[test]
    fn quiet_with_a_guardrail_when_the_role_writes_only_the_applications_own_queue() {
        let mut s = setup(
            INVOICE,
            "arn:aws:sqs:eu-west-1:111111111111:invoice-work",
            true,
            Some(true),
        );
        queues(&mut s);
        assert_eq!(with_guardrail(&s, &["sqs:*"], None), vec![]);
    }

    #[test]
    fn fires_not_proven_when_the_elevated_role_writes_a_queue_not_in_the_snapshot() {
        let q = "arn:aws:sqs:eu-west-1:999999999999:unseen";
        let f = run(&AgentSpaceElevatedAccess, &setup(SHARED, q, true, Some(true)));
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].status, Status::NotProven);
        assert!(f[0].message.contains(q), "{}", f[0].message);
        // Near miss: the same queue in the snapshot is judged as before (a violation).
        let mut s = setup(SHARED, q, true, Some(true));
        add(
            &mut s,
            "resources",
            json!({"arn": q, "kind": "sqs-queue", "account": SHARED, "region": "eu-west-1"}),
        );
        let f = run(&AgentSpaceElevatedAccess, &s);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_ne!(f[0].status, Status::NotProven);
    }
}
