//! Builds the graph from a snapshot: one node per account and resource, typed edges for the
//! relations the snapshot states, then ownership and usage.

use super::{AppId, EdgeKind, Node, NodeKind, Topology, usage};
use crate::arn::{Arn, owning_resource};
use crate::config::Config;
use crate::model::{Snapshot, Tags};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeMap, HashMap};

pub(super) struct Builder<'a> {
    pub graph: DiGraph<Node<'a>, EdgeKind>,
    pub index: HashMap<&'a str, NodeIndex>,
    /// S3 bucket name → owning account ([`Snapshot::bucket_owners`]).
    pub bucket_owners: &'a BTreeMap<String, String>,
}

impl<'a> Builder<'a> {
    pub(super) fn add(
        &mut self,
        id: &'a str,
        kind: NodeKind,
        account: Option<&'a str>,
        region: Option<&'a str>,
        tags: Option<&'a Tags>,
    ) -> NodeIndex {
        let ix = self.graph.add_node(Node {
            id,
            kind,
            account,
            region,
            tags,
        });
        self.index.insert(id, ix);
        if let Some(acc) = account
            && let Some(&acc_ix) = self.index.get(acc)
            && kind != NodeKind::Account
        {
            self.graph.add_edge(acc_ix, ix, EdgeKind::Contains);
        }
        ix
    }

    /// The node for an ARN, adding an external node when the snapshot does not hold it.
    /// A sub-resource (an S3 object `bucket/key`, a DynamoDB index or stream) resolves to its
    /// owning resource (an external node for the owner when that is not in the snapshot, so
    /// every object of one bucket is one node), and the ARN becomes an alias of it. An unseen
    /// bucket is placed in the account [`Snapshot::bucket_owners`] names.
    /// Returns `None` for strings that are not ARNs (URLs that matched nothing, say).
    pub fn resolve(&mut self, id: &'a str) -> Option<NodeIndex> {
        if let Some(&ix) = self.index.get(id) {
            return Some(ix);
        }
        let owner = owning_resource(id).and_then(|base| match self.index.get(base) {
            Some(&ix) => Some(ix),
            None => self.external(base),
        });
        if let Some(ix) = owner {
            self.index.insert(id, ix);
            return Some(ix);
        }
        self.external(id)
    }

    fn external(&mut self, id: &'a str) -> Option<NodeIndex> {
        let arn = Arn::parse(id).ok()?;
        let account = arn.account().or_else(|| {
            (arn.service == "s3" && !arn.resource.contains('/'))
                .then(|| self.bucket_owners.get(arn.resource).map(String::as_str))
                .flatten()
        });
        Some(self.add(id, NodeKind::External, account, arn.region(), None))
    }

    pub fn edge(&mut self, from: NodeIndex, to: NodeIndex, kind: EdgeKind) {
        self.graph.update_edge(from, to, kind);
    }
}

pub(super) fn build<'a>(s: &'a Snapshot, config: &'a Config) -> Topology<'a> {
    let mut b = Builder {
        graph: DiGraph::new(),
        index: HashMap::new(),
        bucket_owners: &s.bucket_owners,
    };
    for a in &s.organization.accounts {
        b.add(&a.id, NodeKind::Account, Some(&a.id), None, Some(&a.tags));
    }
    for r in &s.roles {
        b.add(&r.arn, NodeKind::Role, Some(&r.account), None, Some(&r.tags));
    }
    for u in &s.users {
        b.add(&u.arn, NodeKind::User, Some(&u.account), None, Some(&u.tags));
    }
    for g in &s.groups {
        b.add(&g.arn, NodeKind::Group, Some(&g.account), None, None);
    }
    for bus in &s.event_buses {
        b.add(
            &bus.arn,
            NodeKind::EventBus,
            Some(&bus.account),
            Some(&bus.region),
            Some(&bus.tags),
        );
    }
    for r in &s.rules {
        b.add(&r.arn, NodeKind::Rule, Some(&r.account), Some(&r.region), Some(&r.tags));
    }
    // EventBridge v2: buses are buses; subscribers (in the bus's region, possibly created by
    // another account) are the rules-and-targets of v2.
    for bus in &s.event_buses_v2 {
        b.add(
            &bus.arn,
            NodeKind::EventBus,
            Some(&bus.account),
            Some(&bus.region),
            Some(&bus.tags),
        );
        for sub in &bus.subscribers {
            b.add(
                &sub.arn,
                NodeKind::Subscriber,
                Some(&sub.account),
                Some(&bus.region),
                Some(&sub.tags),
            );
        }
    }
    for f in &s.functions {
        b.add(
            &f.arn,
            NodeKind::Function,
            Some(&f.account),
            Some(&f.region),
            Some(&f.tags),
        );
    }
    for r in &s.resources {
        let ix = b.add(
            &r.arn,
            NodeKind::Resource(r.kind),
            Some(&r.account),
            r.region.as_deref(),
            Some(&r.tags),
        );
        for alias in &r.aliases {
            b.index.entry(alias.as_str()).or_insert(ix);
        }
    }
    for sp in &s.agent_spaces {
        b.add(
            &sp.arn,
            NodeKind::AgentSpace,
            Some(&sp.account),
            Some(&sp.region),
            Some(&sp.tags),
        );
    }

    // Structural edges.
    for r in &s.rules {
        let (Some(rule), Some(bus)) = (
            b.index.get(r.arn.as_str()).copied(),
            b.index.get(r.bus.as_str()).copied(),
        ) else {
            continue;
        };
        b.edge(bus, rule, EdgeKind::Routes);
        for t in &r.targets {
            if let Some(target) = b.resolve(&t.arn) {
                b.edge(rule, target, EdgeKind::Targets);
            }
            if let Some(dlq) = t.dead_letter_queue.as_deref().and_then(|d| b.resolve(d)) {
                b.edge(rule, dlq, EdgeKind::Targets);
            }
            if let Some(role) = t.role.as_deref().and_then(|d| b.resolve(d)) {
                b.edge(rule, role, EdgeKind::ExecutesAs);
            }
        }
    }
    v2_edges(&mut b, s);
    for f in &s.functions {
        let Some(func) = b.index.get(f.arn.as_str()).copied() else {
            continue;
        };
        if let Some(role) = b.resolve(&f.role) {
            b.edge(func, role, EdgeKind::ExecutesAs);
        }
        for r in f.environment_references.iter().chain(f.dead_letter_target.iter()) {
            if let Some(used) = b.resolve(r) {
                b.edge(func, used, EdgeKind::Uses);
            }
        }
    }
    for m in &s.event_source_mappings {
        if let (Some(src), Some(func)) = (b.resolve(&m.source), b.index.get(m.function.as_str()).copied()) {
            b.edge(src, func, EdgeKind::Invokes);
        }
    }
    for sp in &s.agent_spaces {
        let Some(space) = b.index.get(sp.arn.as_str()).copied() else {
            continue;
        };
        for assoc in &sp.associations {
            if let Some(role) = b.resolve(&assoc.role) {
                b.edge(space, role, EdgeKind::CanAssume);
            }
            if let Some(role) = assoc.elevated_role.as_deref().and_then(|r| b.resolve(r)) {
                b.edge(space, role, EdgeKind::CanAssume);
            }
        }
    }
    for r in &s.relations {
        if let (Some(from), Some(to)) = (
            b.index.get(r.from.as_str()).copied(),
            b.index.get(r.to.as_str()).copied(),
        ) {
            b.edge(from, to, r.kind);
        }
    }

    // Resources named only by an Allow statement of a policy (external nodes; see the module).
    let refs = super::policy_refs::add(&mut b, s);

    let applications: Vec<&'a str> = config.application_names().collect();
    let owner = ownership(&b, config, &applications);
    let policies = crate::iam::store::PolicyStore::new(s);
    let mut derived = usage::derive(s, &b, &owner, &policies);
    derived.dependencies.extend(refs.dependencies);
    derived.dependencies.sort_by_key(|d| d.from);
    let mut by_account: HashMap<&'a str, Vec<NodeIndex>> = HashMap::new();
    for ix in b.graph.node_indices() {
        let node = &b.graph[ix];
        if let (Some(acc), false) = (node.account, node.kind == NodeKind::Account) {
            by_account.entry(acc).or_default().push(ix);
        }
    }
    Topology {
        policies,
        reach: std::sync::OnceLock::new(),
        footprints: std::sync::OnceLock::new(),
        incident_roles: std::sync::OnceLock::new(),
        by_account,
        snapshot: s,
        config,
        graph: b.graph,
        index: b.index,
        applications,
        owner,
        users: derived.users,
        dependencies: derived.dependencies,
        unseen: refs.unseen,
    }
}

fn ownership(b: &Builder<'_>, config: &Config, applications: &[&str]) -> Vec<Option<AppId>> {
    let tag_key = config.attribution.tag_key.as_str();
    let by_account: HashMap<&str, AppId> = config
        .applications
        .iter()
        .filter_map(|(name, app)| {
            applications
                .binary_search(&name.get_ref().as_str())
                .ok()
                .map(|id| (id, app))
        })
        .flat_map(|(id, app)| app.accounts.iter().map(move |a| (a.get_ref().as_str(), id)))
        .collect();
    b.graph
        .node_indices()
        .map(|ix| {
            let node = &b.graph[ix];
            match node.tags.and_then(|t| t.get(tag_key)) {
                Some(tag) => applications.binary_search(&tag.as_str()).ok(),
                None => node.account.and_then(|a| by_account.get(a).copied()),
            }
        })
        .collect()
}

/// The edges of EventBridge v2 buses: bus → subscriber (routes), subscriber → target and failure
/// destination (targets), subscriber → role (executes-as).
fn v2_edges<'a>(b: &mut Builder<'a>, s: &'a Snapshot) {
    for bus in &s.event_buses_v2 {
        let Some(bus_ix) = b.index.get(bus.arn.as_str()).copied() else {
            continue;
        };
        for sub in &bus.subscribers {
            let Some(sub_ix) = b.index.get(sub.arn.as_str()).copied() else {
                continue;
            };
            b.edge(bus_ix, sub_ix, EdgeKind::Routes);
            for t in std::iter::once(sub.target.as_str()).chain(sub.failure_destination.as_deref()) {
                if let Some(target) = b.resolve(t) {
                    b.edge(sub_ix, target, EdgeKind::Targets);
                }
            }
            if let Some(role) = sub.role.as_deref().and_then(|r| b.resolve(r)) {
                b.edge(sub_ix, role, EdgeKind::ExecutesAs);
            }
        }
    }
}

#[cfg(test)]
mod principal_tests {
    use crate::checks::known_ids;
    use crate::config::parse_config;
    use crate::graph::{NodeKind, Topology};
    use crate::model::parse_snapshot;
    use serde_json::json;
    use std::path::Path;

    /// IAM users and groups are nodes of their account, like roles.
    #[test]
    fn users_and_groups_are_nodes() {
        let s = json!({
            "schema_version": 1,
            "organization": {"accounts": [{"id": "111111111111", "name": "a"}]},
            "users": [{"arn": "arn:aws:iam::111111111111:user/deployer", "account": "111111111111",
                       "name": "deployer", "groups": ["ops"]}],
            "groups": [{"arn": "arn:aws:iam::111111111111:group/ops", "account": "111111111111", "name": "ops"}]
        });
        let snapshot = parse_snapshot(&s.to_string(), Path::new("t.json")).unwrap();
        let config = parse_config("", Path::new("t.toml"), &known_ids()).unwrap();
        let t = Topology::build(&snapshot, &config);
        let user = t.find("arn:aws:iam::111111111111:user/deployer").unwrap();
        assert_eq!(t.node(user).kind, NodeKind::User);
        assert_eq!(t.node(user).account, Some("111111111111"));
        let group = t.find("arn:aws:iam::111111111111:group/ops").unwrap();
        assert_eq!(t.node(group).kind.as_str(), "iam-group");
        // Near miss: a role ARN of the same name is not a node.
        assert!(t.find("arn:aws:iam::111111111111:role/deployer").is_none());
    }

    /// An EventBridge v2 bus is a bus; each subscriber is a node of its own account in the bus's
    /// region, with the edges a rule has (routes, targets, executes-as).
    #[test]
    fn v2_buses_and_subscribers_get_the_edges_of_rules() {
        use crate::graph::EdgeKind;
        let bus = "arn:aws:events:eu-west-1:111111111111:event-busv2/orders/b-1";
        let sub = "arn:aws:events:eu-west-1:111111111111:subscriber/orders/s-1";
        let s = json!({
            "schema_version": 1,
            "organization": {"accounts": [{"id": "111111111111", "name": "a"}, {"id": "222222222222", "name": "b"}]},
            "event_buses_v2": [{"arn": bus, "account": "111111111111", "region": "eu-west-1", "name": "orders",
                "subscribers": [{"arn": sub, "name": "s-1", "account": "222222222222",
                    "target": "arn:aws:sqs:eu-west-1:222222222222:in", "role": "arn:aws:iam::222222222222:role/deliver",
                    "failure_destination": "arn:aws:sqs:eu-west-1:222222222222:dlq"}]}]
        });
        let snapshot = parse_snapshot(&s.to_string(), Path::new("t.json")).unwrap();
        let config = parse_config("", Path::new("t.toml"), &known_ids()).unwrap();
        let t = Topology::build(&snapshot, &config);
        let (b, n) = (t.find(bus).unwrap(), t.find(sub).unwrap());
        assert_eq!(t.node(b).kind, NodeKind::EventBus);
        assert_eq!(t.node(n).kind.as_str(), "eventbridge-subscriber");
        assert_eq!(
            (t.node(n).account, t.node(n).region),
            (Some("222222222222"), Some("eu-west-1"))
        );
        let edges: Vec<(String, EdgeKind)> = t
            .graph
            .edges(n)
            .map(|e| (t.node(petgraph::visit::EdgeRef::target(&e)).id.to_string(), *e.weight()))
            .collect();
        assert_eq!(edges.len(), 3, "{edges:?}");
        assert!(edges.contains(&(
            "arn:aws:iam::222222222222:role/deliver".to_string(),
            EdgeKind::ExecutesAs
        )));
        assert!(edges.contains(&("arn:aws:sqs:eu-west-1:222222222222:dlq".to_string(), EdgeKind::Targets)));
        assert!(t.graph.edges(b).any(|e| *e.weight() == EdgeKind::Routes));
    }

    /// A v2 bus ARN must be an `event-busv2/…` ARN.
    #[test]
    fn a_classic_bus_arn_in_event_buses_v2_is_rejected() {
        let s = json!({
            "schema_version": 1,
            "organization": {"accounts": [{"id": "111111111111", "name": "a"}]},
            "event_buses_v2": [{"arn": "arn:aws:events:eu-west-1:111111111111:event-bus/orders", "account": "111111111111",
                "region": "eu-west-1", "name": "orders"}]
        });
        let e = parse_snapshot(&s.to_string(), Path::new("t.json"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("event_buses_v2[0].arn") && e.contains("event-busv2/NAME/ID"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod subresource_tests {
    use crate::arn::owning_resource;
    use crate::checks::known_ids;
    use crate::config::parse_config;
    use crate::graph::{NodeKind, Topology};
    use crate::model::parse_snapshot;
    use serde_json::json;
    use std::path::Path;

    // S3 object ARNs: https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-arn-format.html;
    // DynamoDB index and stream ARNs sit under the table's:
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html#amazondynamodb-resources-for-iam-policies
    #[test]
    fn sub_resources_name_their_owner() {
        let table = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders";
        assert_eq!(owning_resource("arn:aws:s3:::b/k/x.json"), Some("arn:aws:s3:::b"));
        assert_eq!(owning_resource("arn:aws:s3:::b/*"), Some("arn:aws:s3:::b"));
        assert_eq!(owning_resource(&format!("{table}/index/by-date")), Some(table));
        assert_eq!(
            owning_resource(&format!("{table}/stream/2025-01-01T00:00:00.000")),
            Some(table)
        );
        // Near misses: the resource itself, an access point (it has an account), another service.
        assert_eq!(owning_resource("arn:aws:s3:::b"), None);
        assert_eq!(owning_resource(table), None);
        assert_eq!(owning_resource(&format!("{table}/backup/x")), None);
        assert_eq!(
            owning_resource("arn:aws:s3:eu-west-1:111111111111:accesspoint/ap/object/k"),
            None
        );
        assert_eq!(owning_resource("arn:aws:sqs:eu-west-1:111111111111:q/x"), None);
    }

    #[test]
    fn references_to_sub_resources_land_on_the_owner_and_unseen_buckets_in_their_account() {
        let table = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders";
        let s = json!({
            "schema_version": 1,
            "organization": {"accounts": [{"id": "111111111111", "name": "a"}, {"id": "999999999999", "name": "s"}]},
            "roles": [{"arn": "arn:aws:iam::111111111111:role/r", "account": "111111111111", "name": "r",
                       "trust_policy": {"Statement": []}}],
            "functions": [{"arn": "arn:aws:lambda:eu-west-1:111111111111:function:f", "account": "111111111111",
                           "region": "eu-west-1", "name": "f", "role": "arn:aws:iam::111111111111:role/r",
                           "environment_references": ["arn:aws:s3:::data/a/*", "arn:aws:s3:::data/b/*", "arn:aws:s3:::outside/x"]}],
            "event_source_mappings": [{"uuid": "u", "function": "arn:aws:lambda:eu-west-1:111111111111:function:f",
                                       "source": format!("{table}/stream/2025-01-01T00:00:00.000")}],
            "resources": [{"arn": table, "kind": "dynamodb-table", "account": "111111111111", "region": "eu-west-1",
                           "tags": {"app": "invoice"}}],
            "bucket_owners": {"data": "999999999999"}
        });
        let snapshot = parse_snapshot(&s.to_string(), Path::new("t.json")).unwrap();
        let config = parse_config("", Path::new("t.toml"), &known_ids()).unwrap();
        let t = Topology::build(&snapshot, &config);
        let stream = format!("{table}/stream/2025-01-01T00:00:00.000");
        assert_eq!(t.find(&stream), t.find(table));
        let a = t.find("arn:aws:s3:::data/a/*").unwrap();
        assert_eq!(Some(a), t.find("arn:aws:s3:::data/b/*"));
        assert_eq!(Some(a), t.find("arn:aws:s3:::data"));
        assert_eq!(t.node(a).kind, NodeKind::External);
        assert_eq!(t.node(a).account, Some("999999999999"));
        // A bucket no crawled account owns stays without an account.
        let outside = t.find("arn:aws:s3:::outside").unwrap();
        assert_eq!(t.node(outside).account, None);
    }

    #[test]
    fn a_bucket_owner_must_be_an_account_of_the_organization() {
        let s = json!({
            "schema_version": 1,
            "organization": {"accounts": [{"id": "111111111111", "name": "a"}]},
            "bucket_owners": {"data": "222222222222", "a/b": "111111111111"}
        });
        let e = parse_snapshot(&s.to_string(), Path::new("t.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bucket_owners.data"), "{e}");
        assert!(
            e.contains("owner `222222222222` is not an account of the organization"),
            "{e}"
        );
        assert!(e.contains("`a/b` is not an S3 bucket name"), "{e}");
    }
}
