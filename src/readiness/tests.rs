//! Per component: a case that lowers it (firing), one that leaves it whole (quiet), and one that
//! comes close without lowering it — or lowers it as "not proven" where the snapshot cannot
//! tell (near miss), on the checks test kit's small organization.

use super::{AppReadiness, ComponentId, Criterion, State, score_app};
use crate::checks::testkit::{
    CHECKOUT, CONFIG, INVOICE, SHARED, add, add_bus_v2, add_function, add_invoice_space, add_queue, add_role, add_rule,
    allow, org, trust,
};
use crate::checks::{known_ids, run_checks};
use crate::config::parse_config;
use crate::graph::Topology;
use crate::model::parse_snapshot;
use serde_json::{Value, json};
use std::path::Path;

fn score(snapshot: &Value, config: &str, app: &str) -> AppReadiness {
    let snapshot = parse_snapshot(&snapshot.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(config, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let outcome = run_checks(&t, "test.toml");
    score_app(&t, &outcome, t.app_id(app).unwrap())
}

fn criterion(r: &AppReadiness, component: ComponentId, id: &str) -> Criterion {
    let c = r.component(component).unwrap();
    c.criteria
        .iter()
        .find(|c| c.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("no criterion `{id}` in {component:?}: {c:#?}"))
}

fn has(r: &AppReadiness, component: ComponentId, id: &str) -> bool {
    r.component(component).unwrap().criteria.iter().any(|c| c.id == id)
}

/// An invoice function in eu-west-1 that uses an invoice queue.
fn invoice_app() -> Value {
    let mut s = org();
    let q = add_queue(&mut s, INVOICE, "eu-west-1", "jobs", json!({}));
    add_function(&mut s, INVOICE, "eu-west-1", "worker", &[&q]);
    s
}

#[test]
fn weights_default_to_100_and_points_follow_met_criteria() {
    let r = score(&invoice_app(), CONFIG, "invoice");
    assert_eq!(r.possible, 100);
    for c in &r.components {
        let met = c.criteria.iter().filter(|x| x.state == State::Met).count() as u32;
        let expected = if c.criteria.is_empty() {
            c.possible
        } else {
            c.possible * met / c.criteria.len() as u32
        };
        assert_eq!(c.points, expected, "{:?}", c.id);
    }
    assert_eq!(r.score, r.points);
}

#[test]
fn config_weights_override_defaults() {
    let config = format!("{CONFIG}\n[readiness.weights]\nvisibility = 50\ncoverage = 0\n");
    let r = score(&invoice_app(), &config, "invoice");
    assert_eq!(r.component(ComponentId::Visibility).unwrap().possible, 50);
    assert_eq!(r.component(ComponentId::Coverage).unwrap().possible, 0);
    assert_eq!(r.component(ComponentId::Access).unwrap().possible, 20);
    assert_eq!(r.possible, 50 + 20 + 15 + 15 + 15);
}

#[test]
fn unknown_weight_key_is_refused() {
    let config = format!("{CONFIG}\n[readiness.weights]\nvisiblity = 5\n");
    let err = parse_config(&config, Path::new("t.toml"), &known_ids()).unwrap_err();
    assert!(err.to_string().contains("visiblity"), "{err}");
}

// --- visibility -------------------------------------------------------------------------

#[test]
fn visibility_fires_without_an_agent_space() {
    let r = score(&invoice_app(), CONFIG, "invoice");
    let c = r.component(ComponentId::Visibility).unwrap();
    assert_eq!(c.points, 0);
    assert!(c.criteria.iter().all(|x| x.state == State::Missing), "{c:#?}");
}

#[test]
fn visibility_quiet_with_a_covering_pinned_space() {
    let mut s = invoice_app();
    add_invoice_space(&mut s, &[]);
    let r = score(&s, CONFIG, "invoice");
    let c = r.component(ComponentId::Visibility).unwrap();
    assert!(c.criteria.iter().all(|x| x.state == State::Met), "{c:#?}");
    assert_eq!(c.points, c.possible);
}

#[test]
fn visibility_near_miss_space_declared_but_absent_and_space_out_of_zone() {
    // Declared in the config, not in the snapshot: missing, and the message says so.
    let config = format!("{CONFIG}\n[agent_spaces.invoice]\napplication = \"invoice\"\n");
    let r = score(&invoice_app(), &config, "invoice");
    let exists = criterion(&r, ComponentId::Visibility, "agent-space-exists");
    assert_eq!(exists.state, State::Missing);
    assert!(
        exists.outstanding[0].detail.contains("declared in the config"),
        "{exists:#?}"
    );
    // The space exists, but in eu-west-1 while invoice is bound to zone us.
    let mut s = invoice_app();
    add_invoice_space(&mut s, &[]);
    let config = CONFIG.replace(
        "[applications.invoice]\naccounts = [\"111111111111\"]",
        "[applications.invoice]\naccounts = [\"111111111111\"]\nzone = \"us\"",
    );
    let r = score(&s, &config, "invoice");
    assert_eq!(criterion(&r, ComponentId::Visibility, "in-zone").state, State::Missing);
    assert_eq!(
        criterion(&r, ComponentId::Visibility, "agent-space-exists").state,
        State::Met
    );
}

// --- access -----------------------------------------------------------------------------

#[test]
fn access_fires_without_responder_roles() {
    let r = score(&invoice_app(), CONFIG, "invoice");
    let c = criterion(&r, ComponentId::Access, "observe-role-per-account");
    assert_eq!(c.state, State::Missing);
    assert_eq!(c.outstanding[0].subject, INVOICE);
}

fn with_observe_role(trust_policy: Value) -> Value {
    let mut s = invoice_app();
    add_role(
        &mut s,
        INVOICE,
        "topoguard-invoice-observe",
        trust_policy,
        allow(&["sqs:GetQueueAttributes"], "*"),
    );
    s
}

#[test]
fn access_quiet_with_an_mfa_observe_role_but_session_length_not_proven() {
    let mut t = trust(&format!("arn:aws:iam::{INVOICE}:root"));
    t["Statement"][0]["Condition"] = json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}});
    let r = score(&with_observe_role(t), CONFIG, "invoice");
    assert_eq!(
        criterion(&r, ComponentId::Access, "observe-role-per-account").state,
        State::Met
    );
    let mfa = criterion(&r, ComponentId::Access, "mfa-and-session-limits");
    // MFA is there; MaxSessionDuration is not in the snapshot, so this is not a pass.
    assert_eq!(mfa.state, State::NotProven, "{mfa:#?}");
    assert!(mfa.outstanding.iter().all(|o| o.detail.contains("MaxSessionDuration")));
}

#[test]
fn access_near_miss_observe_role_without_mfa() {
    let r = score(
        &with_observe_role(trust(&format!("arn:aws:iam::{INVOICE}:root"))),
        CONFIG,
        "invoice",
    );
    assert_eq!(
        criterion(&r, ComponentId::Access, "observe-role-per-account").state,
        State::Met
    );
    let mfa = criterion(&r, ComponentId::Access, "mfa-and-session-limits");
    assert_eq!(mfa.state, State::Missing);
    assert!(
        mfa.outstanding
            .iter()
            .any(|o| o.detail.contains("MultiFactorAuthPresent"))
    );
}

// --- attribution ------------------------------------------------------------------------

fn shared_queue(tags: Value) -> Value {
    let mut s = org();
    let q = add_queue(&mut s, SHARED, "eu-west-1", "shared-jobs", tags);
    add_function(&mut s, INVOICE, "eu-west-1", "worker", &[&q]);
    s
}

#[test]
fn attribution_fires_on_an_untagged_shared_resource() {
    let r = score(&shared_queue(json!({})), CONFIG, "invoice");
    let c = criterion(&r, ComponentId::Attribution, "shared-tagged");
    assert_eq!(c.state, State::Missing);
    assert!(c.outstanding[0].subject.contains("shared-jobs"));
    assert!(r.component(ComponentId::Attribution).unwrap().points < 15);
}

#[test]
fn attribution_quiet_when_tagged_with_its_users() {
    let r = score(&shared_queue(json!({"shared-with": "invoice"})), CONFIG, "invoice");
    let c = r.component(ComponentId::Attribution).unwrap();
    assert_eq!(c.points, c.possible, "{c:#?}");
}

#[test]
fn attribution_near_miss_tagged_but_naming_the_wrong_application() {
    // Tagged, but with the wrong application: the tag is there, it is not right.
    let r = score(&shared_queue(json!({"shared-with": "checkout"})), CONFIG, "invoice");
    assert_eq!(
        criterion(&r, ComponentId::Attribution, "shared-tagged").state,
        State::Met
    );
    assert_eq!(
        criterion(&r, ComponentId::Attribution, "shared-tags-correct").state,
        State::Missing
    );
}

// --- residency --------------------------------------------------------------------------

fn cross_region(queue_region: &str) -> Value {
    cross(queue_region, "eu-west-1")
}

fn cross(queue_region: &str, function_region: &str) -> Value {
    let mut s = org();
    let q = add_queue(&mut s, INVOICE, queue_region, "jobs", json!({}));
    add_function(&mut s, INVOICE, function_region, "worker", &[&q]);
    s
}

#[test]
fn residency_fires_on_a_cross_zone_flow() {
    let r = score(&cross_region("us-east-1"), CONFIG, "invoice");
    assert_eq!(
        criterion(&r, ComponentId::Residency, "no-cross-zone-flow").state,
        State::Missing
    );
    assert_eq!(criterion(&r, ComponentId::Residency, "regions-zoned").state, State::Met);
}

#[test]
fn residency_quiet_inside_one_zone() {
    let r = score(&cross_region("eu-central-1"), CONFIG, "invoice");
    let c = r.component(ComponentId::Residency).unwrap();
    assert_eq!(c.points, c.possible, "{c:#?}");
}

#[test]
fn residency_near_miss_region_in_no_zone_is_not_proven() {
    // Function and queue in one region that is in no zone: no flow crosses a zone, but nothing
    // there is checked, so the residency of that region is not proven.
    let r = score(&cross("sa-east-1", "sa-east-1"), CONFIG, "invoice");
    assert_eq!(
        criterion(&r, ComponentId::Residency, "no-cross-zone-flow").state,
        State::Met
    );
    let c = criterion(&r, ComponentId::Residency, "regions-zoned");
    assert_eq!(c.state, State::NotProven);
    assert_eq!(c.outstanding[0].subject, "sa-east-1");
}

// --- delivery safety --------------------------------------------------------------------

fn rule_to_queue(dlq: Option<&str>) -> Value {
    let mut s = org();
    let q = add_queue(&mut s, INVOICE, "eu-west-1", "jobs", json!({}));
    add_rule(&mut s, INVOICE, "eu-west-1", "orders", &[&q], json!({}));
    if let Some(dlq) = dlq {
        s["rules"][0]["targets"][0]["dead_letter_queue"] = json!(dlq);
    }
    s
}

/// EventBridge keeps undeliverable events only with a dead-letter queue; its retry policy
/// (default 24 hours, 185 attempts) can be changed per target.
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html>
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html>
#[test]
fn delivery_fires_on_a_target_without_dead_letter_queue() {
    let r = score(&rule_to_queue(None), CONFIG, "invoice");
    let c = criterion(&r, ComponentId::DeliverySafety, "rule-targets-dlq");
    assert_eq!(c.state, State::Missing);
    assert!(c.outstanding[0].detail.contains("no dead-letter queue"));
}

#[test]
fn delivery_quiet_with_a_dead_letter_queue_but_retry_policy_not_proven() {
    let dlq = format!("arn:aws:sqs:eu-west-1:{INVOICE}:orders-dlq");
    let r = score(&rule_to_queue(Some(&dlq)), CONFIG, "invoice");
    assert_eq!(
        criterion(&r, ComponentId::DeliverySafety, "rule-targets-dlq").state,
        State::Met
    );
    let retry = criterion(&r, ComponentId::DeliverySafety, "rule-targets-retry");
    assert_eq!(retry.state, State::NotProven);
    assert!(retry.outstanding[0].detail.contains("RetryPolicy"));
}

/// An invoice bus v2 whose one subscriber (created by invoice) delivers to an invoice queue.
fn subscriber_to_queue(failure_destination: Option<&str>) -> Value {
    let mut s = org();
    let q = add_queue(&mut s, INVOICE, "eu-west-1", "jobs", json!({}));
    add_bus_v2(&mut s, INVOICE, "eu-west-1", "orders", &[(INVOICE, &q)], false);
    if let Some(d) = failure_destination {
        s["event_buses_v2"][0]["subscribers"][0]["failure_destination"] = json!(d);
    }
    s
}

/// A v2 subscriber keeps what it could not deliver only with a failure destination
/// (`OnFailureConfiguration`); the dead-letter rule of classic targets applies to subscribers.
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html>
#[test]
fn fires_delivery_on_a_subscriber_without_failure_destination() {
    let r = score(&subscriber_to_queue(None), CONFIG, "invoice");
    let c = criterion(&r, ComponentId::DeliverySafety, "subscribers-failure-destination");
    assert_eq!(c.state, State::Missing);
    assert!(c.outstanding[0].detail.contains("no failure destination"), "{c:#?}");
}

#[test]
fn quiet_delivery_with_a_subscriber_failure_destination() {
    let dlq = format!("arn:aws:sqs:eu-west-1:{INVOICE}:orders-dlq");
    let r = score(&subscriber_to_queue(Some(&dlq)), CONFIG, "invoice");
    let c = criterion(&r, ComponentId::DeliverySafety, "subscribers-failure-destination");
    assert_eq!(c.state, State::Met);
}

#[test]
fn near_miss_another_applications_subscriber_is_not_checkouts_criterion() {
    // checkout owns nothing on invoice's bus: the criterion is not checkout's to meet.
    let r = score(&subscriber_to_queue(None), CONFIG, "checkout");
    assert!(!has(&r, ComponentId::DeliverySafety, "subscribers-failure-destination"));
}

/// Lambda keeps failed asynchronous events only with a dead-letter queue or an on-failure
/// destination. <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>
#[test]
fn delivery_near_miss_function_targets_and_mappings() {
    // No rule: the criteria about rules do not apply.
    let r = score(&invoice_app(), CONFIG, "invoice");
    assert!(!has(&r, ComponentId::DeliverySafety, "rule-targets-dlq"));
    // A rule invoking a function without a dead-letter config: not proven (a destination is
    // not in the snapshot); with one: met.
    let mut s = org();
    let f = add_function(&mut s, INVOICE, "eu-west-1", "worker", &[]);
    add_rule(&mut s, INVOICE, "eu-west-1", "orders", &[&f], json!({}));
    let r = score(&s, CONFIG, "invoice");
    let c = criterion(&r, ComponentId::DeliverySafety, "async-functions-failure-handling");
    assert_eq!(c.state, State::NotProven);
    s["functions"][0]["dead_letter_target"] = json!(format!("arn:aws:sqs:eu-west-1:{INVOICE}:dlq"));
    let r = score(&s, CONFIG, "invoice");
    assert_eq!(
        criterion(&r, ComponentId::DeliverySafety, "async-functions-failure-handling").state,
        State::Met
    );
    // An event-source mapping: its failure handling is not in the snapshot.
    let q = add_queue(&mut s, INVOICE, "eu-west-1", "in", json!({}));
    add(
        &mut s,
        "event_source_mappings",
        json!({"uuid": "m-1", "function": f, "source": q}),
    );
    let r = score(&s, CONFIG, "invoice");
    assert_eq!(
        criterion(
            &r,
            ComponentId::DeliverySafety,
            "event-source-mappings-failure-handling"
        )
        .state,
        State::NotProven
    );
}

// --- coverage ---------------------------------------------------------------------------

fn with_gap(account: &str) -> Value {
    let mut s = invoice_app();
    s["coverage"] = json!({"gaps": [{"account": account, "region": "eu-west-1", "api": "lambda:ListFunctions", "error_code": "AccessDenied"}]});
    s
}

#[test]
fn coverage_fires_on_a_gap_in_the_footprint() {
    let r = score(&with_gap(INVOICE), CONFIG, "invoice");
    let c = criterion(&r, ComponentId::Coverage, "footprint-read");
    assert_eq!(c.state, State::NotProven);
    assert!(c.outstanding[0].detail.contains("lambda:ListFunctions"));
    assert!(r.component(ComponentId::Coverage).unwrap().points < 15);
}

#[test]
fn coverage_quiet_without_gaps() {
    let r = score(&invoice_app(), CONFIG, "invoice");
    let c = r.component(ComponentId::Coverage).unwrap();
    assert_eq!(c.points, c.possible, "{c:#?}");
}

#[test]
fn coverage_near_miss_gap_in_another_applications_account() {
    let r = score(&with_gap(CHECKOUT), CONFIG, "invoice");
    assert_eq!(criterion(&r, ComponentId::Coverage, "footprint-read").state, State::Met);
    let r = score(&with_gap(CHECKOUT), CONFIG, "checkout");
    assert_eq!(
        criterion(&r, ComponentId::Coverage, "footprint-read").state,
        State::NotProven
    );
}

#[test]
fn a_disabled_check_makes_its_criterion_not_proven() {
    let config = format!("{CONFIG}\n[checks.shared-resource-untagged]\nenabled = false\n");
    let r = score(&shared_queue(json!({})), &config, "invoice");
    let c = criterion(&r, ComponentId::Attribution, "shared-tagged");
    assert_eq!(c.state, State::NotProven);
    assert!(c.outstanding[0].detail.contains("disabled"));
}

// --- runbooks ---------------------------------------------------------------------------

#[test]
fn runbook_paths_stay_inside_and_hostile_names_are_escaped() {
    let hostile_app = "Inv..oice@=1";
    let config = CONFIG.replace(
        "[applications.invoice]",
        &format!("[applications.{}]", crate::checks::testkit::toml_string(hostile_app)),
    );
    let mut s = org();
    let q = add_queue(&mut s, INVOICE, "eu-west-1", "q`<img src=x>|\n#", json!({}));
    add_function(&mut s, INVOICE, "eu-west-1", "worker", &[&q]);
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(&config, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let outcome = run_checks(&t, "test.toml");
    let app = t.app_id(hostile_app).unwrap();
    let files = super::runbook::generate(&t, &outcome.findings, &[], &[app]);
    let dir = crate::model::file_name(hostile_app);
    assert!(!dir.contains('/'));
    for rel in files.keys() {
        assert!(rel.starts_with(&format!("{dir}/")), "{rel}");
        assert!(rel.split('/').all(|c| c != ".." && c != "." && !c.is_empty()), "{rel}");
        assert!(crate::cli::join_inside(Path::new("/tmp/out"), rel).is_ok(), "{rel}");
    }
    let runbook = String::from_utf8(files[&format!("{dir}/RUNBOOK.md")].clone()).unwrap();
    // The heading escapes the name; the ARN is a code span (inert), its `|` escaped for the table.
    assert!(runbook.starts_with("# Runbook: Inv..oice`@`=1\n"), "{runbook}");
    assert!(
        runbook.contains("``arn:aws:sqs:eu-west-1:111111111111:q`<img src=x>\\| #``"),
        "{runbook}"
    );
    assert_eq!(
        runbook.matches("<img").count(),
        1,
        "only inside the code span: {runbook}"
    );
    let mermaid = runbook
        .split("```mermaid\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    for line in mermaid.lines().skip(1) {
        assert!(!line.contains('`') && !line.contains('<'), "{line}");
    }
    let skill_dir = crate::model::file_name("Inv..oice@=1-topology");
    let skill = String::from_utf8(files[&format!("{dir}/skills/{skill_dir}/SKILL.md")].clone()).unwrap();
    assert!(skill.starts_with("---\nname: inv--oice--1-topology\n"), "{skill}");
}

#[test]
fn skill_names_follow_the_devops_agent_rule() {
    // Lowercase letters, digits and hyphens, at most 64 characters:
    // https://docs.aws.amazon.com/devopsagent/latest/userguide/about-aws-devops-agent-devops-agent-skills-index.html
    for app in ["invoice", "Checkout.EU", "a@b=c", "-", &"z".repeat(80)] {
        let name = super::runbook::skill_name(app);
        assert!(name.len() <= 64, "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{name}"
        );
        assert!(!name.starts_with('-') && name.ends_with("-topology"), "{name}");
    }
}

#[test]
fn upload_instructions_name_the_page_and_offer_no_invented_command() {
    // The DevOps Agent documents uploading a skill only as a `.zip` in the Operator Web App; no
    // CLI command, API operation or CloudFormation resource (checked for issue 11):
    // https://docs.aws.amazon.com/devopsagent/latest/userguide/about-aws-devops-agent-devops-agent-skills-index.html
    let mut s = org();
    add_function(&mut s, INVOICE, "eu-west-1", "worker", &[]);
    let snapshot = parse_snapshot(&s.to_string(), Path::new("test.json")).unwrap();
    let config = parse_config(CONFIG, Path::new("test.toml"), &known_ids()).unwrap();
    let t = Topology::build(&snapshot, &config);
    let app = t.app_id("invoice").unwrap();
    let files = super::runbook::generate(&t, &[], &[], &[app]);
    let upload = String::from_utf8(files["invoice/skills/UPLOAD.md"].clone()).unwrap();
    assert!(upload.contains(super::runbook::SKILLS_DOC), "{upload}");
    assert!(upload.contains("no scripted upload"), "{upload}");
    assert!(
        upload.contains("zip -r ../invoice-topology.zip SKILL.md references"),
        "{upload}"
    );
    for invented in ["aws devops", "AWS::DevOps", "cloudformation deploy"] {
        assert!(!upload.contains(invented), "{invented}: {upload}");
    }
}
