//! Role synthesis on a small organization: which roles, how they are trusted, what they may do,
//! and that validation catches what the generator must never emit.

use super::*;
use crate::checks::known_ids;
use crate::checks::testkit::*;
use crate::config::parse_config;
use crate::model::parse_snapshot;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;

const RESPONDER: &str = "arn:aws:iam::999999999999:role/oncall";

fn config(extra: &str) -> String {
    format!("{CONFIG}\n[responders]\nprincipals = [\"{RESPONDER}\"]\n{extra}")
}

/// invoice: a function in eu-west-1 sending to a shared queue, a rule on its own bus;
/// checkout: a function of its own.
fn small() -> Value {
    let mut s = org();
    let shared = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({"shared-with": "invoice"}));
    let f = add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&shared]);
    add_rule(&mut s, INVOICE, "eu-west-1", "invoice-created", &[&f], json!({}));
    add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
    s
}

fn generate_with(s: &Value, config: &str, apps: &[&str]) -> Result<RoleSet, RolesError> {
    generate_opts(s, config, apps, false)
}

fn generate_opts(s: &Value, config: &str, apps: &[&str], elevated: bool) -> Result<RoleSet, RolesError> {
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(config, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    generate(
        &t,
        &Options {
            apps: apps.iter().map(|a| a.to_string()).collect(),
            elevated,
        },
    )
}

fn invoice() -> RoleSet {
    generate_with(&small(), &config(""), &["invoice"]).unwrap()
}

fn role<'a>(set: &'a RoleSet, account: &str, name: &str) -> &'a GeneratedRole {
    set.roles
        .iter()
        .find(|r| r.account == account && r.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no {name} in {account}: {:#?}",
                set.roles.iter().map(|r| r.arn()).collect::<Vec<_>>()
            )
        })
}

fn statements(r: &GeneratedRole) -> Vec<Value> {
    r.policies
        .iter()
        .flat_map(|p| p["Statement"].as_array().unwrap().clone())
        .collect()
}

fn all_actions(r: &GeneratedRole) -> Vec<String> {
    statements(r)
        .iter()
        .flat_map(|s| {
            s["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn every_tier_is_generated_in_the_accounts_of_the_footprint() {
    let set = invoice();
    let names: Vec<(String, RoleKind)> = set.roles.iter().map(|r| (r.arn(), r.kind)).collect();
    assert_eq!(
        names,
        vec![
            (
                format!("arn:aws:iam::{INVOICE}:role/DevOpsAgentRole-invoice-oncall"),
                RoleKind::AgentPrimary
            ),
            (
                format!("arn:aws:iam::{INVOICE}:role/topoguard-invoice-mitigate"),
                RoleKind::Mitigate
            ),
            (
                format!("arn:aws:iam::{INVOICE}:role/topoguard-invoice-observe"),
                RoleKind::Observe
            ),
            (
                format!("arn:aws:iam::{SHARED}:role/DevOpsAgentRole-invoice-oncall"),
                RoleKind::AgentSecondary
            ),
            (
                format!("arn:aws:iam::{SHARED}:role/topoguard-invoice-observe"),
                RoleKind::Observe
            ),
        ]
    );
    // The space is not in the snapshot: its ARN is a parameter without default, and a note says so.
    assert_eq!(set.parameters["AgentSpaceArnInvoiceOncall"].default, None);
    assert!(set.notes.iter().any(|n| n.kind == "placeholder"));
}

#[test]
fn agent_trust_is_pinned_and_responder_trust_needs_mfa_and_source_identity() {
    let set = invoice();
    let agent = role(&set, SHARED, "DevOpsAgentRole-invoice-oncall");
    let st = &agent.trust["Statement"][0];
    assert_eq!(st["Principal"]["Service"], "aidevops.amazonaws.com");
    assert_eq!(st["Condition"]["StringEquals"]["aws:SourceAccount"], INVOICE);
    assert_eq!(
        st["Condition"]["ArnEquals"]["aws:SourceArn"],
        "${AgentSpaceArnInvoiceOncall}"
    );
    let observe = role(&set, INVOICE, "topoguard-invoice-observe");
    let st = &observe.trust["Statement"][0];
    assert_eq!(st["Principal"]["AWS"], json!([RESPONDER]));
    assert_eq!(st["Action"], json!(["sts:AssumeRole", "sts:SetSourceIdentity"]));
    assert_eq!(st["Condition"]["Bool"]["aws:MultiFactorAuthPresent"], "true");
    assert_eq!(st["Condition"]["Null"]["sts:SourceIdentity"], "false");
    assert_eq!(observe.max_session_seconds, 3600);
    let mitigate = role(&set, INVOICE, "topoguard-invoice-mitigate");
    let st = &mitigate.trust["Statement"][0];
    assert_eq!(st["Principal"]["AWS"], format!("arn:aws:iam::{INVOICE}:root"));
    assert_eq!(
        st["Condition"]["StringEquals"]["aws:PrincipalTag/topoguard-mitigate"],
        "invoice"
    );
}

#[test]
fn permissions_are_scoped_to_own_and_used_resources_within_the_zone() {
    let set = invoice();
    for r in &set.roles {
        for st in statements(r) {
            assert_eq!(
                st["Condition"]["StringEquals"]["aws:RequestedRegion"],
                json!(["eu-central-1", "eu-west-1"])
            );
            let text = st.to_string();
            assert!(!text.contains("checkout"), "{} names checkout: {text}", r.arn());
        }
    }
    let shared = role(&set, SHARED, "DevOpsAgentRole-invoice-oncall");
    let actions = all_actions(shared);
    assert!(actions.contains(&"sqs:GetQueueAttributes".to_string()));
    assert!(!actions.iter().any(|a| a.starts_with("logs:") || a.starts_with("xray:")));
    assert!(!actions.contains(&"sqs:ReceiveMessage".to_string()));
    let own = role(&set, INVOICE, "DevOpsAgentRole-invoice-oncall");
    let logs = statements(own)
        .into_iter()
        .find(|s| s["Sid"] == "OwnLogGroups")
        .unwrap();
    assert_eq!(
        logs["Resource"],
        json!([
            "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/invoice-api",
            "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/invoice-api:*"
        ])
    );
    assert!(all_actions(own).contains(&"xray:GetTraceSummaries".to_string()));
}

#[test]
fn only_mitigate_writes_and_only_on_own_resources() {
    let set = invoice();
    let mitigate = role(&set, INVOICE, "topoguard-invoice-mitigate");
    let writes: Vec<Value> = statements(mitigate)
        .into_iter()
        .filter(|s| s["Sid"].as_str().unwrap().starts_with("Mitigate"))
        .collect();
    let got: Vec<(Value, Value)> = writes
        .iter()
        .map(|s| (s["Action"].clone(), s["Resource"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                json!(["lambda:DeleteFunctionConcurrency", "lambda:PutFunctionConcurrency"]),
                json!(["arn:aws:lambda:eu-west-1:111111111111:function:invoice-api"])
            ),
            (
                json!(["events:DisableRule", "events:EnableRule"]),
                json!(["arn:aws:events:eu-west-1:111111111111:rule/invoice-created-bus/invoice-created"])
            ),
        ]
    );
    assert!(
        !set.roles
            .iter()
            .any(|r| r.kind == RoleKind::Mitigate && r.account == SHARED)
    );
}

#[test]
fn elevated_roles_only_with_the_option_and_only_the_mitigate_writes_trusted_by_the_one_space() {
    let without = invoice();
    assert!(!without.roles.iter().any(|r| r.kind == RoleKind::AgentElevated));
    let set = generate_opts(&small(), &config(""), &["invoice"], true).unwrap();
    let elevated: Vec<&GeneratedRole> = set.roles.iter().filter(|r| r.kind == RoleKind::AgentElevated).collect();
    // Only where the application owns functions or rules: not in the shared-services account.
    assert_eq!(
        elevated.iter().map(|r| r.arn()).collect::<Vec<_>>(),
        vec![format!(
            "arn:aws:iam::{INVOICE}:role/DevOpsAgentElevatedRole-invoice-oncall"
        )]
    );
    let e = elevated[0];
    assert_eq!(e.space.as_deref(), Some("invoice-oncall"));
    // The same trust as the space's agent role: the service, pinned to the one space.
    assert_eq!(e.trust, role(&set, INVOICE, "DevOpsAgentRole-invoice-oncall").trust);
    // Exactly the mitigate tier's writes, nothing else (the agent reads through its agent role).
    let mitigate = role(&set, INVOICE, "topoguard-invoice-mitigate");
    let mitigate_writes: Vec<Value> = statements(mitigate)
        .into_iter()
        .filter(|s| s["Sid"].as_str().unwrap().starts_with("Mitigate"))
        .collect();
    assert_eq!(statements(e), mitigate_writes);
    // The other tiers are the same with or without the option.
    let others: Vec<&GeneratedRole> = set.roles.iter().filter(|r| r.kind != RoleKind::AgentElevated).collect();
    assert_eq!(others, without.roles.iter().collect::<Vec<_>>());
}

#[test]
fn validation_refuses_an_elevated_role_writing_outside_the_mitigate_allowlist() {
    let snapshot = parse_snapshot(&small().to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(&config(""), Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let catalog = crate::iam::catalog::Catalog::get().unwrap();
    let set = generate(
        &t,
        &Options {
            apps: vec!["invoice".to_string()],
            elevated: true,
        },
    )
    .unwrap();
    let mut e = set
        .roles
        .iter()
        .find(|r| r.kind == RoleKind::AgentElevated)
        .unwrap()
        .clone();
    validate::validate(&t, catalog, &e).unwrap();
    // A write outside the allowlist (on its own function) is a bug the validation catches.
    e.policies[0]["Statement"][0]["Action"] = json!(["lambda:UpdateFunctionCode"]);
    let err = validate::validate(&t, catalog, &e).unwrap_err();
    assert!(err.to_string().contains("not an allowed mitigation"), "{err}");
}

#[test]
fn a_footprint_outside_the_configured_zone_is_left_out_and_reported() {
    let mut s = small();
    let us = add_queue(&mut s, SHARED, "us-east-1", "us-orders", json!({}));
    add_function(&mut s, INVOICE, "eu-west-1", "invoice-mirror", &[&us]);
    let cfg = config("").replace(
        "[applications.invoice]\naccounts = [\"111111111111\"]",
        "[applications.invoice]\naccounts = [\"111111111111\"]\nzone = \"eu\"",
    );
    let set = generate_with(&s, &cfg, &["invoice"]).unwrap();
    let note = set.notes.iter().find(|n| n.kind == "zone-crossing").unwrap();
    assert!(note.message.contains(&us), "{}", note.message);
    assert!(
        set.roles
            .iter()
            .all(|r| !serde_json::to_string(&r.policies).unwrap().contains(&us))
    );
}

#[test]
fn bad_input_is_reported() {
    let err = generate_with(&small(), &config(""), &["nope"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown application `nope`; known applications: `checkout`, `invoice`"
    );
    let cfg = config("[applications.empty]\naccounts = [\"123456789012\"]\n");
    let err = generate_with(&small(), &cfg, &["empty"]).unwrap_err();
    assert_eq!(err, RolesError::NoResources("empty".to_string()));
    // Without --app, an application without resources is skipped with a note.
    let set = generate_with(&small(), &cfg, &[]).unwrap();
    assert!(
        set.notes
            .iter()
            .any(|n| n.application == "empty" && n.kind == "no-resources")
    );
    assert!(!set.roles.iter().any(|r| r.application == "empty"));
}

#[test]
fn validation_rejects_writes_wildcards_and_foreign_content_reads() {
    let s = small();
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let cfg = config("");
    let config = parse_config(&cfg, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let catalog = Catalog::get().unwrap();
    let set = invoice();
    let base = role(&set, INVOICE, "topoguard-invoice-observe").clone();
    let with = |actions: &[&str], resource: &str| {
        let mut r = base.clone();
        r.policies = vec![
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": [resource],
            "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}]}),
        ];
        validate::validate(&t, catalog, &r).map_err(|e| e.to_string())
    };
    let lambda = "arn:aws:lambda:eu-west-1:111111111111:function:invoice-api";
    assert!(with(&["lambda:GetFunctionConcurrency"], lambda).is_ok());
    let err = with(&["lambda:PutFunctionConcurrency"], lambda).unwrap_err();
    assert!(err.contains("read-only role grants a change"), "{err}");
    let err = with(&["lambda:GetFunctionConcurrency"], "*").unwrap_err();
    assert!(err.contains("supports resource-level permissions"), "{err}");
    let err = with(&["sqs:ReceiveMessage"], "arn:aws:sqs:eu-west-1:999999999999:orders").unwrap_err();
    assert!(err.contains("content read `sqs:ReceiveMessage`"), "{err}");
    let err = with(&["lambda:NoSuchAction"], lambda).unwrap_err();
    assert!(err.contains("not in the catalog"), "{err}");
    let mut mitigate = role(&set, INVOICE, "topoguard-invoice-mitigate").clone();
    mitigate.policies = vec![
        json!({"Statement": [{"Effect": "Allow", "Action": ["lambda:PutFunctionConcurrency"],
        "Resource": ["arn:aws:lambda:eu-west-1:222222222222:function:checkout-api"],
        "Condition": {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}]}),
    ];
    let err = validate::validate(&t, catalog, &mitigate).unwrap_err().to_string();
    assert!(err.contains("not an allowed mitigation on own resources"), "{err}");
}

#[test]
fn the_same_input_renders_the_same_bytes() {
    for format in [Format::Iam, Format::Cloudformation, Format::Terraform] {
        let a = render(&invoice(), format);
        let b = render(&invoice(), format);
        assert_eq!(a, b);
    }
}

#[test]
fn iam_format_snapshot() {
    let files = render(&invoice(), Format::Iam);
    let mut text = String::new();
    for (path, bytes) in &files {
        text.push_str(&format!("=== {path}\n{}", String::from_utf8_lossy(bytes)));
    }
    insta::assert_snapshot!(text);
}

#[test]
fn cloudformation_and_terraform_carry_placeholders_as_parameters() {
    let set = invoice();
    let cfn = render(&set, Format::Cloudformation);
    let template: Value = serde_json::from_slice(&cfn[&format!("{SHARED}.template.json")]).unwrap();
    assert_eq!(template["Parameters"]["AgentSpaceArnInvoiceOncall"]["Type"], "String");
    let role = &template["Resources"]["DevOpsAgentRoleInvoiceOncall"]["Properties"];
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"],
        json!({"Ref": "AgentSpaceArnInvoiceOncall"})
    );
    let tf = render(&set, Format::Terraform);
    let module: Value = serde_json::from_slice(&tf[&format!("{SHARED}/main.tf.json")]).unwrap();
    let trust = module["resource"]["aws_iam_role"]["dev_ops_agent_role_invoice_oncall"]["assume_role_policy"]
        .as_str()
        .unwrap();
    assert!(trust.contains("\"${var.agent_space_arn_invoice_oncall}\""), "{trust}");
    assert!(module["variable"]["agent_space_arn_invoice_oncall"].is_object());
}

#[test]
fn placeholders_are_substituted_only_when_known() {
    let doc = json!({"a": ["x-${A}-y", "${B}"], "b": "${A"});
    let out = substitute(&doc, &|n| (n == "A").then(|| "1".to_string()));
    assert_eq!(out, json!({"a": ["x-1-y", "${B}"], "b": "${A"}));
}

#[test]
fn agent_space_templates_create_the_space_and_associate_the_footprint() {
    use render::agent_spaces::{Associated, render as spaces};
    let set = invoice();
    let files = spaces(&set, &Associated::new(), &Default::default());
    let t: Value = serde_json::from_slice(&files["agent-spaces/invoice-oncall.template.json"]).unwrap();
    assert_eq!(t["Resources"]["AgentSpace"]["Type"], "AWS::DevOpsAgent::AgentSpace");
    assert_eq!(t["Resources"]["AgentSpace"]["Properties"]["Name"], "invoice-oncall");
    assert_eq!(
        t["Outputs"]["AgentSpaceArn"]["Value"],
        json!({"Fn::GetAtt": ["AgentSpace", "Arn"]})
    );
    // The primary account (the application's own) is the monitor account, the shared one a source.
    let primary = &t["Resources"][format!("Association{INVOICE}")];
    assert_eq!(primary["Condition"], "Associate");
    assert_eq!(
        primary["Properties"]["AgentSpaceId"],
        json!({"Fn::GetAtt": ["AgentSpace", "AgentSpaceId"]})
    );
    let aws = &primary["Properties"]["Configuration"]["Aws"];
    assert_eq!(aws["AccountType"], "monitor");
    assert_eq!(
        aws["AssumableRoleArn"],
        role(&set, INVOICE, "DevOpsAgentRole-invoice-oncall").arn()
    );
    let source = &t["Resources"][format!("Association{SHARED}")]["Properties"]["Configuration"]["SourceAws"];
    assert_eq!(source["AccountType"], "source");
    assert_eq!(
        source["AssumableRoleArn"],
        role(&set, SHARED, "DevOpsAgentRole-invoice-oncall").arn()
    );
    assert_eq!(t["Parameters"]["AssociateAccounts"]["Default"], "false");

    // An account already associated is left out.
    let done: Associated = [("invoice-oncall".to_string(), [INVOICE.to_string()].into())].into();
    let t: Value =
        serde_json::from_slice(&spaces(&set, &done, &Default::default())["agent-spaces/invoice-oncall.template.json"])
            .unwrap();
    assert!(t["Resources"].get(format!("Association{INVOICE}")).is_none());
    assert!(t["Resources"].get(format!("Association{SHARED}")).is_some());
    assert!(t["Description"].as_str().unwrap().contains(INVOICE));
}

#[test]
fn an_existing_agent_space_is_referenced_not_created() {
    use render::agent_spaces::{Associated, render as spaces};
    let mut s = small();
    let arn = format!("arn:aws:aidevops:eu-west-1:{INVOICE}:agentspace/as-123");
    add(
        &mut s,
        "agent_spaces",
        json!({"id": "as-123", "arn": arn, "name": "invoice-oncall", "account": INVOICE, "region": "eu-west-1", "associations": []}),
    );
    let set = generate_with(
        &s,
        &config("[agent_spaces.invoice-oncall]\napplication = \"invoice\"\n"),
        &["invoice"],
    )
    .unwrap();
    let done: Associated = [("invoice-oncall".to_string(), [INVOICE.to_string()].into())].into();
    let files = spaces(&set, &done, &Default::default());
    let t: Value = serde_json::from_slice(&files["agent-spaces/invoice-oncall.template.json"]).unwrap();
    assert!(t["Resources"].get("AgentSpace").is_none(), "{t:#}");
    assert_eq!(t["Parameters"]["AgentSpaceId"]["Default"], "as-123");
    let assoc = &t["Resources"][format!("Association{SHARED}")]["Properties"];
    assert_eq!(assoc["AgentSpaceId"], json!({"Ref": "AgentSpaceId"}));
    // Associated with its whole footprint: nothing to deploy, no template.
    let all: Associated = [(
        "invoice-oncall".to_string(),
        [INVOICE.to_string(), SHARED.to_string()].into(),
    )]
    .into();
    assert!(spaces(&set, &all, &Default::default()).is_empty());
    // Associations that could not be read: unknown, so no association is proposed (one AWS
    // already has would fail the stack); with the space's name in `unread`, no template.
    let unread = ["invoice-oncall".to_string()].into();
    assert!(spaces(&set, &done, &unread).is_empty());
    // Near miss: another space's unread associations do not hide this one's template.
    let other = ["catalog-oncall".to_string()].into();
    assert!(spaces(&set, &done, &other).contains_key("agent-spaces/invoice-oncall.template.json"));
}

/// Six regions in one residency zone, for an application spread over all of them.
const WORLD: [&str; 6] = [
    "eu-west-1",
    "eu-central-1",
    "us-east-1",
    "us-west-2",
    "ap-southeast-1",
    "ap-northeast-1",
];

fn world_config() -> String {
    let regions = WORLD.iter().map(|r| format!("\"{r}\"")).collect::<Vec<_>>().join(", ");
    format!(
        "[applications.invoice]\naccounts = [\"{INVOICE}\"]\nzone = \"world\"\n[applications.checkout]\naccounts = [\"{CHECKOUT}\"]\nzone = \"world\"\n[shared_dependencies]\naccounts = [\"{SHARED}\"]\n[zones.world]\nregions = [{regions}]\n[responders]\nprincipals = [\"{RESPONDER}\"]\n[agent_spaces.invoice]\napplication = \"invoice\"\n"
    )
}

/// invoice with `functions` functions and `rules` rules (on one bus per region) spread over six
/// regions, each function sending to its region's shared queue; a checkout function sits in
/// invoice's account in one region (so that region cannot be granted as `function:*`).
fn big_application(functions: usize, rules: usize) -> Value {
    let mut s = org();
    for region in WORLD {
        let q = add_queue(
            &mut s,
            SHARED,
            region,
            &format!("orders-{region}"),
            json!({"shared-with": "invoice"}),
        );
        let _ = q;
        add(
            &mut s,
            "event_buses",
            json!({"arn": format!("arn:aws:events:{region}:{INVOICE}:event-bus/invoice"), "account": INVOICE, "region": region, "name": "invoice"}),
        );
    }
    let mut arns = Vec::new();
    for i in 0..functions {
        let region = WORLD.get(i % WORLD.len()).copied().unwrap_or("eu-west-1");
        let q = queue_arn(SHARED, region, &format!("orders-{region}"));
        arns.push(add_function(
            &mut s,
            INVOICE,
            region,
            &format!("invoice-fn-{i:03}"),
            &[&q],
        ));
    }
    for i in 0..rules {
        let region = WORLD.get(i % WORLD.len()).copied().unwrap_or("eu-west-1");
        let target = format!(
            "arn:aws:lambda:{region}:{INVOICE}:function:invoice-fn-{:03}",
            i % functions.max(1)
        );
        add(
            &mut s,
            "rules",
            json!({"arn": format!("arn:aws:events:{region}:{INVOICE}:rule/invoice/invoice-rule-{i:03}"), "account": INVOICE, "region": region, "name": format!("invoice-rule-{i:03}"), "bus": format!("arn:aws:events:{region}:{INVOICE}:event-bus/invoice"), "state": "ENABLED", "targets": [{"id": "t", "arn": target}]}),
        );
    }
    add(
        &mut s,
        "functions",
        json!({"arn": format!("arn:aws:lambda:eu-west-1:{INVOICE}:function:checkout-guest"), "account": INVOICE, "region": "eu-west-1", "name": "checkout-guest", "role": format!("arn:aws:iam::{INVOICE}:role/checkout-guest"), "tags": {"app": "checkout"}}),
    );
    add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
    add_invoice_space(&mut s, &[]);
    s
}

/// Every resource string the snapshot's topology knows that `pattern` matches.
fn matched<'a>(universe: &'a BTreeSet<String>, pattern: &str) -> Vec<&'a String> {
    universe.iter().filter(|x| crate::arn::glob_match(pattern, x)).collect()
}

#[test]
fn roles_of_an_application_of_real_size_fit_the_quotas_without_widening() {
    let s = big_application(300, 600);
    let config_text = world_config();
    let set = generate_with(&s, &config_text, &["invoice"]).unwrap();
    let snapshot = parse_snapshot(&s.to_string(), Path::new("t.json")).unwrap();
    let config = parse_config(&config_text, Path::new("t.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let app = t.app_id("invoice").unwrap();
    // What invoice may be granted: its own and used resources, and its functions' log groups.
    let mut footprint: BTreeSet<String> = BTreeSet::new();
    for (ix, node) in t.nodes() {
        if t.owner(ix) == Some(app) || t.users(ix).iter().any(|(a, _)| *a == app) {
            footprint.insert(node.id.to_string());
            if let Some(g) = super::actions::own_log_group(&t, ix).filter(|_| t.owner(ix) == Some(app)) {
                footprint.insert(format!("{g}:*"));
                footprint.insert(g);
            }
        }
    }
    let mut universe: BTreeSet<String> = BTreeSet::new();
    for account in [INVOICE, CHECKOUT, SHARED] {
        universe.extend(super::compress::universe(&t, account));
    }
    for role in &set.roles {
        assert!(role.policies.len() <= limits::ATTACHED_PER_ROLE, "{}", role.name);
        for p in &role.policies {
            assert!(
                compact_len(p) <= limits::MANAGED_POLICY,
                "{}: {}",
                role.name,
                compact_len(p)
            );
        }
        for st in statements(role) {
            for r in st["Resource"].as_array().unwrap() {
                let r = r.as_str().unwrap();
                if r == "*" {
                    continue;
                }
                let hits = matched(&universe, r);
                assert!(!hits.is_empty() || !r.contains('*'), "{r} matches nothing");
                for h in hits {
                    assert!(footprint.contains(h), "{} grants `{r}`, which matches `{h}`", role.name);
                }
            }
        }
    }
    let largest = set
        .roles
        .iter()
        .flat_map(|r| r.policies.iter().map(compact_len))
        .max()
        .unwrap_or(0);
    let most = set.roles.iter().map(|r| r.policies.len()).max().unwrap_or(0);
    eprintln!(
        "300 functions / 600 rules / 6 regions: {} roles, at most {most} policies per role, largest policy {largest} characters",
        set.roles.len()
    );
    // It fits without splitting: one role per tier and account.
    assert!(!set.notes.iter().any(|n| n.kind == "split"), "{:#?}", set.notes);
    // Compression as people would write it: a wholly owned region is `function:*`; the region
    // with checkout's function keeps a name prefix.
    let observe = role(&set, INVOICE, "topoguard-invoice-observe");
    let resources: Vec<String> = statements(observe)
        .iter()
        .flat_map(|s| s["Resource"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(
        resources.contains(&format!("arn:aws:lambda:us-east-1:{INVOICE}:function:*")),
        "{resources:#?}"
    );
    assert!(resources.contains(&format!("arn:aws:lambda:eu-west-1:{INVOICE}:function:invoice-fn-*")));
    assert!(!resources.contains(&format!("arn:aws:lambda:eu-west-1:{INVOICE}:function:*")));
}

#[test]
fn generated_roles_of_a_large_application_raise_no_iam_finding() {
    let s = big_application(300, 600);
    let config_text = world_config();
    let set = generate_with(&s, &config_text, &["invoice"]).unwrap();
    // Deploy the roles into the snapshot (policies inline: evaluation is the same), with the
    // responder principal able to assume them.
    let mut deployed = s.clone();
    let arns: BTreeSet<String> = set.roles.iter().map(|r| r.arn()).collect();
    for r in &set.roles {
        let inline: Vec<Value> = r
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| json!({"name": r.policy_name(i), "document": with_defaults(&set, p)}))
            .collect();
        add(
            &mut deployed,
            "roles",
            json!({"arn": r.arn(), "account": r.account, "name": r.name, "tags": r.tags, "trust_policy": with_defaults(&set, &r.trust), "inline_policies": inline}),
        );
    }
    add_role(
        &mut deployed,
        SHARED,
        "oncall",
        json!({"Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::999999999999:saml-provider/sso"}, "Action": "sts:AssumeRoleWithSAML"}]}),
        allow(
            &["sts:AssumeRole", "sts:SetSourceIdentity"],
            "arn:aws:iam::*:role/topoguard-*",
        ),
    );
    let associations: Vec<Value> = set
        .roles
        .iter()
        .filter(|r| r.kind == RoleKind::AgentSecondary)
        .map(|r| json!({"account": r.account, "role": r.arn()}))
        .collect();
    deployed["agent_spaces"][0]["associations"] = json!(associations);
    let findings = run_engine(&deployed, &config_text, "t.toml");
    let iam: Vec<_> = findings
        .iter()
        .filter(|f| {
            [
                "incident-access-not-read-only",
                "agent-space-role-unpinned",
                "agent-space-role-overbroad",
                "cross-account-write-to-shared",
            ]
            .contains(&f.check.as_str())
                && arns
                    .iter()
                    .any(|a| f.resource == *a || f.evidence.iter().any(|e| e.from == *a))
        })
        .collect();
    assert!(iam.is_empty(), "{iam:#?}");
}

#[test]
fn a_role_that_cannot_fit_even_compressed_is_split_with_a_note() {
    // 3,000 functions in a shared-dependency account that invoice uses but does not own: no
    // wildcard is allowed there, so the exact ARNs need more than ten policies.
    let mut s = org();
    let mut used = Vec::new();
    for i in 0..1500 {
        let region = if i % 2 == 0 { "eu-west-1" } else { "us-east-1" };
        // Every other name breaks the prefix, so nothing compresses.
        used.push(add_queue(
            &mut s,
            SHARED,
            region,
            &format!("q{i:04}-{}", if i % 2 == 0 { "a" } else { "b" }),
            json!({}),
        ));
        add_queue(&mut s, SHARED, region, &format!("q{i:04}-x"), json!({}));
    }
    let refs: Vec<&str> = used.iter().map(String::as_str).collect();
    add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &refs);
    let config = format!(
        "[applications.invoice]\naccounts = [\"{INVOICE}\"]\n[applications.checkout]\naccounts = [\"{CHECKOUT}\"]\n[shared_dependencies]\naccounts = [\"{SHARED}\"]\n[zones.world]\nregions = [\"eu-west-1\", \"us-east-1\"]\n[responders]\nprincipals = [\"{RESPONDER}\"]\n"
    );
    let set = generate_with(&s, &config, &["invoice"]).unwrap();
    let observe: Vec<&GeneratedRole> = set
        .roles
        .iter()
        .filter(|r| r.account == SHARED && r.name.starts_with("topoguard-invoice-observe"))
        .collect();
    assert!(
        observe.len() >= 2,
        "{:?}",
        observe.iter().map(|r| &r.name).collect::<Vec<_>>()
    );
    assert!(
        set.notes
            .iter()
            .any(|n| n.kind == "split" && n.message.contains("topoguard-invoice-observe"))
    );
    // Together they grant every used queue.
    let granted: BTreeSet<String> = observe
        .iter()
        .flat_map(|r| statements(r))
        .flat_map(|s| s["Resource"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(used.iter().all(|q| granted.contains(q)));
}

/// (action, resource) pairs a role's policies grant.
fn grants(r: &GeneratedRole) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for s in statements(r) {
        let list = |v: &Value| -> Vec<String> {
            match v {
                Value::String(x) => vec![x.clone()],
                Value::Array(xs) => xs.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
                _ => Vec::new(),
            }
        };
        for a in list(&s["Action"]) {
            for res in list(&s["Resource"]) {
                out.insert((a.clone(), res));
            }
        }
    }
    out
}

#[test]
fn a_split_agent_space_role_is_rendered_as_valid_parts_covering_exactly_the_footprint() {
    use render::agent_spaces::{Associated, render as spaces};
    // As above: 1,500 used queues in the shared account whose names defeat compression, next to
    // 1,500 unused ones.
    let mut s = org();
    let mut used = BTreeSet::new();
    for i in 0..1500 {
        let region = if i % 2 == 0 { "eu-west-1" } else { "us-east-1" };
        let tail = if i % 2 == 0 { "a" } else { "b" };
        used.insert(add_queue(&mut s, SHARED, region, &format!("q{i:04}-{tail}"), json!({})));
        add_queue(&mut s, SHARED, region, &format!("q{i:04}-x"), json!({}));
    }
    let refs: Vec<&str> = used.iter().map(String::as_str).collect();
    add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &refs);
    let config = format!(
        "[applications.invoice]\naccounts = [\"{INVOICE}\"]\n[applications.checkout]\naccounts = [\"{CHECKOUT}\"]\n[shared_dependencies]\naccounts = [\"{SHARED}\"]\n[zones.world]\nregions = [\"eu-west-1\", \"us-east-1\"]\n[agent_spaces.invoice-space]\napplication = \"invoice\"\n"
    );
    let set = generate_with(&s, &config, &["invoice"]).unwrap();
    let parts: Vec<&GeneratedRole> = set
        .roles
        .iter()
        .filter(|r| r.account == SHARED && r.space.as_deref() == Some("invoice-space"))
        .collect();
    let names: Vec<&str> = parts.iter().map(|r| r.name.as_str()).collect();
    assert!(parts.len() >= 2, "{names:?}");
    assert_eq!(names[0], "DevOpsAgentRole-invoice-space");
    assert!(
        names[1..]
            .iter()
            .enumerate()
            .all(|(i, n)| *n == format!("DevOpsAgentRole-invoice-space-{}", i + 2))
    );
    // Each part is a valid role of its own (`generate` validated every one): within the quota,
    // trusted by the one space, of the agent kind.
    for r in &parts {
        assert!(r.policies.len() <= limits::ATTACHED_PER_ROLE, "{}", r.name);
        assert!(r.policies.iter().all(|p| compact_len(p) <= limits::MANAGED_POLICY));
        assert_eq!(r.trust, parts[0].trust);
        assert_eq!(r.kind, RoleKind::AgentSecondary);
    }
    // Together they grant exactly the used queues, each pair once, and no unused queue.
    let each: Vec<BTreeSet<(String, String)>> = parts.iter().map(|r| grants(r)).collect();
    let union: BTreeSet<(String, String)> = each.iter().flatten().cloned().collect();
    assert_eq!(
        union.len(),
        each.iter().map(BTreeSet::len).sum::<usize>(),
        "parts overlap"
    );
    let queues: BTreeSet<String> = union
        .iter()
        .filter(|(_, r)| r.starts_with("arn:aws:sqs:"))
        .map(|(_, r)| r.clone())
        .collect();
    assert_eq!(queues, used);
    assert!(set.notes.iter().any(|n| {
        n.kind == "split"
            && n.message
                .contains("`DevOpsAgentRole-invoice-space` in account `999999999999`")
            && n.message.contains("association names one role")
    }));
    // Every part is rendered, and the association names the first part only.
    let cfn = render(&set, Format::Cloudformation);
    let account: Value = serde_json::from_slice(&cfn[&format!("{SHARED}.template.json")]).unwrap();
    let rendered: Vec<&Value> = account["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::IAM::Role")
        .map(|r| &r["Properties"]["RoleName"])
        .filter(|n| n.as_str().is_some_and(|n| n.starts_with("DevOpsAgentRole-")))
        .collect();
    assert_eq!(rendered.len(), parts.len());
    let files = spaces(&set, &Associated::new(), &Default::default());
    let t: Value = serde_json::from_slice(&files["agent-spaces/invoice-space.template.json"]).unwrap();
    let assoc = &t["Resources"][format!("Association{SHARED}")]["Properties"]["Configuration"]["SourceAws"];
    assert_eq!(assoc["AssumableRoleArn"], parts[0].arn());
    let listed: Vec<String> = parts[1..].iter().map(|r| r.arn()).collect();
    assert_eq!(t["Metadata"]["topoguard:UnassociatedParts"][SHARED], json!(listed));
}

#[test]
fn a_trust_too_large_for_iam_is_the_configs_doing_and_invalid_output_is_a_bug() {
    // Exit 2 (input) versus exit 4 (internal) in `topoguard roles` follows this split.
    let trust = RolesError::TrustTooLarge {
        application: "a".into(),
        role: "r".into(),
        account: "1".into(),
        size: 3000,
        limit: limits::TRUST_POLICY,
    };
    assert!(!trust.is_internal());
    assert!(trust.to_string().contains("3000 characters"), "{trust}");
    let invalid = RolesError::Invalid {
        role: "r".into(),
        problem: "p".into(),
    };
    assert!(invalid.is_internal());
}

/// Without a configured `zone`, an application whose own resources span several zones gets a
/// `no-zone` note (each account's roles are limited to the zones of its resources); with its
/// resources in one zone it gets none. Kills the `>` → `<` mutant of `scope.rs` (docs/testing.md).
#[test]
fn an_application_without_a_zone_spanning_several_zones_is_noted() {
    let mut s = small();
    add_function(&mut s, INVOICE, "us-east-1", "invoice-us", &[]);
    let set = generate_with(&s, &config(""), &["invoice"]).unwrap();
    let note = set.notes.iter().find(|n| n.kind == "no-zone").unwrap();
    assert!(
        note.message.contains("`eu`") && note.message.contains("`us`"),
        "{}",
        note.message
    );
    assert!(invoice().notes.iter().all(|n| n.kind != "no-zone"));
}

/// The scope of each account of the footprint says whether it is a shared-dependency account
/// (config `[shared_dependencies]`) and whether the application owns it; the role's permissions
/// depend on both. Kills the "delete field `shared`" mutant of `scope.rs` (docs/testing.md).
#[test]
fn the_scope_marks_shared_dependency_and_owned_accounts() {
    let snapshot = parse_snapshot(&small().to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(&config(""), Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let app = t.app_id("invoice").unwrap();
    let scope = scope::AppScope::compute(&t, app, &mut Vec::new()).unwrap();
    let shared = &scope.accounts[SHARED];
    let own = &scope.accounts[INVOICE];
    assert!(shared.shared && !shared.owned_account);
    assert!(!own.shared && own.owned_account);
}

/// An application whose every resource lies outside its configured zone has nothing to scope a
/// role to: no scope (and a `zone-crossing` note), not an empty one. Kills the `||` → `&&`
/// mutant of `scope.rs` (docs/testing.md).
#[test]
fn an_application_entirely_outside_its_zone_has_no_scope() {
    let cfg = config("").replace(
        "[applications.invoice]\naccounts = [\"111111111111\"]",
        "[applications.invoice]\naccounts = [\"111111111111\"]\nzone = \"us\"",
    );
    let snapshot = parse_snapshot(&small().to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(&cfg, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let mut notes = Vec::new();
    let scope = scope::AppScope::compute(&t, t.app_id("invoice").unwrap(), &mut notes);
    assert!(scope.is_none());
    assert!(notes.iter().any(|n| n.kind == "zone-crossing"));
}
