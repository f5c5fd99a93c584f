//! End-to-end tests of the `topoguard` binary: one test binary, one module per concern.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod bad_input;
mod differential;
mod example;
mod export;
mod external;

#[cfg(feature = "aws")]
mod crawl;
mod graph;
mod hostile;
mod hostile_output;
mod queries;
#[cfg(feature = "aws")]
mod realorg;
mod roles;
mod sarif;
mod support;
