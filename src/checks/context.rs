//! What the engine hands a check: the topology view it reads, its own typed settings (the
//! `allow` entries of `cross-account-write-to-shared`) and the IAM action catalog. The context
//! also keeps the used-entry bookkeeping, so that the engine, not the check, reports the
//! entries that matched nothing.

use super::{Check, Finding, Meta, catalog_unavailable, unused_ignore};
use crate::config::{CheckOptions, WriteException};
use crate::graph::{Node, Topology};
use crate::iam::catalog::Catalog;
use std::cell::RefCell;
use toml::Spanned;

/// One check's view of a run.
pub struct Context<'c, 's> {
    topology: &'c Topology<'s>,
    meta: &'static Meta,
    /// Per `allow` entry of this check: whether some finding-to-be matched it.
    allow_used: RefCell<Vec<bool>>,
}

impl<'c, 's> Context<'c, 's> {
    /// The context of `check` over `topology`.
    pub fn new(topology: &'c Topology<'s>, check: &dyn Check) -> Self {
        let meta = check.meta();
        let entries = allow_entries(topology, meta.id).len();
        Context {
            topology,
            meta,
            allow_used: RefCell::new(vec![false; entries]),
        }
    }

    /// The topology the check reads.
    pub fn topology(&self) -> &'c Topology<'s> {
        self.topology
    }

    /// The check's metadata.
    pub fn meta(&self) -> &'static Meta {
        self.meta
    }

    /// The embedded IAM action catalog, or the "could not run" finding to return instead.
    pub fn catalog(&self) -> Result<&'static Catalog, Box<Finding>> {
        Catalog::get().map_err(|e| Box::new(catalog_unavailable(self.meta, &e.to_string())))
    }

    /// The check's own `allow` entries (accepted cases), in config order.
    pub fn allow(&self) -> Vec<&'c WriteException> {
        allow_entries(self.topology, self.meta.id)
            .iter()
            .map(|a| a.get_ref())
            .collect()
    }

    /// Records that `allow` entry `index` accepted something.
    pub fn use_allow(&self, index: usize) {
        if let Some(used) = self.allow_used.borrow_mut().get_mut(index) {
            *used = true;
        }
    }

    /// A violation of this check about `node` (see [`Meta::finding`]).
    pub fn finding(&self, node: &Node<'_>, message: String, remediation: String) -> Finding {
        self.meta.finding(node, message, remediation)
    }

    /// One `unused-ignore` finding per `allow` entry nothing used (the engine calls this after
    /// the check ran).
    pub fn unused_allows(&self) -> Vec<Finding> {
        let entries = allow_entries(self.topology, self.meta.id);
        let used = self.allow_used.borrow();
        entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !used.get(*i).copied().unwrap_or(true))
            .map(|(i, a)| {
                let location = self.topology.config.locate(a.span());
                unused_ignore::unused_entry(self.meta.id, "allow", i, &a.get_ref().reason, location)
            })
            .collect()
    }
}

/// The `allow` entries the config gives check `id` (only `cross-account-write-to-shared` takes
/// them; empty for every other check).
pub fn allow_entries<'c>(topology: &'c Topology<'_>, id: &str) -> &'c [Spanned<WriteException>] {
    match topology.config.check_settings(id).map(|s| &s.options) {
        Some(CheckOptions::CrossAccountWriteToShared(o)) => &o.allow,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::Context;
    use crate::checks::testkit::{CONFIG, org};
    use crate::checks::{Check, REGISTRY, known_ids};
    use crate::config::parse_config;
    use crate::graph::Topology;
    use crate::model::parse_snapshot;
    use std::path::Path;

    fn check(id: &str) -> &'static dyn Check {
        REGISTRY.iter().copied().find(|c| c.id() == id).unwrap()
    }

    const ALLOW: &str = "[checks.cross-account-write-to-shared]\nallow = [\n  { principal = \"arn:aws:iam::111111111111:root\", resource = \"*\", actions = [\"sqs:*\"], reason = \"used\" },\n  { principal = \"arn:aws:iam::222222222222:root\", resource = \"*\", actions = [\"sqs:*\"], reason = \"stale\" },\n]\n";

    #[test]
    fn fires_unused_allow_entries_are_reported_from_the_context_not_the_check() {
        let snapshot = parse_snapshot(&org().to_string(), Path::new("t.json")).unwrap();
        let config = parse_config(&format!("{CONFIG}\n{ALLOW}"), Path::new("t.toml"), &known_ids()).unwrap();
        let topology = Topology::build(&snapshot, &config);
        let cx = Context::new(&topology, check("cross-account-write-to-shared"));
        assert_eq!(cx.allow().len(), 2);
        cx.use_allow(0);
        let unused = cx.unused_allows();
        assert_eq!(unused.len(), 1, "{unused:#?}");
        assert_eq!(unused[0].check, "unused-ignore");
        assert_eq!(unused[0].resource, "checks.cross-account-write-to-shared.allow[1]");
    }

    #[test]
    fn near_miss_another_checks_context_sees_no_allow_entries() {
        let snapshot = parse_snapshot(&org().to_string(), Path::new("t.json")).unwrap();
        let config = parse_config(&format!("{CONFIG}\n{ALLOW}"), Path::new("t.toml"), &known_ids()).unwrap();
        let topology = Topology::build(&snapshot, &config);
        let cx = Context::new(&topology, check("shared-resource-untagged"));
        assert!(cx.allow().is_empty());
        cx.use_allow(0);
        assert!(cx.unused_allows().is_empty());
        assert_eq!(cx.meta().id, "shared-resource-untagged");
    }
}
