//! Registry invariants: ids unique and kebab-case, one file per check named after its id, every
//! check documented, every check tested for firing, staying quiet and a near miss.

use super::*;

#[test]
fn ids_are_unique_kebab_case_and_match_file_names() {
    let ids = known_ids();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len(), "duplicate check ids");
    for check in REGISTRY {
        let id = check.id();
        assert!(
            id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{id} is not kebab-case"
        );
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/checks")
            .join(format!("{}.rs", id.replace('-', "_")));
        assert!(file.is_file(), "{id} must live in {}", file.display());
        assert!(!check.title().is_empty() && !check.description().is_empty());
    }
    let listed: Vec<&str> = REGISTRY.iter().map(|c| c.id()).collect();
    let mut in_order = listed.clone();
    in_order.sort_unstable();
    assert_eq!(listed, in_order, "REGISTRY must be in id order");
}

#[test]
fn every_check_is_documented() {
    let docs =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md")).unwrap();
    for id in known_ids() {
        assert!(
            docs.lines().any(
                |l| l.trim_start_matches('#').trim() == format!("`{id}`") || l.trim_start_matches('#').trim() == id
            ),
            "docs/checks.md has no heading for {id}"
        );
    }
}

#[test]
fn apis_map_to_inputs() {
    assert_eq!(Input::of_api("lambda:ListFunctions"), Some(Input::Lambda));
    assert_eq!(Input::of_api("events:ListRules"), Some(Input::EventBridge));
    // The crawler's "not supported yet" gap for EventBridge v2 hides EventBridge facts.
    assert_eq!(Input::of_api("eventsv2:ListEventBuses"), Some(Input::EventBridge));
    assert_eq!(Input::of_api("sts:AssumeRole"), None);
}

/// The names of the `#[test]` functions in `source`.
fn test_names(source: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut lines = source.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "#[test]" {
            continue;
        }
        if let Some(name) = lines
            .find(|l| !l.starts_with("#[") && !l.starts_with("//"))
            .and_then(|l| l.strip_prefix("fn "))
            .and_then(|l| l.split('(').next())
        {
            names.push(name);
        }
    }
    names
}

/// The test-name prefixes every check file needs at least one test of.
const KINDS: [&str; 3] = ["fires_", "quiet_", "near_miss_"];

/// The prefixes of [`KINDS`] that no test in `source` starts with.
fn missing_kinds(source: &str) -> Vec<&'static str> {
    let names = test_names(source);
    KINDS
        .into_iter()
        .filter(|k| !names.iter().any(|n| n.starts_with(k)))
        .collect()
}

#[test]
fn every_check_has_fires_quiet_and_near_miss_tests() {
    let mut missing = Vec::new();
    for check in REGISTRY {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/checks")
            .join(format!("{}.rs", check.id().replace('-', "_")));
        let source = std::fs::read_to_string(&file).unwrap();
        for kind in missing_kinds(&source) {
            missing.push(format!("{}: no test named `{kind}*`", file.display()));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn near_miss_a_file_missing_one_kind_is_reported() {
    let all = "#[test]\nfn fires_a() {}\n#[test]\n#[ignore]\nfn quiet_b() {}\n#[test]\nfn near_miss_c() {}\n";
    assert_eq!(missing_kinds(all), Vec::<&str>::new());
    // A helper named like a test, without `#[test]`, does not count.
    let helper = "#[test]\nfn fires_a() {}\nfn quiet_b() {}\n#[test]\nfn near_miss_c() {}\n";
    assert_eq!(missing_kinds(helper), vec!["quiet_"]);
    assert_eq!(missing_kinds(""), KINDS.to_vec());
}

/// The checks given a "not proven" result by one gap on `api` in invoice's account, in an
/// organization where nothing else is wrong.
fn not_proven_by(api: &str) -> Vec<String> {
    use super::testkit::*;
    let mut s = org();
    add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
    s["coverage"] = serde_json::json!({"gaps": [{"account": INVOICE, "region": "eu-west-1", "api": api, "error_code": "AccessDenied"}]});
    let mut checks: Vec<String> = run_engine(&s, CONFIG, "t.toml")
        .into_iter()
        .filter(|f| f.status == Status::NotProven)
        .map(|f| f.check)
        .collect();
    checks.dedup();
    checks
}

// docs/checks.md, "Not proven" instead of "pass": which gaps touch which check. Each API family
// reaches the checks that read it and no other (a gap of an unknown family would touch all).
#[test]
fn a_gap_touches_only_the_checks_that_read_its_input() {
    let touched = |api: &str, yes: &[&str], no: &[&str]| {
        let got = not_proven_by(api);
        for id in yes {
            assert!(got.iter().any(|c| c == id), "{api} must touch {id}: {got:?}");
        }
        for id in no {
            assert!(!got.iter().any(|c| c == id), "{api} must not touch {id}: {got:?}");
        }
    };
    // The organization (SCPs, OU path): the IAM checks, not the tag checks.
    touched(
        "organizations:ListPoliciesForTarget",
        &["incident-access-not-read-only", "cross-account-write-to-shared"],
        &[
            "shared-resource-untagged",
            "agent-space-role-unpinned",
            "residency-cross-zone-flow",
        ],
    );
    // IAM roles: even the check reading only trust policies; not the bus/rule/function inventory.
    touched(
        "iam:GetRolePolicy",
        &["agent-space-role-unpinned", "shared-resource-untagged"],
        &["application-resource-unattributed", "agent-space-outside-zone"],
    );
    for api in ["events:ListRules", "eventsv2:ListEventBuses", "lambda:ListFunctions"] {
        touched(
            api,
            &["residency-cross-zone-flow", "application-resource-unattributed"],
            &["agent-space-role-unpinned", "incident-access-not-read-only"],
        );
    }
    touched(
        "tag:GetResources",
        &["shared-resource-untagged", "application-resource-unattributed"],
        &["agent-space-role-unpinned", "incident-access-not-read-only"],
    );
    // Resource policies of queues, topics, tables, keys, buckets, secrets …
    for api in [
        "sqs:GetQueueAttributes",
        "s3:GetBucketPolicy",
        "kms:GetKeyPolicy",
        "secretsmanager:GetResourcePolicy",
    ] {
        touched(
            api,
            &["shared-resource-untagged", "cross-account-write-to-shared"],
            &[
                "residency-cross-zone-flow",
                "application-resource-unattributed",
                "agent-space-role-unpinned",
            ],
        );
    }
    // Agent Spaces and associations.
    touched(
        "aidevops:ListAgentSpaces",
        &[
            "agent-space-missing-account",
            "agent-space-outside-zone",
            "incident-access-not-read-only",
        ],
        &[
            "shared-resource-untagged",
            "residency-cross-zone-flow",
            "agent-space-role-unpinned",
        ],
    );
    // An API of no known family, like `sts:AssumeRole`, may gate anything: every check.
    let all = not_proven_by("sts:AssumeRole");
    assert_eq!(all.len(), REGISTRY.len(), "{all:?}");
}

// The trait's metadata accessors give what the check declared in its `META`, and the default
// severity is the one docs/checks.md's summary table gives (its first word when graded).
#[test]
fn metadata_is_the_declared_meta_and_the_documented_severity() {
    let docs =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md")).unwrap();
    for check in REGISTRY {
        let meta = check.meta();
        assert_eq!(
            (check.id(), check.title(), check.description()),
            (meta.id, meta.title, meta.description)
        );
        assert_eq!(check.default_severity(), meta.severity, "{}", meta.id);
        assert_eq!(check.inputs(), meta.inputs, "{}", meta.id);
        let row = format!("| [`{0}`](#{0}) | ", meta.id);
        let documented = docs
            .lines()
            .find_map(|l| l.strip_prefix(row.as_str()))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no summary row for {}", meta.id));
        assert_eq!(check.default_severity().as_str(), documented, "{}", meta.id);
    }
}

#[test]
fn finding_for_is_a_violation_of_the_check_about_the_node() {
    use super::testkit::*;
    let s = org();
    let snapshot = crate::model::parse_snapshot(&s.to_string(), std::path::Path::new("t.json")).unwrap();
    let config = crate::config::parse_config(CONFIG, std::path::Path::new("t.toml"), &known_ids()).unwrap();
    let t = crate::graph::Topology::build(&snapshot, &config);
    let ix = t.find(INVOICE).unwrap();
    let check = REGISTRY[0];
    let f = finding_for(check, t.node(ix), "m".to_string(), "r".to_string());
    assert_eq!(
        (f.check.as_str(), f.resource.as_str(), f.account.as_deref()),
        (check.id(), INVOICE, Some(INVOICE))
    );
    assert_eq!((f.status, f.severity), (Status::Violation, check.default_severity()));
    assert_eq!((f.message.as_str(), f.remediation.as_str()), ("m", "r"));
    assert_eq!(f.title, check.title());
}

// Unknown is not pass: a check that could not run says so as "not proven", naming why.
#[test]
fn an_unavailable_catalog_is_not_proven_naming_the_error() {
    let meta = REGISTRY[0].meta();
    let f = catalog_unavailable(meta, "bad entry at byte 7");
    assert_eq!(f.status, Status::NotProven);
    assert_eq!(f.check, meta.id);
    assert!(f.message.contains("bad entry at byte 7"), "{}", f.message);
}

fn coverage_gap(code: &str, message: &str) -> CoverageGap {
    serde_json::from_value(serde_json::json!({"account": "111111111111", "region": "eu-west-1",
        "api": "sqs:GetQueueAttributes", "error_code": code, "message": message}))
    .unwrap()
}

// docs/checks.md: to resolve a not-proven result of a crawl failure, grant the crawl role the
// missing read permission and crawl again. A value known only after apply or a policy the change
// names is no crawl failure (docs/iac.md): the crawl role is not the remedy.
#[test]
fn gap_remediation_fits_the_kind_of_gap() {
    let place = "account `111111111111` region `eu-west-1`";
    let crawl = gap_remediation(&coverage_gap("AccessDenied", ""), place);
    assert!(
        crawl.contains("crawl role") && crawl.contains("`sqs:GetQueueAttributes`") && crawl.contains(place),
        "{crawl}"
    );
    for code in [crate::iac::UNKNOWN_CODE, crate::iac::POLICY_NOT_IN_SNAPSHOT] {
        let r = gap_remediation(&coverage_gap(code, "q.yaml:4:3 (Queue)"), place);
        assert!(!r.contains("crawl role") && r.contains(place), "{code}: {r}");
    }
    let policy = gap_remediation(&coverage_gap(crate::iac::POLICY_NOT_IN_SNAPSHOT, "x"), place);
    assert!(policy.contains("managed policy"), "{policy}");
}

/// A topology of the test organization with `gaps` as its coverage gaps.
fn with_gaps(gaps: serde_json::Value, f: impl FnOnce(&Topology<'_>)) {
    use super::testkit::*;
    let mut s = org();
    s["coverage"] = serde_json::json!({ "gaps": gaps });
    let snapshot = crate::model::parse_snapshot(&s.to_string(), std::path::Path::new("t.json")).unwrap();
    let config = crate::config::parse_config(CONFIG, std::path::Path::new("t.toml"), &known_ids()).unwrap();
    f(&Topology::build(&snapshot, &config));
}

// A gap hides a fact of its own account and region; one without a region (or account) hides it
// in every region (or account); an API-gating gap (`sts:AssumeRole`) hides everything there.
#[test]
fn gaps_hiding_apis_keeps_the_gaps_of_the_place_and_api() {
    let gap = |account: &str, region: Option<&str>, api: &str| serde_json::json!({"account": account, "region": region, "api": api, "error_code": "AccessDenied"});
    with_gaps(
        serde_json::json!([
            gap("111111111111", Some("eu-west-1"), "aidevops:ListAssociations"),
            gap("111111111111", Some("us-east-1"), "aidevops:ListAssociations"),
            gap("111111111111", None, "aidevops:ListAssociations"),
            gap("222222222222", Some("eu-west-1"), "aidevops:ListAssociations"),
            gap("111111111111", Some("eu-west-1"), "aidevops:ListAgentSpaces"),
            gap("111111111111", Some("eu-west-1"), "sts:AssumeRole"),
        ]),
        |t| {
            let got = gaps_hiding_apis(t, &["aidevops:ListAssociations"], &["111111111111"], Some("eu-west-1"));
            let mut seen: Vec<(Option<&str>, &str)> =
                got.iter().map(|g| (g.region.as_deref(), g.api.as_str())).collect();
            seen.sort_unstable();
            assert_eq!(
                seen,
                vec![
                    (None, "aidevops:ListAssociations"),
                    (Some("eu-west-1"), "aidevops:ListAssociations"),
                    (Some("eu-west-1"), "sts:AssumeRole"),
                ]
            );
            assert!(got.iter().all(|g| g.account.as_deref() == Some("111111111111")));
            // Every account, any region: the four gaps of the API and the gating one.
            assert_eq!(gaps_hiding_apis(t, &["aidevops:ListAssociations"], &[], None).len(), 5);
        },
    );
}

// The clause a "not proven" message carries: the crawl's error code, and its message when AWS
// gave one (docs/checks.md, "Not proven" instead of "pass": the result names the gap).
#[test]
fn gap_clause_gives_the_error_and_its_message_only_when_there_is_one() {
    let bare = coverage_gap("AccessDenied", "");
    assert_eq!(
        gap_clause(&bare, " there"),
        "the crawl could not read `sqs:GetQueueAttributes` there (AccessDenied)"
    );
    let said = coverage_gap("AccessDenied", "explicit deny in an SCP");
    assert_eq!(
        gap_clause(&said, " there"),
        "the crawl could not read `sqs:GetQueueAttributes` there (AccessDenied: explicit deny in an SCP)"
    );
}
