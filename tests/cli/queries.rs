//! `topoguard can`, `who-can`, `impact` and `path` end to end: on small snapshots written here
//! and on the bundled example (`topology/examples/global-org.json` with `policies/`).

use crate::support::{root, topoguard};
use serde_json::{Value, json};

const EXAMPLE: &str = "topology/examples/global-org.json";
const PROFILES_EU: &str = "arn:aws:dynamodb:eu-west-1:222222222222:table/customer-profiles";
const ONCALL: &str = "arn:aws:iam::311111111111:role/oncall-invoice";
const OBSERVE: &str = "arn:aws:iam::311111111111:role/invoice-incident-observe";
const RUNNER: &str = "arn:aws:iam::321111111111:role/checkout-migration-runner";
const MAINTENANCE: &str = "arn:aws:iam::222222222222:role/shared-ops-maintenance";
const BUS_EU: &str = "arn:aws:events:eu-west-1:321111111111:event-bus/checkout";
const WORKER_EU: &str = "arn:aws:lambda:eu-west-1:321111111111:function:checkout-payment-worker";

/// Runs a query on the example, expecting `code`; returns stdout (parsed when JSON).
fn on_example(args: &[&str], code: i32) -> (String, String) {
    let out = topoguard().args(args).args(["--topology", EXAMPLE]).assert().code(code);
    let o = out.get_output();
    (
        String::from_utf8(o.stdout.clone()).unwrap(),
        String::from_utf8(o.stderr.clone()).unwrap(),
    )
}

fn json_of(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&on_example(&all, 0).0).unwrap()
}

/// Plant 9 of the walkthrough: on-call reaches the observe role (its trust names on-call), and
/// gets through it what it lacks itself; the content read on the documents bucket in another
/// account is denied today, because the bucket policy does not grant it (across accounts both
/// policies must allow).
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_evaluation-logic-cross-account.html>
#[test]
fn can_follows_the_responder_chain() {
    let rule = "arn:aws:events:eu-west-1:311111111111:rule/invoice/invoice-approved";
    let a = json_of(&[
        "can",
        "--principal",
        ONCALL,
        "--action",
        "events:DescribeRule",
        "--resource",
        rule,
    ]);
    assert_eq!(a["decision"], "allowed", "{a:#}");
    assert_eq!(a["chain"][0]["from"], ONCALL);
    assert_eq!(a["chain"][0]["to"], OBSERVE);
    assert_eq!(a["grants"][0]["statement"], "ObserveMetadata");
    // near miss: what neither role may do
    let b = json_of(&[
        "can",
        "--principal",
        ONCALL,
        "--action",
        "events:PutRule",
        "--resource",
        rule,
    ]);
    assert_eq!(b["decision"], "denied", "{b:#}");
    let obj = "arn:aws:s3:::acme-documents-eu/invoices/1.pdf";
    let c = json_of(&[
        "can",
        "--principal",
        OBSERVE,
        "--action",
        "s3:GetObject",
        "--resource",
        obj,
    ]);
    assert_eq!(c["decision"], "denied", "{c:#}");
    assert_eq!(c["deciding"]["explicit"], false);
}

/// The SCP `deny-unapproved-regions` is conditioned on `aws:RequestedRegion`: without a region
/// the answer is conditional; `--context` decides it both ways, and the deny names the SCP and
/// the OU it is attached to.
#[test]
fn context_decides_the_region_condition() {
    let base = ["can", "--principal", ONCALL, "--action", "cloudwatch:GetMetricData"];
    let a = json_of(&base);
    assert_eq!(a["decision"], "conditional", "{a:#}");
    assert_eq!(a["conditions"], json!(["aws:RequestedRegion"]));
    let mut eu = base.to_vec();
    eu.extend(["--context", "aws:RequestedRegion=eu-west-1"]);
    assert_eq!(json_of(&eu)["decision"], "allowed");
    let mut sa = base.to_vec();
    sa.extend(["--context", "aws:RequestedRegion=sa-east-1"]);
    let d = json_of(&sa);
    assert_eq!(d["decision"], "denied", "{d:#}");
    assert_eq!(d["deciding"]["layer"], "scp");
    assert_eq!(d["deciding"]["explicit"], true);
    assert_eq!(d["deciding"]["at"], "ou-a1b2-wkld0001");
}

/// Plant 10: checkout-eu's migration runner writes the shared table through the maintenance role.
#[test]
fn who_can_lists_the_migration_runner_with_its_chain() {
    let w = json_of(&["who-can", "--action", "dynamodb:PutItem", "--resource", PROFILES_EU]);
    let runner = w["principals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["principal"] == RUNNER)
        .unwrap_or_else(|| panic!("{w:#}"));
    assert_eq!(runner["decision"], "allowed");
    assert_eq!(runner["chain"][0]["to"], MAINTENANCE);
    // the synthetic caller: invoice-us's administrators through the same trust
    assert!(
        w["principals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["principal"] == "arn:aws:iam::312222222222:root"),
        "{w:#}"
    );
    // limited to catalog's principals: the runner (checkout) is gone
    let c = json_of(&[
        "who-can",
        "--action",
        "dynamodb:PutItem",
        "--resource",
        PROFILES_EU,
        "--app",
        "catalog",
    ]);
    assert!(
        !c["principals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["principal"] == RUNNER),
        "{c:#}"
    );
}

#[test]
fn impact_of_the_shared_table_and_of_a_region() {
    let a = json_of(&["impact", "--resource", PROFILES_EU]);
    let apps: Vec<&str> = a["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(apps.contains(&"invoice") && apps.contains(&"checkout"), "{apps:?}");
    assert!(a["proven"].as_bool().unwrap());
    for key in ["resources", "agent_spaces", "flows"] {
        assert!(a[key].is_array(), "{key}");
    }
    let r = json_of(&["impact", "--region", "ap-northeast-1"]);
    assert!(r["scope_nodes"].as_u64().unwrap() > 0);
    let (_, err) = on_example(&["impact", "--region", "mars-1"], 2);
    assert!(err.contains("no node of the snapshot is in region `mars-1`"), "{err}");
}

#[test]
fn path_shows_every_hop() {
    let p = json_of(&["path", "--from", BUS_EU, "--to", WORKER_EU]);
    let first = &p["paths"][0];
    assert_eq!(first[0]["from"], BUS_EU, "{p:#}");
    assert_eq!(first[0]["relation"], "routes");
    assert!(
        first
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["detail"].as_str().is_some_and(|d| !d.is_empty()))
    );
    // the assume hop of plant 10, with its trust statement
    let a = json_of(&["path", "--from", RUNNER, "--to", MAINTENANCE]);
    assert_eq!(a["paths"][0][0]["relation"], "can-assume", "{a:#}");
    assert!(a["paths"][0][0]["detail"].as_str().unwrap().contains("trust policy of"));
    // no link leads from the function to the maintenance role
    assert_eq!(
        json_of(&["path", "--from", WORKER_EU, "--to", MAINTENANCE])["paths"],
        json!([])
    );
}

#[test]
fn bad_questions_exit_2_naming_the_problem() {
    let (_, e) = on_example(
        &[
            "can",
            "--principal",
            "arn:aws:iam::311111111111:role/ghost",
            "--action",
            "s3:GetObject",
        ],
        2,
    );
    assert!(
        e.contains("unknown principal `arn:aws:iam::311111111111:role/ghost`"),
        "{e}"
    );
    let (_, e) = on_example(&["can", "--principal", ONCALL, "--action", "s3:GetObjekt"], 2);
    assert!(
        e.contains("unknown action `s3:GetObjekt`") && e.contains("`s3:GetObject`"),
        "{e}"
    );
    let (_, e) = on_example(
        &[
            "who-can",
            "--action",
            "s3:GetObject",
            "--resource",
            PROFILES_EU,
            "--app",
            "nope",
        ],
        2,
    );
    assert!(e.contains("unknown application `nope`"), "{e}");
    let (_, e) = on_example(
        &[
            "can",
            "--principal",
            ONCALL,
            "--action",
            "s3:GetObject",
            "--context",
            "novalue",
        ],
        2,
    );
    assert!(e.contains("bad --context"), "{e}");
}

#[test]
fn output_is_deterministic_and_escaped() {
    let args = [
        "who-can",
        "--action",
        "dynamodb:PutItem",
        "--resource",
        PROFILES_EU,
        "--format",
        "markdown",
    ];
    let (a, _) = on_example(&args, 0);
    let (b, _) = on_example(&args, 0);
    assert_eq!(a, b);
    assert!(
        a.contains("`arn:aws:iam::321111111111:role/checkout-migration-runner`"),
        "{a}"
    );
}

/// A snapshot written here with a coverage gap in the resource's account: `not-proven`.
#[test]
fn a_gap_makes_can_not_proven() {
    let dir = tempfile::tempdir().unwrap();
    let snap = json!({
        "schema_version": 1,
        "organization": {"accounts": [{"id": "111111111111", "name": "a"}, {"id": "222222222222", "name": "b"}]},
        "roles": [{"arn": "arn:aws:iam::111111111111:role/r", "account": "111111111111", "name": "r",
                   "trust_policy": {"Statement": []},
                   "inline_policies": [{"name": "p", "document": {"Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}}]}],
        "resources": [{"arn": "arn:aws:sqs:eu-west-1:222222222222:q", "kind": "sqs-queue", "account": "222222222222", "region": "eu-west-1"}],
        "coverage": {"gaps": [{"account": "222222222222", "api": "sqs:GetQueueAttributes", "error_code": "AccessDenied"}]}
    });
    let path = dir.path().join("s.json");
    std::fs::write(&path, snap.to_string()).unwrap();
    let toml = dir.path().join("c.toml");
    std::fs::write(&toml, "[applications.a]\naccounts = [\"111111111111\"]\n").unwrap();
    let out = topoguard()
        .args([
            "can",
            "--principal",
            "arn:aws:iam::111111111111:role/r",
            "--action",
            "sqs:SendMessage",
            "--resource",
            "arn:aws:sqs:eu-west-1:222222222222:q",
            "--format",
            "json",
            "--topology",
        ])
        .arg(&path)
        .arg("--policies")
        .arg(&toml)
        .assert()
        .code(0);
    let v: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["decision"], "not-proven", "{v:#}");
    assert_eq!(v["evaluated"], "denied");
    assert!(v["gaps"][0].as_str().unwrap().contains("sqs:GetQueueAttributes"));
    assert!(root().join(EXAMPLE).exists());
}

/// Plant 8: checkout's Agent Space role can change the shared table; catalog's role in the same
/// account (with the read-only boundary) cannot.
#[test]
fn impact_of_a_role_lists_the_shared_resources_it_can_change() {
    let a = json_of(&[
        "impact",
        "--resource",
        "arn:aws:iam::222222222222:role/DevOpsAgentRole-checkout-oncall",
    ]);
    let table = a["can_change"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resource"] == PROFILES_EU);
    let actions = &table.unwrap_or_else(|| panic!("{a:#}"))["actions"];
    assert!(
        actions.as_array().unwrap().contains(&json!("dynamodb:PutItem")),
        "{actions}"
    );
    let c = json_of(&[
        "impact",
        "--resource",
        "arn:aws:iam::222222222222:role/DevOpsAgentRole-catalog-oncall",
    ]);
    assert!(
        !c["can_change"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["resource"] == PROFILES_EU),
        "{c:#}"
    );
}

// --- Per-request context, `path` to a resource, session policies (small organization) --------

const START: &str = "arn:aws:iam::111111111111:role/start";
const MID: &str = "arn:aws:iam::111111111111:role/mid";
const ADMIN: &str = "arn:aws:iam::111111111111:role/admin";
const ORDERS: &str = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders";
const GET_ONLY: &str = "arn:aws:iam::111111111111:policy/get-only";

/// One account: `start` may assume `mid` (whose trust wants MFA), `mid` may read the `orders`
/// table; `admin` may do anything; the managed policy `get-only` allows `dynamodb:GetItem`.
fn small_org(dir: &std::path::Path) -> [std::path::PathBuf; 2] {
    let allow = |action: &str, resource: &str| json!({"Statement": [{"Sid": "Grant", "Effect": "Allow", "Action": action, "Resource": resource}]});
    let role = |name: &str, trust: Value, policy: Value| {
        json!({"arn": format!("arn:aws:iam::111111111111:role/{name}"), "account": "111111111111", "name": name,
               "trust_policy": trust, "inline_policies": [{"name": "p", "document": policy}]})
    };
    let root_trust = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "sts:AssumeRole"}]});
    let mfa_trust = json!({"Statement": [{"Sid": "FromStart", "Effect": "Allow", "Principal": {"AWS": START}, "Action": "sts:AssumeRole",
                                          "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]});
    let snap = json!({
        "schema_version": 1,
        "organization": {"accounts": [{"id": "111111111111", "name": "a"}]},
        "roles": [
            role("start", root_trust.clone(), allow("sts:AssumeRole", MID)),
            role("mid", mfa_trust, allow("dynamodb:GetItem", ORDERS)),
            role("admin", root_trust, allow("*", "*"))
        ],
        "managed_policies": [{"arn": GET_ONLY, "name": "get-only", "document": allow("dynamodb:GetItem", "*")}],
        "resources": [{"arn": ORDERS, "kind": "dynamodb-table", "account": "111111111111", "region": "eu-west-1"}]
    });
    let path = dir.join("s.json");
    std::fs::write(&path, snap.to_string()).unwrap();
    let toml = dir.join("c.toml");
    std::fs::write(&toml, "[applications.a]\naccounts = [\"111111111111\"]\n").unwrap();
    [path, toml]
}

/// Runs a query on [`small_org`] expecting `code`: stdout parsed as JSON (null when empty), stderr.
fn on_small(args: &[&str], code: i32) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let [snap, toml] = small_org(dir.path());
    let out = topoguard()
        .args(args)
        .args(["--format", "json", "--topology"])
        .arg(&snap)
        .arg("--policies")
        .arg(&toml)
        .current_dir(dir.path())
        .assert()
        .code(code);
    let o = out.get_output();
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (v, String::from_utf8(o.stderr.clone()).unwrap())
}

/// Each assumption is a request with its own context: `--context` decides the MFA condition of
/// `mid`'s trust (request 1 of start's chain), `hop=2:` does not.
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-multifactorauthpresent>
#[test]
fn context_decides_every_request_of_a_chain() {
    let can = |ctx: &[&str]| {
        let mut args = vec![
            "can",
            "--principal",
            START,
            "--action",
            "dynamodb:GetItem",
            "--resource",
            ORDERS,
        ];
        for c in ctx {
            args.extend(["--context", c]);
        }
        on_small(&args, 0).0
    };
    let open = can(&[]);
    assert_eq!(open["decision"], "conditional", "{open:#}");
    assert_eq!(open["conditions"], json!(["aws:MultiFactorAuthPresent"]));
    let yes = can(&["aws:MultiFactorAuthPresent=true"]);
    assert_eq!(yes["decision"], "allowed", "{yes:#}");
    assert_eq!(yes["chain"][0]["to"], MID);
    let no = can(&["aws:MultiFactorAuthPresent=false"]);
    assert_eq!(no["decision"], "denied", "{no:#}");
    // near miss: MFA given for request 2 (the read), not for the assumption
    let later = can(&["hop=2:aws:MultiFactorAuthPresent=true"]);
    assert_eq!(later["decision"], "conditional", "{later:#}");
    let first = can(&["hop=1:aws:MultiFactorAuthPresent=true"]);
    assert_eq!(first["decision"], "allowed", "{first:#}");
    // who-can: without MFA, start is not listed; mid is
    let (w, _) = on_small(
        &[
            "who-can",
            "--action",
            "dynamodb:GetItem",
            "--resource",
            ORDERS,
            "--context",
            "aws:MultiFactorAuthPresent=false",
        ],
        0,
    );
    let names: Vec<&str> = w["principals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["principal"].as_str())
        .collect();
    assert!(names.contains(&MID) && !names.contains(&START), "{names:?}");
    let (_, e) = on_small(
        &[
            "can",
            "--principal",
            START,
            "--action",
            "dynamodb:GetItem",
            "--context",
            "hop=9:a:b=c",
        ],
        2,
    );
    assert!(e.contains("bad --context `hop=9:a:b=c`"), "{e}");
}

/// `path` ends at a resource with a `can-access` hop from the role that may act on it.
#[test]
fn path_reaches_a_resource_through_an_access_hop() {
    let (p, _) = on_small(
        &[
            "path",
            "--from",
            START,
            "--to",
            ORDERS,
            "--context",
            "aws:MultiFactorAuthPresent=true",
        ],
        0,
    );
    let hops = p["paths"][0].as_array().unwrap();
    let relations: Vec<&str> = hops.iter().filter_map(|h| h["relation"].as_str()).collect();
    assert_eq!(relations, vec!["can-assume", "can-access"], "{p:#}");
    assert!(
        hops[1]["detail"].as_str().unwrap().contains("dynamodb:GetItem"),
        "{p:#}"
    );
    // without MFA there is no way in; with an action mid lacks, neither
    let (none, _) = on_small(
        &[
            "path",
            "--from",
            START,
            "--to",
            ORDERS,
            "--context",
            "aws:MultiFactorAuthPresent=false",
        ],
        0,
    );
    assert_eq!(none["paths"], json!([]));
    let (put, _) = on_small(
        &["path", "--from", START, "--to", ORDERS, "--action", "dynamodb:PutItem"],
        0,
    );
    assert_eq!(put["paths"], json!([]));
    // undecided: the hop carries its condition key
    let (open, _) = on_small(&["path", "--from", START, "--to", ORDERS], 0);
    assert_eq!(open["paths"][0][0]["relation"], "can-assume", "{open:#}");
}

/// A session's permissions are the intersection of its identity-based policies and its session
/// policies. <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session>
#[test]
fn session_policies_limit_can() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.json");
    std::fs::write(
        &file,
        json!({"Statement": [{"Sid": "ReadOnly", "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]})
            .to_string(),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let ask = |action: &str, extra: &[&str], code: i32| {
        let mut args = vec!["can", "--principal", ADMIN, "--action", action, "--resource", ORDERS];
        args.extend(extra);
        on_small(&args, code)
    };
    let (put, _) = ask("dynamodb:PutItem", &["--session-policy", file], 0);
    assert_eq!(put["decision"], "denied", "{put:#}");
    assert_eq!(put["deciding"]["layer"], "session");
    assert!(
        put["deciding"]["policy"].as_str().unwrap().contains("session.json"),
        "{put:#}"
    );
    let (get, _) = ask("dynamodb:GetItem", &["--session-policy", file], 0);
    assert_eq!(get["decision"], "allowed", "{get:#}");
    assert!(
        get["grants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["layer"] == "session"),
        "{get:#}"
    );
    let (managed, _) = ask("dynamodb:PutItem", &["--session-policy-arn", GET_ONLY], 0);
    assert_eq!(managed["deciding"]["layer"], "session", "{managed:#}");
    // quiet: without a session policy the admin role may
    let (free, _) = ask("dynamodb:PutItem", &[], 0);
    assert_eq!(free["decision"], "allowed", "{free:#}");
    // bad input: exit 2 naming the file or the ARN
    let (_, e) = ask(
        "dynamodb:PutItem",
        &["--session-policy-arn", "arn:aws:iam::111111111111:policy/nope"],
        2,
    );
    assert!(e.contains("policy/nope") && e.contains("no managed policy"), "{e}");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let (_, e) = ask("dynamodb:PutItem", &["--session-policy", bad.to_str().unwrap()], 2);
    assert!(e.contains("bad.json") && e.contains("not JSON"), "{e}");
    // an inline session policy names no principal: refused at its statement, as the guardrail is
    let named = dir.path().join("named.json");
    std::fs::write(
        &named,
        "\u{feff}{\"Statement\": [\n  {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"*\", \"Resource\": \"*\"}]}",
    )
    .unwrap();
    let (_, e) = ask("dynamodb:PutItem", &["--session-policy", named.to_str().unwrap()], 2);
    assert!(
        e.contains("named.json` line 2, column 3: Statement[0]: a session policy cannot name a `Principal`"),
        "{e}"
    );
}
