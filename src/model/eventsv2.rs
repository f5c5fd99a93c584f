//! EventBridge Custom Event Buses ("EventBridge v2", API `eventsv2`): buses with ARNs
//! `arn:aws:events:REGION:ACCOUNT:event-busv2/NAME/ID`, routing events to **subscribers**
//! (each with filters, one target, the role it invokes the target as, and a failure
//! destination) instead of rules and targets, shared across accounts through AWS RAM.
//!
//! A compatible addition to schema version 1: `event_buses_v2` defaults to empty and is left out
//! when empty, so older snapshots load and serialize unchanged. A crawl that could not read the
//! v2 API records a coverage gap (`events:ListEventBuses…` style APIs map to the EventBridge
//! input), so checks over buses say "not proven" there instead of passing.

use super::Tags;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A Custom Event Bus (EventBridge v2).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBusV2 {
    /// `arn:aws:events:REGION:ACCOUNT:event-busv2/NAME/ID`.
    pub arn: String,
    pub account: String,
    pub region: String,
    pub name: String,
    #[serde(default)]
    pub tags: Tags,
    /// The bus's resource policies, merged into one document (every named policy applies, so
    /// the statements of all of them are listed together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<super::PolicyDocument>,
    /// ARN of the customer managed KMS key encrypting the bus, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    /// AWS RAM resource shares that include the bus.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<ResourceShare>,
    /// Subscribers on the bus, the bus owner's and those consumer accounts created.
    #[serde(default)]
    pub subscribers: Vec<Subscriber>,
}

/// An AWS RAM resource share including a bus.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceShare {
    pub arn: String,
    /// Who the share is with: account ids, organizational unit or organization ARNs.
    #[serde(default)]
    pub principals: Vec<String>,
}

/// Whether a subscriber delivers events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubscriberState {
    Running,
    Stopped,
}

/// A subscriber of a v2 bus: filters, one target, the role it invokes the target as.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscriber {
    pub arn: String,
    pub name: String,
    /// The account that created the subscriber (a consumer account of a shared bus, or the
    /// bus owner).
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SubscriberState>,
    /// Event patterns (JSON text), any of which selects an event.
    #[serde(default)]
    pub filters: Vec<String>,
    /// ARN of the target the subscriber invokes.
    pub target: String,
    /// The role the subscriber invokes the target as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Where events go that could not be delivered (`OnFailureConfiguration`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_destination: Option<String>,
    #[serde(default)]
    pub tags: Tags,
}
