//! Runs the registry over a topology: coverage gaps become "not proven" results, config severity
//! overrides and ignores are applied, and ignores that matched nothing are reported.
//!
//! Rule for gaps: a check that names a gap in its own findings (coverage-gap evidence, see
//! [`super::gap_evidence`]) has said what that gap leaves unproven, so the engine adds its
//! generic per-gap "not proven" result only for the gaps no finding of that check names. The
//! evidence identifies a gap by account (or `organization`), API and error code, not region:
//! when two gaps of a check share those three, the generic result is kept for both, so a gap is
//! never silenced by a finding about another one.

use super::{
    Check, Context, Evidence, Finding, Input, REGISTRY, Status, app_names, gap_clause, gap_detail, gap_remediation,
    is_crawl_gap, unused_ignore,
};
use crate::arn::glob_match;
use crate::config::Ignore;
use crate::graph::Topology;
use crate::model::CoverageGap;
use std::collections::BTreeSet;
use toml::Spanned;

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Findings after ignores, unsorted.
    pub findings: Vec<Finding>,
    /// How many findings config ignores suppressed.
    pub ignored: usize,
    /// Ids of the checks that ran.
    pub checks_run: Vec<&'static str>,
}

/// The checks the config leaves enabled.
pub fn enabled_checks(topology: &Topology<'_>) -> Vec<&'static dyn Check> {
    REGISTRY
        .iter()
        .copied()
        .filter(|c| topology.config.check_settings(c.id()).is_none_or(|s| s.enabled))
        .collect()
}

/// Runs every enabled check. `config_path` names the config in unused-ignore findings.
pub fn run_checks(topology: &Topology<'_>, config_path: &str) -> Outcome {
    let checks = enabled_checks(topology);
    let gaps = &topology.snapshot.coverage.gaps;
    let mut out = Outcome::default();
    for check in &checks {
        let cx = Context::new(topology, *check);
        let mut findings = check.run(&cx);
        // The engine owns used-entry bookkeeping: allow entries the check never used.
        findings.extend(cx.unused_allows());
        let unreported: Vec<&CoverageGap> = gaps.iter().filter(|g| !reported(g, gaps, &findings)).collect();
        findings.extend(not_proven(*check, topology, &unreported));
        let settings = topology.config.check_settings(check.id());
        if let Some(severity) = settings.and_then(|s| s.severity) {
            for f in findings.iter_mut().filter(|f| f.check == check.id()) {
                f.severity = severity;
            }
        }
        let ignores: Vec<&Spanned<Ignore>> = settings.map(|s| s.ignore.iter().collect()).unwrap_or_default();
        let mut used = vec![false; ignores.len()];
        findings.retain(|f| {
            if f.check != check.id() {
                return true;
            }
            let mut keep = true;
            for (i, ig) in ignores.iter().enumerate() {
                if matches(ig.get_ref(), f) {
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                    keep = false;
                }
            }
            if !keep {
                out.ignored += 1;
            }
            keep
        });
        for (i, ig) in ignores.iter().enumerate() {
            if !used.get(i).copied().unwrap_or(true) {
                let location = topology.config.locate(ig.span());
                out.findings.push(unused_ignore::unused_entry(
                    check.id(),
                    "ignore",
                    i,
                    &ig.get_ref().reason,
                    location,
                ));
            }
        }
        out.findings.extend(findings);
        out.checks_run.push(check.id());
    }
    // Ignores and allow entries under disabled checks match nothing either.
    for (id, settings) in &topology.config.checks {
        if !settings.enabled {
            for (i, ig) in settings.ignore.iter().enumerate() {
                out.findings.push(unused_ignore::unused_entry(
                    id.get_ref(),
                    "ignore",
                    i,
                    &ig.get_ref().reason,
                    topology.config.locate(ig.span()),
                ));
            }
            let allow = super::context::allow_entries(topology, id.get_ref());
            for (i, a) in allow.iter().enumerate() {
                out.findings.push(unused_ignore::unused_entry(
                    id.get_ref(),
                    "allow",
                    i,
                    &a.get_ref().reason,
                    topology.config.locate(a.span()),
                ));
            }
        }
    }
    // Every unused entry — the engine's and those of checks with their own exception lists —
    // names the config file and takes the `unused-ignore` severity override.
    let severity = topology
        .config
        .check_settings(unused_ignore::ID)
        .and_then(|s| s.severity);
    for f in out.findings.iter_mut().filter(|f| f.check == unused_ignore::ID) {
        unused_ignore::locate(f, config_path);
        if let Some(severity) = severity {
            f.severity = severity;
        }
    }
    out
}

fn matches(ig: &Ignore, f: &Finding) -> bool {
    ig.resource.as_deref().is_none_or(|r| glob_match(r, &f.resource))
        && ig
            .application
            .as_deref()
            .is_none_or(|a| f.applications.iter().any(|x| x == a))
        && ig.account.as_deref().is_none_or(|a| f.account.as_deref() == Some(a))
}

/// The evidence `from` and `detail` a check's coverage-gap evidence gives `g`.
fn gap_key(g: &CoverageGap) -> (&str, String) {
    (g.account.as_deref().unwrap_or("organization"), gap_detail(g))
}

/// Whether a finding of `findings` names gap `g` unambiguously in its evidence: same account,
/// API and error code, and no other gap of `gaps` shares those three.
fn reported(g: &CoverageGap, gaps: &[CoverageGap], findings: &[Finding]) -> bool {
    let key = gap_key(g);
    if gaps.iter().filter(|o| gap_key(o) == key).count() > 1 {
        return false;
    }
    findings.iter().any(|f| {
        f.evidence
            .iter()
            .any(|e| e.relation == "coverage-gap" && e.from == key.0 && e.detail == key.1)
    })
}

/// One "not proven" result per coverage gap that touches the check's inputs.
fn not_proven(check: &dyn Check, topology: &Topology<'_>, gaps: &[&CoverageGap]) -> Vec<Finding> {
    let relevant: Vec<&CoverageGap> = gaps
        .iter()
        .copied()
        .filter(|g| Input::of_api(&g.api).is_none_or(|input| check.inputs().contains(&input)))
        .collect();
    if relevant.is_empty() {
        return Vec::new();
    }
    let footprints: Vec<BTreeSet<&str>> = (0..topology.applications.len())
        .map(|a| topology.footprint_accounts(a))
        .collect();
    relevant
        .into_iter()
        .map(|g| {
            let account_owner = g
                .account
                .as_deref()
                .and_then(|acc| topology.find(acc))
                .and_then(|ix| topology.owner(ix));
            let apps = (0..topology.applications.len()).filter(|a| {
                Some(*a) == account_owner
                    || g.account
                        .as_deref()
                        .is_none_or(|acc| footprints.get(*a).is_some_and(|f| f.contains(acc)))
            });
            let place = match (&g.account, &g.region) {
                (Some(a), Some(r)) => format!("account `{a}` region `{r}`"),
                (Some(a), None) => format!("account `{a}`"),
                (None, Some(r)) => format!("region `{r}` of every account"),
                (None, None) => "the organization".to_string(),
            };
            Finding {
                check: check.id().to_string(),
                severity: check.default_severity(),
                status: Status::NotProven,
                title: check.title().to_string(),
                message: format!(
                    "not proven for {place}: {}, so `{}` cannot show the absence of violations",
                    gap_clause(g, " there"),
                    check.id()
                ),
                resource: g.account.clone().unwrap_or_else(|| "organization".to_string()),
                account: g.account.clone(),
                region: g.region.clone(),
                applications: app_names(topology, apps),
                evidence: vec![Evidence::new(
                    "coverage-gap",
                    g.account.as_deref().unwrap_or("organization"),
                    None,
                    generic_detail(g),
                )],
                remediation: gap_remediation(g, &place),
                conditions: Vec::new(),
                location: None,
            }
        })
        .collect()
}

/// The evidence detail of the generic result: a crawl failure keeps its message
/// (`api failed: code: message`), an IaC gap says what it is ([`gap_detail`]).
fn generic_detail(g: &CoverageGap) -> String {
    match (is_crawl_gap(g), g.message.is_empty()) {
        (true, true) => format!("{} failed: {}", g.api, g.error_code),
        (true, false) => format!("{} failed: {}: {}", g.api, g.error_code, g.message),
        (false, _) => gap_detail(g),
    }
}

#[cfg(test)]
mod tests {
    use super::run_checks;
    use crate::checks::testkit::*;
    use crate::checks::{Severity, Status, known_ids};
    use crate::config::parse_config;
    use crate::graph::Topology;
    use crate::model::parse_snapshot;
    use serde_json::{Value, json};
    use std::path::Path;

    fn outcome(s: &Value, extra: &str) -> super::Outcome {
        let snapshot = parse_snapshot(&s.to_string(), Path::new("t.json")).unwrap();
        let config = parse_config(&format!("{CONFIG}\n{extra}"), Path::new("t.toml"), &known_ids()).unwrap();
        let topology = Topology::build(&snapshot, &config);
        run_checks(&topology, "t.toml")
    }

    fn untagged_shared_queue() -> Value {
        let mut s = org();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[&q]);
        s
    }

    #[test]
    fn severity_override_and_ignore_apply_and_unused_ignores_are_reported() {
        let s = untagged_shared_queue();
        let o = outcome(&s, "[checks.shared-resource-untagged]\nseverity = \"critical\"\n");
        let f: Vec<_> = o
            .findings
            .iter()
            .filter(|f| f.check == "shared-resource-untagged")
            .collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);

        let o = outcome(
            &s,
            "[checks.shared-resource-untagged]\nignore = [{ resource = \"arn:aws:sqs:*:999999999999:orders\", reason = \"tagged by the queue team next sprint\" }, { application = \"checkout\", reason = \"stale\" }]\n",
        );
        assert_eq!(o.ignored, 1);
        assert!(!o.findings.iter().any(|f| f.check == "shared-resource-untagged"));
        let unused: Vec<_> = o.findings.iter().filter(|f| f.check == "unused-ignore").collect();
        assert_eq!(unused.len(), 1, "{unused:#?}");
        assert_eq!(unused[0].resource, "checks.shared-resource-untagged.ignore[1]");
    }

    #[test]
    fn disabled_check_does_not_run() {
        let o = outcome(
            &untagged_shared_queue(),
            "[checks.shared-resource-untagged]\nenabled = false\n",
        );
        assert!(!o.checks_run.contains(&"shared-resource-untagged"));
        assert!(!o.findings.iter().any(|f| f.check == "shared-resource-untagged"));
    }

    #[test]
    fn coverage_gaps_make_affected_checks_not_proven() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        s["coverage"] = json!({"gaps": [{"account": INVOICE, "region": "eu-central-1", "api": "lambda:ListFunctions", "error_code": "AccessDeniedException", "message": "denied by SCP"}]});
        let o = outcome(&s, "");
        let np: Vec<_> = o.findings.iter().filter(|f| f.status == Status::NotProven).collect();
        let checks: Vec<&str> = np.iter().map(|f| f.check.as_str()).collect();
        // Every check that reads Lambda data; agent-space-role-unpinned reads only IAM.
        assert!(checks.contains(&"residency-cross-zone-flow"));
        assert!(checks.contains(&"shared-resource-untagged"));
        assert!(!checks.contains(&"agent-space-role-unpinned"));
        assert!(np[0].message.contains("lambda:ListFunctions") && np[0].message.contains("denied by SCP"));
        assert_eq!(np[0].applications, vec!["invoice"]);
        // sts:AssumeRole hides the whole account from every check.
        s["coverage"] = json!({"gaps": [{"account": CHECKOUT, "api": "sts:AssumeRole", "error_code": "AccessDenied"}]});
        let o = outcome(&s, "");
        assert_eq!(
            o.findings.iter().filter(|f| f.status == Status::NotProven).count(),
            o.checks_run.len()
        );
    }

    /// The not-proven findings of `check` in `o`.
    fn not_proven_of<'o>(o: &'o super::Outcome, check: &str) -> Vec<&'o crate::checks::Finding> {
        o.findings
            .iter()
            .filter(|f| f.check == check && f.status == Status::NotProven)
            .collect()
    }

    fn declared_space_missing() -> (Value, String) {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        (
            s,
            "[agent_spaces.invoice]\napplication = \"invoice\"\naccounts = [\"111111111111\"]\n".to_string(),
        )
    }

    fn gap(account: &str, region: &str, api: &str) -> Value {
        json!({"account": account, "region": region, "api": api, "error_code": "AccessDeniedException"})
    }

    #[test]
    fn quiet_generic_not_proven_when_the_check_already_names_the_gap() {
        // agent-space-missing-account makes its own finding not proven by this gap: one result.
        let (mut s, extra) = declared_space_missing();
        s["coverage"] = json!({"gaps": [gap(CHECKOUT, "eu-west-1", "aidevops:ListAgentSpaces")]});
        let o = outcome(&s, &extra);
        let np = not_proven_of(&o, "agent-space-missing-account");
        assert_eq!(np.len(), 1, "{np:#?}");
        assert!(np[0].message.starts_with("not proven:"), "{}", np[0].message);
        // The other checks reading Agent Spaces did not name it: each still gets the generic one.
        let generic = not_proven_of(&o, "agent-space-foreign-account");
        assert_eq!(generic.len(), 1, "{generic:#?}");
        assert!(
            generic[0].message.starts_with("not proven for account"),
            "{}",
            generic[0].message
        );
    }

    #[test]
    fn fires_generic_not_proven_for_a_gap_no_finding_names() {
        // No violation at all: nothing names the gap, so the generic result says it.
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        s["coverage"] = json!({"gaps": [gap(CHECKOUT, "eu-west-1", "aidevops:ListAgentSpaces")]});
        let o = outcome(&s, "");
        let np = not_proven_of(&o, "agent-space-missing-account");
        assert_eq!(np.len(), 1, "{np:#?}");
        assert!(
            np[0]
                .message
                .starts_with("not proven for account `222222222222` region `eu-west-1`")
        );
    }

    #[test]
    fn near_miss_gaps_differing_only_by_region_keep_their_generic_results() {
        // The check's evidence names account, API and error code, not the region: with two such
        // gaps, it cannot be told which one was named, so neither is silenced.
        let (mut s, extra) = declared_space_missing();
        s["coverage"] = json!({"gaps": [
            gap(CHECKOUT, "eu-west-1", "aidevops:ListAgentSpaces"),
            gap(CHECKOUT, "us-east-1", "aidevops:ListAgentSpaces"),
        ]});
        let o = outcome(&s, &extra);
        let np = not_proven_of(&o, "agent-space-missing-account");
        let generic: Vec<_> = np.iter().filter(|f| f.message.starts_with("not proven for")).collect();
        assert_eq!(generic.len(), 2, "{np:#?}");
        assert_eq!(np.len(), 3, "{np:#?}");
    }

    fn iac_gap(code: &str, message: &str) -> Value {
        json!({"account": INVOICE, "region": "eu-west-1", "api": "sqs:CreateQueue", "error_code": code, "message": message})
    }

    #[test]
    fn fires_known_after_apply_wording_names_the_template_place() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        s["coverage"] = json!({"gaps": [iac_gap("KnownOnlyAfterApply", "q.yaml:4:3 (Queue): `Properties.QueueName`")]});
        let o = outcome(&s, "");
        let np = not_proven_of(&o, "shared-resource-untagged");
        assert_eq!(np.len(), 1, "{np:#?}");
        assert_eq!(
            np[0].message,
            "not proven for account `111111111111` region `eu-west-1`: a value known only after apply at q.yaml:4:3 (Queue): `Properties.QueueName`, so `shared-resource-untagged` cannot show the absence of violations"
        );
        assert!(!np[0].message.contains("crawl") && !np[0].remediation.contains("crawl role"));
        assert_eq!(
            np[0].evidence[0].detail,
            "sqs:CreateQueue known only after apply: q.yaml:4:3 (Queue): `Properties.QueueName`"
        );
    }

    #[test]
    fn quiet_crawl_gap_keeps_the_crawl_wording() {
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        s["coverage"] = json!({"gaps": [iac_gap("AccessDenied", "denied")]});
        let o = outcome(&s, "");
        let np = not_proven_of(&o, "shared-resource-untagged");
        assert!(
            np[0]
                .message
                .contains("the crawl could not read `sqs:CreateQueue` there (AccessDenied: denied)")
        );
        assert!(!np[0].message.contains("after apply"));
        assert_eq!(np[0].evidence[0].detail, "sqs:CreateQueue failed: AccessDenied: denied");
    }

    #[test]
    fn near_miss_policy_not_in_snapshot_is_not_called_a_crawl_failure() {
        let g: crate::model::CoverageGap = serde_json::from_value(iac_gap(
            "PolicyNotInSnapshot",
            "r.yaml:2:3 (Role): attaches `arn:aws:iam::aws:policy/X`, whose document is not in the snapshot",
        ))
        .unwrap();
        let crawl: crate::model::CoverageGap = serde_json::from_value(iac_gap("Throttling", "")).unwrap();
        let clause = crate::checks::gaps_clause(&[&g, &crawl]);
        assert_eq!(
            clause,
            "the crawl could not read `sqs:CreateQueue` in account `111111111111` region `eu-west-1` (Throttling); the change names a managed policy whose document is not in the snapshot (r.yaml:2:3 (Role): attaches `arn:aws:iam::aws:policy/X`, whose document is not in the snapshot)"
        );
    }

    // docs/checks.md, "Ignoring a finding": all the fields an ignore gives must match the
    // finding; `account` matches the finding's account.
    #[test]
    fn near_miss_an_ignore_by_account_matches_only_that_accounts_findings() {
        let mut s = untagged_shared_queue();
        // A second untagged shared resource: invoice's queue that checkout uses.
        let own = add_queue(&mut s, INVOICE, "eu-west-1", "ledger", json!({}));
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[&own]);
        let o = outcome(
            &s,
            "[checks.shared-resource-untagged]\nignore = [{ account = \"999999999999\", reason = \"shared team tags later\" }]\n",
        );
        assert_eq!(o.ignored, 1);
        let left: Vec<_> = o
            .findings
            .iter()
            .filter(|f| f.check == "shared-resource-untagged")
            .collect();
        assert_eq!(left.len(), 1, "{left:#?}");
        assert_eq!(left[0].resource, own);
        assert!(
            !o.findings.iter().any(|f| f.check == "unused-ignore"),
            "{:#?}",
            o.findings
        );
    }

    // docs/checks.md, unused-ignore: any ignore under a disabled check, and every `allow` entry
    // of a disabled `cross-account-write-to-shared`, matches nothing and is reported.
    #[test]
    fn fires_unused_for_every_entry_under_a_disabled_check() {
        let o = outcome(
            &untagged_shared_queue(),
            "[checks.shared-resource-untagged]\nenabled = false\nignore = [{ application = \"invoice\", reason = \"r\" }]\n[checks.cross-account-write-to-shared]\nenabled = false\nallow = [{ principal = \"arn:aws:iam::111111111111:root\", resource = \"*\", actions = [\"sqs:*\"], reason = \"r\" }]\n",
        );
        let mut unused: Vec<&str> = o
            .findings
            .iter()
            .filter(|f| f.check == "unused-ignore")
            .map(|f| f.resource.as_str())
            .collect();
        unused.sort_unstable();
        assert_eq!(
            unused,
            vec![
                "checks.cross-account-write-to-shared.allow[0]",
                "checks.shared-resource-untagged.ignore[0]"
            ]
        );
    }

    #[test]
    fn fires_generic_not_proven_for_a_gap_no_finding_names_beside_one_that_does() {
        // The check names the association gap in invoice's account; a Lambda gap in the same
        // account and region is another gap (another API), still reported on its own.
        let (mut s, _) = declared_space_missing();
        let q = add_queue(&mut s, SHARED, "eu-west-1", "orders", json!({}));
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-worker", &[&q]);
        add(
            &mut s,
            "agent_spaces",
            json!({"id": "invoice", "arn": "arn:aws:aidevops:eu-west-1:111111111111:agentspace/invoice", "name": "invoice", "account": INVOICE, "region": "eu-west-1", "associations": []}),
        );
        s["coverage"] = json!({"gaps": [
            gap(INVOICE, "eu-west-1", "aidevops:ListAssociations"),
            gap(INVOICE, "eu-west-1", "lambda:ListFunctions"),
        ]});
        let o = outcome(
            &s,
            "[agent_spaces.invoice]\napplication = \"invoice\"\naccounts = [\"111111111111\", \"999999999999\"]\n",
        );
        let np = not_proven_of(&o, "agent-space-missing-account");
        assert_eq!(np.len(), 2, "{np:#?}");
        assert!(
            np.iter()
                .any(|f| f.message.starts_with("not proven:") && f.message.contains("aidevops:ListAssociations")),
            "{np:#?}"
        );
        assert!(
            np.iter()
                .any(|f| f.message.starts_with("not proven for account") && f.message.contains("lambda:ListFunctions")),
            "{np:#?}"
        );
    }

    #[test]
    fn fires_an_organization_wide_gap_concerns_every_application() {
        // A gap with no account could hide a fact of any account, so of any application.
        let mut s = org();
        add_function(&mut s, INVOICE, "eu-west-1", "invoice-api", &[]);
        add_function(&mut s, CHECKOUT, "eu-west-1", "checkout-api", &[]);
        s["coverage"] = json!({"gaps": [{"api": "tag:GetResources", "error_code": "AccessDenied"}]});
        let o = outcome(&s, "");
        let np = not_proven_of(&o, "shared-resource-untagged");
        assert_eq!(np.len(), 1, "{np:#?}");
        assert_eq!(np[0].applications, vec!["checkout", "invoice"]);
        assert!(
            np[0].message.starts_with("not proven for the organization"),
            "{}",
            np[0].message
        );
        assert_eq!(np[0].severity, Severity::Medium);
    }
}
