//! AWS RAM shares of EventBridge v2 buses in a Terraform plan. The provider splits a share into
//! three resources — `aws_ram_resource_share`, `aws_ram_resource_association`
//! (`resource_arn`, `resource_share_arn`) and `aws_ram_principal_association` (`principal`,
//! `resource_share_arn`); see `internal/service/ram/` of hashicorp/terraform-provider-aws — joined
//! by the share's ARN, which is known only after apply when the plan creates the share.
//!
//! The join is made through the plan's `configuration`: an association whose
//! `resource_share_arn` is unknown and whose configuration expression references exactly one
//! `aws_ram_resource_share` that the plan creates gets that share's stand-in ARN
//! (`arn:…:ram:REGION:ACCOUNT:resource-share/terraform-ADDRESS`), so its resource and principal
//! associations meet on one share record. An association that cannot be joined keeps the unknown
//! value, which the reader records as known only after apply.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The association types joined here.
pub const ASSOCIATIONS: [&str; 2] = ["aws_ram_resource_association", "aws_ram_principal_association"];

/// Every resource's configuration `expressions`, by configuration address (module path without
/// instance keys, `module.a.aws_x.y`).
fn expressions(module: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    for r in module.get("resources").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(address), Some(e)) = (r.get("address").and_then(Value::as_str), r.get("expressions")) {
            out.insert(format!("{prefix}{address}"), e.clone());
        }
    }
    for (name, call) in module
        .get("module_calls")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if let Some(m) = call.get("module") {
            expressions(m, &format!("{prefix}module.{name}."), out);
        }
    }
}

/// The share resource a `resource_share_arn` expression references, as a configuration address.
fn referenced_share(expr: &Value, module_prefix: &str) -> Option<String> {
    let refs: Vec<&str> = expr
        .get("references")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(Value::as_str)
        .filter(|r| r.starts_with("aws_ram_resource_share."))
        .map(|r| r.trim_end_matches(".arn").trim_end_matches(".id"))
        .collect();
    let first = refs.first()?;
    refs.iter()
        .all(|r| r == first)
        .then(|| format!("{module_prefix}{first}"))
}

/// The module part of a configuration address (`module.a.` of `module.a.aws_x.y`).
fn module_prefix(config_address: &str) -> &str {
    let mut parts = config_address.rsplitn(3, '.');
    let (_name, _ty) = (parts.next(), parts.next());
    match parts.next() {
        Some(m) => config_address.get(..m.len() + 1).unwrap_or(""),
        None => "",
    }
}

/// Association address → the stand-in ARN of the share it names, for the associations whose
/// `resource_share_arn` is unknown and references a share the plan creates (by an address
/// without `count` / `for_each` key). `arn_of` makes the stand-in from the share's address.
pub fn links(
    plan: &Value,
    changes: &[Value],
    config_address: impl Fn(&Value) -> Option<String>,
    arn_of: impl Fn(&Value) -> Option<String>,
) -> BTreeMap<String, String> {
    let mut exprs = BTreeMap::new();
    if let Some(root) = plan.pointer("/configuration/root_module") {
        expressions(root, "", &mut exprs);
    }
    let created: BTreeMap<&str, &Value> = changes
        .iter()
        .filter(|rc| rc.get("type").and_then(Value::as_str) == Some("aws_ram_resource_share"))
        .filter(|rc| {
            rc.pointer("/change/actions")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| x == "create"))
        })
        .filter_map(|rc| Some((rc.get("address")?.as_str()?, rc)))
        .collect();
    let mut out = BTreeMap::new();
    for rc in changes {
        let ty = rc.get("type").and_then(Value::as_str).unwrap_or("");
        let unknown = rc.pointer("/change/after_unknown/resource_share_arn") == Some(&Value::Bool(true));
        if !ASSOCIATIONS.contains(&ty) || !unknown {
            continue;
        }
        let (Some(address), Some(config)) = (rc.get("address").and_then(Value::as_str), config_address(rc)) else {
            continue;
        };
        let share = exprs
            .get(&config)
            .and_then(|e| e.get("resource_share_arn"))
            .and_then(|e| referenced_share(e, module_prefix(&config)));
        // The share's plan address equals its configuration address only outside `count`,
        // `for_each` and module instances: only then is the reference unambiguous.
        if let Some(arn) = share
            .as_deref()
            .and_then(|s| created.get(s))
            .and_then(|share_rc| arn_of(share_rc))
        {
            out.insert(address.to_string(), arn);
        }
    }
    out
}

/// `rc` with `resource_share_arn` set to the share's stand-in ARN and no longer unknown.
pub fn joined(rc: &Value, arn: &str) -> Value {
    let mut rc = rc.clone();
    if let Some(after) = rc.pointer_mut("/change/after") {
        if !after.is_object() {
            *after = Value::Object(Map::new());
        }
        if let Some(o) = after.as_object_mut() {
            o.insert("resource_share_arn".to_string(), Value::String(arn.to_string()));
        }
    }
    if let Some(u) = rc.pointer_mut("/change/after_unknown").and_then(Value::as_object_mut) {
        u.remove("resource_share_arn");
        // The composite `id` (`share ARN,resource`) is read by nothing.
        u.remove("id");
    }
    rc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_prefix_of_configuration_addresses() {
        assert_eq!(module_prefix("aws_x.y"), "");
        assert_eq!(module_prefix("module.a.aws_x.y"), "module.a.");
        assert_eq!(module_prefix("module.a.module.b.aws_x.y"), "module.a.module.b.");
    }

    #[test]
    fn a_reference_names_one_share_or_none() {
        let one =
            serde_json::json!({"references": ["aws_ram_resource_share.orders.arn", "aws_ram_resource_share.orders"]});
        assert_eq!(
            referenced_share(&one, "module.m."),
            Some("module.m.aws_ram_resource_share.orders".to_string())
        );
        let two = serde_json::json!({"references": ["aws_ram_resource_share.a.arn", "aws_ram_resource_share.b.arn"]});
        assert_eq!(referenced_share(&two, ""), None);
        assert_eq!(referenced_share(&serde_json::json!({"constant_value": "x"}), ""), None);
    }
}
