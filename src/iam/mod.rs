//! The IAM engine: the policy grammar today; the action catalog and full evaluation (SCPs,
//! boundaries, resource policies, conditions) build on it.

pub mod catalog;
pub mod policy;

pub use policy::{Condition, Effect, Policy, PolicyError, Principal, Statement};
