//! Picking the actions of each role from the catalog and assembling the roles of one
//! application: metadata reads per service and resource type, List-style actions that take no
//! resource, content reads on the application's own log groups and X-Ray traces, and for the
//! mitigate tier a short allowlist of reversible writes on its own resources.

use super::compress;
use super::pack::{Stmt, pack, pack_roles};
use super::render::identifier;
use super::scope::{AccountScope, AppScope};
use super::{GeneratedRole, MAX_SESSION_SECONDS, MITIGATE_TAG, Note, Parameter, RoleKind, RoleSet, RolesError};
use crate::escape::iam_literal;
use crate::graph::{AGENT_SERVICE, NodeKind, Topology};
use crate::iam::catalog::{ActionClass, ActionInfo, Catalog};
use crate::model::ResourceKind;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The only writes the mitigate tier grants, by service and resource type: each one reversible
/// by its counterpart and limited to throttling or pausing the application's own processing.
pub const MITIGATE_WRITES: &[(&str, &str, &[&str])] = &[
    (
        "lambda",
        "function",
        &["PutFunctionConcurrency", "DeleteFunctionConcurrency"],
    ),
    ("events", "rule-on-custom-event-bus", &["DisableRule", "EnableRule"]),
    ("events", "rule-on-default-event-bus", &["DisableRule", "EnableRule"]),
];

/// Reads the catalog files as metadata that reveal data (items, masked log fields, phone
/// numbers, device tokens) or that prepare changes rather than describe.
const EXCLUDED: &[&str] = &[
    "dynamodb:ConditionCheckItem",
    "dynamodb:ReadDataForReplication",
    "kms:GetParametersForImport",
    "logs:Unmask",
    "secretsmanager:GetRandomPassword",
    "sns:CheckIfPhoneNumberIsOptedOut",
    "sns:GetEndpointAttributes",
    "sns:ListEndpointsByPlatformApplication",
    "sns:ListPhoneNumbersOptedOut",
    "sns:ListSMSSandboxPhoneNumbers",
];

/// Services whose account-wide reads (no resource types) every role of an owned account gets.
const OBSERVABILITY: &[&str] = &["cloudwatch", "logs"];

/// The service, catalog resource type and ARN of a node roles can be scoped to.
pub fn resource_type(t: &Topology<'_>, ix: petgraph::graph::NodeIndex) -> Option<(&'static str, &'static str)> {
    let node = t.node(ix);
    Some(match node.kind {
        NodeKind::Function => ("lambda", "function"),
        // The catalog has no resource type for EventBridge v2 buses yet: not scopable.
        NodeKind::EventBus if node.id.contains(":event-busv2/") => return None,
        NodeKind::EventBus => ("events", "event-bus"),
        NodeKind::Rule => {
            let custom = node.id.split_once(":rule/").is_some_and(|(_, rest)| rest.contains('/'));
            (
                "events",
                if custom {
                    "rule-on-custom-event-bus"
                } else {
                    "rule-on-default-event-bus"
                },
            )
        }
        NodeKind::Resource(k) => match k {
            ResourceKind::SqsQueue => ("sqs", "queue"),
            ResourceKind::SnsTopic => ("sns", "topic"),
            ResourceKind::DynamodbTable => ("dynamodb", "table"),
            ResourceKind::S3Bucket => ("s3", "bucket"),
            ResourceKind::KmsKey => ("kms", "key"),
            ResourceKind::SecretsmanagerSecret => ("secretsmanager", "Secret"),
            ResourceKind::LogsLogGroup => ("logs", "log-group"),
            ResourceKind::KinesisStream => ("kinesis", "stream"),
            ResourceKind::SsmParameter => ("ssm", "parameter"),
            ResourceKind::Other => return None,
        },
        _ => return None,
    })
}

/// The log group ARN (without `:*`) of an own function or log-group node.
pub fn own_log_group(t: &Topology<'_>, ix: petgraph::graph::NodeIndex) -> Option<String> {
    let node = t.node(ix);
    match node.kind {
        NodeKind::Function => {
            let name = node.id.rsplit(':').next()?;
            Some(format!(
                "arn:aws:logs:{}:{}:log-group:/aws/lambda/{name}",
                node.region?, node.account?
            ))
        }
        NodeKind::Resource(ResourceKind::LogsLogGroup) => {
            Some(node.id.strip_suffix(":*").unwrap_or(node.id).to_string())
        }
        _ => None,
    }
}

fn excluded(a: &ActionInfo) -> bool {
    EXCLUDED.contains(&a.full_name().as_str())
}

/// Metadata reads that can be scoped to resources of `type_`: the type is among the action's
/// resource types, and no other type is required instead.
fn metadata_actions<'c>(catalog: &'c Catalog, service: &str, type_: &str) -> Vec<&'c ActionInfo> {
    let Some(svc) = catalog.service(service) else {
        return Vec::new();
    };
    svc.actions()
        .iter()
        .filter(|a| a.class() == ActionClass::MetadataRead && !excluded(a))
        .filter(|a| {
            let types = a.resource_types();
            types.iter().any(|r| *r.name == *type_) && types.iter().all(|r| !r.required || *r.name == *type_)
        })
        .collect()
}

/// Actions of `service` and `classes` that take no resource (granted on `*`).
fn unscoped_actions<'c>(catalog: &'c Catalog, service: &str, classes: &[ActionClass]) -> Vec<&'c ActionInfo> {
    catalog.service(service).map_or_else(Vec::new, |svc| {
        svc.actions()
            .iter()
            .filter(|a| !a.supports_resource_level_permissions() && classes.contains(&a.class()) && !excluded(a))
            .collect()
    })
}

fn names(actions: &[&ActionInfo]) -> Vec<String> {
    actions.iter().map(|a| a.full_name()).collect()
}

/// The read statements of one account's roles.
fn read_statements(t: &Topology<'_>, catalog: &Catalog, scope: &AccountScope) -> Vec<Stmt> {
    let regions: Vec<String> = scope.regions.iter().cloned().collect();
    let mut by_type: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    let mut services: BTreeSet<&str> = BTreeSet::new();
    let mut log_groups: BTreeSet<String> = BTreeSet::new();
    for &ix in &scope.own {
        if let Some(g) = own_log_group(t, ix) {
            log_groups.insert(iam_literal(&g).into_owned());
        }
    }
    for &ix in scope.own.iter().chain(&scope.used) {
        let Some((service, type_)) = resource_type(t, ix) else {
            continue;
        };
        services.insert(service);
        let node = t.node(ix);
        if service == "logs" && scope.own.contains(&ix) {
            continue; // covered by the log reads below
        }
        by_type
            .entry((service, type_))
            .or_default()
            .insert(iam_literal(node.id).into_owned());
    }
    let mut out = Vec::new();
    for ((service, type_), arns) in by_type {
        let actions = metadata_actions(catalog, service, type_);
        if actions.is_empty() {
            continue;
        }
        out.push(Stmt::new(
            format!("{}{}Metadata", identifier(service), identifier(type_)),
            names(&actions),
            arns.into_iter().collect(),
            &regions,
        ));
    }
    if !log_groups.is_empty() {
        let actions: Vec<&ActionInfo> = catalog
            .service("logs")
            .map(|s| s.actions())
            .unwrap_or(&[])
            .iter()
            .filter(|a| matches!(a.class(), ActionClass::MetadataRead | ActionClass::ContentRead) && !excluded(a))
            .filter(|a| {
                let types = a.resource_types();
                !types.is_empty()
                    && types
                        .iter()
                        .all(|r| !r.required || &*r.name == "log-group" || &*r.name == "log-stream")
                    && types
                        .iter()
                        .any(|r| &*r.name == "log-group" || &*r.name == "log-stream")
            })
            .collect();
        let resources: Vec<String> = log_groups.iter().flat_map(|g| [g.clone(), format!("{g}:*")]).collect();
        out.push(Stmt::new(
            "OwnLogGroups".to_string(),
            names(&actions),
            resources,
            &regions,
        ));
    }
    let mut unscoped: Vec<String> = Vec::new();
    let owns = !scope.own.is_empty();
    let mut list_services = services.clone();
    if owns && !scope.shared {
        list_services.extend(OBSERVABILITY);
    }
    for service in list_services {
        unscoped.extend(names(&unscoped_actions(catalog, service, &[ActionClass::MetadataRead])));
    }
    if owns && scope.owned_account && !scope.shared {
        unscoped.extend(names(&unscoped_actions(
            catalog,
            "xray",
            &[ActionClass::MetadataRead, ActionClass::ContentRead],
        )));
    }
    if !unscoped.is_empty() {
        out.push(Stmt::new(
            "AccountWideReads".to_string(),
            unscoped,
            vec!["*".to_string()],
            &regions,
        ));
    }
    out
}

/// The mitigate writes of one account: the allowlist applied to the application's own,
/// unshared resources there.
fn write_statements(t: &Topology<'_>, catalog: &Catalog, scope: &AccountScope) -> Vec<Stmt> {
    if scope.shared {
        return Vec::new();
    }
    let regions: Vec<String> = scope.regions.iter().cloned().collect();
    let mut by_type: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for &ix in &scope.own {
        if t.is_shared(ix) {
            continue;
        }
        if let Some(key) = resource_type(t, ix) {
            by_type
                .entry(key)
                .or_default()
                .insert(iam_literal(t.node(ix).id).into_owned());
        }
    }
    let mut out = Vec::new();
    for (service, type_, actions) in MITIGATE_WRITES {
        let Some(arns) = by_type.get(&(*service, *type_)) else {
            continue;
        };
        let actions: Vec<String> = actions
            .iter()
            .map(|a| format!("{service}:{a}"))
            .filter(|a| catalog.action(a).is_some())
            .collect();
        out.push(Stmt::new(
            format!("Mitigate{}{}", identifier(service), identifier(type_)),
            actions,
            arns.iter().cloned().collect(),
            &regions,
        ));
    }
    out
}

fn tags(t: &Topology<'_>, app: &str, kind: RoleKind) -> BTreeMap<String, String> {
    BTreeMap::from([
        (t.config.attribution.tag_key.clone(), app.to_string()),
        ("managed-by".to_string(), "topoguard".to_string()),
        ("topoguard-role".to_string(), kind.as_str().to_string()),
    ])
}

fn responder_conditions(extra: Option<(&str, &str)>) -> Value {
    let mut c = json!({
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
        "Null": {"sts:SourceIdentity": "false"},
    });
    if let (Some((key, value)), Some(map)) = (extra, c.as_object_mut()) {
        map.insert("StringEquals".to_string(), json!({ key: value }));
    }
    c
}

/// The managed policies of one role: the exact resources when they fit, else the resources
/// compressed to patterns ([`compress`]), else those spread over more roles (one list per role).
fn fit(
    t: &Topology<'_>,
    role: &str,
    account: &str,
    scope: Option<&AccountScope>,
    stmts: Vec<Stmt>,
) -> Result<Vec<Vec<Value>>, RolesError> {
    // Exact resources first, unless they cannot fit ten documents anyway.
    let total: usize = stmts.iter().map(|s| super::compact_len(&s.to_value())).sum();
    if total > super::limits::ATTACHED_PER_ROLE * super::limits::MANAGED_POLICY {
        return pack_roles(role, compress::statements(t, account, scope, stmts));
    }
    match pack(role, stmts.clone()) {
        Ok(policies) => return Ok(vec![policies]),
        Err(RolesError::TooManyPolicies { .. } | RolesError::StatementTooLarge { .. }) => {}
        Err(e) => return Err(e),
    }
    pack_roles(role, compress::statements(t, account, scope, stmts))
}

/// Adds every role of one application to `set`.
pub fn roles_for(
    t: &Topology<'_>,
    catalog: &Catalog,
    scope: &AppScope<'_>,
    elevated: bool,
    set: &mut RoleSet,
) -> Result<(), RolesError> {
    let app = scope.name;
    let zones = scope.zones.iter().cloned().collect::<Vec<_>>().join(", ");
    let empty = AccountScope {
        regions: scope.regions.clone(),
        ..AccountScope::default()
    };
    // The read set of each account, picked once: every tier of the account grants it.
    let reads: BTreeMap<&str, Vec<Stmt>> = scope
        .accounts
        .iter()
        .map(|(account, acc)| (account.as_str(), read_statements(t, catalog, acc)))
        .collect();
    let no_resources = read_statements(t, catalog, &empty);
    let reads_of = |account: &str| reads.get(account).unwrap_or(&no_resources).clone();
    // The mitigate writes of each account, shared by the mitigate and elevated roles.
    let writes: BTreeMap<&str, Vec<Stmt>> = scope
        .accounts
        .iter()
        .map(|(account, acc)| (account.as_str(), write_statements(t, catalog, acc)))
        .filter(|(_, w)| !w.is_empty())
        .collect();
    let push = |set: &mut RoleSet,
                account: &str,
                name: String,
                kind: RoleKind,
                description: String,
                trust: Value,
                stmts: Vec<Stmt>,
                space: Option<String>|
     -> Result<(), RolesError> {
        let size = super::compact_len(&trust);
        if size > super::limits::TRUST_POLICY {
            return Err(RolesError::TrustTooLarge {
                application: app.to_string(),
                role: name,
                account: account.to_string(),
                size,
                limit: super::limits::TRUST_POLICY,
            });
        }
        let groups = fit(t, &name, account, scope.accounts.get(account), stmts)?;
        let parts = groups.len();
        if parts > 1 {
            let agent = if space.is_some() {
                format!(
                    "; an Agent Space association names one role per account, `{name}`, so the DevOps Agent uses the others only once their policies are attached to it (raise the managed-policies-per-role quota to 20)"
                )
            } else {
                String::new()
            };
            set.notes.push(Note {
                application: app.to_string(),
                kind: "split".to_string(),
                message: format!(
                    "role `{name}` in account `{account}` needs more than {} managed policies even with compressed resources; its permissions are split over {parts} roles (`{name}`, `{name}-2`, …) that together grant what one would{agent}",
                    super::limits::ATTACHED_PER_ROLE
                ),
            });
        }
        for (i, policies) in groups.into_iter().enumerate() {
            let (name, description) = if i == 0 {
                (name.clone(), description.clone())
            } else {
                (
                    format!("{name}-{}", i + 1),
                    format!("{description} Part {} of {parts}.", i + 1),
                )
            };
            set.roles.push(GeneratedRole {
                application: app.to_string(),
                account: account.to_string(),
                tags: tags(t, app, kind),
                name,
                kind,
                description,
                max_session_seconds: MAX_SESSION_SECONDS,
                trust: trust.clone(),
                policies,
                space: space.clone(),
            });
        }
        Ok(())
    };
    // Agent Space roles.
    let mut spaces: Vec<(String, String, Option<String>)> = t
        .agent_spaces()
        .into_iter()
        .filter(|v| v.app == scope.app)
        .map(|v| {
            let primary = v.existing.map(|s| s.account.clone()).or_else(|| {
                v.declared().and_then(|d| {
                    d.into_iter()
                        .find(|a| scope.accounts.contains_key(*a))
                        .map(str::to_string)
                })
            });
            (
                v.name.to_string(),
                primary.unwrap_or_default(),
                v.existing.map(|s| s.arn.clone()),
            )
        })
        .collect();
    if spaces.is_empty() {
        spaces.push((format!("{app}-oncall"), String::new(), None));
    }
    for (space, mut primary, arn) in spaces {
        if primary.is_empty() {
            let configured: Vec<String> = t
                .config
                .application(app)
                .map(|a| a.accounts.iter().map(|x| x.get_ref().clone()).collect())
                .unwrap_or_default();
            primary = configured
                .into_iter()
                .find(|a| scope.accounts.contains_key(a))
                .or_else(|| {
                    scope
                        .accounts
                        .iter()
                        .find(|(_, s)| s.owned_account)
                        .map(|(a, _)| a.clone())
                })
                .or_else(|| scope.accounts.keys().next().cloned())
                .unwrap_or_default();
        }
        let param = super::space_parameter(&space);
        if arn.is_none() {
            set.notes.push(Note {
                application: app.to_string(),
                kind: "placeholder".to_string(),
                message: format!(
                    "Agent Space `{space}` is not in the snapshot; its ARN is the placeholder `${{{param}}}` (a template parameter), to be set when the space exists"
                ),
            });
        }
        set.parameters.insert(
            param.clone(),
            Parameter {
                description: format!("ARN of the Agent Space `{space}` (application `{app}`, account {primary})"),
                // Deployed into the trust policy's `aws:SourceArn`: an IAM literal.
                default: arn.map(|a| iam_literal(&a).into_owned()),
            },
        );
        let trust = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "AgentSpace",
                "Effect": "Allow",
                "Principal": {"Service": AGENT_SERVICE},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": primary},
                    "ArnEquals": {"aws:SourceArn": format!("${{{param}}}")},
                },
            }],
        });
        let mut accounts: BTreeSet<&str> = scope.accounts.keys().map(String::as_str).collect();
        accounts.insert(primary.as_str());
        for account in accounts {
            let kind = if account == primary {
                RoleKind::AgentPrimary
            } else {
                RoleKind::AgentSecondary
            };
            push(
                set,
                account,
                super::agent_role_name(&space),
                kind,
                format!(
                    "Agent Space {space} of {app}: metadata reads on what {app} uses, its own logs and traces, within residency zone(s) {zones}. Generated by topoguard."
                ),
                trust.clone(),
                reads_of(account),
                Some(space.clone()),
            )?;
        }
        if !elevated {
            continue;
        }
        for (account, stmts) in &writes {
            push(
                set,
                account,
                super::agent_elevated_role_name(&space),
                RoleKind::AgentElevated,
                format!(
                    "Agent Space {space} of {app}, elevated actions: reversible throttling and pausing of {app}'s own functions and rules, within residency zone(s) {zones}. Generated by topoguard."
                ),
                trust.clone(),
                stmts.clone(),
                Some(space.clone()),
            )?;
        }
    }
    // Responder roles.
    let principals: Vec<String> = t
        .config
        .responders
        .principals
        .iter()
        .map(|p| p.get_ref().clone())
        .collect();
    if principals.is_empty() {
        set.notes.push(Note {
            application: app.to_string(),
            kind: "no-responders".to_string(),
            message: format!("no `[responders] principals` configured; observe roles of `{app}` not generated"),
        });
    }
    for account in scope.accounts.keys() {
        if !principals.is_empty() {
            let trust = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "Responders",
                    "Effect": "Allow",
                    "Principal": {"AWS": principals},
                    "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                    "Condition": responder_conditions(None),
                }],
            });
            push(
                set,
                account,
                format!("topoguard-{app}-observe"),
                RoleKind::Observe,
                format!(
                    "Incident responders of {app}, observe tier: metadata reads, own logs and traces, within residency zone(s) {zones}. MFA and source identity required. Generated by topoguard."
                ),
                trust,
                reads_of(account),
                None,
            )?;
        }
        let Some(writes) = writes.get(account.as_str()) else {
            continue;
        };
        let tag_key = format!("aws:PrincipalTag/{MITIGATE_TAG}");
        let trust = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "TaggedPrincipalsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                "Condition": responder_conditions(Some((&tag_key, &iam_literal(app)))),
            }],
        });
        let mut stmts = reads_of(account);
        stmts.extend(writes.iter().cloned());
        push(
            set,
            account,
            format!("topoguard-{app}-mitigate"),
            RoleKind::Mitigate,
            format!(
                "Incident responders of {app}, mitigate tier: observe plus reversible throttling and pausing of its own functions and rules. Only for principals of this account tagged {MITIGATE_TAG}={app}, with MFA and source identity. Generated by topoguard."
            ),
            trust,
            stmts,
            None,
        )?;
    }
    Ok(())
}
