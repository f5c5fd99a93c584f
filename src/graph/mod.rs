//! The topology: a petgraph graph built once from a snapshot, with an ARN → node index and the
//! derived facts every analysis shares — which application owns each node, which applications
//! use it (and the evidence for each use), and whether it is shared.

mod build;
pub mod dbexport;
pub mod export;
mod facts;
mod incident;
mod policy_refs;
mod spaces;
mod usage;

pub use incident::{AGENT_SERVICE, IncidentRole};
pub use spaces::SpaceView;
pub use usage::{Dependency, UseReason};

use crate::config::Config;
use crate::model::{ResourceKind, Snapshot, Tags};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeSet, HashMap};

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeKind {
    Account,
    Role,
    /// An IAM user (a principal like a role; its groups' policies apply to it).
    User,
    /// An IAM group (not a principal: its policies apply to its member users).
    Group,
    EventBus,
    Rule,
    /// A subscriber of an EventBridge v2 bus (the v2 counterpart of a rule and its target).
    Subscriber,
    Function,
    Resource(ResourceKind),
    AgentSpace,
    /// Referenced by ARN but not in the snapshot (another organization, or not crawled).
    External,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Account => "account",
            NodeKind::Role => "iam-role",
            NodeKind::User => "iam-user",
            NodeKind::Group => "iam-group",
            NodeKind::EventBus => "eventbridge-bus",
            NodeKind::Rule => "eventbridge-rule",
            NodeKind::Subscriber => "eventbridge-subscriber",
            NodeKind::Function => "lambda-function",
            NodeKind::AgentSpace => "agent-space",
            NodeKind::External => "external",
            NodeKind::Resource(k) => match k {
                ResourceKind::SqsQueue => "sqs-queue",
                ResourceKind::SnsTopic => "sns-topic",
                ResourceKind::DynamodbTable => "dynamodb-table",
                ResourceKind::S3Bucket => "s3-bucket",
                ResourceKind::KmsKey => "kms-key",
                ResourceKind::SecretsmanagerSecret => "secretsmanager-secret",
                ResourceKind::LogsLogGroup => "logs-log-group",
                ResourceKind::KinesisStream => "kinesis-stream",
                ResourceKind::SsmParameter => "ssm-parameter",
                ResourceKind::Other => "other",
            },
        }
    }
}

/// A node: an account (id = account id) or a resource or principal (id = ARN).
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub id: &'a str,
    pub kind: NodeKind,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub tags: Option<&'a Tags>,
}

pub use crate::model::RelationKind as EdgeKind;

/// Application id: index into [`Topology::applications`].
pub type AppId = usize;

/// The topology graph and its derived facts.
pub struct Topology<'a> {
    pub snapshot: &'a Snapshot,
    pub config: &'a Config,
    pub graph: DiGraph<Node<'a>, EdgeKind>,
    index: HashMap<&'a str, NodeIndex>,
    /// Configured application names, sorted; an [`AppId`] indexes this.
    pub applications: Vec<&'a str>,
    /// Owning application per node (by tag, then by account list).
    owner: Vec<Option<AppId>>,
    /// Applications using each node, with the first evidence found for each.
    users: Vec<Vec<(AppId, UseReason<'a>)>>,
    /// Every dependency of a rule or function, sorted by source node.
    dependencies: Vec<Dependency<'a>>,
    /// Non-account nodes per account id.
    by_account: HashMap<&'a str, Vec<NodeIndex>>,
    /// Every policy of the snapshot, parsed once during the build.
    pub policies: crate::iam::store::PolicyStore<'a>,
    /// Role reachability, computed on first use.
    reach: std::sync::OnceLock<crate::iam::reach::Reach>,
    /// Accounts each application reaches, computed on first use in one pass.
    footprints: std::sync::OnceLock<Vec<BTreeSet<&'a str>>>,
    /// Roles an Agent Space or a responder can reach, computed on first use (two checks read it).
    incident_roles: std::sync::OnceLock<Vec<IncidentRole>>,
    /// Wildcard `Resource` patterns standing for resources the snapshot may lack, with why.
    unseen: policy_refs::Unseen,
}

/// Why a resource is shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedBecause {
    /// Two or more applications use it.
    SeveralUsers,
    /// It lives in a shared-dependency account and an application uses it.
    SharedAccount,
    /// One application uses it, and another application owns it.
    UsedByNonOwner { owner: AppId },
}

/// The IAM facts of the snapshot: every policy parsed once, and who can assume which role.
pub struct IamView<'t, 'a> {
    pub store: &'t crate::iam::store::PolicyStore<'a>,
    pub reach: &'t crate::iam::reach::Reach,
}

impl<'a> Topology<'a> {
    /// Builds the graph and derives ownership and usage.
    pub fn build(snapshot: &'a Snapshot, config: &'a Config) -> Self {
        build::build(snapshot, config)
    }

    pub fn node(&self, ix: NodeIndex) -> &Node<'a> {
        &self.graph[ix]
    }

    /// The node for an ARN or account id.
    pub fn find(&self, id: &str) -> Option<NodeIndex> {
        self.index.get(id).copied()
    }

    pub fn nodes(&self) -> impl Iterator<Item = (NodeIndex, &Node<'a>)> {
        self.graph.node_indices().map(move |ix| (ix, &self.graph[ix]))
    }

    pub fn app_name(&self, app: AppId) -> &'a str {
        self.applications.get(app).copied().unwrap_or("?")
    }

    pub fn app_id(&self, name: &str) -> Option<AppId> {
        self.applications.binary_search(&name).ok()
    }

    /// The application that owns a node.
    pub fn owner(&self, ix: NodeIndex) -> Option<AppId> {
        self.owner.get(ix.index()).copied().flatten()
    }

    /// The value of the attribution tag, whether or not it names a configured application.
    pub fn owner_tag(&self, ix: NodeIndex) -> Option<&'a str> {
        let key = self.config.attribution.tag_key.as_str();
        self.graph[ix].tags.and_then(|t| t.get(key)).map(String::as_str)
    }

    /// The applications using a node, each with the evidence of one use, sorted by application.
    pub fn users(&self, ix: NodeIndex) -> &[(AppId, UseReason<'a>)] {
        self.users.get(ix.index()).map_or(&[], Vec::as_slice)
    }

    /// The resource and principal nodes in an account (external ones included).
    pub fn nodes_in_account(&self, account: &str) -> &[NodeIndex] {
        self.by_account.get(account).map_or(&[], Vec::as_slice)
    }

    /// What a rule or function depends on (targets, resources its role names, references,
    /// event sources), with evidence.
    pub fn dependencies_of(&self, ix: NodeIndex) -> &[Dependency<'a>] {
        let start = self.dependencies.partition_point(|d| d.from < ix);
        let end = self.dependencies.partition_point(|d| d.from <= ix);
        self.dependencies.get(start..end).unwrap_or(&[])
    }

    /// Used by two or more applications, by an application other than its owner, or by any
    /// application from a shared-dependency account.
    pub fn is_shared(&self, ix: NodeIndex) -> bool {
        self.shared_because(ix).is_some()
    }

    /// Why a node is shared (see [`Topology::is_shared`]), `None` when it is not.
    pub fn shared_because(&self, ix: NodeIndex) -> Option<SharedBecause> {
        let users = self.users(ix);
        if users.len() >= 2 {
            return Some(SharedBecause::SeveralUsers);
        }
        let (user, _) = users.first()?;
        if self.graph[ix].account.is_some_and(|a| self.config.is_shared_account(a)) {
            return Some(SharedBecause::SharedAccount);
        }
        match self.owner(ix) {
            Some(owner) if owner != *user => Some(SharedBecause::UsedByNonOwner { owner }),
            _ => None,
        }
    }

    /// Nodes owned by an application.
    pub fn owned_by(&self, app: AppId) -> impl Iterator<Item = NodeIndex> + '_ {
        self.graph
            .node_indices()
            .filter(move |ix| self.owner(*ix) == Some(app) && self.graph[*ix].kind != NodeKind::Account)
    }

    /// Accounts an application reaches: those of its own resources and of every resource it uses.
    pub fn footprint_accounts(&self, app: AppId) -> BTreeSet<&'a str> {
        self.footprints().get(app).cloned().unwrap_or_default()
    }

    /// Every application's footprint accounts, indexed by [`AppId`].
    pub fn footprints(&self) -> &[BTreeSet<&'a str>] {
        self.footprints.get_or_init(|| {
            let mut out = vec![BTreeSet::new(); self.applications.len()];
            for ix in self.graph.node_indices() {
                let node = &self.graph[ix];
                let Some(acc) = node.account.filter(|_| node.kind != NodeKind::Account) else {
                    continue;
                };
                for app in self.owner(ix).into_iter().chain(self.users(ix).iter().map(|(a, _)| *a)) {
                    if let Some(set) = out.get_mut(app) {
                        set.insert(acc);
                    }
                }
            }
            out
        })
    }

    /// Parsed policies and role reachability (computed on first call, then shared).
    pub fn iam(&self) -> IamView<'_, 'a> {
        let reach = self
            .reach
            .get_or_init(|| crate::iam::reach::Reach::compute(self.snapshot, &self.policies));
        IamView {
            store: &self.policies,
            reach,
        }
    }

    /// For the external node of a wildcard `Resource` pattern (a policy names resources the
    /// snapshot may not hold all of): what could not be seen. `None` for every other node.
    pub fn unseen_because(&self, ix: NodeIndex) -> Option<&str> {
        self.unseen.get(&ix).map(String::as_str)
    }

    /// The residency zone of a node's region, if the node has a region in some zone.
    pub fn zone_of(&self, ix: NodeIndex) -> Option<&'a str> {
        self.graph[ix].region.and_then(|r| self.config.zone_of_region(r))
    }
}
