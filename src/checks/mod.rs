//! Checks: one file per check, named after its id, all implementing [`Check`] and listed in
//! [`registry`].

mod finding;

pub use finding::{Evidence, Finding, Severity, Status};
