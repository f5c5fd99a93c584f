//! What a role can write on the resources of one account: the block the Agent Space checks
//! (`agent-space-elevated-access`, `agent-space-role-overbroad`) share. Each resource is
//! evaluated by the IAM engine with its resource policy, account, region and tags.

use crate::graph::Topology;
use crate::iam::capability::{Capability, RoleView, Target};
use crate::iam::catalog::ActionClass;
use petgraph::graph::NodeIndex;

/// The writes (Write, Permissions management, Tagging) `view` can make on each resource of
/// `account` that `keep` selects; resources it cannot write are left out.
pub(super) fn role_writes(
    t: &Topology<'_>,
    view: &RoleView<'_>,
    account: &str,
    keep: impl Fn(NodeIndex) -> bool,
) -> Vec<(NodeIndex, Vec<Capability>)> {
    let iam = t.iam();
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
        let caps = view.capabilities(target, ActionClass::CHANGES);
        if !caps.is_empty() {
            out.push((ix, caps));
        }
    }
    out
}
