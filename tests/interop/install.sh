#!/usr/bin/env bash
# Installs the real peers of the interop suite, versions pinned, into a cache directory outside
# the repository (default ~/.cache/namesrv-interop, or $NAMESRV_INTEROP_CACHE). Idempotent: each
# step leaves a stamp naming what it installed, and a warm cache rebuilds nothing.
#
#   tests/interop/install.sh [broker|cpp210|cpp1x|alions|rustclient]...   (default: all)
#
# Every peer is a released package installed by name from its registry (crates.io, PyPI, npm).
# A peer that cannot be installed is recorded in <cache>/status/<peer> as "blocked: <reason>"
# and does not fail the script; the suite reports it as blocked.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE="${NAMESRV_INTEROP_CACHE:-$HOME/.cache/namesrv-interop}"
mkdir -p "$CACHE/status" "$CACHE/logs"

BROKER_VERSION=1.0.0
CLIENT_RUST_VERSION=1.0.0
CPP210_PKG="rocketmq-python-cvs==2.1.0.3"
CPP1X_PKG="rocketmq==0.4.4"
ALIONS_PKG="ali-ons@3.12.0"
# Per-step bound (seconds): a cold Rust build takes 10-15 min on 2 cores.
STEP_TIMEOUT="${NAMESRV_INTEROP_INSTALL_TIMEOUT:-2400}"

log() { echo "[install $(date +%H:%M:%S)] $*"; }

# stamp NAME CONTENT: done when the stamp file holds exactly CONTENT.
stamped() { [[ -f "$CACHE/status/$1" && "$(cat "$CACHE/status/$1")" == "ok: $2" ]]; }
mark_ok() { echo "ok: $2" > "$CACHE/status/$1"; }
mark_blocked() { echo "blocked: $2" > "$CACHE/status/$1"; log "$1 BLOCKED: $2"; }

# run_step NAME LOGFILE CMD...: bounded in time, output to the log; returns the command's status.
run_step() {
  local name=$1 logf=$2; shift 2
  log "$name: $* (log: $logf)"
  timeout --kill-after=30 "$STEP_TIMEOUT" "$@" >"$logf" 2>&1
}

# A registry 'no' (package or version not found) blocks the peer; anything else is a failure.
classify() {
  local logf=$1
  if grep -qiE 'could not find .* in registry|no matching package|No matching distribution|ETARGET|E404|not found in registry|could not find `' "$logf"; then
    echo registry
  else
    echo error
  fi
}

install_broker() {
  local want="rocketmq-broker $BROKER_VERSION"
  local bin="$CACHE/broker/bin/rocketmq-broker-rust"
  if stamped broker "$want" && [[ -x "$bin" ]]; then log "broker: cached"; return 0; fi
  local logf="$CACHE/logs/install-broker.log"
  # The crate's own Cargo.lock (--locked) pins its dependency tree as released.
  # Its build directory stays in the cache, so an interrupted build resumes where it stopped.
  if run_step broker "$logf" env CARGO_TARGET_DIR="$CACHE/broker-target" cargo install rocketmq-broker \
      --version "$BROKER_VERSION" --locked --root "$CACHE/broker" --bin rocketmq-broker-rust; then
    mark_ok broker "$want"
  elif [[ $(classify "$logf") == registry ]]; then
    mark_blocked broker "crates.io has no rocketmq-broker $BROKER_VERSION"
  else
    echo "failed: see $logf" > "$CACHE/status/broker"; log "broker FAILED, see $logf"; return 1
  fi
}

install_pyvenv() { # name pkg
  local name=$1 pkg=$2 venv="$CACHE/$1-venv"
  if stamped "$name" "$pkg" && [[ -x "$venv/bin/python" ]]; then log "$name: cached"; return 0; fi
  local logf="$CACHE/logs/install-$name.log"
  rm -rf "$venv"
  if run_step "$name" "$logf" bash -c "python3 -m venv '$venv' && '$venv/bin/pip' install --no-input --disable-pip-version-check '$pkg' && '$venv/bin/python' -c 'import rocketmq.client'"; then
    mark_ok "$name" "$pkg"
  elif [[ $(classify "$logf") == registry ]]; then
    mark_blocked "$name" "PyPI has no $pkg for this platform"
  else
    echo "failed: see $logf" > "$CACHE/status/$name"; log "$name FAILED, see $logf"; return 1
  fi
}

install_alions() {
  local dir="$CACHE/alions"
  if stamped alions "$ALIONS_PKG" && [[ -d "$dir/node_modules/ali-ons" ]]; then log "alions: cached"; return 0; fi
  local logf="$CACHE/logs/install-alions.log"
  mkdir -p "$dir"
  [[ -f "$dir/package.json" ]] || echo '{"name":"namesrv-interop-alions","private":true}' > "$dir/package.json"
  if run_step alions "$logf" npm install --prefix "$dir" --no-audit --no-fund --save-exact "$ALIONS_PKG"; then
    mark_ok alions "$ALIONS_PKG"
  elif [[ $(classify "$logf") == registry ]]; then
    mark_blocked alions "npm has no $ALIONS_PKG"
  else
    echo "failed: see $logf" > "$CACHE/status/alions"; log "alions FAILED, see $logf"; return 1
  fi
}

install_rustclient() {
  # Our small program using rocketmq-client-rust: its own Cargo project (own [workspace]), built
  # into the cache's target dir, so the main workspace never compiles it.
  local src="$HERE/rust-client"
  local sum; sum=$(cat "$src/Cargo.toml" "$src/Cargo.lock" "$src/src/"*.rs | sha256sum | cut -c1-16)
  local want="rocketmq-client-rust $CLIENT_RUST_VERSION src=$sum"
  local bin="$CACHE/rust-client-target/release/interop-rust-client"
  if stamped rustclient "$want" && [[ -x "$bin" ]]; then log "rustclient: cached"; return 0; fi
  local logf="$CACHE/logs/install-rustclient.log"
  if run_step rustclient "$logf" env CARGO_TARGET_DIR="$CACHE/rust-client-target" \
      cargo build --release --locked --manifest-path "$src/Cargo.toml"; then
    mark_ok rustclient "$want"
  elif [[ $(classify "$logf") == registry ]]; then
    mark_blocked rustclient "crates.io has no rocketmq-client-rust $CLIENT_RUST_VERSION"
  else
    echo "failed: see $logf" > "$CACHE/status/rustclient"; log "rustclient FAILED, see $logf"; return 1
  fi
}

install_one() {
  case $1 in
    broker) install_broker ;;
    cpp210) install_pyvenv cpp210 "$CPP210_PKG" ;;
    cpp1x) install_pyvenv cpp1x "$CPP1X_PKG" ;;
    alions) install_alions ;;
    rustclient) install_rustclient ;;
    *) echo "unknown peer $1" >&2; return 2 ;;
  esac
}

peers=("$@"); [[ ${#peers[@]} -gt 0 ]] || peers=(cpp210 cpp1x alions broker rustclient)
rc=0
# The two Rust builds run side by side: each spends minutes compiling one large crate on one
# core, so together they take little more than the longer one alone.
pids=()
for p in "${peers[@]}"; do
  case $p in
    broker|rustclient) install_one "$p" & pids+=($!) ;;
    *) install_one "$p" || rc=1 ;;
  esac
done
for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
for p in "${peers[@]}"; do log "status $p: $(cat "$CACHE/status/$p" 2>/dev/null || echo none)"; done
exit $rc
