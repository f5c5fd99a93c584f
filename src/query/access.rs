//! One access request decided the way the checks decide it — [`crate::iam::eval::evaluate`] over
//! the policy set the store assembles — and explained: the verdict, the deciding statement with
//! its layer (SCP at which OU or account, RCP, boundary, identity, resource policy, session), the
//! granting statements, and the condition keys left undecided. Shared by `can` and `who-can`.

use super::{Verdict, apply_context, org_path};
use crate::graph::Topology;
use crate::iam::eval::{Decision, DenyReason, NamedPolicy, PolicySet, Request, StatementRef, evaluate, session_role};
use crate::model::Tags;
use serde::Serialize;

/// The resource a question is about, with what the snapshot knows of it.
#[derive(Debug, Clone)]
pub struct Target<'t> {
    /// The ARN, or `*` when the question names no resource.
    pub arn: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub tags: Option<&'t Tags>,
    /// Its resource policy (a role's trust policy for `sts:AssumeRole`).
    pub policy: Option<NamedPolicy<'t>>,
    /// False when the ARN is not in the snapshot: its resource policy is then unknown.
    pub in_snapshot: bool,
}

impl<'t> Target<'t> {
    /// What the topology knows about `arn` (`None`: no resource, `*`).
    pub fn resolve(t: &'t Topology<'_>, arn: Option<&str>) -> Self {
        let Some(arn) = arn else {
            return Target {
                arn: "*".to_string(),
                account: None,
                region: None,
                tags: None,
                policy: None,
                in_snapshot: true,
            };
        };
        // An S3 object is decided with its bucket's policy, account and tags; S3 ARNs carry no
        // region, so none is assumed for the object.
        let bucket = arn
            .strip_prefix("arn:aws:s3:::")
            .and_then(|rest| rest.split_once('/'))
            .map(|(b, _)| format!("arn:aws:s3:::{b}"))
            .filter(|_| t.find(arn).is_none());
        let holder = bucket.as_deref().unwrap_or(arn);
        let node = t.find(holder).map(|ix| t.node(ix));
        let parsed = crate::arn::Arn::parse(arn).ok();
        let policy = t
            .policies
            .resource_policy(holder)
            .map(|n| n.as_named())
            .or_else(|| t.policies.roles.get(arn).map(|rp| rp.trust.as_named()));
        Target {
            arn: arn.to_string(),
            account: node
                .and_then(|n| n.account)
                .or_else(|| parsed.as_ref().and_then(|a| a.account()))
                .map(str::to_string),
            region: node
                .filter(|_| bucket.is_none())
                .and_then(|n| n.region)
                .or_else(|| parsed.as_ref().and_then(|a| a.region()))
                .map(str::to_string),
            tags: node.and_then(|n| n.tags),
            policy,
            in_snapshot: node.is_some_and(|n| n.kind != crate::graph::NodeKind::External),
        }
    }
}

/// The statement (or missing allow) that decided a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deciding {
    /// `scp`, `rcp`, `boundary`, `identity`, `resource` or `session`.
    pub layer: &'static str,
    /// True for an explicit Deny statement.
    pub explicit: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// For SCPs and RCPs: the root, unit or account of the path where it was decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    pub detail: String,
}

/// A granting statement with its layer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Grant {
    pub layer: &'static str,
    pub policy: String,
    pub statement: String,
}

/// A request decided for one principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Direct {
    pub decision: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deciding: Option<Deciding>,
    pub grants: Vec<Grant>,
    /// Condition keys whose values are unknown (for `conditional`).
    pub conditions: Vec<String>,
    /// What was assumed for lack of data (default `FullAWSAccess`, unrecorded session policies).
    pub assumed: Vec<String>,
}

/// The account of a principal of the snapshot (role, role session or user).
pub fn principal_account<'s>(t: &'s Topology<'_>, principal: &str) -> Option<&'s str> {
    if let Some(up) = t.policies.users.get(principal) {
        return Some(up.user.account.as_str());
    }
    t.policies.role(principal).map(|rp| rp.role.account.as_str())
}

/// Which layer a named policy of `set` belongs to.
fn layer_of(name: &str, set: &PolicySet<'_>) -> &'static str {
    if set.scps.iter().flatten().any(|p| p.name == name) {
        "scp"
    } else if set.rcps.iter().flatten().any(|p| p.name == name) {
        "rcp"
    } else if set.resource_policy.is_some_and(|p| p.name == name) {
        "resource"
    } else if set.identity.iter().any(|p| p.name == name) {
        "identity"
    } else if set.boundary.is_some_and(|p| p.name == name) {
        "boundary"
    } else if set.session.iter().any(|p| p.name == name) {
        "session"
    } else {
        "identity"
    }
}

/// The level (index into the OU path) where an SCP or RCP named `name` sits.
fn level_of(levels: &[Vec<NamedPolicy<'_>>], name: &str) -> Option<usize> {
    levels.iter().position(|l| l.iter().any(|p| p.name == name))
}

fn policies_at(levels: &[Vec<NamedPolicy<'_>>], level: usize) -> String {
    let names: Vec<&str> = levels
        .get(level)
        .map(|l| l.iter().map(|p| p.name).collect())
        .unwrap_or_default();
    if names.is_empty() {
        "none attached".to_string()
    } else {
        names.join(", ")
    }
}

struct Paths {
    principal: Vec<String>,
    resource: Vec<String>,
}

/// The OU paths of the principal's and the resource's accounts (only a denial needs them).
fn paths(t: &Topology<'_>, account: &str, target: &Target<'_>) -> Paths {
    Paths {
        principal: org_path(t.snapshot, account),
        resource: target
            .account
            .as_deref()
            .map(|a| org_path(t.snapshot, a))
            .unwrap_or_default(),
    }
}

fn explain_deny(reason: &DenyReason, set: &PolicySet<'_>, paths: &Paths) -> Deciding {
    let at = |path: &[String], level: usize| path.get(level).cloned();
    match reason {
        DenyReason::Explicit(StatementRef { policy, statement }) => {
            let layer = layer_of(policy, set);
            let at = match layer {
                "scp" => level_of(&set.scps, policy).and_then(|l| at(&paths.principal, l)),
                "rcp" => level_of(&set.rcps, policy).and_then(|l| at(&paths.resource, l)),
                _ => None,
            };
            Deciding {
                layer,
                explicit: true,
                policy: Some(policy.clone()),
                statement: Some(statement.clone()),
                at,
                detail: format!("explicit Deny in {policy} statement {statement}"),
            }
        }
        DenyReason::Scp(level) => Deciding {
            layer: "scp",
            explicit: false,
            policy: None,
            statement: None,
            at: at(&paths.principal, *level),
            detail: format!(
                "no SCP at this level of the principal's OU path allows it ({})",
                policies_at(&set.scps, *level)
            ),
        },
        DenyReason::Rcp(level) => Deciding {
            layer: "rcp",
            explicit: false,
            policy: None,
            statement: None,
            at: at(&paths.resource, *level),
            detail: format!(
                "no RCP at this level of the resource's OU path allows it ({})",
                policies_at(&set.rcps, *level)
            ),
        },
        DenyReason::Boundary => Deciding {
            layer: "boundary",
            explicit: false,
            policy: set.boundary.map(|b| b.name.to_string()),
            statement: None,
            at: None,
            detail: "the identity policies allow it, the permission boundary does not".to_string(),
        },
        DenyReason::Session => Deciding {
            layer: "session",
            explicit: false,
            policy: Some(set.session.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")),
            statement: None,
            at: None,
            detail: "the identity and resource policies allow it, no session policy of the session does \
                     (a session's permissions are the intersection of its identity-based and session policies)"
                .to_string(),
        },
        DenyReason::NoAllow => Deciding {
            layer: if set.resource_policy.is_some() {
                "identity+resource"
            } else {
                "identity"
            },
            explicit: false,
            policy: None,
            statement: None,
            at: None,
            detail: "implicit deny: no identity policy (nor, where it suffices, the resource policy) allows it; \
                     across accounts both must"
                .to_string(),
        },
    }
}

/// Decides `action` on `target` for `principal` with the `--context` pairs applied over what
/// the snapshot tells, made by a session given `session` policies (none: `&[]`). `None` when
/// the principal is not in the snapshot.
pub fn decide(
    t: &Topology<'_>,
    principal: &str,
    action: &str,
    target: &Target<'_>,
    context: &[(String, String)],
    session: &[NamedPolicy<'_>],
) -> Option<Direct> {
    let store = &t.policies;
    let account = principal_account(t, principal)?;
    let mut ctx = store.principal_context(principal, t.snapshot.organization.id.as_deref())?;
    if let Some(acc) = &target.account {
        ctx.set("aws:ResourceAccount", acc.as_str());
        store.resource_context(&mut ctx, acc);
    }
    if let Some(r) = &target.region {
        ctx.set("aws:RequestedRegion", r.as_str());
    }
    if let Some(tags) = target.tags {
        ctx.tags("aws:ResourceTag", tags);
    }
    apply_context(&mut ctx, context);
    let mut set = store.policy_set(principal, target.account.as_deref(), target.policy)?;
    set.session = session.to_vec();
    let req = Request {
        principal,
        principal_account: account,
        action,
        resource: &target.arn,
        resource_account: target.account.as_deref(),
        context: &ctx,
    };
    let mut assumed = set.assumed.clone();
    if session_role(principal).is_some() && session.is_empty() {
        assumed.push(
            "session policies are not recorded in the snapshot: the session may be narrower than its role".to_string(),
        );
    }
    let grants = |g: Vec<StatementRef>| -> Vec<Grant> {
        g.into_iter()
            .map(|s| Grant {
                layer: layer_of(&s.policy, &set),
                policy: s.policy,
                statement: s.statement,
            })
            .collect()
    };
    Some(match evaluate(&req, &set) {
        Decision::Allowed { grants: g } => Direct {
            decision: Verdict::Allowed,
            deciding: None,
            grants: grants(g),
            conditions: Vec::new(),
            assumed,
        },
        Decision::Conditional { grants: g, keys } => Direct {
            decision: Verdict::Conditional,
            deciding: None,
            grants: grants(g),
            conditions: keys,
            assumed,
        },
        Decision::Denied(reason) => Direct {
            decision: Verdict::Denied,
            deciding: Some(explain_deny(&reason, &set, &paths(t, account, target))),
            grants: Vec::new(),
            conditions: Vec::new(),
            assumed,
        },
    })
}
