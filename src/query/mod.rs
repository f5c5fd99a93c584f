//! Incident questions over the topology and the IAM engine: `can` (may this principal do this),
//! `who-can` (every principal that may), `impact` (what fails or leaks downstream of a node,
//! account, region or application) and `path` (shortest delivery/use/assume paths). Each
//! question has its own file and returns a typed answer that renders as human text, Markdown
//! or JSON; the shared pieces — decisions, the deciding statement, coverage gaps, request
//! context from `--context` — live here. Access questions use the same evaluator and role
//! reachability as the checks ([`crate::iam::eval`], [`crate::iam::reach`]).

pub mod access;
pub mod can;
pub mod context;
pub mod impact;
mod links;
pub mod path;
pub mod who_can;

use crate::escape::{markdown_code_inline, terminal};
use crate::iam::catalog::Catalog;
use crate::iam::condition::RequestContext;
use crate::model::{CoverageGap, Snapshot};
use serde::Serialize;
use std::collections::BTreeSet;

/// A question that cannot be answered as asked (unknown principal, action, resource, app).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// How an answer is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AnswerFormat {
    Human,
    Json,
    Markdown,
}

/// A snapshot string for the sink: terminal-escaped for humans, a code span in Markdown.
pub fn shown(format: AnswerFormat, s: &str) -> String {
    match format {
        AnswerFormat::Markdown => markdown_code_inline(s),
        AnswerFormat::Human | AnswerFormat::Json => format!("`{}`", terminal(s)),
    }
}

/// The outcome of an access question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Allowed,
    Conditional,
    Denied,
    /// A coverage gap on something the answer depends on: neither allowed nor denied is proven.
    NotProven,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Conditional => "conditional",
            Verdict::Denied => "denied",
            Verdict::NotProven => "not-proven",
        }
    }
}

/// `--context KEY=VALUE` pairs, in the order given.
pub fn parse_context(pairs: &[String]) -> Result<Vec<(String, String)>, QueryError> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !k.contains(char::is_whitespace) => {
                Ok((k.to_string(), v.to_string()))
            }
            _ => Err(QueryError(format!(
                "bad --context `{}`: expected KEY=VALUE, e.g. aws:MultiFactorAuthPresent=true",
                p.escape_debug()
            ))),
        })
        .collect()
}

/// Applies `--context` values over what the snapshot tells (they win). A key given several
/// times is multi-valued; `KEY=` with nothing after it says the key is absent.
pub fn apply_context(ctx: &mut RequestContext, pairs: &[(String, String)]) {
    let mut keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let values: Vec<String> = pairs
            .iter()
            .filter(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect();
        match values.len() {
            0 => ctx.absent(key),
            1 => ctx.set(key, values.into_iter().next().unwrap_or_default()),
            _ => ctx.set_many(key, values),
        };
    }
}

/// The action as the catalog spells it, or an error with the closest known names.
pub fn known_action(catalog: &Catalog, action: &str) -> Result<String, QueryError> {
    if action.contains(['*', '?']) {
        return Err(QueryError(format!(
            "action `{}` has a wildcard: ask about one action, e.g. `s3:GetObject`",
            terminal(action)
        )));
    }
    if let Some(info) = catalog.action(action) {
        return Ok(info.full_name());
    }
    let (service, name) = action.split_once(':').unwrap_or((action, ""));
    let Some(svc) = catalog.service(service) else {
        let mut near: Vec<(usize, &str)> = catalog
            .services()
            .iter()
            .map(|s| {
                (
                    strsim::levenshtein(&service.to_ascii_lowercase(), s.prefix()),
                    s.prefix(),
                )
            })
            .filter(|(d, _)| *d <= 2)
            .collect();
        near.sort_unstable();
        let hint = near
            .first()
            .map(|(_, p)| format!("; did you mean service `{p}`?"))
            .unwrap_or_default();
        return Err(QueryError(format!(
            "unknown action `{}`: no service `{}` in the action catalog{hint}",
            terminal(action),
            terminal(service)
        )));
    };
    let lower = name.to_ascii_lowercase();
    let mut near: Vec<(usize, String)> = svc
        .actions()
        .iter()
        .map(|a| {
            (
                strsim::levenshtein(&lower, &a.name().to_ascii_lowercase()),
                a.full_name(),
            )
        })
        .collect();
    near.sort();
    let hint: Vec<String> = near.into_iter().take(3).map(|(_, n)| format!("`{n}`")).collect();
    Err(QueryError(format!(
        "unknown action `{}`; closest in `{}`: {}",
        terminal(action),
        svc.prefix(),
        hint.join(", ")
    )))
}

/// The coverage gaps that touch any of `accounts` (or the whole organization): what the snapshot
/// could not see there may change the answer. Sorted and deduplicated.
pub fn gaps_touching<'s>(
    s: &'s Snapshot,
    accounts: &BTreeSet<&str>,
    regions: Option<&BTreeSet<&str>>,
) -> Vec<&'s CoverageGap> {
    let mut out: Vec<&CoverageGap> = s
        .coverage
        .gaps
        .iter()
        .filter(|g| g.account.as_deref().is_none_or(|a| accounts.contains(a)))
        .filter(|g| match (regions, g.region.as_deref()) {
            (Some(rs), Some(r)) => rs.contains(r),
            _ => true,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// One line naming a gap.
pub fn describe_gap(g: &CoverageGap) -> String {
    let place = match (&g.account, &g.region) {
        (Some(a), Some(r)) => format!("account {a} region {r}"),
        (Some(a), None) => format!("account {a}"),
        (None, Some(r)) => format!("region {r} of every account"),
        (None, None) => "the organization".to_string(),
    };
    format!("{} could not be read in {place} ({})", g.api, g.error_code)
}

/// The account path (root, units…, the account) of an account in the organization.
pub fn org_path(s: &Snapshot, account: &str) -> Vec<String> {
    let org = &s.organization;
    let Some(a) = org.accounts.iter().find(|a| a.id == account) else {
        return Vec::new();
    };
    let mut chain = vec![a.id.clone()];
    let mut cursor = a.parent.clone();
    while let Some(unit) = cursor {
        if chain.len() > 64 {
            break;
        }
        cursor = org.units.iter().find(|u| u.id == unit).and_then(|u| u.parent.clone());
        chain.push(unit);
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests;
