//! End-to-end tests of the `topoguard` binary: one test binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod bad_input;
mod browser;
mod diagnostics;
mod differential;
mod example;
mod expected;
mod export;
mod external;

#[cfg(feature = "aws")]
mod crawl;
mod graph;
mod hostile;
mod hostile_output;
mod hostile_roles;
mod iac;
mod iac_agent_events;
mod policy_refs;
mod queries;
mod readiness;
#[cfg(feature = "aws")]
mod realorg;
mod reference;
mod reference_gen;
mod roles;
mod sarif;
mod support;
