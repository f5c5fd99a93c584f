//! The `terraform` format: `<account>/main.tf.json` per account (a root module to apply with
//! that account's credentials), with `aws_iam_role`, `aws_iam_policy` and
//! `aws_iam_role_policy_attachment` resources. Agent Space ARNs are variables, defaulting to the
//! snapshot's value when known.
//!
//! Every JSON string of a `.tf.json` file is a Terraform template, so every string that carries
//! data (names, descriptions, tag keys and values, the policy documents' strings and keys) goes
//! through [`terraform_literal`] (`${` → `$${`, `%{` → `%%{`). The only interpolations are the
//! ones built here from sanitized names: `${var.…}` for a string of a policy document that is
//! exactly a placeholder of the set, and the role and policy references of the attachments.

use super::cloudformation::placeholder;
use super::{Files, by_account, pretty, uses_placeholder};
use crate::escape::terraform_literal;
use crate::roles::RoleSet;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A Terraform-safe snake_case name: `_` between words and for anything not alphanumeric.
fn tf_name(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        });
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A literal Terraform string.
fn lit(s: &str) -> Value {
    Value::String(terraform_literal(s).into_owned())
}

/// Tags with literal keys and values.
fn tags(tags: &BTreeMap<String, String>) -> Value {
    Value::Object(
        tags.iter()
            .map(|(k, v)| (terraform_literal(k).into_owned(), lit(v)))
            .collect(),
    )
}

/// A document whose strings are Terraform literals, except the placeholders of the set, which
/// become `${var.…}` interpolations.
fn template(set: &RoleSet, v: &Value) -> Value {
    match v {
        Value::String(s) => match placeholder(set, s) {
            Some(name) => Value::String(format!("${{var.{}}}", tf_name(name))),
            None => lit(s),
        },
        Value::Array(items) => Value::Array(items.iter().map(|i| template(set, i)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (terraform_literal(k).into_owned(), template(set, v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A policy document as a JSON string (a Terraform template).
fn document(set: &RoleSet, doc: &Value) -> String {
    serde_json::to_string(&template(set, doc)).unwrap_or_default()
}

pub fn render(set: &RoleSet) -> Files {
    let mut files = Files::new();
    for (account, roles) in by_account(set) {
        let mut variables = Map::new();
        for (name, p) in &set.parameters {
            if !roles.iter().any(|r| uses_placeholder(&r.trust, name)) {
                continue;
            }
            let mut v = json!({"type": "string", "description": lit(&p.description)});
            if let (Some(d), Some(m)) = (&p.default, v.as_object_mut()) {
                m.insert("default".to_string(), lit(d));
            }
            variables.insert(tf_name(name), v);
        }
        let (mut role_res, mut policy_res, mut attach_res) = (Map::new(), Map::new(), Map::new());
        for r in roles {
            let id = tf_name(&r.name);
            role_res.insert(
                id.clone(),
                json!({
                    "name": lit(&r.name),
                    "description": lit(&r.description),
                    "max_session_duration": r.max_session_seconds,
                    "assume_role_policy": document(set, &r.trust),
                    "tags": tags(&r.tags),
                }),
            );
            for (i, doc) in r.policies.iter().enumerate() {
                let pid = format!("{id}_{}", i + 1);
                policy_res.insert(
                    pid.clone(),
                    json!({"name": lit(&r.policy_name(i)), "policy": document(set, doc), "tags": tags(&r.tags)}),
                );
                attach_res.insert(
                    pid.clone(),
                    json!({"role": format!("${{aws_iam_role.{id}.name}}"), "policy_arn": format!("${{aws_iam_policy.{pid}.arn}}")}),
                );
            }
        }
        let mut resource = Map::new();
        resource.insert("aws_iam_role".to_string(), Value::Object(role_res));
        if !policy_res.is_empty() {
            resource.insert("aws_iam_policy".to_string(), Value::Object(policy_res));
            resource.insert("aws_iam_role_policy_attachment".to_string(), Value::Object(attach_res));
        }
        let mut module = json!({
            "//": lit(&format!("Incident roles for account {account}, generated by topoguard. Apply with credentials for {account}.")),
            "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}}},
            "resource": resource,
        });
        if let (false, Some(m)) = (variables.is_empty(), module.as_object_mut()) {
            m.insert("variable".to_string(), Value::Object(variables));
        }
        files.insert(format!("{account}/main.tf.json"), pretty(&module));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escape::tests::{hostile, terraform_result};
    use crate::roles::render::cloudformation::tests::hostile_set;

    /// Every interpolation Terraform would evaluate in `v`, keys included; panics on a string
    /// that is not a valid template literal apart from those.
    fn interpolations(v: &Value, found: &mut Vec<String>) {
        match v {
            Value::String(s) => check(s, found),
            Value::Array(items) => items.iter().for_each(|i| interpolations(i, found)),
            Value::Object(map) => {
                for (k, v) in map {
                    check(k, found);
                    interpolations(v, found);
                }
            }
            _ => {}
        }
    }

    fn check(s: &str, found: &mut Vec<String>) {
        let mut rest = s;
        while let Some(i) = rest.find("${var.").or_else(|| rest.find("${aws_iam_")) {
            let end = rest[i..].find('}').unwrap() + i;
            found.push(rest[i..=end].to_string());
            assert!(terraform_result(&rest[..i]).is_some(), "{s}");
            rest = &rest[end + 1..];
        }
        assert!(terraform_result(rest).is_some(), "unescaped template sequence in {s:?}");
    }

    #[test]
    fn terraform_data_never_interpolates() {
        let set = hostile_set();
        let files = render(&set);
        assert_eq!(files.len(), 1);
        for bytes in files.values() {
            let module: Value = serde_json::from_slice(bytes).unwrap();
            let mut found = Vec::new();
            interpolations(&module, &mut found);
            found.sort();
            found.dedup();
            // Fires only for what topoguard wrote: the placeholder variable and the attachments.
            assert_eq!(
                found,
                [
                    "${aws_iam_policy.hostile_1.arn}",
                    "${aws_iam_role.hostile.name}",
                    "${var.agent_space_arn_x}",
                ]
            );
            // The hostile strings survive as literals (Terraform turns `$${` back into `${`).
            let role = &module["resource"]["aws_iam_role"]["hostile"];
            for (i, h) in hostile().iter().enumerate() {
                let value = role["tags"][format!("k{i}")].as_str().unwrap();
                assert_eq!(terraform_result(value).as_deref(), Some(h.as_str()));
            }
            let policy = module["resource"]["aws_iam_policy"]["hostile_1"]["policy"]
                .as_str()
                .unwrap();
            // Near miss: a string that merely contains the placeholder stays literal.
            assert!(
                policy.contains("arn:aws:sqs:eu-west-1:111111111111:$${AgentSpaceArnX}"),
                "{policy}"
            );
        }
    }
}
