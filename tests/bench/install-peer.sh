#!/usr/bin/env bash
# Installs the NameServer the benchmarks compare with: rocketmq-namesrv 1.0.0 from crates.io
# (the Rust NameServer of the rocketmq-rust project, binary rocketmq-namesrv-rust), pinned and
# --locked, into ~/.cache/namesrv-bench (or $NAMESRV_BENCH_CACHE). ~15-25 min cold on 2 cores;
# a warm cache does nothing. Not part of CI: benchmarks are run by hand (tests/bench/run.sh).
set -euo pipefail

CACHE="${NAMESRV_BENCH_CACHE:-$HOME/.cache/namesrv-bench}"
VERSION=1.0.0
BIN="$CACHE/peer/bin/rocketmq-namesrv-rust"
STAMP="$CACHE/peer.stamp"
mkdir -p "$CACHE"

if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "rocketmq-namesrv $VERSION" ]]; then
  echo "rocketmq-namesrv $VERSION: cached at $BIN"
  exit 0
fi
echo "installing rocketmq-namesrv $VERSION (log: $CACHE/install.log)"
# The build directory stays in the cache, so an interrupted build resumes where it stopped.
CARGO_TARGET_DIR="$CACHE/target" cargo install rocketmq-namesrv --version "$VERSION" --locked \
  --root "$CACHE/peer" >"$CACHE/install.log" 2>&1 || {
  echo "install failed; last lines of $CACHE/install.log:" >&2
  tail -20 "$CACHE/install.log" >&2
  exit 1
}
echo "rocketmq-namesrv $VERSION" > "$STAMP"
echo "rocketmq-namesrv $VERSION: installed at $BIN"
