//! CloudFormation intrinsic functions over parsed template values: `Ref`, `Fn::GetAtt`,
//! `Fn::Sub`, `Fn::Join`, `Fn::If` with conditions (`Fn::Equals`, `Fn::And`, `Fn::Or`,
//! `Fn::Not`, `Condition`), `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::Base64`, `Fn::Cidr`,
//! pseudo parameters, and `Fn::ImportValue` of an export of another template of the run. A value
//! CloudFormation knows only at deployment (another import, `Fn::GetAZs`, `Fn::Cidr` of an unknown
//! block, an attribute of a new resource) resolves to the unknown marker.
//!
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html>

use super::unknown_value;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What `Ref` and `Fn::GetAtt` of its known attributes (its ARN) give for a resource of the
/// template.
#[derive(Debug, Clone)]
pub struct ResourceRef {
    pub ref_value: String,
    /// Attribute name → value; every other attribute is known only after apply.
    pub attributes: Vec<(&'static str, String)>,
}

/// Everything intrinsics resolve against.
#[derive(Debug, Default)]
pub struct Ctx {
    /// Parameters and pseudo parameters, resolved.
    pub params: BTreeMap<String, Value>,
    pub conditions: BTreeMap<String, bool>,
    pub mappings: Value,
    pub resources: BTreeMap<String, ResourceRef>,
    /// Logical ids of every resource (also those without a known `Ref`).
    pub logical_ids: std::collections::BTreeSet<String>,
    /// Export name → value, from the other templates of the run (same account and region).
    pub imports: BTreeMap<String, String>,
}

/// Resolves every intrinsic in `v`. `Ok(None)` is `AWS::NoValue` (the property is removed).
pub fn resolve(v: &Value, ctx: &Ctx) -> Result<Option<Value>, String> {
    match v {
        Value::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                if let Some(x) = resolve(i, ctx)? {
                    out.push(x);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        Value::Object(map) if map.len() == 1 => {
            let Some((k, arg)) = map.iter().next() else {
                return Ok(Some(v.clone()));
            };
            if k == "Ref" || k.starts_with("Fn::") {
                return function(k, arg, ctx);
            }
            object(map, ctx)
        }
        Value::Object(map) => object(map, ctx),
        other => Ok(Some(other.clone())),
    }
}

fn object(map: &Map<String, Value>, ctx: &Ctx) -> Result<Option<Value>, String> {
    let mut out = Map::new();
    for (k, x) in map {
        if let Some(r) = resolve(x, ctx)? {
            out.insert(k.clone(), r);
        }
    }
    Ok(Some(Value::Object(out)))
}

/// Resolves to a string (numbers and booleans are written out).
pub fn resolve_string(v: &Value, ctx: &Ctx) -> Result<String, String> {
    match resolve(v, ctx)? {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(other) => Err(format!("expected a string, found `{other}`")),
        None => Err("`AWS::NoValue` where a value is required".to_string()),
    }
}

fn list<'a>(arg: &'a Value, name: &str, n: usize) -> Result<&'a Vec<Value>, String> {
    match arg.as_array() {
        Some(items) if items.len() == n => Ok(items),
        _ => Err(format!("`{name}` takes a list of {n} elements, found `{arg}`")),
    }
}

fn function(name: &str, arg: &Value, ctx: &Ctx) -> Result<Option<Value>, String> {
    match name {
        "Ref" => reference(
            arg.as_str()
                .ok_or_else(|| format!("`Ref` takes a name, found `{arg}`"))?,
            ctx,
        ),
        "Fn::GetAtt" => get_att(arg, ctx).map(|s| Some(Value::String(s))),
        "Fn::Sub" => sub(arg, ctx).map(|s| Some(Value::String(s))),
        "Fn::Join" => {
            let [sep, items] = list(arg, name, 2)?.as_slice() else {
                return Err(format!("`{name}`: bad arguments"));
            };
            let sep = sep.as_str().ok_or("`Fn::Join` takes a string delimiter")?;
            let items = match resolve(items, ctx)? {
                Some(Value::Array(items)) => items,
                other => {
                    return Err(format!(
                        "`Fn::Join` takes a list to join, found `{}`",
                        other.unwrap_or_default()
                    ));
                }
            };
            let parts: Result<Vec<String>, String> = items.iter().map(|i| resolve_string(i, ctx)).collect();
            Ok(Some(Value::String(parts?.join(sep))))
        }
        "Fn::If" => {
            let [cond, yes, no] = list(arg, name, 3)?.as_slice() else {
                return Err(format!("`{name}`: bad arguments"));
            };
            let cond = cond.as_str().ok_or("`Fn::If` takes a condition name first")?;
            let branch = if condition(cond, ctx)? { yes } else { no };
            resolve(branch, ctx)
        }
        "Fn::Select" => {
            let [index, items] = list(arg, name, 2)?.as_slice() else {
                return Err(format!("`{name}`: bad arguments"));
            };
            let index: usize = resolve_string(index, ctx)?
                .parse()
                .map_err(|_| "`Fn::Select` index is not a number")?;
            match resolve(items, ctx)? {
                Some(Value::Array(items)) => items
                    .get(index)
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| format!("`Fn::Select` index {index} is out of range")),
                Some(Value::String(s)) if super::is_unknown(&s) => Ok(Some(Value::String(s))),
                other => Err(format!(
                    "`Fn::Select` takes a list, found `{}`",
                    other.unwrap_or_default()
                )),
            }
        }
        "Fn::Split" => {
            let [sep, s] = list(arg, name, 2)?.as_slice() else {
                return Err(format!("`{name}`: bad arguments"));
            };
            let sep = sep.as_str().ok_or("`Fn::Split` takes a string delimiter")?;
            let s = resolve_string(s, ctx)?;
            Ok(Some(Value::Array(
                s.split(sep).map(|p| Value::String(p.to_string())).collect(),
            )))
        }
        "Fn::FindInMap" => {
            let [m, k1, k2] = list(arg, name, 3)?.as_slice() else {
                return Err(format!("`{name}`: bad arguments"));
            };
            let (m, k1, k2) = (
                resolve_string(m, ctx)?,
                resolve_string(k1, ctx)?,
                resolve_string(k2, ctx)?,
            );
            ctx.mappings
                .get(&m)
                .and_then(|x| x.get(&k1))
                .and_then(|x| x.get(&k2))
                .map(|v| resolve(v, ctx))
                .unwrap_or_else(|| Err(format!("`Fn::FindInMap`: no entry `{m}`.`{k1}`.`{k2}` in `Mappings`")))
        }
        "Fn::Base64" => resolve(arg, ctx),
        "Fn::ToJsonString" => Ok(resolve(arg, ctx)?.map(|v| Value::String(v.to_string()))),
        "Fn::ImportValue" => {
            let export = resolve_string(arg, ctx)?;
            Ok(Some(Value::String(match ctx.imports.get(&export) {
                Some(v) => v.clone(),
                None => unknown_value(&format!("Fn::ImportValue {export}")),
            })))
        }
        "Fn::Cidr" => cidr(arg, ctx),
        // The zones the calling account has access to, with a default subnet, in an order that
        // "can change when new Availability Zones are added": known only at deployment.
        // <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getavailabilityzones.html>
        "Fn::GetAZs" | "Fn::GetStackOutput" => Ok(Some(Value::String(unknown_value(name)))),
        "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => Ok(Some(Value::Bool(eval_condition(
            &Value::Object(Map::from_iter([(name.to_string(), arg.clone())])),
            ctx,
        )?))),
        other => Err(format!("intrinsic function `{other}` is not supported yet")),
    }
}

/// `Fn::Cidr [ipBlock, count, cidrBits]`: the first `count` blocks of `ipBlock` with
/// `cidrBits` host bits each (a mask of 32 − `cidrBits` for IPv4, 128 − `cidrBits` for IPv6),
/// `count` between 1 and 256. Any argument known only at deployment (a VPC's `CidrBlock`
/// attribute) leaves the result unknown.
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-cidr.html>
fn cidr(arg: &Value, ctx: &Ctx) -> Result<Option<Value>, String> {
    let [block, count, bits] = list(arg, "Fn::Cidr", 3)?.as_slice() else {
        return Err("`Fn::Cidr`: bad arguments".to_string());
    };
    let (block, count, bits) = (
        resolve_string(block, ctx)?,
        resolve_string(count, ctx)?,
        resolve_string(bits, ctx)?,
    );
    if [&block, &count, &bits].iter().any(|s| super::is_unknown(s)) {
        return Ok(Some(Value::String(unknown_value(&format!(
            "Fn::Cidr [{block}, {count}, {bits}]"
        )))));
    }
    let blocks = cidr_blocks(&block, &count, &bits)?;
    Ok(Some(Value::Array(blocks.into_iter().map(Value::String).collect())))
}

/// The blocks `Fn::Cidr` returns for known arguments.
pub(crate) fn cidr_blocks(block: &str, count: &str, bits: &str) -> Result<Vec<String>, String> {
    let net: ipnet::IpNet = block
        .trim()
        .parse()
        .map_err(|_| format!("`Fn::Cidr`: `{block}` is not a CIDR block"))?;
    let count: usize = count
        .trim()
        .parse()
        .ok()
        .filter(|c| (1..=256).contains(c))
        .ok_or_else(|| format!("`Fn::Cidr`: count `{count}` is not a number from 1 to 256"))?;
    let bits: u8 = bits
        .trim()
        .parse()
        .map_err(|_| format!("`Fn::Cidr`: cidrBits `{bits}` is not a number"))?;
    let prefix = net
        .max_prefix_len()
        .checked_sub(bits)
        .filter(|p| *p >= net.prefix_len())
        .ok_or_else(|| format!("`Fn::Cidr`: {bits} subnet bits do not fit in `{block}`"))?;
    let subnets: Vec<String> = net
        .trunc()
        .subnets(prefix)
        .map_err(|e| format!("`Fn::Cidr`: {e}"))?
        .take(count)
        .map(|n| n.to_string())
        .collect();
    if subnets.len() < count {
        return Err(format!(
            "`Fn::Cidr`: `{block}` holds {} blocks of {bits} subnet bits, not {count}",
            subnets.len()
        ));
    }
    Ok(subnets)
}

fn reference(name: &str, ctx: &Ctx) -> Result<Option<Value>, String> {
    if name == "AWS::NoValue" {
        return Ok(None);
    }
    if let Some(v) = ctx.params.get(name) {
        return Ok(Some(v.clone()));
    }
    if let Some(r) = ctx.resources.get(name) {
        return Ok(Some(Value::String(r.ref_value.clone())));
    }
    if ctx.logical_ids.contains(name) {
        return Ok(Some(Value::String(unknown_value(&format!("Ref {name}")))));
    }
    if name.starts_with("AWS::") {
        return Ok(Some(Value::String(unknown_value(name))));
    }
    Err(format!(
        "`Ref` to `{name}`, which is neither a parameter nor a resource of the template"
    ))
}

fn get_att(arg: &Value, ctx: &Ctx) -> Result<String, String> {
    let (res, att) = match arg {
        Value::Array(items) => match items.as_slice() {
            [r, a] => (resolve_string(r, ctx)?, resolve_string(a, ctx)?),
            _ => return Err(format!("`Fn::GetAtt` takes [resource, attribute], found `{arg}`")),
        },
        Value::String(s) => match s.split_once('.') {
            Some((r, a)) => (r.to_string(), a.to_string()),
            None => return Err(format!("`Fn::GetAtt` takes `Resource.Attribute`, found `{s}`")),
        },
        _ => return Err(format!("`Fn::GetAtt` takes [resource, attribute], found `{arg}`")),
    };
    if !ctx.logical_ids.contains(&res) {
        return Err(format!(
            "`Fn::GetAtt` names `{res}`, which is not a resource of the template"
        ));
    }
    match ctx
        .resources
        .get(&res)
        .and_then(|r| r.attributes.iter().find(|(name, _)| *name == att))
    {
        Some((_, value)) => Ok(value.clone()),
        None => Ok(unknown_value(&format!("{res}.{att}"))),
    }
}

fn sub(arg: &Value, ctx: &Ctx) -> Result<String, String> {
    let (template, vars) = match arg {
        Value::String(s) => (s.as_str(), Map::new()),
        Value::Array(items) => match items.as_slice() {
            [Value::String(s), Value::Object(vars)] => (s.as_str(), vars.clone()),
            _ => {
                return Err(format!(
                    "`Fn::Sub` takes a string or [string, variables], found `{arg}`"
                ));
            }
        },
        _ => {
            return Err(format!(
                "`Fn::Sub` takes a string or [string, variables], found `{arg}`"
            ));
        }
    };
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(rest.get(..start).unwrap_or(""));
        let after = rest.get(start + 2..).unwrap_or("");
        let Some(end) = after.find('}') else {
            return Err(format!("`Fn::Sub`: unclosed `${{` in `{template}`"));
        };
        let var = after.get(..end).unwrap_or("");
        rest = after.get(end + 1..).unwrap_or("");
        if let Some(literal) = var.strip_prefix('!') {
            out.push_str("${");
            out.push_str(literal);
            out.push('}');
            continue;
        }
        let value = match vars.get(var) {
            Some(v) => resolve_string(v, ctx)?,
            None if var.contains('.') => get_att(&Value::String(var.to_string()), ctx)?,
            None => match reference(var, ctx)? {
                Some(Value::String(s)) => s,
                Some(v) => v.to_string(),
                None => String::new(),
            },
        };
        out.push_str(&value);
    }
    out.push_str(rest);
    Ok(out)
}

fn condition(name: &str, ctx: &Ctx) -> Result<bool, String> {
    ctx.conditions
        .get(name)
        .copied()
        .ok_or_else(|| format!("condition `{name}` is not defined in `Conditions`"))
}

/// Evaluates a condition expression.
pub fn eval_condition(v: &Value, ctx: &Ctx) -> Result<bool, String> {
    let Some((k, arg)) = v.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else {
        return match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(format!("not a condition: `{v}`")),
        };
    };
    let items = || {
        arg.as_array()
            .ok_or_else(|| format!("`{k}` takes a list, found `{arg}`"))
    };
    match k.as_str() {
        "Fn::Equals" => match items()?.as_slice() {
            [a, b] => {
                let (a, b) = (resolve(a, ctx)?, resolve(b, ctx)?);
                let unknown = |x: &Option<Value>| x.as_ref().and_then(Value::as_str).is_some_and(super::is_unknown);
                if unknown(&a) || unknown(&b) {
                    return Err(format!(
                        "`Fn::Equals` compares a value known only at deployment ({}): pass it with `--parameter`",
                        a.unwrap_or_default()
                    ));
                }
                Ok(scalar_text(a) == scalar_text(b))
            }
            _ => Err("`Fn::Equals` takes two values".to_string()),
        },
        "Fn::And" => items()?
            .iter()
            .try_fold(true, |acc, c| Ok(acc && eval_condition(c, ctx)?)),
        "Fn::Or" => items()?
            .iter()
            .try_fold(false, |acc, c| Ok(acc || eval_condition(c, ctx)?)),
        "Fn::Not" => match items()?.as_slice() {
            [c] => Ok(!eval_condition(c, ctx)?),
            _ => Err("`Fn::Not` takes one condition".to_string()),
        },
        "Condition" => condition(arg.as_str().unwrap_or(""), ctx),
        other => Err(format!("`{other}` is not a condition function")),
    }
}

fn scalar_text(v: Option<Value>) -> String {
    match v {
        Some(Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
