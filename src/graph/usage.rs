//! Which applications use each node, and why.
//!
//! Application A uses a resource when A's rule targets it (or uses it as dead-letter queue), an
//! Allow statement in the execution role of A's function names it (`*` alone, or a pattern whose
//! resource part is only `*`, does not count), an event-source mapping feeds it to A's function,
//! A's function's environment or dead-letter config references it, its resource policy grants one
//! of A's principals (or a service acting for one of A's resources), or an explicit snapshot
//! relation from one of A's nodes says so.

use super::build::Builder;
use super::{AppId, EdgeKind, NodeKind};
use crate::arn::{glob_match, root_account};
use crate::finding::Evidence;
use crate::iam::store::PolicyStore;
use crate::iam::{Effect, Policy, Statement};
use crate::model::Snapshot;
use petgraph::graph::NodeIndex;
use std::collections::HashMap;

/// Why an application uses a node: the first evidence found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UseReason<'a> {
    /// A rule of the application delivers to it (as target or dead-letter queue).
    RuleTarget { rule: &'a str, target: &'a str },
    /// A subscriber of the application (on an EventBridge v2 bus) delivers to it (as target or
    /// failure destination), or it is the bus the subscriber reads.
    Subscriber { subscriber: &'a str, bus: &'a str },
    /// An Allow statement of a function's execution role names it.
    RolePolicy {
        function: &'a str,
        role: &'a str,
        policy: &'a str,
        statement: String,
    },
    /// An event-source mapping feeds it to a function.
    EventSourceMapping { function: &'a str, uuid: &'a str },
    /// A function's environment or dead-letter config references it.
    Reference { function: &'a str },
    /// Its resource policy grants a principal of the application.
    ResourcePolicy { principal: String, statement: String },
    /// An Allow statement of a policy of a role, user, group or resource names it, and the
    /// snapshot does not hold it (an external node; see `policy_refs`).
    PolicyNames {
        holder: &'a str,
        /// `role`, `user`, `group` or `resource`.
        holder_kind: &'static str,
        policy: &'a str,
        statement: String,
    },
    /// An explicit relation in the snapshot.
    Relation {
        from: &'a str,
        kind: EdgeKind,
        evidence: &'a str,
    },
}

impl UseReason<'_> {
    /// The evidence path from the application's node to `resource`.
    pub fn evidence(&self, resource: &str) -> Vec<Evidence> {
        let to = Some(resource.to_string());
        match self {
            UseReason::RuleTarget { rule, target } => {
                vec![Evidence::new("targets", *rule, to, format!("rule target `{target}`"))]
            }
            UseReason::Subscriber { subscriber, bus } if *bus == resource => {
                vec![Evidence::new(
                    "routes",
                    *bus,
                    Some(subscriber.to_string()),
                    "subscriber of the bus",
                )]
            }
            UseReason::Subscriber { subscriber, bus } => {
                vec![Evidence::new(
                    "targets",
                    *subscriber,
                    to,
                    format!("subscriber of `{bus}`"),
                )]
            }
            UseReason::RolePolicy {
                function,
                role,
                policy,
                statement,
            } => vec![
                Evidence::new("executes-as", *function, Some(role.to_string()), "execution role"),
                Evidence::new("uses", *role, to, format!("policy `{policy}` {statement} allows it")),
            ],
            UseReason::EventSourceMapping { function, uuid } => {
                vec![Evidence::new(
                    "invokes",
                    resource,
                    Some(function.to_string()),
                    format!("event-source mapping `{uuid}`"),
                )]
            }
            UseReason::Reference { function } => {
                vec![Evidence::new(
                    "uses",
                    *function,
                    to,
                    "referenced in the function's configuration",
                )]
            }
            UseReason::ResourcePolicy { principal, statement } => {
                vec![Evidence::new(
                    "grants",
                    resource,
                    Some(principal.clone()),
                    format!("resource policy {statement}"),
                )]
            }
            UseReason::PolicyNames {
                holder,
                holder_kind,
                policy,
                statement,
            } => {
                let of = if *holder_kind == "resource" {
                    format!("the resource policy of `{holder}`")
                } else {
                    format!("policy `{policy}` of {holder_kind} `{holder}`")
                };
                vec![Evidence::new(
                    "uses",
                    *holder,
                    to,
                    format!("named in the Allow {statement} of {of}"),
                )]
            }
            UseReason::Relation { from, kind, evidence } => {
                vec![Evidence::new(kind.as_str(), *from, to, *evidence)]
            }
        }
    }
}

type Users<'a> = Vec<Vec<(AppId, UseReason<'a>)>>;

/// A dependency of a rule or function on a node, with its evidence.
#[derive(Debug, Clone)]
pub struct Dependency<'a> {
    pub from: NodeIndex,
    pub to: NodeIndex,
    pub reason: UseReason<'a>,
}

/// Usage as derived: per node the applications using it, and every rule/function dependency.
pub(super) struct Derived<'a> {
    pub users: Users<'a>,
    pub dependencies: Vec<Dependency<'a>>,
}

impl<'a> Derived<'a> {
    fn record(&mut self, from: Option<NodeIndex>, ix: NodeIndex, app: AppId, reason: UseReason<'a>) {
        if let Some(list) = self.users.get_mut(ix.index())
            && let Err(pos) = list.binary_search_by_key(&app, |(a, _)| *a)
        {
            list.insert(pos, (app, reason.clone()));
        }
        if let Some(from) = from {
            self.dependencies.push(Dependency { from, to: ix, reason });
        }
    }
}

pub(super) fn statement_label(i: usize, s: &Statement) -> String {
    match &s.sid {
        Some(sid) if !sid.is_empty() => format!("statement `{sid}`"),
        _ => format!("statement #{i}"),
    }
}

/// Matches ARN patterns against the nodes of the graph without scanning every node per pattern.
struct ArnIndex<'a> {
    sorted: Vec<(&'a str, NodeIndex)>,
}

impl<'a> ArnIndex<'a> {
    fn new(b: &Builder<'a>) -> Self {
        let mut sorted: Vec<(&'a str, NodeIndex)> = b
            .graph
            .node_indices()
            .filter(|ix| b.graph[*ix].kind != NodeKind::Account)
            .map(|ix| (b.graph[ix].id, ix))
            .collect();
        sorted.sort_unstable();
        ArnIndex { sorted }
    }

    /// Nodes a `Resource` pattern names: by glob, or as the parent of a named sub-resource
    /// (`arn:aws:s3:::bucket/*` names the bucket). Patterns naming "everything" yield nothing.
    fn named_by(&self, pattern: &str, mut each: impl FnMut(NodeIndex)) {
        if !names_specific_resources(pattern) {
            return;
        }
        let literal = pattern.split(['*', '?']).next().unwrap_or("");
        let start = self.sorted.partition_point(|(id, _)| *id < literal);
        let mut found = false;
        for (id, ix) in self.sorted.iter().skip(start) {
            if !id.starts_with(literal) {
                break;
            }
            if glob_match(pattern, id) {
                each(*ix);
                found = true;
            }
        }
        if found {
            return;
        }
        // Objects of buckets named by a pattern (`arn:aws:s3:::exports-*/*`) name those buckets.
        if let Some(buckets) = super::policy_refs::s3_bucket_pattern(pattern).filter(|b| b.contains(['*', '?'])) {
            self.named_by(buckets, each);
            return;
        }
        // Parent resources: cut the literal prefix at each `/` or `:` inside the resource part.
        let resource_start = literal.match_indices(':').nth(4).map_or(literal.len(), |(i, _)| i + 1);
        for (i, c) in literal.char_indices().rev() {
            if i <= resource_start {
                break;
            }
            if (c == '/' || c == ':')
                && let Some(parent) = literal.get(..i)
                && let Ok(pos) = self.sorted.binary_search_by(|(id, _)| (*id).cmp(parent))
                && let Some((_, ix)) = self.sorted.get(pos)
            {
                each(*ix);
                return;
            }
        }
    }
}

/// False for `*`, for strings that are not ARN patterns, and for ARN patterns whose resource part
/// is only wildcards. The other parts may be wildcards (`arn:aws:sqs:*:111111111111:orders`).
fn names_specific_resources(pattern: &str) -> bool {
    let mut parts = pattern.splitn(6, ':');
    parts.next() == Some("arn")
        && parts
            .nth(4)
            .is_some_and(|r| !r.is_empty() && !r.chars().all(|c| c == '*' || c == '?'))
}

pub(super) fn derive<'a>(
    s: &'a Snapshot,
    b: &Builder<'a>,
    owner: &[Option<AppId>],
    store: &PolicyStore<'a>,
) -> Derived<'a> {
    let mut d = Derived {
        users: vec![Vec::new(); b.graph.node_count()],
        dependencies: Vec::new(),
    };
    let owner_of = |id: &str| b.index.get(id).and_then(|ix| owner.get(ix.index()).copied().flatten());
    let arns = ArnIndex::new(b);

    for r in &s.rules {
        let (Some(app), Some(&rule)) = (owner_of(&r.arn), b.index.get(r.arn.as_str())) else {
            continue;
        };
        for t in &r.targets {
            for used in std::iter::once(t.arn.as_str()).chain(t.dead_letter_queue.as_deref()) {
                if let Some(&ix) = b.index.get(used) {
                    d.record(
                        Some(rule),
                        ix,
                        app,
                        UseReason::RuleTarget {
                            rule: &r.arn,
                            target: &t.id,
                        },
                    );
                }
            }
        }
    }

    for bus in &s.event_buses_v2 {
        let bus_ix = b.index.get(bus.arn.as_str()).copied();
        for sub in &bus.subscribers {
            let (Some(app), Some(&node)) = (owner_of(&sub.arn), b.index.get(sub.arn.as_str())) else {
                continue;
            };
            let reason = UseReason::Subscriber {
                subscriber: &sub.arn,
                bus: &bus.arn,
            };
            for used in std::iter::once(sub.target.as_str()).chain(sub.failure_destination.as_deref()) {
                if let Some(&ix) = b.index.get(used) {
                    d.record(Some(node), ix, app, reason.clone());
                }
            }
            if let Some(ix) = bus_ix {
                d.record(None, ix, app, reason);
            }
        }
    }

    let names: HashMap<&str, &str> = s
        .managed_policies
        .iter()
        .map(|p| (p.arn.as_str(), p.name.as_str()))
        .collect();
    for f in &s.functions {
        let (Some(app), Some(&func)) = (owner_of(&f.arn), b.index.get(f.arn.as_str())) else {
            continue;
        };
        for reference in f.environment_references.iter().chain(f.dead_letter_target.iter()) {
            if let Some(&ix) = b.index.get(reference.as_str()) {
                d.record(Some(func), ix, app, UseReason::Reference { function: &f.arn });
            }
        }
        let Some(role) = store.roles.get(f.role.as_str()) else {
            continue;
        };
        let inline = role
            .role
            .inline_policies
            .iter()
            .map(|p| p.name.as_str())
            .zip(role.inline.iter().map(|n| &n.policy));
        let attached = role.role.attached_policies.iter().filter_map(|arn| {
            store
                .managed(arn)
                .map(|m| (names.get(arn.as_str()).copied().unwrap_or(arn.as_str()), &m.policy))
        });
        for (name, policy) in inline.chain(attached) {
            for (i, st) in policy.statements.iter().enumerate() {
                if st.effect != Effect::Allow {
                    continue;
                }
                for pattern in st.resources() {
                    arns.named_by(pattern, |ix| {
                        let reason = UseReason::RolePolicy {
                            function: &f.arn,
                            role: &role.role.arn,
                            policy: name,
                            statement: statement_label(i, st),
                        };
                        d.record(Some(func), ix, app, reason)
                    });
                }
            }
        }
    }

    for m in &s.event_source_mappings {
        let (Some(app), Some(&ix), Some(&func)) = (
            owner_of(&m.function),
            b.index.get(m.source.as_str()),
            b.index.get(m.function.as_str()),
        ) else {
            continue;
        };
        d.record(
            Some(func),
            ix,
            app,
            UseReason::EventSourceMapping {
                function: &m.function,
                uuid: &m.uuid,
            },
        );
    }

    // Resource policies, from the store (parsed once), in ARN order for deterministic evidence.
    let mut with_policy: Vec<(&str, &Policy)> = store.resource_policies().map(|(arn, n)| (arn, &*n.policy)).collect();
    with_policy.sort_unstable_by_key(|(arn, _)| *arn);
    for (arn, policy) in with_policy {
        let Some(&ix) = b.index.get(arn) else {
            continue;
        };
        for (i, st) in policy.statements.iter().enumerate() {
            if st.effect != Effect::Allow {
                continue;
            }
            for (principal, app) in granted_applications(st, b, owner, &arns) {
                d.record(
                    None,
                    ix,
                    app,
                    UseReason::ResourcePolicy {
                        principal,
                        statement: statement_label(i, st),
                    },
                );
            }
        }
    }

    for r in &s.relations {
        if !matches!(
            r.kind,
            EdgeKind::Uses | EdgeKind::Targets | EdgeKind::Invokes | EdgeKind::Grants
        ) {
            continue;
        }
        let (Some(app), Some(&from), Some(&ix)) = (
            owner_of(&r.from),
            b.index.get(r.from.as_str()),
            b.index.get(r.to.as_str()),
        ) else {
            continue;
        };
        d.record(
            Some(from),
            ix,
            app,
            UseReason::Relation {
                from: &r.from,
                kind: r.kind,
                evidence: &r.evidence,
            },
        );
    }
    d
}

/// Applications a resource-policy statement grants: through AWS principals (roles, account
/// roots, account ids) and through `aws:SourceArn` / `aws:PrincipalArn` / `aws:SourceAccount` /
/// `aws:PrincipalAccount` conditions (a service acting for one of the application's resources).
fn granted_applications(
    st: &Statement,
    b: &Builder<'_>,
    owner: &[Option<AppId>],
    arns: &ArnIndex<'_>,
) -> Vec<(String, AppId)> {
    let mut out: Vec<(String, AppId)> = Vec::new();
    let owner_ix = |ix: NodeIndex| owner.get(ix.index()).copied().flatten();
    let by_id = |id: &str, out: &mut Vec<(String, AppId)>| {
        let account = root_account(id).unwrap_or(id);
        let ix = b.index.get(id).or_else(|| b.index.get(account)).copied();
        if let Some(app) = ix.and_then(owner_ix) {
            out.push((id.to_string(), app));
        }
    };
    if let Some(p) = &st.principal
        && !p.is_negated()
    {
        for v in p.inner().values("AWS") {
            if v != "*" {
                by_id(v, &mut out);
            }
        }
    }
    for c in &st.conditions {
        let key = c.key.to_ascii_lowercase();
        match key.as_str() {
            "aws:sourcearn" | "aws:principalarn" => {
                for v in &c.values {
                    arns.named_by(v, |ix| {
                        if let Some(app) = owner_ix(ix) {
                            out.push((b.graph[ix].id.to_string(), app));
                        }
                    });
                }
            }
            "aws:sourceaccount" | "aws:principalaccount" => {
                for v in &c.values {
                    by_id(v, &mut out);
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup_by_key(|(_, app)| *app);
    out
}

#[cfg(test)]
mod tests;
