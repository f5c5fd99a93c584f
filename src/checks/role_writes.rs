//! What a role can write on the resources of one account: the block the Agent Space checks
//! (`agent-space-elevated-access`, `agent-space-role-overbroad`) share. Each resource is
//! evaluated by the IAM engine with its resource policy, account, region and tags; when the
//! DevOps Agent's guardrail is known (see [`crate::config::Guardrail`]) each write is evaluated
//! a second time as the agent's session makes it, with the guardrail as session policy, so that
//! the writes the role allows but the guardrail does not are told apart.

use super::Evidence;
use crate::config::Guardrail;
use crate::graph::Topology;
use crate::iam::capability::{Capability, RoleView, Target};
use crate::iam::catalog::ActionClass;
use crate::iam::eval::NamedPolicy;
use petgraph::graph::NodeIndex;

/// The writes on one resource.
pub(super) struct Writes {
    pub resource: NodeIndex,
    /// What the agent's sessions can write: all the role allows when the guardrail is unknown,
    /// else what the role and the guardrail both allow.
    pub inside: Vec<Capability>,
    /// What the role allows and the guardrail does not (empty without a guardrail).
    pub outside: Vec<Capability>,
}

/// The writes (Write, Permissions management, Tagging) `view` can make on each resource of
/// `account` that `keep` selects, split by `guardrail` when it is known; resources it cannot
/// write are left out.
pub(super) fn role_writes(
    t: &Topology<'_>,
    view: &RoleView<'_>,
    guardrail: Option<&Guardrail>,
    account: &str,
    keep: impl Fn(NodeIndex) -> bool,
) -> Vec<Writes> {
    let iam = t.iam();
    let guarded = guarded(view, guardrail);
    let mut out = Vec::new();
    for &ix in t.nodes_in_account(account) {
        if !keep(ix) {
            continue;
        }
        let node = t.node(ix);
        let target = Target::Resource {
            arn: node.id,
            account: Some(account),
            region: node.region,
            tags: node.tags,
            policy: iam.store.resource_policy(node.id).map(|n| n.as_named()),
        };
        let (inside, outside) = split_by_guardrail(view, guarded.as_ref(), target, ActionClass::CHANGES);
        if inside.is_empty() && outside.is_empty() {
            continue;
        }
        out.push(Writes {
            resource: ix,
            inside,
            outside,
        });
    }
    out
}

/// The role as the agent's sessions see it when `guardrail` is known: with the guardrail as
/// their session policy.
pub(super) fn guarded<'a>(view: &RoleView<'a>, guardrail: Option<&'a Guardrail>) -> Option<RoleView<'a>> {
    guardrail.map(|g| {
        view.with_session(vec![NamedPolicy {
            name: &g.name,
            policy: &g.policy,
        }])
    })
}

/// What `view` can do on `target` in `classes`, split by the [`guarded`] view when there is
/// one: what the role and the guardrail both allow, and what the role allows beyond it.
/// Without a guardrail, everything the role allows is inside.
pub(super) fn split_by_guardrail(
    view: &RoleView<'_>,
    guarded: Option<&RoleView<'_>>,
    target: Target<'_>,
    classes: &[ActionClass],
) -> (Vec<Capability>, Vec<Capability>) {
    let all = view.capabilities(target, classes);
    let Some(g) = guarded.filter(|_| !all.is_empty()) else {
        return (all, Vec::new());
    };
    let inside = g.capabilities(target, classes);
    let outside = all
        .into_iter()
        .filter(|c| !inside.iter().any(|i| i.action == c.action && i.resource == c.resource))
        .collect();
    (inside, outside)
}

/// The `outside-guardrail` evidence of writes `role` allows on `resource` that `guardrail`
/// does not.
pub(super) fn outside_evidence(role: &str, resource: &str, caps: &[Capability], guardrail: &Guardrail) -> Evidence {
    let mut names: Vec<&str> = caps.iter().map(|c| c.action.as_str()).collect();
    names.dedup();
    Evidence::new(
        "outside-guardrail",
        role.to_string(),
        Some(resource.to_string()),
        format!(
            "allowed by the role, not by the {} (a session policy on the agent's sessions): {}",
            guardrail.name,
            crate::iam::capability::summarize_actions(&names, super::SHOWN)
        ),
    )
}
