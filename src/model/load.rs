//! Reading a snapshot file: parse, check the version, then validate references, ARNs and policy
//! documents, so that everything downstream can rely on a well-formed snapshot. Validation
//! collects every problem and locates each at the JSON value it names ([`crate::diagnostic`]).

use super::PolicyDocument;
use super::strict::{Strict, strip_bom};
use super::{SCHEMA_VERSION, Snapshot};
use crate::arn::{Arn, is_account_id};
use crate::diagnostic::{Diagnostic, Diagnostics, FileKind, json_path};
use crate::finding::Lines;
use serde::Deserialize as _;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Why a snapshot could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read snapshot `{path}`: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// Not JSON, or not the schema's shape (one problem: the parser stops there).
    #[error("{0}")]
    Syntax(Box<Diagnostics>),
    #[error(
        "snapshot `{path}` has schema_version {found}, this topoguard reads version {expected}: re-crawl or convert it"
    )]
    Version {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    /// Every validation problem, each at the value it is about.
    #[error("{0}")]
    Invalid(Box<Diagnostics>),
}

impl LoadError {
    /// The problems with their places in the file, when there are any to show.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            LoadError::Syntax(d) | LoadError::Invalid(d) => Some(d),
            LoadError::Io { .. } | LoadError::Version { .. } => None,
        }
    }
}

/// Reads and validates a snapshot file.
pub fn load_snapshot(path: &Path) -> Result<Snapshot, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_snapshot(&text, path)
}

/// A syntax error at byte `offset` (serde_json counts columns in bytes).
fn syntax(text: &str, path: &Path, offset: usize, message: String) -> LoadError {
    let lines = Lines::new(text);
    let (line, column) = lines.position(offset);
    let message = format!("line {line}, column {column}: {message}");
    let d = Diagnostic::new(message, Some(offset..offset), "here");
    LoadError::Syntax(Box::new(Diagnostics::new(FileKind::Snapshot, path, text, vec![d])))
}

/// Parses and validates snapshot text; `path` is used in error messages only. A leading UTF-8
/// byte-order mark is skipped (as in configs); an object written as an array is rejected.
/// Validation reports every problem (see [`validate`]), each located at the value it names.
pub fn parse_snapshot(text: &str, path: &Path) -> Result<Snapshot, LoadError> {
    let text = strip_bom(text);
    if !text.trim_start().starts_with('{') {
        let offset = text.len() - text.trim_start().len();
        let message = "not a JSON object: a topology snapshot starts with `{`".to_string();
        return Err(syntax(text, path, offset, message));
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
            return Err(syntax(text, path, json_offset(text, e.line(), e.column()), message));
        }
    };
    if snapshot.schema_version != SCHEMA_VERSION {
        return Err(LoadError::Version {
            path: path.to_path_buf(),
            found: snapshot.schema_version.to_string(),
            expected: SCHEMA_VERSION,
        });
    }
    let problems = validate(&snapshot);
    if !problems.is_empty() {
        return Err(LoadError::Invalid(Box::new(located(text, path, problems))));
    }
    Ok(snapshot)
}

/// The byte offset of serde_json's 1-based line and byte column (column 0: the line's start).
fn json_offset(text: &str, line: usize, column: usize) -> usize {
    let start = Lines::new(text).line_range(line).start;
    (start + column.saturating_sub(1)).min(text.len())
}

/// Validation problems as diagnostics, each at the value its path names (the first
/// [`crate::diagnostic::SHOWN`] are looked up: the rest are only counted).
fn located(text: &str, path: &Path, problems: Vec<Invalid>) -> Diagnostics {
    let shown: Vec<&str> = problems
        .iter()
        .take(crate::diagnostic::SHOWN)
        .map(|(at, _)| at.as_str())
        .collect();
    let spans = json_path::spans(text, &shown);
    let items = problems
        .into_iter()
        .map(|(at, message)| {
            let span = spans.get(&at).cloned();
            Diagnostic::new(format!("{at}: {message}"), span, format!("`{at}`"))
        })
        .collect();
    Diagnostics::new(FileKind::Snapshot, path, text, items)
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

/// Collects problems: a check that returns `Err` adds one and the validation goes on.
#[derive(Default)]
struct Problems(Vec<Invalid>);

impl Problems {
    fn add(&mut self, r: Result<(), Invalid>) {
        if let Err(e) = r {
            self.0.push(e);
        }
    }
    fn push(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.0.push(invalid(at, message));
    }
}

/// Checks what the types cannot: ARN shapes, unique ARNs, known accounts, references that must
/// resolve, and parseable policy documents. Every problem is returned (path, message), in the
/// order of the snapshot's sections; none stops the others.
pub fn validate(s: &Snapshot) -> Vec<Invalid> {
    let mut p = Problems::default();
    let accounts = organization(s, &mut p);
    let index = resources(s, &accounts, &mut p);
    for (i, r) in s.relations.iter().enumerate() {
        for (field, end) in [("from", &r.from), ("to", &r.to)] {
            if !index.contains(end.as_str()) && !accounts.contains(end.as_str()) {
                p.push(
                    format!("relations[{i}].{field}"),
                    format!("relation to unknown node `{end}`"),
                );
            }
        }
    }
    for (bucket, owner) in &s.bucket_owners {
        let at = format!("bucket_owners.{}", bucket.escape_debug());
        if bucket.is_empty() || bucket.contains(['/', ':']) {
            p.push(
                at.clone(),
                format!("`{}` is not an S3 bucket name", bucket.escape_debug()),
            );
        }
        if !accounts.contains(owner.as_str()) {
            p.push(
                at,
                format!("owner `{}` is not an account of the organization", owner.escape_debug()),
            );
        }
    }
    for (i, g) in s.coverage.gaps.iter().enumerate() {
        if let Some(a) = &g.account
            && !is_account_id(a)
        {
            p.push(
                format!("coverage.gaps[{i}].account"),
                format!("`{a}` is not a twelve-digit account id"),
            );
        }
    }
    p.0
}

/// The organization's accounts, units and policies; returns the account ids.
fn organization<'s>(s: &'s Snapshot, p: &mut Problems) -> HashSet<&'s str> {
    let org = &s.organization;
    let mut accounts = HashSet::new();
    for (i, a) in org.accounts.iter().enumerate() {
        if !is_account_id(&a.id) {
            p.push(
                format!("organization.accounts[{i}].id"),
                format!("`{}` is not a twelve-digit account id", a.id),
            );
        } else if !accounts.insert(a.id.as_str()) {
            p.push(
                format!("organization.accounts[{i}].id"),
                format!("duplicate account `{}`", a.id),
            );
        }
    }
    let units: HashSet<&str> = org.units.iter().map(|u| u.id.as_str()).collect();
    for (i, u) in org.units.iter().enumerate() {
        if let Some(parent) = &u.parent
            && !units.contains(parent.as_str())
        {
            p.push(
                format!("organization.units[{i}].parent"),
                format!("unknown unit `{parent}`"),
            );
        }
    }
    for (i, a) in org.accounts.iter().enumerate() {
        if let Some(parent) = &a.parent
            && !units.contains(parent.as_str())
        {
            p.push(
                format!("organization.accounts[{i}].parent"),
                format!("unknown unit `{parent}`"),
            );
        }
    }
    for (i, pol) in org.policies.iter().enumerate() {
        let at = format!("organization.policies[{i}]");
        p.add(check_arn(&pol.arn, &format!("{at}.arn")));
        p.add(check_policy(&pol.document, &format!("{at}.document")));
        for t in &pol.targets {
            if !units.contains(t.as_str()) && !accounts.contains(t.as_str()) {
                p.push(format!("{at}.targets"), format!("unknown unit or account `{t}`"));
            }
        }
    }
    accounts
}

/// A resource's ARN parses and, when it has an account, that account is known and matches.
fn seen(accounts: &HashSet<&str>, arn: &str, at: &str, account: Option<&str>) -> Result<(), Invalid> {
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
}

/// The ARNs seen so far, to report duplicates (borrowed from the snapshot: no copy of its
/// strings while the file text and the snapshot are both in memory).
#[derive(Default)]
struct Arns<'s>(HashSet<&'s str>);

impl<'s> Arns<'s> {
    fn unique(&mut self, p: &mut Problems, arn: &'s str, at: &str) {
        if !self.0.insert(arn) {
            p.push(format!("{at}.arn"), format!("duplicate ARN `{arn}`"));
        }
    }
}

/// Every resource section; returns the set of resource ARNs.
fn resources<'s>(s: &'s Snapshot, accounts: &HashSet<&str>, p: &mut Problems) -> HashSet<&'s str> {
    let mut arns = Arns::default();
    iam_resources(s, accounts, p, &mut arns);
    event_resources(s, accounts, p, &mut arns);
    other_resources(s, accounts, p, &mut arns);
    arns.0
}

/// Roles, managed policies and their attachments, users and groups.
fn iam_resources<'s>(s: &'s Snapshot, accounts: &HashSet<&str>, p: &mut Problems, arns: &mut Arns<'s>) {
    for (i, r) in s.roles.iter().enumerate() {
        let at = format!("roles[{i}]");
        p.add(seen(accounts, &r.arn, &at, Some(&r.account)));
        arns.unique(p, &r.arn, &at);
        p.add(check_policy(&r.trust_policy, &format!("{at}.trust_policy")));
        for (j, pol) in r.inline_policies.iter().enumerate() {
            p.add(check_policy(
                &pol.document,
                &format!("{at}.inline_policies[{j}].document"),
            ));
        }
    }
    let mut managed = HashSet::new();
    for (i, m) in s.managed_policies.iter().enumerate() {
        let at = format!("managed_policies[{i}]");
        p.add(seen(accounts, &m.arn, &at, None));
        arns.unique(p, &m.arn, &at);
        p.add(check_policy(&m.document, &format!("{at}.document")));
        managed.insert(m.arn.as_str());
    }
    for (i, r) in s.roles.iter().enumerate() {
        for (j, a) in r
            .attached_policies
            .iter()
            .chain(r.permission_boundary.iter())
            .enumerate()
        {
            if !managed.contains(a.as_str()) {
                p.push(
                    format!("roles[{i}].attached_policies[{j}]"),
                    format!("relation to unknown managed policy `{a}`: its document must be in `managed_policies`"),
                );
            }
        }
    }
    p.add(super::validate_principals(s));
}

/// Event buses, rules and their targets.
fn event_resources<'s>(s: &'s Snapshot, accounts: &HashSet<&str>, p: &mut Problems, arns: &mut Arns<'s>) {
    let mut buses = HashSet::new();
    for (i, b) in s.event_buses.iter().enumerate() {
        let at = format!("event_buses[{i}]");
        p.add(seen(accounts, &b.arn, &at, Some(&b.account)));
        arns.unique(p, &b.arn, &at);
        if let Some(pol) = &b.policy {
            p.add(check_policy(pol, &format!("{at}.policy")));
        }
        buses.insert(b.arn.as_str());
    }
    for (i, r) in s.rules.iter().enumerate() {
        let at = format!("rules[{i}]");
        p.add(seen(accounts, &r.arn, &at, Some(&r.account)));
        arns.unique(p, &r.arn, &at);
        if !buses.contains(r.bus.as_str()) {
            p.push(
                format!("{at}.bus"),
                format!("relation to unknown event bus `{}`", r.bus),
            );
        }
        for (j, t) in r.targets.iter().enumerate() {
            let tat = format!("{at}.targets[{j}]");
            p.add(check_arn(&t.arn, &format!("{tat}.arn")));
            for (field, v) in [("role", &t.role), ("dead_letter_queue", &t.dead_letter_queue)] {
                if let Some(v) = v {
                    p.add(check_arn(v, &format!("{tat}.{field}")));
                }
            }
        }
    }
    for (i, b) in s.event_buses_v2.iter().enumerate() {
        let at = format!("event_buses_v2[{i}]");
        p.add(seen(accounts, &b.arn, &at, Some(&b.account)));
        arns.unique(p, &b.arn, &at);
        if !Arn::parse(&b.arn).is_ok_and(|a| a.resource.starts_with("event-busv2/")) {
            p.push(
                format!("{at}.arn"),
                format!("`{}` is not an `event-busv2/NAME/ID` ARN", b.arn),
            );
        }
        if let Some(pol) = &b.policy {
            p.add(check_policy(pol, &format!("{at}.policy")));
        }
        if let Some(k) = &b.kms_key {
            p.add(check_arn(k, &format!("{at}.kms_key")));
        }
        for (j, sh) in b.shares.iter().enumerate() {
            p.add(check_arn(&sh.arn, &format!("{at}.shares[{j}].arn")));
        }
        for (j, sub) in b.subscribers.iter().enumerate() {
            let sat = format!("{at}.subscribers[{j}]");
            p.add(check_arn(&sub.arn, &format!("{sat}.arn")));
            arns.unique(p, &sub.arn, &sat);
            if !is_account_id(&sub.account) {
                p.push(
                    format!("{sat}.account"),
                    format!("`{}` is not a twelve-digit account id", sub.account),
                );
            }
            p.add(check_arn(&sub.target, &format!("{sat}.target")));
            for (field, v) in [("role", &sub.role), ("failure_destination", &sub.failure_destination)] {
                if let Some(v) = v {
                    p.add(check_arn(v, &format!("{sat}.{field}")));
                }
            }
        }
    }
}

/// Functions and their event sources, shared resources, Agent Spaces.
fn other_resources<'s>(s: &'s Snapshot, accounts: &HashSet<&str>, p: &mut Problems, arns: &mut Arns<'s>) {
    let mut functions = HashSet::new();
    for (i, f) in s.functions.iter().enumerate() {
        let at = format!("functions[{i}]");
        p.add(seen(accounts, &f.arn, &at, Some(&f.account)));
        arns.unique(p, &f.arn, &at);
        p.add(check_arn(&f.role, &format!("{at}.role")));
        if let Some(pol) = &f.policy {
            p.add(check_policy(pol, &format!("{at}.policy")));
        }
        functions.insert(f.arn.as_str());
    }
    for (i, m) in s.event_source_mappings.iter().enumerate() {
        let at = format!("event_source_mappings[{i}]");
        if !functions.contains(m.function.as_str()) {
            p.push(
                format!("{at}.function"),
                format!("relation to unknown function `{}`", m.function),
            );
        }
        p.add(check_arn(&m.source, &format!("{at}.source")));
    }
    for (i, r) in s.resources.iter().enumerate() {
        let at = format!("resources[{i}]");
        p.add(seen(accounts, &r.arn, &at, Some(&r.account)));
        arns.unique(p, &r.arn, &at);
        if let Some(pol) = &r.policy {
            p.add(check_policy(pol, &format!("{at}.policy")));
        }
    }
    for (i, a) in s.agent_spaces.iter().enumerate() {
        let at = format!("agent_spaces[{i}]");
        if let Some(problem) = super::agent_space_name_problem(&a.name) {
            p.push(format!("{at}.name"), format!("`{}`: {problem}", a.name.escape_debug()));
        }
        p.add(seen(accounts, &a.arn, &at, Some(&a.account)));
        arns.unique(p, &a.arn, &at);
        for (j, assoc) in a.associations.iter().enumerate() {
            if !is_account_id(&assoc.account) {
                p.push(
                    format!("{at}.associations[{j}].account"),
                    format!("`{}` is not a twelve-digit account id", assoc.account),
                );
            }
            p.add(check_arn(&assoc.role, &format!("{at}.associations[{j}].role")));
            if let Some(r) = &assoc.elevated_role {
                p.add(check_arn(r, &format!("{at}.associations[{j}].elevated_role")));
            }
        }
        for (field, v) in [("kms_key", &a.kms_key), ("operator_app_role", &a.operator_app_role)] {
            if let Some(v) = v {
                p.add(check_arn(v, &format!("{at}.{field}")));
            }
        }
    }
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
