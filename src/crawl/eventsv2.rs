//! EventBridge v2 (Custom Event Buses, API `eventsv2`) is not crawled yet: its buses,
//! subscribers and their RAM shares are invisible to this crawler. Rather than pass silently,
//! every crawled account and region gets a `NotSupportedYet` coverage gap, which the EventBridge
//! checks turn into "not proven" results there.
//!
//! The snapshot model, graph and checks already read v2 buses (`event_buses_v2`); what is missing
//! is the reading: the `aws-sdk-eventbridgev2` client (`ListEventBuses`, `ListSubscribers`,
//! `DescribeSubscriber`, `ListResourcePolicies`/`GetResourcePolicy`) and RAM `ListResources`.

use super::ctx::{CallError, Ctx, Scope};

/// The API the gap names (IAM action form; the v2 actions are not in the IAM catalog yet).
pub const API: &str = "eventsv2:ListEventBuses";

/// Records that the v2 buses of one account and region were not read.
pub fn not_read(ctx: &Ctx, account: &str, region: &str) {
    ctx.gap_action(
        API,
        Scope::region(account, region),
        CallError {
            code: "NotSupportedYet".to_string(),
            message: "EventBridge v2 buses (Custom Event Buses), their subscribers and RAM shares are not supported yet: topoguard does not read them".to_string(),
        },
    );
}
