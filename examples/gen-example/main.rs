//! Writes the bundled example topology, `topology/examples/global-org.json`, to stdout.
//!
//! ```text
//! cargo run --no-default-features --example gen-example > topology/examples/global-org.json
//! ```
//!
//! The organization and its planted findings are described in [`org`] and in
//! `docs/example-walkthrough.md`. The output is deterministic; the test
//! `committed_example_is_what_its_generator_writes` (tests/cli/example.rs) keeps the committed
//! file equal to it.

mod org;

use std::io::Write;

fn main() -> std::process::ExitCode {
    let text = match org::example_json() {
        Ok(text) => text,
        Err(e) => {
            eprintln!("gen-example: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        eprintln!("gen-example: writing stdout: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
