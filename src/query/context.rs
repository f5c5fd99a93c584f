//! `--context`: request-context values given on the command line, for every request of a chain
//! or for one of them.
//!
//! A role chain is a sequence of requests: each `sts:AssumeRole` is a request of its own (made by
//! the previous principal, with that principal's `aws:PrincipalArn`, account, tags…), and the
//! final action is one more. `KEY=VALUE` applies to every request of the chain; `hop=N:KEY=VALUE`
//! applies only to request N, counted from 1 = the first request the starting principal makes
//! (the first `sts:AssumeRole`, or the action itself when it is made directly). In a chain of two
//! assumptions, the final action is request 3. A scoped value wins over an unscoped one for the
//! same key at that request. What the snapshot tells about each request (principal ARN, account,
//! tags, resource account) is filled in per request and the given values win over it.

use super::{QueryError, parse_context};
use crate::iam::eval::NamedPolicy;
use crate::iam::reach::MAX_CHAIN;
use crate::iam::store::Named;
use std::collections::BTreeMap;

/// The most requests a chain makes: [`MAX_CHAIN`] assumptions and the final action.
pub const MAX_HOP: usize = MAX_CHAIN + 1;

/// Parsed `--context` values, and the session policies of the starting principal's session.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// For every request.
    all: Vec<(String, String)>,
    /// Request number (1-based) → values for that request only.
    hops: BTreeMap<usize, Vec<(String, String)>>,
    /// Session policies passed when the starting principal's session was created (`can
    /// --session-policy`, `--session-policy-arn`): they limit the requests that session makes,
    /// i.e. request 1 of every chain, not the sessions of the roles it assumes.
    session: Vec<Named>,
}

impl Context {
    /// Values for every request (tests and library callers).
    pub fn everywhere(pairs: Vec<(String, String)>) -> Self {
        Context {
            all: pairs,
            ..Context::default()
        }
    }

    /// Parses `--context` arguments: `KEY=VALUE` or `hop=N:KEY=VALUE`.
    pub fn parse(args: &[String]) -> Result<Self, QueryError> {
        let mut all = Vec::new();
        let mut hops: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for a in args {
            match a.strip_prefix("hop=") {
                Some(rest) => {
                    let (n, pair) = rest.split_once(':').unwrap_or((rest, ""));
                    let n: usize = n.parse().ok().filter(|n| (1..=MAX_HOP).contains(n)).ok_or_else(|| {
                        QueryError(format!(
                            "bad --context `{}`: expected hop=N:KEY=VALUE with N from 1 to {MAX_HOP} \
                             (request N of a chain; chains have at most {MAX_CHAIN} assumptions)",
                            a.escape_debug()
                        ))
                    })?;
                    hops.entry(n).or_default().push(pair.to_string());
                }
                None => all.push(a.clone()),
            }
        }
        let hops = hops
            .into_iter()
            .map(|(n, pairs)| Ok((n, parse_context(&pairs)?)))
            .collect::<Result<_, QueryError>>()?;
        Ok(Context {
            all: parse_context(&all)?,
            hops,
            session: Vec::new(),
        })
    }

    /// The same values, for a starting session that was given these session policies.
    pub fn with_session(mut self, session: Vec<Named>) -> Self {
        self.session = session;
        self
    }

    /// True when nothing is given: every request is decided as the snapshot alone tells.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty() && self.hops.is_empty() && self.session.is_empty()
    }

    /// The session policies that limit request `n`: the starting session's, for request 1.
    pub fn session_for_hop(&self, n: usize) -> Vec<NamedPolicy<'_>> {
        if n == 1 {
            self.session.iter().map(Named::as_named).collect()
        } else {
            Vec::new()
        }
    }

    /// True when some value is given for one request only.
    pub fn is_scoped(&self) -> bool {
        !self.hops.is_empty()
    }

    /// The request numbers that have values of their own, ascending.
    pub fn scoped_hops(&self) -> impl Iterator<Item = usize> + '_ {
        self.hops.keys().copied()
    }

    /// The values for request `n` (1-based): the unscoped ones, except for keys the request's
    /// own values give, then those.
    pub fn for_hop(&self, n: usize) -> Vec<(String, String)> {
        let own = self.hops.get(&n).map(Vec::as_slice).unwrap_or_default();
        self.all
            .iter()
            .filter(|(k, _)| !own.iter().any(|(o, _)| o == k))
            .chain(own)
            .cloned()
            .collect()
    }
}
