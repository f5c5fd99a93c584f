//! The parts of the AWS DevOps Agent configuration beyond "which account, which role": the
//! association type (monitor or source), its external id, its elevated role and validation
//! statuses, and the space's own settings (elevated actions, KMS key, operator-app role).
//!
//! A compatible addition to schema version 1: every field is optional, defaults to "not
//! recorded" and is left out when absent, so snapshots written before it load unchanged and
//! serialize byte-identically. "Not recorded" is never read as a safe value: the checks that
//! depend on a field say "not proven" when it is absent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which side of an Agent Space an account association is (`ServiceConfiguration::Aws` is the
/// space's own monitor account, `SourceAws` a source account it investigates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AssociationKind {
    /// The primary (monitor) account of the space (`accountType` `monitor`).
    Monitor,
    /// A secondary account the space investigates (`accountType` `source`).
    Source,
}

/// A validation status as the DevOps Agent API reports it (`ValidationStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ValidationStatus {
    Valid,
    Invalid,
    PendingConfirmation,
    /// A status this topoguard does not know (a newer API value).
    Unrecognized,
}

impl ValidationStatus {
    /// The kebab-case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationStatus::Valid => "valid",
            ValidationStatus::Invalid => "invalid",
            ValidationStatus::PendingConfirmation => "pending-confirmation",
            ValidationStatus::Unrecognized => "unrecognized",
        }
    }
}
