//! CloudFormation templates (JSON or YAML; `cdk synth` output and SAM-transformed templates are
//! plain CloudFormation) → an [`Overlay`]. Parameters come from `--parameter` or their
//! `Default`, pseudo parameters from `--account` / `--region`; conditions are evaluated; each
//! resource of a modelled type becomes a [`Draft`], every other type is listed as not
//! considered. A StackSet deploys to several accounts: one overlay per `--account`.

use super::cfn_types;
use super::intrinsics::{Ctx, ResourceRef, eval_condition, resolve, resolve_string};
use super::{
    Change, Export, IacError, NotConsidered, Overlay, SourceLocation, Target, Unknown, is_unknown, jsonpos,
    partition_of, yaml,
};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A parsed template with the position of each resource.
struct Template {
    value: Map<String, Value>,
    positions: BTreeMap<String, (usize, usize)>,
    /// Where each parameter is declared (for errors about it).
    parameters: BTreeMap<String, (usize, usize)>,
}

/// Reads the template at `path` (named `file` in messages) for every target account.
pub fn read(path: &std::path::Path, file: &str, target: &Target) -> Result<Overlay, IacError> {
    read_with(path, file, target, &[])
}

/// Reads the template at `path`, resolving `Fn::ImportValue` against `exports` (of the other
/// templates of the run).
pub fn read_with(path: &std::path::Path, file: &str, target: &Target, exports: &[Export]) -> Result<Overlay, IacError> {
    let text = std::fs::read_to_string(path).map_err(|e| IacError::file(file, format!("cannot read template: {e}")))?;
    read_text_with(&text, file, target, exports)
}

/// Reads template text; see [`read`].
pub fn read_text(text: &str, file: &str, target: &Target) -> Result<Overlay, IacError> {
    read_text_with(text, file, target, &[])
}

/// Reads template text with exports; see [`read_with`].
pub fn read_text_with(text: &str, file: &str, target: &Target, exports: &[Export]) -> Result<Overlay, IacError> {
    let t = parse(text.strip_prefix('\u{feff}').unwrap_or(text), file)?;
    let region = target.region.clone().ok_or_else(|| {
        IacError::file(
            file,
            "a CloudFormation template does not say its region: pass `--region`",
        )
    })?;
    if target.accounts.is_empty() {
        return Err(IacError::file(
            file,
            "a CloudFormation template does not say its account: pass `--account`",
        ));
    }
    let mut overlay = Overlay::default();
    for account in &target.accounts {
        let imports = exports
            .iter()
            .filter(|e| &e.account == account && e.region == region)
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect();
        overlay.extend(read_for(&t, file, account, &region, &target.parameters, imports)?);
    }
    Ok(overlay)
}

fn parse(text: &str, file: &str) -> Result<Template, IacError> {
    let syntax = |line, column, message: String| IacError {
        file: file.to_string(),
        line,
        column,
        resource: None,
        message: format!("not valid {message}"),
    };
    let (value, positions, parameters) = if text.trim_start().starts_with('{') {
        let v: Value = serde_json::from_str(text).map_err(|e| syntax(e.line(), e.column(), format!("JSON: {e}")))?;
        let keys = jsonpos::keys(text);
        let section = |name: &str| {
            keys.iter()
                .filter(|k| k.path == [name])
                .map(|k| (k.key.clone(), (k.line, k.column)))
                .rev()
                .collect::<BTreeMap<_, _>>()
        };
        (v, section("Resources"), section("Parameters"))
    } else {
        let p = yaml::parse(text).map_err(|e| syntax(e.line, e.column, format!("YAML: {}", e.message)))?;
        (p.value, p.positions, p.parameters)
    };
    let Value::Object(value) = value else {
        return Err(IacError::file(
            file,
            "not a CloudFormation template: the document is not a mapping",
        ));
    };
    if !value.get("Resources").is_some_and(Value::is_object) {
        return Err(IacError::file(
            file,
            "not a CloudFormation template: no `Resources` mapping",
        ));
    }
    let t = Template {
        value,
        positions,
        parameters,
    };
    refuse_transforms(&t, file)?;
    Ok(t)
}

/// A template that still needs a transform (SAM `AWS::Serverless-2016-10-31`,
/// `AWS::LanguageExtensions` with `Fn::ForEach`, a macro) is not what CloudFormation deploys:
/// the transform adds and rewrites resources (a SAM function's role, each `Fn::ForEach` copy).
/// Reading it as is would leave those out, so it is refused (exit 2) with what to run first.
fn refuse_transforms(t: &Template, file: &str) -> Result<(), IacError> {
    let names: Vec<String> = match t.value.get("Transform") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(transform_name).collect(),
        Some(v) => vec![transform_name(v)],
    };
    let how = |name: &str| match name {
        "AWS::Serverless-2016-10-31" => {
            "run `sam build` (or `sam package` / `aws cloudformation package`) and give the template it writes, or the stack's processed template (`aws cloudformation get-template --template-stage Processed`)"
        }
        _ => {
            "deploy-time transforms are not expanded by topoguard: give the stack's processed template (`aws cloudformation get-template --template-stage Processed`, or a change set's), or the `cdk synth` / `sam build` output"
        }
    };
    if let Some(name) = names.first() {
        return Err(IacError::file(
            file,
            format!(
                "not supported yet: the template declares the `{name}` transform; {}",
                how(name)
            ),
        ));
    }
    let resources = t.value.get("Resources").and_then(Value::as_object);
    if let Some(id) = resources.and_then(|r| r.keys().find(|k| k.starts_with("Fn::ForEach::"))) {
        return Err(IacError::at(
            &location(t, file, id),
            format!(
                "not supported yet: `Fn::ForEach` needs the `AWS::LanguageExtensions` transform; {}",
                how("")
            ),
        ));
    }
    Ok(())
}

/// A `Transform` entry: a name, or `{Name: …, Parameters: …}` for a macro with parameters.
fn transform_name(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.get("Name").and_then(Value::as_str).unwrap_or("(unnamed)").to_string(),
    }
}

fn location(t: &Template, file: &str, id: &str) -> SourceLocation {
    let (line, column) = t.positions.get(id).copied().unwrap_or((1, 1));
    SourceLocation {
        file: file.to_string(),
        resource: id.to_string(),
        line,
        column,
    }
}

fn read_for(
    t: &Template,
    file: &str,
    account: &str,
    region: &str,
    given: &[(String, String)],
    imports: BTreeMap<String, String>,
) -> Result<Overlay, IacError> {
    let mut ctx = Ctx {
        params: parameters(t, file, account, region, given)?,
        mappings: t.value.get("Mappings").cloned().unwrap_or(Value::Null),
        imports,
        ..Ctx::default()
    };
    conditions(t, file, &mut ctx)?;
    let resources = t
        .value
        .get("Resources")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    ctx.logical_ids = resources.keys().cloned().collect();
    let stack = ctx
        .params
        .get("AWS::StackName")
        .and_then(Value::as_str)
        .unwrap_or("stack")
        .to_string();
    let place = cfn_types::Place {
        account: account.to_string(),
        region: region.to_string(),
        stack,
    };
    // Physical names first, so that `Ref` and `Fn::GetAtt … Arn` resolve everywhere.
    let mut names = BTreeMap::new();
    for (id, r) in &resources {
        let ty = r.get("Type").and_then(Value::as_str).unwrap_or("");
        if let Some(kind) = cfn_types::kind(ty) {
            let props = r.get("Properties").cloned().unwrap_or(Value::Object(Map::new()));
            let named = cfn_types::physical_name(kind, id, &props, &ctx, &place)
                .map_err(|m| IacError::at(&location(t, file, id), m))?;
            let arn = cfn_types::arn(kind, id, &named.0, &props, &ctx, &place);
            let ref_value = cfn_types::ref_value(kind, id, &named.0, &arn, &place);
            ctx.resources.insert(
                id.clone(),
                ResourceRef {
                    attributes: cfn_types::attributes(kind, &arn, &ref_value),
                    ref_value,
                },
            );
            names.insert(id.clone(), named);
        }
    }
    let mut overlay = Overlay::default();
    for (id, r) in &resources {
        let loc = location(t, file, id);
        let ty = r
            .get("Type")
            .and_then(Value::as_str)
            .ok_or_else(|| IacError::at(&loc, "no `Type`"))?;
        if let Some(cond) = r.get("Condition").and_then(Value::as_str) {
            let on = ctx
                .conditions
                .get(cond)
                .copied()
                .ok_or_else(|| IacError::at(&loc, format!("condition `{cond}` is not defined in `Conditions`")))?;
            if !on {
                overlay.not_considered.push(NotConsidered {
                    location: loc,
                    resource_type: ty.to_string(),
                    reason: format!("condition `{cond}` is false: not deployed"),
                });
                continue;
            }
        }
        let (Some(kind), Some((name, generated))) = (cfn_types::kind(ty), names.get(id)) else {
            overlay.not_considered.push(NotConsidered {
                location: loc,
                resource_type: ty.to_string(),
                reason: cfn_types::not_modelled_reason(ty),
            });
            continue;
        };
        let props = r.get("Properties").cloned().unwrap_or(Value::Object(Map::new()));
        let props = resolve(&props, &ctx)
            .map_err(|m| IacError::at(&loc, m))?
            .unwrap_or(Value::Object(Map::new()));
        let drafts = cfn_types::drafts(kind, id, name, &props, &ctx, &place).map_err(|m| IacError::at(&loc, m))?;
        if drafts.is_empty() {
            overlay.not_considered.push(NotConsidered {
                location: loc,
                resource_type: ty.to_string(),
                reason: cfn_types::nothing_modelled_reason(kind).to_string(),
            });
            continue;
        }
        overlay
            .unknowns
            .extend(unknowns_of(kind, *generated, &props, &loc, &place));
        overlay.changes.extend(drafts.into_iter().map(|draft| Change {
            action: super::Action::Create,
            location: loc.clone(),
            draft,
        }));
    }
    overlay.exports = exports_of(t, &ctx, &place);
    Ok(overlay)
}

/// `Outputs.*.Export.Name` → the output's `Value`, where both resolve to known strings and the
/// output's condition (if any) holds. What does not resolve is left out: an import of it stays
/// unknown.
fn exports_of(t: &Template, ctx: &Ctx, place: &cfn_types::Place) -> Vec<Export> {
    let outputs = t.value.get("Outputs").and_then(Value::as_object);
    outputs
        .into_iter()
        .flatten()
        .filter(|(_, o)| {
            o.get("Condition")
                .and_then(Value::as_str)
                .is_none_or(|c| ctx.conditions.get(c).copied().unwrap_or(false))
        })
        .filter_map(|(_, o)| {
            let name = resolve_string(o.pointer("/Export/Name")?, ctx).ok()?;
            let value = resolve_string(o.get("Value")?, ctx).ok()?;
            (!is_unknown(&name)).then(|| Export {
                account: place.account.clone(),
                region: place.region.clone(),
                name,
                value,
            })
        })
        .collect()
}

/// The values of one modelled resource known only after apply: a name CloudFormation generates,
/// an identifier the service generates, and every property that resolved to the unknown marker.
fn unknowns_of(
    kind: cfn_types::Kind,
    generated_name: bool,
    props: &Value,
    loc: &SourceLocation,
    place: &cfn_types::Place,
) -> Vec<Unknown> {
    let api = cfn_types::api(kind);
    let name = generated_name.then(|| {
        format!(
            "Properties.{} (generated name)",
            cfn_types::name_property(kind).unwrap_or("name")
        )
    });
    let id = cfn_types::generated_identifier(kind).map(|a| format!("{a} (generated by the service)"));
    name.into_iter()
        .chain(id)
        .chain(unknown_paths(props, "Properties"))
        .map(|field| unknown(loc, place, field, api))
        .collect()
}

fn unknown(loc: &SourceLocation, place: &cfn_types::Place, field: String, api: &str) -> Unknown {
    Unknown {
        location: loc.clone(),
        field,
        account: place.account.clone(),
        region: Some(place.region.clone()),
        api: api.to_string(),
    }
}

/// Paths of the strings in `v` that hold a value known only at deployment.
pub(crate) fn unknown_paths(v: &Value, at: &str) -> Vec<String> {
    match v {
        Value::String(s) if is_unknown(s) => vec![at.to_string()],
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, x)| unknown_paths(x, &format!("{at}[{i}]")))
            .collect(),
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, x)| unknown_paths(x, &format!("{at}.{k}")))
            .collect(),
        _ => Vec::new(),
    }
}

fn parameters(
    t: &Template,
    file: &str,
    account: &str,
    region: &str,
    given: &[(String, String)],
) -> Result<BTreeMap<String, Value>, IacError> {
    let (partition, suffix) = partition_of(region);
    let mut params: BTreeMap<String, Value> = [
        ("AWS::AccountId", account),
        ("AWS::Region", region),
        ("AWS::Partition", partition),
        ("AWS::URLSuffix", suffix),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
    .collect();
    params.insert("AWS::NotificationARNs".to_string(), Value::Array(Vec::new()));
    let declared = t
        .value
        .get("Parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in given {
        if !declared.contains_key(k) && !k.starts_with("AWS::") {
            return Err(IacError::file(
                file,
                format!("`--parameter {k}=…`: the template declares no parameter `{k}`"),
            ));
        }
        params.insert(k.clone(), Value::String(v.clone()));
    }
    for (name, decl) in &declared {
        let ty = decl.get("Type").and_then(Value::as_str).unwrap_or("String");
        let value = match params.get(name) {
            Some(v) => v.clone(),
            None => match decl.get("Default") {
                Some(Value::Number(n)) => Value::String(n.to_string()),
                Some(d) => d.clone(),
                None if ty.starts_with("AWS::SSM::Parameter") => {
                    Value::String(super::unknown_value(&format!("parameter {name}")))
                }
                None => {
                    let (line, column) = t.parameters.get(name).copied().unwrap_or((1, 1));
                    let message = format!("parameter `{name}` has no default: pass `--parameter {name}=VALUE`");
                    return Err(IacError {
                        file: file.to_string(),
                        line,
                        column,
                        resource: None,
                        message,
                    });
                }
            },
        };
        let is_list = ty.starts_with("List<") || ty == "CommaDelimitedList";
        let value = match value {
            Value::String(s) if is_list => {
                Value::Array(s.split(',').map(|p| Value::String(p.trim().to_string())).collect())
            }
            other => other,
        };
        params.insert(name.clone(), value);
    }
    Ok(params)
}

/// Evaluates `Conditions` (which may refer to each other) in as many passes as they need.
fn conditions(t: &Template, file: &str, ctx: &mut Ctx) -> Result<(), IacError> {
    let defs = t
        .value
        .get("Conditions")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut pending: Vec<(&String, &Value)> = defs.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut last_error = None;
        pending.retain(|(name, expr)| match eval_condition(expr, ctx) {
            Ok(b) => {
                ctx.conditions.insert((*name).clone(), b);
                false
            }
            Err(e) => {
                last_error = Some(format!("condition `{name}`: {e}"));
                true
            }
        });
        if pending.len() == before {
            return Err(IacError::file(file, last_error.unwrap_or_default()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
