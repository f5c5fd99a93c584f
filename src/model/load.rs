//! Reading a snapshot file: parse, check the version, then validate references, ARNs and policy
//! documents, so that everything downstream can rely on a well-formed snapshot.

use super::PolicyDocument;
use super::strict::{Strict, strip_bom};
use super::{SCHEMA_VERSION, Snapshot};
use crate::arn::{Arn, is_account_id};
use serde::Deserialize as _;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Why a snapshot could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read snapshot `{path}`: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("snapshot `{path}` is not valid: line {line}, column {column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "snapshot `{path}` has schema_version {found}, this topoguard reads version {expected}: re-crawl or convert it"
    )]
    Version {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    #[error("snapshot `{path}` is not valid: {at}: {message}")]
    Invalid { path: PathBuf, at: String, message: String },
}

/// Reads and validates a snapshot file.
pub fn load_snapshot(path: &Path) -> Result<Snapshot, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_snapshot(&text, path)
}

/// Parses and validates snapshot text; `path` is used in error messages only. A leading UTF-8
/// byte-order mark is skipped (as in configs); an object written as an array is rejected.
pub fn parse_snapshot(text: &str, path: &Path) -> Result<Snapshot, LoadError> {
    let text = strip_bom(text);
    if !text.trim_start().starts_with('{') {
        let offset = text.len() - text.trim_start().len();
        let before = text.get(..offset).unwrap_or("");
        return Err(LoadError::Syntax {
            path: path.to_path_buf(),
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().map_or(0, str::len) + 1,
            message: "not a JSON object: a topology snapshot starts with `{`".to_string(),
        });
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = super::interning(|| Snapshot::deserialize(Strict(&mut de))).and_then(|s| de.end().map(|()| s));
    let snapshot: Snapshot = match parsed {
        Ok(s) => s,
        Err(e) => {
            // A document of another version usually fails on its fields first: report the version.
            if let Some(found) = peek_version(text).filter(|v| v != &SCHEMA_VERSION.to_string()) {
                return Err(LoadError::Version {
                    path: path.to_path_buf(),
                    found,
                    expected: SCHEMA_VERSION,
                });
            }
            let message = e.to_string();
            // serde_json appends " at line L column C"; we report those separately.
            let message = message.split(" at line ").next().unwrap_or(&message).to_string();
            return Err(LoadError::Syntax {
                path: path.to_path_buf(),
                line: e.line(),
                column: e.column(),
                message,
            });
        }
    };
    if snapshot.schema_version != SCHEMA_VERSION {
        return Err(LoadError::Version {
            path: path.to_path_buf(),
            found: snapshot.schema_version.to_string(),
            expected: SCHEMA_VERSION,
        });
    }
    validate(&snapshot).map_err(|(at, message)| LoadError::Invalid {
        path: path.to_path_buf(),
        at,
        message,
    })?;
    Ok(snapshot)
}

fn peek_version(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Peek {
        schema_version: serde_json::Value,
    }
    serde_json::from_str::<Peek>(text)
        .ok()
        .map(|p| p.schema_version.to_string())
}

type Invalid = (String, String);

fn invalid(at: impl Into<String>, message: impl Into<String>) -> Invalid {
    (at.into(), message.into())
}

/// Checks what the types cannot: ARN shapes, unique ARNs, known accounts, references that must
/// resolve, and parseable policy documents.
pub fn validate<'s>(s: &'s Snapshot) -> Result<(), Invalid> {
    let org = &s.organization;
    let mut accounts = HashSet::new();
    for (i, a) in org.accounts.iter().enumerate() {
        if !is_account_id(&a.id) {
            return Err(invalid(
                format!("organization.accounts[{i}].id"),
                format!("`{}` is not a twelve-digit account id", a.id),
            ));
        }
        if !accounts.insert(a.id.as_str()) {
            return Err(invalid(
                format!("organization.accounts[{i}].id"),
                format!("duplicate account `{}`", a.id),
            ));
        }
    }
    let units: HashSet<&str> = org.units.iter().map(|u| u.id.as_str()).collect();
    for (i, u) in org.units.iter().enumerate() {
        if let Some(p) = &u.parent
            && !units.contains(p.as_str())
        {
            return Err(invalid(
                format!("organization.units[{i}].parent"),
                format!("unknown unit `{p}`"),
            ));
        }
    }
    for (i, a) in org.accounts.iter().enumerate() {
        if let Some(p) = &a.parent
            && !units.contains(p.as_str())
        {
            return Err(invalid(
                format!("organization.accounts[{i}].parent"),
                format!("unknown unit `{p}`"),
            ));
        }
    }
    for (i, p) in org.policies.iter().enumerate() {
        let at = format!("organization.policies[{i}]");
        check_arn(&p.arn, &format!("{at}.arn"))?;
        check_policy(&p.document, &format!("{at}.document"))?;
        for t in &p.targets {
            if !units.contains(t.as_str()) && !accounts.contains(t.as_str()) {
                return Err(invalid(
                    format!("{at}.targets"),
                    format!("unknown unit or account `{t}`"),
                ));
            }
        }
    }

    let seen = |arn: &str, at: &str, account: Option<&str>| -> Result<(), Invalid> {
        let parsed = Arn::parse(arn).map_err(|e| invalid(format!("{at}.arn"), e.to_string()))?;
        if let Some(acc) = account {
            if !accounts.contains(acc) {
                return Err(invalid(
                    format!("{at}.account"),
                    format!("account `{acc}` is not in `organization.accounts`"),
                ));
            }
            if let Some(arn_acc) = parsed.account()
                && arn_acc != acc
            {
                return Err(invalid(
                    format!("{at}.account"),
                    format!("`{acc}` differs from the account in ARN `{arn}`"),
                ));
            }
        }
        Ok(())
    };
    let mut index: HashSet<&'s str> = HashSet::new();
    let mut unique = |arn: &'s str, at: &str| -> Result<(), Invalid> {
        if !index.insert(arn) {
            return Err(invalid(format!("{at}.arn"), format!("duplicate ARN `{arn}`")));
        }
        Ok(())
    };

    for (i, r) in s.roles.iter().enumerate() {
        let at = format!("roles[{i}]");
        seen(&r.arn, &at, Some(&r.account))?;
        unique(&r.arn, &at)?;
        check_policy(&r.trust_policy, &format!("{at}.trust_policy"))?;
        for (j, p) in r.inline_policies.iter().enumerate() {
            check_policy(&p.document, &format!("{at}.inline_policies[{j}].document"))?;
        }
    }
    let mut managed = HashSet::new();
    for (i, p) in s.managed_policies.iter().enumerate() {
        let at = format!("managed_policies[{i}]");
        seen(&p.arn, &at, None)?;
        unique(&p.arn, &at)?;
        check_policy(&p.document, &format!("{at}.document"))?;
        managed.insert(p.arn.as_str());
    }
    for (i, r) in s.roles.iter().enumerate() {
        for (j, a) in r
            .attached_policies
            .iter()
            .chain(r.permission_boundary.iter())
            .enumerate()
        {
            if !managed.contains(a.as_str()) {
                return Err(invalid(
                    format!("roles[{i}].attached_policies[{j}]"),
                    format!("relation to unknown managed policy `{a}`: its document must be in `managed_policies`"),
                ));
            }
        }
    }
    super::validate_principals(s)?;
    let mut buses = HashSet::new();
    for (i, b) in s.event_buses.iter().enumerate() {
        let at = format!("event_buses[{i}]");
        seen(&b.arn, &at, Some(&b.account))?;
        unique(&b.arn, &at)?;
        if let Some(p) = &b.policy {
            check_policy(p, &format!("{at}.policy"))?;
        }
        buses.insert(b.arn.as_str());
    }
    for (i, r) in s.rules.iter().enumerate() {
        let at = format!("rules[{i}]");
        seen(&r.arn, &at, Some(&r.account))?;
        unique(&r.arn, &at)?;
        if !buses.contains(r.bus.as_str()) {
            return Err(invalid(
                format!("{at}.bus"),
                format!("relation to unknown event bus `{}`", r.bus),
            ));
        }
        for (j, t) in r.targets.iter().enumerate() {
            let tat = format!("{at}.targets[{j}]");
            Arn::parse(&t.arn).map_err(|e| invalid(format!("{tat}.arn"), e.to_string()))?;
            for (field, v) in [("role", &t.role), ("dead_letter_queue", &t.dead_letter_queue)] {
                if let Some(v) = v {
                    Arn::parse(v).map_err(|e| invalid(format!("{tat}.{field}"), e.to_string()))?;
                }
            }
        }
    }
    let mut functions = HashSet::new();
    for (i, f) in s.functions.iter().enumerate() {
        let at = format!("functions[{i}]");
        seen(&f.arn, &at, Some(&f.account))?;
        unique(&f.arn, &at)?;
        Arn::parse(&f.role).map_err(|e| invalid(format!("{at}.role"), e.to_string()))?;
        if let Some(p) = &f.policy {
            check_policy(p, &format!("{at}.policy"))?;
        }
        functions.insert(f.arn.as_str());
    }
    for (i, m) in s.event_source_mappings.iter().enumerate() {
        let at = format!("event_source_mappings[{i}]");
        if !functions.contains(m.function.as_str()) {
            return Err(invalid(
                format!("{at}.function"),
                format!("relation to unknown function `{}`", m.function),
            ));
        }
        Arn::parse(&m.source).map_err(|e| invalid(format!("{at}.source"), e.to_string()))?;
    }
    for (i, r) in s.resources.iter().enumerate() {
        let at = format!("resources[{i}]");
        seen(&r.arn, &at, Some(&r.account))?;
        unique(&r.arn, &at)?;
        if let Some(p) = &r.policy {
            check_policy(p, &format!("{at}.policy"))?;
        }
    }
    for (i, a) in s.agent_spaces.iter().enumerate() {
        let at = format!("agent_spaces[{i}]");
        if let Some(problem) = super::agent_space_name_problem(&a.name) {
            return Err(invalid(
                format!("{at}.name"),
                format!("`{}`: {problem}", a.name.escape_debug()),
            ));
        }
        seen(&a.arn, &at, Some(&a.account))?;
        unique(&a.arn, &at)?;
        for (j, assoc) in a.associations.iter().enumerate() {
            if !is_account_id(&assoc.account) {
                return Err(invalid(
                    format!("{at}.associations[{j}].account"),
                    format!("`{}` is not a twelve-digit account id", assoc.account),
                ));
            }
            Arn::parse(&assoc.role).map_err(|e| invalid(format!("{at}.associations[{j}].role"), e.to_string()))?;
        }
    }
    for (i, r) in s.relations.iter().enumerate() {
        for (field, end) in [("from", &r.from), ("to", &r.to)] {
            if !index.contains(end.as_str()) && !accounts.contains(end.as_str()) {
                return Err(invalid(
                    format!("relations[{i}].{field}"),
                    format!("relation to unknown node `{end}`"),
                ));
            }
        }
    }
    for (i, g) in s.coverage.gaps.iter().enumerate() {
        if let Some(a) = &g.account
            && !is_account_id(a)
        {
            return Err(invalid(
                format!("coverage.gaps[{i}].account"),
                format!("`{a}` is not a twelve-digit account id"),
            ));
        }
    }
    Ok(())
}

fn check_arn(arn: &str, at: &str) -> Result<(), Invalid> {
    Arn::parse(arn).map(|_| ()).map_err(|e| invalid(at, e.to_string()))
}

/// A document was parsed (once) when it was deserialized; here its error, if any, is reported.
fn check_policy(doc: &PolicyDocument, at: &str) -> Result<(), Invalid> {
    doc.policy()
        .map(|_| ())
        .map_err(|e| invalid(at, format!("invalid policy document: {e}")))
}
