//! The IAM engine: policy grammar, the action catalog with access levels and content reads,
//! condition and request evaluation (SCPs, RCPs, boundaries, identity and resource policies),
//! a store of a snapshot's parsed policies, and role reachability.

pub mod capability;
pub mod catalog;
pub mod classify;
pub mod condition;
pub mod eval;
pub mod keys;
pub mod pattern;
pub mod policy;
pub mod reach;
pub mod session_policy;
pub mod store;
pub mod subresource;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod proptests;

pub use policy::{BaseOperator, Condition, Effect, Operator, Policy, PolicyError, Principal, Quantifier, Statement};
