//! Resources named only by the `Resource` of an Allow statement of an IAM policy.
//!
//! A queue, bucket, table, key, secret, log group, bus … that an identity policy (of a role, a
//! user or a group) or a resource policy names, but that the snapshot does not hold, would have
//! no node, and so no check would ever look at it. Here every such name gets one:
//!
//! - a **concrete** name (no `*` or `?` in the resource it names) becomes an external node of
//!   the resource itself: sub-resources count as their owner ([`crate::arn::owning_resource`]:
//!   an S3 object's bucket, a DynamoDB index's or stream's table, as the crawl resolves them)
//!   and a log group's streams (`log-group:NAME:*`) as the log group. An unseen bucket is placed
//!   in the account [`crate::model::Snapshot::bucket_owners`] names;
//! - a **wildcard** name is matched against what the snapshot knows. Where the snapshot's
//!   knowledge of that place is complete — S3 bucket names from a gap-free `ListBuckets` of every
//!   crawled account, buses and rules and functions from a gap-free listing of a crawled account
//!   and region — the buckets it matches get nodes and nothing else is needed. Otherwise the
//!   pattern itself becomes an external node standing for the unseen resources it may name, with
//!   the reason the place is not fully read ([`Unseen`]), so the checks say "not proven".
//!
//! Each new node gets a dependency from the policy's holder whose evidence says "named in the
//! Allow statement S of policy P of role R". Names the snapshot already holds gain nothing here
//! (their use is derived in [`super::usage`]); identical names share one node. IAM, STS and
//! Organizations ARNs (principals, policies, the organization) are left out: they are not
//! resources a check judges, and an IAM principal of a crawled account that the snapshot lacks
//! does not exist or is hidden by an IAM gap the IAM checks already report. A pattern whose
//! account is a literal account outside the organization names nothing of the organization, so
//! it gets no node either. Deny statements and `NotResource` name nothing.

use super::NodeKind;
use super::build::Builder;
use super::usage::{Dependency, UseReason, statement_label};
use crate::arn::{glob_match, owning_resource};
use crate::iam::{Effect, Policy};
use crate::model::{InlinePolicy, PolicyDocument, Snapshot};
use petgraph::graph::NodeIndex;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Listed buckets named in a reason, at most.
const SHOWN: usize = 5;

/// What the snapshot cannot show about a pattern node: why its matches may be missing.
pub type Unseen = HashMap<NodeIndex, String>;

/// What this pass added: the holders' dependencies on the new nodes, and the pattern nodes.
pub(super) struct PolicyRefs<'a> {
    pub dependencies: Vec<Dependency<'a>>,
    pub unseen: Unseen,
}

/// One policy of a holder: its name and parsed document.
struct Held<'a> {
    holder: &'a str,
    kind: &'static str,
    policy: &'a str,
    parsed: &'a Arc<Policy>,
}

/// Adds the nodes described in the module docs to `b`.
pub(super) fn add<'a>(b: &mut Builder<'a>, s: &'a Snapshot) -> PolicyRefs<'a> {
    let place = Knowledge::new(s);
    let mut out = PolicyRefs {
        dependencies: Vec::new(),
        unseen: HashMap::new(),
    };
    let mut created: HashSet<NodeIndex> = HashSet::new();
    // One dependency per holder and new node.
    let mut recorded: BTreeSet<(NodeIndex, NodeIndex)> = BTreeSet::new();
    for held in policies(s) {
        let Some(&holder) = b.index.get(held.holder) else {
            continue;
        };
        for (i, st) in held.parsed.statements.iter().enumerate() {
            if st.effect != Effect::Allow {
                continue;
            }
            for pattern in st.resources() {
                if let Some(ix) = nodes_for(b, &place, pattern, &mut created, &mut out.unseen)
                    && recorded.insert((holder, ix))
                {
                    out.dependencies.push(Dependency {
                        from: holder,
                        to: ix,
                        reason: UseReason::PolicyNames {
                            holder: held.holder,
                            holder_kind: held.kind,
                            policy: held.policy,
                            statement: statement_label(i, st),
                        },
                    });
                }
            }
        }
    }
    out
}

/// Every policy with a holder in the graph: identity policies of roles, users and groups
/// (attached managed policies by their name), and resource policies.
fn policies(s: &Snapshot) -> Vec<Held<'_>> {
    let managed: HashMap<&str, (&str, &PolicyDocument)> = s
        .managed_policies
        .iter()
        .map(|p| (p.arn.as_str(), (p.name.as_str(), &p.document)))
        .collect();
    let mut out = Vec::new();
    for r in &s.roles {
        held_identity(
            &mut out,
            &r.arn,
            "role",
            &r.inline_policies,
            &r.attached_policies,
            &managed,
        );
    }
    for u in &s.users {
        held_identity(
            &mut out,
            &u.arn,
            "user",
            &u.inline_policies,
            &u.attached_policies,
            &managed,
        );
    }
    for g in &s.groups {
        held_identity(
            &mut out,
            &g.arn,
            "group",
            &g.inline_policies,
            &g.attached_policies,
            &managed,
        );
    }
    let resource = s
        .resources
        .iter()
        .map(|r| (r.arn.as_str(), r.policy.as_ref()))
        .chain(s.event_buses.iter().map(|b| (b.arn.as_str(), b.policy.as_ref())))
        .chain(s.event_buses_v2.iter().map(|b| (b.arn.as_str(), b.policy.as_ref())))
        .chain(s.functions.iter().map(|f| (f.arn.as_str(), f.policy.as_ref())));
    for (arn, doc) in resource {
        if let Some(parsed) = doc.and_then(|d| d.policy().ok()) {
            out.push(Held {
                holder: arn,
                kind: "resource",
                policy: "resource policy",
                parsed,
            });
        }
    }
    out
}

fn held_identity<'a>(
    out: &mut Vec<Held<'a>>,
    holder: &'a str,
    kind: &'static str,
    inline: &'a [InlinePolicy],
    attached: &'a [String],
    managed: &HashMap<&'a str, (&'a str, &'a PolicyDocument)>,
) {
    let inline = inline.iter().map(|p| (p.name.as_str(), &p.document));
    let attached = attached.iter().filter_map(|a| managed.get(a.as_str()).copied());
    for (policy, doc) in inline.chain(attached) {
        if let Ok(parsed) = doc.policy() {
            out.push(Held {
                holder,
                kind,
                policy,
                parsed,
            });
        }
    }
}

/// The node a `Resource` pattern gets here: none when the snapshot holds what it names, when it
/// names nothing this pass keeps, or when a wildcard's place is read completely; else the
/// external node of a concrete name, or the pattern's own node (with why, in `unseen`). A node
/// this pass added for another holder is returned again.
fn nodes_for<'a>(
    b: &mut Builder<'a>,
    place: &Knowledge<'a>,
    pattern: &'a str,
    created: &mut HashSet<NodeIndex>,
    unseen: &mut Unseen,
) -> Option<NodeIndex> {
    // Most names are exactly a node's ARN: one lookup, no parsing.
    if let Some(ix) = b.index.get(pattern) {
        return created.get(ix).copied();
    }
    let name = Name::of(pattern)?;
    if let Some(ix) = b.index.get(name.base) {
        // Known to the snapshot (its use is derived elsewhere), or added here for another holder.
        return created.get(ix).copied();
    }
    if !name.wildcard {
        if lambda_log_group_of_known_function(b, name.base) {
            return None;
        }
        let ix = b.resolve(name.base);
        created.extend(ix);
        return ix;
    }
    let (account, why) = match place.why_unseen(&name) {
        Unknown::Outside => return None,
        Unknown::Complete => {
            // Buckets the crawl listed (`bucket_owners`) but did not read are still unseen.
            let unread: Vec<&(String, &'a str)> = place
                .buckets_matching(name.base)
                .filter(|(arn, _)| !b.index.contains_key(arn.as_str()))
                .collect();
            if unread.is_empty() {
                return None;
            }
            let owners: BTreeSet<&'a str> = unread.iter().map(|(_, o)| *o).collect();
            let mut names: Vec<String> = unread.iter().take(SHOWN).map(|(arn, _)| format!("`{arn}`")).collect();
            if unread.len() > SHOWN {
                names.push(format!("{} more", unread.len() - SHOWN));
            }
            let why = format!(
                "it matches {} that the crawl listed but whose tags and policy are not in the snapshot",
                names.join(", ")
            );
            let account = if owners.len() == 1 {
                owners.first().copied()
            } else {
                None
            };
            (account, why)
        }
        Unknown::Because(why) => (name.account, why),
    };
    let ix = b.add(name.base, NodeKind::External, account, name.region, None);
    created.insert(ix);
    unseen.insert(ix, why);
    Some(ix)
}

/// A `Resource` pattern cut to the resource it names, and its literal place.
struct Name<'a> {
    /// The owning resource's name (a bucket, a table, a log group), still a pattern when
    /// `wildcard`.
    base: &'a str,
    service: &'a str,
    /// The account when the pattern writes a literal one.
    account: Option<&'a str>,
    region: Option<&'a str>,
    /// The account part, literally (`*`, empty, or twelve digits).
    account_part: &'a str,
    wildcard: bool,
}

impl<'a> Name<'a> {
    fn of(pattern: &'a str) -> Option<Self> {
        let base = log_group_of(pattern)
            .or_else(|| owning_resource(pattern))
            .unwrap_or(pattern);
        let base = s3_bucket_pattern(base).unwrap_or(base);
        let ["arn", _partition, service, region, account, resource] = crate::arn::split(base)? else {
            return None;
        };
        if matches!(service, "iam" | "sts" | "organizations")
            || resource.is_empty()
            || resource.chars().all(|c| c == '*' || c == '?')
            || crate::iam::pattern::has_variable(base)
        {
            return None;
        }
        let literal = |p: &'a str| (!p.is_empty() && !p.contains(['*', '?'])).then_some(p);
        let wildcard = base.contains(['*', '?']);
        if !wildcard && crate::arn::Arn::parse(base).is_err() {
            return None;
        }
        Some(Name {
            base,
            service,
            account: literal(account).filter(|a| crate::arn::is_account_id(a)),
            region: literal(region),
            account_part: account,
            wildcard,
        })
    }
}

/// Whether `base` is the log group Lambda writes a function's logs to by default,
/// `/aws/lambda/FUNCTION` in the function's account and region, of a function the snapshot holds
/// (<https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html>). Such a group
/// is part of its function, judged with it, so it gets no node of its own: an execution role
/// naming its own function's log group is the commonest statement there is.
fn lambda_log_group_of_known_function(b: &Builder<'_>, base: &str) -> bool {
    let Some((head, function)) = base.split_once(":log-group:/aws/lambda/") else {
        return false;
    };
    let Some(place) = head.strip_prefix("arn:").and_then(|h| h.split_once(":logs:")) else {
        return false;
    };
    let (partition, region_account) = place;
    !function.is_empty()
        && !function.contains('/')
        && b.index
            .contains_key(format!("arn:{partition}:lambda:{region_account}:function:{function}").as_str())
}

/// The log group of a log-stream pattern: `…:log-group:NAME:*` and `…:log-group:NAME:log-stream:S`
/// name the streams of log group `NAME` (and IAM policies write the group's own permissions so:
/// <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/logs/iam-access-control-overview-cwl.html>).
fn log_group_of(pattern: &str) -> Option<&str> {
    let (head, resource) = pattern.split_once(":log-group:")?;
    if !head.starts_with("arn:") || head.split(':').nth(2) != Some("logs") {
        return None;
    }
    let name_len = resource
        .find(":log-stream:")
        .or_else(|| resource.strip_suffix(":*").map(str::len))?;
    let group = resource.get(..name_len)?;
    (!group.is_empty() && !group.contains(['*', '?']))
        .then(|| pattern.get(..head.len() + ":log-group:".len() + name_len))
        .flatten()
}

/// The bucket part of an S3 object pattern whose bucket is itself a pattern
/// (`arn:aws:s3:::exports-*/*` → `arn:aws:s3:::exports-*`); [`owning_resource`] cuts concrete
/// ones already.
pub(super) fn s3_bucket_pattern(pattern: &str) -> Option<&str> {
    let rest = pattern.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let bucket_and_key = rest.strip_prefix("s3:::")?;
    let slash = bucket_and_key.find('/')?;
    pattern.get(..4 + partition.len() + 1 + "s3:::".len() + slash)
}

/// What the snapshot knows of a wildcard's place.
enum Unknown {
    /// Every resource it could name in the organization is known.
    Complete,
    /// It names only accounts outside the organization.
    Outside,
    /// Some may be missing, for this reason.
    Because(String),
}

/// The places the snapshot read completely, prepared once.
struct Knowledge<'a> {
    s: &'a Snapshot,
    accounts: BTreeSet<&'a str>,
    /// Regions where the snapshot holds any record: the crawl reads the same regions everywhere.
    regions: BTreeSet<&'a str>,
    /// `arn:aws:s3:::NAME` of every bucket `bucket_owners` lists, with its owner, sorted.
    bucket_arns: Vec<(String, &'a str)>,
}

impl<'a> Knowledge<'a> {
    fn new(s: &'a Snapshot) -> Self {
        let regions = s
            .event_buses
            .iter()
            .map(|b| b.region.as_str())
            .chain(s.functions.iter().map(|f| f.region.as_str()))
            .chain(s.resources.iter().filter_map(|r| r.region.as_deref()))
            .collect();
        Knowledge {
            s,
            accounts: s.organization.accounts.iter().map(|a| a.id.as_str()).collect(),
            regions,
            bucket_arns: s
                .bucket_owners
                .iter()
                .map(|(name, owner)| (format!("arn:aws:s3:::{name}"), owner.as_str()))
                .collect(),
        }
    }

    fn gap(&self, apis: &[&str], account: Option<&str>, region: Option<&str>) -> Option<String> {
        self.s
            .coverage
            .gaps
            .iter()
            .find(|g| {
                apis.iter().any(|a| g.api.starts_with(a))
                    && g.account.as_deref().is_none_or(|x| account.is_none_or(|a| a == x))
                    && g.region.as_deref().is_none_or(|x| region.is_none_or(|r| r == x))
            })
            .map(|g| format!("`{}` could not be read ({})", g.api, g.error_code))
    }

    fn why_unseen(&self, n: &Name<'_>) -> Unknown {
        if let Some(a) = n.account
            && !self.accounts.contains(a)
        {
            return Unknown::Outside;
        }
        match n.service {
            "s3" if n.account_part.is_empty() => {
                if self.s.bucket_owners.is_empty() {
                    return Unknown::Because("the snapshot lists no S3 buckets (`s3:ListAllMyBuckets`)".into());
                }
                match self.gap(&["s3:ListAllMyBuckets"], None, None) {
                    Some(g) => Unknown::Because(format!("the S3 bucket listing is incomplete: {g}")),
                    None => Unknown::Complete,
                }
            }
            "events" | "lambda" => {
                let (Some(account), Some(region)) = (n.account, n.region) else {
                    return Unknown::Because("its account or region is a wildcard".into());
                };
                if !self.regions.contains(region) {
                    return Unknown::Because(format!("region `{region}` is not in the snapshot"));
                }
                let apis: &[&str] = if n.service == "events" {
                    &["events:", "eventsv2:", "sts:"]
                } else {
                    &["lambda:", "sts:"]
                };
                match self.gap(apis, Some(account), Some(region)) {
                    Some(g) => Unknown::Because(g),
                    None => Unknown::Complete,
                }
            }
            service => Unknown::Because(format!(
                "topoguard lists no `{service}` resources: only tagged ones and those named exactly are read"
            )),
        }
    }

    fn buckets_matching<'p>(&'p self, pattern: &'p str) -> impl Iterator<Item = &'p (String, &'a str)> + 'p {
        self.bucket_arns.iter().filter(move |(arn, _)| glob_match(pattern, arn))
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::known_ids;
    use crate::checks::testkit::*;
    use crate::config::parse_config;
    use crate::graph::{NodeKind, Topology};
    use crate::model::{Snapshot, parse_snapshot};
    use serde_json::{Value, json};
    use std::path::Path;

    fn snapshot(s: &Value) -> Snapshot {
        parse_snapshot(&s.to_string(), Path::new("t.json")).unwrap()
    }

    /// `(holder, detail)` of the dependencies on `id`'s node.
    fn holders(t: &Topology<'_>, id: &str) -> Vec<(String, String)> {
        let ix = t.find(id).unwrap();
        t.nodes()
            .flat_map(|(from, _)| t.dependencies_of(from).iter())
            .filter(|d| d.to == ix)
            .map(|d| {
                let e = d.reason.evidence(id);
                (t.node(d.from).id.to_string(), e.last().unwrap().detail.clone())
            })
            .collect()
    }

    fn with(s: &Value, each: impl FnOnce(&Topology<'_>)) {
        let snapshot = snapshot(s);
        let config = parse_config(CONFIG, Path::new("t.toml"), &known_ids()).unwrap();
        each(&Topology::build(&snapshot, &config));
    }

    fn named(statement: Value) -> Value {
        json!({"Statement": [statement]})
    }

    #[test]
    fn fires_a_bucket_named_only_by_a_role_policy_gets_a_node_in_its_owners_account() {
        let mut s = org();
        let role = add_role(
            &mut s,
            SHARED,
            "exporter",
            trust(INVOICE),
            named(
                json!({"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::exports/daily/*"}),
            ),
        );
        s["bucket_owners"] = json!({"exports": SHARED});
        with(&s, |t| {
            let ix = t.find("arn:aws:s3:::exports").unwrap();
            assert_eq!(t.node(ix).kind, NodeKind::External);
            assert_eq!(t.node(ix).account, Some(SHARED));
            assert_eq!(t.unseen_because(ix), None);
            assert_eq!(
                holders(t, "arn:aws:s3:::exports"),
                vec![(
                    role.clone(),
                    format!("named in the Allow statement `Read` of policy `p` of role `{role}`")
                )]
            );
        });
    }

    #[test]
    fn fires_identical_names_share_one_node_with_one_dependency_per_holder() {
        let mut s = org();
        let q = "arn:aws:sqs:eu-west-1:999999999999:unseen";
        let a = add_role(&mut s, INVOICE, "a", trust(INVOICE), allow(&["sqs:SendMessage"], q));
        let b = add_role(&mut s, CHECKOUT, "b", trust(CHECKOUT), allow(&["sqs:SendMessage"], q));
        // A managed policy attached to `a` naming it again adds no second dependency of `a`.
        s["managed_policies"] = json!([{"arn": "arn:aws:iam::111111111111:policy/m", "name": "m",
            "document": allow(&["sqs:ReceiveMessage"], q)}]);
        s["roles"][0]["attached_policies"] = json!(["arn:aws:iam::111111111111:policy/m"]);
        with(&s, |t| {
            let got: Vec<String> = holders(t, q).into_iter().map(|(h, _)| h).collect();
            assert_eq!(got, vec![a.clone(), b.clone()]);
            assert_eq!(t.nodes().filter(|(_, n)| n.id == q).count(), 1);
        });
    }

    #[test]
    fn fires_a_log_groups_streams_name_the_log_group_and_a_resource_policy_is_a_holder() {
        let mut s = org();
        let group = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/f";
        add_role(
            &mut s,
            INVOICE,
            "f",
            trust(INVOICE),
            allow(&["logs:PutLogEvents"], &format!("{group}:*")),
        );
        let topic = "arn:aws:sns:eu-west-1:111111111111:t";
        add(
            &mut s,
            "resources",
            json!({"arn": topic, "kind": "sns-topic", "account": INVOICE, "region": "eu-west-1",
                   "policy": named(json!({"Effect": "Allow", "Principal": {"AWS": INVOICE}, "Action": "kms:Decrypt",
                                          "Resource": "arn:aws:kms:eu-west-1:111111111111:key/k"}))}),
        );
        with(&s, |t| {
            assert_eq!(t.node(t.find(group).unwrap()).kind, NodeKind::External);
            let key = "arn:aws:kms:eu-west-1:111111111111:key/k";
            assert_eq!(
                holders(t, key),
                vec![(
                    topic.to_string(),
                    format!("named in the Allow statement #0 of the resource policy of `{topic}`")
                )]
            );
        });
    }

    /// Lambda writes a function's logs to `/aws/lambda/FUNCTION` in its account and region
    /// (<https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html>): that group
    /// is judged with its function, so a known function's own group gets no node; the same name
    /// in another region, or of a function the snapshot lacks, still does.
    #[test]
    fn near_miss_a_known_functions_own_log_group_is_part_of_the_function() {
        let mut s = org();
        let function = add_function(
            &mut s,
            INVOICE,
            "eu-west-1",
            "f",
            &["arn:aws:sqs:eu-west-1:111111111111:q"],
        );
        let own = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/f";
        let elsewhere = "arn:aws:logs:eu-central-1:111111111111:log-group:/aws/lambda/f";
        let other = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/g";
        let statement = json!({"Effect": "Allow", "Action": "logs:PutLogEvents",
                               "Resource": [format!("{own}:*"), format!("{elsewhere}:*"), format!("{other}:*")]});
        add_role(&mut s, INVOICE, "writer", trust(INVOICE), named(statement));
        with(&s, |t| {
            assert!(t.find(&function).is_some());
            assert!(t.find(own).is_none(), "the function's own group is the function");
            assert_eq!(t.node(t.find(elsewhere).unwrap()).kind, NodeKind::External);
            assert_eq!(t.node(t.find(other).unwrap()).kind, NodeKind::External);
        });
    }

    #[test]
    fn quiet_names_the_snapshot_holds_gain_nothing() {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_role(&mut s, INVOICE, "a", trust(INVOICE), allow(&["sqs:SendMessage"], &q));
        with(&s, |t| {
            assert_eq!(
                t.node(t.find(&q).unwrap()).kind,
                NodeKind::Resource(crate::model::ResourceKind::SqsQueue)
            );
            assert!(holders(t, &q).is_empty());
        });
    }

    #[test]
    fn near_miss_deny_not_resource_iam_and_everything_name_nothing() {
        let mut s = org();
        let n = t_nodes(&s);
        add_role(
            &mut s,
            INVOICE,
            "a",
            trust(INVOICE),
            json!({"Statement": [
                {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::denied/*"},
                {"Effect": "Allow", "Action": "sqs:SendMessage", "NotResource": "arn:aws:sqs:eu-west-1:111111111111:not"},
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/elsewhere"},
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["*", "arn:aws:s3:::*", "arn:aws:sqs:*:*:*"]},
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::${aws:username}/*"}
            ]}),
        );
        // The role itself is the only new node.
        assert_eq!(t_nodes(&s), n + 1);
    }

    fn t_nodes(s: &Value) -> usize {
        let mut count = 0;
        with(s, |t| count = t.graph.node_count());
        count
    }

    #[test]
    fn fires_a_wildcard_of_a_kind_topoguard_does_not_list_is_an_unseen_pattern_node() {
        let mut s = org();
        let pattern = "arn:aws:secretsmanager:eu-west-1:999999999999:secret:db-??????";
        add_role(
            &mut s,
            INVOICE,
            "a",
            trust(INVOICE),
            allow(&["secretsmanager:GetSecretValue"], pattern),
        );
        with(&s, |t| {
            let ix = t.find(pattern).unwrap();
            assert_eq!(t.node(ix).kind, NodeKind::External);
            assert_eq!(
                (t.node(ix).account, t.node(ix).region),
                (Some(SHARED), Some("eu-west-1"))
            );
            let why = t.unseen_because(ix).unwrap();
            assert!(why.contains("lists no `secretsmanager` resources"), "{why}");
        });
    }

    #[test]
    fn fires_an_s3_wildcard_matching_a_listed_but_unread_bucket_names_it() {
        let mut s = org();
        let pattern = "arn:aws:s3:::exports-*";
        add_role(
            &mut s,
            INVOICE,
            "a",
            trust(INVOICE),
            allow(&["s3:PutObject"], &format!("{pattern}/*")),
        );
        s["bucket_owners"] = json!({"exports-eu": SHARED, "other": SHARED});
        with(&s, |t| {
            let ix = t.find(pattern).unwrap();
            assert_eq!(t.node(ix).account, Some(SHARED));
            let why = t.unseen_because(ix).unwrap();
            assert!(why.contains("`arn:aws:s3:::exports-eu`"), "{why}");
        });
    }

    #[test]
    fn near_miss_a_wildcard_whose_place_is_fully_read_adds_nothing() {
        let mut s = org();
        // Buckets: every match is in the snapshot (the listing has no gap).
        add(
            &mut s,
            "resources",
            json!({"arn": "arn:aws:s3:::exports-eu", "kind": "s3-bucket", "account": SHARED, "tags": {}}),
        );
        s["bucket_owners"] = json!({"exports-eu": SHARED});
        // Buses: listed in a crawled account and region without a gap.
        add(
            &mut s,
            "event_buses",
            json!({"arn": "arn:aws:events:eu-west-1:999999999999:event-bus/hub", "account": SHARED,
                   "region": "eu-west-1", "name": "hub"}),
        );
        add_role(
            &mut s,
            INVOICE,
            "a",
            trust(INVOICE),
            json!({"Statement": [{"Effect": "Allow", "Action": ["s3:PutObject", "events:PutEvents"], "Resource": [
                "arn:aws:s3:::exports-*/*",
                "arn:aws:events:eu-west-1:999999999999:event-bus/h*",
                // An account outside the organization: nothing of the organization to judge.
                "arn:aws:sqs:eu-west-1:123456789012:q-*"
            ]}]}),
        );
        let n = t_nodes(&s);
        with(&s, |t| {
            assert!(t.find("arn:aws:s3:::exports-*").is_none());
            assert!(t.find("arn:aws:events:eu-west-1:999999999999:event-bus/h*").is_none());
            assert!(t.find("arn:aws:sqs:eu-west-1:123456789012:q-*").is_none());
        });
        // The same bus pattern with a gap in that account and region gets a node.
        s["coverage"] = json!({"gaps": [{"account": SHARED, "region": "eu-west-1", "api": "events:ListEventBuses",
                                         "error_code": "AccessDenied"}]});
        with(&s, |t| {
            let ix = t.find("arn:aws:events:eu-west-1:999999999999:event-bus/h*").unwrap();
            assert!(
                t.unseen_because(ix)
                    .unwrap()
                    .contains("`events:ListEventBuses` could not be read")
            );
            assert_eq!(t.graph.node_count(), n + 1);
        });
    }
}
