//! CloudFormation reader tests: every intrinsic, conditions, parameters, unknown values, YAML
//! short forms, not-considered types and each bad-input class.
//!
//! Intrinsic semantics: <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html>
//! Pseudo parameters: <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html>

use super::*;
use crate::iac::{Draft, Target};
use serde_json::json;

const ACCOUNT: &str = "311111111111";

fn target(params: &[(&str, &str)]) -> Target {
    Target {
        accounts: vec![ACCOUNT.to_string()],
        region: Some("eu-west-1".to_string()),
        parameters: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn read(template: &serde_json::Value, params: &[(&str, &str)]) -> Result<Overlay, IacError> {
    read_text(
        &serde_json::to_string_pretty(template).unwrap(),
        "t.json",
        &target(params),
    )
}

/// The inline policy document of the first role draft.
fn role_policy(o: &Overlay) -> serde_json::Value {
    o.changes
        .iter()
        .find_map(|c| match &c.draft {
            Draft::Role(r) => r.inline_policies.first().map(|p| p.document.value().clone()),
            _ => None,
        })
        .unwrap()
}

fn template_with_resource(resource: serde_json::Value) -> serde_json::Value {
    json!({
        "Parameters": {"Env": {"Type": "String", "Default": "prod"}, "Names": {"Type": "CommaDelimitedList", "Default": "a,b"}},
        "Mappings": {"Zone": {"eu-west-1": {"Peer": "eu-central-1"}}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}, "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]}},
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders"}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": "worker",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
                "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": resource}]}}]
            }}
        }
    })
}

fn resolved(resource: serde_json::Value, params: &[(&str, &str)]) -> serde_json::Value {
    let o = read(&template_with_resource(resource), params).unwrap();
    role_policy(&o)["Statement"][0]["Resource"].clone()
}

#[test]
fn ref_resolves_parameters_pseudo_parameters_and_resources() {
    assert_eq!(resolved(json!({"Ref": "Env"}), &[]), json!("prod"));
    assert_eq!(resolved(json!({"Ref": "Env"}), &[("Env", "dev")]), json!("dev"));
    assert_eq!(resolved(json!({"Ref": "AWS::AccountId"}), &[]), json!(ACCOUNT));
    assert_eq!(resolved(json!({"Ref": "AWS::Region"}), &[]), json!("eu-west-1"));
    assert_eq!(resolved(json!({"Ref": "AWS::Partition"}), &[]), json!("aws"));
    assert_eq!(resolved(json!({"Ref": "AWS::URLSuffix"}), &[]), json!("amazonaws.com"));
    // Ref of a queue is its URL (AWS::SQS::Queue return values).
    assert_eq!(
        resolved(json!({"Ref": "Queue"}), &[]),
        json!("https://sqs.eu-west-1.amazonaws.com/311111111111/orders")
    );
    assert_eq!(resolved(json!({"Ref": "Names"}), &[]), json!(["a", "b"]));
}

#[test]
fn get_att_arn_is_known_other_attributes_are_not() {
    assert_eq!(
        resolved(json!({"Fn::GetAtt": ["Queue", "Arn"]}), &[]),
        json!("arn:aws:sqs:eu-west-1:311111111111:orders")
    );
    assert_eq!(
        resolved(json!({"Fn::GetAtt": "Queue.Arn"}), &[]),
        json!("arn:aws:sqs:eu-west-1:311111111111:orders")
    );
    let o = read(
        &template_with_resource(json!({"Fn::GetAtt": ["Queue", "QueueUrl"]})),
        &[],
    )
    .unwrap();
    assert!(crate::iac::is_unknown(
        role_policy(&o)["Statement"][0]["Resource"].as_str().unwrap()
    ));
    assert_eq!(o.unknowns.len(), 1, "{:?}", o.unknowns);
    let u = &o.unknowns[0];
    assert_eq!(u.field, "Properties.Policies[0].PolicyDocument.Statement[0].Resource");
    assert_eq!(
        (u.location.resource.as_str(), u.api.as_str()),
        ("Role", "iam:CreateRole")
    );
}

#[test]
fn sub_replaces_variables_attributes_and_keeps_literals() {
    let sub = json!({"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Env}-q"});
    assert_eq!(resolved(sub, &[]), json!("arn:aws:sqs:eu-west-1:311111111111:prod-q"));
    assert_eq!(
        resolved(json!({"Fn::Sub": "${Queue.Arn}/x"}), &[]),
        json!("arn:aws:sqs:eu-west-1:311111111111:orders/x")
    );
    assert_eq!(
        resolved(json!({"Fn::Sub": ["${X}-${!Literal}", {"X": {"Ref": "Env"}}]}), &[]),
        json!("prod-${Literal}")
    );
}

#[test]
fn join_select_split_and_find_in_map() {
    assert_eq!(
        resolved(json!({"Fn::Join": [":", ["a", {"Ref": "Env"}, "c"]]}), &[]),
        json!("a:prod:c")
    );
    assert_eq!(
        resolved(json!({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}), &[]),
        json!("y")
    );
    assert_eq!(
        resolved(json!({"Fn::FindInMap": ["Zone", {"Ref": "AWS::Region"}, "Peer"]}), &[]),
        json!("eu-central-1")
    );
}

#[test]
fn if_follows_conditions_and_given_parameters() {
    let cond = json!({"Fn::If": ["IsProd", "p", "d"]});
    assert_eq!(resolved(cond.clone(), &[]), json!("p"));
    assert_eq!(resolved(cond, &[("Env", "dev")]), json!("d"));
    assert_eq!(resolved(json!({"Fn::If": ["NotProd", "p", "d"]}), &[]), json!("d"));
    // AWS::NoValue removes the property.
    let o = read(
        &template_with_resource(json!({"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, "x"]})),
        &[],
    )
    .unwrap();
    assert!(role_policy(&o)["Statement"][0].get("Resource").is_none());
}

#[test]
fn resource_conditions_decide_deployment_and_are_listed() {
    let mut t = template_with_resource(json!("*"));
    t["Resources"]["Queue"]["Condition"] = json!("NotProd");
    t["Resources"]["Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"] = json!("*");
    let o = read(&t, &[]).unwrap();
    assert!(o.changes.iter().all(|c| !matches!(c.draft, Draft::Resource(_))));
    assert_eq!(o.not_considered.len(), 1);
    assert!(o.not_considered[0].reason.contains("condition `NotProd` is false"));
}

#[test]
fn yaml_short_forms_give_the_same_records_as_json_long_forms() {
    let yaml = "Parameters:\n  Env: {Type: String, Default: prod}\nResources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: !Sub '${Env}-orders'\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: worker\n      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Statement:\n              - Effect: Allow\n                Action: sqs:SendMessage\n                Resource: !GetAtt Queue.Arn\n";
    let o = read_text(yaml, "t.yaml", &target(&[])).unwrap();
    assert_eq!(
        role_policy(&o)["Statement"][0]["Resource"],
        json!("arn:aws:sqs:eu-west-1:311111111111:prod-orders")
    );
    let role = o.changes.iter().find(|c| matches!(c.draft, Draft::Role(_))).unwrap();
    assert_eq!((role.location.line, role.location.column), (8, 3));
    assert_eq!(role.location.file, "t.yaml");
}

#[test]
fn generated_names_are_unknown_after_deployment() {
    let t = json!({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}});
    let o = read(&t, &[]).unwrap();
    assert_eq!(o.unknowns.len(), 1);
    assert_eq!(o.unknowns[0].field, "Properties.QueueName (generated name)");
    assert_eq!(o.unknowns[0].api, "sqs:CreateQueue");
}

#[test]
fn unmodelled_types_are_listed_not_dropped() {
    let t = json!({"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}, "Fn": {"Type": "AWS::Serverless::Function"}}});
    let o = read(&t, &[]).unwrap();
    assert!(o.changes.is_empty());
    let mut listed: Vec<(&str, &str)> = o
        .not_considered
        .iter()
        .map(|n| (n.resource_type.as_str(), n.reason.as_str()))
        .collect();
    listed.sort();
    assert_eq!(
        listed[0],
        ("AWS::EC2::VPC", "topoguard does not model this resource type")
    );
    assert_eq!(listed[1].0, "AWS::Serverless::Function");
    assert!(listed[1].1.contains("SAM"), "{listed:?}");
}

#[test]
fn stack_sets_deploy_to_every_account() {
    let t = json!({"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}}}});
    let mut tg = target(&[]);
    tg.accounts.push("312222222222".to_string());
    let o = read_text(&t.to_string(), "t.json", &tg).unwrap();
    let arns: Vec<&str> = o.changes.iter().filter_map(|c| c.draft.arn()).collect();
    assert_eq!(
        arns,
        [
            "arn:aws:sqs:eu-west-1:311111111111:q",
            "arn:aws:sqs:eu-west-1:312222222222:q"
        ]
    );
}

#[test]
fn bad_input_is_a_located_error() {
    let e = read(&template_with_resource(json!({"Ref": "Nope"})), &[]).unwrap_err();
    assert_eq!(e.resource.as_deref(), Some("Role"));
    assert!(e.line > 1 && e.message.contains("`Ref` to `Nope`"), "{e}");
    let e = read(&template_with_resource(json!({"Fn::Join": [","]})), &[]).unwrap_err();
    assert!(e.message.contains("Fn::Join"), "{e}");
    let e = read(&template_with_resource(json!({"Fn::Transmogrify": []})), &[]).unwrap_err();
    assert!(e.message.contains("not supported yet"), "{e}");
    let e = read(&template_with_resource(json!("*")), &[("Nope", "x")]).unwrap_err();
    assert!(e.message.contains("declares no parameter `Nope`"), "{e}");
    let e = read_text(
        "Parameters:\n  Env: {Type: String, Default: x}\n  P:\n    Type: String\nResources: {}\n",
        "p.yaml",
        &target(&[]),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "p.yaml:3:3: parameter `P` has no default: pass `--parameter P=VALUE`"
    );
    let e = read_text("{\"hello\": 1}", "x.json", &target(&[])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "x.json:1:1: not a CloudFormation template: no `Resources` mapping"
    );
    let e = read_text("- a\n- b\n", "x.yaml", &target(&[])).unwrap_err();
    assert!(e.message.contains("not a mapping"), "{e}");
    let e = read_text("Resources: [1, 2\n", "x.yaml", &target(&[])).unwrap_err();
    assert!(e.message.starts_with("not valid YAML"), "{e}");
    let e = read_text("{\"Resources\": ", "x.json", &target(&[])).unwrap_err();
    assert!(e.message.starts_with("not valid JSON") && e.line == 1, "{e}");
    let mut no_region = target(&[]);
    no_region.region = None;
    let e = read_text("{\"Resources\": {}}", "x.json", &no_region).unwrap_err();
    assert!(e.message.contains("--region"), "{e}");
}

/// SAM: <https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification.html>;
/// `Fn::ForEach`: <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-foreach.html>.
/// The transform adds resources topoguard would not see: refused, saying what to run first.
#[test]
fn fires_untransformed_sam_template_is_refused_naming_sam_build() {
    let t =
        json!({"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn": {"Type": "AWS::Serverless::Function"}}});
    let e = read(&t, &[]).unwrap_err();
    assert!(
        e.message
            .starts_with("not supported yet: the template declares the `AWS::Serverless-2016-10-31` transform"),
        "{e}"
    );
    assert!(e.message.contains("sam build"), "{e}");
    assert_eq!(e.file, "t.json");
}

#[test]
fn fires_for_each_is_refused_at_its_key_and_transform_lists_are_read() {
    let each = json!({"Fn::ForEach::Queues": ["N", ["a", "b"], {"Q${N}": {"Type": "AWS::SQS::Queue"}}]});
    let e = read(&json!({"Resources": each}), &[]).unwrap_err();
    assert!(
        e.message
            .contains("`Fn::ForEach` needs the `AWS::LanguageExtensions` transform"),
        "{e}"
    );
    assert_eq!(e.resource.as_deref(), Some("Fn::ForEach::Queues"));
    assert!(e.line > 1, "{e}");
    let listed = json!({"Transform": ["AWS::LanguageExtensions"], "Resources": each});
    let e = read(&listed, &[]).unwrap_err();
    assert!(e.message.contains("`AWS::LanguageExtensions` transform"), "{e}");
    assert!(e.message.contains("--template-stage Processed"), "{e}");
}

#[test]
fn near_miss_serverless_types_without_a_transform_stay_not_considered() {
    // A processed template holds no `Transform`; a stray `AWS::Serverless::*` is listed.
    let t = json!({"Resources": {"Fn": {"Type": "AWS::Serverless::Function"}, "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}}}});
    let o = read(&t, &[]).unwrap();
    assert_eq!(o.changes.len(), 1);
    assert_eq!(o.not_considered[0].resource_type, "AWS::Serverless::Function");
}

/// `Fn::ImportValue` reads an export of a stack in the same account and region:
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-importvalue.html>.
fn exporter() -> serde_json::Value {
    json!({
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "orders"}}},
        "Outputs": {"QueueArn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}, "Export": {"Name": {"Fn::Sub": "${AWS::Region}-orders-arn"}}}}
    })
}

fn imported(export: &str, region: &str) -> serde_json::Value {
    let exports = read(&exporter(), &[]).unwrap().exports;
    let t = template_with_resource(json!({"Fn::ImportValue": export}));
    let mut at = target(&[]);
    at.region = Some(region.to_string());
    let o = read_text_with(&serde_json::to_string(&t).unwrap(), "t.json", &at, &exports).unwrap();
    role_policy(&o)["Statement"][0]["Resource"].clone()
}

#[test]
fn fires_import_value_resolves_an_export_of_another_template() {
    assert_eq!(
        imported("eu-west-1-orders-arn", "eu-west-1"),
        json!("arn:aws:sqs:eu-west-1:311111111111:orders")
    );
}

#[test]
fn quiet_import_of_a_name_no_template_exports_stays_unknown() {
    assert_eq!(
        imported("elsewhere-arn", "eu-west-1"),
        json!("(known after apply: Fn::ImportValue elsewhere-arn)")
    );
}

#[test]
fn near_miss_export_of_another_region_is_not_imported() {
    // Same export name, but the importing stack deploys to another region.
    assert_eq!(
        imported("eu-west-1-orders-arn", "eu-central-1"),
        json!("(known after apply: Fn::ImportValue eu-west-1-orders-arn)")
    );
}

/// `Fn::Cidr`: the page's own example — six /27 blocks of 192.168.0.0/24 (cidrBits 5) — and its
/// note that the mask is 32 − cidrBits for IPv4 and 128 − cidrBits for IPv6.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-cidr.html>
#[test]
fn fires_cidr_splits_a_known_block_as_the_docs_example() {
    let six = resolved(json!({"Fn::Cidr": ["192.168.0.0/24", "6", "5"]}), &[]);
    assert_eq!(
        six,
        json!([
            "192.168.0.0/27",
            "192.168.0.32/27",
            "192.168.0.64/27",
            "192.168.0.96/27",
            "192.168.0.128/27",
            "192.168.0.160/27"
        ])
    );
    // Numbers as numbers (the YAML short form `!Cidr [ "192.168.0.0/24", 6, 5 ]`), inside
    // `Fn::Select`, from a parameter.
    let t = json!({"Parameters": {"Block": {"Type": "String", "Default": "10.0.0.0/16"}},
        "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r",
            "AssumeRolePolicyDocument": {"Statement": []},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "ec2:X",
                "Resource": {"Fn::Select": [1, {"Fn::Cidr": [{"Ref": "Block"}, 2, 8]}]}}]}}]}}}});
    let o = read(&t, &[]).unwrap();
    assert_eq!(role_policy(&o)["Statement"][0]["Resource"], "10.0.1.0/24");
    let v6 = crate::iac::intrinsics::cidr_blocks("2001:db8::/56", "2", "64").unwrap();
    assert_eq!(v6, ["2001:db8::/64", "2001:db8:0:1::/64"]);
}

#[test]
fn quiet_cidr_of_a_block_known_only_after_apply_stays_unknown() {
    let t = json!({"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q",
            "Tags": [{"Key": "subnet", "Value": {"Fn::Select": [0, {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 1, 8]}]}}]}}}});
    let o = read(&t, &[]).unwrap();
    assert!(
        o.unknowns.iter().any(|u| u.field == "Properties.Tags[0].Value"),
        "{:?}",
        o.unknowns
    );
}

#[test]
fn near_miss_cidr_arguments_out_of_range_are_located_errors() {
    for (args, says) in [
        (json!(["10.0.0.0/24", 1, 9]), "do not fit"),
        (json!(["10.0.0.0/24", 3, 7]), "holds 2 blocks"),
        (json!(["10.0.0.0/24", 0, 4]), "from 1 to 256"),
        (json!(["10.0.0.0/24", 257, 4]), "from 1 to 256"),
        (json!(["not-a-block", 1, 4]), "not a CIDR block"),
    ] {
        let e = read(&template_with_resource(json!({"Fn::Cidr": args})), &[]).unwrap_err();
        assert!(e.message.contains(says), "{args}: {e}");
        assert_eq!(e.resource.as_deref(), Some("Role"), "{e}");
    }
    // Exactly the blocks the range holds is fine.
    assert_eq!(
        crate::iac::intrinsics::cidr_blocks("10.0.0.0/24", "2", "7").unwrap(),
        ["10.0.0.0/25", "10.0.0.128/25"]
    );
}

/// EventBridge v2 and DevOps Agent types: `Ref` and `Fn::GetAtt` give the stand-ins of the
/// identifiers the service generates (recorded as unknown), a key alias becomes a key ARN, an
/// association's composite `Ref` stays unknown, and bad values are located errors.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-eventsv2-eventbus.html>
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-devopsagent-agentspace.html>
#[test]
fn v2_bus_and_agent_space_refs_attributes_and_errors() {
    let t = json!({"Resources": {
        "Bus": {"Type": "AWS::EventsV2::EventBus", "Properties": {"Name": "orders",
            "EncryptionConfiguration": {"KmsKeyIdentifier": "alias/orders"}}},
        "Space": {"Type": "AWS::DevOpsAgent::AgentSpace", "Properties": {"Name": "oncall"}},
        "Assoc": {"Type": "AWS::DevOpsAgent::Association", "Properties": {"AgentSpaceId": {"Ref": "Space"}, "ServiceId": "aws",
            "Configuration": {"SourceAws": {"AccountId": "222222222222", "AccountType": "source",
                "AssumableRoleArn": "arn:aws:iam::222222222222:role/r"}}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r",
            "AssumeRolePolicyDocument": {"Statement": []},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "x:Y",
                "Resource": [{"Ref": "Bus"}, {"Fn::GetAtt": ["Space", "Arn"]}, {"Fn::GetAtt": ["Space", "AgentSpaceId"]}, {"Ref": "Assoc"}]}]}}]}}
    }});
    let o = read(&t, &[]).unwrap();
    let resources = role_policy(&o)["Statement"][0]["Resource"].clone();
    assert_eq!(
        resources,
        json!([
            "arn:aws:events:eu-west-1:311111111111:event-busv2/orders/stack-Bus",
            "arn:aws:aidevops:eu-west-1:311111111111:agentspace/stack-Space",
            "stack-Space",
            "(known after apply: Ref Assoc)"
        ])
    );
    let bus = o.changes.iter().find_map(|c| match &c.draft {
        Draft::EventBusV2(b) => Some(b.clone()),
        _ => None,
    });
    assert_eq!(
        bus.unwrap().kms_key.as_deref(),
        Some("arn:aws:kms:eu-west-1:311111111111:alias/orders")
    );
    let fields: Vec<&str> = o.unknowns.iter().map(|u| u.field.as_str()).collect();
    assert!(fields.contains(&"EventBusArn (generated by the service)"), "{fields:?}");
    assert!(
        fields.contains(&"AgentSpaceId (generated by the service)"),
        "{fields:?}"
    );
    // The association is on the space's stand-in id.
    assert!(
        o.changes
            .iter()
            .any(|c| matches!(&c.draft, Draft::Association { space, .. } if space == "stack-Space"))
    );
    // A subscriber state that is neither RUNNING nor STOPPED, an association without a
    // configuration: located errors.
    for (ty, props, says) in [
        (
            "AWS::EventsV2::Subscriber",
            json!({"Name": "s", "EventBusArn": "arn:aws:events:eu-west-1:311111111111:event-busv2/b/x",
            "State": "PAUSED", "InvokeConfiguration": {"TargetArn": "arn:aws:sqs:eu-west-1:311111111111:q", "RoleArn": "arn:aws:iam::311111111111:role/r"}}),
            "not a subscriber state",
        ),
        (
            "AWS::DevOpsAgent::Association",
            json!({"AgentSpaceId": "as-1", "ServiceId": "aws"}),
            "`Configuration` is required",
        ),
    ] {
        let e = read(&json!({"Resources": {"X": {"Type": ty, "Properties": props}}}), &[]).unwrap_err();
        assert!(e.message.contains(says), "{e}");
        assert_eq!(e.resource.as_deref(), Some("X"));
    }
}
