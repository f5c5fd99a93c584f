//! Compressing the resources of a role's statements the way people write them, when the exact
//! ARNs do not fit IAM's quotas: a run of ARNs that covers every resource with a common prefix
//! in its account becomes `prefix*` — `arn:aws:lambda:REGION:ACCOUNT:function:*` in an account
//! the application wholly owns, a name prefix (`…:function:checkout-*`) elsewhere. A pattern never
//! matches a resource of the snapshot that the exact list did not name, and never widens beyond
//! the account and region written in the ARN.

use super::actions::own_log_group;
use super::pack::Stmt;
use super::scope::AccountScope;
use crate::escape::iam_literal;
use crate::graph::{NodeKind, Topology};
use std::collections::BTreeSet;

/// Every resource string of `account` a pattern could match: node ARNs and the log groups of
/// its functions (with their `:*` stream forms), written as IAM literals like the statements'
/// resources (`$`, `*`, `?` of names as `${$}`, `${*}`, `${?}`), so that a prefix of them is a
/// pattern IAM reads the same way.
pub fn universe(t: &Topology<'_>, account: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for &ix in t.nodes_in_account(account) {
        out.insert(iam_literal(t.node(ix).id).into_owned());
        if matches!(t.node(ix).kind, NodeKind::Function | NodeKind::Resource(_))
            && let Some(g) = own_log_group(t, ix)
        {
            let g = iam_literal(&g).into_owned();
            out.insert(format!("{g}:*"));
            out.insert(g);
        }
    }
    out
}

/// Where the resource-type part of an ARN of `account` ends (after `function:`, `table/`,
/// `rule/`, or the account field for types without a prefix); `None` for ARNs of other
/// accounts, regionless or accountless ARNs, and patterns.
fn head_len(arn: &str, account: &str) -> Option<usize> {
    // A log group's streams (`…:log-group:NAME:*`) are a resource string, not a pattern.
    if arn.strip_suffix(":*").unwrap_or(arn).contains(['*', '?']) {
        return None;
    }
    let mut fields = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some(_), Some(region), Some(acc), Some(resource)) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return None;
    };
    if region.is_empty() || acc != account {
        return None;
    }
    let type_len = resource.find([':', '/']).map_or(0, |i| i + 1);
    Some(arn.len() - resource.len() + type_len)
}

/// The patterns standing for `resources` in `account`: exact strings, or `prefix*` where every
/// string of `universe` with that prefix is among `resources`. The prefix reaches at least the
/// resource type, and one character of the name unless `whole_account`.
pub fn compress(resources: &[String], universe: &BTreeSet<String>, account: &str, whole_account: bool) -> Vec<String> {
    let wanted: BTreeSet<&str> = resources.iter().map(String::as_str).collect();
    let s: Vec<&str> = wanted.iter().copied().collect();
    let u: Vec<&str> = universe.iter().map(String::as_str).collect();
    let min = |arn: &str| head_len(arn, account).map(|h| if whole_account { h } else { h + 1 });
    let type_only = |arn: &str, len: usize| whole_account && head_len(arn, account) == Some(len);
    let mut out = Vec::new();
    trie("", &s, &u, &wanted, &min, &type_only, &mut out);
    out.sort();
    out
}

/// The members of sorted `items` that start with `prefix`.
fn range<'x, 'a>(items: &'x [&'a str], prefix: &str) -> &'x [&'a str] {
    let start = items.partition_point(|x| *x < prefix);
    let len = items
        .get(start..)
        .map_or(0, |rest| rest.partition_point(|x| x.starts_with(prefix)));
    items.get(start..start + len).unwrap_or(&[])
}

fn trie(
    prefix: &str,
    s: &[&str],
    u: &[&str],
    wanted: &BTreeSet<&str>,
    min: &dyn Fn(&str) -> Option<usize>,
    type_only: &dyn Fn(&str, usize) -> bool,
    out: &mut Vec<String>,
) {
    let Some(first) = s.first() else { return };
    if s.len() >= 2
        && s.iter().all(|x| min(x).is_some_and(|m| prefix.len() >= m))
        && u.iter().all(|x| wanted.contains(x))
    {
        // The longest prefix the group shares, as a person would write it (`invoice-fn-*`).
        let last = s.last().copied().unwrap_or(first);
        let common = first
            .char_indices()
            .zip(last.chars())
            .find(|((_, a), b)| a != b)
            .map_or(first.len().min(last.len()), |((i, _), _)| i);
        // A whole type of a wholly owned account stays `type*` (`function:*`).
        let keep = if s.iter().all(|x| type_only(x, prefix.len())) {
            prefix.len()
        } else {
            common.max(prefix.len())
        };
        out.push(format!("{}*", first.get(..keep).unwrap_or(prefix)));
        return;
    }
    if s.len() == 1 {
        out.push((*first).to_string());
        return;
    }
    let mut rest = s;
    while let Some(head) = rest.first() {
        let Some(c) = head.get(prefix.len()..).and_then(|r| r.chars().next()) else {
            out.push((*head).to_string());
            rest = rest.get(1..).unwrap_or(&[]);
            continue;
        };
        let next = format!("{prefix}{c}");
        let group = range(rest, &next);
        trie(&next, group, range(u, &next), wanted, min, type_only, out);
        rest = rest.get(group.len().max(1)..).unwrap_or(&[]);
    }
}

/// The statements with each one's resources compressed within `account`.
pub fn statements(t: &Topology<'_>, account: &str, scope: Option<&AccountScope>, stmts: Vec<Stmt>) -> Vec<Stmt> {
    let whole = scope.is_some_and(|s| s.owned_account && !s.shared);
    let universe = universe(t, account);
    stmts
        .into_iter()
        .map(|mut st| {
            st.resources = compress(&st.resources, &universe, account, whole);
            st
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::compress;
    use std::collections::BTreeSet;

    fn f(name: &str) -> String {
        format!("arn:aws:lambda:eu-west-1:111111111111:function:{name}")
    }

    fn set(items: &[String]) -> BTreeSet<String> {
        items.iter().cloned().collect()
    }

    #[test]
    fn a_wholly_owned_account_gets_the_type_wildcard() {
        let all = [f("a"), f("b"), f("c")];
        assert_eq!(
            compress(&all, &set(&all), "111111111111", true),
            vec!["arn:aws:lambda:eu-west-1:111111111111:function:*"]
        );
    }

    #[test]
    fn elsewhere_a_name_prefix_that_covers_nothing_else() {
        let mine = [f("inv-a"), f("inv-b"), f("other")];
        let mut all = mine.to_vec();
        all.push(f("pay-a"));
        // Near miss: `other` shares no prefix with the rest, `pay-a` is not ours.
        assert_eq!(
            compress(&mine, &set(&all), "111111111111", false),
            vec![f("inv-*"), f("other")]
        );
        // Not wholly owned: never `function:*`, even when the snapshot holds nothing else.
        let two = [f("a1"), f("b1")];
        assert_eq!(
            compress(&two, &set(&two), "111111111111", false),
            vec![f("a1"), f("b1")]
        );
    }

    #[test]
    fn log_groups_with_their_streams_compress_together() {
        let g = |n: &str| format!("arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/{n}");
        let mine = [
            g("inv-a"),
            format!("{}:*", g("inv-a")),
            g("inv-b"),
            format!("{}:*", g("inv-b")),
        ];
        let mut all = mine.to_vec();
        all.push(g("pay-a"));
        assert_eq!(
            compress(&mine, &set(&all), "111111111111", true),
            vec![format!("{}*", g("inv-"))]
        );
    }

    #[test]
    fn other_accounts_and_regionless_arns_stay_exact() {
        let other = vec![
            "arn:aws:sqs:eu-west-1:999999999999:q1".to_string(),
            "arn:aws:sqs:eu-west-1:999999999999:q2".to_string(),
            "arn:aws:s3:::bucket-a".to_string(),
            "arn:aws:s3:::bucket-b".to_string(),
            "*".to_string(),
        ];
        let mut expected = other.clone();
        expected.sort();
        assert_eq!(compress(&other, &set(&other), "111111111111", true), expected);
    }
}
