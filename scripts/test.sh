#!/usr/bin/env bash
# The whole test suite, from a fresh clone: formatting, lints, unit and integration tests
# (insta snapshots, SARIF schema validation, CLI end-to-end, the crawler against moto and with
# SDK-level fault injection, role validators). Everything the tests need is fetched by cargo or
# installed into .venv from PyPI; nothing must be installed by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== python test tools (.venv)"
# Tests that drive external tools (AWS emulator, policy validators) find them through
# TOPOGUARD_VENV; they are installed here from PyPI so a fresh machine needs nothing else.
if grep -qv '^\s*\(#\|$\)' scripts/requirements-test.txt; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
  export TOPOGUARD_VENV="$PWD/.venv"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path crawl-mocks/Cargo.toml -- --check

echo "== cargo clippy (default features, and the offline build without the SDK)"
cargo clippy --all-targets --locked -- -D warnings
cargo clippy --all-targets --locked --no-default-features -- -D warnings
# The mock package shares topoguard's target directory: units with the same features are built once.
cargo clippy --manifest-path crawl-mocks/Cargo.toml --target-dir target --all-targets --locked -- -D warnings

echo "== bundled example is what its generator writes"
cargo run --quiet --locked --no-default-features --example gen-example | cmp - topology/examples/global-org.json

echo "== browser test tools (chromium from Debian, npm packages into tests/browser/node_modules)"
# tests/cli/browser.rs loads the HTML report and renders the runbooks' Mermaid diagrams in
# headless Chromium; each tool is installed only when missing.
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
  if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends chromium
fi
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/mermaid ]; then
  npm install --prefix tests/browser --no-audit --no-fund --silent
fi

echo "== reference IAM evaluator (npm @cloud-copilot/iam-simulate into tests/reference/node_modules)"
# tests/cli/reference.rs compares topoguard's decisions with iam-simulate's (docs/testing.md).
if [ ! -d tests/reference/node_modules/@cloud-copilot/iam-simulate ]; then
  npm ci --prefix tests/reference --no-audit --no-fund --silent
fi

echo "== cargo test"
# Tests that drive moto, parliament or cfn-lint log `ran <test>` / `skipped <test>` here
# (tests/cli/support.rs); under CI=true a skipped or missing tool fails the test itself.
export TOPOGUARD_EXTERNAL_LOG="$(mktemp)"
external_report() {
  local ran skipped
  ran=$(grep -c '^ran ' "$TOPOGUARD_EXTERNAL_LOG" || true)
  skipped=$(grep -c '^skipped ' "$TOPOGUARD_EXTERNAL_LOG" || true)
  echo "== external tests (moto, parliament, cfn-lint, chromium, iam-simulate): $ran ran, $skipped skipped"
  grep '^skipped ' "$TOPOGUARD_EXTERNAL_LOG" | sed 's/^/   /' || true
  rm -f "$TOPOGUARD_EXTERNAL_LOG"
  case "${CI:-}" in
    "" | false | 0) ;;
    *) if [ "$ran" -eq 0 ] || [ "$skipped" -ne 0 ]; then
         echo "error: under CI every external test must run" >&2
         return 1
       fi ;;
  esac
}
# The counts are printed whether or not the tests pass.
trap 'external_report || exit 1' EXIT
cargo test --all-targets --locked
cargo test --doc --locked
trap - EXIT
external_report

echo "== crawler fault injection (aws-smithy-mocks; a separate package, see crawl-mocks/Cargo.toml)"
cargo test --manifest-path crawl-mocks/Cargo.toml --target-dir target --locked

echo "== mutation testing of the last commit's change (cargo-mutants; bounded, see docs/testing.md)"
# At most MUTANTS_MAX mutants (default 15) and MUTANTS_TIMEOUT seconds (default 600); fails only
# on a missed mutant, warns when time runs out. Installs cargo-mutants when it is missing.
scripts/mutants-diff.sh
