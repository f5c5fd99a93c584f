//! topoguard: crawl an AWS Organization into a topology graph, check it against guardrails, and
//! emit least-privilege incident-responder roles.
//!
//! The pipeline is `model` (snapshot) → `graph` (topology) → `checks` (findings) → `output`
//! (renderers), with `config` stating what the organization intends and `iam` giving policy
//! semantics.

pub mod arn;
pub mod checks;
pub mod cli;
pub mod config;
#[cfg(feature = "aws")]
pub mod crawl;
pub mod diagnostic;
pub mod escape;
pub mod finding;
pub mod graph;
pub mod iac;
pub mod iam;
pub mod intern;
pub mod model;
pub mod output;
pub mod query;
pub mod readiness;
pub mod roles;
#[doc(hidden)]
pub mod testkit;
