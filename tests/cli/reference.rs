//! Differential test against an independent IAM evaluator: the npm package
//! `@cloud-copilot/iam-simulate` (driven by `tests/reference/simulate.mjs`). Seeded, valid cases
//! (`reference_gen.rs`: identity policies, boundaries, SCP and RCP levels, resource policies,
//! Allow and Deny, conditions on global keys, wildcards, same- and cross-account requests) run
//! through topoguard's `iam::eval::evaluate` and through the simulator; the test prints
//! agreed/total and fails on a disagreement that `tests/reference/known-differences.json` does
//! not freeze. Every frozen case runs too, and must still behave as its resolution says: an
//! `our-bug` case must now agree, a `their-bug` or `semantic-choice` case must give the recorded
//! answers (so a fix on either side shows up as a stale entry).

use crate::reference_gen::{Gen, rcp_full_access};
use crate::support::{reference_evaluator, root};
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::path::Path;
use topoguard::iam::condition::RequestContext;
use topoguard::iam::eval::{Decision, DenyReason, NamedPolicy, PolicySet, Request, evaluate};
use topoguard::iam::policy::Policy;

/// Generated cases per run, and the seed (fixed: the cases, and so the figure, are reproducible).
const CASES: usize = 1500;
const SEED: u8 = 15;

const KNOWN: &str = "tests/reference/known-differences.json";

/// topoguard's decision for a case, in iam-simulate's vocabulary (`Conditional` when the engine
/// could not decide although every key is set or known absent; `error` when a policy does not
/// parse — the generator writes only valid policies).
pub fn topoguard_decision(case: &Value) -> String {
    let parse = |v: &Value| Policy::from_value(v).map_err(|e| format!("error: {}: {}", e.at, e.message));
    let list = |v: &Value| -> Result<Vec<Policy>, String> {
        v.as_array().map_or(Ok(Vec::new()), |a| a.iter().map(parse).collect())
    };
    let decide = || -> Result<Decision, String> {
        let identity = list(&case["identity"])?;
        let boundary = (!case["boundary"].is_null())
            .then(|| parse(&case["boundary"]))
            .transpose()?;
        let resource = (!case["resource_policy"].is_null())
            .then(|| parse(&case["resource_policy"]))
            .transpose()?;
        let levels = |key: &str| -> Result<Vec<Vec<Policy>>, String> {
            case[key]
                .as_array()
                .map_or(Ok(Vec::new()), |a| a.iter().map(list).collect())
        };
        let (scps, rcps) = (levels("scps")?, levels("rcps")?);
        let mut ctx = RequestContext::new();
        for (key, value) in case["context"].as_object().into_iter().flatten() {
            match value.as_str() {
                Some(v) => ctx.set(key, v),
                None => ctx.absent(key),
            };
        }
        let set = PolicySet {
            identity: identity.iter().map(|p| named("identity", p)).collect(),
            boundary: boundary.as_ref().map(|p| named("boundary", p)),
            scps: scps
                .iter()
                .map(|l| l.iter().map(|p| named("scp", p)).collect())
                .collect(),
            rcps: rcps
                .iter()
                .map(|l| l.iter().map(|p| named("rcp", p)).collect())
                .collect(),
            resource_policy: resource.as_ref().map(|p| named("resource", p)),
            session: Vec::new(),
            scp_exempt: false,
            assumed: Vec::new(),
        };
        let s = |k: &str| case[k].as_str().unwrap_or_default();
        let req = Request {
            principal: s("principal"),
            principal_account: s("principal_account"),
            action: s("action"),
            resource: s("resource"),
            resource_account: Some(s("resource_account")),
            context: &ctx,
        };
        Ok(evaluate(&req, &set))
    };
    match decide() {
        Err(e) => e,
        Ok(Decision::Allowed { .. }) => "Allowed".into(),
        Ok(Decision::Conditional { keys, .. }) => format!("Conditional on {}", keys.join(", ")),
        Ok(Decision::Denied(DenyReason::Explicit(_))) => "ExplicitlyDenied".into(),
        Ok(Decision::Denied(_)) => "ImplicitlyDenied".into(),
    }
}

fn named<'p>(name: &'static str, policy: &'p Policy) -> NamedPolicy<'p> {
    NamedPolicy { name, policy }
}

/// The case as iam-simulate's `Simulation` (keys known absent are left out of the context).
fn simulation(case: &Value) -> Value {
    let named = |prefix: &str, list: &Value| -> Vec<Value> {
        let items = list.as_array().cloned().unwrap_or_default();
        items
            .into_iter()
            .enumerate()
            .map(|(i, policy)| json!({ "name": format!("{prefix}-{i}"), "policy": policy }))
            .collect()
    };
    let levels = |prefix: &str, list: &Value| -> Vec<Value> {
        let items = list.as_array().cloned().unwrap_or_default();
        items
            .iter()
            .enumerate()
            .map(|(i, level)| {
                let org = if i == 0 {
                    "r-root".to_string()
                } else {
                    format!("ou-root-level{i}")
                };
                // iam-simulate applies RCPFullAWSAccess itself and rejects it as an input.
                let level: Vec<Value> = level
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| prefix != "rcp" || **p != rcp_full_access())
                    .cloned()
                    .collect();
                json!({ "orgIdentifier": org, "policies": named(&format!("{prefix}-{i}"), &json!(level)) })
            })
            .collect()
    };
    let context: serde_json::Map<String, Value> = case["context"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut sim = json!({
        "request": {
            "principal": case["principal"],
            "action": case["action"],
            "resource": { "resource": case["resource"], "accountId": case["resource_account"] },
            "contextVariables": context,
        },
        "identityPolicies": named("identity", &case["identity"]),
        "serviceControlPolicies": levels("scp", &case["scps"]),
        "resourceControlPolicies": levels("rcp", &case["rcps"]),
    });
    if !case["boundary"].is_null() {
        sim["permissionBoundaryPolicies"] = json!([{ "name": "boundary", "policy": case["boundary"] }]);
    }
    if !case["resource_policy"].is_null() {
        sim["resourcePolicy"] = case["resource_policy"].clone();
    }
    sim
}

/// iam-simulate's decision for every case (`error: ...` where it rejects the input), in order.
fn reference_decisions(node: &Path, dir: &Path, cases: &[Value]) -> Vec<String> {
    let mut child = std::process::Command::new(node)
        .arg("simulate.mjs")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("cannot start node tests/reference/simulate.mjs");
    let mut stdin = child.stdin.take().unwrap();
    let input: String = cases
        .iter()
        .enumerate()
        .map(|(id, c)| format!("{}\n", json!({ "id": id, "simulation": simulation(c) })))
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut out = vec![String::new(); cases.len()];
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let id = v["id"].as_u64().unwrap() as usize;
        out[id] = match v["decision"].as_str() {
            Some(d) => d.to_string(),
            None => format!("error: {}", v["error"]),
        };
    }
    writer.join().unwrap().unwrap();
    assert!(child.wait().unwrap().success(), "simulate.mjs failed");
    assert!(
        out.iter().all(|d| !d.is_empty()),
        "simulate.mjs answered only some cases"
    );
    out
}

fn known_differences() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join(KNOWN)).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().cloned().unwrap_or_default()
}

#[test]
fn iam_simulate_agrees_with_topoguard_or_the_difference_is_frozen() {
    let test = "iam_simulate_agrees_with_topoguard_or_the_difference_is_frozen";
    let Some((node, dir)) = reference_evaluator(test) else {
        return;
    };
    let mut generator = Gen::new(SEED);
    let cases: Vec<Value> = (0..CASES).map(|_| generator.case()).collect();
    let theirs = reference_decisions(&node, &dir, &cases);
    let known = known_differences();
    let mut agree = 0;
    let mut unfrozen = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for (case, reference) in cases.iter().zip(&theirs) {
        let ours = topoguard_decision(case);
        *counts.entry(reference.clone()).or_default() += 1;
        if ours == *reference {
            agree += 1;
        } else if !known.iter().any(|k| k["case"] == *case) {
            unfrozen.push(json!({ "resolution": "TODO", "explanation": "TODO", "topoguard": ours, "reference": reference, "case": case }));
        }
    }
    println!(
        "iam-simulate differential: {agree}/{CASES} generated cases agree (seed {SEED}); reference decisions {counts:?}"
    );
    // A generator whose cases all come out the same way would agree without testing anything.
    for d in ["Allowed", "ExplicitlyDenied", "ImplicitlyDenied"] {
        let n = counts.get(d).copied().unwrap_or_default();
        assert!(
            n * 20 >= CASES,
            "only {n} of {CASES} cases are {d}: the generator is degenerate"
        );
    }
    assert!(
        unfrozen.is_empty(),
        "{} disagreement(s) with iam-simulate not frozen in {KNOWN} (resolve each, then add it):\n{}",
        unfrozen.len(),
        unfrozen.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn frozen_differences_still_behave_as_resolved() {
    let test = "frozen_differences_still_behave_as_resolved";
    let Some((node, dir)) = reference_evaluator(test) else {
        return;
    };
    let known = known_differences();
    let cases: Vec<Value> = known.iter().map(|k| k["case"].clone()).collect();
    let theirs = reference_decisions(&node, &dir, &cases);
    let mut wrong = Vec::new();
    for (k, reference) in known.iter().zip(&theirs) {
        let ours = topoguard_decision(&k["case"]);
        let name = k["name"].as_str().unwrap_or("?");
        let ok = match k["resolution"].as_str() {
            Some("our-bug") => ours == *reference,
            Some("their-bug" | "semantic-choice") => ours == k["topoguard"] && *reference == k["reference"],
            other => {
                wrong.push(format!("{name}: unknown resolution {other:?}"));
                continue;
            }
        };
        if !ok {
            wrong.push(format!(
                "{name} ({}): topoguard {ours}, iam-simulate {reference}; recorded topoguard {}, iam-simulate {}",
                k["resolution"], k["topoguard"], k["reference"]
            ));
        }
        assert!(
            k["explanation"].as_str().is_some_and(|e| e.len() > 20 && e != "TODO"),
            "{name}: a frozen difference needs its explanation"
        );
    }
    assert!(wrong.is_empty(), "frozen differences changed:\n{}", wrong.join("\n"));
}
