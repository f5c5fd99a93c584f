//! `topoguard readiness` on the bundled example: every planted finding lowers the component it
//! belongs to (and names itself there), criteria backed by quiet checks stay met, output is
//! deterministic, `--min-score` gates, and bad input exits 2 with nothing written.

use crate::support::topoguard;
use serde_json::Value;
use std::collections::BTreeSet;

const EXAMPLE: &str = "topology/examples/global-org.json";

/// Which component and criterion a finding of each check lowers (stated here independently of
/// the implementation: this is the specification of docs/readiness.md).
const LOWERS: &[(&str, &str, &str)] = &[
    ("agent-space-missing-account", "visibility", "covers-footprint"),
    ("agent-space-role-unpinned", "visibility", "pinned"),
    ("agent-space-role-overbroad", "visibility", "not-over-broad"),
    ("agent-space-foreign-account", "visibility", "not-over-broad"),
    ("incident-access-not-read-only", "access", "read-only"),
    ("cross-account-write-to-shared", "access", "read-only"),
    (
        "application-resource-unattributed",
        "attribution",
        "resources-attributed",
    ),
    ("shared-resource-untagged", "attribution", "shared-tagged"),
    ("shared-resource-tag-mismatch", "attribution", "shared-tags-correct"),
    ("residency-cross-zone-flow", "residency", "no-cross-zone-flow"),
];

fn json(args: &[&str]) -> (i32, Value) {
    let out = topoguard()
        .args(["readiness", "--topology", EXAMPLE, "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap())
}

fn findings() -> Vec<Value> {
    let out = topoguard()
        .args(["check", "--topology", EXAMPLE, "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["findings"].as_array().unwrap().clone()
}

fn criterion<'a>(report: &'a Value, app: &str, component: &str, id: &str) -> &'a Value {
    let app = report["applications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["application"] == app)
        .unwrap_or_else(|| panic!("no application `{app}`"));
    let comp = app["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == component)
        .unwrap();
    comp["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no criterion `{id}` in `{component}`"))
}

#[test]
fn every_planted_finding_lowers_its_component_and_quiet_checks_stay_met() {
    let (code, report) = json(&[]);
    assert_eq!(code, 0);
    let findings = findings();
    let mut lowered: BTreeSet<(String, &str, &str)> = BTreeSet::new();
    for f in &findings {
        let check = f["check"].as_str().unwrap();
        let Some((_, component, id)) = LOWERS.iter().find(|(c, _, _)| *c == check) else {
            continue;
        };
        for app in f["applications"].as_array().unwrap() {
            let app = app.as_str().unwrap();
            let c = criterion(&report, app, component, id);
            assert_ne!(
                c["state"], "met",
                "{check} on {} should lower {app}/{component}",
                f["resource"]
            );
            let named = c["outstanding"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["check"] == check && o["subject"] == f["resource"]);
            assert!(
                named,
                "{app}/{component}/{id} does not name {check} on {}",
                f["resource"]
            );
            lowered.insert((app.to_string(), component, id));
        }
    }
    // Every kind of planted finding reached some application's score.
    for (check, _, _) in LOWERS {
        assert!(
            findings.iter().any(|f| f["check"] == *check),
            "the example plants no `{check}`"
        );
    }
    // The other way round: a criterion whose checks found nothing for an application is met.
    for app in report["applications"].as_array().unwrap() {
        let name = app["application"].as_str().unwrap();
        for (_, component, id) in LOWERS {
            if !lowered.contains(&(name.to_string(), *component, *id)) {
                let c = criterion(&report, name, component, id);
                assert_eq!(
                    c["state"], "met",
                    "{name}/{component}/{id} is lowered without a finding: {c}"
                );
            }
        }
    }
}

#[test]
fn example_scores_are_below_full_and_sum_their_components() {
    let (_, report) = json(&[]);
    let apps = report["applications"].as_array().unwrap();
    let names: Vec<&str> = apps.iter().map(|a| a["application"].as_str().unwrap()).collect();
    assert_eq!(names, ["catalog", "checkout", "invoice", "notifications"]);
    for app in apps {
        let points: u64 = app["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["points"].as_u64().unwrap())
            .sum();
        assert_eq!(app["points"].as_u64().unwrap(), points);
        assert_eq!(app["possible"], 100);
        assert!(app["score"].as_u64().unwrap() < 100, "{}", app["application"]);
    }
}

#[test]
fn output_is_deterministic_in_every_format() {
    for format in ["human", "json", "markdown", "html"] {
        let run = || {
            topoguard()
                .args(["readiness", "--topology", EXAMPLE, "--format", format])
                .output()
                .unwrap()
                .stdout
        };
        let a = run();
        assert!(!a.is_empty());
        assert_eq!(a, run(), "{format} differs between runs");
    }
}

#[test]
fn min_score_gates_and_app_selects() {
    let (_, report) = json(&["--app", "invoice"]);
    let apps = report["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 1);
    let score = apps[0]["score"].as_u64().unwrap();
    let at = score.to_string();
    let above = (score + 1).to_string();
    assert_eq!(json(&["--app", "invoice", "--min-score", &at]).0, 0);
    assert_eq!(json(&["--app", "invoice", "--min-score", &above]).0, 1);
    assert_eq!(json(&["--min-score", "0"]).0, 0);
}

#[test]
fn bad_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("r.json");
    let out = topoguard()
        .args(["readiness", "--topology", EXAMPLE, "--app", "nope", "--output"])
        .arg(&out_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown application `nope`"), "{err}");
    assert!(!out_path.exists());
    let out = topoguard()
        .args(["readiness", "--topology", EXAMPLE, "--min-score", "101"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // All weights zero: refused, naming the config.
    let cfg = dir.path().join("topoguard.toml");
    let base = std::fs::read_to_string(crate::support::root().join("policies/topoguard.toml")).unwrap();
    std::fs::write(
        &cfg,
        format!("{base}\n[readiness.weights]\nvisibility = 0\naccess = 0\nattribution = 0\nresidency = 0\ndelivery_safety = 0\ncoverage = 0\n"),
    )
    .unwrap();
    crate::support::copy_example_config_files(dir.path());
    let out = topoguard()
        .args(["readiness", "--topology", EXAMPLE, "--policies"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("every `[readiness.weights]` entry is 0"));
}

fn snapshot_ids() -> (BTreeSet<String>, BTreeSet<String>) {
    let snap: Value =
        serde_json::from_str(&std::fs::read_to_string(crate::support::root().join(EXAMPLE)).unwrap()).unwrap();
    let mut arns = BTreeSet::new();
    for list in [
        "roles",
        "event_buses",
        "rules",
        "functions",
        "resources",
        "agent_spaces",
        "event_buses_v2",
        "users",
    ] {
        for item in snap[list].as_array().into_iter().flatten() {
            arns.insert(item["arn"].as_str().unwrap().to_string());
        }
    }
    // A bucket the crawl placed by its owner (`bucket_owners`) is in the snapshot too.
    for bucket in snap["bucket_owners"].as_object().into_iter().flat_map(|m| m.keys()) {
        arns.insert(format!("arn:aws:s3:::{bucket}"));
    }
    let accounts = snap["organization"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    (arns, accounts)
}

/// The code spans of a Markdown text (escaped backticks, `\``, are text, not spans).
fn code_spans(text: &str) -> Vec<String> {
    text.replace("\\`", "'")
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|s| s.trim().to_string())
        .collect()
}

fn runbooks(dir: &std::path::Path) {
    let out = topoguard()
        .args(["runbooks", "--topology", EXAMPLE, "--out-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn runbooks_name_only_roles_accounts_and_shared_resources_that_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rb");
    runbooks(&dir);
    let (arns, accounts) = snapshot_ids();
    for app in ["catalog", "checkout", "invoice", "notifications"] {
        let text = std::fs::read_to_string(dir.join(app).join("RUNBOOK.md")).unwrap();
        assert!(text.contains("```mermaid\nflowchart LR\n"), "{app}");
        let skill = std::fs::read_to_string(dir.join(format!("{app}/skills/{app}-topology/SKILL.md"))).unwrap();
        assert!(
            skill.starts_with(&format!("---\nname: {app}-topology\ndescription: ")),
            "{skill}"
        );
        assert!(
            dir.join(format!("{app}/skills/{app}-topology/references/shared.md"))
                .exists()
        );
        for span in code_spans(&text) {
            let span = span.as_str();
            if span.starts_with("arn:aws:iam::") && span.contains(":role/") {
                assert!(arns.contains(span), "{app}: role `{span}` is not in the snapshot");
            }
            if span.len() == 12 && span.bytes().all(|b| b.is_ascii_digit()) {
                assert!(
                    accounts.contains(span),
                    "{app}: account `{span}` is not in the snapshot"
                );
            }
        }
        let shared = text
            .split("## Shared dependencies")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap();
        let named: Vec<String> = code_spans(shared)
            .into_iter()
            .filter(|s| s.starts_with("arn:"))
            .collect();
        for arn in &named {
            assert!(
                arns.contains(arn),
                "{app}: shared resource `{arn}` is not in the snapshot"
            );
        }
        if app == "invoice" {
            assert!(!named.is_empty(), "invoice uses shared resources in the example");
            assert!(text.contains("arn:aws:iam::311111111111:role/oncall-invoice"), "{text}");
        }
    }
}

#[test]
fn runbooks_are_deterministic_and_refuse_a_foreign_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    runbooks(&a);
    runbooks(&b);
    for entry in walk(&a) {
        let rel = entry.strip_prefix(&a).unwrap();
        assert_eq!(
            std::fs::read(&entry).unwrap(),
            std::fs::read(b.join(rel)).unwrap(),
            "{}",
            rel.display()
        );
    }
    // A non-empty directory topoguard did not write is left alone.
    let c = tmp.path().join("c");
    std::fs::create_dir(&c).unwrap();
    std::fs::write(c.join("mine.txt"), "x").unwrap();
    let out = topoguard()
        .args(["runbooks", "--topology", EXAMPLE, "--out-dir"])
        .arg(&c)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(&c).unwrap().count(), 1);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn html_reports_are_whole_pages_with_a_graph_per_application() {
    for (command, extra) in [("readiness", vec![]), ("check", vec!["--fail-on", "none"])] {
        let out = topoguard()
            .args([command, "--topology", EXAMPLE, "--format", "html"])
            .args(&extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let html = String::from_utf8(out.stdout).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
        assert_eq!(html.matches("<svg xmlns").count(), 4, "one graph per application");
        assert!(html.contains("data-check=\"residency-cross-zone-flow\""));
    }
}
