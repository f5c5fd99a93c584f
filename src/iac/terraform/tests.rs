//! Terraform plan reader tests: format versions, modules and `count` / `for_each` addresses,
//! unknown-after-apply values, deletes, provider defaults, not-considered types, bad input.
//!
//! Plan format: <https://developer.hashicorp.com/terraform/internals/json-format>

use super::*;
use crate::iac::Draft;
use serde_json::json;

fn plan(changes: serde_json::Value) -> serde_json::Value {
    json!({
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "resource_changes": changes,
        "configuration": {"provider_config": {"aws": {"name": "aws", "expressions": {
            "region": {"constant_value": "eu-west-1"},
            "assume_role": [{"role_arn": {"constant_value": "arn:aws:iam::311111111111:role/deploy"}}]
        }}}}
    })
}

fn rc(
    address: &str,
    ty: &str,
    actions: &[&str],
    before: serde_json::Value,
    after: serde_json::Value,
    unknown: serde_json::Value,
) -> serde_json::Value {
    json!({"address": address, "mode": "managed", "type": ty, "name": "x", "provider_name": "registry.terraform.io/hashicorp/aws",
           "change": {"actions": actions, "before": before, "after": after, "after_unknown": unknown}})
}

fn read(p: &serde_json::Value) -> Result<Overlay, IacError> {
    read_text(
        &serde_json::to_string_pretty(p).unwrap(),
        "plan.json",
        &Target::default(),
    )
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[test]
fn module_and_for_each_addresses_locate_the_change() {
    let address = r#"module.app.aws_iam_role.worker["eu"]"#;
    let p = plan(json!([rc(
        address,
        "aws_iam_role",
        &["create"],
        json!(null),
        json!({"name": "worker-eu", "path": "/", "assume_role_policy": TRUST, "tags": {"app": "invoice"}}),
        json!({"arn": true, "id": true})
    )]));
    let o = read(&p).unwrap();
    let [c] = o.changes.as_slice() else {
        panic!("{:?}", o.changes)
    };
    assert_eq!(c.action, Action::Create);
    assert_eq!(c.location.resource, address);
    // Located at the `"address"` key of its `resource_changes` entry.
    let text = serde_json::to_string_pretty(&p).unwrap();
    let (n, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("\"address\""))
        .unwrap();
    let column = line.find('"').unwrap() + 1;
    assert_eq!(
        (c.location.file.as_str(), c.location.line, c.location.column),
        ("plan.json", n + 1, column)
    );
    let Draft::Role(r) = &c.draft else { panic!() };
    // The account comes from the provider's assume_role, the region from its `region`.
    assert_eq!(r.arn, "arn:aws:iam::311111111111:role/worker-eu");
    assert_eq!(
        r.trust_policy["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    let fields: Vec<&str> = o.unknowns.iter().map(|u| u.field.as_str()).collect();
    assert_eq!(fields, ["after.arn", "after.id"]);
}

#[test]
fn count_indexes_and_deletes_use_before() {
    let p = plan(json!([
        rc(
            "aws_sqs_queue.q[0]",
            "aws_sqs_queue",
            &["create"],
            json!(null),
            json!({"name": "q0"}),
            json!({"arn": true, "url": true})
        ),
        rc(
            "aws_sqs_queue.q[1]",
            "aws_sqs_queue",
            &["delete"],
            json!({"name": "q1", "arn": "arn:aws:sqs:eu-west-1:311111111111:q1"}),
            json!(null),
            json!({})
        ),
    ]));
    let o = read(&p).unwrap();
    let got: Vec<(Action, &str, Option<&str>)> = o
        .changes
        .iter()
        .map(|c| (c.action, c.location.resource.as_str(), c.draft.arn()))
        .collect();
    assert_eq!(
        got,
        [
            (
                Action::Create,
                "aws_sqs_queue.q[0]",
                Some("arn:aws:sqs:eu-west-1:311111111111:q0")
            ),
            (
                Action::Delete,
                "aws_sqs_queue.q[1]",
                Some("arn:aws:sqs:eu-west-1:311111111111:q1")
            ),
        ]
    );
}

#[test]
fn unknown_values_inside_policies_are_marked_and_listed() {
    let p = plan(json!([rc(
        "aws_iam_role_policy.p",
        "aws_iam_role_policy",
        &["create"],
        json!(null),
        json!({"name": "p", "role": "invoice-api"}),
        json!({"policy": true})
    )]));
    let o = read(&p).unwrap();
    let Draft::RolePolicy { policy, .. } = &o.changes[0].draft else {
        panic!()
    };
    assert!(crate::iac::is_unknown(policy.document.value().as_str().unwrap()));
    assert_eq!(o.unknowns[0].field, "after.policy");
    assert_eq!(o.unknowns[0].api, "iam:PutRolePolicy");
}

#[test]
fn no_ops_reads_and_data_sources_change_nothing_and_other_types_are_listed() {
    let mut data = rc(
        "data.aws_iam_policy_document.d",
        "aws_iam_policy_document",
        &["read"],
        json!(null),
        json!({}),
        json!({}),
    );
    data["mode"] = json!("data");
    let p = plan(json!([
        data,
        rc(
            "aws_sqs_queue.same",
            "aws_sqs_queue",
            &["no-op"],
            json!({}),
            json!({}),
            json!({})
        ),
        rc(
            "aws_instance.web",
            "aws_instance",
            &["create"],
            json!(null),
            json!({"ami": "ami-1"}),
            json!({})
        ),
    ]));
    let o = read(&p).unwrap();
    assert!(o.changes.is_empty() && o.unknowns.is_empty());
    assert_eq!(o.not_considered.len(), 1);
    assert_eq!(
        (
            o.not_considered[0].resource_type.as_str(),
            o.not_considered[0].location.resource.as_str()
        ),
        ("aws_instance", "aws_instance.web")
    );
}

#[test]
fn bad_plans_are_clear_errors() {
    let mut p = plan(json!([]));
    p["format_version"] = json!("2.0");
    assert!(
        read(&p)
            .unwrap_err()
            .message
            .contains("`format_version` `2.0` is not supported")
    );
    let e = read(&json!({"Resources": {}})).unwrap_err();
    assert!(e.message.starts_with("not a Terraform plan"), "{e}");
    let e = read_text("{\n  \"format_version\": ", "plan.json", &Target::default()).unwrap_err();
    assert_eq!(e.line, 2);
    let mut p = plan(json!([rc(
        "aws_sqs_queue.q",
        "aws_sqs_queue",
        &["create"],
        json!(null),
        json!({"name": "q"}),
        json!({})
    )]));
    p["configuration"] = json!({});
    let e = read(&p).unwrap_err();
    assert_eq!(e.resource.as_deref(), Some("aws_sqs_queue.q"));
    assert!(e.message.contains("pass `--account`"), "{e}");
}

#[test]
fn allowed_account_ids_and_command_line_fill_in_account_and_region() {
    let mut p = plan(json!([rc(
        "aws_sqs_queue.q",
        "aws_sqs_queue",
        &["create"],
        json!(null),
        json!({"name": "q"}),
        json!({})
    )]));
    p["configuration"]["provider_config"]["aws"]["expressions"] =
        json!({"allowed_account_ids": {"constant_value": ["312222222222"]}});
    let target = Target {
        accounts: vec!["999999999999".into()],
        region: Some("us-west-2".into()),
        parameters: vec![],
    };
    let o = read_text(&p.to_string(), "plan.json", &target).unwrap();
    // The provider's single allowed account wins over `--account`; the region comes from `--region`.
    assert_eq!(o.changes[0].draft.arn(), Some("arn:aws:sqs:us-west-2:312222222222:q"));
    // Near miss: two allowed accounts say nothing, so `--account` decides.
    p["configuration"]["provider_config"]["aws"]["expressions"] =
        json!({"allowed_account_ids": {"constant_value": ["312222222222", "313333333333"]}});
    let o = read_text(&p.to_string(), "plan.json", &target).unwrap();
    assert_eq!(o.changes[0].draft.arn(), Some("arn:aws:sqs:us-west-2:999999999999:q"));
}

/// A queue `name` in module path `module` (`""` for the root), configured with
/// `provider_config_key` `key`, under a plan whose `aws.eu` alias assumes a role in another
/// account and region. Returns the queue's ARN.
/// Provider aliases: <https://developer.hashicorp.com/terraform/language/providers/configuration#alias-multiple-provider-configurations>.
fn aliased_queue_arn(module: &str, key: &str) -> String {
    let address = if module.is_empty() {
        "aws_sqs_queue.x".to_string()
    } else {
        format!("{module}.aws_sqs_queue.x")
    };
    let mut change = rc(
        &address,
        "aws_sqs_queue",
        &["create"],
        json!(null),
        json!({"name": "q"}),
        json!({}),
    );
    if !module.is_empty() {
        change["module_address"] = json!(module);
    }
    let mut p = plan(json!([change]));
    p["configuration"]["provider_config"]["aws.eu"] = json!({"name": "aws", "alias": "eu", "expressions": {
        "region": {"constant_value": "eu-central-1"},
        "assume_role": [{"role_arn": {"constant_value": "arn:aws:iam::322222222222:role/deploy"}}]
    }});
    let resource = json!([{"address": "aws_sqs_queue.x", "mode": "managed", "type": "aws_sqs_queue", "name": "x", "provider_config_key": key}]);
    p["configuration"]["root_module"] = if module.is_empty() {
        json!({"resources": resource})
    } else {
        json!({"module_calls": {"shared": {"module": {"resources": resource}}}})
    };
    let o = read(&p).unwrap();
    match &o.changes[0].draft {
        Draft::Resource(r) => r.arn.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fires_aliased_provider_gives_region_and_account() {
    assert_eq!(
        aliased_queue_arn("", "aws.eu"),
        "arn:aws:sqs:eu-central-1:322222222222:q"
    );
    // In a module (`for_each` key dropped), with the pre-1.0 `module.x:aws.eu` key form.
    assert_eq!(
        aliased_queue_arn(r#"module.shared["a"]"#, "module.shared:aws.eu"),
        "arn:aws:sqs:eu-central-1:322222222222:q"
    );
}

#[test]
fn quiet_default_provider_keeps_the_default_block() {
    assert_eq!(aliased_queue_arn("", "aws"), "arn:aws:sqs:eu-west-1:311111111111:q");
}

#[test]
fn near_miss_unknown_alias_falls_back_to_the_default_provider() {
    assert_eq!(aliased_queue_arn("", "aws.us"), "arn:aws:sqs:eu-west-1:311111111111:q");
}

/// A plan that creates a RAM share of an existing v2 bus, its resource association and its
/// principal association: both associations name the share by its ARN, known only after apply,
/// and meet through the `references` of their `resource_share_arn` expressions.
/// <https://developer.hashicorp.com/terraform/internals/json-format> (expression representation)
fn ram_plan(reference: &str) -> serde_json::Value {
    let bus = "arn:aws:events:eu-west-1:311111111111:event-busv2/orders/0a1b2c3d4e5f6g7h8i9j0k1l2";
    let mut p = plan(json!([
        rc(
            "aws_ram_principal_association.orders",
            "aws_ram_principal_association",
            &["create"],
            json!(null),
            json!({"principal": "322222222222"}),
            json!({"resource_share_arn": true, "id": true})
        ),
        rc(
            "aws_ram_resource_association.orders",
            "aws_ram_resource_association",
            &["create"],
            json!(null),
            json!({"resource_arn": bus}),
            json!({"resource_share_arn": true, "id": true})
        ),
        rc(
            "aws_ram_resource_association.subnet",
            "aws_ram_resource_association",
            &["create"],
            json!(null),
            json!({"resource_arn": "arn:aws:ec2:eu-west-1:311111111111:subnet/subnet-1"}),
            json!({"resource_share_arn": true, "id": true})
        ),
        rc(
            "aws_ram_resource_share.orders",
            "aws_ram_resource_share",
            &["create"],
            json!(null),
            json!({"name": "orders"}),
            json!({"arn": true, "id": true})
        ),
    ]));
    // Real plans name each change after its configuration block (`name` of `type.name`).
    for c in p["resource_changes"].as_array_mut().unwrap() {
        let name = c["address"].as_str().unwrap().rsplit('.').next().unwrap().to_string();
        c["name"] = json!(name);
    }
    let refs = json!({"references": [format!("{reference}.arn"), reference]});
    p["configuration"]["root_module"] = json!({"resources": [
        {"address": "aws_ram_principal_association.orders", "expressions": {"resource_share_arn": refs, "principal": {"constant_value": "322222222222"}}},
        {"address": "aws_ram_resource_association.orders", "expressions": {"resource_share_arn": refs}},
        {"address": "aws_ram_resource_association.subnet", "expressions": {"resource_share_arn": refs}},
        {"address": "aws_ram_resource_share.orders", "expressions": {"name": {"constant_value": "orders"}}}
    ]});
    p
}

fn shares(o: &Overlay) -> Vec<(String, String, Vec<String>)> {
    o.changes
        .iter()
        .filter_map(|c| match &c.draft {
            Draft::BusShare { bus, share, .. } => Some((bus.clone(), share.arn.clone(), Vec::new())),
            Draft::SharePrincipal { share, principal, .. } => {
                Some((String::new(), share.clone(), vec![principal.clone()]))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn fires_ram_associations_of_a_created_share_meet_on_its_stand_in_arn() {
    let o = read(&ram_plan("aws_ram_resource_share.orders")).unwrap();
    let share = "arn:aws:ram:eu-west-1:311111111111:resource-share/terraform-aws_ram_resource_share-orders";
    let got = shares(&o);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|(_, arn, _)| arn == share), "{got:?}");
    assert!(got.iter().any(|(_, _, p)| p == &["322222222222".to_string()]));
    // Joined: the share ARN is no longer an unknown of the associations.
    assert!(
        !o.unknowns.iter().any(|u| u.field.contains("resource_share_arn")),
        "{:?}",
        o.unknowns
    );
    // The subnet association shares nothing modelled; the share itself is listed too.
    let listed: Vec<&str> = o.not_considered.iter().map(|n| n.location.resource.as_str()).collect();
    assert_eq!(
        listed,
        ["aws_ram_resource_association.subnet", "aws_ram_resource_share.orders"]
    );
}

#[test]
fn near_miss_a_reference_to_a_share_the_plan_does_not_create_stays_unknown() {
    let o = read(&ram_plan("aws_ram_resource_share.elsewhere")).unwrap();
    assert!(
        o.unknowns
            .iter()
            .any(|u| u.field == "after.resource_share_arn"
                && u.location.resource == "aws_ram_resource_association.orders"),
        "{:?}",
        o.unknowns
    );
    // The bus share gets a stand-in of its own association; the principal association names
    // the unknown share and so reaches no bus.
    let got = shares(&o);
    assert!(
        got.iter()
            .any(|(bus, arn, _)| !bus.is_empty() && arn.ends_with("terraform-aws_ram_resource_association-orders")),
        "{got:?}"
    );
}
