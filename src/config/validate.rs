//! What the types cannot say about a config: names usable as file and role names, account
//! ids, zones and applications that exist, regions in one zone only, `reason`s that say
//! something, ARNs that are ARNs. Every problem becomes a [`Diagnostic`]; none stops the rest.

use super::{CheckOptions, CheckSettings, Config};
use crate::arn::is_account_id;
use crate::diagnostic::Diagnostic;
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

/// Longest application name.
pub const APP_NAME_MAX: usize = 64;

/// An application name becomes part of file names (`roles --out-dir`), IAM role names
/// (`topoguard-<app>-observe`) and tag values, so it takes what all three allow: 1 to 64 ASCII
/// letters, digits and `_ . - @ =`, starting with a letter or digit (so never `.`, `..`, a
/// hidden file or an option). `+` and `,` are left out because they separate names in tags.
fn app_name_problem(name: &str) -> Option<&'static str> {
    let first_ok = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_ok {
        return Some("start with a letter or digit");
    }
    if name.len() > APP_NAME_MAX {
        return Some("use at most 64 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-@=".contains(c)) {
        return Some("use only ASCII letters, digits and `_ . - @ =`");
    }
    None
}

/// Collects what is wrong with `c` into `out`.
pub(super) fn validate(c: &Config, out: &mut Vec<Diagnostic>) {
    let mut v = Validator { c, out };
    v.tag_keys();
    v.applications();
    v.shared_dependencies();
    v.zones();
    v.agent_spaces();
    v.responders();
    v.platform();
    for (id, settings) in &c.checks {
        v.check(id.get_ref(), settings);
    }
}

struct Validator<'a> {
    c: &'a Config,
    out: &'a mut Vec<Diagnostic>,
}

impl Validator<'_> {
    fn problem(&mut self, span: Range<usize>, message: String, label: &str) {
        self.out.push(Diagnostic::new(message, Some(span), label));
    }

    fn account(&mut self, a: &Spanned<String>, key: &str) {
        if !is_account_id(a.get_ref()) {
            let message = format!("{key}: `{}` is not a twelve-digit account id", a.get_ref());
            self.problem(a.span(), message, "not an account id");
        }
    }

    fn zone_known(&mut self, z: &Spanned<String>, key: &str) {
        if !self.c.zones.keys().any(|k| k.get_ref() == z.get_ref()) {
            let message = format!("{key}: unknown zone `{}` (not in [zones])", z.get_ref());
            self.problem(z.span(), message, "no such zone");
        }
    }

    fn application_known(&mut self, app: &str, span: Range<usize>, key: &str) {
        if self.c.application(app).is_none() {
            let message = format!("{key}: unknown application `{app}` (not in [applications])");
            self.problem(span, message, "no such application");
        }
    }

    fn tag_keys(&mut self) {
        let c = self.c;
        if c.attribution.tag_key.is_empty() {
            self.out
                .push(Diagnostic::new("attribution.tag_key: must not be empty", None, ""));
        }
        if c.shared_dependencies.consumer_tag_key.is_empty() {
            let message = "shared_dependencies.consumer_tag_key: must not be empty";
            self.out.push(Diagnostic::new(message, None, ""));
        }
    }

    fn applications(&mut self) {
        let c = self.c;
        let mut owner_of_account: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, app) in &c.applications {
            if let Some(rule) = app_name_problem(name.get_ref()) {
                let shown = name.get_ref().escape_debug();
                let message = format!("applications: `{shown}` is not a usable application name: {rule}");
                self.problem(name.span(), message, "not a usable name");
            }
            let key = format!("applications.{}", name.get_ref());
            for a in &app.accounts {
                self.account(a, &format!("{key}.accounts"));
                if let Some(other) = owner_of_account.insert(a.get_ref(), name.get_ref()) {
                    let message = format!(
                        "{key}.accounts: account `{}` is already attributed to `{other}`",
                        a.get_ref()
                    );
                    self.problem(a.span(), message, "attributed twice");
                }
            }
            if let Some(z) = &app.zone {
                self.zone_known(z, &format!("{key}.zone"));
            }
        }
    }

    fn shared_dependencies(&mut self) {
        let c = self.c;
        for a in &c.shared_dependencies.accounts {
            self.account(a, "shared_dependencies.accounts");
        }
    }

    fn zones(&mut self) {
        let c = self.c;
        let mut zone_of_region: BTreeMap<&str, &str> = BTreeMap::new();
        for (zone, z) in &c.zones {
            if z.regions.is_empty() {
                let message = format!("zones.{}.regions: must list at least one region", zone.get_ref());
                self.problem(zone.span(), message, "no regions");
            }
            for r in &z.regions {
                if let Some(other) = zone_of_region.insert(r.get_ref(), zone.get_ref()) {
                    let message = format!(
                        "zones.{}.regions: region `{}` is already in zone `{other}`",
                        zone.get_ref(),
                        r.get_ref()
                    );
                    self.problem(r.span(), message, "in two zones");
                }
            }
        }
    }

    fn agent_spaces(&mut self) {
        let c = self.c;
        for (space, intent) in &c.agent_spaces {
            if let Some(problem) = crate::model::agent_space_name_problem(space.get_ref()) {
                let shown = space.get_ref().escape_debug();
                self.problem(
                    space.span(),
                    format!("agent_spaces: `{shown}`: {problem}"),
                    "not a usable name",
                );
            }
            let key = format!("agent_spaces.{}", space.get_ref());
            let app = &intent.application;
            self.application_known(app.get_ref(), app.span(), &format!("{key}.application"));
            for a in &intent.accounts {
                self.account(a, &format!("{key}.accounts"));
            }
            if let Some(z) = &intent.zone {
                self.zone_known(z, &format!("{key}.zone"));
            }
        }
    }

    fn responders(&mut self) {
        let c = self.c;
        for p in &c.responders.principals {
            match crate::arn::Arn::parse(p.get_ref()) {
                Err(e) => self.problem(p.span(), format!("responders.principals: {e}"), "not an ARN"),
                Ok(arn) if arn.service != "iam" => {
                    let message = format!(
                        "responders.principals: `{}` is not an IAM role or user ARN",
                        p.get_ref()
                    );
                    self.problem(p.span(), message, "not an IAM principal");
                }
                Ok(_) => {}
            }
        }
    }

    /// `[platform] administrators`: IAM role or user ARNs, wildcards allowed (in the account too).
    fn platform(&mut self) {
        let c = self.c;
        for p in &c.platform.administrators {
            let pattern = p.get_ref();
            // Check the shape with the wildcards made concrete.
            let concrete = pattern.replace(['*', '?'], "0");
            let concrete = if pattern.contains(['*', '?']) {
                concrete.replacen("::0:", "::000000000000:", 1)
            } else {
                concrete
            };
            match crate::arn::Arn::parse(&concrete) {
                Err(e) => self.problem(p.span(), format!("platform.administrators: {e}"), "not an ARN"),
                Ok(arn) if arn.service != "iam" => {
                    let message = format!("platform.administrators: `{pattern}` is not an IAM role or user ARN");
                    self.problem(p.span(), message, "not an IAM principal");
                }
                Ok(_) => {}
            }
        }
    }

    fn check(&mut self, id: &str, settings: &CheckSettings) {
        if id == crate::finding::UNUSED_IGNORE_ID
            && let Some(first) = settings.ignore.first()
        {
            let message = format!(
                "checks.{id}.ignore: unused-ignore findings cannot be ignored; fix or delete the stale ignore instead"
            );
            self.problem(first.span(), message, "cannot be ignored");
        }
        for (i, ignore) in settings.ignore.iter().enumerate() {
            let key = format!("checks.{id}.ignore[{i}]");
            let g = ignore.get_ref();
            if g.reason.trim().is_empty() {
                let message = format!("{key}: `reason` must say why the finding is acceptable");
                self.problem(ignore.span(), message, "empty reason");
            }
            if g.resource.is_none() && g.application.is_none() && g.account.is_none() {
                let message = format!("{key}: give at least one of `resource`, `application`, `account`");
                self.problem(ignore.span(), message, "matches every finding");
            }
            if let Some(a) = &g.application {
                self.application_known(a, ignore.span(), &key);
            }
        }
        match &settings.options {
            CheckOptions::None => {}
            CheckOptions::CrossAccountWriteToShared(o) => {
                for (i, a) in o.allow.iter().enumerate() {
                    self.write_exception(&format!("checks.{id}.allow[{i}]"), a);
                }
            }
        }
    }

    fn write_exception(&mut self, key: &str, a: &Spanned<super::WriteException>) {
        let e = a.get_ref();
        let span = a.span();
        if e.reason.trim().is_empty() {
            let message = format!("{key}: `reason` must say why the write is acceptable");
            self.problem(span.clone(), message, "empty reason");
        }
        if e.principal.is_none() && e.application.is_none() {
            self.problem(
                span.clone(),
                format!("{key}: give `principal` or `application`"),
                "matches anyone",
            );
        }
        if e.actions.is_empty() || e.actions.iter().any(|x| !x.contains(':') && x != "*") {
            let message = format!("{key}: `actions` must list `service:Action` patterns");
            self.problem(span.clone(), message, "not an action pattern");
        }
        if let Some(problem) = arn_pattern_problem(&e.resource) {
            let message = format!("{key}: `resource` `{}` {problem}", e.resource);
            self.problem(span.clone(), message, "not an ARN pattern");
        }
        if let Some(p) = &e.principal
            && !is_account_id(p)
            && let Some(problem) = arn_pattern_problem(p)
        {
            let message = format!("{key}: `principal` `{p}` is not an account id and {problem}");
            self.problem(span.clone(), message, "not a principal");
        }
        if let Some(app) = &e.application {
            self.application_known(app, span, key);
        }
    }
}

/// Why `s` is not `*` or an ARN pattern `arn:partition:service:region:account:resource`
/// (wildcards allowed in every part).
fn arn_pattern_problem(s: &str) -> Option<&'static str> {
    if s == "*" {
        return None;
    }
    if !s.starts_with("arn:") {
        return Some("is not an ARN: it does not start with `arn:`");
    }
    if s.splitn(6, ':').count() < 6 {
        return Some("is not an ARN: expected `arn:partition:service:region:account:resource`");
    }
    None
}
