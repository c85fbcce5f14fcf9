#!/usr/bin/env bash
# Mutation testing (issue 16): cargo-mutants plants one bug at a time in the route tables and
# the machine (core/src/route, core/src/machine) and runs, against each, the tests that are
# meant to catch such bugs: the core's unit tests, the seeded simulator (300 schedules and
# the proptest-drawn ones), the conformance scenarios and the fuzz corpus replay. A mutant
# that every test survives ("missed") is a bug nothing would notice: kill it with a new
# check, or list it as equivalent (with why) in docs/simulation.md, where the last run's
# summary is kept.
#
#   tests/mutants/run.sh                          # all of core/src/route and core/src/machine
#   tests/mutants/run.sh --in-diff <(git diff main~3 -- core/src)   # what a change touched
#   tests/mutants/run.sh -f core/src/route/unchanged.rs             # one file
#
# Extra arguments go to `cargo mutants`. Not in CI: each mutant rebuilds the core and what
# depends on it, so a whole run takes hours on 2 cores (docs/simulation.md has the figures).
# Results: target/mutants/mutants.out (caught.txt, missed.txt, timeout.txt, unviable.txt).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"

if ! cargo mutants --version >/dev/null 2>&1; then
  echo "== installing cargo-mutants (crates.io)"
  cargo install --locked cargo-mutants
fi

files=()
if [[ " $* " != *" -f "* && " $* " != *" --file "* && " $* " != *" --in-diff "* ]]; then
  files=(-f 'core/src/route/*.rs' -f 'core/src/machine/*.rs')
fi

# The `mutants` profile (Cargo.toml): optimised enough for the simulator to run in seconds,
# quick enough to rebuild per mutant.
exec cargo mutants -p namesrv-core "${files[@]}" \
  --exclude 'core/src/machine/tests.rs' --exclude 'core/src/machine/unchanged_tests.rs' \
  --test-package namesrv-core --test-package namesrv-sim --test-package namesrv-tests \
  --cargo-test-arg=--lib --cargo-test-arg=--test=schedules --cargo-test-arg=--test=conformance \
  --cargo-test-arg=--test=fuzz_corpus \
  --profile mutants --baseline skip --timeout 300 --output target "$@"
