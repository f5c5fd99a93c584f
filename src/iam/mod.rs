//! The IAM engine: the policy grammar today; the action catalog and full evaluation (SCPs,
//! boundaries, resource policies, conditions) build on it.

pub mod condition;
pub mod eval;
pub mod policy;
pub mod reach;
pub mod store;

#[cfg(test)]
mod proptests;

pub use policy::{Condition, Effect, Policy, PolicyError, Principal, Statement};
