//! Access: responders can get in where the application lives, safely. An observe role (the one
//! `topoguard roles` generates, or any role a configured responder principal reaches) exists in
//! every footprint account; the generated mitigate roles exist; assuming a responder role needs
//! MFA and a short session; and incident access is read-only where it should be.

use super::{Criterion, Ctx, Outstanding, State, item};
use crate::checks::{Input, gaps_hiding};
use crate::iam::Effect;
use crate::roles::{self, RoleKind};
use std::collections::BTreeSet;

/// The access criteria of the application.
pub fn criteria(ctx: &Ctx<'_, '_>) -> Vec<Criterion> {
    let (observe, per_account) = observe_roles(ctx);
    let mut out = vec![Criterion::new(
        "observe-role-per-account",
        "A responder (observe) role exists in every footprint account",
        per_account,
    )];
    if let Some(mitigate) = mitigate_items(ctx) {
        out.push(Criterion::new(
            "mitigate-roles",
            "The generated mitigate roles exist where the application owns resources",
            mitigate,
        ));
    }
    out.push(Criterion::new(
        "mfa-and-session-limits",
        "Assuming a responder role needs MFA, and sessions last an hour at most",
        session_items(ctx, &observe),
    ));
    out.push(ctx.from_checks(
        "read-only",
        "Incident access is read-only where it should be",
        &["incident-access-not-read-only", "cross-account-write-to-shared"],
    ));
    out
}

/// The observe roles found (sorted ARNs), and an outstanding item per footprint account that
/// has none.
fn observe_roles(ctx: &Ctx<'_, '_>) -> (BTreeSet<String>, Vec<Outstanding>) {
    let t = ctx.topology;
    let generated = format!("topoguard-{}-observe", ctx.app_name());
    let responders: BTreeSet<&str> = t
        .config
        .responders
        .principals
        .iter()
        .map(|p| p.get_ref().as_str())
        .collect();
    let reached: BTreeSet<&str> = t
        .incident_roles()
        .iter()
        .filter(|r| responders.contains(r.reached_by.as_str()) && !r.conditional)
        .map(|r| r.role.as_str())
        .collect();
    let mut found = BTreeSet::new();
    let mut missing = Vec::new();
    for account in t.footprint_accounts(ctx.app) {
        let here: Vec<&str> = t
            .snapshot
            .roles
            .iter()
            .filter(|r| r.account == account && (r.name == generated || reached.contains(r.arn.as_str())))
            .map(|r| r.arn.as_str())
            .collect();
        if !here.is_empty() {
            found.extend(here.into_iter().map(str::to_string));
            continue;
        }
        let gaps = gaps_hiding(t, &[Input::Iam], &[account], None);
        let (state, why) = if gaps.is_empty() {
            (State::Missing, String::new())
        } else {
            (State::NotProven, format!("; {}", crate::checks::gaps_clause(&gaps)))
        };
        missing.push(item(
            state,
            account,
            format!(
                "no role `{generated}` and no role a configured responder principal can assume in account `{account}`{why}"
            ),
        ));
    }
    (found, missing)
}

/// The mitigate roles `topoguard roles` would generate for the application that the snapshot
/// does not have. `None` when it would generate none (the application has no resources).
fn mitigate_items(ctx: &Ctx<'_, '_>) -> Option<Vec<Outstanding>> {
    let t = ctx.topology;
    let options = roles::Options {
        apps: vec![ctx.app_name().to_string()],
        elevated: false,
    };
    let set = match roles::generate(t, &options) {
        Ok(set) => set,
        Err(roles::RolesError::NoResources(_) | roles::RolesError::Empty) => return None,
        Err(e) => {
            return Some(vec![item(
                State::NotProven,
                ctx.app_name(),
                format!("the expected mitigate roles could not be derived: {e}"),
            )]);
        }
    };
    let expected: Vec<_> = set.roles.iter().filter(|r| r.kind == RoleKind::Mitigate).collect();
    if expected.is_empty() {
        return None;
    }
    Some(
        expected
            .into_iter()
            .filter(|r| t.find(&r.arn()).is_none())
            .map(|r| {
                item(
                    State::Missing,
                    r.account.clone(),
                    format!(
                        "mitigate role `{}` does not exist in account `{}` (generate it with `topoguard roles`)",
                        r.name, r.account
                    ),
                )
            })
            .collect(),
    )
}

/// MFA in the trust policy of each observe role that principals assume (the responder
/// principals themselves are where responders sign in, so they are not asked for it); the
/// session limit is not in the snapshot, so it is not proven.
fn session_items(ctx: &Ctx<'_, '_>, observe: &BTreeSet<String>) -> Vec<Outstanding> {
    let t = ctx.topology;
    let iam = t.iam();
    let responders: BTreeSet<&str> = t
        .config
        .responders
        .principals
        .iter()
        .map(|p| p.get_ref().as_str())
        .collect();
    if observe.is_empty() {
        return vec![item(State::Missing, ctx.app_name(), "no responder role to check")];
    }
    let mut out = Vec::new();
    for arn in observe {
        if responders.contains(arn.as_str()) {
            continue;
        }
        let Some(rp) = iam.store.roles.get(arn.as_str()) else {
            continue;
        };
        let without_mfa = rp.trust.policy.statements.iter().any(|st| {
            st.effect == Effect::Allow
                && st
                    .principal
                    .as_ref()
                    .is_some_and(|p| !p.inner().values("AWS").is_empty())
                && st.allows_action("sts:AssumeRole")
                && st.condition_values("aws:MultiFactorAuthPresent").next().is_none()
                && st.condition_values("aws:MultiFactorAuthAge").next().is_none()
        });
        if without_mfa {
            out.push(item(
                State::Missing,
                arn.clone(),
                "its trust policy allows sts:AssumeRole without an aws:MultiFactorAuthPresent condition",
            ));
        }
        out.push(item(
            State::NotProven,
            arn.clone(),
            "the snapshot does not record the role's MaxSessionDuration, so the one-hour limit is not proven",
        ));
    }
    out
}
