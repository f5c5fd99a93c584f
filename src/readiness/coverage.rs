//! Coverage: nothing in the application's footprint is "not proven" — the crawl read every API
//! in every account the application owns or reaches, and no check had to give up.

use super::{Criterion, Ctx, State, item};
use crate::checks::{Input, app_accounts, gaps_hiding};
use crate::finding::Status;

const ALL_INPUTS: [Input; 7] = [
    Input::Organization,
    Input::Iam,
    Input::EventBridge,
    Input::Lambda,
    Input::Tagging,
    Input::ResourcePolicies,
    Input::AgentSpaces,
];

/// The coverage criteria of the application.
pub fn criteria(ctx: &Ctx<'_, '_>) -> Vec<Criterion> {
    let accounts = app_accounts(ctx.topology, ctx.app);
    let gaps = gaps_hiding(ctx.topology, &ALL_INPUTS, &accounts, None)
        .into_iter()
        .map(|g| {
            let place = match (&g.account, &g.region) {
                (Some(a), Some(r)) => format!("account `{a}` region `{r}`"),
                (Some(a), None) => format!("account `{a}`"),
                (None, Some(r)) => format!("region `{r}`"),
                (None, None) => "the organization".to_string(),
            };
            item(
                State::NotProven,
                g.account.clone().unwrap_or_else(|| "organization".to_string()),
                format!("`{}` could not be read in {place} ({})", g.api, g.error_code),
            )
        })
        .collect();
    let name = ctx.app_name();
    let unproven = ctx
        .outcome
        .findings
        .iter()
        .filter(|f| f.status == Status::NotProven && f.applications.iter().any(|a| a == name))
        .map(|f| {
            let mut o = item(State::NotProven, f.resource.clone(), f.message.clone());
            o.check = Some(f.check.clone());
            o
        })
        .collect();
    vec![
        Criterion::new(
            "footprint-read",
            "The crawl read every API in every footprint account",
            gaps,
        ),
        Criterion::new(
            "checks-complete",
            "No check result about the application is \"not proven\"",
            unproven,
        ),
    ]
}
