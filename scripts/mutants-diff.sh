#!/usr/bin/env bash
# Mutation testing of the last commit's change to the files docs/testing.md lists (the IAM
# engine, the checks, graph usage, the role packer and scope), bounded so that CI's budget holds:
#   MUTANTS_MAX      at most this many mutants (default 15), chosen deterministically: every
#                    k-th mutant of cargo-mutants' ordered list (round-robin shard 0 of k);
#   MUTANTS_TIMEOUT  seconds for the whole run (default 600); when it runs out the script
#                    prints a warning and succeeds.
# It fails on a missed mutant (a change to the code no test notices) and when cargo-mutants
# itself cannot run (bad arguments, the unmutated tree fails its tests); a mutant that times out
# is a warning. With no parent commit, or no listed file changed, it runs zero mutants and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

max=${MUTANTS_MAX:-15}
budget=${MUTANTS_TIMEOUT:-600}
listed=(src/iam/eval src/iam/reach src/iam/store.rs src/iam/capability.rs src/iam/condition.rs
        src/iam/policy.rs src/checks src/graph/usage.rs src/roles/pack.rs src/roles/scope.rs)

if ! git rev-parse -q --verify 'HEAD~1^{commit}' >/dev/null; then
  echo "mutants: no parent commit, 0 mutants run"
  exit 0
fi
mapfile -t changed < <(git diff --name-only HEAD~1 HEAD -- "${listed[@]}" | grep '\.rs$' || true)
if [ "${#changed[@]}" -eq 0 ]; then
  echo "mutants: no listed file changed in the last commit, 0 mutants run"
  exit 0
fi
if ! git diff --quiet HEAD -- "${changed[@]}"; then
  echo "error: mutants: uncommitted changes in ${changed[*]}: commit or stash them first" >&2
  exit 1
fi
if ! command -v cargo-mutants >/dev/null; then
  cargo install --locked cargo-mutants
fi

work=$(mktemp -d)
trap 'git checkout -q HEAD -- "${changed[@]}"; rm -rf "$work"' EXIT
git diff HEAD~1 HEAD -- "${changed[@]}" >"$work/change.diff"
total=$(cargo mutants --in-diff "$work/change.diff" --list | grep -c . || true)
if [ "$total" -eq 0 ]; then
  echo "mutants: ${changed[*]} changed, but the change has no mutable code: 0 mutants run"
  exit 0
fi
shards=$(( (total + max - 1) / max ))
run=$(( (total + shards - 1) / shards ))
echo "mutants: ${changed[*]}: $total mutants in the change, running $run (every ${shards}th), ${budget}s at most"

# --in-place reuses the build already in the target directory (the tree is restored on exit,
# also after the time limit's SIGINT: cargo-mutants puts the file back, and so does the trap).
status=0
timeout --signal=INT --kill-after=60 "$budget" \
  cargo mutants --in-diff "$work/change.diff" --in-place --shard "0/$shards" --sharding round-robin \
  --output "$work" || status=$?
grep -h . "$work"/mutants.out/{caught,missed,timeout,unviable}.txt 2>/dev/null | sed 's/^/   /' || true
case $status in
  0) echo "mutants: all $run caught or unviable" ;;
  2) echo "error: mutants: missed mutants (listed in the lines above, from missed.txt): add a test that tells them apart" >&2
     sed 's/^/   missed: /' "$work/mutants.out/missed.txt" >&2
     exit 1 ;;
  3) echo "warning: mutants: some mutants timed out (see above); not a failure" ;;
  124 | 130 | 137) echo "warning: mutants: the whole run exceeded ${budget}s and was stopped; not a failure" ;;
  *) echo "error: mutants: cargo-mutants failed (exit $status)" >&2
     exit 1 ;;
esac
