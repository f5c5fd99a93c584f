//! What one application's roles may cover: its residency zone and regions, and per account of
//! its footprint the resources it owns and the resources of others it uses. Resources outside
//! the residency zone are left out and reported as a crossing.

use super::Note;
use super::actions::resource_type;
use crate::graph::{AppId, Topology};
use petgraph::graph::NodeIndex;
use std::collections::{BTreeMap, BTreeSet};

/// The resources of one account an application's roles cover.
#[derive(Debug, Clone, Default)]
pub struct AccountScope {
    /// Resources the application owns (ARNs, with their node).
    pub own: Vec<NodeIndex>,
    /// Resources of others (shared, or another application's) it uses: metadata reads only.
    pub used: Vec<NodeIndex>,
    /// The account itself belongs to the application.
    pub owned_account: bool,
    /// A shared-dependency account.
    pub shared: bool,
    /// Regions the roles in this account may act in.
    pub regions: BTreeSet<String>,
}

/// One application's scope.
#[derive(Debug, Clone)]
pub struct AppScope<'a> {
    pub app: AppId,
    pub name: &'a str,
    /// Residency zones.
    pub zones: BTreeSet<String>,
    /// Every region of the residency zones.
    pub regions: BTreeSet<String>,
    pub accounts: BTreeMap<String, AccountScope>,
}

impl<'a> AppScope<'a> {
    /// `None` when the application has no resource to scope a role to.
    pub fn compute(t: &Topology<'a>, app: AppId, notes: &mut Vec<Note>) -> Option<AppScope<'a>> {
        let name = t.app_name(app);
        let note = |kind: &str, message: String| Note {
            application: name.to_string(),
            kind: kind.to_string(),
            message,
        };
        let own: Vec<NodeIndex> = t.owned_by(app).filter(|ix| resource_type(t, *ix).is_some()).collect();
        if own.is_empty() {
            return None;
        }
        let used: Vec<NodeIndex> = t
            .nodes()
            .filter(|(ix, _)| {
                resource_type(t, *ix).is_some()
                    && t.owner(*ix) != Some(app)
                    && t.users(*ix).iter().any(|(a, _)| *a == app)
            })
            .map(|(ix, _)| ix)
            .collect();
        // Residency: the configured zone, else the zones of the application's own resources.
        let configured = t
            .config
            .application(name)
            .and_then(|a| a.zone.as_ref())
            .map(|z| z.get_ref().clone());
        let zones: BTreeSet<String> = match &configured {
            Some(z) => std::iter::once(z.clone()).collect(),
            None => own.iter().filter_map(|ix| t.zone_of(*ix)).map(str::to_string).collect(),
        };
        if configured.is_none() && zones.len() > 1 {
            notes.push(note(
                "no-zone",
                format!(
                    "application `{name}` has no configured `zone` and owns resources in zones {}; each account's roles are limited to the zones of the resources there",
                    zones.iter().map(|z| format!("`{z}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let regions: BTreeSet<String> = t
            .config
            .zones
            .iter()
            .filter(|(z, _)| zones.contains(z.get_ref()))
            .flat_map(|(_, z)| z.regions.iter().map(|r| r.get_ref().clone()))
            .collect();
        let mut accounts: BTreeMap<String, AccountScope> = BTreeMap::new();
        let mut crossings: Vec<String> = Vec::new();
        for (ix, is_own) in own
            .iter()
            .map(|ix| (*ix, true))
            .chain(used.iter().map(|ix| (*ix, false)))
        {
            let node = t.node(ix);
            let Some(account) = node.account else { continue };
            if let Some(region) = node.region
                && !regions.contains(region)
            {
                crossings.push(format!(
                    "`{}` ({}) is in region `{region}`, outside residency zone(s) {}",
                    node.id,
                    if is_own { "own" } else { "used" },
                    zones.iter().map(|z| format!("`{z}`")).collect::<Vec<_>>().join(", ")
                ));
                continue;
            }
            let entry = accounts.entry(account.to_string()).or_insert_with(|| AccountScope {
                owned_account: t.find(account).and_then(|a| t.owner(a)) == Some(app),
                shared: t.config.is_shared_account(account),
                ..AccountScope::default()
            });
            if is_own {
                entry.own.push(ix);
            } else {
                entry.used.push(ix);
            }
            if let Some(zone) = t.zone_of(ix) {
                entry.regions.extend(
                    t.config
                        .zones
                        .iter()
                        .filter(|(z, _)| z.get_ref() == zone)
                        .flat_map(|(_, z)| z.regions.iter().map(|r| r.get_ref().clone())),
                );
            }
        }
        for scope in accounts.values_mut() {
            if scope.regions.is_empty() {
                scope.regions = regions.clone();
            }
        }
        if !crossings.is_empty() {
            crossings.sort();
            notes.push(note(
                "zone-crossing",
                format!(
                    "the footprint of `{name}` crosses its residency zone; roles are generated within the zone and leave out {} resource(s): {}",
                    crossings.len(),
                    crossings.join("; ")
                ),
            ));
        }
        if accounts.is_empty() || regions.is_empty() {
            return None;
        }
        Some(AppScope {
            app,
            name,
            zones,
            regions,
            accounts,
        })
    }
}
